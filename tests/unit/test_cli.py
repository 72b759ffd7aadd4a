"""The ``backing`` command: exit codes, output and JSON of ``terms check`` and ``settle``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from samples import MODEL_UUID, NOW, STAKING, seed_terms_dict

from backing.cli import main

NOW_ARGS = ["--now", str(NOW)]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seed_file(write_terms):
    return write_terms(seed_terms_dict())


@pytest.fixture
def demo_file(write_terms):
    """The demo's terms: 1% upfront fee and a 40% tier from 10 units."""
    return write_terms(
        seed_terms_dict(
            upfront_fee="0.01", max_units=50, lockup_rounds=12, fee_ladder=[{"min_units": 10, "profit_share": "0.4"}]
        )
    )


# ---------------------------------------------------------------------------------------------- terms check


def test_terms_check_prints_normalized_terms(seed_file, capsys):
    code, out, err = run(["terms", "check", seed_file, *NOW_ARGS], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"{seed_file}: terms are valid (checked at unix {NOW})\n")
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert lines["unit_size"] == ["100", "NMR", "100000000000000000000", "wei"]
    assert lines["profit_share"] == ["50%", "5000", "bps"]
    assert lines["open_until"] == ["in", "7d", "unix", str(NOW + 7 * 86400)]
    assert lines["wind_down"] == ["7d", "604800", "s"]
    assert lines["staking_address"] == [STAKING]
    assert lines["model_id"] == [MODEL_UUID, "0x0f5c3a7e59c14c559a8e2e4dbb3a6f11" + "0" * 32]
    assert lines["fee_ladder"] == ["none"]


def test_terms_check_json(demo_file, capsys):
    code, out, _ = run(["terms", "check", demo_file, "--json", *NOW_ARGS], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["checked_at"] == NOW
    assert data["terms"]["upfront_fee"] == "0.01"
    assert data["terms"]["fee_ladder"] == [{"min_units": 10, "profit_share": "0.4"}]
    assert data["on_chain"]["unit_size"] == "100000000000000000000"
    assert data["on_chain"]["upfront_fee_bps"] == 100
    assert data["on_chain"]["fee_ladder"] == [{"min_units": 10, "profit_share_bps": 4000}]
    assert data["on_chain"]["open_until"] == NOW + 7 * 86400


def test_terms_check_reports_errors_on_stderr(write_terms, capsys):
    code, out, err = run(["terms", "check", write_terms(seed_terms_dict(min_units=5, max_units=3)), *NOW_ARGS], capsys)
    assert (code, out) == (2, "")
    assert err == "backing: error: max_units (3) must be at least min_units (5)\n"


def test_terms_check_missing_file(tmp_path, capsys):
    code, _, err = run(["terms", "check", str(tmp_path / "none.yaml")], capsys)
    assert code == 2
    assert "cannot read terms file" in err and "No such file or directory" in err


def test_terms_check_uses_the_clock_by_default(write_terms, capsys):
    data = seed_terms_dict(open_until=NOW + 60)  # in the past by the time the tests run
    del data["open_for"]
    code, _, err = run(["terms", "check", write_terms(data)], capsys)
    assert code == 2
    assert err.startswith(f"backing: error: open_until ({NOW + 60}) must be in the future (now is ")


# ---------------------------------------------------------------------------------------------- settle


def settle_json(capsys, terms_file, *extra):
    code, out, err = run(["settle", "--terms", terms_file, *extra, "--json", *NOW_ARGS], capsys)
    assert (code, err) == (0, "")
    data = json.loads(out)
    return data, {row["label"]: row for row in data["settlement"]["rows"]}


@pytest.mark.parametrize(
    "final_value, repay, received, reserve_back, modeller_result",
    [
        ("140", "full", "120", "50", "20"),
        ("80", "full", "90", "40", "-10"),
        ("80", "none", "50", "0", "30"),
        # partial repayment of 30: the backer was owed 90, so the pool is 30 + the whole 50 NMR reserve
        ("80", "30", "80", "0", "0"),
    ],
)
def test_settle_seed_examples(seed_file, capsys, final_value, repay, received, reserve_back, modeller_result):
    data, rows = settle_json(
        capsys, seed_file, "--deposits", "alice=1", "--reserve", "50", "--final-value", final_value, "--repay", repay
    )
    settlement = data["settlement"]
    assert rows["alice"]["received"] == received
    assert settlement["header"]["reserve_returned"] == reserve_back
    assert settlement["modeller_result"] == modeller_result
    assert settlement["total"]["net"] == "0"
    assert data["deposits"] == {"alice": 1}


def test_settle_default_reserve_is_the_minimum(demo_file, capsys):
    data, rows = settle_json(capsys, demo_file, "--deposits", "alice=1,bob=12,carol=3", "--final-value", "1900")
    header = data["settlement"]["header"]
    assert (header["reserve_posted"], header["staked"], header["upfront_fee"]) == ("792", "1584", "16")
    # bob's 12 units reach the 40% tier: he keeps 60% of his share of the gain
    assert rows["bob"]["received"] == "1330.2"
    assert rows["alice"]["received"] == "108.875"
    assert header["dust"] == "0.000000000000000002"


def test_settle_table(demo_file, capsys):
    code, out, err = run(
        [
            "settle",
            "--terms",
            demo_file,
            "--deposits",
            "alice=1,bob=12,carol=3",
            "--final-value",
            "1900",
            "--repay",
            "full",
            *NOW_ARGS,
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "What-if settlement: 1584 NMR staked, final value 1900 NMR (+316), repay full"
    assert "  amount due             1765.700000000000000002 NMR" in lines
    assert any(line.split()[:5] == ["bob", "12", "1200", "1330.2", "+130.2"] for line in lines)
    assert any(line.split()[:4] == ["reserve", "792", "792", "0"] for line in lines)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--deposits", "alice"], "--deposits: 'alice' is not NAME=UNITS (e.g. alice=1,bob=12)"),
        (["--deposits", "=3"], "--deposits: '=3' is not NAME=UNITS (e.g. alice=1,bob=12)"),
        (["--deposits", "alice=1,alice=2"], "--deposits: 'alice' is listed twice; give each backer once"),
        (["--deposits", "alice=0"], "--deposits: alice's units must be a whole number of at least 1, not '0'"),
        (["--deposits", "alice=1.5"], "--deposits: alice's units must be a whole number of at least 1, not '1.5'"),
        (["--deposits", "modeller=1"], "--deposits: 'modeller' is reserved for the table; pick another backer name"),
        (["--deposits", ","], "--deposits: give at least one backer, e.g. --deposits alice=1"),
        (
            ["--deposits", "alice=101"],
            "--deposits: the backers ask for more units than the terms allow " "(max_units 100)",
        ),
        (["--deposits", "alice=1", "--final-value", "-5"], "--final-value must not be negative (got -5)"),
        (
            ["--deposits", "alice=1", "--final-value", "0.0000000000000000001"],
            "--final-value (0.0000000000000000001) "
            "has more than 18 decimals; NMR is divisible to 18 decimal places only",
        ),
        (
            ["--deposits", "alice=1", "--reserve", "49.99"],
            "--reserve (49.99 NMR) is below the 50 NMR these terms " "require (reserve_ratio 0.5 of 100 NMR staked)",
        ),
        (["--deposits", "alice=1", "--repay", "121"], "--repay (121 NMR) is more than the amount due (120 NMR)"),
        (
            ["--deposits", "alice=1", "--repay", "some"],
            '--repay must be an amount of NMR such as 100 or "0.5", ' "not text ('some')",
        ),
    ],
)
def test_settle_bad_input(seed_file, capsys, argv, message):
    args = ["settle", "--terms", seed_file, "--final-value", "140", *NOW_ARGS, *argv]
    code, out, err = run(args, capsys)
    assert (code, out) == (2, "")
    assert err == f"backing: error: {message}\n"


def test_settle_below_min_units(write_terms, capsys):
    code, _, err = run(
        [
            "settle",
            "--terms",
            write_terms(seed_terms_dict(min_units=5)),
            "--deposits",
            "a=2,b=2",
            "--final-value",
            "400",
            *NOW_ARGS,
        ],
        capsys,
    )
    assert code == 2
    assert err == "backing: error: --deposits: 4 units in total; these terms need at least min_units (5) to lock\n"


def test_settle_zero_final_value_settles_at_maturity(seed_file, capsys):
    data, rows = settle_json(capsys, seed_file, "--deposits", "alice=1", "--final-value", "0", "--repay", "none")
    assert data["settlement"]["header"]["phase"] == "Settled"  # nothing to repay: settled at maturity
    assert rows["alice"]["received"] == "50"  # half of the 100 NMR loss, from the reserve


# ---------------------------------------------------------------------------------------------- parser


def test_usage_errors_exit_2(capsys):
    for argv in ([], ["settle"], ["terms"], ["frobnicate"], ["settle", "--terms", "x", "--deposits", "a=1"]):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        assert "usage: backing" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--help"], ["terms", "settle", "Exit codes: 0 success, 2 bad input"]),
        (
            ["settle", "--help"],
            ["--deposits NAME=UNITS,...", "--final-value NMR", "--repay full|none|NMR", "--reserve NMR", "fee_ladder"],
        ),
        (["terms", "check", "--help"], ["FILE", "--json", "open_until: <unix time> may replace open_for"]),
    ],
)
def test_help(capsys, argv, expected):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_console_script(seed_file):
    """The installed entry point (pyproject's backing = backing.cli:main) runs and passes the exit code on."""
    script = Path(sys.executable).with_name("backing")
    ok = subprocess.run(
        [
            str(script),
            "settle",
            "--terms",
            seed_file,
            "--deposits",
            "alice=1",
            "--final-value",
            "140",
            "--json",
            *NOW_ARGS,
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["settlement"]["rows"][0]["received"] == "120"
    bad = subprocess.run(
        [sys.executable, "-m", "backing.cli", "terms", "check", seed_file, "--now", "x"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "invalid int value: 'x'" in bad.stderr


def test_help_lists_every_command_group(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    listed = [
        line.split()[0]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    ]
    assert listed == [
        "terms",
        "settle",
        "simulate",
        "montecarlo",
        "portfolio",
        "oracle",
        "account",
        "deploy",
        "model",
        "agreement",
        "deposit",
        "withdraw",
        "claim",
        "position",
        "series",
        "submission",
        "consistency",
        "grid",
        "web",
    ]


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"backing {version('backing-vaults')}\n"


def test_oracle_group_delegates_to_the_oracle_service(capsys):
    """`backing oracle ...` is oracle.cli's own parser: its usage, its exit code."""
    assert main(["oracle", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: backing oracle")
    assert main(["oracle"]) == 2
    assert "backing oracle: error: the following arguments are required" in capsys.readouterr().err


def test_web_without_a_node_says_so(capsys):
    # port 9 (discard): nothing answers JSON-RPC there
    assert main(["web", "--rpc-url", "http://127.0.0.1:9", "--port", "0"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "backing: error: cannot reach a node at http://127.0.0.1:9: start it, or pass --rpc-url (or set "
        "BACKING_RPC_URL)"
    ]

"""``backing simulate``: the example scenarios through the real contracts, checked against the reference model.

``simulate.run`` plays a scenario on the network this session is connected to; ``fn_isolation`` (conftest)
reverts the chain after each test.
"""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from backing import simulate
from backing.simulate import ScenarioError, load_scenario, load_scenario_file, run, to_json

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "examples" / "scenarios"


def play(name):
    result = run(load_scenario_file(SCENARIOS / f"{name}.yaml"), out=None)
    return result, to_json(result)


# The seed proposal's three worked examples: (file, final value, repaid, backer receives, fees, reserve used,
# reserve returned, phase).
SEED = [
    ("seed-gain-repaid", "140", "120", "120", "20", "0", "50", "Settled"),
    ("seed-loss-repaid", "80", "80", "90", "0", "10", "40", "Settled"),
    ("seed-loss-default", "80", "0", "50", "0", "50", "0", "Defaulted"),
]


@pytest.mark.parametrize("name,value,repaid,received,fees,used,returned,phase", SEED, ids=[s[0] for s in SEED])
def test_seed_examples(name, value, repaid, received, fees, used, returned, phase):
    result, data = play(name)
    assert result.reference_match, result.mismatches
    assert data["reference_match"] is True
    [agreement] = data["agreements"]
    assert agreement["phase"] == phase
    assert agreement["staked"] == "100"
    assert agreement["final_value"] == value
    assert agreement["repaid"] == repaid
    assert agreement["fees"] == fees
    assert agreement["upfront_fees"] == "0"
    assert agreement["reserve_used"] == used
    assert agreement["reserve_returned"] == returned
    assert agreement["dust"] == "0"
    assert agreement["backers"] == {"alice": {"units": 1, "deposited": "100", "received": received, "rolled": "0"}}
    assert data["totals"]["backers"] == {"alice": {"deposited": "100", "received": received}}
    assert data["totals"]["modeller"] == {"fees": fees, "upfront_fees": "0", "reserve_lost": used}
    # the path: 100 -> 125 -> V (rounds of +25%, then +12% or -36%)
    assert agreement["value_path"] == ["100", "125", value]


@pytest.fixture(scope="module")
def realistic():
    """The realistic series, played once for the tests that read it."""
    return play("realistic-series")


def test_realistic_series(realistic):
    result, data = realistic
    assert result.reference_match, result.mismatches
    assert len(result.checks) > 80
    first, second = data["agreements"]
    assert (first["phase"], second["phase"]) == ("Settled", "Defaulted")
    assert first["rounds"] == [2, 13] and second["rounds"] == [15, 18]  # round 14 opens between them
    assert first["upfront_fees"] == "16" and second["upfront_fees"] == "14"
    assert Decimal(first["final_value"]) > Decimal(first["staked"]) > Decimal(second["staked"])
    assert Decimal(second["final_value"]) < Decimal(second["staked"])
    assert second["repaid"] == "500"
    # Bob's tier: 40% profit share at 12 units, so on the same gain per unit he nets more than Alice
    gain = {n: Decimal(b["received"]) - Decimal(b["deposited"]) for n, b in first["backers"].items()}
    assert gain["bob"] / 12 > gain["alice"] / 1
    # totals add both agreements
    bob = data["totals"]["backers"]["bob"]
    assert Decimal(bob["deposited"]) == 1700
    assert Decimal(bob["received"]) == (
        Decimal(first["backers"]["bob"]["received"]) + Decimal(second["backers"]["bob"]["received"])
    )
    assert set(data["totals"]["backers"]) == {"alice", "bob", "carol", "dave"}
    assert Decimal(data["totals"]["modeller"]["reserve_lost"]) == Decimal(second["reserve_used"]) > 0
    # default: the backers share the repayment and the reserve used, less at most a few wei of dust
    pool = Decimal(second["repaid"]) + Decimal(second["reserve_used"])
    shared = sum(Decimal(b["received"]) for b in second["backers"].values())
    assert 0 <= pool - shared <= Decimal("1e-17")


def test_json_schema(tmp_path):
    result, data = play("seed-gain-repaid")
    text = json.dumps(data)
    data = json.loads(text)
    assert {"agreements", "totals", "reference_match"} <= set(data)
    for agreement in data["agreements"]:
        for key in ("final_value", "fees", "upfront_fees", "repaid", "reserve_used", "reserve_returned"):
            assert isinstance(agreement[key], str) and Decimal(agreement[key]) >= 0
        for backer in agreement["backers"].values():
            assert {"deposited", "received", "rolled"} <= set(backer)
    assert set(data["totals"]) == {"backers", "modeller"}
    assert set(data["totals"]["modeller"]) == {"fees", "upfront_fees", "reserve_lost"}
    assert data["mismatches"] == []


def test_plots(realistic, tmp_path):
    result, _ = realistic
    written = simulate.plot(result, tmp_path / "plots")
    assert sorted(p.name for p in written) == ["value_path.png", "who_got_what.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_tables_show_every_agreement(realistic):
    result, _ = realistic
    text = simulate.tables(result)
    assert "agreement 1 (rounds 2 to 13)" in text and "agreement 2 (rounds 15 to 18)" in text
    assert "Defaulted" in text and "dave" in text


def test_reserve_too_small_fails_in_plain_words():
    with pytest.raises(ScenarioError) as error:
        play("reserve-too-small")
    # the reserve is posted first and covers no unit, so alice's deposit is refused (issue 12 L-1)
    assert str(error.value) == (
        "agreement 1: this deposit would need a reserve of 50 NMR and the modeller has posted 25 NMR: once a "
        "reserve is posted, deposits stop where it no longer covers the stake; deposit fewer units, or ask the "
        "modeller to top up his reserve"
    )


def base(**agreement):
    plan = {
        "terms": {
            "unit_size": 100,
            "min_units": 1,
            "max_units": 2,
            "profit_share": 0.5,
            "burn_share": 0.5,
            "reserve_ratio": 0.5,
            "upfront_fee": 0,
            "lockup_rounds": 1,
        },
        "deposits": [{"backer": "alice", "units": 1}],
        "repayment": "full",
    }
    plan.update(agreement)
    return {"agreements": [plan], "rounds": [{"scores": {"CORR20": 0.02}, "multipliers": {"CORR20": 1}, "clip": 0.05}]}


def test_over_capacity_fails_in_plain_words():
    with pytest.raises(
        ScenarioError, match=r"^agreement 1: bob asks for 2 units but only 1 are left " r"\(max_units 2\)$"
    ):
        run(load_scenario(base(deposits=[{"backer": "alice", "units": 1}, {"backer": "bob", "units": 2}])), out=None)


def test_bad_terms_fail_in_plain_words():
    scenario = base()
    scenario["agreements"][0]["terms"]["max_units"] = 0
    with pytest.raises(ScenarioError, match=r"^agreement 1: terms: max_units \(0\) must be at least min_units"):
        run(load_scenario(scenario), out=None)


def test_repayment_above_due_fails_in_plain_words():
    with pytest.raises(ScenarioError, match=r"the repayment \(500 NMR\) is more than the amount due"):
        run(load_scenario(base(repayment=500)), out=None)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda s: s["agreements"][0].update(rollover=["alice"]), "the first agreement has no previous agreement"),
        (
            lambda s: s["agreements"][0]["terms"].update(
                high_water_mark=False, clawback={"share": 0.5, "agreements": 1}
            ),
            "high_water_mark: false is not available",
        ),
        (lambda s: s["agreements"][0]["terms"].update(clawback={"share": 0.5}), "needs both share"),
        (lambda s: s["rounds"].append(s["rounds"][0]), "gives 2 rounds, but its agreements' lockups add up to 1"),
        (lambda s: s["rounds"][0].update(clip=2), r"clip \(2\) must be more than 0 and at most 1"),
        (lambda s: s["rounds"][0]["scores"].update(CORR20="1.5"), r"scores.CORR20 \(1.5\) must be between -1 and 1"),
        (lambda s: s["rounds"][0].update(multipliers={"MMC": 1}), "multiplier for each score"),
        (lambda s: s["agreements"][0]["deposits"].append({"backer": "reserve", "units": 1}), "reserved"),
        (lambda s: s["agreements"][0]["terms"].update(staking_address="0x" + "11" * 20), "sets staking_address"),
    ],
)
def test_scenario_file_errors(change, message):
    scenario = base()
    change(scenario)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(scenario)


def test_cli_rejects_series_features(tmp_path):
    """The command line: exit code 2 and the reason on stderr (fails before any chain is touched)."""
    path = tmp_path / "series.json"
    path.write_text(json.dumps(base(rollover=["alice"])))
    done = subprocess.run(
        [sys.executable, "-m", "backing.cli", "simulate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "the first agreement has no previous agreement to roll from" in done.stderr


def test_json_scenario_file_reads_like_yaml(tmp_path):
    """A scenario in JSON (numbers as decimal strings) gives the same scenario as its YAML twin."""
    yaml_scenario = load_scenario_file(SCENARIOS / "seed-loss-repaid.yaml")
    path = tmp_path / "seed-loss-repaid.json"
    path.write_text(
        json.dumps(
            {
                "model": {"exposure": "1"},
                "agreements": [
                    {
                        "terms": {
                            "unit_size": "100",
                            "min_units": 1,
                            "max_units": 100,
                            "profit_share": "0.5",
                            "burn_share": "0.5",
                            "reserve_ratio": "0.5",
                            "upfront_fee": 0,
                            "lockup_rounds": 2,
                        },
                        "reserve": "50",
                        "deposits": [{"backer": "alice", "units": 1}],
                        "repayment": "full",
                    }
                ],
                "rounds": [
                    {
                        "scores": {"CORR20": 0.1, "MMC": 0.1},
                        "multipliers": {"CORR20": 0.5, "MMC": 2},
                        "payout_factor": 1,
                        "clip": 0.4,
                    },
                    {
                        "scores": {"CORR20": "-0.12", "MMC": -0.15},
                        "multipliers": {"CORR20": "0.5", "MMC": 2},
                        "payout_factor": "1.0",
                        "clip": "0.4",
                    },
                ],
            }
        )
    )
    json_scenario = load_scenario_file(path)
    assert json_scenario.rounds == yaml_scenario.rounds
    assert json_scenario.exposure == yaml_scenario.exposure
    assert [(a.reserve, a.deposits, a.repayment) for a in json_scenario.agreements] == [
        (a.reserve, a.deposits, a.repayment) for a in yaml_scenario.agreements
    ]


# ---------------------------------------------------------------------------------------------- series scenarios


def test_series_rollover_example():
    """examples/scenarios/series-rollover.yaml through BackingSeries: a rollover, a loss covered first by the
    clawback, a late entrant; every stage checked against backing/model/series.py to the wei."""
    result, data = play("series-rollover")
    assert result.reference_match, result.mismatches
    data = json.loads(json.dumps(data))
    assert data["reference_match"] is True and data["mismatches"] == []
    first, second, third = data["agreements"]
    assert [a["phase"] for a in data["agreements"]] == ["Settled"] * 3
    assert len({a["address"] for a in data["agreements"]}) == 1  # one series contract
    assert [a["series_index"] for a in data["agreements"]] == [0, 1, 2]
    # agreement 1: a gain; both roll everything, nothing claimed
    assert Decimal(first["final_value"]) > Decimal(first["staked"]) == 1400
    assert Decimal(first["fees_held"]) > 0
    for name in ("alice", "bob"):
        b = first["backers"][name]
        assert b["received"] == "0" and Decimal(b["rolled"]) > Decimal(b["deposited"])
        assert second["backers"][name]["rolled_in"] == b["rolled"] and second["backers"][name]["deposited"] == "0"
    # agreement 2: a loss; the held fees cover it first, then the reserve
    assert Decimal(second["final_value"]) < Decimal(second["staked"])
    assert Decimal(second["clawback"]) == Decimal(first["fees_held"])
    assert Decimal(second["reserve_used"]) > 0
    assert Decimal(second["backers"]["alice"]["received"]) > 0 and second["backers"]["alice"]["rolled"] == "0"
    assert second["backers"]["bob"]["received"] == "0"
    assert third["backers"]["bob"]["rolled_in"] == second["backers"]["bob"]["rolled"]
    # agreement 3: Carol enters late, marked at the price she enters at
    assert third["backers"]["carol"] == {
        "units": 5,
        "deposited": "500",
        "received": "520.344",
        "rolled": "0",
        "rolled_in": "0",
    }
    assert third["price"][0] == second["price"][1] and Decimal(third["price"][1]) > Decimal(first["price"][1])
    assert data["totals"]["backers"]["bob"]["deposited"] == "1200"
    assert Decimal(data["totals"]["backers"]["bob"]["received"]) == Decimal(third["backers"]["bob"]["received"])
    text = simulate.tables(result)
    assert "agreement 2 of the series" in text and "rolled in" in text and "clawback paid to backers" in text


def series_base(*repayments, clawback=True):
    terms = {
        "unit_size": 100,
        "min_units": 1,
        "max_units": 20,
        "profit_share": 0.5,
        "burn_share": 0.5,
        "reserve_ratio": 0.5,
        "upfront_fee": 0,
        "lockup_rounds": 1,
        "high_water_mark": True,
    }
    if clawback:
        terms["clawback"] = {"share": 0.5, "agreements": 1}
    plans = [{"terms": dict(terms), "deposits": [{"backer": "alice", "units": 1}], "repayment": r} for r in repayments]
    for plan in plans[1:]:
        plan["rollover"] = ["alice"]
        plan["deposits"] = [{"backer": "carol", "units": 2}]
    return {
        "agreements": plans,
        "rounds": [{"scores": {"CORR20": 0.02}, "multipliers": {"CORR20": 1}, "clip": 0.05}] * len(plans),
    }


def test_series_default_ends_the_series():
    """A partial repayment: the wind-down passes, the agreement defaults, the series ends, the next agreement
    (already open, with Carol's deposit and Alice's consent) is cancelled and the third is not played."""
    result = run(load_scenario(series_base(10, "full", "full")), out=None)
    assert result.reference_match, result.mismatches
    data = to_json(result)
    first, second = data["agreements"]
    assert (first["phase"], second["phase"]) == ("Defaulted", "Cancelled")
    assert first["repaid"] == "10" and Decimal(first["backers"]["alice"]["received"]) > 0
    assert second["backers"] == {
        "carol": {"units": 2, "deposited": "200", "received": "200", "rolled": "0", "rolled_in": "0"}
    }
    assert second["rounds"] == [None, None]
    assert "never locked" in simulate.tables(result)


def test_series_rejection_in_plain_words():
    with pytest.raises(ScenarioError, match=r"^agreement 1: the repayment \(500 NMR\) is more than the amount " r"due"):
        run(load_scenario(series_base(500)), out=None)


# ---------------------------------------------------------------------------------------------- --oracle-service


def test_oracle_service_plays_seed_example():
    """--oracle-service: the rounds are served by a fake Numerai API and the oracle service (two signer keystores,
    its own sender account) announces, posts and finalizes them; the result matches the reference to the wei."""
    from brownie import web3

    result = run(load_scenario_file(SCENARIOS / "seed-gain-repaid.yaml"), out=None, oracle_service=True)
    data = to_json(result)
    assert result.reference_match, result.mismatches
    assert data["reference_match"] is True
    [agreement] = data["agreements"]
    assert (agreement["final_value"], agreement["phase"]) == ("140", "Settled")  # as when signed directly
    reporter = result.reporter
    oracle = web3.eth.contract(address=reporter.oracle.address, abi=reporter.oracle.abi)
    posted = oracle.events.RoundPosted.get_logs(from_block=0)
    assert sorted(log["args"]["round"] for log in posted) == [1, 2, 3]  # round 1 (missed) opened before the lock
    senders = {web3.eth.get_transaction(log["transactionHash"])["from"] for log in posted}
    assert senders == {reporter.sender}

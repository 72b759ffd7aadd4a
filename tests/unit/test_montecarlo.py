"""``backing montecarlo``: the vectorised math equals the scalar reference model to the wei; the score generator
and the bootstrap do what they claim; the command runs end to end and refuses bad input with exit code 2."""

import json
from pathlib import Path

import numpy as np
import pytest
from samples import NOW, seed_terms_dict

from backing import montecarlo as mc
from backing.cli import main
from backing.model import agreement as ref
from backing.model.agreement import ONE, Agreement, ContractError, FeeTier, Phase, Terms

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_TERMS = REPO / "examples" / "terms.yaml"
EXAMPLE_HISTORY = REPO / "examples" / "history.csv"


def terms(**kw) -> Terms:
    base = dict(
        unit_size=100 * ONE,
        min_units=1,
        max_units=50,
        profit_share_bps=5000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=12,
        open_until=NOW + 86400,
        wind_down=86400,
    )
    base.update(kw)
    return Terms(**base)


# ---------------------------------------------------------------------------------------------- exact math


def random_payouts(rng, count):
    """Payout settings across the oracle's whole range, with the realistic schemes among them."""
    out = [mc.SCHEMES["v2"], mc.SCHEMES["abs"], mc.Payout((ONE // 2, 2 * ONE), ONE, 5 * ONE // 100, 3 * ONE // 7)]
    while len(out) < count:
        mults = tuple(int(rng.integers(0, 10**9)) * int(rng.integers(0, 10**12 + 1)) for _ in range(2))
        if rng.random() < 0.3:
            mults = (mc.MAX_MULTIPLIER, mc.MAX_MULTIPLIER - int(rng.integers(0, 10**6)))
        out.append(
            mc.Payout(
                mults, int(rng.integers(0, ONE + 1)), int(rng.integers(1, ONE + 1)), int(rng.integers(1, ONE + 1))
            )
        )
    return out


def random_scores(rng, shape):
    """Integer scores at every scale, signs and the bounds +-1e18 included."""
    s = rng.integers(-ONE, ONE + 1, size=shape)
    scale = 10 ** rng.integers(0, 18, size=shape)
    s = s // scale
    s[..., 0].flat[:3] = [ONE, -ONE, 0]
    return s


def test_round_returns_and_growth_equal_reference():
    rng = np.random.default_rng(11)
    for payout in random_payouts(rng, 24):
        scores = random_scores(rng, (150, 2))
        got = mc.round_returns(scores, payout)
        want = [
            ref.round_return(
                [int(a), int(b)],
                list(payout.multipliers),
                payout.payout_factor,
                payout.clip,
                max_multiplier=mc.MAX_MULTIPLIER,
            )
            for a, b in scores
        ]
        assert got.tolist() == want
        growth = mc.growths(got, payout.exposure)
        assert growth.tolist() == [max(ONE + ref.tdiv(payout.exposure * r, ONE), ref.MIN_GROWTH) for r in want]


def reference_indices(exposure, returns):
    return [ref.index_path(exposure, [int(r) for r in row])[-1] for row in returns]


@pytest.mark.parametrize(
    "payout, model",
    [
        (mc.SCHEMES["v2"], mc.ScoreModel()),
        (mc.Payout((ONE // 2, 2 * ONE), ONE, 5 * ONE // 100, 123456789012345678), mc.ScoreModel()),
        # large swings: indices well beyond 2^64, and wipe-outs (a -100% round) that stay at zero
        (mc.SCHEMES["abs"], mc.ScoreModel(corr_mean=0.02, corr_sd=0.05, mmc_mean=0.01, mmc_sd=0.02)),
        (mc.SCHEMES["abs"], mc.ScoreModel(corr_mean=0.0, corr_sd=0.2, mmc_sd=0.1, overlap=1)),
    ],
)
def test_index_paths_equal_reference(payout, model):
    rng = np.random.default_rng(5)
    returns = mc.round_returns(mc.generate_scores(model, 120, 60, rng), payout)
    end, floats = mc.index_paths(mc.growths(returns, payout.exposure), keep_float=True)
    want = reference_indices(payout.exposure, returns)
    assert list(end) == want
    assert np.allclose(floats[:, -1], [w / ONE for w in want], rtol=1e-6, atol=1e-12)  # floats: charts only


def test_index_beyond_int64_and_overflow():
    growth = np.full((3, 120), 2 * ONE, dtype=np.int64)  # +100% a round: 1e18 * 2^120 < 2^184
    growth[1, ::2] = ONE // 3
    growth[2] = ONE + 7
    end, _ = mc.index_paths(growth)
    assert list(end) == [ref.index_path(ONE, [int(g) - ONE for g in row])[-1] for row in growth]
    assert end[0] == ONE * 2**120
    with pytest.raises(mc.IndexOverflow, match="2\\^184"):
        mc.index_paths(np.full((2, 200), 2 * ONE, dtype=np.int64))
    with pytest.raises(ContractError, match="IndexOverflow"):
        ref.index_path(ONE, [ONE] * 200)


POSITIONS = [
    # seed deal, one backer: exact aggregates
    (terms(), 1, None, None),
    # tiered backer next to a base-tier backer, upfront fee, awkward unit size
    (
        terms(
            unit_size=7 * ONE + 13, upfront_fee_bps=137, max_units=40, fee_ladder=(FeeTier(5, 4000), FeeTier(20, 2500))
        ),
        20,
        27,
        None,
    ),
    (terms(fee_ladder=(FeeTier(5, 4000),)), 3, 11, None),
    # a reserve far too small for the covers: shortfalls and scaled covers
    (terms(reserve_ratio_bps=300, burn_share_bps=9000, unit_size=ONE + 1), 2, 5, None),
    # no burn share; a reserve above the minimum
    (terms(burn_share_bps=0, profit_share_bps=10000), 4, 9, 1000 * ONE + 1),
]


def reference_settlement(position: mc.Position, end_index: int, default: bool):
    a = Agreement(terms=position.terms, modeller="m")
    if position.reserve:
        a.post_reserve("m", position.reserve)
    names = ["b", "o"]
    for name, units in zip(names, position.backers):
        a.deposit(name, units, NOW)
    a.lock("m", NOW, start_round=1)
    m = a.mature(NOW, ONE, end_index)
    if a.phase == Phase.Matured:
        if default:
            a.declare_default(a.deadline + 1)
        else:
            a.repay("m", m.amount_due - a.repaid)
    claims = [a.claim(name) for name in names[: len(position.backers)]]
    return a, m, claims


@pytest.mark.parametrize("case", range(len(POSITIONS)))
def test_settlement_equals_reference(case):
    t, units, total, reserve = POSITIONS[case]
    position = mc.make_position(t, units, total, reserve)
    rng = np.random.default_rng(100 + case)
    payout = mc.Payout((ONE // 2, 2 * ONE), ONE // 2, 5 * ONE // 100)
    model = mc.ScoreModel(corr_mean=0.0, corr_sd=0.06, mmc_sd=0.02)
    returns = mc.round_returns(mc.generate_scores(model, 60, 40, rng), payout)
    end, _ = mc.index_paths(mc.growths(returns, payout.exposure))
    end = np.concatenate([end, np.array([0, ONE, ONE - 1, ONE + 1, 2 * ONE], dtype=object)])  # edges
    defaulted = rng.random(len(end)) < 0.3
    for flags in (None, defaulted):
        out = mc.settle(position, end, flags)
        assert np.any(out["value"] >= position.staked) and np.any(out["value"] < position.staked)
        for i, index in enumerate(end):
            default = flags is not None and bool(flags[i])
            a, m, claims = reference_settlement(position, index, default)
            assert out["value"][i] == m.final_value
            assert out["amount_due"][i] == m.amount_due
            assert out["owed_total"][i] == m.owed_total
            assert out["cover_bound"][i] == m.cover_bound
            assert out["owed"][i] == a.owed_to("b")
            assert out["received"][i] == claims[0]
            assert out["reserve_used"][i] == a.reserve_used
            assert out["shortfall"][i] == max(m.cover_bound - position.reserve, 0)
            assert out["modeller_net"][i] == a.transfers["m"] + m.final_value  # he holds V in his staking wallet
            assert out["dust"][i] == a.summary()["transfers"]["m"] - (
                -position.reserve + position.upfront_fee + a.reserve_returned - a.repaid
            )
            settled_gain = a.phase == Phase.Settled and m.final_value >= position.staked
            assert out["fees"][i] == (m.final_value - a.repaid if settled_gain else 0)
    if case == 3:
        assert np.any(out["shortfall"] > 0) and np.any(out["uncovered"] > 0)


# ---------------------------------------------------------------------------------------------- generator, bootstrap


def autocorr(x, lag):
    a, b = x[:, :-lag] - x.mean(), x[:, lag:] - x.mean()
    return float((a * b).mean() / x.var())


def test_generator_matches_its_parameters():
    model = mc.ScoreModel(corr_mean=0.012, corr_sd=0.03, mmc_mean=-0.002, mmc_sd=0.01, corr_mmc=0.6, overlap=20)
    x = mc.generate_float_scores(model, 2000, 200, np.random.default_rng(3))
    corr, mmc = x[..., 0], x[..., 1]
    assert abs(corr.mean() - 0.012) < 0.002 and abs(mmc.mean() + 0.002) < 0.0007
    assert abs(corr.std() - 0.03) < 0.0015 and abs(mmc.std() - 0.01) < 0.0005
    assert abs(np.corrcoef(corr.ravel(), mmc.ravel())[0, 1] - 0.6) < 0.02
    for lag, expected in ((1, 0.95), (5, 0.75), (10, 0.5), (19, 0.05), (25, 0.0)):
        assert abs(autocorr(corr, lag) - expected) < 0.05, lag
        assert abs(autocorr(mmc, lag) - expected) < 0.05, lag
    ints = mc.to_fixed(x[:2])
    assert ints.dtype == np.int64 and np.all(np.abs(ints) <= ONE)


def test_generator_ar1_and_independent_rounds():
    x = mc.generate_float_scores(mc.ScoreModel(ar1=0.8), 2000, 150, np.random.default_rng(4))[..., 0]
    assert abs(autocorr(x, 1) - 0.8) < 0.03 and abs(autocorr(x, 3) - 0.512) < 0.04
    assert abs(x.std() - 0.03) < 0.0015
    y = mc.generate_float_scores(mc.ScoreModel(overlap=1), 2000, 150, np.random.default_rng(4))[..., 1]
    assert abs(autocorr(y, 1)) < 0.02


def test_bootstrap_reproduces_blocks_of_the_history(tmp_path):
    rounds, history = mc.read_history(EXAMPLE_HISTORY)
    assert len(history) >= 200 and np.all(np.diff(rounds) > 0)
    block = 20
    rng = np.random.default_rng(9)
    starts = mc.bootstrap_starts(len(history), 50, 130, block, np.random.default_rng(9))
    paths = mc.bootstrap_scores(history, 50, 130, block, rng)
    assert paths.shape == (50, 130, 2)
    for p in range(50):
        for b, start in enumerate(starts[p]):
            piece = paths[p, b * block : (b + 1) * block]
            assert np.array_equal(piece, history[start : start + len(piece)])


def test_history_file_round_trip_and_errors(tmp_path):
    scores = np.array([[ONE, -ONE], [1, -1], [123456789, 0]], dtype=np.int64)
    path = tmp_path / "h.csv"
    mc.write_history(path, scores, "synthetic", first_round=7)
    rounds, back = mc.read_history(path)
    assert rounds.tolist() == [7, 8, 9] and np.array_equal(back, scores)
    for text, message in [
        ("", "empty"),
        ("round,corr,mmc\n1,0,0\n", "header"),
        ("round,corr20,mmc\n", "no rows"),
        ("round,corr20,mmc\n1,0.1\n", "columns"),
        ("round,corr20,mmc\n1,abc,0\n", "not a number"),
        ("round,corr20,mmc\n1,1.5,0\n", "between"),
        ("round,corr20,mmc\n1,0,0\n1,0,0\n", "twice"),
        ("round,corr20,mmc\nx,0,0\n", "whole"),
    ]:
        path.write_text(text)
        with pytest.raises(mc.MonteCarloError, match=message):
            mc.read_history(path)


# ---------------------------------------------------------------------------------------------- command line


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def terms_file(write_terms):
    return write_terms(
        seed_terms_dict(
            upfront_fee="0.01", max_units=50, lockup_rounds=12, fee_ladder=[{"min_units": 10, "profit_share": "0.4"}]
        )
    )


def test_cli_end_to_end(terms_file, tmp_path, capsys):
    argv = [
        "montecarlo",
        "--terms",
        terms_file,
        "--units",
        "10",
        "--total-units",
        "12",
        "--paths",
        "300",
        "--rounds",
        "40",
        "--seed",
        "7",
        "--chunk",
        "100",
        "--default-prob",
        "0.1",
        "--no-progress",
        "--now",
        str(NOW),
    ]
    code, out, err = run(argv + ["--json", str(tmp_path / "a" / "out.json"), "--plot", str(tmp_path / "plots")], capsys)
    assert (code, err) == (0, "")
    assert "300 paths x 40 rounds, seed 7" in out and "backer return" in out and "P(reserve shortfall)" in out
    assert "profit share 40%" in out  # the 10-unit backer's tier
    data = json.loads((tmp_path / "a" / "out.json").read_text())
    assert data["config"]["position"] == {
        "units": 10,
        "total_units": 12,
        "deposit": "1000",
        "staked_total": "1188",
        "reserve": "594",
        "upfront_fee": "12",
        "profit_share_bps": 4000,
        "burn_share_bps": 5000,
    }
    assert set(data["stats"]) == {"stake_return", "backer_return", "modeller_fees", "modeller_net", "reserve_used"}
    assert 0 < data["probabilities"]["default"] < 0.2
    assert len(data["index_fan"]["p50"]) == 41 and data["index_fan"]["p50"][0] == 1.0
    for name in ("backer_returns.png", "modeller_fees.png", "index_fan.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same seed gives the same numbers
    code, out2, _ = run(argv + ["--json", str(tmp_path / "b.json")], capsys)
    again = json.loads((tmp_path / "b.json").read_text())
    assert code == 0 and again["stats"] == data["stats"] and again["probabilities"] == data["probabilities"]


def test_cli_bootstrap_and_lockup_from_terms(terms_file, capsys):
    code, out, err = run(
        [
            "montecarlo",
            "--terms",
            terms_file,
            "--history",
            str(EXAMPLE_HISTORY),
            "--block",
            "10",
            "--paths",
            "200",
            "--seed",
            "1",
            "--no-progress",
            "--now",
            str(NOW),
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    assert "200 paths x 12 rounds" in out and "block bootstrap of" in out and "blocks of 10" in out


def test_cli_write_history(tmp_path, capsys):
    path = tmp_path / "h.csv"
    code, out, err = run(["montecarlo", "--write-history", str(path), "--rounds", "50", "--seed", "3"], capsys)
    assert (code, err) == (0, "")
    text = path.read_text()
    assert text.startswith("# SYNTHETIC") and "round,corr20,mmc\n1," in text
    assert len(mc.read_history(path)[1]) == 50


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], None),  # placeholder replaced below: --terms missing
        (["--units", "0"], "--units \\(0\\) must be at least 1"),
        (["--units", "60"], "max_units"),
        (["--units", "3", "--total-units", "2"], "--total-units"),
        (["--reserve", "1"], "--reserve \\(1 NMR\\) is below"),
        (["--paths", "many"], "--paths must be a whole number"),
        (["--rounds", "0"], "--rounds \\(0\\) must be between 1 and 5200"),
        (["--clip", "2"], "--clip \\(2\\) must be more than 0 and at most 1"),
        (["--payout-factor", "abc"], "--payout-factor must be a number"),
        (["--multipliers", "1"], "--multipliers needs 2"),
        (["--exposure", "0"], "--exposure"),
        (["--corr-mmc", "1.5"], "--corr-mmc"),
        (["--ar1", "1"], "--ar1"),
        (["--default-prob", "2"], "--default-prob"),
        (["--history", "/nonexistent/h.csv"], "cannot read history file"),
        (["--history", str(EXAMPLE_HISTORY), "--block", "100000"], "--block \\(100000\\) is longer"),
    ],
)
def test_cli_bad_input_exits_2(extra, message, terms_file, capsys):
    if message is None:
        argv, message = ["montecarlo", "--paths", "10"], "--terms FILE is required"
    else:
        argv = ["montecarlo", "--terms", terms_file, "--paths", "10", "--no-progress", "--now", str(NOW), *extra]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("backing: error: ")
    assert __import__("re").search(message, err), err


def test_cli_bad_terms_file_exits_2(write_terms, capsys):
    bad = write_terms(seed_terms_dict(max_units=0))
    code, out, err = run(["montecarlo", "--terms", bad, "--now", str(NOW)], capsys)
    assert code == 2 and "max_units" in err


def test_progress_bar_counts_paths_in_chunks(capsys):
    position = mc.make_position(terms(), 1)
    config = mc.Config(position, mc.SCHEMES["v2"], rounds=5, paths=250, seed=1, model=mc.ScoreModel(), chunk=100)
    result = mc.run(config, progress=True)
    err = capsys.readouterr().err
    assert "montecarlo" in err and "250/250" in err
    assert len(result.floats["backer_return"]) == 250

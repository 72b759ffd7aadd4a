"""backing.portfolio offline: outcomes against the reference model, known answers, frontier properties, brute
force on small cases, rebalancing within what the contracts allow, and bad input refused in plain words."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from backing.errors import PortfolioError
from backing.model.agreement import ONE, Agreement, index_path
from backing.portfolio import ensemble, frontier, rebalance, risk, stress, synthetic
from backing.portfolio.inputs import Candidate, Holding, Inputs, load_history_csv
from backing.portfolio.outcomes import Outcomes, simulate


def make_inputs(history, holdings=(), budget=5000, **terms):
    cands = synthetic.candidates_for(history, **terms)
    return Inputs(cands, list(holdings), history, budget * ONE)


def outcomes_from(profit: np.ndarray, models: list[str], unit=100, max_units=50) -> Outcomes:
    """Outcomes with a given profit matrix (paths x candidates), one candidate per model."""
    hist = synthetic.history_from({m: [0.0, 0.01] for m in models})
    cands = [
        Candidate(id=f"a-{m}", model=m, terms=synthetic.terms(unit_size=unit, max_units=max_units)) for m in models
    ]
    return Outcomes(
        cands, profit, np.full(len(models), float(unit)), models, np.arange(len(models)), hist, len(profit), 0, 1
    )


def problem(o: Outcomes, budget=5000.0, held=None, rule=risk.Rule(), method="variance", cap=None):
    n = len(o.candidates)
    held = np.zeros(n, int) if held is None else np.asarray(held)
    cap = np.array([c.open_units for c in o.candidates]) if cap is None else np.asarray(cap)
    return frontier.Problem(o, held, cap, budget, rule, method=method, cvar_paths=4000)


# ---------------------------------------------------------------------------------------------- outcomes


def test_float_outcomes_match_the_exact_integer_math():
    h = synthetic.one_factor_history(3, 80, sd=0.03)
    cands = synthetic.candidates_for(h, lockup_rounds=8, reserve_ratio=0.1, burn_share=0.9, upfront_fee=0.01)
    cands = [replace(c, default_probability=0.2 * i, units_sold=3 * i) for i, c in enumerate(cands)]
    inputs = Inputs(cands, [], h, 1000 * ONE)
    fast = simulate(inputs, paths=400, seed=3)
    exact = simulate(inputs, paths=400, seed=3, exact=True)
    assert np.abs(fast.profit - exact.profit).max() < 1e-9
    assert (exact.profit < 0).any() and (exact.profit > 0).any()


def test_exact_outcome_of_one_path_equals_the_reference_agreement():
    h = synthetic.one_factor_history(1, 30, sd=0.02, seed=4)
    c = synthetic.candidates_for(h, lockup_rounds=5, upfront_fee=0.01)[0]
    c = replace(c, units_sold=3)
    rows = np.array([[4, 5, 6, 7, 8]])
    out = simulate(Inputs([c], [], h, 0), rows=rows, exact=True)
    # the reference model: 3 units of others, 1 unit of ours, the index over those five rounds
    path = index_path(ONE, [int(h.returns[r, 0]) for r in rows[0]])
    a = Agreement(terms=c.terms, modeller="m")
    a.post_reserve("m", c.valued_reserve(4))
    a.deposit("me", 1, 0)
    a.deposit("others", 3, 0)
    a.lock("m", 0, start_round=1)
    a.mature(0, start_index=ONE, end_index=path[-1])
    a.repay("m", a.matured.amount_due - a.repaid)
    assert out.profit[0, 0] == (a.claim("me") - c.terms.unit_size) / ONE


def test_paths_are_joint_across_models():
    h = synthetic.one_factor_history(2, 200, rho=0.0, seed=9)
    h.returns[:, 1] = h.returns[:, 0]  # the same model twice
    o = simulate(make_inputs(h), paths=500)
    assert np.array_equal(o.profit[:, 0], o.profit[:, 1])


# ---------------------------------------------------------------------------------------------- known answers


def test_two_uncorrelated_identical_models_are_split_evenly():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 5.0, 3000), rng.normal(1.0, 5.0, 3000)
    profit = np.vstack([np.column_stack([a, b]), np.column_stack([b, a])])  # identical, symmetric, uncorrelated
    assert abs(np.corrcoef(profit, rowvar=False)[0, 1]) < 0.05
    o = outcomes_from(profit, ["x", "y"])
    f = frontier.frontier(problem(o, budget=2000, rule=risk.Rule(limit=1.0)))
    for point in f.points:
        ux, uy = point["units"]
        assert abs(ux - uy) <= 1, point
    top = frontier.choose(f, "max-return")
    assert list(top["units"]) == [10, 10]  # the budget buys 20 units: 10 each


def test_a_perfectly_correlated_pair_adds_no_diversification():
    h = synthetic.one_factor_history(3, 200, rho=0.0, seed=5)
    h.returns[:, 1] = h.returns[:, 0]  # model m01 is m00 under another name
    inputs = make_inputs(h, holdings=[Holding("a-m00", 5)])
    o = simulate(inputs, paths=2000)
    rows = {r["candidate"]: r for r in ensemble.rank(o, inputs.held_units())}
    twin, other = rows["a-m01"], rows["a-m02"]
    assert twin["outcome_correlation"] == pytest.approx(1.0)
    assert twin["score_correlation"] == pytest.approx(1.0)
    assert twin["diversification"] == pytest.approx(0.0, abs=1e-9)
    assert other["diversification"] > 0.1
    assert other["rank"] < twin["rank"]
    assert "adds little diversification" in twin["words"] and "ensembles well" in other["words"]


def test_a_model_whose_burn_exceeds_two_percent_is_cut_to_the_limit():
    h = synthetic.one_factor_history(1, 200, mean=0.004, sd=0.02, seed=2)
    inputs = make_inputs(h, budget=5000, burn_share=0.0, reserve_ratio=0.0)
    o = simulate(inputs, paths=4000)
    rule = risk.Rule(limit=0.02, measure="es", level=0.95)
    es_unit = risk.unit_risk(o, rule)[0]
    limit_units = int(np.floor(0.02 * 5000 / es_unit))
    assert 0 < limit_units < 50  # without the rule, max return would buy all 50 units
    f = frontier.frontier(problem(o, budget=5000, rule=rule))
    assert max(int(p["units"][0]) for p in f.points) == limit_units
    # the same allocation held is within the rule; one unit more is a breach named with the cut
    rows, breaches = risk.check(o, np.array([limit_units]), 5000, rule)
    assert rows[0]["ok"] and not breaches
    rows, breaches = risk.check(o, np.array([limit_units + 3]), 5000, rule)
    assert len(breaches) == 1 and breaches[0].model == "m00"
    words = risk.breach_words(breaches[0], rule, 5000)
    assert "over the 2% limit" in words and "giving up" in words and breaches[0].units_to_cut["a-m00"] >= 3


@pytest.mark.parametrize("measure", ["es", "worst", "stake"])
def test_risk_measures_are_per_unit_and_never_negative(measure):
    o = outcomes_from(np.array([[5.0, -2.0], [-3.0, 1.0], [1.0, 1.0]]), ["x", "y"])
    r = risk.unit_risk(o, risk.Rule(measure=measure, level=0.7))  # the worst one path of three
    expected = {"es": [3.0, 2.0], "worst": [3.0, 2.0], "stake": [100.0, 100.0]}[measure]
    assert list(r) == expected


# ---------------------------------------------------------------------------------------------- properties


@pytest.mark.parametrize("method", ["variance", "cvar"])
def test_the_frontier_is_monotone_and_every_point_respects_capacity_budget_and_the_rule(method):
    h = synthetic.one_factor_history(6, 200, rho=0.3, sd=0.015, seed=11)
    inputs = make_inputs(h, holdings=[Holding("a-m00", 3)], budget=2500, max_units=8)
    inputs.candidates = [replace(c, units_sold=3 if c.id == "a-m00" else 0) for c in inputs.candidates]
    o = simulate(inputs, paths=3000)
    rule = risk.Rule(limit=0.01)
    p = problem(o, budget=2500, held=inputs.held_units(), rule=rule, method=method)
    f = frontier.frontier(p, points=8)
    assert len(f.points) >= 3
    means = [d["mean"] for d in f.points]
    risks = [d["risk"] for d in f.points]
    assert means == sorted(means) and risks == sorted(risks)
    assert len(set(means)) == len(means)
    for d in f.points:
        x = d["units"]
        assert (x >= 0).all() and (x <= p.cap).all()
        assert d["cost"] <= 2500 + 1e-9
        rows, breaches = risk.check(o, p.held + x, p.portfolio, rule)
        assert not breaches
        assert p.feasible(x)


def test_the_optimizer_matches_a_brute_force_search_on_small_cases():
    for seed in (1, 2, 3):
        h = synthetic.one_factor_history(3, 150, rho=0.2, sd=0.02, seed=seed)
        inputs = make_inputs(h, budget=700, max_units=4)
        o = simulate(inputs, paths=2000, seed=seed)
        rule = risk.Rule(limit=0.05)
        p = problem(o, budget=700, rule=rule)
        f = frontier.frontier(p, points=10)
        grid = [np.array(x) for x in itertools.product(range(5), repeat=3)]
        feasible = [x for x in grid if p.feasible(x)]
        brute = [(np.sqrt(p.risk(x)), p.mean(x)) for x in feasible]
        best_mean = max(m for _, m in brute)
        least_risk = min(r for r, _ in brute)
        assert f.points[-1]["mean"] == pytest.approx(best_mean, abs=1e-9)
        assert f.points[0]["sd"] == pytest.approx(least_risk, abs=1e-9)
        for d in f.points:  # no integer allocation beats a frontier point on both counts
            for r, m in brute:
                assert not (r < d["sd"] - 1e-7 and m > d["mean"] + 1e-7), (seed, d, r, m)


# ---------------------------------------------------------------------------------------------- rebalancing


def test_plan_proposes_only_what_the_contracts_allow():
    h = synthetic.one_factor_history(1, 50)
    t = synthetic.terms(max_units=10)
    cands, holdings = [], []
    for phase in ("Open", "Locked", "Matured", "Settled", "Defaulted", "Cancelled"):
        for kind in ("agreement", "series"):
            cid = f"{phase}-{kind}"
            cands.append(
                Candidate(
                    cid,
                    "m00",
                    t,
                    kind=kind,
                    phase=phase,
                    units_sold=4,
                    series=(cid, 0) if kind == "series" else None,
                    open_until=100,
                    end_round=40,
                )
            )
            holdings.append(Holding(cid, 4))
    inputs = Inputs(cands, holdings, h, 0)
    for target_units in (0, 2, 4, 7):
        target = np.full(len(cands), target_units)
        for now in (None, 50, 200):
            for a in rebalance.plan(inputs, target, now=now, allow_sales=True):
                c = inputs.candidate(a["candidate"])
                assert a["action"] == "wait" or a["action"] in rebalance.ALLOWED[c.phase][c.kind]
                if c.phase != "Open":
                    assert a["action"] not in ("deposit", "withdraw")
                if now == 200:  # the deposit window has closed
                    assert a["action"] != "deposit"
    actions = {a["candidate"]: a for a in rebalance.plan(inputs, np.full(len(cands), 7), now=50)}
    assert actions["Open-agreement"]["action"] == "deposit" and actions["Open-agreement"]["units"] == 3
    assert actions["Locked-agreement"]["action"] == "wait"
    actions = {a["candidate"]: a for a in rebalance.plan(inputs, np.zeros(len(cands), int), now=50)}
    assert actions["Locked-agreement"]["action"] == "hold" and "after round 40" in actions["Locked-agreement"]["why"]
    assert actions["Locked-series"]["action"] == "decline"
    assert actions["Open-series"]["command"] == "backing series withdraw Open-series 4"
    assert actions["Settled-agreement"]["action"] == "claim"


@pytest.mark.parametrize("policy", ["hold", "time:10", "threshold:0.02"])
def test_backtest_changes_positions_only_at_rolls(policy):
    h = synthetic.one_factor_history(3, 120, sd=0.02, seed=3)
    inputs = make_inputs(h, lockup_rounds=12)
    inputs.candidates[1] = replace(inputs.candidates[1], terms=synthetic.terms(lockup_rounds=20))
    weights = np.array([0.3, 0.3, 0.3])
    b = rebalance.backtest(inputs, weights, 3000.0, rebalance.parse_policy(policy))
    lockups = {c.id: c.terms.lockup_rounds for c in inputs.candidates}
    assert len(b.value) == 121 and b.value[0] == 3000.0
    for a in b.actions[3:]:  # after the three opening deposits
        assert a["round"] % lockups[a["candidate"]] == 0, a
    if policy == "hold":
        assert all(a["action"] != "deposit more" for a in b.actions[3:])
    assert np.isfinite(b.value).all() and (b.value > 0).all()


def test_bad_policy_is_refused_in_plain_words():
    with pytest.raises(PortfolioError, match="time:K"):
        rebalance.parse_policy("sometimes")


# ---------------------------------------------------------------------------------------------- stress


def test_a_falling_payout_factor_shrinks_gains_and_usd_follows_the_given_price():
    h = synthetic.one_factor_history(2, 150, mean=0.004, sd=0.01, seed=8)
    inputs = make_inputs(h, burn_share=0.0)
    units = np.array([5, 5])
    rows = stress.run(
        inputs, units, stress.default_scenarios(decay=0.1), paths=2000, price=10.0, price_given=np.full(13, 10.0) * 2
    )
    base, decayed = rows[0], rows[1]
    assert decayed["mean_nmr"] < base["mean_nmr"]
    assert base["capital_nmr"] == 1000.0
    # a flat given path: USD = (capital + profit) * 20 / 20 * 10 - capital * 10
    assert base["mean_usd"] == pytest.approx(base["mean_nmr"] * 10.0)


# ---------------------------------------------------------------------------------------------- bad input


def test_unknown_agreement_is_refused():
    h = synthetic.one_factor_history(2, 50)
    inputs = make_inputs(h, holdings=[Holding("nope", 1)])
    with pytest.raises(PortfolioError, match="'nope' is not one of the candidates"):
        inputs.validate()


def test_empty_history_is_refused(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("# nothing yet\nround,model,return\n")
    with pytest.raises(PortfolioError, match="has no rounds"):
        load_history_csv(path)


def test_a_model_without_history_is_refused():
    h = synthetic.one_factor_history(1, 50)
    inputs = make_inputs(h)
    inputs.candidates.append(Candidate("a-new", "new", synthetic.terms()))
    with pytest.raises(PortfolioError, match="model 'new' has no score history"):
        inputs.validate()


def test_budget_below_one_unit_is_refused():
    o = outcomes_from(np.random.default_rng(0).normal(1, 3, (500, 2)), ["x", "y"])
    with pytest.raises(PortfolioError, match=r"budget \(99 NMR\) is below one unit"):
        frontier.frontier(problem(o, budget=99))


def test_infeasible_constraints_are_refused():
    o = outcomes_from(np.random.default_rng(0).normal(1, 3, (500, 2)), ["x", "y"])
    rule = risk.Rule(limit=0.001)
    with pytest.raises(PortfolioError, match="current holdings already break the rule: model x"):
        frontier.frontier(problem(o, budget=1000, held=[40, 0], rule=rule))
    with pytest.raises(PortfolioError, match="no allocation satisfies the constraints.*below --min-return"):
        frontier.frontier(problem(o, budget=1000), min_return=10_000)


def test_the_command_refuses_bad_input_with_exit_2(tmp_path, capsys):
    from backing.cli import main

    hist = tmp_path / "h.csv"
    hist.write_text("round,model,return\n1,alpha,0.01\n2,alpha,-0.01\n")
    holdings = tmp_path / "held.csv"
    holdings.write_text("candidate,units\nghost,2\n")
    cands = tmp_path / "c.yaml"
    cands.write_text(
        "candidates:\n  - {id: a1, model: alpha, terms: %s}\n"
        % (__import__("pathlib").Path(__file__).parents[2] / "examples" / "terms.yaml")
    )
    code = main(["portfolio", "check", "--candidates", str(cands), "--history", str(hist), "--holdings", str(holdings)])
    assert code == 2
    assert "'ghost' is not one of the candidates (a1)" in capsys.readouterr().err
    code = main(["portfolio", "frontier", "--candidates", str(cands), "--history", str(hist), "--budget", "5"])
    assert code == 2
    assert "below one unit" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- numerapi


def test_numerai_history_through_numerapi_gives_the_oracles_round_returns(monkeypatch):
    from decimal import Decimal

    from numerapi import base_api

    from backing.model.agreement import round_return
    from backing.portfolio import numerai
    from oracle.testing.fake_numerai import FakeNumerai, running

    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)  # restored afterwards
    fake = FakeNumerai()
    alpha, beta = "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11", "3b6e9a07-1c44-4f0e-8d2a-5e9b7c3f1a20"
    fake.add_model(alpha, "alpha")
    fake.add_model(beta, "beta")
    for n in range(1000, 1004):
        fake.add_round(n, 1_700_000_000 + 86400 * (n - 1000), resolved=True, payout_factor="0.5")
        fake.set_scores(alpha, n, {"CORR20": Decimal("0.01") * (n - 1000), "MMC": Decimal("-0.002")})
        if n != 1002:  # beta missed round 1002
            fake.set_scores(beta, n, {"CORR20": Decimal("0.02"), "MMC": Decimal("0.001")})
    with running(fake) as (_, url):
        history = numerai.read_history(numerai.parse_models([f"a={alpha}", f"b={beta}"]), url)
    assert history.models == ["a", "b"] and list(history.rounds) == [1000, 1001, 1002, 1003]
    expected = round_return([3 * 10**16, -2 * 10**15], [ONE // 2, 2 * ONE], ONE // 2, 5 * ONE // 100)
    assert history.returns[3, 0] == expected
    assert history.returns[2, 1] == 0  # a missed round returns nothing, as the oracle posts it
    merged = numerai.merged(synthetic.history_from({"c": [0.01, 0.02]}, first_round=1002), history)
    assert merged.models == ["c", "a", "b"] and merged.present[:, 0].tolist() == [False, False, True, True]
    with pytest.raises(PortfolioError, match="NAME=MODEL_UUID"):
        numerai.parse_models(["alpha=not-a-uuid"])


def test_the_report_names_a_breach_and_plans_the_cut(tmp_path, capsys):
    from pathlib import Path

    from backing.cli import main

    examples = Path(__file__).parents[2] / "examples" / "portfolio"
    held = tmp_path / "held.csv"
    held.write_text("candidate,units\nbravo-12,20\nalpha-12,2\n")
    args = [
        "portfolio",
        "report",
        "--candidates",
        str(examples / "candidates.yaml"),
        "--history",
        str(examples / "history.csv"),
        "--holdings",
        str(held),
        "--budget",
        "100",
        "--paths",
        "1000",
        "--risk-limit",
        "0.01",
        "--policy",
        "hold",
        "--json",
        "-",
    ]
    assert main(args) == 0
    data = __import__("json").loads(capsys.readouterr().out)
    assert "current holdings already break the rule: model bravo" in data["frontier"]["error"]
    assert data["check"]["breaches"][0].startswith("model bravo:")
    cut = [a for a in data["plan"] if a["candidate"] == "bravo-12"][0]
    assert cut["action"] == "withdraw" and cut["target"] == 20 - cut["units"] and cut["units"] > 0


def test_the_mixed_integer_cvar_frontier_matches_a_brute_force_search():
    h = synthetic.one_factor_history(3, 150, rho=0.2, sd=0.02, seed=4)
    inputs = make_inputs(h, budget=700, max_units=4)
    o = simulate(inputs, paths=600, seed=4)
    p = frontier.Problem(
        o, np.zeros(3, int), np.full(3, 4), 700.0, risk.Rule(limit=0.05), method="cvar", cvar_paths=600, integer="milp"
    )
    f = frontier.frontier(p, points=6)
    brute = [
        (p.risk(np.array(x)), p.mean(np.array(x)))
        for x in itertools.product(range(5), repeat=3)
        if p.feasible(np.array(x))
    ]
    assert f.points[-1]["mean"] == pytest.approx(max(m for _, m in brute), abs=1e-9)
    for d in f.points:
        r = p.risk(d["units"])
        for br, bm in brute:
            assert not (br < r - 1e-7 and bm > d["mean"] + 1e-7)
    with pytest.raises(PortfolioError, match="add --method cvar"):
        frontier.frontier(replace(p, method="variance"))

"""Scenario files with series features (high_water_mark, clawback, rollover): parsing and plain-words refusals.
Python only: no chain (the chain tests are in tests/chain/test_simulate.py)."""

import copy
from pathlib import Path

import pytest

from backing.simulate import ScenarioError, load_scenario, load_scenario_file

ROOT = Path(__file__).resolve().parents[2]

TERMS = {
    "unit_size": 100,
    "min_units": 1,
    "max_units": 20,
    "profit_share": 0.5,
    "burn_share": 0.5,
    "reserve_ratio": 0.5,
    "upfront_fee": 0,
    "lockup_rounds": 1,
}
ROUND = {"scores": {"CORR20": 0.02}, "multipliers": {"CORR20": 1}, "clip": 0.05}


def scenario(*plans):
    return {"agreements": [copy.deepcopy(p) for p in plans], "rounds": [ROUND] * len(plans)}


FIRST = {
    "terms": {**TERMS, "clawback": {"share": 0.25, "agreements": 2}, "high_water_mark": True},
    "deposits": [{"backer": "alice", "units": 1}, {"backer": "bob", "units": 3}],
}
SECOND = {"terms": dict(TERMS), "rollover": ["alice"], "deposits": [], "repayment": 12}


def test_series_fields_parsed():
    s = load_scenario(scenario(FIRST, SECOND))
    assert s.series
    first, second = s.agreements
    assert first.clawback == (2500, 2) and first.high_water_mark is True and first.rollover == ()
    assert "clawback" not in first.terms and "high_water_mark" not in first.terms  # terms stay single-agreement
    assert second.rollover == ("alice",) and second.deposits == () and second.clawback == (0, 0)
    assert second.repayment == 12 * 10**18
    assert s.backers == ["alice", "bob"]


@pytest.mark.parametrize("feature", [{"high_water_mark": True}, {"clawback": {"share": "50%", "agreements": 1}}])
def test_any_series_feature_makes_a_series(feature):
    plan = {"terms": {**TERMS, **feature}, "deposits": [{"backer": "alice", "units": 1}]}
    assert load_scenario(scenario(plan)).series


def test_without_series_features_the_path_is_unchanged():
    plan = {"terms": dict(TERMS), "deposits": [{"backer": "alice", "units": 1}]}
    assert not load_scenario(scenario(plan)).series
    # high_water_mark: false alone is what a single agreement does (no mark): not a series
    plan["terms"]["high_water_mark"] = False
    assert not load_scenario(scenario(plan)).series


def test_example_scenario_reads():
    s = load_scenario_file(ROOT / "examples" / "scenarios" / "series-rollover.yaml")
    assert s.series and len(s.agreements) == 3
    assert [p.rollover for p in s.agreements] == [(), ("alice", "bob"), ("bob",)]
    assert s.agreements[2].deposits == (("carol", 5),)


def with_(plan, **changes):
    plan = copy.deepcopy(plan)
    for key, value in changes.items():
        if key == "terms":
            plan["terms"].update(value)
        else:
            plan[key] = value
    return plan


@pytest.mark.parametrize(
    "plans,message",
    [
        ((with_(FIRST, rollover=["alice"]),), r"agreements\[0\]\.rollover: the first agreement has no previous"),
        ((FIRST, with_(SECOND, rollover=["carol"])), r"carol has no claim in agreements\[0\] to roll"),
        ((FIRST, with_(SECOND, rollover=["alice", "alice"])), "names a backer twice"),
        ((FIRST, with_(SECOND, rollover="alice")), r"must be a list of backers' names"),
        ((FIRST, with_(SECOND, rollover=[])), r"agreements\[1\]\.deposits must be a list"),
        ((with_(FIRST, terms={"high_water_mark": False}),), "high_water_mark: false is not available"),
        ((FIRST, with_(SECOND, terms={"high_water_mark": False})), r"agreements\[1\]\.terms\.high_water_mark"),
        ((with_(FIRST, terms={"high_water_mark": "yes"}),), "is not true or false"),
        ((with_(FIRST, terms={"clawback": {"share": 0.5}}),), "needs both share"),
        ((with_(FIRST, terms={"clawback": {"share": 0.5, "agreements": 5}}),), "whole number from 1 to 4"),
        ((with_(FIRST, terms={"clawback": {"share": 0, "agreements": 1}}),), "more than 0 and at most 1"),
        ((with_(FIRST, terms={"clawback": {"share": 1.5, "agreements": 1}}),), "more than 0 and at most 1"),
        ((with_(FIRST, terms={"clawback": {"share": 0.5, "agreements": 1, "x": 1}}),), "unknown key 'x'"),
        ((with_(FIRST, terms={"clawback": 0.5}),), "must be a mapping"),
    ],
)
def test_series_refusals(plans, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(scenario(*plans))


# ---------------------------------------------------------------------------------------------- --oracle-service


def test_oracle_service_refuses_score_names_numerai_cannot_tell_apart(tmp_path, capsys):
    """Numerai's API shape carries every round field (scores, multipliers, payout factor, clip) except score names
    differing only in case (the oracle service matches them case-insensitively): refused before any chain."""
    import json

    from backing.cli import main
    from backing.simulate import oracle_service_problem, run_file

    plain = scenario({"terms": dict(TERMS), "deposits": [{"backer": "alice", "units": 1}]})
    assert oracle_service_problem(load_scenario(plain)) is None
    clash = copy.deepcopy(plain)
    clash["rounds"] = [
        {
            "scores": {"CORR20": 0.02, "corr20": 0.01},
            "multipliers": {"CORR20": 1, "corr20": 1},
            "payout_factor": 0.5,
            "clip": 0.05,
        }
    ]
    problem = oracle_service_problem(load_scenario(clash))
    assert "round 1" in problem and "'CORR20' and 'corr20'" in problem and "differ only in case" in problem
    path = tmp_path / "clash.json"
    path.write_text(json.dumps(clash))
    with pytest.raises(ScenarioError, match="--oracle-service: round 1"):
        run_file(path, oracle_service=True, network_name="no-such-network")
    assert main(["simulate", str(path), "--oracle-service", "--network", "no-such-network"]) == 2
    assert "differ only in case" in capsys.readouterr().err

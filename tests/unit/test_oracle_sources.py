"""oracle.sources, oracle.validate, oracle.attest and oracle.testing.fake_numerai: what the oracle reads before it
signs.

The Numerai tests run numerapi 3.1.1 against the fake GraphQL server on loopback (no network, no chain)."""

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import numerapi
import pytest
import requests
from eth_account import Account
from eth_utils import keccak
from numerapi import base_api

from oracle.attest import evidence_hash, find_attestation, statement, statement_message
from oracle.model import RoundInfo, RoundResult, SourceError
from oracle.sources import FileSource, NumeraiSource, SyntheticSource
from oracle.testing.fake_numerai import FakeNumerai, dumps, running
from oracle.typed_data import model_id_from_uuid, to_bytes32
from oracle.validate import Limits, ResolutionMemory, check_result, check_schedule, to_decimal

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "numerai" / "classic.json"
EXAMPLE_CSV = ROOT / "examples" / "oracle" / "rounds.csv"
ALPHA = "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11"
BETA = "3b6e9a07-1c44-4f0e-8d2a-5e9b7c3f1a20"
ALPHA_ADDRESS = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
NOW = 1770000000  # 2026-02-02: rounds 1000-1005 have opened, 1000-1003 are resolved
CLASSIC = 8
E18 = 10**18
NAMES = (to_bytes32("CORR20"), to_bytes32("MMC"))
MULTIPLIERS = (E18 // 2, 2 * E18)
CLIP = 5 * E18 // 100


def reported(result: RoundResult):
    """The signed report's fields and the contract's round return, to the wei."""
    report = result.to_report(CLASSIC)
    return (
        report.round,
        report.missed,
        report.score_names,
        report.scores,
        report.multipliers,
        report.payout_factor,
        report.clip,
        report.round_return(),
    )


# alpha in the fixture: round 1001 without a submission (missed), 1004 not resolved yet
ALPHA_REPORTS = [
    # CORR20 has 18 significant digits: a float would be 123456789012345680
    (
        1000,
        False,
        NAMES,
        (123456789012345678, -4500000000000000),
        MULTIPLIERS,
        731 * E18 // 1000,
        CLIP,
        38544456384012345,
    ),
    (1001, True, (), (), (), 0, 0, 0),
    (1002, False, NAMES, (20700000000000000, 5500000000000000), MULTIPLIERS, 7 * E18 // 10, CLIP, 14945000000000000),
    (
        1003,
        False,
        NAMES,
        (-29800000000000000, -8900000000000000),
        MULTIPLIERS,
        69 * E18 // 100,
        CLIP,
        -22563000000000000,
    ),
]


def load_fixture() -> dict:
    return json.loads(FIXTURE.read_text(), parse_float=Decimal)


@pytest.fixture
def fake():
    return FakeNumerai(now=lambda: NOW).load(load_fixture())


@pytest.fixture
def url(fake, monkeypatch):
    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)  # restored afterwards
    with running(fake) as (_, address):
        yield address


@pytest.fixture
def source(url):
    return NumeraiSource(url, now=lambda: NOW, timeout=2, retry_delay=0, model_names={ALPHA: "alpha", BETA: "beta"})


# --- NumeraiSource: happy paths -------------------------------------------------------------------------------


def test_numerai_results_are_exact_to_the_wei(source, url):
    results = source.resolved_results(ALPHA, 999)
    assert [reported(r) for r in results] == ALPHA_REPORTS
    assert results[0].scores == {"CORR20": Decimal("0.123456789012345678"), "MMC": Decimal("-0.0045")}
    assert results[0].to_report(CLASSIC).model_id == model_id_from_uuid(ALPHA)
    assert source.last_score_source == {ALPHA: "submission_scores"}
    assert base_api.API_TOURNAMENT_URL == url  # numerapi's own calls go to the same server


def test_numerai_results_after_a_round_and_when_nothing_is_new(source):
    assert [r.round for r in source.resolved_results(ALPHA, 1001)] == [1002, 1003]
    assert source.resolved_results(ALPHA, 1003) == []
    assert source.resolved_results(ALPHA, 1005) == []


def test_numerai_round_resolving_later_is_picked_up(source, fake):
    assert [r.round for r in source.resolved_results(ALPHA, 999)] == [1000, 1001, 1002, 1003]
    fake.set_resolved(1004, True)
    fake.rounds[1004]["payoutFactor"] = Decimal("0.5")
    assert [reported(r) for r in source.resolved_results(ALPHA, 1003)] == [
        (1004, False, NAMES, (11000000000000000, 2000000000000000), MULTIPLIERS, E18 // 2, CLIP, 4750000000000000)
    ]


def test_numerai_resolution_by_the_fake_clock(url):
    clock = [NOW]
    fake_data = load_fixture()
    for entry in fake_data["rounds"]:
        del entry["resolved"]  # resolved once resolveTime has passed
    with running(FakeNumerai(now=lambda: clock[0]).load(fake_data)) as (_, address):
        source = NumeraiSource(address, now=lambda: clock[0], retry_delay=0)
        assert [r.round for r in source.resolved_results(BETA, 999)] == [1000]
        clock[0] = 1770206400
        assert [r.round for r in source.resolved_results(BETA, 1000)] == [1001, 1002, 1003]


def test_numerai_schedule(source, fake):
    assert source.schedule(999) == [
        RoundInfo(1000, 1767272400, True),
        RoundInfo(1001, 1767358800, True),
        RoundInfo(1002, 1767445200, True),
        RoundInfo(1003, 1767538800, True),
        RoundInfo(1004, 1767704400, False),
        RoundInfo(1005, 1767790800, False),
    ]
    fake.add_round(1006, NOW + 3600)  # not open yet
    assert source.schedule(1003) == [RoundInfo(1004, 1767704400, False), RoundInfo(1005, 1767790800, False)]
    assert source.schedule(0)[0] == RoundInfo(1000, 1767272400, True)  # a fresh oracle gets the whole history
    assert source.schedule(1005) == []


def test_numerai_model_whose_scores_are_not_final_yet_stops_there(source, fake):
    fake.set_model_unresolved(ALPHA, 1002)
    assert [r.round for r in source.resolved_results(ALPHA, 999)] == [1000, 1001]


def test_numerai_only_payout_scores_are_reported_and_the_latest_day_counts(source, fake):
    # the fake serves each score twice: day 10 at half the value, then day 20; FNC has no payout config
    rows = numerapi.NumerAPI().submission_scores(ALPHA)
    assert {(r["roundNumber"], r["displayName"], r["day"]) for r in rows} >= {(1000, "FNC", 10), (1000, "CORR20", 20)}
    assert source.resolved_results(ALPHA, 999)[0].scores["MMC"] == Decimal("-0.0045")


def test_numerai_payout_factor_from_the_payout_configs(source, fake):
    for config in fake.rounds[1002]["scoreConfigs"]:
        config["payoutFactor"] = Decimal("0.7")  # agrees with the round's
    fake.rounds[1003]["payoutFactor"] = None
    for config in fake.rounds[1003]["scoreConfigs"]:
        config["payoutFactor"] = Decimal("0.69")
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS


def test_numerai_other_models_are_unaffected_by_one_models_bad_data(source, fake):
    fake.set_scores(ALPHA, 1002, {"CORR20": "NaN", "MMC": "0.0055"})
    with pytest.raises(SourceError):
        source.resolved_results(ALPHA, 999)
    assert [r.round for r in source.resolved_results(BETA, 999)] == [1000, 1001, 1002, 1003]


# --- NumeraiSource: fallback to round_model_performances_v2 ---------------------------------------------------


@pytest.mark.parametrize("kind", ["graphql", "no_rows", "null", "http", "garbage"])
def test_numerai_falls_back_to_v2_round_model_performances(source, fake, kind):
    fake.fail(kind, on="submissionScores")
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS
    assert source.last_score_source == {ALPHA: "round_model_performances_v2"}
    assert [root for root, _ in fake.requests][-2:] == ["submissionScores", "v2RoundModelPerformances"]


def test_numerai_fallback_failing_too_is_an_error(source, fake, url):
    fake.fail("graphql", on="submissionScores", message="submissionScores is down")
    fake.fail("http", on="v2RoundModelPerformances", status=404)
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 999)
    assert str(error.value) == (
        f"model {ALPHA}: submission_scores: Numerai API error: submissionScores is down; "
        f"fallback round_model_performances_v2: HTTP 404 from {url}"
    )


def test_numerai_no_scores_anywhere_and_no_fallback_is_an_error_not_missed_rounds(source, fake, url):
    fake.fail("no_rows", on="submissionScores")
    fake.fail("graphql", on="v2RoundModelPerformances", message="Cannot query field v2RoundModelPerformances")
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 999)
    assert str(error.value) == (
        f"model {ALPHA}: submission_scores: returned no scores; fallback "
        f"round_model_performances_v2: Numerai API error: Cannot query field "
        f"v2RoundModelPerformances"
    )


def test_numerai_model_without_any_submission_misses_every_resolved_round(source, fake):
    gamma = "0a1b2c3d-0000-4000-8000-000000000001"
    fake.add_model(gamma, "gamma")
    assert [reported(r)[:2] for r in source.resolved_results(gamma, 999)] == [
        (1000, True),
        (1001, True),
        (1002, True),
        (1003, True),
    ]
    assert source.last_score_source[gamma] == "round_model_performances_v2"


# --- NumeraiSource: transport failures ------------------------------------------------------------------------


def test_numerai_http_500_is_retried_then_reported(source, fake, url):
    fake.fail("http", status=500)
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 999)
    assert str(error.value) == f"model {ALPHA}: list_rounds: HTTP 500 from {url}"
    assert [root for root, _ in fake.requests] == ["rounds"] * 3  # `attempts`, then give up


def test_numerai_http_500_once_is_survived(source, fake):
    fake.fail("http", status=502, times=2)
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS


@pytest.mark.parametrize(
    "kind, problem",
    [
        ("garbage", "answer from {url} is not JSON"),
        ("graphql", "Numerai API error: Internal server error"),
        ("empty", "malformed answer (no 'data')"),  # what numerapi's own transport turns HTTP errors into
        ("null", "malformed answer (TypeError: 'NoneType' object is not iterable)"),
    ],
)
def test_numerai_bad_answers_are_errors(source, fake, url, kind, problem):
    fake.fail(kind, on="rounds")
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 999)
    assert str(error.value) == f"model {ALPHA}: list_rounds: " + problem.format(url=url)
    with pytest.raises(SourceError) as error:
        source.schedule(999)
    assert str(error.value) == "list_rounds: " + problem.format(url=url)


def test_numerai_slow_answer_times_out(fake, url):
    source = NumeraiSource(url, now=lambda: NOW, timeout=0.2, retry_delay=0)
    fake.fail("slow", delay=5)
    started = time.monotonic()
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 999)
    assert str(error.value) == f"model {ALPHA}: list_rounds: no answer from {url} within 0.2 s"
    assert time.monotonic() - started < 2


def test_numerai_unreachable_server(monkeypatch):
    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)
    with running(FakeNumerai()) as (server, address):
        pass  # stopped: nothing listens on that port any more
    source = NumeraiSource(address, timeout=1, attempts=2, retry_delay=0)
    with pytest.raises(SourceError) as error:
        source.schedule(999)
    assert str(error.value) == f"list_rounds: cannot reach {address} (ConnectionError)"


# --- NumeraiSource: bad values --------------------------------------------------------------------------------


def raises(source, model_id=ALPHA, after_round=999) -> str:
    with pytest.raises(SourceError) as error:
        source.resolved_results(model_id, after_round)
    return str(error.value)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("NaN", "CORR20 score is NaN"),
        ("Infinity", "CORR20 score is infinite"),
        ("-Infinity", "CORR20 score is infinite"),
        ("abc", "CORR20 score is not a number ('abc')"),
        ("1.5", "CORR20 score 1.5 is outside [-1, 1]"),
        ("-1.0000001", "CORR20 score -1.0000001 is outside [-1, 1]"),
    ],
)
def test_numerai_bad_scores(source, fake, value, problem):
    fake.set_scores(ALPHA, 1002, {"CORR20": value, "MMC": "0.0055"})
    assert raises(source) == f"model {ALPHA} round 1002: {problem}"


def test_numerai_nan_everywhere(source, fake):
    fake.fail("nan", field="value", on="submissionScores")
    assert raises(source) == f"model {ALPHA} round 1000: CORR20 score is NaN"


@pytest.mark.parametrize(
    "field, on, problem",
    [
        ("value", "submissionScores", "round 1004: CORR20 score is missing"),  # rows come newest first
        ("day", "submissionScores", "round 1004: CORR20 score day is missing"),
        ("resolved", "submissionScores", "round 1004: CORR20 resolved is missing"),
        ("roundNumber", "submissionScores", ": roundNumber is missing"),
        ("defaultMultiplier", "rounds", "round 1000: CORR20 multiplier is missing"),
        ("clipThreshold", "rounds", "round 1000: CORR20 clipThreshold is missing"),
        ("resolvedStaking", "rounds", "round 1005: resolvedStaking is missing"),
        ("closeStakingTime", "rounds", "round 1005: closeStakingTime is missing"),
        ("roundScoreConfigs", "rounds", ": list_rounds: malformed answer (no 'roundScoreConfigs')"),
    ],
)
def test_numerai_missing_fields(source, fake, field, on, problem):
    fake.fail("drop", field=field, on=on)
    assert raises(source) == f"model {ALPHA}{' ' if problem[0] != ':' else ''}{problem}"


def test_numerai_missing_payout_factor(source, fake):
    fake.rounds[1002]["payoutFactor"] = None
    assert raises(source) == f"model {ALPHA} round 1002: payout factor is missing"


def test_numerai_one_payout_score_missing(source, fake):
    fake.set_scores(ALPHA, 1002, {"CORR20": "0.0207"})
    assert raises(source) == f"model {ALPHA} round 1002: MMC score is missing"


def test_numerai_scores_without_a_payout_config(source, fake):
    fake.rounds[1002]["scoreConfigs"] = []
    assert (
        raises(source) == f"model {ALPHA} round 1002: scores (CORR20, MMC) but no payout score config (isPayout) "
        f"for the round"
    )
    fake.rounds[1002]["scoreConfigs"] = [
        {"displayName": "CORR20", "defaultMultiplier": 1, "clipThreshold": 0.05, "isPayout": False}
    ]
    assert raises(source).startswith(f"model {ALPHA} round 1002: scores (CORR20, MMC) but no payout score config")


@pytest.mark.parametrize(
    "config, problem",
    [
        ({"defaultMultiplier": Decimal("-0.5")}, "CORR20 multiplier -0.5 is negative"),
        ({"defaultMultiplier": Decimal(11)}, "CORR20 multiplier 11 is above the maximum 10"),
        ({"defaultMultiplier": "x"}, "CORR20 multiplier is not a number ('x')"),
        ({"clipThreshold": Decimal(0)}, "clip 0 is not positive"),
        ({"clipThreshold": Decimal("-0.05")}, "clip -0.05 is not positive"),
    ],
)
def test_numerai_bad_payout_configs(source, fake, config, problem):
    for score_config in fake.rounds[1002]["scoreConfigs"]:
        score_config.update(config)
    assert raises(source) == f"model {ALPHA} round 1002: {problem}"


def test_numerai_clip_above_the_configured_maximum(url, fake):
    for score_config in fake.rounds[1002]["scoreConfigs"]:
        score_config["clipThreshold"] = Decimal("0.06")
    assert (
        raises(NumeraiSource(url, now=lambda: NOW)) == f"model {ALPHA} round 1002: clip 0.06 is above the maximum 0.05"
    )
    limits = Limits.from_oracle(max_clip_wei=E18, max_multiplier_wei=1000 * E18)
    assert NumeraiSource(url, now=lambda: NOW, limits=limits).resolved_results(ALPHA, 999)[2].clip == Decimal("0.06")


@pytest.mark.parametrize(
    "payout_factor, problem",
    [
        ("1.2", "payout factor 1.2 is outside [0, 1]"),
        ("-0.1", "payout factor -0.1 is outside [0, 1]"),
        ("NaN", "payout factor is NaN"),
    ],
)
def test_numerai_bad_payout_factor(source, fake, payout_factor, problem):
    fake.rounds[1002]["payoutFactor"] = payout_factor
    assert raises(source) == f"model {ALPHA} round 1002: {problem}"


def test_numerai_ambiguous_terms_are_refused(source, fake):
    fake.rounds[1002]["scoreConfigs"][0]["payoutFactor"] = Decimal("0.5")
    assert raises(source) == (
        f"model {ALPHA} round 1002: payout factor of the round (0.7) differs from its payout " f"configs' (0.5)"
    )
    fake.rounds[1002]["scoreConfigs"][1]["payoutFactor"] = Decimal("0.6")
    assert raises(source) == f"model {ALPHA} round 1002: payout configs disagree on the payout factor (0.5, 0.6)"
    fake.rounds[1003]["scoreConfigs"][1]["clipThreshold"] = Decimal("0.04")
    assert (
        raises(source, after_round=1002) == f"model {ALPHA} round 1003: payout configs disagree on the clip "
        f"(0.04, 0.05)"
    )


def test_numerai_duplicate_rounds(source, fake):
    fake.fail("duplicate", on="rounds", times=1)
    assert raises(source) == f"model {ALPHA}: list_rounds: round 1005 listed twice"
    fake.fail("graphql", on="submissionScores")
    fake.fail("duplicate", on="v2RoundModelPerformances")
    assert raises(source) == f"model {ALPHA} round 1004: round listed twice by round_model_performances_v2"


def test_numerai_identical_duplicate_score_rows_are_harmless(source, fake):
    fake.fail("duplicate", on="submissionScores", times=1)
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS


def test_numerai_gap_in_the_rounds(source, fake):
    del fake.rounds[1001]
    assert raises(source) == f"model {ALPHA} round 1001: missing from list_rounds (gap before round 1002)"
    with pytest.raises(SourceError) as error:
        source.schedule(999)
    assert str(error.value) == "round 1001: missing from the schedule (gap before round 1002)"
    assert [r.round for r in source.resolved_results(ALPHA, 1001)] == [1002, 1003]


def test_numerai_asking_before_the_listed_history_is_a_gap(source):
    assert (
        raises(source, after_round=900) == f"model {ALPHA} round 901: missing from list_rounds (gap before round "
        f"1000)"
    )


def test_numerai_rejects_a_model_id_that_is_not_a_uuid(source):
    assert raises(source, model_id="alpha") == "model alpha: not a Numerai model id (a UUID)"


# --- un-resolving and rewritten history -----------------------------------------------------------------------


def test_numerai_round_flipping_back_to_unresolved(source, fake):
    assert len(source.resolved_results(ALPHA, 999)) == 4
    fake.set_resolved(1002, False)
    assert raises(source, after_round=1003) == f"model {ALPHA} round 1002: was resolved, now reported unresolved"
    assert raises(source, after_round=999) == f"model {ALPHA} round 1002: was resolved, now reported unresolved"
    assert [r.round for r in source.resolved_results(BETA, 999)] == [1000, 1001]  # beta never saw 1002 resolved


def test_numerai_model_rows_flipping_back_to_unresolved(source, fake):
    source.resolved_results(ALPHA, 999)
    fake.set_model_unresolved(ALPHA, 1003)
    assert raises(source, after_round=1003) == f"model {ALPHA} round 1003: was resolved, now reported unresolved"


def test_numerai_resolved_values_changing(source, fake):
    source.resolved_results(ALPHA, 999)
    fake.set_scores(ALPHA, 1002, {"CORR20": "0.03", "MMC": "0.0055"})
    assert (
        raises(source, after_round=1003) == f"model {ALPHA} round 1002: CORR20 score changed after resolution "
        f"(0.0207 -> 0.03)"
    )
    fake.set_scores(ALPHA, 1002, {"CORR20": "0.0207", "MMC": "0.0055"})
    fake.set_scores(ALPHA, 1001, {"CORR20": "0.01", "MMC": "0.0055"})
    assert raises(source, after_round=1003) == f"model {ALPHA} round 1001: was resolved as missed, now scored"


# --- NumeraiSource: profiles ----------------------------------------------------------------------------------


def test_numerai_profile_text(source, fake):
    assert source.profile_text(ALPHA) == ("alpha", "Quant in Lisbon. Backing Vaults address: " + ALPHA_ADDRESS)
    assert source.profile_text(BETA) == ("beta", "")  # the API gives null for an empty bio


def test_numerai_profile_errors(source, fake, url):
    gamma = "0a1b2c3d-0000-4000-8000-000000000001"
    with pytest.raises(SourceError) as error:
        source.profile_text(gamma)
    assert str(error.value) == (
        f"model {gamma}: model name unknown (Numerai profiles are looked up by name; give "
        f"NumeraiSource model_names)"
    )
    source.model_names[gamma] = "beta"  # a name that belongs to another model
    with pytest.raises(SourceError) as error:
        source.profile_text(gamma)
    assert str(error.value) == f"model {gamma}: profile beta belongs to model {BETA}"
    source.model_names[gamma] = "gamma"
    with pytest.raises(SourceError) as error:
        source.profile_text(gamma)
    assert str(error.value) == f"model {gamma}: public_user_profile: Numerai API error: Model gamma not found"


# --- the fake server itself -----------------------------------------------------------------------------------


def test_fake_answers_stock_numerapi(url, fake):
    base_api.API_TOURNAMENT_URL = url  # the fixture restores it
    api = numerapi.NumerAPI(public_id="id", secret_key="key")
    rounds = api.list_rounds()
    assert [r["number"] for r in rounds] == [1005, 1004, 1003, 1002, 1001, 1000]
    assert rounds[3]["payoutFactor"] == Decimal("0.7") and rounds[0]["payoutFactor"] is None
    assert rounds[3]["closeStakingTime"].timestamp() == 1767445200
    assert [
        (c["displayName"], c["isPayout"], c["defaultMultiplier"], c["clipThreshold"])
        for c in rounds[3]["roundScoreConfigs"]
    ] == [("CORR20", True, 0.5, 0.05), ("MMC", True, 2, 0.05)]
    assert [r["number"] for r in api.list_rounds(status="resolved", limit=2)] == [1003, 1002]
    assert api.get_current_round() == 1005
    final = api.submission_scores(BETA, display_name="MMC", day=20, resolved=True)
    assert sorted((r["roundNumber"], r["value"]) for r in final) == [
        (1000, -0.0012),
        (1001, 0.0043),
        (1002, -0.0031),
        (1003, 0.0122),
    ]
    assert len(api.submission_scores(BETA, distinct_on_round=True)) == 8
    with pytest.warns(DeprecationWarning):
        performances = api.round_model_performances_v2(BETA)
    assert [(p["roundNumber"], p["roundResolved"], p["atRisk"]) for p in performances][:2] == [
        (1003, True, Decimal("40")),
        (1002, True, Decimal("40")),
    ]
    assert api.public_user_profile("alpha")["id"] == ALPHA
    assert api.stake_get("beta") == Decimal("40")
    assert api.get_models() == {"alpha": ALPHA, "beta": BETA}
    assert api.models_of_account("someone") == {"alpha": ALPHA, "beta": BETA}


def test_fake_failures_seen_by_stock_numerapi(url, fake):
    base_api.API_TOURNAMENT_URL = url
    api = numerapi.NumerAPI()
    fake.fail("graphql", on="rounds", message="boom", times=1)
    with pytest.raises(ValueError, match="boom"):
        api.list_rounds()
    fake.fail("http", status=404, times=1)
    with pytest.raises(KeyError, match="data"):  # numerapi's {} on HTTP errors
        api.list_rounds()
    assert api.get_current_round() == 1005  # the failures were for one answer each


def test_fake_serialises_decimals_exactly():
    assert (
        dumps({"a": Decimal("0.123456789012345678"), "b": Decimal("NaN"), "c": [Decimal("-1E-7")], "d": "x"})
        == b'{"a": 0.123456789012345678, "b": NaN, "c": [-1E-7], "d": "x"}'
    )


def test_fake_rejects_unknown_failure_modes():
    with pytest.raises(ValueError, match="unknown failure kind 'explode'"):
        FakeNumerai().fail("explode")
    with pytest.raises(ValueError, match="unknown root field 'nope'"):
        FakeNumerai().fail("http", on="nope")


def test_fake_command_line_and_admin_endpoints(tmp_path):
    command = [sys.executable, "-m", "oracle.testing.fake_numerai", "--port", "0", "--data", str(FIXTURE)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("fake Numerai API at http://127.0.0.1:")
        address = line.split(" at ")[1].strip()
        query = {
            "query": "query($tournament: Int!) { rounds(tournament: $tournament number: 0) { number } }",
            "variables": {"tournament": 8},
        }
        assert requests.post(address, json=query, timeout=5).json() == {"data": {"rounds": [{"number": 1005}]}}
        data = requests.get(address + "_admin/data", timeout=5).json()
        assert [m["name"] for m in data["models"]] == ["alpha", "beta"]
        assert requests.post(address + "_admin/fail", json={"kind": "http", "status": 503}, timeout=5).ok
        assert requests.post(address, json=query, timeout=5).status_code == 503
        assert requests.post(address + "_admin/clear", timeout=5).ok
        data["rounds"] = data["rounds"][:2]
        assert requests.post(address + "_admin/data", json=data, timeout=5).ok
        assert requests.post(address, json=query, timeout=5).json() == {"data": {"rounds": [{"number": 1001}]}}
        assert requests.post(address + "_admin/fail", json={"kind": "bogus"}, timeout=5).status_code == 400
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()


# --- FileSource -----------------------------------------------------------------------------------------------

CSV_HEADER = "model_id,round,close_time,missed,CORR20,MMC,mult_CORR20,mult_MMC,payout_factor,clip\n"
CSV_ROWS = [
    f"{ALPHA},1000,1767272400,false,0.123456789012345678,-0.0045,0.5,2,0.731,0.05\n",
    f"{ALPHA},1001,1767358800,true,,,,,,\n",
    f"{ALPHA},1002,1767445200,,0.0207,0.0055,0.5,2,0.7,0.05\n",
    f"{ALPHA},1003,2026-01-04T15:00:00Z,no,-0.0298,-0.0089,0.5,2,0.69,0.05\n",
]


def write_csv(tmp_path, rows=CSV_ROWS, header=CSV_HEADER, name="rounds.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows))
    return path


def file_error(path: Path, model_id=ALPHA, after_round=999) -> str:
    with pytest.raises(SourceError) as error:
        FileSource(path).resolved_results(model_id, after_round)
    return str(error.value)


def test_file_csv_results_are_exact_to_the_wei(tmp_path):
    source = FileSource(write_csv(tmp_path))
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS
    assert [r.round for r in source.resolved_results(ALPHA, 1001)] == [1002, 1003]
    assert source.resolved_results(ALPHA, 1003) == []
    assert source.schedule(1001) == [RoundInfo(1002, 1767445200, True), RoundInfo(1003, 1767538800, True)]


def test_file_json_mirrors_round_results(tmp_path):
    path = tmp_path / "rounds.json"
    path.write_text(
        json.dumps(
            [
                {
                    "model_id": ALPHA,
                    "round": 1000,
                    "close_time": 1767272400,
                    "scores": {"CORR20": "0.123456789012345678", "MMC": -0.0045},
                    "multipliers": {"CORR20": 0.5, "MMC": 2},
                    "payout_factor": 0.731,
                    "clip": 0.05,
                },
                {"model_id": ALPHA, "round": 1001, "close_time": 1767358800, "missed": True},
                {
                    "model_id": ALPHA,
                    "round": 1002,
                    "close_time": 1767445200,
                    "scores": {"CORR20": 0.0207, "MMC": 0.0055},
                    "multipliers": {"CORR20": 0.5, "MMC": 2},
                    "payout_factor": "0.7",
                    "clip": "0.05",
                },
                {
                    "model_id": ALPHA,
                    "round": 1003,
                    "close_time": 1767538800,
                    "scores": {"CORR20": -0.0298, "MMC": -0.0089},
                    "multipliers": {"CORR20": 0.5, "MMC": 2},
                    "payout_factor": 0.69,
                    "clip": 0.05,
                },
                {"model_id": ALPHA, "round": 1004, "close_time": 1767704400, "resolved": False},
            ]
        )
    )
    source = FileSource(path)
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS
    assert source.resolved_results(ALPHA, 999) == FileSource(write_csv(tmp_path)).resolved_results(ALPHA, 999)
    assert source.schedule(1002) == [RoundInfo(1003, 1767538800, True), RoundInfo(1004, 1767704400, False)]


def test_file_example_in_the_repository():
    source = FileSource(EXAMPLE_CSV, profiles={ALPHA: ("alpha", "hi")})
    assert [(i.round, i.resolved) for i in source.schedule(999)] == [
        (1000, True),
        (1001, True),
        (1002, True),
        (1003, True),
        (1004, False),
    ]
    assert [(r.round, r.missed) for r in source.resolved_results(ALPHA, 999)] == [
        (1000, False),
        (1001, False),
        (1002, True),
        (1003, False),
    ]
    assert [reported(r)[-1] for r in source.resolved_results(BETA, 999)] == [
        # 0.72 x (0.5 x 0.0064 + 2 x -0.0012), 0.71 x (0.5 x 0.0207 + 2 x 0.0055), ...
        576000000000000,
        15158500000000000,
        -22890000000000000,
        9198000000000000,
    ]
    assert source.profile_text(ALPHA) == ("alpha", "hi")


def test_file_rows_appended_later_are_seen(tmp_path):
    path = write_csv(tmp_path, CSV_ROWS[:2])
    source = FileSource(path)
    assert [r.round for r in source.resolved_results(ALPHA, 999)] == [1000, 1001]
    path.write_text(CSV_HEADER + "".join(CSV_ROWS))
    assert [r.round for r in source.resolved_results(ALPHA, 1001)] == [1002, 1003]


# (the CSV row after "model_id,", the error; "at" is the row's place in the file, which parse errors name)
@pytest.mark.parametrize(
    "cells, problem",
    [
        ("1002,1767445200,,NaN,0.0055,0.5,2,0.7,0.05", "{at}model {m} round 1002: CORR20 score is NaN"),
        ("1002,1767445200,,inf,0.0055,0.5,2,0.7,0.05", "{at}model {m} round 1002: CORR20 score is infinite"),
        (
            "1002,1767445200,,0.02x,0.0055,0.5,2,0.7,0.05",
            "{at}model {m} round 1002: CORR20 score is not a number ('0.02x')",
        ),
        ("1002,1767445200,,2,0.0055,0.5,2,0.7,0.05", "model {m} round 1002: CORR20 score 2 is outside [-1, 1]"),
        ("1002,1767445200,,0.0207,0.0055,,2,0.7,0.05", "model {m} round 1002: CORR20 score has no multiplier"),
        ("1002,1767445200,,,0.0055,0.5,2,0.7,0.05", "model {m} round 1002: multiplier for CORR20 but no CORR20 score"),
        ("1002,1767445200,,0.0207,0.0055,-1,2,0.7,0.05", "model {m} round 1002: CORR20 multiplier -1 is negative"),
        (
            "1002,1767445200,,0.0207,0.0055,0.5,10.5,0.7,0.05",
            "model {m} round 1002: MMC multiplier 10.5 is above the maximum 10",
        ),
        (
            "1002,1767445200,,0.0207,0.0055,0.5,2,1.01,0.05",
            "model {m} round 1002: payout factor 1.01 is outside [0, 1]",
        ),
        ("1002,1767445200,,0.0207,0.0055,0.5,2,,0.05", "{at}model {m} round 1002: payout factor is missing"),
        ("1002,1767445200,,0.0207,0.0055,0.5,2,0.7,0", "model {m} round 1002: clip 0 is not positive"),
        ("1002,1767445200,,0.0207,0.0055,0.5,2,0.7,0.1", "model {m} round 1002: clip 0.1 is above the maximum 0.05"),
        (
            "1002,1767445200,,,,,,0.7,0.05",
            "model {m} round 1002: no scores (a round without scores must be reported as missed)",
        ),
        ("1002,1767445200,yes,0.0207,,,,,", "{at}model {m} round 1002: a missed round carries scores"),
        ("1002,1767445200,maybe,,,,,,", "{at}model {m} round 1002: missed is not true/false ('maybe')"),
        (
            "1002,yesterday,,0.0207,0.0055,0.5,2,0.7,0.05",
            "{at}model {m} round 1002: close_time is not a time ('yesterday')",
        ),
        ("1002.5,1767445200,,0.0207,0.0055,0.5,2,0.7,0.05", "{at}model {m}: round is not an integer ('1002.5')"),
    ],
)
def test_file_bad_values(tmp_path, cells, problem):
    rows = CSV_ROWS[:2] + [f"{ALPHA},{cells}\n"] + CSV_ROWS[3:]
    assert file_error(write_csv(tmp_path, rows)) == problem.format(m=ALPHA, at="rounds.csv line 4: ")


def test_file_duplicates_gaps_and_missing_columns(tmp_path):
    blank_model = CSV_ROWS[:2] + [",1002,1767445200,,0.0207,0.0055,0.5,2,0.7,0.05\n"]
    assert file_error(write_csv(tmp_path, blank_model)) == "rounds.csv line 4: model_id is missing"
    assert (
        file_error(write_csv(tmp_path, CSV_ROWS + [CSV_ROWS[2]]))
        == f"rounds.csv: model {ALPHA}: round 1002 listed twice"
    )
    assert (
        file_error(write_csv(tmp_path, CSV_ROWS[:1] + CSV_ROWS[2:]))
        == f"model {ALPHA} round 1001: missing from rounds.csv (gap before round 1002)"
    )
    assert (
        file_error(write_csv(tmp_path, CSV_ROWS, header=CSV_HEADER.replace("close_time", "closes")))
        == f"{tmp_path / 'rounds.csv'}: missing column close_time"
    )
    assert file_error(tmp_path / "absent.csv") == f"{tmp_path / 'absent.csv'}: cannot read (No such file or directory)"
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    assert file_error(broken).startswith(f"{broken}: not JSON (")


def test_file_schedule_close_times_must_agree(tmp_path):
    rows = CSV_ROWS + [f"{BETA},1002,1767445201,true,,,,,,\n"]
    with pytest.raises(SourceError) as error:
        FileSource(write_csv(tmp_path, rows)).schedule(999)
    assert str(error.value) == "round 1002: close_time differs between rows (1767445200, 1767445201)"


def test_file_rewritten_history_is_refused(tmp_path):
    path = write_csv(tmp_path)
    source = FileSource(path)
    source.resolved_results(ALPHA, 999)
    path.write_text(CSV_HEADER + "".join(CSV_ROWS[:3]) + CSV_ROWS[3].replace("0.69,0.05", "0.68,0.05"))
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 1003)
    assert str(error.value) == f"model {ALPHA} round 1003: payout factor changed after resolution (0.69 -> 0.68)"
    path.write_text(
        CSV_HEADER.replace("missed,", "missed,resolved,")
        + "".join(
            [
                f"{ALPHA},1000,1767272400,false,true,0.123456789012345678,-0.0045,0.5,2,0.731,0.05\n",
                f"{ALPHA},1001,1767358800,true,true,,,,,,\n",
                f"{ALPHA},1002,1767445200,false,true,0.0207,0.0055,0.5,2,0.7,0.05\n",
                f"{ALPHA},1003,1767538800,,false,,,,,,\n",
            ]
        )
    )
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 1003)
    assert str(error.value) == f"model {ALPHA} round 1003: was resolved, now reported unresolved"


def test_file_profile_missing(tmp_path):
    with pytest.raises(SourceError) as error:
        FileSource(write_csv(tmp_path)).profile_text(ALPHA)
    assert str(error.value) == f"model {ALPHA}: no profile given to the file source"


def test_file_rejects_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match="a replay file is .csv or .json"):
        FileSource(tmp_path / "rounds.txt")


# --- SyntheticSource ------------------------------------------------------------------------------------------

FIRST_OPEN = 1767268800


def test_synthetic_is_deterministic_and_plausible():
    clock = FIRST_OPEN + 2000 * 86400
    one = SyntheticSource([ALPHA, BETA], seed=7, now=lambda: clock)
    results = one.resolved_results(ALPHA, 999)
    assert results == SyntheticSource([BETA, ALPHA], seed=7, now=lambda: clock).resolved_results(ALPHA, 999)
    assert results != SyntheticSource([ALPHA], seed=8, now=lambda: clock).resolved_results(ALPHA, 999)
    assert results[:5] == one.resolved_results(ALPHA, 999)[:5]  # later calls see the same history
    assert results[4] == one.result(ALPHA, 1004)
    assert len(results) == 2000 - 31 + 1
    scored = [r for r in results if not r.missed]
    missed_share = 1 - len(scored) / len(results)
    assert 0.03 < missed_share < 0.07
    for name, (mean, sd) in {"CORR20": (0.01, 0.02), "MMC": (0.002, 0.01)}.items():
        values = [float(r.scores[name]) for r in scored]
        sample_mean = sum(values) / len(values)
        sample_sd = (sum((v - sample_mean) ** 2 for v in values) / len(values)) ** 0.5
        assert abs(sample_mean - mean) < 0.002 and abs(sample_sd - sd) < 0.002
        assert all(v == round(v, 6) for v in values)  # six decimals, like Numerai's displayed scores
    report = scored[0].to_report(CLASSIC)
    assert report.multipliers == MULTIPLIERS and report.payout_factor == E18 and report.clip == CLIP


def test_synthetic_pinned_values():
    # pinned so a change to the generator, which would change every demo and simulation, is deliberate
    source = SyntheticSource([ALPHA], seed=2026, now=lambda: FIRST_OPEN + 40 * 86400)
    assert [(r.round, r.missed, r.scores) for r in source.resolved_results(ALPHA, 999)[:3]] == [
        (1000, False, {"CORR20": Decimal("-0.028253"), "MMC": Decimal("-0.006514")}),
        (1001, False, {"CORR20": Decimal("0.018931"), "MMC": Decimal("-0.010054")}),
        (1002, False, {"CORR20": Decimal("0.059633"), "MMC": Decimal("-0.017707")}),
    ]


def test_synthetic_clock_decides_opened_and_resolved_rounds():
    clock = [FIRST_OPEN - 1]
    source = SyntheticSource([ALPHA], seed=1, now=lambda: clock[0], miss_rate=0)
    assert source.schedule(999) == [] and source.resolved_results(ALPHA, 999) == []
    clock[0] = FIRST_OPEN + 2 * 86400
    assert source.schedule(999) == [
        RoundInfo(1000, FIRST_OPEN + 3600, False),
        RoundInfo(1001, FIRST_OPEN + 86400 + 3600, False),
        RoundInfo(1002, FIRST_OPEN + 2 * 86400 + 3600, False),
    ]
    clock[0] = FIRST_OPEN + 31 * 86400 + 86400
    assert [r.round for r in source.resolved_results(ALPHA, 999)] == [1000, 1001]
    assert [r.round for r in source.resolved_results(ALPHA, 1001)] == []
    assert source.schedule(1030)[0] == RoundInfo(1031, FIRST_OPEN + 31 * 86400 + 3600, False)
    assert source.schedule(999)[1] == RoundInfo(1001, FIRST_OPEN + 86400 + 3600, True)


def test_synthetic_clock_going_back_is_an_unresolve():
    clock = [FIRST_OPEN + 40 * 86400]
    source = SyntheticSource([ALPHA], now=lambda: clock[0])
    source.resolved_results(ALPHA, 999)
    clock[0] -= 5 * 86400
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 1009)
    assert str(error.value) == f"model {ALPHA} round 1005: was resolved, now reported unresolved"


def test_synthetic_errors_and_profiles():
    source = SyntheticSource([ALPHA], now=lambda: FIRST_OPEN + 40 * 86400, clip=Decimal("0.2"), miss_rate=0)
    with pytest.raises(SourceError) as error:
        source.resolved_results(ALPHA, 999)
    assert str(error.value) == f"model {ALPHA} round 1000: clip 0.2 is above the maximum 0.05"
    with pytest.raises(SourceError) as error:
        source.resolved_results(BETA, 999)
    assert str(error.value) == f"model {BETA}: not one of the synthetic models"
    assert source.profile_text(ALPHA) == ("synthetic-8f0d3c52", "")
    source.set_profile(ALPHA, "alpha", "my address " + ALPHA_ADDRESS)
    assert source.profile_text(ALPHA) == ("alpha", "my address " + ALPHA_ADDRESS)
    with pytest.raises(ValueError, match="must name the same scores"):
        SyntheticSource([ALPHA], multipliers={"CORR20": 1})
    anyone = SyntheticSource(seed=0, now=lambda: FIRST_OPEN + 40 * 86400)  # no list: every model id
    assert anyone.resolved_results(BETA, 999) == SyntheticSource(
        [BETA], now=lambda: FIRST_OPEN + 40 * 86400
    ).resolved_results(BETA, 999)


# --- validate -------------------------------------------------------------------------------------------------


def test_to_decimal_refuses_what_is_not_a_finite_number():
    assert to_decimal(0.1, "x", "f") == Decimal("0.1")  # floats through str, not their binary expansion
    assert to_decimal(" 0.25 ", "x", "f") == Decimal("0.25")
    for value, problem in [
        (True, "f is not a number (True)"),
        ([1], "f is not a number ([1])"),
        (None, "f is missing"),
        (float("nan"), "f is NaN"),
        (float("-inf"), "f is infinite"),
    ]:
        with pytest.raises(SourceError) as error:
            to_decimal(value, "x", "f")
        assert str(error.value) == "x: " + problem


def test_check_result_bounds_that_only_code_can_break():
    names = {f"S{i}": Decimal("0.01") for i in range(9)}
    with pytest.raises(SourceError, match="9 scores, at most 8 allowed"):
        check_result(RoundResult(ALPHA, 1, names, {n: Decimal(1) for n in names}, Decimal(1), Decimal("0.05")))
    long_name = "X" * 33
    with pytest.raises(SourceError, match="must be 1 to 32 bytes"):
        check_result(RoundResult(ALPHA, 1, {long_name: 0}, {long_name: 1}, Decimal(1), Decimal("0.05")))
    with pytest.raises(SourceError, match="a missed round carries scores"):
        check_result(RoundResult(ALPHA, 1, {"CORR20": 0}, {}, missed=True))
    assert Limits.from_oracle(5 * E18 // 100, 10 * E18) == Limits()


def test_check_schedule():
    assert check_schedule(5, [RoundInfo(6, 10), RoundInfo(7, 20)]) == [RoundInfo(6, 10), RoundInfo(7, 20)]
    for rounds, problem in [
        ([RoundInfo(7, 10)], "round 6: missing from the schedule (gap before round 7)"),
        ([RoundInfo(6, 10), RoundInfo(6, 20)], "round 6: listed twice or out of order"),
        ([RoundInfo(6, 10), RoundInfo(7, 10)], "round 7: closes at 10, not after round 6 (10)"),
    ]:
        with pytest.raises(SourceError) as error:
            check_schedule(5, rounds)
        assert str(error.value) == problem


def test_resolution_memory_compares_values_not_spelling():
    memory = ResolutionMemory()
    before = RoundResult(
        ALPHA, 5, {"CORR20": Decimal("0.010")}, {"CORR20": Decimal("0.5")}, Decimal(1), Decimal("0.05")
    )
    memory.remember([before])
    memory.check(
        ALPHA,
        5,
        RoundResult(
            ALPHA, 5, {"CORR20": Decimal("0.01")}, {"CORR20": Decimal("0.50")}, Decimal("1.0"), Decimal("0.050")
        ),
    )
    memory.check(BETA, 5, None)  # never seen: nothing to compare
    with pytest.raises(SourceError, match="MMC score changed after resolution"):
        memory.check(
            ALPHA,
            5,
            RoundResult(
                ALPHA,
                5,
                {"CORR20": Decimal("0.01"), "MMC": Decimal(0)},
                {"CORR20": Decimal("0.5"), "MMC": Decimal(2)},
                Decimal(1),
                Decimal("0.05"),
            ),
        )


# --- attestation ----------------------------------------------------------------------------------------------

MODELLER = Account.from_key(b"\x11" * 32)
OTHER = Account.from_key(b"\x22" * 32)


@pytest.mark.parametrize(
    "text",
    [
        f"I am {MODELLER.address}",
        f"address:{MODELLER.address.lower()}.",
        f"{MODELLER.address[:2]}{MODELLER.address[2:].upper()}",
        f"line one\n  {MODELLER.address}  \nline three",
    ],
)
def test_attestation_address_in_bio(text):
    assert find_attestation(text, MODELLER.address) == keccak(text=text) == evidence_hash(text)
    assert find_attestation(text, MODELLER.address.lower()) == keccak(text=text)


@pytest.mark.parametrize(
    "text",
    [
        f"I am {OTHER.address}",
        f"{MODELLER.address}00",  # a longer hex string, not the address
        f"0x00{MODELLER.address[2:]}",
        f"ab{MODELLER.address}",
        MODELLER.address[:-1],  # truncated
        "",
        None,
    ],
)
def test_attestation_wrong_or_partial_address(text):
    assert find_attestation(text, MODELLER.address) is None


def test_attestation_signed_statement():
    line = statement(MODELLER.key, ALPHA)
    assert line.startswith(f"backing-vaults:{ALPHA}:{MODELLER.address}:0x") and len(line.split(":")[-1]) == 132
    bio = f"Quant in Lisbon.\n{line}\n"
    assert find_attestation(bio, MODELLER.address) == keccak(text=bio)
    assert find_attestation(bio, MODELLER.address, model_id=ALPHA) == keccak(text=bio)
    assert find_attestation(bio, MODELLER.address, model_id=ALPHA.upper()) == keccak(text=bio)
    assert find_attestation(bio, MODELLER.address, model_id=BETA) is None  # copied from another model
    assert find_attestation(bio, OTHER.address) is None
    # signature without 0x and with v as 0/1 are accepted too
    signature = bytes.fromhex(line.split(":")[-1][2:])
    low_v = signature[:64] + bytes([signature[64] - 27])
    assert find_attestation(f"{statement_message(ALPHA, MODELLER.address)}:{low_v.hex()}", MODELLER.address)


def test_attestation_bad_signatures():
    message = statement_message(ALPHA, MODELLER.address)
    signature = bytes.fromhex(statement(MODELLER.key, ALPHA).split(":")[-1][2:])
    tampered = bytearray(signature)
    tampered[10] ^= 1
    forged = bytes.fromhex(statement(OTHER.key, ALPHA).split(":")[-1][2:])  # signed by someone else
    for bad in (bytes(tampered), forged, b"\x00" * 65, signature[:64] + b"\x05"):
        bio = f"{message}:0x{bad.hex()}"
        # the address inside a failed statement does not count as a plain mention either
        assert find_attestation(bio, MODELLER.address) is None
    other_model = statement(MODELLER.key, BETA).replace(BETA, ALPHA)  # signature was over BETA's statement
    assert find_attestation(other_model, MODELLER.address) is None
    assert find_attestation(f"{message}:0x{signature.hex()[:-2]}", MODELLER.address) is None  # short


def test_attestation_refuses_a_bad_modeller_address():
    for bad in ("0x1234", MODELLER.address[2:], None):
        with pytest.raises(ValueError, match="is not a 0x-prefixed 20-byte hex address"):
            find_attestation("text", bad)


# --- NumeraiSource: staking v3 ----------------------------------------------------------------------------------


def keyed(url, **kwargs):
    """A source with API keys (the fake checks only that some are sent), so staking v3 is used."""
    return NumeraiSource(url, now=lambda: NOW, timeout=2, retry_delay=0, public_id="id", secret_key="key", **kwargs)


def v3_asked(fake) -> list[str]:
    return [variables["roundId"] for root, variables in fake.requests if root == "v3StakeRound"]


def test_staking_v3_agreeing_with_list_rounds_changes_nothing_and_is_asked_once_per_round(url, fake):
    source = keyed(url)
    assert [reported(r) for r in source.resolved_results(ALPHA, 999)] == ALPHA_REPORTS
    assert v3_asked(fake) == ["1000", "1001", "1002", "1003"]  # the resolved rounds, not 1004
    source.resolved_results(ALPHA, 999)
    source.resolved_results(BETA, 999)
    assert v3_asked(fake) == ["1000", "1001", "1002", "1003"]  # resolved answers are final: kept


def test_staking_v3_disagreeing_on_the_payout_factor_refuses_the_round(url, fake):
    fake.rounds[1002]["v3"] = {"payoutFactor": "0.5"}
    problem = raises(keyed(url))
    assert problem.startswith(f"model {ALPHA} round 1002: staking v3 says payout factor 0.5, list_rounds 0.7")
    assert "not posted until they agree" in problem


def test_staking_v3_not_resolved_while_list_rounds_is_refuses_the_round(url, fake):
    fake.rounds[1001]["v3"] = {"resolved": False}
    problem = raises(keyed(url))
    assert problem.startswith(f"model {ALPHA} round 1001: list_rounds says the round is resolved, staking v3")


def test_staking_v3_fills_a_payout_factor_list_rounds_lacks_and_a_round_without_v3_data_stands(url, fake):
    fake.rounds[1000]["v3"] = None  # before v3: list_rounds alone
    fake.fail("drop", on="rounds", field="payoutFactor")
    with pytest.raises(SourceError, match="round 1000: payout factor is missing"):  # in neither answer
        keyed(url).resolved_results(ALPHA, 999)
    assert [reported(r) for r in keyed(url).resolved_results(ALPHA, 1000)] == ALPHA_REPORTS[1:]  # v3's


def test_staking_v3_off_without_keys_or_on_demand(url, fake):
    NumeraiSource(url, now=lambda: NOW, retry_delay=0).resolved_results(ALPHA, 999)  # no keys: auto skips v3
    keyed(url, staking_v3="off").resolved_results(ALPHA, 999)
    assert v3_asked(fake) == []
    with pytest.raises(ValueError, match="needs Numerai API keys"):
        NumeraiSource(url, staking_v3="on", public_id=None, secret_key=None)
    with pytest.raises(ValueError, match="auto, on or off"):
        NumeraiSource(url, staking_v3="yes")


def test_the_fake_answers_v3_in_numerapis_shapes_only_with_keys(url):
    base_api.API_TOURNAMENT_URL = url  # the fixture restores it
    api = numerapi.NumerAPI(public_id="id", secret_key="key")
    round_data = api.v3_stake_round(1003)
    assert round_data["resolved"] is True and round_data["payoutFactor"] == "0.69" and round_data["roundId"] == "1003"
    assert {"merkleRoot", "stakeCap", "stakeThreshold", "totalStaked"} <= set(round_data)
    assert api.v3_stake_config()["nmrAddress"] == "0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671"
    with pytest.raises(ValueError):
        numerapi.NumerAPI().v3_stake_round(1003)  # numerapi itself refuses without keys

"""backing.consistency: the canonical hash, verify's outcomes, rank correlations, metric breaks, the record."""

from __future__ import annotations

import hashlib
import random

import pytest

from backing.consistency import (
    Outcome,
    PredictionsError,
    canonical_bytes,
    classify,
    commitment_record,
    metric_breaks,
    modeller_at,
    predictions_hash,
    read_predictions,
    round_pairs,
    select_commitments,
    spearman,
)
from backing.consistency.analysis import revealed_files
from backing.consistency.verify import agent_at

PREDICTIONS = {"n003": 0.25, "n001": 0.5, "n002": 0.123456789}


def write_csv(path, rows, header="id,prediction", fmt="{}"):
    path.write_text(header + "\n" + "".join(f"{i},{fmt.format(v)}\n" for i, v in rows))
    return path


def test_canonical_form_is_sorted_fixed_six_decimals():
    assert canonical_bytes(PREDICTIONS) == b"id,prediction\nn001,0.500000\nn002,0.123457\nn003,0.250000\n"
    assert predictions_hash(PREDICTIONS) == hashlib.sha256(canonical_bytes(PREDICTIONS)).digest()


def test_negative_zero_prints_as_zero():
    assert canonical_bytes({"a": -0.0000001}) == b"id,prediction\na,0.000000\n"


def test_row_order_does_not_change_the_hash(tmp_path):
    rows = list(PREDICTIONS.items())
    first = write_csv(tmp_path / "a.csv", rows)
    second = write_csv(tmp_path / "b.csv", rows[::-1])
    assert predictions_hash(first) == predictions_hash(second)


def test_float_formatting_does_not_change_the_hash(tmp_path):
    rows = list(PREDICTIONS.items())
    long = write_csv(tmp_path / "long.csv", rows, fmt="{:.12f}")
    short = write_csv(tmp_path / "short.csv", [(i, round(v, 7)) for i, v in rows], fmt="{}")
    assert predictions_hash(long) == predictions_hash(short) == predictions_hash(PREDICTIONS)


def test_a_change_in_the_sixth_decimal_changes_the_hash():
    assert predictions_hash({"a": 0.500001}) != predictions_hash({"a": 0.500000})


def test_csv_and_parquet_give_one_hash(tmp_path):
    import pandas as pd

    rows = list(PREDICTIONS.items())
    csv = write_csv(tmp_path / "p.csv", rows)
    frame = pd.DataFrame({"id": [i for i, _ in rows[::-1]], "prediction": [v for _, v in rows[::-1]]})
    parquet = tmp_path / "p.parquet"
    frame.to_parquet(parquet)
    indexed = tmp_path / "indexed.parquet"
    frame.set_index("id").to_parquet(indexed)  # Numerai's example code writes the id as the index
    assert predictions_hash(csv) == predictions_hash(parquet) == predictions_hash(indexed)


def test_the_prediction_column_may_have_another_name(tmp_path):
    other = write_csv(tmp_path / "o.csv", PREDICTIONS.items(), header="id,prediction_kazutsugi")
    assert predictions_hash(other) == predictions_hash(PREDICTIONS)


@pytest.mark.parametrize(
    "content, words",
    [
        ("ident,prediction\na,0.5\n", "no 'id' column"),
        ("id,x,y\na,0.5,0.1\n", "which column holds the predictions"),
        ("id,prediction\na,0.5\na,0.6\n", "id a appears twice"),
        ("id,prediction\na,high\n", "'high' is not a number"),
        ("id,prediction\na,nan\n", "not a finite number"),
        ("id,prediction\n", "has no rows"),
    ],
)
def test_wrong_columns_and_values_in_plain_words(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(PredictionsError, match=words):
        read_predictions(path)


def test_unreadable_files_in_plain_words(tmp_path):
    with pytest.raises(PredictionsError, match="no such file"):
        read_predictions(tmp_path / "absent.csv")
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"not parquet at all")
    with pytest.raises(PredictionsError, match="cannot be read as parquet"):
        read_predictions(damaged)
    with pytest.raises(PredictionsError, match="give a .csv or .parquet file"):
        read_predictions(tmp_path / "notes.docx")


H, OTHER = b"\x01" * 32, b"\x02" * 32


@pytest.mark.parametrize(
    "committed, at, close, now, outcome",
    [
        (H, 99, 100, 200, Outcome.MATCH),
        (OTHER, 99, 100, 200, Outcome.MISMATCH),
        (H, 100, 100, 200, Outcome.LATE),  # at the deadline is late: commitments must come before it
        (None, None, 100, 200, Outcome.MISSING),
        (None, None, 100, 50, Outcome.MISSING),
    ],
)
def test_verify_outcomes(committed, at, close, now, outcome):
    assert classify(H, committed, at, close, now).outcome is outcome


def test_missing_says_when_the_round_is_still_open():
    assert "not committed yet" in classify(H, None, None, 100, 50).words


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def _model(weights, features):
    return {i: sum(w * x for w, x in zip(weights, f)) for i, f in features.items()}


def _synthetic(seed=7, rounds=6, ids=400, noise=0.05, swap_at=None):
    """A linear model's predictions on a fixed set of ids each round, with small per-round noise (retraining);
    from `swap_at` on, a different model's."""
    rng = random.Random(seed)
    features = {f"id{k:04d}": [rng.gauss(0, 1) for _ in range(5)] for k in range(ids)}
    mine, other = [rng.gauss(0, 1) for _ in range(5)], [rng.gauss(0, 1) for _ in range(5)]
    by_round = {}
    for r in range(600, 600 + rounds):
        weights = other if swap_at is not None and r >= swap_at else mine
        base = _model(weights, features)
        by_round[r] = {i: v + rng.gauss(0, noise) for i, v in base.items()}
    return by_round


def test_the_same_model_with_noise_stays_consistent():
    pairs = round_pairs(_synthetic())
    assert len(pairs) == 5 and not any(p.flagged for p in pairs)
    assert all(p.correlation > 0.95 for p in pairs)


def test_a_swapped_model_is_flagged_at_the_swap():
    pairs = round_pairs(_synthetic(swap_at=603))
    flagged = [(p.previous, p.round) for p in pairs if p.flagged]
    assert flagged == [(602, 603)]


def test_too_few_shared_ids_are_not_judged():
    by_round = {1: {"a": 0.1, "b": 0.2}, 2: {"a": 0.9, "b": 0.1}}
    (pair,) = round_pairs(by_round)
    assert pair.correlation is None and not pair.flagged and "too few" in pair.words


def test_metric_breaks():
    steady = {r: 0.6 + 0.01 * ((r * 7) % 3 - 1) for r in range(1, 12)}
    assert metric_breaks(steady) == []
    broken = {**steady, 9: 0.1}
    assert [r for r, _, _ in metric_breaks(broken)] == [9]


MODELLER, AGENT, OTHER = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20
NOBODY = "0x" + "00" * 20


def commitment(round_, committer, block, index=0, tag=""):
    return {"round": round_, "committer": committer, "order": (block, index), "tag": tag}


def test_agent_at_takes_the_last_naming_before_the_event():
    agents = [((5, 1), AGENT), ((9, 0), NOBODY), ((12, 3), OTHER)]
    assert agent_at(agents, (5, 1)) is None  # named in this very event: not before it
    assert agent_at(agents, (5, 2)) == AGENT
    assert agent_at(list(reversed(agents)), (8, 0)) == AGENT  # any order in, chain order applied
    assert agent_at(agents, (10, 0)) is None  # removed
    assert agent_at(agents, (13, 0)) == OTHER
    assert agent_at([], (1, 0)) is None


def test_the_first_commitment_by_the_modeller_or_his_agent_counts():
    events = [
        commitment(1, OTHER, 3, tag="squatter"),  # first in time, but nobody's key
        commitment(1, MODELLER.upper().replace("0X", "0x"), 4, tag="modeller"),  # address case does not matter
        commitment(1, MODELLER, 4, 1, tag="second"),
        commitment(2, AGENT, 6, tag="agent before naming"),
        commitment(2, AGENT, 8, tag="agent"),
    ]
    counted, ignored = select_commitments(list(reversed(events)), MODELLER, [((7, 0), AGENT)])
    assert {r: c["tag"] for r, c in counted.items()} == {1: "modeller", 2: "agent"}
    assert [c["tag"] for c, _ in ignored] == ["squatter", "second", "agent before naming"]
    assert "neither the model's modeller nor his agent" in ignored[0][1]
    assert "only the first one counts" in ignored[1][1]


def test_no_commitment_counts_without_the_modeller_or_an_agent():
    counted, ignored = select_commitments([commitment(1, OTHER, 2)], MODELLER, [])
    assert counted == {} and len(ignored) == 1


def test_after_a_change_of_modeller_each_commitment_is_judged_by_the_modeller_then():
    """Issue 12 L-5: the oracle gave the model to OTHER at block 10. Before it, MODELLER and his agent commit; after
    it, only OTHER (and an agent OTHER names) counts, and MODELLER's agent loses his standing with him."""
    history = [((10, 2), OTHER), ((1, 0), MODELLER)]  # registration, then the change; any order in
    agents = {MODELLER.upper().replace("0X", "0x"): [((3, 0), AGENT)], OTHER: []}
    events = [
        commitment(1, AGENT, 4, tag="agent of the first modeller"),
        commitment(2, MODELLER, 9, tag="first modeller"),
        commitment(3, MODELLER, 11, tag="first modeller after the change"),
        commitment(3, AGENT, 12, tag="his agent after the change"),
        commitment(3, OTHER, 13, tag="new modeller"),
        commitment(0, OTHER, 0, tag="before the registration"),
    ]
    assert modeller_at(history, (10, 2)) == MODELLER and modeller_at(history, (10, 3)) == OTHER
    assert modeller_at(history, (0, 5)) is None
    counted, ignored = select_commitments(events, history, agents)
    assert {r: c["tag"] for r, c in counted.items()} == {
        1: "agent of the first modeller",
        2: "first modeller",
        3: "new modeller",
    }
    assert [c["tag"] for c, _ in ignored] == [
        "before the registration",
        "first modeller after the change",
        "his agent after the change",
    ]


def test_commitment_record():
    committed = {10: 50, 11: 150, 13: 299}
    close = {10: 100, 11: 200, 12: 300, 13: 400, 14: 500}
    record = commitment_record(committed, close, 10, 15, now=450)
    assert record.committed == [10, 11, 13]
    assert record.missed == [12]
    assert record.open == [14, 15]
    assert record.late == []
    assert record.summary() == "rounds 10-15: 3 committed in time, 0 late, 1 missed (12), 2 still open"
    late = commitment_record({10: 100}, {10: 100}, 10, 10, now=1000)
    assert late.late == [10]


def test_revealed_files_take_the_round_from_the_name(tmp_path):
    write_csv(tmp_path / "round-600.csv", PREDICTIONS.items())
    write_csv(tmp_path / "model_2_601.csv", PREDICTIONS.items())
    (tmp_path / "README.txt").write_text("not predictions")
    assert sorted(revealed_files(tmp_path)) == [600, 601]
    write_csv(tmp_path / "again-600.csv", PREDICTIONS.items())
    with pytest.raises(PredictionsError, match="both round 600"):
        revealed_files(tmp_path)


def test_numerai_scores_breaks_from_the_fake_api():
    """Numerai's public per-round scores through numerapi (the fake GraphQL API): a steady score series, then
    another model's from round 9 on, is a break there; Numerai down is a sentence, not a traceback."""
    from backing.client.submission_cmd import numerai_metrics
    from oracle.testing.fake_numerai import FakeNumerai, running

    model = "3c1f7a52-0b8a-4b8e-9c1e-2a7f6d1b0c22"
    fake = FakeNumerai()
    fake.add_model(model, "steady")
    for r in range(1, 12):
        fake.add_round(r, 1_700_000_000 + r * 86400, resolved=True)
        value = (0.6 + 0.01 * (r % 3)) if r < 9 else 0.05
        fake.set_scores(model, r, {"corr_with_mm": value})
    with running(fake) as (_, url):
        metrics, problem = numerai_metrics(model, url)
    assert problem is None and sorted(metrics["corr_with_mm"]) == list(range(1, 12))
    assert [r for r, _, _ in metric_breaks(metrics["corr_with_mm"])] == [9]
    metrics, problem = numerai_metrics(model, "http://127.0.0.1:9/graphql")
    assert metrics == {} and "could not be read" in problem

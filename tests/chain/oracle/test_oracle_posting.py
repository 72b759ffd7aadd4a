"""Posting round reports: batches, malformed reports, and the round return the contract computes against
the Python mirrors."""

import dataclasses

import pytest
from brownie import ZERO_ADDRESS, chain

from backing.model.agreement import index_path, next_index, round_return, tdiv
from backing.onchain.oracle import SignedOracle, deploy_oracle, return_report
from support.chain import MAX_CLIP, MAX_MULTIPLIER, MODEL_ID, ORACLE_PARAMS, expect_event, reverts_with
from support.oracle import (
    CORR,
    MID,
    MMC,
    ONE,
    OTHER,
    RET,
    TOURNAMENT,
    WINDOW,
    events,
    expect_event_norm,
    hx,
    name,
    norm,
    plain,
    report,
)


def test_post_report_event_and_state(signed, oracle, model_id, reporter):
    r = report(
        names=(CORR, MMC),
        scores=(ONE // 10, -(ONE // 20)),
        mults=(ONE // 2, 2 * ONE),
        payout=9 * ONE // 10,
        clip=ONE // 4,
    )
    expected = -45 * ONE // 1000  # 0.9 * (0.5 * 0.1 + 2 * -0.05)
    assert r.round_return() == expected
    assert round_return(list(r.scores), list(r.multipliers), r.payout_factor, r.clip) == expected
    tx = signed.post([r])
    final_at = tx.timestamp + WINDOW
    expect_event_norm(
        tx,
        "RoundPosted",
        modelId=MID,
        round=1,
        report=r.as_tuple(),
        reportHash=r.struct_hash(),
        roundReturn=expected,
        finalAt=final_at,
    )
    assert list(tx.events.keys()) == ["RoundPosted"]
    assert oracle.lastPostedRound(MID) == 1
    assert oracle.modelInfo(MID)[3] == 0  # posted, not final
    assert plain(oracle.reportOf(MID, 1)) == norm((r.struct_hash(), expected, False, final_at, ZERO_ADDRESS, 0))


def test_post_sequence(signed, dry, oracle, fresh_model, model_id):
    signed.announce_through(3)
    with reverts_with("RoundNotNext", MID, 2, 1):
        signed.post([return_report(MID, 2, 0)])
    with reverts_with("RoundNotNext", MID, 0, 1):
        dry.post([return_report(MID, 0, 0)])
    signed.post([return_report(MID, 1, 0)])
    signed.post([return_report(MID, 2, None)])  # a missed round takes its place in the sequence too
    for wrong in (2, 1, 0, 5):
        with reverts_with("RoundNotNext", MID, wrong, 3):
            dry.post([return_report(MID, wrong, 0)])
    # out of order inside one batch
    with reverts_with("RoundNotNext", MID, 3, 4):
        dry.post([return_report(MID, 3, 0), return_report(MID, 3, 0)])
    signed.post([return_report(MID, 3, 0)])
    with reverts_with("RoundNotAnnounced", 4, 3):
        signed.post([return_report(MID, 4, 0)])
    # a model starting later than anything announced
    later = fresh_model(first=10)
    with reverts_with("RoundNotAnnounced", 10, 3):
        dry.post([return_report(later, 10, 0)])
    with reverts_with("RoundNotNext", later, 9, 10):
        dry.post([return_report(later, 9, 0)])
    assert oracle.lastPostedRound(MID) == 3


def test_post_model_not_registered_and_no_reports(signed, model_id):
    with reverts_with("ModelNotRegistered", OTHER):
        signed.post([return_report(OTHER, 1, 0)])
    with reverts_with("NoReports"):
        signed.post([])


NINE = tuple(name(f"S{i}") for i in range(9))
BAD_REPORTS = {
    "wrong-tournament": (report(tournament=7), ("WrongTournament", 7, TOURNAMENT)),
    "no-scores": (report(names=(), scores=(), mults=()), ("NoScores",)),
    "missed-with-scores": (report(missed=True), ("MissedRoundWithScores",)),
    "too-many-scores": (report(names=NINE, scores=(0,) * 9, mults=(ONE,) * 9), ("TooManyScores", 9, 8)),
    "names-short": (report(names=(CORR,), scores=(0, 0), mults=(ONE, ONE)), ("LengthMismatch",)),
    "names-long": (report(names=(CORR, MMC, RET), scores=(0, 0), mults=(ONE, ONE)), ("LengthMismatch",)),
    "multipliers-short": (report(names=(CORR, MMC), scores=(0, 0), mults=(ONE,)), ("LengthMismatch",)),
    "multipliers-long": (report(names=(CORR, MMC), scores=(0, 0), mults=(ONE,) * 3), ("LengthMismatch",)),
    "missed-length-mismatch": (report(missed=True, names=(CORR,), scores=(), mults=()), ("LengthMismatch",)),
    "empty-name-first": (report(names=(b"\0" * 32,)), ("EmptyScoreName", 0)),
    "empty-name-third": (
        report(names=(CORR, MMC, b"\0" * 32), scores=(0,) * 3, mults=(ONE,) * 3),
        ("EmptyScoreName", 2),
    ),
    "duplicate-name": (report(names=(CORR, CORR), scores=(0, 0), mults=(ONE, ONE)), ("DuplicateScoreName", CORR)),
    "duplicate-name-apart": (
        report(names=(MMC, CORR, RET, MMC), scores=(0,) * 4, mults=(ONE,) * 4),
        ("DuplicateScoreName", MMC),
    ),
    "score-just-over": (
        report(names=(CORR, MMC), scores=(0, ONE + 1), mults=(ONE, ONE)),
        ("ScoreOutOfBounds", 1, ONE + 1),
    ),
    "score-just-under": (
        report(names=(CORR, MMC), scores=(0, -ONE - 1), mults=(ONE, ONE)),
        ("ScoreOutOfBounds", 1, -ONE - 1),
    ),
    "score-int-min": (report(scores=(-(2**255),)), ("ScoreOutOfBounds", 0, -(2**255))),
    "multiplier-over": (
        report(names=(CORR, MMC), scores=(0, 0), mults=(ONE, MAX_MULTIPLIER + 1)),
        ("MultiplierOutOfBounds", 1, MAX_MULTIPLIER + 1, MAX_MULTIPLIER),
    ),
    "multiplier-uint-max": (report(mults=(2**256 - 1,)), ("MultiplierOutOfBounds", 0, 2**256 - 1, MAX_MULTIPLIER)),
    "payout-factor-over": (report(payout=ONE + 1), ("PayoutFactorOutOfBounds", ONE + 1)),
    "clip-zero": (report(clip=0), ("ClipOutOfBounds", 0, MAX_CLIP)),
    "clip-over": (report(clip=MAX_CLIP + 1), ("ClipOutOfBounds", MAX_CLIP + 1, MAX_CLIP)),
    # array-level checks come before per-score checks (lengths before the count), and the first bad score is the
    # one reported
    "order-lengths-before-count": (
        report(names=(CORR,), scores=(2 * ONE,) * 9, mults=(ONE,), payout=2 * ONE),
        ("LengthMismatch",),
    ),
    "order-payout-before-clip": (
        report(scores=(2 * ONE,), payout=2 * ONE, clip=0),
        ("PayoutFactorOutOfBounds", 2 * ONE),
    ),
    "order-clip-before-names": (
        report(names=(b"\0" * 32,), scores=(2 * ONE,), clip=0),
        ("ClipOutOfBounds", 0, MAX_CLIP),
    ),
    "order-score-before-duplicate": (
        report(names=(CORR, CORR), scores=(2 * ONE, 0), mults=(ONE, ONE)),
        ("ScoreOutOfBounds", 0, 2 * ONE),
    ),
}


@pytest.mark.parametrize("key", list(BAD_REPORTS))
def test_post_report_out_of_bounds(dry, oracle, model_id, key):
    """Signed by a quorum and still refused (as an eth_call; test_bad_report_rejects_whole_batch mines one)."""
    bad, (error, *args) = BAD_REPORTS[key]
    with reverts_with(error, *args):
        dry.post([bad])
    with reverts_with(error, *args):
        oracle.computeRoundReturn(bad.as_tuple())


def test_bad_report_rejects_whole_batch(signed, oracle, fresh_model, model_id):
    other = fresh_model()
    with reverts_with("ClipOutOfBounds", 0, MAX_CLIP):
        signed.post([return_report(MID, 1, ONE // 10), report(model=other, clip=0)])
    assert oracle.lastPostedRound(MID) == 0


def test_stricter_oracle_bounds(deployer, nmr_token, signers, reporter, modeller):
    params = dataclasses.replace(ORACLE_PARAMS, max_clip=ONE // 4, max_multiplier=3 * ONE)
    strict = SignedOracle(deploy_oracle(deployer, nmr_token, signers, 2, 3, params), signers, reporter)
    strict.register(MID, modeller)
    strict.announce(1, [chain.time() + 3600])
    with reverts_with("ClipOutOfBounds", ONE // 4 + 1, ONE // 4):
        strict.post([report(clip=ONE // 4 + 1)])
    with reverts_with("MultiplierOutOfBounds", 0, 3 * ONE + 1, 3 * ONE):
        strict.post([report(mults=(3 * ONE + 1,), clip=ONE // 4)])
    tx = strict.post([report(scores=(-ONE,), mults=(3 * ONE,), clip=ONE // 4)])
    assert tx.events["RoundPosted"]["roundReturn"] == -ONE // 4


RETURN_CASES = {
    # raw = 0.9 * (0.5 * 0.1 + 2 * -0.05) = -0.045
    "two-scores": (
        report(names=(CORR, MMC), scores=(ONE // 10, -(ONE // 20)), mults=(ONE // 2, 2 * ONE), payout=9 * ONE // 10),
        -45 * ONE // 1000,
    ),
    # -1.5 wei truncates toward zero to -1 (flooring would give -2); +1.5 wei to +1
    "negative-truncates-toward-zero": (report(scores=(-3,), mults=(ONE // 2,)), -1),
    "positive-truncates": (report(scores=(3,), mults=(ONE // 2,)), 1),
    # the payout factor takes part in the same single division: 0.7 * -7 wei = -4.9 wei -> -4
    "payout-factor-one-division": (report(scores=(-7,), payout=7 * ONE // 10), -4),
    # raw = +-0.5, clip 0.3
    "clamp-plus": (
        report(names=(CORR, MMC), scores=(ONE // 5, ONE // 10), mults=(ONE, 3 * ONE), clip=3 * ONE // 10),
        3 * ONE // 10,
    ),
    "clamp-minus": (
        report(names=(CORR, MMC), scores=(-(ONE // 5), -(ONE // 10)), mults=(ONE, 3 * ONE), clip=3 * ONE // 10),
        -3 * ONE // 10,
    ),
    "exactly-at-clip": (report(scores=(-3 * ONE // 10,), clip=3 * ONE // 10), -3 * ONE // 10),
    "just-inside-clip": (report(scores=(3 * ONE // 10 - 1,), clip=3 * ONE // 10), 3 * ONE // 10 - 1),
    "max-multiplier-clamped": (report(scores=(ONE // 100,), mults=(MAX_MULTIPLIER,)), ONE),
    "score-at-minus-one": (report(scores=(-ONE,)), -ONE),
    "payout-factor-zero": (report(scores=(ONE // 2,), payout=0), 0),
    "eight-scores": (
        report(
            names=tuple(name(f"S{i}") for i in range(8)),
            scores=tuple(ONE // 100 * (i - 3) for i in range(8)),
            mults=tuple(ONE * (i + 1) // 4 for i in range(8)),
        ),
        15 * ONE // 100,
    ),
    "missed": (report(missed=True, names=(), scores=(), mults=(), payout=0, clip=0), 0),
}


@pytest.mark.parametrize("key", list(RETURN_CASES))
def test_round_return_hand_picked(signed, oracle, model_id, key):
    r, expected = RETURN_CASES[key]
    assert r.round_return() == expected
    if not r.missed:
        assert (
            round_return(
                list(r.scores),
                list(r.multipliers),
                r.payout_factor,
                r.clip,
                max_multiplier=MAX_MULTIPLIER,
                names=list(r.score_names),
            )
            == expected
        )
        assert oracle.computeRoundReturn(r.as_tuple()) == expected
    tx = signed.post([r])
    assert tx.events["RoundPosted"]["roundReturn"] == expected
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(MID)
    expect_event(
        tx,
        "RoundFinalized",
        modelId=MODEL_ID,
        round=1,
        roundReturn=expected,
        missed=r.missed,
        index=next_index(ONE, ONE, expected),
    )
    assert plain(oracle.roundRecord(MID, 1)) == (next_index(ONE, ONE, expected), expected, r.missed)


def test_negative_truncation_in_index(signed, oracle, fresh_model):
    """exposure 0.25 * -3 wei = -0.75 wei truncates to 0: the index does not move."""
    model = fresh_model(exposure=ONE // 4)
    assert tdiv(ONE // 4 * -3, ONE) == 0 and (ONE // 4 * -3) // ONE == -1
    signed.post([report(model=model, scores=(-3,))])
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(model)
    expect_event(tx, "RoundFinalized", modelId=hx(model), round=1, roundReturn=-3, missed=False, index=ONE)


def test_post_batch_of_many_models(signed, oracle, fresh_model, model_id):
    models = [MID] + [fresh_model(exposure=ONE // (i + 2)) for i in range(4)]
    reports = [return_report(m, 1, (i - 2) * ONE // 10) for i, m in enumerate(models)]
    tx = signed.post(reports)
    posted = events(tx, "RoundPosted")
    assert [bytes(e["modelId"]) for e in posted] == models
    assert [e["roundReturn"] for e in posted] == [r.round_return() for r in reports]
    assert {e["finalAt"] for e in posted} == {tx.timestamp + WINDOW}
    assert [norm(e["reportHash"]) for e in posted] == [hx(r.struct_hash()) for r in reports]
    assert all(oracle.lastPostedRound(m) == 1 for m in models)
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed._call(oracle.finalizeMany, models, 10)
    finalized = events(tx, "RoundFinalized")
    assert [bytes(e["modelId"]) for e in finalized] == models
    for e, m, r in zip(finalized, models, reports):
        assert e["index"] == next_index(ONE, oracle.modelInfo(m)[1], r.round_return())
        assert oracle.indexAt(m, 1) == e["index"]


def test_post_batch_of_many_rounds(signed, oracle, model_id):
    signed.announce_through(12)
    returns = [ONE // 10, None, -(ONE // 7), 0, ONE, -ONE // 2, 3, -3, None, ONE // 3, -1, 123456789]
    reports = [return_report(MID, i + 1, v) for i, v in enumerate(returns)]
    tx = signed.post(reports)
    posted = events(tx, "RoundPosted")
    assert [e["round"] for e in posted] == list(range(1, 13))
    assert [e["roundReturn"] for e in posted] == [v or 0 for v in returns]
    assert [norm(e["report"]) for e in posted] == [norm(r.as_tuple()) for r in reports]
    assert oracle.lastPostedRound(MID) == 12
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(MID)
    path = index_path(ONE, [v or 0 for v in returns])
    assert [(e["round"], e["index"], e["missed"]) for e in events(tx, "RoundFinalized")] == [
        (i + 1, path[i + 1], v is None) for i, v in enumerate(returns)
    ]

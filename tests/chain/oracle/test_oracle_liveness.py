"""The liveness fallback: agreements mature on the last final round once the lockup's last round is overdue by
maxReportDelay and no report is pending (issue 20 N-1; more in test_oracle_stall.py)."""

import pytest
from brownie import chain

from backing.onchain.oracle import return_report
from support.chain import MIN_ROUND_SPACING, NMR, expect_event, reverts_with
from support.oracle import DISPUTE_TIMEOUT, MAX_REPORT_DELAY, MID, ONE, OTHER, RESOLUTION_DELAY, WINDOW, plain


@pytest.fixture
def locked_agreement(make_nmr_agreement, fund_nmr, modeller, alice, model_id):
    """A 3-round agreement on the conftest model, one 100-NMR unit from alice, 50 NMR reserve, locked: rounds
    2..4 (round 1 is announced, so it starts at round 2)."""
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert (agreement.startRound(), agreement.stakedCapital()) == (2, 100 * NMR)
    return agreement


def mature_at_boundary(agreement, oracle, caller, last_final):
    """Before roundDueTime(4) + maxReportDelay (4: the lockup's last round) the agreement cannot mature; from
    that second on it matures on the fallback. Returns the mature receipt."""
    fallback_at = oracle.roundDueTime(4) + MAX_REPORT_DELAY
    with reverts_with("RoundsOutstanding", last_final, 4):
        agreement.mature({"from": caller})
    chain.mine(timestamp=fallback_at - 1)
    assert plain(oracle.settlementIndices(MID, 2, 4))[2:] == (last_final, False)
    with reverts_with("RoundsOutstanding", last_final, 4):
        agreement.mature.call({"from": caller})
    chain.mine(timestamp=fallback_at)
    assert plain(oracle.settlementIndices(MID, 2, 4))[2:] == (last_final, True)
    tx = agreement.mature({"from": caller, "gas_limit": 1_000_000})
    assert tx.timestamp >= fallback_at
    expect_event(tx, "MaturedOnFallback", agreement, lastFinal=last_final, endRound=4)
    expect_event(
        tx,
        "Matured",
        agreement,
        finalValue=agreement.finalValue(),
        amountDue=agreement.amountDue(),
        owedTotal=agreement.owedTotal(),
        coverBound=agreement.coverBound(),
        deadline=agreement.deadline(),
    )
    return tx


def test_fallback_nothing_posted(oracle, locked_agreement, outsider):
    agreement = locked_agreement
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (ONE, ONE, 0, False)
    # round 2 is not announced: due at the earliest it can close
    assert oracle.roundDueTime(2) == oracle.roundCloseTime(1) + MIN_ROUND_SPACING + RESOLUTION_DELAY
    mature_at_boundary(agreement, oracle, outsider, last_final=0)
    assert agreement.finalValue() == 100 * NMR  # every round counted as zero return
    assert agreement.phase() == 2


def test_fallback_some_rounds_final(signed, oracle, locked_agreement, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [ONE // 2, ONE // 10, -(ONE // 20)])  # round 1 is before the lockup
    i1, i3 = oracle.indexAt(MID, 1), oracle.indexAt(MID, 3)
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (i1, i3, 3, False)
    # round 4 is not even announced (a pending report for it would count: test_oracle_stall.py)
    mature_at_boundary(agreement, oracle, modeller, last_final=3)
    assert agreement.finalValue() == 100 * NMR * i3 // i1 == 1045 * NMR // 10


def test_fallback_waits_for_a_disputed_round(signed, oracle, locked_agreement, watcher, modeller, post_returns):
    """A disputed round blocks the fallback (it used to count as zero) until it is resolved or expires; then it
    counts (issue 12 M-1)."""
    agreement = locked_agreement
    post_returns(MID, [0, ONE // 10])
    signed.announce_through(4)
    signed.post([return_report(MID, 3, -(ONE // 5)), return_report(MID, 4, ONE // 20)])
    oracle.dispute(MID, 3, {"from": watcher})
    chain.sleep(WINDOW)
    chain.mine()
    signed.finalize(MID)
    assert oracle.modelInfo(MID)[3] == 2
    chain.mine(timestamp=max(oracle.roundDueTime(4) + MAX_REPORT_DELAY, chain.time() + DISPUTE_TIMEOUT))
    with reverts_with("RoundsOutstanding", 2, 4):
        agreement.mature({"from": modeller, "gas_limit": 1_000_000})
    oracle.expireDispute(MID, 3, {"from": modeller})
    tx = agreement.mature({"from": modeller, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    i1, i4 = oracle.indexAt(MID, 1), oracle.indexAt(MID, 4)
    assert agreement.finalValue() == 100 * NMR * i4 // i1 == 100 * NMR * 11 * 8 * 21 // 2000


def test_mature_without_fallback_when_complete(oracle, locked_agreement, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [0, ONE // 10, -(ONE // 20), ONE // 5])
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (oracle.indexAt(MID, 1), oracle.indexAt(MID, 4), 4, True)
    tx = agreement.mature({"from": modeller})
    assert "MaturedOnFallback" not in tx.events
    assert agreement.finalValue() == 100 * NMR * oracle.indexAt(MID, 4) // oracle.indexAt(MID, 1)


def test_settlement_indices_reverts(oracle, model_id):
    with reverts_with("ModelNotRegistered", OTHER):
        oracle.settlementIndices(OTHER, 1, 2)
    with reverts_with("RoundNotPosted", MID, 0):
        oracle.settlementIndices(MID, 0, 2)  # before the model's first round
    with reverts_with("RoundNotPosted", MID, 3):
        oracle.settlementIndices(MID, 3, 2)  # end before start


def test_fallback_after_total_loss_before_the_lockup(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, post_returns
):
    """Exposure 1 and -100% in round 1: the index falls to MIN_GROWTH (1e-6) of its value, not to zero
    (issue 20 N-3). An agreement over rounds 3..5 measures its own rounds from there: on the fallback (no round
    of it final) it is worth its whole stake, (I_lastFinal, I_lastFinal) = (1e12, 1e12)."""
    post_returns(MID, [-ONE])
    assert oracle.indexAt(MID, 1) == 10**12
    signed.announce_through(2)
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 3
    chain.mine(timestamp=oracle.roundDueTime(5) + MAX_REPORT_DELAY)
    start_index, end_index, last_final, complete = oracle.settlementIndices(MID, 3, 5)
    assert (last_final, complete) == (1, True)
    tx = agreement.mature({"from": modeller, "gas_limit": 1_000_000})
    expect_event(tx, "MaturedOnFallback", agreement, lastFinal=1, endRound=5)
    assert (start_index, end_index) == (10**12, 10**12)
    assert agreement.finalValue() == 100 * NMR


def test_settlement_indices_far_future_round(oracle, model_id):
    # a round this far away is certainly not due: the view should say "not complete", not panic
    assert oracle.settlementIndices(MID, 2**255, 2**255)[3] is False

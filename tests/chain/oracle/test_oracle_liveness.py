"""The liveness fallback: agreements mature on the last final round once reports are overdue by
maxReportDelay."""

import pytest
from brownie import chain

from backing.onchain.oracle import return_report

from support.chain import MIN_ROUND_SPACING, NMR, expect_event, reverts_with
from support.oracle import MAX_REPORT_DELAY, MID, ONE, OTHER, RESOLUTION_DELAY, WINDOW, plain


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


def mature_at_boundary(agreement, oracle, caller, first_missing, last_final):
    """Before roundDueTime(firstMissing) + maxReportDelay the agreement cannot mature; from that second on it
    matures on the fallback. Returns the mature receipt."""
    fallback_at = oracle.roundDueTime(first_missing) + MAX_REPORT_DELAY
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
    expect_event(tx, "Matured", agreement, finalValue=agreement.finalValue(), amountDue=agreement.amountDue(),
                 owedTotal=agreement.owedTotal(), coverBound=agreement.coverBound(), deadline=agreement.deadline())
    return tx


def test_fallback_nothing_posted(oracle, locked_agreement, outsider):
    agreement = locked_agreement
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (ONE, ONE, 0, False)
    # round 2 is not announced: due at the earliest it can close
    assert oracle.roundDueTime(2) == oracle.roundCloseTime(1) + MIN_ROUND_SPACING + RESOLUTION_DELAY
    mature_at_boundary(agreement, oracle, outsider, first_missing=2, last_final=0)
    assert agreement.finalValue() == 100 * NMR  # every round counted as zero return
    assert agreement.phase() == 2


def test_fallback_some_rounds_final(signed, oracle, locked_agreement, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [ONE // 2, ONE // 10, -(ONE // 20)])  # round 1 is before the lockup
    i1, i3 = oracle.indexAt(MID, 1), oracle.indexAt(MID, 3)
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (i1, i3, 3, False)
    # round 4 is not even announced; a posted but pending report for it changes nothing
    signed.announce_through(4)
    signed.post([return_report(MID, 4, -ONE // 2)])
    mature_at_boundary(agreement, oracle, modeller, first_missing=4, last_final=3)
    assert agreement.finalValue() == 100 * NMR * i3 // i1 == 1045 * NMR // 10


def test_fallback_disputed_round_stalls(signed, oracle, locked_agreement, watcher, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [0, ONE // 10])
    signed.announce_through(4)
    signed.post([return_report(MID, 3, -(ONE // 5)), return_report(MID, 4, ONE // 20)])
    oracle.dispute(MID, 3, {"from": watcher})
    chain.sleep(WINDOW)
    chain.mine()
    signed.finalize(MID)
    assert oracle.modelInfo(MID)[3] == 2
    mature_at_boundary(agreement, oracle, modeller, first_missing=3, last_final=2)
    # rounds 3 and 4 count as zero: neither the disputed -20% nor the pending +5%
    assert agreement.finalValue() == 100 * NMR * oracle.indexAt(MID, 2) // oracle.indexAt(MID, 1) == 110 * NMR


def test_mature_without_fallback_when_complete(oracle, locked_agreement, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [0, ONE // 10, -(ONE // 20), ONE // 5])
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (
        oracle.indexAt(MID, 1), oracle.indexAt(MID, 4), 4, True)
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


def test_fallback_after_total_loss_before_the_lockup(signed, oracle, make_nmr_agreement, fund_nmr, modeller,
                                                     alice, post_returns):
    """Exposure 1 and -100% in round 1: the index is 0 from then on, whatever later rounds return. An agreement
    over rounds 3..5 that matured normally would be worth 0 (BackingAgreement: "a model whose index reached zero
    was wiped out before the start"), and so it is on the fallback whenever round 2 is final. If round 2 is not
    final either, settlementIndices skips to (ONE, ONE) and the agreement is worth its whole stake: the outcome
    depends on whether a round outside the lockup was reported. Counting the missing rounds as zero return from
    the last final index gives (I_lastFinal, I_lastFinal) = (0, 0)."""
    post_returns(MID, [-ONE])
    assert oracle.indexAt(MID, 1) == 0
    signed.announce_through(2)
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 3
    chain.mine(timestamp=oracle.roundDueTime(3) + MAX_REPORT_DELAY)
    start_index, end_index, last_final, complete = oracle.settlementIndices(MID, 3, 5)
    assert (last_final, complete) == (1, True)
    tx = agreement.mature({"from": modeller, "gas_limit": 1_000_000})
    expect_event(tx, "MaturedOnFallback", agreement, lastFinal=1, endRound=5)
    assert (start_index, end_index) == (0, 0)
    assert agreement.finalValue() == 0


def test_settlement_indices_far_future_round(oracle, model_id):
    # a round this far away is certainly not due: the view should say "not complete", not panic
    assert oracle.settlementIndices(MID, 2**255, 2**255)[3] is False

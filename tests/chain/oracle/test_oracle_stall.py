"""Issue 20 N-1, issue 12 L-3, M-1, L-2: a stalled, pending or disputed round never cuts a lockup short or
zeroes a reported round, and no single key (signer, watcher, owner) moves an agreement."""

import pytest
from brownie import chain

from backing.onchain.oracle import return_report
from support.chain import NMR, expect_event, reverts_with
from support.oracle import BOND, DISPUTE_TIMEOUT, MAX_REPORT_DELAY, MID, ONE, plain


def mine_at(timestamp):
    """Mine a block at `timestamp` (chain.sleep + mine: anvil refuses evm_mine with a timestamp)."""
    chain.sleep(max(0, timestamp - chain.time()))
    chain.mine()
    while chain[-1].timestamp < timestamp:  # chain.time() can lag the last block after a revert
        chain.sleep(timestamp - chain[-1].timestamp)
        chain.mine()


SINK = "0x000000000000000000000000000000000000dEaD"


def locked(make_nmr_agreement, fund_nmr, modeller, alice, rounds):
    """An agreement over rounds 2..rounds+1 (round 1 is announced), one 100-NMR unit, locked."""
    agreement, terms = make_nmr_agreement(lockup_rounds=rounds)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 2
    return agreement


def test_stalled_round_does_not_end_the_lockup_early(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider, post_returns
):
    """Issue 20 N-1: rounds 1..3 final, round 4 stalls for maxReportDelay. On the old rule (first missing round
    overdue) anyone could mature the 10-round lockup (rounds 2..11) at once, every later round zero; now the
    lockup's last round must be overdue first, and an oracle that recovers before then counts every round."""
    agreement = locked(make_nmr_agreement, fund_nmr, modeller, alice, 10)
    post_returns(MID, [ONE // 10, ONE // 5, ONE // 10])
    mine_at(oracle.roundDueTime(4) + MAX_REPORT_DELAY + 1)
    assert plain(oracle.settlementIndices(MID, 2, 11))[2:] == (3, False)
    with reverts_with("RoundsOutstanding", 3, 11):
        agreement.mature({"from": outsider})
    # the oracle recovers long before round 11 is due: every round counts
    assert chain.time() < oracle.roundDueTime(11) + MAX_REPORT_DELAY
    post_returns(MID, [ONE // 20] * 8)
    tx = agreement.mature({"from": outsider})
    assert "MaturedOnFallback" not in tx.events
    assert agreement.finalValue() == 100 * NMR * oracle.indexAt(MID, 11) // oracle.indexAt(MID, 1)


def test_stall_falls_back_once_the_end_round_is_overdue(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider, post_returns
):
    """Issue 20 N-1: the fallback still frees backers, from roundDueTime(endRound) + maxReportDelay on."""
    agreement = locked(make_nmr_agreement, fund_nmr, modeller, alice, 10)
    post_returns(MID, [0, ONE // 10])
    fallback_at = oracle.roundDueTime(11) + MAX_REPORT_DELAY
    mine_at(fallback_at - 60)
    with reverts_with("RoundsOutstanding", 2, 11):
        agreement.mature({"from": outsider})
    mine_at(fallback_at)
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    expect_event(tx, "MaturedOnFallback", agreement, lastFinal=2, endRound=11)
    assert agreement.finalValue() == 110 * NMR


def test_mature_finalizes_rounds_before_any_fallback(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider
):
    """Issue 12 L-3: every round of the lockup was posted but nobody called finalize; once the fallback time has
    come, whoever gains from zero returns used to mature first (V = S). mature now finalizes them (bounded) and
    counts them; the oracle's view alone says not complete while a finalizable report waits (series)."""
    agreement = locked(make_nmr_agreement, fund_nmr, modeller, alice, 3)
    signed.announce_through(4)
    signed.post([return_report(MID, r, ONE // 10) for r in range(1, 5)])
    mine_at(oracle.roundDueTime(4) + MAX_REPORT_DELAY + 1)
    assert oracle.modelInfo(MID)[3] == 0
    assert plain(oracle.settlementIndices(MID, 2, 4))[3] is False  # pending reports: no fallback
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    assert oracle.modelInfo(MID)[3] == 4
    assert agreement.finalValue() == 100 * NMR * 11**3 // 10**3
    print("mature with 4 rounds finalized inside: gas", tx.gas_used)


def test_disputed_round_counts_after_the_dispute_expires(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider, watcher, nmr_token, deployer
):
    """Issue 12 M-1: one party disputes a correct report and no resolution comes (a signer withholding his
    signature makes the dispute quorum unreachable). The agreement used to mature on the fallback counting the
    round as zero, and the disputer reclaimed his bond. Now the report stands once the dispute expires and the
    bond is forfeited to an address nobody controls (L-2: not the owner)."""
    agreement = locked(make_nmr_agreement, fund_nmr, modeller, alice, 3)
    signed.announce_through(4)
    signed.post([return_report(MID, r, ONE // 10) for r in range(1, 5)])
    oracle.dispute(MID, 3, {"from": watcher})
    mine_at(oracle.roundDueTime(4) + MAX_REPORT_DELAY + DISPUTE_TIMEOUT)
    signed.finalize(MID)
    assert oracle.modelInfo(MID)[3] == 2
    with reverts_with("RoundsOutstanding", 2, 4):
        agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    owner_before, sink_before = nmr_token.balanceOf(deployer), nmr_token.balanceOf(SINK)
    tx = oracle.expireDispute(MID, 3, {"from": outsider})
    event = tx.events["DisputeExpired"]
    assert (bytes(event["modelId"]), event["round"], event["disputer"], event["bond"]) == (MID, 3, watcher, BOND)
    assert nmr_token.balanceOf(SINK) - sink_before == BOND
    assert nmr_token.balanceOf(deployer) == owner_before
    assert nmr_token.balanceOf(watcher) == 0
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    assert agreement.finalValue() == 100 * NMR * 11**3 // 10**3


def test_dispute_expiry_waits_for_the_timeout(signed, oracle, model_id, watcher, outsider, post_returns):
    """Issue 12 M-1: before disputeTimeout the dispute cannot be ended; an undisputed round cannot be expired."""
    signed.post([return_report(MID, 1, ONE // 10)])
    with reverts_with("NotDisputed", MID, 1):
        oracle.expireDispute(MID, 1, {"from": outsider})
    tx = oracle.dispute(MID, 1, {"from": watcher})
    expires_at = tx.timestamp + DISPUTE_TIMEOUT
    mine_at(expires_at - 60)
    with reverts_with("DisputeTimeoutNotOver", expires_at):
        oracle.expireDispute(MID, 1, {"from": outsider})
    mine_at(expires_at)
    oracle.expireDispute(MID, 1, {"from": outsider})
    with reverts_with("ChallengeWindowOver"):
        oracle.dispute(MID, 1, {"from": watcher})  # an expired dispute cannot be reopened
    assert signed.finalize(MID).return_value == 1
    assert plain(oracle.roundRecord(MID, 1))[1] == ONE // 10


def test_frivolous_dispute_bond_goes_to_the_sink(signed, oracle, model_id, watcher, nmr_token, deployer):
    """Issue 12 L-2: a dispute resolved with the disputed report itself forfeits the bond, to BOND_SINK: the
    owner (who may make itself a watcher) gains nothing from its own disputes."""
    report = return_report(MID, 1, ONE // 10)
    signed.post([report])
    oracle.dispute(MID, 1, {"from": watcher})
    owner_before, sink_before = nmr_token.balanceOf(deployer), nmr_token.balanceOf(SINK)
    tx = signed.resolve(report)
    assert tx.events["DisputeResolved"]["bondReturned"] is False
    assert nmr_token.balanceOf(deployer) == owner_before
    assert nmr_token.balanceOf(SINK) - sink_before == BOND


def test_signer_set_proposal_expires(oracle, signers, deployer):
    """Issue 20 I-1: a proposal is executable only for PROPOSAL_LIFETIME after its timelock, never years
    later."""
    from backing.onchain.oracle import sorted_addresses

    addresses = sorted_addresses(signers)
    tx = oracle.proposeSignerSet(addresses, 1, 2, {"from": deployer})
    expires_at = tx.events["SignerSetProposed"]["executableAt"] + oracle.PROPOSAL_LIFETIME()
    mine_at(expires_at + 1)
    with reverts_with("SignerSetProposalExpired", expires_at):
        oracle.executeSignerSet(addresses, 1, 2, {"from": deployer})
    oracle.cancelSignerSet({"from": deployer})


@pytest.mark.parametrize("late", [False, True])
def test_signer_set_executable_until_expiry(oracle, signers, deployer, late):
    from backing.onchain.oracle import sorted_addresses

    addresses = sorted_addresses(signers)
    tx = oracle.proposeSignerSet(addresses, 1, 2, {"from": deployer})
    executable_at = tx.events["SignerSetProposed"]["executableAt"]
    mine_at(executable_at + (oracle.PROPOSAL_LIFETIME() - 1 if late else 0))
    oracle.executeSignerSet(addresses, 1, 2, {"from": deployer})
    assert (oracle.quorum(), oracle.disputeQuorum()) == (1, 2)

"""Oracle actors: one signer key, or the owner acting as a watcher, tries to move an agreement or to profit."""

from brownie import accounts, chain, web3

from backing.onchain.oracle import SignedOracle, deploy_oracle, return_report
from support.chain import DISPUTE_QUORUM, NMR, ORACLE_PARAMS, QUORUM, reverts_with
from support.oracle import BOND, DISPUTE_TIMEOUT, MAX_REPORT_DELAY, MID, ONE

SINK = "0x000000000000000000000000000000000000dEaD"


def mine_at(timestamp):
    chain.sleep(max(0, timestamp - chain.time()))
    chain.mine()
    while chain[-1].timestamp < timestamp:
        chain.sleep(timestamp - chain[-1].timestamp)
        chain.mine()


def locked(make_nmr_agreement, fund_nmr, modeller, alice, rounds):
    agreement, terms = make_nmr_agreement(lockup_rounds=rounds)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 2
    return agreement


def sorted_keys(signers):
    return sorted(signers, key=lambda k: int(k.address, 16))


def test_one_signer_cannot_post_alone(signed, oracle, signers):
    """Attack: one compromised signer key posts a report of its own (a -100% round). Rule: a batch needs `quorum`
    signatures: `QuorumNotMet(1, 2)`, and nothing is recorded."""
    signed.announce_through(1)
    posted = oracle.lastPostedRound(MID)
    with reverts_with("QuorumNotMet", 1, 2):
        signed.post([return_report(MID, posted + 1, -ONE)], keys=sorted_keys(signers)[:1])
    assert oracle.lastPostedRound(MID) == posted


def test_one_signer_cannot_veto_a_dispute(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider, signers, nmr_token
):
    """Attack (issue 12 M-1): one signer disputes a correct +10% report and withholds his signature, so the other
    two cannot resolve it (`QuorumNotMet(2, 3)`), hoping the agreement matures on the zero-return fallback (V = S)
    and he gets his bond back. Rule: once the dispute times out anyone expires it: the original report stands, the
    bond goes to BOND_SINK, and the agreement matures on the true value."""
    rogue, *honest = sorted_keys(signers)
    agreement = locked(make_nmr_agreement, fund_nmr, modeller, alice, 3)
    signed.announce_through(4)
    reports = [return_report(MID, r, ONE // 10) for r in range(1, 5)]
    signed.post(reports)
    rogue_account = accounts.add(rogue.key.hex())  # the signer's key, now sending its own transactions
    accounts[0].transfer(rogue_account, "1 ether")
    fund_nmr(rogue_account, BOND, oracle)
    oracle.dispute(MID, 3, {"from": rogue_account})
    with reverts_with("QuorumNotMet", 2, 3):
        signed.resolve(reports[2], keys=honest)
    mine_at(oracle.roundDueTime(4) + MAX_REPORT_DELAY + DISPUTE_TIMEOUT)
    sink = nmr_token.balanceOf(SINK)
    oracle.expireDispute(MID, 3, {"from": outsider})
    assert nmr_token.balanceOf(SINK) - sink == BOND
    assert nmr_token.balanceOf(rogue_account) == 0
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    assert agreement.finalValue() == 100 * NMR * 11**3 // 10**3


def test_owner_as_watcher_gains_nothing_from_a_failed_dispute(
    deployer, nmr_token, signers, reporter, modeller, fund_nmr
):
    """Attack (issue 12 L-2): the owner makes itself a watcher and disputes a correct report for free, since a
    forfeited bond used to come back to the owner. Rule: a dispute resolved with the disputed report itself
    forfeits the bond to BOND_SINK (0x...dEaD): the owner ends with one bond less, the sink with one more.
    (An oracle of its own, owned by a fresh account: the NMR mock refuses transfers from its own deployer.)"""
    owner = accounts.add()
    deployer.transfer(owner, "1 ether")
    oracle = deploy_oracle(deployer, nmr_token, signers, QUORUM, DISPUTE_QUORUM, ORACLE_PARAMS, owner=owner)
    assert oracle.owner() == owner
    signed = SignedOracle(oracle, signers, reporter, silent=True)
    signed.register(MID, modeller)
    signed.announce_through(1)
    oracle.setWatcher(owner, True, {"from": owner})
    fund_nmr(owner, BOND, oracle)
    report = return_report(MID, 1, ONE // 10)
    signed.post([report])
    owner_before, sink_before = nmr_token.balanceOf(owner), nmr_token.balanceOf(SINK)
    oracle.dispute(MID, 1, {"from": owner})
    tx = signed.resolve(report)
    assert tx.events["DisputeResolved"]["bondReturned"] is False
    assert nmr_token.balanceOf(owner) == owner_before - BOND == 0
    assert nmr_token.balanceOf(SINK) - sink_before == BOND
    assert nmr_token.balanceOf(oracle) == 0


def test_a_dispute_in_the_last_second_before_the_fallback(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider, watcher
):
    """Attack: the reports of a +10% lockup arrive late, just before the fallback deadline; a watcher disputes
    the last round in the last second before it, hoping the agreement then matures on the fallback (V = S, no
    gain for the backers). Rule: a pending or disputed report blocks the fallback (`RoundsOutstanding`); once
    the dispute expires the report stands and the agreement matures on the reported value."""
    agreement = locked(make_nmr_agreement, fund_nmr, modeller, alice, 3)
    signed.announce_through(4)
    fallback_at = oracle.roundDueTime(4) + MAX_REPORT_DELAY
    mine_at(fallback_at - 600)
    signed.post([return_report(MID, r, ONE // 10) for r in range(1, 5)])
    web3.provider.make_request("evm_setNextBlockTimestamp", [fallback_at - 1])
    tx = oracle.dispute(MID, 4, {"from": watcher})
    assert tx.timestamp == fallback_at - 1
    mine_at(fallback_at + oracle.challengeWindow())  # the fallback time has come, rounds 1..3 are finalizable
    with reverts_with("RoundsOutstanding", 3, 4):  # mature finalized 1..3; the disputed round 4 blocks the rest
        agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert oracle.modelInfo(MID)[3] == 0  # the failed mature changed nothing
    mine_at(tx.timestamp + DISPUTE_TIMEOUT)
    oracle.expireDispute(MID, 4, {"from": outsider})
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    assert agreement.finalValue() == 100 * NMR * 11**3 // 10**3

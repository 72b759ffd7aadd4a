"""Disputes: a watcher bonds NMR to dispute a pending report; a larger quorum resolves it, or it times out."""

import brownie
from brownie import ZERO_ADDRESS, accounts, chain

from backing.onchain.oracle import return_report
from oracle import typed_data as td
from support.chain import MAX_CLIP, MODEL_ID, expect_event, reverts_with
from support.oracle import (
    BOND,
    DISPUTE_TIMEOUT,
    DISPUTED,
    MID,
    ONE,
    OTHER,
    TOURNAMENT,
    WINDOW,
    events,
    hx,
    latest,
    norm,
    plain,
    recovered,
    report,
)


def test_set_watcher(oracle, deployer, outsider):
    assert not oracle.isWatcher(outsider)
    tx = oracle.setWatcher(outsider, True, {"from": deployer})
    expect_event(tx, "WatcherSet", watcher=outsider, allowed=True)
    assert oracle.isWatcher(outsider)
    tx = oracle.setWatcher(outsider, False, {"from": deployer})
    expect_event(tx, "WatcherSet", watcher=outsider, allowed=False)
    assert not oracle.isWatcher(outsider)
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.setWatcher(outsider, True, {"from": outsider})
    with reverts_with("ZeroAddress"):
        oracle.setWatcher(ZERO_ADDRESS, True, {"from": deployer})


def test_dispute_callers(signed, oracle, nmr_token, deployer, modeller, outsider, watcher, keys, fund_nmr, model_id):
    signed.post([return_report(MID, 1, ONE // 10)])
    for caller in (modeller, deployer, signed.sender):  # not the owner, not the relayer
        with reverts_with("NotSignerOrWatcher", caller):
            oracle.dispute(MID, 1, {"from": caller})
    oracle.setWatcher(watcher, False, {"from": deployer})
    with reverts_with("NotSignerOrWatcher", watcher):
        oracle.dispute(MID, 1, {"from": watcher})
    # a signer may dispute too (it needs gas and a bond like anyone)
    signer = accounts.add(keys[2].key)
    try:
        deployer.transfer(signer, 10**18)
        fund_nmr(signer, BOND, oracle)
        tx = oracle.dispute(MID, 1, {"from": signer})
        expect_event(
            tx,
            "ReportDisputed",
            modelId=MODEL_ID,
            round=1,
            disputer=signer,
            reportHash=hx(return_report(MID, 1, ONE // 10).struct_hash()),
            bond=BOND,
        )
        assert nmr_token.balanceOf(signer) == 0
        assert nmr_token.balanceOf(oracle) == BOND
    finally:
        accounts.remove(signer)


def test_dispute_needs_the_bond(signed, oracle, nmr_token, deployer, outsider, model_id):
    signed.post([return_report(MID, 1, 0)])
    oracle.setWatcher(outsider, True, {"from": deployer})
    nmr_token.mintTo(outsider, BOND, {"from": outsider})
    with brownie.reverts("insufficient allowance"):  # NMR's own message, bubbled up by SafeERC20
        oracle.dispute(MID, 1, {"from": outsider})
    nmr_token.transfer(deployer, 1, {"from": outsider})
    nmr_token.approve(oracle, BOND, {"from": outsider})
    with brownie.reverts("insufficient balance"):
        oracle.dispute(MID, 1, {"from": outsider})
    assert oracle.reportOf(MID, 1)[3] != DISPUTED


SINK = "0x000000000000000000000000000000000000dEaD"


def test_dispute_window_and_state_errors(signed, oracle, watcher, model_id):
    signed.announce_through(3)
    tx = signed.post([return_report(MID, 1, 0), return_report(MID, 2, 0)])
    final_at = tx.timestamp + WINDOW
    for round_ in (0, 3, 2**256 - 1):  # not posted
        with reverts_with("RoundNotPending", MID, round_):
            oracle.dispute(MID, round_, {"from": watcher})
    with reverts_with("RoundNotPending", OTHER, 1):
        oracle.dispute(OTHER, 1, {"from": watcher})
    chain.mine(timestamp=final_at - 1)
    oracle.dispute.call(MID, 2, {"from": watcher})  # still disputable in the window's last second
    chain.mine(timestamp=final_at)
    with reverts_with("ChallengeWindowOver", MID, 2, final_at):
        oracle.dispute(MID, 2, {"from": watcher, "gas_limit": 300_000})
    signed.finalize(MID, 1)
    with reverts_with("RoundNotPending", MID, 1):  # final
        oracle.dispute(MID, 1, {"from": watcher})
    with reverts_with("ChallengeWindowOver", MID, 2, final_at):  # posted, window over, not yet finalized
        oracle.dispute(MID, 2, {"from": watcher})


def test_dispute_and_resolve_with_a_different_report(
    signed, oracle, nmr_token, watcher, deployer, keys, reporter, model_id
):
    original = return_report(MID, 1, ONE // 10)
    signed.announce_through(2)
    tx = signed.post([original])
    holdings = lambda: (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer))
    assert holdings() == (BOND, 0, 0)

    tx = oracle.dispute(MID, 1, {"from": watcher})
    expect_event(
        tx,
        "ReportDisputed",
        modelId=MODEL_ID,
        round=1,
        disputer=watcher,
        reportHash=hx(original.struct_hash()),
        bond=BOND,
    )
    assert holdings() == (0, BOND, 0)
    assert plain(oracle.reportOf(MID, 1)) == norm(
        (original.struct_hash(), ONE // 10, False, DISPUTED, str(watcher), BOND)
    )
    with reverts_with("AlreadyDisputed", MID, 1):
        oracle.dispute(MID, 1, {"from": watcher})
    # posting goes on while a round is disputed; finalizing stops at it
    signed.post([return_report(MID, 2, ONE // 5)])
    chain.sleep(WINDOW + 1)
    chain.mine()
    tx = signed.finalize(MID)
    assert "RoundFinalized" not in tx.events
    assert oracle.modelInfo(MID)[3] == 0

    replacement = return_report(MID, 1, -(ONE // 20))
    deadline = chain.time() + 3600
    message = td.resolution_message(original.struct_hash(), replacement, deadline)
    sigs = td.ordered(td.sign(signed.domain, "DisputeResolution", message, keys))
    with reverts_with("QuorumNotMet", 2, 3):  # a normal quorum is not enough
        oracle.resolveDispute(replacement.as_tuple(), deadline, sigs[:2], {"from": reporter})
    # the signatures are bound to the report they replace: signed over another disputed hash, they recover
    # some other address
    wrong = td.ordered(
        td.sign(
            signed.domain,
            "DisputeResolution",
            td.resolution_message(replacement.struct_hash(), replacement, deadline),
            keys,
        )
    )
    with reverts_with("NotSigner", 0, recovered(signed.domain, "DisputeResolution", message, wrong[0])):
        oracle.resolveDispute(replacement.as_tuple(), deadline, wrong, {"from": reporter})
    tx = oracle.resolveDispute(replacement.as_tuple(), deadline, sigs, {"from": reporter})
    expect_event(
        tx,
        "DisputeResolved",
        modelId=MODEL_ID,
        round=1,
        disputedHash=hx(original.struct_hash()),
        replacementHash=hx(replacement.struct_hash()),
        roundReturn=-(ONE // 20),
        bondReturned=True,
    )
    assert holdings() == (BOND, 0, 0)  # the bond is back with the disputer, nothing lost or doubled
    assert plain(oracle.reportOf(MID, 1)) == norm(
        (replacement.struct_hash(), -(ONE // 20), False, tx.timestamp, ZERO_ADDRESS, 0)
    )
    with reverts_with("NotDisputed", MID, 1):
        oracle.resolveDispute(replacement.as_tuple(), deadline, sigs, {"from": reporter})
    with reverts_with("NotDisputed", MID, 1):
        oracle.expireDispute(MID, 1, {"from": watcher})
    # the replacement is final at once (no new window), and the later round follows
    tx = signed.finalize(MID)
    assert [(e["round"], e["roundReturn"], e["index"]) for e in events(tx, "RoundFinalized")] == [
        (1, -(ONE // 20), 95 * ONE // 100),
        (2, ONE // 5, 95 * ONE // 100 * 12 // 10),
    ]


def test_identical_replacement_forfeits_the_bond_to_the_sink(signed, oracle, nmr_token, watcher, deployer, model_id):
    original = return_report(MID, 1, ONE // 10)
    signed.post([original])
    oracle.dispute(MID, 1, {"from": watcher})
    tx = signed.resolve(original)
    expect_event(
        tx,
        "DisputeResolved",
        modelId=MODEL_ID,
        round=1,
        disputedHash=hx(original.struct_hash()),
        replacementHash=hx(original.struct_hash()),
        roundReturn=ONE // 10,
        bondReturned=False,
    )
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (0, 0, 0)
    assert nmr_token.balanceOf(SINK) == BOND  # issue 12 L-2: not the owner
    # a resolved round cannot be disputed again: its window is over
    with reverts_with("ChallengeWindowOver", MID, 1, tx.timestamp):
        oracle.dispute(MID, 1, {"from": watcher})
    tx = signed.finalize(MID)
    expect_event(
        tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=ONE // 10, missed=False, index=ONE + ONE // 10
    )


def test_resolution_errors(signed, dry, oracle, watcher, reporter, fresh_model, model_id):
    signed.announce_through(2)
    original = return_report(MID, 1, ONE // 10)
    signed.post([original])
    with reverts_with("NotDisputed", MID, 1):  # pending, not disputed
        signed.resolve(original)
    oracle.dispute(MID, 1, {"from": watcher})
    other = fresh_model()
    for replacement in (return_report(MID, 2, 0), return_report(other, 1, 0)):  # it names the round it replaces
        deadline = chain.time() + 3600
        message = td.resolution_message(original.struct_hash(), replacement, deadline)
        sigs = td.ordered(td.sign(signed.domain, "DisputeResolution", message, signed.keys))
        with reverts_with("NotDisputed", replacement.model_id, replacement.round):
            oracle.resolveDispute.call(replacement.as_tuple(), deadline, sigs, {"from": reporter})
    with reverts_with("ClipOutOfBounds", 0, MAX_CLIP):  # replacements obey the same bounds
        dry.resolve(report(clip=0))
    with reverts_with("WrongTournament", 7, TOURNAMENT):
        dry.resolve(report(tournament=7))
    with reverts_with("QuorumNotMet", 2, 3):
        dry.resolve(original, keys=signed.keys[:2])
    past = latest() - 1
    sigs = td.ordered(
        td.sign(
            signed.domain,
            "DisputeResolution",
            td.resolution_message(original.struct_hash(), original, past),
            signed.keys,
        )
    )
    with reverts_with("SignatureExpired", past):
        oracle.resolveDispute(original.as_tuple(), past, sigs, {"from": reporter})
    # a missed round is a valid replacement
    tx = signed.resolve(return_report(MID, 1, None))
    assert tx.events["DisputeResolved"]["roundReturn"] == 0
    tx = signed.finalize(MID)
    expect_event(tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=0, missed=True, index=ONE)


def test_expire_dispute_after_timeout(signed, oracle, nmr_token, watcher, deployer, outsider, model_id):
    """Issue 12 M-1: an unresolved dispute expires after disputeTimeout: the disputed report stands and the bond
    goes to BOND_SINK (the owner gains nothing); a resolution is no longer possible."""
    original = return_report(MID, 1, ONE // 10)
    signed.post([original])
    with reverts_with("NotDisputed", MID, 1):
        oracle.expireDispute(MID, 1, {"from": watcher})
    tx = oracle.dispute(MID, 1, {"from": watcher})
    expires_at = tx.timestamp + DISPUTE_TIMEOUT
    with reverts_with("DisputeTimeoutNotOver", expires_at):
        oracle.expireDispute(MID, 1, {"from": watcher})
    chain.mine(timestamp=expires_at - 1)
    with reverts_with("DisputeTimeoutNotOver", expires_at):
        oracle.expireDispute.call(MID, 1, {"from": watcher})
    chain.mine(timestamp=expires_at)
    tx = oracle.expireDispute(MID, 1, {"from": outsider, "gas_limit": 200_000})  # anyone may trigger it
    assert tx.timestamp >= expires_at
    expect_event(
        tx,
        "DisputeExpired",
        modelId=MODEL_ID,
        round=1,
        disputer=watcher,
        reportHash=hx(original.struct_hash()),
        bond=BOND,
    )
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (0, 0, 0)
    assert nmr_token.balanceOf(SINK) == BOND
    assert plain(oracle.reportOf(MID, 1))[3:] == (tx.timestamp, norm(ZERO_ADDRESS), 0)
    with reverts_with("NotDisputed", MID, 1):
        signed.resolve(return_report(MID, 1, -(ONE // 10)))
    with reverts_with("ChallengeWindowOver", MID, 1, tx.timestamp):
        oracle.dispute(MID, 1, {"from": watcher})
    tx = signed.finalize(MID)
    assert tx.events["RoundFinalized"]["index"] == ONE + ONE // 10


def test_two_disputes_keep_bonds_apart(signed, oracle, nmr_token, watcher, deployer, fund_nmr, fresh_model, model_id):
    """Two open disputes, one resolved each way: each bond goes where it should, nothing is left behind."""
    other = fresh_model()
    a, b = return_report(MID, 1, ONE // 10), return_report(other, 1, -(ONE // 10))
    signed.post([a, b])
    fund_nmr(watcher, BOND, None)
    nmr_token.approve(oracle, 0, {"from": watcher})
    nmr_token.approve(oracle, 2 * BOND, {"from": watcher})
    oracle.dispute(MID, 1, {"from": watcher})
    oracle.dispute(other, 1, {"from": watcher})
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle)) == (0, 2 * BOND)
    signed.resolve(return_report(MID, 1, 0))  # different: bond back
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (BOND, BOND, 0)
    signed.resolve(b)  # identical: bond to the sink
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (BOND, 0, 0)
    assert nmr_token.balanceOf(SINK) == BOND


def test_disputed_round_blocks_later_rounds(signed, oracle, watcher, fresh_model, model_id):
    other = fresh_model()
    signed.announce_through(3)
    signed.post([return_report(MID, r, ONE // 10) for r in (1, 2, 3)] + [return_report(other, 1, ONE // 10)])
    oracle.dispute(MID, 2, {"from": watcher})
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed._call(oracle.finalizeMany, [MID, other], 10)
    assert [(bytes(e["modelId"]), e["round"]) for e in events(tx, "RoundFinalized")] == [(MID, 1), (other, 1)]
    assert oracle.modelInfo(MID)[3] == 1
    with reverts_with("RoundNotPosted", MID, 3):
        oracle.indexAt(MID, 3)
    signed.resolve(return_report(MID, 2, ONE // 10))
    tx = signed.finalize(MID)
    assert [e["round"] for e in events(tx, "RoundFinalized")] == [2, 3]

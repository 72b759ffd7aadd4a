"""The signer set: owner-proposed, timelocked, executed by anyone; ownership cannot be renounced."""

import brownie
import eth_abi
import pytest
from brownie import chain
from eth_utils import keccak

from backing.onchain.oracle import SignedOracle, return_report, signer_keys, sorted_addresses
from support.chain import DAY, expect_event, reverts_with
from support.oracle import MID, SIGNER_SET_DELAY, expect_event_norm, hx, norm


def test_renounce_ownership_disabled(oracle, deployer, outsider):
    """Without an owner, forfeited bonds would have nowhere to go and the signer set could never change."""
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.renounceOwnership({"from": outsider})
    with brownie.reverts("RenounceDisabled: "):  # brownie renders an error without arguments so
        oracle.renounceOwnership({"from": deployer})
    assert oracle.owner() == deployer


def set_hash(addresses, quorum, dispute_quorum) -> bytes:
    return keccak(eth_abi.encode(["address[]", "uint256", "uint256"], [list(addresses), quorum, dispute_quorum]))


@pytest.fixture(scope="module")
def new_keys(keys):
    """A new set: the first current signer stays, three new keys join (quorum 3, dispute quorum 4)."""
    return sorted([keys[0]] + signer_keys(3, seed="new-oracle-signer"), key=lambda k: int(k.address, 16))


def test_propose_signer_set_reverts(oracle, deployer, outsider, new_keys):
    addresses = [k.address for k in new_keys]
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.proposeSignerSet(addresses, 3, 4, {"from": outsider})
    with reverts_with("SignerSetInvalid", 4, 3, 3):
        oracle.proposeSignerSet(addresses, 3, 3, {"from": deployer})
    with reverts_with("SignerSetInvalid", 4, 3, 5):
        oracle.proposeSignerSet(addresses, 3, 5, {"from": deployer})
    with reverts_with("SignerSetInvalid", 0, 1, 2):
        oracle.proposeSignerSet([], 1, 2, {"from": deployer})
    with reverts_with("SignersNotAscending", 3):
        oracle.proposeSignerSet(addresses[:3] + addresses[2:3], 2, 3, {"from": deployer})
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.cancelSignerSet({"from": outsider})
    with reverts_with("NoSignerSetProposed"):
        oracle.cancelSignerSet({"from": deployer})
    with reverts_with("NoSignerSetProposed"):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})


def test_signer_set_timelock(signed, oracle, deployer, outsider, reporter, keys, new_keys, model_id):
    addresses = [k.address for k in new_keys]
    proposal = set_hash(addresses, 3, 4)
    tx = oracle.proposeSignerSet(addresses, 3, 4, {"from": deployer})
    executable_at = tx.timestamp + SIGNER_SET_DELAY
    expect_event_norm(
        tx,
        "SignerSetProposed",
        setHash=proposal,
        signers=addresses,
        quorum=3,
        disputeQuorum=4,
        executableAt=executable_at,
    )
    assert (oracle.proposedSignerSet(), oracle.proposedSignerSetExecutableAt()) == (hx(proposal), executable_at)
    with reverts_with("TimelockNotOver", executable_at):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})
    for args in ((addresses, 3, 5), (addresses[:3], 2, 3), ([a.lower() for a in reversed(addresses)], 3, 4)):
        with reverts_with("SignerSetMismatch", proposal, set_hash(*args)):
            oracle.executeSignerSet(*args, {"from": outsider})
    chain.mine(timestamp=executable_at - 1)
    with reverts_with("TimelockNotOver", executable_at):
        oracle.executeSignerSet.call(addresses, 3, 4, {"from": outsider})
    # the old set still rules until then
    signed.post([return_report(MID, 1, 0)])
    chain.mine(timestamp=executable_at)
    tx = oracle.executeSignerSet(addresses, 3, 4, {"from": outsider, "gas_limit": 500_000})  # anyone executes
    assert tx.timestamp >= executable_at
    expect_event_norm(tx, "SignerSetChanged", signers=addresses, quorum=3, disputeQuorum=4)
    assert norm(oracle.signers()) == norm(addresses)
    assert (oracle.quorum(), oracle.disputeQuorum()) == (3, 4)
    assert (oracle.proposedSignerSet(), oracle.proposedSignerSetExecutableAt()) == ("0x" + "00" * 32, 0)
    assert [oracle.isSigner(k.address) for k in keys] == [k.address in addresses for k in keys]
    assert all(oracle.isSigner(a) for a in addresses)
    with reverts_with("NoSignerSetProposed"):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})

    # the removed signers' signatures no longer count (keys[0] stayed, keys[1:] were removed)
    old = SignedOracle(oracle, keys, reporter)
    r = return_report(MID, 2, 0)
    with reverts_with("NotSigner", 1, keys[1].address):
        old.post([r], keys=keys)
    with reverts_with("QuorumNotMet", 2, 3):
        old.post([r], keys=keys[:2])
    new = SignedOracle(oracle, new_keys, reporter)
    with reverts_with("QuorumNotMet", 2, 3):
        new.post([r], keys=new_keys[:2])
    new.announce_through(2)
    tx = new.post([r], keys=new_keys[1:])
    assert tx.events["RoundPosted"]["round"] == 2


def test_cancel_and_replace_proposal(oracle, deployer, outsider, new_keys, signers):
    addresses = [k.address for k in new_keys]
    first = set_hash(addresses, 3, 4)
    tx = oracle.proposeSignerSet(addresses, 3, 4, {"from": deployer})
    executable_at = tx.timestamp + SIGNER_SET_DELAY
    # a new proposal replaces the old one and restarts the clock
    chain.sleep(DAY)
    chain.mine()
    tx = oracle.proposeSignerSet(addresses, 2, 3, {"from": deployer})
    second = set_hash(addresses, 2, 3)
    assert oracle.proposedSignerSet() == hx(second)
    assert oracle.proposedSignerSetExecutableAt() == tx.timestamp + SIGNER_SET_DELAY > executable_at
    chain.mine(timestamp=executable_at)
    with reverts_with("SignerSetMismatch", second, first):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})
    with reverts_with("TimelockNotOver", tx.timestamp + SIGNER_SET_DELAY):
        oracle.executeSignerSet(addresses, 2, 3, {"from": outsider})
    tx = oracle.cancelSignerSet({"from": deployer})
    expect_event(tx, "SignerSetCancelled", setHash=hx(second))
    assert (oracle.proposedSignerSet(), oracle.proposedSignerSetExecutableAt()) == ("0x" + "00" * 32, 0)
    chain.sleep(SIGNER_SET_DELAY)
    chain.mine()
    with reverts_with("NoSignerSetProposed"):
        oracle.executeSignerSet(addresses, 2, 3, {"from": outsider})
    with reverts_with("NoSignerSetProposed"):
        oracle.cancelSignerSet({"from": deployer})
    assert norm(oracle.signers()) == norm(sorted_addresses(signers))

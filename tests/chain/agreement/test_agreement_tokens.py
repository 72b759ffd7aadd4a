"""BackingAgreement against token behaviour: NMR's quirks (transfers that return false while stopped, approve only
from or to zero, refused sources) and a token that re-enters the agreement during a transfer.

Each test uses a token of its own (the phase set's MockNMR, or ReentrantToken), so nothing here runs 4x."""

import brownie
import pytest
from brownie import BackingAgreement, ReentrantToken, web3

from backing.model.agreement import Phase
from backing.onchain.factories import deploy_factories
from support.chain import NMR, reverts_with, set_allowance

REENTRANT_CALL = bytes(web3.keccak(text="ReentrantCall()")[:4])


# ============================================================================================ NMR stopped


# action: (phase-set agreement, who calls, the call, allowance the caller needs up front: NMR's approve also
# returns false while stopped)
STOPPED_CASES = {
    "deposit": ("Open", "bob", lambda a, f: a.deposit(1, f), 100 * NMR),  # transferFrom in
    "withdraw": ("Open", "alice", lambda a, f: a.withdraw(1, f), 0),  # transfer out
    "postReserve": ("Open", "modeller", lambda a, f: a.postReserve(10 * NMR, f), 10 * NMR),
    "cancel": ("Open", "modeller", lambda a, f: a.cancel(f), 0),  # returns the reserve
    "lock": ("Open", "modeller", lambda a, f: a.lock(f), 0),  # sends the staked capital
    "repay": ("Matured", "modeller", lambda a, f: a.repay(90 * NMR, f), 90 * NMR),
    "claim-settled": ("Settled", "alice", lambda a, f: a.claim(f["from"], f), 0),
    "claim-defaulted": ("Defaulted", "alice", lambda a, f: a.claim(f["from"], f), 0),
    "claim-cancelled": ("Cancelled", "alice", lambda a, f: a.claim(f["from"], f), 0),
}


@pytest.mark.parametrize("action", list(STOPPED_CASES))
def test_nmr_stopped_transfer_returning_false_reverts(
    agreement_in_phase, nmr_token, deployer, modeller, alice, bob, action
):
    """While NMR is stopped its transfers return false instead of reverting: SafeERC20 turns that into a revert
    (SafeERC20FailedOperation), so no state changes without the NMR moving. Once restarted the call works."""
    phase_name, who, call, allowance = STOPPED_CASES[action]
    agreement = agreement_in_phase[phase_name]
    caller = {"alice": alice, "bob": bob, "modeller": modeller}[who]
    if allowance:
        nmr_token.mintTo(caller, allowance, {"from": caller})
        set_allowance(nmr_token, caller, agreement, allowance)
    if action == "deposit":  # the 50 NMR reserve covers alice's unit only: room for bob's (issue 12 L-1)
        nmr_token.mintTo(modeller, 50 * NMR, {"from": modeller})
        set_allowance(nmr_token, modeller, agreement, 50 * NMR)
        agreement.postReserve(50 * NMR, {"from": modeller})
    phase, balance = agreement.phase(), nmr_token.balanceOf(agreement)
    nmr_token.setStopped(True, {"from": deployer})
    with reverts_with("SafeERC20FailedOperation", nmr_token):
        call(agreement, {"from": caller})
    assert agreement.phase() == phase
    assert nmr_token.balanceOf(agreement) == balance
    nmr_token.setStopped(False, {"from": deployer})
    call(agreement, {"from": caller})
    assert nmr_token.balanceOf(agreement) != balance


def test_nmr_stopped_default_without_transfer(agreement_in_phase, nmr_token, deployer, outsider):
    """A default that returns no reserve moves no NMR, so it goes through while NMR is stopped."""
    agreement = agreement_in_phase["Matured"]
    nmr_token.setStopped(True, {"from": deployer})
    tx = agreement.declareDefault({"from": outsider})
    assert tx.events["Defaulted"]["reserveReturned"] == 0
    assert agreement.phase() == Phase.Defaulted


# ============================================================================================ NMR approvals


def test_nmr_approve_quirks(make_nmr_agreement, nmr_token, deployer, alice):
    agreement, terms = make_nmr_agreement()
    nmr_token.mintTo(alice, 3 * terms.unit_size, {"from": alice})
    nmr_token.approve(agreement, terms.unit_size, {"from": alice})
    # NMR refuses to change a nonzero allowance to another nonzero value through approve ...
    with brownie.reverts("approve from or to zero only"):
        nmr_token.approve(agreement, 3 * terms.unit_size, {"from": alice})
    with brownie.reverts("allowance changed"):
        nmr_token.changeApproval(agreement, 2 * terms.unit_size, 3 * terms.unit_size, {"from": alice})
    # ... changeApproval from the current value does it
    nmr_token.changeApproval(agreement, terms.unit_size, 3 * terms.unit_size, {"from": alice})
    assert nmr_token.allowance(alice, agreement) == 3 * terms.unit_size
    # the agreement's calls pass NMR's exact-calldata-length checks, and each deposit spends its allowance
    agreement.deposit(2, {"from": alice})
    assert nmr_token.allowance(alice, agreement) == terms.unit_size
    agreement.deposit(1, {"from": alice})
    assert nmr_token.allowance(alice, agreement) == 0
    nmr_token.approve(agreement, terms.unit_size, {"from": alice})  # from zero again: fine
    assert tuple(agreement.positionOf(alice)) == (3, False)
    # NMR's transferFrom refuses its owner as a source
    nmr_token.mintTo(deployer, terms.unit_size, {"from": deployer})
    nmr_token.approve(agreement, terms.unit_size, {"from": deployer})
    with brownie.reverts("forbidden source"):
        agreement.deposit(1, {"from": deployer})


# ============================================================================================ reentrancy


@pytest.fixture(scope="module")
def rtoken(deployer):
    return ReentrantToken.deploy({"from": deployer})


@pytest.fixture(scope="module")
def rfactory(rtoken, oracle, deployer):
    return deploy_factories(deployer, rtoken, oracle, series=False).agreements


@pytest.fixture
def reentrant(rtoken, rfactory, model_id, modeller, alice, bob, terms_for):
    """An agreement on ReentrantToken with a 200 NMR reserve (room for one more unit), alice 2 units, bob 1 unit."""
    terms = terms_for()
    tx = rfactory.createAgreement(terms.as_tuple(), [], {"from": modeller})
    agreement = BackingAgreement.at(tx.events["AgreementCreated"]["agreement"])
    for account, amount in ((modeller, 250 * NMR), (alice, 300 * NMR), (bob, 100 * NMR)):
        rtoken.mintTo(account, amount, {"from": account})
        rtoken.approve(agreement, amount, {"from": account})
    agreement.postReserve(200 * NMR, {"from": modeller})  # covers 4 units: a posted reserve caps the deposits
    agreement.deposit(2, {"from": alice})
    agreement.deposit(1, {"from": bob})
    return agreement


def assert_reentry_refused(rtoken):
    assert rtoken.target() == "0x" + "00" * 20  # the callback fired
    assert rtoken.lastCallSucceeded() is False
    assert bytes(rtoken.lastRevertData()) == REENTRANT_CALL


def test_reentrant_deposit(reentrant, rtoken, alice):
    rtoken.arm(reentrant, reentrant.deposit.encode_input(1), {"from": alice})
    tx = reentrant.deposit(1, {"from": alice})
    assert_reentry_refused(rtoken)
    assert tx.events["Deposited"]["backerUnits"] == 3
    assert tuple(reentrant.totals())[:2] == (4, 2)  # the token's own deposit never happened
    assert tuple(reentrant.positionOf(rtoken)) == (0, False)


def test_reentrant_withdraw(reentrant, rtoken, alice):
    rtoken.arm(reentrant, reentrant.withdraw.encode_input(1), {"from": alice})
    tx = reentrant.withdraw(1, {"from": alice})
    assert_reentry_refused(rtoken)
    assert tx.events["Withdrawn"]["backerUnits"] == 1
    assert rtoken.balanceOf(reentrant) == 200 * NMR + 2 * 100 * NMR


def test_reentrant_reserve_into_lock(reentrant, rtoken, modeller):
    rtoken.arm(reentrant, reentrant.lock.encode_input(), {"from": modeller})
    reentrant.postReserve(NMR, {"from": modeller})
    assert_reentry_refused(rtoken)
    assert reentrant.phase() == Phase.Open


def test_reentrant_claim_during_cancel_and_claim(reentrant, rtoken, modeller, alice, bob):
    """The phase is already Cancelled when the reserve goes back: only the guard stops a claim from inside."""
    rtoken.arm(reentrant, reentrant.claim.encode_input(alice), {"from": modeller})
    reentrant.cancel({"from": modeller})
    assert_reentry_refused(rtoken)
    assert tuple(reentrant.positionOf(alice)) == (2, False)
    # re-entering claim during a claim
    rtoken.arm(reentrant, reentrant.claim.encode_input(bob), {"from": alice})
    tx = reentrant.claim(alice, {"from": alice})
    assert_reentry_refused(rtoken)
    assert tx.events["Claimed"]["amount"] == 200 * NMR
    assert tuple(reentrant.positionOf(bob)) == (1, False)
    assert reentrant.claimsRemaining() == 1
    reentrant.claim(bob, {"from": bob})
    assert rtoken.balanceOf(bob) == 100 * NMR
    assert rtoken.balanceOf(reentrant) == 0


def test_reentrant_view_is_allowed(reentrant, rtoken, alice):
    """Control: the callback really runs inside the agreement's call; a view answers from there."""
    rtoken.arm(reentrant, reentrant.totals.encode_input(), {"from": alice})
    reentrant.deposit(1, {"from": alice})
    assert rtoken.lastCallSucceeded() is True

"""Time edges: an attacker sends his transaction in the last or first second of a window. Each block's
timestamp is set exactly (anvil's `evm_setNextBlockTimestamp`), so the edge is the contract's comparison, not
the test's clock."""

import brownie
from brownie import chain, web3

from backing.model.agreement import ONE
from backing.onchain.oracle import return_report
from support.chain import reverts_with
from support.oracle import BOND, MID


def at(timestamp):
    """The next block (the next transaction) lands exactly at `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def test_lock_in_the_last_second_of_the_roll_window(h, series, modeller, carol):
    """Attack (issue 12 M-2 at its edge): the modeller locks one second before the rolls' window ends, hoping an
    off-by-one lets him cut the last second of the rolls. Rule: `lock` is refused while
    `block.timestamp < rollsOpenUntil()` and succeeds in the block at exactly `rollsOpenUntil()`."""
    h.locked(0, deposits=((1, 5, 0),))
    h.open()
    h.deposit(carol, 2)
    h.reserve(1, 20 * ONE)
    h.settle(0, 11 * ONE // 10)
    until = series.rollsOpenUntil()
    h.fresh_schedule()
    at(until - 1)
    with reverts_with("RollWindowOpen", until):
        series.lock({"from": modeller})
    # the refused lock was mined at until - 1 (brownie broadcasts reverting transactions on development chains)
    assert web3.eth.get_block("latest")["timestamp"] == until - 1
    at(until)
    tx = series.lock({"from": modeller})
    assert tx.timestamp == until and series.agreement(1)["phase"] == 1


def test_dispute_in_the_last_second_of_the_challenge_window(signed, oracle, watcher, fund_nmr, nmr_token):
    """Attack: a watcher disputes at the very end of the challenge window (to delay a round he dislikes as late as
    possible), or one second too late. Rule: a dispute is accepted while `block.timestamp < finalAt` and refused
    from `finalAt` on with `ChallengeWindowOver(model, round, finalAt)`; the late one leaves the round final."""
    signed.announce_through(2)
    first, second = (return_report(MID, r, ONE // 10) for r in (1, 2))
    tx = signed.post([first, second])
    final_at = tx.timestamp + oracle.challengeWindow()
    fund_nmr(watcher, BOND, oracle)  # a second bond, for the late try
    at(final_at - 1)
    tx = oracle.dispute(MID, 1, {"from": watcher})  # the last second: accepted, the bond is taken
    assert tx.timestamp == final_at - 1 and nmr_token.balanceOf(watcher) == BOND
    at(final_at)
    with brownie.reverts(revert_pattern=rf"ChallengeWindowOver: .*, 2, {final_at}"):
        oracle.dispute(MID, 2, {"from": watcher})
    assert nmr_token.balanceOf(watcher) == BOND  # the late try took nothing
    assert signed.finalize(MID).return_value == 0  # round 1 is disputed: nothing after it finalizes yet


def test_deposit_and_outsider_cancel_at_the_end_of_the_deposit_window(h, series, alice, outsider):
    """Attack: an outsider cancels the open agreement in the last second of its deposit window (to kill a deal
    while backers can still join), or a backer deposits a second too late. Rule: deposits are taken while
    `block.timestamp <= openUntil` and refused after (`DepositWindowClosed(openUntil)`); an outsider's cancel is
    refused while `block.timestamp <= openUntil` (`OpenWindowNotOver(openUntil)`) and accepted after."""
    t = h.terms()
    h.open(t)
    open_until = t.base.open_until
    h.fund(alice, 2 * ONE)
    chain.snapshot()
    at(open_until)
    with reverts_with("OpenWindowNotOver", open_until):
        series.cancel({"from": outsider})
    chain.revert()
    at(open_until)
    tx = series.deposit(1, 0, {"from": alice})  # the last second: taken
    assert tx.timestamp == open_until
    at(open_until + 1)
    with reverts_with("DepositWindowClosed", open_until):
        series.deposit(1, 0, {"from": alice})
    at(open_until + 2)
    tx = series.cancel({"from": outsider})
    assert "SeriesCancelled" in tx.events and series.agreement(0)["phase"] == 5


def test_declare_default_at_the_end_of_the_wind_down(h, series, outsider):
    """Attack: anyone declares a default in the last second of the wind-down, before the modeller's repayment in
    the same second lands. Rule: `declareDefault` is refused while `block.timestamp <= deadline`
    (`WindDownNotOver(deadline)`), so the whole last second is the modeller's; from deadline + 1 on it succeeds."""
    h.locked(0)
    h.mature(0, 9 * ONE // 10)
    deadline = series.agreement(0)["deadline"]
    assert series.agreement(0)["amountDue"] > series.agreement(0)["repaid"]
    at(deadline)
    with reverts_with("WindDownNotOver", deadline):
        series.declareDefault(0, {"from": outsider})
    at(deadline + 1)
    tx = series.declareDefault(0, {"from": outsider})
    assert "SeriesDefaulted" in tx.events and series.agreement(0)["phase"] == 4

"""A series on a token with a transfer hook (ReentrantToken): on the next transfer it calls back into the series
once, as a hostile token (or an ERC-777-style receiver) would, in the middle of a claim."""

import pytest
from brownie import ReentrantToken, web3

from backing.model.agreement import ONE
from backing.onchain.series import ALL

GUARD = bytes(web3.keccak(text="ReentrancyGuardReentrantCall()")[:4])
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def token(deployer):
    """Replaces the suite's token: every series of this module runs on ReentrantToken."""
    return ReentrantToken.deploy({"from": deployer})


def books(series, token):
    """What the series owes by its books, and what it holds."""
    owed = sum(series.agreement(i)["balance"] for i in range(series.agreementCount()))
    return owed + series.escrow() + series.modellerCredit(), token.balanceOf(series)


def test_a_claim_cannot_be_reentered_through_the_token(h, series, token, modeller, alice, bob):
    """Attack: during the transfer that pays Alice's claim, the token calls `collect()` (anyone may call it) or
    `claim` again, hoping to be paid against books not yet updated. Rule: every function that moves the token is
    `nonReentrant` (`ReentrancyGuardReentrantCall`), and the claim updates its books before it transfers:
    Alice is paid once, and the series' books equal its balance afterwards."""
    a, b = h.locked(0, deposits=((0, 5, 0), (1, 5, 0)))
    h.settle(0, 12 * ONE // 10)
    assert series.modellerCredit() > 0
    # Alice's claim re-enters collect(); Bob's re-enters claim(Alice's position)
    for pid, owner, payload in ((a, alice, series.collect.encode_input()), (b, bob, series.claim.encode_input(a))):
        claimable = series.outcomeOf(pid)["claimable"]
        before, credit = token.balanceOf(owner), series.modellerCredit()
        token.arm(series, payload, {"from": owner})
        tx = series.claim(pid, {"from": owner})
        assert token.target() == ZERO and token.lastCallSucceeded() is False  # the callback fired and failed
        assert bytes(token.lastRevertData()) == GUARD
        assert token.balanceOf(owner) - before == claimable == tx.events["PositionClaimedFrom"]["amount"] > 0
        assert token.balanceOf(modeller) == 0 and series.modellerCredit() >= credit  # collect did not run
    owed, held = books(series, token)
    assert owed == held


def test_an_unguarded_roll_inside_a_claim_keeps_the_books(h, series, token, alice, bob, outsider):
    """Attack: `executeRoll` makes no token call and so is not `nonReentrant`; the hook runs Bob's consented roll
    in the middle of Alice's claim, hoping the two interleave (a roll counting capital the claim already paid).
    Rule: the claim's state is final before its transfer (checks, effects, interactions): the roll lands, both
    positions are done once, and the series' books equal its balance to the wei."""
    a, b = h.locked(0, deposits=((0, 5, 0), (1, 5, 0)))
    h.open()
    series.roll(b, ALL, 0, series.agreement(1)["termsHash"], {"from": bob})
    h.settle(0, 12 * ONE // 10)
    claimable = series.outcomeOf(a)["claimable"]
    held = token.balanceOf(alice)
    token.arm(series, series.executeRoll.encode_input(b), {"from": outsider})
    # gas for the roll too: the node's estimate does not count a callback that may fail without reverting
    tx = series.claim(a, {"from": alice, "gas_limit": 2_000_000})
    assert token.lastCallSucceeded() is True  # the roll ran inside the claim's transfer
    assert token.balanceOf(alice) - held == claimable == tx.events["PositionClaimedFrom"]["amount"]
    assert series.positionOf(a)["done"] and series.positionOf(b)["rolled"] > 0
    assert series.agreement(1)["capital"] == series.positionOf(b)["rolled"]
    owed, balance = books(series, token)
    assert owed == balance

"""Selling a locked series position through an approved operator (a marketplace or escrow contract settling the
sale atomically), on chain and in the reference model, to the wei."""

from dataclasses import replace

from brownie import chain

from backing.model.agreement import ONE
from backing.model.series import example_terms
from backing.onchain.series import SeriesMirror, create_series, post_lockup
from support.chain import expect_event, reverts_with


def test_operator_sells_a_position_mid_lockup(
    series_factory, model_id, modeller, deployment, token, staking, backers, outsider, signed
):
    series = create_series(series_factory, model_id, modeller, clone=deployment == "clone")
    names = {"modeller": modeller, "alice": backers[0], "bob": backers[1], "market": outsider}
    m = SeriesMirror(series, token, names, staking.address)
    t = example_terms(chain.time())
    m.open(
        replace(
            t,
            base=replace(
                t.base,
                open_until=chain.time() + 29 * 86400,
                staking_address=staking.address,
                model_id=bytes.fromhex(model_id[2:]),
            ),
        )
    )
    alice = m.deposit("alice", 10)[0]
    m.post_reserve(500 * ONE)
    m.lock()
    with reverts_with("NotOwner", outsider):
        series.transfer(alice, backers[1], ONE, {"from": outsider})
    tx = m.set_operator("alice", "market")[1]
    expect_event(tx, "OperatorSet", owner=backers[0], operator=outsider, approved=True)
    assert series.isOperator(backers[0], outsider)
    assert isinstance(m.transfer(alice, "market", "bob", 400 * ONE), Exception)  # bob has not accepted
    m.accept_transfers("bob", "market")
    m.accept_transfers("alice", "market")
    bob = m.transfer(alice, "market", "bob", 400 * ONE)[0]
    m.check()
    assert series.positionOf(bob)["owner"] == backers[1] and series.positionOf(alice)["capital"] == 600 * ONE
    # the approval is the owner's: it does not reach the buyer's position
    assert isinstance(m.transfer(bob, "market", "alice", ONE), Exception)
    m.set_operator("alice", "market", False)
    assert isinstance(m.transfer(alice, "market", "bob", ONE), Exception)
    post_lockup(signed, series, 0, 11 * ONE // 10, 12)
    chain.mine()
    m.mature(0)
    m.repay(0)
    m.claim(alice)
    m.claim(bob)
    m.check()

"""BackingSeries against the reference model (backing/series.py), to the wei: the worked example of
docs/series.md (four agreements: rollover, a committed backer leaving early, a clawback covering a loss, an
underwater late entrant, a transfer mid-lockup), on both tokens and both deployments."""

import pytest
from brownie import accounts, chain

from backing.reference import ONE
from backing.series import EXAMPLE_GROWTH, example_terms
from backing.series_chain import SeriesMirror, create_series, deploy_series_factory, post_lockup
from backing.series import SeriesTerms
from dataclasses import replace


@pytest.fixture(scope="module")
def series_factory(token, oracle, deployer):
    return deploy_series_factory(deployer, token, oracle)


@pytest.fixture
def series(series_factory, model_id, modeller, deployment):
    return create_series(series_factory, model_id, modeller, clone=deployment == "clone")


@pytest.fixture
def mirror(series, token, modeller, staking, backers, outsider):
    names = {"modeller": modeller, "alice": backers[0], "bob": backers[1], "carol": backers[2],
             "dave": backers[3], "erin": outsider}
    return SeriesMirror(series, token, names, staking.address)


def terms_now(mirror, staking, model_id) -> SeriesTerms:
    t = example_terms(chain.time())
    base = replace(t.base, open_until=chain.time() + 30 * 86400, staking_address=staking.address,
                   model_id=bytes.fromhex(model_id[2:]))
    return replace(t, base=base)


def settle(mirror, signed, index, growth):
    post_lockup(signed, mirror.series, index, growth, mirror.model.agreements[index].terms.base.lockup_rounds)
    chain.mine()
    mirror.mature(index)
    mirror.check()
    mirror.repay(index)
    mirror.check()


def test_worked_example(mirror, signed, staking, model_id):
    m = mirror
    terms = lambda: terms_now(m, staking, model_id)  # noqa: E731
    m.open(terms())
    alice = m.deposit("alice", 10, commit=3)[0]
    bob = m.deposit("bob", 5)[0]
    erin = m.deposit("erin", 2, commit=3)[0]
    m.post_reserve(850 * ONE)
    m.lock()
    m.check()
    # agreement 1 opens with the same economics; Bob consents to roll 60 NMR
    m.open(replace(terms(), base=replace(terms().base, open_until=m.model.agreements[0].terms.base.open_until)))
    m.roll(bob, "bob", amount=60 * ONE, consent_terms=True)
    settle(m, signed, 0, EXAMPLE_GROWTH[0])
    a1_alice = m.execute_roll(alice)[0]
    a1_bob = m.execute_roll(bob)[0]
    m.claim(bob)
    m.claim(erin)
    assert m.model.position(erin)[0].charged_back > 0
    m.check()
    m.post_reserve(615 * ONE, 1)
    m.lock()
    m.check()
    m.open(replace(terms(), base=replace(terms().base, open_until=m.model.agreements[0].terms.base.open_until)))
    carol = m.deposit("carol", 10)[0]
    settle(m, signed, 1, EXAMPLE_GROWTH[1])
    a2_alice = m.execute_roll(a1_alice)[0]
    a2_bob = m.roll(a1_bob, "bob")[0]
    a = m.model.agreements[2]
    m.post_reserve(a.terms.base.required_reserve(a.capital), 2)
    m.lock()
    dave = m.transfer(carol, "carol", "dave", 500 * ONE)[0]
    m.check()
    m.open(replace(terms(), base=replace(terms().base, open_until=m.model.agreements[0].terms.base.open_until)))
    settle(m, signed, 2, EXAMPLE_GROWTH[2])
    nxt = {who: m.roll(pid, who)[0] for pid, who in ((a2_alice, "alice"), (a2_bob, "bob"), (carol, "carol"),
                                                       (dave, "dave"))}
    a = m.model.agreements[3]
    m.post_reserve(a.terms.base.required_reserve(a.capital), 3)
    m.lock()
    settle(m, signed, 3, EXAMPLE_GROWTH[3])
    for who, pid in nxt.items():
        m.claim(pid)
    m.series.collect({"from": m.accounts["modeller"]})
    m.check()
    assert m.token.balanceOf(m.series) == 0

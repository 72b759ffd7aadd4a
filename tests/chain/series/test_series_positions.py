"""Series positions belong to their owners (issue 21 F1, F3, F5 and Info; issue 12 L-4), on chain and in the
reference model side by side (``SeriesMirror``: the same refusal, or the same books to the wei):

- F1: only the owner or his operator claims; a stranger (or the modeller) cannot charge back a discount, pre-empt
  a consented roll or end an under-water position; anyone still executes consented and standing rolls;
- F3 / L-4: nobody pushes a position on a receiver who did not accept transfers from the caller;
- F5: a dust cohort cannot steer the cohort cap's lift onto fresh capital (the cheapest lift is the dust's);
- Info: a consent can be revoked; ``positionOf`` shows a settled position's own mark when it equals the lock's
  lifted mark.

Runs once (NMR mock, clone)."""

from dataclasses import replace

import pytest
from brownie import chain

from backing.model.agreement import ONE, ContractError, FeeTier, Terms
from backing.model.series import MAX_COHORTS, SeriesTerms, example_terms
from backing.onchain.series import SeriesMirror, post_lockup
from support.chain import expect_event


@pytest.fixture(scope="module")
def token_kind():
    return "nmr"


@pytest.fixture(scope="module")
def deployment():
    return "clone"


@pytest.fixture
def mirror(series, token, modeller, staking, backers, outsider):
    names = {
        "modeller": modeller,
        "alice": backers[0],
        "bob": backers[1],
        "carol": backers[2],
        "dave": backers[3],
        "stranger": outsider,
    }
    return SeriesMirror(series, token, names, staking.address)


def chain_terms(staking, model_id, **kw) -> SeriesTerms:
    t = example_terms(0)
    base = replace(
        t.base,
        lockup_rounds=1,
        wind_down=3600,
        open_until=chain.time() + 29 * 86400,
        staking_address=staking.address,
        model_id=bytes.fromhex(model_id[2:]),
    )
    return replace(t, base=replace(base, **kw))


def refused(out, name):
    assert isinstance(out, ContractError) and out.name == name, out


def settle(m, signed, index, growth):
    post_lockup(signed, m.series, index, growth, m.model.agreements[index].terms.base.lockup_rounds)
    chain.mine()
    m.mature(index)
    m.repay(index)


def test_f1_a_stranger_cannot_claim_a_settled_position(mirror, signed, staking, model_id):
    """Issue 21's example: Alice 10 units committed for 3 agreements (15%), Bob 5 units consenting to roll all,
    agreement 0 settles at x1.2 while agreement 1 is open. A stranger's claim charged Alice's discount back to the
    modeller and paid Bob out; now it is refused (to the modeller too), and the keeper rolls both as agreed."""
    m = mirror
    m.open(chain_terms(staking, model_id))
    alice = m.deposit("alice", 10, commit=3)[0]
    bob = m.deposit("bob", 5)[0]
    m.post_reserve(750 * ONE)
    m.lock()
    m.open(chain_terms(staking, model_id))
    m.roll(bob, "bob")
    settle(m, signed, 0, 12 * ONE // 10)
    credit = m.series.modellerCredit()
    for caller in ("stranger", "modeller"):
        for pid in (alice, bob):
            refused(m.claim(pid, caller), "NotOwner")
    assert m.series.modellerCredit() == credit
    m.check()
    m.execute_roll(alice)
    m.execute_roll(bob)
    assert m.series.positionOf(alice)["chargedBack"] == 0
    m.check()


def test_f1_the_owners_operator_claims_for_the_owner(mirror, signed, staking, model_id, backers):
    m = mirror
    m.open(chain_terms(staking, model_id))
    carol = m.deposit("carol", 3)[0]
    m.post_reserve(150 * ONE)
    m.lock()
    settle(m, signed, 0, 9 * ONE // 10)
    m.set_operator("carol", "stranger")
    paid, tx = m.claim(carol, "stranger")
    expect_event(tx, "PositionClaimedFrom", positionId=carol, owner=backers[2], amount=paid, chargedBack=0)
    m.check()


def test_f3_l4_no_position_is_pushed_on_a_receiver(mirror, signed, staking, model_id):
    """F3: with a ladder rising at 10 units, a 1-unit push moved Dave's 9 units to the 60% tier; L-4: eight
    1-wei pushes filled his 8-position cap. Both need his acceptance now."""
    m = mirror
    m.open(chain_terms(staking, model_id, fee_ladder=(FeeTier(10, 6000),)))
    dave = m.deposit("dave", 9)[0]
    carol = m.deposit("carol", 2)[0]
    m.post_reserve(550 * ONE)
    m.lock()
    refused(m.transfer(carol, "carol", "dave", 100 * ONE), "TransferNotAccepted")
    refused(m.transfer(carol, "carol", "dave", 1), "TransferNotAccepted")
    assert list(m.series.positionsOf(0, m.accounts["dave"])[0]) == [dave]
    tx = m.accept_transfers("dave", "carol")[1]
    expect_event(tx, "TransfersAccepted", receiver=m.accounts["dave"], caller=m.accounts["carol"], accepted=True)
    m.transfer(carol, "carol", "dave", 1)
    m.accept_transfers("dave", "carol", False)
    refused(m.transfer(carol, "carol", "dave", 1), "TransferNotAccepted")
    m.set_operator("carol", "bob")  # the buyer as the seller's operator pulls to himself: no acceptance needed
    m.transfer(carol, "bob", "bob", ONE)
    settle(m, signed, 0, 12 * ONE // 10)
    m.check()


def test_a_consent_can_be_revoked(mirror, signed, staking, model_id, backers):
    m = mirror
    m.open(chain_terms(staking, model_id))
    bob = m.deposit("bob", 5)[0]
    m.post_reserve(250 * ONE)
    m.lock()
    m.open(chain_terms(staking, model_id))
    m.roll(bob, "bob", amount=ONE)
    refused(m.roll(bob, "alice", amount=0), "NotOwner")
    tx = m.roll(bob, "bob", amount=0)[1]
    expect_event(tx, "RollConsented", positionId=bob, amount=0, commitAgreements=0)
    refused(m.roll(bob, "bob", amount=0), "NoConsent")
    settle(m, signed, 0, 11 * ONE // 10)
    refused(m.execute_roll(bob), "NoConsent")
    m.claim(bob)
    m.check()


# ---------------------------------------------------------------------------------------------- F2


def reserve_for(m):
    """The reserve the latest agreement needs for the capital it holds now (less what it has)."""
    a = m.model.agreements[-1]
    t = a.terms.base
    return t.required_reserve(a.capital - a.capital * t.upfront_fee_bps // 10_000) - a.reserve


def test_f2_cancel_and_reopen_orphans_no_mark(mirror, signed, staking, model_id):
    """Issue 21 F2: the modeller cancelled the next agreement and opened another with the same terms, and every
    position waiting to roll was orphaned (`NoOpenNextAgreement`): backers re-entered as fresh capital and paid
    fees again on the recovery of a loss, and the cancel released rolled positions' held fees to the modeller.
    Rolls now go to the next agreement that is not cancelled, carrying the mark, held fees and commitment.

    Issue's run: Bob 10 units, x1.2 then x0.875 (mark 1.2): the next x1.1 (price 1.155 < 1.2) charges him no fee."""
    m = mirror
    m.open(chain_terms(staking, model_id))
    alice = m.deposit("alice", 5, commit=3)[0]
    bob = m.deposit("bob", 10)[0]
    carol = m.deposit("carol", 3)[0]
    m.post_reserve(900 * ONE)
    m.lock()
    m.open(chain_terms(staking, model_id))  # agreement 1, the one that will be cancelled
    m.roll(carol, "carol")
    settle(m, signed, 0, 12 * ONE // 10)
    bob_1 = m.roll(bob, "bob")[0]  # after settlement: at once
    carol_1 = m.execute_roll(carol)[0]
    dave_1 = m.deposit("dave", 2)[0]
    mark = m.series.price()
    assert m.series.positionOf(bob_1)["mark"] == mark == 12 * ONE // 10
    held = {pid: m.series.positionOf(pid)["held"] for pid in (bob_1, carol_1)}
    assert all(held.values())
    escrow = m.series.escrow()
    m.cancel()
    m.check()
    # the cancel keeps the rolled positions' held fees in escrow (they were released to the modeller before)
    assert m.series.escrow() == escrow
    assert {pid: m.series.positionOf(pid)["held"] for pid in held} == held

    m.open(chain_terms(staking, model_id))  # agreement 2: same terms
    bob_2 = m.roll(bob_1, "bob")[0]  # out of the cancelled agreement, on into the next one, mark and fees kept
    assert m.series.positionOf(bob_2)["mark"] == mark and m.series.positionOf(bob_2)["held"] == held[bob_1]
    alice_2 = m.execute_roll(alice)[0]  # the standing roll of agreement 0's commitment goes on into agreement 2
    assert m.series.positionOf(alice_2)["commitEnd"] == 2
    refused(m.roll(dave_1, "dave"), "WrongPhase")  # fresh capital in a cancelled agreement is only paid back
    paid = m.claim(dave_1)[0]
    assert paid == 2 * 100 * ONE
    m.check()
    m.post_reserve(reserve_for(m))
    credit = m.series.modellerCredit()
    m.lock()  # Carol stayed in the cancelled agreement: she left the series, her held fees go to the modeller
    assert m.series.positionOf(carol_1)["held"] == 0
    assert m.series.modellerCredit() - credit >= held[carol_1]
    m.check()
    refused(m.roll(carol_1, "carol"), "NoOpenNextAgreement")
    m.claim(carol_1)

    m.open(chain_terms(staking, model_id))
    m.roll(bob_2, "bob")
    settle(m, signed, 2, 875 * ONE // 1000)
    bob_3 = m.execute_roll(bob_2)[0]
    m.post_reserve(reserve_for(m))
    m.lock()
    settle(m, signed, 3, 11 * ONE // 10)
    assert m.series.price() < mark
    assert m.series.outcomeOf(bob_3)["fee"] == 0  # no fee on the recovery of a loss below his mark
    m.claim(bob_3)
    m.check()


def test_f2_a_commitment_rolls_across_several_cancelled_agreements(mirror, signed, staking, model_id):
    """Two cancels in a row: a position rolled into the first keeps waiting (poke does not release its held
    fees) and rolls on into the third agreement opened after agreement 0."""
    m = mirror
    m.open(chain_terms(staking, model_id))
    bob = m.deposit("bob", 4)[0]
    m.post_reserve(200 * ONE)
    m.lock()
    settle(m, signed, 0, 13 * ONE // 10)
    for _ in range(2):
        m.open(chain_terms(staking, model_id))
        pid = m.roll(bob, "bob")[0]
        held = m.series.positionOf(pid)["held"]
        m.cancel()
        m.series.poke(pid, {"from": m.accounts["stranger"]})
        assert m.series.positionOf(pid)["held"] == held > 0
        m.check()
        bob = pid
    m.open(chain_terms(staking, model_id))
    last = m.roll(bob, "bob")[0]
    assert m.series.agreement(3)["capital"] == m.series.positionOf(last)["capital"] > 0
    assert m.series.positionOf(last)["mark"] == 13 * ONE // 10
    m.check()


# ---------------------------------------------------------------------------------------------- F5 and positionOf

# eight losses, each agreement adding fresh capital at a new price; the last loss (x0.995) is the smallest, so
# the ratio rule lifted the ninth lock's fresh capital to the mark just above it, kept alive by a 1-wei roll
GROWTHS = [
    9 * ONE // 10,
    95 * ONE // 100,
    8 * ONE // 10,
    97 * ONE // 100,
    85 * ONE // 100,
    9 * ONE // 10,
    93 * ONE // 100,
    995 * ONE // 1000,
]
NAMES = ["alice", "bob", "carol", "dave"]


def small_terms(staking, model_id) -> SeriesTerms:
    base = Terms(
        unit_size=10 * ONE,
        min_units=1,
        max_units=1000,
        profit_share_bps=2000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=1,
        open_until=chain.time() + 29 * 86400,
        wind_down=7 * 86400,
        staking_address=staking.address,
        model_id=bytes.fromhex(model_id[2:]),
    )
    return SeriesTerms(base, clawback_bps=2500, clawback_agreements=1)


def test_f5_dust_cannot_steer_the_lift_and_position_of_shows_the_settled_mark(mirror, signed, staking, model_id):
    m = mirror
    dust = fresh = None
    for k in range(len(GROWTHS) + 1):
        m.open(small_terms(staking, model_id))
        if k:
            for pid, p in sorted(m.model.agreements[k - 1].positions.items()):
                amount = 1 if k == len(GROWTHS) and p.agreement == k - 1 and pid == fresh else None
                new = m.roll(pid, p.owner, amount=amount)[0]
                if amount == 1:
                    dust = new
        fresh = m.deposit(NAMES[k % 4], 50 if k == len(GROWTHS) else 1 + k)[0]
        a = m.model.agreements[k]
        m.post_reserve(a.terms.base.required_reserve(a.capital), k)
        tx = m.lock()[1]
        if k < len(GROWTHS):
            settle(m, signed, k, GROWTHS[k])
    # the ninth lock: nine marks; the dust cohort (mark P_start of agreement 7) is lifted, not the fresh capital
    last = len(GROWTHS)
    a = m.model.agreements[last]
    assert m.model.live_cohorts(last) == MAX_COHORTS
    lower, upper = tx.events["CohortsMerged"]["lower"], tx.events["CohortsMerged"]["upper"]
    assert (
        (lower, upper)
        == a.cap_merges[0]
        == (m.model.agreements[last - 1].p_start, m.model.agreements[last - 2].p_start)
    )
    assert m.series.positionOf(fresh)["mark"] == a.p_start == a.positions[fresh].mark
    assert m.series.positionOf(dust)["mark"] == upper
    m.check()
    # a gain to exactly the lifted mark: the fresh capital's new mark equals liftedFrom, and positionOf shows it
    p_start = a.p_start
    for growth in range(lower * ONE // p_start - 3, lower * ONE // p_start + 4):
        chain.snapshot()
        post_lockup(signed, m.series, last, growth, 1)
        chain.mine()
        v = m.series.agreement(last)
        si, ei, _, _ = m._oracle().settlementIndices(m.series.modelId(), v["startRound"], v["startRound"])
        if p_start * ei // si == lower:
            break
        chain.revert()
    else:
        raise AssertionError("no growth reaches the lifted mark exactly")
    m.mature(last)
    m.repay(last)
    assert a.positions[fresh].mark == lower and a.positions[fresh].fee > 0
    assert m.series.positionOf(fresh)["mark"] == lower
    m.check()
    for pid in sorted(a.positions):
        m.claim(pid)
    m.check()

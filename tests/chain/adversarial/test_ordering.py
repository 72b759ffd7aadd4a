"""Ordering and MEV: an attacker chooses the order of transactions (or bundles them) to skip a step someone
else needed, or to win a race."""

import pytest
from brownie import chain

from backing.model.agreement import ONE
from backing.onchain.oracle import return_report
from backing.onchain.series import ALL, wait_for_rolls
from support.chain import NMR, expect_event, reverts_with
from support.oracle import MAX_REPORT_DELAY, MID


def mine_at(timestamp):
    chain.sleep(max(0, timestamp - chain.time()))
    chain.mine()
    while chain[-1].timestamp < timestamp:
        chain.sleep(timestamp - chain[-1].timestamp)
        chain.mine()


def test_settle_and_lock_in_one_bundle_is_refused(h, series, modeller, alice, bob, carol, outsider):
    """Attack (issue 12 M-2): the modeller repays agreement 0 and locks agreement 1 in the same bundle, so no
    consented or standing roll can run: consents lapse, underwater backers lose their marks, held fees are
    released at once. Rule: after a settlement the next lock waits ROLL_WINDOW (`RollWindowOpen(until)`, the time
    `rollsOpenUntil()` shows); inside the window the rolls run, and only then does the lock succeed."""
    a, b = h.locked(0, deposits=((0, 5, 3), (1, 5, 0)))
    h.open()
    series.roll(b, ALL, 0, series.agreement(1)["termsHash"], {"from": bob})
    fresh = h.deposit(carol, 2).return_value  # enough fresh capital to lock without the rolls
    h.reserve(1, 20 * ONE)
    tx = h.settle(0, 12 * ONE // 10)
    until = series.rollsOpenUntil()
    assert until == tx.timestamp + series.ROLL_WINDOW() > tx.timestamp
    with reverts_with("RollWindowOpen", until):
        series.lock({"from": modeller})
    assert series.agreement(1)["phase"] == 0
    # the keeper runs both rolls inside the window
    rolled = [series.executeRoll(pid, {"from": outsider}) for pid in (a, b)]
    assert chain[-1].timestamp < until
    with reverts_with("RollWindowOpen", until):  # still inside the window: still refused
        series.lock({"from": modeller})
    wait_for_rolls(series)
    h.fresh_schedule()
    tx = series.lock({"from": modeller})
    assert series.agreement(1)["phase"] == 1
    for roll_tx, owner in zip(rolled, (alice, bob)):
        new = roll_tx.events["PositionRolled"]["newPositionId"]
        p = series.positionOf(new)
        assert p["owner"] == owner and p["agreement"] == 1 and p["capital"] > 0
        assert p["mark"] == 12 * ONE // 10  # the marks survived into the locked agreement
    rolled_capital = sum(series.positionOf(r.return_value)["capital"] for r in rolled)
    assert tx.events["SeriesLocked"]["capital"] == rolled_capital + series.positionOf(fresh)["capital"]


def test_mature_before_finalize_uses_the_reported_rounds(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider
):
    """Attack (issue 12 L-3): every round of the lockup was posted (+10% each) but nobody called `finalize`; once
    the fallback time has come, whoever gains from zero returns calls `mature` first, hoping for V = S. Rule:
    `mature` finalizes the finalizable rounds first, so the result equals the finalized index, not the fallback."""
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 2
    signed.announce_through(4)
    signed.post([return_report(MID, r, ONE // 10) for r in range(1, 5)])
    mine_at(oracle.roundDueTime(4) + MAX_REPORT_DELAY + 1)
    assert oracle.modelInfo(MID)[3] == 0  # nothing finalized yet
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    assert oracle.modelInfo(MID)[3] == 4  # mature finalized them
    expected = 100 * NMR * oracle.indexAt(MID, 4) // oracle.indexAt(MID, 1)
    assert agreement.finalValue() == expected == 100 * NMR * 11**3 // 10**3
    assert agreement.finalValue() != 100 * NMR  # not the fallback's V = S


@pytest.mark.parametrize("first", ["claim", "executeRoll"])
def test_execute_roll_racing_the_owners_claim(h, series, token, bob, outsider, parties, first):
    """Attack: a keeper's `executeRoll` of Bob's consented roll and Bob's own `claim` land in the same block, in
    either order. Rule: a position ends once (`PositionClaimed` for the second), and NMR is conserved to the wei:
    the claim pays Bob exactly his claimable amount, the roll moves it inside the series and pays nobody."""
    (b,) = h.locked(0, deposits=((1, 5, 0),))
    h.open()
    series.roll(b, ALL, 0, series.agreement(1)["termsHash"], {"from": bob})
    h.settle(0, 12 * ONE // 10)
    claimable = series.outcomeOf(b)["claimable"]
    assert claimable > 0
    supply, before = token.totalSupply(), parties()
    held_bob = token.balanceOf(bob)
    if first == "claim":
        tx = series.claim(b, {"from": bob})
        expect_event(tx, "PositionClaimedFrom", positionId=b, owner=bob, amount=claimable, chargedBack=0)
        with reverts_with("PositionClaimed", b):
            series.executeRoll(b, {"from": outsider})
        assert token.balanceOf(bob) - held_bob == claimable
    else:
        tx = series.executeRoll(b, {"from": outsider})
        new = tx.events["PositionRolled"]["newPositionId"]
        with reverts_with("PositionClaimed", b):
            series.claim(b, {"from": bob})
        assert token.balanceOf(bob) == held_bob
        assert series.positionOf(new)["owner"] == bob and series.positionOf(new)["agreement"] == 1
        assert series.agreement(1)["capital"] == series.positionOf(new)["capital"] > 0
    after = parties()
    assert token.totalSupply() == supply
    assert sum(after.values()) == sum(before.values())
    moved = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    if first == "claim":
        assert moved == {bob.address: claimable, series.address: -claimable}
    else:
        assert moved == {}  # nothing left the series


def test_deposit_front_running_lock(h, series, token, modeller, alice, outsider, parties):
    """Attack (issue 12 L-1, series): the modeller posted the reserve for the capital he saw; an outsider
    front-runs `lock` with a deposit so the reserve no longer covers the stake. Rule: once a reserve is posted, a
    fresh deposit that would take the stake beyond what it covers is refused (`DepositBeyondReserve(required,
    reserve)`), so the modeller's lock goes through; up to the covered capital deposits are still taken, and
    after a top-up more."""
    h.open()
    h.deposit(alice, 4)
    h.reserve(0, 2 * ONE)  # 50% of 4 units: covers exactly the 4 units deposited
    h.fund(outsider, 10 * ONE)
    supply, before = token.totalSupply(), parties()
    with reverts_with("DepositBeyondReserve", 5 * ONE // 2, 2 * ONE):
        series.deposit(1, 0, {"from": outsider})
    with reverts_with("DepositBeyondReserve", 7 * ONE, 2 * ONE):
        series.deposit(10, 0, {"from": outsider})
    assert parties() == before
    h.reserve(0, ONE)  # the modeller chooses to take 2 more units: 3 NMR cover 6
    series.deposit(2, 0, {"from": outsider})
    with reverts_with("DepositBeyondReserve", 7 * ONE // 2, 3 * ONE):
        series.deposit(1, 0, {"from": outsider})
    tx = series.lock({"from": modeller})
    assert tx.events["SeriesLocked"]["staked"] == 6 * ONE and tx.events["SeriesLocked"]["reserve"] == 3 * ONE
    assert token.totalSupply() == supply + ONE  # only the modeller's newly minted top-up


def test_deposit_front_running_agreement_lock(make_agreement, fund, token, modeller, alice, outsider):
    """Attack (issue 12 L-1, single agreement): as above on a BackingAgreement (100-NMR units, reserve 50% of the
    stake, 2% upfront fee). The modeller posts the reserve that covers alice's 4 units; the outsider's deposit
    before `lock` is refused with `DepositBeyondReserve`, nothing moves, and the lock succeeds. Deposits before any
    reserve is posted are not capped (the modeller posts the reserve after them and sees what he covers); a
    withdrawal or a top-up makes room again."""
    agreement, terms = make_agreement(upfront_fee_bps=200)
    unit = terms.unit_size
    fund(alice, 4 * unit, agreement)
    agreement.deposit(4, {"from": alice})
    covered = terms.reserve_for_capital(4 * unit)
    assert covered == 196 * NMR  # 50% of 392 NMR staked
    fund(modeller, covered, agreement)
    agreement.postReserve(covered, {"from": modeller})
    fund(outsider, 10 * unit, agreement)
    held = token.balanceOf(outsider)
    with reverts_with("DepositBeyondReserve", terms.reserve_for_capital(5 * unit), covered):
        agreement.deposit(1, {"from": outsider})
    assert token.balanceOf(outsider) == held and agreement.totals()["totalUnits"] == 4
    tx = agreement.lock({"from": modeller})
    assert tx.events["Locked"]["stakedCapital"] == 392 * NMR and tx.events["Locked"]["reserve"] == covered


def test_a_posted_reserve_still_takes_the_deposits_it_covers(make_agreement, fund, modeller, alice, bob):
    """The cap is exactly the reserve's cover, rounding included (the required reserve rounds up): with an odd
    unit size the last unit it covers is taken, the next refused; a withdrawal frees room for another backer."""
    agreement, terms = make_agreement(unit_size=100 * NMR + 7, reserve_ratio_bps=12_345, upfront_fee_bps=300)
    unit = terms.unit_size
    reserve = terms.reserve_for_capital(3 * unit)
    fund(modeller, reserve, agreement)
    agreement.postReserve(reserve, {"from": modeller})
    fund(alice, 4 * unit, agreement)
    assert agreement.depositRoom() == 3 and agreement.terms()["maxUnits"] == terms.max_units == 100
    agreement.deposit(3, {"from": alice})
    assert agreement.depositRoom() == 0
    with reverts_with("DepositBeyondReserve", terms.reserve_for_capital(4 * unit), reserve):
        agreement.deposit(1, {"from": alice})
    agreement.withdraw(1, {"from": alice})
    fund(bob, unit, agreement)
    agreement.deposit(1, {"from": bob})
    agreement.lock({"from": modeller})
    assert agreement.reserve() == reserve == terms.reserve_for_capital(3 * unit)
    assert agreement.depositRoom() == 0 and agreement.terms()["maxUnits"] == 100


def test_a_reserve_posted_after_the_deposits_caps_them_where_they_are(make_agreement, fund, modeller, alice, bob):
    """Deposits made before any reserve are not capped; a reserve posted after them that covers fewer units keeps
    what is held (nothing is refunded) and stops further deposits; beyond the offer's capacity the error stays
    `CapacityExceeded`. A top-up raises the cap to what the larger reserve covers (at most the offer)."""
    agreement, terms = make_agreement(max_units=10)  # 100-NMR units, reserve 50% of the stake, no fee
    fund(alice, 6 * terms.unit_size, agreement)
    agreement.deposit(6, {"from": alice})
    fund(modeller, 300 * NMR, agreement)
    agreement.postReserve(100 * NMR, {"from": modeller})  # covers 2 of the 6 units held
    assert agreement.depositRoom() == 0 and agreement.totals()["totalUnits"] == 6
    fund(bob, 5 * terms.unit_size, agreement)
    with reverts_with("DepositBeyondReserve", 350 * NMR, 100 * NMR):
        agreement.deposit(1, {"from": bob})
    with reverts_with("CapacityExceeded", 5, 0):
        agreement.deposit(5, {"from": bob})
    agreement.postReserve(200 * NMR, {"from": modeller})  # 300 NMR cover 6 units
    assert agreement.depositRoom() == 0
    fund(modeller, 200 * NMR, agreement)
    agreement.postReserve(200 * NMR, {"from": modeller})  # 500 NMR cover the whole offer of 10
    assert agreement.depositRoom() == 4
    agreement.deposit(4, {"from": bob})
    with reverts_with("CapacityExceeded", 1, 0):
        agreement.deposit(1, {"from": bob})
    agreement.lock({"from": modeller})

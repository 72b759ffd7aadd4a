"""Dust griefing: an attacker sprays 1-wei amounts at a victim or keeps 1-wei positions alive to get in the
way of other people's positions, caps and settlements."""

from dataclasses import replace

from brownie import chain

from backing.model.agreement import ONE
from backing.onchain.series import ALL, wait_for_rolls
from support.chain import reverts_with

DUST_GROWTH = 1_234_567_890_123_456_789  # an odd price move, so the per-position split leaves dust


def test_one_wei_pushes_onto_a_victim_are_refused(h, series, alice, bob, outsider, token):
    """Attack (issue 12 L-4, issue 21 F3): the attacker splits his position into many 1-wei transfers onto the
    victim to fill the victim's 8-position cap (so the victim cannot deposit or roll) or to move him up a fee tier.
    Rule: a transfer needs the receiver's `acceptTransfers(sender)`: every push is refused with
    `TransferNotAccepted(receiver, sender)` and the victim's books are untouched."""
    (victim, attacker) = h.locked(0, deposits=((0, 5, 0), (1, 5, 0)))
    before = series.positionsOf(0, alice)
    balance = token.balanceOf(series)
    for _ in range(9):
        with reverts_with("TransferNotAccepted", alice, bob):
            series.transfer(attacker, alice, 1, {"from": bob})
    assert series.positionsOf(0, alice) == before
    assert list(series.positionsOf(0, alice)[0]) == [victim]
    assert series.positionOf(victim)["capital"] == 5 * ONE
    assert series.positionOf(attacker)["capital"] == 5 * ONE
    assert token.balanceOf(series) == balance
    # accepting someone else does not open the door to the attacker
    series.acceptTransfers(outsider, True, {"from": alice})
    with reverts_with("TransferNotAccepted", alice, bob):
        series.transfer(attacker, alice, 1, {"from": bob})


def test_last_claim_sweeps_the_dust_and_leaves_zero(h, series, token, modeller, backers, outsider):
    """Attack: rounding leaves dust behind in a settled agreement, and an attacker hopes it stays stuck (or pays
    him) by claiming last, or that a 1-wei donation keeps the agreement's books from closing. Rule: claims round
    down, the last claim sweeps what is left to the modeller's credit (`AgreementDustSwept`), and the series ends
    the agreement with a zero balance: nothing is stuck, and nobody got more than his claimable amount."""
    ids = h.locked(0, deposits=((0, 3, 0), (1, 5, 0), (2, 7, 0)))
    h.settle(0, DUST_GROWTH)
    token.mintTo(outsider, 1, {"from": outsider})
    token.transfer(series, 1, {"from": outsider})  # a 1-wei donation outside the books
    claimable = {pid: series.outcomeOf(pid)["claimable"] for pid in ids}
    assert all(claimable.values())
    owed = series.agreement(0)["balance"]
    credit, escrow = series.modellerCredit(), series.escrow()
    for who, pid in zip(backers, ids):
        held = token.balanceOf(who)
        tx = series.claim(pid, {"from": who})
        assert token.balanceOf(who) - held == claimable[pid]
        last = pid == ids[-1]
        assert ("AgreementDustSwept" in tx.events) == last
    swept = tx.events["AgreementDustSwept"]["amount"]
    assert tx.events["AgreementDustSwept"]["index"] == 0
    assert series.agreement(0)["balance"] == 0
    assert swept > 0
    # to the wei: what the agreement held went to the backers, to the modeller's credit (fees and the sweep)
    # and to the escrow (held fees); the donated wei stays outside every book
    credited, escrowed = series.modellerCredit() - credit, series.escrow() - escrow
    assert sum(claimable.values()) + credited + escrowed == owed and credited >= swept
    # everything the series still holds is the modeller's credit (plus the donated wei, which no one owns)
    assert token.balanceOf(series) == series.modellerCredit() + series.escrow() + 1
    series.collect({"from": outsider})
    assert token.balanceOf(series) == series.escrow() + 1


def test_one_wei_roll_cannot_keep_a_claimed_position_alive(h, series, bob, outsider):
    """Attack: roll 1 wei of a settled position (to keep its old mark alive as a cohort) and then still claim
    or roll the rest twice. Rule: a partial roll ends the position (the remainder is claimable once), any second
    roll or claim is `PositionClaimed`."""
    (b,) = h.locked(0, deposits=((1, 5, 0),))
    h.open()
    h.settle(0, 9 * ONE // 10)
    claimable = series.outcomeOf(b)["claimable"]
    tx = series.roll(b, 1, 0, series.agreement(1)["termsHash"], {"from": bob})
    dust = tx.events["PositionRolled"]["newPositionId"]
    assert series.positionOf(dust)["capital"] == 1 and series.positionOf(dust)["mark"] == ONE
    with reverts_with("PositionClaimed", b):
        series.roll(b, ALL, 0, series.agreement(1)["termsHash"], {"from": bob})
    paid = series.claim(b, {"from": bob}).events["PositionClaimedFrom"]["amount"]
    assert paid == claimable - 1 and claimable > 0
    with reverts_with("PositionClaimed", b):
        series.claim(b, {"from": bob})


# eight losses, each agreement adding fresh capital at a new price; the last loss (x0.995) is the smallest, so a
# rule lifting the closest pair of marks would lift the ninth lock's fresh capital onto the 1-wei cohort's mark
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


def test_one_wei_roll_cannot_steer_the_cohort_lift_onto_fresh_capital(h, series, modeller, backers, outsider):
    """Attack (issue 21 F5): eight falling agreements leave eight marks alive (every position rolls on); for the
    ninth the attacker rolls only 1 wei of his agreement-7 position, so a 1-wei cohort sits at agreement 7's
    price just above the victim's large fresh deposit, hoping the cohort cap (8 marks) lifts the victim's capital
    to that mark (so it pays a fee on a recovery it never lost). Rule: the cap lifts the cohort whose lift costs
    least, the 1-wei one: `CohortsMerged(8, P_7, P_6)`, the victim keeps mark P_8, the dust is lifted to P_6."""
    t = h.terms(max_units=1000)
    live = []  # (position, owner) rolling on
    starts = []
    dust = victim = None
    for k in range(len(GROWTHS) + 1):
        h.open(replace(t, base=replace(t.base, open_until=chain.time() + 29 * 86400)))
        terms_hash = series.agreement(k)["termsHash"]
        last = k == len(GROWTHS)
        rolled = []
        for pid, owner in live:
            amount = 1 if last and pid == live[-1][0] else ALL  # the attacker's fresh agreement-7 position
            new = series.roll(pid, amount, 0, terms_hash, {"from": owner}).return_value
            rolled.append((new, owner))
            if amount == 1:
                dust = new
        owner = backers[3] if last else backers[k % 3]
        fresh = h.deposit(owner, 50 if last else 2 + k).return_value
        live = rolled + [(fresh, owner)]
        h.reserve(k, series.agreement(k)["capital"])
        wait_for_rolls(series)
        h.fresh_schedule()
        tx = series.lock({"from": modeller})
        starts.append(series.agreement(k)["priceStart"])
        if not last:
            h.settle(k, GROWTHS[k])
        else:
            victim = fresh
    assert len(set(starts)) == 9 and starts == sorted(starts, reverse=True)
    assert series.positionOf(dust)["capital"] == 1
    assert tx.events["SeriesLocked"]["cohorts"] == 8
    merged = tx.events["CohortsMerged"]
    assert len(merged) == 1
    assert (merged[0]["index"], merged[0]["lower"], merged[0]["upper"]) == (8, starts[7], starts[6])
    assert series.positionOf(victim)["mark"] == starts[8]  # the victim's fresh capital is not lifted
    assert series.positionOf(victim)["capital"] == 50 * ONE
    assert series.positionOf(dust)["mark"] == starts[6]

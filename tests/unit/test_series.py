"""The series reference model (backing.model.series): rules, errors, the late-entrant and double-charge cases, the
cohort
cap, and property tests over random series. docs/series.md's worked example is checked against the model."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backing.model.agreement import BPS, ONE, Agreement, ContractError, FeeTier, Phase, Terms
from backing.model.series import (
    MAX_CLAWBACK_AGREEMENTS,
    SERIES,
    STAKING,
    Commitment,
    Series,
    SeriesTerms,
    example_terms,
    worked_example,
)
from support.series import check_invariants

M = "modeller"
DOC = Path(__file__).resolve().parents[2] / "docs" / "series.md"


def terms(**kw) -> SeriesTerms:
    base = {k: kw.pop(k) for k in list(kw) if k in Terms.__dataclass_fields__}
    t = example_terms(0, **kw)
    return SeriesTerms(Terms(**{**t.base.__dict__, **base}), t.clawback_bps, t.clawback_agreements, t.commitments)


def run(s: Series, index: int, growth: int, repay: bool = True) -> int:
    """Post the reserve, lock agreement ``index``, mature it at ``growth`` (1e18 = flat), repay in full."""
    a = s.agreements[index]
    t = a.terms.base
    s.post_reserve(M, t.required_reserve(a.capital - a.capital * t.upfront_fee_bps // BPS) + 1, index)
    s.lock(M, lockable(s))
    due = s.mature(1, ONE, growth)
    if repay and due:
        s.repay(M, due, 0)
    return due


def lockable(s: Series) -> int:
    """The first time the latest agreement may lock: after the rolls' window (issue 12 M-2; the tests' clock is 0
    until then, and the terms' deposit windows run for a day)."""
    return s.lockable_at()


def fees_of(s: Series, pid: int) -> int:
    return sum(e[3] for e in s.fee_events if e[0] == pid)


# ---------------------------------------------------------------------------------------------- the cases of issue 3


def test_late_entrant_pays_and_early_backer_is_not_charged_twice():
    """A pays at 1 -> 1.2, loses to 0.96; late B enters at 0.96. At 0.96 -> 1.152 only B pays (A recovers to
    its mark first). At 1.152 -> 1.3824 A pays on 1.2 -> 1.3824 only, B on 1.152 -> 1.3824; they merge.
    A single per-share mark (Enzyme, dHEDGE) would let B ride free to 1.2 or charge A again from 0.96."""
    t = terms(clawback_bps=0, clawback_agreements=0, commitments=())
    s = Series(M)
    s.open_agreement(M, t, 0)
    a0 = s.deposit("A", 10, 0)
    run(s, 0, 12 * ONE // 10)
    assert s.agreements[0].positions[a0].fee == 200 * ONE * 2000 // BPS
    s.open_agreement(M, t, 0)
    a1 = s.roll(a0, "A")
    run(s, 1, 8 * ONE // 10)
    assert s.price == 96 * ONE // 100
    s.open_agreement(M, t, 0)
    b2 = s.deposit("B", 10, 0)
    a2 = s.roll(a1, "A")
    run(s, 2, 12 * ONE // 10)
    ag = s.agreements[2]
    assert ag.positions[a2].fee == 0 and ag.positions[a2].mark == 12 * ONE // 10  # underwater: recovers first
    assert ag.positions[b2].fee == 200 * ONE * 2000 // BPS  # the late entrant pays on its own gain
    assert s.live_cohorts(2) == 2
    s.open_agreement(M, t, 0)
    a3, b3 = s.roll(a2, "A"), s.roll(b2, "B")
    run(s, 3, 12 * ONE // 10)
    ag = s.agreements[3]
    pa, pb = ag.positions[a3], ag.positions[b3]
    # A's mark value is its staked capital scaled by mark / P_start = 1.2 / 1.152, rounded up
    assert ag.p_start == 1152 * ONE // 1000
    assert pa.fee == (pa.value - -(-pa.staked * 12 * ONE // 10 // ag.p_start)) * 2000 // BPS > 0
    assert pb.fee == (pb.value - pb.staked) * 2000 // BPS
    assert pa.mark == pb.mark == s.price
    # over the whole series A paid 20% of exactly the gain above its successive marks
    assert [(e[1], e[2]) for e in s.fee_events if e[0] in (a0, a3)] == [
        (ONE, 12 * ONE // 10),
        (12 * ONE // 10, s.price),
    ]


def test_single_agreement_matches_reference_payouts():
    """One agreement, fresh backers, no clawback: every backer's claim equals backing.model.agreement to the wei."""
    base = Terms(
        unit_size=7 * ONE + 3,
        min_units=1,
        max_units=100,
        profit_share_bps=2500,
        burn_share_bps=4000,
        reserve_ratio_bps=3000,
        upfront_fee_bps=150,
        lockup_rounds=4,
        open_until=100,
        wind_down=3600,
        fee_ladder=(FeeTier(5, 2000), FeeTier(9, 1000)),
    )
    for growth in (ONE + 123456789, 13 * ONE // 10, ONE, 7 * ONE // 10 + 11):
        s = Series(M)
        s.open_agreement(M, SeriesTerms(base), 0)
        ref = Agreement(base, M)
        ids = {}
        for who, units in (("a", 1), ("b", 5), ("c", 11)):
            ids[who] = s.deposit(who, units, 0)
            ref.deposit(who, units, 0)
        reserve = base.required_reserve(s.agreements[0].capital - s.agreements[0].capital * 150 // BPS)
        s.post_reserve(M, reserve)
        ref.post_reserve(M, reserve)
        s.lock(M, lockable(s))
        ref.lock(M, 0, 1)
        due = s.mature(1, ONE, growth)
        if due:
            s.repay(M, due, 0)
        m = ref.mature(1, ONE, growth)
        if m.amount_due:
            ref.repay(M, m.amount_due)
        for who, pid in ids.items():
            assert s.claim(pid) == ref.claim(who), (growth, who)
        assert s.balance == 0


def test_clawback_covers_the_payers_loss_before_the_reserve():
    s = Series(M)
    t = terms()
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0)
    b = s.deposit("B", 10, 0)
    run(s, 0, 12 * ONE // 10)
    held_a = s.agreements[0].positions[a].held_new
    assert held_a == 40 * ONE * 2500 // BPS == 10 * ONE
    s.open_agreement(M, t, 0)
    a1 = s.roll(a, "A")
    c1 = s.deposit("C", 12, 0)  # fresh capital: no held fees, no clawback
    s.claim(b)  # B leaves: his held fees go to the modeller at once
    assert s.log[-1][:4] == ("release", b, 10 * ONE, M)
    run(s, 1, 9 * ONE // 10)
    ag = s.agreements[1]
    pa, pc = ag.positions[a1], ag.positions[c1]
    assert pa.clawback == 10 * ONE  # its whole escrow, less than its loss of 116
    assert pa.cover == (pa.staked - pa.value - pa.clawback) * 5000 // BPS
    assert pc.clawback == 0 and pc.cover == (pc.staked - pc.value) * 5000 // BPS
    assert ("clawback", a1, 10 * ONE, "A") in s.log


def test_clawback_window_releases_to_modeller():
    s = Series(M)
    t = terms(clawback_agreements=1)
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0)
    run(s, 0, 12 * ONE // 10)
    s.open_agreement(M, t, 0)
    a1 = s.roll(a, "A")
    run(s, 1, 11 * ONE // 10)  # window (agreement 1) ends at its settlement: released
    released = [x for x in s.log if x[0] == "release" and x[1] == a1]
    assert released == [("release", a1, 10 * ONE, M)]
    assert s.agreements[1].positions[a1].held == {1 + 1: s.agreements[1].positions[a1].held_new}


def test_default_forfeits_held_fees_to_their_payers_and_ends_the_series():
    s = Series(M)
    t = terms()
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0)
    run(s, 0, 12 * ONE // 10)
    s.open_agreement(M, t, 0)
    a1 = s.roll(a, "A")
    run(s, 1, 11 * ONE // 10, repay=False)
    s.open_agreement(M, t, 0)
    fresh = s.deposit("F", 3, 0)
    with pytest.raises(ContractError) as e:
        s.declare_default(1)
    assert e.value.name == "WindDownNotOver"
    s.declare_default(10**9)
    assert s.ended and s.agreements[2].phase == Phase.Cancelled
    p = s.agreements[1].positions[a1]
    assert ("forfeit", a1, 10 * ONE, "A") in s.log
    got = s.claim(a1)  # the whole reserve (the pool, less a few wei of rounding) + its own held fees
    assert s.agreements[1].reserve + 10 * ONE - 10 <= got <= s.agreements[1].reserve + 10 * ONE
    assert s.claim(fresh) == 300 * ONE
    assert s.escrow == 0 and p.held == {}
    with pytest.raises(ContractError) as e:
        s.open_agreement(M, t, 0)
    assert e.value.name == "SeriesEnded"


def test_commitment_discount_and_charge_back():
    s = Series(M)
    t = terms()
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0, commit=3)
    b = s.deposit("B", 10, 0, commit=3)
    c = s.deposit("C", 10, 0, commit=3)
    run(s, 0, 12 * ONE // 10)
    pa = s.agreements[0].positions[a]
    assert pa.rate == 1500 and pa.fee == 30 * ONE and pa.discount == 10 * ONE
    with pytest.raises(ContractError):  # no next agreement yet: not early, but nothing to roll into either
        s.roll(a, "A")
    s.open_agreement(M, t, 0)
    claim_b = s.agreements[0].positions[b].claimable
    assert s.claim(b) == claim_b - 10 * ONE  # leaves early: the 10 NMR discount charged back
    half = s.roll(c, "C", amount=585 * ONE)  # rolls half: half the discount charged back, half carried
    pc = s.agreements[0].positions[c]
    assert pc.charged_back == 5 * ONE and s.agreements[1].positions[half].discount == 5 * ONE
    assert s.claim(c) == 585 * ONE - 5 * ONE
    with pytest.raises(ContractError) as e:
        s.roll(a, "A", commit=3)
    assert e.value.name == "AlreadyCommitted"
    a1 = s.execute_roll(a)  # standing commitment: anyone may execute it
    assert s.agreements[1].positions[a1].commit_end == 2


def test_commitment_is_free_when_terms_change_or_the_next_agreement_locked():
    s = Series(M)
    s.open_agreement(M, terms(), 0)
    a = s.deposit("A", 10, 0, commit=3)
    b = s.deposit("B", 10, 0, commit=3)
    run(s, 0, 12 * ONE // 10)
    s.open_agreement(M, terms(burn_share_bps=4000), 0)  # new economics: the commitment no longer binds
    claim_a = s.agreements[0].positions[a].claimable
    assert s.claim(a) == claim_a
    with pytest.raises(ContractError) as e:
        s.execute_roll(b)
    assert e.value.name == "NoConsent"
    s.deposit("C", 5, 0)
    run(s, 1, ONE)
    assert s.claim(b) == s.agreements[0].positions[b].owed  # nobody rolled it; free to leave


def test_transfer_carries_mark_held_fees_commitment_and_recomputes_tier():
    base_ladder = (FeeTier(10, 1000),)
    t = terms(fee_ladder=base_ladder)
    s = Series(M)
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 20, 0, commit=3)
    r0 = s.deposit("R", 6, 0)
    run(s, 0, 12 * ONE // 10)
    s.open_agreement(M, t, 0)
    a1 = s.roll(a, "A")
    s.roll(r0, "R")
    run_lock = s.agreements[1]
    s.post_reserve(M, 10**30, 1)
    s.lock(M, lockable(s))
    pa = run_lock.positions[a1]
    held, disc, cap = dict(pa.held), pa.discount, pa.capital
    for to, name in (
        (M, "TransferToModeller"),
        (SERIES, "TransferToAgreement"),
        (STAKING, "TransferToAgreement"),
        ("A", "TransferToSelf"),
    ):
        with pytest.raises(ContractError) as e:
            s.transfer(a1, "A", to, ONE)
        assert e.value.name == name
    with pytest.raises(ContractError) as e:
        s.transfer(a1, "R", "X", ONE)
    assert e.value.name == "NotOwner"
    with pytest.raises(ContractError) as e:
        s.transfer(a1, "A", "X", cap // 4)
    assert e.value.name == "TransferNotAccepted"  # X never accepted transfers from A
    s.accept_transfers("X", "A", True)
    s.accept_transfers("R", "A", True)
    with pytest.raises(ContractError) as e:
        s.transfer(a1, "A", "X", cap + 1)
    assert e.value.name == "InsufficientCapital"
    r = s.transfer(a1, "A", "R", cap // 4)
    pr = run_lock.positions[r]
    assert pr.mark == pa.mark and pr.commitment_key() == pa.commitment_key()
    assert sum(pr.held.values()) + sum(pa.held.values()) == sum(held.values())
    assert pr.discount + pa.discount == disc
    s.mature(1, ONE, 11 * ONE // 10)
    # R's total is its own 6.96 units + a quarter of A's 23.4: 12 units, so the lower tier (10%, below the
    # committed 15% the transferred part carries); A keeps 17 units: 10%
    assert pr.rate == 1000 and pa.rate == 1000
    assert run_lock.positions[r].commit_end == 2


def test_cap_rule_lifts_the_cheapest_pair():
    """max_cohorts = 2. Marks 1.5 (A), 1.2 (B) and a new entrant C at 1.1, 10 units each: lifting C to 1.2 forgoes
    the fee on a tenth, lifting B to 1.5 on a quarter, so C is lifted (it rides free from 1.1 to 1.2); no one is
    charged twice."""
    t = terms(clawback_bps=0, clawback_agreements=0, commitments=())
    s = Series(M, max_cohorts=2)
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0)
    run(s, 0, 15 * ONE // 10)
    s.open_agreement(M, t, 0)
    a = s.roll(a, "A")
    run(s, 1, 2 * ONE // 3)  # price 1.0 (floor)
    s.open_agreement(M, t, 0)
    a, b = s.roll(a, "A"), s.deposit("B", 10, 0)
    run(s, 2, 12 * ONE // 10)
    s.open_agreement(M, t, 0)
    a, b = s.roll(a, "A"), s.roll(b, "B")
    run(s, 3, 11 * ONE // 12)
    p12 = s.agreements[2].p_end
    s.open_agreement(M, t, 0)
    a, b, c = s.roll(a, "A"), s.roll(b, "B"), s.deposit("C", 10, 0)
    s.post_reserve(M, 10**30, 4)
    s.lock(M, lockable(s))
    ag = s.agreements[4]
    assert ag.cap_merges == [(ag.p_start, p12)]
    assert ag.positions[c].mark == p12 == ag.positions[b].mark
    assert s.live_cohorts(4) == 2


def test_cap_ties_merge_the_lowest_pair():
    s = Series(M, max_cohorts=2)
    s.open_agreement(M, terms(), 0)
    ag = s.agreements[0]
    from backing.model.series import Position

    for pid, mark in ((1, 100), (2, 200), (3, 400)):
        ag.positions[pid] = Position(pid, f"o{pid}", 0, capital=1, mark=mark)
    s._apply_cap(ag)
    assert ag.cap_merges == [(100, 200)]


# ---------------------------------------------------------------------------------------------- errors


def expect(name, fn, *args, **kw):
    with pytest.raises(ContractError) as e:
        fn(*args, **kw)
    assert e.value.name == name, e.value
    return e.value


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(clawback_bps=BPS + 1), "ClawbackTooHigh"),
        (dict(clawback_agreements=MAX_CLAWBACK_AGREEMENTS + 1), "ClawbackWindowTooLong"),
        (dict(clawback_bps=0), "ClawbackHalfSet"),
        (dict(commitments=tuple(Commitment(i, 100) for i in range(2, 7))), "TooManyCommitments"),
        (dict(commitments=(Commitment(1, 100),)), "CommitmentNotAscending"),
        (dict(commitments=(Commitment(3, 100), Commitment(3, 50))), "CommitmentNotAscending"),
        (dict(commitments=(Commitment(9, 100),)), "CommitmentNotAscending"),
        (dict(commitments=(Commitment(2, BPS + 1),)), "CommitmentShareTooHigh"),
        (dict(unit_size=0), "UnitSizeOutOfRange"),
    ],
)
def test_terms_errors(kw, name):
    expect(name, Series(M).open_agreement, M, terms(**kw), 0)


def test_phase_and_caller_errors():
    s = Series(M)
    expect("NoAgreement", s.deposit, "A", 1, 0)
    expect("NotModeller", s.open_agreement, "A", terms(), 0)
    s.open_agreement(M, terms(), 0)
    expect("NextAlreadyOpen", s.open_agreement, M, terms(), 0)
    expect("ZeroAmount", s.deposit, "A", 0, 0)
    expect("DepositWindowClosed", s.deposit, "A", 1, 10**9)
    expect("CapacityExceeded", s.deposit, "A", 1001, 0)
    expect("NoSuchCommitment", s.deposit, "A", 1, 0, commit=2)
    a = s.deposit("A", 2, 0)
    expect("InsufficientUnits", s.withdraw, "A", 3)
    s.withdraw("A", 1)
    expect("OpenWindowNotOver", s.cancel, "X", 0)
    expect("ReserveTooSmall", s.lock, M, 0)
    expect("NotModeller", s.lock, "A", 0)
    s.post_reserve(M, 100 * ONE)
    s.lock(M, lockable(s))
    expect("WrongPhase", s.deposit, "A", 1, 0)
    expect("WrongPhase", s.claim, a)
    expect("NoOpenNextAgreement", s.roll, a, "A")
    s.open_agreement(M, terms(), 0)
    expect("NotOwner", s.roll, a, "B")
    expect("TermsMismatch", s.roll, a, "A", terms=terms(profit_share_bps=1))
    expect("NoConsent", s.roll, a, "A", amount=0)  # nothing to revoke
    expect("RoundsOutstanding", s.mature, 1, ONE, ONE, last_final=3)
    expect("PreviousNotSettled", s.lock, M, 0)
    s.mature(1, ONE, 2 * ONE)
    expect("RepaymentExceedsDue", s.repay, M, 10**30, 0)
    expect("WrongPhase", s.execute_roll, a)
    s.repay(M, s.agreements[0].due, 0)
    expect("NoConsent", s.execute_roll, a)
    s.claim(a)
    expect("PositionClaimed", s.claim, a)
    expect("PositionClaimed", s.roll, a, "A")
    expect("UnknownPosition", s.claim, 999)
    expect("BelowMinCapital", s.lock, M, 0)
    s.cancel(M, 0)
    assert s.agreements[1].phase == Phase.Cancelled


def test_nothing_to_roll_after_a_wipe_out():
    s = Series(M)
    s.open_agreement(M, terms(), 0)
    a = s.deposit("A", 1, 0)
    s.post_reserve(M, 10**20)
    s.lock(M, lockable(s))
    s.open_agreement(M, terms(), 0)
    s.roll(a, "A")
    s.mature(1, ONE, 0)  # V = 0: the reserve covers the burn share
    s.repay(M, 1, 0) if s.agreements[0].phase == Phase.Matured else None
    assert s.agreements[0].positions[a].claimable == 50 * ONE
    assert s.ended and s.price == 0
    s2 = Series(M)
    s2.open_agreement(M, terms(burn_share_bps=0, reserve_ratio_bps=0), 0)
    b = s2.deposit("B", 1, 0)
    s2.lock(M, lockable(s2))
    s2.open_agreement(M, terms(), 0)
    s2.roll(b, "B")
    s2.mature(1, ONE, 0)
    # wiped out: the open agreement is cancelled at once (issue 21 F4), so nothing rolls or deposits into it
    assert s2.ended and s2.agreements[1].phase == Phase.Cancelled
    expect("NoOpenNextAgreement", s2.execute_roll, b)
    expect("WrongPhase", s2.deposit, "C", 1, 0)


def test_a_wiped_out_series_cancels_its_open_agreement():
    """Issue 21 F4: the price reaches 0 while the next agreement is open: it is cancelled at once (its capital
    back to its depositors, the reserve to the modeller), not left taking deposits until someone cancels it."""
    s = Series(M)
    s.open_agreement(M, terms(), 0)
    a = s.deposit("A", 1, 0)
    s.post_reserve(M, 10**20)
    s.lock(M, lockable(s))
    s.open_agreement(M, terms(), 0)
    b = s.deposit("B", 2, 0)
    s.post_reserve(M, 7 * ONE, 1)
    s.mature(1, ONE, 0)
    assert s.price == 0 and s.ended
    nxt = s.agreements[1]
    assert nxt.phase == Phase.Cancelled and nxt.reserve_returned == 7 * ONE
    expect("WrongPhase", s.deposit, "C", 1, 0)
    expect("NoOpenNextAgreement", s.roll, a, "A")
    assert s.claim(b) == 200 * ONE
    check_invariants(s)


def test_one_live_agreement_at_a_time():
    """Issue 12 H-1: lock 0; open 1 and cancel it; open 2: it cannot lock while 0 runs (only index - 1 was
    checked, so 0 and 2 ran at once and the later settlement set the price). Once 0 settles, 2 locks at 0's end
    price, and a backer rolled from a flat agreement pays no fee in a flat agreement."""
    s = Series(M)
    t = terms(clawback_bps=0, clawback_agreements=0, commitments=())
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0)
    run(s, 0, 12 * ONE // 10, repay=False)  # 0 matured, not repaid: still live
    s.open_agreement(M, t, 0)
    s.cancel(M, 0)
    s.open_agreement(M, t, 0)
    b = s.deposit("B", 5, 0)
    s.post_reserve(M, 10**30, 2)
    e = expect("PreviousNotSettled", s.lock, M, 0)
    assert e.args_ == (0,)
    check_invariants(s)
    s.repay(M, s.agreements[0].due, 0)
    s.lock(M, lockable(s))
    assert s.agreements[2].p_start == s.agreements[0].p_end == 12 * ONE // 10
    check_invariants(s)
    s.mature(1, ONE, ONE)  # flat
    s.repay(M, s.agreements[2].due, 0) if s.agreements[2].phase == Phase.Matured else None
    assert s.agreements[2].positions[b].fee == 0 and s.price == 12 * ONE // 10
    check_invariants(s)
    assert a in s.agreements[0].positions


# ---------------------------------------------------------------------------------------------- worked example


def test_worked_example_matches_the_doc():
    s, lines = worked_example()
    doc = DOC.read_text()
    block = "\n".join(lines)
    assert block in doc, "docs/series.md's worked example is stale: regenerate it with `python -m backing.model.series`"
    assert s.balance == 0 and s.escrow == 0
    check_invariants(s)


# ---------------------------------------------------------------------------------------------- properties


BACKERS = ["b0", "b1", "b2", "b3"]


@st.composite
def series_terms(draw):
    ladder = draw(st.sampled_from([(), (FeeTier(5, 1500),), (FeeTier(3, 2500), FeeTier(12, 1000))]))
    cb = draw(st.sampled_from([(0, 0), (2500, 1), (5000, 2), (BPS, 4)]))
    return terms(
        unit_size=draw(st.sampled_from([ONE, 10 * ONE + 7, 3])),
        profit_share_bps=draw(st.sampled_from([0, 2000, 5000, BPS])),
        burn_share_bps=draw(st.sampled_from([0, 5000, BPS])),
        reserve_ratio_bps=draw(st.sampled_from([0, 1000, 5000])),
        upfront_fee_bps=draw(st.sampled_from([0, 100])),
        fee_ladder=ladder,
        clawback_bps=cb[0],
        clawback_agreements=cb[1],
        commitments=draw(st.sampled_from([(), (Commitment(2, 1000), Commitment(4, 500))])),
    )


GROWTHS = st.one_of(st.integers(ONE // 2, 17 * ONE // 10), st.sampled_from([ONE, 0, ONE + 1, ONE - 1]))


def roll_actions(draw, s: Series, prev) -> None:
    for p in list(prev.positions.values()):
        if p.done:
            continue
        action = draw(st.sampled_from(["all", "part", "claim", "execute", "none"]))
        try:
            if action == "all":
                s.roll(p.id, p.owner, commit=draw(st.sampled_from([None, 2])))
            elif action == "part":
                s.roll(p.id, p.owner, amount=draw(st.integers(1, max(1, p.claimable))))
            elif action == "claim":
                s.claim(p.id)
            elif action == "execute":
                s.execute_roll(p.id)
        except ContractError as e:
            assert e.name in (
                "NoSuchCommitment",
                "NoConsent",
                "CapacityExceeded",
                "NothingToRoll",
                "AlreadyCommitted",
                "PositionClaimed",
            ), e
        check_invariants(s)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_series(data):
    """Random series: new or same terms, fresh units with or without commitments, consents before maturity,
    whole and partial rolls after it, claims, transfers mid-lockup (some refused), gains, losses, wipe-outs,
    partial repayments and defaults, cancelled agreements; the invariants after every step."""
    draw = data.draw
    s = Series(M, max_cohorts=draw(st.sampled_from([2, 3, 8])))
    t = draw(series_terms())
    for _ in range(draw(st.integers(2, 6))):
        if s.ended:
            break
        if not s.agreements or s.agreements[-1].phase != Phase.Open:
            if draw(st.booleans()):
                t = draw(series_terms())
            s.open_agreement(M, t, 0)
        a = s.agreements[-1]
        prev = s.agreements[a.index - 1] if a.index else None
        if prev is not None and prev.phase == Phase.Settled:
            roll_actions(draw, s, prev)
        for _ in range(draw(st.integers(0, 3))):
            try:
                s.deposit(
                    draw(st.sampled_from(BACKERS)),
                    draw(st.integers(1, 15)),
                    0,
                    commit=draw(st.sampled_from([None, 2, 4])),
                )
            except ContractError as e:
                assert e.name in ("NoSuchCommitment", "CapacityExceeded")
        tb = a.terms.base
        if a.capital < tb.min_units * tb.unit_size:
            s.cancel(M, 0)
            check_invariants(s)
            for p in list(a.positions.values()):
                s.claim(p.id)
            check_invariants(s)
            continue
        s.post_reserve(M, tb.required_reserve(a.capital) + draw(st.integers(1, 10**18)))
        s.lock(M, lockable(s))
        check_invariants(s)
        for _ in range(draw(st.integers(0, 2))):
            p = draw(st.sampled_from(sorted(a.positions.values(), key=lambda x: x.id)))
            to = draw(st.sampled_from(BACKERS + [M]))
            if draw(st.booleans()):
                s.accept_transfers(to, p.owner, True)
            try:
                s.transfer(p.id, p.owner, to, draw(st.integers(1, p.capital)))
            except ContractError as e:
                assert e.name in ("TransferToModeller", "TransferToSelf", "TransferNotAccepted")
            check_invariants(s)
        if draw(st.booleans()):  # the next agreement opens before maturity; some consent to roll into it
            t = draw(series_terms()) if draw(st.booleans()) else t
            s.open_agreement(M, t, 0)
            for p in list(a.positions.values()):
                if draw(st.booleans()):
                    s.roll(p.id, p.owner, amount=draw(st.sampled_from([None, ONE, 10**30])))
        start = draw(st.sampled_from([ONE, 3 * ONE + 1]))
        due = s.mature(1, start, start * draw(GROWTHS) // ONE)
        check_invariants(s)
        if due and draw(st.integers(0, 7)) == 0:
            if due > 1 and draw(st.booleans()):
                s.repay(M, draw(st.integers(1, due - 1)), 0)
            s.declare_default(10**9)
        elif due:
            s.repay(M, due, 0)
        check_invariants(s)
    # wind up: whatever is still matured defaults, everyone claims what is left
    for a in s.agreements:
        if a.phase == Phase.Matured:
            s.declare_default(10**9)
        if a.phase == Phase.Open and not s.ended:
            s.cancel(M, 0)
        for p in list(a.positions.values()):
            if not p.done and a.phase in (Phase.Settled, Phase.Defaulted, Phase.Cancelled):
                s.claim(p.id)
        check_invariants(s)
    locked = any(a.phase == Phase.Locked for a in s.agreements)
    for a in s.agreements:
        if a.phase != Phase.Locked:
            assert a.balance == 0, (a.index, a.phase)
    assert locked or s.escrow == 0


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([2, 3]),
    st.lists(st.integers(7 * ONE // 10, 13 * ONE // 10), min_size=4, max_size=9),
    st.lists(st.integers(1, 9), min_size=9, max_size=9),
)
def test_cap_pressure(cap, growths, units):
    """Everyone rolls, a fresh backer enters every agreement, prices swing: cohorts pile up under water and the cap
    rule has to merge; the invariants (never twice, mark = max(entry, paid), cap) hold throughout."""
    s = Series(M, max_cohorts=cap)
    t = terms(clawback_bps=5000, clawback_agreements=2, commitments=())
    held = []
    for k, g in enumerate(growths):
        s.open_agreement(M, t, 0)
        held = [s.roll(pid, s.position(pid)[0].owner) for pid in held]
        held.append(s.deposit(f"f{k}", units[k], 0))
        run(s, k, g)
        check_invariants(s)
        assert s.live_cohorts(k) <= cap
    for pid in held:
        s.claim(pid)
    check_invariants(s)
    assert s.escrow == 0 and all(a.balance == 0 for a in s.agreements)


def test_an_approved_operator_transfers_for_the_owner_until_revoked():
    """A marketplace or escrow the owner approved settles a sale (position against payment) for him."""
    s = Series(M)
    s.open_agreement(M, terms(), 0)
    a = s.deposit("A", 10, 0)
    a0 = s.agreements[0]
    s.post_reserve(M, 10**30, 0)
    s.lock(M, lockable(s))
    with pytest.raises(ContractError) as e:
        s.transfer(a, "market", "B", ONE)
    assert e.value.name == "NotOwner"
    s.set_operator("A", "market", True)
    s.accept_transfers("B", "market", True)
    s.accept_transfers("A", "market", True)
    b = s.transfer(a, "market", "B", 100 * ONE)
    assert a0.positions[b].owner == "B" and a0.positions[a].capital == 900 * ONE
    with pytest.raises(ContractError) as e:
        s.transfer(b, "market", "C", ONE)  # approved by A, not by B
    assert e.value.name == "NotOwner"
    s.set_operator("A", "market", False)
    with pytest.raises(ContractError) as e:
        s.transfer(a, "market", "B", ONE)
    assert e.value.name == "NotOwner"


def test_a_full_next_agreement_cannot_break_a_standing_roll():
    """Issue 12 M-3: the modeller (or anyone) fills the next agreement so that a committed backer's standing roll
    fails (`CapacityExceeded`) while he is still charged back for leaving early. A roll that continues a
    commitment is never refused for capacity: it runs (the agreement may go past its cap; deposits stop)."""
    s = Series(M)
    t = terms(max_units=25)
    s.open_agreement(M, t, 0)
    a = s.deposit("A", 10, 0, commit=3)
    run(s, 0, 12 * ONE // 10)
    discount = s.agreements[0].positions[a].discount
    assert discount > 0
    s.open_agreement(M, t, 0)
    s.deposit(M, 25, 0)  # the next agreement is full
    a1 = s.execute_roll(a)
    nxt = s.agreements[1]
    assert nxt.positions[a1].capital == s.agreements[0].positions[a].rolled > 0
    assert nxt.capital > 25 * t.base.unit_size and s.agreements[0].positions[a].charged_back == 0
    assert nxt.positions[a1].discount == discount  # carried, not charged
    e = expect("CapacityExceeded", s.deposit, "B", 1, 0)
    assert e.args_ == (100 * ONE, 0)
    check_invariants(s)


# ---------------------------------------------------------------------------------------------- issue 21 / issue 12 L-4


def _settled_with_commitment_and_consent():
    """Alice 10 units committed for 3 agreements, Bob 5 units consenting to roll all; agreement 0 settles at x1.2
    while agreement 1 is open (issue 21's F1 example)."""
    s = Series(M)
    s.open_agreement(M, terms(), 0)
    alice = s.deposit("alice", 10, 0, commit=3)
    bob = s.deposit("bob", 5, 0)
    s.post_reserve(M, 10**30, 0)
    s.lock(M, lockable(s))
    s.open_agreement(M, terms(), 0)
    s.roll(bob, "bob")
    s.mature(1, ONE, 12 * ONE // 10)
    s.repay(M, s.agreements[0].due, 0)
    return s, alice, bob


def test_f1_a_stranger_cannot_end_a_position():
    """F1: a stranger's claim would charge Alice back her discount and pre-empt Bob's consented roll; only the
    owner or his operator may claim, and anyone may still execute a consented or standing roll."""
    s, alice, bob = _settled_with_commitment_and_consent()
    before = dict(s.transfers)
    for pid in (alice, bob):
        expect("NotOwner", s.claim, pid, "stranger")
        expect("NotOwner", s.claim, pid, M)
    assert s.transfers == before and not s.position(alice)[0].done and not s.position(bob)[0].done
    assert s.execute_roll(bob) and s.execute_roll(alice)  # the keeper runs the rolls as consented
    assert s.position(alice)[0].charged_back == 0


def test_f1_the_owner_or_his_operator_claims_and_the_owner_is_paid():
    s, alice, bob = _settled_with_commitment_and_consent()
    s.set_operator("alice", "escrow", True)
    paid = s.claim(alice, "escrow")  # leaves early: the charge-back is the owner's (operator's) choice
    assert paid and s.transfers["alice"] == -1000 * ONE + paid and "escrow" not in s.transfers
    assert s.claim(bob) == s.position(bob)[0].owed


def test_f3_l4_nobody_pushes_a_position_on_a_receiver_who_did_not_accept():
    """F3: a push across a rising ladder raised a 999-NMR position's fee; L-4: 1-wei pushes fill the receiver's
    8-position cap. A transfer needs the receiver: he is the caller or accepts transfers from the caller."""
    t = terms(unit_size=ONE, max_units=2000, fee_ladder=(FeeTier(1000, 6000),))
    s = Series(M)
    s.open_agreement(M, t, 0)
    victim = s.deposit("victim", 999, 0)
    pusher = s.deposit("pusher", 10, 0)
    s.post_reserve(M, 10**30, 0)
    s.lock(M, lockable(s))
    expect("TransferNotAccepted", s.transfer, pusher, "pusher", "victim", ONE)  # re-tiering
    expect("TransferNotAccepted", s.transfer, pusher, "pusher", "victim", 1)  # one of eight 1-wei pushes
    assert s.positions_of("victim", 0) == [victim]
    s.accept_transfers("victim", "pusher", True)
    s.transfer(pusher, "pusher", "victim", 1)
    s.accept_transfers("victim", "pusher", False)
    expect("TransferNotAccepted", s.transfer, pusher, "pusher", "victim", 1)
    # a buyer's own call needs no acceptance: the seller's operator (here the buyer himself) pulls to himself
    s.set_operator("pusher", "buyer", True)
    assert s.agreements[0].positions[s.transfer(pusher, "buyer", "buyer", ONE)].owner == "buyer"


def test_f5_dust_cannot_steer_the_merge_onto_fresh_capital():
    """F5: max_cohorts = 2. B's mark 1.5, a 1-wei dust roll of D keeps mark 1.2 alive, F enters fresh at 1.15.
    The ratio rule lifted F's capital to the dust mark 1.2 (F then skipped the fee on 1.15 -> 1.2); the merge now
    lifts the cohort whose lift forgoes the least fee, the dust."""
    t = terms(clawback_bps=0, clawback_agreements=0, commitments=())
    s = Series(M, max_cohorts=2)
    s.open_agreement(M, t, 0)
    b = s.deposit("B", 10, 0)
    run(s, 0, 15 * ONE // 10)  # 1.5
    s.open_agreement(M, t, 0)
    b = s.roll(b, "B")
    run(s, 1, 8 * ONE // 10)  # 1.2
    s.open_agreement(M, t, 0)
    b, d = s.roll(b, "B"), s.deposit("D", 1, 0)
    run(s, 2, 115 * ONE // 120)  # 1.15
    s.open_agreement(M, t, 0)
    b, d, f = s.roll(b, "B"), s.roll(d, "D", amount=1), s.deposit("F", 10, 0)
    s.post_reserve(M, 10**30, 3)
    s.lock(M, lockable(s))
    a = s.agreements[3]
    assert a.cap_merges == [(12 * ONE // 10, 15 * ONE // 10)]  # the dust is lifted, not F
    assert a.positions[f].mark == a.p_start < 12 * ONE // 10
    s.mature(1, ONE, 120 * ONE // 115)
    assert a.positions[f].fee > 0 and a.positions[d].fee == 0
    check_invariants(s)


def test_a_consent_can_be_revoked():
    """Info: roll(amount=0) revokes a consent; a commitment's standing roll is not a consent and stays."""
    s = Series(M)
    s.open_agreement(M, terms(), 0)
    alice = s.deposit("alice", 10, 0, commit=3)
    bob = s.deposit("bob", 5, 0)
    s.post_reserve(M, 10**30, 0)
    s.lock(M, lockable(s))
    s.open_agreement(M, terms(), 0)
    s.roll(bob, "bob", amount=ONE)
    expect("NotOwner", s.roll, bob, "alice", amount=0)
    s.roll(bob, "bob", amount=0)
    expect("NoConsent", s.roll, bob, "bob", amount=0)
    expect("NoConsent", s.roll, alice, "alice", amount=0)
    s.mature(1, ONE, 12 * ONE // 10)
    s.repay(M, s.agreements[0].due, 0)
    expect("NoConsent", s.execute_roll, bob)
    assert s.execute_roll(alice)


def test_f2_cancel_and_reopen_keeps_marks_held_fees_and_commitments():
    """Issue 21 F2 in the model: Bob's 10 units make x1.2 (mark 1.2) and roll into agreement 1, which the modeller
    cancels; agreement 2 opens with the same terms. Bob rolls on with his mark and held fees, Alice's standing
    commitment of agreement 0 rolls into agreement 2, fresh capital of the cancelled agreement is only paid back;
    after x0.875 and x1.1 (price 1.155, below his mark) Bob has paid no second fee."""
    s = Series(M)
    t = terms()
    s.open_agreement(M, t, 0)
    alice = s.deposit("A", 5, 0, commit=3)
    bob = s.deposit("B", 10, 0)
    run(s, 0, 12 * ONE // 10)
    s.open_agreement(M, t, 0)
    bob_1 = s.roll(bob, "B")
    dave = s.deposit("D", 2, 0)
    held = dict(s.agreements[1].positions[bob_1].held)
    escrow = s.escrow
    assert held and s.agreements[1].positions[bob_1].mark == 12 * ONE // 10
    s.cancel(M, 0)
    assert s.escrow == escrow and s.agreements[1].positions[bob_1].held == held  # nothing released by the cancel
    expect("NoOpenNextAgreement", s.roll, bob_1, "B")  # nothing open yet
    s.open_agreement(M, t, 0)
    assert s.agreements[2].cancelled_before == 1
    bob_2 = s.roll(bob_1, "B")
    assert s.agreements[2].positions[bob_2].mark == 12 * ONE // 10
    assert sum(s.agreements[2].positions[bob_2].held.values()) == sum(held.values())
    alice_2 = s.execute_roll(alice)
    assert s.agreements[2].positions[alice_2].commit_end == 2
    expect("WrongPhase", s.roll, dave, "D")
    assert s.claim(dave) == 200 * ONE
    check_invariants(s)
    run(s, 2, 875 * ONE // 1000)
    s.open_agreement(M, t, 0)
    bob_3 = s.roll(bob_2, "B")
    expect("NoConsent", s.execute_roll, alice_2)  # her commitment ended with agreement 2
    run(s, 3, 11 * ONE // 10)
    assert s.price < 12 * ONE // 10 and fees_of(s, bob_3) == 0
    check_invariants(s)


def test_m2_the_next_lock_waits_for_the_rolls_window():
    """Issue 12 M-2: a settlement and the next lock in one bundle let no consented or standing roll run. The next
    agreement locks ROLL_WINDOW after the settlement (or after its own opening, if later); the first one at once."""
    from backing.model.series import ROLL_WINDOW

    s = Series(M)
    t = terms(clawback_bps=0, clawback_agreements=0, commitments=())
    s.open_agreement(M, t, 0)
    assert s.lockable_at() == 0
    bob = s.deposit("B", 10, 0)
    s.post_reserve(M, 10**30, 0)
    s.lock(M, 0)  # nothing before it: no window
    s.open_agreement(M, t, 100)
    s.deposit("C", 2, 100)
    s.roll(bob, "B")
    s.mature(500, ONE, 12 * ONE // 10)
    s.repay(M, s.agreements[0].due, 700)
    s.post_reserve(M, 10**30, 1)
    e = expect("RollWindowOpen", s.lock, M, 700)
    assert e.args_ == (700 + ROLL_WINDOW,) and s.lockable_at() == 700 + ROLL_WINDOW
    expect("RollWindowOpen", s.lock, M, 700 + ROLL_WINDOW - 1)
    s.execute_roll(bob)  # the window is what lets the consent run
    s.lock(M, 700 + ROLL_WINDOW)
    assert s.agreements[1].capital > 2 * t.base.unit_size
    # an agreement opened after the settlement: the window starts at its opening (a cancel-and-reopen cannot skip it)
    s.mature(900 + ROLL_WINDOW, ONE, ONE)
    s.repay(M, s.agreements[1].due, 1000 + ROLL_WINDOW) if s.agreements[1].phase == Phase.Matured else None
    s.open_agreement(M, t, 5000 + ROLL_WINDOW)
    assert s.lockable_at() == 5000 + 2 * ROLL_WINDOW


def test_m3_time_terms():
    """Issue 12 M-3: a standing commitment rolled into an agreement open for a year with a year of wind-down. A
    series agreement now takes deposits for at most 30 days, and a changed wind-down is changed economics (the
    commitment no longer binds: the backer is free, no charge-back)."""
    from dataclasses import replace as rep

    from backing.model.series import MAX_OPEN_PERIOD

    t = terms()
    too_long = SeriesTerms(
        rep(t.base, open_until=10 + MAX_OPEN_PERIOD + 1), t.clawback_bps, t.clawback_agreements, t.commitments
    )
    e = expect("OpenTooLong", Series(M).open_agreement, M, too_long, 10)
    assert e.args_ == (10 + MAX_OPEN_PERIOD + 1, 10 + MAX_OPEN_PERIOD)
    longer = SeriesTerms(
        rep(t.base, wind_down=t.base.wind_down + 1), t.clawback_bps, t.clawback_agreements, t.commitments
    )
    assert longer.economics() != t.economics()
    assert (
        SeriesTerms(
            rep(t.base, open_until=t.base.open_until + 5), t.clawback_bps, t.clawback_agreements, t.commitments
        ).economics()
        == t.economics()
    )
    s = Series(M)
    s.open_agreement(M, t, 0)
    alice = s.deposit("A", 5, 0, commit=3)
    run(s, 0, 12 * ONE // 10)
    s.open_agreement(M, longer, 0)
    expect("NoConsent", s.execute_roll, alice)  # the wind-down changed: her commitment does not roll her
    claimable = s.position(alice)[0].claimable
    assert s.claim(alice) == claimable > 0 and s.position(alice)[0].charged_back == 0  # leaving is not early

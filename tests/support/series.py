"""Invariants of the series reference model that do not come from the model's own arithmetic (used by the
model tests and the on-chain stateful test)."""

from backing.model.agreement import Phase
from backing.model.series import Series


def check_lifecycle(s: Series) -> None:
    """At most one agreement locked or matured; each locked agreement starts at the price the previous locked one
    ended at (cancelled ones never locked); every mark is at least its agreement's start price (so a fee needs a
    rise); once the series has ended no agreement is left open."""
    live = [a.index for a in s.agreements if a.phase in (Phase.Locked, Phase.Matured)]
    assert len(live) <= 1, f"two live agreements: {live}"
    ran = [a for a in s.agreements if a.phase not in (Phase.Open, Phase.Cancelled)]
    for before, after in zip(ran, ran[1:]):
        assert before.phase == Phase.Settled, (before.index, before.phase)
        assert after.p_start == before.p_end, (before.index, before.p_end, after.index, after.p_start)
    for a in ran:
        for p in a.positions.values():
            if p.mark is not None and a.phase == Phase.Locked:
                assert p.mark >= a.p_start, (p.id, p.mark, a.index, a.p_start)
    if s.ended:
        assert all(a.phase != Phase.Open for a in s.agreements)


def check_invariants(s: Series) -> None:
    """NMR conserved, solvency, marks, never charged twice, held fees only to the modeller or their payer."""
    # NMR conserved: every wei that left a party is in the series or with another party
    assert sum(s.transfers.values()) + s.balance == 0
    assert s.balance == sum(a.balance for a in s.agreements) + s.escrow
    assert s.escrow == sum(sum(p.held.values()) for a in s.agreements for p in a.positions.values())
    assert s.escrow >= 0
    for a in s.agreements:
        assert a.balance >= s.outstanding(a) >= 0, (a.index, a.phase, a.balance, s.outstanding(a))
        if a.phase != Phase.Open:
            assert s.live_cohorts(a.index) <= s.max_cohorts
        for p in a.positions.values():
            assert all(v >= 0 for v in p.held.values())
            if p.mark is not None:
                # the mark is the highest price at which this capital paid a fee, or its entry mark
                assert p.mark == max(p.entry_mark, p.paid_upto), (p, a.index)
            if p.held:
                assert p.paid_upto > 0  # only capital that paid a fee has held fees
    # never charged twice: each fee is on a price interval above everything this capital paid on before
    for pid, before, price, fee, paid_upto, index in s.fee_events:
        assert price > before >= paid_upto
        # no profit fee in an agreement whose value did not rise
        a = s.agreements[index]
        assert fee == 0 or a.p_end > a.p_start, (pid, index, a.p_start, a.p_end, fee)
    check_lifecycle(s)
    # held fees leave the escrow only to the modeller or to the position holding (having paid) them
    for kind, pid, amount, to, *_ in s.log:
        if kind == "release":
            assert to == s.modeller
        elif kind in ("clawback", "forfeit"):
            owner = s.position(pid)[0].owner
            assert to == owner

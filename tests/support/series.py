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


# ---------------------------------------------------------------------------------------------- a series, by hand


def fresh_schedule(signed):
    """Announce a round closing in an hour if the schedule has none ahead (so a later agreement can lock)."""
    from brownie import chain

    from support.chain import MIN_ROUND_SPACING

    oracle = signed.oracle
    if chain.time() + 120 >= oracle.currentRoundCloseTime() + MIN_ROUND_SPACING:
        signed.announce(oracle.currentRound() + 1, [chain.time() + 3600])


class SeriesHelper:
    """Small helpers around one series on chain (no reference model): 1-NMR units, one-round lockups, a one-hour
    wind-down. `fresh`: keep the oracle's schedule ahead before each lock (tests that let time pass)."""

    def __init__(self, series, token, signed, modeller, staking, model_id, backers, fresh=False):
        self.series, self.token, self.signed, self.modeller = series, token, signed, modeller
        self.staking, self.model_id, self.backers, self.fresh = staking, model_id, backers, fresh

    def terms(self, **kw):
        from dataclasses import replace

        from brownie import chain

        from backing.model.agreement import ONE
        from backing.model.series import Commitment, example_terms

        commitments = kw.pop("commitments", (Commitment(3, 1500),))
        t = example_terms(0, commitments=commitments)
        base = replace(
            t.base,
            unit_size=ONE,
            min_units=2,
            max_units=20,
            lockup_rounds=1,
            wind_down=3600,
            open_until=chain.time() + 29 * 86400,
            staking_address=self.staking.address,
            model_id=bytes.fromhex(self.model_id[2:]),
        )
        base = replace(base, **{k: v for k, v in kw.items() if k in base.__dataclass_fields__})
        return replace(t, base=base, **{k: v for k, v in kw.items() if k not in base.__dataclass_fields__})

    def fresh_schedule(self):
        fresh_schedule(self.signed)

    def open(self, t=None, sender=None):
        from backing.onchain.series import terms_args

        return self.series.openAgreement(*terms_args(t or self.terms()), {"from": sender or self.modeller})

    def fund(self, account, amount):
        from backing.onchain.agreement import set_allowance

        self.token.mintTo(account, amount, {"from": account})
        set_allowance(self.token, account, self.series, self.token.allowance(account, self.series) + amount)

    def deposit(self, backer, units, commit=0):
        from backing.model.agreement import ONE

        self.fund(backer, units * ONE)
        return self.series.deposit(units, commit, {"from": backer})

    def reserve(self, index, amount):
        self.fund(self.modeller, amount)
        return self.series.postReserve(index, amount, {"from": self.modeller})

    def locked(self, index=0, deposits=((0, 5, 0),)):
        """Open (if needed), deposit, post the reserve, lock (after the rolls' window). Returns the position ids."""
        from backing.model.agreement import ONE
        from backing.onchain.series import wait_for_rolls

        if self.series.agreementCount() == index:
            self.open()
        ids = [self.deposit(self.backers[who], units, commit).return_value for who, units, commit in deposits]
        self.reserve(index, sum(u for _, u, _ in deposits) * ONE)
        wait_for_rolls(self.series)
        if self.fresh:
            fresh_schedule(self.signed)
        self.series.lock({"from": self.modeller})
        return ids

    def mature(self, index, growth=None):
        from brownie import chain

        from backing.model.agreement import ONE
        from backing.onchain.series import post_lockup

        post_lockup(self.signed, self.series, index, ONE if growth is None else growth, 1)
        chain.mine()
        return self.series.mature(index, {"from": self.modeller})

    def settle(self, index, growth=None):
        self.mature(index, growth)
        due = self.series.agreement(index)["amountDue"] - self.series.agreement(index)["repaid"]
        self.fund(self.modeller, due)
        return self.series.repay(index, due, {"from": self.modeller})

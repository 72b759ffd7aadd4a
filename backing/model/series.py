"""Reference model of a *series* of backing agreements for one model (issue 3), to the wei.

A series is the modeller's successive agreements ``0, 1, 2, ...`` for one model. Each agreement runs the
single-agreement life of ``backing.model.agreement`` (open, lock, mature, repay or default) and reuses its math
(``final_value``, ``maturity`` for the loss-side aggregates, ``Terms.validate``, ``Terms.profit_share_for``,
``Terms.required_reserve``). What the series adds (docs/series.md states every rule with its formula):

* **Positions** ``(owner, agreement, mark, capital)``: capital in wei (a rolled claim is not whole units).
* **Series price** ``P``: ``P_0 = 1e18``; an agreement moves it to ``P_end = P_start * I_end / I_start`` (floor).
  Upfront fees are charged per agreement and do not move ``P`` (they are not a loss to recover).
* **High-water mark per cohort.** A position's *mark* is a price. At a gain it pays its profit share on
  ``S_p * (P_end - mark) / P_start`` if ``P_end > mark`` and its mark becomes ``P_end``; below its mark it pays
  nothing. Positions with the same mark form a *cohort*; the contract keeps O(1) aggregates per cohort.
* **Cohort cap.** At most ``max_cohorts`` distinct marks in an agreement. Rolled capital brings at most the
  previous agreement's cohorts; fresh capital adds at most one (mark ``P_start``), so a lock merges at most once:
  the two adjacent marks with the smallest ratio ``hi / lo`` merge, the lower lifted to the higher (ties: the
  lowest pair). Nobody is ever charged twice; the modeller forgoes the fee on the smallest gap.
* **Clawback escrow**, **commitment discounts**, **transfers**: see the methods.

The model computes every position's amounts eagerly at settlement for clarity; each is a function of the
position's own record and its agreement's aggregates only, so the contract computes it when the position is next
touched (roll, claim, transfer, release), in O(1). Nothing here that the contract must do loops over backers:
the loops below over ``positions`` are either that eager per-position evaluation or test bookkeeping
(``paid_upto``, ``entry_mark``, ``log``), never an aggregate the contract could not keep incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from backing.model.agreement import (
    BPS,
    ONE,
    ContractError,
    LockAmounts,
    Phase,
    Terms,
    final_value,
    maturity,
    mul_div,
)
from backing.report import nmr  # noqa: F401  (the worked example prints NMR)

MAX_COHORTS = 8
MAX_OPEN_PERIOD = 30 * 86400  # a series agreement takes deposits for at most this long after it opens (M-3)
ROLL_WINDOW = 3600  # seconds after a settlement (or the next agreement's opening) before the next lock (M-2)
MAX_OWNER_POSITIONS = 8  # an owner's positions in one agreement (the contract updates them all when his tier moves)
MAX_CLAWBACK_AGREEMENTS = 4
MAX_COMMITMENT_AGREEMENTS = 8
MAX_COMMITMENT_OPTIONS = 4
SERIES = "series"  # the series contract's own address (transfers to it are refused)
STAKING = "staking"  # where the staked capital goes at lock (the modeller's staking wallet)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ---------------------------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Commitment:
    """Commit to ``agreements`` consecutive agreements (this one included) for ``profit_share_bps``."""

    agreements: int
    profit_share_bps: int


@dataclass(frozen=True)
class SeriesTerms:
    base: Terms
    clawback_bps: int = 0
    clawback_agreements: int = 0
    commitments: tuple[Commitment, ...] = ()

    def validate(self, now: int) -> None:
        self.base.validate(now)
        if self.base.open_until > now + MAX_OPEN_PERIOD:  # rolled capital waits at most this long (issue 12 M-3)
            raise ContractError("OpenTooLong", self.base.open_until, now + MAX_OPEN_PERIOD)
        if self.clawback_bps > BPS:
            raise ContractError("ClawbackTooHigh", self.clawback_bps)
        if self.clawback_agreements > MAX_CLAWBACK_AGREEMENTS:
            raise ContractError("ClawbackWindowTooLong", self.clawback_agreements, MAX_CLAWBACK_AGREEMENTS)
        if (self.clawback_bps == 0) != (self.clawback_agreements == 0):
            raise ContractError("ClawbackHalfSet", self.clawback_bps, self.clawback_agreements)
        if len(self.commitments) > MAX_COMMITMENT_OPTIONS:
            raise ContractError("TooManyCommitments", len(self.commitments), MAX_COMMITMENT_OPTIONS)
        previous = 1
        for i, c in enumerate(self.commitments):
            if c.agreements <= previous or c.agreements > MAX_COMMITMENT_AGREEMENTS:
                raise ContractError("CommitmentNotAscending", i)
            if c.profit_share_bps > BPS:
                raise ContractError("CommitmentShareTooHigh", i, c.profit_share_bps)
            previous = c.agreements

    def economics(self) -> tuple:
        """Everything but the deposit window's end: a commitment binds only while these stay the same (a longer
        wind-down delays the payout, so it frees the committed backers: issue 12 M-3)."""
        return (replace(self.base, open_until=0), self.clawback_bps, self.clawback_agreements, self.commitments)

    def commitment_share(self, agreements: int) -> int:
        for c in self.commitments:
            if c.agreements == agreements:
                return c.profit_share_bps
        raise ContractError("NoSuchCommitment", agreements)


# ---------------------------------------------------------------------------------------------- state


@dataclass
class Position:
    id: int
    owner: str
    agreement: int
    capital: int = 0
    mark: int | None = None  # price; None for fresh capital until the lock fixes P_start
    held: dict = field(default_factory=dict)  # agreement index at whose settlement it is released -> wei
    commit_end: int = -1  # last agreement of the commitment (inclusive); -1: none
    commit_share: int = BPS
    commit_econ: tuple | None = None
    discount: int = 0  # profit fee forgone thanks to the commitment, not yet earned by fulfilling it
    intent: object = None  # None: no consent; "all" or a wei amount: roll into the next agreement
    intent_commit: int | None = None
    # fixed at maturity / settlement
    rate: int = 0
    staked: int = 0
    value: int = 0
    fee: int = 0
    held_new: int = 0
    clawback: int = 0
    cover: int = 0
    default_owed: int = 0  # loss side: V_p + full cover (no clawback: a default forfeits held fees anyway)
    owed: int = 0  # settled: what the position is due (before a charge-back); defaulted: weight in the pool
    claimable: int = 0
    rolled: int = 0
    charged_back: int = 0
    done: bool = False
    # bookkeeping for the tests (not contract state): the invariants' witnesses
    entry_mark: int = 0  # mark given at entry (P_start) or by a cap lift
    paid_upto: int = 0  # highest price at which this capital (or what it came from) paid a profit fee

    @property
    def fresh(self) -> bool:
        return self.mark is None

    def commitment_key(self):
        return (self.commit_end, self.commit_share, self.commit_econ)


@dataclass
class SeriesAgreement:
    index: int
    terms: SeriesTerms
    phase: Phase = Phase.Open
    positions: dict = field(default_factory=dict)  # id -> Position
    reserve: int = 0
    repaid: int = 0
    balance: int = 0
    start_round: int = 0
    deadline: int = 0
    locked: LockAmounts | None = None
    p_start: int = 0
    p_end: int = 0
    value: int = 0
    due: int = 0
    owed_total: int = 0
    cover_bound: int = 0
    fee_lower_bound: int = 0
    reserve_used: int = 0
    reserve_returned: int = 0
    default_pool: int = 0
    cap_merges: list = field(default_factory=list)  # (lower mark, higher mark) lifted at lock
    swept: int = 0
    # agreements cancelled in a row just before this one: positions waiting to roll out of the agreement before
    # them (or rolled into them) roll on into this one (issue 21 F2)
    cancelled_before: int = 0

    @property
    def capital(self) -> int:
        return sum(p.capital for p in self.positions.values())

    @property
    def gain(self) -> bool:
        return self.value >= self.locked.staked

    def cohorts(self) -> dict:
        """mark -> [positions] (fresh capital under None before the lock)."""
        out: dict = {}
        for p in self.positions.values():
            out.setdefault(p.mark, []).append(p)
        return out


class Series:
    """A modeller's series of agreements for one model. Token flows per party are in ``transfers`` (positive =
    received from the series); ``balance`` is what the series contract holds (agreements' balances + escrow)."""

    def __init__(self, modeller: str, max_cohorts: int = MAX_COHORTS):
        self.modeller = modeller
        self.max_cohorts = max_cohorts
        self.agreements: list[SeriesAgreement] = []
        self.price = ONE
        self.ended = False
        # the positions waiting to roll could last start rolling at this time (a settlement, or the opening of the
        # next agreement if later): the next lock waits ROLL_WINDOW after it
        self.rolls_open_since = 0
        self.escrow = 0
        self.balance = 0
        self.transfers: dict = {}
        self.log: list = []  # escrow movements: (kind, position id, amount, recipient)
        self.fee_events: list = []  # (position id, mark before, price, fee, paid_upto before, agreement)
        self.operators: set = set()  # (owner, operator): operator may transfer and claim owner's positions
        self.accepts: set = set()  # (receiver, caller): receiver accepts positions transferred by caller
        self._next_id = 1

    # -- helpers
    def _flow(self, party: str, amount: int, a: SeriesAgreement | None = None) -> None:
        """``amount`` > 0: the series pays ``party`` (out of agreement ``a`` if given, else escrow)."""
        self.transfers[party] = self.transfers.get(party, 0) + amount
        self.balance -= amount
        if a is not None:
            a.balance -= amount
        else:
            self.escrow -= amount

    def _new_position(self, owner: str, index: int, **kw) -> Position:
        if sum(1 for q in self.agreements[index].positions.values() if q.owner == owner) >= MAX_OWNER_POSITIONS:
            raise ContractError("TooManyPositions", owner, MAX_OWNER_POSITIONS)
        p = Position(self._next_id, owner, index, **kw)
        self._next_id += 1
        self.agreements[index].positions[p.id] = p
        return p

    def _latest(self) -> SeriesAgreement:
        if not self.agreements:
            raise ContractError("NoAgreement")
        return self.agreements[-1]

    def _live(self) -> SeriesAgreement | None:
        """The agreement locked or matured (at most one), if any."""
        live = [x for x in self.agreements if x.phase in (Phase.Locked, Phase.Matured)]
        assert len(live) <= 1, "two live agreements"
        return live[0] if live else None

    def _cancel_open(self) -> None:
        """The series has ended: the agreement still open (the latest), if any, is cancelled at once."""
        if self.agreements and self.agreements[-1].phase == Phase.Open:
            self._cancel(self.agreements[-1])

    def _require_modeller(self, caller: str) -> None:
        if caller != self.modeller:
            raise ContractError("NotModeller", caller)

    def position(self, pid: int) -> tuple[Position, SeriesAgreement]:
        for a in reversed(self.agreements):
            if pid in a.positions:
                return a.positions[pid], a
        raise ContractError("UnknownPosition", pid)

    def _previous_plus_one(self, a: SeriesAgreement) -> int:
        """The latest agreement before ``a`` that was not cancelled, plus one (0: none)."""
        return a.index - a.cancelled_before

    def _home_plus_one(self, a: SeriesAgreement) -> int:
        """The agreement a position of ``a`` rolls on from, plus one: ``a`` itself, or, if ``a`` was cancelled, the
        one its rolled-in positions came from."""
        return self._previous_plus_one(a) if a.phase == Phase.Cancelled else a.index + 1

    def _roll_target(self, a: SeriesAgreement) -> SeriesAgreement | None:
        """The agreement a position of ``a`` may roll into now: the latest, if it is open and every agreement
        between them was cancelled (a cancel-and-reopen cannot orphan a mark: issue 21 F2)."""
        latest = self.agreements[-1]
        if latest is a or latest.phase != Phase.Open or self._previous_plus_one(latest) != self._home_plus_one(a):
            return None
        return latest

    def lockable_at(self) -> int:
        """The earliest time the latest agreement may lock as far as the rolls' window goes (issue 12 M-2): ROLL_WINDOW
        after the previous settlement (or its own opening, if later), when some agreement before it ran; else 0."""
        a = self._latest()
        return self.rolls_open_since + ROLL_WINDOW if self._previous_plus_one(a) else 0

    @staticmethod
    def _rolled_in(p: Position, a: SeriesAgreement) -> bool:
        """Rolled into ``a``, which was then cancelled: it keeps mark, held fees and commitment and may roll on."""
        return a.phase == Phase.Cancelled and not p.fresh

    @staticmethod
    def _require_phase(a: SeriesAgreement, *phases: Phase) -> None:
        if a.phase not in phases:
            raise ContractError("WrongPhase", int(a.phase))

    def _release(self, p: Position, upto: int | None = None) -> None:
        """Held fees of ``p`` whose window has ended (release index <= upto; all if None) go to the modeller."""
        for key in sorted(p.held):
            if upto is None or key <= upto:
                amount = p.held.pop(key)
                if amount:
                    self._flow(self.modeller, amount)
                    self.log.append(("release", p.id, amount, self.modeller))

    # -- agreements
    def open_agreement(self, caller: str, terms: SeriesTerms, now: int) -> int:
        """Open the next agreement of the series (while the current one is locked, or after it)."""
        self._require_modeller(caller)
        if self.ended:
            raise ContractError("SeriesEnded")
        if self.agreements and self.agreements[-1].phase == Phase.Open:
            raise ContractError("NextAlreadyOpen", self.agreements[-1].index)
        terms.validate(now)
        last = self.agreements[-1] if self.agreements else None
        skipped = last.cancelled_before + 1 if last is not None and last.phase == Phase.Cancelled else 0
        self.agreements.append(SeriesAgreement(len(self.agreements), terms, cancelled_before=skipped))
        self.rolls_open_since = now
        return len(self.agreements) - 1

    def post_reserve(self, caller: str, amount: int, index: int | None = None) -> None:
        self._require_modeller(caller)
        a = self._latest() if index is None else self.agreements[index]
        self._require_phase(a, Phase.Open, Phase.Locked)
        if amount == 0:
            raise ContractError("ZeroAmount")
        a.reserve += amount
        self._flow(self.modeller, -amount, a)

    def deposit(self, backer: str, units: int, now: int, commit: int | None = None) -> int:
        """Fresh units into the open agreement, optionally committing to ``commit`` consecutive agreements."""
        a = self._latest()
        self._require_phase(a, Phase.Open)
        t = a.terms.base
        if now > t.open_until:
            raise ContractError("DepositWindowClosed", t.open_until)
        if units == 0:
            raise ContractError("ZeroAmount")
        amount = units * t.unit_size
        available = max(0, t.max_units * t.unit_size - a.capital)  # committed rolls may have filled it past the cap
        if amount > available:
            raise ContractError("CapacityExceeded", amount, available)
        if a.reserve:  # issue 12 L-1: a posted reserve caps the fresh deposits
            required = t.reserve_for_capital(a.capital + amount)
            if required > a.reserve:
                raise ContractError("DepositBeyondReserve", required, a.reserve)
        share = a.terms.commitment_share(commit) if commit else BPS
        key = (a.index + commit - 1, share, a.terms.economics()) if commit else (-1, BPS, None)
        p = next((q for q in a.positions.values() if q.owner == backer and q.fresh and q.commitment_key() == key), None)
        if p is None:
            p = self._new_position(backer, a.index, commit_end=key[0], commit_share=key[1], commit_econ=key[2])
        p.capital += amount
        self._flow(backer, -amount, a)
        return p.id

    def withdraw(self, backer: str, units: int, commit: int | None = None) -> None:
        a = self._latest()
        self._require_phase(a, Phase.Open)
        if units == 0:
            raise ContractError("ZeroAmount")
        key_end = a.index + commit - 1 if commit else -1
        p = next((q for q in a.positions.values() if q.owner == backer and q.fresh and q.commit_end == key_end), None)
        held = 0 if p is None else p.capital // a.terms.base.unit_size
        if units > held:
            raise ContractError("InsufficientUnits", units, held)
        p.capital -= units * a.terms.base.unit_size
        self._flow(backer, units * a.terms.base.unit_size, a)
        if p.capital == 0:
            del a.positions[p.id]

    def cancel(self, caller: str, now: int) -> None:
        """Never locked: every position (fresh or rolled) can claim its capital back in full, the reserve returns.
        Rolled positions keep their mark, held fees and commitment: they may roll on into the next agreement that
        opens (issue 21 F2). The series may open another agreement."""
        a = self._latest()
        self._require_phase(a, Phase.Open)
        if caller != self.modeller and now <= a.terms.base.open_until:
            raise ContractError("OpenWindowNotOver", a.terms.base.open_until)
        self._cancel(a)

    def _cancel(self, a: SeriesAgreement) -> None:
        a.phase = Phase.Cancelled
        a.reserve_returned = a.reserve
        self._flow(self.modeller, a.reserve, a)
        for p in a.positions.values():
            p.claimable = p.capital
        self._maybe_sweep(a)

    def lock(self, caller: str, now: int, start_round: int = 1) -> LockAmounts:
        """Lock the open agreement. Fixes P_start, gives fresh capital its mark, applies the cohort cap rule,
        pays the upfront fee and sends S to the staking wallet. Positions of the previous agreement that did not
        roll have left the series: their held fees are released."""
        self._require_modeller(caller)
        a = self._latest()
        self._require_phase(a, Phase.Open)
        t = a.terms.base
        if now > t.open_until:
            raise ContractError("DepositWindowClosed", t.open_until)
        live = self._live()
        if live is not None:  # at most one agreement locked or matured: the price chains from one to the next
            raise ContractError("PreviousNotSettled", live.index)
        # the agreement this one follows and the cancelled ones between: their positions that did not roll left
        waiting = self.agreements[max(0, self._previous_plus_one(a) - 1) : a.index]
        capital = a.capital
        if capital < t.min_units * t.unit_size:
            raise ContractError("BelowMinCapital", capital, t.min_units * t.unit_size)
        upfront = capital * t.upfront_fee_bps // BPS
        amounts = LockAmounts(capital, upfront, capital - upfront)
        required = t.required_reserve(amounts.staked)
        if a.reserve < required:
            raise ContractError("ReserveTooSmall", a.reserve, required)
        if self.price == 0:
            raise ContractError("SeriesWipedOut")
        if self.ended:
            raise ContractError("SeriesEnded")
        if now < self.lockable_at():
            # something could roll in: the rolls get their window after the settlement (issue 12 M-2)
            raise ContractError("RollWindowOpen", self.lockable_at())
        for w in waiting:
            for p in w.positions.values():
                self._release(p)
                p.intent = None
        a.p_start = self.price
        for p in a.positions.values():
            if p.fresh:
                p.mark = p.entry_mark = a.p_start
        self._apply_cap(a)
        a.phase = Phase.Locked
        a.start_round = start_round
        a.locked = amounts
        self._flow(self.modeller, amounts.upfront_fee, a)
        self._flow(STAKING, amounts.staked, a)
        return amounts

    def _apply_cap(self, a: SeriesAgreement) -> None:
        """Over the cap, lift the cohort whose lift forgoes the least fee: the lowest ``floor(W_c (hi - lo) / lo)``
        over adjacent marks (ties: the lowest pair), ``W_c = sum of capital x fee rate``. A dust cohort weighs
        nothing, so it is the one lifted: dust cannot steer the merge onto anyone else's capital (issue 21, F5)."""
        marks = sorted({p.mark for p in a.positions.values()})
        while len(marks) > self.max_cohorts:
            weight = {m: 0 for m in marks}
            for p in a.positions.values():
                weight[p.mark] += p.capital * self.rate_of(a, p)[1]
            cost = [weight[marks[i]] * (marks[i + 1] - marks[i]) // marks[i] for i in range(len(marks) - 1)]
            best = 0
            for i in range(1, len(cost)):  # strict < keeps the lowest pair on ties
                if cost[i] < cost[best]:
                    best = i
            lo, hi = marks[best], marks[best + 1]
            for p in a.positions.values():
                if p.mark == lo:
                    p.mark = hi
                    p.entry_mark = max(p.entry_mark, hi)
            a.cap_merges.append((lo, hi))
            marks.remove(lo)

    # -- transfers
    def set_operator(self, owner: str, operator: str, approved: bool) -> None:
        """Let `operator` transfer and claim `owner`'s positions (a marketplace or escrow settling a sale), or
        revoke it. It covers all his positions in this series until revoked (ERC-1155's setApprovalForAll)."""
        if approved:
            self.operators.add((owner, operator))
        else:
            self.operators.discard((owner, operator))

    def accept_transfers(self, receiver: str, caller: str, accepted: bool) -> None:
        """Let `caller` (a seller, or the marketplace that settles sales) transfer positions to `receiver`, or
        stop it. Nobody else can push a position on him: no re-tiering, no filling his position cap."""
        if accepted:
            self.accepts.add((receiver, caller))
        else:
            self.accepts.discard((receiver, caller))

    def _owner_or_operator(self, p: Position, caller: str) -> None:
        if caller != p.owner and (p.owner, caller) not in self.operators:
            raise ContractError("NotOwner", caller)

    def transfer(self, pid: int, caller: str, to: str, amount: int) -> int:
        """Move ``amount`` wei of capital of a locked position to ``to``, by its owner or an operator he approved,
        to a receiver who is the caller or accepts transfers from him (``accept_transfers``).
        Mark, held fees, commitment and accrued discount move pro rata (floor; the sender keeps the remainder);
        the fee tier is by each owner's total capital in the agreement at maturity. Returns the receiver's
        position id."""
        p, a = self.position(pid)
        self._require_phase(a, Phase.Locked)
        self._owner_or_operator(p, caller)
        if to == self.modeller:
            raise ContractError("TransferToModeller", to)
        if to in (SERIES, STAKING):
            raise ContractError("TransferToAgreement", to)
        if to == p.owner:
            raise ContractError("TransferToSelf", to)
        if to != caller and (to, caller) not in self.accepts:
            raise ContractError("TransferNotAccepted", to, caller)
        if amount == 0:
            raise ContractError("ZeroAmount")
        if amount > p.capital:
            raise ContractError("InsufficientCapital", amount, p.capital)
        q = next(
            (
                r
                for r in a.positions.values()
                if r.owner == to and r.mark == p.mark and r.commitment_key() == p.commitment_key()
            ),
            None,
        )
        if q is None:
            q = self._new_position(
                to,
                a.index,
                mark=p.mark,
                commit_end=p.commit_end,
                commit_share=p.commit_share,
                commit_econ=p.commit_econ,
                entry_mark=p.entry_mark,
                paid_upto=p.paid_upto,
            )
        else:
            q.entry_mark = max(q.entry_mark, p.entry_mark)
            q.paid_upto = max(q.paid_upto, p.paid_upto)
        for key in list(p.held):
            moved = p.held[key] * amount // p.capital
            p.held[key] -= moved
            q.held[key] = q.held.get(key, 0) + moved
        moved = p.discount * amount // p.capital
        p.discount -= moved
        q.discount += moved
        p.capital -= amount
        q.capital += amount
        if p.capital == 0:
            assert not any(p.held.values()) and p.discount == 0
            del a.positions[p.id]
        return q.id

    # -- maturity
    def rate_of(self, a: SeriesAgreement, p: Position) -> tuple[int, int]:
        """(tier share by the owner's total units in the agreement, share actually charged)."""
        units = sum(q.capital for q in a.positions.values() if q.owner == p.owner) // a.terms.base.unit_size
        tier = a.terms.base.profit_share_for(units)
        committed = p.commit_end >= a.index
        return tier, (min(tier, p.commit_share) if committed else tier)

    def mature(
        self, now: int, start_index: int, end_index: int, last_final: int | None = None, overdue: bool = False
    ) -> int:
        """Fix V, P_end, every position's fee/cover and the amount due. Returns the amount due."""
        a = self._live() or self._latest()
        self._require_phase(a, Phase.Locked)
        end_round = a.start_round + a.terms.base.lockup_rounds - 1
        if last_final is not None and last_final < end_round and not overdue:
            raise ContractError("RoundsOutstanding", last_final, end_round)
        t = a.terms.base
        S, C = a.locked.staked, a.locked.capital
        V = final_value(S, start_index, end_index)
        a.value = V
        a.p_end = 0 if start_index == 0 else mul_div(a.p_start, end_index, start_index)
        live = [p for p in a.positions.values() if p.capital > 0]
        for p in live:
            p.staked = S * p.capital // C
            p.value = V * p.capital // C
        if V >= S:
            cb = a.terms.clawback_bps
            lower = 0
            for mark, group in a.cohorts().items():
                above = a.p_end > mark  # the cohort's price passed its mark: it pays on V_p above M_p
                weight = 0
                for p in group:
                    tier, p.rate = self.rate_of(a, p)
                    weight += p.capital * p.rate  # W_c: kept incrementally by the contract
                    mark_value = ceil_div(p.staked * mark, a.p_start)  # M_p, rounded up (for the backer)
                    gain = max(0, p.value - mark_value) if above else 0
                    fee = gain * p.rate // BPS
                    if p.commit_end >= a.index:
                        p.discount += gain * tier // BPS - fee
                    p.fee = fee
                    p.held_new = fee * cb // BPS
                    p.owed = p.value - fee
                if above:  # sum of this cohort's fees >= W_c (V P_start - S m) / (C P_start 1e4) - 3 n_c
                    excess = V * a.p_start - S * mark
                    if excess > 0:
                        lower += max(0, excess * weight // (C * a.p_start * BPS) - 3 * len(group))
            a.fee_lower_bound = lower
            a.due = V - lower * (BPS - cb) // BPS
            a.owed_total = V - lower  # >= the sum of the positions' V_p - fee_p: the default pool's divisor
            a.cover_bound = 0
        else:
            m = maturity(t, {p.id: p.capital for p in live}, S, a.reserve, V)
            a.due, a.owed_total, a.cover_bound = m.amount_due, m.owed_total, m.cover_bound
            for p in live:
                p.rate = p.fee = p.held_new = 0
                loss = p.staked - p.value
                claw = 0
                for key in sorted(p.held):  # oldest window first
                    take = min(p.held[key], loss - claw)
                    claw += take
                p.clawback = claw
                cover = (loss - claw) * t.burn_share_bps // BPS
                full = loss * t.burn_share_bps // BPS
                if a.cover_bound > a.reserve:
                    cover = mul_div(cover, a.reserve, a.cover_bound)
                    full = mul_div(full, a.reserve, a.cover_bound)
                p.cover = cover
                p.owed = p.value + claw + cover
                p.default_owed = p.value + full
        a.deadline = now + t.wind_down
        a.phase = Phase.Matured
        if a.due == 0:
            self._settle(a, now)
        return a.due

    def repay(self, payer: str, amount: int, now: int) -> None:
        """Repay ``amount`` at time ``now``; the last repayment settles the agreement."""
        a = self._matured()
        if amount == 0:
            raise ContractError("ZeroAmount")
        outstanding = a.due - a.repaid
        if amount > outstanding:
            raise ContractError("RepaymentExceedsDue", amount, outstanding)
        a.repaid += amount
        self._flow(payer, -amount, a)
        if amount == outstanding:
            self._settle(a, now)

    def _matured(self) -> SeriesAgreement:
        for a in self.agreements:
            if a.phase == Phase.Matured:
                return a
        raise ContractError("WrongPhase", int(self._latest().phase))

    def _settle(self, a: SeriesAgreement, now: int) -> None:
        a.phase = Phase.Settled
        self.rolls_open_since = now  # the rolls out of it may start: the next lock waits ROLL_WINDOW
        a.reserve_used = 0 if a.gain else min(a.reserve, a.cover_bound)
        a.reserve_returned = a.reserve - a.reserve_used
        self._flow(self.modeller, a.reserve_returned, a)
        w = a.terms.clawback_agreements
        for p in a.positions.values():
            if p.capital == 0:
                continue
            left = p.clawback
            for key in sorted(p.held):  # the clawback, oldest window first: escrow -> this position's claim
                take = min(p.held[key], left)
                if take:
                    left -= take
                    p.held[key] -= take
                    self.escrow -= take
                    a.balance += take
                    self.log.append(("clawback", p.id, take, p.owner))
            if p.held_new:  # agreement -> escrow, released at the settlement of agreement index + w
                a.balance -= p.held_new
                self.escrow += p.held_new
                p.held[a.index + w] = p.held.get(a.index + w, 0) + p.held_new
                self.log.append(("hold", p.id, p.held_new, SERIES))
            self._release(p, upto=a.index)
            p.held = {k: v for k, v in p.held.items() if v}
            if a.gain and a.p_end > p.mark:
                self.fee_events.append((p.id, p.mark, a.p_end, p.fee, p.paid_upto, a.index))
                p.paid_upto = max(p.paid_upto, a.p_end)
                p.mark = a.p_end
            p.claimable = p.owed
        assert a.balance >= sum(p.claimable for p in a.positions.values()), "settlement short"
        self.price = a.p_end
        if a.p_end == 0:  # wiped out: nothing can lock again
            self.ended = True
            self._cancel_open()

    def declare_default(self, now: int) -> None:
        """Not repaid in time: positions share repaid + reserve pro rata to what they were owed, each gets its own
        held fees back (forfeited by the modeller), the series ends and an open next agreement is cancelled."""
        a = self._matured()
        if now <= a.deadline:
            raise ContractError("WindDownNotOver", a.deadline)
        used = min(a.reserve, max(0, a.owed_total - a.repaid))  # after a gain repaid may exceed owed_total
        a.phase = Phase.Defaulted
        a.default_pool = a.repaid + used
        a.reserve_used = used
        a.reserve_returned = a.reserve - used
        self._flow(self.modeller, a.reserve_returned, a)
        for p in a.positions.values():
            weight = p.owed if a.gain else p.default_owed
            share = 0 if a.owed_total == 0 else mul_div(a.default_pool, weight, a.owed_total)
            forfeited = sum(p.held.values())
            if forfeited:
                self.escrow -= forfeited
                a.balance += forfeited
                self.log.append(("forfeit", p.id, forfeited, p.owner))
            p.held = {}
            p.discount = 0  # the series ended: no commitment is left to leave early
            p.claimable = share + forfeited
        self.ended = True
        self._cancel_open()

    # -- leaving and rolling
    def _early(self, p: Position, a: SeriesAgreement) -> bool:
        """Leaving now is early (charged back) when the commitment runs past this agreement and the series goes
        on with the same economics: the next agreement is open (so the standing roll could still be executed: it is
        never refused for capacity) and has the committed economics. Once the next agreement has locked without the
        position, anyone (the modeller
        first) could have executed its standing roll and did not: it leaves free."""
        nxt = self._roll_target(a) if a.phase == Phase.Settled else None
        return nxt is not None and p.commit_end >= nxt.index and nxt.terms.economics() == p.commit_econ

    def roll(
        self,
        pid: int,
        caller: str,
        amount: int | None = None,
        commit: int | None = None,
        terms: SeriesTerms | None = None,
    ) -> int | None:
        """Consent to roll ``amount`` wei of the claim (None: all of it) into the next agreement, whose terms the
        caller has seen (``terms``, checked if given); optionally commit to ``commit`` agreements from there.
        Before settlement this records the consent; after it, the roll happens at once. Returns the new
        position's id once executed. ``amount`` 0 revokes the consent (a commitment's standing roll stays)."""
        p, a = self.position(pid)
        if caller != p.owner:
            raise ContractError("NotOwner", caller)
        if amount == 0:
            if p.intent is None:
                raise ContractError("NoConsent", pid)
            p.intent = None
            p.intent_commit = None
            return None
        if not self._rolled_in(p, a):
            self._require_phase(a, Phase.Locked, Phase.Matured, Phase.Settled)
        nxt = self._roll_target(a)
        if nxt is None:
            raise ContractError("NoOpenNextAgreement", a.index)
        if terms is not None and terms != nxt.terms:
            raise ContractError("TermsMismatch", nxt.index)
        if p.done or p.rolled:
            raise ContractError("PositionClaimed", pid)
        if commit is not None:
            nxt.terms.commitment_share(commit)
            if p.commit_end >= nxt.index and nxt.terms.economics() == p.commit_econ:
                raise ContractError("AlreadyCommitted", p.commit_end)
        p.intent = "all" if amount is None else amount
        p.intent_commit = commit
        if a.phase in (Phase.Settled, Phase.Cancelled):
            return self._execute_roll(p, a, nxt)
        return None

    def execute_roll(self, pid: int) -> int:
        """Anyone: carry out a consented roll (or a standing commitment on unchanged economics) after settlement."""
        p, a = self.position(pid)
        if not self._rolled_in(p, a):
            self._require_phase(a, Phase.Settled)
        nxt = self._roll_target(a)
        if nxt is None:
            raise ContractError("NoOpenNextAgreement", a.index)
        if p.done or p.rolled:
            raise ContractError("PositionClaimed", pid)
        if p.intent is None:
            if not (p.commit_end >= nxt.index and nxt.terms.economics() == p.commit_econ):
                raise ContractError("NoConsent", pid)
            p.intent = "all"
        return self._execute_roll(p, a, nxt)

    def _execute_roll(self, p: Position, a: SeriesAgreement, nxt: SeriesAgreement) -> int:
        claim = p.claimable
        if claim == 0:
            raise ContractError("NothingToRoll", p.id)
        r = claim if p.intent == "all" else min(p.intent, claim)
        t = nxt.terms.base
        continues = p.commit_end >= nxt.index and nxt.terms.economics() == p.commit_econ
        # a roll that continues a commitment is never refused for capacity (issue 12 M-3): the modeller offered the
        # commitment, and nobody can make the roll fail (filling the agreement) while the backer stays bound
        available = max(0, t.max_units * t.unit_size - nxt.capital)
        if r > available and not continues:
            raise ContractError("CapacityExceeded", r, available)
        leaving = claim - r
        kept_discount = p.discount * r // claim if continues else 0
        charge = min(p.discount - kept_discount, leaving) if (continues and leaving) else 0
        if continues:
            key = p.commitment_key()
        elif p.intent_commit:
            key = (nxt.index + p.intent_commit - 1, nxt.terms.commitment_share(p.intent_commit), nxt.terms.economics())
        else:
            key = (-1, BPS, None)
        q = next(
            (
                x
                for x in nxt.positions.values()
                if x.owner == p.owner and x.mark == p.mark and x.commitment_key() == key
            ),
            None,
        )
        if q is None:
            q = self._new_position(
                p.owner,
                nxt.index,
                mark=p.mark,
                commit_end=key[0],
                commit_share=key[1],
                commit_econ=key[2],
                entry_mark=p.entry_mark,
                paid_upto=p.paid_upto,
            )
        else:
            q.entry_mark = max(q.entry_mark, p.entry_mark)
            q.paid_upto = max(q.paid_upto, p.paid_upto)
        for k in list(p.held):
            moved = p.held[k] * r // claim
            p.held[k] -= moved
            q.held[k] = q.held.get(k, 0) + moved
        self._release(p)  # the part that leaves takes nothing: its share of held fees goes to the modeller
        q.capital += r
        q.discount += kept_discount
        p.discount = 0
        a.balance -= r
        nxt.balance += r
        p.rolled = r
        if charge:
            self._flow(self.modeller, charge, a)
            p.charged_back = charge
        p.claimable = leaving - charge
        p.intent = None
        if p.claimable == 0:
            p.done = True
            self._maybe_sweep(a)
        return q.id

    def claim(self, pid: int, caller: str | None = None) -> int:
        """Pay a position what it is due, by its owner or his operator (``caller`` None: the owner); the owner is
        paid. Nobody else can end his position: not charge back his discount, pre-empt his roll or take his
        mark (issue 21, F1). Settled: the part not rolled, less the charge-back if it leaves early; its held fees
        are released (it left). Defaulted: its pool share plus its own held fees. Cancelled: its capital."""
        p, a = self.position(pid)
        self._owner_or_operator(p, p.owner if caller is None else caller)
        self._require_phase(a, Phase.Settled, Phase.Defaulted, Phase.Cancelled)
        if p.done:
            raise ContractError("PositionClaimed", pid)
        if a.phase == Phase.Settled and not p.rolled and self._early(p, a):
            charge = min(p.discount, p.claimable)
            if charge:
                self._flow(self.modeller, charge, a)
                p.charged_back = charge
                p.claimable -= charge
        p.discount = 0
        self._release(p)
        amount = p.claimable
        p.claimable = 0
        p.done = True
        p.intent = None
        self._flow(p.owner, amount, a)
        self._maybe_sweep(a)
        return amount

    def _maybe_sweep(self, a: SeriesAgreement) -> None:
        """Once every position of a finished agreement is done, its rounding dust goes to the modeller."""
        if a.phase in (Phase.Settled, Phase.Defaulted, Phase.Cancelled) and all(
            p.done or p.capital == 0 for p in a.positions.values()
        ):
            if a.balance > 0:
                a.swept += a.balance
                self._flow(self.modeller, a.balance, a)

    # -- views
    def positions_of(self, owner: str, index: int) -> list[int]:
        return sorted(p.id for p in self.agreements[index].positions.values() if p.owner == owner)

    def live_cohorts(self, index: int) -> int:
        a = self.agreements[index]
        return len({p.mark for p in a.positions.values() if p.mark is not None and p.capital > 0})

    def outstanding(self, a: SeriesAgreement) -> int:
        """What agreement ``a`` still owes out of its own balance."""
        if a.phase == Phase.Open:
            return a.capital + a.reserve
        if a.phase in (Phase.Locked, Phase.Matured):
            return a.balance  # reserve + repayments so far: all still owed to someone
        return sum(p.claimable for p in a.positions.values() if not p.done)


# ---------------------------------------------------------------------------------------------- worked example


def example_terms(now: int = 0, **overrides) -> SeriesTerms:
    """The worked example's terms: 100 NMR units, 20% profit share (15% for a 3-agreement commitment),
    50% burn share, reserve 50% of S, no upfront fee, 25% of each fee held for 2 agreements."""
    base = Terms(
        unit_size=100 * ONE,
        min_units=1,
        max_units=1000,
        profit_share_bps=2000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=12,
        open_until=now + 86400,
        wind_down=7 * 86400,
    )
    fields = dict(clawback_bps=2500, clawback_agreements=2, commitments=(Commitment(3, 1500),))
    fields.update(overrides)
    return SeriesTerms(base, **fields)


EXAMPLE_GROWTH = (
    1_200_000_000_000_000_000,
    875_000_000_000_000_000,
    1_100_000_000_000_000_000,
    1_150_000_000_000_000_000,
)


def worked_example() -> tuple[Series, list[str]]:
    """A series of four agreements (docs/series.md): rollover, a committed backer leaving early, a clawback
    covering a loss, an underwater late entrant, a transfer mid-lockup. Returns the series and the printed lines."""
    M = "modeller"
    s = Series(M)
    out: list[str] = []
    now = 0

    def say(line: str = "") -> None:
        out.append(line)

    def positions(a):
        return sorted(a.positions.values(), key=lambda p: p.id)

    def lock_and_run(a_index: int, growth: int) -> None:
        nonlocal now
        a = s.agreements[a_index]
        need = a.terms.base.required_reserve(a.capital - a.capital * a.terms.base.upfront_fee_bps // BPS)
        s.post_reserve(M, need, a_index)
        now = max(now, s.lockable_at())  # the rolls' window first
        s.lock(M, now)
        say(
            f"Agreement {a_index} locks at price P_start = {nmr(a.p_start)}: capital {nmr(a.locked.capital)}, "
            f"reserve {nmr(a.reserve)}, live cohorts {s.live_cohorts(a_index)}."
        )
        for p in positions(a):
            say(
                f"  - position #{p.id} {p.owner}: capital {nmr(p.capital)}, mark {nmr(p.mark)}"
                + (
                    f", committed through agreement {p.commit_end} at {p.commit_share} bps"
                    if p.commit_end >= a_index
                    else ""
                )
                + (f", held fees {nmr(sum(p.held.values()))}" if p.held else "")
            )

    def mature_and_settle(a_index: int, growth: int) -> None:
        nonlocal now
        now += 86400
        a = s.agreements[a_index]
        due = s.mature(now, ONE, growth)
        kind = "gain" if a.gain else "loss"
        say(
            f"Agreement {a_index} matures: index x{nmr(growth)}, S = {nmr(a.locked.staked)}, V = {nmr(a.value)} "
            f"({kind}), P_end = {nmr(a.p_end)}; the modeller repays {nmr(due)}"
            + (
                f" (fee lower bound {nmr(a.fee_lower_bound)})"
                if a.gain
                else f"; reserve used {nmr(min(a.reserve, a.cover_bound))} (cover bound {nmr(a.cover_bound)})"
            )
            + "."
        )
        if due:
            s.repay(M, due, now)
        for p in positions(a):
            held = sum(p.held.values())
            if a.gain:
                say(
                    f"  - #{p.id} {p.owner}: S_p {nmr(p.staked)}, V_p {nmr(p.value)}, rate {p.rate} bps, "
                    f"fee {nmr(p.fee)} (held {nmr(p.held_new)}), claim {nmr(p.claimable)}, mark now {nmr(p.mark)}"
                    + (f", discount so far {nmr(p.discount)}" if p.discount else "")
                    + (f", escrow {nmr(held)}" if held else "")
                )
            else:
                say(
                    f"  - #{p.id} {p.owner}: S_p {nmr(p.staked)}, V_p {nmr(p.value)}, loss {nmr(p.staked - p.value)}"
                    f", clawback {nmr(p.clawback)}, reserve cover {nmr(p.cover)}, claim {nmr(p.claimable)}, "
                    f"mark stays {nmr(p.mark)}" + (f", escrow left {nmr(held)}" if held else "")
                )
        say(
            f"  Series price is now {nmr(s.price)}; released to the modeller so far "
            f"{nmr(sum(x[2] for x in s.log if x[0] == 'release'))}."
        )

    def next_terms() -> SeriesTerms:
        """The next agreement opens for two days: it locks after its predecessor settles and the rolls' window."""
        t = example_terms(now)
        return SeriesTerms(
            replace(t.base, open_until=now + 2 * 86400), t.clawback_bps, t.clawback_agreements, t.commitments
        )

    terms = example_terms(now)
    s.open_agreement(M, terms, now)
    alice = s.deposit("alice", 10, now, commit=3)
    bob = s.deposit("bob", 5, now)
    erin = s.deposit("erin", 2, now, commit=3)
    say(
        "Agreement 0 opens. Alice deposits 10 units committing to 3 agreements (15%), Bob 5 units (20%), "
        "Erin 2 units committing to 3 agreements."
    )
    lock_and_run(0, EXAMPLE_GROWTH[0])
    s.open_agreement(M, next_terms(), now)
    s.roll(bob, "bob", amount=60 * ONE, terms=next_terms())
    say("Agreement 1 opens with the same economics. Bob consents to roll 60 NMR of his claim.")
    mature_and_settle(0, EXAMPLE_GROWTH[0])
    a1_alice = s.execute_roll(alice)
    a1_bob = s.execute_roll(bob)
    say(
        f"After settlement the modeller executes the consented rolls: Alice's standing commitment (position "
        f"#{a1_alice}) and Bob's 60 NMR (#{a1_bob}); Bob claims the rest: {nmr(s.claim(bob))}."
    )
    paid = s.claim(erin)
    say(
        f"Erin leaves early (committed through agreement 2): charge-back {nmr(s.position(erin)[0].charged_back)}, "
        f"she receives {nmr(paid)}."
    )
    lock_and_run(1, EXAMPLE_GROWTH[1])
    s.open_agreement(M, next_terms(), now)
    carol = s.deposit("carol", 10, now)
    say("Agreement 2 opens. Carol, a late entrant, deposits 10 units.")
    mature_and_settle(1, EXAMPLE_GROWTH[1])
    a2_alice = s.execute_roll(a1_alice)
    a2_bob = s.roll(a1_bob, "bob")
    say(f"Alice's commitment rolls again (#{a2_alice}); Bob rolls his whole claim (#{a2_bob}).")
    lock_and_run(2, EXAMPLE_GROWTH[2])
    s.accept_transfers("dave", "carol", True)  # Dave accepts the position Carol sells him
    dave = s.transfer(carol, "carol", "dave", 500 * ONE)
    say(
        f"Mid-lockup Carol sells half her position (500 NMR of capital) to Dave (#{dave}): same mark "
        f"{nmr(s.position(dave)[0].mark)}; each now holds 5 units' worth, so each is at the base tier."
    )
    s.open_agreement(M, next_terms(), now)
    mature_and_settle(2, EXAMPLE_GROWTH[2])
    nxt = {}
    for pid, who in ((a2_alice, "alice"), (a2_bob, "bob"), (carol, "carol"), (dave, "dave")):
        nxt[who] = s.roll(pid, who)
    say(
        "Everyone rolls whole claims into agreement 3 (Alice's commitment is fulfilled, so her 10 NMR discount "
        "can no longer be charged back; she rolls at the base tier)."
    )
    lock_and_run(3, EXAMPLE_GROWTH[3])
    mature_and_settle(3, EXAMPLE_GROWTH[3])
    for who, pid in nxt.items():
        say(f"{who} claims {nmr(s.claim(pid))}.")
    say(
        "Totals: "
        + ", ".join(f"{k} {nmr(v)}" for k, v in sorted(s.transfers.items()))
        + f"; series balance {nmr(s.balance)}."
    )
    return s, out


if __name__ == "__main__":  # python -m backing.model.series: print the worked example of docs/series.md
    print("\n".join(worked_example()[1]))

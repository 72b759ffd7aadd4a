"""Reference model: the contracts' integer math, in Python, to the wei.

Every function here mirrors a piece of ``contracts/``; the tests compare the chain against it. Integer
division rounds down (``//``) for unsigned values; Solidity's signed division truncates toward zero, which
``tdiv`` reproduces. ``Agreement`` is a state machine with the same phases, checks and error names as
``BackingAgreement.sol``, so a test can drive both and compare balances after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from oracle.units import ONE, clamped_return, tdiv  # noqa: F401  (the oracle's arithmetic, re-used)

BPS = 10_000
MAX_ABS_SCORE = ONE
MAX_SCORES = 8
MAX_EXPOSURE = ONE
INDEX_LIMIT = 2**184 - 1
MIN_GROWTH = 10**12  # ScoreOracle.MIN_GROWTH: one round never takes the index below 1e-6 of its value
MIN_START_INDEX = 10**9  # ScoreOracle.MIN_START_INDEX: lock refuses a model whose index fell below it

MAX_FEE_TIERS = 8
MAX_UNITS = 2**24 - 1
MAX_UNIT_SIZE = 2**80 - 1
MAX_RESERVE_RATIO_BPS = 100_000
MAX_UPFRONT_FEE_BPS = 5_000
MAX_LOCKUP_ROUNDS = 5_200
MAX_OPEN_PERIOD = 365 * 86400
MIN_WIND_DOWN = 3600
MAX_WIND_DOWN = 365 * 86400


class ContractError(Exception):
    """A revert the contracts would raise: ``name`` is the Solidity custom error's name."""

    def __init__(self, name: str, *args):
        super().__init__(f"{name}{args if args else ''}")
        self.name = name
        self.args_ = args


def mul_div(a: int, b: int, d: int) -> int:
    """OpenZeppelin Math.mulDiv (floor), exact for any size."""
    return a * b // d


# ---------------------------------------------------------------------------------------------- oracle


def round_return(
    scores,
    multipliers,
    payout_factor: int,
    clip: int,
    max_clip: int = ONE,
    max_multiplier: int = 1000 * ONE,
    names=None,
) -> int:
    """ScoreOracle.computeRoundReturn: clamp(payoutFactor * sum(m_i * s_i), -clip, clip), 1e18 fixed point."""
    count = len(scores)
    if count == 0:
        raise ContractError("NoScores")
    if count > MAX_SCORES:
        raise ContractError("TooManyScores", count, MAX_SCORES)
    if len(multipliers) != count or (names is not None and len(names) != count):
        raise ContractError("LengthMismatch")
    if payout_factor > ONE or payout_factor < 0:
        raise ContractError("PayoutFactorOutOfBounds", payout_factor)
    if clip <= 0 or clip > max_clip:
        raise ContractError("ClipOutOfBounds", clip, max_clip)
    for i, (score, mult) in enumerate(zip(scores, multipliers)):
        if names is not None:
            if not names[i]:
                raise ContractError("EmptyScoreName", i)
            if names[i] in names[:i]:
                raise ContractError("DuplicateScoreName", names[i])
        if abs(score) > MAX_ABS_SCORE:
            raise ContractError("ScoreOutOfBounds", i, score)
        if mult > max_multiplier or mult < 0:
            raise ContractError("MultiplierOutOfBounds", i, mult, max_multiplier)
    return clamped_return(scores, multipliers, payout_factor, clip)


def next_index(previous: int, exposure: int, roundreturn: int) -> int:
    """I_r = I_{r-1} * max(1 + exposure * return_r, MIN_GROWTH), as ScoreOracle.finalize computes it (the floor
    keeps the index positive after a -100% round)."""
    growth = max(ONE + tdiv(exposure * roundreturn, ONE), MIN_GROWTH)
    index = previous * growth // ONE
    if index > INDEX_LIMIT:
        raise ContractError("IndexOverflow")
    return index


def index_path(exposure: int, returns) -> list[int]:
    """Indices after each round, starting from 1e18 before the first."""
    path = [ONE]
    for r in returns:
        path.append(next_index(path[-1], exposure, r))
    return path


# ---------------------------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class FeeTier:
    min_units: int
    profit_share_bps: int


@dataclass(frozen=True)
class Terms:
    unit_size: int
    min_units: int
    max_units: int
    profit_share_bps: int
    burn_share_bps: int
    reserve_ratio_bps: int
    upfront_fee_bps: int
    lockup_rounds: int
    open_until: int
    wind_down: int
    staking_address: str = "0x000000000000000000000000000000000000dEaD"
    model_id: bytes = b"\x00" * 32
    fee_ladder: tuple[FeeTier, ...] = ()
    #: the oracle must attest the model: checked by the contract at creation (or opening) and at lock
    require_attested_model: bool = False

    def validate(self, now: int) -> None:
        """The checks of BackingAgreement._validate and _storeLadder, in the same order."""
        if self.unit_size <= 0 or self.unit_size > MAX_UNIT_SIZE:
            raise ContractError("UnitSizeOutOfRange", self.unit_size)
        if self.min_units <= 0:
            raise ContractError("MinUnitsZero")
        if self.max_units < self.min_units:
            raise ContractError("MaxUnitsBelowMinUnits", self.min_units, self.max_units)
        if self.max_units > MAX_UNITS:
            raise ContractError("MaxUnitsTooLarge", self.max_units, MAX_UNITS)
        if self.profit_share_bps > BPS:
            raise ContractError("ProfitShareTooHigh", self.profit_share_bps)
        if self.burn_share_bps > BPS:
            raise ContractError("BurnShareTooHigh", self.burn_share_bps)
        if self.reserve_ratio_bps > MAX_RESERVE_RATIO_BPS:
            raise ContractError("ReserveRatioTooHigh", self.reserve_ratio_bps, MAX_RESERVE_RATIO_BPS)
        if self.upfront_fee_bps > MAX_UPFRONT_FEE_BPS:
            raise ContractError("UpfrontFeeTooHigh", self.upfront_fee_bps, MAX_UPFRONT_FEE_BPS)
        if self.lockup_rounds <= 0 or self.lockup_rounds > MAX_LOCKUP_ROUNDS:
            raise ContractError("LockupRoundsOutOfRange", self.lockup_rounds, MAX_LOCKUP_ROUNDS)
        if self.open_until <= now:
            raise ContractError("OpenUntilNotInFuture", self.open_until)
        if self.open_until > now + MAX_OPEN_PERIOD:
            raise ContractError("OpenUntilTooFar", self.open_until, now + MAX_OPEN_PERIOD)
        if self.wind_down < MIN_WIND_DOWN or self.wind_down > MAX_WIND_DOWN:
            raise ContractError("WindDownOutOfRange", self.wind_down, MIN_WIND_DOWN, MAX_WIND_DOWN)
        if int(self.staking_address, 16) == 0:
            raise ContractError("StakingAddressZero")
        if len(self.fee_ladder) > MAX_FEE_TIERS:
            raise ContractError("FeeLadderTooLong", len(self.fee_ladder), MAX_FEE_TIERS)
        previous = 0
        for i, tier in enumerate(self.fee_ladder):
            if tier.min_units <= previous or tier.min_units > self.max_units:
                raise ContractError("FeeTierMinUnitsNotAscending", i)
            if tier.profit_share_bps > BPS:
                raise ContractError("FeeTierShareTooHigh", i, tier.profit_share_bps)
            previous = tier.min_units

    def profit_share_for(self, units: int) -> int:
        """The backer's tier by his own units: the highest tier reached, else the base share."""
        share = self.profit_share_bps
        for tier in self.fee_ladder:
            if units < tier.min_units:
                break
            share = tier.profit_share_bps
        return share

    def required_reserve(self, staked: int) -> int:
        """ceil(S * reserveRatioBps / 1e4)."""
        return -(-staked * self.reserve_ratio_bps // BPS)

    def reserve_for_capital(self, capital: int) -> int:
        """The reserve a lock with ``capital`` (wei) requires: the upfront fee is not staked."""
        return self.required_reserve(capital - capital * self.upfront_fee_bps // BPS)

    def as_tuple(self):
        """The Solidity ``Terms`` struct, for contract calls."""
        return (
            self.model_id,
            self.unit_size,
            self.min_units,
            self.max_units,
            self.profit_share_bps,
            self.burn_share_bps,
            self.reserve_ratio_bps,
            self.upfront_fee_bps,
            self.lockup_rounds,
            self.open_until,
            self.wind_down,
            self.staking_address,
            self.require_attested_model,
        )

    def ladder_tuples(self):
        return [(t.min_units, t.profit_share_bps) for t in self.fee_ladder]


# ---------------------------------------------------------------------------------------------- settlement math


@dataclass(frozen=True)
class LockAmounts:
    capital: int
    upfront_fee: int
    staked: int


def lock_amounts(terms: Terms, total_units: int) -> LockAmounts:
    capital = total_units * terms.unit_size
    fee = capital * terms.upfront_fee_bps // BPS
    return LockAmounts(capital, fee, capital - fee)


def final_value(staked: int, start_index: int, end_index: int) -> int:
    """V = S * I_end / I_start (0 when the model was already wiped out at the start)."""
    return 0 if start_index == 0 else mul_div(staked, end_index, start_index)


@dataclass(frozen=True)
class Maturity:
    final_value: int
    amount_due: int
    owed_total: int
    cover_bound: int


def maturity(terms: Terms, units: dict, staked: int, reserve: int, value: int) -> Maturity:
    """BackingAgreement._amountsDue: O(1) aggregates that bound the per-backer sums (exact for one backer)."""
    total = sum(units.values())
    backers = sum(1 for u in units.values() if u > 0)
    if value >= staked:
        weight = sum(u * terms.profit_share_for(u) for u in units.values() if u > 0)
        fees = mul_div(value - staked, weight, total * BPS)
        due = min(value, value - fees + backers - 1)
        return Maturity(value, due, due, 0)
    covers = 0 if terms.burn_share_bps == 0 else (staked - value) * terms.burn_share_bps // BPS + backers - 1
    return Maturity(value, value, value + min(reserve, covers), covers)


def owed(terms: Terms, units: int, total_units: int, staked: int, reserve: int, m: Maturity) -> int:
    """owed_b: what backer b is due under full repayment, from his own units only."""
    if units == 0:
        return 0
    staked_share = staked * units // total_units
    value_share = mul_div(m.final_value, units, total_units)
    if m.final_value >= staked:
        fee = (value_share - staked_share) * terms.profit_share_for(units) // BPS
        return value_share - fee
    cover = (staked_share - value_share) * terms.burn_share_bps // BPS
    if m.cover_bound > reserve:
        cover = mul_div(cover, reserve, m.cover_bound)
    return value_share + cover


# ---------------------------------------------------------------------------------------------- state machine


class Phase(IntEnum):
    Open = 0
    Locked = 1
    Matured = 2
    Settled = 3
    Defaulted = 4
    Cancelled = 5


@dataclass
class Agreement:
    """BackingAgreement as a Python state machine. Token flows are recorded per party in ``transfers``
    (positive = received from the agreement, negative = paid into it) and in ``balance``."""

    terms: Terms
    modeller: str
    units: dict = field(default_factory=dict)
    claimed: set = field(default_factory=set)
    reserve: int = 0
    repaid: int = 0
    phase: Phase = Phase.Open
    start_round: int = 0
    deadline: int = 0
    claims_remaining: int = 0
    locked: LockAmounts | None = None
    matured: Maturity | None = None
    default_pool: int = 0
    reserve_returned: int = 0
    reserve_used: int = 0
    # issue 12 L-1: the deposit cap once a reserve was posted while Open (the units it covers, at least the units
    # held then); None: the offer's max_units
    deposit_cap: int | None = None
    balance: int = 0
    transfers: dict = field(default_factory=dict)

    # -- helpers
    def _flow(self, party: str, amount: int) -> None:
        """``amount`` > 0: the agreement pays ``party``; < 0: ``party`` pays the agreement."""
        self.transfers[party] = self.transfers.get(party, 0) + amount
        self.balance -= amount

    def _require_phase(self, *phases: Phase) -> None:
        if self.phase not in phases:
            raise ContractError("WrongPhase", int(self.phase))

    @property
    def total_units(self) -> int:
        return sum(self.units.values())

    @property
    def backer_count(self) -> int:
        return sum(1 for u in self.units.values() if u > 0)

    # -- open
    def deposit(self, backer: str, units: int, now: int) -> None:
        self._require_phase(Phase.Open)
        if now > self.terms.open_until:
            raise ContractError("DepositWindowClosed", self.terms.open_until)
        if units == 0:
            raise ContractError("ZeroAmount")
        cap = self.terms.max_units if self.deposit_cap is None else self.deposit_cap
        available = cap - self.total_units
        if units > available:
            if self.deposit_cap is not None and self.total_units + units <= self.terms.max_units:
                required = self.terms.reserve_for_capital((self.total_units + units) * self.terms.unit_size)
                raise ContractError("DepositBeyondReserve", required, self.reserve)
            raise ContractError("CapacityExceeded", units, available)
        self.units[backer] = self.units.get(backer, 0) + units
        self._flow(backer, -units * self.terms.unit_size)

    def withdraw(self, backer: str, units: int) -> None:
        self._require_phase(Phase.Open)
        if units == 0:
            raise ContractError("ZeroAmount")
        held = self.units.get(backer, 0)
        if units > held:
            raise ContractError("InsufficientUnits", units, held)
        self.units[backer] = held - units
        self._flow(backer, units * self.terms.unit_size)

    def post_reserve(self, caller: str, amount: int) -> None:
        if caller != self.modeller:
            raise ContractError("NotModeller", caller)
        self._require_phase(Phase.Open, Phase.Locked)
        if amount == 0:
            raise ContractError("ZeroAmount")
        self.reserve += amount
        self._flow(self.modeller, -amount)
        if self.phase == Phase.Open:
            # issue 12 L-1: deposits stop where the reserve no longer covers the stake (the units already held stay)
            self.deposit_cap = max(self.total_units, self.units_covered(self.reserve))

    def units_covered(self, reserve: int) -> int:
        """The most units (up to max_units) whose lock ``reserve`` covers."""
        low, high = 0, self.terms.max_units
        while low < high:
            mid = (low + high + 1) // 2
            if self.terms.reserve_for_capital(mid * self.terms.unit_size) <= reserve:
                low = mid
            else:
                high = mid - 1
        return low

    def deposit_room(self) -> int:
        """``depositRoom()``: units that can still be deposited (0 unless Open)."""
        if self.phase != Phase.Open:
            return 0
        cap = self.terms.max_units if self.deposit_cap is None else self.deposit_cap
        return cap - self.total_units

    def cancel(self, caller: str, now: int) -> None:
        self._require_phase(Phase.Open)
        if caller != self.modeller and now <= self.terms.open_until:
            raise ContractError("OpenWindowNotOver", self.terms.open_until)
        self.phase = Phase.Cancelled
        self.claims_remaining = self.backer_count
        self.reserve_returned = self.reserve
        self._flow(self.modeller, self.reserve)
        if self.claims_remaining == 0:
            self._sweep()

    def lock(self, caller: str, now: int, start_round: int, first_round: int = 1, last_index: int = ONE) -> LockAmounts:
        """`last_index`: the model's index after its last final round (lock refuses one below MIN_START_INDEX)."""
        if caller != self.modeller:
            raise ContractError("NotModeller", caller)
        self._require_phase(Phase.Open)
        if now > self.terms.open_until:
            raise ContractError("DepositWindowClosed", self.terms.open_until)
        if self.total_units < self.terms.min_units:
            raise ContractError("BelowMinUnits", self.total_units, self.terms.min_units)
        amounts = lock_amounts(self.terms, self.total_units)
        required = self.terms.required_reserve(amounts.staked)
        if self.reserve < required:
            raise ContractError("ReserveTooSmall", self.reserve, required)
        if start_round < first_round:
            raise ContractError("ModelNotStarted", start_round, first_round)
        if last_index < MIN_START_INDEX:
            raise ContractError("IndexTooLow", last_index, MIN_START_INDEX)
        self.phase = Phase.Locked
        self.start_round = start_round
        self.claims_remaining = self.backer_count
        self.locked = amounts
        self._flow(self.modeller, amounts.upfront_fee)
        self._flow("staking", amounts.staked)
        return amounts

    @property
    def end_round(self) -> int:
        return self.start_round + self.terms.lockup_rounds - 1

    # -- maturity
    def mature(
        self, now: int, start_index: int, end_index: int, last_final: int | None = None, overdue: bool = False
    ) -> Maturity:
        """Fix the final value from the oracle's indices. `last_final` is the oracle's last final round; when it
        is before the end round the agreement matures only on the oracle's fallback, `overdue` (the end round is
        overdue and no report is pending: the indices given are then those of the final rounds, later ones count
        zero). The agreement finalizes the oracle's finalizable rounds first: pass the indices after that."""
        self._require_phase(Phase.Locked)
        if last_final is not None and last_final < self.end_round and not overdue:
            raise ContractError("RoundsOutstanding", last_final, self.end_round)
        value = final_value(self.locked.staked, start_index, end_index)
        live = {b: u for b, u in self.units.items() if u > 0}
        self.matured = maturity(self.terms, live, self.locked.staked, self.reserve, value)
        self.deadline = now + self.terms.wind_down
        self.phase = Phase.Matured
        if self.matured.amount_due == 0:
            self._settle()
        return self.matured

    def repay(self, payer: str, amount: int) -> None:
        self._require_phase(Phase.Matured)
        if amount == 0:
            raise ContractError("ZeroAmount")
        outstanding = self.matured.amount_due - self.repaid
        if amount > outstanding:
            raise ContractError("RepaymentExceedsDue", amount, outstanding)
        self.repaid += amount
        self._flow(payer, -amount)
        if amount == outstanding:
            self._settle()

    def _settle(self) -> None:
        m = self.matured
        used = min(self.reserve, m.cover_bound) if m.final_value < self.locked.staked else 0
        self.phase = Phase.Settled
        self.reserve_used = used
        self.reserve_returned = self.reserve - used
        self._flow(self.modeller, self.reserve_returned)

    def declare_default(self, now: int) -> None:
        self._require_phase(Phase.Matured)
        if now <= self.deadline:
            raise ContractError("WindDownNotOver", self.deadline)
        used = min(self.reserve, self.matured.owed_total - self.repaid)
        self.phase = Phase.Defaulted
        self.default_pool = self.repaid + used
        self.reserve_used = used
        self.reserve_returned = self.reserve - used
        self._flow(self.modeller, self.reserve_returned)

    # -- claims
    def owed_to(self, backer: str) -> int:
        return owed(
            self.terms, self.units.get(backer, 0), self.total_units, self.locked.staked, self.reserve, self.matured
        )

    def payout(self, backer: str) -> int:
        units = self.units.get(backer, 0)
        if self.phase == Phase.Cancelled:
            return units * self.terms.unit_size
        amount = self.owed_to(backer)
        if self.phase == Phase.Settled:
            return amount
        total = self.matured.owed_total
        return 0 if total == 0 else mul_div(self.default_pool, amount, total)

    def claim(self, backer: str) -> int:
        self._require_phase(Phase.Settled, Phase.Defaulted, Phase.Cancelled)
        if self.units.get(backer, 0) == 0:
            raise ContractError("NothingToClaim", backer)
        if backer in self.claimed:
            raise ContractError("AlreadyClaimed", backer)
        amount = self.payout(backer)
        self.claimed.add(backer)
        self.claims_remaining -= 1
        self._flow(backer, amount)
        if self.claims_remaining == 0:
            self._sweep()
        return amount

    def _sweep(self) -> None:
        """Rounding dust (and nothing else, in the model) goes to the modeller after the last claim."""
        if self.balance > 0:
            self._flow(self.modeller, self.balance)

    # -- reporting
    def summary(self) -> dict:
        """Who paid and received what, for tables and scenario output."""
        fee_total = 0
        if self.matured and self.locked and self.matured.final_value >= self.locked.staked:
            fee_total = self.matured.final_value - self.repaid if self.phase == Phase.Settled else 0
        return {
            "phase": self.phase.name,
            "final_value": self.matured.final_value if self.matured else None,
            "amount_due": self.matured.amount_due if self.matured else None,
            "repaid": self.repaid,
            "upfront_fee": self.locked.upfront_fee if self.locked else 0,
            "staked": self.locked.staked if self.locked else 0,
            "fees_kept": fee_total,
            "reserve": self.reserve,
            "reserve_used": self.reserve_used,
            "reserve_returned": self.reserve_returned,
            "transfers": dict(self.transfers),
        }

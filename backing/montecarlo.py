"""Monte Carlo over score paths: the reference model's integer math, vectorised with NumPy.

    backing montecarlo --terms FILE [--units N] [--paths 10000] [--rounds 260] [--seed S] [--json OUT] [--plot DIR]

Each path is a sequence of per-round (CORR20, MMC) scores, from a calibrated generator or block-bootstrapped
from a history file. The scores go through exactly the integer math of ``backing.model.agreement`` (which mirrors the
contracts): ``round_return`` (payout factor, multipliers, one truncating division, clip), ``next_index`` (exposure,
floor), ``final_value``, ``maturity`` and ``owed``; the vectorised results equal the scalar model to the wei
(``tests/unit/test_montecarlo.py`` checks it path by path).

How it stays exact without 256-bit integers:

* round returns: ``N = sum_i (payoutFactor * multiplier_i) * score_i`` can reach ~8e57. Scores are split into
  base-1e6 limbs and each constant ``payoutFactor * multiplier_i`` into base-1e6 digits; every partial product is
  below 1e12 and at most 8 * 3 of them meet in one limb, so int64 never overflows. After carrying (floor, so
  every limb but the top is in [0, 1e6)), ``floor(N / 1e36)`` is the limbs from the 6th up, and truncation toward
  zero adds one when N < 0 and a lower limb is non-zero. Limbs above 1e48 only matter to the clamp, so they are
  saturated before the last multiplication: the result is exact for every input the oracle accepts.
* the index: ``I_r = I_{r-1} * growth_r // 1e18`` is kept in base-1e9 limbs (as many as needed, at most 7 for
  the oracle's 2^184 limit); ``growth <= 2e18`` is split into two limbs, every partial product is below 2e18 + 2e18,
  two carry passes normalise the low limbs, and dividing by 1e18 drops the two lowest limbs exactly.
* final value and settlement: per path, once, with Python integers in NumPy object arrays.

Score generator parameters and their sources are in ``ScoreModel``; payout settings in ``SCHEMES``.
"""

from __future__ import annotations

import csv
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from backing.model.agreement import BPS, INDEX_LIMIT, MIN_GROWTH, ONE, Terms, lock_amounts
from backing.report import nmr, percent

SCORE_NAMES = ("CORR20", "MMC")
MAX_MULTIPLIER = 1000 * ONE  # the oracle's absolute bound on maxMultiplier

_L6 = 10**6  # limb base for round returns
_L9 = 10**9  # limb base for the index


class MonteCarloError(ValueError):
    """Bad input for the Monte Carlo (a message for the user)."""


# ---------------------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Payout:
    """How a round's scores become its return (1e18 fixed point, as the oracle takes them)."""

    multipliers: tuple[int, ...]  # one per score in SCORE_NAMES
    payout_factor: int
    clip: int
    exposure: int = ONE  # the oracle's per-model exposure: fraction of the stake at risk per resolved round

    def validate(self) -> None:
        if len(self.multipliers) != len(SCORE_NAMES):
            raise MonteCarloError(f"--multipliers needs {len(SCORE_NAMES)} values ({', '.join(SCORE_NAMES)})")
        for name, m in zip(SCORE_NAMES, self.multipliers):
            if m < 0 or m > MAX_MULTIPLIER:
                raise MonteCarloError(
                    f"--multipliers: {name} multiplier {nmr(m)} must be between 0 and " f"{nmr(MAX_MULTIPLIER)}"
                )
        if not 0 <= self.payout_factor <= ONE:
            raise MonteCarloError(f"--payout-factor ({nmr(self.payout_factor)}) must be between 0 and 1")
        if not 0 < self.clip <= ONE:
            raise MonteCarloError(f"--clip ({nmr(self.clip)}) must be more than 0 and at most 1")
        if not 0 < self.exposure <= ONE:
            raise MonteCarloError(f"--exposure ({nmr(self.exposure)}) must be more than 0 and at most 1")


#: Payout settings by scheme, from shared/domain/numerai-staking.md section 1:
#:  v2  = Classic rounds from 2 Jan 2024: clip(pf * (0.5*CORR20 + 2*MMC), -0.05, 0.05) (docs@0ef33d6);
#:  abs = ABS (staking v3) table for Numerai: 5*CORR + 10*MMC, clip 1, payout factor 1 (docs 09e2517; the
#:        per-round reading is the domain file's inference).
#: The v2 payout factor is min(1, 72,000 NMR / total at risk) (docs, section 1); the file does not give the total
#: at risk, so the default 0.25 is an ASSUMPTION (about 290,000 NMR at risk): pass the round's real value with
#: --payout-factor (numerapi list_rounds() returns it per round).
SCHEMES = {
    "v2": Payout((ONE // 2, 2 * ONE), ONE // 4, 5 * ONE // 100),
    "abs": Payout((5 * ONE, 10 * ONE), ONE, ONE),
}


@dataclass(frozen=True)
class ScoreModel:
    """The calibrated generator: per-round CORR20 and MMC, jointly normal, overlapping-window autocorrelation.

    Source of each default:
      * ``overlap`` = 20: CORR20 is scored over 20 daily updates (20D2L) and a new round opens every business day
        (numerai-staking.md section 2), so consecutive resolved rounds share 19 of 20 scoring days. Each score is
        modelled as the mean of 20 i.i.d. daily contributions, i.e. a moving average of ``overlap`` innovations:
        lag-k autocorrelation (20 - k) / 20 for k < 20, 0 beyond. ``ar1`` replaces it with an AR(1) (lag-k
        autocorrelation ar1^k) when given.
      * ``corr_mean`` 0.01, ``corr_sd`` 0.03, ``mmc_mean`` 0.002, ``mmc_sd`` 0.01, ``corr_mmc`` 0.5: ASSUMPTIONS
        (roughly a middling staked Classic model); the domain file gives no score statistics. Override them with
        --corr-mean/--corr-sd/--mmc-mean/--mmc-sd/--corr-mmc, or bootstrap your model's own history (--history).
    Scores are clamped to [-1, 1] (the oracle rejects anything beyond) and rounded to 1e-18.
    """

    corr_mean: float = 0.01
    corr_sd: float = 0.03
    mmc_mean: float = 0.002
    mmc_sd: float = 0.01
    corr_mmc: float = 0.5
    overlap: int = 20
    ar1: float | None = None

    def validate(self) -> None:
        if self.corr_sd < 0 or self.mmc_sd < 0 or not (math.isfinite(self.corr_sd) and math.isfinite(self.mmc_sd)):
            raise MonteCarloError("--corr-sd and --mmc-sd must be finite and not negative")
        if not (math.isfinite(self.corr_mean) and math.isfinite(self.mmc_mean)):
            raise MonteCarloError("--corr-mean and --mmc-mean must be finite numbers")
        if abs(self.corr_mean) > 1 or abs(self.mmc_mean) > 1:
            raise MonteCarloError("--corr-mean and --mmc-mean must be between -1 and 1 (scores are bounded by 1)")
        if not -1 <= self.corr_mmc <= 1:
            raise MonteCarloError(f"--corr-mmc ({self.corr_mmc}) must be a correlation between -1 and 1")
        if self.overlap < 1:
            raise MonteCarloError(f"--overlap ({self.overlap}) must be at least 1 (1 = independent rounds)")
        if self.ar1 is not None and not -1 < self.ar1 < 1:
            raise MonteCarloError(f"--ar1 ({self.ar1}) must be strictly between -1 and 1")

    def describe(self) -> str:
        dep = f"AR(1) phi {self.ar1:g}" if self.ar1 is not None else f"moving average of {self.overlap} rounds"
        return (
            f"CORR20 mean {self.corr_mean:g} sd {self.corr_sd:g}, MMC mean {self.mmc_mean:g} sd "
            f"{self.mmc_sd:g}, correlation {self.corr_mmc:g}, {dep}"
        )


def generate_float_scores(model: ScoreModel, paths: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Scores as floats, shape (paths, rounds, 2): CORR20 then MMC, before clamping and rounding."""
    rho = model.corr_mmc

    def innovations(length):  # unit-variance pairs with correlation rho (the Cholesky factor, written out)
        z = rng.standard_normal((paths, length, 2))
        z[..., 1] = rho * z[..., 0] + math.sqrt(1 - rho * rho) * z[..., 1]
        return z

    if model.ar1 is not None:
        phi = model.ar1
        e = innovations(rounds)
        x = np.empty_like(e)
        x[:, 0] = e[:, 0]  # stationary start: unit variance
        scale = math.sqrt(1 - phi * phi)
        for r in range(1, rounds):
            x[:, r] = phi * x[:, r - 1] + scale * e[:, r]
    else:
        w = model.overlap
        e = innovations(rounds + w - 1)
        c = np.cumsum(e, axis=1)
        c = np.concatenate([np.zeros((paths, 1, 2)), c], axis=1)
        x = (c[:, w:] - c[:, :-w]) / math.sqrt(w)
    mean = np.array([model.corr_mean, model.mmc_mean])
    sd = np.array([model.corr_sd, model.mmc_sd])
    return mean + sd * x


def to_fixed(scores: np.ndarray) -> np.ndarray:
    """Float scores -> int64 in 1e18 units, clamped to the oracle's [-1, 1]."""
    return np.rint(np.clip(scores, -1.0, 1.0) * 1e18).astype(np.int64)


def generate_scores(model: ScoreModel, paths: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Integer scores (1e18 = 1.0), shape (paths, rounds, 2)."""
    return to_fixed(generate_float_scores(model, paths, rounds, rng))


# ---------------------------------------------------------------------------------------------- history


def _score_int(text: str, where: str) -> int:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MonteCarloError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or abs(value) > 1:
        raise MonteCarloError(f"{where}: {text!r} must be a score between -1 and 1")
    return int((value * ONE).to_integral_value())  # round half even to 1e-18


def read_history(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A history CSV (header ``round,corr20,mmc``; lines starting with # are comments) -> (rounds, scores) with
    scores int64 in 1e18 units, shape (n, 2), sorted by round. @raise MonteCarloError naming the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MonteCarloError(f"cannot read history file {str(path)!r}: {getattr(error, 'strerror', None) or error}")
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise MonteCarloError(f"history file {str(path)!r} is empty: expected a header round,corr20,mmc and rows")
    rows = list(csv.reader([line for _, line in numbered]))
    header = [h.strip().lower() for h in rows[0]]
    need = ["round", "corr20", "mmc"]
    if any(h not in header for h in need):
        raise MonteCarloError(
            f"history file {str(path)!r}: the header must name the columns round,corr20,mmc "
            f"(got {','.join(rows[0])})"
        )
    cols = [header.index(h) for h in need]
    rounds, scores = [], []
    for (lineno, _), row in zip(numbered[1:], rows[1:]):
        where = f"{path}:{lineno}"
        if len(row) < len(header):
            raise MonteCarloError(f"{where}: expected {len(header)} columns, got {len(row)}")
        try:
            rounds.append(int(row[cols[0]]))
        except ValueError:
            raise MonteCarloError(f"{where}: round {row[cols[0]]!r} is not a whole number") from None
        scores.append((_score_int(row[cols[1]], where), _score_int(row[cols[2]], where)))
    if not scores:
        raise MonteCarloError(f"history file {str(path)!r} has a header but no rows")
    order = np.argsort(rounds, kind="stable")
    r = np.array(rounds)[order]
    if np.any(np.diff(r) == 0):
        raise MonteCarloError(f"history file {str(path)!r} lists round {int(r[1:][np.diff(r) == 0][0])} twice")
    return r, np.array(scores, dtype=np.int64)[order]


def write_history(path: str | Path, scores: np.ndarray, comment: str, first_round: int = 1) -> None:
    """Write one path of integer scores (shape (rounds, 2)) as a history CSV with exact decimals."""

    with open(path, "w", encoding="utf-8") as out:
        for line in comment.splitlines():
            out.write(f"# {line}\n")
        out.write("round,corr20,mmc\n")
        for i, (c, m) in enumerate(scores.tolist()):
            out.write(f"{first_round + i},{nmr(c)},{nmr(m)}\n")


def bootstrap_starts(n_history: int, paths: int, rounds: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Moving-block bootstrap: for each path, the start of each block (uniform over every full block)."""
    count = -(-rounds // block)
    return rng.integers(0, n_history - block + 1, size=(paths, count))


def bootstrap_scores(history: np.ndarray, paths: int, rounds: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Paths made of consecutive ``block``-round stretches of ``history`` (shape (n, 2)), cut to ``rounds``."""
    starts = bootstrap_starts(len(history), paths, rounds, block, rng)
    idx = (starts[:, :, None] + np.arange(block)).reshape(paths, -1)[:, :rounds]
    return history[idx]


# ---------------------------------------------------------------------------------------------- exact math


def _digits(value: int, base: int) -> list[int]:
    out = []
    while value:
        value, d = divmod(value, base)
        out.append(d)
    return out


def round_returns(scores: np.ndarray, payout: Payout) -> np.ndarray:
    """reference.round_return over the last axis of ``scores`` (int64, 1e18 units, |s| <= 1e18): int64 returns.

    clamp(trunc(payoutFactor * sum_i m_i * s_i / 1e36), -clip, clip), exact (see the module docstring)."""
    shape = scores.shape[:-1]
    limbs: list[np.ndarray | None] = [None] * 12
    for i, m in enumerate(payout.multipliers):
        c = payout.payout_factor * m  # <= 1e39: at most 7 base-1e6 digits
        if c == 0:
            continue
        s = scores[..., i].astype(np.int64)
        s0 = s % _L6
        t = s // _L6
        s_parts = (s0, t % _L6, t // _L6)  # floor limbs: s0, s1 in [0, 1e6), s2 in [-1e6, 1e6]
        for k, ck in enumerate(_digits(c, _L6)):
            if ck == 0:
                continue
            for j, sj in enumerate(s_parts):
                term = sj * ck  # |term| < 1e12
                limbs[k + j] = term if limbs[k + j] is None else limbs[k + j] + term
    if all(limb is None for limb in limbs):
        return np.zeros(shape, dtype=np.int64)
    zero = np.zeros(shape, dtype=np.int64)
    lowest = next(k for k, limb in enumerate(limbs) if limb is not None)  # limbs below are zero
    acc = [zero if limb is None else limb for limb in limbs]
    for k in range(lowest, len(acc) - 1):  # carry: every limb but the top in [0, 1e6)
        carry = acc[k] // _L6
        acc[k] = acc[k] - carry * _L6
        acc[k + 1] = acc[k + 1] + carry
    high = acc[8] + acc[9] * _L6 + acc[10] * _L6**2 + acc[11] * _L6**3  # floor(N / 1e48), |high| < 1e10
    high = np.minimum(np.maximum(high, -2 * _L6), 2 * _L6)  # beyond that |N / 1e36| > 1.99e18 > any clip: saturate
    floor_q = high * _L6**2 + acc[7] * _L6 + acc[6]
    inexact = np.zeros(shape, dtype=bool)
    for k in range(lowest, 6):
        inexact |= acc[k] != 0
    q = floor_q + ((floor_q < 0) & inexact)  # truncate toward zero
    return np.minimum(np.maximum(q, -payout.clip), payout.clip)


def growths(returns: np.ndarray, exposure: int) -> np.ndarray:
    """ONE + tdiv(exposure * return, ONE), int64 in [0, 2e18] (|return| <= 1e18, 0 < exposure <= 1e18)."""
    r = returns.astype(np.int64)
    if exposure == ONE:
        return np.maximum(ONE + r, MIN_GROWTH)
    mag = np.abs(r)
    e1, e0 = divmod(exposure, _L9)
    r1, r0 = mag // _L9, mag % _L9
    mid = e1 * r0 + e0 * r1  # < 2e18
    m1, m0 = mid // _L9, mid % _L9
    q = e1 * r1 + m1 + (m0 * _L9 + e0 * r0) // ONE  # floor(|e * r| / 1e18)
    return np.maximum(ONE + np.where(r < 0, -q, q), MIN_GROWTH)  # ScoreOracle's floor


class IndexOverflow(MonteCarloError):
    """The oracle would revert with IndexOverflow: an index above 2^184 - 1."""


def _limbs_to_int(limbs: np.ndarray) -> np.ndarray:
    """Base-1e9 limbs (rows, low first; may exceed the base) -> object array of Python ints."""
    out = np.zeros(limbs.shape[1], dtype=object)
    for row in limbs[::-1]:
        out = out * _L9 + row.astype(object)
    return out


def index_paths(growth: np.ndarray, start: int = ONE, keep_float: bool = False):
    """reference.index_path for each row of ``growth`` (int64, shape (paths, rounds)), from ``start``.

    @return (end index as an object array of Python ints, float64 index after each round or None).
    @raise IndexOverflow when a path's index would exceed the oracle's 2^184 - 1."""
    paths, rounds = growth.shape
    limbs = np.array(_digits(start, _L9) or [0], dtype=np.int64)
    index = np.repeat(limbs[:, None], paths, axis=1)
    index = np.concatenate([index, np.zeros((1, paths), dtype=np.int64)])  # headroom: top row zero
    g0 = np.ascontiguousarray((growth % _L9).T)
    g1 = np.ascontiguousarray((growth // _L9).T)
    floats = None
    if keep_float:  # for charts only: the same recurrence in floating point (relative error ~1e-16 a round)
        floats = np.empty((paths, rounds + 1))
        floats[:, 0] = start / ONE
        np.cumprod(growth / ONE, axis=1, out=floats[:, 1:])
        floats[:, 1:] *= start / ONE
    for r in range(rounds):
        k = index.shape[0]
        prod = np.zeros((k + 2, paths), dtype=np.int64)
        np.multiply(index, g0[r], out=prod[:k])
        prod[1 : k + 1] += index * g1[r]  # each limb < 1.01e9 * 1e9 + 1.01e9 * 2e9 + carries < 3.1e18
        for _ in range(2):  # two passes: low limbs exact in [0, 1e9), the others below 1e9 + 5
            carry, prod = np.divmod(prod, _L9)
            prod[1:] += carry[:-1]
        index = prod[2:]  # floor(I * growth / 1e18): drop two limbs
        if index[-1].any():
            if index.shape[0] >= 7:
                _check_overflow(index)
            index = np.concatenate([index, np.zeros((1, paths), dtype=np.int64)])
    _check_overflow(index)
    return _limbs_to_int(index), floats


def _check_overflow(index: np.ndarray) -> None:
    if index.shape[0] < 7:
        return
    suspect = np.nonzero(index[6:].any(axis=0))[0]
    if len(suspect) == 0:
        return
    values = _limbs_to_int(index[:, suspect])
    over = sum(1 for v in values if v > INDEX_LIMIT)
    if over:
        raise IndexOverflow(
            f"on {over} path(s) the index would exceed 2^184 - 1 and the oracle would revert "
            f"(IndexOverflow): lower --exposure, --clip or --rounds"
        )


# ---------------------------------------------------------------------------------------------- settlement


@dataclass(frozen=True)
class Position:
    """The agreement simulated: a representative backer with ``units`` and, if ``total_units`` is larger, one
    other backer holding the rest; the modeller posts ``reserve`` wei (the terms' minimum by default)."""

    terms: Terms
    units: int
    total_units: int
    reserve: int

    @property
    def backers(self) -> list[int]:
        return [self.units] + ([self.total_units - self.units] if self.total_units > self.units else [])

    @property
    def staked(self) -> int:
        return lock_amounts(self.terms, self.total_units).staked

    @property
    def upfront_fee(self) -> int:
        return lock_amounts(self.terms, self.total_units).upfront_fee


def make_position(terms: Terms, units: int, total_units: int | None = None, reserve: int | None = None) -> Position:
    total = units if total_units is None else total_units
    if units < 1:
        raise MonteCarloError(f"--units ({units}) must be at least 1")
    if total < units:
        raise MonteCarloError(f"--total-units ({total}) must be at least --units ({units})")
    if total < terms.min_units:
        raise MonteCarloError(
            f"{total} units in total; these terms need at least min_units ({terms.min_units}) "
            f"to lock (raise --units or --total-units)"
        )
    if total > terms.max_units:
        raise MonteCarloError(f"{total} units in total is more than max_units ({terms.max_units})")
    staked = lock_amounts(terms, total).staked
    required = terms.required_reserve(staked)
    if reserve is None:
        reserve = required
    elif reserve < required:
        raise MonteCarloError(
            f"--reserve ({nmr(reserve)} NMR) is below the {nmr(required)} NMR these terms "
            f"require for {nmr(staked)} NMR staked"
        )
    return Position(terms, units, total, reserve)


def _owed(position: Position, units: int, value, gain, cover_bound):
    """reference.owed over object arrays, for one backer."""
    t = position.terms
    staked_share = position.staked * units // position.total_units
    value_share = value * units // position.total_units
    fee = (value_share - staked_share) * t.profit_share_for(units) // BPS
    cover = (staked_share - value_share) * t.burn_share_bps // BPS
    scaled = np.where(
        cover_bound > position.reserve, cover * position.reserve // np.where(cover_bound > 0, cover_bound, 1), cover
    )
    return np.where(gain, value_share - fee, value_share + scaled)


def settle(position: Position, end_index: np.ndarray, defaulted: np.ndarray | None = None) -> dict:
    """Maturity, repayment (or a default with nothing repaid) and every claim, per path, to the wei.

    @param end_index Object array of Python ints: the index after the last round (the index at lock is 1e18).
    @param defaulted Bool per path: the modeller repays nothing (default: he repays in full).
    @return Object arrays of wei per path: value, amount_due, owed_total, cover_bound, owed (representative
        backer), received (his claim), fees (kept by the modeller on a gain), reserve_used, shortfall (covers
        beyond the reserve), uncovered (the backer's share of covers the reserve could not pay), dust,
        modeller_net (upfront fee + fees + dust - reserve used; in a default: + the value kept).
    """
    t = position.terms
    s = position.staked
    r = position.reserve
    units = position.backers
    n = len(units)
    total = position.total_units
    value = np.asarray(end_index, dtype=object) * s // ONE  # final_value(S, 1e18, I_end)
    gain = value >= s
    weight = sum(u * t.profit_share_for(u) for u in units)
    fees = (value - s) * weight // (total * BPS)
    due_gain = np.minimum(value, value - fees + (n - 1))
    covers = (s - value) * t.burn_share_bps // BPS + (n - 1) if t.burn_share_bps else value * 0
    cover_bound = np.where(gain, 0, covers)
    amount_due = np.where(gain, due_gain, value)
    owed_total = np.where(gain, due_gain, value + np.minimum(r, cover_bound))
    owed = [_owed(position, u, value, gain, cover_bound) for u in units]
    used_settled = np.where(gain, 0, np.minimum(r, cover_bound))
    # uncapped cover of the representative backer, to measure what a shortfall costs him
    staked_share = s * units[0] // total
    value_share = value * units[0] // total
    cover_full = np.where(gain, 0, (staked_share - value_share) * t.burn_share_bps // BPS)
    out = {
        "value": value,
        "amount_due": amount_due,
        "owed_total": owed_total,
        "cover_bound": cover_bound,
        "owed": owed[0],
        "fees": np.where(gain, value - amount_due, 0),
        "shortfall": np.maximum(cover_bound - r, 0),
        "uncovered": cover_full - (owed[0] - value_share),
    }
    claims_total = sum(owed[1:], owed[0])
    settled_dust = amount_due + used_settled - claims_total
    received = owed[0]
    reserve_used = used_settled
    dust = settled_dust
    net = position.upfront_fee + out["fees"] + dust - reserve_used
    if defaulted is not None:
        defaulted = defaulted & (amount_due > 0)  # nothing due (V = 0): the agreement settles at maturity
    if defaulted is not None and defaulted.any():
        pool = np.minimum(r, owed_total)  # nothing repaid: pool = 0 + min(R, owedTotal - 0)
        safe_total = np.where(owed_total > 0, owed_total, 1)
        pays = [np.where(owed_total > 0, pool * o // safe_total, 0) for o in owed]
        default_dust = pool - sum(pays[1:], pays[0])
        received = np.where(defaulted, pays[0], owed[0])
        reserve_used = np.where(defaulted, pool, used_settled)
        dust = np.where(defaulted, default_dust, settled_dust)
        net = np.where(defaulted, position.upfront_fee + value + default_dust - pool, net)
        out["fees"] = np.where(defaulted, 0, out["fees"])  # he keeps V, but no fee is settled
    out.update(received=received, reserve_used=reserve_used, dust=dust, modeller_net=net)
    return out


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class Config:
    position: Position
    payout: Payout
    rounds: int
    paths: int
    seed: int
    model: ScoreModel | None = None  # the generator, or
    history: np.ndarray | None = None  # a history to bootstrap (int64, (n, 2))
    block: int = 20
    default_prob: float = 0.0
    chunk: int = 1000
    keep_paths: bool = False  # keep float index paths (for the fan chart)


@dataclass
class Result:
    config: Config
    floats: dict = field(default_factory=dict)  # name -> float64 per path (NMR or fractions)
    index_fan: np.ndarray | None = None  # percentiles (5 rows) x rounds+1
    seconds: float = 0.0


FAN_PERCENTILES = (5, 25, 50, 75, 95)


def chunk_scores(config: Config, paths: int, rng: np.random.Generator) -> np.ndarray:
    if config.history is not None:
        return bootstrap_scores(config.history, paths, config.rounds, config.block, rng)
    return generate_scores(config.model, paths, config.rounds, rng)


def run(config: Config, progress: bool | None = None) -> Result:
    """Simulate ``config.paths`` paths in chunks (one tqdm step each). Chunk c draws from
    SeedSequence(seed).spawn(...)[c], so a seed gives the same result for the same --chunk."""
    from tqdm import tqdm

    started = time.perf_counter()
    sizes = [min(config.chunk, config.paths - i) for i in range(0, config.paths, config.chunk)]
    seeds = np.random.SeedSequence(config.seed).spawn(len(sizes))
    collected: dict[str, list] = {}
    fan_rows = []
    unit_value = config.position.units * config.position.terms.unit_size
    staked = config.position.staked
    bar = tqdm(
        total=config.paths,
        unit="path",
        disable=(not progress) if progress is not None else None,
        file=sys.stderr,
        desc="montecarlo",
    )
    for size, seq in zip(sizes, seeds):
        rng = np.random.default_rng(seq)
        scores = chunk_scores(config, size, rng)
        defaulted = rng.random(size) < config.default_prob if config.default_prob > 0 else None
        returns = round_returns(scores, config.payout)
        growth = growths(returns, config.payout.exposure)
        end, floats = index_paths(growth, keep_float=config.keep_paths)
        if floats is not None:
            fan_rows.append(floats.astype(np.float32))
        out = settle(config.position, end, defaulted)
        values = {
            "stake_return": out["value"].astype(float) / staked - 1,
            "backer_return": out["received"].astype(float) / unit_value - 1,
            "backer_received": out["received"].astype(float) / ONE,
            "modeller_fees": out["fees"].astype(float) / ONE,
            "modeller_net": out["modeller_net"].astype(float) / ONE,
            "reserve_used": out["reserve_used"].astype(float) / ONE,
            "shortfall": out["shortfall"].astype(float) / ONE,
            "uncovered": out["uncovered"].astype(float) / ONE,
            "defaulted": defaulted.astype(float) if defaulted is not None else np.zeros(size),
            "mean_round_return": returns.mean(axis=1) / ONE,
        }
        for k, v in values.items():
            collected.setdefault(k, []).append(v)
        bar.update(size)
    bar.close()
    result = Result(config, {k: np.concatenate(v) for k, v in collected.items()})
    if fan_rows:
        allpaths = np.concatenate(fan_rows)
        result.index_fan = np.percentile(allpaths, FAN_PERCENTILES, axis=0)
    result.seconds = time.perf_counter() - started
    return result


# ---------------------------------------------------------------------------------------------- report

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
ROWS = (
    ("stake_return", "stake return V/S - 1", "frac"),
    ("backer_return", "backer return", "frac"),
    ("modeller_fees", "modeller fees (NMR)", "nmr"),
    ("modeller_net", "modeller net (NMR)", "nmr"),
    ("reserve_used", "reserve used (NMR)", "nmr"),
)


def summary(result: Result) -> dict:
    """Means, percentiles and probabilities (floats; amounts in NMR, returns as fractions)."""
    f = result.floats
    stats = {}
    for key, _, _ in ROWS:
        v = f[key]
        stats[key] = {
            "mean": float(v.mean()),
            **{f"p{p}": float(x) for p, x in zip(PERCENTILES, np.percentile(v, PERCENTILES))},
        }
    used = f["reserve_used"] > 0
    short = f["shortfall"] > 0
    reserve = result.config.position.reserve / ONE
    probs = {
        "stake_gain": float((f["stake_return"] >= 0).mean()),
        "backer_loss": float((f["backer_return"] < 0).mean()),
        "reserve_used": float(used.mean()),
        "reserve_used_mean_when_used": float(f["reserve_used"][used].mean()) if used.any() else 0.0,
        "reserve_used_all": float((f["reserve_used"] >= reserve).mean()) if reserve > 0 else float(used.mean()),
        "shortfall": float(short.mean()),
        "shortfall_mean_when_short": float(f["shortfall"][short].mean()) if short.any() else 0.0,
        "shortfall_max": float(f["shortfall"].max()),
        "backer_uncovered_mean_when_short": float(f["uncovered"][short].mean()) if short.any() else 0.0,
        "default": float(f["defaulted"].mean()),
    }
    return {"stats": stats, "probabilities": probs}


def describe(result: Result) -> dict:
    c = result.config
    p = c.position
    t = p.terms
    source = (
        {"generator": asdict(c.model)}
        if c.history is None
        else {"bootstrap": {"rounds_in_history": int(len(c.history)), "block": c.block}}
    )
    return {
        "paths": c.paths,
        "rounds": c.rounds,
        "seed": c.seed,
        "chunk": c.chunk,
        "seconds": round(result.seconds, 3),
        "scores": source,
        "payout": {
            "multipliers": dict(zip(SCORE_NAMES, (nmr(m) for m in c.payout.multipliers))),
            "payout_factor": nmr(c.payout.payout_factor),
            "clip": nmr(c.payout.clip),
            "exposure": nmr(c.payout.exposure),
        },
        "position": {
            "units": p.units,
            "total_units": p.total_units,
            "deposit": nmr(p.units * t.unit_size),
            "staked_total": nmr(p.staked),
            "reserve": nmr(p.reserve),
            "upfront_fee": nmr(p.upfront_fee),
            "profit_share_bps": t.profit_share_for(p.units),
            "burn_share_bps": t.burn_share_bps,
        },
        "default_probability": c.default_prob,
    }


def report_text(result: Result) -> str:
    c = result.config
    p = c.position
    s = summary(result)
    src = (
        f"generator: {c.model.describe()}"
        if c.history is None
        else f"block bootstrap of {len(c.history)} history rounds, blocks of {c.block}"
    )
    mult = " + ".join(f"{nmr(m)}*{n}" for n, m in zip(SCORE_NAMES, c.payout.multipliers))
    lines = [
        f"Monte Carlo: {c.paths} paths x {c.rounds} rounds, seed {c.seed} ({result.seconds:.2f} s)",
        f"scores: {src}",
        f"payout: clip(payout factor {nmr(c.payout.payout_factor)} x ({mult}), +-{nmr(c.payout.clip)}), "
        f"exposure {nmr(c.payout.exposure)}",
        f"backer: {p.units} unit(s) = {nmr(p.units * p.terms.unit_size)} NMR of {p.total_units} in the agreement; "
        f"profit share {percent(p.terms.profit_share_for(p.units))}, burn share {percent(p.terms.burn_share_bps)}",
        f"modeller: reserve {nmr(p.reserve)} NMR, upfront fee {nmr(p.upfront_fee)} NMR, staked {nmr(p.staked)} NMR"
        + (
            f"; defaults (repays nothing) with probability {c.default_prob:g}" if c.default_prob else "; repays in full"
        ),
        "",
    ]
    head = f"{'':24}{'mean':>10}" + "".join(f"{'p' + str(q):>10}" for q in PERCENTILES)
    lines.append(head)
    for key, label, kind in ROWS:
        row = s["stats"][key]
        fmt = (lambda x: f"{x * 100:+.1f}%") if kind == "frac" else (lambda x: f"{x:.2f}")
        lines.append(
            f"{label:24}{fmt(row['mean']):>10}" + "".join(f"{fmt(row['p' + str(q)]):>10}" for q in PERCENTILES)
        )
    pr = s["probabilities"]
    lines += [
        "",
        f"P(stake ends up)        {pr['stake_gain'] * 100:.1f}%",
        f"P(backer loses)         {pr['backer_loss'] * 100:.1f}%",
        f"P(reserve used)         {pr['reserve_used'] * 100:.1f}%   mean when used "
        f"{pr['reserve_used_mean_when_used']:.2f} NMR; all of it used {pr['reserve_used_all'] * 100:.1f}%",
        f"P(reserve shortfall)    {pr['shortfall'] * 100:.1f}%   mean shortfall when short "
        f"{pr['shortfall_mean_when_short']:.2f} NMR (max {pr['shortfall_max']:.2f}); "
        f"this backer's uncovered loss {pr['backer_uncovered_mean_when_short']:.2f} NMR",
    ]
    if c.default_prob:
        lines.append(f"defaults drawn          {pr['default'] * 100:.1f}%")
    return "\n".join(lines)


def result_json(result: Result) -> dict:
    data = {
        "config": describe(result),
        "units": "returns are fractions (0.1 = +10%), amounts NMR, probabilities 0..1; config amounts are "
        "exact NMR strings",
        **summary(result),
    }
    if result.index_fan is not None:
        data["index_fan"] = {
            f"p{p}": [round(float(x), 6) for x in row] for p, row in zip(FAN_PERCENTILES, result.index_fan)
        }
    return data


def plot(result: Result, directory: str | Path) -> list[str]:
    """Write backer_returns.png, modeller_fees.png and index_fan.png; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    c = result.config
    f = result.floats
    title = f"{c.paths} paths x {c.rounds} rounds, seed {c.seed}"
    written = []

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.hist(f["backer_return"] * 100, bins=80, color="#3b6ea8")
    ax.axvline(0, color="k", lw=0.8)
    med = np.median(f["backer_return"]) * 100
    ax.axvline(med, color="#d1495b", lw=1.2, ls="--", label=f"median {med:+.1f}%")
    ax.set_xlabel("backer return over the lockup (%)")
    ax.set_ylabel("paths")
    ax.set_title(f"Backer return ({c.position.units} unit(s)) - {title}")
    ax.legend()
    fig.tight_layout()
    written.append(str(directory / "backer_returns.png"))
    fig.savefig(written[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    fees = f["modeller_fees"]
    ax.hist(fees, bins=80, color="#2e8b57")
    ax.set_xlabel("modeller's performance fees kept (NMR; 0 when the stake lost)")
    ax.set_ylabel("paths")
    ax.set_title(f"Modeller fees - P(fee > 0) {np.mean(fees > 0) * 100:.0f}%, mean {fees.mean():.2f} NMR")
    fig.tight_layout()
    written.append(str(directory / "modeller_fees.png"))
    fig.savefig(written[-1])
    plt.close(fig)

    if result.index_fan is not None:
        fan = result.index_fan
        x = np.arange(fan.shape[1])
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        ax.fill_between(x, fan[0], fan[4], color="#3b6ea8", alpha=0.25, label="5-95%")
        ax.fill_between(x, fan[1], fan[3], color="#3b6ea8", alpha=0.45, label="25-75%")
        ax.plot(x, fan[2], color="#1d3557", lw=1.5, label="median")
        ax.axhline(1, color="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("rounds into the lockup")
        ax.set_ylabel("index (1 at lock, log scale)")
        ax.set_title(f"Index paths - {title}")
        ax.legend(loc="upper left")
        fig.tight_layout()
        written.append(str(directory / "index_fan.png"))
        fig.savefig(written[-1])
        plt.close(fig)
    return written

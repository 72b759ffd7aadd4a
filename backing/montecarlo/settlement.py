"""What a backer's position receives at maturity on every path: ``make_position`` from terms, ``settle`` at the
paths' end index (profit share and ladder, burn share capped by the reserve, defaults)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backing.model.agreement import BPS, ONE, Terms, lock_amounts
from backing.montecarlo.params import MonteCarloError
from backing.report import nmr

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

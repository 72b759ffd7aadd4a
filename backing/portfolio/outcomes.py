"""Per-agreement outcomes, jointly across models: what one unit of each candidate returns at maturity, on the same
simulated paths for every candidate, so the models' score correlations carry into the portfolio.

How a path is drawn: a moving-block bootstrap of *whole rounds* of the history (every model's return of a round
stays with that round), so a path keeps the cross-model correlation of each round and, within a block, the
overlap autocorrelation of 20-day scores. Every candidate reads the first ``horizon`` rounds of the same path.

How a path becomes NMR: the model's round returns -> ``growths`` (exposure, the oracle's floor; exact integers)
-> the index -> maturity, fee or cover capped by the reserve, a default paying reserve only. With ``exact=True``
the index and the settlement are ``backing.montecarlo.index_paths`` and ``settle`` (the contracts' integer math,
equal to ``backing.model`` to the wei); by default the same formulas run in float64 (``settle_float``), which is
~20 times faster and within 1e-9 NMR a unit of the exact result (``tests/unit/test_portfolio.py`` checks it): the
only differences are the wei the contracts' floors drop.

Valuation conventions (what one unit stands for; ``docs/portfolio.md`` lists them):

* one unit at the base profit share (a bigger holder's fee-ladder tier is lower, so this is conservative);
* the agreement's total units: those sold now plus this one, at least ``min_units`` (an open agreement), or those
  sold (a locked one); the reserve is what is posted, and at least what locking needs;
* a locked agreement continues from its index so far over its remaining rounds;
* a series agreement is valued as a single agreement on its base terms (its high-water mark, clawback and fee
  holding are not modelled here);
* defaults: per path one uniform draw per modeller; he repays nothing on every agreement whose default
  probability exceeds it (so one modeller's defaults coincide).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from backing.model.agreement import ONE
from backing.montecarlo import Position, bootstrap_starts, growths, index_paths, settle
from backing.portfolio.inputs import Candidate, History, Inputs


@dataclass
class Outcomes:
    """``profit[p, i]``: NMR one unit of candidate ``i`` gains (negative: loses) on path ``p``, fees and covers
    included, relative to the unit's cost."""

    candidates: list[Candidate]
    profit: np.ndarray
    unit_cost: np.ndarray  # NMR per unit
    models: list[str]
    model_of: np.ndarray  # candidate -> model column
    history: History
    paths: int
    seed: int
    block: int
    seconds: float = 0.0

    @property
    def mean(self) -> np.ndarray:
        return self.profit.mean(axis=0)

    @property
    def cov(self) -> np.ndarray:
        return np.atleast_2d(np.cov(self.profit, rowvar=False))

    def portfolio(self, units: np.ndarray) -> np.ndarray:
        """Profit of holding ``units`` per candidate, per path (NMR)."""
        return self.profit @ np.asarray(units, dtype=float)


def settle_float(c: Candidate, total: int, reserve: int, index: np.ndarray, defaulted) -> np.ndarray:
    """What one unit receives (NMR) for a final index ``index`` (float, 1 = the index at lock): ``settle`` of a
    representative one-unit backer among ``total`` units, in floating point."""
    t = c.terms
    staked = (total * t.unit_size - total * t.unit_size * t.upfront_fee_bps // 10_000) / ONE
    r = reserve / ONE
    value = staked * index
    gain = value >= staked
    share_staked, share_value = staked / total, value / total
    fee = (share_value - share_staked) * t.profit_share_for(1) / 10_000
    cover_bound = (staked - value) * t.burn_share_bps / 10_000
    cover = (share_staked - share_value) * t.burn_share_bps / 10_000
    capped = np.where(cover_bound > r, cover * r / np.where(cover_bound > 0, cover_bound, 1), cover)
    owed = np.where(gain, share_value - fee, share_value + capped)
    if defaulted is not None and defaulted.any():
        weight = sum(u * t.profit_share_for(u) for u in ([1, total - 1] if total > 1 else [1]))
        due_gain = value - (value - staked) * weight / (total * 10_000)
        owed_total = np.where(gain, due_gain, value + np.minimum(r, cover_bound))
        pool = np.minimum(r, owed_total)
        paid = np.where(owed_total > 0, pool * owed / np.where(owed_total > 0, owed_total, 1), 0.0)
        owed = np.where(defaulted & (value > 0), paid, owed)
    return owed


def valued_total(c: Candidate) -> int:
    if c.phase == "Open":
        return min(c.terms.max_units, max(c.units_sold + 1, c.terms.min_units, 1))
    return max(c.units_sold, 1)


def joint_rows(n_history: int, paths: int, horizon: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Row numbers into the history, shape (paths, horizon): whole rounds, consecutive within a block."""
    block = max(1, min(block, n_history))
    starts = bootstrap_starts(n_history, paths, horizon, block, rng)
    return (starts[:, :, None] + np.arange(block)).reshape(paths, -1)[:, :horizon]


def simulate(
    inputs: Inputs,
    paths: int = 10_000,
    seed: int = 1,
    block: int = 20,
    return_scale: np.ndarray | None = None,
    rows: np.ndarray | None = None,
    exact: bool = False,
) -> Outcomes:
    """Simulate every candidate on the same ``paths`` joint paths.

    @param return_scale Optional per-path-per-round multipliers of every round return (shape (paths, horizon)):
        the stress scenarios' payout factor relative to the history's (``backing.portfolio.stress``).
    @param rows Optional fixed history rows (paths, horizon) instead of a bootstrap (tests, backtests).
    @param exact The contracts' integer math to the wei (``backing.montecarlo``), about 20 times slower.
    """
    started = time.perf_counter()
    inputs.validate()
    cands = inputs.candidates
    models = sorted({c.model for c in cands})
    history = inputs.history.restricted(models, needed=2, where="the candidates' models")
    horizon = max(c.horizon for c in cands)
    rng = np.random.default_rng(seed)
    if rows is None:
        rows = joint_rows(len(history.rounds), paths, horizon, block, rng)
    paths = rows.shape[0]
    # one uniform per modeller and path: the same draw decides all of his agreements
    modellers = sorted({c.modeller or c.model for c in cands})
    draws = rng.random((paths, len(modellers)))
    profit = np.empty((paths, len(cands)))
    ends: dict[tuple, np.ndarray] = {}
    for i, c in enumerate(cands):
        col = history.column(c.model)
        key = (col, c.exposure, c.horizon, c.index_so_far)
        if key not in ends:
            returns = history.returns[rows[:, : c.horizon], col]
            if return_scale is not None:
                scaled = np.trunc(returns * return_scale[:, : c.horizon])
                returns = np.clip(scaled, -ONE, ONE).astype(np.int64)
            growth = growths(returns, c.exposure)
            if exact:
                ends[key], _ = index_paths(growth, start=c.index_so_far)
            else:
                ends[key] = np.prod(growth / ONE, axis=1) * (c.index_so_far / ONE)
        total = valued_total(c)
        reserve = c.valued_reserve(total)
        defaulted = None
        if c.default_probability > 0:
            defaulted = draws[:, modellers.index(c.modeller or c.model)] < c.default_probability
        if exact:
            out = settle(Position(c.terms, 1, total, reserve), ends[key], defaulted)
            profit[:, i] = (out["received"] - c.terms.unit_size).astype(float) / ONE
        else:
            profit[:, i] = settle_float(c, total, reserve, ends[key], defaulted) - c.terms.unit_size / ONE
    return Outcomes(
        candidates=cands,
        profit=profit,
        unit_cost=np.array([c.unit_cost / ONE for c in cands]),
        models=models,
        model_of=np.array([models.index(c.model) for c in cands]),
        history=history,
        paths=paths,
        seed=seed,
        block=block,
        seconds=time.perf_counter() - started,
    )

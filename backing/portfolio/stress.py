"""Stress for NMR's economics (shared/seeds/003): what an allocation gives when the payout factor falls and when
NMR's price in USD moves; results in NMR and in USD.

The payout factor multiplies every round's raw return (``clip(pf * sum(m_i * s_i), +-clip)``), so a scenario
scales each simulated round return by ``pf_t / pf_now`` (truncated to the wei, clipped to the oracle's +-1): exact
while the clip does not bind, and an upper bound on the scaled return when it does. Scenarios:

* ``schedule``: the treasury runs down, the factor falls by ``decay`` (a fraction) every round;
* ``stake``: the total at risk grows by ``growth`` a round from ``total_stake``, and the factor is
  ``min(1, payout_cap / total)`` (Numerai's formula with cap 72,000 NMR), relative to today's;
* ``price``: NMR/USD follows a given path (CSV ``round,price``), or paths bootstrapped from a price history
  (CSV ``round,price``: whole-round log returns, drawn with replacement), or a lognormal walk with ``vol`` a
  round; the USD result is ``(capital + profit) * price_end - capital * price_now``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from backing.errors import portfolio_problem
from backing.portfolio.inputs import Inputs, _read_csv
from backing.portfolio.outcomes import simulate
from backing.portfolio.risk import shortfall


@dataclass(frozen=True)
class Scenario:
    name: str
    decay: float = 0.0  # per round
    stake_growth: float = 0.0  # per round
    total_stake: float = 288_000.0  # NMR at risk now (an ASSUMPTION: 72,000 / the default v2 factor 0.25)
    payout_cap: float = 72_000.0

    def scale(self, paths: int, horizon: int) -> np.ndarray | None:
        t = np.arange(1, horizon + 1, dtype=float)
        if self.decay:
            row = (1 - self.decay) ** t
        elif self.stake_growth:
            now = min(1.0, self.payout_cap / self.total_stake)
            later = np.minimum(1.0, self.payout_cap / (self.total_stake * (1 + self.stake_growth) ** t))
            row = later / now
        else:
            return None
        return np.broadcast_to(row, (paths, horizon))


def default_scenarios(decay: float = 0.02, growth: float = 0.02, total_stake: float = 288_000.0) -> list[Scenario]:
    return [
        Scenario("today's payout factor"),
        Scenario(f"payout factor falls {decay * 100:g}% a round (treasury runs down)", decay=decay),
        Scenario(
            f"total stake grows {growth * 100:g}% a round (factor min(1, 72000 / stake))",
            stake_growth=growth,
            total_stake=total_stake,
        ),
    ]


def read_prices(path: str | Path) -> np.ndarray:
    path = Path(path)
    header, rows = _read_csv(path, "price file")
    if "price" not in header or not rows:
        raise portfolio_problem("bad_file", where=str(path), why="expected a header round,price and rows")
    k = header.index("price")
    try:
        prices = np.array([float(r[k]) for _, r in rows])
    except (ValueError, IndexError):
        raise portfolio_problem("bad_file", where=str(path), why="every price must be a number") from None
    if (prices <= 0).any() or not np.isfinite(prices).all():
        raise portfolio_problem("bad_file", where=str(path), why="every price must be positive")
    return prices


def price_paths(
    paths: int,
    horizon: int,
    price: float,
    rng: np.random.Generator,
    given: np.ndarray | None = None,
    history: np.ndarray | None = None,
    vol: float = 0.05,
) -> np.ndarray:
    """NMR/USD at the end of the horizon, per path."""
    if given is not None:
        if len(given) < horizon + 1:
            raise portfolio_problem(
                "bad_option", option="--price-path", why=f"needs {horizon + 1} prices (now and each round)"
            )
        return np.full(paths, given[horizon] / given[0] * price)
    if history is not None:
        logs = np.diff(np.log(history))
        if len(logs) == 0:
            raise portfolio_problem("bad_option", option="--price-history", why="needs at least two prices")
        draws = logs[rng.integers(0, len(logs), size=(paths, horizon))]
        return price * np.exp(draws.sum(axis=1))
    z = rng.standard_normal((paths, horizon))
    return price * np.exp((vol * z - vol * vol / 2).sum(axis=1))


def run(
    inputs: Inputs,
    units: np.ndarray,
    scenarios: list[Scenario],
    paths: int = 10_000,
    seed: int = 1,
    block: int = 20,
    level: float = 0.95,
    price: float | None = None,
    price_given: np.ndarray | None = None,
    price_history: np.ndarray | None = None,
    price_vol: float = 0.05,
) -> list[dict]:
    """Each scenario's profit distribution for holding ``units`` (per candidate), in NMR and (with ``price``) USD."""
    units = np.asarray(units, dtype=float)
    horizon = max(c.horizon for c in inputs.candidates)
    capital = float(sum(u * c.unit_cost for u, c in zip(units, inputs.candidates))) / 1e18
    rows = []
    rng = np.random.default_rng(seed + 1)
    usd_end = None
    if price is not None:
        usd_end = price_paths(paths, horizon, price, rng, price_given, price_history, price_vol)
    for s in scenarios:
        out = simulate(replace(inputs), paths=paths, seed=seed, block=block, return_scale=s.scale(paths, horizon))
        profit = out.profit @ units
        row = {
            "scenario": s.name,
            "capital_nmr": capital,
            "mean_nmr": float(profit.mean()),
            "p5_nmr": float(np.percentile(profit, 5)),
            "p50_nmr": float(np.percentile(profit, 50)),
            "shortfall_nmr": shortfall(profit, level),
            "p_loss": float((profit < 0).mean()),
        }
        if usd_end is not None:
            usd = (capital + profit) * usd_end - capital * price
            row.update(
                {
                    "price_now": price,
                    "price_end_median": float(np.median(usd_end)),
                    "mean_usd": float(usd.mean()),
                    "p5_usd": float(np.percentile(usd, 5)),
                    "shortfall_usd": shortfall(usd, level),
                    "p_loss_usd": float((usd < 0).mean()),
                }
            )
        rows.append(row)
    return rows

"""Synthetic inputs for the benchmark, the tests and the examples: SYNTHETIC round returns, not Numerai data.

``one_factor_history``: each model's round return is ``mean + sd * (sqrt(rho) * market + sqrt(1 - rho) * own)``
with one common factor, so every pair of models has correlation ``rho``; rounded to 1e-18 and clipped to the v2
scheme's +-5%.
"""

from __future__ import annotations

import numpy as np

from backing.model.agreement import ONE, Terms
from backing.portfolio.inputs import Candidate, History

CLIP = 0.05


def one_factor_history(
    models: int, rounds: int, rho: float = 0.3, mean: float = 0.002, sd: float = 0.01, seed: int = 7
) -> History:
    rng = np.random.default_rng(seed)
    market = rng.standard_normal((rounds, 1))
    own = rng.standard_normal((rounds, models))
    x = mean + sd * (np.sqrt(rho) * market + np.sqrt(1 - rho) * own)
    returns = np.rint(np.clip(x, -CLIP, CLIP) * 1e18).astype(np.int64)
    names = [f"m{i:02d}" for i in range(models)]
    return History(np.arange(1, rounds + 1), names, returns, f"synthetic ({models} models, rho {rho:g})")


def history_from(returns: dict[str, list[float]], first_round: int = 1) -> History:
    """A history from per-model lists of round returns (fractions), all the same length."""
    names = list(returns)
    data = np.array([[round(v * 1e18) for v in returns[m]] for m in names], dtype=np.int64).T
    return History(np.arange(first_round, first_round + data.shape[0]), names, data, "given returns")


def terms(
    unit_size: int = 100,
    max_units: int = 50,
    profit_share: float = 0.5,
    burn_share: float = 0.5,
    reserve_ratio: float = 0.5,
    upfront_fee: float = 0.0,
    lockup_rounds: int = 12,
    min_units: int = 1,
) -> Terms:
    return Terms(
        unit_size=unit_size * ONE,
        min_units=min_units,
        max_units=max_units,
        profit_share_bps=round(profit_share * 10_000),
        burn_share_bps=round(burn_share * 10_000),
        reserve_ratio_bps=round(reserve_ratio * 10_000),
        upfront_fee_bps=round(upfront_fee * 10_000),
        lockup_rounds=lockup_rounds,
        open_until=2**40,
        wind_down=7 * 86400,
    )


def candidates_for(history: History, **kw) -> list[Candidate]:
    """One open agreement per model of ``history``, id ``a-<model>``, on the same terms."""
    return [Candidate(id=f"a-{m}", model=m, terms=terms(**kw), modeller=f"modeller-{m}") for m in history.models]

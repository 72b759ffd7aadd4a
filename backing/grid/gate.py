"""The validation gate: the first configuration in the staker's fixed draw sequence whose model scores validation
CORR above a threshold, and the statistics of every attempt (so a staker sees how hard the gate was).

CORR is Numerai's ``numerai_corr`` per era (numerai-tools): predictions ranked within the era, gaussianised and
raised to the power 1.5 keeping their sign; the target centred and raised the same way; their Pearson
correlation. The gate uses the mean over the validation eras; the standard deviation, the Sharpe ratio (mean /
std) and the number of eras are reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from backing.errors import grid_problem
from backing.grid.draw import config_hash, sequence
from backing.grid.space import GridConfig

DEFAULT_THRESHOLD = 0.02
DEFAULT_MAX_ATTEMPTS = 20


def numerai_corr(predictions: np.ndarray, target: np.ndarray) -> float:
    """Numerai's CORR of one era (0 when the predictions are constant: such a model carries no signal)."""
    from scipy.stats import norm, rankdata

    predictions = np.asarray(predictions, dtype=float)
    target = np.asarray(target, dtype=float)
    keep = ~np.isnan(target) & ~np.isnan(predictions)
    predictions, target = predictions[keep], target[keep]
    if len(predictions) < 2 or np.ptp(predictions) == 0 or np.ptp(target) == 0:
        return 0.0
    ranked = (rankdata(predictions, method="average") - 0.5) / len(predictions)
    gauss = norm.ppf(ranked)
    p = np.sign(gauss) * np.abs(gauss) ** 1.5
    t = target - target.mean()
    t = np.sign(t) * np.abs(t) ** 1.5
    if np.std(p) == 0 or np.std(t) == 0:
        return 0.0
    return float(np.corrcoef(p, t)[0, 1])


@dataclass(frozen=True)
class ValidationStats:
    """CORR over the validation eras: mean, standard deviation, Sharpe (mean / std), eras."""

    mean: float
    std: float
    sharpe: float
    eras: int

    @classmethod
    def from_eras(cls, per_era: list[float]) -> ValidationStats:
        values = np.asarray(per_era, dtype=float)
        mean = float(values.mean()) if len(values) else 0.0
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        return cls(mean, std, mean / std if std > 0 else 0.0, len(values))


def era_corrs(eras: np.ndarray, predictions: np.ndarray, target: np.ndarray) -> list[float]:
    """numerai_corr of each era, in era order."""
    eras = np.asarray(eras)
    return [numerai_corr(predictions[eras == era], target[eras == era]) for era in sorted(set(eras.tolist()))]


@dataclass
class Attempt:
    attempt: int
    config_hash: str
    config: dict
    validation: dict
    passed: bool


@dataclass
class GateResult:
    """Every attempt made, in order, and the one that passed (None when none did)."""

    staker: str
    nonce: int
    threshold: float
    attempts: list[Attempt] = field(default_factory=list)
    passed: Attempt | None = None

    def summary(self) -> dict:
        means = [a.validation["mean"] for a in self.attempts]
        return {
            "threshold": self.threshold,
            "attempts": len(self.attempts),
            "passed_attempt": None if self.passed is None else self.passed.attempt,
            "mean_corr_of_attempts": float(np.mean(means)) if means else None,
            "best_corr": max(means) if means else None,
            "pass_rate_seen": (sum(a.passed for a in self.attempts) / len(self.attempts)) if self.attempts else None,
            "sequence": [asdict(a) for a in self.attempts],
        }


def run_gate(
    staker: str,
    nonce: int,
    targets: list[str],
    evaluate: Callable[[int, GridConfig], ValidationStats],
    threshold: float = DEFAULT_THRESHOLD,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> GateResult:
    """Try the staker's draws in order (attempt 0, 1, ...) until one passes: ``evaluate(attempt, config)`` trains
    and scores it. Stops at the first pass; raises (in words) when ``max_attempts`` all fail."""
    result = GateResult(staker, nonce, threshold)
    for attempt, config in sequence(staker, nonce, targets, max_attempts):
        stats = evaluate(attempt, config)
        passed = math.isfinite(stats.mean) and stats.mean > threshold
        record = Attempt(attempt, "0x" + config_hash(config).hex(), config.describe(), asdict(stats), passed)
        result.attempts.append(record)
        if on_attempt is not None:
            on_attempt(record)
        if passed:
            result.passed = record
            return result
    best = max(result.attempts, key=lambda a: a.validation["mean"])
    raise grid_problem(
        "gate_failed",
        attempts=max_attempts,
        staker=staker,
        nonce=nonce,
        threshold=threshold,
        best=best.validation["mean"],
        best_attempt=best.attempt,
    )

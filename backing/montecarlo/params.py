"""What a Monte Carlo run is made of: the payout schemes (``Payout``, ``SCHEMES``), the calibrated score generator
(``ScoreModel``) and its paths in 1e18 fixed point, and ``MonteCarloError`` for bad input."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backing.model.agreement import ONE
from backing.report import nmr

SCORE_NAMES = ("CORR20", "MMC")
MAX_MULTIPLIER = 1000 * ONE  # the oracle's absolute bound on maxMultiplier


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

"""SyntheticSource: rounds every `round_spacing` seconds from `first_open`, closing `close_after` later and
resolving `resolve_after` after opening, against the `now` clock; scores normal with plausible CORR20/MMC
magnitudes, rounded to 6 decimals, missed with probability `miss_rate`; each (seed, model, round) has its own
random stream, so results do not depend on the order or the number of calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from oracle.errors import SourceError
from oracle.model import RoundInfo, RoundResult
from oracle.sources.base import CheckedSource, check_model_id
from oracle.validate import Limits, check_schedule, where

# Plausible per-round magnitudes (mean, standard deviation) of Classic's payout scores
SYNTHETIC_SCORES = {"CORR20": (Decimal("0.01"), Decimal("0.02")), "MMC": (Decimal("0.002"), Decimal("0.01"))}
SYNTHETIC_MULTIPLIERS = {"CORR20": Decimal("0.5"), "MMC": Decimal(2)}
_SIX_PLACES = Decimal("0.000001")


class SyntheticSource(CheckedSource):
    """Deterministic made-up rounds for simulations and the demo (rules in the module docstring).

    `model_ids` limits the models it answers for; None answers for any model id (a UUID), so a service can
    run it against whatever models its oracle has registered. The default round 1000 opens 2026-01-01 12:00 UTC;
    with `now` a test or the demo decides which rounds have opened and resolved. `profiles` maps model ids to
    (username, profile text); `set_profile` changes one."""

    name = "synthetic"

    def __init__(
        self,
        model_ids: Sequence[str] | None = None,
        seed: int = 0,
        *,
        now: Callable[[], float] = time.time,
        first_round: int = 1000,
        first_open: int = 1767268800,
        round_spacing: int = 86400,
        close_after: int = 3600,
        resolve_after: int = 31 * 86400,
        score_params: Mapping[str, tuple] | None = None,
        multipliers: Mapping[str, object] | None = None,
        payout_factor=Decimal(1),
        clip=Decimal("0.05"),
        miss_rate: float = 0.05,
        limits: Limits = Limits(),
        profiles: Mapping[str, tuple[str, str]] | None = None,
    ):
        super().__init__(limits)
        for model_id in model_ids or []:
            check_model_id(model_id)
        if round_spacing <= 0 or close_after <= 0 or resolve_after < close_after:
            raise ValueError("round_spacing and close_after must be positive and resolve_after >= close_after")
        self.model_ids = None if model_ids is None else [m.lower() for m in model_ids]
        self.seed = seed
        self.now = now
        self.first_round, self.first_open = first_round, first_open
        self.round_spacing, self.close_after, self.resolve_after = round_spacing, close_after, resolve_after
        self.score_params = {
            n: (Decimal(str(m)), Decimal(str(s))) for n, (m, s) in (score_params or SYNTHETIC_SCORES).items()
        }
        self.multipliers = {n: Decimal(str(v)) for n, v in (multipliers or SYNTHETIC_MULTIPLIERS).items()}
        if set(self.multipliers) != set(self.score_params):
            raise ValueError("score_params and multipliers must name the same scores")
        self.payout_factor, self.clip = Decimal(str(payout_factor)), Decimal(str(clip))
        self.miss_rate = miss_rate
        self.profiles = dict(profiles or {})

    def open_time(self, round_number: int) -> int:
        return self.first_open + (round_number - self.first_round) * self.round_spacing

    def close_time(self, round_number: int) -> int:
        return self.open_time(round_number) + self.close_after

    def resolve_time(self, round_number: int) -> int:
        return self.open_time(round_number) + self.resolve_after

    def _last_opened(self) -> int:
        return self.first_round + int((self.now() - self.first_open) // self.round_spacing)

    def result(self, model_id: str, round_number: int) -> RoundResult:
        """The round's result for the model, whether or not it has resolved yet (same on every call)."""
        rng = random.Random(f"{self.seed}:{model_id.lower()}:{round_number}")
        if rng.random() < self.miss_rate:
            return RoundResult(model_id, round_number, missed=True)
        scores = {}
        for name in sorted(self.score_params):
            mean, sd = self.score_params[name]
            draw = Decimal(str(rng.gauss(float(mean), float(sd)))).quantize(_SIX_PLACES)
            scores[name] = max(Decimal(-1), min(Decimal(1), draw))
        return RoundResult(model_id, round_number, scores, dict(self.multipliers), self.payout_factor, self.clip)

    def schedule(self, after_round: int) -> list[RoundInfo]:
        now = self.now()
        first = max(after_round + 1, self.first_round)
        return check_schedule(
            after_round,
            [
                RoundInfo(n, self.close_time(n), self.resolve_time(n) <= now)
                for n in range(first, self._last_opened() + 1)
            ],
            self.first_round,
        )

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        check_model_id(model_id)
        if self.model_ids is not None and model_id.lower() not in self.model_ids:
            raise SourceError(f"{where(model_id, None)}: not one of the synthetic models")
        now = self.now()
        known = set(range(self.first_round, self._last_opened() + 1))

        def resolved(n: int) -> RoundResult | None:
            return self.result(model_id, n) if self.resolve_time(n) <= now else None

        return self._assemble(model_id, after_round, known, resolved, "the synthetic history")

    def set_profile(self, model_id: str, username: str, text: str) -> None:
        self.profiles[model_id] = (username, text)

    def profile_text(self, model_id: str) -> tuple[str, str]:
        return self.profiles.get(model_id, (f"synthetic-{model_id[:8]}", ""))

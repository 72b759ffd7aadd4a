"""What every source shares: model-id checks, time parsing, and the checked assembly of a model's rounds
(consecutive results, gap detection, validation, resolution memory)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from oracle.errors import SourceError
from oracle.model import RoundResult, Source
from oracle.validate import Limits, ResolutionMemory, check_result, check_sequence, to_int, where

CLASSIC_TOURNAMENT = 8


def check_model_id(model_id: str) -> None:
    try:
        uuid.UUID(str(model_id))
    except ValueError:
        raise SourceError(f"model {model_id}: not a Numerai model id (a UUID)") from None


class CheckedSource(Source):
    """The assembly every source shares: consecutive results, gap detection, validation, memory."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.memory = ResolutionMemory()
        # set by the service: (model id) -> rounds the model is known to have been scored in, or None when it
        # never was (an empty answer is then plausible); see NumeraiSource.resolved_results
        self.history: Callable[[str], set[int] | None] | None = None

    def _assemble(
        self,
        model_id: str,
        after_round: int,
        known: set[int],
        result_for: Callable[[int], RoundResult | None],
        listing: str,
    ) -> list[RoundResult]:
        """`known`: the rounds the source has data for; `result_for(r)`: the checked result of round r for the
        model, or None if it is not resolved (for the model) yet; `listing` names the data in gap messages."""
        check_model_id(model_id)
        for remembered in self.memory.rounds(model_id):
            if remembered in known:
                self.memory.check(model_id, remembered, result_for(remembered))
        results = []
        round_number = after_round + 1
        while round_number in known:
            result = result_for(round_number)
            if result is None:
                break
            results.append(check_result(result, self.limits))
            round_number += 1
        if round_number not in known:
            later = sorted(n for n in known if n > round_number)
            if later:
                raise SourceError(
                    f"{where(model_id, round_number)}: missing from {listing} " f"(gap before round {later[0]})"
                )
        check_sequence(model_id, after_round, results)
        self.memory.remember(results)
        return results


def unix_time(value, context: str, field: str) -> int:
    """numerapi gives datetimes (naive ones are UTC); files may give unix seconds or ISO 8601 text."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(moment.timestamp())
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return unix_time(datetime.fromisoformat(value.strip()), context, field)
        except ValueError:
            raise SourceError(f"{context}: {field} is not a time ({value!r})") from None
    return to_int(value, context, field)

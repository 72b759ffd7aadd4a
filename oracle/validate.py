"""Checks on what a source returns, before anything is signed.

A source that answers garbage must not become a signed report: every check here raises `SourceError` with one
line that names the model, the round and the field (``model <uuid> round <n>: CORR20 score is NaN``), and a
source calls them before it returns, so a caller gets either a fully checked, consecutive list or an error and
nothing for that model.

The bounds mirror what ScoreOracle accepts (`MAX_ABS_SCORE`, `MAX_SCORES`, its deploy-time `maxClip` and
`maxMultiplier`, payout factor at most 1): a report the contract would revert is caught here with a readable
message instead of a revert after the signers have signed. `Limits.from_oracle` builds them from a deployed
oracle's fixed-point bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from oracle.errors import SourceError
from oracle.model import RoundInfo, RoundResult
from oracle.typed_data import Report
from oracle.units import ONE, fixed_decimal

MAX_ABS_SCORE = ONE  # ScoreOracle.MAX_ABS_SCORE
MAX_SCORES = 8  # ScoreOracle.MAX_SCORES
ZERO32 = b"\0" * 32
MAX_NUMBER_TEXT = 100  # characters of a number given as text: a score has ~20
MAX_INT_DIGITS = 30  # decimal exponent of the largest integer field (round numbers, unix times)


@dataclass(frozen=True)
class Limits:
    """What a round result may carry. Defaults are scripts/deploy.py's oracle defaults (clip 0.05, multipliers
    at most 10, the Classic v2 formula); a deployment with other bounds passes its own (`from_oracle`)."""

    max_clip: Decimal = Decimal("0.05")
    max_multiplier: Decimal = Decimal(10)
    max_abs_score: Decimal = Decimal(1)  # ScoreOracle.MAX_ABS_SCORE
    max_scores: int = 8  # ScoreOracle.MAX_SCORES

    @classmethod
    def from_oracle(cls, max_clip_wei: int, max_multiplier_wei: int) -> Limits:
        """Limits from a deployed oracle's `maxClip()` and `maxMultiplier()` (1e18 fixed point)."""
        return cls(max_clip=Decimal(max_clip_wei) / ONE, max_multiplier=Decimal(max_multiplier_wei) / ONE)


def where(model_id: str, round_number: int | None) -> str:
    """The prefix of every message: which model and round the problem is in."""
    return f"model {model_id}" if round_number is None else f"model {model_id} round {round_number}"


def to_decimal(value, context: str, field: str) -> Decimal:
    """A finite Decimal from a JSON number, a numeric string or a Decimal; SourceError for anything else.

    Floats go through `str` so a float the JSON layer produced keeps its shortest decimal form instead of its
    binary expansion. Booleans are refused even though Python counts them as ints."""
    if value is None:
        raise SourceError(f"{context}: {field} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise SourceError(f"{context}: {field} is not a number ({value!r})")
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise SourceError(f"{context}: {field} is a {len(value)}-character number (at most {MAX_NUMBER_TEXT})")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise SourceError(f"{context}: {field} is not a number ({value!r})") from None
    if number.is_nan():
        raise SourceError(f"{context}: {field} is NaN")
    if number.is_infinite():
        raise SourceError(f"{context}: {field} is infinite")
    return number


def to_int(value, context: str, field: str) -> int:
    """An integer field (round numbers, unix times); SourceError for fractions, text and the like."""
    number = to_decimal(value, context, field)
    if number.adjusted() > MAX_INT_DIGITS:  # "1e999999999" would take int() hours: no round or time is that big
        raise SourceError(f"{context}: {field} is too large ({value!r})")
    if number != number.to_integral_value():
        raise SourceError(f"{context}: {field} is not an integer ({value!r})")
    return int(number)


def check_result(result: RoundResult, limits: Limits = Limits()) -> RoundResult:
    """One round result against the contract's bounds; returns it unchanged when it passes."""
    context = where(result.model_id, result.round)
    if result.round <= 0:
        raise SourceError(f"{context}: round number must be positive")
    if result.missed:
        if result.scores or result.multipliers:
            raise SourceError(f"{context}: a missed round carries scores")
        return result
    if not result.scores:
        raise SourceError(f"{context}: no scores (a round without scores must be reported as missed)")
    if len(result.scores) > limits.max_scores:
        raise SourceError(f"{context}: {len(result.scores)} scores, at most {limits.max_scores} allowed")
    for name in result.scores:
        if name not in result.multipliers:
            raise SourceError(f"{context}: {name} score has no multiplier")
    for name in result.multipliers:
        if name not in result.scores:
            raise SourceError(f"{context}: multiplier for {name} but no {name} score")
    for name in sorted(result.scores):
        encoded = name.encode() if isinstance(name, str) else b""
        if not encoded or len(encoded) > 32:
            raise SourceError(f"{context}: score name {name!r} must be 1 to 32 bytes")
        score = to_decimal(result.scores[name], context, f"{name} score")
        if abs(score) > limits.max_abs_score:
            raise SourceError(
                f"{context}: {name} score {score} is outside [-{limits.max_abs_score}, " f"{limits.max_abs_score}]"
            )
        multiplier = to_decimal(result.multipliers[name], context, f"{name} multiplier")
        if multiplier < 0:
            raise SourceError(f"{context}: {name} multiplier {multiplier} is negative")
        if multiplier > limits.max_multiplier:
            raise SourceError(
                f"{context}: {name} multiplier {multiplier} is above the maximum " f"{limits.max_multiplier}"
            )
    payout_factor = to_decimal(result.payout_factor, context, "payout factor")
    if not 0 <= payout_factor <= 1:
        raise SourceError(f"{context}: payout factor {payout_factor} is outside [0, 1]")
    clip = to_decimal(result.clip, context, "clip")
    if clip <= 0:
        raise SourceError(f"{context}: clip {clip} is not positive")
    if clip > limits.max_clip:
        raise SourceError(f"{context}: clip {clip} is above the maximum {limits.max_clip}")
    return result


def check_sequence(model_id: str, after_round: int, results: Sequence[RoundResult]) -> list[RoundResult]:
    """Results must be this model's, consecutive from after_round + 1, each round once."""
    expected = after_round + 1
    seen = set()
    for result in results:
        if result.model_id != model_id:
            raise SourceError(f"{where(model_id, result.round)}: result belongs to model {result.model_id}")
        if result.round in seen:
            raise SourceError(f"{where(model_id, result.round)}: round reported twice")
        seen.add(result.round)
        if result.round != expected:
            raise SourceError(f"{where(model_id, expected)}: missing (gap before round {result.round})")
        expected += 1
    return list(results)


def check_schedule(after_round: int, rounds: Sequence[RoundInfo], first_known: int | None = None) -> list[RoundInfo]:
    """Rounds after `after_round`, consecutive, each once, with strictly increasing close times.

    The list starts at after_round + 1, or at `first_known` (the first round the source knows of) when the
    source's history starts later: a fresh oracle asking from round 0 gets the source's whole history."""
    expected = after_round + 1 if first_known is None else max(after_round + 1, first_known)
    previous = None
    for info in rounds:
        if info.round < expected:
            raise SourceError(f"round {info.round}: listed twice or out of order")
        if info.round > expected:
            raise SourceError(f"round {expected}: missing from the schedule (gap before round {info.round})")
        if info.close_time <= 0:
            raise SourceError(f"round {info.round}: close time {info.close_time} is not a unix time")
        if previous is not None and info.close_time <= previous.close_time:
            raise SourceError(
                f"round {info.round}: closes at {info.close_time}, not after round "
                f"{previous.round} ({previous.close_time})"
            )
        previous = info
        expected += 1
    return list(rounds)


def unique_rounds(numbers: Iterable[int], context: str) -> None:
    """SourceError if a source lists the same round twice (`context` says where the list came from)."""
    seen = set()
    for number in numbers:
        if number in seen:
            raise SourceError(f"{context}: round {number} listed twice")
        seen.add(number)


class ResolutionMemory:
    """What a source has already returned as resolved, so a later answer cannot quietly take it back.

    Numerai resolves a round once; a round that was resolved and is now reported unresolved, or whose resolved
    values changed, means the source is broken or rewriting history. Either way nothing should be signed for
    that model until a human looks, so `check` raises."""

    def __init__(self):
        self._resolved: dict[tuple[str, int], RoundResult] = {}

    def remember(self, results: Iterable[RoundResult]) -> None:
        for result in results:
            self._resolved[(result.model_id, result.round)] = result

    def rounds(self, model_id: str) -> list[int]:
        """Rounds of this model already returned as resolved, ascending."""
        return sorted(r for m, r in self._resolved if m == model_id)

    def check(self, model_id: str, round_number: int, now: RoundResult | None) -> None:
        """`now` is what the source says about a remembered round today: its result, or None if unresolved."""
        before = self._resolved.get((model_id, round_number))
        if before is None:
            return
        context = where(model_id, round_number)
        if now is None:
            raise SourceError(f"{context}: was resolved, now reported unresolved")
        if now.missed != before.missed:
            state = "missed" if now.missed else "scored"
            raise SourceError(f"{context}: was resolved as {'missed' if before.missed else 'scored'}, now {state}")
        for label, old, new in (
            ("scores", before.scores, now.scores),
            ("multipliers", before.multipliers, now.multipliers),
        ):
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    raise SourceError(
                        f"{context}: {name} {label[:-1]} changed after resolution "
                        f"({old.get(name)} -> {new.get(name)})"
                    )
        for label, old, new in (
            ("payout factor", before.payout_factor, now.payout_factor),
            ("clip", before.clip, now.clip),
        ):
            if old != new:
                raise SourceError(f"{context}: {label} changed after resolution ({old} -> {new})")


def check_report_bounds(report: Report, tournament: int, max_clip: int, max_multiplier: int) -> str | None:
    """Why the contract would refuse this report (its `_checkedReturn` rules), or None. Checked before signing
    so one bad model cannot make a whole batch revert."""
    if report.tournament != tournament:
        return f"tournament {report.tournament}, oracle expects {tournament}"
    count = len(report.scores)
    if len(report.score_names) != count or len(report.multipliers) != count:
        return "scores, names and multipliers differ in length"
    if report.missed:
        return "a missed round carries scores" if count else None
    if count == 0:
        return "no scores"
    if count > MAX_SCORES:
        return f"{count} scores, at most {MAX_SCORES}"
    if report.payout_factor > ONE or report.payout_factor < 0:
        return f"payout factor {fixed_decimal(report.payout_factor)} outside [0, 1]"
    if report.clip <= 0 or report.clip > max_clip:
        return f"clip {fixed_decimal(report.clip)} outside (0, {fixed_decimal(max_clip)}]"
    if len(set(report.score_names)) != count or any(n == ZERO32 for n in report.score_names):
        return "empty or duplicate score name"
    for name, score, multiplier in zip(report.score_names, report.scores, report.multipliers):
        label = name.rstrip(b"\0").decode(errors="replace")
        if abs(score) > MAX_ABS_SCORE:
            return f"{label} score {fixed_decimal(score)} outside [-1, 1]"
        if multiplier < 0 or multiplier > max_multiplier:
            return f"{label} multiplier {fixed_decimal(multiplier)} outside [0, " f"{fixed_decimal(max_multiplier)}]"
    return None

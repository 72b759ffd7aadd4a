"""The outcome of checking a revealed predictions file against the chain's commitment for its (model, round)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(str, Enum):
    """What ``backing submission verify`` concludes."""

    MATCH = "match"  # committed before the deadline, and the file hashes to the committed hash
    MISMATCH = "mismatch"  # committed before the deadline, but to other predictions than this file's
    LATE = "late"  # a commitment exists but was recorded at or after the round's submission deadline
    MISSING = "missing"  # no commitment for the model and round


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    words: str  # one line for a person


def classify(
    file_hash: bytes,
    committed_hash: bytes | None,
    committed_at: int | None,
    close_time: int | None,
    now: int,
) -> Verdict:
    """Compare a file's canonical hash with the commitment (None when there is none).

    The SubmissionLog refuses commitments at or after the deadline; the deadline is checked here again from the
    block's time so that a verdict never rests on that rule alone (a log bound to another oracle, a reorg).
    @param close_time The round's submission deadline at the oracle (None or 0 when not announced).
    """
    if committed_hash is None:
        if close_time and now < close_time:
            return Verdict(Outcome.MISSING, "not committed yet; the round takes commitments until its deadline")
        return Verdict(Outcome.MISSING, "no commitment was recorded for this model and round")
    if close_time and committed_at is not None and committed_at >= close_time:
        return Verdict(Outcome.LATE, f"committed {committed_at - close_time} s after the round's submission deadline")
    if committed_hash == file_hash:
        return Verdict(Outcome.MATCH, "the file is the one committed before the deadline")
    return Verdict(Outcome.MISMATCH, "the file differs from the predictions committed for this round")

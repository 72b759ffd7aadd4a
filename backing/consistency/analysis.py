"""Consistency of a model across rounds: rank correlation between consecutive revealed rounds on the ids they
share, breaks in a per-round metric (e.g. Numerai's correlation with the meta model), and the commitment record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: Below this Spearman correlation on shared ids two consecutive rounds look like different models.
DEFAULT_MIN_CORRELATION = 0.8
#: Fewer shared ids than this and the correlation says nothing: the pair is shown, not judged.
DEFAULT_MIN_SHARED = 30
#: A metric value further than this from the median of the rounds before it is a break...
DEFAULT_METRIC_JUMP = 0.1
#: ...and only when it is also this many robust deviations (1.4826 * MAD) away.
DEFAULT_METRIC_SIGMAS = 4.0
METRIC_WINDOW = 8


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (ties get their average rank); None when either side is constant."""
    import numpy as np
    import pandas as pd

    if len(a) < 2:
        return None
    ra = pd.Series(a, dtype=float).rank(method="average").to_numpy()
    rb = pd.Series(b, dtype=float).rank(method="average").to_numpy()
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    if denominator == 0:
        return None
    return float((ra * rb).sum() / denominator)


@dataclass(frozen=True)
class RoundPair:
    previous: int
    round: int
    shared: int  # ids both rounds predicted
    correlation: float | None  # Spearman on the shared ids; None when too few or constant
    flagged: bool
    words: str


def round_pairs(
    by_round: dict[int, dict[str, float]],
    min_correlation: float = DEFAULT_MIN_CORRELATION,
    min_shared: int = DEFAULT_MIN_SHARED,
) -> list[RoundPair]:
    """Each revealed round against the revealed round before it (in round order; gaps allowed)."""
    rounds = sorted(by_round)
    pairs = []
    for previous, current in zip(rounds, rounds[1:]):
        a, b = by_round[previous], by_round[current]
        shared = sorted(set(a) & set(b))
        if len(shared) < min_shared:
            pairs.append(
                RoundPair(previous, current, len(shared), None, False, f"{len(shared)} shared ids: too few to compare")
            )
            continue
        rho = spearman([a[i] for i in shared], [b[i] for i in shared])
        if rho is None:
            pairs.append(RoundPair(previous, current, len(shared), None, True, "constant predictions"))
            continue
        flagged = rho < min_correlation
        words = (
            f"rank correlation {rho:.3f} < {min_correlation}: predictions changed as if another model"
            if flagged
            else f"rank correlation {rho:.3f}"
        )
        pairs.append(RoundPair(previous, current, len(shared), rho, flagged, words))
    return pairs


def metric_breaks(
    series: dict[int, float],
    jump: float = DEFAULT_METRIC_JUMP,
    sigmas: float = DEFAULT_METRIC_SIGMAS,
    window: int = METRIC_WINDOW,
) -> list[tuple[int, float, float]]:
    """(round, value, median of the rounds before) for each round whose value breaks from the ones before it:
    at least `jump` from their median and `sigmas` robust deviations (at least 3 rounds before it needed). A
    lasting shift is one break, at its first round."""
    import statistics

    rounds = sorted(series)
    breaks = []
    since = 0  # a break starts a new level: later rounds are compared with the rounds from the break on
    for i, r in enumerate(rounds):
        before = [series[x] for x in rounds[max(since, i - window) : i]]
        if len(before) < 3:
            continue
        median = statistics.median(before)
        mad = statistics.median(abs(v - median) for v in before) * 1.4826
        distance = abs(series[r] - median)
        if distance >= jump and (mad == 0 or distance / mad >= sigmas):
            breaks.append((r, series[r], median))
            since = i
    return breaks


_ROUND_IN_NAME = re.compile(r"(\d+)")
PREDICTION_SUFFIXES = (".csv", ".parquet", ".pq")


def revealed_files(folder) -> dict[int, Path]:
    """{round: file} in a folder of revealed predictions, the round being the last number in each file's name
    (``round-612.csv``, ``my_model_612.parquet``). Two files for one round are refused."""
    from backing.consistency.canonical import PredictionsError

    folder = Path(folder)
    if not folder.is_dir():
        raise PredictionsError(f"{folder}: not a folder of revealed predictions files")
    found: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in PREDICTION_SUFFIXES:
            continue
        numbers = _ROUND_IN_NAME.findall(path.stem)
        if not numbers:
            continue
        round_ = int(numbers[-1])
        if round_ in found:
            raise PredictionsError(f"{found[round_].name} and {path.name} are both round {round_}: keep one")
        found[round_] = path
    return found


@dataclass
class CommitmentRecord:
    """Which rounds of a stretch a model committed in time, late, or missed."""

    first: int
    last: int
    committed: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    open: list[int] = field(default_factory=list)  # deadline not reached (or not announced): not counted

    def as_dict(self) -> dict:
        return {
            "from_round": self.first,
            "to_round": self.last,
            "committed": self.committed,
            "late": self.late,
            "missed": self.missed,
            "open": self.open,
        }

    def summary(self) -> str:
        text = (
            f"rounds {self.first}-{self.last}: {len(self.committed)} committed in time, {len(self.late)} late, "
            f"{len(self.missed)} missed"
        )
        if self.missed:
            shown = ", ".join(map(str, self.missed[:10])) + (" ..." if len(self.missed) > 10 else "")
            text += f" ({shown})"
        if self.open:
            text += f", {len(self.open)} still open"
        return text


def commitment_record(
    committed_at: dict[int, int], close_times: dict[int, int], first: int, last: int, now: int
) -> CommitmentRecord:
    """Rounds `first`..`last` sorted into committed (before the deadline), late (at or after it), missed (no
    commitment, deadline passed) and open (deadline not passed, or the round not announced).
    @param committed_at {round: block time of its commitment}
    @param close_times {round: submission deadline at the oracle}
    """
    record = CommitmentRecord(first, last)
    for r in range(first, last + 1):
        close = close_times.get(r, 0)
        if r in committed_at:
            (record.late if close and committed_at[r] >= close else record.committed).append(r)
        elif close and now >= close:
            record.missed.append(r)
        else:
            record.open.append(r)
    return record

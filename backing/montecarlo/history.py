"""Score histories: a CSV of per-round scores (read exactly, written back), and the block bootstrap that turns one
into score paths."""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from backing.model.agreement import ONE
from backing.montecarlo.params import MonteCarloError
from backing.report import nmr

# ---------------------------------------------------------------------------------------------- history


def _score_int(text: str, where: str) -> int:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MonteCarloError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or abs(value) > 1:
        raise MonteCarloError(f"{where}: {text!r} must be a score between -1 and 1")
    return int((value * ONE).to_integral_value())  # round half even to 1e-18


def read_history(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A history CSV (header ``round,corr20,mmc``; lines starting with # are comments) -> (rounds, scores) with
    scores int64 in 1e18 units, shape (n, 2), sorted by round. @raise MonteCarloError naming the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MonteCarloError(f"cannot read history file {str(path)!r}: {getattr(error, 'strerror', None) or error}")
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise MonteCarloError(f"history file {str(path)!r} is empty: expected a header round,corr20,mmc and rows")
    rows = list(csv.reader([line for _, line in numbered]))
    header = [h.strip().lower() for h in rows[0]]
    need = ["round", "corr20", "mmc"]
    if any(h not in header for h in need):
        raise MonteCarloError(
            f"history file {str(path)!r}: the header must name the columns round,corr20,mmc "
            f"(got {','.join(rows[0])})"
        )
    cols = [header.index(h) for h in need]
    rounds, scores = [], []
    for (lineno, _), row in zip(numbered[1:], rows[1:]):
        where = f"{path}:{lineno}"
        if len(row) < len(header):
            raise MonteCarloError(f"{where}: expected {len(header)} columns, got {len(row)}")
        try:
            rounds.append(int(row[cols[0]]))
        except ValueError:
            raise MonteCarloError(f"{where}: round {row[cols[0]]!r} is not a whole number") from None
        scores.append((_score_int(row[cols[1]], where), _score_int(row[cols[2]], where)))
    if not scores:
        raise MonteCarloError(f"history file {str(path)!r} has a header but no rows")
    order = np.argsort(rounds, kind="stable")
    r = np.array(rounds)[order]
    if np.any(np.diff(r) == 0):
        raise MonteCarloError(f"history file {str(path)!r} lists round {int(r[1:][np.diff(r) == 0][0])} twice")
    return r, np.array(scores, dtype=np.int64)[order]


def write_history(path: str | Path, scores: np.ndarray, comment: str, first_round: int = 1) -> None:
    """Write one path of integer scores (shape (rounds, 2)) as a history CSV with exact decimals."""

    with open(path, "w", encoding="utf-8") as out:
        for line in comment.splitlines():
            out.write(f"# {line}\n")
        out.write("round,corr20,mmc\n")
        for i, (c, m) in enumerate(scores.tolist()):
            out.write(f"{first_round + i},{nmr(c)},{nmr(m)}\n")


def bootstrap_starts(n_history: int, paths: int, rounds: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Moving-block bootstrap: for each path, the start of each block (uniform over every full block)."""
    count = -(-rounds // block)
    return rng.integers(0, n_history - block + 1, size=(paths, count))


def bootstrap_scores(history: np.ndarray, paths: int, rounds: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Paths made of consecutive ``block``-round stretches of ``history`` (shape (n, 2)), cut to ``rounds``."""
    starts = bootstrap_starts(len(history), paths, rounds, block, rng)
    idx = (starts[:, :, None] + np.arange(block)).reshape(paths, -1)[:, :rounds]
    return history[idx]

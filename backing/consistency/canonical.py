"""The canonical form of a Numerai predictions file, and its hash.

The same predictions must give the same hash whatever the file looks like (CSV or parquet, row order, how many
digits the modeller's code printed, the prediction column's name). The canonical form is UTF-8 text:

    id,prediction\\n
    <id>,<prediction>\\n        one line per row, sorted by id (bytewise on the UTF-8 id)

where ``<prediction>`` is the value rounded to 6 decimals and printed with exactly 6 (``f"{x:.6f}"``, so
``0.5`` -> ``0.500000``; ``-0.0000001`` -> ``0.000000``, never ``-0.000000``). The hash committed on chain is
SHA-256 of those bytes: anyone can reproduce it with ``backing submission hash FILE --canonical-out c.csv``
and ``sha256sum c.csv``.

The file's columns: ``id`` (case-insensitive; parquet files may carry it as the index instead) and exactly one
prediction column: ``prediction`` if present, else the only other column. Ids must be unique and predictions
finite numbers.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

CANONICAL_HEADER = "id,prediction\n"
DECIMALS = 6


class PredictionsError(ValueError):
    """A predictions file that cannot be read or is not a predictions file, in plain words."""


def _frame(path: Path):
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path, use_threads=False, pre_buffer=False)  # small; see backing.grid.data
            if "id" not in [str(c).lower() for c in frame.columns] and frame.index.name:
                frame = frame.reset_index()
        elif suffix in (".csv", ".txt", ".gz") or path.name.lower().endswith(".csv.gz"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raise PredictionsError(f"{path}: not a predictions file (give a .csv or .parquet file)")
    except PredictionsError:
        raise
    except FileNotFoundError:
        raise PredictionsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PredictionsError(f"{path}: is a folder, not a predictions file") from None
    except PermissionError:
        raise PredictionsError(f"{path}: cannot be read (permission denied)") from None
    except Exception as error:  # noqa: BLE001 -- pandas/pyarrow raise many types for a damaged file
        kind = "parquet" if suffix in (".parquet", ".pq") else "CSV"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PredictionsError(f"{path}: cannot be read as {kind} ({first})") from None
    return frame


def read_predictions(path) -> dict[str, float]:
    """{id: prediction} from a CSV or parquet predictions file; PredictionsError in plain words otherwise."""
    path = Path(path)
    frame = _frame(path)
    columns = {str(c).lower(): c for c in frame.columns}
    if "id" not in columns:
        raise PredictionsError(
            f"{path}: no 'id' column (columns: {', '.join(map(str, frame.columns)) or 'none'}): a predictions "
            "file has an 'id' column and one prediction column"
        )
    others = [c for c in frame.columns if str(c).lower() != "id"]
    if "prediction" in columns:
        value_column = columns["prediction"]
    elif len(others) == 1:
        value_column = others[0]
    else:
        raise PredictionsError(
            f"{path}: which column holds the predictions? expected 'prediction' or exactly one column besides "
            f"'id', found {', '.join(map(str, others)) or 'none'}"
        )
    if len(frame) == 0:
        raise PredictionsError(f"{path}: has no rows")
    ids = [str(v) for v in frame[columns["id"]].tolist()]
    out: dict[str, float] = {}
    for row, (ident, value) in enumerate(zip(ids, frame[value_column].tolist(), strict=True), start=1):
        if ident == "" or ident.lower() == "nan":
            raise PredictionsError(f"{path}: row {row} has no id")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise PredictionsError(f"{path}: row {row} (id {ident}): prediction {value!r} is not a number") from None
        if not math.isfinite(number):
            raise PredictionsError(f"{path}: row {row} (id {ident}): prediction {value!r} is not a finite number")
        if ident in out:
            raise PredictionsError(f"{path}: id {ident} appears twice: each id once")
        out[ident] = number
    return out


def _format(value: float) -> str:
    text = f"{value:.{DECIMALS}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def canonical_bytes(predictions: dict[str, float]) -> bytes:
    """The canonical form (module docstring) of {id: prediction}."""
    lines = [CANONICAL_HEADER]
    for ident in sorted(predictions, key=lambda i: i.encode("utf-8")):
        lines.append(f"{ident},{_format(predictions[ident])}\n")
    return "".join(lines).encode("utf-8")


def predictions_hash(path_or_predictions) -> bytes:
    """SHA-256 (32 bytes) of the canonical form of a predictions file (a path) or of {id: prediction}."""
    predictions = (
        path_or_predictions if isinstance(path_or_predictions, dict) else read_predictions(path_or_predictions)
    )
    return hashlib.sha256(canonical_bytes(predictions)).digest()

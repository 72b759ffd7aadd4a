"""FileSource formats
------------------
CSV, one row per model and round, header required::

    model_id,round,close_time,missed,CORR20,MMC,mult_CORR20,mult_MMC,payout_factor,clip
    8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11,1000,1767272400,false,0.0123,-0.0045,0.5,2,1,0.05

`model_id`, `round` and `close_time` (unix seconds or ISO 8601) are required. Every other column not named
`missed`, `resolved`, `payout_factor`, `clip` or `mult_<name>` is a score. A round's scores are its non-blank
score cells, each needing a non-blank `mult_<name>` and vice versa, so the score set may change between rounds.
`missed` (true/false/1/0/yes/no, blank = false) marks a missed round, whose score cells must be blank.
`resolved` (default true) = false keeps a row out of the results but puts its round in the schedule. A missed
round must be written: a model's rounds must be consecutive, a gap is an error.

JSON: a list of objects mirroring RoundResult, numbers as JSON numbers or strings::

    [{"model_id": "8f0d3c52-...", "round": 1000, "close_time": 1767272400, "missed": false,
      "scores": {"CORR20": 0.0123, "MMC": -0.0045}, "multipliers": {"CORR20": 0.5, "MMC": 2},
      "payout_factor": 1, "clip": 0.05}]

(`missed` and `resolved` optional as in CSV). The file is read again on every call, so a running service sees
rows appended to it. An example is examples/oracle/rounds.csv.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from oracle.errors import SourceError
from oracle.model import RoundInfo, RoundResult
from oracle.sources.base import CheckedSource, check_model_id, unix_time
from oracle.validate import Limits, check_schedule, to_decimal, to_int, unique_rounds, where

_FIXED_COLUMNS = {"model_id", "round", "close_time", "missed", "resolved", "payout_factor", "clip"}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


@dataclass(frozen=True)
class _FileRow:
    model_id: str
    round: int
    close_time: int
    resolved: bool
    result: RoundResult | None


def _file_flag(value, context: str, field: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SourceError(f"{context}: {field} is not true/false ({value!r})")


class FileSource(CheckedSource):
    """Round results replayed from a CSV or JSON file (formats in the module docstring), read on every call.
    `profiles` maps model ids to (username, profile text) for `profile_text`."""

    name = "file"

    def __init__(self, path, *, limits: Limits = Limits(), profiles: Mapping[str, tuple[str, str]] | None = None):
        super().__init__(limits)
        self.path = Path(path)
        if self.path.suffix.lower() not in (".csv", ".json"):
            raise ValueError(f"{self.path}: a replay file is .csv or .json")
        self.profiles = dict(profiles or {})

    def _read(self) -> list[_FileRow]:
        try:
            text = self.path.read_text()
        except OSError as error:
            raise SourceError(f"{self.path}: cannot read ({error.strerror})") from None
        if self.path.suffix.lower() == ".csv":
            reader = csv.DictReader(io.StringIO(text))
            missing = {"model_id", "round", "close_time"} - set(reader.fieldnames or [])
            if missing:
                raise SourceError(f"{self.path}: missing column {', '.join(sorted(missing))}")
            names = [c for c in reader.fieldnames if c not in _FIXED_COLUMNS and not c.startswith("mult_")]
            rows = []
            for line, record in enumerate(reader, start=2):
                scores = {n: record[n] for n in names if (record[n] or "").strip()}
                multipliers = {
                    c[len("mult_") :]: record[c]
                    for c in reader.fieldnames
                    if c.startswith("mult_") and (record[c] or "").strip()
                }
                rows.append(self._row(f"{self.path.name} line {line}", record, scores, multipliers))
            return rows
        try:
            items = json.loads(text, parse_float=Decimal, parse_constant=Decimal)
        except ValueError as error:
            raise SourceError(f"{self.path}: not JSON ({error})") from None
        if not isinstance(items, list):
            raise SourceError(f"{self.path}: a JSON replay file is a list of round objects")
        rows = []
        for index, item in enumerate(items):
            location = f"{self.path.name} item {index}"
            if not isinstance(item, dict):
                raise SourceError(f"{location}: not an object")
            scores, multipliers = item.get("scores") or {}, item.get("multipliers") or {}
            if not isinstance(scores, dict) or not isinstance(multipliers, dict):
                raise SourceError(f"{location}: scores and multipliers must be objects")
            rows.append(self._row(location, item, scores, multipliers))
        return rows

    def _row(self, location: str, record: Mapping, scores: dict, multipliers: dict) -> _FileRow:
        model_id = str(record.get("model_id") or "").strip()
        if not model_id:
            raise SourceError(f"{location}: model_id is missing")
        try:
            number = to_int(record.get("round"), f"model {model_id}", "round")
            context = where(model_id, number)
            close_time = unix_time(record.get("close_time"), context, "close_time")
            missed = _file_flag(record.get("missed"), context, "missed", False)
            resolved = _file_flag(record.get("resolved"), context, "resolved", True)
            result = None
            if resolved and missed:
                if scores or multipliers:
                    raise SourceError(f"{context}: a missed round carries scores")
                result = RoundResult(model_id, number, missed=True)
            elif resolved:
                result = RoundResult(
                    model_id,
                    number,
                    scores={n: to_decimal(v, context, f"{n} score") for n, v in scores.items()},
                    multipliers={n: to_decimal(v, context, f"{n} multiplier") for n, v in multipliers.items()},
                    payout_factor=to_decimal(_blank_is_none(record.get("payout_factor")), context, "payout factor"),
                    clip=to_decimal(_blank_is_none(record.get("clip")), context, "clip"),
                )
        except SourceError as error:
            raise SourceError(f"{location}: {error}") from None
        return _FileRow(model_id, number, close_time, resolved, result)

    def schedule(self, after_round: int) -> list[RoundInfo]:
        rows = self._read()
        closes: dict[int, int] = {}
        resolved: dict[int, bool] = {}
        for row in rows:
            if closes.setdefault(row.round, row.close_time) != row.close_time:
                raise SourceError(
                    f"round {row.round}: close_time differs between rows " f"({closes[row.round]}, {row.close_time})"
                )
            resolved[row.round] = resolved.get(row.round, True) and row.resolved
        infos = [RoundInfo(n, closes[n], resolved[n]) for n in sorted(closes) if n > after_round]
        return check_schedule(after_round, infos, min(closes) if closes else None)

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        check_model_id(model_id)
        rows = [row for row in self._read() if row.model_id == model_id]
        unique_rounds((row.round for row in rows), f"{self.path.name}: model {model_id}")
        by_round = {row.round: row for row in rows}
        return self._assemble(model_id, after_round, set(by_round), lambda n: by_round[n].result, self.path.name)

    def profile_text(self, model_id: str) -> tuple[str, str]:
        if model_id not in self.profiles:
            raise SourceError(f"{where(model_id, None)}: no profile given to the file source")
        return self.profiles[model_id]


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value

"""Where round results come from: Numerai's API (numerapi), a replay file, or a deterministic generator.

Every source returns only checked data (`oracle.validate`): `resolved_results` gives a consecutive list from
after_round + 1 or raises `SourceError` and gives nothing for that model. Every source also remembers what it
returned as resolved and raises if a later answer takes it back or changes it (`ResolutionMemory`).

NumeraiSource: how Numerai's answers become a RoundResult
---------------------------------------------------------
* Rounds, deadlines and payout terms come from ``list_rounds()``: `number`, `openTime`, `closeStakingTime`,
  `resolvedStaking` (a round counts as resolved when its payouts are), the round's `payoutFactor`, and the
  round's `roundScoreConfigs`. Only configs with `isPayout` true are payout scores; each gives a score's name
  (`displayName`, which the report carries), its multiplier (`defaultMultiplier`: user-chosen multipliers were
  removed in 2024, so the default is the one applied; `min/maxMultiplier` are only the old choice's bounds)
  and the clip (`clipThreshold`).
* Payout factor: the payout configs' `payoutFactor` when they give one, else the round's own `payoutFactor`.
  If both are given and differ, or the payout configs disagree among themselves on the payout factor or the
  clip, the answer is ambiguous and the round is refused (SourceError): the contract has one payout factor and
  one clip per round, and the oracle must not guess which Numerai meant.
* Scores come from ``submission_scores(model_id)`` (all days and score names); per payout score the row with
  the highest `day` is the final one, matched to the config by `displayName`, case-insensitively. If that call
  fails or returns nothing, the deprecated ``round_model_performances_v2(model_id)`` is used instead (its
  `submissionScores`, `roundResolved`); the payout terms still come from `list_rounds`, so both paths report
  the same terms. `last_score_source[model_id]` says which one answered.
* A resolved round for which the model has no payout-score rows is missed. A resolved round whose payout-score
  rows still say `resolved: false` is not final for the model yet: the list stops before it.
* numerapi does the queries and the date parsing; `raw_query` is replaced (same signature) because numerapi's
  posts have no timeout (a hung API would hang the oracle), turn every HTTP, connection and JSON error into an
  empty answer (callers then fail with KeyError: 'data'), and parse numbers as binary floats. Here every POST
  has a timeout, retries 5xx and connection errors `attempts` times with backoff, parses JSON numbers as exact
  Decimals, and reports each failure as one SourceError line.

FileSource formats
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

SyntheticSource: rounds every `round_spacing` seconds from `first_open`, closing `close_after` later and
resolving `resolve_after` after opening, against the `now` clock; scores normal with plausible CORR20/MMC
magnitudes, rounded to 6 decimals, missed with probability `miss_rate`; each (seed, model, round) has its own
random stream, so results do not depend on the order or the number of calls.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from oracle.model import RoundInfo, RoundResult, Source, SourceError
from oracle.validate import (Limits, ResolutionMemory, check_result, check_schedule, check_sequence, to_decimal,
                             to_int, unique_rounds, where)

CLASSIC_TOURNAMENT = 8


def _check_model_id(model_id: str) -> None:
    try:
        uuid.UUID(str(model_id))
    except ValueError:
        raise SourceError(f"model {model_id}: not a Numerai model id (a UUID)") from None


class _CheckedSource(Source):
    """The assembly every source shares: consecutive results, gap detection, validation, memory."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.memory = ResolutionMemory()

    def _assemble(self, model_id: str, after_round: int, known: set[int],
                  result_for: Callable[[int], RoundResult | None], listing: str) -> list[RoundResult]:
        """`known`: the rounds the source has data for; `result_for(r)`: the checked result of round r for the
        model, or None if it is not resolved (for the model) yet; `listing` names the data in gap messages."""
        _check_model_id(model_id)
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
                raise SourceError(f"{where(model_id, round_number)}: missing from {listing} "
                                  f"(gap before round {later[0]})")
        check_sequence(model_id, after_round, results)
        self.memory.remember(results)
        return results


# --- Numerai through numerapi ---------------------------------------------------------------------------------

class _TransportError(Exception):
    """The request failed before there was an answer to read (HTTP status, timeout, connection, not JSON)."""


class _GraphQLError(ValueError):
    """The API answered with GraphQL `errors` (a ValueError like numerapi's own, so its callers behave alike)."""


def _numerapi_class(tournament: int):
    from numerapi import NumerAPI, base_api

    class OracleNumerAPI(NumerAPI):
        """numerapi with a bounded, exact, loud transport (see the module docstring for why)."""

        def __init__(self, url: str | None, timeout: float, attempts: int, retry_delay: float, **kwargs):
            super().__init__(verbosity="WARNING", show_progress_bars=False, **kwargs)
            self.tournament_id = tournament
            self.url = url
            self.timeout = timeout
            self.attempts = attempts
            self.retry_delay = retry_delay

        def raw_query(self, query, variables=None, authorization=False, *, retries=3, delay=5, backoff=2):
            import requests

            url = self.url or base_api.API_TOURNAMENT_URL   # numerapi's convention: the module constant
            headers = {"Content-type": "application/json", "Accept": "application/json"}
            if authorization:
                if not self.token:
                    raise ValueError("API keys required for this action.")
                public_id, secret_key = self.token
                headers["Authorization"] = f"Token {public_id}${secret_key}"
            body = {"query": query, "variables": variables}
            wait = self.retry_delay
            for attempt in range(1, self.attempts + 1):
                last = attempt == self.attempts
                try:
                    response = requests.post(url, json=body, headers=headers, timeout=self.timeout)
                except requests.Timeout:
                    raise _TransportError(f"no answer from {url} within {self.timeout:g} s") from None
                except requests.RequestException as error:
                    if last:
                        raise _TransportError(f"cannot reach {url} ({type(error).__name__})") from None
                else:
                    if not (500 <= response.status_code < 600) or last:
                        break
                time.sleep(wait)
                wait *= backoff
            if response.status_code != 200:
                raise _TransportError(f"HTTP {response.status_code} from {url}")
            try:
                result = json.loads(response.text, parse_float=Decimal, parse_constant=Decimal)
            except ValueError:
                raise _TransportError(f"answer from {url} is not JSON") from None
            if not isinstance(result, dict):
                raise _TransportError(f"answer from {url} is not a JSON object")
            if "errors" in result:
                raise _GraphQLError(self._handle_call_error(result["errors"]) or "unspecified error")
            return result

    return OracleNumerAPI


@dataclass(frozen=True)
class _Round:
    number: int
    open_time: int
    close_time: int
    resolved: bool
    payout_factor: object        # the round's own, raw (None until Numerai fixes it)
    configs: tuple               # the round's raw roundScoreConfigs


@dataclass(frozen=True)
class _ScoreRow:
    round: int
    name: str
    day: int
    value: object                # raw, checked when the round is assembled
    resolved: bool


def _unix(value, context: str, field: str) -> int:
    """numerapi gives datetimes (naive ones are UTC); files may give unix seconds or ISO 8601 text."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return int(moment.timestamp())
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return _unix(datetime.fromisoformat(value.strip()), context, field)
        except ValueError:
            raise SourceError(f"{context}: {field} is not a time ({value!r})") from None
    return to_int(value, context, field)


def _flag(value, context: str, field: str) -> bool:
    if not isinstance(value, bool):
        raise SourceError(f"{context}: {field} is {'missing' if value is None else f'not a boolean ({value!r})'}")
    return value


class NumeraiSource(_CheckedSource):
    """Resolved round results of Numerai models through numerapi (rules in the module docstring).

    `numerai_url` points numerapi at another endpoint (a fake server): it is set as
    `numerapi.base_api.API_TOURNAMENT_URL`, numerapi's own convention, and used by this source's requests.
    `model_names` maps model ids to model names, which `profile_text` needs (Numerai looks profiles up by name).
    `now` is the clock that decides which rounds have opened."""

    name = "numerai"

    def __init__(self, numerai_url: str | None = None, *, tournament: int = CLASSIC_TOURNAMENT,
                 public_id: str | None = None, secret_key: str | None = None, timeout: float = 30.0,
                 attempts: int = 3, retry_delay: float = 1.0, limits: Limits = Limits(),
                 model_names: Mapping[str, str] | None = None, now: Callable[[], float] = time.time):
        super().__init__(limits)
        if numerai_url is not None:
            from numerapi import base_api

            base_api.API_TOURNAMENT_URL = numerai_url
        self.tournament = tournament
        self.now = now
        self.model_names = dict(model_names or {})
        self.last_score_source: dict[str, str] = {}
        self.api = _numerapi_class(tournament)(numerai_url, timeout, attempts, retry_delay,
                                               public_id=public_id, secret_key=secret_key)

    # -- talking to the API --

    def _call(self, operation: str, function, *args):
        """Run one numerapi call; any failure becomes a one-line problem text (raised as _CallFailed)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)   # the v2 fallback is deliberate
                return function(*args)
        except _TransportError as error:
            raise _CallFailed(f"{operation}: {error}") from None
        except _GraphQLError as error:
            raise _CallFailed(f"{operation}: Numerai API error: {error}") from None
        except KeyError as error:
            raise _CallFailed(f"{operation}: malformed answer (no {error})") from None
        except (TypeError, AttributeError, IndexError, ValueError) as error:
            raise _CallFailed(f"{operation}: malformed answer ({type(error).__name__}: {error})") from None

    def _rounds(self, model_id: str | None = None) -> dict[int, _Round]:
        """All rounds list_rounds gives, by number. Messages name `model_id` when the caller asked for one."""
        prefix = "" if model_id is None else f"{where(model_id, None)}: "
        try:
            listed = self._call("list_rounds", self.api.list_rounds)
        except _CallFailed as failure:
            raise SourceError(f"{prefix}{failure}") from None
        if not isinstance(listed, list):
            raise SourceError(f"{prefix}list_rounds: malformed answer (rounds is {type(listed).__name__})")
        rounds = {}
        for entry in listed:
            if not isinstance(entry, dict):
                raise SourceError(f"{prefix}list_rounds: malformed answer (a round is not an object)")
            number = to_int(entry.get("number"), f"{prefix}list_rounds", "round number")
            context = f"round {number}" if model_id is None else where(model_id, number)
            if number in rounds:
                raise SourceError(f"{prefix}list_rounds: round {number} listed twice")
            configs = entry.get("roundScoreConfigs")
            if not isinstance(configs, list):
                raise SourceError(f"{context}: roundScoreConfigs is missing")
            rounds[number] = _Round(
                number=number,
                open_time=_unix(entry.get("openTime"), context, "openTime"),
                close_time=_unix(entry.get("closeStakingTime"), context, "closeStakingTime"),
                resolved=_flag(entry.get("resolvedStaking"), context, "resolvedStaking"),
                payout_factor=entry.get("payoutFactor"),
                configs=tuple(configs),
            )
        return rounds

    def _score_rows(self, model_id: str) -> dict[int, list[_ScoreRow]]:
        """The model's score rows by round: submission_scores, or round_model_performances_v2 if that fails or
        is empty. SourceError when neither answers."""
        context = where(model_id, None)
        problem = "returned no scores"
        try:
            rows = self._call("submission_scores", self.api.submission_scores, model_id)
            if not isinstance(rows, list):
                raise _CallFailed(f"submission_scores: malformed answer ({type(rows).__name__})")
            if rows:
                self.last_score_source[model_id] = "submission_scores"
                return self._group(model_id, (self._row(model_id, row, row.get("resolved") if
                                                       isinstance(row, dict) else None) for row in rows))
        except _CallFailed as failure:
            problem = str(failure).removeprefix("submission_scores: ")
        try:
            performances = self._call("round_model_performances_v2", self.api.round_model_performances_v2,
                                      model_id)
            if not isinstance(performances, list):
                raise _CallFailed(f"round_model_performances_v2: malformed answer "
                                  f"({type(performances).__name__})")
        except _CallFailed as failure:
            raise SourceError(f"{context}: submission_scores: {problem}; fallback {failure}") from None
        self.last_score_source[model_id] = "round_model_performances_v2"
        rows, seen = [], set()
        for entry in performances:
            if not isinstance(entry, dict):
                raise SourceError(f"{context}: round_model_performances_v2: malformed answer")
            number = to_int(entry.get("roundNumber"), context, "roundNumber")
            if number in seen:
                raise SourceError(f"{where(model_id, number)}: round listed twice by round_model_performances_v2")
            seen.add(number)
            resolved = entry.get("roundResolved")
            for score in entry.get("submissionScores") or []:
                rows.append(self._row(model_id, {**score, "roundNumber": number}, resolved))
        return self._group(model_id, rows)

    @staticmethod
    def _row(model_id: str, row, resolved) -> _ScoreRow:
        if not isinstance(row, dict):
            raise SourceError(f"{where(model_id, None)}: malformed score row")
        number = to_int(row.get("roundNumber"), where(model_id, None), "roundNumber")
        context = where(model_id, number)
        name = row.get("displayName")
        if not isinstance(name, str) or not name:
            raise SourceError(f"{context}: score displayName is missing")
        if "value" not in row:
            raise SourceError(f"{context}: {name} score is missing")
        return _ScoreRow(number, name, to_int(row.get("day"), context, f"{name} score day"), row["value"],
                         _flag(resolved, context, f"{name} resolved"))

    @staticmethod
    def _group(model_id: str, rows: Iterable[_ScoreRow]) -> dict[int, list[_ScoreRow]]:
        grouped: dict[int, list[_ScoreRow]] = {}
        for row in rows:
            grouped.setdefault(row.round, []).append(row)
        return grouped

    # -- assembling a round --

    def _result(self, model_id: str, round_data: _Round, rows: list[_ScoreRow]) -> RoundResult | None:
        number = round_data.number
        context = where(model_id, number)
        if not round_data.resolved:
            return None
        if not rows:
            return RoundResult(model_id, number, missed=True)
        configs = [c for c in round_data.configs if isinstance(c, dict) and c.get("isPayout") is True]
        if not configs:
            names = ", ".join(sorted({row.name for row in rows}))
            raise SourceError(f"{context}: scores ({names}) but no payout score config (isPayout) for the round")
        latest: dict[str, _ScoreRow] = {}
        for row in rows:
            key = row.name.lower()
            held = latest.get(key)
            if held is None or row.day > held.day:
                latest[key] = row
            elif row.day == held.day and row.value != held.value:
                raise SourceError(f"{context}: two {row.name} scores for day {row.day} ({held.value}, {row.value})")
        names = {}
        for config in configs:
            name = config.get("displayName")
            if not isinstance(name, str) or not name:
                raise SourceError(f"{context}: payout score config displayName is missing")
            if name.lower() in names:
                raise SourceError(f"{context}: payout score {name} configured twice")
            names[name.lower()] = (name, config)
        payout_rows = {key: row for key, row in latest.items() if key in names}
        if not payout_rows:
            return RoundResult(model_id, number, missed=True)   # only non-payout scores: no staked submission
        if any(not row.resolved for row in payout_rows.values()):
            return None
        scores, multipliers, clips, factors = {}, {}, set(), set()
        for key, (name, config) in sorted(names.items()):
            if key not in payout_rows:
                raise SourceError(f"{context}: {name} score is missing")
            scores[name] = to_decimal(payout_rows[key].value, context, f"{name} score")
            multipliers[name] = to_decimal(config.get("defaultMultiplier"), context, f"{name} multiplier")
            clips.add(to_decimal(config.get("clipThreshold"), context, f"{name} clipThreshold"))
            if config.get("payoutFactor") is not None:
                factors.add(to_decimal(config["payoutFactor"], context, f"{name} payoutFactor"))
        if len(clips) > 1:
            raise SourceError(f"{context}: payout configs disagree on the clip ({', '.join(map(str, sorted(clips)))})")
        if len(factors) > 1:
            raise SourceError(f"{context}: payout configs disagree on the payout factor "
                              f"({', '.join(map(str, sorted(factors)))})")
        round_factor = (None if round_data.payout_factor is None
                        else to_decimal(round_data.payout_factor, context, "payout factor"))
        if factors and round_factor is not None and round_factor not in factors:
            raise SourceError(f"{context}: payout factor of the round ({round_factor}) differs from its payout "
                              f"configs' ({next(iter(factors))})")
        payout_factor = next(iter(factors)) if factors else round_factor
        if payout_factor is None:
            raise SourceError(f"{context}: payout factor is missing")
        return RoundResult(model_id, number, scores, multipliers, payout_factor, clips.pop())

    # -- the Source interface --

    def schedule(self, after_round: int) -> list[RoundInfo]:
        rounds = self._rounds()
        now = self.now()
        opened = [RoundInfo(r.number, r.close_time, r.resolved)
                  for n, r in sorted(rounds.items()) if n > after_round and r.open_time <= now]
        return check_schedule(after_round, opened, min(rounds) if rounds else None)

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        _check_model_id(model_id)
        rounds = self._rounds(model_id)
        rows = self._score_rows(model_id)
        return self._assemble(model_id, after_round, set(rounds),
                              lambda n: self._result(model_id, rounds[n], rows.get(n, [])), "list_rounds")

    def profile_text(self, model_id: str) -> tuple[str, str]:
        name = self.model_names.get(model_id)
        if name is None:
            raise SourceError(f"{where(model_id, None)}: model name unknown (Numerai profiles are looked up by "
                              f"name; give NumeraiSource model_names)")
        try:
            profile = self._call("public_user_profile", self.api.public_user_profile, name)
        except _CallFailed as failure:
            raise SourceError(f"{where(model_id, None)}: {failure}") from None
        if not isinstance(profile, dict):
            raise SourceError(f"{where(model_id, None)}: public_user_profile: no profile for {name}")
        if str(profile.get("id", "")).lower() != model_id.lower():
            raise SourceError(f"{where(model_id, None)}: profile {name} belongs to model {profile.get('id')}")
        bio = profile.get("bio") or ""
        if not isinstance(bio, str):
            raise SourceError(f"{where(model_id, None)}: public_user_profile: bio is not text")
        return str(profile.get("username") or name), bio


class _CallFailed(Exception):
    """One numerapi call failed; the message is the problem, without the model (the caller adds it)."""


# --- replay files ---------------------------------------------------------------------------------------------

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


class FileSource(_CheckedSource):
    """Round results replayed from a CSV or JSON file (formats in the module docstring), read on every call.
    `profiles` maps model ids to (username, profile text) for `profile_text`."""

    name = "file"

    def __init__(self, path, *, limits: Limits = Limits(),
                 profiles: Mapping[str, tuple[str, str]] | None = None):
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
                multipliers = {c[len("mult_"):]: record[c] for c in reader.fieldnames
                               if c.startswith("mult_") and (record[c] or "").strip()}
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
            close_time = _unix(record.get("close_time"), context, "close_time")
            missed = _file_flag(record.get("missed"), context, "missed", False)
            resolved = _file_flag(record.get("resolved"), context, "resolved", True)
            result = None
            if resolved and missed:
                if scores or multipliers:
                    raise SourceError(f"{context}: a missed round carries scores")
                result = RoundResult(model_id, number, missed=True)
            elif resolved:
                result = RoundResult(
                    model_id, number,
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
                raise SourceError(f"round {row.round}: close_time differs between rows "
                                  f"({closes[row.round]}, {row.close_time})")
            resolved[row.round] = resolved.get(row.round, True) and row.resolved
        infos = [RoundInfo(n, closes[n], resolved[n]) for n in sorted(closes) if n > after_round]
        return check_schedule(after_round, infos, min(closes) if closes else None)

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        _check_model_id(model_id)
        rows = [row for row in self._read() if row.model_id == model_id]
        unique_rounds((row.round for row in rows), f"{self.path.name}: model {model_id}")
        by_round = {row.round: row for row in rows}
        return self._assemble(model_id, after_round, set(by_round), lambda n: by_round[n].result,
                              self.path.name)

    def profile_text(self, model_id: str) -> tuple[str, str]:
        if model_id not in self.profiles:
            raise SourceError(f"{where(model_id, None)}: no profile given to the file source")
        return self.profiles[model_id]


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value


# --- synthetic ------------------------------------------------------------------------------------------------

# Plausible per-round magnitudes (mean, standard deviation) of Classic's payout scores
SYNTHETIC_SCORES = {"CORR20": (Decimal("0.01"), Decimal("0.02")), "MMC": (Decimal("0.002"), Decimal("0.01"))}
SYNTHETIC_MULTIPLIERS = {"CORR20": Decimal("0.5"), "MMC": Decimal(2)}
_SIX_PLACES = Decimal("0.000001")


class SyntheticSource(_CheckedSource):
    """Deterministic made-up rounds for simulations and the demo (rules in the module docstring).

    `model_ids` limits the models it answers for; None answers for any model id (a UUID), so a service can
    run it against whatever models its oracle has registered. The default round 1000 opens 2026-01-01 12:00 UTC; with `now` a test or the demo decides which rounds have
    opened and resolved. `profiles` maps model ids to (username, profile text); `set_profile` changes one."""

    name = "synthetic"

    def __init__(self, model_ids: Sequence[str] | None = None, seed: int = 0, *, now: Callable[[], float] = time.time,
                 first_round: int = 1000, first_open: int = 1767268800, round_spacing: int = 86400,
                 close_after: int = 3600, resolve_after: int = 31 * 86400,
                 score_params: Mapping[str, tuple] | None = None, multipliers: Mapping[str, object] | None = None,
                 payout_factor=Decimal(1), clip=Decimal("0.05"), miss_rate: float = 0.05,
                 limits: Limits = Limits(), profiles: Mapping[str, tuple[str, str]] | None = None):
        super().__init__(limits)
        for model_id in model_ids or []:
            _check_model_id(model_id)
        if round_spacing <= 0 or close_after <= 0 or resolve_after < close_after:
            raise ValueError("round_spacing and close_after must be positive and resolve_after >= close_after")
        self.model_ids = None if model_ids is None else [m.lower() for m in model_ids]
        self.seed = seed
        self.now = now
        self.first_round, self.first_open = first_round, first_open
        self.round_spacing, self.close_after, self.resolve_after = round_spacing, close_after, resolve_after
        self.score_params = {n: (Decimal(str(m)), Decimal(str(s)))
                             for n, (m, s) in (score_params or SYNTHETIC_SCORES).items()}
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
        return check_schedule(after_round, [
            RoundInfo(n, self.close_time(n), self.resolve_time(n) <= now)
            for n in range(first, self._last_opened() + 1)], self.first_round)

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        _check_model_id(model_id)
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

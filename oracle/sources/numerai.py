"""NumeraiSource: how Numerai's answers become a RoundResult
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
* Staking v3 (``v3_stake_round``, which needs API keys: NUMERAI_PUBLIC_ID / NUMERAI_SECRET_KEY or the keys given):
  for each round list_rounds calls resolved, the v3 round must say `resolved` too and carry the same
  `payoutFactor` (when both give one); where list_rounds gives no payout factor, v3's is used. A round where they
  disagree is refused (SourceError) until they agree: the contract takes one answer per round. A round without v3
  data (null: before v3, or another tournament's) is taken from list_rounds alone. `staking_v3`: "auto" (the
  default: checked when keys are present), "on" (keys required) or "off".
* A resolved round for which the model has no payout-score rows is missed. A resolved round whose payout-score
  rows still say `resolved: false` is not final for the model yet: the list stops before it.
* numerapi does the queries and the date parsing; `raw_query` is replaced (same signature) because numerapi's
  posts have no timeout (a hung API would hang the oracle), turn every HTTP, connection and JSON error into an
  empty answer (callers then fail with KeyError: 'data'), and parse numbers as binary floats. Here every POST
  has a timeout, retries 5xx and connection errors `attempts` times with backoff, parses JSON numbers as exact
  Decimals, and reports each failure as one SourceError line.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from oracle.errors import SourceError
from oracle.model import RoundInfo, RoundResult
from oracle.sources.base import CLASSIC_TOURNAMENT, CheckedSource, check_model_id, unix_time
from oracle.validate import Limits, check_schedule, to_decimal, to_int, where


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

            url = self.url or base_api.API_TOURNAMENT_URL  # numerapi's convention: the module constant
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
    payout_factor: object  # the round's own, raw (None until Numerai fixes it)
    configs: tuple  # the round's raw roundScoreConfigs


@dataclass(frozen=True)
class _ScoreRow:
    round: int
    name: str
    day: int
    value: object  # raw, checked when the round is assembled
    resolved: bool


def _flag(value, context: str, field: str) -> bool:
    if not isinstance(value, bool):
        raise SourceError(f"{context}: {field} is {'missing' if value is None else f'not a boolean ({value!r})'}")
    return value


class NumeraiSource(CheckedSource):
    """Resolved round results of Numerai models through numerapi (rules in the module docstring).

    `numerai_url` points numerapi at another endpoint (a fake server): it is set as
    `numerapi.base_api.API_TOURNAMENT_URL`, numerapi's own convention, and used by this source's requests.
    `model_names` maps model ids to model names, which `profile_text` needs (Numerai looks profiles up by name).
    `now` is the clock that decides which rounds have opened."""

    name = "numerai"

    def __init__(
        self,
        numerai_url: str | None = None,
        *,
        tournament: int = CLASSIC_TOURNAMENT,
        public_id: str | None = None,
        secret_key: str | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        retry_delay: float = 1.0,
        limits: Limits = Limits(),
        model_names: Mapping[str, str] | None = None,
        now: Callable[[], float] = time.time,
        staking_v3: str = "auto",
    ):
        super().__init__(limits)
        if staking_v3 not in ("auto", "on", "off"):
            raise ValueError(f"staking_v3 must be auto, on or off, not {staking_v3!r}")
        if numerai_url is not None:
            from numerapi import base_api

            base_api.API_TOURNAMENT_URL = numerai_url
        self.tournament = tournament
        self.now = now
        self.model_names = dict(model_names or {})
        self.last_score_source: dict[str, str] = {}
        self.api = _numerapi_class(tournament)(
            numerai_url, timeout, attempts, retry_delay, public_id=public_id, secret_key=secret_key
        )
        if staking_v3 == "on" and not self.api.token:
            raise ValueError(
                "staking v3 data needs Numerai API keys: set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY (a key with "
                "read access is enough), or use --staking-v3 auto|off"
            )
        self.staking_v3 = staking_v3 != "off" and bool(self.api.token)
        self._v3_rounds: dict[int, dict | None] = {}  # resolved rounds' v3 data (final once resolved)

    # -- talking to the API --

    def _call(self, operation: str, function, *args):
        """Run one numerapi call; any failure becomes a one-line problem text (raised as _CallFailed)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the v2 fallback is deliberate
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
                open_time=unix_time(entry.get("openTime"), context, "openTime"),
                close_time=unix_time(entry.get("closeStakingTime"), context, "closeStakingTime"),
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
                return self._group(
                    model_id,
                    (self._row(model_id, row, row.get("resolved") if isinstance(row, dict) else None) for row in rows),
                )
        except _CallFailed as failure:
            problem = str(failure).removeprefix("submission_scores: ")
        try:
            performances = self._call("round_model_performances_v2", self.api.round_model_performances_v2, model_id)
            if not isinstance(performances, list):
                raise _CallFailed(f"round_model_performances_v2: malformed answer " f"({type(performances).__name__})")
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
        return _ScoreRow(
            number,
            name,
            to_int(row.get("day"), context, f"{name} score day"),
            row["value"],
            _flag(resolved, context, f"{name} resolved"),
        )

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
        v3 = self._v3_round(number, context)
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
            return RoundResult(model_id, number, missed=True)  # only non-payout scores: no staked submission
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
            raise SourceError(
                f"{context}: payout configs disagree on the payout factor " f"({', '.join(map(str, sorted(factors)))})"
            )
        round_factor = (
            None if round_data.payout_factor is None else to_decimal(round_data.payout_factor, context, "payout factor")
        )
        if factors and round_factor is not None and round_factor not in factors:
            raise SourceError(
                f"{context}: payout factor of the round ({round_factor}) differs from its payout "
                f"configs' ({next(iter(factors))})"
            )
        payout_factor = next(iter(factors)) if factors else round_factor
        if v3 is not None and v3.get("payoutFactor") is not None:
            v3_factor = to_decimal(v3["payoutFactor"], context, "staking v3 payoutFactor")
            if payout_factor is None:
                payout_factor = v3_factor
            elif v3_factor != payout_factor:
                raise SourceError(
                    f"{context}: staking v3 says payout factor {v3_factor}, list_rounds {payout_factor}: Numerai's "
                    "answers disagree, so the round is not posted until they agree"
                )
        if payout_factor is None:
            raise SourceError(f"{context}: payout factor is missing")
        return RoundResult(model_id, number, scores, multipliers, payout_factor, clips.pop())

    def _v3_round(self, number: int, context: str) -> dict | None:
        """Round `number`'s staking v3 data, checked against list_rounds' resolution (the caller knows list_rounds
        calls it resolved); None when v3 is not used or has no data for the round."""
        if not self.staking_v3:
            return None
        if number not in self._v3_rounds:
            try:
                data = self._call("v3_stake_round", self.api.v3_stake_round, number)
            except _CallFailed as failure:
                raise SourceError(f"{context}: {failure}") from None
            if data is not None and not isinstance(data, dict):
                raise SourceError(f"{context}: v3_stake_round: malformed answer ({type(data).__name__})")
            if data is not None:
                resolved = _flag(data.get("resolved"), context, "staking v3 resolved")
                if not resolved:
                    raise SourceError(
                        f"{context}: list_rounds says the round is resolved, staking v3 says it is not: Numerai's "
                        "answers disagree, so the round is not posted until they agree"
                    )
                if data.get("roundId") is not None and str(data["roundId"]) != str(number):
                    raise SourceError(f"{context}: v3_stake_round answered for round {data['roundId']}")
            self._v3_rounds[number] = data
        return self._v3_rounds[number]

    # -- the Source interface --

    def schedule(self, after_round: int) -> list[RoundInfo]:
        rounds = self._rounds()
        now = self.now()
        opened = [
            RoundInfo(r.number, r.close_time, r.resolved)
            for n, r in sorted(rounds.items())
            if n > after_round and r.open_time <= now
        ]
        return check_schedule(after_round, opened, min(rounds) if rounds else None)

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        check_model_id(model_id)
        rounds = self._rounds(model_id)
        rows = self._score_rows(model_id)
        scored = self.history(model_id) if self.history is not None else None
        if scored is not None:
            # a model scored before that now has no rows, or lacks rows of rounds it was scored in, is Numerai
            # answering empty or cut short: posting its rounds as missed would post wrong zeros
            if not rows:
                raise SourceError(
                    f"{where(model_id, None)}: Numerai returned no score rows for a model scored "
                    f"before: a source error, not missed rounds"
                )
            lost = sorted(n for n in scored if n in rounds and n not in rows)
            if lost:
                raise SourceError(
                    f"{where(model_id, lost[0])}: Numerai's answer has no score rows for round(s) "
                    f"{', '.join(map(str, lost[:5]))}, scored before: a truncated answer"
                )
        return self._assemble(
            model_id,
            after_round,
            set(rounds),
            lambda n: self._result(model_id, rounds[n], rows.get(n, [])),
            "list_rounds",
        )

    def profile_text(self, model_id: str) -> tuple[str, str]:
        name = self.model_names.get(model_id)
        if name is None:
            raise SourceError(
                f"{where(model_id, None)}: model name unknown (Numerai profiles are looked up by "
                f"name; give NumeraiSource model_names)"
            )
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

"""A fake Numerai tournament GraphQL API on loopback, for tests and the demo.

It answers the queries numerapi 3.1.1 sends, with the response shapes the real API gives (numbers as JSON
numbers, round `payoutFactor` and NMR amounts as strings, times as ISO 8601 UTC):

=============================  ===================================  ==========================================
numerapi method                root field in the query              answered from
=============================  ===================================  ==========================================
submission_scores              submissionScores                     models' scores (filters honoured)
list_rounds                    rounds (with roundScoreConfigs)      rounds
get_current_round              rounds(number: 0)                    the newest opened round
round_model_performances_v2    v2RoundModelPerformances             models' scores and rounds
public_user_profile, stake_get v3UserProfile                        models' name, bio, stake
models_of_account              accountProfile                       all models
get_models                     account                              all models
upload_predictions             submission_upload_auth, then a PUT   an upload URL on this server; the PUT body
                               to its URL, then create_submission   is kept in `uploads` (API keys required)
v3_stake_round                 v3StakeRound                         rounds (API keys required; a round's `v3`
                                                                    overrides fields, `"v3": null` has none)
v3_stake_config                v3StakeConfig                        fixed addresses (API keys required)
=============================  ===================================  ==========================================

Anything else is answered with a GraphQL error, like the real API does for an unknown field.

Data (`FakeNumerai`, or a JSON file for the command line)::

    {"tournament": 8,
     "rounds": [{"number": 1000, "openTime": 1767268800, "closeStakingTime": 1767272400,
                 "resolveTime": 1770033600, "resolved": true, "payoutFactor": "0.75",
                 "scoreConfigs": [{"displayName": "CORR20", "defaultMultiplier": 0.5, "clipThreshold": 0.05}, ...]}],
     "models": [{"id": "<uuid>", "name": "alpha", "bio": "...", "stake": "100",
                 "scores": {"1000": {"CORR20": 0.0123, "MMC": -0.0045}}, "unresolved": [1000]}]}

Times are unix seconds. A round's `resolved` may be left out: it is then `resolveTime <= now`, so a long-running
fake resolves rounds as the clock passes. `scoreConfigs` defaults to Classic's 0.5 x CORR20 + 2 x MMC, clip 0.05
(`CLASSIC_CONFIGS`). A model's `unresolved` lists rounds whose score rows it reports unresolved even though the
round is resolved. Numbers keep their exact decimal text end to end (NaN too); a non-numeric string is served as
a JSON string, which is how the tests feed the oracle garbage.

Failure modes (`FakeNumerai.fail`), each optionally limited to one root field (`on=`) and a number of answers
(`times=`): ``http`` (status, default 500), ``garbage`` (200 with a body that is not JSON), ``graphql`` (200
with `errors`), ``empty`` (200 with ``{}``, what numerapi itself turns HTTP errors into), ``null`` (the root
field is null), ``no_rows`` (the root field is an empty list), ``duplicate`` (every item of the root list twice),
``slow`` (answer after `delay` seconds), ``nan`` / ``drop`` / ``replace`` (every occurrence of
`field` in the answer becomes NaN / disappears / becomes `value`).

Command line: ``python -m oracle.testing.fake_numerai --port 8765 --data FILE`` serves until interrupted and prints
its URL. Another process can drive it over HTTP: ``GET /_admin/data`` returns the data, ``POST /_admin/data``
replaces it, ``POST /_admin/fail`` adds a failure (the keyword arguments of `fail` as JSON), ``POST
/_admin/clear`` removes failures.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLASSIC_TOURNAMENT = 8

# Classic's payout scores since 2024 (docs: 0.5 x CORR20 + 2 x MMC, clip 5%); the round's own payoutFactor applies
CLASSIC_CONFIGS = (
    {
        "name": "canon_corr20",
        "version": "2",
        "displayName": "CORR20",
        "defaultMultiplier": Decimal("0.5"),
        "clipThreshold": Decimal("0.05"),
    },
    {
        "name": "canon_mmc",
        "version": "2",
        "displayName": "MMC",
        "defaultMultiplier": Decimal(2),
        "clipThreshold": Decimal("0.05"),
    },
)

FAILURE_KINDS = (
    "http",
    "garbage",
    "graphql",
    "empty",
    "null",
    "no_rows",
    "duplicate",
    "slow",
    "nan",
    "drop",
    "replace",
)
ROOT_FIELDS = (
    "submissionScores",
    "rounds",
    "v2RoundModelPerformances",
    "v3UserProfile",
    "accountProfile",
    "account",
    "submission_upload_auth",
    "create_submission",
    "v3StakeRound",
    "v3StakeConfig",
)
#: The staking v3 contract configuration the fake serves (addresses of no real contract).
V3_CONFIG = {
    "address": "0x00000000000000000000000000000000000000a3",
    "authorizationSigner": "0x00000000000000000000000000000000000000a5",
    "nmrAddress": "0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671",
    "owner": "0x00000000000000000000000000000000000000a0",
    "paused": False,
    "pendingOwner": "0x0000000000000000000000000000000000000000",
    "serviceWallet": "0x00000000000000000000000000000000000000a1",
}
_MISSING = object()
_SCORE_DAYS = 20  # 20D2L: the final (resolving) score is day 20; the fake also serves an interim day-10 row

_DECIMAL_MARK = "__fake_numerai_decimal__:"


def _number(value):
    """Data numbers as exact Decimals; text that is not a number stays text (served as a JSON string)."""
    if value is None or isinstance(value, (bool, Decimal)):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _iso(unix_time) -> str | None:
    if unix_time is None:
        return None
    return datetime.fromtimestamp(int(unix_time), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_string(value):
    """Fields the real API serves as strings (round payoutFactor, NMR amounts)."""
    return None if value is None else str(value)


def dumps(payload) -> bytes:
    """JSON with Decimals written as bare numbers with their exact text (NaN and Infinity bare too)."""

    def mark(obj):
        if isinstance(obj, Decimal):
            return _DECIMAL_MARK + str(obj)
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(payload))
    return re.sub('"' + _DECIMAL_MARK + r'([^"]*)"', r"\1", text).encode()


class FakeNumerai:
    """The fake API's data and failure switches, and the answer to one GraphQL request (`answer`)."""

    def __init__(self, tournament: int = CLASSIC_TOURNAMENT, now: Callable[[], float] = time.time):
        self.tournament = tournament
        self.now = now
        self.rounds: dict[int, dict] = {}
        self.models: dict[str, dict] = {}
        self.failures: list[dict] = []
        self.requests: list[tuple[str, dict]] = []  # (root field, variables) of every request, for tests
        # submissions (upload_predictions): upload key -> {"filename", "model_id", "body", "submission_id"}
        self.uploads: dict[str, dict] = {}
        self.upload_base = "http://127.0.0.1/"  # the server sets its own URL here
        self.lock = threading.RLock()
        self.wake = threading.Event()  # set on shutdown so slow answers stop waiting

    # --- data -------------------------------------------------------------------------------------------------

    def add_round(
        self,
        number: int,
        open_time: int,
        close_staking_time: int | None = None,
        resolve_time: int | None = None,
        resolved: bool | None = None,
        payout_factor="1",
        score_configs=None,
        v3=_MISSING,
    ) -> dict:
        """Add or replace a round. Close defaults to open + 1 h, resolve to open + 31 days. `v3`: fields of its
        staking v3 answer to override (e.g. {"payoutFactor": "0.5"}), or None for a round without v3 data."""
        with self.lock:
            configs = CLASSIC_CONFIGS if score_configs is None else score_configs
            self.rounds[number] = {
                "number": number,
                "openTime": open_time,
                "closeStakingTime": open_time + 3600 if close_staking_time is None else close_staking_time,
                "resolveTime": open_time + 31 * 86400 if resolve_time is None else resolve_time,
                "resolved": resolved,
                "payoutFactor": _number(payout_factor),
                "scoreConfigs": [
                    {k: _number(v) if k not in ("name", "version", "displayName") else v for k, v in c.items()}
                    for c in configs
                ],
            }
            if v3 is not _MISSING:
                self.rounds[number]["v3"] = None if v3 is None else dict(v3)
            return self.rounds[number]

    def add_model(self, model_id: str, name: str, bio: str = "", stake="0") -> dict:
        with self.lock:
            self.models[model_id] = {
                "id": model_id,
                "name": name,
                "bio": bio,
                "stake": _number(stake),
                "scores": {},
                "unresolved": set(),
            }
            return self.models[model_id]

    def set_scores(self, model_id: str, round_number: int, scores: dict) -> None:
        """The model's scores for a round ({displayName: value}); an empty dict removes them (a missed round)."""
        with self.lock:
            model = self.models[model_id]
            if scores:
                model["scores"][round_number] = {name: _number(v) for name, v in scores.items()}
            else:
                model["scores"].pop(round_number, None)

    def set_resolved(self, round_number: int, resolved: bool | None) -> None:
        """Resolve or un-resolve a round (None: by its resolveTime)."""
        with self.lock:
            self.rounds[round_number]["resolved"] = resolved

    def set_model_unresolved(self, model_id: str, round_number: int, unresolved: bool = True) -> None:
        """Make the model's score rows for a round say resolved=false (or back)."""
        with self.lock:
            rounds = self.models[model_id]["unresolved"]
            rounds.add(round_number) if unresolved else rounds.discard(round_number)

    def is_resolved(self, round_number: int) -> bool:
        data = self.rounds[round_number]
        if data["resolved"] is not None:
            return bool(data["resolved"])
        return data["resolveTime"] <= self.now()

    def load(self, data: dict) -> FakeNumerai:
        """Replace everything with the JSON-shaped data described in the module docstring."""
        with self.lock:
            self.rounds, self.models = {}, {}
            self.tournament = data.get("tournament", self.tournament)
            for r in data.get("rounds", []):
                self.add_round(
                    r["number"],
                    r["openTime"],
                    r.get("closeStakingTime"),
                    r.get("resolveTime"),
                    r.get("resolved"),
                    r.get("payoutFactor", "1"),
                    r.get("scoreConfigs"),
                    r.get("v3", _MISSING),
                )
            for m in data.get("models", []):
                self.add_model(m["id"], m["name"], m.get("bio", ""), m.get("stake", "0"))
                for round_number, scores in m.get("scores", {}).items():
                    self.set_scores(m["id"], int(round_number), scores)
                for round_number in m.get("unresolved", []):
                    self.set_model_unresolved(m["id"], int(round_number))
        return self

    def dump(self) -> dict:
        """The data in the `load` format (numbers as Decimals: serialise with `dumps`)."""
        with self.lock:
            return {
                "tournament": self.tournament,
                "rounds": [copy.deepcopy(self.rounds[n]) for n in sorted(self.rounds)],
                "models": [
                    {
                        "id": m["id"],
                        "name": m["name"],
                        "bio": m["bio"],
                        "stake": m["stake"],
                        "scores": {str(r): dict(s) for r, s in sorted(m["scores"].items())},
                        "unresolved": sorted(m["unresolved"]),
                    }
                    for m in self.models.values()
                ],
            }

    # --- failures ---------------------------------------------------------------------------------------------

    def fail(
        self,
        kind: str,
        on: str | None = None,
        times: int | None = None,
        status: int = 500,
        delay: float = 0.0,
        field: str | None = None,
        value=None,
        message: str = "Internal server error",
    ):
        """Switch on a failure mode (see the module docstring) for root field `on` (None: every request), for
        the next `times` answers (None: until `clear`)."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; one of {', '.join(FAILURE_KINDS)}")
        if on is not None and on not in ROOT_FIELDS:
            raise ValueError(f"unknown root field {on!r}; one of {', '.join(ROOT_FIELDS)}")
        if kind in ("nan", "drop", "replace") and not field:
            raise ValueError(f"failure {kind!r} needs a field")
        with self.lock:
            self.failures.append(
                {
                    "kind": kind,
                    "on": on,
                    "times": times,
                    "status": status,
                    "delay": delay,
                    "field": field,
                    "value": _number(value),
                    "message": message,
                }
            )

    def clear(self) -> None:
        with self.lock:
            self.failures = []

    def _failures_for(self, root: str | None) -> list[dict]:
        active = []
        with self.lock:
            for failure in self.failures:
                if failure["on"] not in (None, root) or failure["times"] == 0:
                    continue
                if failure["times"] is not None:
                    failure["times"] -= 1
                active.append(failure)
        return active

    # --- answering --------------------------------------------------------------------------------------------

    def answer(self, body: bytes, authorization: str | None = None) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) for one POSTed GraphQL request (`authorization`: its header)."""
        try:
            request = json.loads(body)
            query, variables = request["query"], request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return 400, "application/json", dumps({"errors": [{"message": "Must provide query string."}]})
        root = _root_field(query)
        with self.lock:
            self.requests.append((root, dict(variables)))
        failures = self._failures_for(root)
        for failure in failures:
            if failure["kind"] == "slow":
                self.wake.wait(failure["delay"])
        for failure in failures:
            kind = failure["kind"]
            if kind == "http":
                return failure["status"], "text/plain", f"{failure['status']} {failure['message']}".encode()
            if kind == "garbage":
                return 200, "text/html", b"<html><body>502 Bad Gateway</body></html>"
            if kind == "graphql":
                return (
                    200,
                    "application/json",
                    dumps({"errors": [{"message": failure["message"], "path": [root]}], "data": None}),
                )
            if kind == "empty":
                return 200, "application/json", b"{}"
        if root is None:
            return (
                200,
                "application/json",
                dumps({"errors": [{"message": "Cannot query field on type Query"}], "data": None}),
            )
        if (
            root in ("submission_upload_auth", "create_submission", "v3StakeRound", "v3StakeConfig")
            and not authorization
        ):
            return (
                200,
                "application/json",
                dumps({"errors": [{"message": "You must be authenticated to perform this action"}], "data": None}),
            )
        with self.lock:
            try:
                payload = {"data": {root: self._resolve(root, query, variables)}}
            except LookupError as error:
                return (
                    200,
                    "application/json",
                    dumps({"errors": [{"message": str(error.args[0]), "path": [root]}], "data": {root: None}}),
                )
        for failure in failures:
            kind = failure["kind"]
            if kind == "null":
                payload["data"][root] = None
            elif kind == "no_rows":
                payload["data"][root] = []
            elif kind == "duplicate" and isinstance(payload["data"][root], list):
                payload["data"][root] = [copy.deepcopy(item) for item in payload["data"][root] for _ in (0, 1)]
            elif kind in ("nan", "drop", "replace"):
                _rewrite(payload, failure["field"], kind, failure["value"])
        return 200, "application/json", dumps(payload)

    def _resolve(self, root: str, query: str, variables: dict):
        if root == "submission_upload_auth":
            return self._upload_auth(variables)
        if root == "create_submission":
            return self._create_submission(variables)
        if root == "submissionScores":
            return self._submission_scores(variables)
        if root == "rounds":
            return self._rounds(query, variables)
        if root == "v2RoundModelPerformances":
            return self._v2_performances(variables)
        if root == "v3UserProfile":
            return self._profile(variables)
        if root == "v3StakeRound":
            return self._v3_round(variables)
        if root == "v3StakeConfig":
            return dict(V3_CONFIG)
        models = [
            {"id": m["id"], "name": m["name"], "displayName": m["name"], "tournament": self.tournament}
            for m in self.models.values()
        ]
        if root == "accountProfile":
            return {"models": [{"id": m["id"], "displayName": m["name"]} for m in models]}
        return {"models": [{"id": m["id"], "name": m["name"], "tournament": m["tournament"]} for m in models]}

    def _upload_auth(self, variables: dict) -> dict:
        model_id = variables.get("modelId")
        if model_id not in self.models:
            raise LookupError(f"Model {model_id} not found")
        key = f"{len(self.uploads) + 1:04d}-{variables.get('filename', 'predictions.csv')}"
        self.uploads[key] = {"filename": key, "model_id": model_id, "body": None, "submission_id": None}
        return {"filename": key, "url": f"{self.upload_base.rstrip('/')}/_upload/{key}"}

    def _create_submission(self, variables: dict) -> dict:
        upload = self.uploads.get(variables.get("filename"))
        if upload is None or upload["body"] is None:
            raise LookupError("No upload found for this filename")
        upload["submission_id"] = f"00000000-0000-4000-8000-{len(self.uploads):012d}"
        return {"id": upload["submission_id"]}

    def receive_upload(self, key: str, body: bytes) -> bool:
        """The PUT of an upload URL; False when no upload was authorized under `key`."""
        with self.lock:
            if key not in self.uploads:
                return False
            self.uploads[key]["body"] = body
            return True

    def _opened(self) -> list[int]:
        now = self.now()
        return sorted(n for n, r in self.rounds.items() if r["openTime"] <= now)

    @staticmethod
    def _payout_settings(config: dict) -> dict:
        return {
            "isPayout": config.get("isPayout", True),
            "minMultiplier": config.get("minMultiplier", config.get("defaultMultiplier")),
            "maxMultiplier": config.get("maxMultiplier", config.get("defaultMultiplier")),
            "defaultMultiplier": config.get("defaultMultiplier"),
            "clipThreshold": config.get("clipThreshold"),
            "stakeThreshold": config.get("stakeThreshold", Decimal(72000)),
            "payoutFactor": config.get("payoutFactor"),
        }

    def _round_entry(self, number: int) -> dict:
        r = self.rounds[number]
        resolved = self.is_resolved(number)
        configs = []
        for index, config in enumerate(r["scoreConfigs"]):
            configs.append(
                {
                    "id": f"rsc-{number}-{index}",
                    "scoreConfigId": f"sc-{config.get('name', index)}",
                    "roundNumberStart": number,
                    "roundNumberEnd": number,
                    "name": config.get("name", config.get("displayName")),
                    "version": config.get("version", "1"),
                    "displayName": config.get("displayName"),
                    "totalScoreDays": _SCORE_DAYS,
                    "returnsLagDays": 2,
                    "dataDelayDays": 0,
                    "universe": "main",
                    "isCanonScore": True,
                    "scoringStart": _iso(r["closeStakingTime"] + 4 * 86400),
                    "scoringEnd": _iso(r["resolveTime"]),
                    **self._payout_settings(config),
                }
            )
        return {
            "id": f"round-{self.tournament}-{number}",
            "tournament": self.tournament,
            "number": number,
            "target": "main",
            "closeTime": _iso(r["closeStakingTime"]),
            "closeStakingTime": _iso(r["closeStakingTime"]),
            "openTime": _iso(r["openTime"]),
            "scoreTime": _iso(r["closeStakingTime"] + 4 * 86400),
            "resolveTime": _iso(r["resolveTime"]),
            "resolvedGeneral": resolved,
            "resolvedStaking": resolved,
            # the real API serves the round's payout factor as a string, null until it is fixed
            "payoutFactor": _as_string(r["payoutFactor"]) if resolved else None,
            "stakeThreshold": Decimal(72000),
            "dataDatestamp": int(_iso(r["openTime"])[:10].replace("-", "")),
            "roundScoreConfigs": configs,
        }

    def _v3_round(self, variables: dict) -> dict | None:
        """numerapi's v3StakeRound shape (every field a string but `resolved`), from the round and its `v3`."""
        try:
            number = int(variables.get("roundId"))
        except (TypeError, ValueError):
            raise LookupError(f"Round {variables.get('roundId')!r} not found") from None
        r = self.rounds.get(number)
        if r is None or r.get("v3", _MISSING) is None:
            return None
        resolved = self.is_resolved(number)
        staked = sum(Decimal(str(m["stake"])) for m in self.models.values())
        answer = {
            "roundId": str(number),
            "tournamentId": str(self.tournament),
            "openTime": _iso(r["openTime"]),
            "closeTime": _iso(r["closeStakingTime"]),
            "resolveTime": _iso(r["resolveTime"]),
            "resolved": resolved,
            "state": "RESOLVED" if resolved else "OPEN",
            "payoutFactor": _as_string(r["payoutFactor"]) if resolved else None,
            "stakeCap": "0",
            "stakeThreshold": "72000",
            "totalStaked": str(staked),
            "totalPayout": "0",
            "remainingPayout": "0",
            "remainingBurn": "0",
            "merkleRoot": "0x" + format(number, "064x") if resolved else None,
        }
        answer.update(r.get("v3") or {})
        return answer

    def _rounds(self, query: str, variables: dict) -> list:
        tournament = variables.get("tournament")
        if tournament is not None and tournament != self.tournament:
            return []
        opened = self._opened()
        if re.search(r"\bnumber:\s*0\b", query) or variables.get("number") == 0:
            # get_current_round asks for round 0 (inline in its query): the newest opened round
            return [{"number": opened[-1]}] if opened else [None]
        numbers = sorted(self.rounds)
        if variables.get("number") is not None:
            numbers = [n for n in numbers if n == variables["number"]]
        status = variables.get("status")
        if status is not None:

            def status_of(n):
                if n not in opened:
                    return "UPCOMING"
                if self.is_resolved(n):
                    return "RESOLVED"
                return "OPEN" if self.rounds[n]["closeStakingTime"] > self.now() else "RESOLVING"

            numbers = [n for n in numbers if status_of(n) == status]
        entries = [self._round_entry(n) for n in sorted(numbers, reverse=True)]  # newest first, like the API
        if variables.get("limit") is not None:
            entries = entries[: variables["limit"]]
        return entries

    def _score_rows(self, model: dict, number: int) -> list[dict]:
        """The model's score rows for a round: an interim day-10 row (half the final value) and the day-20 one."""
        r = self.rounds[number]
        resolved = self.is_resolved(number) and number not in model["unresolved"]
        rows = []
        for name, value in model["scores"][number].items():
            for day in (10, _SCORE_DAYS):
                shown = value / 2 if day != _SCORE_DAYS and isinstance(value, Decimal) and value.is_finite() else value
                date = r["closeStakingTime"] + (day + 2) * 86400
                rows.append(
                    {
                        "roundId": f"round-{self.tournament}-{number}",
                        "submissionId": f"sub-{model['id'][:8]}-{number}",
                        "roundNumber": number,
                        "roundResolveTime": _iso(r["resolveTime"]),
                        "roundScoreTime": _iso(r["closeStakingTime"] + 4 * 86400),
                        "roundCloseStakingTime": _iso(r["closeStakingTime"]),
                        "value": shown,
                        "percentile": Decimal("0.5"),
                        "displayName": name,
                        "version": "2",
                        "date": _iso(date),
                        "day": day,
                        "resolveDate": _iso(r["resolveTime"]),
                        "resolved": resolved,
                    }
                )
        return rows

    def _submission_scores(self, variables: dict) -> list:
        tournament = variables.get("tournament")
        model = self.models.get(variables.get("modelId"))
        if model is None or (tournament is not None and tournament != self.tournament):
            return []
        opened = set(self._opened())
        numbers = sorted((n for n in model["scores"] if n in opened and n in self.rounds), reverse=True)
        if variables.get("lastNRounds") is not None:
            numbers = numbers[: variables["lastNRounds"]]
        rows = [row for n in numbers for row in self._score_rows(model, n)]
        for key, field in (
            ("displayName", "displayName"),
            ("version", "version"),
            ("day", "day"),
            ("resolved", "resolved"),
        ):
            if variables.get(key) is not None:
                rows = [row for row in rows if row[field] == variables[key]]
        if variables.get("distinctOnRound"):
            latest = {}
            for row in rows:
                key = (row["roundNumber"], row["displayName"])
                if key not in latest or row["day"] > latest[key]["day"]:
                    latest[key] = row
            rows = list(latest.values())
        return rows

    def _v2_performances(self, variables: dict) -> list:
        model = self.models.get(variables.get("modelId"))
        if model is None or variables.get("tournament") != self.tournament:
            return []
        entries = []
        for number in sorted(set(model["scores"]) & set(self._opened()), reverse=True):
            r = self.rounds[number]
            resolved = self.is_resolved(number) and number not in model["unresolved"]
            scores = [
                {
                    "date": row["date"],
                    "day": row["day"],
                    "displayName": row["displayName"],
                    "payoutPending": "0",
                    "payoutSettled": "0",
                    "percentile": row["percentile"],
                    "value": row["value"],
                }
                for row in self._score_rows(model, number)
            ]
            multipliers = [
                {
                    "id": f"rsc-{number}-{i}",
                    "scoreConfigId": f"sc-{c.get('name', i)}",
                    "name": c.get("name", c.get("displayName")),
                    "version": c.get("version", "1"),
                    "displayName": c.get("displayName"),
                    "multiplier": c.get("defaultMultiplier"),
                }
                for i, c in enumerate(r["scoreConfigs"])
                if c.get("isPayout", True)
            ]
            entries.append(
                {
                    "atRisk": _as_string(model["stake"]),
                    "payoutMultipliers": multipliers,
                    "roundPayoutFactor": _as_string(r["payoutFactor"]) if resolved else None,
                    "roundNumber": number,
                    "roundOpenTime": _iso(r["openTime"]),
                    "roundResolveTime": _iso(r["resolveTime"]),
                    "roundResolved": resolved,
                    "roundTarget": "main",
                    "submissionScores": scores,
                }
            )
        return entries

    def _profile(self, variables: dict) -> dict:
        name = variables.get("model_name")
        for model in self.models.values():
            if model["name"].lower() == str(name).lower():
                return {
                    "id": model["id"],
                    "startDate": "2024-01-02T00:00:00Z",
                    "username": model["name"],
                    "bio": model["bio"] or None,
                    "nmrStaked": _as_string(model["stake"]),
                    "stakeValue": _as_string(model["stake"]),
                }
        raise LookupError(f"Model {name} not found")


def _root_field(query: str) -> str | None:
    """The query's root field: the first field name after the operation's opening brace."""
    depth, start = 0, None
    for index, char in enumerate(query):
        if char == "(" and start is None:
            depth += 1
        elif char == ")" and start is None:
            depth -= 1
        elif char == "{" and depth == 0:
            start = index + 1
            break
    if start is None:
        return None
    match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", query[start:])
    if match is None or match.group(1) not in ROOT_FIELDS:
        return None
    return match.group(1)


def _rewrite(node, field: str, kind: str, value) -> None:
    """Every `field` in the answer to NaN, removed, or to `value` (failure modes nan/drop/replace)."""
    if isinstance(node, dict):
        if field in node:
            if kind == "drop":
                del node[field]
            else:
                node[field] = Decimal("NaN") if kind == "nan" else value
        for child in node.values():
            _rewrite(child, field, kind, value)
    elif isinstance(node, list):
        for child in node:
            _rewrite(child, field, kind, value)


# --- the HTTP server ------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: FakeNumeraiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # tests and the demo read stdout; keep requests out of it
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):
        fake = self.server.fake
        body = self._body()
        if self.path.startswith("/_admin/"):
            return self._admin(fake, self.path[len("/_admin/") :], body)
        self._send(*fake.answer(body, self.headers.get("Authorization")))

    def do_PUT(self):
        body = self._body()
        if self.path.startswith("/_upload/") and self.server.fake.receive_upload(self.path[len("/_upload/") :], body):
            return self._send(200, "text/plain", b"")
        self._send(403, "text/plain", b"no upload authorized at this URL")

    def do_GET(self):
        if self.path == "/_admin/data":
            return self._send(200, "application/json", dumps(self.server.fake.dump()))
        self._send(400, "application/json", dumps({"errors": [{"message": "Must provide query string."}]}))

    def _admin(self, fake: FakeNumerai, command: str, body: bytes) -> None:
        try:
            data = json.loads(body or b"{}", parse_float=Decimal)
            if command == "data":
                fake.load(data)
            elif command == "fail":
                fake.fail(**data)
            elif command == "clear":
                fake.clear()
            else:
                return self._send(404, "text/plain", f"unknown admin command {command!r}".encode())
        except (ValueError, TypeError, KeyError) as error:
            return self._send(400, "text/plain", f"{type(error).__name__}: {error}".encode())
        self._send(200, "application/json", b'{"ok": true}')


class FakeNumeraiServer(ThreadingHTTPServer):
    """A threaded HTTP server around a FakeNumerai; `url` is what numerapi's API_TOURNAMENT_URL should be."""

    daemon_threads = True

    def __init__(self, fake: FakeNumerai, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        super().__init__((host, port), _Handler)
        self.fake = fake
        self.verbose = verbose
        self.thread: threading.Thread | None = None
        fake.upload_base = self.url

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        self.fake.wake.set()
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def start(
    fake: FakeNumerai | None = None, port: int = 0, host: str = "127.0.0.1", verbose: bool = False
) -> tuple[FakeNumeraiServer, str]:
    """Serve `fake` (a new empty one if None) on loopback in a daemon thread: (server, url). Stop with
    `server.stop()`; `server.fake` is the data to change while it runs."""
    server = FakeNumeraiServer(fake if fake is not None else FakeNumerai(), host, port, verbose)
    # a short poll interval so stop() (which waits for the loop to notice) is quick in tests
    server.thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-numerai", daemon=True
    )
    server.thread.start()
    return server, server.url


@contextlib.contextmanager
def running(fake: FakeNumerai | None = None, port: int = 0) -> Iterator[tuple[FakeNumeraiServer, str]]:
    """`start` as a context manager: ``with running(fake) as (server, url): ...``."""
    server, url = start(fake, port)
    try:
        yield server, url
    finally:
        server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oracle.testing.fake_numerai",
        description="Serve a fake Numerai tournament GraphQL API on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--data", help="JSON data file (format in the module docstring)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    fake = FakeNumerai()
    if args.data:
        with open(args.data) as handle:
            fake.load(json.load(handle, parse_float=Decimal))
    server, url = start(fake, args.port, args.host, args.verbose)
    print(f"fake Numerai API at {url}", flush=True)
    try:
        while server.thread.is_alive():
            server.thread.join(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

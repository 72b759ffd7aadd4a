"""Per-round predictions commitments and the consistency report.

    backing submission hash FILE                      the canonical SHA-256 of a predictions file (offline)
    backing submission commit FILE --model UUID --round N [--submission-id UUID --submission-hash HEX]
    backing submission agent ADDRESS                  name the key that may commit for your models
    backing submission verify FILE --model UUID --round N     match / mismatch / late / missing
    backing consistency MODEL [--revealed DIR] [--numerai]     rounds compared, breaks, commitment record

The commitments live in the SubmissionLog (``backing deploy`` deploys it; the manifest names it). The hashing
and the analysis are pure (``backing.consistency``); this module reads and writes the chain.
"""

from __future__ import annotations

import argparse
import datetime
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from backing.client import EXIT_DEPLOYMENT, EXIT_REFUSED, EXIT_USAGE, CliError
from backing.client.chainread import ZERO, chain_now, model_id, model_label
from backing.client.node import bind, load_deployment
from backing.client.options import EXIT_EPILOG, add_json, add_node, command_parser, handler, print_json, sender
from backing.client.tx import Call
from backing.consistency import (
    CommitmentRecord,
    PredictionsError,
    canonical_bytes,
    classify,
    commitment_record,
    metric_breaks,
    read_predictions,
    round_pairs,
    select_commitments,
)
from backing.consistency.analysis import DEFAULT_MIN_CORRELATION, DEFAULT_MIN_SHARED, revealed_files

ZERO32 = b"\0" * 32


def utc(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def file_hash(path) -> tuple[bytes, int]:
    """(SHA-256 of the canonical form, number of rows); bad files become exit code 2 in plain words."""
    import hashlib

    try:
        predictions = read_predictions(path)
    except PredictionsError as error:
        raise CliError(EXIT_USAGE, str(error)) from None
    return hashlib.sha256(canonical_bytes(predictions)).digest(), len(predictions)


def _bytes32(option: str, text: str | None, uuid_ok: bool = False) -> bytes:
    if not text:
        return ZERO32
    if uuid_ok:
        try:
            return uuidlib.UUID(text).bytes + b"\0" * 16
        except ValueError:
            pass
    hex_text = text[2:] if text.lower().startswith("0x") else text
    try:
        raw = bytes.fromhex(hex_text)
    except ValueError:
        raw = b""
    if not raw or len(raw) > 32:
        what = "a UUID or up to 32 bytes of hex" if uuid_ok else "up to 32 bytes of hex (0x...)"
        raise CliError(EXIT_USAGE, f"{option}: {text!r} is not {what}")
    return raw.rjust(32, b"\0")


def submission_log(dep):
    """The deployment's SubmissionLog, checked to follow the deployment's oracle."""
    address = dep.manifest.address("SubmissionLog")
    if not address:
        raise CliError(
            EXIT_DEPLOYMENT,
            f"the manifest {dep.manifest.path} has no SubmissionLog (deployed before it existed): run "
            "`backing deploy` again to add it",
        )
    log = bind(dep.w3, "SubmissionLog", address)
    if log.functions.oracle().call() != dep.oracle.address:
        raise CliError(EXIT_DEPLOYMENT, f"the SubmissionLog at {address} follows another oracle: stale manifest")
    return log


def registered_modeller(dep, raw: bytes, text: str) -> str:
    modeller = dep.oracle.functions.modelInfo(raw).call()[0]
    if modeller == ZERO:
        raise CliError(
            EXIT_USAGE,
            f"model {text} is not registered at this deployment's oracle (unknown model): check the UUID, or ask "
            "the operators to register it (`backing model register`)",
        )
    return modeller


def modeller_history(dep, raw: bytes) -> list[tuple[tuple[int, int], str]]:
    """(order, modeller) of the model's registration and of every change of its modeller at the oracle (issue 12
    L-5): who the model's modeller was, and since when. A node that keeps no old logs finds none: then the modeller
    now stands for the whole log."""
    start = dep.manifest.contracts["ScoreOracle"].get("block", 0)
    events = dep.oracle.events
    found = [
        ((e["blockNumber"], e["logIndex"]), e["args"]["modeller"])
        for e in events.ModelRegistered.get_logs(argument_filters={"modelId": raw}, from_block=start)
    ]
    found += [
        ((e["blockNumber"], e["logIndex"]), e["args"]["to"])
        for e in events.ModellerChanged.get_logs(argument_filters={"modelId": raw}, from_block=start)
    ]
    return sorted(found) or [((-1, -1), dep.oracle.functions.modelInfo(raw).call()[0])]


def agent_history(dep, log, modeller: str) -> list[tuple[tuple[int, int], str]]:
    """(order, agent) of every AgentSet event of `modeller`: who could commit for him, and since when."""
    start = dep.manifest.contracts["SubmissionLog"].get("block", 0)
    return [
        ((e["blockNumber"], e["logIndex"]), e["args"]["agent"])
        for e in log.events.AgentSet.get_logs(argument_filters={"modeller": modeller}, from_block=start)
    ]


def commitment_events(
    dep, log, raw: bytes, round_: int | None = None
) -> tuple[dict[int, dict], list[tuple[dict, str]]]:
    """The model's commitments from the log's events, judged by ISubmissionLog's rules 1 and 2
    (`select_commitments`): ({round: the one that counts}, [(ignored one, why)]). Each is a dict with "hash",
    "committer", "block", "time", "submission_id", "submission_hash", "tx", "order"."""
    filters = {"modelId": raw} if round_ is None else {"modelId": raw, "round": round_}
    start = dep.manifest.contracts["SubmissionLog"].get("block", 0)
    times: dict[int, int] = {}
    events = []
    for event in log.events.SubmissionCommitted.get_logs(argument_filters=filters, from_block=start):
        a = event["args"]
        number = event["blockNumber"]
        if number not in times:
            times[number] = int(dep.w3.eth.get_block(number)["timestamp"])
        events.append(
            {
                "round": a["round"],
                "hash": bytes(a["predictionsHash"]),
                "committer": a["committer"],
                "block": number,
                "time": times[number],
                "submission_id": bytes(a["submissionId"]),
                "submission_hash": bytes(a["submissionHash"]),
                "tx": "0x" + bytes(event["transactionHash"]).hex(),
                "order": (number, event["logIndex"]),
            }
        )
    if not events:
        return {}, []
    history = modeller_history(dep, raw)
    agents = {m.lower(): agent_history(dep, log, m) for m in {m for _, m in history}}
    return select_commitments(events, history, agents)


def close_times(dep) -> dict[int, int]:
    """Every announced round's submission deadline, from the oracle's RoundAnnounced events."""
    start = dep.manifest.contracts["ScoreOracle"].get("block", 0)
    return {
        e["args"]["round"]: e["args"]["closeTime"]
        for e in dep.oracle.events.RoundAnnounced.get_logs(argument_filters={}, from_block=start)
    }


def expectation(dep, log, raw: bytes, closes: dict[int, int] | None = None) -> dict | None:
    """The model's modeller's statement that he commits every round (his first `CommitmentsExpected` event since he
    became the model's modeller; one by anyone else, or by an earlier modeller, does not count): {"time", "block",
    "tx", "from_round": the first round whose deadline is after it, None while no such round is announced}; None
    without a statement. `closes`: `close_times(dep)` if at hand."""
    modeller = dep.oracle.functions.modelInfo(raw).call()[0]
    if modeller == ZERO:
        return None
    start = dep.manifest.contracts["SubmissionLog"].get("block", 0)
    # the modeller now, since he became it: a promise made by an earlier modeller does not bind a new one
    since = modeller_history(dep, raw)[-1][0]
    found = [
        e
        for e in log.events.CommitmentsExpected.get_logs(
            argument_filters={"modelId": raw, "modeller": modeller}, from_block=start
        )
        if (e["blockNumber"], e["logIndex"]) > since
    ]
    if not found:
        return None
    first = min(found, key=lambda e: (e["blockNumber"], e["logIndex"]))
    stated = int(dep.w3.eth.get_block(first["blockNumber"])["timestamp"])
    after = [r for r, close in (close_times(dep) if closes is None else closes).items() if close > stated]
    return {
        "time": stated,
        "block": first["blockNumber"],
        "tx": "0x" + bytes(first["transactionHash"]).hex(),
        "from_round": min(after) if after else None,
    }


def expectation_words(expected: dict | None) -> str:
    if not expected:
        return "the modeller has not stated that he commits every round"
    since = f"from round {expected['from_round']}" if expected["from_round"] else "from the next announced round"
    return f"the modeller states he commits every round {since} (stated {utc(expected['time'])})"


def expect_call(dep, raw: bytes, label: str):
    """The SubmissionLog call that states the promise of terms with ``submission_commitments: every_round``, or
    None when the model's modeller already stated it."""
    if not dep.manifest.address("SubmissionLog"):
        raise CliError(
            EXIT_DEPLOYMENT,
            f"the terms say submission_commitments: every_round, but the manifest {dep.manifest.path} has no "
            "SubmissionLog to state it in: run `backing deploy` again to add it",
        )
    log = submission_log(dep)
    if expectation(dep, log, raw):
        print(f"note: you already stated that you commit every round of model {label}")
        return None
    return Call(
        "SubmissionLog",
        "expectCommitments",
        (raw,),
        log,
        f"state that you commit every round of model {label} (the terms' submission_commitments: every_round; "
        "backers count the rounds you miss)",
        outcome=lambda receipt: f"stated: you commit every round of model {label}",
        kind="SubmissionLog",
    )


@dataclass(frozen=True)
class CommitmentReport:
    """A model's commitments read once from the chain: the record (None when nothing was committed or promised and
    no start was given), the commitments that count and the ignored ones, the modeller's promise, and every
    announced round's deadline."""

    record: CommitmentRecord | None
    counted: dict[int, dict]
    ignored: list[tuple[dict, str]]
    expected: dict | None
    closes: dict[int, int]


def commitment_report(dep, log, raw: bytes, from_round: int | None = None) -> CommitmentReport:
    """The commitment record from `from_round` (default: the round the modeller's promise starts at, else the
    first committed round) through the last announced round, with what it was computed from."""
    counted, ignored = commitment_events(dep, log, raw)
    closes = close_times(dep)
    expected = expectation(dep, log, raw, closes)
    if from_round is None and expected and expected["from_round"]:
        from_round = min([expected["from_round"], *counted])
    record = None
    if from_round is not None or counted:
        first = from_round if from_round is not None else min(counted)
        last = max([first, *closes, *counted])
        record = commitment_record({r: c["time"] for r, c in counted.items()}, closes, first, last, chain_now(dep.w3))
    return CommitmentReport(record, counted, ignored, expected, closes)


def model_show_lines(dep, raw: bytes) -> tuple[dict, list[str]]:
    """The commitment record for `backing model show`: (JSON part, text lines); empty without a log."""
    if not dep.manifest.address("SubmissionLog"):
        return {}, []
    report = commitment_report(dep, submission_log(dep), raw)
    promise = [f"  promise           {expectation_words(report.expected)}"]
    data = {"commitments_expected": report.expected}
    if report.record is None:
        data["commitments"] = None
        return data, ["  commitments       none recorded (`backing submission commit` each round)", *promise]
    data["commitments"] = report.record.as_dict()
    return data, [f"  commitments       {report.record.summary()}", *promise]


# ---------------------------------------------------------------------------------------------- commands


def cmd_hash(args) -> int:
    try:
        predictions = read_predictions(args.file)
    except PredictionsError as error:
        raise CliError(EXIT_USAGE, str(error)) from None
    import hashlib

    form = canonical_bytes(predictions)
    if args.canonical_out:
        Path(args.canonical_out).write_bytes(form)
    print(f"0x{hashlib.sha256(form).hexdigest()}  {args.file} ({len(predictions)} rows, canonical form)")
    return 0


def _batch_entries(path) -> list[dict]:
    """The rows of a --batch list: CSV with a header ``file,model,round`` (and optionally ``submission_id``,
    ``submission_hash``); files relative to the list's folder."""
    import csv

    path = Path(path)
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise CliError(EXIT_USAGE, f"--batch {path}: cannot be read ({error.strerror or error})") from None
    if not rows or not {"file", "model", "round"} <= set(rows[0]):
        raise CliError(
            EXIT_USAGE,
            f"--batch {path}: give a CSV with the header file,model,round (and optionally "
            "submission_id,submission_hash), one commitment a line",
        )
    entries = []
    for line, row in enumerate(rows, start=2):
        try:
            round_ = int(row["round"])
        except (TypeError, ValueError):
            raise CliError(EXIT_USAGE, f"--batch {path} line {line}: round {row['round']!r} is not a number") from None
        entries.append(
            {
                "file": path.parent / row["file"],
                "model": row["model"],
                "round": round_,
                "submission_id": row.get("submission_id") or None,
                "submission_hash": row.get("submission_hash") or None,
            }
        )
    return entries


def _check_commitment_counts(dep, log, raw: bytes, entry: dict, address: str, now: int, seen: set) -> int:
    """Refuse, before anything is sent, a commitment that ISubmissionLog's rules would not count (the log itself
    records anything): the sender not the model's modeller nor his agent, a round not announced or already
    closed, a round that already has the commitment that counts. Returns the round's deadline."""
    label, round_ = entry["model"], entry["round"]
    modeller = registered_modeller(dep, raw, label)
    agent = log.functions.agentOf(modeller).call()
    if address.lower() not in (modeller.lower(), agent.lower()):
        raise CliError(
            EXIT_REFUSED,
            f"{address} may not commit for model {label}: only its registered modeller {modeller} or the agent he "
            "names (`backing submission agent`) may, and a commitment from anyone else does not count; use that "
            "account (nothing sent)",
        )
    close = dep.oracle.functions.roundCloseTime(round_).call()
    if close == 0:
        raise CliError(
            EXIT_REFUSED,
            f"the oracle has not announced round {round_} yet, so its submission deadline is unknown: commit once "
            "the operators announce it (`backing model show` lists the schedule), or check --round (nothing sent)",
        )
    if now >= close:
        raise CliError(
            EXIT_REFUSED,
            f"round {round_} closed for submissions at {utc(close)} (the chain's time is {utc(now)}): a commitment "
            "made now would count as late (nothing sent)",
        )
    if (raw, round_) in seen:
        raise CliError(EXIT_USAGE, f"model {label} round {round_} is listed twice: commit it once")
    seen.add((raw, round_))
    earlier = commitment_events(dep, log, raw, round_)[0].get(round_)
    if earlier:
        raise CliError(
            EXIT_REFUSED,
            f"model {label} already has a commitment for round {round_} (0x{earlier['hash'].hex()}, "
            f"{utc(earlier['time'])}); "
            "only the first one counts, so another would be ignored (`backing submission verify` checks a file "
            "against it; nothing sent)",
        )
    return close


@handler
def cmd_commit(args) -> int:
    if args.batch:
        if args.file or args.model or args.round is not None:
            raise CliError(EXIT_USAGE, "give FILE --model --round, or --batch LIST, not both")
        entries = _batch_entries(args.batch)
    else:
        if not args.file or not args.model or args.round is None:
            raise CliError(EXIT_USAGE, "give FILE --model UUID --round N (or --batch LIST)")
        entries = [
            {
                "file": args.file,
                "model": args.model,
                "round": args.round,
                "submission_id": args.submission_id,
                "submission_hash": args.submission_hash,
            }
        ]
    prepared = []
    for entry in entries:
        digest, rows = file_hash(entry["file"])
        raw = model_id(entry["model"])
        submission_id = _bytes32("--submission-id", entry["submission_id"], uuid_ok=True)
        submission_hash = _bytes32("--submission-hash", entry["submission_hash"])
        prepared.append((entry, raw, digest, rows, (raw, entry["round"], digest, submission_id, submission_hash)))
    dep = load_deployment(args)
    log = submission_log(dep)
    now = chain_now(dep.w3)
    account = sender(args, dep.w3, dep.chain_id)
    words = []
    seen = set()
    for entry, raw, digest, rows, commitment in prepared:
        close = _check_commitment_counts(dep, log, raw, entry, account.address, now, seen)
        deadline = f"deadline {utc(close)}, {close - now} s from now"
        text = (
            f"model {model_label(raw)}, round {entry['round']}, predictions 0x{digest.hex()} ({rows} rows); {deadline}"
        )
        if commitment[3] != ZERO32 or commitment[4] != ZERO32:
            text += f"; Numerai submission id 0x{commitment[3].hex()}, hash 0x{commitment[4].hex()}"
        words.append(text)

    def outcome(receipt):
        return "; ".join(
            f"committed round {e['round']} of model {model_label(raw)}: 0x{digest.hex()}"
            for e, raw, digest, _, _ in prepared
        )

    if len(prepared) == 1:
        call = Call("SubmissionLog", "commit", (prepared[0][4],), log, words[0], outcome=outcome, kind="SubmissionLog")
    else:
        listed = "".join(f"\n       {i}. {w}" for i, w in enumerate(words, 1))
        call = Call(
            "SubmissionLog",
            "commitMany",
            ([p[4] for p in prepared],),
            log,
            f"{len(prepared)} commitments:{listed}\n    ",
            outcome=outcome,
            kind="SubmissionLog",
        )
    title = "Commit a round's predictions:" if len(prepared) == 1 else f"Commit {len(prepared)} predictions files:"
    account.run([call], title)
    return 0


@handler
def cmd_agent(args) -> int:
    dep = load_deployment(args)
    log = submission_log(dep)
    agent = ZERO if args.remove else args.address
    if not args.remove and (not agent or not dep.w3.is_address(agent)):
        raise CliError(EXIT_USAGE, "give the agent's ADDRESS, or --remove")
    agent = dep.w3.to_checksum_address(agent)
    words = "remove your agent" if args.remove else f"{agent} may commit for every model registered to you"
    call = Call("SubmissionLog", "setAgent", (agent,), log, words, outcome=lambda r: "agent set", kind="SubmissionLog")
    sender(args, dep.w3, dep.chain_id).run([call], "Name the key that commits for your models:")
    return 0


@handler
def cmd_verify(args) -> int:
    digest, rows = file_hash(args.file)
    raw = model_id(args.model)
    dep = load_deployment(args)
    log = submission_log(dep)
    registered_modeller(dep, raw, args.model)
    counted, ignored = commitment_events(dep, log, raw, args.round)
    found = counted.get(args.round)
    close = dep.oracle.functions.roundCloseTime(args.round).call()
    verdict = classify(
        digest, found["hash"] if found else None, found["time"] if found else None, close, chain_now(dep.w3)
    )
    data = {
        "model": model_label(raw),
        "round": args.round,
        "outcome": verdict.outcome.value,
        "words": verdict.words,
        "file_hash": "0x" + digest.hex(),
        "rows": rows,
        "close_time": close or None,
    }
    if found:
        data.update(
            {
                "committed_hash": "0x" + found["hash"].hex(),
                "committer": found["committer"],
                "committed_at": found["time"],
                "block": found["block"],
                "tx": found["tx"],
                "submission_id": "0x" + found["submission_id"].hex() if found["submission_id"] != ZERO32 else None,
                "submission_hash": "0x" + found["submission_hash"].hex()
                if found["submission_hash"] != ZERO32
                else None,
            }
        )
    data["ignored"] = [
        {"hash": "0x" + c["hash"].hex(), "committer": c["committer"], "block": c["block"], "tx": c["tx"], "why": why}
        for c, why in ignored
    ]
    if args.json:
        print_json(data)
        return 0
    print(f"{verdict.outcome.value}: {verdict.words}")
    print(f"  model {data['model']}, round {args.round}")
    print(f"  file       0x{digest.hex()} ({rows} rows, canonical form)")
    if found:
        print(
            f"  committed  {data['committed_hash']} by {found['committer']} at {utc(found['time'])} "
            f"(block {found['block']})"
        )
        if data["submission_id"] or data["submission_hash"]:
            print(f"  Numerai    submission id {data['submission_id']}, hash {data['submission_hash']}")
    print(f"  deadline   {utc(close) if close else 'not announced'}")
    for c in data["ignored"]:
        print(f"  ignored    {c['hash']} by {c['committer']} (block {c['block']}): {c['why']}")
    return 0


def numerai_metrics(model: str, url: str | None = None) -> tuple[dict[str, dict[int, float]], str | None]:
    """{score name: {round: value of the latest day}} from Numerai's public per-round scores of `model` (its
    UUID); (empty, the problem in words) when Numerai cannot be asked. `url`: another endpoint (tests)."""
    from oracle.sources.numerai import NumeraiSource

    try:
        rows = NumeraiSource(url, timeout=15, attempts=1).api.submission_scores(model)
    except Exception as error:  # noqa: BLE001 -- numerapi raises many kinds; the report says it could not ask
        return {}, f"Numerai's per-round scores could not be read ({str(error).splitlines()[0][:120]})"
    latest: dict[tuple[str, int], tuple[int, float]] = {}
    for row in rows or []:
        try:
            key = (str(row["displayName"]), int(row["roundNumber"]))
            day, value = int(row.get("day") or 0), float(row["value"])
        except (KeyError, TypeError, ValueError):
            continue
        if key not in latest or day >= latest[key][0]:
            latest[key] = (day, value)
    metrics: dict[str, dict[int, float]] = {}
    for (name, round_), (_, value) in latest.items():
        metrics.setdefault(name, {})[round_] = value
    return metrics, None


#: The most a revealed file fetched from a URL may weigh (a round's predictions are a few MB).
MAX_REVEALED_BYTES = 512 * 2**20


def download_revealed(urls: list[str], folder: Path) -> None:
    """Fetch each revealed predictions file into `folder` under the last part of its URL's path, which names its
    round as in a folder (``.../round-612.csv``). Bad URLs and failed downloads become exit code 2 in words."""
    from urllib.parse import unquote, urlparse

    import requests

    for url in urls:
        parsed = urlparse(url)
        name = Path(unquote(parsed.path)).name
        if parsed.scheme not in ("http", "https") or not name:
            raise CliError(
                EXIT_USAGE,
                f"--revealed-url {url}: give an http(s) URL ending in the file's name, which carries its round "
                "(e.g. https://example.org/round-612.csv)",
            )
        target = folder / name
        if target.exists():
            raise CliError(EXIT_USAGE, f"--revealed-url: two URLs end in {name}: each round's file needs its own name")
        try:
            with requests.get(url, stream=True, timeout=30) as answer:
                answer.raise_for_status()
                size = 0
                with target.open("wb") as out:
                    for chunk in answer.iter_content(1 << 20):
                        size += len(chunk)
                        if size > MAX_REVEALED_BYTES:
                            raise CliError(
                                EXIT_USAGE, f"--revealed-url {url}: larger than {MAX_REVEALED_BYTES >> 20} MiB"
                            )
                        out.write(chunk)
        except requests.RequestException as error:
            reason = str(error).splitlines()[0][:160]
            raise CliError(EXIT_USAGE, f"--revealed-url {url} could not be fetched ({reason})") from None


@handler
def cmd_consistency(args) -> int:
    """`backing consistency`: the revealed files from a folder or URLs (fetched to a temporary folder)."""
    import tempfile

    if args.revealed and args.revealed_url:
        raise CliError(EXIT_USAGE, "give --revealed DIR or --revealed-url URL..., not both")
    if not args.revealed_url:
        return _consistency(args)
    with tempfile.TemporaryDirectory(prefix="backing-revealed-") as folder:
        download_revealed(args.revealed_url, Path(folder))
        args.revealed, args.revealed_where = folder, f"{len(args.revealed_url)} URL(s)"
        return _consistency(args)


def _consistency(args) -> int:
    raw = model_id(args.model)
    data: dict = {"model": model_label(raw)}
    lines: list[str] = [f"model {data['model']}"]
    if args.revealed:
        try:
            files = revealed_files(args.revealed)
            by_round = {r: read_predictions(path) for r, path in files.items()}
        except PredictionsError as error:
            raise CliError(EXIT_USAGE, str(error)) from None
        pairs = round_pairs(by_round, args.min_correlation, args.min_shared)
        data["revealed_rounds"] = sorted(by_round)
        data["pairs"] = [
            {
                "previous": p.previous,
                "round": p.round,
                "shared_ids": p.shared,
                "correlation": p.correlation,
                "flagged": p.flagged,
                "words": p.words,
            }
            for p in pairs
        ]
        flagged = [p for p in pairs if p.flagged]
        lines.append(
            f"  revealed files    {len(by_round)} rounds ({', '.join(map(str, sorted(by_round))) or 'none'}) in "
            f"{getattr(args, 'revealed_where', None) or args.revealed}; {len(flagged)} flagged jump(s)"
        )
        for p in pairs:
            lines.append(
                f"    {p.previous} -> {p.round}: {p.shared} shared ids, {p.words}{'  << FLAGGED' if p.flagged else ''}"
            )
    if args.numerai:
        metrics, problem = numerai_metrics(model_label(raw), args.numerai_url)
        data["numerai"] = {"problem": problem, "breaks": {}}
        if problem:
            lines.append(f"  Numerai scores    {problem}")
        for name, series in sorted(metrics.items()):
            breaks = metric_breaks(series)
            data["numerai"]["breaks"][name] = [{"round": r, "value": v, "median_before": m} for r, v, m in breaks]
            text = ", ".join(f"round {r} ({v:+.4f} vs {m:+.4f})" for r, v, m in breaks) or "no break"
            lines.append(f"  Numerai {name:<10} {len(series)} rounds: {text}")
    dep = load_deployment(args)
    registered_modeller(dep, raw, args.model)
    if dep.manifest.address("SubmissionLog"):
        report = commitment_report(dep, submission_log(dep), raw, args.from_round)
        record, committed, closes = report.record, report.counted, report.closes
        data["commitments"] = record.as_dict() if record else None
        data["commitments_expected"] = report.expected
        lines.append(f"  commitments       {record.summary()}" if record else "  commitments       none recorded")
        lines.append(f"  promise           {expectation_words(data['commitments_expected'])}")
        if args.revealed and committed:
            checked = {}
            for r, path in revealed_files(args.revealed).items():
                digest, _ = file_hash(path)
                c = committed.get(r)
                checked[r] = classify(
                    digest, c["hash"] if c else None, c["time"] if c else None, closes.get(r, 0), chain_now(dep.w3)
                ).outcome.value
            data["revealed_vs_commitments"] = checked
            data["committed_not_revealed"] = sorted(set(committed) - set(checked))
            bad = {r: o for r, o in checked.items() if o != "match"}
            lines.append(
                f"  revealed files vs commitments: {len(checked) - len(bad)} match"
                + ("; " + ", ".join(f"round {r} {o}" for r, o in sorted(bad.items())) if bad else "")
                + f"; {len(data['committed_not_revealed'])} committed round(s) not revealed"
            )
    else:
        data["commitments"] = None
        lines.append("  commitments       this deployment has no SubmissionLog")
    if args.json:
        print_json(data)
    else:
        print("\n".join(lines))
    return 0


def add_parsers(commands) -> None:
    submission = commands.add_parser(
        "submission", help="commit each round's predictions on chain, and verify revealed files against them"
    )
    s = submission.add_subparsers(dest="submission_command", metavar="ACTION", required=True)
    p = s.add_parser(
        "hash",
        help="the canonical SHA-256 of a predictions file (offline)",
        description="Print the SHA-256 of a predictions file's canonical form (ids sorted, 6 decimals; "
        "docs/modeller.md). Offline.",
        epilog="exit codes: 0 ok, 2 bad input",
    )
    p.add_argument("file", metavar="FILE", help="predictions, CSV or parquet (id + prediction columns)")
    p.add_argument("--canonical-out", metavar="FILE", help="also write the canonical form (check it with sha256sum)")
    p.set_defaults(handler=handler(cmd_hash), now=None)

    p = command_parser(
        s, "commit", "commit a round's predictions hash for your model, before the round closes", cmd_commit
    )
    p.add_argument(
        "file", nargs="?", metavar="FILE", help="the predictions file you submit to Numerai (CSV or parquet)"
    )
    p.add_argument("--model", metavar="UUID", help="the Numerai model id")
    p.add_argument("--round", type=int, metavar="N", help="the round the predictions are for")
    p.add_argument(
        "--batch",
        metavar="LIST",
        help="commit many in one transaction: a CSV with the header file,model,round[,submission_id,"
        "submission_hash] (cheaper per commitment: bench/submissions.md)",
    )
    p.add_argument("--submission-id", metavar="UUID", help="Numerai's submission id, recorded in the event")
    p.add_argument("--submission-hash", metavar="HEX", help="Numerai's submission hash, recorded in the event")

    p = command_parser(s, "agent", "name the one key that may commit for all your models (or --remove it)", cmd_agent)
    p.add_argument("address", nargs="?", metavar="ADDRESS")
    p.add_argument("--remove", action="store_true", help="remove the agent")

    p = command_parser(
        s,
        "verify",
        "check a revealed predictions file against the commitment",
        cmd_verify,
        sending=False,
        json_out=True,
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--model", required=True, metavar="UUID")
    p.add_argument("--round", required=True, type=int, metavar="N")

    p = commands.add_parser(
        "consistency",
        help="a model's consistency report: revealed rounds compared, Numerai score breaks, commitments",
        description="Does the model look like the same model round after round? Rank correlation of consecutive "
        "revealed rounds on shared ids (--revealed DIR: files named with their round, e.g. round-612.csv), breaks "
        "in Numerai's public per-round scores (--numerai), and the commitment record (committed, late, missed).",
        epilog=EXIT_EPILOG,
    )
    add_node(p)
    add_json(p)
    p.add_argument("model", metavar="MODEL_UUID")
    p.add_argument("--revealed", metavar="DIR", help="a folder of revealed predictions files, one per round")
    p.add_argument(
        "--revealed-url",
        nargs="+",
        metavar="URL",
        help="the revealed files where the modeller publishes them (http/https), each URL ending in a name that "
        "carries its round (…/round-612.csv)",
    )
    p.add_argument(
        "--min-correlation",
        type=float,
        default=DEFAULT_MIN_CORRELATION,
        metavar="X",
        help=f"flag consecutive rounds whose rank correlation is below X (default {DEFAULT_MIN_CORRELATION})",
    )
    p.add_argument(
        "--min-shared",
        type=int,
        default=DEFAULT_MIN_SHARED,
        metavar="N",
        help=f"judge a pair only with at least N shared ids (default {DEFAULT_MIN_SHARED})",
    )
    p.add_argument("--from-round", type=int, metavar="N", help="count the commitment record from round N")
    p.add_argument("--numerai", action="store_true", help="also read Numerai's public per-round scores (numerapi)")
    p.add_argument("--numerai-url", metavar="URL", help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_consistency, now=None)

"""The oracle service: Numerai's resolved rounds to signed ScoreOracle reports, relayed with web3.

One run (``OracleService.run_once``):

1. **Announce** the rounds ``source.schedule(currentRound)`` lists after the latest announced one, with their
   submission deadlines (on the very first announcement only the latest open round: earlier rounds need no
   announcement to be posted).
2. **Collect** each registered model's resolved rounds after its ``lastPostedRound`` (models from the oracle's
   ``ModelRegistered`` events, or the configured list). A model whose source fails or returns something the
   contract would refuse is skipped with one log line; the others go on. Rounds not announced yet wait.
3. **Post** every model's reports in ``postReports`` batches of at most ``max_batch``, each signed by a quorum:
   the local keys, plus co-signers through a shared signature directory (``oracle.exchange``).
4. **Finalize** (``finalizeMany``) the models whose oldest pending round's challenge window is over.
5. **Attest** (with ``attest``) models whose owner's Numerai profile proves the registered modeller's address.

Idempotency: the chain decides. Each batch is rebuilt from ``lastPostedRound`` read just before signing; the
contract refuses any round that is not a model's next (``RoundNotNext``), which the service reads as "someone
else posted", so it re-reads and continues. The SQLite store (``oracle.store``) records signed/sent/posted per
round and every transaction's nonce; its lease keeps two instances on one database from sending at once.

Transactions: ``oracle.tx.TxSender``. Logs: ``oracle.log``. Errors and exit codes: ``oracle.errors``.

Exit codes: see ``oracle.errors``.
"""

from __future__ import annotations

import decimal
import json
import os
import socket
import time
import traceback
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass

from oracle import typed_data as td
from oracle.abi import RevertDecoder
from oracle.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_RPC,
    EXIT_SOURCE,
    EXIT_USAGE,
    NETWORK_ERRORS,
    ChainRejected,
    ContractLogicError,
    LeaseLost,
    QuorumMissing,
    RpcError,
    ServiceError,
    SourceError,
    Web3RPCError,
)
from oracle.exchange import SignatureDirectory, Statement
from oracle.health import Health
from oracle.log import JsonLog
from oracle.model import report_json
from oracle.store import ProgressStore
from oracle.tx import TxSender
from oracle.typed_data import Report
from oracle.units import fixed_decimal as fixed_to_decimal_string  # an exact decimal of wei / 1e18
from oracle.units import model_uuid as uuid_from_model_id  # the Numerai UUID a bytes32 model id encodes
from oracle.validate import ZERO32, check_report_bounds

# ============================================================================================ the service


@dataclass
class ServiceConfig:
    models: list[str] | None = None  # Numerai model UUIDs; None: every model registered on-chain
    max_batch: int = 50  # reports per postReports transaction
    max_announce: int = 64  # rounds per announceRounds transaction
    deadline_seconds: int = 3600  # signatures expire this long after the chain's latest block
    signature_dir: str | None = None  # shared directory for co-signers (oracle.exchange)
    signature_timeout: float = 60.0  # how long the submitter waits for co-signatures
    signature_poll: float = 0.5
    attest: bool = False
    max_proposals: int = 20  # proposals a co-signer checks per pass (each costs source queries)
    from_block: int = 0  # where to start looking for ModelRegistered events
    finalize_max_rounds: int = 500
    lease_ttl: float = 900.0
    confirmations: int = 0  # blocks on top of a report's block before it counts as posted
    log_range: int = 10_000  # blocks per eth_getLogs request (public RPCs limit the range)
    status_file: str | None = None  # where the health snapshot is written after every pass
    stuck_after: float | None = None  # seconds before a pending transaction is re-sent (default receipt_timeout)
    receipt_timeout: float = 120.0
    max_resends: int = 3
    gas_margin: float = 1.3


@dataclass(frozen=True)
class ModelEntry:
    model_id: bytes
    uuid: str | None  # None when the id is not a Numerai UUID (bytes 16..31 not zero)
    modeller: str


#: Tells this process from an earlier one with the same PID on the same host (a restarted container's PID 1).
PROCESS_TOKEN = uuidlib.uuid4().hex[:8]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class OracleService:
    """One oracle operator's process. With a `sender` it relays (the submitter); without one but with a
    signature directory it co-signs what the submitter proposes (`cosign_once`)."""

    def __init__(
        self,
        w3,
        oracle_address: str,
        abi: list,
        source,
        keys,
        sender=None,
        store: ProgressStore | None = None,
        config: ServiceConfig | None = None,
        log: JsonLog | None = None,
        hooks: dict | None = None,
        db_path: str | None = None,
    ):
        self.w3, self.source, self.keys = w3, source, list(keys)
        self.oracle = w3.eth.contract(address=w3.to_checksum_address(oracle_address), abi=abi)
        self.config = config or ServiceConfig()
        self.log = log or JsonLog()
        self.hooks = hooks or {}
        self.decoder = RevertDecoder(abi)
        self.sender_account = sender
        self._store, self._db_path = store, db_path
        self.directory = SignatureDirectory(self.config.signature_dir) if self.config.signature_dir else None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{PROCESS_TOKEN}:{uuidlib.uuid4().hex[:8]}"
        self.code = EXIT_OK
        self.chain_id = None
        self.refused: dict[bytes, str] = {}  # proposals this co-signer refused (digest -> reason), not re-checked
        self.health = Health("sender" if sender is not None else "cosigner", self.config.status_file)
        self.log.observers.append(self.health.observe)
        if hasattr(source, "history"):  # sources that can tell "empty answer" from "missed rounds" ask us
            source.history = self.score_history

    # ------------------------------------------------------------------ plumbing
    def _fail(self, code: int):
        self.code = max(self.code, code)

    def _load_chain(self):
        """Chain id, the oracle's fixed parameters and its current signer set (read on every run: the signer
        set can change through the timelock)."""
        c = self.oracle.functions
        self.chain_id = self.w3.eth.chain_id
        self.domain = td.Domain(self.chain_id, self.oracle.address)
        self.tournament = c.tournament().call()
        self.quorum = c.quorum().call()
        self.signer_set = {a.lower() for a in c.signers().call()}
        self.max_clip = c.maxClip().call()
        self.max_multiplier = c.maxMultiplier().call()
        self.min_round_spacing = c.minRoundSpacing().call()
        self.local_signers = [k for k in self.keys if k.address.lower() in self.signer_set]
        for key in self.keys:
            if key.address.lower() not in self.signer_set:
                self.log("key_not_signer", level="warning", address=key.address)
        if self._store is None and self._db_path is not None:
            self._store = ProgressStore(self._db_path, self.chain_id, self.oracle.address)
        self.store = self._store
        if self.sender_account is not None:
            self.sender = TxSender(
                self.w3,
                self.sender_account,
                self.chain_id,
                self.decoder,
                self.log,
                self.store,
                gas_margin=self.config.gas_margin,
                receipt_timeout=self.config.receipt_timeout,
                max_resends=self.config.max_resends,
            )

    def chain_time(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def _deadline(self) -> int:
        return self.chain_time() + self.config.deadline_seconds

    def _hook(self, name: str, *args):
        hook = self.hooks.get(name)
        if hook is not None:
            hook(self, *args)

    def _lease(self) -> bool:
        """Take or renew the sending lease. A holder on this host whose process is gone (killed mid-run) does
        not block the restart."""
        if self.store is None:
            return True
        held = self.store.lease_holder()
        if held is not None and held[0] != self.holder and held[1] > time.time():
            host, pid, token = (held[0].split(":") + ["", ""])[:3]
            # our host and PID but another process token: an earlier incarnation of this process (a restarted
            # container is PID 1 again), which cannot be running any more
            earlier_self = pid.isdigit() and int(pid) == os.getpid() and token != PROCESS_TOKEN
            if host == socket.gethostname() and pid.isdigit() and (earlier_self or not _pid_alive(int(pid))):
                self.log("lease_taken_over", level="warning", stale_holder=held[0])
                self.store.release_lease(held[0])
        return self.store.acquire_lease(self.holder, self.config.lease_ttl)

    def _renew(self) -> None:
        """Renew the lease before a step or a send, so a long pass never outlives it. Raises LeaseLost."""
        if not self._lease():
            raise LeaseLost("the sending lease was taken over")

    def reconcile_transactions(self):
        """Settle what the store says is still in flight from an earlier run (crashed, or the RPC failed while
        waiting): mined, reverted, dropped (its nonce used by another transaction), or still pending. A pending
        one older than `stuck_after` blocks every later nonce: it is re-sent with bumped fees. A mined one whose
        block was reorganised away goes back to pending."""
        if self.store is None:
            return
        address = self.sender_account.address
        latest_block = self.w3.eth.block_number
        for tx in self.store.txs_with_status("mined"):
            if tx.block is None or latest_block - tx.block > max(self.config.confirmations, 1) * 4:
                continue  # deep enough: no reorg reaches it
            if self.sender.receipt(tx.tx_hash) is None:
                self.store.set_tx_status(tx.tx_hash, "sent")
                self.store.set_tx_block(tx.tx_hash, None)
                self.log(
                    "tx_orphaned", level="warning", tx_hash=tx.tx_hash, nonce=tx.nonce, kind=tx.kind, block=tx.block
                )
        latest_nonce = None
        stuck_after = self.config.stuck_after if self.config.stuck_after is not None else self.config.receipt_timeout
        open_rows = []
        for tx in self.store.open_txs(address):
            receipt = self.sender.receipt(tx.tx_hash)
            if receipt is not None:
                status = "mined" if receipt["status"] == 1 else "reverted"
                self.store.set_tx_block(tx.tx_hash, receipt["blockNumber"])
            else:
                if latest_nonce is None:
                    latest_nonce = self.w3.eth.get_transaction_count(address, "latest")
                status = "dropped" if latest_nonce > tx.nonce else None
            if status is not None:
                self.store.set_tx_status(tx.tx_hash, status)
                self.log("tx_reconciled", tx_hash=tx.tx_hash, nonce=tx.nonce, kind=tx.kind, status=status)
                continue
            age = time.time() - tx.created_at
            self.log(
                "tx_pending", level="warning", tx_hash=tx.tx_hash, nonce=tx.nonce, kind=tx.kind, age_seconds=round(age)
            )
            open_rows.append(tx)
        # one re-send per stuck nonce (the newest copy), lowest nonce first: it is what blocks the others
        newest: dict[int, object] = {}
        for tx in open_rows:
            newest[tx.nonce] = tx
        for nonce in sorted(newest):
            tx = newest[nonce]
            if time.time() - tx.created_at >= stuck_after:
                self._renew()
                self.sender.resend_stuck(tx.tx_hash, tx.nonce, tx.kind, tx.digest)

    # ------------------------------------------------------------------ signatures
    def gather(self, statement: Statement, need: int | None = None) -> list[bytes]:
        """`need` (default: the quorum) signatures over the statement, ascending by signer: local keys first, then
        co-signers from the signature directory. Raises QuorumMissing."""
        need = self.quorum if need is None else need
        local = td.sign(self.domain, statement.primary, statement.message, self.local_signers)
        found = {address.lower(): sig for address, sig in local}
        if self.directory is not None and len(found) < need:
            digest = self.directory.propose(self.domain, statement)
            for address, sig in local:
                self.directory.add_signature(digest, address, sig)
            self.log("proposed", statement=statement.primary, digest=digest, have=len(found), need=need)
            found.update(
                self.directory.collect(
                    self.domain,
                    statement,
                    self.signer_set,
                    need,
                    self.config.signature_timeout,
                    self.config.signature_poll,
                )
            )
        if len(found) < need:
            raise QuorumMissing(len(found), need, statement.primary)
        chosen = sorted(found, key=lambda a: int(a, 16))[:need]
        return [found[a] for a in chosen]

    # ------------------------------------------------------------------ models
    def models(self) -> list[ModelEntry]:
        c = self.oracle.functions
        if self.config.models:
            entries = []
            for uuid in self.config.models:
                model_id = td.model_id_from_uuid(uuid)
                modeller = c.modelInfo(model_id).call()[0]
                if int(modeller, 16) == 0:
                    self.log("model_not_registered", level="warning", model=uuid)
                    continue
                entries.append(ModelEntry(model_id, str(uuidlib.UUID(uuid)), modeller))
            return entries
        return [
            ModelEntry(model_id, uuid_from_model_id(model_id), modeller) for model_id, modeller in self.registrations()
        ]

    def registrations(self) -> list[tuple[bytes, str]]:
        """(model id, modeller) of every ModelRegistered event, in order. Logs are scanned in ranges of at most
        `log_range` blocks (public RPCs refuse wide ones), from the block after the last one scanned (kept in
        the store), so a pass reads only the new blocks."""
        latest = self.w3.eth.block_number
        scanned = self.store.get_meta("registrations_scanned_to") if self.store is not None else None
        start = max(self.config.from_block, int(scanned) + 1 if scanned is not None else self.config.from_block)
        found: list[tuple[bytes, str]] = []
        step = max(1, self.config.log_range)
        for low in range(start, latest + 1, step):
            high = min(latest, low + step - 1)
            for event in self.oracle.events.ModelRegistered.get_logs(from_block=low, to_block=high):
                model_id, modeller = bytes(event["args"]["modelId"]), event["args"]["modeller"]
                if self.store is not None:
                    self.store.record_model(model_id, modeller, event["blockNumber"])
                found.append((model_id, modeller))
            if self.store is not None:
                self.store.set_meta("registrations_scanned_to", high)
        if self.store is not None:
            found = [(bytes.fromhex(m[2:]), modeller) for m, modeller in self.store.known_models()]
        unique: dict[bytes, str] = {}
        for model_id, modeller in found:
            unique.setdefault(model_id, modeller)
        return list(unique.items())

    # ------------------------------------------------------------------ 1. announce
    def planned_announcement(self) -> tuple[int, list[int]] | None:
        """(first round, close times) to announce now, or None. SourceError when the schedule is unusable."""
        c = self.oracle.functions
        current = c.currentRound().call()
        last_close = c.currentRoundCloseTime().call()
        schedule = [r for r in self.source.schedule(current) if r.round > current and r.close_time > 0]
        if not schedule:
            return None
        if current == 0:
            schedule = schedule[-1:]  # the first announcement: earlier rounds need none to be posted
        elif schedule[0].round != current + 1:
            raise SourceError(f"schedule starts at round {schedule[0].round}, round {current + 1} is next")
        closes, previous_round, previous_close = [], schedule[0].round - 1, last_close
        for info in schedule[: self.config.max_announce]:
            if info.round != previous_round + 1:
                raise SourceError(f"schedule skips from round {previous_round} to {info.round}")
            earliest = previous_close + self.min_round_spacing if previous_close else 1
            if info.close_time < earliest:
                raise SourceError(
                    f"round {info.round} closes at {info.close_time}, before {earliest} "
                    f"(minRoundSpacing after round {previous_round})"
                )
            closes.append(info.close_time)
            previous_round, previous_close = info.round, info.close_time
        return schedule[0].round, closes

    def announce(self):
        try:
            planned = self.planned_announcement()
        except SourceError as error:
            self.log("source_error", level="error", step="schedule", error=str(error))
            self._fail(EXIT_SOURCE)
            return
        if planned is None:
            return
        first, closes = planned
        deadline = self._deadline()
        statement = Statement("RoundAnnouncement", td.announcement_message(self.tournament, first, closes, deadline))
        signatures = self.gather(statement)
        self._renew()
        try:
            self.sender.send(
                self.oracle.functions.announceRounds(first, closes, deadline, signatures),
                "announce",
                statement.digest(self.domain),
            )
        except ChainRejected as error:
            if error.name == "RoundNotNextAnnouncement":  # another instance announced first: fine
                self.log("announce_race", level="warning", first_round=first, error=str(error))
                return
            raise
        self.log("announced", first_round=first, last_round=first + len(closes) - 1, close_times=closes)

    # ------------------------------------------------------------------ 2. collect
    def _reconcile(self, entry: ModelEntry, last_posted: int):
        """Bring the store's rows up to `last_posted` in line with the chain; log a differing on-chain report."""
        if self.store is None:
            return
        for row in self.store.reports(entry.model_id, statuses=("signed", "sent")):
            if row.round > last_posted or not self._deep_enough(row.tx_hash):
                continue
            onchain = bytes(self.oracle.functions.reportOf(entry.model_id, row.round).call()[0])
            status = self.store.record_on_chain(entry.model_id, row.round, onchain)
            if status == "posted_other":
                self.log(
                    "report_differs",
                    level="warning",
                    model=entry.uuid,
                    round=row.round,
                    ours=row.report_hash,
                    onchain=onchain,
                )

    def _deep_enough(self, tx_hash: str | None) -> bool:
        if self.config.confirmations <= 0 or tx_hash is None:
            return True
        receipt = self.sender.receipt(tx_hash) if self.sender_account is not None else None
        return receipt is None or self.w3.eth.block_number - receipt["blockNumber"] >= self.config.confirmations

    def model_reports(self, entry: ModelEntry, after_round: int, announced_through: int | None) -> list[Report]:
        """The model's reports after `after_round`, checked against the contract's bounds and the round ledger;
        raises SourceError (the whole model skipped). A source's malformed answer is a SourceError there;
        anything else it raises is a bug and propagates (logged with its traceback)."""
        results = self.source.resolved_results(entry.uuid, after_round)
        rounds = [r.round for r in results]
        if rounds != list(range(after_round + 1, after_round + 1 + len(rounds))):
            raise SourceError(f"rounds {rounds} are not consecutive from {after_round + 1}")
        reports = []
        for result in results:
            if td.model_id_from_uuid(str(result.model_id)) != entry.model_id:
                raise SourceError(f"round {result.round} belongs to model {result.model_id}")
            try:
                report = result.to_report(self.tournament)
            except (ValueError, ArithmeticError, decimal.InvalidOperation) as error:
                raise SourceError(f"round {result.round}: {type(error).__name__}: {error}") from None
            problem = check_report_bounds(report, self.tournament, self.max_clip, self.max_multiplier)
            if problem is not None:
                raise SourceError(f"round {result.round}: {problem}")
            reports.append(report)
        self._check_ledger(entry, after_round, reports)
        self.health.model(entry.uuid, resolved=reports[-1].round if reports else after_round)
        if announced_through is not None:
            waiting = [r.round for r in reports if r.round > announced_through]
            if waiting:
                self.log("rounds_not_announced", model=entry.uuid, rounds=waiting, current_round=announced_through)
            reports = [r for r in reports if r.round <= announced_through]
        return reports

    def _check_ledger(self, entry: ModelEntry, after_round: int, reports: list[Report]) -> None:
        """Record each resolved round the first time; refuse the model (SourceError) when a round's values
        differ from the ledger's or a round the ledger holds is now reported unresolved. Only an operator's
        `backing oracle ledger accept` makes a correction the ledger's value."""
        if self.store is None:
            return
        for report in reports:
            held = self.store.ledger_record(
                entry.model_id,
                report.round,
                report.struct_hash(),
                report.missed,
                json.dumps(report_json(report, entry.uuid), sort_keys=True),
            )
            if held is not None:
                self.log(
                    "source_correction",
                    level="error",
                    model=entry.uuid,
                    round=report.round,
                    ledger_hash=held,
                    new_hash=report.struct_hash(),
                )
                raise SourceError(
                    f"round {report.round}: resolved values changed since first seen (ledger {held}, now "
                    f"0x{report.struct_hash().hex()}); nothing signed for this model. Review, then run "
                    f"`backing oracle ledger accept --db DB --model {entry.uuid} --round {report.round}`"
                )
        reported = {r.round for r in reports}
        for round_ in self.store.ledger_rounds(entry.model_id, after_round):
            if round_ not in reported:
                self.store.ledger_unresolved(entry.model_id, round_)
                self.log("source_correction", level="error", model=entry.uuid, round=round_, new_hash="unresolved")
                raise SourceError(
                    f"round {round_}: was resolved (ledger), now reported unresolved; nothing signed "
                    f"for this model. Review, then run `backing oracle ledger accept --db DB --model "
                    f"{entry.uuid} --round {round_}`"
                )

    def score_history(self, uuid: str) -> set[int] | None:
        """The rounds this model is known to have been scored in (ledger, and the chain's latest posted rounds),
        or None when it never was. A source uses it to call an empty or truncated answer a source error."""
        model_id = td.model_id_from_uuid(uuid)
        scored = set(self.store.ledger_scored_rounds(model_id)) if self.store is not None else set()
        c = self.oracle.functions
        last = c.lastPostedRound(model_id).call()
        first = c.modelInfo(model_id).call()[2]
        on_chain = False
        for round_ in range(last, max(first, last - 7) - 1, -1):  # the latest 8 posted rounds at most
            if round_ <= 0:
                break
            if not c.reportOf(model_id, round_).call()[2]:
                on_chain = True
                break
        if not scored and not on_chain:
            return None
        return scored

    def collect(self, models: list[ModelEntry]) -> list[Report]:
        c = self.oracle.functions
        current = c.currentRound().call()
        reports = []
        for entry in models:
            if entry.uuid is None:
                self.log("model_not_numerai", level="warning", model_id=entry.model_id)
                continue
            last = c.lastPostedRound(entry.model_id).call()
            self._reconcile(entry, last)
            try:
                found = self.model_reports(entry, last, current)
            except SourceError as error:
                self.log("source_error", level="error", model=entry.uuid, after_round=last, error=str(error))
                self._fail(EXIT_SOURCE)
                continue
            reports.extend(found)
        return reports

    # ------------------------------------------------------------------ 3. post
    def _still_next(self, batch: list[Report]) -> list[Report]:
        """The batch without rounds already on-chain (re-read now); a model whose remaining rounds no longer
        start at its next round is left for the next run, which rebuilds it from the chain."""
        c = self.oracle.functions
        kept = []
        for model_id in dict.fromkeys(r.model_id for r in batch):
            last = c.lastPostedRound(model_id).call()
            mine = [r for r in batch if r.model_id == model_id and r.round > last]
            if mine and mine[0].round == last + 1:
                kept.extend(mine)
            elif mine:
                self.log(
                    "model_deferred",
                    level="warning",
                    model=uuid_from_model_id(model_id),
                    first_round=mine[0].round,
                    last_posted=last,
                )
        return kept

    def post(self, reports: list[Report]):
        size = max(1, self.config.max_batch)
        for start in range(0, len(reports), size):
            batch = reports[start : start + size]
            for attempt in range(4):
                batch = self._still_next(batch)
                if not batch:
                    break
                deadline = self._deadline()
                statement = Statement("ReportBatch", td.batch_message(batch, deadline))
                signatures = self.gather(statement)
                digest = statement.digest(self.domain)
                if self.store is not None:
                    self.store.record_signed(batch, digest)
                self._hook("after_signed", batch)
                self._renew()
                call = self.oracle.functions.postReports([r.as_tuple() for r in batch], deadline, signatures)

                def sent(tx_hash, nonce, batch=batch):
                    if self.store is not None:
                        self.store.record_sent(batch, tx_hash, nonce)
                    self._hook("after_sent", batch)

                try:
                    receipt = self.sender.send(call, "post", digest, on_sent=sent)
                except ChainRejected as error:
                    if error.name == "RoundNotNext":
                        # someone else posted some of these rounds: re-read and retry with what is left
                        self.log("post_race", level="warning", error=str(error), attempt=attempt)
                        continue
                    raise
                confirmed = self._confirmed(receipt)
                for report in batch:
                    if self.store is not None and confirmed:
                        self.store.record_on_chain(report.model_id, report.round, report.struct_hash())
                    self.log(
                        "posted" if confirmed else "mined_unconfirmed",
                        model=uuid_from_model_id(report.model_id),
                        round=report.round,
                        round_return=fixed_to_decimal_string(report.round_return()),
                    )
                break
            else:
                if batch:
                    self.log(
                        "post_gave_up",
                        level="error",
                        rounds=[r.round for r in batch],
                        error="RoundNotNext four times in a row: another sender keeps racing this one",
                    )
                    self._fail(EXIT_REJECTED)

    def _confirmed(self, receipt) -> bool:
        """Whether the receipt's block has `confirmations` blocks on top (then the rounds count as posted; else
        the next pass's reconcile marks them, once deep enough and still on-chain)."""
        if self.config.confirmations <= 0:
            return True
        return self.w3.eth.block_number - receipt["blockNumber"] >= self.config.confirmations

    # ------------------------------------------------------------------ 4. finalize
    def finalize(self, models: list[ModelEntry]):
        c = self.oracle.functions
        now = self.chain_time()
        ready = []
        for entry in models:
            last_final = c.modelInfo(entry.model_id).call()[3]
            last_posted = c.lastPostedRound(entry.model_id).call()
            if last_posted > last_final:
                final_at = c.reportOf(entry.model_id, last_final + 1).call()[3]
                if final_at <= now:
                    ready.append(entry)
        if not ready:
            return
        self._renew()
        self.sender.send(c.finalizeMany([e.model_id for e in ready], self.config.finalize_max_rounds), "finalize")
        for entry in ready:
            self.log("finalized", model=entry.uuid or entry.model_id, last_final=c.modelInfo(entry.model_id).call()[3])

    # ------------------------------------------------------------------ 5. attest
    def attestation_for(self, entry: ModelEntry) -> tuple[bool, bytes] | None:
        """(attested, evidence) the oracle should state for the model now, or None when nothing changes."""
        from oracle.attest import find_attestation

        _, text = self.source.profile_text(entry.uuid)
        evidence = find_attestation(text, entry.modeller, entry.uuid)
        found = evidence is not None
        if found == self.oracle.functions.isAttested(entry.model_id).call():
            return None
        return found, (bytes(evidence) if found else ZERO32)

    def attest(self, models: list[ModelEntry]):
        c = self.oracle.functions
        for entry in models:
            if entry.uuid is None:
                continue
            try:
                change = self.attestation_for(entry)
            except SourceError as error:
                self.log("source_error", level="error", step="attest", model=entry.uuid, error=str(error))
                self._fail(EXIT_SOURCE)
                continue
            if change is None:
                continue
            attested, evidence = change
            nonce = c.attestationNonce(entry.model_id).call()
            deadline = self._deadline()
            statement = Statement(
                "ModelAttestation",
                td.attestation_message(entry.model_id, entry.modeller, attested, evidence, nonce, deadline),
            )
            signatures = self.gather(statement)
            self._renew()
            self.sender.send(
                c.attestModel(entry.model_id, entry.modeller, attested, evidence, deadline, signatures),
                "attest",
                statement.digest(self.domain),
            )
            self.log("attested", model=entry.uuid, modeller=entry.modeller, attested=attested, evidence=evidence)

    # ------------------------------------------------------------------ one run
    def _step(self, name: str, action: Callable, *args):
        """Run one step (the lease renewed first); a rejected transaction or a missing quorum fails that step
        only."""
        self._renew()
        try:
            return action(*args)
        except (ChainRejected, QuorumMissing) as error:
            self.log("step_failed", level="error", step=name, error=str(error))
            self._fail(error.exit_code)
            return None

    def run_once(self) -> int:
        """One pass of announce, collect, post, finalize (and attest). @return the exit code."""
        self.code = EXIT_OK
        if self.sender_account is None:
            return self.cosign_once()
        holding = lease_held = False
        try:
            self._load_chain()
            if not self._lease():
                holder = self.store.lease_holder()
                self.log("lease_held", level="warning", holder=holder[0] if holder else None)
                lease_held = True
                return self.code
            holding = True
            self.reconcile_transactions()
            if self.directory is not None:
                self.directory.prune(self.chain_time())
                for name, reason in self.directory.rejected:
                    self.log("proposal_rejected", level="warning", file=name, reason=reason)
                self.directory.rejected.clear()
            self._step("announce", self.announce)
            models = self.models()
            reports = self.collect(models)
            if reports:
                self._step("post", self.post, reports)
            self._step("finalize", self.finalize, models)
            if self.config.attest:
                self._step("attest", self.attest, models)
            self._observe(models)
        except LeaseLost as error:
            self.log("lease_lost", level="warning", error=str(error))
            lease_held = True
        except RpcError as error:
            self.log("rpc_error", level="error", error=str(error))
            self._fail(EXIT_RPC)
        except NETWORK_ERRORS as error:
            self.log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
            self._fail(EXIT_RPC)
        except Web3RPCError as error:
            self.log("rpc_error", level="error", error=str(error))
            self._fail(EXIT_RPC)
        except ServiceError as error:
            self.log("error", level="error", error=str(error))
            self._fail(error.exit_code)
        except Exception as error:  # a bug: log it with the traceback, say so in the exit code
            self.log(
                "internal_error",
                level="error",
                error=f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc(),
            )
            self._fail(EXIT_INTERNAL)
        finally:
            if holding and self.store is not None:
                self.store.release_lease(self.holder)
            self._pass_done(lease_held)
        return self.code

    def _pass_done(self, lease_held: bool = False) -> None:
        self.log("run_done", exit_code=self.code, lease_held=lease_held)
        try:
            self.health.pass_done(self.code, lease_held)
        except OSError as error:  # the status file's directory is gone or full: say so, keep running
            self.log("status_file_error", level="error", error=str(error))

    def _observe(self, models: list[ModelEntry]) -> None:
        """Per-model health after a pass: posted and final rounds, open disputes, time before the fallback;
        and the open transactions' age."""
        c = self.oracle.functions
        now = self.chain_time()
        max_delay = c.maxReportDelay().call()
        announced = c.currentRound().call() > 0
        for entry in models:
            if entry.uuid is None:
                continue
            last_final = c.modelInfo(entry.model_id).call()[3]
            last_posted = c.lastPostedRound(entry.model_id).call()
            disputes = sum(
                1
                for r in range(max(last_final + 1, last_posted - 15), last_posted + 1)
                if int(c.reportOf(entry.model_id, r).call()[4], 16) != 0
            )
            fallback = None
            if announced:
                try:
                    fallback = c.roundDueTime(last_final + 1).call() + max_delay - now
                except ContractLogicError:
                    fallback = None
            if disputes:
                self.log("dispute_open", level="warning", model=entry.uuid, disputes=disputes)
            # the last round this process has seen resolved: this pass's answer, else the ledger (a co-signer
            # asks its source only when a proposal comes)
            seen = self.store.ledger_last_round(entry.model_id) if self.store is not None else None
            resolved = max(
                r for r in (self.health.models.get(entry.uuid, {}).get("resolved"), seen, last_posted) if r is not None
            )
            self.health.model(
                entry.uuid,
                resolved=resolved,
                posted=last_posted,
                final=last_final,
                disputes_open=disputes,
                fallback_seconds=fallback,
            )
        if self.store is not None:
            self.health.transactions(
                [
                    {
                        "tx_hash": tx.tx_hash,
                        "kind": tx.kind,
                        "nonce": tx.nonce,
                        "age_seconds": round(time.time() - tx.created_at),
                    }
                    for tx in self.store.open_txs()
                ]
            )

    # ------------------------------------------------------------------ planning (dry run)
    def planned_reports(self) -> list[tuple[ModelEntry, Report]]:
        """What a run would post now (announcement aside), without signing or sending anything."""
        self._load_chain()
        c = self.oracle.functions
        current = c.currentRound().call()
        planned = []
        for entry in self.models():
            if entry.uuid is None:
                continue
            try:
                reports = self.model_reports(entry, c.lastPostedRound(entry.model_id).call(), None)
            except SourceError as error:
                self.log("source_error", level="error", model=entry.uuid, error=str(error))
                self._fail(EXIT_SOURCE)
                continue
            for report in reports:
                if report.round > current:
                    self.log("round_not_announced", model=entry.uuid, round=report.round, current_round=current)
            planned.extend((entry, r) for r in reports)
        return planned

    # ------------------------------------------------------------------ co-signing
    def check_proposal(self, statement: Statement) -> str | None:
        """Why this process's keys must not sign the proposal, or None when it matches what it computes itself
        from its own source and the chain. "stale:" reasons are harmless (already on-chain)."""
        reason, _ = self.rebuild_proposal(statement)
        return reason

    def rebuild_proposal(self, statement: Statement) -> tuple[str | None, Statement | None]:
        """(why not to sign, None) or (None, the statement rebuilt from this signer's OWN computed objects).

        The keys sign only the rebuilt statement, and only when its digest equals the proposal's: what is signed
        is what was checked, whatever the file's JSON said."""
        message = statement.message
        now = self.chain_time()
        deadline = message["deadline"]
        if deadline < now:
            return "stale: deadline passed", None
        if deadline > now + 2 * self.config.deadline_seconds:
            return f"deadline {deadline} too far ahead (more than {2 * self.config.deadline_seconds} s)", None
        c = self.oracle.functions
        if statement.primary == "ReportBatch":
            reports = statement.reports()
            if not reports:
                return "empty batch", None
            current = c.currentRound().call()
            rebuilt: list[Report] = []
            for model_id in dict.fromkeys(r.model_id for r in reports):
                uuid = uuid_from_model_id(model_id)
                if uuid is None:
                    return f"model {model_id.hex()} is not a Numerai UUID", None
                mine = [r for r in reports if r.model_id == model_id]
                last = c.lastPostedRound(model_id).call()
                if mine[0].round <= last:
                    return f"stale: model {uuid} round {mine[0].round} already posted", None
                if [r.round for r in mine] != list(range(last + 1, last + 1 + len(mine))):
                    return f"model {uuid}: rounds {[r.round for r in mine]} do not follow {last}", None
                if mine[-1].round > current:
                    return f"model {uuid}: round {mine[-1].round} not announced", None
                entry = ModelEntry(model_id, uuid, "")
                try:
                    own = self.model_reports(entry, last, None)
                except SourceError as error:
                    return f"model {uuid}: own source failed: {error}", None
                if own[: len(mine)] != mine:
                    return f"model {uuid}: reports differ from this signer's source", None
                rebuilt.extend(own[: len(mine)])
            return None, Statement("ReportBatch", td.batch_message(rebuilt, deadline))
        if statement.primary == "RoundAnnouncement":
            if message["tournament"] != self.tournament:
                return f"tournament {message['tournament']}", None
            try:
                planned = self.planned_announcement()
            except SourceError as error:
                return f"own schedule failed: {error}", None
            if planned is None:
                return "stale: nothing to announce", None
            first, closes = planned
            proposed = list(message["closeTimes"])
            if message["firstRound"] != first or not proposed or proposed != closes[: len(proposed)]:
                return f"announcement differs from this signer's schedule ({first}, {closes})", None
            return None, Statement(
                "RoundAnnouncement", td.announcement_message(self.tournament, first, closes[: len(proposed)], deadline)
            )
        if statement.primary == "ModelAttestation":
            model_id = bytes(message["modelId"])
            uuid = uuid_from_model_id(model_id)
            modeller = c.modelInfo(model_id).call()[0]
            if uuid is None or int(modeller, 16) == 0 or modeller.lower() != message["modeller"].lower():
                return "not the registered model and modeller", None
            if message["nonce"] != c.attestationNonce(model_id).call():
                return "stale: nonce used", None
            try:
                change = self.attestation_for(ModelEntry(model_id, uuid, modeller))
            except SourceError as error:
                return f"own profile check failed: {error}", None
            if change is None or change != (message["attested"], message["evidence"]):
                return "attestation differs from this signer's profile check", None
            attested, evidence = change
            return None, Statement(
                "ModelAttestation",
                td.attestation_message(
                    model_id, modeller, attested, evidence, c.attestationNonce(model_id).call(), deadline
                ),
            )
        if statement.primary == "DisputeResolution":
            return self._rebuild_resolution(message, deadline)
        return f"{statement.primary} is not signed by the service", None

    def _rebuild_resolution(self, message: dict, deadline: int) -> tuple[str | None, Statement | None]:
        """A dispute resolution (``backing oracle resolve``) is signed only when the round is disputed now, the
        disputed report is the one on-chain, and the replacement is exactly what this signer's source says."""
        from oracle.exchange import report_from_message

        replacement = report_from_message(message["replacement"])
        uuid = uuid_from_model_id(replacement.model_id)
        if uuid is None:
            return f"model {replacement.model_id.hex()} is not a Numerai UUID", None
        onchain_hash, _, _, final_at, _, _ = self.oracle.functions.reportOf(
            replacement.model_id, replacement.round
        ).call()
        if final_at != 2**64 - 1:
            return f"stale: model {uuid} round {replacement.round} is not disputed", None
        if bytes(onchain_hash) != bytes(message["disputedReport"]):
            return f"model {uuid} round {replacement.round}: the disputed report is not the one on-chain", None
        try:
            own = self.model_reports(ModelEntry(replacement.model_id, uuid, ""), replacement.round - 1, None)
        except SourceError as error:
            return f"model {uuid}: own source failed: {error}", None
        mine = next((r for r in own if r.round == replacement.round), None)
        if mine is None:
            return f"model {uuid} round {replacement.round}: not resolved for this signer's source", None
        if mine != replacement:
            return f"model {uuid} round {replacement.round}: replacement differs from this signer's source", None
        return None, Statement("DisputeResolution", td.resolution_message(bytes(onchain_hash), mine, deadline))

    def cosign_once(self) -> int:
        """Sign the open proposals in the signature directory that this process's own source confirms: at most
        `max_proposals` checked per pass (oldest first), refusals remembered so a flood of junk files costs one
        look each. One bad proposal never stops the pass (it is moved aside or refused; see exchange)."""
        if self.directory is None:
            self.log("error", level="error", error="co-signing needs a signature directory")
            return EXIT_USAGE
        self.code = EXIT_OK
        try:
            self._load_chain()
            checked = 0
            for digest, statement, domain in self.directory.proposals():
                if domain != self.domain or digest in self.refused:
                    continue
                remembered = self.store.refusal(digest) if self.store is not None else None
                if remembered is not None:
                    self.refused[digest] = remembered
                    continue
                unsigned = [
                    k for k in self.local_signers if not self.directory.has_signature(domain, statement, k.address)
                ]
                if not unsigned:
                    continue
                if checked >= self.config.max_proposals:
                    self.log("proposals_capped", level="warning", limit=self.config.max_proposals)
                    break
                checked += 1
                self._cosign(digest, statement, unsigned)
            for name, reason in self.directory.rejected:
                self.log("proposal_rejected", level="warning", file=name, reason=reason)
            self.directory.rejected.clear()
            self._observe(self.models())
        except NETWORK_ERRORS as error:
            self.log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
            self._fail(EXIT_RPC)
        except Web3RPCError as error:
            self.log("rpc_error", level="error", error=str(error))
            self._fail(EXIT_RPC)
        except Exception as error:  # a bug: logged with its traceback; the daemon goes on with the next pass
            self.log(
                "internal_error",
                level="error",
                error=f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc(),
            )
            self._fail(EXIT_INTERNAL)
        self._pass_done()
        return self.code

    def _cosign(self, digest: bytes, statement: Statement, unsigned: list) -> None:
        """Check one proposal and sign its rebuilt statement, or refuse it (remembered unless only stale)."""
        try:
            reason, rebuilt = self.rebuild_proposal(statement)
        except (ChainRejected, ContractLogicError) as error:  # a view reverted on the proposal's values
            reason, rebuilt = f"the oracle refuses its values: {error}", None
        if reason is None and rebuilt.digest(self.domain) != digest:
            reason = "rebuilt statement has another digest than the proposal"
        if reason is not None:
            level = "info" if reason.startswith("stale:") else "warning"
            self.log("proposal_refused", level=level, digest=digest, statement=statement.primary, reason=reason)
            if not reason.startswith("stale:"):
                self.refused[digest] = reason
                if self.store is not None:
                    self.store.record_refusal(digest, reason)
            return
        for address, sig in td.sign(self.domain, rebuilt.primary, rebuilt.message, unsigned):
            self.directory.add_signature(digest, address, sig)
        self.log("cosigned", digest=digest, statement=statement.primary, signers=[k.address for k in unsigned])

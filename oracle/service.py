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

import os
import socket
import time
import traceback
import uuid as uuidlib
from dataclasses import dataclass
from typing import Callable

from oracle import typed_data as td
from oracle.abi import RevertDecoder
from oracle.errors import (EXIT_INTERNAL, EXIT_OK, EXIT_RPC, EXIT_SOURCE, EXIT_USAGE, NETWORK_ERRORS, ChainRejected,
                           LeaseLost, QuorumMissing, RpcError, ServiceError, SourceError, Web3RPCError)
from oracle.exchange import SignatureDirectory, Statement
from oracle.log import JsonLog
from oracle.model import report_json  # noqa: F401  (the dry run's JSON shape, next to the service that plans it)
from oracle.store import ProgressStore
from oracle.tx import TxSender
from oracle.typed_data import Report
from oracle.units import fixed_decimal as fixed_to_decimal_string  # an exact decimal of wei / 1e18
from oracle.units import model_uuid as uuid_from_model_id  # the Numerai UUID a bytes32 model id encodes
from oracle.validate import ZERO32, check_report_bounds


# ============================================================================================ the service


@dataclass
class ServiceConfig:
    models: list[str] | None = None       # Numerai model UUIDs; None: every model registered on-chain
    max_batch: int = 50                   # reports per postReports transaction
    max_announce: int = 64                # rounds per announceRounds transaction
    deadline_seconds: int = 3600          # signatures expire this long after the chain's latest block
    signature_dir: str | None = None      # shared directory for co-signers (oracle.exchange)
    signature_timeout: float = 60.0       # how long the submitter waits for co-signatures
    signature_poll: float = 0.5
    attest: bool = False
    from_block: int = 0                   # where to start looking for ModelRegistered events
    finalize_max_rounds: int = 500
    lease_ttl: float = 900.0
    receipt_timeout: float = 120.0
    max_resends: int = 3
    gas_margin: float = 1.3


@dataclass(frozen=True)
class ModelEntry:
    model_id: bytes
    uuid: str | None       # None when the id is not a Numerai UUID (bytes 16..31 not zero)
    modeller: str



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

    def __init__(self, w3, oracle_address: str, abi: list, source, keys, sender=None,
                 store: ProgressStore | None = None, config: ServiceConfig | None = None,
                 log: JsonLog | None = None, hooks: dict | None = None, db_path: str | None = None):
        self.w3, self.source, self.keys = w3, source, list(keys)
        self.oracle = w3.eth.contract(address=w3.to_checksum_address(oracle_address), abi=abi)
        self.config = config or ServiceConfig()
        self.log = log or JsonLog()
        self.hooks = hooks or {}
        self.decoder = RevertDecoder(abi)
        self.sender_account = sender
        self._store, self._db_path = store, db_path
        self.directory = SignatureDirectory(self.config.signature_dir) if self.config.signature_dir else None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"
        self.code = EXIT_OK
        self.chain_id = None

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
            self.sender = TxSender(self.w3, self.sender_account, self.chain_id, self.decoder, self.log, self.store,
                                   gas_margin=self.config.gas_margin, receipt_timeout=self.config.receipt_timeout,
                                   max_resends=self.config.max_resends)

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
            host, pid, _ = (held[0].split(":") + ["", ""])[:3]
            if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
                self.log("lease_taken_over", level="warning", stale_holder=held[0])
                self.store.release_lease(held[0])
        return self.store.acquire_lease(self.holder, self.config.lease_ttl)

    def reconcile_transactions(self):
        """Settle what the store says is still in flight from an earlier run (crashed, or the RPC failed while
        waiting): mined, reverted, dropped (its nonce used by another transaction), or still pending."""
        if self.store is None:
            return
        latest_nonce = None
        for tx in self.store.open_txs(self.sender_account.address):
            receipt = self.sender._receipt(tx.tx_hash)
            if receipt is not None:
                status = "mined" if receipt["status"] == 1 else "reverted"
            else:
                if latest_nonce is None:
                    latest_nonce = self.w3.eth.get_transaction_count(self.sender_account.address, "latest")
                status = "dropped" if latest_nonce > tx.nonce else None
            if status is None:
                self.log("tx_pending", level="warning", tx_hash=tx.tx_hash, nonce=tx.nonce, kind=tx.kind)
            else:
                self.store.set_tx_status(tx.tx_hash, status)
                self.log("tx_reconciled", tx_hash=tx.tx_hash, nonce=tx.nonce, kind=tx.kind, status=status)

    # ------------------------------------------------------------------ signatures
    def gather(self, statement: Statement) -> list[bytes]:
        """Quorum signatures over the statement, ascending by signer: local keys first, then co-signers from
        the signature directory. Raises QuorumMissing."""
        local = td.sign(self.domain, statement.primary, statement.message, self.local_signers)
        found = {address.lower(): sig for address, sig in local}
        if self.directory is not None and len(found) < self.quorum:
            digest = self.directory.propose(self.domain, statement)
            for address, sig in local:
                self.directory.add_signature(digest, address, sig)
            self.log("proposed", statement=statement.primary, digest=digest, have=len(found), need=self.quorum)
            found.update(self.directory.collect(self.domain, statement, self.signer_set, self.quorum,
                                                self.config.signature_timeout, self.config.signature_poll))
        if len(found) < self.quorum:
            raise QuorumMissing(len(found), self.quorum, statement.primary)
        chosen = sorted(found, key=lambda a: int(a, 16))[: self.quorum]
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
        events = self.oracle.events.ModelRegistered.get_logs(from_block=self.config.from_block)
        entries, seen = [], set()
        for event in events:
            model_id = bytes(event["args"]["modelId"])
            if model_id not in seen:
                seen.add(model_id)
                entries.append(ModelEntry(model_id, uuid_from_model_id(model_id), event["args"]["modeller"]))
        return entries

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
                raise SourceError(f"round {info.round} closes at {info.close_time}, before {earliest} "
                                  f"(minRoundSpacing after round {previous_round})")
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
        statement = Statement("RoundAnnouncement",
                              td.announcement_message(self.tournament, first, closes, deadline))
        signatures = self.gather(statement)
        try:
            self.sender.send(self.oracle.functions.announceRounds(first, closes, deadline, signatures),
                             "announce", statement.digest(self.domain))
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
            if row.round > last_posted:
                continue
            onchain = bytes(self.oracle.functions.reportOf(entry.model_id, row.round).call()[0])
            status = self.store.record_on_chain(entry.model_id, row.round, onchain)
            if status == "posted_other":
                self.log("report_differs", level="warning", model=entry.uuid, round=row.round,
                         ours=row.report_hash, onchain=onchain)

    def model_reports(self, entry: ModelEntry, after_round: int, announced_through: int | None) -> list[Report]:
        """The model's reports after `after_round`, checked; raises SourceError (whole model skipped)."""
        try:
            results = self.source.resolved_results(entry.uuid, after_round)
        except SourceError:
            raise
        except Exception as error:  # a source bug or unparseable answer is that model's problem, not the run's
            raise SourceError(f"{type(error).__name__}: {error}") from error
        rounds = [r.round for r in results]
        if rounds != list(range(after_round + 1, after_round + 1 + len(rounds))):
            raise SourceError(f"rounds {rounds} are not consecutive from {after_round + 1}")
        reports = []
        for result in results:
            if td.model_id_from_uuid(str(result.model_id)) != entry.model_id:
                raise SourceError(f"round {result.round} belongs to model {result.model_id}")
            try:
                report = result.to_report(self.tournament)
            except Exception as error:
                raise SourceError(f"round {result.round}: {type(error).__name__}: {error}") from error
            problem = check_report_bounds(report, self.tournament, self.max_clip, self.max_multiplier)
            if problem is not None:
                raise SourceError(f"round {result.round}: {problem}")
            reports.append(report)
        if announced_through is not None:
            waiting = [r.round for r in reports if r.round > announced_through]
            if waiting:
                self.log("rounds_not_announced", model=entry.uuid, rounds=waiting,
                         current_round=announced_through)
            reports = [r for r in reports if r.round <= announced_through]
        return reports

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
                self.log("model_deferred", level="warning", model=uuid_from_model_id(model_id),
                         first_round=mine[0].round, last_posted=last)
        return kept

    def post(self, reports: list[Report]):
        size = max(1, self.config.max_batch)
        for start in range(0, len(reports), size):
            batch = reports[start: start + size]
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
                if not self._lease():
                    raise LeaseLost("the sending lease was taken over")
                call = self.oracle.functions.postReports([r.as_tuple() for r in batch], deadline, signatures)

                def sent(tx_hash, nonce, batch=batch):
                    if self.store is not None:
                        self.store.record_sent(batch, tx_hash, nonce)
                    self._hook("after_sent", batch)

                try:
                    self.sender.send(call, "post", digest, on_sent=sent)
                except ChainRejected as error:
                    if error.name == "RoundNotNext":
                        # someone else posted some of these rounds: re-read and retry with what is left
                        self.log("post_race", level="warning", error=str(error), attempt=attempt)
                        continue
                    raise
                for report in batch:
                    if self.store is not None:
                        self.store.record_on_chain(report.model_id, report.round, report.struct_hash())
                    self.log("posted", model=uuid_from_model_id(report.model_id), round=report.round,
                             round_return=fixed_to_decimal_string(report.round_return()))
                break

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
        self.sender.send(c.finalizeMany([e.model_id for e in ready], self.config.finalize_max_rounds), "finalize")
        for entry in ready:
            self.log("finalized", model=entry.uuid or entry.model_id,
                     last_final=c.modelInfo(entry.model_id).call()[3])

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
            statement = Statement("ModelAttestation", td.attestation_message(
                entry.model_id, entry.modeller, attested, evidence, nonce, deadline))
            signatures = self.gather(statement)
            self.sender.send(c.attestModel(entry.model_id, entry.modeller, attested, evidence, deadline,
                                           signatures), "attest", statement.digest(self.domain))
            self.log("attested", model=entry.uuid, modeller=entry.modeller, attested=attested, evidence=evidence)

    # ------------------------------------------------------------------ one run
    def _step(self, name: str, action: Callable, *args):
        """Run one step; a rejected transaction or a missing quorum fails that step only."""
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
        holding = False
        try:
            self._load_chain()
            if not self._lease():
                holder = self.store.lease_holder()
                self.log("lease_held", holder=holder[0] if holder else None)
                return self.code
            holding = True
            self.reconcile_transactions()
            if self.directory is not None:
                self.directory.prune(self.chain_time())
            self._step("announce", self.announce)
            models = self.models()
            reports = self.collect(models)
            if reports:
                self._step("post", self.post, reports)
            self._step("finalize", self.finalize, models)
            if self.config.attest:
                self._step("attest", self.attest, models)
        except LeaseLost as error:
            self.log("lease_lost", level="warning", error=str(error))
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
            self.log("internal_error", level="error", error=f"{type(error).__name__}: {error}",
                     traceback=traceback.format_exc())
            self._fail(EXIT_INTERNAL)
        finally:
            if holding and self.store is not None:
                self.store.release_lease(self.holder)
        self.log("run_done", exit_code=self.code)
        return self.code

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
        message = statement.message
        now = self.chain_time()
        deadline = int(message.get("deadline", 0))
        if deadline < now:
            return "stale: deadline passed"
        if deadline > now + 2 * self.config.deadline_seconds:
            return f"deadline {deadline} too far ahead (more than {2 * self.config.deadline_seconds} s)"
        c = self.oracle.functions
        if statement.primary == "ReportBatch":
            reports = statement.reports()
            if not reports:
                return "empty batch"
            current = c.currentRound().call()
            for model_id in dict.fromkeys(r.model_id for r in reports):
                uuid = uuid_from_model_id(model_id)
                if uuid is None:
                    return f"model {model_id.hex()} is not a Numerai UUID"
                mine = [r for r in reports if r.model_id == model_id]
                last = c.lastPostedRound(model_id).call()
                if mine[0].round <= last:
                    return f"stale: model {uuid} round {mine[0].round} already posted"
                if [r.round for r in mine] != list(range(last + 1, last + 1 + len(mine))):
                    return f"model {uuid}: rounds {[r.round for r in mine]} do not follow {last}"
                if mine[-1].round > current:
                    return f"model {uuid}: round {mine[-1].round} not announced"
                entry = ModelEntry(model_id, uuid, "")
                try:
                    own = self.model_reports(entry, last, None)
                except SourceError as error:
                    return f"model {uuid}: own source failed: {error}"
                if own[: len(mine)] != mine:
                    return f"model {uuid}: reports differ from this signer's source"
            return None
        if statement.primary == "RoundAnnouncement":
            if message["tournament"] != self.tournament:
                return f"tournament {message['tournament']}"
            try:
                planned = self.planned_announcement()
            except SourceError as error:
                return f"own schedule failed: {error}"
            if planned is None:
                return "stale: nothing to announce"
            first, closes = planned
            proposed = list(message["closeTimes"])
            if message["firstRound"] != first or proposed != closes[: len(proposed)]:
                return f"announcement differs from this signer's schedule ({first}, {closes})"
            return None
        if statement.primary == "ModelAttestation":
            model_id = bytes(message["modelId"])
            uuid = uuid_from_model_id(model_id)
            modeller = c.modelInfo(model_id).call()[0]
            if uuid is None or int(modeller, 16) == 0 or modeller.lower() != message["modeller"].lower():
                return "not the registered model and modeller"
            if message["nonce"] != c.attestationNonce(model_id).call():
                return "stale: nonce used"
            try:
                change = self.attestation_for(ModelEntry(model_id, uuid, modeller))
            except SourceError as error:
                return f"own profile check failed: {error}"
            if change is None or change != (bool(message["attested"]), bytes(message["evidence"])):
                return "attestation differs from this signer's profile check"
            return None
        return f"{statement.primary} is not signed by the service"

    def cosign_once(self) -> int:
        """Sign every open proposal in the signature directory that this process's own source confirms."""
        if self.directory is None:
            self.log("error", level="error", error="co-signing needs a signature directory")
            return EXIT_USAGE
        try:
            self._load_chain()
            for digest, statement, domain in self.directory.proposals():
                if domain != self.domain:
                    continue
                unsigned = [k for k in self.local_signers if not self.directory.has_signature(digest, k.address)]
                if not unsigned:
                    continue
                reason = self.check_proposal(statement)
                if reason is not None:
                    level = "info" if reason.startswith("stale:") else "warning"
                    self.log("proposal_refused", level=level, digest=digest, statement=statement.primary,
                             reason=reason)
                    continue
                for address, sig in td.sign(self.domain, statement.primary, statement.message, unsigned):
                    self.directory.add_signature(digest, address, sig)
                self.log("cosigned", digest=digest, statement=statement.primary,
                         signers=[k.address for k in unsigned])
        except NETWORK_ERRORS as error:
            self.log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
            self._fail(EXIT_RPC)
        except Web3RPCError as error:
            self.log("rpc_error", level="error", error=str(error))
            self._fail(EXIT_RPC)
        return self.code

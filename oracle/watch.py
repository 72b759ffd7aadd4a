"""``backing oracle watch``: check every posted, not-yet-final report against Numerai and dispute a wrong one.

The challenge window is only worth something if someone looks. A watcher reads each registered model's pending
rounds (posted, not final) from the ScoreOracle, asks the same source ``run`` uses (Numerai, a file, synthetic)
what each round's report should be, and compares EIP-712 report hashes:

- **agrees**: the posted report is exactly the source's; nothing to do.
- **unresolved**: the source has no value for the round (not resolved yet for it, or it failed): never a reason to
  dispute; logged.
- **differs**: inside the challenge window it is disputed (the NMR bond approved, through zero as NMR requires,
  then ``dispute``); after it, too late: logged as an error for the operators.
- **disputed**: already under dispute; followed until ``DisputeResolved`` (the bond back, or forfeited when the
  resolution kept the report) or ``DisputeExpired``. A dispute nobody resolved within ``disputeTimeout`` blocks
  the model's finalization: the watcher calls ``expireDispute`` for it (anyone may).

``judge`` is the comparison alone (no chain, no source): the unit tests drive it with fake inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracle.actions import ERC20_ABI, Step, Transactor, bond_steps, nmr
from oracle.errors import (
    EXIT_BALANCE,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_RPC,
    EXIT_SOURCE,
    NETWORK_ERRORS,
    ContractLogicError,
    OperatorError,
    SourceError,
    Web3RPCError,
    duration,
    plain,
    when,
)
from oracle.log import JsonLog
from oracle.service import ModelEntry, OracleService
from oracle.typed_data import Report
from oracle.units import fixed_decimal

#: ScoreOracle's finalAt of a disputed report (type(uint64).max).
DISPUTED = 2**64 - 1
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class PendingRound:
    """A posted, not-final round as ``reportOf`` gives it."""

    round: int
    report_hash: bytes
    round_return: int
    final_at: int
    disputer: str = ZERO_ADDRESS

    @property
    def disputed(self) -> bool:
        return self.final_at == DISPUTED


@dataclass(frozen=True)
class Verdict:
    """What the watcher makes of one pending round. `kind`: agrees, unresolved, differs or disputed;
    `disputable`: differs and still inside its challenge window at `now`."""

    round: int
    kind: str
    onchain: PendingRound
    expected: Report | None
    disputable: bool = False
    reason: str = ""


def judge(pending: list[PendingRound], expected: dict[int, Report], now: int) -> list[Verdict]:
    """Compare each pending round with the source's report for it (`expected`: round -> Report; missing rounds
    are unresolved for the source). `now`: the chain's latest block time (a dispute mined at a later time than
    `final_at` is refused, so `now` must be strictly before it)."""
    verdicts = []
    for onchain in pending:
        mine = expected.get(onchain.round)
        if onchain.disputed:
            differs = mine is not None and mine.struct_hash() != onchain.report_hash
            verdicts.append(
                Verdict(
                    onchain.round,
                    "disputed",
                    onchain,
                    mine,
                    reason=(f"disputed by {onchain.disputer}" + ("; the source differs too" if differs else "")),
                )
            )
        elif mine is None:
            verdicts.append(
                Verdict(
                    onchain.round, "unresolved", onchain, None, reason="the source has no resolved value for this round"
                )
            )
        elif mine.struct_hash() == onchain.report_hash:
            verdicts.append(Verdict(onchain.round, "agrees", onchain, mine))
        elif now < onchain.final_at:
            verdicts.append(
                Verdict(
                    onchain.round,
                    "differs",
                    onchain,
                    mine,
                    disputable=True,
                    reason=f"{duration(onchain.final_at - now)} left in the challenge window",
                )
            )
        else:
            verdicts.append(
                Verdict(
                    onchain.round, "differs", onchain, mine, reason="the challenge window is over: too late to dispute"
                )
            )
    return verdicts


class Watcher:
    """One watcher process. `service` (an OracleService without a sender) reads the chain's models and the source
    exactly as ``run`` does; `account` (eth-account) disputes and pays the bond (a signer or an allowed watcher).

    With `yes` disputes are sent without asking; without it a terminal is asked, and without a terminal the
    dispute is not sent (exit 7) -- a daemon needs --yes. `dry_run`: judge and say, send nothing."""

    def __init__(
        self,
        service: OracleService,
        account=None,
        abi: list | None = None,
        out=None,
        yes: bool = False,
        dry_run: bool = False,
        log: JsonLog | None = None,
        from_block: int = 0,
        log_range: int = 10_000,
        say=None,
        expire_all: bool = False,
    ):
        self.service, self.account, self.abi = service, account, abi
        self.out, self.yes, self.dry_run = out, yes, dry_run
        self.log = log or service.log
        self.say = say or (lambda text: print(text, file=out, flush=True) if out is not None else None)
        self.from_block, self.log_range, self.expire_all = from_block, log_range, expire_all
        self.scanned: int | None = None  # last block whose dispute events were read (also kept in the store)
        self.code = EXIT_OK
        self.verdicts: list[tuple[ModelEntry, Verdict]] = []

    def _fail(self, code: int) -> None:
        self.code = max(self.code, code)

    @property
    def oracle(self):
        return self.service.oracle

    # ------------------------------------------------------------------ reading
    def pending(self, entry: ModelEntry) -> tuple[int, list[PendingRound]]:
        """(last final round, the pending rounds) of a model."""
        c = self.oracle.functions
        last_final = c.modelInfo(entry.model_id).call()[3]
        last_posted = c.lastPostedRound(entry.model_id).call()
        rounds = []
        for round_ in range(last_final + 1, last_posted + 1):
            report_hash, round_return, _missed, final_at, disputer, _bond = c.reportOf(entry.model_id, round_).call()
            rounds.append(PendingRound(round_, bytes(report_hash), round_return, final_at, disputer))
        return last_final, rounds

    def expected(self, entry: ModelEntry, last_final: int) -> dict[int, Report]:
        """The source's reports after the last final round (checked as ``run`` checks them). Raises SourceError."""
        return {r.round: r for r in self.service.model_reports(entry, last_final, None)}

    # ------------------------------------------------------------------ one pass
    def run_once(self) -> int:
        self.code = EXIT_OK
        self.verdicts = []
        try:
            self.service._load_chain()
            now = self.service.chain_time()
            for entry in self.service.models():
                if entry.uuid is None:
                    self.log("model_not_numerai", level="warning", model_id=entry.model_id)
                    continue
                self.check_model(entry, now)
            self.follow_events()
        except NETWORK_ERRORS as error:
            self.log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
            self._fail(EXIT_RPC)
        except Web3RPCError as error:
            self.log("rpc_error", level="error", error=str(error))
            self._fail(EXIT_RPC)
        except Exception as error:  # a bug: logged with its traceback, said in the exit code; the daemon goes on
            import traceback

            self.log(
                "internal_error",
                level="error",
                error=f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc(),
            )
            self._fail(EXIT_INTERNAL)
        self.log("watch_done", exit_code=self.code)
        try:
            self.service.health.pass_done(self.code)
        except OSError as error:  # the status file's directory is gone or full: say so, keep watching
            self.log("status_file_error", level="error", error=str(error))
        return self.code

    def check_model(self, entry: ModelEntry, now: int) -> None:
        last_final, pending = self.pending(entry)
        health = self.service.health
        health.model(
            entry.uuid,
            final=last_final,
            posted=last_final + len(pending),
            disputes_open=sum(p.disputed for p in pending),
            wrong_reports=0,
        )
        if not pending:
            return
        try:
            expected = self.expected(entry, last_final)
        except SourceError as error:
            self.log("source_error", level="error", model=entry.uuid, after_round=last_final, error=str(error))
            self._fail(EXIT_SOURCE)
            expected = {}
        wrong = 0  # differing reports left undisputed after this pass (too late, or the dispute not sent)
        for verdict in judge(pending, expected, now):
            self.verdicts.append((entry, verdict))
            disputed_now = self.act(entry, verdict)
            wrong += verdict.kind == "differs" and not disputed_now
        health.model(entry.uuid, wrong_reports=wrong)

    def act(self, entry: ModelEntry, verdict: Verdict) -> bool:
        """Log and act on one verdict. @return True when it disputed the round now."""
        onchain, mine = verdict.onchain, verdict.expected
        fields = {
            "model": entry.uuid,
            "round": verdict.round,
            "onchain_hash": onchain.report_hash,
            "onchain_return": fixed_decimal(onchain.round_return),
        }
        if mine is not None:
            fields.update(source_hash=mine.struct_hash(), source_return=fixed_decimal(mine.round_return()))
        if verdict.kind == "agrees":
            self.log("report_agrees", **fields)
        elif verdict.kind == "unresolved":
            self.log("report_unchecked", level="warning", reason=verdict.reason, **fields)
        elif verdict.kind == "disputed":
            self.log("dispute_open", level="warning", disputer=onchain.disputer, **fields)
            self.say(f"model {entry.uuid} round {verdict.round}: under dispute ({verdict.reason})")
            wrong = mine is not None and mine.struct_hash() != onchain.report_hash
            self.expire_if_overdue(entry, verdict.round, wrong)
        elif not verdict.disputable:
            self.log("report_differs_final", level="error", reason=verdict.reason, **fields)
            self.say(
                f"model {entry.uuid} round {verdict.round}: WRONG on-chain (return {fields['onchain_return']}, "
                f"the source says {fields['source_return']}) and {verdict.reason}"
            )
            self._fail(EXIT_REJECTED)
        else:
            self.log("report_differs", level="error", reason=verdict.reason, **fields)
            self.say(
                f"model {entry.uuid} round {verdict.round}: WRONG on-chain (return {fields['onchain_return']}, "
                f"the source says {fields['source_return']}); {verdict.reason}"
            )
            return self.dispute(entry, verdict.round)
        return False

    # ------------------------------------------------------------------ acting
    def _transactor(self) -> Transactor:
        return Transactor(self.service.w3, self.account, self.abi, out=self.out, yes=self.yes, dry_run=self.dry_run)

    def dispute(self, entry: ModelEntry, round_: int) -> bool:
        """Dispute the round, posting the bond. @return True when the dispute was sent and mined."""
        if self.account is None:
            self.log("would_dispute", model=entry.uuid, round=round_)
            self.say(f"  would dispute: `backing oracle dispute {entry.uuid} {round_}` (no --watcher-keystore)")
            return False
        try:
            steps = dispute_steps(self.service.w3, self.oracle, self.account.address, entry, round_)
            receipts = self._transactor().run(f"Dispute model {entry.uuid} round {round_}:", steps)
        except OperatorError as error:
            self.log("dispute_failed", level="error", model=entry.uuid, round=round_, error=str(error))
            self.say(f"  not disputed: {error}")
            self._fail(error.code)
            return False
        if receipts:
            self.log(
                "disputed",
                model=entry.uuid,
                round=round_,
                disputer=self.account.address,
                tx_hash=receipts[-1]["transactionHash"],
            )
        return bool(receipts)

    def expire_if_overdue(self, entry: ModelEntry, round_: int, wrong: bool = False) -> None:
        """Call expireDispute when the dispute has outlived disputeTimeout (the posted report then stands and the
        model can finalize again: an open dispute blocks its finalization and the agreements' fallback). Anyone
        may send it. When the source says the posted report is wrong (`wrong`), expiring would make the wrong value
        final: it is left to the dispute quorum (`backing oracle resolve`, still possible), unless `expire_all`."""
        call = self.oracle.functions.expireDispute(entry.model_id, round_)
        try:
            call.call({"from": self.account.address if self.account is not None else ZERO_ADDRESS})
        except ContractLogicError:
            return  # not overdue yet (DisputeTimeoutNotOver) or already settled
        if wrong and not self.expire_all:
            self.log("dispute_overdue_wrong_report", level="error", model=entry.uuid, round=round_)
            self.say(
                f"  overdue, and the posted report is wrong: resolve it (`backing oracle resolve {entry.uuid} "
                f"{round_}`); expiring it would make the wrong value final (--expire-all-disputes does)"
            )
            self._fail(EXIT_REJECTED)
            return
        if self.account is None:
            self.log("dispute_overdue", level="warning", model=entry.uuid, round=round_)
            self.say("  overdue: nobody resolved it within the dispute timeout; a watcher account can expire it")
            return
        step = Step(
            "ScoreOracle.expireDispute",
            call,
            f"model {entry.uuid} round {round_}: the dispute timed out; "
            f"the posted report stands, the bond is forfeited",
            outcome=lambda r: "dispute expired",
        )
        try:
            receipts = self._transactor().run(
                f"Expire the overdue dispute of model {entry.uuid} round {round_}:", [step]
            )
        except OperatorError as error:
            self.log("expire_failed", level="error", model=entry.uuid, round=round_, error=str(error))
            self._fail(error.code)
            return
        if receipts:
            self.log("dispute_expired_sent", model=entry.uuid, round=round_, tx_hash=receipts[0]["transactionHash"])

    # ------------------------------------------------------------------ following
    def follow_events(self) -> None:
        """Report every event of `FOLLOWED` (disputes ending, governance proposals) since the last pass (the first
        pass: from `from_block`, or where the store says the last watcher stopped)."""
        store = self.service.store
        latest = self.service.w3.eth.block_number
        start = self.from_block
        if self.scanned is not None:
            start = self.scanned + 1
        elif store is not None and store.get_meta("watch_scanned_to") is not None:
            start = int(store.get_meta("watch_scanned_to")) + 1
        events = self.oracle.events
        mine = self.account.address.lower() if self.account is not None else None
        step = max(1, self.log_range)
        for low in range(start, latest + 1, step):
            high = min(latest, low + step - 1)
            found = []
            for kind in FOLLOWED:
                if not hasattr(events, kind):  # an ABI from before the event existed
                    continue
                found += [
                    (e["blockNumber"], e["logIndex"], kind, e["args"])
                    for e in getattr(events, kind).get_logs(from_block=low, to_block=high)
                ]
            for _block, _index, kind, args in sorted(found, key=lambda f: (f[0], f[1])):
                self.report_event(kind, args, mine)
            self.scanned = high
            if store is not None:
                store.set_meta("watch_scanned_to", high)

    def report_event(self, kind: str, args, mine: str | None) -> None:
        from oracle.units import model_uuid

        if kind == "SignerSetProposed":
            self.log(
                "signer_set_proposed",
                level="warning",
                signers=list(args["signers"]),
                quorum=args["quorum"],
                dispute_quorum=args["disputeQuorum"],
                executable_at=args["executableAt"],
            )
            self.say(
                f"the owner proposed a new signer set ({len(args['signers'])} signers, quorum {args['quorum']}, "
                f"dispute quorum {args['disputeQuorum']}), executable from {when(args['executableAt'])}: check it "
                "(`backing oracle signers`)"
            )
            return
        model = model_uuid(bytes(args["modelId"])) or "0x" + bytes(args["modelId"]).hex()
        if kind == "ModellerChangeProposed":
            self.log(
                "modeller_change_proposed",
                level="warning",
                model=model,
                old=args["from"],
                new=args["to"],
                executable_at=args["executableAt"],
            )
            self.say(
                f"model {model}: the signers proposed {args['to']} as its modeller instead of {args['from']}, "
                f"executable from {when(args['executableAt'])}; if this is wrong the owner cancels it "
                f"(`backing oracle change-modeller {model} --cancel`)"
            )
            return
        if kind == "ModellerChangeCancelled":
            self.log("modeller_change_cancelled", model=model, new=args["to"])
            self.say(f"model {model}: the proposed change of modeller to {args['to']} was cancelled")
            return
        if kind == "ModellerChanged":
            self.log("modeller_changed", level="warning", model=model, old=args["from"], new=args["to"])
            self.say(
                f"model {model}: its modeller is now {args['to']} (was {args['from']}); the attestation is cleared"
            )
            return
        round_ = args["round"]
        if kind == "DisputeResolved":
            returned = args["bondReturned"]
            self.log(
                "dispute_resolved",
                model=model,
                round=round_,
                disputed_hash=args["disputedHash"],
                replacement_hash=args["replacementHash"],
                round_return=fixed_decimal(args["roundReturn"]),
                bond_returned=returned,
            )
            self.say(
                f"model {model} round {round_}: dispute resolved, the round now returns "
                f"{fixed_decimal(args['roundReturn'])}; "
                + (
                    "the report was replaced and the bond returned to the disputer"
                    if returned
                    else "the report was confirmed and the bond forfeited"
                )
            )
        else:
            ours = mine is not None and args["disputer"].lower() == mine
            self.log(
                "dispute_expired", model=model, round=round_, disputer=args["disputer"], bond=args["bond"], ours=ours
            )
            self.say(
                f"model {model} round {round_}: the dispute by {args['disputer']} expired unresolved; the posted "
                f"report stands and the {nmr(args['bond'])} bond is forfeited"
            )


#: The oracle events `watch` reports as they happen (besides judging each pending report).
FOLLOWED = (
    "DisputeResolved",
    "DisputeExpired",
    "SignerSetProposed",
    "ModellerChangeProposed",
    "ModellerChangeCancelled",
    "ModellerChanged",
)


def dispute_steps(w3, oracle, disputer: str, entry: ModelEntry, round_: int) -> list[Step]:
    """The steps that dispute a round from `disputer`: the bond's approval (none, or through zero) and the
    dispute. Raises OperatorError when the disputer may not dispute or cannot pay the bond (nothing sent)."""
    c = oracle.functions
    if not (c.isSigner(disputer).call() or c.isWatcher(disputer).call()):
        raise OperatorError(EXIT_REJECTED, plain("NotSignerOrWatcher", (disputer,)) + "; nothing sent")
    label = entry.uuid or "0x" + entry.model_id.hex()
    last_final = c.modelInfo(entry.model_id).call()[3]
    if not _posted(c, entry.model_id, round_) or round_ <= last_final:
        raise OperatorError(EXIT_REJECTED, plain("RoundNotPending", (label, round_)) + "; nothing sent")
    _hash, round_return, _missed, final_at, _disputer, _bond = c.reportOf(entry.model_id, round_).call()
    if final_at == DISPUTED:
        raise OperatorError(EXIT_REJECTED, plain("AlreadyDisputed", (label, round_)) + "; nothing sent")
    if w3.eth.get_block("latest")["timestamp"] >= final_at:
        raise OperatorError(EXIT_REJECTED, plain("ChallengeWindowOver", (label, round_, final_at)) + "; nothing sent")
    bond = c.disputeBond().call()
    token = w3.eth.contract(address=c.bondToken().call(), abi=ERC20_ABI)
    held = token.functions.balanceOf(disputer).call()
    if held < bond:
        raise OperatorError(
            EXIT_BALANCE,
            f"{disputer} holds {nmr(held)}, the dispute bond is {nmr(bond)}: fund it " f"with NMR; nothing sent",
        )
    steps = bond_steps(token, disputer, oracle.address, bond)
    steps.append(
        Step(
            "ScoreOracle.dispute",
            c.dispute(entry.model_id, round_),
            f"model {label} round {round_} (posted return "
            f"{fixed_decimal(round_return)}), locking a {nmr(bond)} bond: returned if the dispute quorum "
            f"replaces the report, forfeited if it keeps it",
            after_previous=bool(steps),
            outcome=lambda r: f"round {round_} disputed: it cannot become final until resolved",
        )
    )
    return steps


def _posted(c, model_id: bytes, round_: int) -> bool:
    first = c.modelInfo(model_id).call()[2]
    return first > 0 and first <= round_ <= c.lastPostedRound(model_id).call()

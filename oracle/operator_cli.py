"""The oracle operator's commands beside ``run``: register, watch, dispute, resolve, signers.

    backing oracle register UUID --modeller ADDRESS [--exposure 1] [--first-round N] --keystore FILE ... \\
                            --sender-keystore FILE [--yes] [--dry-run]
    backing oracle register UUID ... --first-round N --deadline UNIX --keystore MINE --sign-only  (each signer)
    backing oracle register UUID ... --first-round N --deadline UNIX --signature 0x... ... --sender-keystore FILE
    backing oracle watch [--once | --interval SECONDS] [--watcher-keystore FILE] [--yes] [--dry-run] [--json] \\
                         [--model UUID ...] [source options] [--db PATH]
    backing oracle dispute UUID ROUND --watcher-keystore FILE [--yes] [--dry-run]
    backing oracle resolve UUID ROUND --keystore FILE ... --sender-keystore FILE [source options] [--yes] [--dry-run]
    backing oracle signers [--json]
    backing oracle signers propose --signer ADDRESS ... --quorum K --dispute-quorum D --owner-keystore FILE
    backing oracle signers execute --sender-keystore FILE      (anyone, once the timelock is over)
    backing oracle signers cancel --owner-keystore FILE
    backing oracle signers watcher ADDRESS [--remove] --owner-keystore FILE
    backing oracle signers transfer-ownership ADDRESS --owner-keystore FILE   (then, from ADDRESS: accept-ownership)

Every one takes --rpc URL (default $BACKING_RPC_URL) and --oracle ADDRESS (default $BACKING_ORACLE). What moves
money or changes the oracle is simulated, summarised and confirmed first (``--yes`` skips the question,
``--dry-run`` stops after the summary); the owner's changes print the transaction for a multisig with
``--calldata`` instead of sending. Exit codes: oracle.errors (0 ok, 2 usage, 3 source, 4 RPC, 5 the contract
refuses, 7 not confirmed, 8 not enough NMR or ETH).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, InvalidOperation

from oracle import typed_data as td
from oracle.abi import load_abi
from oracle.actions import Step, Transactor, nmr
from oracle.daemon import run_daemon
from oracle.errors import (
    EXIT_OK,
    EXIT_QUORUM,
    EXIT_REJECTED,
    EXIT_RPC,
    EXIT_SOURCE,
    EXIT_USAGE,
    NETWORK_ERRORS,
    KeystoreError,
    OperatorError,
    QuorumMissing,
    SourceError,
    duration,
    plain,
)
from oracle.errors import when as _when
from oracle.exchange import Statement, recover
from oracle.keys import load_keystore, load_keystores
from oracle.options import (
    UsageError,
    add_numerai_options,
    add_password_options,
    address_arg,
    connect,
    make_source,
    model_name_arg,
    password_source,
    positive,
    uuid_arg,
)
from oracle.service import ModelEntry, OracleService, ServiceConfig
from oracle.units import fixed_decimal
from oracle.validate import Limits
from oracle.watch import DISPUTED, ZERO_ADDRESS, Watcher, dispute_steps

# ---------------------------------------------------------------------------------------------- options


def _log_options(parser) -> None:
    parser.add_argument(
        "--from-block",
        type=int,
        default=0,
        metavar="N",
        help="first block to read the oracle's events from (its deployment block on a public chain)",
    )
    parser.add_argument(
        "--log-range", type=positive(int), default=10_000, metavar="BLOCKS", help="blocks per eth_getLogs request"
    )


def _chain_options(parser) -> None:
    parser.add_argument(
        "--rpc",
        default=os.environ.get("BACKING_RPC_URL"),
        metavar="URL",
        help="JSON-RPC endpoint (default $BACKING_RPC_URL)",
    )
    parser.add_argument(
        "--oracle",
        type=address_arg,
        default=os.environ.get("BACKING_ORACLE"),
        metavar="ADDRESS",
        help="ScoreOracle address (default $BACKING_ORACLE)",
    )
    parser.add_argument("--abi", metavar="PATH", help="ScoreOracle ABI (brownie artifact or ABI list)")


def _send_options(parser) -> None:
    parser.add_argument("--yes", action="store_true", help="send without asking")
    parser.add_argument("--dry-run", action="store_true", help="simulate and summarise; send nothing")
    add_password_options(parser)


def _source_options(parser) -> None:
    parser.add_argument(
        "--source",
        choices=["numerai", "file", "synthetic"],
        default="numerai",
        help="where the right values come from (as for `run`)",
    )
    add_numerai_options(parser)
    parser.add_argument("--file", metavar="PATH", help="results file for --source file")
    parser.add_argument("--seed", type=int, default=0, help="seed of --source synthetic")
    parser.add_argument(
        "--model-name",
        action="append",
        type=model_name_arg,
        default=[],
        metavar="UUID=NAME",
        help="model name for --source numerai look-ups (repeat)",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "chain"],
        default="wall",
        help="'now' for the source: this machine's clock or the chain's latest block time",
    )
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="progress database: the round ledger (and, for watch, where it stopped reading events)",
    )


EPILOG = (
    "Exit codes: 0 ok, 1 internal error, 2 usage, 3 source failed, 4 node unreachable, 5 the contract "
    "refuses (in words), 6 quorum not reached, 7 not confirmed, 8 not enough NMR or ETH; in 2, 5, 7 and 8 "
    "nothing was sent. Guide: docs/oracle-operator.md."
)


def _add(subparsers, name: str, help: str):  # noqa: A002 -- argparse's own keyword
    """A subcommand whose --help starts with its one-line purpose and ends with the exit codes."""
    return subparsers.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", epilog=EPILOG)


def _quorum_signing_options(parser) -> None:
    """The options of a statement the signer quorum signs (`register`, `change-modeller`): keys here, or each
    signer signing on his own host (--sign-only) and the relayer collecting the signatures (--signature)."""
    parser.add_argument(
        "--keystore", action="append", default=[], metavar="FILE", help="a signer keystore (repeat: the quorum's worth)"
    )
    parser.add_argument(
        "--deadline",
        type=positive(int),
        metavar="UNIX",
        help="the signatures' expiry (default: an hour from the chain's time); give the same one "
        "to every signer with --sign-only",
    )
    parser.add_argument(
        "--sign-only",
        action="store_true",
        help="sign with the --keystore keys and print the signatures for a relayer; send nothing",
    )
    parser.add_argument(
        "--signature",
        action="append",
        default=[],
        metavar="0xSIGNATURE",
        help="a signature another signer made with --sign-only (repeat)",
    )


def add_parsers(commands) -> None:
    register = _add(commands, "register", help="register a model to its modeller (signed by the quorum)")
    register.add_argument("uuid", type=uuid_arg, metavar="UUID", help="the model's Numerai UUID")
    register.add_argument(
        "--modeller",
        required=True,
        type=address_arg,
        metavar="ADDRESS",
        help="the address that will own the model's agreements",
    )
    register.add_argument(
        "--exposure",
        default="1",
        metavar="FRACTION",
        help="share of each round's return the index takes (0 < x <= 1; default 1)",
    )
    register.add_argument(
        "--first-round",
        type=positive(int),
        metavar="N",
        help="first round the index counts (default: the next round agreements could start on)",
    )
    _quorum_signing_options(register)
    register.add_argument("--sender-keystore", required=False, metavar="FILE", help="account that pays the gas")
    _chain_options(register)
    _send_options(register)
    register.set_defaults(handler=cmd_register)

    change = _add(
        commands,
        "change-modeller",
        help="give a registered model to another modeller (signed by the quorum, timelocked; the owner may cancel)",
    )
    change.add_argument("uuid", type=uuid_arg, metavar="UUID", help="the model's Numerai UUID")
    action = change.add_mutually_exclusive_group()
    action.add_argument(
        "--to",
        type=address_arg,
        metavar="ADDRESS",
        help="propose ADDRESS as the model's modeller (the quorum's signatures; executable after the timelock)",
    )
    action.add_argument("--execute", action="store_true", help="put the pending change in force (anyone)")
    action.add_argument("--cancel", action="store_true", help="withdraw the pending change (owner)")
    _quorum_signing_options(change)
    change.add_argument("--sender-keystore", metavar="FILE", help="account that pays the gas (--to, --execute)")
    change.add_argument("--owner-keystore", metavar="FILE", help="the oracle owner's keystore (--cancel)")
    change.add_argument(
        "--calldata", action="store_true", help="with --cancel: print the transaction for a multisig owner"
    )
    change.add_argument("--json", action="store_true", help="without an action: the record and any pending change")
    _chain_options(change)
    _send_options(change)
    change.set_defaults(handler=cmd_change_modeller)

    watch = _add(commands, "watch", help="compare posted reports with the source; dispute wrong ones")
    when = watch.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    when.add_argument("--interval", type=positive(float), metavar="SECONDS", help="a pass every SECONDS")
    watch.add_argument(
        "--watcher-keystore",
        metavar="FILE",
        help="the signer or allowed watcher that disputes and pays the bond (without it: report only)",
    )
    watch.add_argument(
        "--model",
        action="append",
        type=uuid_arg,
        default=[],
        metavar="UUID",
        help="watch only these models (repeat); default every model registered on-chain",
    )
    _log_options(watch)
    watch.add_argument("--json", action="store_true", help="print each verdict as a JSON line")
    watch.add_argument("--status-file", metavar="PATH", help="write the health snapshot (JSON) here after every pass")
    watch.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics (Prometheus) and /status on " "this port (with --interval)",
    )
    watch.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the metrics endpoint listens on (default 127.0.0.1)",
    )
    watch.add_argument(
        "--expire-all-disputes",
        action="store_true",
        help="expire every overdue dispute, also one whose posted report the source says is wrong "
        "(by default that one is left for `resolve`)",
    )
    _chain_options(watch)
    _source_options(watch)
    _send_options(watch)
    watch.set_defaults(handler=cmd_watch)

    dispute = _add(commands, "dispute", help="dispute a posted round inside its challenge window (NMR bond)")
    dispute.add_argument("uuid", type=uuid_arg, metavar="UUID")
    dispute.add_argument("round", type=positive(int), metavar="ROUND")
    dispute.add_argument(
        "--watcher-keystore",
        required=False,
        metavar="FILE",
        help="the signer or allowed watcher that disputes and pays the bond",
    )
    _chain_options(dispute)
    _send_options(dispute)
    dispute.set_defaults(handler=cmd_dispute)

    resolve = _add(commands, "resolve", help="resolve a dispute with the source's report (dispute quorum)")
    resolve.add_argument("uuid", type=uuid_arg, metavar="UUID")
    resolve.add_argument("round", type=positive(int), metavar="ROUND")
    resolve.add_argument(
        "--keystore",
        action="append",
        default=[],
        metavar="FILE",
        help="a signer keystore (repeat: the dispute quorum's worth)",
    )
    resolve.add_argument("--sender-keystore", metavar="FILE", help="account that pays the gas")
    resolve.add_argument(
        "--signature-dir",
        metavar="DIR",
        help="collect the other signers' signatures here (their "
        "`backing oracle run` co-signs a resolution their own source confirms)",
    )
    resolve.add_argument(
        "--signature-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for co-signatures (default 300)",
    )
    _chain_options(resolve)
    _source_options(resolve)
    _send_options(resolve)
    resolve.set_defaults(handler=cmd_resolve)

    signers = _add(commands, "signers", help="the signer set, quorums, watchers; timelocked changes")
    _chain_options(signers)
    signers.add_argument("--json", action="store_true")
    _log_options(signers)
    signers.set_defaults(handler=cmd_signers_show)
    actions = signers.add_subparsers(dest="signers_command", metavar="ACTION")
    propose = _add(actions, "propose", help="propose a new signer set (owner; executable after the timelock)")
    propose.add_argument(
        "--signer",
        action="append",
        required=True,
        type=address_arg,
        metavar="ADDRESS",
        help="a signer of the new set (repeat; any order)",
    )
    propose.add_argument("--quorum", type=positive(int), required=True, metavar="K")
    propose.add_argument("--dispute-quorum", type=positive(int), required=True, metavar="D")
    execute = _add(actions, "execute", help="execute the proposed set once its timelock is over (anyone)")
    cancel = _add(actions, "cancel", help="withdraw the proposed set (owner)")
    watcher = _add(actions, "watcher", help="allow (or --remove) an address to dispute (owner)")
    watcher.add_argument("address", type=address_arg, metavar="ADDRESS")
    watcher.add_argument("--remove", action="store_true")
    transfer = _add(
        actions,
        "transfer-ownership",
        help="offer the oracle's ownership to ADDRESS, e.g. a "
        "multisig (owner; it takes effect when ADDRESS accepts)",
    )
    transfer.add_argument("address", type=address_arg, metavar="ADDRESS")
    accept = _add(actions, "accept-ownership", help="accept the ownership offered to this account")
    for action, handler in (
        (propose, cmd_signers_propose),
        (execute, cmd_signers_execute),
        (cancel, cmd_signers_cancel),
        (watcher, cmd_signers_watcher),
        (transfer, cmd_signers_transfer),
        (accept, cmd_signers_accept),
    ):
        _chain_options(action)
        _send_options(action)
        _log_options(action)
        if action is execute:
            action.add_argument("--sender-keystore", metavar="FILE", help="account that pays the gas")
        else:
            action.add_argument(
                "--owner-keystore",
                metavar="FILE",
                help="the oracle owner's keystore (for " "accept-ownership: the new owner's)",
            )
            action.add_argument(
                "--calldata",
                action="store_true",
                help="print the transaction (to, data) for a multisig owner instead of sending",
            )
        action.set_defaults(handler=handler)


# ---------------------------------------------------------------------------------------------- plumbing


class Chain:
    """The node, the oracle contract and its ABI, checked: the node answers and the address holds a contract."""

    def __init__(self, args):
        if not args.rpc:
            raise UsageError("no node: give --rpc URL (or set BACKING_RPC_URL)")
        if not args.oracle:
            raise UsageError("no oracle: give --oracle ADDRESS (or set BACKING_ORACLE)")
        try:
            self.abi = load_abi(args.abi)
        except (OSError, ValueError, KeyError) as error:
            raise UsageError(str(error)) from None
        self.w3 = connect(args.rpc)
        self.address = self.w3.to_checksum_address(args.oracle)
        try:
            self.chain_id = self.w3.eth.chain_id
            code = self.w3.eth.get_code(self.address)
        except NETWORK_ERRORS as error:
            raise OperatorError(
                EXIT_RPC, f"the node at --rpc does not answer ({type(error).__name__}): is it " f"running?"
            ) from None
        if not code:
            raise OperatorError(EXIT_USAGE, f"no contract at {self.address} on chain {self.chain_id}: check --oracle")
        self.oracle = self.w3.eth.contract(address=self.address, abi=self.abi)
        self.c = self.oracle.functions
        self.domain = td.Domain(self.chain_id, self.address)

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def transactor(self, account, args, out) -> Transactor:
        return Transactor(self.w3, account, self.abi, out=out, yes=args.yes, dry_run=args.dry_run)

    def service(self, args, log, models=None, keys=(), signature_dir=None, signature_timeout=60.0) -> OracleService:
        """An OracleService without a sender over the --source, for the source's checked reports (and, with
        `keys` and `signature_dir`, to gather signatures as the service does)."""
        args.tournament = self.c.tournament().call()
        args.model = getattr(args, "model", None) or list(models or [])
        limits = Limits.from_oracle(self.c.maxClip().call(), self.c.maxMultiplier().call())
        source = make_source(args, limits, self.w3)
        config = ServiceConfig(
            models=args.model or None,
            from_block=getattr(args, "from_block", 0),
            log_range=getattr(args, "log_range", 10_000),
            signature_dir=signature_dir,
            signature_timeout=signature_timeout,
        )
        return OracleService(
            self.w3, self.address, self.abi, source, list(keys), config=config, log=log, db_path=args.db
        )


def _one_account(path: str | None, option: str, args):
    if not path:
        raise UsageError(f"give {option} FILE (the account that sends)")
    try:
        return load_keystore(path, password_source(args).read(path))
    except KeystoreError as error:
        raise UsageError(str(error)) from None


def _signer_keys(args, chain: Chain, need: int, what: str, exchange: bool = False, hint: str = "") -> list:
    """The --keystore signer keys, all current signers, at least `need` of them (any number with `exchange`: the
    rest come from co-signers)."""
    try:
        keys = load_keystores(args.keystore, password_source(args))
    except KeystoreError as error:
        raise UsageError(str(error)) from None
    signers = {a.lower() for a in chain.c.signers().call()}
    for key in keys:
        if key.address.lower() not in signers:
            raise UsageError(f"{key.address} ({args.keystore[keys.index(key)]}) is not one of the oracle's signers")
    if len({k.address.lower() for k in keys}) < need and not exchange:
        raise UsageError(f"{len(keys)} signer keystores given, {what} needs {need}: give more --keystore{hint}")
    return keys


def _signatures(chain: Chain, primary: str, message: dict, keys: list, need: int) -> list[bytes]:
    return td.ordered(td.sign(chain.domain, primary, message, keys))[:need]


def _uuid_id(uuid: str) -> bytes:
    return td.model_id_from_uuid(uuid)


def _fraction(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"--exposure {text!r} is not a number") from None
    if not value.is_finite() or value <= 0 or value > 1:
        raise UsageError(f"--exposure {text} must be above 0 and at most 1")
    return int(value * 10**18)


def _model_entry(chain: Chain, uuid: str) -> ModelEntry:
    model_id = _uuid_id(uuid)
    modeller = chain.c.modelInfo(model_id).call()[0]
    if int(modeller, 16) == 0:
        raise OperatorError(EXIT_REJECTED, plain("ModelNotRegistered", (uuid,)) + ": check the UUID and --oracle")
    return ModelEntry(model_id, uuid, modeller)


# ---------------------------------------------------------------------------------------------- register


def _quorum_signatures(args, out, chain, quorum, primary, message, what, words, deadline, same) -> list[bytes] | None:
    """The `quorum` signatures a signed statement needs, in the contract's order: made here with the --keystore
    keys and/or given as --signature values that other signers printed with --sign-only. With --sign-only, print
    this host's signatures and return None (nothing is sent). `what`: the statement in a word ("registration");
    `same`: what every signer must sign alike, for the error when a --signature does not match."""
    keys = _signer_keys(
        args,
        chain,
        quorum,
        f"a {what}",
        exchange=args.sign_only or bool(args.signature),
        hint=", or --signature values from the other signers' --sign-only",
    )
    signed = {a.lower(): sig for a, sig in td.sign(chain.domain, primary, message, keys)}
    if args.sign_only:
        if not keys:
            raise UsageError("--sign-only needs --keystore FILE (the signer's own)")
        print(f"signed the {what} of {words}, valid until {_when(deadline)} (--deadline {deadline}):", file=out)
        for address, sig in signed.items():
            print(f"  {chain.w3.to_checksum_address(address)}: --signature 0x{sig.hex()}", file=out)
        return None
    statement = Statement(primary, message)
    signers = {a.lower() for a in chain.c.signers().call()}
    for text in args.signature:
        try:
            signature = bytes.fromhex(text.removeprefix("0x"))
        except ValueError:
            raise UsageError(f"--signature {text[:20]}...: not hex") from None
        signer = recover(chain.domain, statement, signature)
        if signer is None or signer.lower() not in signers:
            raise UsageError(f"--signature {text[:20]}... is not an oracle signer's signature of this {what} ({same}?)")
        signed[signer.lower()] = signature
    if len(signed) < quorum:
        raise UsageError(f"{len(signed)} signatures, a {what} needs {quorum}: give more --keystore or --signature")
    return td.ordered(signed.items())[:quorum]


def cmd_register(args, log, out) -> int:
    """Register a model. The k signatures come from --keystore keys here and/or --signature values each signer
    printed on his own host with --sign-only (same model, modeller, exposure, first round and --deadline)."""
    chain = Chain(args)
    exposure = _fraction(args.exposure)
    model_id = _uuid_id(args.uuid)
    quorum = chain.c.quorum().call()
    first_round = args.first_round
    if first_round is None:
        if args.sign_only or args.signature:
            raise UsageError("give --first-round N: every signer must sign the same registration")
        try:
            first_round = chain.c.nextStartRound().call()
        except Exception:  # noqa: BLE001 -- no round announced yet, or the schedule is stale
            first_round = chain.c.currentRound().call() + 1
    if (args.sign_only or args.signature) and args.deadline is None:
        raise UsageError("give --deadline UNIX: every signer must sign the same registration")
    deadline = args.deadline if args.deadline is not None else chain.now() + 3600
    if deadline <= chain.now():
        raise UsageError(f"--deadline {deadline} has passed on this chain: pick a later one and sign again")
    message = td.registration_message(model_id, args.modeller, exposure, first_round, deadline)
    words = (
        f"model {args.uuid} to modeller {args.modeller}, exposure {fixed_decimal(exposure)}, from round "
        f"{first_round}"
    )
    signatures = _quorum_signatures(
        args,
        out,
        chain,
        quorum,
        "ModelRegistration",
        message,
        "registration",
        words,
        deadline,
        "same model, modeller, exposure, first round and --deadline",
    )
    if signatures is None:
        return EXIT_OK
    sender = _one_account(args.sender_keystore, "--sender-keystore", args)
    step = Step(
        "ScoreOracle.registerModel",
        chain.c.registerModel(model_id, args.modeller, exposure, first_round, deadline, signatures),
        f"{words} ({len(signatures)} of the {quorum} signatures needed)",
        outcome=lambda r: f"model {args.uuid} registered to {args.modeller} from round {first_round}",
    )
    chain.transactor(sender, args, out).run("Register a model at the oracle:", [step])
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- change-modeller


def cmd_change_modeller(args, log, out) -> int:
    """Without an action: the model's modeller and any pending change. --to: the quorum proposes a new modeller
    (signatures as for `register`); --execute: anyone puts it in force after the timelock; --cancel: the owner
    withdraws it. Agreements and series made before keep their modeller (ScoreOracle.executeModellerChange)."""
    chain = Chain(args)
    c = chain.c
    model_id = _uuid_id(args.uuid)
    current = c.modelInfo(model_id).call()[0]
    if int(current, 16) == 0:
        raise OperatorError(EXIT_REJECTED, plain("ModelNotRegistered", (args.uuid,)) + ": check the UUID and --oracle")
    to, executable_at, nonce = c.modellerChangeOf(model_id).call()
    pending = int(to, 16) != 0
    now = chain.now()
    lifetime = c.PROPOSAL_LIFETIME().call()
    if args.to:
        new = chain.w3.to_checksum_address(args.to)
        if new == current:
            raise OperatorError(EXIT_REJECTED, plain("ModellerUnchanged", (args.uuid, current)))
        if (args.sign_only or args.signature) and args.deadline is None:
            raise UsageError("give --deadline UNIX: every signer must sign the same change")
        deadline = args.deadline if args.deadline is not None else now + 3600
        if deadline <= now:
            raise UsageError(f"--deadline {deadline} has passed on this chain: pick a later one and sign again")
        delay = c.signerSetDelay().call()
        words = f"model {args.uuid} from {current} to {new}"
        message = td.modeller_change_message(model_id, current, new, nonce, deadline)
        signatures = _quorum_signatures(
            args,
            out,
            chain,
            c.quorum().call(),
            "ModellerChange",
            message,
            "change of modeller",
            words,
            deadline,
            "same model, new modeller and --deadline, signed before any other change of this model",
        )
        if signatures is None:
            return EXIT_OK
        replaces = f"; it replaces the pending change to {to}" if pending else ""
        step = Step(
            "ScoreOracle.proposeModellerChange",
            c.proposeModellerChange(model_id, new, deadline, signatures),
            f"{words}, executable {duration(delay)} after it lands, for {duration(lifetime)}{replaces}",
            outcome=lambda r: (
                f"change proposed: `change-modeller {args.uuid} --execute` from {_when(now + delay)} or later; the "
                "owner may cancel it until then"
            ),
        )
        sender = _one_account(args.sender_keystore, "--sender-keystore", args)
        chain.transactor(sender, args, out).run("Propose a new modeller for a model:", [step])
        return EXIT_OK
    if args.execute or args.cancel:
        if not pending:
            raise OperatorError(EXIT_REJECTED, plain("NoModellerChangeProposed", (args.uuid,)))
        if args.cancel:
            step = Step(
                "ScoreOracle.cancelModellerChange",
                c.cancelModellerChange(model_id),
                f"withdraw the change of model {args.uuid} from {current} to {to}",
                outcome=lambda r: f"change withdrawn: {current} stays the modeller",
            )
            return _owner_step(chain, args, out, step, "Cancel a change of modeller:")
        if now < executable_at:
            raise OperatorError(EXIT_REJECTED, plain("TimelockNotOver", (executable_at,)))
        if now > executable_at + lifetime:
            raise OperatorError(EXIT_REJECTED, plain("ModellerChangeExpired", (args.uuid, executable_at + lifetime)))
        step = Step(
            "ScoreOracle.executeModellerChange",
            c.executeModellerChange(model_id),
            f"model {args.uuid} from {current} to {to} (its attestation is cleared; agreements and series made "
            "before keep their modeller)",
            outcome=lambda r: f"{to} is the modeller of model {args.uuid}",
        )
        sender = _one_account(args.sender_keystore, "--sender-keystore", args)
        chain.transactor(sender, args, out).run("Execute a change of modeller:", [step])
        return EXIT_OK
    data = {
        "model": args.uuid,
        "modeller": current,
        "attested": c.isAttested(model_id).call(),
        "pending": {"to": to, "executable_at": executable_at, "expires_at": executable_at + lifetime}
        if pending
        else None,
        "nonce": nonce,
        "now": now,
    }
    if args.json:
        print(json.dumps(data), file=out)
        return EXIT_OK
    print(f"model {args.uuid}: modeller {current}{' (attested)' if data['attested'] else ''}", file=out)
    if not pending:
        print("  no change of modeller pending", file=out)
    else:
        state = (
            "executable now"
            if executable_at <= now <= executable_at + lifetime
            else (f"executable from {_when(executable_at)}" if now < executable_at else "expired")
        )
        print(f"  pending change to {to}: {state} (until {_when(executable_at + lifetime)})", file=out)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- watch


def cmd_watch(args, log, out) -> int:
    chain = Chain(args)
    if args.source == "file" and not args.file:
        raise UsageError("--source file needs --file PATH")
    account = None if args.watcher_keystore is None else _one_account(args.watcher_keystore, "--watcher-keystore", args)
    service = chain.service(args, log)
    service.health.role, service.health.status_file = "watcher", args.status_file
    say = None
    if args.json:
        say = lambda text: None  # noqa: E731 -- the verdicts go out as JSON lines instead
    watcher = Watcher(
        service,
        account,
        chain.abi,
        out=out,
        yes=args.yes,
        dry_run=args.dry_run,
        log=log,
        from_block=args.from_block,
        log_range=args.log_range,
        say=say,
        expire_all=args.expire_all_disputes,
    )

    def one_pass() -> int:
        code = watcher.run_once()
        if args.json:
            for entry, verdict in watcher.verdicts:
                print(json.dumps(verdict_json(entry, verdict)), file=out, flush=True)
        return code

    if args.interval is None:
        return one_pass()
    return run_daemon(args, service, log, one_pass)


def verdict_json(entry: ModelEntry, verdict) -> dict:
    onchain, mine = verdict.onchain, verdict.expected
    return {
        "model_uuid": entry.uuid,
        "round": verdict.round,
        "verdict": verdict.kind,
        "disputable": verdict.disputable,
        "reason": verdict.reason,
        "onchain_hash": "0x" + onchain.report_hash.hex(),
        "onchain_return": fixed_decimal(onchain.round_return),
        "final_at": None if onchain.disputed else onchain.final_at,
        "disputer": onchain.disputer,
        "source_hash": None if mine is None else "0x" + mine.struct_hash().hex(),
        "source_return": None if mine is None else fixed_decimal(mine.round_return()),
    }


# ---------------------------------------------------------------------------------------------- dispute


def cmd_dispute(args, log, out) -> int:
    chain = Chain(args)
    entry = _model_entry(chain, args.uuid)
    account = _one_account(args.watcher_keystore, "--watcher-keystore", args)
    steps = dispute_steps(chain.w3, chain.oracle, account.address, entry, args.round)
    chain.transactor(account, args, out).run(f"Dispute model {args.uuid} round {args.round}:", steps)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- resolve


def cmd_resolve(args, log, out) -> int:
    chain = Chain(args)
    if args.source == "file" and not args.file:
        raise UsageError("--source file needs --file PATH")
    entry = _model_entry(chain, args.uuid)
    c = chain.c
    first, last_posted = c.modelInfo(entry.model_id).call()[2], c.lastPostedRound(entry.model_id).call()
    if not first <= args.round <= last_posted:
        raise OperatorError(EXIT_REJECTED, plain("RoundNotPosted", (args.uuid, args.round)))
    disputed_hash, old_return, _missed, final_at, disputer, bond = c.reportOf(entry.model_id, args.round).call()
    if final_at != DISPUTED:
        raise OperatorError(EXIT_REJECTED, plain("NotDisputed", (args.uuid, args.round)) + ": nothing to resolve")
    need = c.disputeQuorum().call()
    exchange = args.signature_dir is not None
    keys = _signer_keys(
        args,
        chain,
        need,
        "a dispute resolution",
        exchange=exchange,
        hint=", or --signature-dir DIR to collect the other signers' signatures",
    )
    sender = _one_account(args.sender_keystore, "--sender-keystore", args)
    service = chain.service(
        args,
        log,
        models=[args.uuid],
        keys=keys,
        signature_dir=args.signature_dir,
        signature_timeout=args.signature_timeout,
    )
    service._load_chain()
    try:
        reports = service.model_reports(entry, args.round - 1, None)
    except SourceError as error:
        raise OperatorError(EXIT_SOURCE, f"the source failed for model {args.uuid}: {error}") from None
    replacement = next((r for r in reports if r.round == args.round), None)
    if replacement is None:
        raise OperatorError(
            EXIT_SOURCE,
            f"the source has no resolved value for model {args.uuid} round " f"{args.round}: nothing to resolve with",
        )
    deadline = chain.now() + 3600
    statement = Statement("DisputeResolution", td.resolution_message(bytes(disputed_hash), replacement, deadline))
    if exchange and not args.dry_run:
        print(
            f"collecting {need} signatures in {args.signature_dir} (up to {duration(args.signature_timeout)})...",
            file=out,
            flush=True,
        )
    try:
        signatures = (
            service.gather(statement, need)
            if not args.dry_run
            else _signatures(chain, statement.primary, statement.message, keys, need)
        )
    except QuorumMissing as error:
        raise OperatorError(
            EXIT_QUORUM,
            f"{error.have} of the {need} signatures a resolution needs: the other "
            f"signers' services did not co-sign in time (is their source the same?); "
            f"nothing sent",
        ) from None
    if len(signatures) < need:  # a dry run with co-signers: nothing proposed, so nothing to simulate with
        print(
            f"dry run: the replacement would return {fixed_decimal(replacement.round_return())} (the posted report "
            f"returns {fixed_decimal(old_return)}); {len(signatures)} local signatures, {need - len(signatures)} "
            f"more would be collected in {args.signature_dir}; nothing proposed or sent",
            file=out,
        )
        return EXIT_OK
    same = replacement.struct_hash() == bytes(disputed_hash)
    fate = (
        f"the posted report is CONFIRMED (the source agrees): the {nmr(bond)} bond of {disputer} is forfeited"
        if same
        else f"the report is REPLACED: the {nmr(bond)} bond goes back to {disputer}"
    )
    step = Step(
        "ScoreOracle.resolveDispute",
        c.resolveDispute(replacement.as_tuple(), deadline, signatures),
        f"model {args.uuid} round {args.round}: return {fixed_decimal(old_return)} -> "
        f"{fixed_decimal(replacement.round_return())}; {fate} ({len(signatures)} of {need} signatures)",
        outcome=lambda r: f"round {args.round} resolved: it returns {fixed_decimal(replacement.round_return())}"
        f" and is final at the next finalize",
    )
    chain.transactor(sender, args, out).run("Resolve a dispute:", [step])
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- signers


def _logs(chain: Chain, event: str, args) -> list:
    """Every `event` of the oracle from --from-block on, read in --log-range block ranges (public RPCs refuse
    wide eth_getLogs ranges)."""
    latest = chain.w3.eth.block_number
    step = max(1, getattr(args, "log_range", 10_000))
    found = []
    for low in range(getattr(args, "from_block", 0), latest + 1, step):
        found += getattr(chain.oracle.events, event).get_logs(from_block=low, to_block=min(latest, low + step - 1))
    return found


def _proposal(chain: Chain, args) -> dict | None:
    """The pending signer-set proposal (its content from the SignerSetProposed event matching its hash)."""
    set_hash = bytes(chain.c.proposedSignerSet().call())
    if set_hash == bytes(32):
        return None
    executable_at = chain.c.proposedSignerSetExecutableAt().call()
    found = None
    for event in _logs(chain, "SignerSetProposed", args):
        if bytes(event["args"]["setHash"]) == set_hash:
            found = event["args"]
    lifetime = chain.c.PROPOSAL_LIFETIME().call()
    return {
        "set_hash": "0x" + set_hash.hex(),
        "executable_at": executable_at,
        "expires_at": executable_at + lifetime,
        "signers": list(found["signers"]) if found else None,
        "quorum": found["quorum"] if found else None,
        "dispute_quorum": found["disputeQuorum"] if found else None,
    }


def _watchers(chain: Chain, args) -> list[str]:
    allowed: dict[str, bool] = {}
    for event in _logs(chain, "WatcherSet", args):
        allowed[event["args"]["watcher"]] = event["args"]["allowed"]
    return [w for w, on in allowed.items() if on and chain.c.isWatcher(w).call()]


def cmd_signers_show(args, log, out) -> int:
    chain = Chain(args)
    c = chain.c
    try:
        pending_owner = c.pendingOwner().call()
    except Exception:  # noqa: BLE001 -- an ABI without Ownable2Step
        pending_owner = ZERO_ADDRESS
    now = chain.now()
    data = {
        "oracle": chain.address,
        "chain_id": chain.chain_id,
        "owner": c.owner().call(),
        "pending_owner": None if int(pending_owner, 16) == 0 else pending_owner,
        "signers": list(c.signers().call()),
        "quorum": c.quorum().call(),
        "dispute_quorum": c.disputeQuorum().call(),
        "watchers": _watchers(chain, args),
        "signer_set_delay": c.signerSetDelay().call(),
        "challenge_window": c.challengeWindow().call(),
        "dispute_timeout": c.disputeTimeout().call(),
        "dispute_bond": str(c.disputeBond().call()),
        "proposal": _proposal(chain, args),
        "now": now,
    }
    if args.json:
        print(json.dumps(data), file=out)
        return EXIT_OK
    lines = [
        f"oracle {data['oracle']} (chain {data['chain_id']})",
        f"  owner {data['owner']}"
        + (f" (transfer pending to {data['pending_owner']})" if data["pending_owner"] else ""),
        f"  signers ({len(data['signers'])}): quorum {data['quorum']} for reports, {data['dispute_quorum']} to "
        f"resolve a dispute",
    ]
    lines += [f"    {s}" for s in data["signers"]]
    lines.append("  watchers: " + (", ".join(data["watchers"]) if data["watchers"] else "none (signers may dispute)"))
    lines.append(
        f"  disputes: bond {nmr(int(data['dispute_bond']))}, challenge window "
        f"{duration(data['challenge_window'])}, timeout {duration(data['dispute_timeout'])}"
    )
    proposal = data["proposal"]
    if proposal is None:
        lines.append(f"  no signer-set change proposed (a proposal waits {duration(data['signer_set_delay'])})")
    else:
        state = (
            "executable now"
            if proposal["executable_at"] <= now < proposal["expires_at"]
            else "expired"
            if now >= proposal["expires_at"]
            else f"executable in {duration(proposal['executable_at'] - now)}"
        )
        lines.append(
            f"  proposed signer set {proposal['set_hash']}: {state} (from {_when(proposal['executable_at'])}"
            f" until {_when(proposal['expires_at'])})"
        )
        if proposal["signers"] is not None:
            lines.append(f"    quorum {proposal['quorum']}, dispute quorum {proposal['dispute_quorum']}, signers:")
            lines += [f"    {s}" for s in proposal["signers"]]
    print("\n".join(lines), file=out)
    return EXIT_OK


def _owner_step(chain: Chain, args, out, step: Step, title: str, owner: str | None = None) -> int:
    """Send `step` from the owner's keystore (`owner`: the account that must send it, default the oracle's
    owner), or with --calldata print it for a multisig."""
    owner = owner or chain.c.owner().call()
    if args.calldata:
        data = step.call._encode_transaction_data()
        print(
            json.dumps({"to": chain.address, "data": data, "value": 0, "from": owner, "description": step.words}),
            file=out,
        )
        return EXIT_OK
    account = _one_account(args.owner_keystore, "--owner-keystore (or --calldata for a multisig owner)", args)
    if account.address.lower() != owner.lower():
        raise OperatorError(
            EXIT_REJECTED,
            f"{account.address} cannot send this: it must come from {owner} (a "
            f"multisig: use --calldata); nothing sent",
        )
    chain.transactor(account, args, out).run(title, [step])
    return EXIT_OK


def cmd_signers_propose(args, log, out) -> int:
    chain = Chain(args)
    signers = sorted({chain.w3.to_checksum_address(s) for s in args.signer}, key=lambda a: int(a, 16))
    n = len(signers)
    if not 1 <= args.quorum < args.dispute_quorum <= n:
        raise UsageError(plain("SignerSetInvalid", (n, args.quorum, args.dispute_quorum)))
    delay = chain.c.signerSetDelay().call()
    step = Step(
        "ScoreOracle.proposeSignerSet",
        chain.c.proposeSignerSet(signers, args.quorum, args.dispute_quorum),
        f"{n} signers ({', '.join(signers)}), quorum {args.quorum}, dispute quorum {args.dispute_quorum}; "
        f"executable {duration(delay)} after this is mined, for "
        f"{duration(chain.c.PROPOSAL_LIFETIME().call())}",
        outcome=lambda r: "proposed: run `backing oracle signers execute` once the timelock is over",
    )
    return _owner_step(chain, args, out, step, "Propose a new signer set:")


def cmd_signers_cancel(args, log, out) -> int:
    chain = Chain(args)
    if _proposal(chain, args) is None:
        raise OperatorError(EXIT_REJECTED, plain("NoSignerSetProposed"))
    step = Step(
        "ScoreOracle.cancelSignerSet",
        chain.c.cancelSignerSet(),
        "withdraw the proposed signer set",
        outcome=lambda r: "proposal withdrawn",
    )
    return _owner_step(chain, args, out, step, "Cancel the signer-set proposal:")


def cmd_signers_watcher(args, log, out) -> int:
    chain = Chain(args)
    allowed = not args.remove
    step = Step(
        "ScoreOracle.setWatcher",
        chain.c.setWatcher(chain.w3.to_checksum_address(args.address), allowed),
        f"{args.address} {'may' if allowed else 'may no longer'} dispute reports",
        outcome=lambda r: f"{args.address} is {'now' if allowed else 'no longer'} a watcher",
    )
    return _owner_step(chain, args, out, step, "Change the oracle's watchers:")


def cmd_signers_execute(args, log, out) -> int:
    chain = Chain(args)
    proposal = _proposal(chain, args)
    if proposal is None:
        raise OperatorError(EXIT_REJECTED, plain("NoSignerSetProposed"))
    if proposal["signers"] is None:
        raise OperatorError(
            EXIT_REJECTED,
            f"the proposal {proposal['set_hash']} is not in the oracle's events: "
            f"check --rpc (a node without old logs)",
        )
    sender = _one_account(args.sender_keystore, "--sender-keystore", args)
    step = Step(
        "ScoreOracle.executeSignerSet",
        chain.c.executeSignerSet(proposal["signers"], proposal["quorum"], proposal["dispute_quorum"]),
        f"{len(proposal['signers'])} signers, quorum {proposal['quorum']}, dispute quorum "
        f"{proposal['dispute_quorum']} ({proposal['set_hash']})",
        outcome=lambda r: "the new signer set is in force: every operator's keys must be in it",
    )
    chain.transactor(sender, args, out).run("Execute the proposed signer set:", [step])
    return EXIT_OK


def cmd_signers_transfer(args, log, out) -> int:
    chain = Chain(args)
    new_owner = chain.w3.to_checksum_address(args.address)
    step = Step(
        "ScoreOracle.transferOwnership",
        chain.c.transferOwnership(new_owner),
        f"offer the ownership to {new_owner}; the current owner stays in charge until it accepts "
        f"(`backing oracle signers accept-ownership`, or its --calldata through a multisig)",
        outcome=lambda r: f"ownership offered to {new_owner}",
    )
    return _owner_step(chain, args, out, step, "Transfer the oracle's ownership (two steps):")


def cmd_signers_accept(args, log, out) -> int:
    chain = Chain(args)
    pending = chain.c.pendingOwner().call()
    if int(pending, 16) == 0:
        raise OperatorError(
            EXIT_REJECTED,
            "no ownership transfer is pending: the owner offers it first "
            "(`backing oracle signers transfer-ownership ADDRESS`)",
        )
    step = Step(
        "ScoreOracle.acceptOwnership",
        chain.c.acceptOwnership(),
        f"{pending} becomes the oracle's owner",
        outcome=lambda r: f"{pending} owns the oracle",
    )
    return _owner_step(chain, args, out, step, "Accept the oracle's ownership:", owner=pending)

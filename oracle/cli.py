"""``backing oracle``: run the oracle service, make keystores.

    backing oracle run [--once | --interval SECONDS] --rpc URL --oracle ADDRESS
                       [--keystore FILE ...] [--password-env NAME | --password-file FILE]
                       [--sender-keystore FILE] [--signature-dir DIR] [--signature-timeout SECONDS]
                       [--source numerai|file|synthetic] [--numerai-url URL] [--file PATH] [--model UUID ...]
                       [--db PATH] [--abi PATH] [--max-batch N] [--from-block N] [--attest]
    backing oracle run --dry-run [--json] (--rpc URL --oracle ADDRESS | --model UUID ...) [source options]
                       [--status-file PATH] [--metrics-port PORT] [--confirmations N] [--log-range BLOCKS]
    backing oracle ledger list [--db PATH] [--all]
    backing oracle ledger accept --model UUID --round N [--db PATH] [--oracle ADDRESS]
    backing oracle keystore new --out FILE [--password-env NAME | --password-file FILE]
    backing oracle register|watch|dispute|resolve|signers ...   (oracle.operator_cli: see its --help)

Roles: with ``--sender-keystore`` the process relays (announces, posts, finalizes), signing with its
``--keystore`` keys and, if those are fewer than the quorum, collecting co-signatures in ``--signature-dir``.
Without ``--sender-keystore`` but with ``--signature-dir`` it is a co-signer: it signs what the submitter
proposed there when its own source computes the same reports. Every keystore a process loads shares one
password (from the prompt, ``--password-env`` or ``--password-file``; never the command line).

The ScoreOracle ABI comes from ``--abi``, else $BACKING_ORACLE_ABI, else ``build/contracts/ScoreOracle.json``
(run ``brownie compile``). Exit codes: see ``oracle.errors`` (0 ok, 1 internal, 2 usage, 3 source, 4 RPC,
5 chain rejected, 6 quorum not reached, 7 not confirmed, 8 not enough NMR or ETH)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from oracle.abi import load_abi
from oracle.daemon import run_daemon
from oracle.errors import (
    EXIT_OK,
    EXIT_RPC,
    EXIT_SOURCE,
    EXIT_USAGE,
    NETWORK_ERRORS,
    KeystoreError,
    OperatorError,
    SourceError,
)
from oracle.keys import load_keystore, load_keystores, new_keystore
from oracle.log import JsonLog
from oracle.model import report_json
from oracle.options import (
    UsageError,
    add_account_twins,
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
from oracle.service import OracleService, ServiceConfig
from oracle.units import fixed_decimal as fixed_to_decimal_string
from oracle.units import model_uuid
from oracle.validate import Limits

DEFAULT_DB = "oracle-progress.sqlite"
DEFAULT_TOURNAMENT = 8


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backing oracle", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="announce rounds, post resolved rounds, finalize (once or in a loop)")
    when = run.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    when.add_argument("--interval", type=positive(float), metavar="SECONDS", help="a pass every SECONDS")
    run.add_argument(
        "--rpc", metavar="URL", help="JSON-RPC endpoint of the chain (without --dry-run: default " "$BACKING_RPC_URL)"
    )
    run.add_argument(
        "--oracle",
        type=address_arg,
        metavar="ADDRESS",
        help="ScoreOracle address (without --dry-run: " "default $BACKING_ORACLE)",
    )
    run.add_argument("--abi", metavar="PATH", help="ScoreOracle ABI (brownie artifact or ABI list)")
    run.add_argument("--keystore", action="append", default=[], metavar="FILE", help="signer keystore (repeat)")
    add_password_options(run)
    run.add_argument(
        "--sender-keystore",
        metavar="FILE",
        help="keystore of the account that pays for and sends "
        "transactions; without it the process only co-signs (needs --signature-dir)",
    )
    run.add_argument("--signature-dir", metavar="DIR", help="shared directory where operators exchange signatures")
    run.add_argument(
        "--signature-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long the sender waits for co-signatures (default 60)",
    )
    run.add_argument("--source", choices=["numerai", "file", "synthetic"], default="numerai")
    add_numerai_options(run)
    run.add_argument("--file", metavar="PATH", help="results file for --source file")
    run.add_argument("--seed", type=int, default=0, help="seed of --source synthetic")
    run.add_argument(
        "--model",
        action="append",
        type=uuid_arg,
        default=[],
        metavar="UUID",
        help="report only these models (repeat); default every model registered on-chain",
    )
    run.add_argument(
        "--model-name",
        action="append",
        type=model_name_arg,
        default=[],
        metavar="UUID=NAME",
        help="model name for --source numerai profile look-ups (--attest); repeat",
    )
    run.add_argument("--db", default=DEFAULT_DB, metavar="PATH", help=f"progress database (default {DEFAULT_DB})")
    run.add_argument("--max-batch", type=positive(int), default=50, metavar="N", help="reports per transaction")
    run.add_argument("--from-block", type=int, default=0, metavar="N", help="first block to scan for registrations")
    run.add_argument(
        "--receipt-timeout",
        type=positive(float),
        default=120.0,
        metavar="SECONDS",
        help="wait this long for a receipt before re-sending with a higher fee",
    )
    run.add_argument(
        "--clock",
        choices=["wall", "chain"],
        default="wall",
        help="what 'now' is when deciding which rounds have opened or resolved: this machine's clock "
        "(default) or the chain's latest block time (simulations on a local chain moved ahead)",
    )
    run.add_argument(
        "--tournament",
        type=int,
        default=DEFAULT_TOURNAMENT,
        help="Numerai tournament without --rpc (default 8); with --rpc the oracle's",
    )
    run.add_argument(
        "--after-round",
        type=int,
        metavar="N",
        help="dry run without --rpc: report rounds after N "
        "(default: from the first round the source's schedule lists)",
    )
    run.add_argument(
        "--attest",
        action="store_true",
        help="also attest models whose owner's profile proves the " "registered modeller's address",
    )
    run.add_argument("--status-file", metavar="PATH", help="write the health snapshot (JSON) here after every pass")
    run.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics (Prometheus) and /status " "on this port (with --interval)",
    )
    run.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the metrics endpoint listens on (default 127.0.0.1)",
    )
    run.add_argument(
        "--confirmations",
        type=int,
        default=0,
        metavar="N",
        help="blocks on top of a report's " "block before it counts as posted (default 0; 2 or more on a public chain)",
    )
    run.add_argument(
        "--log-range",
        type=positive(int),
        default=10_000,
        metavar="BLOCKS",
        help="blocks per log query when scanning registrations (default 10000)",
    )
    run.add_argument("--dry-run", action="store_true", help="print the reports a run would post; post nothing")
    run.add_argument("--json", action="store_true", help="with --dry-run: one JSON object per report")
    run.set_defaults(handler=cmd_run)

    model = commands.add_parser("model", help="a model's on-chain status: modeller, ownership attestation, rounds")
    model.add_argument("uuid", type=uuid_arg, metavar="UUID", help="Numerai model id")
    model.add_argument("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint of the chain")
    model.add_argument("--oracle", required=True, type=address_arg, metavar="ADDRESS", help="ScoreOracle address")
    model.add_argument("--abi", metavar="PATH", help="ScoreOracle ABI (brownie artifact or ABI list)")
    model.add_argument("--json", action="store_true", help="one JSON object instead of text")
    model.set_defaults(handler=cmd_model)

    ledger = commands.add_parser("ledger", help="the round ledger: corrections Numerai made to resolved rounds")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    listing = ledger_commands.add_parser("list", help="open corrections (values that changed after resolution)")
    listing.add_argument("--db", default=DEFAULT_DB, metavar="PATH", help=f"progress database (default {DEFAULT_DB})")
    listing.add_argument("--all", action="store_true", help="applied corrections too")
    listing.set_defaults(handler=cmd_ledger_list)
    accept = ledger_commands.add_parser(
        "accept",
        help="make a round's corrected values the ledger's (the service "
        "then signs them; a round already on-chain needs a dispute)",
    )
    accept.add_argument("--model", required=True, type=uuid_arg, metavar="UUID")
    accept.add_argument("--round", required=True, type=positive(int), metavar="N")
    accept.add_argument("--db", default=DEFAULT_DB, metavar="PATH", help=f"progress database (default {DEFAULT_DB})")
    accept.add_argument("--oracle", type=address_arg, metavar="ADDRESS", help="only this oracle's ledger")
    accept.set_defaults(handler=cmd_ledger_accept)

    keystore = commands.add_parser("keystore", help="keystore files")
    keystore_commands = keystore.add_subparsers(dest="keystore_command", metavar="ACTION", required=True)
    new = keystore_commands.add_parser("new", help="create a keystore for a fresh random key")
    new.add_argument("--out", required=True, metavar="FILE")
    add_password_options(new)
    new.set_defaults(handler=cmd_keystore_new)

    from oracle import operator_cli  # register, watch, dispute, resolve, signers

    operator_cli.add_parsers(commands)
    add_account_twins(parser)
    return parser


# ---------------------------------------------------------------------------------------------- commands


def _check_run_args(args):
    if args.json and not args.dry_run:
        raise UsageError("--json goes with --dry-run")
    if args.source == "file" and not args.file:
        raise UsageError("--source file needs --file PATH")
    if args.dry_run:
        if args.rpc is None and not args.model:
            raise UsageError("--dry-run without --rpc needs --model UUID")
        if args.rpc is not None and args.oracle is None:
            raise UsageError("--rpc needs --oracle ADDRESS")
        return
    import os

    # a real run takes the node and the oracle from the environment too (a dry run stays offline without --rpc)
    args.rpc = args.rpc or os.environ.get("BACKING_RPC_URL") or None
    if args.oracle is None and os.environ.get("BACKING_ORACLE"):
        try:
            args.oracle = address_arg(os.environ["BACKING_ORACLE"])
        except argparse.ArgumentTypeError as error:
            raise UsageError(f"$BACKING_ORACLE: {error}") from None
    if args.rpc is None or args.oracle is None:
        raise UsageError("run needs --rpc URL (or $BACKING_RPC_URL) and --oracle ADDRESS (or $BACKING_ORACLE)")
    if args.sender_keystore is None and args.signature_dir is None:
        raise UsageError("nothing to do: give --sender-keystore to post, or --signature-dir to co-sign")
    if not args.keystore and args.signature_dir is None:
        raise UsageError("no signer keys: give --keystore FILE (or --signature-dir to relay co-signatures)")


def dry_run_offline(args, log: JsonLog, out) -> int:
    """Every resolved round of the --model ids, from the source alone (no chain)."""
    source = make_source(args)
    code = EXIT_OK
    after = args.after_round
    if after is None:
        try:
            # a source lists a model's rounds from the first one it knows: start where its schedule starts
            rounds = source.schedule(0)
        except SourceError as error:
            log("source_error", level="error", step="schedule", error=str(error))
            return EXIT_SOURCE
        after = rounds[0].round - 1 if rounds else 0
    for uuid in args.model:
        try:
            results = source.resolved_results(uuid, after)
            reports = [r.to_report(args.tournament) for r in results]
        except SourceError as error:
            log("source_error", level="error", model=uuid, error=str(error))
            code = EXIT_SOURCE
            continue
        for report in reports:
            _print_report(report, uuid, args.json, out)
    return code


def _print_report(report, uuid, as_json: bool, out):
    data = report_json(report, uuid)
    if as_json:
        print(json.dumps(data), file=out, flush=True)
    else:
        detail = "missed" if report.missed else ", ".join(f"{k} {v}" for k, v in data["scores"].items())
        print(f"{uuid} round {report.round}: return {data['round_return']} ({detail})", file=out, flush=True)


def _load_keys(args) -> tuple[list, object]:
    """(signer accounts, sender account or None) from the keystores; UsageError when one does not open."""
    passwords = password_source(args)
    try:
        keys = load_keystores(args.keystore, passwords)
        sender = None
        if args.sender_keystore:
            sender = load_keystore(args.sender_keystore, passwords.read(args.sender_keystore))
    except KeystoreError as error:
        raise UsageError(str(error)) from None
    return keys, sender


def cmd_run(args, log: JsonLog, out) -> int:
    _check_run_args(args)
    if args.dry_run and args.rpc is None:
        return dry_run_offline(args, log, out)
    try:
        abi = load_abi(args.abi)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(str(error)) from None
    keys, sender = ([], None) if args.dry_run else _load_keys(args)  # usage errors before any network
    w3 = connect(args.rpc)
    try:
        # the source checks results against this oracle's bounds and tournament, not generic defaults
        oracle = w3.eth.contract(address=w3.to_checksum_address(args.oracle), abi=abi)
        args.tournament = oracle.functions.tournament().call()
        limits = Limits.from_oracle(oracle.functions.maxClip().call(), oracle.functions.maxMultiplier().call())
    except NETWORK_ERRORS as error:
        log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
        return EXIT_RPC
    source = make_source(args, limits, w3)
    config = ServiceConfig(
        models=args.model or None,
        max_batch=args.max_batch,
        signature_dir=args.signature_dir,
        signature_timeout=args.signature_timeout,
        attest=args.attest,
        from_block=args.from_block,
        receipt_timeout=args.receipt_timeout,
        status_file=args.status_file,
        confirmations=args.confirmations,
        log_range=args.log_range,
    )
    if args.dry_run:
        service = OracleService(w3, args.oracle, abi, source, [], config=config, log=log)
        try:
            planned = service.planned_reports()
        except NETWORK_ERRORS as error:
            log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
            return EXIT_RPC
        for entry, report in planned:
            _print_report(report, entry.uuid, args.json, out)
        return service.code
    service = OracleService(w3, args.oracle, abi, source, keys, sender=sender, config=config, log=log, db_path=args.db)
    if args.interval is None:
        return service.run_once()
    return run_daemon(args, service, log, service.run_once)


def cmd_model(args, log: JsonLog, out) -> int:
    """Show what the oracle says of one model, the attestation first: backers should not fund an unattested one
    without proof of their own that the modeller owns it."""
    from oracle.typed_data import model_id_from_uuid

    try:
        abi = load_abi(args.abi)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(str(error)) from None
    w3 = connect(args.rpc)
    model_id = model_id_from_uuid(args.uuid)
    try:
        oracle = w3.eth.contract(address=w3.to_checksum_address(args.oracle), abi=abi).functions
        modeller, exposure, first_round, last_final = oracle.modelInfo(model_id).call()
        status = {
            "model_uuid": args.uuid,
            "model_id": "0x" + model_id.hex(),
            "registered": int(modeller, 16) != 0,
            "modeller": modeller,
            "attested": oracle.isAttested(model_id).call(),
            "exposure": fixed_to_decimal_string(exposure),
            "first_round": first_round,
            "last_final_round": last_final,
            "last_posted_round": oracle.lastPostedRound(model_id).call(),
        }
    except NETWORK_ERRORS as error:
        log("rpc_error", level="error", error=f"{type(error).__name__}: {error}")
        return EXIT_RPC
    if args.json:
        print(json.dumps(status), file=out)
    elif not status["registered"]:
        print(f"model {args.uuid}: not registered at this oracle", file=out)
    else:
        owner = (
            "ATTESTED: the oracle found the modeller's address in the owner's public Numerai profile"
            if status["attested"]
            else "NOT ATTESTED: nothing on-chain proves the modeller owns this model"
        )
        print(
            f"model {args.uuid}\n  modeller {modeller}\n  ownership {owner}\n  exposure {status['exposure']}\n"
            f"  rounds: first {first_round}, final through {last_final}, posted through "
            f"{status['last_posted_round']}",
            file=out,
        )
    return EXIT_OK


def _ledger_scopes(path: str) -> list[tuple[int, str]]:
    import sqlite3

    from oracle.store import ProgressStore

    if not Path(path).is_file():
        raise UsageError(f"no progress database at {path} (give --db)")
    ProgressStore(path, 0, "0x0").close()  # creates the ledger tables of an older database
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT DISTINCT chain_id, oracle FROM corrections ORDER BY chain_id, oracle"))


def cmd_ledger_list(args, log: JsonLog, out) -> int:
    from oracle.store import ProgressStore

    found = 0
    for chain_id, oracle in _ledger_scopes(args.db):
        store = ProgressStore(args.db, chain_id, oracle)
        for c in store.corrections(None if args.all else "open"):
            found += 1
            uuid = model_uuid(bytes.fromhex(c.model_id[2:])) or c.model_id
            print(
                f"chain {chain_id} oracle {oracle} model {uuid} round {c.round} [{c.status}]: ledger "
                f"{c.old_hash} -> {c.new_hash}\n  now: {c.new_json or 'unresolved'}",
                file=out,
            )
        store.close()
    if not found:
        print("no open corrections" if not args.all else "no corrections", file=out)
    return EXIT_OK


def cmd_ledger_accept(args, log: JsonLog, out) -> int:
    from oracle.store import ProgressStore
    from oracle.typed_data import model_id_from_uuid

    model_id = model_id_from_uuid(args.model)
    applied = 0
    for chain_id, oracle in _ledger_scopes(args.db):
        if args.oracle is not None and oracle != args.oracle.lower():
            continue
        store = ProgressStore(args.db, chain_id, oracle)
        correction = store.apply_correction(model_id, args.round)
        store.close()
        if correction is not None:
            applied += 1
            log(
                "ledger_correction_applied",
                chain_id=chain_id,
                oracle=oracle,
                model=args.model,
                round=args.round,
                old_hash=correction.old_hash,
                new_hash=correction.new_hash,
            )
            print(
                f"model {args.model} round {args.round}: the ledger now holds {correction.new_hash} (chain "
                f"{chain_id}, oracle {oracle}). If the round is already on-chain with the old values, dispute it.",
                file=out,
            )
    if not applied:
        raise UsageError(f"no open correction for model {args.model} round {args.round} in {args.db}")
    return EXIT_OK


def cmd_keystore_new(args, log: JsonLog, out) -> int:
    passwords = password_source(args)
    try:
        if passwords.env is None and passwords.file is None:
            import getpass

            password = getpass.getpass("New keystore password: ")
            if getpass.getpass("Repeat: ") != password:
                raise UsageError("the passwords differ")
        else:
            password = passwords.read(args.out)
        account = new_keystore(args.out, password)
    except KeystoreError as error:
        raise UsageError(str(error)) from None
    print(account.address, file=out)
    return EXIT_OK


def main(argv: list[str] | None = None, out=None, err=None) -> int:
    """Entry point of ``backing oracle``. @return the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2, message already on stderr)
        return int(exit_.code or 0)
    log = JsonLog(err)
    try:
        return args.handler(args, log, out)
    except UsageError as error:
        print(f"backing oracle: error: {error}", file=err)
        return EXIT_USAGE
    except OperatorError as error:
        print(f"backing oracle: error: {error}", file=err)
        return error.code


if __name__ == "__main__":
    sys.exit(main())

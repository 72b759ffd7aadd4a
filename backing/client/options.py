"""Options shared by the chain commands, and the wrapper that turns a CliError into its message and exit code."""

from __future__ import annotations

import argparse
import functools
import json
import sys

from backing.client import EXIT_CODES, EXIT_FAILED, EXIT_USAGE, CliError

EXIT_EPILOG = "exit codes: " + "; ".join(f"{code} {words}" for code, words in EXIT_CODES.items())


def add_node(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("node and deployment")
    group.add_argument(
        "--rpc-url",
        metavar="URL",
        help="the node's JSON-RPC URL (default $BACKING_RPC_URL, else " "http://127.0.0.1:8545)",
    )
    group.add_argument("--chain-id", type=int, metavar="N", help="refuse to run unless the node is on this chain")
    group.add_argument(
        "--manifest",
        metavar="FILE",
        help="the deployment manifest (default " "deployments/<chainId>.json in the working directory)",
    )


def add_account(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("account")
    group.add_argument(
        "--account", metavar="NAME", help="keystore ~/.brownie/accounts/NAME.json (see `backing " "account list`)"
    )
    group.add_argument("--keystore", metavar="FILE", help="a keystore file instead of --account")
    group.add_argument(
        "--password-file",
        metavar="FILE",
        help="the keystore password, first line (default " "$BACKING_PASSWORD_FILE; else a prompt, on a terminal only)",
    )


def add_sending(parser: argparse.ArgumentParser) -> None:
    add_node(parser)
    add_account(parser)
    group = parser.add_argument_group("sending")
    group.add_argument("--yes", "-y", action="store_true", help="send without asking for confirmation")
    group.add_argument("--dry-run", action="store_true", help="simulate (eth_call and gas estimate); send nothing")
    group.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for each receipt (default 300)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def command_parser(actions, name: str, help_text: str, function, sending: bool = True, json_out: bool = False):
    """One chain command: its help, the exit codes, the node (and, if it sends, the account and confirmation)
    options, and `--json` for what it prints."""
    p = actions.add_parser(name, help=help_text, description=help_text, epilog=EXIT_EPILOG)
    if sending:
        add_sending(p)
    else:
        add_node(p)
    if json_out:
        add_json(p)
    p.set_defaults(handler=function, now=None)
    return p


def print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str))


def handler(function):
    """Run a command; a CliError becomes `backing: error: ...` on stderr and its exit code."""

    @functools.wraps(function)
    def run(args) -> int:
        try:
            code = function(args)
            return 0 if code is None else code
        except CliError as error:
            print(f"backing: error: {error}", file=sys.stderr)
            return error.code
        except KeyboardInterrupt:
            print("backing: interrupted", file=sys.stderr)
            return EXIT_FAILED
        except (ValueError, KeyError) as error:
            from backing.model.terms import TermsError

            if isinstance(error, TermsError):
                print(f"backing: error: {error}", file=sys.stderr)
                return EXIT_USAGE
            raise

    return run


def sender(args, w3, chain_id):
    from backing.client.tx import Sender
    from backing.client.wallet import load_account

    return Sender(w3, load_account(args), chain_id, yes=args.yes, dry_run=args.dry_run, timeout=args.timeout)

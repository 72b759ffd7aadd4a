"""The oracle command line's shared options: argparse types, password and account options, the node connection
and the score source a command's arguments name. Both ``oracle.cli`` (run, model, ledger, keystore) and
``oracle.operator_cli`` (register, watch, dispute, resolve, signers) build on it, so neither imports the other's
internals."""

from __future__ import annotations

import argparse
import os
import re
import uuid as uuidlib

from oracle.errors import KeystoreError
from oracle.keys import PasswordSource, account_keystore


class UsageError(ValueError):
    """Bad arguments or unreadable inputs; exit code 2."""


def uuid_arg(text: str) -> str:
    try:
        return str(uuidlib.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a model UUID") from None


def address_arg(text: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 0x address")
    return text


def model_name_arg(text: str) -> tuple[str, str]:
    uuid, sep, name = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not UUID=NAME")
    return uuid_arg(uuid), name


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be positive")
        return value

    return parse


def add_password_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the keystore password from this environment " "variable (its name, not the password)",
    )
    group.add_argument(
        "--password-file",
        metavar="FILE",
        help="read the keystore password from this file's " "first line (default $BACKING_PASSWORD_FILE)",
    )


def account_file(name: str) -> str:
    """argparse type of the --...-account options: the named account's keystore file, which must exist."""
    try:
        path = account_keystore(name)
    except KeystoreError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"no account {name} ({path}): create it with `backing account new {name}` or `backing account import`"
        )
    return str(path)


def add_account_twins(parser: argparse.ArgumentParser) -> None:
    """Beside every `--keystore FILE` style option of every subcommand, `--account NAME` (and `--sender-account`,
    `--watcher-account`, `--owner-account`): a named account in ~/.brownie/accounts, the keystores `backing
    account` and `brownie accounts` manage. Both spellings fill the same list or value."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_account_twins(sub)
    for action in list(parser._actions):
        flag = next((o for o in action.option_strings if o.endswith("keystore") and o.startswith("--")), None)
        if flag is None or action.dest in ("keystore_command",):
            continue
        twin = flag.removesuffix("keystore") + "account"
        if twin in parser._option_string_actions:
            continue
        repeat = isinstance(action, argparse._AppendAction)
        parser.add_argument(
            twin,
            dest=action.dest,
            action="append" if repeat else "store",
            type=account_file,
            metavar="NAME",
            help=f"an account in ~/.brownie/accounts instead of {flag} FILE" + (" (repeat)" if repeat else ""),
        )


def add_numerai_options(parser) -> None:
    """The Numerai source's options (`make_source` reads them): its endpoint and the staking v3 cross-check."""
    parser.add_argument("--numerai-url", metavar="URL", help="Numerai GraphQL endpoint (default: Numerai's)")
    parser.add_argument(
        "--staking-v3",
        choices=("auto", "on", "off"),
        default="auto",
        help="cross-check each resolved round with Numerai's staking v3 data (payout factor, resolution): "
        "auto when API keys are set (NUMERAI_PUBLIC_ID, NUMERAI_SECRET_KEY), on to require them, off to skip "
        "(default auto)",
    )


def make_source(args, limits=None, w3=None):
    """The --source, checking results against `limits` (oracle.validate.Limits: the oracle's own bounds when
    the chain is known, the sources' defaults otherwise). With ``--clock chain`` the source's "now" (which rounds
    have opened or resolved) is the chain's latest block time, for local chains whose clock was moved ahead."""
    from oracle import sources

    extra = {} if limits is None else {"limits": limits}
    if getattr(args, "clock", "wall") == "chain" and w3 is not None and args.source != "file":
        extra["now"] = lambda: w3.eth.get_block("latest")["timestamp"]
    try:
        if args.source == "file":
            return sources.FileSource(args.file, **extra)
        if args.source == "synthetic":
            return sources.SyntheticSource(args.model or None, seed=args.seed, **extra)
        return sources.NumeraiSource(
            args.numerai_url,
            tournament=args.tournament,
            model_names=dict(args.model_name),
            staking_v3=getattr(args, "staking_v3", "auto"),
            **extra,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def password_source(args) -> PasswordSource:
    """--password-env, else --password-file, else $BACKING_PASSWORD_FILE (as the other chain commands), else a
    prompt."""
    file = args.password_file
    if file is None and args.password_env is None:
        file = os.environ.get("BACKING_PASSWORD_FILE") or None
    return PasswordSource(env=args.password_env, file=file)


def connect(url: str):
    from web3 import Web3

    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))

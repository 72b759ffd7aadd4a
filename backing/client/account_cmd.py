"""``backing account new|import|list``: keystores in ~/.brownie/accounts/ (shared with `brownie accounts`)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from backing.client import EXIT_ACCOUNT, EXIT_USAGE, CliError
from backing.client.options import add_json, handler, print_json
from backing.client.wallet import list_accounts, read_password, write_keystore


@handler
def cmd_new(args) -> int:
    password = read_password(args.password_file, f"the new account {args.name}", confirm=True)
    address, path = write_keystore(args.name, os.urandom(32), password)
    print(f"account {args.name}: {address}")
    print(f"  keystore {path} (keep the password: without it the key cannot be recovered)")
    return 0


@handler
def cmd_import(args) -> int:
    if args.key_file:
        try:
            text = Path(args.key_file).read_text().strip()
        except OSError as error:
            raise CliError(EXIT_ACCOUNT, f"cannot read {args.key_file}: {error.strerror}") from None
    elif sys.stdin.isatty():
        text = getpass.getpass("Private key (hex, hidden): ").strip()
    else:
        raise CliError(
            EXIT_USAGE,
            "no private key: give --key-file FILE (the key is never taken from the "
            "command line), or run on a terminal to be asked",
        )
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise CliError(EXIT_USAGE, "the private key must be 32 bytes of hex (64 hex digits, 0x optional)")
    password = read_password(args.password_file, f"the account {args.name}", confirm=True)
    address, path = write_keystore(args.name, key, password)
    print(f"account {args.name}: {address}")
    print(f"  keystore {path}")
    return 0


@handler
def cmd_list(args) -> int:
    rows = list_accounts()
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no accounts in ~/.brownie/accounts: create one with `backing account new NAME`")
        return 0
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(f"{row['name']:<{width}}  {row['address'] or '(address not recorded)'}")
    return 0


def add_parsers(commands) -> None:
    account = commands.add_parser(
        "account",
        help="keystore accounts (shared with `brownie accounts`)",
        description="Keystore accounts in ~/.brownie/accounts/ (brownie's format).",
    )
    actions = account.add_subparsers(dest="account_command", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="create an account with a fresh random key")
    new.add_argument("name", metavar="NAME")
    new.add_argument(
        "--password-file",
        metavar="FILE",
        help="the new password, first line (default " "$BACKING_PASSWORD_FILE; else asked twice on the terminal)",
    )
    new.set_defaults(handler=cmd_new, now=None)
    imp = actions.add_parser("import", help="encrypt an existing private key into an account")
    imp.add_argument("name", metavar="NAME")
    imp.add_argument(
        "--key-file",
        metavar="FILE",
        help="file holding the private key as hex (else a hidden " "prompt); delete it afterwards",
    )
    imp.add_argument("--password-file", metavar="FILE", help="the new password, first line")
    imp.set_defaults(handler=cmd_import, now=None)
    lst = actions.add_parser("list", help="the accounts and their addresses")
    add_json(lst)
    lst.set_defaults(handler=cmd_list, now=None)

"""Accounts from keystore files, brownie-compatible: ``~/.brownie/accounts/NAME.json`` (so ``brownie accounts``
and ``backing account`` share them) or any keystore file. Passwords come from ``--password-file`` or
$BACKING_PASSWORD_FILE (first line), else a prompt, and only on a terminal. A private key is never taken from the
command line and never printed; ``backing account import`` reads it from a file or a hidden prompt."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

from eth_account import Account

from backing.client import EXIT_ACCOUNT, EXIT_USAGE, CliError
from oracle.errors import KeystoreError
from oracle.keys import account_keystore, accounts_dir


def keystore_path(name: str) -> Path:
    """~/.brownie/accounts/NAME.json (the oracle service's rule: `oracle.keys`, so both read the same files)."""
    try:
        return account_keystore(name)
    except KeystoreError as error:
        raise CliError(EXIT_USAGE, str(error)) from None


def password_file(explicit: str | None) -> str | None:
    return explicit or os.environ.get("BACKING_PASSWORD_FILE") or None


def read_password(explicit_file: str | None, purpose: str, confirm: bool = False) -> str:
    """The password from the file (its first line), else a hidden prompt on a terminal; CliError otherwise."""
    path = password_file(explicit_file)
    if path:
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise CliError(EXIT_ACCOUNT, f"cannot read password file {path}: {error.strerror}") from None
        return text.splitlines()[0] if text else ""
    if not sys.stdin.isatty():
        raise CliError(
            EXIT_ACCOUNT,
            f"no password for {purpose}: there is no terminal to ask on; pass "
            "--password-file FILE or set BACKING_PASSWORD_FILE",
        )
    password = getpass.getpass(f"Password for {purpose}: ")
    if confirm and getpass.getpass("Repeat the password: ") != password:
        raise CliError(EXIT_ACCOUNT, "the two passwords differ; nothing written")
    return password


def read_keystore(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(
            EXIT_ACCOUNT, f"no keystore at {path}: create one with `backing account new` or " "`backing account import`"
        ) from None
    except OSError as error:
        raise CliError(EXIT_ACCOUNT, f"cannot read keystore {path}: {error.strerror}") from None
    except ValueError:
        raise CliError(EXIT_ACCOUNT, f"{path} is not a keystore (not JSON)") from None
    if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
        raise CliError(EXIT_ACCOUNT, f"{path} is not an Ethereum keystore")
    return data


def keystore_address(data: dict) -> str | None:
    from eth_utils import to_checksum_address

    address = data.get("address")
    return to_checksum_address("0x" + address.removeprefix("0x")) if address else None


def unlock(path: Path, password_file_option: str | None, label: str):
    """Decrypt a keystore. @return an eth-account LocalAccount."""
    data = read_keystore(path)
    password = read_password(password_file_option, label)
    try:
        key = Account.decrypt(data, password)
    except ValueError:
        raise CliError(EXIT_ACCOUNT, f"wrong password for {label} (the keystore did not decrypt)") from None
    return Account.from_key(key)


def resolve(account: str | None, keystore: str | None) -> tuple[Path, str]:
    """(keystore path, label) for --account NAME or --keystore FILE."""
    if account and keystore:
        raise CliError(EXIT_USAGE, "give --account NAME or --keystore FILE, not both")
    if keystore:
        return Path(keystore), f"keystore {keystore}"
    if account:
        return keystore_path(account), f"account {account}"
    raise CliError(
        EXIT_USAGE,
        "this command sends a transaction: give --account NAME (see `backing account " "list`) or --keystore FILE",
    )


def load_account(args):
    path, label = resolve(getattr(args, "account", None), getattr(args, "keystore", None))
    return unlock(path, getattr(args, "password_file", None), label)


def account_address(args) -> str:
    """The address of --account/--keystore without decrypting it (for read commands)."""
    path, _ = resolve(getattr(args, "account", None), getattr(args, "keystore", None))
    address = keystore_address(read_keystore(path))
    if address is None:
        raise CliError(EXIT_ACCOUNT, f"{path} does not name its address; give the address instead")
    return address


def write_keystore(name: str, private_key: bytes, password: str) -> tuple[str, Path]:
    """Encrypt and write ~/.brownie/accounts/NAME.json (owner-only, never overwriting). @return (address, path)."""
    if not password:
        raise CliError(EXIT_ACCOUNT, "refusing to encrypt a keystore with an empty password")
    path = keystore_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    account = Account.from_key(private_key)
    encrypted = Account.encrypt(account.key, password)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CliError(EXIT_ACCOUNT, f"account {name} exists ({path}); pick another name") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(encrypted, handle)
    return account.address, path


def list_accounts() -> list[dict]:
    rows = []
    folder = accounts_dir()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            address = keystore_address(json.loads(path.read_text()))
        except (OSError, ValueError, AttributeError):
            address = None
        rows.append({"name": path.stem, "address": address, "path": str(path)})
    return rows

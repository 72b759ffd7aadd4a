"""Signer and sender keys for the oracle service, from eth-account keystore files (scrypt/pbkdf2 JSON).

A private key never appears on a command line or in an environment variable: the service reads keystore
files and takes their password from an interactive prompt, from an environment variable named on the command
line, or from a file (first line). One password source serves every keystore a process loads."""

from __future__ import annotations

import getpass
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from oracle.errors import KeystoreError

# Named accounts live where brownie keeps its own (`brownie accounts`, `backing account` and `backing oracle
# ... --account NAME` share them); backing/client/wallet.py uses these two functions as well.
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def accounts_dir() -> Path:
    """~/.brownie/accounts: the folder of named keystores."""
    return Path(os.path.expanduser("~")) / ".brownie" / "accounts"


def account_keystore(name: str) -> Path:
    """The keystore file of account `name` (~/.brownie/accounts/NAME.json); KeystoreError for a bad name."""
    if not ACCOUNT_NAME.match(name) or name.startswith("."):
        raise KeystoreError(f"{name!r} is not an account name (letters, digits, '.', '_', '-')")
    return accounts_dir() / f"{name}.json"


@dataclass(frozen=True)
class PasswordSource:
    """Where a keystore password comes from: `env` (a variable name), `file` (a path), or else a prompt."""

    env: str | None = None
    file: str | None = None

    def read(self, purpose: str) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise KeystoreError(f"environment variable {self.env} (the keystore password) is not set")
            return value
        if self.file is not None:
            private_to_owner(self.file, "password file")
            try:
                text = Path(self.file).read_text()
            except OSError as error:
                raise KeystoreError(f"cannot read password file {self.file}: {error.strerror}") from None
            # the first line: editors and `echo` add a trailing newline that is not part of the password
            first = text.splitlines()[0] if text else ""
            if not first:
                raise KeystoreError(
                    f"password file {self.file}: the first line is empty (the password goes on " f"the first line)"
                )
            return first
        return getpass.getpass(f"Password for {purpose}: ")


def private_to_owner(path: str, what: str) -> None:
    """KeystoreError unless `path` is readable by its owner only (mode 0600 or stricter): a key or password any
    other local user can read is as good as published."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise KeystoreError(f"cannot read {what} {path}: {error.strerror}") from None
    if mode & 0o077:
        raise KeystoreError(
            f"{what} {path} can be read by other users (mode {mode & 0o777:o}): " f"run `chmod 600 {path}`"
        )


def load_keystore(path: str, password: str):
    """Decrypt one keystore file (readable by its owner only). @return an eth-account LocalAccount."""
    private_to_owner(path, "keystore")
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise KeystoreError(f"cannot read keystore {path}: {error.strerror}") from None
    except ValueError:
        raise KeystoreError(f"keystore {path} is not JSON") from None
    try:
        key = Account.decrypt(data, password)
    except ValueError as error:  # wrong password ("MAC mismatch") or a malformed keystore
        raise KeystoreError(f"cannot decrypt keystore {path}: {error}") from None
    except (KeyError, TypeError):
        raise KeystoreError(f"keystore {path} is not an eth-account keystore") from None
    return Account.from_key(key)


def load_keystores(paths, passwords: PasswordSource) -> list:
    """Decrypt each keystore; a prompt asks once per file, an env var or file password serves them all."""
    accounts = []
    shared = None if passwords.env is None and passwords.file is None else passwords.read("keystores")
    for path in paths:
        password = shared if shared is not None else passwords.read(path)
        accounts.append(load_keystore(path, password))
    return accounts


def new_keystore(out: str, password: str, private_key=None, kdf: str = "scrypt", iterations: int | None = None):
    """Write a keystore for a fresh random key (or `private_key`, for tests and migrations) to `out`, readable
    by its owner only; an existing file is never overwritten. @return the account."""
    if not password:
        raise KeystoreError("refusing to encrypt a keystore with an empty password")
    account = Account.from_key(private_key) if private_key is not None else Account.create()
    path = Path(out)
    try:
        # O_EXCL: two runs with the same --out cannot clobber each other's key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeystoreError(f"{out} exists; not overwriting a keystore") from None
    except OSError as error:
        raise KeystoreError(f"cannot create {out}: {error.strerror}") from None
    try:
        encrypted = Account.encrypt(account.key, password, kdf=kdf, iterations=iterations)
        with os.fdopen(fd, "w") as handle:
            json.dump(encrypted, handle)
    except BaseException:
        path.unlink(missing_ok=True)  # no empty or half-written keystore left behind
        raise
    return account

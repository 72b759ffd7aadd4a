"""An oracle operator on a local chain, for the demo and ``backing simulate --oracle-service``.

`OracleOperator` holds two of the three signer keys of a development oracle
(``backing.onchain.agreement.deploy_stack``'s ``signed.keys``; k = 2) in keystores, plus a fresh sender account
funded with test ether, and runs the oracle service (``backing oracle run --once``, in-process through
``oracle.cli.main``) against the chain and a Numerai GraphQL endpoint, normally the fake one ``start_fake_numerai``
serves. Needs brownie connected to the chain.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from oracle import cli as oracle_cli
from oracle.keys import new_keystore
from oracle.testing.fake_numerai import FakeNumerai, FakeNumeraiServer
from oracle.testing.fake_numerai import start as _start

ETHER = 10**18


def start_fake_numerai(fake: FakeNumerai) -> tuple[FakeNumeraiServer, str]:
    """Serve `fake` on loopback in a daemon thread: (server, url); stop with ``server.stop()``."""
    return _start(fake)


class OracleOperator:
    """One oracle operator holding two of the three signer keys (k = 2) in keystores, running the oracle
    service (`backing oracle run --once`) against the chain and a (fake) Numerai API.

    @param oracle The ScoreOracle (brownie contract).
    @param signed ``SignedOracle`` over the local signer keys (its first two keys become keystores).
    @param numerai_url The Numerai GraphQL endpoint.
    @param model_names {uuid: Numerai model name} of the models the service reports.
    @param attest Pass ``--attest``: attest models whose owner's profile names their modeller."""

    PASSWORD = "demo operator password"

    def __init__(
        self,
        oracle,
        signed,
        numerai_url: str,
        model_names: dict[str, str],
        attest: bool = True,
        prefix: str = "backing-demo-oracle-",
    ):
        from brownie import accounts, web3
        from eth_account import Account

        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.attest = attest
        (self.dir / "password").write_text(self.PASSWORD + "\n")
        (self.dir / "password").chmod(0o600)  # the service refuses a password file others can read
        self.keystores = []
        for i, key in enumerate(signed.keys[:2]):
            path = self.dir / f"signer{i}.json"
            new_keystore(str(path), self.PASSWORD, private_key=key.key, kdf="pbkdf2", iterations=10_000)
            self.keystores += ["--keystore", str(path)]
        # the account that pays for and sends the signed statements: a fresh key, funded with test ether
        sender = Account.create()
        self.sender = sender.address
        accounts[0].transfer(sender.address, 10 * ETHER, silent=True)
        new_keystore(
            str(self.dir / "sender.json"), self.PASSWORD, private_key=sender.key, kdf="pbkdf2", iterations=10_000
        )
        names = [arg for uuid, name in model_names.items() for arg in ("--model-name", f"{uuid}={name}")]
        self.common = [
            "--rpc",
            web3.provider.endpoint_uri,
            "--oracle",
            oracle.address,
            "--source",
            "numerai",
            "--numerai-url",
            numerai_url,
            *names,
            "--clock",
            "chain",
        ]  # the chain's clock moves ahead of the wall clock

    @property
    def log_path(self) -> Path:
        return self.dir / "service.log"

    def run(self) -> None:
        """One pass (announce, post, finalize, attest); AssertionError if the service exits non-zero."""
        argv = [
            "run",
            "--once",
            *self.common,
            *self.keystores,
            "--password-file",
            str(self.dir / "password"),
            "--sender-keystore",
            str(self.dir / "sender.json"),
            "--db",
            str(self.dir / "progress.sqlite"),
        ]
        code = self._quiet(argv + (["--attest"] if self.attest else []))
        if code != 0:
            raise AssertionError(f"the oracle service exited with {code}; its log: {self.log_path}")

    def dry_run(self) -> list[dict]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = self._quiet(["run", "--dry-run", "--json", *self.common])
        if code != 0:
            raise AssertionError(f"the oracle service's dry run exited with {code}")
        return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]

    def _quiet(self, argv) -> int:
        """Run the service with its JSON log lines (stderr) kept in a file, so the caller's output stays readable."""
        with open(self.log_path, "a") as log, contextlib.redirect_stderr(log):
            return oracle_cli.main(argv)

"""The CLI suites' helpers (tests/cli): the nodes the tests start, a user driving the installed `backing`, keystores,
and the oracle operations the stories need. Imported by tests/cli/conftest.py (the fixtures) and the tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BACKING = ROOT / ".venv" / "bin" / "backing"
BIN = ROOT / "node_modules" / ".bin"
PASSWORD = "correct horse battery staple"
#: anvil's and ganache's (--wallet.deterministic) first funded keys: the accounts the tests import.
ANVIL_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
]
GANACHE_KEYS = [
    "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d",
    "0x6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1",
    "0x6370fd033278c143179d81c5526140625662b8daa446c22ee2d73db3707e620c",
    "0x646f1ce2fdad0e6deeeb5c7e8e5543bdde65e86029e2fd9fc169899c440a7913",
    "0xadd53f9a7e588d003326d1cbf9e4a43c061aadd9bc938c843a79e7b4fd2ad743",
]
ROLES = ["deployer", "modeller", "alice", "bob", "relayer"]
# 8790-8791: left for nodes started by hand. BACKING_CLI_TEST_PORT moves the whole block (two checkouts side by side).
_BASE = int(os.environ.get("BACKING_CLI_TEST_PORT", "8792"))
PORTS = {"anvil": _BASE, "ganache": _BASE + 1}


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _rpc(url: str, method: str, params=None):
    answer = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=30
    ).json()
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


class Node:
    def __init__(self, kind: str, port: int):
        self.kind, self.port = kind, port
        self.url = f"http://127.0.0.1:{port}"
        self.keys = ANVIL_KEYS if kind == "anvil" else GANACHE_KEYS
        self.chain_id = 31337 if kind == "anvil" else 1337
        self.process = None

    def start(self):
        # the previous module's node may still be closing its port (its launcher's child exits last)
        deadline = time.time() + 10
        while not _free(self.port) and time.time() < deadline:
            time.sleep(0.1)
        assert _free(self.port), f"port {self.port} is taken: another test run?"
        if self.kind == "anvil":
            command = [str(BIN / "anvil"), "--port", str(self.port), "--silent"]
        else:
            command = [
                str(BIN / "ganache"),
                "--port",
                str(self.port),
                "--chain.chainId",
                str(self.chain_id),
                "--wallet.deterministic",
                "--logging.quiet",
                "--chain.hardfork",
                "shanghai",
            ]
        # its own process group: npm's anvil and ganache are launchers, and stop() must end the node they start too
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                _rpc(self.url, "eth_chainId")
                return self
            except (requests.exceptions.ConnectionError, RuntimeError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.kind} did not start on port {self.port}")

    def stop(self):
        """End the launcher and the node it started (the whole group), and wait until the port is closed."""
        if self.process is not None:
            group = self.process.pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
                self.process.wait()
            deadline = time.time() + 10
            while not _free(self.port) and time.time() < deadline:
                time.sleep(0.05)
            if not _free(self.port):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            self.process = None

    def rpc(self, method, params=None):
        return _rpc(self.url, method, params)

    def time_travel(self, seconds: int):
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine", [])

    def now(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def snapshot(self):
        return self.rpc("evm_snapshot")

    def revert(self, snap):
        assert self.rpc("evm_revert", [snap]) is True


class User:
    """A temporary HOME with keystores for every role and a working directory for manifests."""

    def __init__(self, home: Path, node: Node):
        self.home, self.node = home, node
        self.password_file = home / "password.txt"
        self.password_file.write_text(PASSWORD + "\n")
        self.work = home / "work"
        self.work.mkdir()
        self.addresses = {}

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKING_")}
        env.update(HOME=str(self.home), BACKING_RPC_URL=self.node.url, PATH=f"{BIN}:{env.get('PATH', '')}")
        env.update(extra)
        return env

    def run(self, *args, password=True, env=None, input=None, timeout=180) -> subprocess.CompletedProcess:
        extra = {"BACKING_PASSWORD_FILE": str(self.password_file)} if password else {}
        extra.update(env or {})
        return subprocess.run(
            [str(BACKING), *map(str, args)],
            cwd=self.work,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    def ok(self, *args, **kw) -> subprocess.CompletedProcess:
        result = self.run(*args, **kw)
        assert result.returncode == 0, (
            f"backing {' '.join(map(str, args))}: {result.returncode}\n{result.stdout}\n" f"{result.stderr}"
        )
        assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
        return result

    def fails(self, code: int, *args, **kw) -> str:
        """Run, expect exit `code` and one line on stderr; @return that line."""
        result = self.run(*args, **kw)
        assert result.returncode == code, f"expected {code}, got {result.returncode}\n{result.stdout}\n{result.stderr}"
        lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("waiting")]
        assert len(lines) == 1 and lines[0].startswith("backing: error: "), result.stderr
        return lines[0]

    def json(self, *args) -> dict:
        return json.loads(self.ok(*args, "--json").stdout)


def write_keystore(home: Path, name: str, key) -> str:
    """A real keystore file in ~/.brownie/accounts/, with a cheap KDF: scrypt at eth-account's default cost takes
    seconds per decryption on a loaded machine, and every command decrypts one. (`backing account new|import`
    write the default scrypt ones: test_deploy covers them.)"""
    from eth_account import Account

    folder = home / ".brownie" / "accounts"
    folder.mkdir(parents=True, exist_ok=True)
    account = Account.from_key(key)
    (folder / f"{name}.json").write_text(
        json.dumps(Account.encrypt(account.key, PASSWORD, kdf="pbkdf2", iterations=16))
    )
    return account.address


def copy_manifest_away(user) -> Path:
    path = user.work / "deployments" / f"{user.node.chain_id}.json"
    backup = user.home / "manifest.bak"
    shutil.copy(path, backup)
    return backup


class OracleOps:
    """The oracle operators' side of a test, over web3: announce rounds, post returns, finalize. (The product's
    `backing oracle run` does this from Numerai; here the returns are chosen by the test.)"""

    def __init__(self, user: User, manifest: dict):
        from eth_account import Account
        from web3 import Web3

        from backing.client.contracts import abi
        from oracle import typed_data as td

        self.td, self.node = td, user.node
        self.w3 = Web3(Web3.HTTPProvider(user.node.url))
        address = manifest["contracts"]["ScoreOracle"]["address"]
        self.oracle = self.w3.eth.contract(address=address, abi=abi("ScoreOracle"))
        folder = user.home / ".brownie" / "accounts"
        self.keys = [
            Account.from_key(Account.decrypt(json.loads((folder / f"signer{i}.json").read_text()), PASSWORD))
            for i in range(2)
        ]
        self.sender = Account.from_key(user.node.keys[4])
        self.domain = td.Domain(user.node.chain_id, address)

    def _send(self, fn):
        tx = fn.build_transaction(
            {
                "from": self.sender.address,
                "chainId": self.node.chain_id,
                "nonce": self.w3.eth.get_transaction_count(self.sender.address),
            }
        )
        tx_hash = self.w3.eth.send_raw_transaction(self.sender.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        assert receipt["status"] == 1
        return receipt

    def _sigs(self, primary, message):
        return self.td.ordered(self.td.sign(self.domain, primary, message, self.keys))

    def announce_through(self, round_: int):
        current = self.oracle.functions.currentRound().call()
        if current >= round_:
            return
        spacing = self.oracle.functions.minRoundSpacing().call()
        close = self.oracle.functions.currentRoundCloseTime().call()
        now = self.node.now()
        times = []
        for _ in range(current + 1, round_ + 1):
            close = max(now + 3600, close + spacing) if close else now + 3600
            times.append(close)
        deadline = now + 3600
        msg = self.td.announcement_message(self.oracle.functions.tournament().call(), current + 1, times, deadline)
        self._send(
            self.oracle.functions.announceRounds(current + 1, times, deadline, self._sigs("RoundAnnouncement", msg))
        )

    def post_returns(self, model_id: bytes, returns):
        from backing.onchain.oracle import return_report

        last = self.oracle.functions.lastPostedRound(model_id).call()
        tournament = self.oracle.functions.tournament().call()
        clip = self.oracle.functions.maxClip().call()
        self.post_reports(
            model_id, [return_report(model_id, last + 1 + i, v, clip, tournament) for i, v in enumerate(returns)]
        )

    def post_reports(self, model_id: bytes, reports):
        """Announce, post (signed by the quorum) and finalize consecutive reports after the last posted round."""
        last = self.oracle.functions.lastPostedRound(model_id).call()
        self.announce_through(last + len(reports))
        deadline = self.node.now() + 3600
        msg = self.td.batch_message(reports, deadline)
        self._send(
            self.oracle.functions.postReports([r.as_tuple() for r in reports], deadline, self._sigs("ReportBatch", msg))
        )
        self.node.time_travel(self.oracle.functions.challengeWindow().call() + 1)
        self._send(self.oracle.functions.finalize(model_id, 1000))

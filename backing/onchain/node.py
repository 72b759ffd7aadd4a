"""The local node ``backing simulate`` plays on: started by it on a free loopback port, or one named by --attach.

``find_binary`` looks for ganache or anvil in this checkout's ``node_modules/.bin`` (where ``make setup`` puts
them), then on PATH, so the command works from a fresh shell. ``start_node`` launches one in its own process group
(log in a temporary file), waits until it answers and returns a ``Node``; ``attach_node`` checks that a node the
user started is a development node on this machine. ``probe`` asks any RPC URL for its chain id and client, with
plain errors (``backing.errors.SIMULATION_PROBLEMS``) instead of tracebacks. Brownie is then attached to the node
(``connect``): it never launches or finds a binary itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from backing.errors import simulation_problem

#: The project root of this installation (``pip install -e .`` keeps it next to node_modules/).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: --node choices -> the executable's name in node_modules/.bin.
BINARIES = {"ganache": "ganache", "anvil": "anvil"}
#: Client names (web3_clientVersion prefixes) of the development nodes brownie can drive (clock, snapshots).
DEVELOPMENT_CLIENTS = ("ganache", "anvil", "hardhat")
#: brownie's network ids of the same nodes, accepted by --network for compatibility (``make demo`` used them).
BROWNIE_NETWORKS = {"ganache-cli": "ganache", "ganache": "ganache", "development": "anvil", "anvil": "anvil"}
NETWORK_ID = "backing-simulate"
GAS_LIMIT = 30_000_000


def find_binary(kind: str, root: Path = PROJECT_ROOT) -> str:
    """The path of node `kind` (ganache or anvil): this project's node_modules/.bin first, then PATH.
    @raise SimulationSetupError (node_missing) naming what to install."""
    name = BINARIES[kind]
    local = root / "node_modules" / ".bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    raise simulation_problem("node_missing", binary=name, root=root)


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rpc(url: str, method: str, params: list | None = None, timeout: float = 10):
    """One JSON-RPC call with the standard library. @return its result. @raise OSError/ValueError on failure."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise ValueError(reply["error"].get("message", str(reply["error"])))
    return reply["result"]


def probe(url: str, timeout: float = 10) -> tuple[int, str]:
    """(chain id, client version) of the node at `url`. @raise OSError or ValueError when it does not answer."""
    chain_id = int(rpc(url, "eth_chainId", timeout=timeout), 16)
    try:
        client = rpc(url, "web3_clientVersion", timeout=timeout)
    except ValueError:  # some providers do not serve it
        client = "unknown client"
    return chain_id, client


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__


@dataclass
class Node:
    """A node brownie will attach to: ``kind`` (ganache, anvil, or the client of an --attach node), its URL, and
    the process when simulate started it (None for --attach)."""

    kind: str
    url: str
    process: subprocess.Popen | None = None
    log: str | None = None
    chain_id: int = 0
    client: str = ""
    fork_url: str | None = None
    fork_block: int | None = None
    unlocked: list = field(default_factory=list)
    keep_log: bool = False  # set when a message points the user at the log

    @property
    def port(self) -> int:
        return urlparse(self.url).port

    @property
    def started(self) -> bool:
        return self.process is not None

    def describe(self) -> str:
        """One line for the user: which node, who started it, its chain id."""
        who = f"started by backing simulate on {self.url}" if self.started else f"attached at {self.url}"
        fork = ""
        if self.fork_url:
            fork = f", forking {self.fork_url} at block {self.fork_block}"
        client = "/".join(self.client.split("/")[:2])  # "Ganache/v7.9.2", "anvil/v1.7.1"
        return f"node: {client} ({who}{fork}), chain id {self.chain_id}"

    def stop(self) -> None:
        """End the node simulate started (its whole process group) and remove its log unless ``keep_log``; an
        attached node is left running."""
        if self.process is None:
            return
        if self.log and not self.keep_log:
            Path(self.log).unlink(missing_ok=True)
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
            # npm's anvil and ganache are launchers: the node itself is their child, which can still be serving
            # for a moment after the launcher exited; it is stopped once its group is gone or its port is closed
            # (a zombie left to a container's init stays in the group but serves nothing)
            deadline = time.monotonic() + 10
            while _group_alive(self.process.pid) and _answers(self.url) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _group_alive(self.process.pid) and _answers(self.url):
                os.killpg(self.process.pid, signal.SIGKILL)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def _answers(url: str) -> bool:
    """Whether something accepts connections at the host and port of `url`."""
    parsed = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=0.2):
            return True
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group `pgid` is still running."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def node_command(
    kind: str,
    binary: str,
    port: int,
    fork_url: str | None = None,
    fork_block: int | None = None,
    unlock: tuple[str, ...] = (),
) -> list[str]:
    """The command line of a local node as the project's tests use it: 10 accounts of 1000 ETH, 30M gas blocks,
    shanghai (what ganache 7 knows and the contracts are compiled for) unless forking on anvil, which takes the
    fork's own hardfork (today's mainnet is past Cancun)."""
    if kind == "ganache":
        command = [
            binary,
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--hardfork",
            "shanghai",
            "--wallet.mnemonic",
            "brownie",
            "--wallet.totalAccounts",
            "10",
            "--wallet.defaultBalance",
            "1000",
            "--miner.blockGasLimit",
            str(GAS_LIMIT),
            "--chain.vmErrorsOnRPCResponse",
            "true",
            "--logging.quiet",
        ]
        if fork_url:
            command += ["--fork.url", fork_url]
            if fork_block is not None:
                command += ["--fork.blockNumber", str(fork_block)]
        for address in unlock:
            command += ["--wallet.unlockedAccounts", address]
        return command
    command = [
        binary,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--accounts",
        "10",
        "--balance",
        "1000",
        "--gas-limit",
        str(GAS_LIMIT),
    ]
    if fork_url:
        command += ["--fork-url", fork_url]
        if fork_block is not None:
            command += ["--fork-block-number", str(fork_block)]
    else:
        command += ["--hardfork", "shanghai"]
    return command


def start_node(
    kind: str,
    fork_url: str | None = None,
    fork_block: int | None = None,
    unlock: tuple[str, ...] = (),
    timeout: float = 120,
) -> Node:
    """Start ganache or anvil on a free loopback port and wait until it answers.
    @raise SimulationSetupError (node_missing, node_failed)."""
    binary = find_binary(kind)
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix=f"backing-simulate-{kind}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        node_command(kind, binary, port, fork_url, fork_block, unlock),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    node = Node(
        kind,
        f"http://127.0.0.1:{port}",
        process,
        log.name,
        fork_url=fork_url,
        fork_block=fork_block,
        unlocked=list(unlock),
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            node.keep_log = True
            raise simulation_problem(
                "node_failed",
                kind=kind,
                port=port,
                detail=_last_line(log.name) or f"it exited with code {process.returncode}",
                log=log.name,
            )
        try:
            node.chain_id, node.client = probe(node.url, timeout=5)
            return node
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            node.keep_log = True
            node.stop()
            raise simulation_problem(
                "node_failed", kind=kind, port=port, detail=f"it did not answer within {timeout:.0f} s", log=log.name
            )
        time.sleep(0.2)


def _last_line(path: str) -> str:
    try:
        lines = [line.strip() for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def attach_node(url: str) -> Node:
    """A node the user started (--attach URL): it must answer, run on this machine and be a development node.
    @raise SimulationSetupError (attach_down, attach_remote, attach_not_development)."""
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1") or not parsed.port:
        raise simulation_problem("attach_remote", url=url)
    try:
        chain_id, client = probe(url)
    except (OSError, ValueError):
        raise simulation_problem("attach_down", url=url) from None
    if not client.lower().startswith(DEVELOPMENT_CLIENTS):
        raise simulation_problem("attach_not_development", url=url, client=client, chain_id=chain_id)
    return Node(client.split("/")[0].lower(), url, chain_id=chain_id, client=client)


def check_fork_source(url: str, fork_block: int | None, nmr: str) -> int:
    """The fork source answers, has the block asked for and NMR's code at its mainnet address (at that block).
    @return The block to fork at: `fork_block`, else the source's latest (pinned, so that ganache, which would
        otherwise fork a few blocks back, and anvil fork the same state). @raise SimulationSetupError
        (fork_source_down, fork_block_missing, fork_no_nmr)."""
    try:
        chain_id, client = probe(url, timeout=20)
        latest = int(rpc(url, "eth_blockNumber", timeout=20), 16)
        if fork_block is not None and fork_block > latest:
            raise simulation_problem("fork_block_missing", url=url, block=fork_block, latest=latest)
        block = latest if fork_block is None else fork_block
        code = rpc(url, "eth_getCode", [nmr, hex(block)], timeout=20)
    except (OSError, ValueError) as error:
        raise simulation_problem("fork_source_down", url=url, detail=_reason(error)) from None
    if code in (None, "0x", "0x0"):
        raise simulation_problem("fork_no_nmr", url=url, chain_id=chain_id, nmr=nmr)
    return block


def connect(node: Node):
    """Attach brownie to `node` (the project loaded, its contract containers in brownie's namespace).
    Brownie sees a development network whose port is taken, so it attaches instead of launching anything."""
    import contextlib
    import io
    import warnings

    import brownie
    from brownie._config import CONFIG

    here = os.getcwd()
    os.chdir(PROJECT_ROOT)  # brownie resolves remapped sources (node_modules/@openzeppelin/...) from the cwd
    try:
        project = brownie.project.load(str(PROJECT_ROOT), raise_if_loaded=False)
    finally:
        os.chdir(here)
    project.load_config()  # brownie-config.yaml's network settings (gas_price: auto), as `brownie run` does
    project._add_to_main_namespace()  # `from brownie import BackingAgreement`, as in `brownie run`
    parsed = urlparse(node.url)
    CONFIG.networks[NETWORK_ID] = {
        "id": NETWORK_ID,
        "name": node.describe(),
        "host": f"{parsed.scheme}://{parsed.hostname}",
        "cmd": "anvil" if node.kind == "anvil" else "ganache-cli",  # brownie: a development network
        "cmd_settings": {"port": parsed.port},
    }
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # "Attached to ...", block height
        warnings.simplefilter("ignore")
        brownie.network.connect(NETWORK_ID)
    return project


def disconnect(node: Node) -> None:
    """Detach brownie (never killing a node it did not start), then end the node if simulate started it."""
    import contextlib
    import io

    import brownie

    if brownie.network.is_connected():
        with contextlib.redirect_stdout(io.StringIO()):
            brownie.network.disconnect(kill_rpc=False)
    node.stop()

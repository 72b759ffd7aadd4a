"""The error paths a modeller or backer can hit, through the installed CLI (on anvil: the messages and codes do not
depend on the node; the story and the deploy tests run on both): each is one line on stderr, its own exit code,
and nothing is sent (the account's nonce and every NMR balance unchanged)."""

import json
import re
import threading
import uuid

import pytest

from backing.client import EXIT_ALLOWANCE, EXIT_BALANCE, EXIT_CHAIN, EXIT_DEPLOYMENT, EXIT_NODE, EXIT_REFUSED
from support.cli import OracleOps

PORT_OFFSET = 4  # anvil 8796

MODEL = str(uuid.UUID("11111111-2222-4333-8444-555555555555"))
TERMS = """\
model_id: "{model}"
unit_size: 100
min_units: 1
max_units: 5
profit_share: 0.5
burn_share: 0.5
reserve_ratio: 0.5
upfront_fee: 0
lockup_rounds: 1
open_for: 3d
wind_down: 7d
staking_address: "{staking}"
"""


@pytest.fixture(scope="module", params=["anvil"])
def node(request):
    from support.cli import PORTS, Node

    started = Node(request.param, PORTS[request.param] + PORT_OFFSET).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def agreement(user, deployed, tmp_path_factory):
    """A registered model and an open agreement on it (5 units of 100 NMR)."""
    a = user.addresses
    OracleOps(user, deployed).announce_through(1)
    signers = [x for i in range(2) for x in ("--signer-keystore", user.home / ".brownie/accounts" / f"signer{i}.json")]
    user.ok(
        "model",
        "register",
        MODEL,
        "--modeller",
        a["modeller"],
        "--first-round",
        1,
        *signers,
        "--account",
        "relayer",
        "--yes",
    )
    terms = tmp_path_factory.mktemp("terms") / "terms.yaml"
    terms.write_text(TERMS.format(model=MODEL, staking=a["modeller"]))
    out = user.ok("agreement", "create", terms, "--account", "modeller", "--yes").stdout
    return re.search(r"^agreement (0x[0-9a-fA-F]{40})$", out, re.M).group(1)


@pytest.fixture
def snap(node, agreement):
    s = node.snapshot()
    yield agreement
    node.revert(s)


def _nonce(user, who):
    return user.node.rpc("eth_getTransactionCount", [user.addresses[who], "latest"])


def test_over_capacity(user, snap):
    before = _nonce(user, "alice")
    line = user.fails(EXIT_REFUSED, "deposit", snap, 6, "--account", "alice", "--yes")
    assert "only 5 units" in line or "5" in line
    assert _nonce(user, "alice") == before


def test_insufficient_balance(user, snap):
    # relayer holds no NMR
    before = _nonce(user, "relayer")
    line = user.fails(EXIT_BALANCE, "deposit", snap, 1, "--account", "relayer", "--yes")
    assert "holds 0 NMR" in line and "100 NMR" in line
    assert _nonce(user, "relayer") == before


def test_no_allowance(user, snap):
    before = _nonce(user, "alice")
    line = user.fails(EXIT_ALLOWANCE, "deposit", snap, 1, "--account", "alice", "--yes", "--no-approve")
    assert "may spend 0 NMR" in line and "--no-approve" in line
    assert _nonce(user, "alice") == before


def test_lock_window_passed(user, snap):
    user.ok("deposit", snap, 2, "--account", "alice", "--yes")
    user.ok("agreement", "reserve", snap, "--account", "modeller", "--yes")
    user.node.time_travel(2 * 86400)  # round 1 closed an hour after now; the schedule goes stale 22 h later
    before = _nonce(user, "modeller")
    line = user.fails(EXIT_REFUSED, "agreement", "lock", snap, "--account", "modeller", "--yes")
    assert "round schedule is stale" in line or "stale" in line.lower()
    assert _nonce(user, "modeller") == before


def test_wrong_contract_address(user, snap, deployed):
    line = user.fails(
        EXIT_DEPLOYMENT, "deposit", deployed["contracts"]["NMR"]["address"], 1, "--account", "alice", "--yes"
    )
    assert "not an agreement" in line
    line = user.fails(EXIT_DEPLOYMENT, "agreement", "show", "0x" + "34" * 20)
    assert "not an agreement" in line


def test_wrong_chain_id_and_manifest(user, snap, tmp_path):
    line = user.fails(EXIT_CHAIN, "agreement", "list", "--chain-id", 1)
    assert "chain id" in line
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"chain_id": 5, "contracts": {}}))
    line = user.fails(EXIT_CHAIN, "agreement", "list", "--manifest", other)
    assert "chain id 5" in line


def test_node_down_mid_wait(user, snap):
    """The node stops answering after the transaction is sent: exit 3, the hash printed, no traceback."""
    import socket
    import subprocess

    from support.cli import BACKING

    # a proxy that forwards to the node until told to stop, then refuses connections
    proxy_port = user.node.port + 1
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", proxy_port))
    server.listen(16)
    state = {"sent": False, "down": False}

    def serve():
        import requests

        while not state["down"]:
            try:
                server.settimeout(0.2)
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
                while len(body) < length:
                    body += conn.recv(65536)
                if state["sent"]:
                    state["down"] = True  # the first request after the send: drop the connection
                    break
                if b"eth_sendRawTransaction" in body:
                    state["sent"] = True
                answer = requests.post(user.node.url, data=body, headers={"Content-Type": "application/json"})
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(answer.content)).encode()
                    + b"\r\nConnection: close\r\n\r\n"
                    + answer.content
                )
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    # the deposit's first transaction (the approval) is sent, then the node is gone while the CLI waits for it
    result = subprocess.run(
        [
            str(BACKING),
            "deposit",
            snap,
            "1",
            "--account",
            "alice",
            "--yes",
            "--rpc-url",
            f"http://127.0.0.1:{proxy_port}",
        ],
        cwd=user.work,
        env=user.env(BACKING_PASSWORD_FILE=str(user.password_file)),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    state["down"] = True
    thread.join(timeout=5)
    assert result.returncode == EXIT_NODE, result.stdout + result.stderr
    sent = re.search(r"sent NMR.approve: (0x[0-9a-f]{64})", result.stdout)
    assert sent, result.stdout
    line = result.stderr.strip().splitlines()[-1]
    assert "stopped answering while waiting" in line and sent.group(1) in line and "Traceback" not in result.stderr
    # the deposit itself was never sent: the agreement holds nothing
    assert user.json("agreement", "show", snap)["units"] == 0

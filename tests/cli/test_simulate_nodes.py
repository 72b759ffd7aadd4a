"""`backing simulate` and nodes: it starts its own on a free port and never deploys on a node it did not start
unless told (--attach URL), which it then leaves running; it says which node and chain id it deploys on; every way
to fail before comparing has its own exit code and one plain line on stderr."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from backing.errors import (
    EXIT_SIMULATION_CHAIN,
    EXIT_SIMULATION_FORK_SOURCE,
    EXIT_SIMULATION_NODE,
)
from backing.onchain import node

ROOT = Path(__file__).resolve().parents[2]
BACKING = ROOT / ".venv" / "bin" / "backing"
SEED = ROOT / "examples" / "scenarios" / "seed-gain-repaid.yaml"
ENV = {"PATH": "/usr/bin:/bin"}


def simulate(*args, timeout=300):
    import os

    env = {**ENV, "HOME": os.environ["HOME"]}
    return subprocess.run(
        [str(BACKING), "simulate", *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout
    )


def block_number(url):
    return int(requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}).json()["result"], 16)


@pytest.fixture
def bystander():
    """An anvil someone else started: simulate must not touch it unless --attach names it."""
    started = node.start_node("anvil")
    yield started
    started.stop()


def test_simulate_leaves_a_node_it_did_not_start_alone(bystander):
    done = simulate(SEED, "--node", "anvil")
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [l for l in done.stdout.splitlines() if l.startswith("node: ")]
    url = re.search(r"started by backing simulate on (\S+)\)", line).group(1)
    assert url != bystander.url and line.endswith("chain id 31337")
    assert block_number(bystander.url) == 0  # nothing was deployed on it


def test_attach_deploys_on_the_named_node_and_leaves_it_running(bystander, tmp_path):
    done = simulate(SEED, "--attach", bystander.url, "--json", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "node: anvil/" in done.stdout and f"(attached at {bystander.url}), chain id 31337" in done.stdout
    assert json.loads((tmp_path / "out.json").read_text())["reference_match"] is True
    assert bystander.process.poll() is None and block_number(bystander.url) > 0


def test_attach_refuses_a_node_that_is_not_a_development_node(tmp_path):
    """A JSON-RPC server that calls itself Geth on chain id 1: simulate refuses it (exit 4) before deploying."""
    import http.server
    import threading

    class FakeMainnet(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            result = {"eth_chainId": "0x1", "web3_clientVersion": "Geth/v1.14.0-stable/linux-amd64/go1.22"}
            body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result.get(request["method"])})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), FakeMainnet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        done = simulate(SEED, "--attach", url, timeout=60)
    finally:
        server.shutdown()
    assert done.returncode == EXIT_SIMULATION_CHAIN
    assert done.stderr == (
        f"backing: error: --attach {url} is Geth/v1.14.0-stable/linux-amd64/go1.22 (chain id 1), "
        f"not a development node (ganache, anvil or hardhat): simulate deploys test contracts and "
        f"moves the clock, so it runs only there; to play on mainnet's state, fork it: "
        f"--fork-url URL\n"
    )


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["--attach", "http://127.0.0.1:1"], EXIT_SIMULATION_NODE, "nothing answers at --attach http://127.0.0.1:1"),
        (
            ["--fork-url", "http://127.0.0.1:1"],
            EXIT_SIMULATION_FORK_SOURCE,
            "the fork source http://127.0.0.1:1 cannot be reached",
        ),
        (["--network", "mainnet"], EXIT_SIMULATION_NODE, "--network mainnet: simulate starts ganache or anvil itself"),
        (["--nmr-holder", "0x" + "11" * 20], 2, "--fork-block and --nmr-holder go with --fork-url"),
    ],
)
def test_failures_before_comparing_have_their_own_codes(args, code, message):
    done = simulate(SEED, *args, timeout=60)
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith(f"backing: error: {message}") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_invalid_scenario_is_exit_2_before_any_node(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("agreements: []\nrounds: []\n")
    done = simulate(path, timeout=60)
    assert done.returncode == 2
    assert done.stderr == "backing: error: agreements must be a list of one or more agreements\n"
    assert "node:" not in done.stdout

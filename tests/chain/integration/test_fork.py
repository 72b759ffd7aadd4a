"""Fork simulation, offline: a local "mainnet" with NMR at its mainnet address, forked by ``backing simulate``.

Chain A (anvil on a free loopback port, chain id 1) plays mainnet: the quirk-faithful MockNMR's runtime code is put
at NMR's mainnet address with ``anvil_setCode`` (its ``owner`` is an immutable, so the code carries it; its storage
starts empty) and a holder is given NMR with the faucet. Then ``backing simulate --fork-url A`` starts anvil B
forking A, deploys the oracle and the factory (or the series) there, funds everyone from the impersonated holder
(``--nmr-holder``) or by writing NMR balances into B's storage, and plays the scenario. Chain A is driven with web3
directly (this session's brownie is connected to its own chain); the CLI runs in a subprocess, from a fresh shell's
PATH, with a brownie of its own. Every process started here is ended by its fixture.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from backing.errors import EXIT_SIMULATION_CHAIN, EXIT_SIMULATION_FUNDING
from backing.onchain import node
from backing.simulate import NMR_MAINNET

ROOT = Path(__file__).resolve().parents[3]
HOLDER = "0x00000000000000000000000000000000000b0B0b"  # not one of B's own accounts: must be impersonated
EMPTY_HOLDER = "0x000000000000000000000000000000000000dEaD"
HOLDING = 10_000 * 10**18


def start_anvil(*extra):
    binary = node.find_binary("anvil")
    port = node.free_port()
    process = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--accounts", "3", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started = node.Node("anvil", f"http://127.0.0.1:{port}", process)
    w3 = Web3(Web3.HTTPProvider(started.url))
    for _ in range(300):
        if w3.is_connected():
            return started, w3
        assert process.poll() is None, "anvil exited"
        import time

        time.sleep(0.1)
    started.stop()
    raise AssertionError("anvil did not start")


@pytest.fixture(scope="module")
def chain_a(request):
    """Anvil A (chain id 1) with NMR (the mock) at its mainnet address and HOLDER holding 10,000 NMR. Yields its
    Node, web3 and the token contract; the anvil process is ended at the end of the module."""
    started, w3 = start_anvil("--chain-id", "1")
    request.addfinalizer(started.stop)
    build = json.loads((ROOT / "build" / "contracts" / "MockNMR.json").read_text())
    sender = w3.eth.accounts[0]
    mock = w3.eth.contract(abi=build["abi"], bytecode=build["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(mock.constructor().transact({"from": sender}))
    runtime = w3.eth.get_code(receipt.contractAddress)
    w3.provider.make_request("anvil_setCode", [NMR_MAINNET, "0x" + runtime.hex().removeprefix("0x")])
    token = w3.eth.contract(address=NMR_MAINNET, abi=build["abi"])
    w3.eth.wait_for_transaction_receipt(token.functions.mintTo(HOLDER, HOLDING).transact({"from": sender}))
    assert token.functions.balanceOf(HOLDER).call() == HOLDING
    assert token.functions.symbol().call() == "NMR"
    yield started, w3, token


def simulate(tmp_path, scenario, *extra, timeout=300):
    """`backing simulate` in a subprocess with a fresh shell's PATH (nothing of the project on it)."""
    out = tmp_path / "out.json"
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]}
    done = subprocess.run(
        [sys.executable, "-m", "backing.cli", "simulate", str(ROOT / scenario), "--json", str(out), *map(str, extra)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr, out


def test_seed_example_on_a_fork_funded_by_a_holder(chain_a, tmp_path):
    a, w3, token = chain_a
    block = w3.eth.block_number
    code, stdout, stderr, out = simulate(
        tmp_path,
        "examples/scenarios/seed-gain-repaid.yaml",
        "--fork-url",
        a.url,
        "--fork-block",
        block,
        "--nmr-holder",
        HOLDER,
    )
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["reference_match"] is True
    [agreement] = data["agreements"]
    assert (agreement["final_value"], agreement["repaid"], agreement["reserve_returned"]) == ("140", "120", "50")
    assert agreement["backers"]["alice"]["received"] == "120"
    assert "reference match: yes" in stdout
    # anvil by default, on the fork's chain id, at the block asked for; the NMR is the one at the mainnet address
    assert f"forking {a.url} at block {block}), chain id 1" in stdout and "node: anvil/" in stdout
    assert f"deployed: NMR {NMR_MAINNET}" in stdout and f"funded from the holder {HOLDER}" in stdout
    # the fork never wrote back to chain A
    assert token.functions.balanceOf(HOLDER).call() == HOLDING


def test_series_on_a_fork_funded_by_storage_writes(chain_a, tmp_path):
    a, w3, token = chain_a
    code, stdout, stderr, out = simulate(tmp_path, "examples/scenarios/series-rollover.yaml", "--fork-url", a.url)
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["reference_match"] is True and len(data["agreements"]) == 3
    assert [a_["phase"] for a_ in data["agreements"]] == ["Settled"] * 3
    assert "by writing its balances (anvil_setStorageAt)" in stdout and f"deployed: NMR {NMR_MAINNET}" in stdout
    assert "reference match: yes" in stdout
    assert token.functions.totalSupply().call() == HOLDING  # chain A untouched


def test_a_holder_without_nmr_is_a_funding_error(chain_a, tmp_path):
    a, _, _ = chain_a
    code, stdout, stderr, _ = simulate(
        tmp_path,
        "examples/scenarios/seed-gain-repaid.yaml",
        "--fork-url",
        a.url,
        "--nmr-holder",
        EMPTY_HOLDER,
        timeout=120,
    )
    assert code == EXIT_SIMULATION_FUNDING
    assert stderr.startswith(f"backing: error: the NMR holder {EMPTY_HOLDER} holds no NMR on the fork")
    assert "Traceback" not in stderr


def test_a_source_without_nmr_is_the_wrong_chain(tmp_path):
    other, _ = start_anvil()
    try:
        code, stdout, stderr, _ = simulate(
            tmp_path, "examples/scenarios/seed-gain-repaid.yaml", "--fork-url", other.url, timeout=60
        )
    finally:
        other.stop()
    assert code == EXIT_SIMULATION_CHAIN
    assert stderr == (
        f"backing: error: the fork source {other.url} (chain id 31337) has no contract at NMR's mainnet "
        f"address {NMR_MAINNET}: fork an Ethereum mainnet node\n"
    )
    assert "node:" not in stdout  # refused before any node was started


def test_a_ganache_fork_needs_a_holder(chain_a, tmp_path):
    a, _, _ = chain_a
    code, stdout, stderr, _ = simulate(
        tmp_path, "examples/scenarios/seed-gain-repaid.yaml", "--fork-url", a.url, "--node", "ganache", timeout=60
    )
    assert code == EXIT_SIMULATION_FUNDING
    assert "needs anvil" in stderr


def test_ganache_fork_with_a_holder(chain_a, tmp_path):
    """ganache 7 still serves for sources it knows (Shanghai at most): here the local "mainnet"."""
    a, _, token = chain_a
    code, stdout, stderr, out = simulate(
        tmp_path,
        "examples/scenarios/seed-loss-default.yaml",
        "--fork-url",
        a.url,
        "--node",
        "ganache",
        "--nmr-holder",
        HOLDER,
    )
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    assert "node: Ganache/" in stdout and f"forking {a.url} at block " in stdout
    assert json.loads(out.read_text())["agreements"][0]["phase"] == "Defaulted"
    assert token.functions.balanceOf(HOLDER).call() == HOLDING


def test_a_block_the_source_does_not_have(chain_a, tmp_path):
    from backing.errors import EXIT_SIMULATION_FORK_SOURCE

    a, w3, _ = chain_a
    code, _, stderr, _ = simulate(
        tmp_path, "examples/scenarios/seed-gain-repaid.yaml", "--fork-url", a.url, "--fork-block", 10**9, timeout=60
    )
    assert code == EXIT_SIMULATION_FORK_SOURCE
    assert stderr.startswith(f"backing: error: the fork source {a.url} has no block 1000000000 (its latest is ")

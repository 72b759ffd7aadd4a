"""Fork simulation, offline: a local "mainnet" with NMR at its mainnet address, forked by ``backing simulate``.

Chain A (ganache on a loopback port) plays mainnet: the quirk-faithful MockNMR's runtime code is put at NMR's
mainnet address with ``evm_setAccountCode`` (its ``owner`` is an immutable, so the code carries it; its storage
starts empty) and a holder is given NMR with the faucet. Then ``backing simulate --fork-url A --nmr-holder H``
launches ganache B forking A, deploys the oracle and the factory there, funds everyone from the impersonated
holder and plays a scenario. Chain A is driven with web3 directly (this session's brownie is connected to its
own chain); the CLI runs in a subprocess with a brownie of its own. Every process started here is killed by its
fixture, by process group.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web3 import Web3

from backing.simulate import NMR_MAINNET

ROOT = Path(__file__).resolve().parents[3]
GANACHE = ROOT / "node_modules" / ".bin" / "ganache"
PORT_A = int(os.environ.get("BACKING_FORK_TEST_PORT_A", "8621"))
PORT_B = int(os.environ.get("BACKING_FORK_TEST_PORT_B", "8622"))
HOLDER = "0x00000000000000000000000000000000000b0B0b"  # not one of B's own accounts: must be impersonated
HOLDING = 10_000 * 10**18


def start(args, **kwargs):
    """Start a process in its own process group (so that it and its children can be ended together)."""
    return subprocess.Popen(args, cwd=ROOT, start_new_session=True, **kwargs)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def chain_a(request):
    """Ganache A with NMR (the mock) at its mainnet address and HOLDER holding 10,000 NMR. Yields web3 and the
    token contract; the ganache process is killed at the end of the module."""
    process = start([str(GANACHE), "--server.host", "127.0.0.1", "--server.port", str(PORT_A), "--hardfork",
                     "shanghai", "--wallet.mnemonic", "brownie", "--wallet.totalAccounts", "3",
                     "--miner.blockGasLimit", "30000000", "--logging.quiet"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    request.addfinalizer(lambda: stop(process))
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{PORT_A}"))
    deadline = time.time() + 60
    while not w3.is_connected():
        assert process.poll() is None, "ganache A exited"
        assert time.time() < deadline, "ganache A did not start"
        time.sleep(0.2)

    build = json.loads((ROOT / "build" / "contracts" / "MockNMR.json").read_text())
    sender = w3.eth.accounts[0]
    mock = w3.eth.contract(abi=build["abi"], bytecode=build["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(mock.constructor().transact({"from": sender}))
    runtime = w3.eth.get_code(receipt.contractAddress)
    assert w3.provider.make_request("evm_setAccountCode", [NMR_MAINNET, "0x" + runtime.hex().removeprefix("0x")])
    token = w3.eth.contract(address=NMR_MAINNET, abi=build["abi"])
    w3.eth.wait_for_transaction_receipt(token.functions.mintTo(HOLDER, HOLDING).transact({"from": sender}))
    assert token.functions.balanceOf(HOLDER).call() == HOLDING
    assert token.functions.symbol().call() == "NMR"
    yield w3, token


def simulate_on_fork(tmp_path, scenario, *extra, timeout=150):
    out = tmp_path / "out.json"
    process = start([sys.executable, "-m", "backing.cli", "simulate", str(ROOT / scenario), "--json", str(out),
                     "--fork-url", f"http://127.0.0.1:{PORT_A}", "--fork-port", str(PORT_B), *extra],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    env={**os.environ, "PATH": f"{GANACHE.parent}:{os.environ['PATH']}"})
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        stop(process)  # the CLI and the ganache B it launched
    return process.returncode, stdout, stderr, out


def test_seed_example_on_a_fork(chain_a, tmp_path):
    w3, token = chain_a
    code, stdout, stderr, out = simulate_on_fork(tmp_path, "examples/scenarios/seed-gain-repaid.yaml",
                                                 "--nmr-holder", HOLDER)
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["reference_match"] is True
    [agreement] = data["agreements"]
    assert (agreement["final_value"], agreement["repaid"], agreement["reserve_returned"]) == ("140", "120", "50")
    assert agreement["backers"]["alice"]["received"] == "120"
    assert "reference match: yes" in stdout
    # the fork's NMR is the one at the mainnet address, and the fork never wrote back to chain A
    assert f"deployed: NMR {NMR_MAINNET}" in stdout
    assert token.functions.balanceOf(HOLDER).call() == HOLDING


def test_fork_needs_a_holder(chain_a, tmp_path):
    code, stdout, stderr, out = simulate_on_fork(tmp_path, "examples/scenarios/seed-gain-repaid.yaml", timeout=60)
    assert code == 2
    assert "--fork-url needs --nmr-holder" in stderr

"""backing.onchain.node: finding the project's node binaries without PATH, and its plain errors (no node started
here except where a test says so)."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from backing.errors import (
    EXIT_SIMULATION_CHAIN,
    EXIT_SIMULATION_FORK_SOURCE,
    EXIT_SIMULATION_NODE,
    SIMULATION_EXIT_CODES,
    SimulationSetupError,
)
from backing.onchain import node


def test_finds_the_projects_own_binaries_without_path(monkeypatch):
    monkeypatch.setenv("PATH", "")
    for kind in ("ganache", "anvil"):
        found = node.find_binary(kind)
        assert found == str(node.PROJECT_ROOT / "node_modules" / ".bin" / kind)


def test_falls_back_to_path(monkeypatch, tmp_path):
    binary = tmp_path / "bin" / "anvil"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(binary.parent))
    assert node.find_binary("anvil", root=tmp_path / "elsewhere") == str(binary)


def test_a_missing_binary_says_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SimulationSetupError) as error:
        node.find_binary("ganache", root=tmp_path)
    assert error.value.code == EXIT_SIMULATION_NODE
    assert str(error.value) == (
        f"ganache is not installed: run `make setup` in {tmp_path} (it installs ganache and "
        f"anvil into node_modules), or put ganache on PATH"
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_attach_to_nothing_is_a_plain_error():
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(SimulationSetupError, match=r"^nothing answers at --attach ") as error:
        node.attach_node(url)
    assert error.value.code == EXIT_SIMULATION_NODE


def test_attach_only_on_this_machine():
    with pytest.raises(SimulationSetupError, match="only to a node on this machine"):
        node.attach_node("https://mainnet.example/v2/KEY")


def test_unreachable_fork_source_has_its_own_code():
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(
        SimulationSetupError, match=r"^the fork source http://127\.0\.0\.1:\d+ cannot be reached"
    ) as error:
        node.check_fork_source(url, None, "0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671")
    assert error.value.code == EXIT_SIMULATION_FORK_SOURCE


def test_exit_codes_are_distinct_and_documented():
    assert list(SIMULATION_EXIT_CODES)[:3] == [0, 1, 2]
    assert len(set(SIMULATION_EXIT_CODES)) == len(SIMULATION_EXIT_CODES)
    assert EXIT_SIMULATION_CHAIN in SIMULATION_EXIT_CODES
    from backing.cli import build_parser

    parser = build_parser()
    help_text = parser._subparsers._group_actions[0].choices["simulate"].format_help()
    for code, words in SIMULATION_EXIT_CODES.items():
        assert f"  {code}  {words}" in help_text
    docs = (node.PROJECT_ROOT / "docs" / "developer.md").read_text(encoding="utf-8")
    for code in SIMULATION_EXIT_CODES:
        assert f"| {code} |" in docs


def test_node_commands():
    ganache = node.node_command("ganache", "/x/ganache", 9000, "http://src", 12, ("0xabc",))
    assert ganache[:5] == ["/x/ganache", "--server.host", "127.0.0.1", "--server.port", "9000"]
    assert ["--fork.url", "http://src"] == ganache[ganache.index("--fork.url") :][:2]
    assert ["--fork.blockNumber", "12"] == ganache[ganache.index("--fork.blockNumber") :][:2]
    assert "--chain.vmErrorsOnRPCResponse" in ganache  # brownie decodes reverts from it
    anvil = node.node_command("anvil", "/x/anvil", 9000, "http://src", 12)
    assert "--hardfork" not in anvil  # a fork takes its source's hardfork (today's mainnet is past Cancun)
    assert ["--fork-block-number", "12"] == anvil[anvil.index("--fork-block-number") :][:2]
    assert ["--hardfork", "shanghai"] == node.node_command("anvil", "a", 1)[-2:]


def test_started_node_is_ended_by_stop():
    started = node.start_node("anvil")
    try:
        assert started.chain_id == 31337 and started.client.startswith("anvil")
        assert node.attach_node(started.url).kind == "anvil"  # a development node attaches
        assert "started by backing simulate" in started.describe()
    finally:
        started.stop()
    assert started.process.poll() is not None
    assert not os.path.exists(started.log)  # a node that ran fine leaves no log behind
    with pytest.raises(SimulationSetupError):
        node.attach_node(started.url)


def test_a_node_that_stops_answering_mid_run_is_exit_3(monkeypatch, tmp_path, capsys):
    """run_file maps a lost connection during the run to the node problem, and still ends its node."""
    import requests

    from backing import simulate
    from backing.cli import main

    stopped = []
    fake = node.Node("ganache", "http://127.0.0.1:1", log="/tmp/x.log", chain_id=1337, client="Ganache/v7.9.2")
    monkeypatch.setattr(node, "start_node", lambda *a, **k: fake)
    monkeypatch.setattr(node, "connect", lambda n: None)
    monkeypatch.setattr(node, "disconnect", lambda n: stopped.append(n))

    def lost(*args, **kwargs):
        raise requests.exceptions.ConnectionError("connection refused")

    monkeypatch.setattr(simulate.command, "run", lost)  # what run_file calls
    assert (
        main(["simulate", str(node.PROJECT_ROOT / "examples" / "scenarios" / "seed-gain-repaid.yaml")])
        == EXIT_SIMULATION_NODE
    )
    assert stopped == [fake]
    assert capsys.readouterr().err == (
        "backing: error: the node at http://127.0.0.1:1 stopped answering during the "
        "simulation (ConnectionError); nothing was compared: run again (the node's "
        "log: /tmp/x.log)\n"
    )


def test_a_node_that_cannot_start_says_why_and_keeps_its_log(monkeypatch, tmp_path):
    """A binary that exits at once (here a script standing for a broken install): node_failed with its last words."""
    from pathlib import Path

    broken = tmp_path / "node_modules" / ".bin" / "anvil"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\necho 'error: Address already in use (os error 98)'\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(node, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(node, "find_binary", lambda kind, root=tmp_path: str(broken))
    with pytest.raises(SimulationSetupError) as error:
        node.start_node("anvil", timeout=10)
    assert error.value.code == EXIT_SIMULATION_NODE
    message = str(error.value)
    assert message.startswith("anvil did not start on port ")
    assert ": error: Address already in use (os error 98) (its log: " in message
    log = message.rsplit("(its log: ", 1)[1].rstrip(")")
    assert Path(log).read_text().strip() == "error: Address already in use (os error 98)"
    Path(log).unlink()

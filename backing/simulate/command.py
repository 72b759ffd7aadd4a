"""``run_file``: load a scenario, start or attach to a node (or a fork), run it, write its JSON and plots."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from backing.errors import simulation_problem
from backing.simulate.output import plot, tables, to_json
from backing.simulate.play import run
from backing.simulate.reporters import oracle_service_problem
from backing.simulate.scenario import NMR_MAINNET, ScenarioError, load_scenario_file
from backing.simulate.single import Result

# ---------------------------------------------------------------------------------------------- entry point


def run_file(
    path: str | Path,
    json_out: str | None = None,
    plot_dir: str | None = None,
    node: str | None = None,
    attach: str | None = None,
    fork_url: str | None = None,
    fork_block: int | None = None,
    nmr_holder: str | None = None,
    network_name: str | None = None,
    out=print,
    oracle_service: bool = False,
) -> Result:
    """The ``backing simulate`` command: load, start (or attach to, or fork on) a node, run, print, write outputs.

    @param node ``"ganache"`` or ``"anvil"``: the node simulate starts on a free loopback port (default ganache;
        anvil on a fork). @param attach The URL of a development node on this machine to use instead.
    @param network_name brownie's name of the node (``ganache-cli``, ``anvil``), the older way to say ``node``.
    @return The result; its ``reference_match`` says whether every value matched the reference model.
    @raise ScenarioError (invalid scenario, refused step), SimulationSetupError (node, chain, fork source,
        funding: its ``code`` is the exit code), ReferenceMismatch."""
    import requests

    from backing.onchain import node as nodes

    scenario = load_scenario_file(path)
    if oracle_service and oracle_service_problem(scenario):
        raise ScenarioError(f"--oracle-service: {oracle_service_problem(scenario)}")
    if network_name and not node:
        if network_name not in nodes.BROWNIE_NETWORKS:
            raise simulation_problem("network_unknown", name=network_name)
        node = nodes.BROWNIE_NETWORKS[network_name]
    if attach and fork_url:
        raise ScenarioError("--attach and --fork-url exclude each other: simulate starts the fork itself")
    if fork_url:
        kind = node or "anvil"
        if kind != "anvil" and not nmr_holder:
            raise simulation_problem("fork_needs_anvil")
        fork_block = nodes.check_fork_source(fork_url, fork_block, NMR_MAINNET)
        chain_node = nodes.start_node(kind, fork_url, fork_block, unlock=(nmr_holder,) if nmr_holder else ())
    elif attach:
        chain_node = nodes.attach_node(attach)
    else:
        chain_node = nodes.start_node(node or "ganache")
    try:
        out(chain_node.describe())
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"brownie\..*")
        warnings.filterwarnings("ignore", message=r"rpc\.\w+ should not be called directly")
        nodes.connect(chain_node)
        token = funder = None
        if fork_url:
            from backing.onchain import fork

            token, funder = fork.prepare(chain_node.kind, nmr_holder)
            out(
                f"NMR from the fork at {token.address}, funded "
                + (f"from the holder {nmr_holder}" if nmr_holder else "by writing its balances (anvil_setStorageAt)")
            )
        result = run(scenario, token=token, funder=funder, out=out, oracle_service=oracle_service)
    except (ConnectionError, requests.exceptions.ConnectionError) as error:  # the node went away mid-run
        chain_node.keep_log = True
        log = f" (the node's log: {chain_node.log})" if chain_node.log else ""
        raise simulation_problem("node_lost", url=chain_node.url, detail=type(error).__name__, log=log) from None
    finally:
        nodes.disconnect(chain_node)
    out("")
    out(tables(result))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    if plot_dir:
        for written in plot(result, plot_dir):
            out(f"wrote {written}")
    for what, got, want in result.mismatches:
        out(f"MISMATCH {what}: chain {got!r}, reference {want!r}")
    out(
        f"\n{len(result.checks)} values compared with the reference model: "
        f"reference match: {'yes' if result.reference_match else 'no'}"
    )
    return result

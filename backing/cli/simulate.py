"""``backing simulate SCENARIO``: play a scenario through the real contracts (``backing.simulate``)."""

from __future__ import annotations

import argparse
import sys

from backing.cli.common import EXIT_BAD_INPUT, EXIT_MISMATCH, EXIT_OK


def cmd_simulate(args) -> int:
    """``backing simulate``: see ``backing.simulate.run_file``. 0 match, 1 mismatch, 2 rejected scenario."""
    from backing.simulate import ReferenceMismatch, ScenarioError, run_file  # brownie loads only for this command

    try:
        result = run_file(args.scenario, json_out=args.json, plot_dir=args.plot, network_name=args.network,
                          fork_url=args.fork_url, nmr_holder=args.nmr_holder, fork_port=args.fork_port,
                          oracle_service=args.oracle_service)
    except ScenarioError as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ReferenceMismatch as error:
        print(f"backing: reference mismatch: {error}", file=sys.stderr)
        return EXIT_MISMATCH
    return EXIT_OK if result.reference_match else EXIT_MISMATCH


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``backing simulate`` on the CLI's subcommand set."""
    simulate = commands.add_parser(
        "simulate", help="play a scenario through the real contracts on a local chain (or a fork)",
        description="Deploy the contracts on a local chain (ganache by default), play a scenario file through\n"
                    "them, check every result against the reference model to the wei and print a settlement\n"
                    "table per agreement. Exit codes: 0 reference match, 1 mismatch, 2 the scenario is invalid or\n"
                    "the contracts reject one of its steps (the reason in plain words).",
        epilog="examples:\n  backing simulate examples/scenarios/seed-gain-repaid.yaml --json out.json --plot plots\n"
               "  backing simulate SCENARIO --fork-url https://mainnet.example/KEY --nmr-holder 0x...\n"
               "scenario format: see backing/simulate.py and examples/scenarios/.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    simulate.add_argument("scenario", metavar="SCENARIO", help="scenario file (.yaml, .yml or .json)")
    simulate.add_argument("--json", metavar="OUT", help="write the results as JSON (amounts as exact NMR strings)")
    simulate.add_argument("--plot", metavar="DIR", help="write value_path.png and who_got_what.png into DIR")
    simulate.add_argument("--network", default="ganache-cli", metavar="NAME",
                          help="brownie network to run on (default ganache-cli: brownie starts ganache)")
    simulate.add_argument("--fork-url", metavar="URL",
                          help="run on a ganache fork of this RPC URL (mainnet: real NMR at its mainnet address)")
    simulate.add_argument("--nmr-holder", metavar="ADDRESS",
                          help="with --fork-url: an NMR holder to impersonate; funds backers, reserve and payouts")
    simulate.add_argument("--fork-port", type=int, default=8555, metavar="PORT",
                          help="with --fork-url: loopback port of the forked ganache (default 8555)")
    simulate.add_argument("--oracle-service", action="store_true",
                          help="report the rounds through the oracle service (backing oracle run) reading them "
                               "from a local fake Numerai API, instead of signing them directly")
    simulate.set_defaults(handler=cmd_simulate, now=None)
    return simulate

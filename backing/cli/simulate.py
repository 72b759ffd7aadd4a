"""``backing simulate SCENARIO``: play a scenario through the real contracts (``backing.simulate``)."""

from __future__ import annotations

import argparse
import sys

from backing.cli.common import EXIT_BAD_INPUT, EXIT_MISMATCH, EXIT_OK, InputError
from backing.errors import SIMULATION_EXIT_CODES, SimulationSetupError


def cmd_simulate(args) -> int:
    """``backing simulate``: see ``backing.simulate.run_file``; exit codes in ``SIMULATION_EXIT_CODES``."""
    from backing.simulate import ReferenceMismatch, ScenarioError, run_file  # brownie loads only for this command

    check_args(args)
    try:
        result = run_file(
            args.scenario,
            json_out=args.json,
            plot_dir=args.plot,
            node=args.node,
            attach=args.attach,
            fork_url=args.fork_url,
            fork_block=args.fork_block,
            nmr_holder=args.nmr_holder,
            network_name=args.network,
            oracle_service=args.oracle_service,
        )
    except ScenarioError as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SimulationSetupError as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return error.code
    except ReferenceMismatch as error:
        print(f"backing: reference mismatch: {error}", file=sys.stderr)
        return EXIT_MISMATCH
    return EXIT_OK if result.reference_match else EXIT_MISMATCH


def _block(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a block number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a block number")
    return value


def _address(text: str) -> str:
    if not (text.startswith("0x") and len(text) == 42 and all(c in "0123456789abcdefABCDEF" for c in text[2:])):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (0x and 40 hex digits)")
    return text


EXIT_HELP = "exit codes:\n" + "\n".join(f"  {code}  {words}" for code, words in SIMULATION_EXIT_CODES.items())


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``backing simulate`` on the CLI's subcommand set."""
    simulate = commands.add_parser(
        "simulate",
        help="play a scenario through the real contracts on a local chain (or a fork)",
        description="Start a local node (ganache by default) on a free port, deploy the contracts there, play a\n"
        "scenario file through them, check every result against the reference model to the wei and\n"
        "print a settlement table per agreement. It prints which node and chain id it deploys on, and\n"
        "never uses a node it did not start unless told (--attach URL).",
        epilog="examples:\n  backing simulate examples/scenarios/seed-gain-repaid.yaml --json out.json --plot plots\n"
        "  backing simulate SCENARIO --node anvil\n"
        "  backing simulate SCENARIO --attach http://127.0.0.1:8545\n"
        "  backing simulate SCENARIO --fork-url https://mainnet.example/KEY [--fork-block N] "
        "[--nmr-holder 0x...]\n"
        "scenario format: docs/scenarios.md (JSON Schema: backing/scenario.schema.json); examples in "
        "examples/scenarios/.\n" + EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_argument("scenario", metavar="SCENARIO", help="scenario file (.yaml, .yml or .json)")
    simulate.add_argument("--json", metavar="OUT", help="write the results as JSON (amounts as exact NMR strings)")
    simulate.add_argument("--plot", metavar="DIR", help="write value_path.png and who_got_what.png into DIR")
    where = simulate.add_mutually_exclusive_group()
    where.add_argument(
        "--node",
        choices=("ganache", "anvil"),
        help="the node simulate starts on a free loopback port, found in this project's "
        "node_modules/.bin, then on PATH (default ganache; anvil with --fork-url)",
    )
    where.add_argument(
        "--attach",
        metavar="URL",
        help="use this development node (ganache, anvil or hardhat) on this machine instead of "
        "starting one; it is left running",
    )
    where.add_argument("--network", metavar="NAME", help=argparse.SUPPRESS)  # older spelling: ganache-cli, anvil
    simulate.add_argument(
        "--fork-url",
        metavar="URL",
        help="start the node as a fork of this RPC URL (Ethereum mainnet: the real NMR at its "
        "mainnet address); anvil unless --node ganache",
    )
    simulate.add_argument(
        "--fork-block", type=_block, metavar="N", help="with --fork-url: fork at this block (default: the latest)"
    )
    simulate.add_argument(
        "--nmr-holder",
        type=_address,
        metavar="ADDRESS",
        help="with --fork-url: an NMR holder to impersonate, who funds backers, reserve and "
        "payouts (default on anvil: NMR balances written into the fork's storage)",
    )
    simulate.add_argument(
        "--oracle-service",
        action="store_true",
        help="report the rounds through the oracle service (backing oracle run) reading them "
        "from a local fake Numerai API, instead of signing them directly",
    )
    simulate.set_defaults(handler=cmd_simulate, now=None)
    return simulate


def check_args(args) -> None:
    """Options that only make sense together."""
    if args.fork_url is None and (args.fork_block is not None or args.nmr_holder):
        raise InputError("--fork-block and --nmr-holder go with --fork-url")

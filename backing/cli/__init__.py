"""The ``backing`` command: one module per command group, each with ``add_parser(commands)``.

    backing terms check FILE                        backing.cli.terms
    backing settle --terms FILE --deposits ...      backing.cli.settle      (what-if settlement, offline)
    backing simulate SCENARIO                       backing.cli.simulate    (the real contracts on a local chain)
    backing montecarlo --terms FILE                 backing.cli.montecarlo  (many score paths, offline)
    backing portfolio report|frontier|check|...     backing.cli.portfolio   (a backer's portfolio, files or chain)
    backing oracle ...                              backing.cli.oracle      (the oracle service: oracle.cli)
    backing account|deploy|model|agreement|deposit|withdraw|claim|position
                                                    backing.cli.chain       (every role on a real network)
    backing grid draw|train|predict|submit|claim|list  backing.cli.grid     (randomized grid models, seed 004)
    backing web                                     backing.cli.web         (the web app, browser wallet)

Exit codes: 0 success, 2 bad input (the message goes to stderr); ``simulate`` adds 1 (reference mismatch) and 3-6
(node, chain, fork source, NMR funding: ``backing.errors.SIMULATION_EXIT_CODES``), and
``oracle`` has its own (``oracle.service``). A new group is a module with ``add_parser`` listed in ``GROUPS``.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import metadata

from backing.cli import chain, grid, montecarlo, oracle, portfolio, settle, simulate, terms, web
from backing.cli.common import EXIT_BAD_INPUT, EXIT_OK, InputError
from backing.model.terms import TermsError

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "GROUPS", "InputError", "build_parser", "main", "version"]

#: The command groups, in the order ``backing --help`` lists them.
GROUPS = (terms, settle, simulate, montecarlo, portfolio, oracle, chain, grid, web)


def version() -> str:
    """The installed package's version (pyproject.toml), or "unknown" when running from an uninstalled tree."""
    try:
        return metadata.version("backing-vaults")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backing",
        description="Backing Vaults for Numerai: check agreement terms, work out settlements and outcome\n"
        "distributions offline (with the same integer math as the contracts), play scenarios through\n"
        "the contracts on a local chain, and run the oracle service.",
        epilog="Exit codes: 0 success, 2 bad input (message on stderr). The chain commands (account, deploy, model,\n"
        "agreement, deposit, withdraw, claim, position) add 3-11, simulate 1 and 3-6: see their --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``backing`` console script. @return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["oracle"]:  # `backing oracle ...`: the oracle service parses its own arguments and help
        return oracle.run(argv[1:])
    args = build_parser().parse_args(argv)
    if args.now is None:
        args.now = int(time.time())
    try:
        return args.handler(args)
    except (TermsError, InputError) as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

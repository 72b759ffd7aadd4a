"""``backing oracle ...``: the oracle service's own command line (``oracle.cli``), listed in ``backing --help``.

``backing.cli.main`` hands everything after ``oracle`` to ``oracle.cli.main`` untouched, so its options and help
are exactly the service's (``backing oracle --help``); this module only makes the group visible and delegates.
"""

from __future__ import annotations

import argparse


def run(argv: list[str]) -> int:
    """Run ``backing oracle ARGV...``. @return the oracle service's exit code.

    The ScoreOracle ABI defaults to the one shipped with the package (``backing/client/artifacts``), so an
    installed ``backing oracle`` works without compiling; ``--abi`` or ``$BACKING_ORACLE_ABI`` still win. (The
    oracle package imports nothing from backing: the path goes through its environment variable.)"""
    import os

    from backing.client.contracts import ARTIFACTS
    from oracle.cli import main as oracle_main  # the service's dependencies load only for this command

    shipped = ARTIFACTS / "ScoreOracle.json"
    if "BACKING_ORACLE_ABI" in os.environ or not shipped.is_file():
        return oracle_main(list(argv))
    os.environ["BACKING_ORACLE_ABI"] = str(shipped)
    try:
        return oracle_main(list(argv))
    finally:
        del os.environ["BACKING_ORACLE_ABI"]


def cmd_oracle(args) -> int:
    return run(args.oracle_args)


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``backing oracle`` on the CLI's subcommand set (its arguments are the service's)."""
    oracle = commands.add_parser(
        "oracle",
        add_help=False,
        help="the oracle operator: run the service, watch and dispute reports, register models, resolve disputes, "
        "the signer set (backing oracle --help)",
        description="The oracle service: see `backing oracle --help`.",
    )
    oracle.add_argument("oracle_args", nargs=argparse.REMAINDER, metavar="...")
    oracle.set_defaults(handler=cmd_oracle, now=None)
    return oracle

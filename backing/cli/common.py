"""What every ``backing`` command group shares: exit codes, the input error, the ``--now`` option, the terms
file format for help texts."""

from __future__ import annotations

import argparse

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_BAD_INPUT = 2

TERMS_FORMAT = """\
terms file (YAML or JSON); amounts in NMR, shares as fractions (0.5 or "50%"):
  unit_size: 100          min_units: 1             max_units: 50
  profit_share: 0.5       burn_share: 0.5          reserve_ratio: 0.5      upfront_fee: 0.01
  lockup_rounds: 12       open_for: 7d             wind_down: 7d
  staking_address: "0x..."                         model_id: <Numerai model UUID or 0x + 64 hex>
  fee_ladder: [{min_units: 10, profit_share: 0.4}]   (optional)
open_until: <unix time> may replace open_for.
series terms (`backing series create|open`) may add:
  clawback: {share: 0.25, agreements: 2}             commitments: [{agreements: 3, profit_share: 0.15}]
  high_water_mark: true   (always on in a series)"""


class InputError(ValueError):
    """Bad command-line input, with a message for the user."""


def add_now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        type=int,
        default=None,
        metavar="UNIX",
        help="check the terms as of this unix time (default: the clock); open_for counts from it",
    )

"""Gas of the actions issue 12 L-1 touched (a posted reserve caps the deposits), measured as scripts/bench.py measures
them (the same flows, accounts and terms), written to bench/l1.md beside the figures of the committed full run
(bench/gas.json, made before the change).

    brownie run scripts/bench_l1.py --network ganache-p7      # any local node; about two minutes
"""

import datetime
import json
import os
import sys
import time
from pathlib import Path

from brownie import accounts

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import NMR, Bench, deploy_series_factory  # noqa: E402

AGREEMENT_ROWS = ("reserve_first", "reserve_topup", "deposit_first", "deposit", "deposit_topup", "deposit_direct")
SERIES_ROWS = ("reserve", "deposit_first", "deposit", "deposit_commit", "deposit_topup")


def main():
    t0 = time.time()
    bench = Bench(silent=True)
    with open(os.devnull, "w") as devnull:
        stdout, sys.stdout = sys.stdout, devnull
        try:
            bench.deploy()
            bench.measure_token()
            bench.measure_open()
            bench.series_rows, bench._series_made = {}, 0
            bench.dave = accounts[8]
            bench.token.mintTo(bench.dave, 1_000_000 * NMR, bench.tx(bench.dave))
            bench.series_factory = deploy_series_factory(bench.deployer, bench.token, bench.oracle)
            bench.measure_series_actions()
        finally:
            sys.stdout = stdout
    before = json.loads(Path("bench/gas.json").read_text())
    lines = [
        "# Gas of the issue 12 L-1 change (a posted reserve caps the deposits)",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC} with `brownie run scripts/bench_l1.py "
        "--network NETWORK` (any local node; the flows of scripts/bench.py); *before* is the committed full run, "
        "bench/gas.json. Whole-transaction gas.",
        "",
        "| contract | action | before | after | change |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for kind, keys, rows, old in (
        ("BackingAgreement", AGREEMENT_ROWS, bench.rows, before["actions"]),
        ("BackingSeries", SERIES_ROWS, bench.series_rows, before["series"]["actions"]),
    ):
        for key in keys:
            was, now = old[key]["gas"], rows[key]["gas"]
            lines.append(f"| {kind} | {rows[key]['action']} | {was:,} | {now:,} | {now - was:+,} |")
    lines += ["", f"({time.time() - t0:.0f} s)"]
    Path("bench/l1.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

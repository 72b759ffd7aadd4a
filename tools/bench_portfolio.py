"""Benchmark of `backing portfolio`'s frontier: 50 candidate agreements x 260 rounds of history x 10,000 joint
paths (issue 16's target: <= 5 s on 2 cores). SYNTHETIC inputs (``backing.portfolio.synthetic``): 50 models with
a one-factor correlation 0.3, one open agreement each, lockups 12/20/26/52 rounds in turn, a 2% rule on expected
shortfall at 0.95, a 20,000 NMR budget.

    /usr/bin/time -v .venv/bin/python tools/bench_portfolio.py [--method variance|cvar] [--exact] [--markdown]

Prints each stage's seconds; ``--markdown`` prints a table row for bench/portfolio.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=260)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--method", choices=("variance", "cvar"), default="variance")
    parser.add_argument("--exact", action="store_true", help="the integer math to the wei (slower)")
    parser.add_argument("--points", type=int, default=12)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    import cvxpy  # noqa: F401 -- counted apart: importing cvxpy takes seconds on its own

    from backing.model.agreement import ONE
    from backing.portfolio import frontier, risk, synthetic
    from backing.portfolio.inputs import Inputs
    from backing.portfolio.outcomes import simulate

    imported = time.perf_counter()
    history = synthetic.one_factor_history(args.candidates, args.rounds, rho=0.3, seed=7)
    lockups = (12, 20, 26, 52)
    cands = [
        replace(c, terms=synthetic.terms(lockup_rounds=lockups[i % 4]))
        for i, c in enumerate(synthetic.candidates_for(history))
    ]
    inputs = Inputs(cands, [], history, 20_000 * ONE)
    t0 = time.perf_counter()
    out = simulate(inputs, paths=args.paths, seed=1, exact=args.exact)
    t1 = time.perf_counter()
    rule = risk.Rule(0.02, "es", 0.95)
    problem = frontier.Problem(
        out, np.zeros(len(cands), int), np.array([c.open_units for c in cands]), 20_000.0, rule, method=args.method
    )
    f = frontier.frontier(problem, points=args.points)
    t2 = time.perf_counter()
    chosen = frontier.choose(f)
    total = t2 - started
    print(
        f"{args.candidates} candidates x {args.rounds} rounds x {args.paths} paths, mean-{args.method}"
        f"{' (exact)' if args.exact else ''}: imports {imported - started:.2f} s, outcomes {t1 - t0:.2f} s, "
        f"frontier {t2 - t1:.2f} s ({len(f.points)} points), outcomes + frontier {t2 - t0:.2f} s, "
        f"whole run {total:.2f} s; chosen point: {int(np.count_nonzero(chosen['units']))} agreements, "
        f"mean {chosen['mean']:+.2f} NMR, sd {chosen['sd']:.2f} NMR; cpus {os.cpu_count()}"
    )
    if args.markdown:
        print(
            f"| mean-{args.method}{' exact' if args.exact else ''} | {imported - started:.2f} | {t1 - t0:.2f} | "
            f"{t2 - t1:.2f} | {t2 - t0:.2f} | {total:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Write bench/fuzz.md from a `make fuzz` run: what each stateful machine ran (the last, cumulative line per
machine of the BACKING_FUZZ_REPORT file), the wall time and peak memory of the run (GNU time's output).

Usage: python tools/fuzz_report.py REPORT.jsonl TIME.txt SCALE > bench/fuzz.md"""

from __future__ import annotations

import json
import re
import sys


def main(report: str, timing: str, scale: str) -> None:
    last = {}
    with open(report) as lines:
        for line in lines:
            entry = json.loads(line)
            last[entry["machine"]] = entry
    text = open(timing).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    status = re.search(r"Exit status: (\d+)", text)
    total_steps = sum(e["steps"] for e in last.values())
    total_checks = sum(e["invariant_checks"] for e in last.values())
    print("# Long fuzzing: the stateful machines (`make fuzz`)\n")
    print(
        "Reproduce: `make fuzz` (`BACKING_FUZZ_SCALE` multiplies each machine's examples; default "
        f"{scale}). The machines run on ganache 7 as in `make test`, each step checked against the reference model "
        "and against invariants read from the chain alone (conservation to the wei, solvency, at most one live "
        "agreement, the price chained, no fee without a rise, bound positions moved only by their owners; for the "
        "oracle: the open dispute bonds held to the wei, final indices never moving, settlementIndices reading final "
        "rounds only, no single key posting or resolving, each bond sent where the rules say).\n"
    )
    print(
        f"Last run: scale {scale}, exit status {status.group(1) if status else '?'}, wall time "
        f"{wall.group(1) if wall else '?'}, peak memory of the test process "
        f"{int(peak.group(1)) // 1024 if peak else '?'} MiB (GNU time; the node runs in its own process).\n"
    )
    print("| machine | runs | steps | invariant checks |")
    print("|---|---:|---:|---:|")
    for name, e in sorted(last.items()):
        print(f"| {name} | {e['runs']:,} | {e['steps']:,} | {e['invariant_checks']:,} |")
    print(f"| **total** | | **{total_steps:,}** | **{total_checks:,}** |\n")
    for name, e in sorted(last.items()):
        extra = {k: v for k, v in e.items() if k not in ("machine", "runs", "steps", "invariant_checks")}
        if extra:
            print(f"- {name}: " + "; ".join(f"{k} {v}" for k, v in extra.items()))


if __name__ == "__main__":
    main(*sys.argv[1:4])

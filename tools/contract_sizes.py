"""Every deployable contract's runtime code against our limit (20,000 bytes, below EIP-170's 24,576 so that a fix
or a feature still fits): prints each size and its room, exits 1 if one is over. Reads brownie's build/contracts/
(run `brownie compile` first); the mocks and the benchmark's vault are test-only and not checked.

Usage: python tools/contract_sizes.py [--limit BYTES] [--build DIR]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 20_000
EIP170 = 24_576
TEST_ONLY = ("contracts/mocks/", "contracts/bench/")
STUB = 100


def sizes(build: Path) -> dict[str, int]:
    """Contract name -> runtime bytes, for the project's own deployable contracts."""
    out = {}
    for path in sorted(build.glob("*.json")):
        artifact = json.loads(path.read_text())
        source = artifact.get("sourcePath", "")
        runtime = len(artifact.get("deployedBytecode", "")) // 2
        if not source.startswith("contracts/") or source.startswith(TEST_ONLY):
            continue
        kind = artifact.get("type")
        # external libraries are deployed too; a library of internal functions only compiles to a ~85-byte stub
        # that is never deployed (its code is inlined where it is used)
        if kind == "contract" and runtime > 0 or kind == "library" and runtime > STUB:
            out[artifact["contractName"]] = runtime
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=LIMIT)
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "contracts")
    args = parser.parse_args(argv)
    found = sizes(args.build)
    if not found:
        print(f"contract sizes: nothing compiled in {args.build} (run `brownie compile`)", file=sys.stderr)
        return 2
    over = []
    print(f"contract sizes (runtime bytes; limit {args.limit:,}, EIP-170 {EIP170:,}):")
    for name, size in sorted(found.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<20} {size:>6,}  room {args.limit - size:>6,}")
        if size > args.limit:
            over.append(name)
    if over:
        print(f"FAILED: over {args.limit:,} bytes: {', '.join(over)}", file=sys.stderr)
        return 1
    print("OK: every deployable contract fits.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

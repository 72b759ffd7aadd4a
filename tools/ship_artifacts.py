"""Copy the ABIs and bytecode the command line needs from build/contracts into backing/client/artifacts/.

    python tools/ship_artifacts.py [--check]

The shipped files are committed, so an installed ``backing`` deploys and talks to the contracts without a
compiler. ``--check`` exits 1 (naming the files) when a shipped artifact differs from build/contracts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"
SHIPPED = ROOT / "backing" / "client" / "artifacts"
sys.path.insert(0, str(ROOT))

from backing.client.contracts import CONTRACTS  # noqa: E402  (the one list of shipped contracts)


def shipped_form(name: str) -> dict:
    """What ships of one brownie artifact: the name, the ABI and the creation bytecode (library slots unlinked)."""
    path = BUILD / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `brownie compile` first")
    data = json.loads(path.read_text())
    return {"contractName": name, "abi": data["abi"], "bytecode": data["bytecode"]}


def render(form: dict) -> str:
    return json.dumps(form, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in CONTRACTS:
        text = render(shipped_form(name))
        target = SHIPPED / f"{name}.json"
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(name)
        else:
            target.write_text(text)
    if stale:
        print(
            f"shipped artifacts differ from build/contracts: {', '.join(stale)}; run `make artifacts`", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

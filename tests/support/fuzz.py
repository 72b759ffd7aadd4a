"""Budgets and counters of the stateful machines (tests/chain/stateful/).

``make test`` runs each machine with its short budget; ``make fuzz`` multiplies the examples by
``BACKING_FUZZ_SCALE`` and writes what was run (runs, steps, invariant checks per machine) as JSON lines to
``BACKING_FUZZ_REPORT``, from which ``tools/fuzz_report.py`` writes bench/fuzz.md."""

from __future__ import annotations

import json
import os

#: machine name -> {"runs": ..., "steps": ..., "invariant_checks": ...}
COUNTS: dict[str, dict[str, int]] = {}


def budget(examples: int, steps: int) -> dict:
    """brownie ``state_machine`` settings: `examples` runs of up to `steps` steps, times BACKING_FUZZ_SCALE."""
    scale = max(1, int(os.environ.get("BACKING_FUZZ_SCALE", "1")))
    return {"stateful_step_count": steps, "max_examples": examples * scale}


def count(machine: str, what: str, n: int = 1) -> None:
    """Count `n` of `what` ("runs", "steps", "invariant_checks") for `machine`."""
    entry = COUNTS.setdefault(machine, {"runs": 0, "steps": 0, "invariant_checks": 0})
    entry[what] = entry.get(what, 0) + n


def report(machine: str, **extra) -> None:
    """Append `machine`'s counts (and `extra` facts) to the BACKING_FUZZ_REPORT file, if one is set."""
    path = os.environ.get("BACKING_FUZZ_REPORT")
    if not path:
        return
    with open(path, "a") as out:
        out.write(json.dumps({"machine": machine, **COUNTS.get(machine, {}), **extra}) + "\n")

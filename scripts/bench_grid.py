r"""Gas of the grid registry (GridRegistry: one claim per configuration), and the time of one gated draw.

    /usr/bin/time -v -o build/bench-grid-time.txt .venv/bin/brownie run scripts/bench_grid.py --network anvil
    grep "Maximum resident" build/bench-grid-time.txt | sed 's/^\s*/- \/usr\/bin\/time -v: /' >> bench/grid.md
    # writes bench/grid.md; the second line appends the whole run's peak memory as /usr/bin/time measured it

Measured: a staker's claim (the first claim of a configuration: one fresh storage slot and one event), a claim
by an approved operator (one more storage read), setOperator, and a duplicate claim (refused: the revert's gas is
what `eth_estimateGas` cannot give, so it is measured as a failed transaction). Every claim is checked against
the 60,000-gas target. The draw's time is the gate on the synthetic dataset (`backing grid synthetic`) with a cap
of 50 trees.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from brownie import GridRegistry, accounts, history, network
from brownie.exceptions import VirtualMachineError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backing.grid import data as grid_data  # noqa: E402
from backing.grid import pipeline  # noqa: E402

TARGET_GAS = 60_000


def main() -> None:
    deployer, staker, operator, other = accounts[0], accounts[1], accounts[2], accounts[3]
    registry = GridRegistry.deploy({"from": deployer})
    rows = []
    tx = registry.claim(staker, 0, 0, {"from": staker})
    rows.append(("claim by the staker (first claim of a configuration)", tx.gas_used))
    tx = registry.claim(staker, 1, 3, {"from": staker})
    rows.append(("claim by the staker, nonce 1, attempt 3", tx.gas_used))
    tx = registry.setOperator(operator, True, {"from": staker})
    rows.append(("setOperator (approve)", tx.gas_used))
    tx = registry.claim(staker, 2, 0, {"from": operator})
    rows.append(("claim by an approved operator", tx.gas_used))
    tx = registry.claim(other, 0, 0, {"from": other})
    rows.append(("claim by another staker", tx.gas_used))
    try:
        registry.claim(staker, 0, 0, {"from": staker, "gas_limit": 100_000, "allow_revert": True})
        raise AssertionError("the duplicate claim was accepted")
    except VirtualMachineError:
        rows.append(("duplicate claim (refused: ConfigAlreadyClaimed)", history[-1].gas_used))
    claims = [gas for what, gas in rows if what.startswith("claim")]
    worst = max(claims)
    assert worst <= TARGET_GAS, f"a claim costs {worst} gas, above the {TARGET_GAS} target"

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        dataset = grid_data.load(grid_data.synthetic_dataset(Path(tmp)))
        made = time.perf_counter() - started
        started = time.perf_counter()
        gate, trained = pipeline.draw_and_train(str(staker), 0, dataset, max_estimators=50)
        gated = time.perf_counter() - started

    peak = _peak_memory()
    lines = [
        "# Grid registry gas and the gated draw",
        "",
        f"Measured {datetime.date.today().isoformat()} on {network.show_active()} ({platform.machine()}, "
        f"{os.cpu_count()} cores shared with other work) with:",
        "",
        "```sh",
        "/usr/bin/time -v -o build/bench-grid-time.txt .venv/bin/brownie run scripts/bench_grid.py --network anvil",
        'grep "Maximum resident" build/bench-grid-time.txt '
        "| sed 's/^\\s*/- \\/usr\\/bin\\/time -v: /' >> bench/grid.md",
        "```",
        "",
        f"Target: at most {TARGET_GAS:,} gas per claim. Worst claim measured: **{worst:,} gas**.",
        "",
        "| transaction | gas used |",
        "| --- | ---: |",
        *[f"| {what} | {gas:,} |" for what, gas in rows],
        "",
        "A claim derives the configuration from the staker's draw (one keccak-256 of the draw's ABI encoding and a "
        "modulo), writes one fresh storage slot (staker, nonce and attempt packed: 20,000 gas for the new slot plus "
        "the cold access) and one event with three indexed topics; a staker's list of configurations is read from "
        "the `ConfigClaimed` events, not kept in storage, which would cost another fresh slot per claim.",
        "",
        f"Gated draw on the synthetic dataset ({len(dataset.train):,} training rows, {len(dataset.features)} "
        f"features, {len(dataset.targets)} targets; cap 50 trees): {gate.summary()['attempts']} attempt(s), "
        f"passed at attempt {gate.passed.attempt} with validation CORR {trained.validation.mean:.4f}, "
        f"{gated:.2f} s (the dataset took {made:.2f} s to write and load).",
        "",
        "Peak memory:",
        "",
        f"- this Python process (brownie, LightGBM; getrusage): {peak}",
    ]
    (ROOT / "bench" / "grid.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _peak_memory() -> str:
    import resource

    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"

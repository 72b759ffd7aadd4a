"""`make demo`'s story, end to end, on anvil and on ganache: tools/demo.py starts the node on a test port, writes
the keystores with a cheap key derivation (--fast-keystores: `backing account new`'s scrypt would cost the two
runs about two minutes of CPU; test_deploy covers that command), runs every `backing ...` command of the agreement
and the series (the oracle operator's `oracle run`, the watcher's `oracle watch`, the dispute quorum's `oracle
resolve`), and compares every predictable amount with the reference model. The test wants exit status 0, every
check said, and the story's milestones in the output. (tests/unit/test_demo_driver.py shows the driver failing on
a wrong amount.)"""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.cli import PORTS

ROOT = Path(__file__).resolve().parents[2]
PORT_OFFSET = 4  # anvil base+4, ganache base+5 (the driver starts its own node there)
#: at least this many amounts compared: round returns and indices, deposits, reserves, stakes, dues, claims, rolls,
#: balances (the story has about 60; fewer means a part of it stopped checking)
MIN_CHECKS = 50


KINDS = ["anvil", "ganache"]


class Run:
    """The driver on one node, started at once (both kinds run side by side: most of their time is spent waiting
    for a command's receipt, so the two share the cores well)."""

    def __init__(self, kind: str, folder: Path):
        self.kind, self.started = kind, time.monotonic()
        self.stdout, self.stderr = open(folder / f"{kind}.out", "w+"), open(folder / f"{kind}.err", "w+")
        command = [
            sys.executable,
            str(ROOT / "tools" / "demo.py"),
            "--node",
            kind,
            "--port",
            str(PORTS[kind] + PORT_OFFSET),
            "--fast-keystores",
        ]
        self.process = subprocess.Popen(
            command, stdout=self.stdout, stderr=self.stderr, stdin=subprocess.DEVNULL, text=True
        )

    def result(self):
        try:
            self.process.wait(timeout=1500)
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                self.process.wait(timeout=60)
        self.seconds = time.monotonic() - self.started
        self.stdout.seek(0), self.stderr.seek(0)
        return subprocess.CompletedProcess(
            self.process.args, self.process.returncode, self.stdout.read(), self.stderr.read()
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    started = {kind: Run(kind, folder) for kind in KINDS}
    yield started
    for run in started.values():
        if run.process.poll() is None:
            run.process.terminate()
            run.process.wait(timeout=60)


@pytest.mark.parametrize("kind", KINDS)
def test_the_demo_tells_the_whole_story_through_the_cli(kind, runs):
    done = runs[kind].result()
    out = done.stdout
    assert done.returncode == 0, f"{out[-6000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr and "DEMO FAILED" not in out, done.stderr[-3000:]
    matches = [line for line in out.splitlines() if line.endswith("matches the reference model")]
    summary = re.search(r"The demo ran (\d+) backing commands; (\d+) amounts matched the reference model", out)
    assert summary and int(summary.group(2)) == len(matches) >= MIN_CHECKS, (len(matches), out[-2000:])
    commands = [line for line in out.splitlines() if line.startswith("$ backing ")]
    assert int(summary.group(1)) == len(commands)
    # every command as a user types it: keystore accounts, no key and no password on the line
    assert not any(re.search(r"0x[0-9a-fA-F]{64}\b|--private-key|--password ", c) for c in commands)
    for milestone in (
        "$ backing deploy --account deployer --dev-token",
        "$ backing agreement create ~/terms.yaml --account modeller --yes",
        "$ backing oracle run --once --source file",
        "the agreement is Settled",
        "$ backing series consent $SERIES",
        "$ backing oracle watch --once --source file",
        "disputed",
        "the report is REPLACED",
        "$ backing series transfer $SERIES",
        "$ backing series collect $SERIES",
        "✓ watcher's NMR balance change: 0 NMR matches the reference model",
    ):
        assert milestone in out, milestone
    print(f"{kind}: the demo took {runs[kind].seconds:.0f} s")

"""Every `.venv/bin/backing` command the README shows works from a fresh shell: no activated venv, nothing of the
project on PATH (only /usr/bin:/bin), run in a scratch directory that has the checkout's `.venv` and `examples/`.

The fork command needs a mainnet RPC URL (its placeholders `<...>` are skipped here; tests/chain/integration/
test_fork.py plays it against a local stand-in for mainnet)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRESH_PATH = "/usr/bin:/bin"


def readme_commands() -> list[str]:
    """The README's shell commands that run the installed `backing` (continuation lines joined)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith(".venv/bin/backing ") and "<" not in line:
                commands.append(" ".join(line.split()))
    return commands


def test_the_readme_shows_the_commands_this_test_runs():
    commands = readme_commands()
    assert any(" simulate " in c for c in commands)
    assert any(" terms check " in c for c in commands) and any(" montecarlo " in c for c in commands)


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_from_a_fresh_shell(command, tmp_path):
    for name in (".venv", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {"PATH": FRESH_PATH, "HOME": os.environ["HOME"], "LANG": "C.UTF-8"}
    done = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    if " simulate " in command:
        assert re.search(
            r"^node: Ganache/\S+ \(started by backing simulate on http://127\.0\.0\.1:\d+\), chain id " r"1337$",
            done.stdout,
            flags=re.M,
        ), done.stdout[:2000]
        assert "reference match: yes" in done.stdout

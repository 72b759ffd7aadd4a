"""The demo driver's own checks (tools/demo.py, what `make demo` runs), without a chain: an amount that differs
from the reference model by one wei stops it, an amount the output does not print stops it, a failing command stops
it with its output shown, and each stop is exit status 1. (tests/cli/test_demo.py runs the whole demo.)"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("backing_demo_driver", ROOT / "tools" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


demo = _load()
ONE = 10**18


def test_an_equal_amount_is_said_to_match():
    line = demo.compare("alice's claim", 298_413_872_955 * 10**9, 298_413_872_955 * 10**9)
    assert line == "    ✓ alice's claim: 298.413872955 NMR matches the reference model"
    assert demo.compare("round 2's index", ONE * 106 // 100, ONE * 106 // 100, "fixed").endswith(
        "1.06 matches the reference model"
    )
    assert demo.compare("position number", 3, 3, "") == "    ✓ position number: 3 matches the reference model"


@pytest.mark.parametrize("printed, reference", [(ONE + 1, ONE), (ONE, ONE + 1), (-ONE, ONE), (True, 1), (1.0, 1)])
def test_an_amount_off_by_one_wei_or_of_another_type_stops_the_demo(printed, reference):
    with pytest.raises(demo.Mismatch, match="the CLI says .*, the reference model"):
        demo.compare("amount due", printed, reference)


def test_printed_amounts_are_read_to_the_wei():
    out = "confirmed in block 42: the agreement is Matured: final value 899.48323773 NMR, amount due 895.8 NMR"
    assert demo.printed_amount("amount due", out) == 8958 * ONE // 10
    assert demo.printed_amount("final value", out) == 89948323773 * 10**10
    assert demo.amount_before(" staked", "891 NMR staked, 9 NMR upfront fee") == 891 * ONE
    assert demo.wei("-0.000000000000000001") == -1
    with pytest.raises(demo.Mismatch, match="does not say 'claimed'"):
        demo.printed_amount("claimed", out)
    with pytest.raises(demo.Mismatch):
        demo.amount_before(" staked", out)
    with pytest.raises(ValueError):
        demo.wei("0.0000000000000000001")


def test_the_reference_return_is_the_oracle_formula():
    # 0.5 x CORR20 + 2 x MMC, clipped at 5%
    assert demo.reference_return(("0.0182", "0.0091")) == 273 * ONE // 10_000
    assert demo.reference_return(("0.09", "0.02")) == 5 * ONE // 100


def _fake_backing(tmp_path, code: int) -> str:
    script = tmp_path / "backing"
    script.write_text(f"#!/bin/sh\necho 'Deposit 3 units'\necho 'backing: error: no allowance' >&2\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


def test_a_failing_command_stops_the_demo_with_its_output(tmp_path):
    lines = []
    chain = demo.Chain(None, 0, "http://127.0.0.1:1")
    story = demo.Demo(chain, tmp_path / "home", _fake_backing(tmp_path, 11), out=lines.append)
    with pytest.raises(demo.DemoFailure, match="exited with 11"):
        story.backing_cmd("deposit", "0x" + "12" * 20, 3, "--account", "alice")
    assert lines[0].startswith("$ backing deposit 0x1212")
    assert "  Deposit 3 units" in lines and "  backing: error: no allowance" in lines
    assert story.backing_cmd("deposit", 1, expect=11)  # the expected exit status: no failure


def test_a_node_that_does_not_answer_is_exit_status_1(capsys):
    assert demo.main(["--rpc-url", "http://127.0.0.1:9"]) == 1
    assert "DEMO FAILED: no node answers at http://127.0.0.1:9" in capsys.readouterr().out


def test_the_driver_is_not_part_of_the_package_and_imports_no_tests():
    source = (ROOT / "tools" / "demo.py").read_text()
    assert "import tests" not in source and "from support" not in source and "from tests" not in source
    assert os.access(ROOT / "tools" / "demo.py", os.R_OK)

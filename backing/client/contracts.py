"""Contract bindings from the ABIs and bytecode shipped in ``backing/client/artifacts/`` (no compiler needed).

``tools/ship_artifacts.py`` (``make artifacts``) copies them from build/contracts; a unit test fails when they
differ from a fresh compile. Library slots in the bytecode (brownie writes ``__Name____...``, 40 characters) are
filled in by ``link``.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

from eth_utils import keccak

ARTIFACTS = Path(__file__).with_name("artifacts")

#: Every contract the command line deploys or talks to, in no particular order.
CONTRACTS = (
    "MockNMR",
    "RoundReports",
    "ScoreOracle",
    "ModellerRecord",
    "AgreementFactory",
    "BackingAgreement",
    "SeriesTerms",
    "SeriesSettlement",
    "SeriesPositions",
    "BackingSeries",
    "SeriesFactory",
    "GridRegistry",
    "SubmissionLog",
)


@cache
def artifact(name: str) -> dict:
    """{"contractName", "abi", "bytecode"} of a shipped contract."""
    path = ARTIFACTS / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no shipped artifact for {name} (known: {', '.join(CONTRACTS)})")
    return json.loads(path.read_text())


def abi(name: str) -> list:
    return artifact(name)["abi"]


def _slots(code: str):
    """(start, library name) of each 40-character library slot ``__Name____...`` in `code`."""
    i = code.find("__")
    while i != -1:
        slot = code[i : i + 40]
        yield i, slot.strip("_")
        i = code.find("__", i + 40)


def libraries_needed(name: str) -> list[str]:
    """The libraries whose addresses `name`'s bytecode needs, in order of first appearance."""
    found = []
    for _, library in _slots(artifact(name)["bytecode"]):
        if library not in found:
            found.append(library)
    return found


def link(name: str, libraries: dict[str, str]) -> str:
    """`name`'s creation bytecode (0x...) with each library slot replaced by its address."""
    code = artifact(name)["bytecode"].removeprefix("0x")
    parts, last = [], 0
    for start, library in _slots(code):
        if library not in libraries:
            raise KeyError(f"{name} needs library {library} deployed first")
        parts += [code[last:start], libraries[library].removeprefix("0x").lower().rjust(40, "0")]
        last = start + 40
    return "0x" + "".join(parts) + code[last:]


def _canonical(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in item["components"]) + ")" + item["type"][len("tuple") :]
    return item["type"]


@lru_cache(maxsize=1)
def error_catalogue() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """4-byte selector -> (error name, argument types, argument names) over every shipped contract."""
    errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for name in CONTRACTS:
        for item in abi(name):
            if item.get("type") != "error":
                continue
            types = [_canonical(i) for i in item.get("inputs", [])]
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            errors[selector] = (item["name"], types, [i.get("name", "") for i in item.get("inputs", [])])
    # OpenZeppelin's SafeERC20 and Ownable errors appear in these ABIs too; Error(string) and Panic(uint256)
    # are decoded separately (backing.client.errors).
    return errors


def function_abi(name: str, function: str) -> dict:
    for item in abi(name):
        if item.get("type") == "function" and item["name"] == function:
            return item
    raise KeyError(f"{name} has no function {function}")


__all__ = ["CONTRACTS", "artifact", "abi", "link", "libraries_needed", "error_catalogue", "function_abi"]

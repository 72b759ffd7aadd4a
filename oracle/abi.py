"""The ScoreOracle ABI: where to find it, and reading custom errors out of revert data."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_abi import decode as abi_decode
from eth_utils import keccak


def find_abi_path(explicit: str | None = None) -> Path:
    """The ScoreOracle ABI: `explicit`, else $BACKING_ORACLE_ABI, else build/contracts/ScoreOracle.json of this
    repository (after `brownie compile`), else of the current directory."""
    candidates = [
        explicit,
        os.environ.get("BACKING_ORACLE_ABI"),
        Path(__file__).resolve().parents[1] / "build" / "contracts" / "ScoreOracle.json",
        Path.cwd() / "build" / "contracts" / "ScoreOracle.json",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
        if candidate is explicit and explicit:
            raise FileNotFoundError(f"ABI file {explicit} not found")
    raise FileNotFoundError(
        "ScoreOracle ABI not found: run `brownie compile` or pass --abi "
        "(a brownie artifact or a plain ABI JSON list)"
    )


def load_abi(path: str | Path | None = None) -> list:
    """A brownie/solc artifact ({"abi": [...]}) or a bare ABI list."""
    data = json.loads(Path(find_abi_path(str(path) if path else None)).read_text())
    return data["abi"] if isinstance(data, dict) else data


def _canonical_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


class RevertDecoder:
    """Custom errors (and Error(string), Panic(uint256)) of the ABI, by selector."""

    def __init__(self, abi: list):
        self.errors = {"08c379a0": ("Error", ["string"]), "4e487b71": ("Panic", ["uint256"])}
        for item in abi:
            if item.get("type") == "error":
                types = [_canonical_type(i) for i in item["inputs"]]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4].hex()
                self.errors[selector] = (item["name"], types)

    def decode(self, data) -> tuple[str, tuple] | None:
        raw = _revert_bytes(data)
        if raw is None or len(raw) < 4:
            return None
        known = self.errors.get(raw[:4].hex())
        if known is None:
            return None
        name, types = known
        try:
            return name, tuple(abi_decode(types, raw[4:]))
        except Exception:  # truncated revert data: the name alone still says what happened
            return name, ()


def _revert_bytes(data) -> bytes | None:
    """Revert data from whatever shape a node returns it in (hex string, or a dict as ganache does)."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        text = data.strip()
        if text.startswith("0x"):
            try:
                return bytes.fromhex(text[2:])
            except ValueError:
                return None
        return None
    if isinstance(data, dict):
        for key in ("data", "result", "return"):
            if key in data:
                found = _revert_bytes(data[key])
                if found:
                    return found
        for value in data.values():
            found = _revert_bytes(value)
            if found:
                return found
    return None

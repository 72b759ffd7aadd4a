"""Signature exchange between oracle operators: a shared directory.

One mechanism, deliberately simple: any directory every operator can read and write (an NFS/SMB share, a
synced folder, a bucket mounted with a FUSE driver).

* The submitter (the instance with ``--sender-keystore``) proposes a statement by writing
  ``<digest>.json``: chain id, oracle address, EIP-712 primary type and message. ``<digest>`` is the 32-byte
  EIP-712 digest in hex, without 0x.
* Every operator that agrees signs the digest and writes ``<digest>.<signer address>.sig`` (65 bytes, hex).
  Its own keys sign only what it computed itself from its own source: a co-signer re-derives each report from
  Numerai and the chain and refuses a proposal that differs by one wei (see ``service.OracleService.cosign``).
* The submitter waits until ``quorum`` valid signatures from current on-chain signers are present (each
  recovered from the digest and checked against the file name), then relays them in ascending signer order.

Files are written to a temporary name and renamed, so a reader never sees half a file. Proposals whose signature
deadline passed an hour ago are removed by the submitter."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from oracle import typed_data as td
from oracle.typed_data import Report


def _encode(type_: str, value):
    if type_.endswith("[]"):
        return [_encode(type_[:-2], v) for v in value]
    if type_ in td.TYPES:
        return {f["name"]: _encode(f["type"], value[f["name"]]) for f in td.TYPES[type_]}
    if type_.startswith("bytes"):
        return "0x" + bytes(value).hex()
    if type_.startswith(("uint", "int")):
        return str(value)  # exact for any JS/JSON reader
    return value  # bool, address


def _decode(type_: str, value):
    if type_.endswith("[]"):
        return [_decode(type_[:-2], v) for v in value]
    if type_ in td.TYPES:
        return {f["name"]: _decode(f["type"], value[f["name"]]) for f in td.TYPES[type_]}
    if type_.startswith("bytes"):
        return bytes.fromhex(value[2:])
    if type_.startswith(("uint", "int")):
        return int(value)
    return value


def report_from_message(message: dict) -> Report:
    return Report(
        model_id=bytes(message["modelId"]), tournament=int(message["tournament"]), round=int(message["round"]),
        missed=bool(message["missed"]), score_names=tuple(bytes(n) for n in message["scoreNames"]),
        scores=tuple(int(s) for s in message["scores"]), multipliers=tuple(int(m) for m in message["multipliers"]),
        payout_factor=int(message["payoutFactor"]), clip=int(message["clip"]),
    )


@dataclass(frozen=True)
class Statement:
    """An EIP-712 statement for the ScoreOracle: primary type and message (typed_data's shapes)."""

    primary: str
    message: dict

    def digest(self, domain: td.Domain) -> bytes:
        return td.digest(domain, self.primary, self.message)

    def to_json(self, domain: td.Domain) -> dict:
        return {"chain_id": domain.chain_id, "oracle": domain.verifying_contract, "primary": self.primary,
                "message": _encode(self.primary, self.message)}

    @classmethod
    def from_json(cls, data: dict) -> tuple["Statement", td.Domain]:
        primary = data["primary"]
        if primary not in td.TYPES:
            raise ValueError(f"unknown statement type {primary!r}")
        return cls(primary, _decode(primary, data["message"])), td.Domain(int(data["chain_id"]), data["oracle"])

    def reports(self) -> list[Report]:
        if self.primary != "ReportBatch":
            return []
        return [report_from_message(m) for m in self.message["reports"]]


def recover(domain: td.Domain, statement: Statement, signature: bytes) -> str | None:
    """The signer of `signature` over the statement, or None when it is not a valid signature."""
    try:
        return Account.recover_message(td.signable(domain, statement.primary, statement.message),
                                       signature=signature)
    except Exception:  # malformed bytes, bad v/s: eth-keys raises several types; any of them means "invalid"
        return None


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class SignatureDirectory:
    """The shared directory: proposals and signature files."""

    def __init__(self, path: str):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def propose(self, domain: td.Domain, statement: Statement) -> bytes:
        digest = statement.digest(domain)
        target = self.path / f"{digest.hex()}.json"
        if not target.exists():
            _write_atomic(target, json.dumps(statement.to_json(domain), indent=1))
        return digest

    def add_signature(self, digest: bytes, address: str, signature: bytes) -> None:
        _write_atomic(self.path / f"{digest.hex()}.{address.lower()}.sig", "0x" + bytes(signature).hex())

    def has_signature(self, digest: bytes, address: str) -> bool:
        return (self.path / f"{digest.hex()}.{address.lower()}.sig").exists()

    def proposals(self) -> list[tuple[bytes, Statement, td.Domain]]:
        """Readable proposals (unreadable or inconsistent ones are skipped: another writer may be mid-rename
        on a share without atomic rename, or someone put garbage there)."""
        found = []
        for file in sorted(self.path.glob("*.json")):
            try:
                statement, domain = Statement.from_json(json.loads(file.read_text()))
                digest = statement.digest(domain)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if digest.hex() == file.stem:
                found.append((digest, statement, domain))
        return found

    def signatures(self, domain: td.Domain, statement: Statement, allowed: set[str]) -> dict[str, bytes]:
        """Valid signatures on file over the statement by addresses in `allowed` (lower case): address ->
        signature. A file whose signature does not recover to the address in its name is ignored."""
        digest = statement.digest(domain)
        valid = {}
        for file in self.path.glob(f"{digest.hex()}.*.sig"):
            address = file.name.split(".")[1]
            if address not in allowed:
                continue
            try:
                signature = bytes.fromhex(file.read_text().strip().removeprefix("0x"))
            except (OSError, ValueError):
                continue
            recovered = recover(domain, statement, signature)
            if recovered is not None and recovered.lower() == address:
                valid[address] = signature
        return valid

    def collect(self, domain: td.Domain, statement: Statement, allowed: set[str], quorum: int,
                timeout: float, poll: float = 0.5, sleep=time.sleep, clock=time.monotonic) -> dict[str, bytes]:
        """Wait up to `timeout` seconds for `quorum` valid signatures. @return what is there at the end."""
        ends = clock() + timeout
        while True:
            found = self.signatures(domain, statement, allowed)
            if len(found) >= quorum or clock() >= ends:
                return found
            sleep(poll)

    def prune(self, now: int, grace: int = 3600) -> int:
        """Remove proposals (and their signatures) whose signature deadline passed more than `grace` ago."""
        removed = 0
        for digest, statement, _ in self.proposals():
            deadline = int(statement.message.get("deadline", now))
            if deadline + grace < now:
                for file in self.path.glob(f"{digest.hex()}.*"):
                    file.unlink(missing_ok=True)
                    removed += 1
        return removed

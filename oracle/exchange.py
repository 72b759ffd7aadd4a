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
import re
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


class ProposalError(ValueError):
    """A proposal file that is not a well-formed statement of the types the oracle signs; the message says
    which field, for the log line."""


MAX_PROPOSAL_FILE = 1_000_000  # bytes: a full batch of reports is ~1 KB each
MAX_SIGNATURE_FILE = 200  # bytes: 0x and 130 hex digits, a newline at most
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL = re.compile(r"-?[0-9]{1,78}")


def _decode(type_: str, value, where: str = "message"):
    """A JSON value as the EIP-712 type `type_` takes it, strictly: integers as decimal strings (or JSON
    integers) within the type's range, bytesN as 0x and exactly N bytes, booleans as JSON booleans only,
    addresses as 0x and 40 hex digits, structs with exactly their fields. Anything else is a ProposalError, so
    what a co-signer checks and what eth-account would encode can never differ ("false" is not False)."""
    if type_.endswith("[]"):
        if not isinstance(value, list):
            raise ProposalError(f"{where} is not a list")
        return [_decode(type_[:-2], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if type_ in td.TYPES:
        if not isinstance(value, dict):
            raise ProposalError(f"{where} is not an object")
        names = [f["name"] for f in td.TYPES[type_]]
        if set(value) != set(names):
            raise ProposalError(f"{where} has fields {sorted(value)}, {type_} has {sorted(names)}")
        return {f["name"]: _decode(f["type"], value[f["name"]], f"{where}.{f['name']}") for f in td.TYPES[type_]}
    if type_.startswith("bytes"):
        size = int(type_[5:])
        if not isinstance(value, str) or not re.fullmatch(rf"0x[0-9a-fA-F]{{{2 * size}}}", value):
            raise ProposalError(f"{where} is not {type_} (0x and {2 * size} hex digits)")
        return bytes.fromhex(value[2:])
    if type_.startswith(("uint", "int")):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ProposalError(f"{where} is not an integer")
        if isinstance(value, str):
            if not _DECIMAL.fullmatch(value):
                raise ProposalError(f"{where} is not a decimal integer")
            value = int(value)
        bits = int(type_.removeprefix("u").removeprefix("int") or 256)
        low, high = (0, 2**bits - 1) if type_.startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if not low <= value <= high:
            raise ProposalError(f"{where} is outside the range of {type_}")
        return value
    if type_ == "bool":
        if not isinstance(value, bool):
            raise ProposalError(f"{where} is not a JSON boolean")
        return value
    if type_ == "address":
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise ProposalError(f"{where} is not an address")
        return value
    raise ProposalError(f"{where}: type {type_} is not signed by the oracle")


def report_from_message(message: dict) -> Report:
    return Report(
        model_id=bytes(message["modelId"]),
        tournament=int(message["tournament"]),
        round=int(message["round"]),
        missed=bool(message["missed"]),
        score_names=tuple(bytes(n) for n in message["scoreNames"]),
        scores=tuple(int(s) for s in message["scores"]),
        multipliers=tuple(int(m) for m in message["multipliers"]),
        payout_factor=int(message["payoutFactor"]),
        clip=int(message["clip"]),
    )


@dataclass(frozen=True)
class Statement:
    """An EIP-712 statement for the ScoreOracle: primary type and message (typed_data's shapes)."""

    primary: str
    message: dict

    def digest(self, domain: td.Domain) -> bytes:
        return td.digest(domain, self.primary, self.message)

    def to_json(self, domain: td.Domain) -> dict:
        return {
            "chain_id": domain.chain_id,
            "oracle": domain.verifying_contract,
            "primary": self.primary,
            "message": _encode(self.primary, self.message),
        }

    @classmethod
    def from_json(cls, data) -> tuple[Statement, td.Domain]:
        """Parse a proposal strictly (see `_decode`). Raises ProposalError."""
        if not isinstance(data, dict) or set(data) != {"chain_id", "oracle", "primary", "message"}:
            raise ProposalError("not a proposal (chain_id, oracle, primary, message)")
        primary = data["primary"]
        if primary not in td.TYPES:
            raise ProposalError(f"unknown statement type {primary!r}")
        chain_id = _decode("uint256", data["chain_id"], "chain_id")
        oracle = _decode("address", data["oracle"], "oracle")
        return cls(primary, _decode(primary, data["message"])), td.Domain(chain_id, oracle)

    def reports(self) -> list[Report]:
        if self.primary != "ReportBatch":
            return []
        return [report_from_message(m) for m in self.message["reports"]]


def recover(domain: td.Domain, statement: Statement, signature: bytes) -> str | None:
    """The signer of `signature` over the statement, or None when it is not a valid signature."""
    try:
        return Account.recover_message(td.signable(domain, statement.primary, statement.message), signature=signature)
    except Exception:  # malformed bytes, bad v/s: eth-keys raises several types; any of them means "invalid"
        return None


def _mtime(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except OSError:
        return 0.0


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class SignatureDirectory:
    """The shared directory: proposals and signature files."""

    def __init__(self, path: str):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.rejected: list[tuple[str, str]] = []  # (file name, reason) of files moved aside, for the log

    def propose(self, domain: td.Domain, statement: Statement) -> bytes:
        digest = statement.digest(domain)
        target = self.path / f"{digest.hex()}.json"
        if not target.exists():
            _write_atomic(target, json.dumps(statement.to_json(domain), indent=1))
        return digest

    def add_signature(self, digest: bytes, address: str, signature: bytes) -> None:
        _write_atomic(self.path / f"{digest.hex()}.{address.lower()}.sig", "0x" + bytes(signature).hex())

    def has_signature(self, domain: td.Domain, statement: Statement, address: str) -> bool:
        """Whether a signature file of `address` over the statement is on file AND valid. A garbage file in
        its place does not count: the signer signs again and overwrites it."""
        return address.lower() in self.signatures(domain, statement, {address.lower()})

    def proposals(self, limit: int | None = None) -> list[tuple[bytes, Statement, td.Domain]]:
        """Well-formed proposals, oldest first, at most `limit`. A file that is not one (bad JSON, a value the
        EIP-712 types cannot take, a name that is not its digest) is moved to ``rejected/`` with the reason
        beside it: it can never stop a pass, and nobody reads it again. A file that cannot be read right now
        (another writer mid-rename on a share without atomic rename) is skipped and retried next pass."""
        found = []
        files = sorted(self.path.glob("*.json"), key=lambda f: (_mtime(f), f.name))
        for file in files:
            if limit is not None and len(found) >= limit:
                break
            try:
                size = file.stat().st_size
                text = file.read_text() if size <= MAX_PROPOSAL_FILE else None
            except OSError:
                continue
            if text is None:
                self.reject(file, f"{size} bytes, more than a proposal can be ({MAX_PROPOSAL_FILE})")
                continue
            try:
                statement, domain = Statement.from_json(json.loads(text))
                digest = statement.digest(domain)
            except (ValueError, RecursionError) as error:  # ProposalError, JSON errors, eth-abi's range checks
                self.reject(file, str(error) or type(error).__name__)
                continue
            except Exception as error:  # eth-abi/eth-account raise many types on odd values: still the file's fault
                self.reject(file, f"{type(error).__name__}: {error}")
                continue
            if digest.hex() != file.stem:
                self.reject(file, f"file name is not its digest {digest.hex()}")
                continue
            found.append((digest, statement, domain))
        return found

    def reject(self, file: Path, reason: str) -> None:
        """Move a bad proposal aside (``rejected/<name>`` and ``rejected/<name>.reason``)."""
        aside = self.path / "rejected"
        aside.mkdir(exist_ok=True)
        try:
            os.replace(file, aside / file.name)
            (aside / f"{file.name}.reason").write_text(reason[:1000] + "\n")
        except OSError:
            pass  # another process moved or removed it first
        self.rejected.append((file.name, reason))

    def signatures(self, domain: td.Domain, statement: Statement, allowed: set[str]) -> dict[str, bytes]:
        """Valid signatures on file over the statement by addresses in `allowed` (lower case): address ->
        signature. A file whose signature does not recover to the address in its name is ignored."""
        digest = statement.digest(domain)
        valid = {}
        for file in self.path.glob(f"{digest.hex()}.*.sig"):
            parts = file.name.split(".")
            if len(parts) != 3:
                continue
            address = parts[1]
            if address not in allowed:
                continue
            try:
                if file.stat().st_size > MAX_SIGNATURE_FILE:
                    continue
                signature = bytes.fromhex(file.read_text().strip().removeprefix("0x"))
            except (OSError, ValueError):
                continue
            recovered = recover(domain, statement, signature)
            if recovered is not None and recovered.lower() == address:
                valid[address] = signature
        return valid

    def collect(
        self,
        domain: td.Domain,
        statement: Statement,
        allowed: set[str],
        quorum: int,
        timeout: float,
        poll: float = 0.5,
        sleep=time.sleep,
        clock=time.monotonic,
    ) -> dict[str, bytes]:
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
            deadline = statement.message["deadline"]
            if deadline + grace < now:
                for file in self.path.glob(f"{digest.hex()}.*"):
                    file.unlink(missing_ok=True)
                    removed += 1
        return removed

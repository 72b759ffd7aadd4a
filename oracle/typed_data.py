"""EIP-712 typed data for every statement the ScoreOracle accepts, and signing with local keys.

The type strings here must match ScoreOracle's *_TYPEHASH constants; tests compare the digests this module
computes with the contract's, so a drift fails loudly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from eth_account import Account
from eth_account.messages import encode_typed_data

from oracle.units import (
    ONE,
    clamped_return,
    model_id_from_uuid,  # noqa: F401  (re-exported: the service's model ids)
)

DOMAIN_NAME = "Backing Vaults ScoreOracle"
DOMAIN_VERSION = "1"

ROUND_REPORT_FIELDS = [
    {"name": "modelId", "type": "bytes32"},
    {"name": "tournament", "type": "uint256"},
    {"name": "round", "type": "uint256"},
    {"name": "missed", "type": "bool"},
    {"name": "scoreNames", "type": "bytes32[]"},
    {"name": "scores", "type": "int256[]"},
    {"name": "multipliers", "type": "uint256[]"},
    {"name": "payoutFactor", "type": "uint256"},
    {"name": "clip", "type": "uint256"},
]

TYPES = {
    "RoundReport": ROUND_REPORT_FIELDS,
    "ReportBatch": [{"name": "reports", "type": "RoundReport[]"}, {"name": "deadline", "type": "uint256"}],
    "DisputeResolution": [
        {"name": "disputedReport", "type": "bytes32"},
        {"name": "replacement", "type": "RoundReport"},
        {"name": "deadline", "type": "uint256"},
    ],
    "RoundAnnouncement": [
        {"name": "tournament", "type": "uint256"},
        {"name": "firstRound", "type": "uint256"},
        {"name": "closeTimes", "type": "uint256[]"},
        {"name": "deadline", "type": "uint256"},
    ],
    "ModelRegistration": [
        {"name": "modelId", "type": "bytes32"},
        {"name": "modeller", "type": "address"},
        {"name": "exposure", "type": "uint256"},
        {"name": "firstRound", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "ModelAttestation": [
        {"name": "modelId", "type": "bytes32"},
        {"name": "modeller", "type": "address"},
        {"name": "attested", "type": "bool"},
        {"name": "evidence", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "ModellerChange": [
        {"name": "modelId", "type": "bytes32"},
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}

# which struct types each primary type references (EIP-712 encodes referenced types after the primary one)
_REFERENCES = {"ReportBatch": ["RoundReport"], "DisputeResolution": ["RoundReport"]}


def to_bytes32(value) -> bytes:
    """A model id or score name as 32 bytes: hex strings (0x...) as given, other text left-aligned UTF-8."""
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    elif isinstance(value, str) and value.startswith("0x"):
        raw = bytes.fromhex(value[2:])
    else:
        raw = str(value).encode()
    if len(raw) > 32:
        raise ValueError(f"{value!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


@dataclass(frozen=True)
class Report:
    """One model's resolved round, in the contract's fixed point (1e18 = 1.0)."""

    model_id: bytes
    tournament: int
    round: int
    missed: bool = False
    score_names: tuple[bytes, ...] = ()
    scores: tuple[int, ...] = ()
    multipliers: tuple[int, ...] = ()
    payout_factor: int = 0
    clip: int = 0

    def message(self) -> dict:
        return {
            "modelId": self.model_id,
            "tournament": self.tournament,
            "round": self.round,
            "missed": self.missed,
            "scoreNames": list(self.score_names),
            "scores": list(self.scores),
            "multipliers": list(self.multipliers),
            "payoutFactor": self.payout_factor,
            "clip": self.clip,
        }

    def as_tuple(self) -> tuple:
        """The Solidity `RoundReport` struct as brownie/web3 take it."""
        return (
            "0x" + self.model_id.hex(),
            self.tournament,
            self.round,
            self.missed,
            ["0x" + n.hex() for n in self.score_names],
            list(self.scores),
            list(self.multipliers),
            self.payout_factor,
            self.clip,
        )

    def round_return(self) -> int:
        """The contract's round return: clamp(pf * sum(m*s) / 1e36, -clip, clip), truncated toward zero."""
        if self.missed:
            return 0
        return clamped_return(self.scores, self.multipliers, self.payout_factor, self.clip)

    def struct_hash(self) -> bytes:
        return _struct_hash("RoundReport", self.message())


@dataclass(frozen=True)
class Domain:
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def _types_for(primary: str) -> dict:
    types = {primary: TYPES[primary]}
    for ref in _REFERENCES.get(primary, []):
        types[ref] = TYPES[ref]
    return types


def _full_message(domain: Domain, primary: str, message: dict) -> dict:
    types = {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ]
    }
    types.update(_types_for(primary))
    return {"types": types, "primaryType": primary, "domain": domain.as_dict(), "message": message}


def _struct_hash(primary: str, message: dict) -> bytes:
    from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_struct

    return hash_struct(primary, _types_for(primary), message)


def signable(domain: Domain, primary: str, message: dict):
    return encode_typed_data(full_message=_full_message(domain, primary, message))


def digest(domain: Domain, primary: str, message: dict) -> bytes:
    """The 32-byte EIP-712 digest the contract recovers signers from."""
    from eth_account.messages import _hash_eip191_message

    return _hash_eip191_message(signable(domain, primary, message))


def batch_message(reports: Sequence[Report], deadline: int) -> dict:
    return {"reports": [r.message() for r in reports], "deadline": deadline}


def resolution_message(disputed_hash: bytes, replacement: Report, deadline: int) -> dict:
    return {"disputedReport": disputed_hash, "replacement": replacement.message(), "deadline": deadline}


def announcement_message(tournament: int, first_round: int, close_times: Sequence[int], deadline: int) -> dict:
    return {"tournament": tournament, "firstRound": first_round, "closeTimes": list(close_times), "deadline": deadline}


def registration_message(model_id: bytes, modeller: str, exposure: int, first_round: int, deadline: int) -> dict:
    return {
        "modelId": model_id,
        "modeller": modeller,
        "exposure": exposure,
        "firstRound": first_round,
        "deadline": deadline,
    }


def attestation_message(
    model_id: bytes, modeller: str, attested: bool, evidence: bytes, nonce: int, deadline: int
) -> dict:
    return {
        "modelId": model_id,
        "modeller": modeller,
        "attested": attested,
        "evidence": evidence,
        "nonce": nonce,
        "deadline": deadline,
    }


def modeller_change_message(model_id: bytes, old: str, new: str, nonce: int, deadline: int) -> dict:
    """`new` replaces `old` (the model's modeller now) as the model's modeller; `nonce`: the oracle's
    `modellerChangeOf(model)[2]`."""
    return {"modelId": model_id, "from": old, "to": new, "nonce": nonce, "deadline": deadline}


def sign(domain: Domain, primary: str, message: dict, keys: Iterable) -> list[tuple[str, bytes]]:
    """Sign with each key (private key bytes/hex or an eth-account LocalAccount): [(address, 65-byte sig)]."""
    out = []
    for key in keys:
        account = key if hasattr(key, "sign_message") else Account.from_key(key)
        signed = account.sign_message(signable(domain, primary, message))
        out.append((account.address, bytes(signed.signature)))
    return out


def ordered(signatures: Iterable[tuple[str, bytes]]) -> list[bytes]:
    """Signatures in the order the contract requires: ascending signer address, one per signer."""
    unique = {address.lower(): sig for address, sig in signatures}
    return [unique[a] for a in sorted(unique, key=lambda a: int(a, 16))]


def to_fixed(value) -> int:
    """A decimal number (float, str, Decimal) to 1e18 fixed point, rounding to the nearest wei."""
    return int((Decimal(str(value)) * ONE).to_integral_value())

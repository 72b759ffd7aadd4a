"""The oracle's units and arithmetic: 1e18 fixed point, Numerai model ids as bytes32, and the round return.

This is the Python twin of what ``ScoreOracle`` computes. The oracle is a leaf package: the reference model,
the simulator and the CLI (``backing``) import these, never the other way round."""

from __future__ import annotations

import uuid

ONE = 10**18
DECIMALS = 18


def tdiv(a: int, b: int) -> int:
    """Solidity's signed division: truncate toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def clamped_return(scores, multipliers, payout_factor: int, clip: int) -> int:
    """The arithmetic of a round return, without the bound checks: clamp(payoutFactor * sum(m_i * s_i) / 1e36,
    -clip, clip), one truncation toward zero, as the contract computes it."""
    weighted = sum(mult * score for score, mult in zip(scores, multipliers))
    raw = tdiv(payout_factor * weighted, ONE * ONE)
    return max(-clip, min(clip, raw))


def fixed_decimal(value: int) -> str:
    """Exact decimal string of a 1e18 fixed-point integer (an amount in wei, a score, a factor): 18 decimals,
    trailing zeros trimmed, no float.

    ``fixed_decimal(1) == "0.000000000000000001"``, ``fixed_decimal(15 * 10**17) == "1.5"``,
    ``fixed_decimal(-2 * 10**18) == "-2"``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"takes an integer in 1e18 fixed point (e.g. wei), not {type(value).__name__}")
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), ONE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{DECIMALS}d}".rstrip("0")


def model_id_from_uuid(model_uuid: str) -> bytes:
    """A Numerai model UUID as the oracle's bytes32: its 16 bytes, left-aligned, zero-padded on the right."""
    return uuid.UUID(model_uuid).bytes + bytes(16)


def model_uuid(model_id: bytes) -> str | None:
    """The Numerai model UUID a bytes32 model id encodes, or None when it is not a left-aligned UUID."""
    if len(model_id) != 32 or any(model_id[16:]):
        return None
    return str(uuid.UUID(bytes=model_id[:16]))

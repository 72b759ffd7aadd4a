"""Contract errors in plain words: revert data -> (name, args) -> one line saying what happened and what to do.

The words come from the project's one catalogue, ``backing.errors``. Revert data is decoded against every
shipped ABI (``backing.client.contracts.error_catalogue``), plus Solidity's Error(string) and Panic(uint256).
"""

from __future__ import annotations

from eth_abi import decode

PHASES = ("Open", "Locked", "Matured", "Settled", "Defaulted", "Cancelled")
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


def explain(name: str, args: tuple, contract: str = "") -> str:
    """One line for a contract error, from the project's one catalogue (``backing.errors.plain``)."""
    from backing.errors import Context, plain

    shown = tuple("0x" + a.hex() if isinstance(a, (bytes, bytearray)) else a for a in args)
    return plain(name, shown, Context(contract=contract))


def decode_revert(data) -> tuple[str, tuple] | None:
    """(error name, args) from revert data (hex or bytes); None when it is empty or unknown."""
    from backing.client.contracts import error_catalogue

    if data is None:
        return None
    if isinstance(data, str):
        text = data[2:] if data.startswith("0x") else data
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            return None
    else:
        raw = bytes(data)
    if len(raw) < 4:
        return None
    selector, body = raw[:4], raw[4:]
    try:
        if selector == _ERROR_STRING:
            return "Error", tuple(decode(["string"], body))
        if selector == _PANIC:
            return "Panic", tuple(decode(["uint256"], body))
        known = error_catalogue().get(selector)
        if known is None:
            return None
        name, types, _ = known
        return name, tuple(decode(types, body))
    except Exception:  # noqa: BLE001 -- malformed data: treat as unknown
        return None


def explain_revert(data, contract: str = "") -> str:
    decoded = decode_revert(data)
    if decoded is None:
        return "the contract refused without a known reason"
    name, args = decoded
    if name == "Error":
        return f"the contract refused: {args[0]}"
    if name == "Panic":
        return f"the contract failed (panic code {args[0]:#x})"
    return explain(name, args, contract)

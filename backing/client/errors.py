"""Contract errors in plain words: revert data -> (name, args) -> one line saying what happened and what to do.

The words come from the project's one catalogue, ``backing.errors`` (``explain(name, args)``), when it exists;
until then (and for errors it does not know) from the short table below. Revert data is decoded against every
shipped ABI (``backing.client.contracts.error_catalogue``), plus Solidity's Error(string) and Panic(uint256).
"""

from __future__ import annotations

from datetime import datetime, timezone

from eth_abi import decode
from oracle.units import ONE

PHASES = ("Open", "Locked", "Matured", "Settled", "Defaulted", "Cancelled")
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


def _nmr(wei: int) -> str:
    text = f"{wei // ONE}.{wei % ONE:018d}".rstrip("0").rstrip(".")
    return f"{text} NMR"


def _when(unix: int) -> str:
    return datetime.fromtimestamp(int(unix), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


#: name -> words (the fallback table; backing.errors takes precedence).
_WORDS = {
    "WrongPhase": lambda a: f"the agreement is {PHASES[a[0]] if a[0] < len(PHASES) else a[0]}, "
                            "so this action is not possible now (see `backing agreement show`)",
    "CapacityExceeded": lambda a: f"only {a[1]} units are still available (asked for {a[0]}): deposit fewer units",
    "InsufficientUnits": lambda a: f"you hold {a[1]} units, fewer than the {a[0]} asked for",
    "DepositWindowClosed": lambda a: f"the deposit window closed at {_when(a[0])}",
    "OpenWindowNotOver": lambda a: f"the agreement is open until {_when(a[0])}; it can be cancelled only after that",
    "BelowMinUnits": lambda a: f"{a[0]} units deposited, the terms need at least {a[1]} to lock",
    "ReserveTooSmall": lambda a: f"the reserve is {_nmr(a[0])}, locking needs {_nmr(a[1])}: post the rest "
                                 "with `backing agreement reserve`",
    "RoundScheduleStale": lambda a: f"the oracle's round schedule is stale (round {a[0]} closed at {_when(a[1])}; "
                                    "the lock window ended at " + _when(a[2]) + "): wait until the oracle "
                                    "announces the next round, then lock",
    "NoRoundAnnounced": lambda a: "the oracle has announced no round yet: wait for the oracle operators",
    "ModelNotStarted": lambda a: f"the model's first reported round is {a[1]}, after the start round {a[0]}: "
                                 "lock later",
    "RoundsOutstanding": lambda a: f"the oracle has final rounds up to {a[0]}, maturity needs round {a[1]}: "
                                   "wait for the oracle to post and finalize them",
    "RepaymentExceedsDue": lambda a: f"{_nmr(a[0])} is more than the {_nmr(a[1])} still due",
    "WindDownNotOver": lambda a: f"the modeller may repay until {_when(a[0])}; a default can be declared after that",
    "NothingToClaim": lambda a: f"{a[0]} has nothing to claim in this agreement",
    "AlreadyClaimed": lambda a: f"{a[0]} has already claimed",
    "ClaimsOutstanding": lambda a: f"{a[0]} backers have not claimed yet; sweep after every claim",
    "NotModeller": lambda a: f"{a[0]} is not this agreement's modeller: use the modeller's account",
    "NotModelOwner": lambda a: f"{a[1]} does not own model {a[0].hex() if isinstance(a[0], bytes) else a[0]} at "
                               f"the oracle (registered modeller: {a[2]}); register the model first "
                               "(`backing model register`)",
    "ModelNotRegistered": lambda a: "the model is not registered at the oracle: `backing model register` first",
    "ModelAlreadyRegistered": lambda a: "the model is already registered at the oracle",
    "ModellerMismatch": lambda a: f"the model is registered to {a[1]}, not {a[2]}",
    "QuorumNotMet": lambda a: f"{a[0]} signatures, the oracle needs {a[1]}: add signer keystores",
    "NotSigner": lambda a: f"signature {a[0]} is by {a[2] if len(a) > 2 else a[1]}, not one of the oracle's signers",
    "SignatureExpired": lambda a: f"the signatures expired at {_when(a[0])}: sign again",
    "ZeroAmount": lambda a: "the amount is zero",
    "SignerSetInvalid": lambda a: f"{a[0]} signers with quorum {a[1]} and dispute quorum {a[2]} is not a valid "
                                  "signer set (need 1 <= quorum < dispute quorum <= signers)",
    "ERC20InsufficientBalance": lambda a: f"{a[0]} holds {_nmr(a[1])}, {_nmr(a[2])} are needed",
    "ERC20InsufficientAllowance": lambda a: f"the allowance is {_nmr(a[1])}, {_nmr(a[2])} are needed",
    "SafeERC20FailedOperation": lambda a: f"the token at {a[0]} refused the transfer (balance or allowance too "
                                          "small)",
}


def explain(name: str, args: tuple) -> str:
    """One line for a contract error: the project's catalogue first, the table above, else the raw error."""
    try:
        from backing.errors import explain as project_explain  # the one catalogue, when it exists
    except ImportError:
        project_explain = None
    if project_explain is not None:
        try:
            words = project_explain(name, tuple(args))
        except Exception:  # noqa: BLE001 -- a catalogue bug must not hide the error itself
            words = None
        if words:
            return words
    if name in _WORDS:
        try:
            return _WORDS[name](tuple(args))
        except (IndexError, TypeError, ValueError):
            pass
    rendered = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in args)
    return f"the contract refused with {name}({rendered})"


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


def explain_revert(data) -> str:
    decoded = decode_revert(data)
    if decoded is None:
        return "the contract refused without a known reason"
    name, args = decoded
    if name == "Error":
        return f"the contract refused: {args[0]}"
    if name == "Panic":
        return f"the contract failed (panic code {args[0]:#x})"
    return explain(name, args)

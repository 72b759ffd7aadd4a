"""What the chain commands share: reading a model id or an amount as typed, finding an agreement of the manifest's
factory, its terms, events of a receipt, and the balance and allowance checks before money moves."""

from __future__ import annotations

import uuid as uuidlib

from backing.client import (
    EXIT_ALLOWANCE,
    EXIT_BALANCE,
    EXIT_DEPLOYMENT,
    EXIT_USAGE,
    CliError,
)
from backing.client.contracts import abi
from backing.client.tx import Call, allowance_calls, nmr
from backing.model.agreement import FeeTier, Terms
from backing.model.terms import TermsError, nmr_to_wei

ZERO = "0x" + "00" * 20
PAGE = 200


# ---------------------------------------------------------------------------------------------- helpers


def model_id(text: str) -> bytes:
    """A Numerai model UUID (16 bytes, left-aligned in 32) or 0x + 64 hex digits."""
    from oracle.units import model_id_from_uuid

    if text.startswith("0x") and len(text) == 66:
        return bytes.fromhex(text[2:])
    try:
        return bytes(model_id_from_uuid(str(uuidlib.UUID(text))))
    except ValueError:
        raise CliError(EXIT_USAGE, f"{text!r} is not a model UUID (or 0x + 64 hex digits)") from None


def model_label(raw: bytes) -> str:
    from oracle.units import model_uuid

    try:
        return model_uuid(raw) or "0x" + raw.hex()
    except (ValueError, TypeError):
        return "0x" + raw.hex()


def amount(option: str, text: str) -> int:
    try:
        return nmr_to_wei(option, text)
    except TermsError as error:
        raise CliError(EXIT_USAGE, str(error)) from None


def address_arg(w3, text: str, what: str) -> str:
    if not w3.is_address(text):
        raise CliError(EXIT_USAGE, f"{what}: {text!r} is not an address")
    return w3.to_checksum_address(text)


def chain_now(w3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def agreement_at(dep, text: str):
    address = address_arg(dep.w3, text, "AGREEMENT")
    if dep.series_factory is not None and dep.series_factory.functions.isSeries(address).call():
        raise CliError(
            EXIT_USAGE,
            f"{address} is a series, not a single agreement: use `backing series ...` (e.g. "
            "`backing series deposit SERIES UNITS`, `backing series show SERIES`)",
        )
    if not dep.factory.functions.isAgreement(address).call():
        raise CliError(
            EXIT_DEPLOYMENT,
            f"{address} is not an agreement of the AgreementFactory at "
            f"{dep.factory.address}: check the address (see `backing agreement list`)",
        )
    return dep.w3.eth.contract(address=address, abi=abi("BackingAgreement"))


def terms_of(agreement) -> Terms:
    t = agreement.functions.terms().call()
    ladder = agreement.functions.feeLadder().call()
    return Terms(
        unit_size=t[1],
        min_units=t[2],
        max_units=t[3],
        profit_share_bps=t[4],
        burn_share_bps=t[5],
        reserve_ratio_bps=t[6],
        upfront_fee_bps=t[7],
        lockup_rounds=t[8],
        open_until=t[9],
        wind_down=t[10],
        staking_address=t[11],
        model_id=bytes(t[0]),
        fee_ladder=tuple(FeeTier(m, b) for m, b in ladder),
        require_attested_model=bool(t[12]),
    )


def events(contract, name: str, receipt) -> list:
    from web3.logs import DISCARD

    return list(getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD))


def check_balance(dep, owner: str, needed: int, what: str) -> None:
    held = dep.token.functions.balanceOf(owner).call()
    if held < needed:
        raise CliError(
            EXIT_BALANCE, f"{owner} holds {nmr(held)}, {what} needs {nmr(needed)}: get more NMR first; " "nothing sent"
        )


def with_allowance(args, dep, sending, spender: str, needed: int, label: str) -> list[Call]:
    """Approval calls for `needed` (exactly), or a refusal with --no-approve when the allowance is short."""
    if getattr(args, "no_approve", False):
        current = dep.token.functions.allowance(sending.address, spender).call()
        if current < needed:
            raise CliError(
                EXIT_ALLOWANCE,
                f"{label} may spend {nmr(current)} of your NMR, {nmr(needed)} needed: "
                "run without --no-approve (it approves exactly that); nothing sent",
            )
        return []
    return allowance_calls(dep.token, sending.address, spender, needed, label)


def _short(address: str) -> str:
    return f"agreement {address[:10]}"

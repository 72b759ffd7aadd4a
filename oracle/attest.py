"""Proof that a Numerai model belongs to the Ethereum address that registers it.

Only Numerai knows who owns a model, and the one thing a modeller controls that anybody can read is his public
profile text (the `bio` of `v3UserProfile`). He proves ownership by publishing there one of two forms:

1. **His address.** The full 0x-prefixed 40-hex-digit address anywhere in the text, compared case-insensitively
   (checksummed or not), as a token of its own: the characters right before and after it must not be hex digits
   or word characters, so the address inside a longer hex string does not count. Example bio::

       Backed on Backing Vaults: 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4

2. **A signed statement.** One line of the form::

       backing-vaults:<model_id>:<address>:<signature>

   where `<signature>` is the 65-byte EIP-191 `personal_sign` signature (hex, 0x optional, v 27/28 or 0/1) by
   `<address>` of the text ``backing-vaults:<model_id>:<address>`` -- the line without its last colon and the
   signature, exactly as it appears (case included). `statement()` writes such a line from a private key. The
   statement also proves control of the key, and names the model, so it cannot be copied to another model's
   profile when the caller passes `model_id`.

Statement lines are judged only by their signature: an address that appears inside a line starting with
``backing-vaults:`` never counts as form 1, otherwise a forged statement would pass as a plain mention.
Leading and trailing whitespace around a statement line is ignored.

The evidence the oracle signs into a `ModelAttestation` is keccak256 of the profile text (UTF-8), so anybody
can later check which text the signers saw.
"""

from __future__ import annotations

import re

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

STATEMENT_PREFIX = "backing-vaults:"

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_STATEMENT = re.compile(
    r"^backing-vaults:(?P<model>[0-9A-Za-z-]+):(?P<address>0x[0-9a-fA-F]{40}):(?P<signature>(?:0x)?[0-9a-fA-F]{130})$"
)


def evidence_hash(profile_text: str) -> bytes:
    """keccak256 of the profile text as UTF-8: the 32-byte evidence of an attestation."""
    return keccak(text=profile_text)


def statement_message(model_id: str, address: str) -> str:
    """The text a modeller signs: ``backing-vaults:<model_id>:<address>``."""
    return f"{STATEMENT_PREFIX}{model_id}:{address}"


def statement(private_key, model_id: str) -> str:
    """A complete statement line for the profile, signed with `private_key` (bytes, hex or LocalAccount)."""
    account = private_key if hasattr(private_key, "sign_message") else Account.from_key(private_key)
    message = statement_message(model_id, account.address)
    signature = account.sign_message(encode_defunct(text=message)).signature
    return f"{message}:0x{bytes(signature).hex()}"


def _statement_signer(line: str, model_id: str | None) -> str | None:
    """The lower-case address a statement line proves, or None if the line is malformed or the signature is not
    by the address it names (or names another model than `model_id`)."""
    match = _STATEMENT.match(line)
    if match is None:
        return None
    if model_id is not None and match["model"].lower() != model_id.lower():
        return None
    message = line[: match.start("signature") - 1]
    signature = bytearray(bytes.fromhex(match["signature"].removeprefix("0x")))
    if signature[64] in (0, 1):  # some signers give v as the bare recovery id
        signature[64] += 27
    try:
        recovered = Account.recover_message(encode_defunct(text=message), signature=bytes(signature))
    except Exception:  # eth-account raises several types for unrecoverable signatures (bad v, s out of range)
        return None
    claimed = match["address"].lower()
    return claimed if recovered.lower() == claimed else None


def _mentions(text: str, address: str) -> bool:
    """The address as a token of its own, case-insensitive."""
    pattern = r"(?<![0-9A-Za-z_])" + re.escape(address) + r"(?![0-9A-Za-z_])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def find_attestation(profile_text: str | None, modeller_address: str, model_id: str | None = None) -> bytes | None:
    """The evidence hash (keccak256 of the profile text) if the text proves `modeller_address` owns the model,
    else None. Accepted forms are in the module docstring; with `model_id` a signed statement must name it.

    Raises ValueError if `modeller_address` is not a 0x address (a caller bug, not a missing proof)."""
    if not isinstance(modeller_address, str) or not _ADDRESS.match(modeller_address):
        raise ValueError(f"modeller address {modeller_address!r} is not a 0x-prefixed 20-byte hex address")
    if not profile_text:
        return None
    wanted = modeller_address.lower()
    plain_lines = []
    for line in profile_text.splitlines():
        stripped = line.strip()
        if stripped.startswith(STATEMENT_PREFIX):
            if _statement_signer(stripped, model_id) == wanted:
                return evidence_hash(profile_text)
        else:
            plain_lines.append(line)
    if _mentions("\n".join(plain_lines), wanted):
        return evidence_hash(profile_text)
    return None

"""Constants and assertion helpers for the on-chain tests (brownie): custom-error reverts, events, NMR allowances."""

import brownie

from backing.model.agreement import ONE
from backing.onchain.oracle import OracleParams

NMR = ONE
DAY = 86400
MODEL_ID = "0x" + "ab" * 16 + "00" * 16
MAX_CLIP = ONE
MAX_MULTIPLIER = 100 * ONE
MIN_ROUND_SPACING = 22 * 3600


def reverts_with(name: str, *args):
    """Expect a revert with Solidity custom error `name`; with `args`, with exactly those arguments.

    Brownie renders a custom error as "Name: arg1, arg2" (addresses in lower case, enums as integers)."""

    def render(a):
        text = str(getattr(a, "address", a))
        return text.lower() if text.startswith("0x") and len(text) == 42 else text

    if args:
        return brownie.reverts(f"{name}: " + ", ".join(render(a) for a in args))
    return brownie.reverts(revert_pattern=rf"{name}: .*")


def expect_event(tx, name, emitter=None, **values):
    """Exactly one `name` event (from `emitter`, when given), with exactly these fields and values."""
    assert name in tx.events, f"{name} not emitted"
    address = getattr(emitter, "address", emitter)
    events = [e for e in tx.events[name] if address is None or e.address == address]
    assert len(events) == 1, f"{len(events)} {name} events"
    event = events[0]
    assert sorted(event.keys()) == sorted(values), (name, event.keys())
    for key, value in values.items():
        assert event[key] == value, f"{name}.{key}: {event[key]} != {value}"


# the oracle as the tests deploy it: 3 signers, quorum 2, dispute quorum 3
QUORUM, DISPUTE_QUORUM = 2, 3
ORACLE_PARAMS = OracleParams(max_clip=MAX_CLIP, max_multiplier=MAX_MULTIPLIER, min_round_spacing=MIN_ROUND_SPACING)


def set_allowance(token, owner, spender, amount):
    """Approve the way NMR requires: from or to zero, or changeApproval from the current value."""
    current = token.allowance(owner, spender)
    if current == amount:
        return
    if hasattr(token, "changeApproval"):
        if current == 0 or amount == 0:
            token.approve(spender, amount, {"from": owner})
        else:
            token.changeApproval(spender, current, amount, {"from": owner})
    else:
        token.approve(spender, amount, {"from": owner})

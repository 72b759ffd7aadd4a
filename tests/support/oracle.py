"""Constants and helpers for the ScoreOracle tests (tests/chain/oracle/): statements are built as
``oracle.typed_data.Report`` values, contract return values and event fields are compared as plain Python."""

from brownie import chain
from eth_account import Account

from backing.model.agreement import ONE
from backing.onchain.oracle import SignedOracle
from oracle import typed_data as td
from oracle.typed_data import Report
from support.chain import MODEL_ID, ORACLE_PARAMS

TOURNAMENT = ORACLE_PARAMS.tournament
WINDOW = ORACLE_PARAMS.challenge_window
RESOLUTION_DELAY = ORACLE_PARAMS.resolution_delay
MAX_REPORT_DELAY = ORACLE_PARAMS.max_report_delay
BOND = ORACLE_PARAMS.dispute_bond
DISPUTE_TIMEOUT = ORACLE_PARAMS.dispute_timeout
SIGNER_SET_DELAY = ORACLE_PARAMS.signer_set_delay
DISPUTED = 2**64 - 1  # Pending.finalAt while disputed
MAX_UINT64 = 2**64 - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

MID = bytes.fromhex(MODEL_ID[2:])  # the conftest model: registered to `modeller`, first round 1, round 1 announced
OTHER = b"\x11" * 32  # an id nobody registered


def name(text: str) -> bytes:
    return td.to_bytes32(text)


RET, CORR, MMC = name("RET"), name("CORR20"), name("MMC")


def hx(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def norm(value):
    """Brownie return values and event fields as plain Python (bytes and addresses as lowercase hex), so that
    structs and arrays compare with ``Report.as_tuple()`` (brownie's own ReturnValue refuses int lists)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return hx(value)
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, (list, tuple)):
        return tuple(norm(v) for v in value)
    raise TypeError(type(value))


def expect_event_norm(tx, event_name, **values):
    """``expect_event`` for events with struct or array fields (compared through ``norm``)."""
    assert event_name in tx.events, f"{event_name} not emitted"
    events = list(tx.events[event_name])
    assert len(events) == 1, f"{len(events)} {event_name} events"
    assert sorted(events[0].keys()) == sorted(values)
    for key, value in values.items():
        assert norm(events[0][key]) == norm(value), f"{event_name}.{key}"


def events(tx, event_name):
    return [dict(e) for e in tx.events[event_name]] if event_name in tx.events else []


def sig_of(domain, primary, message, key) -> bytes:
    return td.sign(domain, primary, message, [key])[0][1]


def recovered(domain, primary, message, signature) -> str:
    """The address the contract recovers from `signature` over the digest of `message` in `domain`."""
    return Account._recover_hash(td.digest(domain, primary, message), signature=signature)


def high_s(signature: bytes) -> bytes:
    """The malleable twin of a signature: s -> n - s, v flipped. ecrecover accepts it; OpenZeppelin does not."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def plain(value):
    return tuple(norm(v) for v in value)


def post_raw(oracle, reports, deadline, signatures, sender):
    return oracle.postReports([r.as_tuple() for r in reports], deadline, signatures, {"from": sender})


def report(
    model=MID,
    round_=1,
    names=(RET,),
    scores=(0,),
    mults=(ONE,),
    payout=ONE,
    clip=ONE,
    missed=False,
    tournament=TOURNAMENT,
) -> Report:
    return Report(model, tournament, round_, missed, tuple(names), tuple(scores), tuple(mults), payout, clip)


def latest() -> int:
    return chain[-1].timestamp


class DryRun(SignedOracle):
    """A SignedOracle whose statements run as eth_calls: the same checks, without mining a reverted transaction
    (the project's brownie config broadcasts reverting transactions, which costs a block and a trace each)."""

    def _call(self, fn, *args, **extra):
        return fn.call(*args, self._tx(**extra))

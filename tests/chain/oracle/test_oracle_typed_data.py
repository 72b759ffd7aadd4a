"""Python <-> contract: the EIP-712 type hashes, domain separator, report hashes and batch digest that
``oracle.typed_data`` computes are the ones ScoreOracle recovers from."""

import eth_abi
import pytest
from brownie import chain
from eth_utils import keccak

from oracle import typed_data as td
from oracle.typed_data import Domain, Report
from support.chain import MAX_MULTIPLIER
from support.oracle import CORR, MID, MMC, ONE, OTHER, TOURNAMENT, events, hx, name, report


def encode_type(primary: str) -> str:
    """EIP-712 encodeType from ``oracle.typed_data.TYPES``: the primary type, then referenced types sorted."""

    def one(type_name):
        return type_name + "(" + ",".join(f"{f['type']} {f['name']}" for f in td.TYPES[type_name]) + ")"

    return one(primary) + "".join(one(ref) for ref in sorted(td._REFERENCES.get(primary, [])))


def test_typehashes_match_python(oracle):
    constants = {
        "RoundReport": oracle.ROUND_REPORT_TYPEHASH(),
        "ReportBatch": oracle.REPORT_BATCH_TYPEHASH(),
        "DisputeResolution": oracle.RESOLUTION_TYPEHASH(),
        "RoundAnnouncement": oracle.ANNOUNCEMENT_TYPEHASH(),
        "ModelRegistration": oracle.REGISTRATION_TYPEHASH(),
        "ModelAttestation": oracle.ATTESTATION_TYPEHASH(),
        "ModellerChange": oracle.MODELLER_CHANGE_TYPEHASH(),
    }
    assert sorted(constants) == sorted(td.TYPES)
    for primary, constant in constants.items():
        assert constant == hx(keccak(text=encode_type(primary))), primary


def test_domain_separator_matches_python(oracle, bare):
    domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")

    def separator(address, chain_id=chain.id):
        return keccak(
            eth_abi.encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [domain_type, keccak(text="Backing Vaults ScoreOracle"), keccak(text="1"), chain_id, str(address)],
            )
        )

    assert oracle.domainSeparator() == hx(separator(oracle.address))
    assert bare.oracle.domainSeparator() == hx(separator(bare.oracle.address))
    assert oracle.domainSeparator() != bare.oracle.domainSeparator()
    # eth-account's own hash of the Domain the helpers sign with
    from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_domain

    assert oracle.domainSeparator() == hx(hash_domain(Domain(chain.id, oracle.address).as_dict()))


SAMPLE_REPORTS = {
    "missed": report(missed=True, names=(), scores=(), mults=(), payout=0, clip=0),
    "one-score": report(scores=(ONE // 10,)),
    "two-scores-negative": report(
        names=(CORR, MMC), scores=(-(ONE // 3), 12345), mults=(ONE // 2, 3 * ONE), payout=9 * ONE // 10, clip=ONE // 4
    ),
    "eight-scores-extremes": report(
        names=tuple(name(f"S{i}") for i in range(8)),
        scores=(ONE, -ONE, 0, 1, -1, ONE // 7, -(ONE // 9), 42),
        mults=(MAX_MULTIPLIER, 0, 1, ONE, 2 * ONE, 3, ONE // 3, 7),
        payout=1,
        clip=1,
    ),
    "other-round-and-model": Report(OTHER, TOURNAMENT, 987654321, False, (CORR,), (-5,), (ONE,), ONE, ONE),
}


@pytest.mark.parametrize("key", list(SAMPLE_REPORTS))
def test_hash_report_matches_python(oracle, key):
    r = SAMPLE_REPORTS[key]
    assert oracle.hashReport(r.as_tuple()) == hx(r.struct_hash())
    # and an encoding written out by hand, independent of eth-account
    manual = keccak(
        eth_abi.encode(
            ["bytes32", "bytes32", "uint256", "uint256", "bool", "bytes32", "bytes32", "bytes32", "uint256", "uint256"],
            [
                keccak(text=encode_type("RoundReport")),
                r.model_id,
                r.tournament,
                r.round,
                r.missed,
                keccak(b"".join(r.score_names)),
                keccak(b"".join(s.to_bytes(32, "big", signed=True) for s in r.scores)),
                keccak(b"".join(m.to_bytes(32, "big") for m in r.multipliers)),
                r.payout_factor,
                r.clip,
            ],
        )
    )
    assert r.struct_hash() == manual
    if not r.missed:
        assert oracle.computeRoundReturn(r.as_tuple()) == r.round_return()


def test_batch_digest_matches_contract(signed, oracle, model_id, keys):
    """The digest Python signs is the one the contract recovers from: checked by hand, then by posting a
    batch of a multi-score report and a missed one (signatures over any other digest would not recover)."""
    signed.announce_through(2)
    reports = [
        SAMPLE_REPORTS["two-scores-negative"],
        report(round_=2, missed=True, names=(), scores=(), mults=(), payout=0, clip=0),
    ]
    deadline = chain.time() + 3600
    message = td.batch_message(reports, deadline)
    hashes = b"".join(bytes(oracle.hashReport(r.as_tuple())) for r in reports)
    struct = keccak(
        eth_abi.encode(
            ["bytes32", "bytes32", "uint256"], [bytes(oracle.REPORT_BATCH_TYPEHASH()), keccak(hashes), deadline]
        )
    )
    expected = keccak(b"\x19\x01" + bytes(oracle.domainSeparator()) + struct)
    assert td.digest(signed.domain, "ReportBatch", message) == expected
    tx = signed.post(reports, deadline=deadline)
    assert [e["round"] for e in events(tx, "RoundPosted")] == [1, 2]
    assert [e["roundReturn"] for e in events(tx, "RoundPosted")] == [r.round_return() for r in reports]
    assert oracle.lastPostedRound(MID) == 2

"""ScoreOracle on-chain tests: k-of-n EIP-712 signed statements that anyone relays, the challenge window,
disputes with an NMR bond resolved by a larger quorum, the liveness fallback agreements mature on, and the
timelocked signer set.

Every failing path asserts its exact custom error and arguments, every state change its event. Statements are
signed off-chain with the ``signers`` keys (``oracle.typed_data``) and relayed by ``reporter`` (or anyone).
Round returns are compared with the Python mirrors ``Report.round_return`` and ``backing.model.agreement``.

None of these tests depends on the agreement token: the oracle's bonds are in ``nmr_token`` and the few
agreement-level tests use ``make_nmr_agreement``, so every test runs once."""

import dataclasses
import itertools

import brownie
import eth_abi
import pytest
from brownie import ZERO_ADDRESS, ScoreOracle, accounts, chain
from eth_account import Account
from eth_utils import keccak

from backing.onchain.oracle import SignedOracle, deploy_oracle, return_report, signer_keys, sorted_addresses
from backing.model.agreement import INDEX_LIMIT, index_path, next_index, round_return, tdiv
from oracle import typed_data as td
from oracle.typed_data import Domain, Report

from support.chain import (
    DAY,
    DISPUTE_QUORUM,
    MAX_CLIP,
    MAX_MULTIPLIER,
    MIN_ROUND_SPACING,
    MODEL_ID,
    NMR,
    ORACLE_PARAMS,
    QUORUM,
    expect_event,
    reverts_with,
)

ONE = 10**18
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


def report(model=MID, round_=1, names=(RET,), scores=(0,), mults=(ONE,), payout=ONE, clip=ONE, missed=False,
           tournament=TOURNAMENT) -> Report:
    return Report(model, tournament, round_, missed, tuple(names), tuple(scores), tuple(mults), payout, clip)


def latest() -> int:
    return chain[-1].timestamp


# ============================================================================================ fixtures


@pytest.fixture(scope="module")
def keys(signers):
    """The oracle's signer keys in ascending address order (the order signatures must come in)."""
    return sorted(signers, key=lambda k: int(k.address, 16))


@pytest.fixture(scope="module")
def intruder():
    return signer_keys(1, seed="not-an-oracle-signer")[0]


@pytest.fixture(scope="module")
def bare(deployer, nmr_token, signers, reporter):
    """A second ScoreOracle with the same signers and parameters, nothing registered or announced."""
    o = deploy_oracle(deployer, nmr_token, signers, QUORUM, DISPUTE_QUORUM, ORACLE_PARAMS)
    return SignedOracle(o, signers, reporter)


class DryRun(SignedOracle):
    """A SignedOracle whose statements run as eth_calls: the same checks, without mining a reverted transaction
    (the project's brownie config broadcasts reverting transactions, which costs a block and a trace each)."""

    def _call(self, fn, *args, **extra):
        return fn.call(*args, self._tx(**extra))


@pytest.fixture(scope="module")
def dry(oracle, signers, reporter):
    return DryRun(oracle, signers, reporter)


@pytest.fixture(scope="module")
def dry_bare(bare, signers, reporter):
    return DryRun(bare.oracle, signers, reporter)


@pytest.fixture
def fresh_model(signed, modeller):
    """Register a new model id on the shared oracle (given exposure and first round)."""
    counter = itertools.count(1)

    def register(exposure=ONE, first=1):
        model = (0x5EED0000 + next(counter)).to_bytes(32, "big")
        signed.register(model, modeller, exposure, first)
        return model

    return register


@pytest.fixture
def watcher(oracle, deployer, outsider, fund_nmr):
    """`outsider` as a watcher holding exactly one bond, approved to the oracle."""
    oracle.setWatcher(outsider, True, {"from": deployer})
    fund_nmr(outsider, BOND, oracle)
    return outsider


def deploy_with(deployer, bond_token, params=ORACLE_PARAMS, signers=None, quorum=QUORUM,
                dispute_quorum=DISPUTE_QUORUM, owner=None):
    return ScoreOracle.deploy(owner or deployer, params.config(bond_token), signers, quorum, dispute_quorum,
                              {"from": deployer})


# ============================================================================================ construction


def test_constructor_sets_parameters(bare, deployer, nmr_token, signers):
    o = bare.oracle
    assert o.owner() == deployer
    assert o.pendingOwner() == ZERO_ADDRESS
    assert o.bondToken() == nmr_token
    p = ORACLE_PARAMS
    assert (o.tournament(), o.maxClip(), o.maxMultiplier(), o.minRoundSpacing()) == (
        p.tournament, p.max_clip, p.max_multiplier, p.min_round_spacing)
    assert (o.challengeWindow(), o.resolutionDelay(), o.maxReportDelay()) == (
        p.challenge_window, p.resolution_delay, p.max_report_delay)
    assert (o.disputeBond(), o.disputeTimeout(), o.signerSetDelay()) == (
        p.dispute_bond, p.dispute_timeout, p.signer_set_delay)
    assert (o.ONE(), o.MAX_ABS_SCORE(), o.MAX_SCORES(), o.MAX_EXPOSURE(), o.MAX_SIGNERS()) == (
        ONE, ONE, 8, ONE, 32)
    addresses = sorted_addresses(signers)
    assert norm(o.signers()) == norm(addresses)
    assert all(o.isSigner(a) for a in addresses)
    assert not o.isSigner(deployer)
    assert (o.quorum(), o.disputeQuorum()) == (QUORUM, DISPUTE_QUORUM)
    assert (o.currentRound(), o.currentRoundCloseTime(), o.firstAnnouncedRound()) == (0, 0, 0)
    assert (o.proposedSignerSet(), o.proposedSignerSetExecutableAt()) == ("0x" + "00" * 32, 0)
    expect_event_norm(o.tx, "SignerSetChanged", signers=addresses, quorum=QUORUM, disputeQuorum=DISPUTE_QUORUM)


def test_constructor_accepts_extreme_bounds(deployer, nmr_token):
    upper = dataclasses.replace(
        ORACLE_PARAMS, max_clip=ONE, max_multiplier=1000 * ONE, min_round_spacing=365 * DAY,
        challenge_window=30 * DAY, resolution_delay=365 * DAY, max_report_delay=365 * DAY,
        dispute_timeout=365 * DAY, signer_set_delay=365 * DAY)
    addresses = sorted_addresses(signer_keys(32))
    o = deploy_with(deployer, nmr_token, upper, addresses, 31, 32)
    assert (o.maxMultiplier(), o.minRoundSpacing(), o.maxReportDelay()) == (1000 * ONE, 365 * DAY, 365 * DAY)
    assert len(o.signers()) == 32
    lower = dataclasses.replace(
        ORACLE_PARAMS, max_clip=1, max_multiplier=1, min_round_spacing=1, challenge_window=1,
        resolution_delay=0, max_report_delay=2, dispute_bond=1, dispute_timeout=1, signer_set_delay=1)
    o = deploy_with(deployer, nmr_token, lower, addresses[:2], 1, 2)
    assert (o.maxClip(), o.challengeWindow(), o.maxReportDelay(), o.resolutionDelay()) == (1, 1, 2, 0)
    assert (o.quorum(), o.disputeQuorum()) == (1, 2)


@pytest.mark.parametrize(
    "field, value, bound",
    [
        ("max_clip", 0, "maxClip"),
        ("max_clip", ONE + 1, "maxClip"),
        ("max_multiplier", 0, "maxMultiplier"),
        ("max_multiplier", 1000 * ONE + 1, "maxMultiplier"),
        ("min_round_spacing", 0, "minRoundSpacing"),
        ("min_round_spacing", 365 * DAY + 1, "minRoundSpacing"),
        ("challenge_window", 0, "challengeWindow"),
        ("challenge_window", 30 * DAY + 1, "challengeWindow"),
        ("resolution_delay", 365 * DAY + 1, "resolutionDelay"),
        ("max_report_delay", WINDOW, "maxReportDelay"),  # must exceed the challenge window
        ("max_report_delay", 1, "maxReportDelay"),
        ("max_report_delay", 365 * DAY + 1, "maxReportDelay"),
        ("dispute_bond", 0, "disputeBond"),
        ("dispute_timeout", 0, "disputeTimeout"),
        ("dispute_timeout", 365 * DAY + 1, "disputeTimeout"),
        ("signer_set_delay", 0, "signerSetDelay"),
        ("signer_set_delay", 365 * DAY + 1, "signerSetDelay"),
    ],
)
def test_constructor_bound_out_of_range(deployer, nmr_token, signers, field, value, bound):
    params = dataclasses.replace(ORACLE_PARAMS, **{field: value})
    with reverts_with("BoundOutOfRange", bound):
        deploy_with(deployer, nmr_token, params, sorted_addresses(signers))


@pytest.mark.parametrize(
    "count, quorum, dispute_quorum",
    [(0, 2, 3), (3, 0, 3), (3, 2, 2), (3, 3, 2), (3, 2, 4), (33, 2, 3), (1, 1, 1)],
    ids=["no-signers", "quorum-zero", "dispute-equals-quorum", "dispute-below-quorum", "dispute-above-n",
         "33-signers", "one-signer"],
)
def test_constructor_signer_set_invalid(deployer, nmr_token, count, quorum, dispute_quorum):
    addresses = sorted_addresses(signer_keys(count)) if count else []
    with reverts_with("SignerSetInvalid", count, quorum, dispute_quorum):
        deploy_with(deployer, nmr_token, signers=addresses, quorum=quorum, dispute_quorum=dispute_quorum)


def test_constructor_signers_not_ascending(deployer, nmr_token, signers):
    a, b, c = sorted_addresses(signers)
    with reverts_with("SignersNotAscending", 1):
        deploy_with(deployer, nmr_token, signers=[b, a, c])
    with reverts_with("SignersNotAscending", 2):
        deploy_with(deployer, nmr_token, signers=[a, c, b])
    with reverts_with("SignersNotAscending", 1):
        deploy_with(deployer, nmr_token, signers=[a, a, c])  # a duplicate is not ascending
    with reverts_with("SignersNotAscending", 0):
        deploy_with(deployer, nmr_token, signers=[ZERO_ADDRESS, a, b])  # nor is the zero address


def test_constructor_zero_addresses(deployer, nmr_token, signers):
    with reverts_with("ZeroAddress"):
        deploy_with(deployer, ZERO_ADDRESS, signers=sorted_addresses(signers))
    with reverts_with("OwnableInvalidOwner", ZERO_ADDRESS):
        ScoreOracle.deploy(ZERO_ADDRESS, ORACLE_PARAMS.config(nmr_token), sorted_addresses(signers), 2, 3,
                           {"from": deployer})


def test_ownership_two_steps(oracle, deployer, outsider, signers):
    addresses = sorted_addresses(signers)
    tx = oracle.transferOwnership(outsider, {"from": deployer})
    expect_event(tx, "OwnershipTransferStarted", previousOwner=deployer, newOwner=outsider)
    assert oracle.owner() == deployer
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.acceptOwnership({"from": deployer})
    tx = oracle.acceptOwnership({"from": outsider})
    expect_event(tx, "OwnershipTransferred", previousOwner=deployer, newOwner=outsider)
    # the new owner governs, the old one no longer does
    oracle.proposeSignerSet(addresses, 2, 3, {"from": outsider})
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.proposeSignerSet(addresses, 2, 3, {"from": deployer})
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.setWatcher(deployer, True, {"from": deployer})


# ============================================================================================ Python <-> contract


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
    }
    assert sorted(constants) == sorted(td.TYPES)
    for primary, constant in constants.items():
        assert constant == hx(keccak(text=encode_type(primary))), primary


def test_domain_separator_matches_python(oracle, bare):
    domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")

    def separator(address, chain_id=chain.id):
        return keccak(eth_abi.encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_type, keccak(text="Backing Vaults ScoreOracle"), keccak(text="1"), chain_id, str(address)]))

    assert oracle.domainSeparator() == hx(separator(oracle.address))
    assert bare.oracle.domainSeparator() == hx(separator(bare.oracle.address))
    assert oracle.domainSeparator() != bare.oracle.domainSeparator()
    # eth-account's own hash of the Domain the helpers sign with
    from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_domain

    assert oracle.domainSeparator() == hx(hash_domain(Domain(chain.id, oracle.address).as_dict()))


SAMPLE_REPORTS = {
    "missed": report(missed=True, names=(), scores=(), mults=(), payout=0, clip=0),
    "one-score": report(scores=(ONE // 10,)),
    "two-scores-negative": report(names=(CORR, MMC), scores=(-(ONE // 3), 12345), mults=(ONE // 2, 3 * ONE),
                                  payout=9 * ONE // 10, clip=ONE // 4),
    "eight-scores-extremes": report(names=tuple(name(f"S{i}") for i in range(8)),
                                    scores=(ONE, -ONE, 0, 1, -1, ONE // 7, -(ONE // 9), 42),
                                    mults=(MAX_MULTIPLIER, 0, 1, ONE, 2 * ONE, 3, ONE // 3, 7), payout=1, clip=1),
    "other-round-and-model": Report(OTHER, TOURNAMENT, 987654321, False, (CORR,), (-5,), (ONE,), ONE, ONE),
}


@pytest.mark.parametrize("key", list(SAMPLE_REPORTS))
def test_hash_report_matches_python(oracle, key):
    r = SAMPLE_REPORTS[key]
    assert oracle.hashReport(r.as_tuple()) == hx(r.struct_hash())
    # and an encoding written out by hand, independent of eth-account
    manual = keccak(eth_abi.encode(
        ["bytes32", "bytes32", "uint256", "uint256", "bool", "bytes32", "bytes32", "bytes32", "uint256", "uint256"],
        [keccak(text=encode_type("RoundReport")), r.model_id, r.tournament, r.round, r.missed,
         keccak(b"".join(r.score_names)), keccak(b"".join(s.to_bytes(32, "big", signed=True) for s in r.scores)),
         keccak(b"".join(m.to_bytes(32, "big") for m in r.multipliers)), r.payout_factor, r.clip]))
    assert r.struct_hash() == manual
    if not r.missed:
        assert oracle.computeRoundReturn(r.as_tuple()) == r.round_return()


def test_batch_digest_matches_contract(signed, oracle, model_id, keys):
    """The digest Python signs is the one the contract recovers from: checked by hand, then by posting a
    batch of a multi-score report and a missed one (signatures over any other digest would not recover)."""
    signed.announce_through(2)
    reports = [SAMPLE_REPORTS["two-scores-negative"], report(round_=2, missed=True, names=(), scores=(), mults=(),
                                                               payout=0, clip=0)]
    deadline = chain.time() + 3600
    message = td.batch_message(reports, deadline)
    hashes = b"".join(bytes(oracle.hashReport(r.as_tuple())) for r in reports)
    struct = keccak(eth_abi.encode(["bytes32", "bytes32", "uint256"],
                                   [bytes(oracle.REPORT_BATCH_TYPEHASH()), keccak(hashes), deadline]))
    expected = keccak(b"\x19\x01" + bytes(oracle.domainSeparator()) + struct)
    assert td.digest(signed.domain, "ReportBatch", message) == expected
    tx = signed.post(reports, deadline=deadline)
    assert [e["round"] for e in events(tx, "RoundPosted")] == [1, 2]
    assert [e["roundReturn"] for e in events(tx, "RoundPosted")] == [r.round_return() for r in reports]
    assert oracle.lastPostedRound(MID) == 2


# ============================================================================================ signatures


KINDS = ["register", "attest", "announce", "post"]


def statement(kind, signed, modeller, reporter):
    """(primary type, message(deadline), send(deadline, signatures, call=False)) of one statement on the shared
    oracle. With `call`, the statement runs as an eth_call: the same code, without mining a reverted tx."""
    o = signed.oracle

    def via(fn, *args):
        def send(deadline, sigs, call=False):
            return (fn.call if call else fn)(*args, deadline, sigs, {"from": reporter})

        return send

    if kind == "register":
        model = b"\x22" * 32
        return ("ModelRegistration", lambda d: td.registration_message(model, str(modeller), ONE // 2, 3, d),
                via(o.registerModel, model, modeller, ONE // 2, 3))
    if kind == "attest":
        evidence = b"\x0e" * 32
        return ("ModelAttestation", lambda d: td.attestation_message(MID, str(modeller), True, evidence, 0, d),
                via(o.attestModel, MID, modeller, True, evidence))
    if kind == "announce":
        close = o.currentRoundCloseTime() + MIN_ROUND_SPACING
        return ("RoundAnnouncement", lambda d: td.announcement_message(TOURNAMENT, 2, [close], d),
                via(o.announceRounds, 2, [close]))
    r = return_report(MID, 1, ONE // 10)
    return "ReportBatch", lambda d: td.batch_message([r], d), via(o.postReports, [r.as_tuple()])


@pytest.mark.parametrize("kind", KINDS)
def test_signature_checks(kind, signed, bare, keys, intruder, modeller, reporter, model_id):
    """Every signature check, on each kind of statement. The failing paths after the first run as eth_calls."""
    primary, message, send = statement(kind, signed, modeller, reporter)
    domain = signed.domain
    deadline = chain.time() + 3600
    m = message(deadline)
    s0, s1, s2 = (sig_of(domain, primary, m, k) for k in keys)
    bad = sig_of(domain, primary, m, intruder)

    with reverts_with("QuorumNotMet", 0, 2):
        send(deadline, [])  # mined and reverted
    with reverts_with("QuorumNotMet", 1, 2):  # k - 1
        send(deadline, [s1], call=True)
    with reverts_with("NotSigner", 1, intruder.address):
        send(deadline, [s0, bad], call=True)
    with reverts_with("NotSigner", 2, intruder.address):  # every signature must be valid, not just k of them
        send(deadline, [s0, s1, bad], call=True)
    with reverts_with("SignersNotAscending", 1):  # the same signer twice
        send(deadline, [s0, s0], call=True)
    with reverts_with("SignersNotAscending", 1):  # unsorted
        send(deadline, [s1, s0], call=True)
    # the malleable high-s twin of a valid signature recovers the same signer with plain ecrecover
    assert recovered(domain, primary, m, high_s(s1)) == keys[1].address
    with reverts_with("InvalidSignature", 1):
        send(deadline, [s0, high_s(s1)], call=True)
    for wrong_length in (s0[:64], s0 + b"\0", b""):
        with reverts_with("InvalidSignature", 0):
            send(deadline, [wrong_length, s1], call=True)
    with reverts_with("InvalidSignature", 0):  # v neither 27 nor 28: ecrecover yields zero
        send(deadline, [s0[:64] + bytes([29]), s1], call=True)
    # another deadline than the one signed: the digest differs, so some other address is recovered
    with reverts_with("NotSigner", 0, recovered(domain, primary, message(deadline + 1), s0)):
        send(deadline + 1, [s0, s1], call=True)
    # signatures made for another chain id and for another ScoreOracle with the same signers
    for other in (Domain(chain.id + 1, signed.oracle.address), Domain(chain.id, bare.oracle.address)):
        foreign = [sig_of(other, primary, m, k) for k in keys[:2]]
        with reverts_with("NotSigner", 0, recovered(domain, primary, m, foreign[0])):
            send(deadline, foreign, call=True)
    # expired: the deadline is before the block
    past = latest() - 1
    expired = [sig_of(domain, primary, message(past), k) for k in keys[:2]]
    with reverts_with("SignatureExpired", past):
        send(past, expired, call=True)
    with reverts_with("SignatureExpired", past):  # checked before anything else
        send(past, [], call=True)
    # exactly a quorum, non-adjacent signers, relayed by the reporter: accepted
    tx = send(deadline, [s0, s2])
    assert tx.status == 1


def test_signature_deadline_is_inclusive(signed, keys, reporter, model_id):
    r = return_report(MID, 1, 0)
    chain.mine(timestamp=chain.time() + 100)
    now = latest()
    for deadline in (now, now - 1):
        sigs = td.ordered(td.sign(signed.domain, "ReportBatch", td.batch_message([r], deadline), keys[:2]))
        call = signed.oracle.postReports.call
        if deadline == now:  # views run on the latest block: a deadline equal to its timestamp is still valid
            call([r.as_tuple()], deadline, sigs, {"from": reporter})
        else:
            with reverts_with("SignatureExpired", deadline):
                call([r.as_tuple()], deadline, sigs, {"from": reporter})


def test_post_with_every_pair_and_all_signers(signed, oracle, keys, model_id, outsider):
    signed.announce_through(4)
    for round_, chosen in enumerate([keys[:2], [keys[0], keys[2]], keys[1:], keys], start=1):
        signed.post([return_report(MID, round_, 0)], keys=chosen)
    assert oracle.lastPostedRound(MID) == 4
    # anyone relays: the sender does not matter, the signatures do
    anyone = SignedOracle(oracle, keys, outsider)
    signed.announce_through(5)
    tx = anyone.post([return_report(MID, 5, 0)])
    assert tx.sender == outsider
    assert oracle.lastPostedRound(MID) == 5


def test_post_report_swapped_after_signing(signed, oracle, keys, fresh_model, model_id, reporter):
    """Signatures over one report do not carry over to another model, round or value."""
    other = fresh_model()
    signed.announce_through(2)
    signed_for = return_report(MID, 1, ONE // 10)
    deadline = chain.time() + 3600
    sigs = td.ordered(td.sign(signed.domain, "ReportBatch", td.batch_message([signed_for], deadline), keys[:2]))
    for swapped in (return_report(other, 1, ONE // 10), dataclasses.replace(signed_for, round=2),
                    return_report(MID, 1, ONE // 5), dataclasses.replace(signed_for, clip=ONE // 2)):
        rec = recovered(signed.domain, "ReportBatch", td.batch_message([swapped], deadline), sigs[0])
        with reverts_with("NotSigner", 0, rec):
            post_raw(oracle, [swapped], deadline, sigs, reporter)
    # nor does a batch signed as a whole carry over to a part of it
    pair = [return_report(MID, 1, 0), return_report(other, 1, 0)]
    sigs = td.ordered(td.sign(signed.domain, "ReportBatch", td.batch_message(pair, deadline), keys[:2]))
    rec = recovered(signed.domain, "ReportBatch", td.batch_message(pair[:1], deadline), sigs[0])
    with reverts_with("NotSigner", 0, rec):
        post_raw(oracle, pair[:1], deadline, sigs, reporter)
    post_raw(oracle, pair, deadline, sigs, reporter)
    # re-posting the same signed batch is refused by the round sequence
    with reverts_with("RoundNotNext", MID, 1, 2):
        post_raw(oracle, pair, deadline, sigs, reporter)


def test_one_compromised_signer_posts_nothing(signed, oracle, keys, model_id, reporter):
    r = return_report(MID, 1, ONE)  # the best return possible for the model
    deadline = chain.time() + 3600
    sig = sig_of(signed.domain, "ReportBatch", td.batch_message([r], deadline), keys[1])
    with reverts_with("QuorumNotMet", 1, 2):
        post_raw(oracle, [r], deadline, [sig], reporter)
    with reverts_with("SignersNotAscending", 1):
        post_raw(oracle, [r], deadline, [sig, sig], reporter)
    with reverts_with("InvalidSignature", 1):
        post_raw(oracle, [r], deadline, [sig, high_s(sig)], reporter)
    assert oracle.lastPostedRound(MID) == 0


# ============================================================================================ registration


def test_register_model(signed, oracle, modeller, outsider):
    model = b"\x33" * 32
    tx = SignedOracle(oracle, signed.keys, outsider).register(model, modeller, ONE // 4, 7)  # anyone relays
    expect_event(tx, "ModelRegistered", modelId=hx(model), modeller=modeller, exposure=ONE // 4, firstRound=7)
    assert plain(oracle.modelInfo(model)) == norm((str(modeller), ONE // 4, 7, 6))
    assert oracle.lastPostedRound(model) == 6
    assert oracle.indexAt(model, 6) == ONE  # the index starts at 1.0 on the round before the first
    assert plain(oracle.roundRecord(model, 6)) == (ONE, 0, False)
    assert not oracle.isAttested(model)
    assert oracle.attestationNonce(model) == 0


def test_register_model_extreme_values(signed, oracle, modeller):
    signed.register(OTHER, modeller, 1, MAX_UINT64)
    assert plain(oracle.modelInfo(OTHER)) == norm((str(modeller), 1, MAX_UINT64, MAX_UINT64 - 1))
    assert oracle.indexAt(OTHER, MAX_UINT64 - 1) == ONE
    model = b"\x44" * 32
    signed.register(model, modeller, ONE, 1)
    assert plain(oracle.modelInfo(model)) == norm((str(modeller), ONE, 1, 0))
    assert oracle.indexAt(model, 0) == ONE


def test_unregistered_model_info_is_empty(oracle):
    assert plain(oracle.modelInfo(OTHER)) == norm((ZERO_ADDRESS, 0, 0, 0))
    assert oracle.lastPostedRound(OTHER) == 0
    assert not oracle.isAttested(OTHER)


def test_register_model_reverts(signed, dry, oracle, modeller, outsider, model_id):
    with reverts_with("ZeroAddress"):
        signed.register(OTHER, ZERO_ADDRESS, ONE, 1)
    with reverts_with("ModelAlreadyRegistered", MID):
        signed.register(MID, outsider, ONE // 2, 5)
    assert plain(oracle.modelInfo(MID)) == norm((str(modeller), ONE, 1, 0))
    for exposure in (0, ONE + 1, 2**64):
        with reverts_with("ExposureOutOfBounds", exposure, ONE):
            dry.register(OTHER, modeller, exposure, 1)
    for first in (0, 2**64):
        with reverts_with("FirstRoundZero"):
            dry.register(OTHER, modeller, ONE, first)
    assert oracle.modelInfo(OTHER)[0] == ZERO_ADDRESS


# ============================================================================================ attestation


def test_attest_revoke_and_nonce(signed, oracle, keys, modeller, reporter, model_id):
    evidence = keccak(text="profile text with the modeller's address")
    assert oracle.attestationNonce(MID) == 0
    deadline = chain.time() + 3600
    attest0 = td.attestation_message(MID, str(modeller), True, evidence, 0, deadline)
    sigs0 = td.ordered(td.sign(signed.domain, "ModelAttestation", attest0, keys[:2]))
    tx = oracle.attestModel(MID, modeller, True, evidence, deadline, sigs0, {"from": reporter})
    expect_event(tx, "ModelAttested", modelId=MODEL_ID, modeller=modeller, attested=True, evidence=hx(evidence))
    assert oracle.isAttested(MID)
    assert oracle.attestationNonce(MID) == 1

    tx = signed.attest(MID, modeller, False, b"\0" * 32)
    expect_event(tx, "ModelAttested", modelId=MODEL_ID, modeller=modeller, attested=False, evidence=hx(b"\0" * 32))
    assert not oracle.isAttested(MID)
    assert oracle.attestationNonce(MID) == 2

    # the old attestation cannot be replayed to restore the flag: it was signed for nonce 0
    attest2 = td.attestation_message(MID, str(modeller), True, evidence, 2, deadline)
    with reverts_with("NotSigner", 0, recovered(signed.domain, "ModelAttestation", attest2, sigs0[0])):
        oracle.attestModel(MID, modeller, True, evidence, deadline, sigs0, {"from": reporter})
    assert not oracle.isAttested(MID)
    # a fresh one with the current nonce is fine
    signed.attest(MID, modeller, True, evidence)
    assert oracle.isAttested(MID)
    assert oracle.attestationNonce(MID) == 3


def test_attest_reverts(signed, oracle, modeller, outsider, fresh_model, model_id):
    with reverts_with("ModellerMismatch", MID, modeller, outsider):
        signed.attest(MID, outsider)
    with reverts_with("ModelNotRegistered", OTHER):
        signed.attest(OTHER, modeller)
    assert oracle.attestationNonce(MID) == 0
    # nonces are per model
    other = fresh_model()
    signed.attest(other, modeller)
    assert (oracle.attestationNonce(other), oracle.attestationNonce(MID)) == (1, 0)
    assert oracle.isAttested(other) and not oracle.isAttested(MID)


# ============================================================================================ announcements


def test_first_announcement_any_round(bare):
    o = bare.oracle
    close = chain.time() + 3600
    tx = bare.announce(500, [close])
    expect_event(tx, "RoundAnnounced", round=500, closeTime=close)
    assert (o.currentRound(), o.currentRoundCloseTime(), o.firstAnnouncedRound()) == (500, close, 500)
    assert (o.roundCloseTime(500), o.roundCloseTime(499), o.roundCloseTime(501)) == (close, 0, 0)
    assert o.nextStartRound() == 501


def test_announcement_sequence(bare, dry_bare):
    o = bare.oracle
    with reverts_with("RoundNotNextAnnouncement", 0, 1):
        bare.announce(0, [chain.time()])
    close = chain.time() + 3600
    bare.announce(500, [close])
    for wrong in (502, 500, 499, 1):
        with reverts_with("RoundNotNextAnnouncement", wrong, 501):
            dry_bare.announce(wrong, [close + MIN_ROUND_SPACING])
    with reverts_with("NoCloseTimes"):
        bare.announce(501, [])
    tx = bare.announce(501, [close + MIN_ROUND_SPACING])
    expect_event(tx, "RoundAnnounced", round=501, closeTime=close + MIN_ROUND_SPACING)
    assert o.firstAnnouncedRound() == 500


def test_close_time_spacing(bare, dry_bare):
    o = bare.oracle
    with reverts_with("CloseTimeTooEarly", 0, 1):  # the very first deadline only has to be positive
        bare.announce(1, [0])
    first = chain.time() + 3600
    bare.announce(1, [first])
    earliest = first + MIN_ROUND_SPACING
    with reverts_with("CloseTimeTooEarly", earliest - 1, earliest):
        bare.announce(2, [earliest - 1])
    with reverts_with("CloseTimeTooEarly", first, earliest):
        dry_bare.announce(2, [first])
    # inside a batch too, and nothing of a failed batch is kept
    with reverts_with("CloseTimeTooEarly", earliest + MIN_ROUND_SPACING - 1, earliest + MIN_ROUND_SPACING):
        bare.announce(2, [earliest, earliest + MIN_ROUND_SPACING - 1])
    assert (o.currentRound(), o.roundCloseTime(2)) == (1, 0)
    tx = bare.announce(2, [earliest])  # exactly the spacing is fine
    expect_event(tx, "RoundAnnounced", round=2, closeTime=earliest)


def test_announce_batch(bare):
    o = bare.oracle
    base = chain.time() + 3600
    times = [base, base + MIN_ROUND_SPACING, base + 3 * MIN_ROUND_SPACING, base + 3 * MIN_ROUND_SPACING + 86400]
    tx = bare.announce(10, times)
    assert [(e["round"], e["closeTime"]) for e in events(tx, "RoundAnnounced")] == list(zip(range(10, 14), times))
    assert [o.roundCloseTime(r) for r in range(9, 15)] == [0] + times + [0]
    assert (o.currentRound(), o.currentRoundCloseTime(), o.firstAnnouncedRound()) == (13, times[-1], 10)


def test_announce_uint64_bounds(bare, dry_bare):
    o = bare.oracle
    with reverts_with("BoundOutOfRange", "round"):
        bare.announce(2**64, [1000])
    with reverts_with("BoundOutOfRange", "round"):
        dry_bare.announce(1, [2**64])
    with reverts_with("BoundOutOfRange", "round"):
        dry_bare.announce(MAX_UINT64, [1000, 1000 + MIN_ROUND_SPACING])  # the second round would be 2^64
    bare.announce(MAX_UINT64, [1000])
    assert (o.currentRound(), o.currentRoundCloseTime()) == (MAX_UINT64, 1000)
    with reverts_with("BoundOutOfRange", "round"):
        bare.announce(2**64, [1000 + MIN_ROUND_SPACING])


def test_no_round_announced(bare):
    with reverts_with("NoRoundAnnounced"):
        bare.oracle.nextStartRound()
    with reverts_with("NoRoundAnnounced"):
        bare.oracle.roundDueTime(1)


def test_round_due_time(bare):
    o = bare.oracle
    base = chain.time() + 3600
    times = [base, base + 2 * MIN_ROUND_SPACING, base + 5 * MIN_ROUND_SPACING]
    bare.announce(10, times)
    for round_, close in zip(range(10, 13), times):
        assert o.roundDueTime(round_) == close + RESOLUTION_DELAY
    # rounds before the first announcement closed before it did
    assert o.roundDueTime(9) == o.roundDueTime(1) == times[0] + RESOLUTION_DELAY
    # rounds not announced yet: the earliest they can close
    assert o.roundDueTime(13) == times[-1] + MIN_ROUND_SPACING + RESOLUTION_DELAY
    assert o.roundDueTime(20) == times[-1] + 8 * MIN_ROUND_SPACING + RESOLUTION_DELAY


def test_next_start_round_boundary(signed, oracle, model_id):
    """Valid strictly before closeTime + minRoundSpacing; stale from that very second on (views run on the
    latest block's timestamp, which chain.mine(timestamp=...) sets exactly)."""
    close = oracle.currentRoundCloseTime()
    stale_at = close + MIN_ROUND_SPACING
    assert oracle.nextStartRound() == 2
    chain.mine(timestamp=close)  # round 1 has closed: round 2 cannot have
    assert oracle.nextStartRound() == 2
    chain.mine(timestamp=stale_at - 1)
    assert latest() == stale_at - 1
    assert oracle.nextStartRound() == 2
    chain.mine(timestamp=stale_at)
    with reverts_with("RoundScheduleStale", 1, close, stale_at):
        oracle.nextStartRound()
    chain.sleep(30 * DAY)
    chain.mine()
    with reverts_with("RoundScheduleStale", 1, close, stale_at):
        oracle.nextStartRound()
    # announcing the next round makes it fresh again
    signed.announce(2, [latest() + 600])
    assert oracle.nextStartRound() == 3


# ============================================================================================ posting


def test_post_report_event_and_state(signed, oracle, model_id, reporter):
    r = report(names=(CORR, MMC), scores=(ONE // 10, -(ONE // 20)), mults=(ONE // 2, 2 * ONE),
               payout=9 * ONE // 10, clip=ONE // 4)
    expected = -45 * ONE // 1000  # 0.9 * (0.5 * 0.1 + 2 * -0.05)
    assert r.round_return() == expected
    assert round_return(list(r.scores), list(r.multipliers), r.payout_factor, r.clip) == expected
    tx = signed.post([r])
    final_at = tx.timestamp + WINDOW
    expect_event_norm(tx, "RoundPosted", modelId=MID, round=1, report=r.as_tuple(), reportHash=r.struct_hash(),
                      roundReturn=expected, finalAt=final_at)
    assert list(tx.events.keys()) == ["RoundPosted"]
    assert oracle.lastPostedRound(MID) == 1
    assert oracle.modelInfo(MID)[3] == 0  # posted, not final
    assert plain(oracle.reportOf(MID, 1)) == norm((r.struct_hash(), expected, False, final_at, ZERO_ADDRESS, 0))


def test_post_sequence(signed, dry, oracle, fresh_model, model_id):
    signed.announce_through(3)
    with reverts_with("RoundNotNext", MID, 2, 1):
        signed.post([return_report(MID, 2, 0)])
    with reverts_with("RoundNotNext", MID, 0, 1):
        dry.post([return_report(MID, 0, 0)])
    signed.post([return_report(MID, 1, 0)])
    signed.post([return_report(MID, 2, None)])  # a missed round takes its place in the sequence too
    for wrong in (2, 1, 0, 5):
        with reverts_with("RoundNotNext", MID, wrong, 3):
            dry.post([return_report(MID, wrong, 0)])
    # out of order inside one batch
    with reverts_with("RoundNotNext", MID, 3, 4):
        dry.post([return_report(MID, 3, 0), return_report(MID, 3, 0)])
    signed.post([return_report(MID, 3, 0)])
    with reverts_with("RoundNotAnnounced", 4, 3):
        signed.post([return_report(MID, 4, 0)])
    # a model starting later than anything announced
    later = fresh_model(first=10)
    with reverts_with("RoundNotAnnounced", 10, 3):
        dry.post([return_report(later, 10, 0)])
    with reverts_with("RoundNotNext", later, 9, 10):
        dry.post([return_report(later, 9, 0)])
    assert oracle.lastPostedRound(MID) == 3


def test_post_model_not_registered_and_no_reports(signed, model_id):
    with reverts_with("ModelNotRegistered", OTHER):
        signed.post([return_report(OTHER, 1, 0)])
    with reverts_with("NoReports"):
        signed.post([])


NINE = tuple(name(f"S{i}") for i in range(9))
BAD_REPORTS = {
    "wrong-tournament": (report(tournament=7), ("WrongTournament", 7, TOURNAMENT)),
    "no-scores": (report(names=(), scores=(), mults=()), ("NoScores",)),
    "missed-with-scores": (report(missed=True), ("MissedRoundWithScores",)),
    "too-many-scores": (report(names=NINE, scores=(0,) * 9, mults=(ONE,) * 9), ("TooManyScores", 9, 8)),
    "names-short": (report(names=(CORR,), scores=(0, 0), mults=(ONE, ONE)), ("LengthMismatch",)),
    "names-long": (report(names=(CORR, MMC, RET), scores=(0, 0), mults=(ONE, ONE)), ("LengthMismatch",)),
    "multipliers-short": (report(names=(CORR, MMC), scores=(0, 0), mults=(ONE,)), ("LengthMismatch",)),
    "multipliers-long": (report(names=(CORR, MMC), scores=(0, 0), mults=(ONE,) * 3), ("LengthMismatch",)),
    "missed-length-mismatch": (report(missed=True, names=(CORR,), scores=(), mults=()), ("LengthMismatch",)),
    "empty-name-first": (report(names=(b"\0" * 32,)), ("EmptyScoreName", 0)),
    "empty-name-third": (report(names=(CORR, MMC, b"\0" * 32), scores=(0,) * 3, mults=(ONE,) * 3),
                         ("EmptyScoreName", 2)),
    "duplicate-name": (report(names=(CORR, CORR), scores=(0, 0), mults=(ONE, ONE)), ("DuplicateScoreName", CORR)),
    "duplicate-name-apart": (report(names=(MMC, CORR, RET, MMC), scores=(0,) * 4, mults=(ONE,) * 4),
                             ("DuplicateScoreName", MMC)),
    "score-just-over": (report(names=(CORR, MMC), scores=(0, ONE + 1), mults=(ONE, ONE)),
                        ("ScoreOutOfBounds", 1, ONE + 1)),
    "score-just-under": (report(names=(CORR, MMC), scores=(0, -ONE - 1), mults=(ONE, ONE)),
                         ("ScoreOutOfBounds", 1, -ONE - 1)),
    "score-int-min": (report(scores=(-(2**255),)), ("ScoreOutOfBounds", 0, -(2**255))),
    "multiplier-over": (report(names=(CORR, MMC), scores=(0, 0), mults=(ONE, MAX_MULTIPLIER + 1)),
                        ("MultiplierOutOfBounds", 1, MAX_MULTIPLIER + 1, MAX_MULTIPLIER)),
    "multiplier-uint-max": (report(mults=(2**256 - 1,)), ("MultiplierOutOfBounds", 0, 2**256 - 1, MAX_MULTIPLIER)),
    "payout-factor-over": (report(payout=ONE + 1), ("PayoutFactorOutOfBounds", ONE + 1)),
    "clip-zero": (report(clip=0), ("ClipOutOfBounds", 0, MAX_CLIP)),
    "clip-over": (report(clip=MAX_CLIP + 1), ("ClipOutOfBounds", MAX_CLIP + 1, MAX_CLIP)),
    # array-level checks come before per-score checks (lengths before the count), and the first bad score is the
    # one reported
    "order-lengths-before-count": (report(names=(CORR,), scores=(2 * ONE,) * 9, mults=(ONE,), payout=2 * ONE),
                                   ("LengthMismatch",)),
    "order-payout-before-clip": (report(scores=(2 * ONE,), payout=2 * ONE, clip=0),
                                 ("PayoutFactorOutOfBounds", 2 * ONE)),
    "order-clip-before-names": (report(names=(b"\0" * 32,), scores=(2 * ONE,), clip=0),
                                ("ClipOutOfBounds", 0, MAX_CLIP)),
    "order-score-before-duplicate": (report(names=(CORR, CORR), scores=(2 * ONE, 0), mults=(ONE, ONE)),
                                     ("ScoreOutOfBounds", 0, 2 * ONE)),
}


@pytest.mark.parametrize("key", list(BAD_REPORTS))
def test_post_report_out_of_bounds(dry, oracle, model_id, key):
    """Signed by a quorum and still refused (as an eth_call; test_bad_report_rejects_whole_batch mines one)."""
    bad, (error, *args) = BAD_REPORTS[key]
    with reverts_with(error, *args):
        dry.post([bad])
    with reverts_with(error, *args):
        oracle.computeRoundReturn(bad.as_tuple())


def test_bad_report_rejects_whole_batch(signed, oracle, fresh_model, model_id):
    other = fresh_model()
    with reverts_with("ClipOutOfBounds", 0, MAX_CLIP):
        signed.post([return_report(MID, 1, ONE // 10), report(model=other, clip=0)])
    assert oracle.lastPostedRound(MID) == 0


def test_stricter_oracle_bounds(deployer, nmr_token, signers, reporter, modeller):
    params = dataclasses.replace(ORACLE_PARAMS, max_clip=ONE // 4, max_multiplier=3 * ONE)
    strict = SignedOracle(deploy_oracle(deployer, nmr_token, signers, 2, 3, params), signers, reporter)
    strict.register(MID, modeller)
    strict.announce(1, [chain.time() + 3600])
    with reverts_with("ClipOutOfBounds", ONE // 4 + 1, ONE // 4):
        strict.post([report(clip=ONE // 4 + 1)])
    with reverts_with("MultiplierOutOfBounds", 0, 3 * ONE + 1, 3 * ONE):
        strict.post([report(mults=(3 * ONE + 1,), clip=ONE // 4)])
    tx = strict.post([report(scores=(-ONE,), mults=(3 * ONE,), clip=ONE // 4)])
    assert tx.events["RoundPosted"]["roundReturn"] == -ONE // 4


RETURN_CASES = {
    # raw = 0.9 * (0.5 * 0.1 + 2 * -0.05) = -0.045
    "two-scores": (report(names=(CORR, MMC), scores=(ONE // 10, -(ONE // 20)), mults=(ONE // 2, 2 * ONE),
                          payout=9 * ONE // 10), -45 * ONE // 1000),
    # -1.5 wei truncates toward zero to -1 (flooring would give -2); +1.5 wei to +1
    "negative-truncates-toward-zero": (report(scores=(-3,), mults=(ONE // 2,)), -1),
    "positive-truncates": (report(scores=(3,), mults=(ONE // 2,)), 1),
    # the payout factor takes part in the same single division: 0.7 * -7 wei = -4.9 wei -> -4
    "payout-factor-one-division": (report(scores=(-7,), payout=7 * ONE // 10), -4),
    # raw = +-0.5, clip 0.3
    "clamp-plus": (report(names=(CORR, MMC), scores=(ONE // 5, ONE // 10), mults=(ONE, 3 * ONE),
                          clip=3 * ONE // 10), 3 * ONE // 10),
    "clamp-minus": (report(names=(CORR, MMC), scores=(-(ONE // 5), -(ONE // 10)), mults=(ONE, 3 * ONE),
                           clip=3 * ONE // 10), -3 * ONE // 10),
    "exactly-at-clip": (report(scores=(-3 * ONE // 10,), clip=3 * ONE // 10), -3 * ONE // 10),
    "just-inside-clip": (report(scores=(3 * ONE // 10 - 1,), clip=3 * ONE // 10), 3 * ONE // 10 - 1),
    "max-multiplier-clamped": (report(scores=(ONE // 100,), mults=(MAX_MULTIPLIER,)), ONE),
    "score-at-minus-one": (report(scores=(-ONE,)), -ONE),
    "payout-factor-zero": (report(scores=(ONE // 2,), payout=0), 0),
    "eight-scores": (report(names=tuple(name(f"S{i}") for i in range(8)),
                            scores=tuple(ONE // 100 * (i - 3) for i in range(8)),
                            mults=tuple(ONE * (i + 1) // 4 for i in range(8))), 15 * ONE // 100),
    "missed": (report(missed=True, names=(), scores=(), mults=(), payout=0, clip=0), 0),
}


@pytest.mark.parametrize("key", list(RETURN_CASES))
def test_round_return_hand_picked(signed, oracle, model_id, key):
    r, expected = RETURN_CASES[key]
    assert r.round_return() == expected
    if not r.missed:
        assert round_return(list(r.scores), list(r.multipliers), r.payout_factor, r.clip,
                            max_multiplier=MAX_MULTIPLIER, names=list(r.score_names)) == expected
        assert oracle.computeRoundReturn(r.as_tuple()) == expected
    tx = signed.post([r])
    assert tx.events["RoundPosted"]["roundReturn"] == expected
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(MID)
    expect_event(tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=expected, missed=r.missed,
                 index=next_index(ONE, ONE, expected))
    assert plain(oracle.roundRecord(MID, 1)) == (next_index(ONE, ONE, expected), expected, r.missed)


def test_negative_truncation_in_index(signed, oracle, fresh_model):
    """exposure 0.25 * -3 wei = -0.75 wei truncates to 0: the index does not move."""
    model = fresh_model(exposure=ONE // 4)
    assert tdiv(ONE // 4 * -3, ONE) == 0 and (ONE // 4 * -3) // ONE == -1
    signed.post([report(model=model, scores=(-3,))])
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(model)
    expect_event(tx, "RoundFinalized", modelId=hx(model), round=1, roundReturn=-3, missed=False, index=ONE)


def test_post_batch_of_many_models(signed, oracle, fresh_model, model_id):
    models = [MID] + [fresh_model(exposure=ONE // (i + 2)) for i in range(4)]
    reports = [return_report(m, 1, (i - 2) * ONE // 10) for i, m in enumerate(models)]
    tx = signed.post(reports)
    posted = events(tx, "RoundPosted")
    assert [bytes(e["modelId"]) for e in posted] == models
    assert [e["roundReturn"] for e in posted] == [r.round_return() for r in reports]
    assert {e["finalAt"] for e in posted} == {tx.timestamp + WINDOW}
    assert [norm(e["reportHash"]) for e in posted] == [hx(r.struct_hash()) for r in reports]
    assert all(oracle.lastPostedRound(m) == 1 for m in models)
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed._call(oracle.finalizeMany, models, 10)
    finalized = events(tx, "RoundFinalized")
    assert [bytes(e["modelId"]) for e in finalized] == models
    for e, m, r in zip(finalized, models, reports):
        assert e["index"] == next_index(ONE, oracle.modelInfo(m)[1], r.round_return())
        assert oracle.indexAt(m, 1) == e["index"]


def test_post_batch_of_many_rounds(signed, oracle, model_id):
    signed.announce_through(12)
    returns = [ONE // 10, None, -(ONE // 7), 0, ONE, -ONE // 2, 3, -3, None, ONE // 3, -1, 123456789]
    reports = [return_report(MID, i + 1, v) for i, v in enumerate(returns)]
    tx = signed.post(reports)
    posted = events(tx, "RoundPosted")
    assert [e["round"] for e in posted] == list(range(1, 13))
    assert [e["roundReturn"] for e in posted] == [v or 0 for v in returns]
    assert [norm(e["report"]) for e in posted] == [norm(r.as_tuple()) for r in reports]
    assert oracle.lastPostedRound(MID) == 12
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(MID)
    path = index_path(ONE, [v or 0 for v in returns])
    assert [(e["round"], e["index"], e["missed"]) for e in events(tx, "RoundFinalized")] == [
        (i + 1, path[i + 1], v is None) for i, v in enumerate(returns)]


# ============================================================================================ finalization


def test_nothing_final_before_the_window(signed, oracle, reporter, model_id):
    tx = signed.post([return_report(MID, 1, ONE // 10)])
    final_at = tx.timestamp + WINDOW
    tx = signed.finalize(MID)
    assert "RoundFinalized" not in tx.events
    assert tx.return_value == 0
    assert oracle.modelInfo(MID)[3] == 0
    for view in (oracle.indexAt, oracle.roundRecord):
        with reverts_with("RoundNotPosted", MID, 1):
            view(MID, 1)
    chain.mine(timestamp=final_at - 1)
    assert oracle.finalize.call(MID, 10, {"from": reporter}) == 0
    chain.mine(timestamp=final_at)
    assert oracle.finalize.call(MID, 10, {"from": reporter}) == 1
    tx = oracle.finalize(MID, 10, {"from": reporter, "gas_limit": 200_000})
    assert tx.timestamp >= final_at
    expect_event(tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=ONE // 10, missed=False,
                 index=ONE + ONE // 10)
    assert oracle.modelInfo(MID)[3] == 1
    assert oracle.indexAt(MID, 1) == ONE + ONE // 10
    # finalizing again does nothing
    tx = signed.finalize(MID)
    assert "RoundFinalized" not in tx.events


def test_finalize_max_rounds_and_later_posts(signed, oracle, model_id):
    signed.announce_through(6)
    signed.post([return_report(MID, r, ONE // 100) for r in range(1, 4)])
    chain.sleep(WINDOW // 2)
    chain.mine()
    signed.post([return_report(MID, r, ONE // 100) for r in range(4, 7)])
    chain.sleep(WINDOW // 2)
    chain.mine()
    tx = signed.finalize(MID, 2)  # bounded
    assert [e["round"] for e in events(tx, "RoundFinalized")] == [1, 2]
    tx = signed.finalize(MID, 0)
    assert "RoundFinalized" not in tx.events
    tx = signed.finalize(MID)  # the second batch is still in its window
    assert [e["round"] for e in events(tx, "RoundFinalized")] == [3]
    assert oracle.modelInfo(MID)[3] == 3
    chain.sleep(WINDOW // 2)
    chain.mine()
    tx = signed.finalize(MID)
    assert [e["round"] for e in events(tx, "RoundFinalized")] == [4, 5, 6]


def test_finalize_model_not_registered(signed, oracle):
    with reverts_with("ModelNotRegistered", OTHER):
        signed.finalize(OTHER)
    with reverts_with("ModelNotRegistered", OTHER):
        signed._call(oracle.finalizeMany, [MID, OTHER], 10)


def test_index_math_partial_exposure(signed, oracle, fresh_model, modeller):
    """I_r = I_{r-1} * (1e18 + exposure * rr / 1e18) / 1e18, each division truncating."""
    exposure = 3 * ONE // 7
    model = fresh_model(exposure=exposure)
    signed.announce_through(4)
    reports = [
        report(model, 1, (CORR, MMC), (123456789012345678, -98765432109876543), (ONE // 2, 3 * ONE),
               987654321098765432),
        report(model, 2, (CORR,), (-777777777777777777,), (7 * ONE // 3,), ONE, ONE // 3),
        report(model, 3, (MMC, CORR, RET), (-1, -1, -1), (ONE, ONE, ONE // 3), ONE // 3),
        report(model, 4, (CORR,), (ONE,), (MAX_MULTIPLIER,), ONE, 999999999999999999),
    ]
    signed.post(reports)
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed.finalize(model)
    index = ONE
    for r, e in zip(reports, events(tx, "RoundFinalized")):
        rr = r.round_return()
        growth = ONE + tdiv(exposure * rr, ONE)
        index = index * growth // ONE
        assert index == next_index(oracle.indexAt(model, r.round - 1), exposure, rr)
        assert (e["round"], e["roundReturn"], e["index"]) == (r.round, rr, index)
        assert plain(oracle.roundRecord(model, r.round)) == (index, rr, False)
    assert plain(oracle.modelInfo(model)) == norm((str(modeller), exposure, 1, 4))


def test_partial_exposure_compounds_like_reference(signed, oracle, fresh_model):
    exposure = ONE // 4
    model = fresh_model(exposure=exposure)
    returns = [max(-ONE, min(ONE, (-1) ** k * (ONE * ((k * 7919) % 1000) // 997 + k) - (k % 3)))
               for k in range(1, 25)]
    signed.post_returns(model, returns)
    path = index_path(exposure, returns)
    assert path[-1] != ONE
    assert [oracle.indexAt(model, r) for r in range(len(returns) + 1)] == path


def test_total_loss_sets_index_to_zero_for_good(signed, oracle, model_id):
    signed.post_returns(MID, [ONE // 2, -ONE, ONE, None, -ONE // 2, ONE // 3])
    assert [oracle.indexAt(MID, r) for r in range(7)] == [ONE, 3 * ONE // 2, 0, 0, 0, 0, 0]


def test_index_overflow_blocks_finalization(signed, oracle, model_id, reporter):
    """Exposure 1 and +100% every round double the index: from 1e18 it passes uint184 at round 125. The report
    is accepted when posted (within bounds), but finalize reverts on it; earlier rounds still finalize with a
    bounded maxRounds."""
    expected_round = next(n for n in itertools.count(1) if ONE * 2**n > INDEX_LIMIT)
    assert expected_round == 125
    signed.post_returns(MID, [ONE] * expected_round, final=False)
    chain.sleep(WINDOW)
    chain.mine()
    # checked as eth_calls: ganache cannot trace a mined revert of a 125-round loop ("Invalid string length")
    with reverts_with("IndexOverflow", MID, expected_round):
        oracle.finalize.call(MID, 10_000, {"from": reporter})
    tx = signed.finalize(MID, expected_round - 1)
    assert len(events(tx, "RoundFinalized")) == expected_round - 1
    assert oracle.indexAt(MID, expected_round - 1) == ONE * 2 ** (expected_round - 1)
    with reverts_with("IndexOverflow", MID, expected_round):
        signed.finalize(MID, 1)
    assert oracle.modelInfo(MID)[3] == expected_round - 1


def test_views_round_not_posted(signed, oracle, fresh_model):
    signed.announce_through(5)
    model = fresh_model(first=3)
    for view in (oracle.indexAt, oracle.roundRecord):
        for round_ in (0, 1, 3, 2**64, 2**256 - 1):  # below firstRound - 1, nothing final yet, far above
            with reverts_with("RoundNotPosted", model, round_):
                view(model, round_)
    assert oracle.indexAt(model, 2) == ONE
    for round_ in (2, 3, 2**256 - 1):  # reportOf: only posted rounds
        with reverts_with("RoundNotPosted", model, round_):
            oracle.reportOf(model, round_)
    signed.post_returns(model, [ONE // 2, ONE // 2])
    assert oracle.indexAt(model, 4) == ONE * 9 // 4
    for view in (oracle.indexAt, oracle.roundRecord):
        for round_ in (5, 1000, 2**256 - 1):
            with reverts_with("RoundNotPosted", model, round_):
                view(model, round_)
    for view in (oracle.indexAt, oracle.roundRecord):
        with reverts_with("ModelNotRegistered", OTHER):
            view(OTHER, 0)


# ============================================================================================ disputes


def test_set_watcher(oracle, deployer, outsider):
    assert not oracle.isWatcher(outsider)
    tx = oracle.setWatcher(outsider, True, {"from": deployer})
    expect_event(tx, "WatcherSet", watcher=outsider, allowed=True)
    assert oracle.isWatcher(outsider)
    tx = oracle.setWatcher(outsider, False, {"from": deployer})
    expect_event(tx, "WatcherSet", watcher=outsider, allowed=False)
    assert not oracle.isWatcher(outsider)
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.setWatcher(outsider, True, {"from": outsider})
    with reverts_with("ZeroAddress"):
        oracle.setWatcher(ZERO_ADDRESS, True, {"from": deployer})


def test_dispute_callers(signed, oracle, nmr_token, deployer, modeller, outsider, watcher, keys, fund_nmr,
                         model_id):
    signed.post([return_report(MID, 1, ONE // 10)])
    for caller in (modeller, deployer, signed.sender):  # not the owner, not the relayer
        with reverts_with("NotSignerOrWatcher", caller):
            oracle.dispute(MID, 1, {"from": caller})
    oracle.setWatcher(watcher, False, {"from": deployer})
    with reverts_with("NotSignerOrWatcher", watcher):
        oracle.dispute(MID, 1, {"from": watcher})
    # a signer may dispute too (it needs gas and a bond like anyone)
    signer = accounts.add(keys[2].key)
    try:
        deployer.transfer(signer, 10**18)
        fund_nmr(signer, BOND, oracle)
        tx = oracle.dispute(MID, 1, {"from": signer})
        expect_event(tx, "ReportDisputed", modelId=MODEL_ID, round=1, disputer=signer,
                     reportHash=hx(return_report(MID, 1, ONE // 10).struct_hash()), bond=BOND)
        assert nmr_token.balanceOf(signer) == 0
        assert nmr_token.balanceOf(oracle) == BOND
    finally:
        accounts.remove(signer)


def test_dispute_needs_the_bond(signed, oracle, nmr_token, deployer, outsider, model_id):
    signed.post([return_report(MID, 1, 0)])
    oracle.setWatcher(outsider, True, {"from": deployer})
    nmr_token.mintTo(outsider, BOND, {"from": outsider})
    with brownie.reverts("insufficient allowance"):  # NMR's own message, bubbled up by SafeERC20
        oracle.dispute(MID, 1, {"from": outsider})
    nmr_token.transfer(deployer, 1, {"from": outsider})
    nmr_token.approve(oracle, BOND, {"from": outsider})
    with brownie.reverts("insufficient balance"):
        oracle.dispute(MID, 1, {"from": outsider})
    assert oracle.reportOf(MID, 1)[3] != DISPUTED


def test_dispute_window_and_state_errors(signed, oracle, watcher, model_id):
    signed.announce_through(3)
    tx = signed.post([return_report(MID, 1, 0), return_report(MID, 2, 0)])
    final_at = tx.timestamp + WINDOW
    for round_ in (0, 3, 2**256 - 1):  # not posted
        with reverts_with("RoundNotPending", MID, round_):
            oracle.dispute(MID, round_, {"from": watcher})
    with reverts_with("RoundNotPending", OTHER, 1):
        oracle.dispute(OTHER, 1, {"from": watcher})
    chain.mine(timestamp=final_at - 1)
    oracle.dispute.call(MID, 2, {"from": watcher})  # still disputable in the window's last second
    chain.mine(timestamp=final_at)
    with reverts_with("ChallengeWindowOver", MID, 2, final_at):
        oracle.dispute(MID, 2, {"from": watcher, "gas_limit": 300_000})
    signed.finalize(MID, 1)
    with reverts_with("RoundNotPending", MID, 1):  # final
        oracle.dispute(MID, 1, {"from": watcher})
    with reverts_with("ChallengeWindowOver", MID, 2, final_at):  # posted, window over, not yet finalized
        oracle.dispute(MID, 2, {"from": watcher})


def test_dispute_and_resolve_with_a_different_report(signed, oracle, nmr_token, watcher, deployer, keys,
                                                     reporter, model_id):
    original = return_report(MID, 1, ONE // 10)
    signed.announce_through(2)
    tx = signed.post([original])
    holdings = lambda: (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer))
    assert holdings() == (BOND, 0, 0)

    tx = oracle.dispute(MID, 1, {"from": watcher})
    expect_event(tx, "ReportDisputed", modelId=MODEL_ID, round=1, disputer=watcher,
                 reportHash=hx(original.struct_hash()), bond=BOND)
    assert holdings() == (0, BOND, 0)
    assert plain(oracle.reportOf(MID, 1)) == norm((original.struct_hash(), ONE // 10, False, DISPUTED,
                                                   str(watcher), BOND))
    with reverts_with("AlreadyDisputed", MID, 1):
        oracle.dispute(MID, 1, {"from": watcher})
    # posting goes on while a round is disputed; finalizing stops at it
    signed.post([return_report(MID, 2, ONE // 5)])
    chain.sleep(WINDOW + 1)
    chain.mine()
    tx = signed.finalize(MID)
    assert "RoundFinalized" not in tx.events
    assert oracle.modelInfo(MID)[3] == 0

    replacement = return_report(MID, 1, -(ONE // 20))
    deadline = chain.time() + 3600
    message = td.resolution_message(original.struct_hash(), replacement, deadline)
    sigs = td.ordered(td.sign(signed.domain, "DisputeResolution", message, keys))
    with reverts_with("QuorumNotMet", 2, 3):  # a normal quorum is not enough
        oracle.resolveDispute(replacement.as_tuple(), deadline, sigs[:2], {"from": reporter})
    # the signatures are bound to the report they replace: signed over another disputed hash, they recover
    # some other address
    wrong = td.ordered(td.sign(signed.domain, "DisputeResolution",
                               td.resolution_message(replacement.struct_hash(), replacement, deadline), keys))
    with reverts_with("NotSigner", 0, recovered(signed.domain, "DisputeResolution", message, wrong[0])):
        oracle.resolveDispute(replacement.as_tuple(), deadline, wrong, {"from": reporter})
    tx = oracle.resolveDispute(replacement.as_tuple(), deadline, sigs, {"from": reporter})
    expect_event(tx, "DisputeResolved", modelId=MODEL_ID, round=1, disputedHash=hx(original.struct_hash()),
                 replacementHash=hx(replacement.struct_hash()), roundReturn=-(ONE // 20), bondReturned=True)
    assert holdings() == (BOND, 0, 0)  # the bond is back with the disputer, nothing lost or doubled
    assert plain(oracle.reportOf(MID, 1)) == norm((replacement.struct_hash(), -(ONE // 20), False, tx.timestamp,
                                                   ZERO_ADDRESS, 0))
    with reverts_with("NotDisputed", MID, 1):
        oracle.resolveDispute(replacement.as_tuple(), deadline, sigs, {"from": reporter})
    with reverts_with("NoBondHeld", MID, 1):
        oracle.reclaimBond(MID, 1, {"from": watcher})
    # the replacement is final at once (no new window), and the later round follows
    tx = signed.finalize(MID)
    assert [(e["round"], e["roundReturn"], e["index"]) for e in events(tx, "RoundFinalized")] == [
        (1, -(ONE // 20), 95 * ONE // 100), (2, ONE // 5, 95 * ONE // 100 * 12 // 10)]


def test_identical_replacement_sends_the_bond_to_the_owner(signed, oracle, nmr_token, watcher, deployer,
                                                           model_id):
    original = return_report(MID, 1, ONE // 10)
    signed.post([original])
    oracle.dispute(MID, 1, {"from": watcher})
    tx = signed.resolve(original)
    expect_event(tx, "DisputeResolved", modelId=MODEL_ID, round=1, disputedHash=hx(original.struct_hash()),
                 replacementHash=hx(original.struct_hash()), roundReturn=ONE // 10, bondReturned=False)
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (0, 0, BOND)
    # a resolved round cannot be disputed again: its window is over
    with reverts_with("ChallengeWindowOver", MID, 1, tx.timestamp):
        oracle.dispute(MID, 1, {"from": watcher})
    tx = signed.finalize(MID)
    expect_event(tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=ONE // 10, missed=False,
                 index=ONE + ONE // 10)


def test_resolution_errors(signed, dry, oracle, watcher, reporter, fresh_model, model_id):
    signed.announce_through(2)
    original = return_report(MID, 1, ONE // 10)
    signed.post([original])
    with reverts_with("NotDisputed", MID, 1):  # pending, not disputed
        signed.resolve(original)
    oracle.dispute(MID, 1, {"from": watcher})
    other = fresh_model()
    for replacement in (return_report(MID, 2, 0), return_report(other, 1, 0)):  # it names the round it replaces
        deadline = chain.time() + 3600
        message = td.resolution_message(original.struct_hash(), replacement, deadline)
        sigs = td.ordered(td.sign(signed.domain, "DisputeResolution", message, signed.keys))
        with reverts_with("NotDisputed", replacement.model_id, replacement.round):
            oracle.resolveDispute.call(replacement.as_tuple(), deadline, sigs, {"from": reporter})
    with reverts_with("ClipOutOfBounds", 0, MAX_CLIP):  # replacements obey the same bounds
        dry.resolve(report(clip=0))
    with reverts_with("WrongTournament", 7, TOURNAMENT):
        dry.resolve(report(tournament=7))
    with reverts_with("QuorumNotMet", 2, 3):
        dry.resolve(original, keys=signed.keys[:2])
    past = latest() - 1
    sigs = td.ordered(td.sign(signed.domain, "DisputeResolution",
                              td.resolution_message(original.struct_hash(), original, past), signed.keys))
    with reverts_with("SignatureExpired", past):
        oracle.resolveDispute(original.as_tuple(), past, sigs, {"from": reporter})
    # a missed round is a valid replacement
    tx = signed.resolve(return_report(MID, 1, None))
    assert tx.events["DisputeResolved"]["roundReturn"] == 0
    tx = signed.finalize(MID)
    expect_event(tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=0, missed=True, index=ONE)


@pytest.mark.parametrize("late", ["identical", "different"])
def test_reclaim_bond_after_timeout(signed, oracle, nmr_token, watcher, deployer, outsider, model_id, late):
    original = return_report(MID, 1, ONE // 10)
    signed.post([original])
    with reverts_with("NoBondHeld", MID, 1):
        oracle.reclaimBond(MID, 1, {"from": watcher})
    tx = oracle.dispute(MID, 1, {"from": watcher})
    reclaimable_at = tx.timestamp + DISPUTE_TIMEOUT
    with reverts_with("DisputeTimeoutNotOver", reclaimable_at):
        oracle.reclaimBond(MID, 1, {"from": watcher})
    chain.mine(timestamp=reclaimable_at - 1)
    with reverts_with("DisputeTimeoutNotOver", reclaimable_at):
        oracle.reclaimBond.call(MID, 1, {"from": watcher})
    chain.mine(timestamp=reclaimable_at)
    tx = oracle.reclaimBond(MID, 1, {"from": outsider, "gas_limit": 200_000})  # anyone may trigger it
    assert tx.timestamp >= reclaimable_at
    expect_event(tx, "BondReclaimed", modelId=MODEL_ID, round=1, disputer=watcher, bond=BOND)
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle)) == (BOND, 0)
    with reverts_with("NoBondHeld", MID, 1):
        oracle.reclaimBond(MID, 1, {"from": watcher})
    # the round stays disputed; a dispute cannot be restarted, and finalizing still stops at it
    assert plain(oracle.reportOf(MID, 1))[3:] == (DISPUTED, norm(str(watcher)), 0)
    with reverts_with("AlreadyDisputed", MID, 1):
        oracle.dispute(MID, 1, {"from": watcher})
    assert "RoundFinalized" not in signed.finalize(MID).events
    # a late resolution still settles the round but moves no NMR (bondReturned says whether a bond moved now)
    replacement = original if late == "identical" else return_report(MID, 1, -(ONE // 10))
    tx = signed.resolve(replacement)
    expect_event(tx, "DisputeResolved", modelId=MODEL_ID, round=1, disputedHash=hx(original.struct_hash()),
                 replacementHash=hx(replacement.struct_hash()), roundReturn=replacement.round_return(),
                 bondReturned=False)
    assert "Transfer" not in tx.events
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (BOND, 0, 0)
    tx = signed.finalize(MID)
    assert tx.events["RoundFinalized"]["index"] == ONE + replacement.round_return()


def test_two_disputes_keep_bonds_apart(signed, oracle, nmr_token, watcher, deployer, fund_nmr, fresh_model,
                                       model_id):
    """Two open disputes, one resolved each way: each bond goes where it should, nothing is left behind."""
    other = fresh_model()
    a, b = return_report(MID, 1, ONE // 10), return_report(other, 1, -(ONE // 10))
    signed.post([a, b])
    fund_nmr(watcher, BOND, None)
    nmr_token.approve(oracle, 0, {"from": watcher})
    nmr_token.approve(oracle, 2 * BOND, {"from": watcher})
    oracle.dispute(MID, 1, {"from": watcher})
    oracle.dispute(other, 1, {"from": watcher})
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle)) == (0, 2 * BOND)
    signed.resolve(return_report(MID, 1, 0))  # different: bond back
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (
        BOND, BOND, 0)
    signed.resolve(b)  # identical: bond to the owner
    assert (nmr_token.balanceOf(watcher), nmr_token.balanceOf(oracle), nmr_token.balanceOf(deployer)) == (
        BOND, 0, BOND)


def test_disputed_round_blocks_later_rounds(signed, oracle, watcher, fresh_model, model_id):
    other = fresh_model()
    signed.announce_through(3)
    signed.post([return_report(MID, r, ONE // 10) for r in (1, 2, 3)] + [return_report(other, 1, ONE // 10)])
    oracle.dispute(MID, 2, {"from": watcher})
    chain.sleep(WINDOW)
    chain.mine()
    tx = signed._call(oracle.finalizeMany, [MID, other], 10)
    assert [(bytes(e["modelId"]), e["round"]) for e in events(tx, "RoundFinalized")] == [(MID, 1), (other, 1)]
    assert oracle.modelInfo(MID)[3] == 1
    with reverts_with("RoundNotPosted", MID, 3):
        oracle.indexAt(MID, 3)
    signed.resolve(return_report(MID, 2, ONE // 10))
    tx = signed.finalize(MID)
    assert [e["round"] for e in events(tx, "RoundFinalized")] == [2, 3]


# ============================================================================================ liveness fallback


@pytest.fixture
def locked_agreement(make_nmr_agreement, fund_nmr, modeller, alice, model_id):
    """A 3-round agreement on the conftest model, one 100-NMR unit from alice, 50 NMR reserve, locked: rounds
    2..4 (round 1 is announced, so it starts at round 2)."""
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert (agreement.startRound(), agreement.stakedCapital()) == (2, 100 * NMR)
    return agreement


def mature_at_boundary(agreement, oracle, caller, first_missing, last_final):
    """Before roundDueTime(firstMissing) + maxReportDelay the agreement cannot mature; from that second on it
    matures on the fallback. Returns the mature receipt."""
    fallback_at = oracle.roundDueTime(first_missing) + MAX_REPORT_DELAY
    with reverts_with("RoundsOutstanding", last_final, 4):
        agreement.mature({"from": caller})
    chain.mine(timestamp=fallback_at - 1)
    assert plain(oracle.settlementIndices(MID, 2, 4))[2:] == (last_final, False)
    with reverts_with("RoundsOutstanding", last_final, 4):
        agreement.mature.call({"from": caller})
    chain.mine(timestamp=fallback_at)
    assert plain(oracle.settlementIndices(MID, 2, 4))[2:] == (last_final, True)
    tx = agreement.mature({"from": caller, "gas_limit": 1_000_000})
    assert tx.timestamp >= fallback_at
    expect_event(tx, "MaturedOnFallback", agreement, lastFinal=last_final, endRound=4)
    expect_event(tx, "Matured", agreement, finalValue=agreement.finalValue(), amountDue=agreement.amountDue(),
                 owedTotal=agreement.owedTotal(), coverBound=agreement.coverBound(), deadline=agreement.deadline())
    return tx


def test_fallback_nothing_posted(oracle, locked_agreement, outsider):
    agreement = locked_agreement
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (ONE, ONE, 0, False)
    # round 2 is not announced: due at the earliest it can close
    assert oracle.roundDueTime(2) == oracle.roundCloseTime(1) + MIN_ROUND_SPACING + RESOLUTION_DELAY
    mature_at_boundary(agreement, oracle, outsider, first_missing=2, last_final=0)
    assert agreement.finalValue() == 100 * NMR  # every round counted as zero return
    assert agreement.phase() == 2


def test_fallback_some_rounds_final(signed, oracle, locked_agreement, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [ONE // 2, ONE // 10, -(ONE // 20)])  # round 1 is before the lockup
    i1, i3 = oracle.indexAt(MID, 1), oracle.indexAt(MID, 3)
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (i1, i3, 3, False)
    # round 4 is not even announced; a posted but pending report for it changes nothing
    signed.announce_through(4)
    signed.post([return_report(MID, 4, -ONE // 2)])
    mature_at_boundary(agreement, oracle, modeller, first_missing=4, last_final=3)
    assert agreement.finalValue() == 100 * NMR * i3 // i1 == 1045 * NMR // 10


def test_fallback_disputed_round_stalls(signed, oracle, locked_agreement, watcher, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [0, ONE // 10])
    signed.announce_through(4)
    signed.post([return_report(MID, 3, -(ONE // 5)), return_report(MID, 4, ONE // 20)])
    oracle.dispute(MID, 3, {"from": watcher})
    chain.sleep(WINDOW)
    chain.mine()
    signed.finalize(MID)
    assert oracle.modelInfo(MID)[3] == 2
    mature_at_boundary(agreement, oracle, modeller, first_missing=3, last_final=2)
    # rounds 3 and 4 count as zero: neither the disputed -20% nor the pending +5%
    assert agreement.finalValue() == 100 * NMR * oracle.indexAt(MID, 2) // oracle.indexAt(MID, 1) == 110 * NMR


def test_mature_without_fallback_when_complete(oracle, locked_agreement, modeller, post_returns):
    agreement = locked_agreement
    post_returns(MID, [0, ONE // 10, -(ONE // 20), ONE // 5])
    assert plain(oracle.settlementIndices(MID, 2, 4)) == (
        oracle.indexAt(MID, 1), oracle.indexAt(MID, 4), 4, True)
    tx = agreement.mature({"from": modeller})
    assert "MaturedOnFallback" not in tx.events
    assert agreement.finalValue() == 100 * NMR * oracle.indexAt(MID, 4) // oracle.indexAt(MID, 1)


def test_settlement_indices_reverts(oracle, model_id):
    with reverts_with("ModelNotRegistered", OTHER):
        oracle.settlementIndices(OTHER, 1, 2)
    with reverts_with("RoundNotPosted", MID, 0):
        oracle.settlementIndices(MID, 0, 2)  # before the model's first round
    with reverts_with("RoundNotPosted", MID, 3):
        oracle.settlementIndices(MID, 3, 2)  # end before start


def test_fallback_after_total_loss_before_the_lockup(signed, oracle, make_nmr_agreement, fund_nmr, modeller,
                                                     alice, post_returns):
    """Exposure 1 and -100% in round 1: the index is 0 from then on, whatever later rounds return. An agreement
    over rounds 3..5 that matured normally would be worth 0 (BackingAgreement: "a model whose index reached zero
    was wiped out before the start"), and so it is on the fallback whenever round 2 is final. If round 2 is not
    final either, settlementIndices skips to (ONE, ONE) and the agreement is worth its whole stake: the outcome
    depends on whether a round outside the lockup was reported. Counting the missing rounds as zero return from
    the last final index gives (I_lastFinal, I_lastFinal) = (0, 0)."""
    post_returns(MID, [-ONE])
    assert oracle.indexAt(MID, 1) == 0
    signed.announce_through(2)
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 3
    chain.mine(timestamp=oracle.roundDueTime(3) + MAX_REPORT_DELAY)
    start_index, end_index, last_final, complete = oracle.settlementIndices(MID, 3, 5)
    assert (last_final, complete) == (1, True)
    tx = agreement.mature({"from": modeller, "gas_limit": 1_000_000})
    expect_event(tx, "MaturedOnFallback", agreement, lastFinal=1, endRound=5)
    assert (start_index, end_index) == (0, 0)
    assert agreement.finalValue() == 0


def test_settlement_indices_far_future_round(oracle, model_id):
    # a round this far away is certainly not due: the view should say "not complete", not panic
    assert oracle.settlementIndices(MID, 2**255, 2**255)[3] is False


# ============================================================================================ signer set


def test_renounce_ownership_disabled(oracle, deployer, outsider):
    """Without an owner, forfeited bonds would have nowhere to go and the signer set could never change."""
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.renounceOwnership({"from": outsider})
    with brownie.reverts("RenounceDisabled: "):  # brownie renders an error without arguments so
        oracle.renounceOwnership({"from": deployer})
    assert oracle.owner() == deployer


def set_hash(addresses, quorum, dispute_quorum) -> bytes:
    return keccak(eth_abi.encode(["address[]", "uint256", "uint256"], [list(addresses), quorum, dispute_quorum]))


@pytest.fixture(scope="module")
def new_keys(keys):
    """A new set: the first current signer stays, three new keys join (quorum 3, dispute quorum 4)."""
    return sorted([keys[0]] + signer_keys(3, seed="new-oracle-signer"), key=lambda k: int(k.address, 16))


def test_propose_signer_set_reverts(oracle, deployer, outsider, new_keys):
    addresses = [k.address for k in new_keys]
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.proposeSignerSet(addresses, 3, 4, {"from": outsider})
    with reverts_with("SignerSetInvalid", 4, 3, 3):
        oracle.proposeSignerSet(addresses, 3, 3, {"from": deployer})
    with reverts_with("SignerSetInvalid", 4, 3, 5):
        oracle.proposeSignerSet(addresses, 3, 5, {"from": deployer})
    with reverts_with("SignerSetInvalid", 0, 1, 2):
        oracle.proposeSignerSet([], 1, 2, {"from": deployer})
    with reverts_with("SignersNotAscending", 3):
        oracle.proposeSignerSet(addresses[:3] + addresses[2:3], 2, 3, {"from": deployer})
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.cancelSignerSet({"from": outsider})
    with reverts_with("NoSignerSetProposed"):
        oracle.cancelSignerSet({"from": deployer})
    with reverts_with("NoSignerSetProposed"):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})


def test_signer_set_timelock(signed, oracle, deployer, outsider, reporter, keys, new_keys, model_id):
    addresses = [k.address for k in new_keys]
    proposal = set_hash(addresses, 3, 4)
    tx = oracle.proposeSignerSet(addresses, 3, 4, {"from": deployer})
    executable_at = tx.timestamp + SIGNER_SET_DELAY
    expect_event_norm(tx, "SignerSetProposed", setHash=proposal, signers=addresses, quorum=3, disputeQuorum=4,
                      executableAt=executable_at)
    assert (oracle.proposedSignerSet(), oracle.proposedSignerSetExecutableAt()) == (hx(proposal), executable_at)
    with reverts_with("TimelockNotOver", executable_at):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})
    for args in ((addresses, 3, 5), (addresses[:3], 2, 3), ([a.lower() for a in reversed(addresses)], 3, 4)):
        with reverts_with("SignerSetMismatch", proposal, set_hash(*args)):
            oracle.executeSignerSet(*args, {"from": outsider})
    chain.mine(timestamp=executable_at - 1)
    with reverts_with("TimelockNotOver", executable_at):
        oracle.executeSignerSet.call(addresses, 3, 4, {"from": outsider})
    # the old set still rules until then
    signed.post([return_report(MID, 1, 0)])
    chain.mine(timestamp=executable_at)
    tx = oracle.executeSignerSet(addresses, 3, 4, {"from": outsider, "gas_limit": 500_000})  # anyone executes
    assert tx.timestamp >= executable_at
    expect_event_norm(tx, "SignerSetChanged", signers=addresses, quorum=3, disputeQuorum=4)
    assert norm(oracle.signers()) == norm(addresses)
    assert (oracle.quorum(), oracle.disputeQuorum()) == (3, 4)
    assert (oracle.proposedSignerSet(), oracle.proposedSignerSetExecutableAt()) == ("0x" + "00" * 32, 0)
    assert [oracle.isSigner(k.address) for k in keys] == [k.address in addresses for k in keys]
    assert all(oracle.isSigner(a) for a in addresses)
    with reverts_with("NoSignerSetProposed"):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})

    # the removed signers' signatures no longer count (keys[0] stayed, keys[1:] were removed)
    old = SignedOracle(oracle, keys, reporter)
    r = return_report(MID, 2, 0)
    with reverts_with("NotSigner", 1, keys[1].address):
        old.post([r], keys=keys)
    with reverts_with("QuorumNotMet", 2, 3):
        old.post([r], keys=keys[:2])
    new = SignedOracle(oracle, new_keys, reporter)
    with reverts_with("QuorumNotMet", 2, 3):
        new.post([r], keys=new_keys[:2])
    new.announce_through(2)
    tx = new.post([r], keys=new_keys[1:])
    assert tx.events["RoundPosted"]["round"] == 2


def test_cancel_and_replace_proposal(oracle, deployer, outsider, new_keys, signers):
    addresses = [k.address for k in new_keys]
    first = set_hash(addresses, 3, 4)
    tx = oracle.proposeSignerSet(addresses, 3, 4, {"from": deployer})
    executable_at = tx.timestamp + SIGNER_SET_DELAY
    # a new proposal replaces the old one and restarts the clock
    chain.sleep(DAY)
    chain.mine()
    tx = oracle.proposeSignerSet(addresses, 2, 3, {"from": deployer})
    second = set_hash(addresses, 2, 3)
    assert oracle.proposedSignerSet() == hx(second)
    assert oracle.proposedSignerSetExecutableAt() == tx.timestamp + SIGNER_SET_DELAY > executable_at
    chain.mine(timestamp=executable_at)
    with reverts_with("SignerSetMismatch", second, first):
        oracle.executeSignerSet(addresses, 3, 4, {"from": outsider})
    with reverts_with("TimelockNotOver", tx.timestamp + SIGNER_SET_DELAY):
        oracle.executeSignerSet(addresses, 2, 3, {"from": outsider})
    tx = oracle.cancelSignerSet({"from": deployer})
    expect_event(tx, "SignerSetCancelled", setHash=hx(second))
    assert (oracle.proposedSignerSet(), oracle.proposedSignerSetExecutableAt()) == ("0x" + "00" * 32, 0)
    chain.sleep(SIGNER_SET_DELAY)
    chain.mine()
    with reverts_with("NoSignerSetProposed"):
        oracle.executeSignerSet(addresses, 2, 3, {"from": outsider})
    with reverts_with("NoSignerSetProposed"):
        oracle.cancelSignerSet({"from": deployer})
    assert norm(oracle.signers()) == norm(sorted_addresses(signers))

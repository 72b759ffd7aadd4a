"""Signatures over every statement kind: quorum, order, duplicates, outsiders, malleable and expired
signatures, other domains."""

import dataclasses

import pytest
from brownie import chain

from backing.onchain.oracle import SignedOracle, return_report
from oracle import typed_data as td
from oracle.typed_data import Domain
from support.chain import MIN_ROUND_SPACING, reverts_with
from support.oracle import MID, ONE, TOURNAMENT, high_s, latest, post_raw, recovered, sig_of

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
        return (
            "ModelRegistration",
            lambda d: td.registration_message(model, str(modeller), ONE // 2, 3, d),
            via(o.registerModel, model, modeller, ONE // 2, 3),
        )
    if kind == "attest":
        evidence = b"\x0e" * 32
        return (
            "ModelAttestation",
            lambda d: td.attestation_message(MID, str(modeller), True, evidence, 0, d),
            via(o.attestModel, MID, modeller, True, evidence),
        )
    if kind == "announce":
        close = o.currentRoundCloseTime() + MIN_ROUND_SPACING
        return (
            "RoundAnnouncement",
            lambda d: td.announcement_message(TOURNAMENT, 2, [close], d),
            via(o.announceRounds, 2, [close]),
        )
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
    for swapped in (
        return_report(other, 1, ONE // 10),
        dataclasses.replace(signed_for, round=2),
        return_report(MID, 1, ONE // 5),
        dataclasses.replace(signed_for, clip=ONE // 2),
    ):
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

"""Model attestation: the owner of a registered model attests to it with a signed statement."""

from brownie import chain
from eth_utils import keccak

from oracle import typed_data as td
from support.chain import MODEL_ID, expect_event, reverts_with
from support.oracle import MID, OTHER, hx, recovered


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

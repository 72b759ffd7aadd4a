"""A model's modeller changed by a quorum behind a timelock (issue 12 L-5): a wrong or squatting registration, or a
lost or compromised modeller key, no longer blocks a model id forever. The owner may cancel a pending change (his
check on a quorum of signers); the current modeller may not (the change exists for when his key is the problem).
Agreements and series made before keep their modeller; a series whose modeller the oracle no longer names opens
no new agreement, while its positions run to the end."""

from brownie import ZERO_ADDRESS, chain

from oracle import typed_data as td
from support.chain import DAY, MODEL_ID, ORACLE_PARAMS, expect_event, reverts_with
from support.oracle import MID, OTHER, recovered

DELAY = ORACLE_PARAMS.signer_set_delay
LIFETIME = 7 * DAY


def test_a_squatted_model_goes_to_its_owner_after_the_timelock(signed, oracle, modeller, outsider, reporter):
    """On main the squatter's registration was permanent: there was no way to name another modeller."""
    squatted = (0x5017A7ED).to_bytes(32, "big")
    signed.register(squatted, outsider)  # the signers were fooled: outsider is not the model's owner
    signed.attest(squatted, outsider)
    assert tuple(oracle.modellerChangeOf(squatted)) == (ZERO_ADDRESS, 0, 0)

    tx = signed.propose_modeller_change(squatted, modeller)
    executable_at = tx.timestamp + DELAY
    expect_event(
        tx,
        "ModellerChangeProposed",
        modelId="0x" + squatted.hex(),
        **{"from": outsider},
        to=modeller,
        nonce=0,
        executableAt=executable_at,
    )
    assert tuple(oracle.modellerChangeOf(squatted)) == (modeller, executable_at, 1)
    # nothing changes before the timelock is over: the squatter is still the modeller, anyone can see it coming
    assert oracle.modelInfo(squatted)[0] == outsider
    with reverts_with("TimelockNotOver", executable_at):
        oracle.executeModellerChange(squatted, {"from": reporter})

    chain.sleep(DELAY)
    chain.mine()
    tx = oracle.executeModellerChange(squatted, {"from": reporter})  # anyone may execute it
    expect_event(tx, "ModellerChanged", modelId="0x" + squatted.hex(), **{"from": outsider}, to=modeller)
    assert oracle.modelInfo(squatted)[0] == modeller
    assert not oracle.isAttested(squatted)  # the new modeller is attested afresh
    assert tuple(oracle.modellerChangeOf(squatted)) == (ZERO_ADDRESS, 0, 1)
    # the rest of the record stays: exposure and rounds
    assert tuple(oracle.modelInfo(squatted))[1:] == (10**18, 1, 0)
    with reverts_with("NoModellerChangeProposed", squatted):
        oracle.executeModellerChange(squatted, {"from": reporter})


def test_a_change_needs_the_quorum_and_cannot_be_replayed(signed, oracle, keys, modeller, outsider, reporter, model_id):
    with reverts_with("QuorumNotMet", 1, 2):
        signed.propose_modeller_change(MID, outsider, keys=keys[:1])  # one signer alone moves nothing
    with reverts_with("ModelNotRegistered", OTHER):
        signed.propose_modeller_change(OTHER, outsider, old=ZERO_ADDRESS)
    with reverts_with("ZeroAddress"):
        signed.propose_modeller_change(MID, ZERO_ADDRESS)
    with reverts_with("ModellerUnchanged", MID, modeller):
        signed.propose_modeller_change(MID, modeller)

    # signed for the wrong current modeller or an old nonce: the digest differs, so no signer is recovered
    deadline = chain.time() + 3600
    stale = td.modeller_change_message(MID, str(outsider), str(outsider), 0, deadline)
    sigs = td.ordered(td.sign(signed.domain, "ModellerChange", stale, keys[:2]))
    actual = td.modeller_change_message(MID, str(modeller), str(outsider), 0, deadline)
    with reverts_with("NotSigner", 0, recovered(signed.domain, "ModellerChange", actual, sigs[0])):
        oracle.proposeModellerChange(MID, outsider, deadline, sigs, {"from": reporter})

    first = td.modeller_change_message(MID, str(modeller), str(outsider), 0, deadline)
    first_sigs = td.ordered(td.sign(signed.domain, "ModellerChange", first, keys[:2]))
    oracle.proposeModellerChange(MID, outsider, deadline, first_sigs, {"from": reporter})
    # the same signatures again: the nonce moved on
    replay = td.modeller_change_message(MID, str(modeller), str(outsider), 1, deadline)
    with reverts_with("NotSigner", 0, recovered(signed.domain, "ModellerChange", replay, first_sigs[0])):
        oracle.proposeModellerChange(MID, outsider, deadline, first_sigs, {"from": reporter})
    # a later proposal replaces the pending one (and restarts its timelock)
    chain.sleep(DAY)
    tx = signed.propose_modeller_change(MID, reporter)
    assert tuple(oracle.modellerChangeOf(MID)) == (reporter, tx.timestamp + DELAY, 2)


def test_the_owner_cancels_the_modeller_cannot(signed, oracle, deployer, modeller, outsider, reporter, model_id):
    tx = signed.propose_modeller_change(MID, outsider)
    executable_at = tx.timestamp + DELAY
    with reverts_with("OwnableUnauthorizedAccount", modeller):
        oracle.cancelModellerChange(MID, {"from": modeller})
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.cancelModellerChange(MID, {"from": outsider})
    tx = oracle.cancelModellerChange(MID, {"from": deployer})
    expect_event(tx, "ModellerChangeCancelled", modelId=MODEL_ID, to=outsider)
    assert tuple(oracle.modellerChangeOf(MID)) == (ZERO_ADDRESS, 0, 1)
    with reverts_with("NoModellerChangeProposed", MID):
        oracle.cancelModellerChange(MID, {"from": deployer})
    chain.sleep(DELAY)
    chain.mine()
    with reverts_with("NoModellerChangeProposed", MID):
        oracle.executeModellerChange(MID, {"from": reporter})
    assert oracle.modelInfo(MID)[0] == modeller
    assert executable_at > 0


def test_a_change_expires_if_nobody_executes_it(signed, oracle, outsider, reporter, modeller, model_id):
    tx = signed.propose_modeller_change(MID, outsider)
    expires_at = tx.timestamp + DELAY + LIFETIME
    chain.sleep(DELAY + LIFETIME + 10)
    chain.mine()
    with reverts_with("ModellerChangeExpired", MID, expires_at):
        oracle.executeModellerChange(MID, {"from": reporter})
    assert oracle.modelInfo(MID)[0] == modeller

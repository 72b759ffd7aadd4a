"""Model registration: a signed statement binds a model id to its owner, exposure and first round."""

from brownie import ZERO_ADDRESS

from backing.onchain.oracle import SignedOracle
from support.chain import expect_event, reverts_with
from support.oracle import MID, ONE, OTHER, hx, norm, plain


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
    max_round = oracle.MAX_ROUND()
    signed.register(OTHER, modeller, 1, max_round)
    assert plain(oracle.modelInfo(OTHER)) == norm((str(modeller), 1, max_round, max_round - 1))
    assert oracle.indexAt(OTHER, max_round - 1) == ONE
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
    with reverts_with("FirstRoundZero"):
        dry.register(OTHER, modeller, ONE, 0)
    for first in (2**32, 2**64):
        with reverts_with("RoundOutOfRange", first, 2**32 - 1):
            dry.register(OTHER, modeller, ONE, first)
    assert oracle.modelInfo(OTHER)[0] == ZERO_ADDRESS

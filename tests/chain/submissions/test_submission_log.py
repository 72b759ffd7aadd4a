"""SubmissionLog: the registered modeller (or his agent) commits a round's predictions hash before the round's
submission deadline at the oracle; late, second and foreign commitments are refused with their own errors.

Timestamps at the deadline are set exactly (anvil's `evm_setNextBlockTimestamp`): run on anvil."""

import pytest
from brownie import SubmissionLog, web3

from support.chain import expect_event, reverts_with

H1, H2 = b"\x11" * 32, b"\x22" * 32
SUB_ID = bytes.fromhex("8f0d3c526b8a4b8e9c1e2a7f6d1b0c11") + b"\0" * 16
SUB_HASH = b"\x5a" * 32
ZERO = b"\0" * 32
OTHER_MODEL = (0xB0B).to_bytes(32, "big")


def at(timestamp):
    """The next transaction lands exactly at `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def hx(value) -> str:
    return "0x" + b32(value).hex()


def b32(value) -> bytes:
    """A bytes32 as bytes (brownie renders bytes32 error arguments as Python bytes)."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


@pytest.fixture(scope="module")
def log(oracle, deployer):
    return SubmissionLog.deploy(oracle, {"from": deployer})


@pytest.fixture(scope="module")
def models(signed, model_id, modeller, outsider):
    """MODEL_ID (the modeller's, round 1 announced), a second model of the same modeller and one of `outsider`;
    rounds 1-3 announced."""
    second = (0x5EC0D).to_bytes(32, "big")
    signed.register(second, modeller, 10**18, 1)
    signed.register(OTHER_MODEL, outsider, 10**18, 1)
    signed.announce_through(3)
    return b32(model_id), second


def test_the_modeller_commits_and_the_event_carries_everything(log, models, modeller, oracle):
    model, _ = models
    tx = log.commit((model, 1, H1, SUB_ID, SUB_HASH), {"from": modeller})
    expect_event(
        tx,
        "SubmissionCommitted",
        log,
        modelId=hx(model),
        round=1,
        committer=modeller,
        predictionsHash=hx(H1),
        submissionId=hx(SUB_ID),
        submissionHash=hx(SUB_HASH),
    )
    assert log.isCommitted(model, 1) and not log.isCommitted(model, 2)
    assert log.oracle() == oracle


def test_a_second_commitment_for_the_same_round_is_refused(log, models, modeller):
    model, _ = models
    log.commit((model, 1, H1, ZERO, ZERO), {"from": modeller})
    with reverts_with("AlreadyCommitted", model, 1):
        log.commit((model, 1, H2, ZERO, ZERO), {"from": modeller})
    log.commit((model, 2, H2, ZERO, ZERO), {"from": modeller})  # another round is its own key


def test_replay_for_another_model_or_by_another_key_is_refused(log, models, modeller, outsider, oracle):
    """The key is (model, round) and only the model's modeller (or agent) writes it: the modeller's
    commitment sent again for someone else's model, or by someone else for his model, is refused."""
    model, _ = models
    log.commit((model, 1, H1, ZERO, ZERO), {"from": modeller})
    with reverts_with("NotModellerOrAgent", OTHER_MODEL, modeller, outsider):
        log.commit((OTHER_MODEL, 1, H1, ZERO, ZERO), {"from": modeller})
    with reverts_with("NotModellerOrAgent", model, outsider, modeller):
        log.commit((model, 2, H1, ZERO, ZERO), {"from": outsider})


def test_an_agent_commits_for_every_model_of_his_modeller_until_removed(log, models, modeller, alice):
    model, second = models
    with reverts_with("NotModellerOrAgent", model, alice, modeller):
        log.commit((model, 1, H1, ZERO, ZERO), {"from": alice})
    tx = log.setAgent(alice, {"from": modeller})
    expect_event(tx, "AgentSet", log, modeller=modeller, agent=alice)
    assert log.agentOf(modeller) == alice
    tx = log.commit((second, 1, H1, ZERO, ZERO), {"from": alice})
    assert tx.events["SubmissionCommitted"]["committer"] == alice
    log.setAgent("0x" + "00" * 20, {"from": modeller})
    with reverts_with("NotModellerOrAgent", model, alice, modeller):
        log.commit((model, 1, H1, ZERO, ZERO), {"from": alice})


def test_the_deadline_to_the_second(log, models, modeller, oracle):
    """Accepted in the last second before the announced close time, refused at it."""
    model, second = models
    close = oracle.roundCloseTime(1)
    at(close - 1)
    tx = log.commit((model, 1, H1, ZERO, ZERO), {"from": modeller})
    assert tx.timestamp == close - 1
    at(close)
    with reverts_with("SubmissionDeadlinePassed", second, 1, close, close):
        log.commit((second, 1, H1, ZERO, ZERO), {"from": modeller})
    # round 2 closes later: still open at round 1's deadline
    log.commit((second, 2, H1, ZERO, ZERO), {"from": modeller})


def test_unknown_model_unannounced_round_and_empty_hash_are_refused(log, models, modeller):
    model, _ = models
    unknown = (0xDEAD).to_bytes(32, "big")
    with reverts_with("ModelNotRegistered", unknown):
        log.commit((unknown, 1, H1, ZERO, ZERO), {"from": modeller})
    with reverts_with("RoundDeadlineUnknown", 4):
        log.commit((model, 4, H1, ZERO, ZERO), {"from": modeller})
    with reverts_with("EmptyPredictionsHash", 0):
        log.commit((model, 1, ZERO, ZERO, ZERO), {"from": modeller})


def test_a_batch_records_all_or_nothing(log, models, modeller):
    model, second = models
    batch = [(model, 1, H1, ZERO, ZERO), (second, 1, H2, ZERO, ZERO), (model, 2, H2, SUB_ID, SUB_HASH)]
    tx = log.commitMany(batch, {"from": modeller})
    assert len(tx.events["SubmissionCommitted"]) == 3
    assert all(log.isCommitted(m, r) for m, r, *_ in batch)
    with reverts_with("AlreadyCommitted", second, 3):  # a pair twice in one batch
        log.commitMany([(second, 3, H1, ZERO, ZERO), (second, 3, H2, ZERO, ZERO)], {"from": modeller})
    with reverts_with("EmptyPredictionsHash", 1):
        log.commitMany([(model, 3, H1, ZERO, ZERO), (second, 3, ZERO, ZERO, ZERO)], {"from": modeller})
    assert not log.isCommitted(model, 3)
    with reverts_with("NoCommitments"):
        log.commitMany([], {"from": modeller})


def test_rounds_share_a_word_of_bits_without_clashing(log, signed, models, modeller):
    """Round r is bit r % 256 of word r / 256: neighbours and the rounds 256 apart stay distinct."""
    model, _ = models
    signed.announce_through(258)
    log.commitMany([(model, r, H1, ZERO, ZERO) for r in (2, 255, 256, 258)], {"from": modeller})
    assert [r for r in range(1, 259) if log.isCommitted(model, r)] == [2, 255, 256, 258]


def test_the_log_needs_an_oracle(deployer):
    with reverts_with("ZeroAddress"):
        SubmissionLog.deploy("0x" + "00" * 20, {"from": deployer})

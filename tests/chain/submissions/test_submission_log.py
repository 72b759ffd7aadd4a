"""SubmissionLog: the log records every commitment as an event, and ISubmissionLog's rules (applied by
`backing.consistency.select_commitments` and `classify`) decide which one counts: the modeller's or his agent's at
the time, the first for its (model, round), in time when its block is before the round's deadline at the oracle.
These tests send real transactions and judge the real events, so a change in what the log emits or in the rules
shows here.

Timestamps at the deadline are set exactly (anvil's `evm_setNextBlockTimestamp`): run on anvil."""

import pytest
from brownie import SubmissionLog, web3

from backing.consistency import Outcome, classify, select_commitments
from support.chain import expect_event, reverts_with

H1, H2 = b"\x11" * 32, b"\x22" * 32
SUB_ID = bytes.fromhex("8f0d3c526b8a4b8e9c1e2a7f6d1b0c11") + b"\0" * 16
SUB_HASH = b"\x5a" * 32
ZERO = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20
OTHER_MODEL = (0xB0B).to_bytes(32, "big")


def at(timestamp):
    """The next transaction lands exactly at `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def hx(value) -> str:
    return "0x" + b32(value).hex()


def b32(value) -> bytes:
    """A bytes32 as bytes (brownie renders bytes32 arguments as hex strings)."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def events_of(log, model):
    """The model's SubmissionCommitted events as `select_commitments` reads them (what the CLI builds)."""
    found = []
    for e in log.events.get_sequence(from_block=0, event_type="SubmissionCommitted"):
        if b32(e.args.modelId) == model:
            found.append(
                {
                    "round": e.args.round,
                    "committer": e.args.committer,
                    "hash": b32(e.args.predictionsHash),
                    "time": web3.eth.get_block(e.blockNumber).timestamp,
                    "order": (e.blockNumber, e.logIndex),
                }
            )
    return found


def agents_of(log, modeller):
    return [
        ((e.blockNumber, e.logIndex), e.args.agent)
        for e in log.events.get_sequence(from_block=0, event_type="AgentSet")
        if e.args.modeller == modeller
    ]


def counted(log, model, modeller):
    return select_commitments(events_of(log, model), str(modeller), agents_of(log, modeller))


@pytest.fixture(scope="module")
def log(oracle, deployer):
    return SubmissionLog.deploy(oracle, {"from": deployer})


@pytest.fixture(scope="module")
def models(signed, model_id, modeller, outsider):
    """MODEL_ID (the modeller's), a second model of the same modeller and one of `outsider`; rounds 1-3
    announced."""
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
    assert log.oracle() == oracle
    chosen, ignored = counted(log, model, modeller)
    assert list(chosen) == [1] and chosen[1]["hash"] == H1 and ignored == []


def test_only_the_first_commitment_for_a_round_counts(log, models, modeller):
    """A second commitment is recorded but ignored: a commitment is never replaced."""
    model, _ = models
    log.commit((model, 1, H1, ZERO, ZERO), {"from": modeller})
    log.commit((model, 1, H2, ZERO, ZERO), {"from": modeller})
    log.commit((model, 2, H2, ZERO, ZERO), {"from": modeller})  # another round is its own key
    chosen, ignored = counted(log, model, modeller)
    assert {r: c["hash"] for r, c in chosen.items()} == {1: H1, 2: H2}
    assert [(c["round"], c["hash"]) for c, _ in ignored] == [(1, H2)]
    assert "only the first one counts" in ignored[0][1]


def test_a_commitment_by_another_key_does_not_count_nor_block_the_modeller(log, models, modeller, outsider):
    """The outsider commits first for the modeller's model, and the modeller for the outsider's: neither counts,
    and the modeller's own later commitment for his round still counts (no squatting a round)."""
    model, _ = models
    tx = log.commit((model, 1, H2, ZERO, ZERO), {"from": outsider})
    assert tx.events["SubmissionCommitted"]["committer"] == outsider  # recorded as who sent it
    log.commit((OTHER_MODEL, 1, H1, ZERO, ZERO), {"from": modeller})
    log.commit((model, 1, H1, ZERO, ZERO), {"from": modeller})
    chosen, ignored = counted(log, model, modeller)
    assert chosen[1]["hash"] == H1 and chosen[1]["committer"] == modeller
    assert [c["committer"] for c, _ in ignored] == [outsider] and "neither the model's modeller" in ignored[0][1]
    theirs, theirs_ignored = counted(log, OTHER_MODEL, outsider)
    assert theirs == {} and [c["committer"] for c, _ in theirs_ignored] == [modeller]


def test_an_agent_counts_from_his_naming_until_his_removal(log, models, modeller, alice):
    model, second = models
    log.commit((model, 1, H1, ZERO, ZERO), {"from": alice})  # before he is named: ignored
    tx = log.setAgent(alice, {"from": modeller})
    expect_event(tx, "AgentSet", log, modeller=modeller, agent=alice)
    assert log.agentOf(modeller) == alice
    log.commit((second, 1, H1, ZERO, ZERO), {"from": alice})  # counts
    tx = log.setAgent(ZERO_ADDRESS, {"from": modeller})
    expect_event(tx, "AgentSet", log, modeller=modeller, agent=ZERO_ADDRESS)
    log.commit((second, 2, H1, ZERO, ZERO), {"from": alice})  # after his removal: ignored
    chosen, ignored = counted(log, model, modeller)
    assert chosen == {} and len(ignored) == 1
    chosen, ignored = counted(log, second, modeller)
    assert list(chosen) == [1] and chosen[1]["committer"] == alice
    assert [c["round"] for c, _ in ignored] == [2]


def test_the_deadline_to_the_second(log, models, modeller, oracle):
    """Recorded in the last second before the announced close time: in time; at it: late."""
    model, second = models
    close = oracle.roundCloseTime(1)
    at(close - 1)
    tx = log.commit((model, 1, H1, ZERO, ZERO), {"from": modeller})
    assert tx.timestamp == close - 1
    at(close)
    tx = log.commit((second, 1, H1, ZERO, ZERO), {"from": modeller})
    assert tx.timestamp == close
    for m, outcome in ((model, Outcome.MATCH), (second, Outcome.LATE)):
        c = counted(log, m, modeller)[0][1]
        assert classify(H1, c["hash"], c["time"], close, close + 10).outcome is outcome


def test_a_promise_to_commit_every_round_is_recorded_for_whoever_sends_it(log, models, modeller, outsider):
    """Readers count it only from the model's modeller (`backing.client.submission_cmd.expectation`)."""
    model, _ = models
    expect_event(log.expectCommitments(model, {"from": modeller}), "CommitmentsExpected", log, modelId=hx(model),
                 modeller=modeller)  # fmt: skip
    tx = log.expectCommitments(model, {"from": outsider})
    assert tx.events["CommitmentsExpected"]["modeller"] == outsider


def test_an_empty_hash_is_refused(log, models, modeller):
    model, _ = models
    with reverts_with("EmptyPredictionsHash", 0):
        log.commit((model, 1, ZERO, ZERO, ZERO), {"from": modeller})


def test_a_batch_records_all_or_nothing(log, models, modeller):
    model, second = models
    batch = [(model, 1, H1, ZERO, ZERO), (second, 1, H2, ZERO, ZERO), (model, 2, H2, SUB_ID, SUB_HASH)]
    tx = log.commitMany(batch, {"from": modeller})
    assert [(b32(e["modelId"]), e["round"]) for e in tx.events["SubmissionCommitted"]] == [(m, r) for m, r, *_ in batch]
    before = len(events_of(log, model))
    with reverts_with("EmptyPredictionsHash", 1):
        log.commitMany([(model, 3, H1, ZERO, ZERO), (second, 3, ZERO, ZERO, ZERO)], {"from": modeller})
    assert len(events_of(log, model)) == before
    with reverts_with("NoCommitments"):
        log.commitMany([], {"from": modeller})


def test_the_log_needs_an_oracle(deployer):
    with reverts_with("ZeroAddress"):
        SubmissionLog.deploy(ZERO_ADDRESS, {"from": deployer})

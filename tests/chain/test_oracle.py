"""ScoreOracle unit tests: every external function's success path, every revert (exact custom error and
arguments) and every event, plus the index math against ``backing.reference`` to the wei.

None of these tests needs a token, so none requests a token-dependent fixture: each runs once."""

import itertools

import pytest
from brownie import ZERO_ADDRESS, ScoreOracle, chain
from hexbytes import HexBytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backing.reference import INDEX_LIMIT, ONE, index_path, next_index, round_return, tdiv

from conftest import MAX_CLIP, MAX_MULTIPLIER, MIN_ROUND_SPACING, MODEL_ID, reverts_with

MID = bytes.fromhex(MODEL_ID[2:])  # the conftest model (registered to `modeller`, first round 1)
OTHER = b"\x11" * 32  # an id nobody registered
MAX_UINT64 = 2**64 - 1


def name(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


RET = name("RET")
CORR, MMC = name("CORR20"), name("MMC")


def b32(value) -> bytes:
    return bytes(HexBytes(value))


def plain(value):
    """A view's return value as a plain tuple (brownie's ReturnValue only compares with its own types)."""
    def one(v):
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return int(v)
        return str(v)

    return tuple(one(v) for v in value)


def post(oracle, reporter, model, round_, value, clip=MAX_CLIP):
    """Post a round whose return is exactly `value` (one score, multiplier 1, payout factor 1)."""
    return oracle.postRound(model, round_, [RET], [value], [ONE], ONE, clip, {"from": reporter})


@pytest.fixture
def fresh_model(oracle, reporter, modeller):
    """Register a new model id (first round `first`, given exposure) on the shared oracle."""
    counter = itertools.count(1)

    def register(exposure=ONE, first=1, owner=None):
        model = (0x5EED0000 + next(counter)).to_bytes(32, "big")
        oracle.registerModel(model, owner or modeller, exposure, first, {"from": reporter})
        return model

    return register


@pytest.fixture
def announce(oracle, reporter):
    """Announce `round_` (default: the next one) with a close time after the previous one."""

    def do(round_=None, close=None):
        round_ = oracle.currentRound() + 1 if round_ is None else round_
        close = oracle.currentRoundCloseTime() + 3600 if close is None else close
        return oracle.announceRound(round_, close, {"from": reporter})

    return do


# ============================================================================================ constructor


def test_constructor_sets_bounds_and_owner(deployer):
    o = ScoreOracle.deploy(deployer, ONE // 4, 7 * ONE, 123, {"from": deployer})
    assert o.owner() == deployer
    assert o.pendingOwner() == ZERO_ADDRESS
    assert o.maxClip() == ONE // 4
    assert o.maxMultiplier() == 7 * ONE
    assert o.minRoundSpacing() == 123
    assert o.ONE() == ONE
    assert o.MAX_ABS_SCORE() == ONE
    assert o.MAX_SCORES() == 8
    assert o.MAX_EXPOSURE() == ONE
    assert o.currentRound() == 0
    assert o.currentRoundCloseTime() == 0
    assert not o.isReporter(deployer)


def test_constructor_accepts_upper_bounds(deployer):
    o = ScoreOracle.deploy(deployer, ONE, 1000 * ONE, 1, {"from": deployer})
    assert o.maxClip() == ONE
    assert o.maxMultiplier() == 1000 * ONE
    assert o.minRoundSpacing() == 1


@pytest.mark.parametrize(
    "max_clip, max_multiplier, spacing, bound",
    [
        (0, ONE, 1, "maxClip"),
        (ONE + 1, ONE, 1, "maxClip"),
        (ONE, 0, 1, "maxMultiplier"),
        (ONE, 1000 * ONE + 1, 1, "maxMultiplier"),
        (ONE, ONE, 0, "minRoundSpacing"),
    ],
    ids=["clip-zero", "clip-above-one", "multiplier-zero", "multiplier-above-1000", "spacing-zero"],
)
def test_constructor_bound_out_of_range(deployer, max_clip, max_multiplier, spacing, bound):
    with reverts_with("BoundOutOfRange", bound):
        ScoreOracle.deploy(deployer, max_clip, max_multiplier, spacing, {"from": deployer})


def test_constructor_zero_owner(deployer):
    with reverts_with("OwnableInvalidOwner", ZERO_ADDRESS):
        ScoreOracle.deploy(ZERO_ADDRESS, ONE, ONE, 1, {"from": deployer})


# ============================================================================================ ownership


def test_transfer_ownership_two_steps(oracle, deployer, outsider):
    tx = oracle.transferOwnership(outsider, {"from": deployer})
    assert tx.events["OwnershipTransferStarted"] == {"previousOwner": deployer, "newOwner": outsider}
    assert "OwnershipTransferred" not in tx.events
    assert oracle.owner() == deployer
    assert oracle.pendingOwner() == outsider

    tx = oracle.acceptOwnership({"from": outsider})
    assert tx.events["OwnershipTransferred"] == {"previousOwner": deployer, "newOwner": outsider}
    assert oracle.owner() == outsider
    assert oracle.pendingOwner() == ZERO_ADDRESS

    # the new owner administers reporters, the old one no longer does
    oracle.setReporter(deployer, True, {"from": outsider})
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.setReporter(deployer, False, {"from": deployer})


def test_transfer_ownership_not_owner(oracle, outsider):
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.transferOwnership(outsider, {"from": outsider})


def test_accept_ownership_not_pending(oracle, deployer, outsider, reporter):
    oracle.transferOwnership(outsider, {"from": deployer})
    with reverts_with("OwnableUnauthorizedAccount", reporter):
        oracle.acceptOwnership({"from": reporter})
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.acceptOwnership({"from": deployer})
    assert oracle.owner() == deployer


def test_accept_ownership_without_transfer(oracle, outsider):
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.acceptOwnership({"from": outsider})


def test_transfer_ownership_overwrites_pending(oracle, deployer, outsider, reporter):
    oracle.transferOwnership(outsider, {"from": deployer})
    oracle.transferOwnership(reporter, {"from": deployer})
    assert oracle.pendingOwner() == reporter
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.acceptOwnership({"from": outsider})
    oracle.acceptOwnership({"from": reporter})
    assert oracle.owner() == reporter


def test_renounce_ownership(oracle, deployer, outsider):
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.renounceOwnership({"from": outsider})
    tx = oracle.renounceOwnership({"from": deployer})
    assert tx.events["OwnershipTransferred"] == {"previousOwner": deployer, "newOwner": ZERO_ADDRESS}
    assert oracle.owner() == ZERO_ADDRESS
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.setReporter(outsider, True, {"from": deployer})


# ============================================================================================ setReporter


def test_set_reporter_allow_and_revoke(oracle, deployer, outsider):
    assert not oracle.isReporter(outsider)
    tx = oracle.setReporter(outsider, True, {"from": deployer})
    assert tx.events["ReporterSet"] == {"reporter": outsider, "allowed": True}
    assert oracle.isReporter(outsider)
    oracle.announceRound(1, 100, {"from": outsider})

    tx = oracle.setReporter(outsider, False, {"from": deployer})
    assert tx.events["ReporterSet"] == {"reporter": outsider, "allowed": False}
    assert not oracle.isReporter(outsider)
    with reverts_with("NotReporter", outsider):
        oracle.announceRound(2, 200, {"from": outsider})


def test_set_reporter_zero_address(oracle, deployer):
    with reverts_with("ZeroAddress"):
        oracle.setReporter(ZERO_ADDRESS, True, {"from": deployer})


def test_set_reporter_not_owner(oracle, reporter, outsider):
    with reverts_with("OwnableUnauthorizedAccount", reporter):
        oracle.setReporter(outsider, True, {"from": reporter})
    with reverts_with("OwnableUnauthorizedAccount", outsider):
        oracle.setReporter(outsider, True, {"from": outsider})


# ============================================================================================ registerModel


def test_register_model(oracle, reporter, modeller):
    tx = oracle.registerModel(MID, modeller, ONE // 4, 7, {"from": reporter})
    assert list(tx.events.keys()) == ["ModelRegistered"]
    ev = tx.events["ModelRegistered"]
    assert b32(ev["modelId"]) == MID
    assert ev["modeller"] == modeller
    assert ev["exposure"] == ONE // 4
    assert ev["firstRound"] == 7
    assert plain(oracle.modelInfo(MID)) == (modeller, ONE // 4, 7, 6)
    # the index starts at 1.0 on the round before the first one
    assert oracle.indexAt(MID, 6) == ONE
    assert plain(oracle.roundRecord(MID, 6)) == (ONE, 0, False)


def test_register_model_bounds_accepted(oracle, reporter, modeller):
    oracle.registerModel(MID, modeller, 1, MAX_UINT64, {"from": reporter})
    assert plain(oracle.modelInfo(MID)) == (modeller, 1, MAX_UINT64, MAX_UINT64 - 1)
    assert oracle.indexAt(MID, MAX_UINT64 - 1) == ONE
    oracle.registerModel(OTHER, modeller, ONE, 1, {"from": reporter})
    assert plain(oracle.modelInfo(OTHER)) == (modeller, ONE, 1, 0)
    assert oracle.indexAt(OTHER, 0) == ONE


def test_unregistered_model_info_is_empty(oracle):
    assert plain(oracle.modelInfo(OTHER)) == (ZERO_ADDRESS, 0, 0, 0)


def test_register_model_not_reporter(oracle, modeller, outsider, deployer):
    with reverts_with("NotReporter", outsider):
        oracle.registerModel(MID, modeller, ONE, 1, {"from": outsider})
    # the owner is not a reporter either
    with reverts_with("NotReporter", deployer):
        oracle.registerModel(MID, modeller, ONE, 1, {"from": deployer})


def test_register_model_zero_modeller(oracle, reporter):
    with reverts_with("ZeroAddress"):
        oracle.registerModel(MID, ZERO_ADDRESS, ONE, 1, {"from": reporter})


def test_register_model_twice(oracle, reporter, modeller, outsider):
    oracle.registerModel(MID, modeller, ONE, 1, {"from": reporter})
    with reverts_with("ModelAlreadyRegistered", MID):
        oracle.registerModel(MID, outsider, ONE // 2, 5, {"from": reporter})
    assert plain(oracle.modelInfo(MID)) == (modeller, ONE, 1, 0)


@pytest.mark.parametrize("exposure", [0, ONE + 1, 2**64], ids=["zero", "above-one", "2^64"])
def test_register_model_exposure_out_of_bounds(oracle, reporter, modeller, exposure):
    with reverts_with("ExposureOutOfBounds", exposure, ONE):
        oracle.registerModel(MID, modeller, exposure, 1, {"from": reporter})


@pytest.mark.parametrize("first", [0, 2**64], ids=["zero", "above-uint64"])
def test_register_model_first_round_out_of_range(oracle, reporter, modeller, first):
    with reverts_with("FirstRoundZero"):
        oracle.registerModel(MID, modeller, ONE, first, {"from": reporter})


# ============================================================================================ announceRound


def test_announce_round(oracle, reporter):
    tx = oracle.announceRound(5, 1000, {"from": reporter})
    assert list(tx.events.keys()) == ["RoundAnnounced"]
    assert tx.events["RoundAnnounced"] == {"round": 5, "closeTime": 1000}
    assert oracle.currentRound() == 5
    assert oracle.currentRoundCloseTime() == 1000
    # rounds may be skipped; only increase is required
    tx = oracle.announceRound(9, 1001, {"from": reporter})
    assert tx.events["RoundAnnounced"] == {"round": 9, "closeTime": 1001}
    assert (oracle.currentRound(), oracle.currentRoundCloseTime()) == (9, 1001)


def test_announce_round_uint64_limits(oracle, reporter):
    oracle.announceRound(MAX_UINT64, MAX_UINT64, {"from": reporter})
    assert (oracle.currentRound(), oracle.currentRoundCloseTime()) == (MAX_UINT64, MAX_UINT64)


def test_announce_round_not_reporter(oracle, outsider):
    with reverts_with("NotReporter", outsider):
        oracle.announceRound(1, 1000, {"from": outsider})


def test_announce_round_not_increasing(oracle, reporter):
    with reverts_with("RoundNotIncreasing", 0, 0):
        oracle.announceRound(0, 1000, {"from": reporter})
    oracle.announceRound(5, 1000, {"from": reporter})
    with reverts_with("RoundNotIncreasing", 5, 5):
        oracle.announceRound(5, 2000, {"from": reporter})
    with reverts_with("RoundNotIncreasing", 4, 5):
        oracle.announceRound(4, 2000, {"from": reporter})
    with reverts_with("RoundNotIncreasing", 2**64, 5):
        oracle.announceRound(2**64, 2000, {"from": reporter})


def test_announce_close_time_not_increasing(oracle, reporter):
    with reverts_with("CloseTimeNotIncreasing", 0, 0):
        oracle.announceRound(1, 0, {"from": reporter})
    oracle.announceRound(1, 1000, {"from": reporter})
    with reverts_with("CloseTimeNotIncreasing", 1000, 1000):
        oracle.announceRound(2, 1000, {"from": reporter})
    with reverts_with("CloseTimeNotIncreasing", 999, 1000):
        oracle.announceRound(2, 999, {"from": reporter})
    with reverts_with("CloseTimeNotIncreasing", 2**64, 1000):
        oracle.announceRound(2, 2**64, {"from": reporter})
    assert (oracle.currentRound(), oracle.currentRoundCloseTime()) == (1, 1000)


# ============================================================================================ nextStartRound


def test_next_start_round_none_announced(deployer):
    o = ScoreOracle.deploy(deployer, ONE, ONE, MIN_ROUND_SPACING, {"from": deployer})
    with reverts_with("NoRoundAnnounced"):
        o.nextStartRound()


def test_next_start_round_boundary(oracle, reporter):
    """Valid strictly before closeTime + minRoundSpacing; stale from that very second on.

    Views run on the latest block's timestamp, which chain.mine(timestamp=...) sets exactly."""
    close = max(chain[-1].timestamp, oracle.currentRoundCloseTime()) + 1000
    oracle.announceRound(41, close, {"from": reporter})
    stale_at = close + MIN_ROUND_SPACING
    assert oracle.nextStartRound() == 42

    chain.mine(timestamp=close)  # the round itself has closed: the next one cannot have
    assert oracle.nextStartRound() == 42

    chain.mine(timestamp=stale_at - 1)
    assert chain[-1].timestamp == stale_at - 1
    assert oracle.nextStartRound() == 42

    chain.mine(timestamp=stale_at)
    assert chain[-1].timestamp == stale_at
    with reverts_with("RoundScheduleStale", 41, close, stale_at):
        oracle.nextStartRound()

    chain.sleep(30 * 86400)
    chain.mine()
    with reverts_with("RoundScheduleStale", 41, close, stale_at):
        oracle.nextStartRound()

    # announcing the next round makes it fresh again
    close2 = chain[-1].timestamp + 500
    oracle.announceRound(42, close2, {"from": reporter})
    assert oracle.nextStartRound() == 43


# ============================================================================================ postRound


def test_post_round(oracle, reporter, model_id):
    names, scores, mults = [CORR, MMC], [ONE // 10, -(ONE // 20)], [ONE // 2, 2 * ONE]
    payout, clip = 9 * ONE // 10, ONE // 4
    expected = round_return(scores, mults, payout, clip, max_multiplier=MAX_MULTIPLIER)
    # 0.9 * (0.5 * 0.1 + 2 * -0.05) = -0.045
    assert expected == -45 * ONE // 1000
    assert oracle.computeRoundReturn(names, scores, mults, payout, clip) == expected

    tx = oracle.postRound(MID, 1, names, scores, mults, payout, clip, {"from": reporter})
    index = next_index(ONE, ONE, expected)
    assert list(tx.events.keys()) == ["RoundPosted"]
    ev = tx.events["RoundPosted"]
    assert b32(ev["modelId"]) == MID
    assert ev["round"] == 1
    assert [b32(n) for n in ev["scoreNames"]] == names
    assert list(ev["scores"]) == scores
    assert list(ev["multipliers"]) == mults
    assert ev["payoutFactor"] == payout
    assert ev["clip"] == clip
    assert ev["roundReturn"] == expected
    assert ev["index"] == index
    assert oracle.modelInfo(MID)[3] == 1
    assert oracle.indexAt(MID, 1) == index
    assert plain(oracle.roundRecord(MID, 1)) == (index, expected, False)


def test_post_round_eight_scores(oracle, reporter, model_id):
    names = [name(f"S{i}") for i in range(8)]
    scores = [ONE // 100 * (i - 3) for i in range(8)]
    mults = [ONE * (i + 1) // 4 for i in range(8)]
    expected = round_return(scores, mults, ONE, ONE, max_multiplier=MAX_MULTIPLIER)
    tx = oracle.postRound(MID, 1, names, scores, mults, ONE, ONE, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == expected
    assert plain(oracle.roundRecord(MID, 1)) == (next_index(ONE, ONE, expected), expected, False)


def test_post_round_not_reporter(oracle, model_id, outsider, modeller):
    for caller in (outsider, modeller):
        with reverts_with("NotReporter", caller):
            oracle.postRound(MID, 1, [RET], [0], [ONE], ONE, ONE, {"from": caller})


def test_post_round_model_not_registered(oracle, reporter, model_id):
    with reverts_with("ModelNotRegistered", OTHER):
        post(oracle, reporter, OTHER, 1, 0)


def test_post_round_not_next(oracle, reporter, model_id, announce):
    announce(2)
    announce(3)
    # ahead: round 2 before round 1
    with reverts_with("RoundNotNext", MID, 2, 1):
        post(oracle, reporter, MID, 2, 0)
    post(oracle, reporter, MID, 1, 0)
    post(oracle, reporter, MID, 2, 0)
    # behind: round 2 again, round 1 again, round 0
    with reverts_with("RoundNotNext", MID, 2, 3):
        post(oracle, reporter, MID, 2, 0)
    with reverts_with("RoundNotNext", MID, 1, 3):
        post(oracle, reporter, MID, 1, 0)
    with reverts_with("RoundNotNext", MID, 0, 3):
        post(oracle, reporter, MID, 0, 0)
    # ahead by more than one
    with reverts_with("RoundNotNext", MID, 5, 3):
        post(oracle, reporter, MID, 5, 0)


def test_post_round_not_announced(oracle, reporter, model_id, announce, fresh_model):
    post(oracle, reporter, MID, 1, 0)
    with reverts_with("RoundNotAnnounced", 2, 1):
        post(oracle, reporter, MID, 2, 0)
    announce(2)
    post(oracle, reporter, MID, 2, 0)
    # a model starting later than anything announced
    later = fresh_model(first=10)
    with reverts_with("RoundNotAnnounced", 10, 2):
        post(oracle, reporter, later, 10, 0)


def test_post_round_no_scores(oracle, reporter, model_id):
    with reverts_with("NoScores"):
        oracle.postRound(MID, 1, [], [], [], ONE, ONE, {"from": reporter})


def test_post_round_too_many_scores(oracle, reporter, model_id):
    names = [name(f"S{i}") for i in range(9)]
    with reverts_with("TooManyScores", 9, 8):
        oracle.postRound(MID, 1, names, [0] * 9, [ONE] * 9, ONE, ONE, {"from": reporter})


@pytest.mark.parametrize(
    "names, mults",
    [([CORR], [ONE, ONE]), ([CORR, MMC, RET], [ONE, ONE]), ([CORR, MMC], [ONE]), ([CORR, MMC], [ONE] * 3)],
    ids=["names-short", "names-long", "multipliers-short", "multipliers-long"],
)
def test_post_round_length_mismatch(oracle, reporter, model_id, names, mults):
    with reverts_with("LengthMismatch"):
        oracle.postRound(MID, 1, names, [0, 0], mults, ONE, ONE, {"from": reporter})


def test_post_round_empty_score_name(oracle, reporter, model_id):
    with reverts_with("EmptyScoreName", 0):
        oracle.postRound(MID, 1, [b"\0" * 32], [0], [ONE], ONE, ONE, {"from": reporter})
    with reverts_with("EmptyScoreName", 2):
        oracle.postRound(MID, 1, [CORR, MMC, b"\0" * 32], [0] * 3, [ONE] * 3, ONE, ONE, {"from": reporter})


def test_post_round_duplicate_score_name(oracle, reporter, model_id):
    with reverts_with("DuplicateScoreName", CORR):
        oracle.postRound(MID, 1, [CORR, CORR], [0, 0], [ONE, ONE], ONE, ONE, {"from": reporter})
    with reverts_with("DuplicateScoreName", MMC):
        oracle.postRound(MID, 1, [MMC, CORR, RET, MMC], [0] * 4, [ONE] * 4, ONE, ONE, {"from": reporter})


@pytest.mark.parametrize("score", [ONE + 1, -ONE - 1, 2**255 - 1, -(2**255)],
                         ids=["just-over", "just-under", "int-max", "int-min"])
def test_post_round_score_out_of_bounds(oracle, reporter, model_id, score):
    with reverts_with("ScoreOutOfBounds", 1, score):
        oracle.postRound(MID, 1, [CORR, MMC], [0, score], [ONE, ONE], ONE, ONE, {"from": reporter})


@pytest.mark.parametrize("score", [ONE, -ONE])
def test_post_round_score_at_bound(oracle, reporter, model_id, score):
    tx = oracle.postRound(MID, 1, [CORR], [score], [ONE], ONE, ONE, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == score
    assert oracle.indexAt(MID, 1) == (2 * ONE if score > 0 else 0)


def test_post_round_multiplier_out_of_bounds(oracle, reporter, model_id):
    with reverts_with("MultiplierOutOfBounds", 1, MAX_MULTIPLIER + 1, MAX_MULTIPLIER):
        oracle.postRound(MID, 1, [CORR, MMC], [0, 0], [ONE, MAX_MULTIPLIER + 1], ONE, ONE, {"from": reporter})
    with reverts_with("MultiplierOutOfBounds", 0, 2**256 - 1, MAX_MULTIPLIER):
        oracle.postRound(MID, 1, [CORR], [0], [2**256 - 1], ONE, ONE, {"from": reporter})
    # exactly the maximum is fine (and clamped by the clip)
    tx = oracle.postRound(MID, 1, [CORR], [ONE // 100], [MAX_MULTIPLIER], ONE, ONE, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == ONE


def test_post_round_payout_factor_out_of_bounds(oracle, reporter, model_id):
    with reverts_with("PayoutFactorOutOfBounds", ONE + 1):
        oracle.postRound(MID, 1, [CORR], [0], [ONE], ONE + 1, ONE, {"from": reporter})
    # zero and one are fine
    assert oracle.computeRoundReturn([CORR], [ONE // 2], [ONE], 0, ONE) == 0
    assert oracle.computeRoundReturn([CORR], [ONE // 2], [ONE], ONE, ONE) == ONE // 2


def test_post_round_clip_out_of_bounds(oracle, reporter, model_id):
    with reverts_with("ClipOutOfBounds", 0, MAX_CLIP):
        oracle.postRound(MID, 1, [CORR], [0], [ONE], ONE, 0, {"from": reporter})
    with reverts_with("ClipOutOfBounds", MAX_CLIP + 1, MAX_CLIP):
        oracle.postRound(MID, 1, [CORR], [0], [ONE], ONE, MAX_CLIP + 1, {"from": reporter})


def test_clip_bound_of_a_stricter_oracle(deployer, reporter, modeller):
    o = ScoreOracle.deploy(deployer, ONE // 4, 3 * ONE, MIN_ROUND_SPACING, {"from": deployer})
    o.setReporter(reporter, True, {"from": deployer})
    o.registerModel(MID, modeller, ONE, 1, {"from": reporter})
    o.announceRound(1, 1000, {"from": reporter})
    with reverts_with("ClipOutOfBounds", ONE // 4 + 1, ONE // 4):
        o.postRound(MID, 1, [CORR], [0], [ONE], ONE, ONE // 4 + 1, {"from": reporter})
    with reverts_with("MultiplierOutOfBounds", 0, 3 * ONE + 1, 3 * ONE):
        o.postRound(MID, 1, [CORR], [0], [3 * ONE + 1], ONE, ONE // 4, {"from": reporter})
    tx = o.postRound(MID, 1, [CORR], [-ONE], [3 * ONE], ONE, ONE // 4, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == -ONE // 4
    assert o.indexAt(MID, 1) == 3 * ONE // 4


def test_validation_order(oracle, reporter, model_id):
    """Array-level checks come before per-score checks; the first bad score is reported."""
    with reverts_with("TooManyScores", 9, 8):
        oracle.postRound(MID, 1, [CORR], [2 * ONE] * 9, [ONE], 2 * ONE, 0, {"from": reporter})
    with reverts_with("LengthMismatch"):
        oracle.postRound(MID, 1, [CORR], [2 * ONE] * 2, [ONE] * 2, 2 * ONE, 0, {"from": reporter})
    with reverts_with("PayoutFactorOutOfBounds", 2 * ONE):
        oracle.postRound(MID, 1, [CORR], [2 * ONE], [ONE], 2 * ONE, 0, {"from": reporter})
    with reverts_with("ClipOutOfBounds", 0, MAX_CLIP):
        oracle.postRound(MID, 1, [b"\0" * 32], [2 * ONE], [ONE], ONE, 0, {"from": reporter})
    with reverts_with("ScoreOutOfBounds", 0, 2 * ONE):
        oracle.postRound(MID, 1, [CORR, CORR], [2 * ONE, 0], [ONE, ONE], ONE, ONE, {"from": reporter})
    # score checks come before the model and round checks
    with reverts_with("NoScores"):
        oracle.postRound(OTHER, 99, [], [], [], ONE, ONE, {"from": reporter})


@pytest.mark.parametrize("sign", [1, -1], ids=["plus", "minus"])
def test_clamp_at_clip(oracle, reporter, model_id, sign):
    clip = 3 * ONE // 10
    scores, mults = [sign * ONE // 5, sign * ONE // 10], [ONE, 3 * ONE]  # raw = +-0.5
    assert oracle.computeRoundReturn([CORR, MMC], scores, mults, ONE, clip) == sign * clip
    # exactly at the clip is not clamped further, just inside it is untouched
    assert oracle.computeRoundReturn([CORR], [sign * clip], [ONE], ONE, clip) == sign * clip
    assert oracle.computeRoundReturn([CORR], [sign * (clip - 1)], [ONE], ONE, clip) == sign * (clip - 1)
    tx = oracle.postRound(MID, 1, [CORR, MMC], scores, mults, ONE, clip, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == sign * clip
    expected_index = ONE + sign * clip
    assert tx.events["RoundPosted"]["index"] == expected_index
    assert plain(oracle.roundRecord(MID, 1)) == (expected_index, sign * clip, False)


def test_negative_raw_truncates_toward_zero(oracle, reporter, fresh_model, model_id):
    # raw = 1e18 * (-3 * 0.5e18) / 1e36 = -1.5 wei: truncation gives -1, flooring would give -2
    scores, mults = [-3], [ONE // 2]
    assert tdiv(ONE * -3 * (ONE // 2), ONE * ONE) == -1
    assert (ONE * -3 * (ONE // 2)) // (ONE * ONE) == -2
    assert oracle.computeRoundReturn([CORR], scores, mults, ONE, ONE) == -1
    assert round_return(scores, mults, ONE, ONE) == -1
    # positive side for symmetry: +1.5 wei -> +1
    assert oracle.computeRoundReturn([CORR], [3], [ONE // 2], ONE, ONE) == 1
    # payout factor participates in the same single division: 0.7 * -7 wei = -4.9 wei -> -4
    assert oracle.computeRoundReturn([CORR], [-7], [ONE], 7 * ONE // 10, ONE) == -4

    # the index growth truncates too: exposure 0.25 * -3 wei = -0.75 wei -> 0, so the index is unchanged
    model = fresh_model(exposure=ONE // 4)
    tx = oracle.postRound(model, 1, [CORR], [-3], [ONE], ONE, ONE, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == -3
    assert next_index(ONE, ONE // 4, -3) == ONE
    assert oracle.indexAt(model, 1) == ONE
    # exposure 1 with -1 wei: 1e18 * (1e18 - 1) / 1e18
    tx = oracle.postRound(MID, 1, [CORR], [-3], [ONE // 2], ONE, ONE, {"from": reporter})
    assert tx.events["RoundPosted"]["roundReturn"] == -1
    assert oracle.indexAt(MID, 1) == ONE - 1


def test_index_update_matches_reference(oracle, reporter, modeller, fresh_model, model_id, announce):
    exposure = 3 * ONE // 7
    model = fresh_model(exposure=exposure)
    reports = [
        ([CORR, MMC], [123456789012345678, -98765432109876543], [ONE // 2, 3 * ONE], 987654321098765432, ONE),
        ([CORR], [-777777777777777777], [7 * ONE // 3], ONE, ONE // 3),
        ([MMC, CORR, RET], [-1, -1, -1], [ONE, ONE, ONE // 3], ONE // 3, ONE),
        ([CORR], [ONE], [MAX_MULTIPLIER], ONE, 999999999999999999),
    ]
    index = ONE
    for round_, (names, scores, mults, payout, clip) in enumerate(reports, start=1):
        if round_ > 1:
            announce(round_)
        ret = round_return(scores, mults, payout, clip, max_multiplier=MAX_MULTIPLIER)
        index = next_index(index, exposure, ret)
        tx = oracle.postRound(model, round_, names, scores, mults, payout, clip, {"from": reporter})
        assert tx.events["RoundPosted"]["roundReturn"] == ret
        assert tx.events["RoundPosted"]["index"] == index
        assert plain(oracle.roundRecord(model, round_)) == (index, ret, False)
    assert plain(oracle.modelInfo(model)) == (modeller, exposure, 1, len(reports))


# ============================================================================================ postMissedRound


def test_post_missed_round(oracle, reporter, model_id, announce):
    post(oracle, reporter, MID, 1, ONE // 10)
    index = ONE + ONE // 10
    announce(2)
    tx = oracle.postMissedRound(MID, 2, {"from": reporter})
    assert list(tx.events.keys()) == ["RoundMissed"]
    ev = tx.events["RoundMissed"]
    assert b32(ev["modelId"]) == MID
    assert ev["round"] == 2
    assert ev["index"] == index
    assert "RoundPosted" not in tx.events
    assert plain(oracle.roundRecord(MID, 2)) == (index, 0, True)
    assert oracle.indexAt(MID, 2) == index
    assert oracle.modelInfo(MID)[3] == 2
    # sequencing continues after a missed round
    announce(3)
    tx = post(oracle, reporter, MID, 3, -(ONE // 5))
    assert tx.events["RoundPosted"]["index"] == index * 8 // 10
    assert plain(oracle.roundRecord(MID, 3)) == (index * 8 // 10, -(ONE // 5), False)


def test_post_missed_round_first_round(oracle, reporter, model_id):
    tx = oracle.postMissedRound(MID, 1, {"from": reporter})
    assert tx.events["RoundMissed"]["index"] == ONE
    assert plain(oracle.roundRecord(MID, 1)) == (ONE, 0, True)


def test_post_missed_round_reverts(oracle, reporter, outsider, model_id, announce):
    with reverts_with("NotReporter", outsider):
        oracle.postMissedRound(MID, 1, {"from": outsider})
    with reverts_with("ModelNotRegistered", OTHER):
        oracle.postMissedRound(OTHER, 1, {"from": reporter})
    with reverts_with("RoundNotNext", MID, 2, 1):
        oracle.postMissedRound(MID, 2, {"from": reporter})
    oracle.postMissedRound(MID, 1, {"from": reporter})
    with reverts_with("RoundNotNext", MID, 1, 2):
        oracle.postMissedRound(MID, 1, {"from": reporter})
    with reverts_with("RoundNotAnnounced", 2, 1):
        oracle.postMissedRound(MID, 2, {"from": reporter})
    # a posted and a missed round are interchangeable for sequencing
    with reverts_with("RoundNotNext", MID, 1, 2):
        post(oracle, reporter, MID, 1, 0)
    announce(2)
    post(oracle, reporter, MID, 2, 0)
    announce(3)
    oracle.postMissedRound(MID, 3, {"from": reporter})
    assert [oracle.roundRecord(MID, r)[2] for r in (1, 2, 3)] == [True, False, True]


# ============================================================================================ views


def test_views_round_not_posted(oracle, reporter, fresh_model, announce):
    announce(5)
    model = fresh_model(first=3)
    for view in (oracle.indexAt, oracle.roundRecord):
        with reverts_with("RoundNotPosted", model, 1):  # below firstRound - 1
            view(model, 1)
        with reverts_with("RoundNotPosted", model, 0):
            view(model, 0)
        with reverts_with("RoundNotPosted", model, 3):  # nothing posted yet
            view(model, 3)
    assert oracle.indexAt(model, 2) == ONE
    post(oracle, reporter, model, 3, ONE // 2)
    post(oracle, reporter, model, 4, ONE // 2)
    assert oracle.indexAt(model, 4) == ONE * 9 // 4
    for view in (oracle.indexAt, oracle.roundRecord):
        with reverts_with("RoundNotPosted", model, 5):  # above lastRound
            view(model, 5)
        with reverts_with("RoundNotPosted", model, 1000):
            view(model, 1000)


def test_views_model_not_registered(oracle):
    for view in (oracle.indexAt, oracle.roundRecord):
        with reverts_with("ModelNotRegistered", OTHER):
            view(OTHER, 0)
        with reverts_with("ModelNotRegistered", OTHER):
            view(OTHER, 1)


def test_views_round_not_posted_at_max_round(oracle, model_id):
    # CONTRACT BUG (minor): _requirePosted computes `round + 1` before comparing, so the largest round
    # number panics with an arithmetic overflow instead of reverting with RoundNotPosted.
    for view in (oracle.indexAt, oracle.roundRecord):
        with reverts_with("RoundNotPosted", MID, 2**256 - 1):
            view(MID, 2**256 - 1)


# ============================================================================================ index paths


def test_partial_exposure_compounds_like_reference(oracle, reporter, fresh_model, announce):
    exposure = ONE // 4
    model = fresh_model(exposure=exposure)
    returns = [
        (-1) ** k * (ONE * ((k * 7919) % 1000) // 997 + k) - (k % 3)
        for k in range(1, 41)
    ]
    returns = [max(-ONE, min(ONE, r)) for r in returns]
    announce(len(returns))
    for round_, ret in enumerate(returns, start=1):
        post(oracle, reporter, model, round_, ret)
    path = index_path(exposure, returns)
    assert path[-1] != ONE
    for round_ in range(0, len(returns) + 1):
        assert oracle.indexAt(model, round_) == path[round_]
    assert plain(oracle.roundRecord(model, len(returns))) == (path[-1], returns[-1], False)


def test_total_loss_sets_index_to_zero_for_good(oracle, reporter, model_id, announce):
    post(oracle, reporter, MID, 1, ONE // 2)
    announce(6)
    tx = post(oracle, reporter, MID, 2, -ONE)
    assert tx.events["RoundPosted"]["index"] == 0
    assert plain(oracle.roundRecord(MID, 2)) == (0, -ONE, False)
    post(oracle, reporter, MID, 3, ONE)
    oracle.postMissedRound(MID, 4, {"from": reporter})
    post(oracle, reporter, MID, 5, -ONE // 2)
    tx = post(oracle, reporter, MID, 6, ONE // 3)
    assert tx.events["RoundPosted"]["index"] == 0
    assert [oracle.indexAt(MID, r) for r in range(7)] == [ONE, 3 * ONE // 2, 0, 0, 0, 0, 0]


def test_index_overflow(oracle, reporter, model_id, announce):
    """Exposure 1, clip 1, +100% every round doubles the index: from 1e18 it passes uint184 at round 125."""
    announce(200)
    expected_round = next(n for n in itertools.count(1) if ONE * 2**n > INDEX_LIMIT)
    assert expected_round == 125
    round_ = 1
    while True:
        try:
            post(oracle, reporter, MID, round_, ONE)
        except Exception:  # noqa: BLE001 - the revert is asserted right below
            break
        round_ += 1
        assert round_ <= expected_round, "the index should have overflowed by now"
    assert round_ == expected_round
    with reverts_with("IndexOverflow", MID, expected_round):
        post(oracle, reporter, MID, expected_round, ONE)
    last = expected_round - 1
    assert oracle.modelInfo(MID)[3] == last
    assert oracle.indexAt(MID, last) == ONE * 2**last
    # the model is not stuck: a smaller return still fits
    headroom = INDEX_LIMIT * ONE // (ONE * 2**last) - ONE  # largest growth - 1 that stays in range
    tx = post(oracle, reporter, MID, expected_round, headroom)
    assert tx.events["RoundPosted"]["index"] == next_index(ONE * 2**last, ONE, headroom)
    assert tx.events["RoundPosted"]["index"] <= INDEX_LIMIT


# ============================================================================================ property


_model_ids = itertools.count(1)


@st.composite
def reports(draw):
    count = draw(st.integers(min_value=1, max_value=8))
    scores = draw(st.lists(st.integers(-ONE, ONE), min_size=count, max_size=count))
    mults = draw(st.lists(st.integers(0, MAX_MULTIPLIER), min_size=count, max_size=count))
    payout = draw(st.integers(0, ONE))
    clip = draw(st.integers(1, MAX_CLIP))
    exposure = draw(st.integers(1, ONE))
    return scores, mults, payout, clip, exposure


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(report=reports())
def test_round_return_matches_reference(oracle, reporter, modeller, model_id, report):
    scores, mults, payout, clip, exposure = report
    names = [name(f"S{i}") for i in range(len(scores))]
    # all examples share one snapshot: a fresh model per example keeps them independent
    model = (0xF00D0000 + next(_model_ids)).to_bytes(32, "big")
    oracle.registerModel(model, modeller, exposure, 1, {"from": reporter})
    tx = oracle.postRound(model, 1, names, scores, mults, payout, clip, {"from": reporter})
    expected = round_return(scores, mults, payout, clip, max_clip=MAX_CLIP, max_multiplier=MAX_MULTIPLIER,
                            names=names)
    ev = tx.events["RoundPosted"]
    assert ev["roundReturn"] == expected
    assert ev["index"] == next_index(ONE, exposure, expected)
    assert plain(oracle.roundRecord(model, 1)) == (ev["index"], expected, False)

"""Finalization: reports become final after the challenge window, in order; the return index and
settlement indices."""

import itertools

from brownie import chain

from backing.model.agreement import INDEX_LIMIT, index_path, next_index, tdiv
from backing.onchain.oracle import return_report
from support.chain import MAX_MULTIPLIER, MODEL_ID, expect_event, reverts_with
from support.oracle import CORR, MID, MMC, ONE, OTHER, RET, WINDOW, events, norm, plain, report


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
    expect_event(
        tx, "RoundFinalized", modelId=MODEL_ID, round=1, roundReturn=ONE // 10, missed=False, index=ONE + ONE // 10
    )
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
        report(
            model, 1, (CORR, MMC), (123456789012345678, -98765432109876543), (ONE // 2, 3 * ONE), 987654321098765432
        ),
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
    returns = [max(-ONE, min(ONE, (-1) ** k * (ONE * ((k * 7919) % 1000) // 997 + k) - (k % 3))) for k in range(1, 25)]
    signed.post_returns(model, returns)
    path = index_path(exposure, returns)
    assert path[-1] != ONE
    assert [oracle.indexAt(model, r) for r in range(len(returns) + 1)] == path


def test_total_loss_floors_the_index_at_min_growth(signed, oracle, model_id):
    """A -100% round takes the index to MIN_GROWTH (1e-6) of its value, not to zero for good (issue 20 N-3)."""
    signed.post_returns(MID, [ONE // 2, -ONE, ONE, None, -ONE // 2, ONE // 3])
    low = 3 * ONE // 2 * 10**12 // ONE
    assert [oracle.indexAt(MID, r) for r in range(6)] == [ONE, 3 * ONE // 2, low, 2 * low, 2 * low, low]
    assert [oracle.indexAt(MID, r) for r in range(7)] == index_path(ONE, [ONE // 2, -ONE, ONE, 0, -ONE // 2, ONE // 3])


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

"""Smoke test of the gas benchmark (scripts/bench.py) with tiny sizes: 1 and 3 other backers, 1 and 2 lockup rounds.

The benchmark runs once per module (its own stack, not the parametrized token/deployment fixtures), in well under
a minute; each test checks one property of its result."""

import pytest

from scripts.bench import Bench, chain_settings, render

MEASURED = {
    "create_first", "create", "create_direct", "reserve_first", "reserve_topup", "deposit_empty", "deposit_first",
    "deposit", "deposit_direct", "deposit_topup", "withdraw_part", "withdraw_all", "cancel", "claim_cancelled",
    "lock", "announceRound", "postRound", "mature", "repay", "claim", "claim_last", "default", "claim_default",
    "oz_deposit_first", "oz_deposit", "oz_redeem", "transferFrom",
}
NOT_MEASURED = {"postRound_batch", "rollover"}


@pytest.fixture(scope="module")
def bench(module_isolation):
    """Run once, after brownie's module reset (so nothing it leaves on the chain outlives this module)."""
    return Bench().run(backer_counts=(1, 3), lockups=(1, 2), progress=lambda *_: None)


def test_structure(bench):
    actions = bench["actions"]
    assert set(actions) == MEASURED | NOT_MEASURED
    for key in MEASURED:
        row = actions[key]
        assert isinstance(row["gas"], int) and row["gas"] > 21_000, (key, row)
        assert 0 < row["execution"] < row["gas"] - 21_000, (key, row)
        assert row["action"] and row["note"]
    for key in NOT_MEASURED:
        assert actions[key]["gas"] is None and "not" in actions[key]["note"]
    assert set(bench["scaling"]) == {(1, 1), (1, 3), (2, 1), (2, 3)}
    text = render(bench, chain_settings(), "today")
    assert "| lockup rounds | other backers | deposit | mature | repay | settle | claim |" in text
    assert "Identical across every size: **yes**" in text


def test_deposit_target_and_floor(bench):
    actions, floor = bench["actions"], bench["floor"]
    deposit, direct = actions["deposit"]["gas"], actions["deposit_direct"]["gas"]
    assert deposit <= 85_000, deposit
    assert 0 < deposit - direct <= 3_500, (deposit, direct)  # a clone adds one DELEGATECALL, nothing more
    assert floor["parts"]["token_transferFrom"] == actions["transferFrom"]["execution"] + 2_600
    assert floor["total"] == sum(floor["parts"].values()) < direct


@pytest.mark.xfail(strict=True, reason="target not met yet: in the same run our deposit costs more than OZ ERC4626's "
                   "(clone about +2,800, full deployment about +100); see bench/gas.md")
def test_deposit_not_above_openzeppelin(bench):
    actions = bench["actions"]
    oz = actions["oz_deposit"]["gas"]
    assert actions["deposit_direct"]["gas"] <= oz
    assert actions["deposit"]["gas"] <= oz


def test_settle_and_claim_do_not_grow(bench):
    """Settle (mature + repay), claim and deposit cost the same whatever the backers or lockup rounds."""
    assert len({tuple(sorted(e.items())) for e in bench["scaling"].values()}) == 1, bench["scaling"]

"""Smoke test of the gas benchmark (scripts/bench.py) with tiny sizes: 1 and 3 other backers, 1 and 2 lockup rounds,
oracle batches of 1 and 3 models; series with 1 and 4 other backers in the measured agreement and 1 and 3 settled
agreements before it.

The benchmark runs once per module (its own stack, not the parametrized token/deployment fixtures), in about two
minutes; each test checks one property of its result."""

import pytest

from scripts.bench import SERIES_ORDER, Bench, chain_settings, render

MEASURED = {
    "create_first",
    "create",
    "create_direct",
    "reserve_first",
    "reserve_topup",
    "deposit_empty",
    "deposit_first",
    "deposit",
    "deposit_direct",
    "deposit_topup",
    "withdraw_part",
    "withdraw_all",
    "cancel",
    "claim_cancelled",
    "lock",
    "registerModel",
    "announceRounds",
    "postReports",
    "finalize",
    "postReports_rounds",
    "finalize_rounds",
    "dispute",
    "resolveDispute",
    "mature",
    "repay",
    "claim",
    "claim_last",
    "default",
    "claim_default",
    "oz_deposit_first",
    "oz_deposit",
    "oz_redeem",
    "transferFrom",
    "rollover",
}
NOT_MEASURED = set()
SERIES_BACKERS, SERIES_PAST = (1, 4), (1, 3)


@pytest.fixture(scope="module")
def bench(module_isolation):
    """Run once, after brownie's module reset (so nothing it leaves on the chain outlives this module)."""
    return Bench().run(
        backer_counts=(1, 3),
        lockups=(1, 2),
        model_counts=(1, 3),
        progress=lambda *_: None,
        series_backers=SERIES_BACKERS,
        series_past=SERIES_PAST,
    )


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
    assert "| models *n* | `postReports` gas | per model-round |" in text
    assert "postRound" not in text and "announceRound`" not in text  # the old oracle's functions are gone


def test_deposit_target_and_floor(bench):
    actions, floor = bench["actions"], bench["floor"]
    deposit, direct = actions["deposit"]["gas"], actions["deposit_direct"]["gas"]
    assert deposit <= 85_000, deposit
    assert 0 < deposit - direct <= 3_500, (deposit, direct)  # a clone adds one DELEGATECALL, nothing more
    assert floor["parts"]["token_transferFrom"] == actions["transferFrom"]["execution"] + 2_600
    assert floor["total"] == sum(floor["parts"].values()) < direct


def test_deposit_not_above_openzeppelin(bench):
    """The benchmark's target: our typical deposit, even through a clone, costs no more than OpenZeppelin ERC4626's
    deposit measured in the same run, with the same token."""
    actions = bench["actions"]
    oz = actions["oz_deposit"]["gas"]
    assert actions["deposit_direct"]["gas"] <= oz
    assert actions["deposit"]["gas"] <= oz


def test_settle_and_claim_do_not_grow(bench):
    """Settle (mature + repay), claim and deposit cost the same whatever the backers or lockup rounds."""
    assert len({tuple(sorted(e.items())) for e in bench["scaling"].values()}) == 1, bench["scaling"]


def test_oracle_batches_share_the_fixed_cost(bench):
    """Per model-round, a batch of 3 models costs less than one model alone, for posting and for finalizing; the
    single-model rows agree with a batch of one."""
    batch, actions = bench["batch"], bench["actions"]
    assert set(batch) == {1, 3}
    for key in ("post", "finalize"):
        assert batch[3][f"{key}_per_model"] < batch[1][f"{key}_per_model"], (key, batch)
        assert batch[3][key] > batch[1][key], (key, batch)
    for n, e in batch.items():
        assert e["per_model"] == e["post_per_model"] + e["finalize_per_model"]
        assert e["post_per_model"] == round(e["post"] / n)
    # one round of one model, as in the batch of one (same calldata shape, same new slots)
    assert actions["postReports"]["execution"] == batch[1]["post_execution"]
    assert actions["finalize_rounds"]["gas"] > actions["finalize"]["gas"]


def test_series_actions(bench):
    """Every series action measured once; the single-action table's roll-over row is the series' executeRoll."""
    series, actions = bench["series"], bench["actions"]
    assert set(series["actions"]) == set(SERIES_ORDER)
    for key, row in series["actions"].items():
        assert isinstance(row["gas"], int) and 0 < row["execution"] < row["gas"] - 21_000, (key, row)
        assert row["action"] and row["note"]
    roll = series["actions"]["execute_roll"]
    assert (actions["rollover"]["gas"], actions["rollover"]["execution"]) == (roll["gas"], roll["execution"])
    text = render(bench, chain_settings(), "today")
    assert "## Series (`BackingSeries`): every action" in text
    assert "identical across every size: **yes**" in text
    assert "not built yet" not in text


def test_series_settle_claim_and_roll_do_not_grow(bench):
    """Settle (mature + repay), claim and executeRoll cost the same execution gas whatever the number of other
    backers in the agreement or of settled agreements before it in the series."""
    series = bench["series"]
    assert set(series["backers"]) == set(SERIES_BACKERS) and set(series["past"]) == set(SERIES_PAST)
    entries = list(series["backers"].values()) + list(series["past"].values())
    for key in ("mature", "repay", "settle", "claim", "execute_roll"):
        assert len({e[key] for e in entries}) == 1, (key, series["backers"], series["past"])
    for e in entries:
        assert e["settle"] == e["mature"] + e["repay"]

"""The seed proposal's worked examples (../shared/seeds/001), settled on-chain to the wei.

Unit 100 NMR, one unit, 50% profit share, 50% burn share, reserve 50 NMR, lockup of 8 rounds whose returns
compound to the final value the seed names."""

import pytest
from brownie import chain

from backing.model.agreement import ONE

NMR = ONE


@pytest.mark.parametrize(
    "last_return, repay, value, backer_gets, modeller_net, reserve_back",
    [
        # V = 140: backer 120, modeller keeps 20 of the 40 gain, reserve returns 50
        (4 * ONE // 10, True, 140 * NMR, 120 * NMR, 20 * NMR, 50 * NMR),
        # V = 80 repaid: backer 90 (80 repaid + 10 cover), reserve returns 40
        (-2 * ONE // 10, True, 80 * NMR, 90 * NMR, -10 * NMR, 40 * NMR),
        # V = 80 never repaid: backer 50 (the whole reserve), reserve returns 0
        (-2 * ONE // 10, False, 80 * NMR, 50 * NMR, 30 * NMR, 0),
    ],
    ids=["gain-140", "loss-80-repaid", "loss-80-default"],
)
def test_seed_example(
    make_agreement,
    run_to_maturity,
    numerai_settles,
    repay_due,
    token,
    modeller,
    staking,
    alice,
    last_return,
    repay,
    value,
    backer_gets,
    modeller_net,
    reserve_back,
):
    agreement, terms = make_agreement()
    modeller_side_before = token.balanceOf(modeller) + token.balanceOf(staking) + 50 * NMR  # reserve minted below
    run_to_maturity(agreement, terms, {alice: 1}, 50 * NMR, [0] * 7 + [last_return])
    assert agreement.finalValue() == value
    numerai_settles(value)  # the staking wallet now holds V, as Numerai's payouts or burns left it

    if repay:
        tx = repay_due(agreement)
        assert tx.events["Settled"]["reserveReturned"] == reserve_back
    else:
        chain.sleep(terms.wind_down + 1)
        tx = agreement.declareDefault({"from": alice})
        assert tx.events["Defaulted"]["reserveReturned"] == reserve_back

    before = token.balanceOf(alice)
    agreement.claim(alice, {"from": alice})
    assert token.balanceOf(alice) - before == backer_gets
    assert token.balanceOf(agreement) == 0
    modeller_side_after = token.balanceOf(modeller) + token.balanceOf(staking)
    assert modeller_side_after - modeller_side_before == modeller_net

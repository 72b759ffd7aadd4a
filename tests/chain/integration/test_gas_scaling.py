"""Gas does not grow with the number of backers or lockup rounds (no loops over either).

The same action is measured in agreements of different sizes; on a deterministic chain the gas is equal.
Run with `brownie test tests/chain/integration/test_gas_scaling.py --gas` for a per-action gas table (the figures of
record are bench/gas.md)."""

import pytest

from backing.model.agreement import ONE
from support.chain import set_allowance


def execution_gas(tx) -> int:
    """Gas used less the transaction's base cost and calldata (4 per zero byte, 16 per other byte), which
    depend on the argument values (e.g. an amount), not on the work the contract does."""
    data = bytes.fromhex(tx.input[2:])
    return tx.gas_used - 21_000 - sum(16 if b else 4 for b in data)


def _fill(agreement, terms, token, backers_accounts, units=1):
    for backer in backers_accounts:
        token.mintTo(backer, units * terms.unit_size, {"from": backer})
        set_allowance(token, backer, agreement, units * terms.unit_size)
    return [agreement.deposit(units, {"from": b}) for b in backers_accounts]


def _lifecycle(make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers, lockup, extra):
    """An agreement with `len(backers)` backers over `lockup` rounds: returns the gas of the backer-facing
    actions of the first backer (deposit, claim) and of mature/repay."""
    agreement, terms = make_agreement(lockup_rounds=lockup)
    if token.balanceOf(backers[0]) == 0:
        # a token balance going from zero to non-zero costs the token 17,100 more: measure on equal footing
        token.mintTo(backers[0], 1, {"from": backers[0]})
    # bystanders deposit first, so the measured backer is a later depositor in every size of agreement
    _fill(agreement, terms, token, extra)
    _, mature_tx = run_to_maturity(
        agreement, terms, {backers[0]: 1}, 50 * ONE * (1 + len(extra)), [ONE // 100] * lockup
    )
    numerai_settles(agreement.finalValue())
    repay_tx = repay_due(agreement)
    claim_tx = agreement.claim(backers[0], {"from": backers[0]})
    return execution_gas(mature_tx), execution_gas(repay_tx), execution_gas(claim_tx)


def test_deposit_gas_does_not_grow_with_backers(agreement, token, accounts):
    terms_unit = agreement.terms()[1]
    gases = []
    for backer in list(accounts)[2:10]:
        token.mintTo(backer, terms_unit, {"from": backer})
        set_allowance(token, backer, agreement, terms_unit)
        gases.append(agreement.deposit(1, {"from": backer}).gas_used)
    # the first deposit writes totals from zero; every later first-time deposit costs the same
    assert len(set(gases[1:])) == 1, gases


@pytest.mark.parametrize("lockup", [1, 20])
def test_settlement_gas_does_not_grow_with_backers_or_rounds(
    make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers, accounts, lockup
):
    small = _lifecycle(
        make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers, lockup, [backers[1]]
    )
    chain_accounts = list(accounts)
    large = _lifecycle(
        make_agreement,
        run_to_maturity,
        numerai_settles,
        repay_due,
        token,
        modeller,
        backers,
        lockup,
        [backers[1], backers[2], backers[3]] + chain_accounts[8:10],
    )
    assert small == large, (small, large)


def test_settlement_gas_does_not_grow_with_lockup(
    make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers
):
    short = _lifecycle(
        make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers, 1, [backers[1]]
    )
    long = _lifecycle(
        make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers, 30, [backers[1]]
    )
    assert short == long, (short, long)


def test_every_user_action(
    make_agreement, run_to_maturity, numerai_settles, repay_due, token, modeller, backers, outsider, fund
):
    """Each user action once, in realistic order (reserve first, so deposits find the agreement holding NMR):
    a per-action gas table (`brownie test tests/chain/integration/test_gas_scaling.py --gas`)."""
    from brownie import chain

    # cancelled agreement: reserve, deposit, withdraw, cancel, refund claim
    cancelled, terms = make_agreement()
    fund(modeller, 100 * ONE, cancelled)
    cancelled.postReserve(100 * ONE, {"from": modeller})  # covers the 2 units (a posted reserve caps deposits)
    fund(backers[0], 2 * terms.unit_size, cancelled)
    cancelled.deposit(2, {"from": backers[0]})
    cancelled.withdraw(1, {"from": backers[0]})
    cancelled.cancel({"from": modeller})
    cancelled.claim(backers[0], {"from": backers[0]})

    # settled and defaulted agreements: lock, mature, repay or default, claims
    for repay in (True, False):
        agreement, terms = make_agreement()
        run_to_maturity(agreement, terms, {backers[0]: 2, backers[1]: 1}, 200 * ONE, [ONE // 50] * 8)
        if repay:
            numerai_settles(agreement.finalValue())
            repay_due(agreement)
        else:
            chain.sleep(terms.wind_down + 1)
            agreement.declareDefault({"from": outsider})
        agreement.claim(backers[0], {"from": backers[0]})
        agreement.claim(backers[1], {"from": outsider})
    assert token.balanceOf(agreement) == 0

"""One record of a modeller's defaults across single agreements and series (ModellerRecord, issue 11): a default
in either kind of vehicle shows in both factories' ``defaultsOf`` and the record's; a vehicle counts once; only
the two factories the record names may write, each only for its own vehicles."""

import pytest
from brownie import ZERO_ADDRESS, AgreementFactory, BackingAgreement, BackingSeries, ModellerRecord, chain

from backing.model.agreement import ONE, Phase
from backing.onchain.factories import deploy_factories
from support.chain import NMR, expect_event, reverts_with, set_allowance
from support.series import SeriesHelper

BIG = 2**256 - 1


@pytest.fixture(scope="module")
def both(deployer, nmr_token, oracle):
    """A deployment's record and its two factories, on the NMR mock."""
    return deploy_factories(deployer, nmr_token, oracle)


def _fund(token, account, amount, spender):
    token.mintTo(account, amount, {"from": account})
    set_allowance(token, account, spender, token.allowance(account, spender) + amount)


def _default_an_agreement(both, nmr_token, terms_for, modeller, backer, post_returns, model_id, oracle):
    """An agreement of the agreement factory that loses 20% and is never repaid, declared in default."""
    terms = terms_for()
    tx = both.agreements.createAgreement(terms.as_tuple(), terms.ladder_tuples(), {"from": modeller})
    agreement = BackingAgreement.at(tx.events["AgreementCreated"]["agreement"])
    _fund(nmr_token, modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    _fund(nmr_token, backer, terms.unit_size, agreement)
    agreement.deposit(1, {"from": backer})
    agreement.lock({"from": modeller})
    _, _, _, last = oracle.modelInfo(model_id)
    post_returns(model_id, [0] * (agreement.startRound() - 1 - last) + [0] * (terms.lockup_rounds - 1) + [-ONE // 5])
    agreement.mature({"from": modeller})
    assert agreement.amountDue() > 0
    chain.sleep(terms.wind_down + 60)
    return agreement, agreement.declareDefault({"from": backer})


def _default_a_series(both, nmr_token, signed, modeller, staking, model_id, backers, caller):
    """A series of the series factory whose first agreement loses 10% and is never repaid, declared in default."""
    tx = both.series.createSeries(model_id, {"from": modeller})
    series = BackingSeries.at(tx.events["SeriesCreated"]["series"])
    h = SeriesHelper(series, nmr_token, signed, modeller, staking, model_id, backers, fresh=True)
    h.locked(0)
    h.mature(0, 9 * ONE // 10)
    assert series.agreement(0)["amountDue"] > 0
    chain.sleep(3700)
    chain.mine()
    return series, series.declareDefault(0, {"from": caller})


def _defaulted_vehicles(both, modeller, model_id) -> int:
    """The modeller's vehicles in default, counted from the vehicles themselves (not from any record)."""
    count = 0
    for address in both.agreements.agreementsOf(modeller, 0, BIG):
        count += BackingAgreement.at(address).phase() == Phase.Defaulted
    for address in both.series.seriesForModel(model_id):
        series = BackingSeries.at(address)
        if series.modeller() == modeller:
            phases = [series.agreement(i)["phase"] for i in range(series.agreementCount())]
            count += Phase.Defaulted in phases
    return count


def _counts(both, who) -> tuple:
    return (both.agreements.defaultsOf(who), both.series.defaultsOf(who), both.record.defaultsOf(who))


def test_one_count_across_agreements_and_series(
    both, nmr_token, oracle, signed, terms_for, post_returns, model_id, modeller, staking, backers, alice, outsider
):
    assert both.agreements.record() == both.series.record() == both.record
    assert (both.record.agreementFactory(), both.record.seriesFactory()) == (both.agreements, both.series)
    assert _counts(both, modeller) == (0, 0, 0)

    agreement, tx = _default_an_agreement(both, nmr_token, terms_for, modeller, alice, post_returns, model_id, oracle)
    expect_event(
        tx, "DefaultRecorded", both.record, modeller=modeller, vehicle=agreement, factory=both.agreements, defaults=1
    )
    # the agreement's default is in the series factory's count too
    assert _counts(both, modeller) == (1, 1, 1) == (_defaulted_vehicles(both, modeller, model_id),) * 3
    assert both.record.defaultRecorded(agreement)

    series, tx = _default_a_series(both, nmr_token, signed, modeller, staking, model_id, backers, outsider)
    expect_event(tx, "DefaultRecorded", both.record, modeller=modeller, vehicle=series, factory=both.series, defaults=2)
    # and the series' default in the agreement factory's
    assert _counts(both, modeller) == (2, 2, 2) == (_defaulted_vehicles(both, modeller, model_id),) * 3
    assert both.record.defaultRecorded(series)
    for other in (alice, outsider, staking):  # the backers and the caller are not counted
        assert _counts(both, other) == (0, 0, 0)


def test_a_vehicle_counts_once_whichever_factory_records_it(deployer, modeller, alice, bob, outsider):
    """The record's own rule, with two accounts standing for the factories."""
    record = ModellerRecord.deploy(alice, bob, {"from": deployer})
    vehicle, other = "0x" + "11" * 20, "0x" + "22" * 20  # any addresses: the factory vouches for them
    tx = record.recordDefault(vehicle, modeller, {"from": alice})
    expect_event(tx, "DefaultRecorded", modeller=modeller, vehicle=vehicle, factory=alice, defaults=1)
    for writer in (alice, bob):
        for who in (modeller, outsider):  # neither again, nor in another modeller's name
            with reverts_with("DefaultAlreadyRecorded", vehicle):
                record.recordDefault(vehicle, who, {"from": writer})
    assert (record.defaultsOf(modeller), record.defaultsOf(outsider)) == (1, 0)
    tx = record.recordDefault(other, modeller, {"from": bob})
    expect_event(tx, "DefaultRecorded", modeller=modeller, vehicle=other, factory=bob, defaults=2)
    assert record.defaultRecorded(vehicle) and record.defaultRecorded(other) and not record.defaultRecorded(outsider)
    assert record.defaultsOf(modeller) == 2


def test_only_the_named_factories_write_and_only_for_their_vehicles(
    both, deployer, modeller, alice, outsider, nmr_token, oracle
):
    before = _counts(both, modeller)
    for caller in (outsider, modeller, deployer):
        with reverts_with("UnknownFactory", caller):
            both.record.recordDefault(caller, modeller, {"from": caller})
        with reverts_with("NotAnAgreement", caller):
            both.agreements.recordDefault(modeller, {"from": caller})
        with reverts_with("NotASeries", caller):
            both.series.recordDefault(modeller, {"from": caller})
    # a record without a series factory: address(0) stands in its place and nobody gets through
    lone = ModellerRecord.deploy(alice, ZERO_ADDRESS, {"from": deployer})
    with reverts_with("UnknownFactory", outsider):
        lone.recordDefault(outsider, modeller, {"from": outsider})
    assert lone.defaultsOf(modeller) == 0 and _counts(both, modeller) == before
    # a factory refuses a record that does not name it: its defaults could never be recorded
    with reverts_with("RecordNotForThisFactory", lone):
        AgreementFactory.deploy(nmr_token, oracle, lone, {"from": deployer})

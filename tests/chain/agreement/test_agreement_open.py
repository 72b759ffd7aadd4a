"""BackingAgreement unit tests, Open phase: deposit, withdraw, postReserve, cancel (and the refunds after it).

Money-moving success paths run on both tokens x clone/direct (``make_agreement``); the token's own reverts on
clones of both tokens (``make_clone``); checks that depend on neither run once, on a MockNMR clone
(``make_nmr_agreement``); WrongPhase checks use the module's ``agreement_in_phase`` set."""

import brownie
import pytest
from brownie import BackingAgreement, chain

from backing.model.agreement import Agreement as Reference
from backing.model.agreement import Phase
from support.chain import NMR, expect_event, reverts_with, set_allowance

LATER_PHASES = ["Locked", "Matured", "Settled", "Defaulted", "Cancelled"]


def plain(value):
    """A view's return value as plain tuples of ints (brownie's ReturnValue cannot be compared with tuples)."""
    if isinstance(value, (tuple, list)):
        return tuple(plain(item) for item in value)
    return value


def no_event(tx, name):
    assert name not in tx.events, f"unexpected {name}"


@pytest.fixture
def make_clone(factory, model_id, modeller, terms_for):
    """An agreement deployed as a clone (for checks that do not depend on the deployment)."""

    def make(**overrides):
        terms = terms_for(**overrides)
        tx = factory.createAgreement(terms.as_tuple(), terms.ladder_tuples(), {"from": modeller})
        return BackingAgreement.at(tx.events["AgreementCreated"]["agreement"]), terms

    return make


def weight_of(terms, positions):
    return sum(units * terms.profit_share_for(units) for units in positions.values() if units)


# ============================================================================================ deposit


def test_deposit(make_agreement, token, fund, modeller, alice, bob, outsider):
    agreement, terms = make_agreement()
    ref = Reference(terms, str(modeller))
    fund(alice, 5 * terms.unit_size, agreement)
    fund(bob, terms.unit_size, agreement)
    assert plain(agreement.positionOf(alice)) == (0, False)
    assert plain(agreement.totals()) == (0, 0, 0)

    before = token.balanceOf(alice)
    tx = agreement.deposit(3, {"from": alice})
    ref.deposit(str(alice), 3, tx.timestamp)
    expect_event(tx, "Deposited", backer=alice, units=3, backerUnits=3, totalUnits=3)
    expect_event(tx, "Transfer", emitter=token, **{"from": alice, "to": agreement, "value": 3 * terms.unit_size})
    assert token.balanceOf(alice) == before - 3 * terms.unit_size
    assert token.balanceOf(agreement) == ref.balance == 3 * terms.unit_size
    assert plain(agreement.positionOf(alice)) == (3, False)
    assert plain(agreement.totals()) == (3, 1, 3 * 5000)

    # a second deposit by the same backer accumulates and does not count him twice
    tx = agreement.deposit(2, {"from": alice})
    ref.deposit(str(alice), 2, tx.timestamp)
    expect_event(tx, "Deposited", backer=alice, units=2, backerUnits=5, totalUnits=5)
    assert plain(agreement.positionOf(alice)) == (5, False)
    assert plain(agreement.totals()) == (5, 1, 5 * 5000)

    tx = agreement.deposit(1, {"from": bob})
    ref.deposit(str(bob), 1, tx.timestamp)
    expect_event(tx, "Deposited", backer=bob, units=1, backerUnits=1, totalUnits=6)
    assert plain(agreement.totals()) == (ref.total_units, ref.backer_count, 6 * 5000) == (6, 2, 30000)
    assert token.balanceOf(agreement) == ref.balance == 6 * terms.unit_size
    assert token.balanceOf(alice) == 0 and token.balanceOf(bob) == 0
    assert plain(agreement.positionOf(outsider)) == (0, False)
    assert agreement.phase() == Phase.Open


def test_deposit_until_last_second_of_window(make_nmr_agreement, fund_nmr, alice):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, 2 * terms.unit_size, agreement)
    chain.mine(timestamp=terms.open_until - 1)  # ganache stamps the next block 1 s later if sent at once
    tx = agreement.deposit(1, {"from": alice, "gas_limit": 1_000_000})  # no estimate: no delay
    assert tx.timestamp == terms.open_until  # the last second of the window still takes deposits
    chain.mine(timestamp=terms.open_until + 1)
    with reverts_with("DepositWindowClosed", terms.open_until):
        agreement.deposit(1, {"from": alice})
    assert plain(agreement.positionOf(alice)) == (1, False)


def test_deposit_window_closed(make_nmr_agreement, fund_nmr, alice):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, terms.unit_size, agreement)
    chain.sleep(7 * 86400 + 10)
    with reverts_with("DepositWindowClosed", terms.open_until):
        agreement.deposit(1, {"from": alice})


@pytest.mark.parametrize("phase", LATER_PHASES)
def test_deposit_wrong_phase(agreement_in_phase, nmr_token, alice, bob, phase):
    agreement = agreement_in_phase[phase]
    for backer in (alice, bob):  # a backer of the agreement and a newcomer with an allowance
        nmr_token.mintTo(backer, 100 * NMR, {"from": backer})
        set_allowance(nmr_token, backer, agreement, 100 * NMR)
        with reverts_with("WrongPhase", Phase[phase].value):
            agreement.deposit(1, {"from": backer})


def test_deposit_zero_amount(make_nmr_agreement, fund_nmr, alice):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, terms.unit_size, agreement)
    with reverts_with("ZeroAmount"):
        agreement.deposit(0, {"from": alice})


def test_deposit_capacity_exceeded(make_nmr_agreement, fund_nmr, alice, bob):
    agreement, terms = make_nmr_agreement(max_units=10)
    fund_nmr(alice, 8 * terms.unit_size, agreement)
    fund_nmr(bob, 4 * terms.unit_size, agreement)
    with reverts_with("CapacityExceeded", 11, 10):
        agreement.deposit(11, {"from": alice})
    agreement.deposit(7, {"from": alice})
    with reverts_with("CapacityExceeded", 4, 3):
        agreement.deposit(4, {"from": bob})
    # a request that would wrap the uint24 unit counters is refused, not truncated
    with reverts_with("CapacityExceeded", 2**24 + 1, 3):
        agreement.deposit(2**24 + 1, {"from": bob})
    with reverts_with("CapacityExceeded", 2**256 - 1, 3):
        agreement.deposit(2**256 - 1, {"from": bob})
    tx = agreement.deposit(3, {"from": bob})  # fills the capacity exactly
    expect_event(tx, "Deposited", backer=bob, units=3, backerUnits=3, totalUnits=10)
    with reverts_with("CapacityExceeded", 1, 0):
        agreement.deposit(1, {"from": alice})
    assert plain(agreement.totals()[:2]) == (10, 2)


def test_deposit_insufficient_allowance(make_clone, token, token_kind, fund, alice):
    agreement, terms = make_clone()
    fund(alice, terms.unit_size)
    set_allowance(token, alice, agreement, terms.unit_size - 1)
    if token_kind == "nmr":
        with brownie.reverts("insufficient allowance"):
            agreement.deposit(1, {"from": alice})
    else:
        with reverts_with("ERC20InsufficientAllowance", agreement, terms.unit_size - 1, terms.unit_size):
            agreement.deposit(1, {"from": alice})
    assert plain(agreement.positionOf(alice)) == (0, False)
    assert plain(agreement.totals()) == (0, 0, 0)
    set_allowance(token, alice, agreement, terms.unit_size)
    agreement.deposit(1, {"from": alice})
    assert token.allowance(alice, agreement) == 0


def test_deposit_insufficient_balance(make_clone, token, token_kind, fund, alice):
    agreement, terms = make_clone()
    fund(alice, terms.unit_size - 1)
    set_allowance(token, alice, agreement, terms.unit_size)
    if token_kind == "nmr":
        with brownie.reverts("insufficient balance"):
            agreement.deposit(1, {"from": alice})
    else:
        with reverts_with("ERC20InsufficientBalance", alice, terms.unit_size - 1, terms.unit_size):
            agreement.deposit(1, {"from": alice})
    assert plain(agreement.positionOf(alice)) == (0, False)
    assert plain(agreement.totals()) == (0, 0, 0)
    assert token.balanceOf(agreement) == 0


def test_fee_ladder_weight_follows_tiers(make_nmr_agreement, fund_nmr, alice, bob, carol):
    ladder = ((5, 4000), (10, 3000))
    agreement, terms = make_nmr_agreement(fee_ladder=ladder)
    assert plain(agreement.feeLadder()) == ladder
    for units, share in [(0, 5000), (1, 5000), (4, 5000), (5, 4000), (9, 4000), (10, 3000), (100, 3000)]:
        assert agreement.profitShareFor(units) == share == terms.profit_share_for(units)
    for backer in (alice, bob, carol):
        fund_nmr(backer, 12 * terms.unit_size, agreement)

    positions = {str(alice): 0, str(bob): 0, str(carol): 0}
    steps = [
        (alice, 3),  # base tier
        (alice, 2),  # crosses minUnits 5 by depositing: the whole position moves to 40%
        (bob, 10),  # straight into the top tier
        (alice, -1),  # drops below 5 by withdrawing: back to the base share
        (bob, -1),  # from the 10-tier down to the 5-tier
        (carol, 12),
        (alice, 3),  # 2 -> 5 again
        (carol, -12),  # a full withdrawal removes its whole weight
    ]
    for backer, change in steps:
        if change > 0:
            agreement.deposit(change, {"from": backer})
        else:
            agreement.withdraw(-change, {"from": backer})
        positions[str(backer)] += change
        total, count, weight = plain(agreement.totals())
        assert total == sum(positions.values())
        assert count == sum(1 for u in positions.values() if u)
        assert weight == weight_of(terms, positions), (backer, change)
    assert positions == {str(alice): 7, str(bob): 9, str(carol): 0}
    assert plain(agreement.totals()) == (16, 2, 7 * 4000 + 9 * 4000)


# ============================================================================================ withdraw


def test_withdraw(make_agreement, token, fund, modeller, alice, bob):
    agreement, terms = make_agreement()
    ref = Reference(terms, str(modeller))
    fund(alice, 3 * terms.unit_size, agreement)
    fund(bob, terms.unit_size, agreement)
    for backer, units in ((alice, 3), (bob, 1)):
        tx = agreement.deposit(units, {"from": backer})
        ref.deposit(str(backer), units, tx.timestamp)

    tx = agreement.withdraw(1, {"from": alice})
    ref.withdraw(str(alice), 1)
    expect_event(tx, "Withdrawn", backer=alice, units=1, backerUnits=2, totalUnits=3)
    expect_event(tx, "Transfer", emitter=token, **{"from": agreement, "to": alice, "value": terms.unit_size})
    assert token.balanceOf(alice) == terms.unit_size
    assert plain(agreement.totals()) == (3, 2, 3 * 5000)

    # a full withdrawal removes the backer
    tx = agreement.withdraw(2, {"from": alice})
    ref.withdraw(str(alice), 2)
    expect_event(tx, "Withdrawn", backer=alice, units=2, backerUnits=0, totalUnits=1)
    assert plain(agreement.positionOf(alice)) == (0, False)
    assert plain(agreement.totals()) == (1, 1, 5000) == (ref.total_units, ref.backer_count, 5000)
    assert token.balanceOf(alice) == 3 * terms.unit_size
    assert token.balanceOf(agreement) == ref.balance == terms.unit_size

    # ... and coming back counts him again
    set_allowance(token, alice, agreement, terms.unit_size)
    agreement.deposit(1, {"from": alice})
    assert plain(agreement.totals()) == (2, 2, 10000)


@pytest.mark.parametrize("phase", LATER_PHASES)
def test_withdraw_wrong_phase(agreement_in_phase, alice, phase):
    agreement = agreement_in_phase[phase]
    assert plain(agreement.positionOf(alice))[0] == 1
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement.withdraw(1, {"from": alice})


def test_withdraw_zero_amount(make_nmr_agreement, fund_nmr, alice):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    with reverts_with("ZeroAmount"):
        agreement.withdraw(0, {"from": alice})


def test_withdraw_insufficient_units(make_nmr_agreement, fund_nmr, alice, outsider):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, 3 * terms.unit_size, agreement)
    agreement.deposit(3, {"from": alice})
    with reverts_with("InsufficientUnits", 4, 3):
        agreement.withdraw(4, {"from": alice})
    with reverts_with("InsufficientUnits", 2**256 - 1, 3):
        agreement.withdraw(2**256 - 1, {"from": alice})
    with reverts_with("InsufficientUnits", 1, 0):
        agreement.withdraw(1, {"from": outsider})
    agreement.withdraw(3, {"from": alice})
    with reverts_with("InsufficientUnits", 1, 0):
        agreement.withdraw(1, {"from": alice})


def test_withdraw_after_deposit_window(make_nmr_agreement, nmr_token, fund_nmr, alice):
    """Withdrawals stay possible while Open, also once deposits have closed."""
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, 2 * terms.unit_size, agreement)
    agreement.deposit(2, {"from": alice})
    # a minute past the window: the node's clock can trail brownie's chain.time() by seconds on a loaded machine
    chain.sleep(terms.open_until - chain.time() + 60)
    tx = agreement.withdraw(2, {"from": alice})
    assert tx.timestamp > terms.open_until
    expect_event(tx, "Withdrawn", backer=alice, units=2, backerUnits=0, totalUnits=0)
    assert nmr_token.balanceOf(alice) == 2 * terms.unit_size
    assert plain(agreement.totals()) == (0, 0, 0)


# ============================================================================================ postReserve


def test_post_reserve(make_agreement, token, fund, modeller):
    agreement, terms = make_agreement()
    ref = Reference(terms, str(modeller))
    fund(modeller, 50 * NMR, agreement)
    before = token.balanceOf(modeller)
    tx = agreement.postReserve(30 * NMR, {"from": modeller})
    ref.post_reserve(str(modeller), 30 * NMR)
    expect_event(tx, "ReservePosted", modeller=modeller, amount=30 * NMR, reserve=30 * NMR)
    expect_event(tx, "Transfer", emitter=token, **{"from": modeller, "to": agreement, "value": 30 * NMR})
    tx = agreement.postReserve(20 * NMR, {"from": modeller})
    ref.post_reserve(str(modeller), 20 * NMR)
    expect_event(tx, "ReservePosted", modeller=modeller, amount=20 * NMR, reserve=50 * NMR)
    assert agreement.reserve() == ref.reserve == 50 * NMR
    assert token.balanceOf(agreement) == ref.balance == 50 * NMR
    assert token.balanceOf(modeller) == before - 50 * NMR


def test_post_reserve_not_modeller(make_nmr_agreement, agreement_in_phase, fund_nmr, alice, outsider):
    agreement, _ = make_nmr_agreement()
    fund_nmr(alice, 10 * NMR, agreement)
    with reverts_with("NotModeller", alice):
        agreement.postReserve(10 * NMR, {"from": alice})
    with reverts_with("NotModeller", outsider):
        agreement.postReserve(0, {"from": outsider})
    # the caller is checked before the phase
    with reverts_with("NotModeller", alice):
        agreement_in_phase["Settled"].postReserve(1, {"from": alice})


@pytest.mark.parametrize("phase", ["Matured", "Settled", "Defaulted", "Cancelled"])
def test_post_reserve_wrong_phase(agreement_in_phase, nmr_token, modeller, phase):
    agreement = agreement_in_phase[phase]
    nmr_token.mintTo(modeller, NMR, {"from": modeller})
    set_allowance(nmr_token, modeller, agreement, NMR)
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement.postReserve(NMR, {"from": modeller})


def test_post_reserve_zero_amount(make_nmr_agreement, modeller):
    agreement, _ = make_nmr_agreement()
    with reverts_with("ZeroAmount"):
        agreement.postReserve(0, {"from": modeller})


def test_post_reserve_top_up_while_locked(agreement_in_phase, nmr_token, modeller):
    agreement = agreement_in_phase["Locked"]
    assert agreement.reserve() == 50 * NMR
    balance = nmr_token.balanceOf(agreement)
    nmr_token.mintTo(modeller, 10 * NMR, {"from": modeller})
    set_allowance(nmr_token, modeller, agreement, 10 * NMR)
    tx = agreement.postReserve(10 * NMR, {"from": modeller})
    expect_event(tx, "ReservePosted", modeller=modeller, amount=10 * NMR, reserve=60 * NMR)
    assert agreement.reserve() == 60 * NMR
    assert nmr_token.balanceOf(agreement) == balance + 10 * NMR
    assert agreement.phase() == Phase.Locked


# ============================================================================================ cancel


def test_cancel_by_modeller_and_refunds(make_agreement, token, fund, modeller, alice, bob, outsider):
    agreement, terms = make_agreement()
    ref = Reference(terms, str(modeller))
    fund(alice, 3 * terms.unit_size, agreement)
    fund(bob, 4 * terms.unit_size, agreement)
    for backer, units in ((alice, 2), (bob, 4), (alice, 1)):  # alice deposits twice
        tx = agreement.deposit(units, {"from": backer})
        ref.deposit(str(backer), units, tx.timestamp)
    # posted after the deposits: 40 NMR cover less than their stake, and would have capped them (issue 12 L-1)
    fund(modeller, 40 * NMR, agreement)
    agreement.postReserve(40 * NMR, {"from": modeller})
    ref.post_reserve(str(modeller), 40 * NMR)
    modeller_before = token.balanceOf(modeller)

    tx = agreement.cancel({"from": modeller})
    ref.cancel(str(modeller), tx.timestamp)
    expect_event(tx, "Cancelled", caller=modeller, reserveReturned=40 * NMR)
    no_event(tx, "DustSwept")
    assert agreement.phase() == Phase.Cancelled
    assert agreement.reserveReturned() == 40 * NMR
    assert agreement.claimsRemaining() == 2 == ref.claims_remaining
    assert token.balanceOf(modeller) == modeller_before + 40 * NMR
    assert token.balanceOf(agreement) == ref.balance == 7 * terms.unit_size

    # each backer gets exactly what he deposited; anyone may trigger the refund
    assert agreement.claimable(alice) == 3 * terms.unit_size
    tx = agreement.claim(alice, {"from": outsider})
    assert ref.claim(str(alice)) == 3 * terms.unit_size
    expect_event(tx, "Claimed", backer=alice, amount=3 * terms.unit_size)
    no_event(tx, "DustSwept")
    assert token.balanceOf(alice) == 3 * terms.unit_size
    assert token.balanceOf(outsider) == 0
    assert plain(agreement.positionOf(alice)) == (3, True)
    assert agreement.claimable(alice) == 0
    assert agreement.claimsRemaining() == 1

    # NMR sent here by mistake goes to the modeller with the last refund
    token.mintTo(outsider, 7, {"from": outsider})
    token.transfer(agreement, 7, {"from": outsider})
    tx = agreement.claim(bob, {"from": bob})
    assert ref.claim(str(bob)) == 4 * terms.unit_size
    expect_event(tx, "Claimed", backer=bob, amount=4 * terms.unit_size)
    expect_event(tx, "DustSwept", to=modeller, amount=7)
    assert token.balanceOf(bob) == 4 * terms.unit_size
    assert token.balanceOf(modeller) == modeller_before + 40 * NMR + 7
    assert token.balanceOf(agreement) == 0
    assert agreement.claimsRemaining() == 0


def test_cancel_by_others_only_after_window(make_nmr_agreement, nmr_token, fund_nmr, modeller, alice, outsider):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    # after the deposit: 25 NMR cover no unit, so posted first they would refuse it (issue 12 L-1)
    fund_nmr(modeller, 25 * NMR, agreement)
    agreement.postReserve(25 * NMR, {"from": modeller})
    with reverts_with("OpenWindowNotOver", terms.open_until):
        agreement.cancel({"from": alice})
    with reverts_with("OpenWindowNotOver", terms.open_until):
        agreement.cancel({"from": outsider})
    # the window's last second still belongs to the modeller
    chain.mine(timestamp=terms.open_until - 1)  # ganache stamps the next block 1 s later if sent at once
    with reverts_with("OpenWindowNotOver", terms.open_until):
        agreement.cancel({"from": outsider, "gas_limit": 1_000_000})  # no estimate: no delay
    assert chain[-1].timestamp == terms.open_until
    chain.mine(timestamp=terms.open_until + 1)
    before = nmr_token.balanceOf(modeller)
    tx = agreement.cancel({"from": outsider})
    expect_event(tx, "Cancelled", caller=outsider, reserveReturned=25 * NMR)
    assert nmr_token.balanceOf(modeller) == before + 25 * NMR  # the reserve goes to the modeller, not the caller
    assert nmr_token.balanceOf(outsider) == 0
    assert agreement.phase() == Phase.Cancelled
    agreement.claim(alice, {"from": alice})
    assert nmr_token.balanceOf(alice) == terms.unit_size


def test_cancel_by_modeller_after_window(make_nmr_agreement, modeller):
    agreement, terms = make_nmr_agreement()
    chain.sleep(7 * 86400 + 10)
    tx = agreement.cancel({"from": modeller})
    expect_event(tx, "Cancelled", caller=modeller, reserveReturned=0)
    no_event(tx, "Transfer")


def test_cancel_with_zero_backers(make_nmr_agreement, nmr_token, fund_nmr, modeller, alice, outsider):
    agreement, terms = make_nmr_agreement()
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    # after the deposit: 10 NMR cover no unit, so posted first they would refuse it (issue 12 L-1)
    fund_nmr(modeller, 10 * NMR, agreement)
    agreement.postReserve(10 * NMR, {"from": modeller})
    agreement.withdraw(1, {"from": alice})  # a backer who left is no backer
    nmr_token.mintTo(outsider, 3, {"from": outsider})
    nmr_token.transfer(agreement, 3, {"from": outsider})
    before = nmr_token.balanceOf(modeller)

    tx = agreement.cancel({"from": modeller})
    expect_event(tx, "Cancelled", caller=modeller, reserveReturned=10 * NMR)
    # nobody can claim, so the cancellation itself sweeps the donation
    expect_event(tx, "DustSwept", to=modeller, amount=3)
    assert agreement.claimsRemaining() == 0
    assert nmr_token.balanceOf(agreement) == 0
    assert nmr_token.balanceOf(modeller) == before + 10 * NMR + 3
    with reverts_with("NothingToClaim", alice):
        agreement.claim(alice, {"from": alice})
    tx = agreement.sweep({"from": outsider})  # nothing left: no event, no transfer
    no_event(tx, "DustSwept")
    no_event(tx, "Transfer")


def test_cancel_empty_agreement(make_nmr_agreement, modeller):
    agreement, _ = make_nmr_agreement()
    tx = agreement.cancel({"from": modeller})
    expect_event(tx, "Cancelled", caller=modeller, reserveReturned=0)
    no_event(tx, "DustSwept")
    no_event(tx, "Transfer")
    assert agreement.phase() == Phase.Cancelled
    assert agreement.claimsRemaining() == 0


@pytest.mark.parametrize("phase", LATER_PHASES)
def test_cancel_wrong_phase(agreement_in_phase, modeller, outsider, phase):
    agreement = agreement_in_phase[phase]
    for caller in (modeller, outsider):
        with reverts_with("WrongPhase", Phase[phase].value):
            agreement.cancel({"from": caller})

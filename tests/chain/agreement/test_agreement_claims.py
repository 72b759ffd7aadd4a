"""BackingAgreement unit tests, claims: claim (Settled, Defaulted, Cancelled), the claimable/owedTo views, the
dust sweep after the last claim, sweep(), and NMR donated to the agreement.

The dust-sweeping settlement runs on both tokens x clone/direct; the rest once, on MockNMR clones."""

import pytest
from brownie import chain

from backing.model.agreement import ONE, Phase
from support.chain import NMR, expect_event, reverts_with

UNIT = 100 * NMR + 3
LADDER = ((3, 4000), (6, 2500))
# per phase of the phase set: what alice (1 unit of 100 NMR, reserve 50, V = 90) gets by claiming
PAYOUT = {
    "Settled": 95 * NMR,  # V_b 90 + cover 5 (50% of the 10 NMR loss, from the reserve)
    "Defaulted": 50 * NMR,  # the whole reserve: pool 50 of 95 owed, she is the only backer
    "Cancelled": 100 * NMR,  # her deposit
}


# ============================================================================================ claim


@pytest.mark.parametrize("phase", ["Open", "Locked", "Matured"])
def test_claim_wrong_phase(agreement_in_phase, alice, phase):
    agreement = agreement_in_phase[phase]
    assert agreement.claimable(alice) == 0
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement.claim(alice, {"from": alice})


@pytest.mark.parametrize("phase", ["Settled", "Defaulted", "Cancelled"])
def test_claim(agreement_in_phase, nmr_token, modeller, alice, outsider, phase):
    agreement = agreement_in_phase[phase]
    with reverts_with("NothingToClaim", outsider):
        agreement.claim(outsider, {"from": outsider})
    with reverts_with("NothingToClaim", modeller):
        agreement.claim(modeller, {"from": alice})
    assert agreement.claimable(outsider) == 0
    assert agreement.claimsRemaining() == 1
    assert agreement.claimable(alice) == PAYOUT[phase]
    if phase != "Cancelled":
        assert agreement.owedTo(alice) == 95 * NMR
    before = nmr_token.balanceOf(alice)
    held = nmr_token.balanceOf(agreement)

    # anyone may trigger the claim; the NMR goes to the backer
    tx = agreement.claim(alice, {"from": outsider})
    expect_event(tx, "Claimed", backer=alice, amount=PAYOUT[phase])
    assert nmr_token.balanceOf(alice) - before == PAYOUT[phase]
    assert nmr_token.balanceOf(outsider) == 0
    assert tuple(agreement.positionOf(alice)) == (1, True)
    assert agreement.claimable(alice) == 0
    assert agreement.claimsRemaining() == 0
    # hers was the last claim: whatever is left goes to the modeller
    left = held - PAYOUT[phase]
    if left:
        expect_event(tx, "DustSwept", to=modeller, amount=left)
    else:
        assert "DustSwept" not in tx.events
    assert nmr_token.balanceOf(agreement) == 0

    with reverts_with("AlreadyClaimed", alice):
        agreement.claim(alice, {"from": alice})
    with reverts_with("AlreadyClaimed", alice):
        agreement.claim(alice, {"from": outsider})


def test_settlement_claims_sweep_dust(make_agreement, token, fund, mirror, modeller, outsider, alice, bob, carol):
    """Gain, fee ladder, odd unit size: the aggregates round up, so the last claim leaves dust for the modeller
    and the agreement ends empty. claimable and owedTo agree with what each claim pays."""
    agreement, terms = make_agreement(unit_size=UNIT, fee_ladder=LADDER, upfront_fee_bps=123, lockup_rounds=2)
    m = mirror(agreement, terms, token, fund)
    deposits = {alice: 1, bob: 4, carol: 7}
    m.setup(deposits, terms.required_reserve(12 * UNIT))
    m.lock()
    m.post([ONE * 2 // 1000 + 7, ONE // 7])
    m.mature()
    for backer in deposits:
        assert agreement.owedTo(backer) == m.ref.owed_to(str(backer))
        assert agreement.claimable(backer) == 0  # not before settlement
    m.repay(modeller, agreement.amountDue())
    assert agreement.phase() == Phase.Settled
    owed = {b: agreement.owedTo(b) for b in deposits}
    dust = agreement.amountDue() - sum(owed.values())
    assert dust > 0
    for backer in deposits:
        assert agreement.claimable(backer) == owed[backer]

    with reverts_with("ClaimsOutstanding", 3):
        agreement.sweep({"from": outsider})
    m.claim(carol, outsider)
    m.claim(alice)
    with reverts_with("ClaimsOutstanding", 1):
        agreement.sweep({"from": outsider})
    before = token.balanceOf(modeller)
    tx = m.claim(bob, outsider)
    expect_event(tx, "DustSwept", to=modeller, amount=dust)
    assert token.balanceOf(modeller) - before == dust
    assert token.balanceOf(agreement) == 0
    for backer in deposits:
        assert agreement.owedTo(backer) == owed[backer]  # the view stays, the claim is done
        assert agreement.claimable(backer) == 0


def test_views_by_phase(make_nmr_agreement, nmr_token, fund_nmr, mirror, modeller, alice, bob, outsider):
    """claimable is 0 until a claim is possible; owedTo answers from maturity on; in a default both follow the
    pool; a non-backer is owed nothing."""
    agreement, terms = make_nmr_agreement(unit_size=UNIT, fee_ladder=LADDER, lockup_rounds=1, wind_down=3600)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 2, bob: 5}, terms.required_reserve(7 * UNIT))
    with reverts_with("WrongPhase", Phase.Open.value):
        agreement.owedTo(alice)
    m.lock()
    with reverts_with("WrongPhase", Phase.Locked.value):
        agreement.owedTo(alice)
    m.post([-ONE * 35 // 100])
    m.mature()
    assert agreement.owedTo(outsider) == 0
    for backer in (alice, bob):
        assert agreement.owedTo(backer) == m.ref.owed_to(str(backer)) > 0
        assert agreement.claimable(backer) == 0
    m.repay(modeller, agreement.amountDue() // 5)
    chain.sleep(3601)
    m.declare_default(outsider)
    for backer in (alice, bob):
        assert agreement.owedTo(backer) == m.ref.owed_to(str(backer))
        assert agreement.claimable(backer) == m.ref.payout(str(backer)) < agreement.owedTo(backer)
    assert agreement.claimable(outsider) == 0
    m.claim(bob, alice)
    m.claim(alice, bob)


# ============================================================================================ sweep


@pytest.mark.parametrize("phase", ["Open", "Locked", "Matured"])
def test_sweep_wrong_phase(agreement_in_phase, outsider, phase):
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement_in_phase[phase].sweep({"from": outsider})


@pytest.mark.parametrize("phase", ["Settled", "Defaulted", "Cancelled"])
def test_sweep(agreement_in_phase, nmr_token, modeller, alice, outsider, phase):
    agreement = agreement_in_phase[phase]
    with reverts_with("ClaimsOutstanding", 1):
        agreement.sweep({"from": outsider})
    agreement.claim(alice, {"from": alice})
    assert nmr_token.balanceOf(agreement) == 0
    tx = agreement.sweep({"from": outsider})  # nothing to sweep: no event, no transfer
    assert "DustSwept" not in tx.events and "Transfer" not in tx.events

    # NMR sent after the last claim would be stuck without sweep(); anyone may send it to the modeller
    nmr_token.mintTo(outsider, 5 * NMR, {"from": outsider})
    nmr_token.transfer(agreement, 5 * NMR, {"from": outsider})
    before = nmr_token.balanceOf(modeller)
    tx = agreement.sweep({"from": outsider})
    expect_event(tx, "DustSwept", to=modeller, amount=5 * NMR)
    assert nmr_token.balanceOf(modeller) - before == 5 * NMR
    assert nmr_token.balanceOf(agreement) == 0
    assert nmr_token.balanceOf(outsider) == 0


def test_donation_before_lock_changes_no_amount(
    make_nmr_agreement, nmr_token, fund_nmr, mirror, modeller, outsider, alice, bob
):
    """NMR sent straight to the agreement while Open is not capital: lock stakes only the deposits, maturity and
    the claims match the reference (which never sees the donation), and the donation ends with the modeller."""
    agreement, terms = make_nmr_agreement(unit_size=UNIT, upfront_fee_bps=100, lockup_rounds=1)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 3, bob: 1}, terms.required_reserve(4 * UNIT))
    m.donate(77 * NMR + 1, outsider)
    lock_tx = m.lock()
    assert lock_tx.events["Locked"]["stakedCapital"] == 4 * UNIT - 4 * UNIT // 100
    assert agreement.stakedCapital() == m.ref.locked.staked
    assert nmr_token.balanceOf(agreement) == agreement.reserve() + 77 * NMR + 1
    m.post([ONE // 4])
    m.mature()
    m.repay(modeller, agreement.amountDue())
    m.claim(bob)
    before = nmr_token.balanceOf(modeller)
    tx = m.claim(alice)  # the mirror checks the sweep: reference dust plus the donation
    assert tx.events["DustSwept"]["amount"] >= 77 * NMR + 1
    assert nmr_token.balanceOf(modeller) - before == tx.events["DustSwept"]["amount"]
    assert nmr_token.balanceOf(agreement) == 0

"""BackingAgreement unit tests, lock: its checks in order, the start round from the oracle, the upfront fee and
the staked capital leaving, and the required reserve (rounded up).

The money-moving success path runs on both tokens x clone/direct; everything else once, on a MockNMR clone."""

import pytest
from brownie import chain

from backing.model.agreement import BPS, Phase, lock_amounts
from backing.model.agreement import Agreement as Reference
from support.chain import MIN_ROUND_SPACING, NMR, ONE, expect_event, reverts_with

LATER_PHASES = ["Locked", "Matured", "Settled", "Defaulted", "Cancelled"]


def transfers(tx, token):
    """The token's Transfer events in a transaction, as (from, to, value) with checksummed addresses."""
    if "Transfer" not in tx.events:
        return []
    return [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"] if e.address == token.address]


def plain(value):
    """A view's return value as plain tuples of ints (brownie's ReturnValue cannot be compared with tuples)."""
    if isinstance(value, (tuple, list)):
        return tuple(plain(item) for item in value)
    return value


def prepare(agreement, terms, fund, modeller, deposits, reserve):
    if reserve:
        fund(modeller, reserve, agreement)
        agreement.postReserve(reserve, {"from": modeller})
    for backer, units in deposits.items():
        fund(backer, units * terms.unit_size, agreement)
        agreement.deposit(units, {"from": backer})


# ============================================================================================ success


def test_lock(make_agreement, token, fund, oracle, modeller, staking, alice, bob):
    agreement, terms = make_agreement(upfront_fee_bps=250, lockup_rounds=5)
    ref = Reference(terms, str(modeller))
    amounts = lock_amounts(terms, 5)
    required = terms.required_reserve(amounts.staked)
    assert amounts.capital == 500 * NMR
    assert (amounts.upfront_fee, amounts.staked) == (12_500 * NMR // 1000, 487_500 * NMR // 1000)
    assert agreement.requiredReserveFor(amounts.staked) == required == 243_750 * NMR // 1000
    prepare(agreement, terms, fund, modeller, {alice: 3, bob: 2}, required)
    ref.post_reserve(str(modeller), required)
    ref.deposit(str(alice), 3, chain.time())
    ref.deposit(str(bob), 2, chain.time())
    modeller_before, staking_before = token.balanceOf(modeller), token.balanceOf(staking)
    next_round = oracle.currentRound() + 1
    assert oracle.nextStartRound() == next_round

    tx = agreement.lock({"from": modeller})
    ref.lock(str(modeller), tx.timestamp, next_round)
    expect_event(
        tx,
        "Locked",
        startRound=next_round,
        endRound=next_round + 4,
        stakedCapital=amounts.staked,
        upfrontFee=amounts.upfront_fee,
        reserve=required,
    )
    assert transfers(tx, token) == [(agreement, modeller, amounts.upfront_fee), (agreement, staking, amounts.staked)]
    assert agreement.phase() == Phase.Locked
    assert agreement.startRound() == next_round == ref.start_round
    assert agreement.stakedCapital() == amounts.staked
    assert agreement.upfrontFee() == amounts.upfront_fee
    assert agreement.claimsRemaining() == 2 == ref.claims_remaining
    assert token.balanceOf(modeller) == modeller_before + amounts.upfront_fee == ref.transfers[str(modeller)] + required
    assert token.balanceOf(staking) == staking_before + amounts.staked
    assert token.balanceOf(agreement) == required == ref.balance
    assert agreement.reserve() == required
    assert plain(agreement.totals()) == (5, 2, 5 * 5000)
    assert plain(agreement.positionOf(alice)) == (3, False)
    assert agreement.claimable(alice) == 0
    with reverts_with("WrongPhase", int(Phase.Locked)):
        agreement.owedTo(alice)


def test_lock_without_fee_or_reserve(make_nmr_agreement, nmr_token, fund_nmr, oracle, modeller, staking, alice):
    agreement, terms = make_nmr_agreement(reserve_ratio_bps=0, upfront_fee_bps=0)
    assert agreement.requiredReserveFor(10**30) == 0
    prepare(agreement, terms, fund_nmr, modeller, {alice: 2}, 0)
    before = nmr_token.balanceOf(modeller)
    tx = agreement.lock({"from": modeller})
    start = oracle.currentRound() + 1
    expect_event(
        tx,
        "Locked",
        startRound=start,
        endRound=start + terms.lockup_rounds - 1,
        stakedCapital=2 * terms.unit_size,
        upfrontFee=0,
        reserve=0,
    )
    assert transfers(tx, nmr_token) == [(agreement, staking, 2 * terms.unit_size)]  # no zero-fee transfer
    assert nmr_token.balanceOf(modeller) == before
    assert nmr_token.balanceOf(agreement) == 0


def test_terms_that_require_an_attested_model(make_nmr_agreement, fund_nmr, signed, oracle, model_id, modeller, alice):
    """Issue 12 L-5: such terms are created only for a model the oracle attests, and lock only while it still does
    (a withdrawn or cleared attestation stops the lock; the deposits then come back through cancel)."""
    raw = bytes.fromhex(model_id[2:])  # brownie renders a bytes32 argument raw
    with reverts_with("ModelNotAttested", raw):
        make_nmr_agreement(require_attested_model=True)
    signed.attest(raw, modeller)
    agreement, terms = make_nmr_agreement(require_attested_model=True, reserve_ratio_bps=0, upfront_fee_bps=0)
    assert agreement.terms()[12] is True  # terms() shows the requirement
    prepare(agreement, terms, fund_nmr, modeller, {alice: 2}, 0)
    signed.attest(raw, modeller, False)
    with reverts_with("ModelNotAttested", raw):
        agreement.lock({"from": modeller})
    signed.attest(raw, modeller, True)
    agreement.lock({"from": modeller})
    assert agreement.phase() == Phase.Locked
    # terms that do not ask for it lock whatever the attestation says
    signed.attest(raw, modeller, False)
    other, other_terms = make_nmr_agreement(reserve_ratio_bps=0, upfront_fee_bps=0)
    prepare(other, other_terms, fund_nmr, modeller, {alice: 1}, 0)
    other.lock({"from": modeller})


# ============================================================================================ reverts


def test_lock_not_modeller(make_nmr_agreement, fund_nmr, modeller, alice, staking, outsider):
    agreement, terms = make_nmr_agreement()
    prepare(agreement, terms, fund_nmr, modeller, {alice: 1}, 50 * NMR)
    for caller in (alice, staking, outsider):
        with reverts_with("NotModeller", caller):
            agreement.lock({"from": caller})
    assert agreement.phase() == Phase.Open


@pytest.mark.parametrize("phase", LATER_PHASES)
def test_lock_wrong_phase(agreement_in_phase, modeller, alice, phase):
    agreement = agreement_in_phase[phase]
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement.lock({"from": modeller})
    # the caller is checked first
    with reverts_with("NotModeller", alice):
        agreement.lock({"from": alice})


def test_lock_deposit_window_closed(make_nmr_agreement, fund_nmr, oracle, signed, modeller, alice):
    agreement, terms = make_nmr_agreement()
    prepare(agreement, terms, fund_nmr, modeller, {alice: 1}, 50 * NMR)
    # keep the round schedule fresh, so only the window can stop the lock
    signed.announce(oracle.currentRound() + 1, [terms.open_until + 3600])
    chain.mine(timestamp=terms.open_until + 1)
    with reverts_with("DepositWindowClosed", terms.open_until):
        agreement.lock({"from": modeller})
    # and anyone may now cancel
    agreement.cancel({"from": alice})
    assert agreement.phase() == Phase.Cancelled


def test_lock_in_last_second_of_window(make_nmr_agreement, fund_nmr, oracle, signed, modeller, alice):
    agreement, terms = make_nmr_agreement()
    prepare(agreement, terms, fund_nmr, modeller, {alice: 1}, 50 * NMR)
    round_ = oracle.currentRound() + 1
    signed.announce(round_, [terms.open_until + 3600])
    chain.mine(timestamp=terms.open_until - 1)  # ganache stamps the next block 1 s later if sent at once
    tx = agreement.lock({"from": modeller, "gas_limit": 1_000_000})  # no estimate: no delay
    assert tx.timestamp == terms.open_until
    assert tx.events["Locked"]["startRound"] == round_ + 1


def test_lock_below_min_units(make_nmr_agreement, fund_nmr, modeller, alice, bob):
    agreement, terms = make_nmr_agreement(min_units=3)
    prepare(agreement, terms, fund_nmr, modeller, {}, 200 * NMR)
    with reverts_with("BelowMinUnits", 0, 3):
        agreement.lock({"from": modeller})
    prepare(agreement, terms, fund_nmr, modeller, {alice: 2}, 0)
    with reverts_with("BelowMinUnits", 2, 3):
        agreement.lock({"from": modeller})
    prepare(agreement, terms, fund_nmr, modeller, {bob: 2}, 0)
    agreement.withdraw(1, {"from": alice})  # 3 units again, after a withdrawal
    agreement.lock({"from": modeller})
    assert agreement.phase() == Phase.Locked
    assert agreement.stakedCapital() == 3 * terms.unit_size


def test_lock_reserve_too_small_rounds_up(make_nmr_agreement, fund_nmr, modeller, alice, bob):
    # a reserve ratio above 100%, an odd unit size and an upfront fee, so that the required reserve is
    # computed on the staked capital and its rounding matters
    agreement, terms = make_nmr_agreement(unit_size=100 * NMR + 7, reserve_ratio_bps=12_345, upfront_fee_bps=300)
    amounts = lock_amounts(terms, 3)
    required = terms.required_reserve(amounts.staked)
    assert required == amounts.staked * 12_345 // BPS + 1 > amounts.staked  # ceil differs from floor here
    assert agreement.requiredReserveFor(amounts.staked) == required
    prepare(agreement, terms, fund_nmr, modeller, {alice: 1, bob: 2}, 0)
    with reverts_with("ReserveTooSmall", 0, required):
        agreement.lock({"from": modeller})
    prepare(agreement, terms, fund_nmr, modeller, {}, required - 1)
    with reverts_with("ReserveTooSmall", required - 1, required):
        agreement.lock({"from": modeller})
    prepare(agreement, terms, fund_nmr, modeller, {}, 1)
    tx = agreement.lock({"from": modeller})
    assert tx.events["Locked"]["reserve"] == required
    assert tx.events["Locked"]["stakedCapital"] == amounts.staked
    assert tx.events["Locked"]["upfrontFee"] == amounts.upfront_fee


def test_required_reserve_for(make_nmr_agreement):
    for ratio in (12_345, 100_000, 3):
        agreement, terms = make_nmr_agreement(reserve_ratio_bps=ratio)
        for staked in (0, 1, 9_999, 10_000, 10_001, 123_456_789, 100 * NMR + 7, 2**80, 2**200 + 1):
            assert agreement.requiredReserveFor(staked) == terms.required_reserve(staked), (ratio, staked)
        assert agreement.requiredReserveFor(1) > 0  # ceil: any positive stake needs a positive reserve
    assert agreement.requiredReserveFor(10_000) == 3


def test_lock_round_schedule_stale(make_nmr_agreement, fund_nmr, oracle, signed, modeller, alice):
    agreement, terms = make_nmr_agreement()
    prepare(agreement, terms, fund_nmr, modeller, {alice: 1}, 50 * NMR)
    round_, close = oracle.currentRound(), oracle.currentRoundCloseTime()
    stale_at = close + MIN_ROUND_SPACING
    assert stale_at < terms.open_until
    chain.mine(timestamp=stale_at - 1)  # the lock lands at stale_at or just after
    with reverts_with("RoundScheduleStale", round_, close, stale_at):
        agreement.lock({"from": modeller})
    # a fresh announcement makes the next round the start
    signed.announce(round_ + 1, [chain.time() + 3600])
    tx = agreement.lock({"from": modeller})
    assert tx.events["Locked"]["startRound"] == round_ + 2
    assert agreement.startRound() == round_ + 2


def test_lock_model_not_started(make_nmr_agreement, fund_nmr, oracle, signed, modeller, alice):
    model = "0x" + "cd" * 16 + "00" * 16
    first = oracle.currentRound() + 10
    signed.register(model, modeller, ONE, first)
    agreement, terms = make_nmr_agreement(model_id=bytes.fromhex(model[2:]))
    prepare(agreement, terms, fund_nmr, modeller, {alice: 1}, 50 * NMR)
    with reverts_with("ModelNotStarted", first - 9, first):
        agreement.lock({"from": modeller})
    signed.announce_through(first - 2)
    with reverts_with("ModelNotStarted", first - 1, first):
        agreement.lock({"from": modeller})
    signed.announce_through(first - 1)
    tx = agreement.lock({"from": modeller})
    assert tx.events["Locked"]["startRound"] == first

"""BackingSeries and SeriesFactory: every custom error a user can trigger, with its exact arguments, and the
events of the main actions. Small terms (1-NMR units, one-round lockups, one-hour wind-down) keep it fast; the
factory, collect and position-cap tests, which do not depend on the token or the deployment, run once (NMR, clone)."""

from dataclasses import replace

import brownie
import pytest
from brownie import BackingSeries, chain

from backing.model.agreement import ONE
from backing.model.series import Commitment
from backing.onchain.agreement import set_allowance
from backing.onchain.series import ALL, create_series, terms_args, wait_for_rolls
from support.chain import expect_event, reverts_with
from support.series import SeriesHelper, fresh_schedule

ZERO = "0x" + "00" * 20


@pytest.fixture
def h(series, token, signed, modeller, staking, model_id, backers):
    """Helpers around one series."""
    return SeriesHelper(series, token, signed, modeller, staking, model_id, backers)


# ---------------------------------------------------------------------------------------------- opening


def test_open_errors(h, series, modeller, outsider, model_id):
    t = h.terms()
    with reverts_with("NotModeller", outsider):
        h.open(t, sender=outsider)
    other = replace(t, base=replace(t.base, model_id=b"\x01" * 32))
    with reverts_with("ModelMismatch"):
        h.open(other)
    with reverts_with("ClawbackHalfSet", 2500, 0):
        h.open(replace(t, clawback_agreements=0))
    with reverts_with("ClawbackTooHigh", 10_001):
        h.open(replace(t, clawback_bps=10_001))
    with reverts_with("TooManyCommitments", 5, 4):
        h.open(replace(t, commitments=tuple(Commitment(n, 1000) for n in range(2, 7))))
    with reverts_with("CommitmentNotAscending", 1):
        h.open(replace(t, commitments=(Commitment(3, 1000), Commitment(2, 1000))))
    # issue 12 M-3: at most 30 days of deposits (capital rolled in waits for the lock)
    with brownie.reverts(revert_pattern=r"OpenTooLong: \d+, \d+"):
        h.open(replace(t, base=replace(t.base, open_until=chain.time() + 40 * 86400)))
    tx = h.open(t)
    assert "AgreementOpened" in tx.events and tx.events["AgreementOpened"]["index"] == 0
    with reverts_with("NextAlreadyOpen", 0):
        h.open(t)


@pytest.mark.parametrize("deployment", ["clone"], scope="module")
@pytest.mark.parametrize("token_kind", ["nmr"], scope="module")
def test_initialize_and_factory_errors(series, series_factory, token, oracle, modeller, outsider, model_id, h):
    with reverts_with("NotFactory", outsider):
        series.initialize(outsider, model_id, {"from": outsider})
    with reverts_with("NotModelOwner"):  # (modelId, caller, registered modeller); bytes32 renders raw
        series_factory.createSeries(model_id, {"from": outsider})
    with reverts_with("NotASeries", token):
        series_factory.adoptSeries(token, model_id, {"from": modeller})
    implementation = series_factory.implementation()
    with reverts_with("NotASeries", implementation):  # the shared code must never become a live series itself
        series_factory.adoptSeries(implementation, model_id, {"from": modeller})
    direct = BackingSeries.deploy(token, oracle, series_factory, {"from": modeller})
    series_factory.adoptSeries(direct, model_id, {"from": modeller})
    with reverts_with("AlreadyInitialized"):
        series_factory.adoptSeries(direct, model_id, {"from": modeller})


# ---------------------------------------------------------------------------------------------- deposits and lock


def test_deposit_withdraw_lock_errors(h, series, modeller, alice, bob, staking):
    with reverts_with("NoAgreement"):
        series.deposit(1, 0, {"from": alice})
    h.open()
    with reverts_with("NoSuchCommitment", 2):
        series.deposit(1, 2, {"from": alice})
    with reverts_with("CapacityExceeded", 21 * ONE, 20 * ONE):
        series.deposit(21, 0, {"from": alice})
    tx = h.deposit(alice, 1)
    pid = tx.return_value
    expect_event(tx, "PositionDeposited", index=0, positionId=pid, backer=alice, amount=ONE, commitEnd=-1)
    with reverts_with("InsufficientUnits", 2, 1):
        series.withdraw(2, 0, {"from": alice})
    with reverts_with("InsufficientUnits", 1, 0):
        series.withdraw(1, 3, {"from": alice})
    with reverts_with("BelowMinCapital", ONE, 2 * ONE):
        series.lock({"from": modeller})
    with reverts_with("NotModeller", alice):
        series.lock({"from": alice})
    h.deposit(bob, 3, 3)
    tx = h.reserve(0, ONE)
    expect_event(tx, "SeriesReservePosted", index=0, amount=ONE, reserve=ONE)
    with reverts_with("ReserveTooSmall", ONE, 2 * ONE):
        series.lock({"from": modeller})
    tx = series.withdraw(1, 0, {"from": alice})
    expect_event(tx, "PositionWithdrawn", index=0, positionId=pid, backer=alice, amount=ONE)
    with reverts_with("UnknownPosition", pid):
        series.positionOf(pid)
    h.reserve(0, ONE)
    tx = series.lock({"from": modeller})
    v = series.agreement(0)
    expect_event(
        tx,
        "SeriesLocked",
        index=0,
        startRound=v["startRound"],
        capital=3 * ONE,
        upfrontFee=0,
        staked=3 * ONE,
        reserve=2 * ONE,
        priceStart=ONE,
        cohorts=1,
    )
    with reverts_with("WrongPhase", 1):
        series.deposit(1, 0, {"from": alice})
    with reverts_with("WrongPhase", 1):
        series.cancel({"from": modeller})


def test_window_and_cancel(h, series, modeller, alice, outsider):
    h.open()
    h.deposit(alice, 2)
    with reverts_with("OpenWindowNotOver"):
        series.cancel({"from": outsider})
    chain.sleep(31 * 86400)
    chain.mine()
    with reverts_with("DepositWindowClosed"):
        series.deposit(1, 0, {"from": alice})
    with reverts_with("DepositWindowClosed"):
        series.lock({"from": modeller})
    tx = series.cancel({"from": outsider})
    expect_event(tx, "SeriesCancelled", index=0, caller=outsider, reserveReturned=0)
    with reverts_with("NotOwner", outsider):
        series.claim(1, {"from": outsider})
    tx = series.claim(1, {"from": alice})
    assert tx.events["PositionClaimedFrom"]["amount"] == 2 * ONE


@pytest.mark.parametrize("deployment", ["clone"], scope="module")
@pytest.mark.parametrize("token_kind", ["nmr"], scope="module")
def test_a_replaced_modeller_opens_no_new_agreement(
    h, series, series_factory, signed, oracle, modeller, alice, outsider
):
    """Issue 12 L-5: once the oracle names another modeller for the model (a squatter replaced, a key rotated), the
    old one can open no new agreement on the series and make no new series; the backers' deposits still come
    back, and the new modeller makes his own series."""
    h.open()
    h.deposit(alice, 2)
    signed.propose_modeller_change(h.model_id, outsider)
    chain.sleep(oracle.signerSetDelay())
    chain.mine()
    oracle.executeModellerChange(h.model_id, {"from": alice})
    series.cancel({"from": modeller})  # the agreement open before the change still belongs to the series' modeller
    tx = series.claim(1, {"from": alice})
    assert tx.events["PositionClaimedFrom"]["amount"] == 2 * ONE
    raw = bytes.fromhex(h.model_id[2:])  # brownie renders a bytes32 argument raw
    with reverts_with("ModellerReplaced", raw, outsider):
        h.open()
    with reverts_with("NotModelOwner", raw, modeller, outsider):
        series_factory.createSeries(h.model_id, {"from": modeller})
    fresh = create_series(series_factory, h.model_id, outsider, clone=True)
    assert fresh.modeller() == outsider


@pytest.mark.parametrize("deployment", ["clone"], scope="module")
@pytest.mark.parametrize("token_kind", ["nmr"], scope="module")
def test_terms_that_require_an_attested_model(h, series, signed, modeller, alice):
    """Issue 12 L-5: a series agreement whose terms require an attested model opens only for an attested model and
    locks only while the oracle still attests it."""
    raw = bytes.fromhex(h.model_id[2:])
    t = h.terms()
    t = replace(t, base=replace(t.base, require_attested_model=True, reserve_ratio_bps=0))
    with reverts_with("ModelNotAttested", raw):
        h.open(t)
    signed.attest(raw, modeller)
    h.open(t)
    h.deposit(alice, 2)
    signed.attest(raw, modeller, False)
    with reverts_with("ModelNotAttested", raw):
        series.lock({"from": modeller})
    signed.attest(raw, modeller, True)
    series.lock({"from": modeller})
    assert int(series.agreement(0)["phase"]) == 1  # Locked


def test_previous_not_settled(h, series, modeller, alice):
    h.locked(0)
    h.open()
    h.deposit(alice, 2)
    h.reserve(1, 2 * ONE)
    with reverts_with("PreviousNotSettled", 0):
        series.lock({"from": modeller})


def test_one_live_agreement_at_a_time(h, series, modeller, bob, signed):
    """Issue 12 H-1: lock 0; open 1 and cancel it; open 2: it may not lock while 0 runs (only index - 1 was
    checked, so 0 and 2 ran at once and whichever settled last set the price). After 0 settles it locks at 0's
    end price."""
    h.locked(0)
    h.open()
    series.cancel({"from": modeller})
    h.open()
    h.deposit(bob, 2)
    h.reserve(2, 2 * ONE)
    with reverts_with("PreviousNotSettled", 0):
        series.lock({"from": modeller})
    h.mature(0, 12 * ONE // 10)
    with reverts_with("PreviousNotSettled", 0):  # matured is still running
        series.lock({"from": modeller})
    due = series.agreement(0)["amountDue"]
    h.fund(modeller, due)
    series.repay(0, due, {"from": modeller})
    until = series.rollsOpenUntil()
    assert until == chain[-1].timestamp + series.ROLL_WINDOW() == chain[-1].timestamp + 3600
    with reverts_with("RollWindowOpen", until):  # issue 12 M-2: not in the settlement's bundle
        series.lock({"from": modeller})
    wait_for_rolls(series)
    fresh_schedule(signed)
    series.lock({"from": modeller})
    assert series.agreement(2)["priceStart"] == series.agreement(0)["priceEnd"] == series.price() == 12 * ONE // 10
    assert [series.agreement(i)["phase"] for i in range(3)] == [3, 5, 1]


def test_a_wipe_out_cancels_the_open_agreement(
    h, series, signed, modeller, alice, bob, series_factory, model_id, token
):
    """Issue 21 F4: the price reaches 0 while the next agreement is open: it is cancelled at once (deposits and
    rolls refused, its capital claimable), instead of taking NMR until someone cancels it. The oracle floors each
    round at 1e-6 of the index, so only a lockup of four -100% rounds takes the index (and the price) to 0."""
    h.open(h.terms(lockup_rounds=4))
    (pid,) = h.locked(0)
    h.open()
    fresh = h.deposit(bob, 3).return_value
    h.reserve(1, ONE)
    start = series.agreement(0)["startRound"]
    model_id = series.modelId()
    last = signed.oracle.lastPostedRound(model_id)
    signed.post_returns(model_id, [-ONE if r >= start else 0 for r in range(last + 1, start + 4)])
    chain.mine()
    tx = series.mature(0, {"from": modeller})  # V = 0: nothing is due, it settles at once
    assert series.agreement(0)["finalValue"] == 0 and series.agreement(0)["priceEnd"] == 0
    assert "SeriesSettled" in tx.events
    expect_event(tx, "SeriesCancelled", index=1, caller=modeller, reserveReturned=ONE)
    assert series.ended() and series.price() == 0 and series.agreement(1)["phase"] == 5
    h.fund(alice, ONE)
    with reverts_with("WrongPhase", 5):
        series.deposit(1, 0, {"from": alice})
    with reverts_with("NoOpenNextAgreement", 0):
        series.roll(pid, ALL, 0, b"\x00" * 32, {"from": alice})
    tx = series.claim(fresh, {"from": bob})
    assert tx.events["PositionClaimedFrom"]["amount"] == 3 * ONE
    # issue 20 N-3: another series of the model cannot lock on its wiped-out index (V = 0 would be certain)
    other = create_series(series_factory, model_id, modeller, clone=True)
    other.openAgreement(*terms_args(h.terms()), {"from": modeller})
    for who, amount in ((alice, 2 * ONE), (modeller, 2 * ONE)):
        token.mintTo(who, amount, {"from": who})
        set_allowance(token, who, other, amount)
    other.deposit(2, 0, {"from": alice})
    other.postReserve(0, 2 * ONE, {"from": modeller})
    last = signed.oracle.modelInfo(model_id)[3]  # its last final round
    assert signed.oracle.indexAt(model_id, last) == 0
    with brownie.reverts(revert_pattern=rf"IndexTooLow: .*, {last}, 0, {10**9}"):
        other.lock({"from": modeller})


def test_a_full_next_agreement_cannot_break_a_standing_roll(h, series, bob, carol, outsider):
    """Issue 12 M-3: filling the next agreement made a committed backer's standing roll fail (CapacityExceeded)
    while his claim was still charged back. A roll that continues a commitment is never refused for capacity."""
    (pid,) = h.locked(0, deposits=((0, 5, 3),))
    h.settle(0, 12 * ONE // 10)
    h.open()
    h.deposit(bob, 20)  # full
    tx = series.executeRoll(pid, {"from": outsider})
    assert tx.events["PositionRolled"]["chargedBack"] == 0
    rolled = series.positionOf(pid)["rolled"]
    assert rolled > 0 and series.agreement(1)["capital"] == 20 * ONE + rolled
    h.fund(carol, ONE)
    with reverts_with("CapacityExceeded", ONE, 0):
        series.deposit(1, 0, {"from": carol})


# ---------------------------------------------------------------------------------------------- transfers


def test_transfer_errors(h, series, modeller, alice, bob, staking):
    (pid,) = h.locked(0)
    with reverts_with("NotOwner", bob):
        series.transfer(pid, bob, ONE, {"from": bob})
    with reverts_with("TransferToModeller", modeller):
        series.transfer(pid, modeller, ONE, {"from": alice})
    with reverts_with("TransferToAgreement", series):
        series.transfer(pid, series, ONE, {"from": alice})
    with reverts_with("TransferToAgreement", staking):
        series.transfer(pid, staking, ONE, {"from": alice})
    with reverts_with("TransferToSelf", alice):
        series.transfer(pid, alice, ONE, {"from": alice})
    with reverts_with("TransferToZero"):
        series.transfer(pid, ZERO, ONE, {"from": alice})
    with reverts_with("TransferNotAccepted", bob, alice):
        series.transfer(pid, bob, ONE, {"from": alice})
    tx = series.acceptTransfers(alice, True, {"from": bob})
    expect_event(tx, "TransfersAccepted", receiver=bob, caller=alice, accepted=True)
    with reverts_with("ZeroAmount"):
        series.transfer(pid, bob, 0, {"from": alice})
    with reverts_with("InsufficientCapital", 5 * ONE + 1, 5 * ONE):
        series.transfer(pid, bob, 5 * ONE + 1, {"from": alice})
    tx = series.transfer(pid, bob, 2 * ONE, {"from": alice})
    expect_event(tx, "PositionTransferred", positionId=pid, toPositionId=tx.return_value, to=bob, amount=2 * ONE)
    h.mature(0)
    with reverts_with("WrongPhase", 2):
        series.transfer(pid, bob, ONE, {"from": alice})


# ---------------------------------------------------------------------------------------------- maturity


def test_maturity_errors(h, series, modeller, alice, outsider, series_factory):
    (pid,) = h.locked(0)
    with reverts_with("WrongPhase", 1):
        series.repay(0, ONE, {"from": modeller})
    with reverts_with("UnknownAgreement", 1):
        series.mature(1, {"from": modeller})
    h.mature(0, 9 * ONE // 10)
    due = series.agreement(0)["amountDue"]
    assert due > 0
    h.fund(modeller, due + 1)
    with reverts_with("RepaymentExceedsDue", due + 1, due):
        series.repay(0, due + 1, {"from": modeller})
    tx = series.repay(0, 1, {"from": modeller})
    expect_event(tx, "SeriesRepaid", index=0, payer=modeller, amount=1, totalRepaid=1)
    deadline = series.agreement(0)["deadline"]
    with reverts_with("WindDownNotOver", deadline):
        series.declareDefault(0, {"from": outsider})
    h.open()
    chain.sleep(3700)
    chain.mine()
    tx = series.declareDefault(0, {"from": outsider})
    assert "SeriesDefaulted" in tx.events and "SeriesCancelled" in tx.events
    assert series.ended() and series_factory.defaultsOf(modeller) == 1
    with reverts_with("SeriesEnded"):
        h.open()
    with reverts_with("WrongPhase", 4):  # a defaulted agreement's positions cannot roll
        series.roll(pid, ALL, 0, b"\x00" * 32, {"from": alice})
    tx = series.claim(pid, {"from": alice})
    assert tx.events["PositionClaimedFrom"]["owner"] == alice
    with reverts_with("PositionClaimed", pid):
        series.claim(pid, {"from": alice})


# ---------------------------------------------------------------------------------------------- rolls


def test_roll_errors(h, series, modeller, alice, bob, outsider):
    a, b = h.locked(0, deposits=((0, 5, 3), (1, 5, 0)))
    with reverts_with("NoOpenNextAgreement", 0):
        series.roll(b, ALL, 0, b"\x00" * 32, {"from": bob})
    with reverts_with("UnknownPosition", 999):
        series.roll(999, ALL, 0, b"\x00" * 32, {"from": bob})
    h.open()
    with reverts_with("NotOwner", alice):
        series.roll(b, ALL, 0, b"\x00" * 32, {"from": alice})
    with reverts_with("TermsMismatch", 1):
        series.roll(b, ALL, 0, b"\x01" * 32, {"from": bob})
    with reverts_with("NoConsent", b):  # amount 0 revokes a consent: there is none
        series.roll(b, 0, 0, b"\x00" * 32, {"from": bob})
    with reverts_with("NoSuchCommitment", 2):
        series.roll(b, ALL, 2, b"\x00" * 32, {"from": bob})
    with reverts_with("AlreadyCommitted", 2):
        series.roll(a, ALL, 3, b"\x00" * 32, {"from": alice})
    with reverts_with("WrongPhase", 1):
        series.executeRoll(b, {"from": outsider})
    with reverts_with("WrongPhase", 1):
        series.claim(b, {"from": bob})
    h.settle(0, 12 * ONE // 10)
    with reverts_with("NoConsent", b):
        series.executeRoll(b, {"from": outsider})
    tx = series.executeRoll(a, {"from": outsider})  # standing commitment: anyone executes it
    assert tx.events["PositionRolled"]["positionId"] == a
    with reverts_with("PositionClaimed", a):
        series.executeRoll(a, {"from": outsider})
    tx = series.roll(b, ONE, 0, series.agreement(1)["termsHash"], {"from": bob})
    expect_event(tx, "RollConsented", positionId=b, amount=ONE, commitAgreements=0)
    new = tx.return_value
    expect_event(tx, "PositionRolled", positionId=b, newPositionId=new, amount=ONE, chargedBack=0)
    with reverts_with("PositionClaimed", b):
        series.roll(b, ALL, 0, b"\x00" * 32, {"from": bob})
    claimable = series.positionOf(b)["claimable"]
    tx = series.claim(b, {"from": bob})
    expect_event(tx, "PositionClaimedFrom", positionId=b, owner=bob, amount=claimable, chargedBack=0)
    with reverts_with("PositionClaimed", b):
        series.claim(b, {"from": bob})


@pytest.mark.parametrize("deployment", ["clone"], scope="module")
@pytest.mark.parametrize("token_kind", ["nmr"], scope="module")
def test_collect(h, series, modeller, outsider):
    with reverts_with("NothingToCollect"):
        series.collect({"from": outsider})
    h.locked(0)
    h.settle(0, 12 * ONE // 10)  # the fee's unheld part and the returned reserve are credited
    credit = series.modellerCredit()
    assert credit > 0
    tx = series.collect({"from": outsider})
    expect_event(tx, "ModellerCollected", modeller=modeller, amount=credit)
    with reverts_with("NothingToCollect"):
        series.collect({"from": outsider})


@pytest.mark.parametrize("deployment", ["clone"], scope="module")
@pytest.mark.parametrize("token_kind", ["nmr"], scope="module")
def test_too_many_positions(h, series, modeller, alice, outsider):
    """An owner's positions in one agreement are capped at 8: five rolled ones (four commitments and none) and
    three fresh ones fill agreement 1; a ninth is refused."""
    options = tuple(Commitment(n, 1000 + 100 * n) for n in (2, 3, 4, 5))
    t = h.terms(commitments=options)
    h.open(t)
    ids = h.locked(0, deposits=[(0, 1, c) for c in (0, 2, 3, 4, 5)])
    h.open(replace(t, base=replace(t.base, open_until=chain.time() + 29 * 86400)))
    h.settle(0)
    for pid in ids:
        if pid == ids[0]:
            series.roll(pid, ALL, 0, b"\x00" * 32, {"from": alice})
        else:
            series.executeRoll(pid, {"from": outsider})
    for c in (0, 2, 3):
        h.deposit(alice, 1, c)
    h.fund(alice, ONE)
    with reverts_with("TooManyPositions", alice, 8):
        series.deposit(1, 4, {"from": alice})

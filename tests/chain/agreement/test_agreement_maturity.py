"""BackingAgreement unit tests, maturity: mature (final value, amount due, owed total, cover bound), repay and
declareDefault, compared to the wei with backing.model.agreement (``mirror`` drives both).

Full repay and default cycles run on both tokens x clone/direct; the rest once, on a MockNMR clone."""

import pytest
from brownie import chain

from backing.model.agreement import ONE, Phase, owed
from support.chain import NMR, expect_event, reverts_with, set_allowance

UNIT = 100 * NMR + 3  # an odd unit size, so that per-backer shares round
LADDER = ((3, 4000), (6, 2500))


def expect_matured(tx, m):
    ref = m.ref
    expect_event(
        tx,
        "Matured",
        finalValue=ref.matured.final_value,
        amountDue=ref.matured.amount_due,
        owedTotal=ref.matured.owed_total,
        coverBound=ref.matured.cover_bound,
        deadline=ref.deadline,
    )


@pytest.fixture(scope="session")
def dave(backers):
    return backers[3]


# ============================================================================================ mature


@pytest.mark.parametrize("phase", ["Open", "Matured", "Settled", "Defaulted", "Cancelled"])
def test_mature_wrong_phase(agreement_in_phase, outsider, phase):
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement_in_phase[phase].mature({"from": outsider})


def test_mature_rounds_outstanding(make_nmr_agreement, nmr_token, fund_nmr, mirror, oracle, model_id, outsider, alice):
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 1}, 50 * NMR)
    m.lock()
    _, _, _, last = oracle.modelInfo(model_id)
    assert last < m.start
    with reverts_with("RoundsOutstanding", last, m.end):
        agreement.mature({"from": outsider})
    m.post([ONE // 10, ONE // 10])
    with reverts_with("RoundsOutstanding", m.end - 1, m.end):
        agreement.mature({"from": outsider})
    m.post([ONE // 10])
    tx = m.mature(outsider)  # anyone may mature
    expect_matured(tx, m)
    assert agreement.phase() == Phase.Matured


@pytest.mark.parametrize(
    "returns, kind",
    [
        ([ONE // 10, ONE // 20, ONE // 5], "gain"),
        ([-ONE // 10, ONE // 20, -ONE // 4], "loss"),
        ([ONE // 4, -ONE // 5, 0], "flat"),  # 1.25 * 0.8 = 1 exactly: V == S
        ([None, ONE * 3 // 10, None], "gain"),  # missed rounds count as zero returns
        ([None, None, None], "flat"),
        # -100% with exposure 1: the index falls to MIN_GROWTH (1e-6) of its value (issue 20 N-3), a near-total loss
        ([ONE // 10, -ONE, ONE // 2], "loss"),
    ],
    ids=["gain", "loss", "exactly-flat", "missed-rounds", "all-missed", "wiped-out"],
)
def test_mature_final_value(make_nmr_agreement, nmr_token, fund_nmr, mirror, modeller, alice, returns, kind):
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 2}, 100 * NMR)
    m.lock()
    m.post(returns)
    tx = m.mature()
    expect_matured(tx, m)
    staked, value = m.ref.locked.staked, m.ref.matured.final_value
    if kind == "gain":
        assert value > staked
        assert agreement.amountDue() == value - (value - staked) // 2  # one backer: exact, 50% profit share
        assert agreement.coverBound() == 0
    elif kind == "flat":
        assert value == staked
        assert agreement.amountDue() == agreement.owedTotal() == staked
        assert agreement.coverBound() == 0
    elif kind == "loss":
        assert value < staked
        assert agreement.amountDue() == value
        assert agreement.coverBound() == (staked - value) // 2
        assert agreement.owedTotal() == value + (staked - value) // 2
    assert agreement.owedTo(alice) == m.ref.owed_to(str(alice))
    assert "Settled" not in tx.events
    assert agreement.phase() == Phase.Matured


def test_mature_model_wiped_out_before_start(
    make_nmr_agreement, nmr_token, fund_nmr, mirror, oracle, signed, modeller, alice
):
    """A -100% round before the start leaves the index at 1e-6 of its value, not zero (issue 20 N-3): the
    agreement values its own round (+50%), not V = 0."""
    model = "0x" + "ef" * 16 + "00" * 16
    current = oracle.currentRound()
    signed.register(model, modeller, ONE, current)
    signed.post_returns(model, [-ONE])
    assert oracle.indexAt(model, current) == 10**12
    agreement, terms = make_nmr_agreement(model_id=bytes.fromhex(model[2:]), lockup_rounds=1, burn_share_bps=2500)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 1}, 60 * NMR)
    m.lock()
    assert agreement.startRound() == current + 1
    signed.post_returns(model, [ONE // 2])
    tx = agreement.mature({"from": alice})
    staked = agreement.stakedCapital()
    assert agreement.finalValue() == staked * 3 // 2
    assert "MaturedOnFallback" not in tx.events


AGGREGATE_CASES = {
    # name: (term overrides, reserve (None: the required one), returns)
    "gain-ladder": (dict(fee_ladder=LADDER), None, [ONE * 37 // 100, ONE // 7]),
    "gain-base-share": (dict(profit_share_bps=3333), None, [ONE * 37 // 100, ONE // 7]),
    "gain-ladder-zero-share": (dict(fee_ladder=((3, 0), (6, 10_000))), None, [ONE // 3, 0]),
    "loss-covered": (dict(fee_ladder=LADDER), None, [-ONE * 3 // 10, ONE // 9]),
    "loss-reserve-short": (dict(reserve_ratio_bps=500), None, [-ONE * 6 // 10, ONE // 11]),
    "loss-no-burn-share": (dict(burn_share_bps=0), None, [-ONE // 3, 0]),
    "loss-full-burn-share": (dict(burn_share_bps=10_000, reserve_ratio_bps=100_000), None, [-ONE // 3, -ONE // 3]),
}


@pytest.mark.parametrize("case", list(AGGREGATE_CASES))
def test_maturity_aggregates(make_nmr_agreement, nmr_token, fund_nmr, mirror, alice, bob, carol, dave, case):
    """amountDue, owedTotal, coverBound and every owedTo equal reference.maturity/owed for four backers in
    three fee tiers, an odd unit size and an upfront fee."""
    overrides, reserve, returns = AGGREGATE_CASES[case]
    agreement, terms = make_nmr_agreement(unit_size=UNIT, upfront_fee_bps=123, lockup_rounds=2, **overrides)
    deposits = {alice: 1, bob: 4, carol: 7, dave: 2}
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    staked = 14 * UNIT - 14 * UNIT * 123 // 10_000
    m.setup(deposits, reserve if reserve is not None else terms.required_reserve(staked))
    m.lock()
    m.post(returns)
    tx = m.mature()
    expect_matured(tx, m)
    mat = m.ref.matured
    owed_each = {b: owed(terms, u, 14, staked, m.ref.reserve, mat) for b, u in deposits.items()}
    for backer, amount in owed_each.items():
        assert agreement.owedTo(backer) == amount
    # the aggregates bound the per-backer sums from above (so the last claim never runs dry)
    assert sum(owed_each.values()) <= mat.owed_total
    if mat.final_value < staked:
        assert mat.amount_due == mat.final_value
        if case == "loss-reserve-short":
            assert mat.cover_bound > m.ref.reserve and mat.owed_total == mat.final_value + m.ref.reserve
        if case == "loss-no-burn-share":
            assert mat.cover_bound == 0 and mat.owed_total == mat.final_value
    else:
        assert mat.cover_bound == 0 and mat.owed_total == mat.amount_due


def test_aggregate_slack_within_documented_bound(make_nmr_agreement, nmr_token, fund_nmr, mirror, alice, bob):
    """docs/protocol.md "Rounding": after a gain, amountDue exceeds the sum of owed_b by at most 2n-1 wei (n backers),
    and
    never falls below it. Two backers (1 and 4 units of 100 NMR + 3 wei, 1.23% upfront fee, a 40% tier from 3
    units, rounds of +1.8% and +1/7) leave 2 wei: more than n-1, within 2n-1."""
    agreement, terms = make_nmr_agreement(unit_size=UNIT, upfront_fee_bps=123, lockup_rounds=2, fee_ladder=((3, 4000),))
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 1, bob: 4}, terms.required_reserve(5 * UNIT))
    m.lock()
    m.post([ONE * 18 // 1000 + 7, ONE // 7])
    m.mature()
    owed_sum = agreement.owedTo(alice) + agreement.owedTo(bob)
    slack = agreement.amountDue() - owed_sum
    assert slack == 2
    assert 0 <= slack <= 2 * 2 - 1


# ============================================================================================ repay


@pytest.mark.parametrize("phase", ["Open", "Locked", "Settled", "Defaulted", "Cancelled"])
def test_repay_wrong_phase(agreement_in_phase, nmr_token, modeller, phase):
    agreement = agreement_in_phase[phase]
    nmr_token.mintTo(modeller, NMR, {"from": modeller})
    set_allowance(nmr_token, modeller, agreement, NMR)
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement.repay(NMR, {"from": modeller})


def test_repay_checks_and_late_repayment(agreement_in_phase, nmr_token, modeller, outsider):
    """The phase set's Matured agreement owes 90 NMR and its wind-down is over, but nobody declared a default:
    repayments are still taken, partial ones add up, the last one settles normally."""
    agreement = agreement_in_phase["Matured"]
    assert chain.time() > agreement.deadline()
    assert agreement.amountDue() == 90 * NMR and agreement.repaid() == 0
    nmr_token.mintTo(modeller, 100 * NMR, {"from": modeller})
    set_allowance(nmr_token, modeller, agreement, 100 * NMR)
    with reverts_with("ZeroAmount"):
        agreement.repay(0, {"from": modeller})
    with reverts_with("RepaymentExceedsDue", 90 * NMR + 1, 90 * NMR):
        agreement.repay(90 * NMR + 1, {"from": modeller})

    tx = agreement.repay(40 * NMR, {"from": modeller})
    expect_event(tx, "Repaid", payer=modeller, amount=40 * NMR, totalRepaid=40 * NMR)
    assert "Settled" not in tx.events
    assert agreement.repaid() == 40 * NMR and agreement.phase() == Phase.Matured
    with reverts_with("RepaymentExceedsDue", 50 * NMR + 1, 50 * NMR):
        agreement.repay(50 * NMR + 1, {"from": modeller})

    # anyone may repay on the modeller's behalf
    nmr_token.mintTo(outsider, 50 * NMR, {"from": outsider})
    set_allowance(nmr_token, outsider, agreement, 50 * NMR)
    before = nmr_token.balanceOf(modeller)
    tx = agreement.repay(50 * NMR, {"from": outsider})
    expect_event(tx, "Repaid", payer=outsider, amount=50 * NMR, totalRepaid=90 * NMR)
    # loss of 10 NMR, 50% burn share: 5 NMR of the 50 NMR reserve covers the backer, 45 go back
    expect_event(tx, "Settled", repaid=90 * NMR, reserveUsed=5 * NMR, reserveReturned=45 * NMR)
    assert nmr_token.balanceOf(modeller) - before == 45 * NMR
    assert nmr_token.balanceOf(outsider) == 0
    assert agreement.phase() == Phase.Settled
    assert agreement.reserveReturned() == 45 * NMR
    with reverts_with("WrongPhase", Phase.Settled.value):
        agreement.declareDefault({"from": outsider})


def test_repay_in_parts_then_settle(make_agreement, token, fund, mirror, modeller, outsider, alice, bob, carol):
    agreement, terms = make_agreement(unit_size=UNIT, fee_ladder=LADDER, upfront_fee_bps=200, lockup_rounds=2)
    m = mirror(agreement, terms, token, fund)
    m.setup({alice: 1, bob: 3, carol: 6}, 1000 * NMR)
    m.lock()
    m.post([-ONE // 5, ONE // 20])
    expect_matured(m.mature(), m)
    due = agreement.amountDue()
    parts = [due // 3, due // 3]
    parts.append(due - sum(parts))
    total = 0
    for payer, amount in zip((modeller, outsider, modeller), parts):
        tx = m.repay(payer, amount)
        total += amount
        expect_event(tx, "Repaid", payer=payer, amount=amount, totalRepaid=total)
    expect_event(tx, "Settled", repaid=due, reserveUsed=m.ref.reserve_used, reserveReturned=m.ref.reserve_returned)
    assert m.ref.reserve_used == agreement.coverBound() < 1000 * NMR
    for backer in (bob, alice, carol):
        m.claim(backer, outsider)
    assert token.balanceOf(agreement) == 0


# ============================================================================================ declareDefault


@pytest.mark.parametrize("phase", ["Open", "Locked", "Settled", "Defaulted", "Cancelled"])
def test_declare_default_wrong_phase(agreement_in_phase, outsider, phase):
    with reverts_with("WrongPhase", Phase[phase].value):
        agreement_in_phase[phase].declareDefault({"from": outsider})


def test_declare_default_after_wind_down(
    make_nmr_agreement, nmr_token, fund_nmr, mirror, nmr_factory, modeller, alice, outsider
):
    agreement, terms = make_nmr_agreement(lockup_rounds=1, wind_down=3600)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 1}, 50 * NMR)
    m.lock()
    m.post([ONE // 5])
    m.mature()
    deadline = agreement.deadline()
    with reverts_with("WindDownNotOver", deadline):
        agreement.declareDefault({"from": outsider})
    chain.mine(timestamp=deadline - 1)  # ganache stamps the next block 1 s later if sent at once
    with reverts_with("WindDownNotOver", deadline):
        agreement.declareDefault({"from": outsider, "gas_limit": 1_000_000})  # no estimate: no delay
    assert chain[-1].timestamp == deadline  # the deadline's own second still belongs to the modeller
    chain.mine(timestamp=deadline)
    defaults = nmr_factory.defaultsOf(modeller)
    tx = m.declare_default(outsider)
    assert tx.timestamp > deadline
    # gain of 20 NMR: 110 owed, nothing repaid, 50 reserve: all of it goes to the backer
    expect_event(tx, "Defaulted", caller=outsider, repaid=0, reserveUsed=50 * NMR, reserveReturned=0, pool=50 * NMR)
    expect_event(
        tx, "DefaultRecorded", modeller=modeller, vehicle=agreement, factory=nmr_factory, defaults=defaults + 1
    )
    assert nmr_factory.defaultsOf(modeller) == defaults + 1
    assert agreement.phase() == Phase.Defaulted
    m.claim(alice)
    assert nmr_token.balanceOf(alice) == 50 * NMR


def test_partial_repayment_then_default(
    make_agreement, token, fund, mirror, factory, modeller, outsider, alice, bob, carol, dave
):
    """Gain, fee ladder, four backers: the modeller repays a part and defaults; the pool (repayment plus as much
    reserve as is owed) is shared pro rata exactly as reference Agreement.payout says; dust goes to him."""
    agreement, terms = make_agreement(
        unit_size=UNIT, fee_ladder=LADDER, upfront_fee_bps=123, lockup_rounds=2, wind_down=3600
    )
    m = mirror(agreement, terms, token, fund)
    m.setup({alice: 1, bob: 4, carol: 7, dave: 2}, terms.required_reserve(14 * UNIT))
    m.lock()
    m.post([ONE * 37 // 100, ONE // 7])
    m.mature()
    due = agreement.amountDue()
    m.repay(modeller, due // 3)
    chain.sleep(3601)
    defaults = factory.defaultsOf(modeller)
    tx = m.declare_default(alice)
    ref = m.ref
    assert ref.reserve_used == min(ref.reserve, ref.matured.owed_total - due // 3) == ref.reserve  # reserve short
    expect_event(
        tx,
        "Defaulted",
        caller=alice,
        repaid=due // 3,
        reserveUsed=ref.reserve_used,
        reserveReturned=ref.reserve_returned,
        pool=ref.default_pool,
    )
    assert ref.default_pool == due // 3 + ref.reserve_used
    expect_event(tx, "DefaultRecorded", modeller=modeller, vehicle=agreement, factory=factory, defaults=defaults + 1)
    assert factory.defaultsOf(modeller) == defaults + 1
    with reverts_with("WrongPhase", Phase.Defaulted.value):
        agreement.repay(1, {"from": modeller})
    paid = 0
    for backer in (carol, alice, dave, bob):
        paid += m.claim(backer, outsider).events["Claimed"]["amount"]
    assert paid <= ref.default_pool
    assert token.balanceOf(agreement) == 0


def test_default_with_reserve_to_spare(make_nmr_agreement, nmr_token, fund_nmr, mirror, modeller, alice, bob):
    """Loss, large reserve: the backers' pool is capped at what they are owed; the rest returns to the modeller."""
    agreement, terms = make_nmr_agreement(unit_size=UNIT, lockup_rounds=1, wind_down=3600, reserve_ratio_bps=20_000)
    m = mirror(agreement, terms, nmr_token, fund_nmr)
    m.setup({alice: 2, bob: 3}, terms.required_reserve(5 * UNIT))
    m.lock()
    m.post([-ONE // 4])
    m.mature()
    m.repay(modeller, agreement.amountDue() // 2)
    chain.sleep(3601)
    tx = m.declare_default(bob)
    ref = m.ref
    assert ref.reserve_used == ref.matured.owed_total - ref.repaid < ref.reserve
    expect_event(
        tx,
        "Defaulted",
        caller=bob,
        repaid=ref.repaid,
        reserveUsed=ref.reserve_used,
        reserveReturned=ref.reserve_returned,
        pool=ref.matured.owed_total,
    )
    m.claim(alice)
    m.claim(bob)

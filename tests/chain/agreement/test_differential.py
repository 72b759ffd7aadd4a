"""Differential test: random terms, backers, scores and repayment behaviour, chain vs reference model, to the wei.

Each example registers a model with a random exposure, offers random terms (fee ladder included), takes random
deposits and a reserve at or above the requirement, posts random resolved rounds (random CORR20/MMC scores,
multipliers, payout factor and clip, some rounds missed), matures, then repays in full, in part or not at
all, and has every backer claim. Every amount the chain computes or moves is compared with
``backing.model.agreement``; the agreement must end holding nothing.
"""

from brownie import chain
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from backing.model.agreement import ONE, Agreement, FeeTier, index_path, lock_amounts, round_return
from backing.onchain.oracle import TOURNAMENT
from oracle.typed_data import Report
from support.chain import MAX_CLIP, MAX_MULTIPLIER, set_allowance

MODEL = "0x" + "dd" * 32
MODEL_BYTES = bytes.fromhex(MODEL[2:])
SCORE_NAMES = (b"CORR20".ljust(32, b"\0"), b"MMC".ljust(32, b"\0"))

round_st = st.tuples(
    st.integers(-ONE // 10, ONE // 10),  # CORR20
    st.integers(-ONE // 10, ONE // 10),  # MMC
    st.integers(0, 5 * ONE),  # CORR20 multiplier
    st.integers(0, 5 * ONE),  # MMC multiplier
    st.integers(0, ONE),  # payout factor
    st.integers(1, MAX_CLIP),  # clip
    st.booleans(),  # missed
)

scenario_st = st.fixed_dictionaries(
    {
        "unit_size": st.integers(10**12, 10**22),
        "min_units": st.integers(1, 3),
        "profit_share_bps": st.integers(0, 10_000),
        "burn_share_bps": st.integers(0, 10_000),
        "reserve_ratio_bps": st.integers(0, 30_000),
        "upfront_fee_bps": st.integers(0, 5_000),
        "lockup_rounds": st.integers(1, 5),
        "ladder": st.lists(st.integers(0, 10_000), max_size=3),
        "exposure": st.integers(1, ONE),
        "deposits": st.lists(st.integers(1, 12), min_size=1, max_size=4),
        "extra_reserve": st.integers(0, 10**22),
        "rounds": st.lists(round_st, min_size=5, max_size=5),
        "repayment": st.sampled_from(["full", "partial", "none"]),
        "partial_bps": st.integers(1, 9_999),
    }
)


@given(scenario=scenario_st)
# make_agreement only returns a closure over module-scoped contracts, and brownie's `given` reverts the chain
# before every example, so sharing the function-scoped fixtures across examples is safe.
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chain_matches_reference(
    scenario, make_agreement, token, oracle, signed, modeller, staking, backers, burn_sink
):
    s = scenario
    first_round = oracle.currentRound() + 1
    signed.register(MODEL, modeller, s["exposure"], first_round)
    ladder = tuple(FeeTier(2**i, bps) for i, bps in enumerate(s["ladder"], start=1))
    agreement, terms = make_agreement(
        model_id=bytes.fromhex(MODEL[2:]),
        unit_size=s["unit_size"],
        min_units=s["min_units"],
        max_units=60,
        profit_share_bps=s["profit_share_bps"],
        burn_share_bps=s["burn_share_bps"],
        reserve_ratio_bps=s["reserve_ratio_bps"],
        upfront_fee_bps=s["upfront_fee_bps"],
        lockup_rounds=s["lockup_rounds"],
        fee_ladder=ladder,
    )
    model = Agreement(terms, str(modeller))
    modeller_start, staking_start, minted_to_modeller = token.balanceOf(modeller), token.balanceOf(staking), 0
    deposits = {backers[i]: units for i, units in enumerate(s["deposits"])}
    if sum(deposits.values()) < terms.min_units:
        deposits[backers[0]] += terms.min_units

    for backer, units in deposits.items():
        token.mintTo(backer, units * terms.unit_size, {"from": backer})
        set_allowance(token, backer, agreement, units * terms.unit_size)
        agreement.deposit(units, {"from": backer})
        model.deposit(str(backer), units, chain.time())

    staked = lock_amounts(terms, sum(deposits.values())).staked  # capital less the floored upfront fee
    reserve = terms.required_reserve(staked) + s["extra_reserve"]
    if reserve:
        token.mintTo(modeller, reserve, {"from": modeller})
        minted_to_modeller += reserve
        set_allowance(token, modeller, agreement, reserve)
        agreement.postReserve(reserve, {"from": modeller})
        model.post_reserve(str(modeller), reserve)

    lock = agreement.lock({"from": modeller})
    start = agreement.startRound()
    expected_lock = model.lock(str(modeller), chain.time(), start, first_round)
    assert lock.events["Locked"]["stakedCapital"] == expected_lock.staked
    assert lock.events["Locked"]["upfrontFee"] == expected_lock.upfront_fee

    # rounds from the model's first round up to the end of the lockup: before `start` they count nothing here
    rounds = [(0, 0, 0, 0, ONE, 1, True)] * (start - first_round) + s["rounds"][: terms.lockup_rounds]
    reports, returns = [], []
    for offset, (corr, mmc, m_corr, m_mmc, payout_factor, clip, missed) in enumerate(rounds):
        round_ = first_round + offset
        if missed:
            reports.append(Report(MODEL_BYTES, TOURNAMENT, round_, missed=True))
            returns.append(0)
            continue
        reports.append(
            Report(
                MODEL_BYTES, TOURNAMENT, round_, False, SCORE_NAMES, (corr, mmc), (m_corr, m_mmc), payout_factor, clip
            )
        )
        returns.append(round_return([corr, mmc], [m_corr, m_mmc], payout_factor, clip, MAX_CLIP, MAX_MULTIPLIER))
    # one signed batch with every round of the lockup, final after the challenge window
    signed.announce_through(first_round + len(reports) - 1)
    posted = signed.post(reports)
    assert [e["roundReturn"] for e in posted.events["RoundPosted"]] == returns
    chain.sleep(oracle.challengeWindow())
    chain.mine()
    signed.finalize(MODEL)

    path = index_path(s["exposure"], returns)
    for offset, index in enumerate(path):
        assert oracle.indexAt(MODEL, first_round - 1 + offset) == index

    matured = agreement.mature({"from": modeller})
    m = model.mature(matured.timestamp, path[start - first_round], path[-1])
    assert agreement.finalValue() == m.final_value
    assert agreement.amountDue() == m.amount_due
    assert agreement.owedTotal() == m.owed_total
    assert agreement.coverBound() == m.cover_bound

    # the modeller repays out of what his stake became on Numerai (minted here, standing in for payouts)
    if s["repayment"] != "none" and m.amount_due:
        amount = m.amount_due if s["repayment"] == "full" else max(1, m.amount_due * s["partial_bps"] // 10_000)
        token.mintTo(modeller, amount, {"from": modeller})
        minted_to_modeller += amount
        set_allowance(token, modeller, agreement, amount)
        agreement.repay(amount, {"from": modeller})
        model.repay(str(modeller), amount)
    if agreement.phase() == 2:  # still Matured: not fully repaid, so default after the wind-down
        chain.sleep(terms.wind_down + 1)
        chain.mine()
        agreement.declareDefault({"from": burn_sink})
        model.declare_default(chain.time())
    assert agreement.phase() == int(model.phase)
    assert agreement.reserveReturned() == model.reserve_returned

    for backer in deposits:
        before = token.balanceOf(backer)
        agreement.claim(backer, {"from": backer})
        paid = model.claim(str(backer))
        assert token.balanceOf(backer) - before == paid
        assert paid <= model.owed_to(str(backer))

    assert token.balanceOf(agreement) == 0 == model.balance
    # the modeller: minted reserve and repayment, less what he paid in, plus upfront fee, reserve back and dust
    assert token.balanceOf(modeller) == modeller_start + minted_to_modeller + model.transfers[str(modeller)]
    assert token.balanceOf(staking) == staking_start + expected_lock.staked

"""The reference model (backing.model.agreement): the seed proposal's worked examples and properties of the math.

Dust bounds (docs/protocol.md, "Rounding"). Each V_b, S_b and fee/cover is floored separately, so the dust returned to
the
modeller can exceed n-1 wei (e.g. 2 wei with 2 backers, see test_dust_can_exceed_backers_minus_one). What holds,
and is tested here, with n backers:
  * n == 1: no dust at all (every aggregate is exact);
  * settled with a gain:   dust <= 2n - 1  (sum V_b >= V-(n-1); fee_b <= its exact share; due <= V - fees + n-1)
  * settled with a loss:   dust <= 5n - 3  (V part n-1; cover floors and the +n-1 slack 3n-2; scaling by R/bound n)
  * defaulted:             dust <= (settled bound) + n  (one more floor per backer in pool*owed_b/owedTotal)
and, more importantly, the agreement never pays out more than it holds.
"""

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backing.model.agreement import (
    BPS,
    INDEX_LIMIT,
    MAX_SCORES,
    ONE,
    Agreement,
    ContractError,
    FeeTier,
    Phase,
    Terms,
    index_path,
    lock_amounts,
    next_index,
    round_return,
)

NMR = ONE
MODELLER = "modeller"


def seed_terms(**overrides) -> Terms:
    """The seed proposal: 100 NMR units, 50% profit share, 50% burn share, reserve 50% of the stake."""
    values = dict(
        unit_size=100 * NMR,
        min_units=1,
        max_units=100,
        profit_share_bps=5000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=8,
        open_until=10**9,
        wind_down=3600,
    )
    values.update(overrides)
    return Terms(**values)


def run(terms: Terms, deposits: dict, reserve: int, value: int, repay="full"):
    """Deposits, lock, maturity at final value ``value``, repayment ("full", "none" or an amount), then default
    if not fully repaid. Returns the agreement (matured or beyond) before any claim."""
    agreement = Agreement(terms=terms, modeller=MODELLER)
    if reserve:
        agreement.post_reserve(MODELLER, reserve)
    for backer, units in deposits.items():
        agreement.deposit(backer, units, 0)
    agreement.lock(MODELLER, 0, 1)
    # end/start = V/S makes the final value exactly V: mulDiv(S, V, S) == V
    agreement.mature(0, agreement.locked.staked, value)
    if agreement.phase == Phase.Matured:
        outstanding = agreement.matured.amount_due
        amount = outstanding if repay == "full" else 0 if repay == "none" else min(repay, outstanding)
        if amount:
            agreement.repay(MODELLER, amount)
    if agreement.phase == Phase.Matured:
        agreement.declare_default(agreement.deadline + 1)
    return agreement


def claim_all(agreement: Agreement) -> dict:
    """Every backer claims; the agreement's balance is checked never to go negative on the way."""
    claims = {}
    for backer in list(agreement.units):
        claims[backer] = agreement.claim(backer)
        assert agreement.balance >= 0, f"paid out more than it held after {backer}'s claim"
    return claims


# ---------------------------------------------------------------------------------------------- the seed's examples


@pytest.mark.parametrize(
    "value, repay, backer_gets, modeller_net, reserve_back",
    [
        # "If the net return was 40 NMR, then 20 NMR goes to the user, and 120 NMR goes to the backer."
        (140 * NMR, "full", 120 * NMR, 20 * NMR, 50 * NMR),
        # "If the net burn was 20 NMR, then I would owe the backer 10 NMR": 80 repaid + 10 from the reserve
        (80 * NMR, "full", 90 * NMR, -10 * NMR, 40 * NMR),
        # the same burn, never repaid: the backer takes the whole reserve; the modeller keeps the 80
        (80 * NMR, "none", 50 * NMR, 30 * NMR, 0),
    ],
)
def test_seed_examples(value, repay, backer_gets, modeller_net, reserve_back):
    agreement = run(seed_terms(), {"backer": 1}, 50 * NMR, value, repay)
    assert agreement.reserve_returned == reserve_back
    assert claim_all(agreement) == {"backer": backer_gets}
    # the modeller's side: his wallet's flows plus his staking wallet, which got S and ended holding V
    assert agreement.transfers[MODELLER] + agreement.transfers["staking"] + value - 100 * NMR == modeller_net
    assert agreement.balance == 0


def test_fee_ladder_lowers_the_profit_share_of_big_positions():
    terms = seed_terms(fee_ladder=(FeeTier(10, 4000), FeeTier(20, 3000)))
    assert [terms.profit_share_for(u) for u in (1, 9, 10, 19, 20, 100)] == [5000, 5000, 4000, 4000, 3000, 3000]
    agreement = run(terms, {"small": 1, "big": 10}, 550 * NMR, 1320 * NMR)  # +20% on 1100 staked
    claims = claim_all(agreement)
    assert claims == {"small": 110 * NMR, "big": 1120 * NMR}  # 10 of 20 gain vs 120 of 200 gain


def test_required_reserve_rounds_up():
    assert seed_terms(reserve_ratio_bps=3333).required_reserve(100) == 34  # 33.33 -> 34
    assert seed_terms(reserve_ratio_bps=5000).required_reserve(100) == 50
    assert seed_terms(reserve_ratio_bps=0).required_reserve(10**30) == 0


# ---------------------------------------------------------------------------------------------- scenarios


@st.composite
def scenarios(draw, backers=st.integers(1, 6)):
    """Random terms, backers, reserve, final value and repayment: tiny wei-sized units (where rounding shows)
    as well as realistic NMR amounts."""
    unit_size = draw(st.one_of(st.integers(1, 1000), st.integers(1, 10**4).map(lambda x: x * 10**17)))
    count = draw(backers)
    units = draw(st.lists(st.integers(1, 60), min_size=count, max_size=count))
    ladder_mins = sorted(draw(st.sets(st.integers(1, 60), max_size=3)))
    terms = seed_terms(
        unit_size=unit_size,
        max_units=10**6,
        profit_share_bps=draw(st.integers(0, BPS)),
        burn_share_bps=draw(st.integers(0, BPS)),
        reserve_ratio_bps=draw(st.integers(0, 30_000)),
        upfront_fee_bps=draw(st.integers(0, 5000)),
        fee_ladder=tuple(FeeTier(m, draw(st.integers(0, BPS))) for m in ladder_mins),
    )
    staked = lock_amounts(terms, sum(units)).staked
    reserve = terms.required_reserve(staked) + draw(st.one_of(st.just(0), st.integers(0, 2 * staked)))
    value = draw(st.one_of(st.integers(0, staked), st.integers(staked, 3 * staked), st.just(staked), st.just(0)))
    repay = draw(st.one_of(st.just("full"), st.just("none"), st.integers(1, 4 * staked + 1)))
    deposits = {f"backer{i}": u for i, u in enumerate(units)}
    return terms, deposits, reserve, value, repay


def dust_bound(phase: Phase, gain: bool, n: int) -> int:
    if n == 1:
        return 0
    settled = 2 * n - 1 if gain else 5 * n - 3
    return settled if phase == Phase.Settled else settled + n


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_claims_never_exceed_holdings_and_no_nmr_is_lost(scenario):
    terms, deposits, reserve, value, repay = scenario
    agreement = run(terms, deposits, reserve, value, repay)
    held = agreement.balance
    # what the agreement holds for the backers is exactly the repayment plus the reserve it kept
    if agreement.phase == Phase.Settled:
        assert held == agreement.repaid + agreement.reserve_used
    else:
        assert agreement.phase == Phase.Defaulted
        assert held == agreement.default_pool == agreement.repaid + agreement.reserve_used
    claims = claim_all(agreement)
    assert sum(claims.values()) <= held
    # after the last claim the dust is swept: the agreement ends empty and every wei paid in went to someone
    assert agreement.balance == 0
    assert sum(agreement.transfers.values()) == 0
    # conservation counted from the records: deposits + reserve + repayment == upfront fee + staked capital +
    # reserve returned + what was held for the backers (claims plus dust)
    capital = sum(terms.unit_size * u for u in deposits.values())
    assert capital + agreement.reserve + agreement.repaid == (
        agreement.locked.upfront_fee + agreement.locked.staked + agreement.reserve_returned + held
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_dust_is_bounded(scenario):
    terms, deposits, reserve, value, repay = scenario
    agreement = run(terms, deposits, reserve, value, repay)
    held = agreement.balance
    dust = held - sum(claim_all(agreement).values())
    gain = agreement.matured.final_value >= agreement.locked.staked
    assert 0 <= dust <= dust_bound(agreement.phase, gain, len(deposits))


def test_dust_can_exceed_backers_minus_one():
    """Dust can exceed n-1 wei: 2 backers, 2 wei of dust (within the 2n-1 bound after a gain).

    Units of 1 wei, S = 2, V = 7, 50% profit share: fees = floor(5 * 0.5) = 2, amountDue = 7 - 2 + 1 = 6, but each
    backer is owed V_b - fee_b = 3 - 1 = 2, so 6 - 4 = 2 wei return to the modeller."""
    agreement = run(seed_terms(unit_size=1), {"a": 1, "b": 1}, 1, 7)
    assert agreement.matured.amount_due == 6
    assert claim_all(agreement) == {"a": 2, "b": 2}
    assert agreement.transfers[MODELLER] == -1 - 6 + 1 + 2  # reserve 1 posted, repaid 6, reserve back, 2 wei dust


@settings(max_examples=200, deadline=None)
@given(scenarios(backers=st.just(1)))
def test_single_backer_gets_the_spec_formula(scenario):
    """With one backer the aggregates are exact: his payout is the spec's formula, with no rounding dust."""
    terms, deposits, reserve, value, repay = scenario
    ((backer, units),) = deposits.items()
    agreement = run(terms, deposits, reserve, value, repay)
    capital = units * terms.unit_size
    fee = capital * terms.upfront_fee_bps // BPS
    staked = capital - fee
    if value >= staked:
        owed = value - (value - staked) * terms.profit_share_for(units) // BPS
    else:
        owed = value + min(reserve, (staked - value) * terms.burn_share_bps // BPS)
    repaid = agreement.repaid
    expected = owed if agreement.phase == Phase.Settled else repaid + min(reserve, owed - repaid)
    assert claim_all(agreement) == {backer: expected}
    assert agreement.transfers[MODELLER] == fee + (reserve - (expected - repaid)) - reserve - repaid


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_default_pays_each_backer_at_most_what_he_is_owed(scenario):
    terms, deposits, reserve, value, repay = scenario
    assume(repay != "full")
    agreement = run(terms, deposits, reserve, value, repay)
    assume(agreement.phase == Phase.Defaulted)
    owed = {b: agreement.owed_to(b) for b in deposits}
    claims = claim_all(agreement)
    for backer in deposits:
        assert claims[backer] <= owed[backer]
    assert sum(owed.values()) <= agreement.matured.owed_total


@settings(max_examples=200, deadline=None)
@given(scenarios(backers=st.just(1)), st.integers(1, 10**20))
def test_more_final_value_never_pays_a_single_backer_less(scenario, step):
    terms, deposits, reserve, value, _ = scenario
    lower = claim_all(run(terms, deposits, reserve, value, "full"))
    higher = claim_all(run(terms, deposits, reserve, value + step, "full"))
    assert higher["backer0"] >= lower["backer0"]


# ---------------------------------------------------------------------------------------------- round returns


def names(count):
    return [f"S{i}" for i in range(count)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_round_return_clamps_and_truncates_toward_zero(data):
    count = data.draw(st.integers(1, MAX_SCORES))
    scores = data.draw(st.lists(st.integers(-ONE, ONE), min_size=count, max_size=count))
    multipliers = data.draw(st.lists(st.integers(0, 1000 * ONE), min_size=count, max_size=count))
    payout = data.draw(st.integers(0, ONE))
    clip = data.draw(st.integers(1, ONE))
    result = round_return(scores, multipliers, payout, clip, names=names(count))
    exact = Fraction(payout * sum(m * s for m, s in zip(multipliers, scores)), ONE * ONE)
    assert -clip <= result <= clip
    if exact >= clip:
        assert result == clip
    elif exact <= -clip:
        assert result == -clip
    else:
        assert result == int(exact)  # int() of a Fraction truncates toward zero
        assert abs(result) <= abs(exact) < abs(result) + 1


@pytest.mark.parametrize(
    "scores, multipliers, payout, clip, expected",
    [
        ([-3], [ONE // 2], ONE, ONE, -1),  # -1.5 wei truncates to -1, not floor's -2
        ([3], [ONE // 2], ONE, ONE, 1),
        ([ONE // 50, ONE // 100], [ONE // 2, 2 * ONE], ONE, ONE // 20, ONE // 100 + ONE // 50),  # 0.5*2% + 2*1%
        ([ONE // 10, ONE // 10], [ONE // 2, 2 * ONE], ONE, ONE // 20, ONE // 20),  # 25% clipped to 5%
        ([-ONE // 10], [2 * ONE], ONE, ONE // 20, -ONE // 20),
        ([ONE // 10], [2 * ONE], ONE // 2, ONE, ONE // 10),  # payout factor halves it
    ],
)
def test_round_return_examples(scores, multipliers, payout, clip, expected):
    assert round_return(scores, multipliers, payout, clip) == expected


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        (([], [], ONE, ONE), {}, "NoScores"),
        (([0] * 9, [0] * 9, ONE, ONE), {}, "TooManyScores"),
        (([0, 0], [0], ONE, ONE), {}, "LengthMismatch"),
        (([0], [0], ONE, ONE), {"names": ["a", "b"]}, "LengthMismatch"),
        (([0], [0], ONE + 1, ONE), {}, "PayoutFactorOutOfBounds"),
        (([0], [0], ONE, 0), {}, "ClipOutOfBounds"),
        (([0], [0], ONE, ONE // 10), {"max_clip": ONE // 20}, "ClipOutOfBounds"),
        (([0], [0], ONE, ONE), {"names": [""]}, "EmptyScoreName"),
        (([0, 0], [0, 0], ONE, ONE), {"names": ["CORR20", "CORR20"]}, "DuplicateScoreName"),
        (([ONE + 1], [0], ONE, ONE), {}, "ScoreOutOfBounds"),
        (([0], [11 * ONE], ONE, ONE), {"max_multiplier": 10 * ONE}, "MultiplierOutOfBounds"),
    ],
)
def test_round_return_rejects_bad_reports(args, kwargs, error):
    with pytest.raises(ContractError) as caught:
        round_return(*args, **kwargs)
    assert caught.value.name == error


# ---------------------------------------------------------------------------------------------- index


@settings(max_examples=300, deadline=None)
@given(st.integers(10**12, 10**36), st.integers(0, ONE), st.integers(-ONE, ONE))
def test_next_index_matches_float_math(previous, exposure, round_return_):
    index = next_index(previous, exposure, round_return_)
    expected = previous * (1 + (exposure / ONE) * (round_return_ / ONE))
    # integer truncation costs at most previous/1e18 + 1 wei; float carries ~1e-16 relative error
    assert abs(index - expected) <= previous * 1e-12 + 2
    assert index >= 0
    if round_return_ == 0 or exposure == 0:
        assert index == previous
    if round_return_ > 0 and exposure > 0:
        assert index >= previous


def test_index_path_and_wipe_out():
    assert index_path(ONE, [ONE // 10, -ONE // 10]) == [ONE, 11 * ONE // 10, 99 * ONE // 100]
    # a full loss at full exposure takes the index to MIN_GROWTH of its value, never to zero (issue 20 N-3)
    assert next_index(ONE, ONE, -ONE) == 10**12
    assert next_index(10**12, ONE, ONE // 10) == 11 * 10**11
    with pytest.raises(ContractError) as caught:
        next_index(INDEX_LIMIT, ONE, ONE)
    assert caught.value.name == "IndexOverflow"

"""Issue 12 L-1 in the reference model: a posted reserve caps the deposits, so a deposit front-running `lock`
cannot make the modeller's reserve insufficient (the chain's side: tests/chain/adversarial/test_ordering.py)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from backing.model.agreement import ONE, Agreement, ContractError, Phase, Terms
from backing.model.series import Series, example_terms

M = "modeller"


def offer(**overrides) -> Terms:
    values = dict(
        unit_size=100 * ONE,
        min_units=1,
        max_units=10,
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


def refused(name, fn, *args):
    try:
        fn(*args)
    except ContractError as error:
        assert error.name == name, error
        return error.args_
    raise AssertionError(f"{name} expected")


def test_a_posted_reserve_stops_the_deposit_it_would_not_cover():
    a = Agreement(terms=offer(), modeller=M)
    a.deposit("alice", 4, 0)
    a.post_reserve(M, 200 * ONE)  # covers the 4 units held
    assert a.deposit_room() == 0
    assert refused("DepositBeyondReserve", a.deposit, "outsider", 1, 0) == (250 * ONE, 200 * ONE)
    a.lock(M, 0, start_round=1)
    assert a.phase == Phase.Locked and a.locked.staked == 400 * ONE


def test_deposits_before_the_reserve_stay_and_a_top_up_raises_the_cap():
    a = Agreement(terms=offer(), modeller=M)
    a.deposit("alice", 6, 0)
    a.post_reserve(M, 100 * ONE)  # covers 2 of the 6 units: nothing is refunded, nothing more is taken
    assert a.deposit_cap == 6 and a.total_units == 6
    refused("DepositBeyondReserve", a.deposit, "bob", 1, 0)
    assert refused("CapacityExceeded", a.deposit, "bob", 5, 0) == (5, 0)
    a.withdraw("alice", 1)
    a.deposit("bob", 1, 0)  # the room a withdrawal frees is taken again, never more than was held
    a.post_reserve(M, 400 * ONE)
    assert a.deposit_cap == 10 and a.deposit_room() == 4


@settings(max_examples=200, deadline=None)
@given(
    unit=st.integers(1, 10**21),
    ratio=st.integers(0, 40_000),
    fee=st.integers(0, 5_000),
    reserve=st.integers(0, 10**24),
)
def test_the_cap_is_the_most_units_the_reserve_covers(unit, ratio, fee, reserve):
    terms = offer(unit_size=unit, reserve_ratio_bps=ratio, upfront_fee_bps=fee, max_units=1_000)
    a = Agreement(terms=terms, modeller=M)
    covered = a.units_covered(reserve)
    assert covered == 1_000 or terms.reserve_for_capital((covered + 1) * unit) > reserve
    assert covered == 0 or terms.reserve_for_capital(covered * unit) <= reserve


def test_a_series_deposit_beyond_the_posted_reserve_is_refused():
    s = Series(M)
    t = example_terms(0)
    s.open_agreement(M, t, 0)
    s.deposit("alice", 4, 0)
    need = t.base.reserve_for_capital(4 * t.base.unit_size)
    s.post_reserve(M, need)
    args = refused("DepositBeyondReserve", s.deposit, "outsider", 1, 0)
    assert args == (t.base.reserve_for_capital(5 * t.base.unit_size), need)

"""The cohort cap on chain: nine agreements, each a loss, each with fresh capital at a new price, so the ninth
lock would hold nine distinct marks; the cheapest lift (the least W_lo (hi - lo) / lo) merges, the lower lifted to
the higher.
Then a gain passes some marks and not others: every fee matches the reference model to the wei.

Runs once (NMR mock, clone): it walks nine agreements."""

import pytest
from brownie import chain

from backing.model.agreement import ONE, Terms
from backing.model.series import MAX_COHORTS, SeriesTerms
from backing.onchain.series import SeriesMirror, create_series, post_lockup


@pytest.fixture(scope="module")
def token_kind():
    return "nmr"


@pytest.fixture(scope="module")
def deployment():
    return "clone"


# price moves of the nine agreements: eight losses of different sizes, then a gain of 1.3
GROWTHS = [0.9, 0.95, 0.8, 0.97, 0.85, 0.99, 0.9, 0.93, 1.3]
NAMES = ["alice", "bob", "carol", "dave", "erin"]


def small_terms(staking, model_id) -> SeriesTerms:
    base = Terms(
        unit_size=10 * ONE,
        min_units=1,
        max_units=1000,
        profit_share_bps=2000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=1,
        open_until=chain.time() + 29 * 86400,
        wind_down=7 * 86400,
        staking_address=staking.address,
        model_id=bytes.fromhex(model_id[2:]),
    )
    return SeriesTerms(base, clawback_bps=2500, clawback_agreements=1)


def test_cap_merges_the_cheapest_lift(series_factory, model_id, modeller, token, staking, backers, outsider, signed):
    series = create_series(series_factory, model_id, modeller)
    names = dict(zip(NAMES, list(backers) + [outsider]))
    m = SeriesMirror(series, token, {"modeller": modeller, **names}, staking.address)
    for k, growth in enumerate(GROWTHS):
        m.open(small_terms(staking, model_id))
        if k:
            previous = m.model.agreements[k - 1]
            for pid, p in sorted(previous.positions.items()):
                m.roll(pid, p.owner)
        m.deposit(NAMES[k % len(NAMES)], 1 + k)
        a = m.model.agreements[k]
        m.post_reserve(a.terms.base.required_reserve(a.capital), k)
        # marks and capital before the lock (fresh capital: the price now); every fee rate is 2000 bps here
        before = [(p.mark if p.mark is not None else m.model.price, p.capital) for p in a.positions.values()]
        tx = m.lock()[1]
        if k < MAX_COHORTS:
            assert m.model.live_cohorts(k) == k + 1 and not a.cap_merges
            assert "CohortsMerged" not in tx.events
        else:
            # nine marks before the cap: one adjacent pair merged, on chain as in the model
            m.check()
            assert len(a.cap_merges) == 1 and m.model.live_cohorts(k) == MAX_COHORTS
            lower, upper = a.cap_merges[0]
            assert (tx.events["CohortsMerged"]["lower"], tx.events["CohortsMerged"]["upper"]) == (lower, upper)
            # the cheapest lift: the least floor(W_lo (hi - lo) / lo), W = capital x fee rate of the cohort at lo
            marks = sorted({mark for mark, _ in before})
            weight = {mark: sum(c * 2000 for x, c in before if x == mark) for mark in marks}
            costs = [(weight[marks[i]] * (marks[i + 1] - marks[i]) // marks[i], i) for i in range(len(marks) - 1)]
            assert (lower, upper) == (marks[min(costs)[1]], marks[min(costs)[1] + 1])
            assert list(series.cohortsOf(k)[0]) == sorted(x for x in marks if x != lower)
        post_lockup(signed, series, k, int(growth * ONE), 1)
        chain.mine()
        m.mature(k)
        m.repay(k)
        if k % 3 == 2:
            m.check()
    last = m.model.agreements[-1]
    paid = [p for p in last.positions.values() if p.fee]
    unpaid = [p for p in last.positions.values() if not p.fee]
    assert paid and unpaid  # the gain passed some marks and not others
    for pid in sorted(last.positions):
        m.claim(pid)
    m.check()

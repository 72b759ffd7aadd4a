"""Fixtures for the adversarial suite: tests written as an attacker would try them.

Each test's docstring names the attack and the rule that stops it; the assertions read facts from the chain
(balances, positions, events, exact custom errors), not only agreement with the reference model. The attacks do
not depend on the token or on clone versus direct deployment, so everything runs once (NMR mock, clone)."""

from dataclasses import replace

import pytest
from brownie import accounts, chain

from backing.model.agreement import ONE
from backing.model.series import Commitment, example_terms
from backing.onchain.agreement import set_allowance
from backing.onchain.series import post_lockup, terms_args, wait_for_rolls
from support.chain import MIN_ROUND_SPACING
from support.oracle import BOND

SINK = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def token_kind():
    return "nmr"


@pytest.fixture(scope="module")
def deployment():
    return "clone"


@pytest.fixture
def parties(token, series):
    """Every address NMR can sit with in these tests (all ten accounts, the series, the bond sink)."""

    def balances():
        holders = [*accounts[:10], series, SINK]
        return {str(getattr(a, "address", a)): token.balanceOf(a) for a in holders}

    return balances


@pytest.fixture
def h(series, token, signed, modeller, staking, model_id, backers):
    """Small helpers around one series: 1-NMR units, one-round lockups, one-hour wind-down."""

    class H:
        def terms(self, **kw):
            commitments = kw.pop("commitments", (Commitment(3, 1500),))
            t = example_terms(0, commitments=commitments)
            base = replace(t.base, unit_size=ONE, min_units=2, max_units=20, lockup_rounds=1, wind_down=3600,
                           open_until=chain.time() + 29 * 86400, staking_address=staking.address,
                           model_id=bytes.fromhex(model_id[2:]))
            base = replace(base, **{k: v for k, v in kw.items() if k in base.__dataclass_fields__})
            return replace(t, base=base, **{k: v for k, v in kw.items() if k not in base.__dataclass_fields__})

        def open(self, t=None, sender=None):
            return series.openAgreement(*terms_args(t or self.terms()), {"from": sender or modeller})

        def fund(self, account, amount):
            token.mintTo(account, amount, {"from": account})
            set_allowance(token, account, series, token.allowance(account, series) + amount)

        def deposit(self, backer, units, commit=0):
            self.fund(backer, units * ONE)
            return series.deposit(units, commit, {"from": backer})

        def reserve(self, index, amount):
            self.fund(modeller, amount)
            return series.postReserve(index, amount, {"from": modeller})

        def fresh_schedule(self):
            """Announce a round closing in an hour if the schedule has none ahead (so a later agreement locks)."""
            oracle = signed.oracle
            if chain.time() + 120 >= oracle.currentRoundCloseTime() + MIN_ROUND_SPACING:
                signed.announce(oracle.currentRound() + 1, [chain.time() + 3600])

        def locked(self, index=0, deposits=((0, 5, 0),)):
            """Open (if needed), deposit, post the reserve, lock. Returns the position ids."""
            if series.agreementCount() == index:
                self.open()
            ids = [self.deposit(backers[who], units, commit).return_value for who, units, commit in deposits]
            self.reserve(index, sum(u for _, u, _ in deposits) * ONE)
            wait_for_rolls(series)
            self.fresh_schedule()
            series.lock({"from": modeller})
            return ids

        def mature(self, index, growth=ONE):
            post_lockup(signed, series, index, growth, 1)
            chain.mine()
            return series.mature(index, {"from": modeller})

        def settle(self, index, growth=ONE):
            self.mature(index, growth)
            due = series.agreement(index)["amountDue"] - series.agreement(index)["repaid"]
            self.fund(modeller, due)
            return series.repay(index, due, {"from": modeller})

    return H()


@pytest.fixture
def watcher(oracle, deployer, outsider, fund_nmr):
    """`outsider` as a watcher holding exactly one bond, approved to the oracle."""
    oracle.setWatcher(outsider, True, {"from": deployer})
    fund_nmr(outsider, BOND, oracle)
    return outsider

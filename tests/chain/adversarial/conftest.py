"""Fixtures for the adversarial suite: tests written as an attacker would try them.

Each test's docstring names the attack and the rule that stops it; the assertions read facts from the chain
(balances, positions, events, exact custom errors), not only agreement with the reference model. The attacks do
not depend on the token or on clone versus direct deployment, so everything runs once (NMR mock, clone)."""

import pytest
from brownie import accounts

from support.oracle import BOND
from support.series import SeriesHelper

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
    return SeriesHelper(series, token, signed, modeller, staking, model_id, backers, fresh=True)


@pytest.fixture
def watcher(oracle, deployer, outsider, fund_nmr):
    """`outsider` as a watcher holding exactly one bond, approved to the oracle."""
    oracle.setWatcher(outsider, True, {"from": deployer})
    fund_nmr(outsider, BOND, oracle)
    return outsider

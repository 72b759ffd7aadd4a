"""The stateful machines send a fixed gas limit: brownie then sends each transaction at once instead of asking the
node for an estimate first (eth_estimateGas, about half of a transaction's time on ganache; for a transaction that
reverts the estimate fails and brownie sends it anyway with ``reverting_tx_gas_limit``). What runs, what reverts
and with which error is the same; only the gas limit in the transaction differs, and no machine checks it."""

import pytest
from brownie import network

GAS_LIMIT = 8_000_000  # above every transaction the machines send; the block limit is 30,000,000


@pytest.fixture(autouse=True)
def fixed_gas_limit():
    auto = network.gas_limit()
    network.gas_limit(GAS_LIMIT)
    yield
    network.gas_limit(auto or "auto")

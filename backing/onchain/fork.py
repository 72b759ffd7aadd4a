"""Fork simulation: run a scenario on a ganache fork of a given RPC URL (Ethereum mainnet in real use).

    backing simulate SCENARIO --fork-url https://eth-mainnet.example/v2/KEY --nmr-holder 0xHOLDER

``add_fork_network`` registers a brownie development network (in memory only; ``~/.brownie`` is not touched)
whose ``cmd_settings`` make brownie launch ``ganache-cli --fork.url URL --hardfork shanghai`` on a loopback port
with the holder unlocked, and kill it again on disconnect. ``prepare`` then gives the holder ETH for gas and
returns the real NMR (at its mainnet address, with the mock's ABI, which has every function we call) and a
``HolderFunder`` that pays backers, the modeller's reserve and Numerai's payouts out of the holder's balance.
The oracle and the factory are deployed fresh on the fork by the scenario runner.
"""

from __future__ import annotations

from backing.simulate import NMR_MAINNET, HolderFunder

FORK_NETWORK = "ganache-fork"


def add_fork_network(fork_url: str, port: int, holder: str, network_id: str = FORK_NETWORK) -> str:
    """Register the fork network with brownie (this process only). @return its id, for ``network.connect``."""
    from brownie._config import CONFIG

    CONFIG.networks[network_id] = {
        "id": network_id,
        "name": f"fork of {fork_url}",
        "host": "http://127.0.0.1",
        "cmd": "ganache-cli",
        "cmd_settings": {
            "port": int(port),
            "fork": fork_url,
            "evm_version": "shanghai",
            "gas_limit": 30000000,
            "accounts": 10,
            "mnemonic": "brownie",
            "unlock": [holder],
        },
    }
    return network_id


def prepare(holder: str, nmr_address: str = NMR_MAINNET, eth: int = 10**20):
    """On the connected fork: unlock ``holder``, give it ETH for gas, and return (token, funder)."""
    from brownie import Contract, MockNMR, accounts, web3

    web3.provider.make_request("evm_setAccountBalance", [holder, hex(eth)])
    account = accounts.at(holder, force=True)
    if not web3.eth.get_code(nmr_address):
        raise RuntimeError(f"no contract at {nmr_address} on the forked chain: is the fork URL a mainnet node?")
    token = Contract.from_abi("NMR", nmr_address, MockNMR.abi)
    return token, HolderFunder(token, account)

"""Fork simulation: run a scenario on a local fork of an RPC URL (Ethereum mainnet in real use), on the real NMR.

    backing simulate SCENARIO --fork-url https://eth-mainnet.example/v2/KEY [--fork-block N] [--nmr-holder 0x...]

``backing.onchain.node`` checks the source (it answers, has the block, has code at NMR's mainnet address) and
starts the fork: anvil by default (it follows the fork's hardfork, so today's mainnet works), ganache 7 with
``--node ganache`` (Shanghai at most). ``prepare`` then returns the real NMR (at its mainnet address, with the mock's
ABI, which has every function we call) and a funder for backers, the modeller's reserve and Numerai's payouts:

* ``--nmr-holder ADDRESS``: a ``HolderFunder`` pays out of that holder's balance (impersonated, given ETH for gas);
* no holder (anvil only): a ``StorageFunder`` writes balances into NMR's storage with ``anvil_setStorageAt``, at
  the slot of its ``balanceOf`` mapping, found by probing (NMR's total supply is left as it is).

The oracle and the factory (or the series) are deployed fresh on the fork by the scenario runner.
"""

from __future__ import annotations

from backing.errors import simulation_problem
from backing.simulate.scenario import NMR_MAINNET
from backing.simulate.single import HolderFunder

#: Storage slots probed for NMR's balanceOf mapping (Solidity puts it at a small slot number).
BALANCE_SLOTS = 32


def _set_balance(web3, kind: str, address: str, wei: int) -> None:
    method = "anvil_setBalance" if kind == "anvil" else "evm_setAccountBalance"
    web3.provider.make_request(method, [address, hex(wei)])


def prepare(kind: str, holder: str | None, nmr_address: str = NMR_MAINNET, eth: int = 10**20):
    """On the connected fork: the real NMR and its funder (a holder's balance, or storage writes on anvil).
    @return (token, funder). @raise SimulationSetupError (holder_empty, fork_needs_anvil, storage_write_failed)."""
    from brownie import Contract, MockNMR, accounts, web3

    token = Contract.from_abi("NMR", nmr_address, MockNMR.abi)
    if holder:
        if kind == "anvil":
            web3.provider.make_request("anvil_impersonateAccount", [holder])
        _set_balance(web3, kind, holder, eth)
        account = accounts.at(holder, force=True)
        if token.balanceOf(holder) == 0:
            raise simulation_problem("holder_empty", holder=holder)
        return token, HolderFunder(token, account)
    if kind != "anvil":
        raise simulation_problem("fork_needs_anvil")
    return token, StorageFunder(token, web3)


def _balance_key(address: str, slot: int) -> str:
    """The storage key of ``mapping(address => uint256)`` at `slot`, for `address` (Solidity's layout)."""
    from eth_utils import keccak

    return "0x" + keccak(bytes.fromhex(address[2:].rjust(64, "0")) + slot.to_bytes(32, "big")).hex()


class StorageFunder:
    """Gives NMR on an anvil fork by writing the receiver's balance into the token's storage."""

    def __init__(self, token, web3):
        self.token, self.web3 = token, web3
        self.slot = self._find_slot()

    def _write(self, key: str, value: int) -> None:
        self.web3.provider.make_request("anvil_setStorageAt", [self.token.address, key, "0x" + f"{value:064x}"])

    def _find_slot(self) -> int:
        probe = "0x000000000000000000000000000000000000b0b5"
        marker = 0x5EED_0F_BA1A_9CE
        for slot in range(BALANCE_SLOTS):
            key = _balance_key(probe, slot)
            before = int.from_bytes(bytes(self.web3.eth.get_storage_at(self.token.address, key)), "big")
            self._write(key, marker)
            found = self.token.balanceOf(probe) == marker
            self._write(key, before)
            if found:
                return slot
        raise simulation_problem("storage_write_failed", nmr=self.token.address, last=BALANCE_SLOTS - 1)

    def fund(self, account, amount: int) -> None:
        if amount:
            balance = self.token.balanceOf(account) + amount
            self._write(_balance_key(str(account), self.slot), balance)
            if self.token.balanceOf(account) != balance:
                raise simulation_problem("storage_write_failed", nmr=self.token.address, last=BALANCE_SLOTS - 1)

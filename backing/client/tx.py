"""One way to send a transaction: simulate, summarise in words, confirm, sign, send, wait, report the outcome.

A plan is a list of ``Call``s (e.g. an NMR approval, then a deposit) shown together and confirmed once. Each call
is simulated (eth_call) and estimated before anything is sent; a call that needs an earlier one (a deposit needs
its approval) is simulated again right before it is sent. Contract errors come back in plain words
(``backing.client.errors``) with exit code 7 (refused, nothing sent) or 8 (mined but failed).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from backing.client import EXIT_BALANCE, EXIT_DECLINED, EXIT_NODE, EXIT_REFUSED, EXIT_REVERTED, CliError
from backing.client.errors import decode_revert, explain_revert
from backing.client.node import node_errors
from oracle.units import ONE

GWEI = 10**9
DEFAULT_PRIORITY_FEE = 1 * GWEI
RECEIPT_TIMEOUT = 300


def nmr(wei: int) -> str:
    sign = "-" if wei < 0 else ""
    wei = abs(wei)
    text = f"{wei // ONE}.{wei % ONE:018d}".rstrip("0").rstrip(".")
    return f"{sign}{text} NMR"


def eth(wei: int) -> str:
    text = f"{wei // ONE}.{wei % ONE:018d}".rstrip("0").rstrip(".")
    return f"{text} ETH"


@dataclass
class Call:
    """One transaction: `function` of `contract` with `args`, described for a person.

    @param label What the contract is, in words ("NMR", "agreement 0x12..").
    @param words The arguments in words ("3 units = 300 NMR").
    @param after_previous True when it can only succeed once the calls before it are mined (no dry-run replay).
    @param outcome receipt -> a line saying what happened.
    @param deploy_data For a deployment: the creation bytecode with constructor arguments (contract is None).
    @param kind The contract's name ("BackingSeries"): errors that mean different things in different contracts
        are put in the words of this one (``backing.errors``).
    """

    label: str
    function: str
    args: tuple = ()
    contract: object = None
    words: str = ""
    after_previous: bool = False
    outcome: Callable | None = None
    deploy_data: str | None = None
    kind: str = ""
    gas: int | None = field(default=None, init=False)
    simulated: bool = field(default=False, init=False)

    def fn(self):
        return getattr(self.contract.functions, self.function)(*self.args)


def _revert_data(error) -> object:
    data = getattr(error, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if data is None and error.args:
        first = error.args[0]
        if isinstance(first, dict):
            data = first.get("data")
        elif isinstance(first, str) and first.startswith("0x"):
            data = first
    if isinstance(data, str) and data.startswith("execution reverted"):
        return None
    return data


def _is_revert(error) -> bool:
    from web3.exceptions import ContractLogicError

    if isinstance(error, ContractLogicError):
        return True
    text = str(error).lower()
    return "revert" in text or "invalid opcode" in text


def refusal(error, label: str, kind: str = "") -> CliError:
    """A CliError for a simulated call that reverted (nothing sent); `kind` names the contract (see Call.kind)."""
    data = _revert_data(error)
    words = explain_revert(data, kind) if decode_revert(data) else _reason_text(error)
    return CliError(EXIT_REFUSED, f"{label}: {words}; nothing sent")


def _reason_text(error) -> str:
    text = str(error)
    for marker in ("execution reverted: ", "reverted with reason string '", "revert "):
        if marker in text:
            reason = text.split(marker, 1)[1].strip("'\") ")
            return f"the contract refused: {reason}"
    return "the contract refused without a known reason"


class Sender:
    """Sends plans from one unlocked account, printing to `out` (summary, hashes, outcomes) and `progress`."""

    def __init__(
        self,
        w3,
        account,
        chain_id: int,
        yes: bool = False,
        dry_run: bool = False,
        out=sys.stdout,
        progress=sys.stderr,
        timeout: float = RECEIPT_TIMEOUT,
    ):
        self.w3, self.account, self.chain_id = w3, account, chain_id
        self.yes, self.dry_run, self.out, self.progress, self.timeout = yes, dry_run, out, progress, timeout

    @property
    def address(self) -> str:
        return self.account.address

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # ------------------------------------------------------------------ simulation
    def _tx_fields(self) -> dict:
        return {"from": self.address}

    def simulate(self, call: Call) -> None:
        """eth_call + estimate; raises CliError(EXIT_REFUSED) when the contract would refuse."""
        try:
            if call.deploy_data is not None:
                tx = {"from": self.address, "data": call.deploy_data}
                self.w3.eth.call(tx)
                call.gas = self.w3.eth.estimate_gas(tx)
            else:
                call.fn().call(self._tx_fields())
                call.gas = call.fn().estimate_gas(self._tx_fields())
            call.simulated = True
        except node_errors():
            raise CliError(EXIT_NODE, "the node stopped answering while simulating; nothing sent") from None
        except Exception as error:  # noqa: BLE001 -- web3 raises several types for a revert
            if not _is_revert(error):
                raise
            if call.deploy_data is not None and call.after_previous and self._ganache():
                # ganache simulates a creation at the wrong address (one nonce ahead), so a constructor that
                # checks its own address (SeriesFactory) fails there only: send with an upper bound instead
                # (32000 + calldata + code deposit of at most the creation code's size, plus room for the
                # constructor); the receipt's status is still checked.
                size = len(call.deploy_data) // 2
                call.gas = 53_000 + 16 * size + 200 * size + 200_000
                return
            raise refusal(error, f"{call.label}.{call.function}", call.kind) from None

    def _ganache(self) -> bool:
        try:
            return "ganache" in self.w3.client_version.lower()
        except Exception:  # noqa: BLE001
            return False

    def fees(self) -> tuple[int, int, int]:
        """(base fee, priority fee, max fee per gas) in wei."""
        try:
            block = self.w3.eth.get_block("latest")
            base = int(block.get("baseFeePerGas", 0) or 0)
            try:
                priority = int(self.w3.eth.max_priority_fee)
            except Exception:  # noqa: BLE001 -- not every node implements eth_maxPriorityFeePerGas
                priority = DEFAULT_PRIORITY_FEE
        except node_errors():
            raise CliError(EXIT_NODE, "the node stopped answering; nothing sent") from None
        return base, priority, 2 * base + priority

    # ------------------------------------------------------------------ the plan
    def run(self, calls: list[Call], title: str) -> list:
        """Simulate, summarise, confirm, then send each call in turn. @return the receipts (none on a dry run)."""
        for call in calls:
            if not call.after_previous:
                self.simulate(call)
        base, priority, max_fee = self.fees()
        self.say(title)
        self.say(f"  from {self.address} on chain id {self.chain_id}")
        worst = 0
        for i, call in enumerate(calls, 1):
            target = "new contract" if call.deploy_data is not None else call.contract.address
            self.say(f"  {i}. {call.label}.{call.function}({call.words})  [{target}]")
            if call.gas is not None:
                self.say(
                    f"     gas {call.gas:,}, about {eth(call.gas * (base + priority))} at base fee "
                    f"{base / GWEI:.3g} gwei (at most {eth(call.gas * max_fee)})"
                )
                worst += call.gas * max_fee
            else:
                self.say("     gas estimated once the step before it is mined")
        try:
            balance = self.w3.eth.get_balance(self.address)
        except node_errors():
            raise CliError(EXIT_NODE, "the node stopped answering; nothing sent") from None
        if balance < worst:
            raise CliError(
                EXIT_BALANCE,
                f"{self.address} holds {eth(balance)}, the gas may cost up to {eth(worst)}: "
                "fund it with ETH; nothing sent",
            )
        if self.dry_run:
            self.say(
                "dry run: every step simulated"
                + (" up to the ones that need the step before" if any(c.after_previous for c in calls) else "")
                + "; nothing sent"
            )
            return []
        self.confirm()
        receipts = []
        for call in calls:
            if call.after_previous:
                self.simulate(call)  # the earlier steps are mined now: this is the real check
            receipts.append(self.send(call, max_fee, priority))
        return receipts

    def confirm(self) -> None:
        if self.yes:
            return
        if not sys.stdin.isatty():
            raise CliError(EXIT_DECLINED, "no terminal to confirm on: add --yes to send without asking; nothing sent")
        answer = input("Send? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise CliError(EXIT_DECLINED, "not confirmed; nothing sent")

    def send(self, call: Call, max_fee: int, priority: int):
        try:
            nonce = self.w3.eth.get_transaction_count(self.address, "pending")
            fields = {
                "from": self.address,
                "nonce": nonce,
                "chainId": self.chain_id,
                "gas": call.gas + call.gas // 5 + 10_000,
                "maxFeePerGas": max(max_fee, self.fees()[2]),
                "maxPriorityFeePerGas": priority,
            }
            if call.deploy_data is not None:
                tx = {**fields, "data": call.deploy_data, "value": 0}
            else:
                tx = call.fn().build_transaction(fields)
            signed = self.account.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except node_errors():
            raise CliError(
                EXIT_NODE, f"the node stopped answering before {call.label}.{call.function} was sent; " "nothing sent"
            ) from None
        hex_hash = "0x" + bytes(tx_hash).hex()
        self.say(f"sent {call.label}.{call.function}: {hex_hash}")
        receipt = self.wait(hex_hash, f"{call.label}.{call.function}")
        if receipt["status"] != 1:
            raise CliError(
                EXIT_REVERTED,
                f"{call.label}.{call.function} failed in block {receipt['blockNumber']} "
                f"({self._replay_reason(call, receipt)}): {hex_hash}",
            )
        words = call.outcome(receipt) if call.outcome else "done"
        self.say(f"  confirmed in block {receipt['blockNumber']} (gas used {receipt['gasUsed']:,}): {words}")
        return receipt

    def _replay_reason(self, call: Call, receipt) -> str:
        try:
            if call.deploy_data is not None:
                self.w3.eth.call({"from": self.address, "data": call.deploy_data}, receipt["blockNumber"] - 1)
            else:
                call.fn().call(self._tx_fields(), block_identifier=receipt["blockNumber"] - 1)
        except Exception as error:  # noqa: BLE001
            if _is_revert(error):
                return (
                    explain_revert(_revert_data(error), call.kind)
                    if decode_revert(_revert_data(error))
                    else _reason_text(error)
                )
        return "reason unknown"

    def wait(self, tx_hash: str, what: str):
        from web3.exceptions import TransactionNotFound

        start = time.monotonic()
        tty = self.progress.isatty()
        shown = False
        while True:
            try:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
                if receipt is not None:
                    if tty and shown:
                        print("\r" + " " * 60 + "\r", end="", file=self.progress, flush=True)
                    return receipt
            except TransactionNotFound:
                pass
            except node_errors():
                raise CliError(
                    EXIT_NODE,
                    f"the node stopped answering while waiting for {what} ({tx_hash}); it "
                    "may still be mined: check that hash once the node is back",
                ) from None
            elapsed = time.monotonic() - start
            if elapsed > self.timeout:
                raise CliError(
                    EXIT_NODE,
                    f"no receipt for {what} after {int(elapsed)} s ({tx_hash}); it may still be "
                    "mined: check that hash before sending again",
                )
            if tty:
                print(
                    f"\rwaiting for the receipt of {what}... {int(elapsed)} s", end="", file=self.progress, flush=True
                )
            elif not shown:
                print(f"waiting for the receipt of {what}...", file=self.progress, flush=True)
            shown = True
            time.sleep(0.25)


def allowance_calls(token, owner: str, spender: str, needed: int, spender_label: str) -> list[Call]:
    """The NMR approvals that make allowance(owner, spender) exactly `needed` (NMR only approves from or to zero:
    an existing non-zero allowance goes through zero first). Empty when it already is."""
    current = token.functions.allowance(owner, spender).call()
    if current == needed:
        return []
    calls = []
    if current != 0 and needed != 0:
        calls.append(
            Call(
                "NMR",
                "approve",
                (spender, 0),
                token,
                f"{spender_label}, 0 NMR (reset first: NMR " "approves only from zero)",
                outcome=lambda r: "allowance reset to 0",
            )
        )
    calls.append(
        Call(
            "NMR",
            "approve",
            (spender, needed),
            token,
            f"{spender_label}, {nmr(needed)}",
            after_previous=bool(calls),
            outcome=lambda r: f"{spender_label} may spend {nmr(needed)}",
        )
    )
    return calls

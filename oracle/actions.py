"""The oracle operator's one-shot transactions: register a model, dispute a round (with its NMR bond), resolve a
dispute, and the timelocked signer-set changes. web3.py and eth-account only, as the service.

Every command builds a list of ``Step``s and hands it to ``Transactor.run``: each step is simulated (eth_call) and
its gas estimated, a summary in words is printed, and nothing is sent before a "yes" (or ``--yes``); ``--dry-run``
stops after the summary. A contract refusal becomes one line in plain words (``oracle.errors.plain``) with exit
code 5; a declined confirmation exits 7, too little NMR or ETH 8 -- in every such case nothing was sent.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass

from oracle.abi import RevertDecoder
from oracle.errors import (
    EXIT_BALANCE,
    EXIT_DECLINED,
    EXIT_REJECTED,
    EXIT_RPC,
    NETWORK_ERRORS,
    ChainRejected,
    ContractLogicError,
    OperatorError,
    RpcError,
    Web3RPCError,
    plain,
)
from oracle.log import JsonLog
from oracle.tx import TxSender
from oracle.units import fixed_decimal

#: The parts of ERC-20 the commands use on the bond token (NMR).
ERC20_ABI = [
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
]


def nmr(wei: int) -> str:
    """An NMR amount in words: 10 NMR, 0.5 NMR."""
    return f"{fixed_decimal(wei)} NMR"


def eth(wei: int) -> str:
    return f"{fixed_decimal(wei)} ETH"


@dataclass
class Step:
    """One transaction, described for a person. `after_previous`: it can only succeed once the steps before it
    are mined (an approval before the dispute that spends it), so it is simulated again right before sending.
    `outcome`: receipt -> a line saying what happened."""

    label: str
    call: object  # a web3 ContractFunction with its arguments
    words: str
    after_previous: bool = False
    outcome: Callable | None = None
    gas: int | None = None


def bond_steps(token, owner: str, spender: str, bond: int) -> list[Step]:
    """The approvals that let `spender` take `bond` NMR from `owner`: none when the allowance already covers it;
    else exactly `bond`, through zero when an allowance is left (NMR approves only from or to zero)."""
    current = token.functions.allowance(owner, spender).call()
    if current >= bond:
        return []
    steps = []
    if current != 0:
        steps.append(
            Step(
                "NMR.approve",
                token.functions.approve(spender, 0),
                f"oracle {spender}, 0 NMR (reset first: NMR approves only from zero)",
                outcome=lambda r: "allowance reset to 0",
            )
        )
    steps.append(
        Step(
            "NMR.approve",
            token.functions.approve(spender, bond),
            f"oracle {spender}, {nmr(bond)}",
            after_previous=bool(steps),
            outcome=lambda r: f"the oracle may take the {nmr(bond)} bond",
        )
    )
    return steps


class Transactor:
    """Simulate, summarise, confirm, send, report, from one local account (`account`: eth-account)."""

    def __init__(
        self,
        w3,
        account,
        abi: list,
        out=None,
        yes: bool = False,
        dry_run: bool = False,
        receipt_timeout: float = 300.0,
        log: JsonLog | None = None,
    ):
        self.w3, self.account, self.yes, self.dry_run = w3, account, yes, dry_run
        self.out = out or sys.stdout
        self.decoder = RevertDecoder(abi)
        self.log = log or JsonLog(io.StringIO())  # the sender's JSON lines are for daemons; people get sentences
        try:
            chain_id = w3.eth.chain_id
        except NETWORK_ERRORS as error:
            raise OperatorError(
                EXIT_RPC, f"the node does not answer ({type(error).__name__}): check --rpc; " f"nothing sent"
            ) from None
        self.sender = TxSender(w3, account, chain_id, self.decoder, self.log, receipt_timeout=receipt_timeout)

    @property
    def address(self) -> str:
        return self.account.address

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def simulate(self, step: Step, mined: int = 0) -> None:
        """eth_call then estimate the step; a refusal is an OperatorError (exit 5) in plain words. `mined`: how
        many steps before it were already sent and mined (the message must not say "nothing sent" then)."""
        sent = "nothing sent" if not mined else f"not sent (the {mined} step(s) before it were mined)"
        try:
            step.call.call({"from": self.address})
            step.gas = self.sender.estimate(step.call)
        except ChainRejected as error:
            raise OperatorError(EXIT_REJECTED, f"{step.label}: {plain(error.name, error.error_args)}; {sent}") from None
        except ContractLogicError as error:
            rejected = self.sender.rejected(error)
            raise OperatorError(
                EXIT_REJECTED, f"{step.label}: {plain(rejected.name, rejected.error_args)}; " f"{sent}"
            ) from None
        except RpcError as error:
            raise OperatorError(EXIT_RPC, f"{step.label}: {error}; {sent}") from None

    def run(self, title: str, steps: list[Step]) -> list:
        """Summarise and (once confirmed) send `steps` in order. @return their receipts ([] on a dry run)."""
        try:
            return self._run(title, steps)
        except NETWORK_ERRORS as error:
            raise OperatorError(
                EXIT_RPC,
                f"the node stopped answering ({type(error).__name__}); check --rpc. A "
                f"transaction already sent may still be mined",
            ) from None
        except Web3RPCError as error:
            raise OperatorError(EXIT_RPC, f"the node refused: {error}") from None

    def _run(self, title: str, steps: list[Step]) -> list:
        for step in steps:
            if not step.after_previous:
                self.simulate(step)
        fees = self.sender.fees()
        price = fees.get("gasPrice") or fees["maxFeePerGas"]
        self.say(f"{title}\n  from {self.address}")
        worst = 0
        for i, step in enumerate(steps, 1):
            self.say(f"  {i}. {step.label}: {step.words}")
            if step.gas is not None:
                worst += step.gas * price
                self.say(f"     gas {step.gas:,}, at most {eth(step.gas * price)}")
            else:
                self.say("     simulated once the step before it is mined")
        balance = self.w3.eth.get_balance(self.address)
        if balance < worst:
            raise OperatorError(
                EXIT_BALANCE,
                f"{self.address} holds {eth(balance)}, the gas may cost up to "
                f"{eth(worst)}: fund it with ETH; nothing sent",
            )
        if self.dry_run:
            self.say("dry run: simulated, nothing sent")
            return []
        self.confirm()
        receipts = []
        for step in steps:
            if step.after_previous:
                self.simulate(step, mined=len(receipts))
            try:
                receipt = self.sender.send(step.call, step.label)
            except ChainRejected as error:
                sent = "" if not receipts else f" (the {len(receipts)} step(s) before it were mined)"
                raise OperatorError(
                    EXIT_REJECTED, f"{step.label}: {plain(error.name, error.error_args)}{sent}"
                ) from None
            except RpcError as error:
                raise OperatorError(EXIT_RPC, f"{step.label}: {error}") from None
            receipts.append(receipt)
            words = step.outcome(receipt) if step.outcome else "done"
            self.say(
                f"  sent {step.label}: 0x{bytes(receipt['transactionHash']).hex()}\n"
                f"    mined in block {receipt['blockNumber']} (gas used {receipt['gasUsed']:,}): {words}"
            )
        return receipts

    def confirm(self) -> None:
        if self.yes:
            return
        if not sys.stdin.isatty():
            raise OperatorError(
                EXIT_DECLINED, "no terminal to confirm on: add --yes to send without asking; " "nothing sent"
            )
        answer = input("Send? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise OperatorError(EXIT_DECLINED, "not confirmed; nothing sent")

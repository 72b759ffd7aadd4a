"""The transaction sender of the oracle service: nonces, gas, fees, receipts and re-sends from one account.

Nonce from the node's pending count, gas estimated with a margin, EIP-1559 fees when the chain has a base fee
(legacy gas price otherwise), receipt awaited with a timeout, and a transaction not mined in time re-sent with
the same nonce and fees raised by ``fee_bump``. Every sent hash is recorded in the progress store."""

from __future__ import annotations

from collections.abc import Callable

from web3.exceptions import TransactionNotFound

from oracle.abi import RevertDecoder
from oracle.errors import ChainRejected, ContractLogicError, RpcError, TimeExhausted, Web3RPCError
from oracle.log import JsonLog
from oracle.store import ProgressStore


class TxSender:
    """Sends contract calls from one local account: nonce, gas with margin, fees, receipt, re-send."""

    def __init__(
        self,
        w3,
        account,
        chain_id: int,
        decoder: RevertDecoder,
        log: JsonLog,
        store: ProgressStore | None = None,
        gas_margin: float = 1.3,
        receipt_timeout: float = 120,
        max_resends: int = 3,
        fee_bump: float = 1.25,
        poll: float = 0.2,
    ):
        self.w3, self.account, self.chain_id, self.decoder, self.log = w3, account, chain_id, decoder, log
        self.store, self.gas_margin, self.receipt_timeout = store, gas_margin, receipt_timeout
        self.max_resends, self.fee_bump, self.poll = max_resends, fee_bump, poll

    @property
    def address(self) -> str:
        return self.account.address

    def rejected(self, error: Exception) -> ChainRejected:
        decoded = self.decoder.decode(getattr(error, "data", None))
        if decoded is None and error.args:
            decoded = self.decoder.decode(error.args[-1] if len(error.args) > 1 else error.args[0])
        if decoded is None:
            return ChainRejected("Reverted", (), str(error))
        return ChainRejected(*decoded)

    def estimate(self, call) -> int:
        try:
            return call.estimate_gas({"from": self.address})
        except ContractLogicError as error:
            raise self.rejected(error) from None
        except Web3RPCError as error:
            if "revert" in str(error).lower():
                raise self.rejected(error) from None
            raise RpcError(f"eth_estimateGas: {error}") from None

    def fees(self) -> dict:
        block = self.w3.eth.get_block("latest")
        base = block.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": self.w3.eth.gas_price}
        try:
            tip = self.w3.eth.max_priority_fee
        except (Web3RPCError, ValueError) as error:  # a node without eth_maxPriorityFeePerGas
            # the legacy gas price less the base fee is what the node itself would tip; 1 gwei at the least
            tip = max(self.w3.eth.gas_price - base, 10**9)
            self.log("fee_estimate_fallback", level="warning", error=str(error), tip=tip)
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def bumped(self, fees: dict) -> dict:
        # nodes replace a pending transaction only for >= 10% more on every fee field
        return {k: int(v * self.fee_bump) + 1 for k, v in fees.items()}

    def receipt(self, tx_hash):
        """The transaction's receipt, or None while it is not mined (or its block was reorganised away)."""
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def resend_stuck(self, tx_hash, nonce: int, kind: str, digest=None):
        """Re-send a transaction pending since an earlier pass with the same nonce, call and gas and fees
        bumped above both its own and today's, so the nonce it blocks can be mined. @return the receipt, or None
        when it is still not mined after `receipt_timeout` (the next pass bumps again)."""
        try:
            old = self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            old = None
        if old is None:
            self.log("tx_stuck_unknown", level="warning", tx_hash=tx_hash, nonce=nonce, kind=kind)
            return None
        now = self.fees()
        if "gasPrice" in now:
            fees = {"gasPrice": max(self.bumped({"gasPrice": old["gasPrice"]})["gasPrice"], now["gasPrice"])}
        else:
            before = self.bumped(
                {
                    "maxFeePerGas": old.get("maxFeePerGas", old.get("gasPrice")),
                    "maxPriorityFeePerGas": old.get("maxPriorityFeePerGas", old.get("gasPrice")),
                }
            )
            fees = {k: max(before[k], now[k]) for k in before}
        tx = {
            "from": self.address,
            "to": old["to"],
            "data": old["input"],
            "value": old.get("value", 0),
            "gas": old["gas"],
            "nonce": nonce,
            "chainId": self.chain_id,
            **fees,
        }
        signed = self.account.sign_transaction(tx)
        try:
            new_hash = bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
        except Web3RPCError as error:
            message = str(error).lower()
            if "nonce" in message or "already known" in message:  # mined meanwhile, or this very copy is there
                self.log("tx_resend_skipped", kind=kind, nonce=nonce, error=str(error))
                return None
            raise RpcError(f"eth_sendRawTransaction: {error}") from None
        if self.store is not None:
            self.store.record_tx(new_hash, self.address, nonce, kind, digest)
        self.log(
            "tx_resend",
            level="warning",
            kind=kind,
            nonce=nonce,
            tx_hash=new_hash,
            replaces=tx_hash,
            **{k: str(v) for k, v in fees.items()},
        )
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                new_hash, timeout=self.receipt_timeout, poll_latency=self.poll
            )
        except TimeExhausted:
            return None
        self._mark([new_hash], "mined" if receipt["status"] == 1 else "reverted")
        if self.store is not None:
            self.store.set_tx_block(new_hash, receipt["blockNumber"])
        return receipt

    def send(self, call, kind: str, digest: bytes | None = None, on_sent: Callable[[bytes, int], None] | None = None):
        """Estimate, sign, send and wait. @return the receipt (status 1). Raises ChainRejected on a revert
        (estimate or mined), RpcError when the node fails or the transaction is not mined after every re-send."""
        gas = int(self.estimate(call) * self.gas_margin) + 20_000
        nonce = self.w3.eth.get_transaction_count(self.address, "pending")
        fees = self.fees()
        sent: list[bytes] = []
        receipt = None
        for attempt in range(self.max_resends + 1):
            tx = call.build_transaction(
                {"from": self.address, "nonce": nonce, "gas": gas, "chainId": self.chain_id, **fees}
            )
            signed = self.account.sign_transaction(tx)
            try:
                tx_hash = bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
            except Web3RPCError as error:
                message = str(error).lower()
                if "already known" in message:
                    tx_hash = bytes(signed.hash)
                elif "nonce" in message and not sent:
                    # another process sent from this account since we read the count: take the next one
                    nonce = self.w3.eth.get_transaction_count(self.address, "pending")
                    self.log("nonce_refreshed", level="warning", kind=kind, nonce=nonce, error=str(error))
                    continue
                elif "underpriced" in message:
                    fees = self.bumped(fees)
                    continue
                elif "revert" in message:
                    raise self.rejected(error) from None
                else:
                    raise RpcError(f"eth_sendRawTransaction: {error}") from None
            sent.append(tx_hash)
            if self.store is not None:
                self.store.record_tx(tx_hash, self.address, nonce, kind, digest)
            if on_sent is not None:
                on_sent(tx_hash, nonce)
            self.log(
                "tx_sent",
                kind=kind,
                tx_hash=tx_hash,
                nonce=nonce,
                gas=gas,
                attempt=attempt,
                **{k: str(v) for k, v in fees.items()},
            )
            try:
                receipt = self.w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=self.receipt_timeout, poll_latency=self.poll
                )
                break
            except TimeExhausted:
                # an earlier copy with the same nonce may have been mined meanwhile
                receipt = next((r for r in map(self.receipt, sent) if r is not None), None)
                if receipt is not None:
                    break
                if self.w3.eth.get_transaction_count(self.address, "latest") > nonce:
                    # the nonce is used: by one of our copies mined since the look above, or by another
                    # transaction we do not know (then nothing of ours can land any more)
                    receipt = next((r for r in map(self.receipt, sent) if r is not None), None)
                    if receipt is not None:
                        break
                    self._mark(sent, "dropped")
                    raise RpcError(f"{kind}: nonce {nonce} was used by another transaction")
                fees = self.bumped(fees)
                self.log("tx_resend", level="warning", kind=kind, nonce=nonce, after_seconds=self.receipt_timeout)
        if receipt is None:
            self._mark(sent, "dropped")
            raise RpcError(f"{kind}: not mined after {self.max_resends} re-sends (nonce {nonce})")
        mined = bytes(receipt["transactionHash"])
        self._mark([h for h in sent if h != mined], "dropped")
        if receipt["status"] != 1:
            self._mark([mined], "reverted")
            # a receipt carries no revert reason: replay the call on the state now to learn it
            try:
                call.call({"from": self.address})
            except ContractLogicError as error:
                raise self.rejected(error) from None
            raise ChainRejected("Reverted", (), f"transaction {mined.hex()} reverted")
        self._mark([mined], "mined")
        if self.store is not None:
            self.store.set_tx_block(mined, receipt["blockNumber"])
        self.log("tx_mined", kind=kind, tx_hash=mined, block=receipt["blockNumber"], gas_used=receipt["gasUsed"])
        return receipt

    def _mark(self, hashes, status):
        if self.store is not None:
            for h in hashes:
                self.store.set_tx_status(h, status)

// The browser wallet: EIP-6963 discovery (window.ethereum as the fallback), the chain check, and sending
// transactions the wallet signs. A call is simulated first (eth_call); a refusal is put in plain words by the
// server's catalogue (/api/explain) and nothing is sent.
import { createPublicClient, custom, encodeFunctionData } from "viem";

const announced = [];
window.addEventListener("eip6963:announceProvider", (event) => {
  if (!announced.some((p) => p.info.uuid === event.detail.info.uuid)) announced.push(event.detail);
});

/** The wallets the page can use: those that announced themselves (EIP-6963), else window.ethereum. */
export async function discover() {
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  await new Promise((resolve) => setTimeout(resolve, 150));
  if (announced.length) return announced.slice();
  if (window.ethereum) return [{ info: { name: "browser wallet", uuid: "injected" }, provider: window.ethereum }];
  return [];
}

export class WalletError extends Error {}

export class Wallet {
  constructor(provider, config, explain) {
    this.provider = provider;
    this.config = config;
    this.explain = explain;
    this.client = createPublicClient({ transport: custom(provider) });
    this.account = null;
    this.chainId = null;
  }

  /** Ask for the account and check the chain; @throws WalletError in words when the chain is wrong. */
  async connect() {
    const accounts = await this.provider.request({ method: "eth_requestAccounts" });
    if (!accounts || !accounts.length) throw new WalletError("the wallet gave no account: unlock it and connect again");
    this.account = accounts[0];
    await this.checkChain();
    return this.account;
  }

  async checkChain() {
    this.chainId = Number(await this.provider.request({ method: "eth_chainId" }));
    if (this.chainId !== this.config.chain_id) {
      throw new WalletError(
        `Wrong network: your wallet is on chain id ${this.chainId}${chainName(this.chainId)}, this deployment is on ` +
          `chain id ${this.config.chain_id}${chainName(this.config.chain_id)}. Switch the wallet to chain id ` +
          `${this.config.chain_id}, then connect again. Nothing was sent.`,
      );
    }
  }

  async switchChain() {
    await this.provider.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: "0x" + this.config.chain_id.toString(16) }],
    });
  }

  async read(name, address, functionName, args) {
    return this.client.readContract({ abi: this.config.abi[name], address, functionName, args });
  }

  /** Simulate, then send `functionName(args)` to `address`; `onPending(hash)` while it waits. @return the receipt. */
  async send(name, address, functionName, args, onPending) {
    await this.checkChain();
    const data = encodeFunctionData({ abi: this.config.abi[name], functionName, args });
    const tx = { from: this.account, to: address, data };
    try {
      await this.provider.request({ method: "eth_call", params: [tx, "latest"] });
    } catch (error) {
      const revert = revertData(error);
      if (revert !== undefined) throw new WalletError((await this.explain(revert, name)) + "; nothing sent");
      throw new WalletError(`the node refused the call: ${error.message || error}; nothing sent`);
    }
    let hash;
    try {
      hash = await this.provider.request({ method: "eth_sendTransaction", params: [tx] });
    } catch (error) {
      if (error && error.code === 4001) throw new WalletError("you rejected the transaction in the wallet; nothing sent");
      throw new WalletError(`the wallet did not send it: ${error.message || error}`);
    }
    if (onPending) onPending(hash);
    for (;;) {
      const receipt = await this.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
      if (receipt) {
        if (Number(receipt.status) !== 1) throw new WalletError(`transaction ${hash} failed on chain`);
        return receipt;
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  /** The approvals that make the allowance exactly `needed`: NMR approves only from zero, so an old non-zero
   * allowance is reset to 0 first. */
  async approve(spender, needed, onStep) {
    const token = this.config.contracts.NMR;
    const current = await this.read("MockNMR", token, "allowance", [this.account, spender]);
    if (current === needed) return;
    if (current !== 0n && needed !== 0n) {
      onStep("resetting the NMR allowance to 0 first (NMR approves only from zero)");
      await this.send("MockNMR", token, "approve", [spender, 0n], (h) => onStep(`approve(0) pending: ${h}`));
    }
    onStep("approving exactly the amount");
    await this.send("MockNMR", token, "approve", [spender, needed], (h) => onStep(`approve pending: ${h}`));
  }
}

function chainName(id) {
  const names = { 1: "Ethereum mainnet", 11155111: "Sepolia", 31337: "a local anvil node", 1337: "a local ganache node" };
  return names[id] ? ` (${names[id]})` : "";
}

function revertData(error) {
  for (let e = error, depth = 0; e && depth < 5; e = e.cause || e.error, depth++) {
    const d = e.data;
    if (typeof d === "string" && d.startsWith("0x")) return d;
    if (d && typeof d.data === "string" && d.data.startsWith("0x")) return d.data;
    if (e.code === 3 || /revert/i.test(e.message || "")) return typeof d === "string" ? d : "0x";
  }
  return undefined;
}

"""The browser tests' helpers (tests/browser): the web app served by `backing web` as a user starts it, headless
Debian chromium driven by Playwright, and a test wallet: an EIP-1193 provider injected into the page (announced
by EIP-6963 and set as window.ethereum) that forwards every request to the local node, where the account is one
of the node's unlocked accounts. The wallet can be told to claim another chain id (the wrong-network test)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import requests

from support.cli import BACKING, ROOT

CHROMIUM = os.environ.get("BACKING_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("BACKING_WEB_SCREENSHOTS", ROOT / "build" / "web-screenshots"))

#: The test wallet, run in the page before the app's script. `__backingRpc` is exposed by Playwright: it posts
#: the request to the node and returns {result} or {error}.
TEST_WALLET = """
(() => {
  const wallet = { account: %(account)s, chainId: %(chain_id)d };
  const listeners = {};
  const provider = {
    isBackingTestWallet: true,
    async request({ method, params }) {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [wallet.account];
      if (method === "eth_chainId") return "0x" + wallet.chainId.toString(16);
      if (method === "net_version") return String(wallet.chainId);
      if (method === "wallet_switchEthereumChain") {
        wallet.chainId = Number(params[0].chainId);
        (listeners.chainChanged || []).forEach((f) => f(params[0].chainId));
        return null;
      }
      if (wallet.chainId !== %(node_chain_id)d) {
        const e = new Error("the test wallet is on another chain"); e.code = 4901; throw e;
      }
      if (method === "eth_sendTransaction") window.__sent = (window.__sent || 0) + 1;
      const answer = await window.__backingRpc(method, params || []);
      if (answer.error) {
        const e = new Error(answer.error.message); e.code = answer.error.code; e.data = answer.error.data; throw e;
      }
      return answer.result;
    },
    on(event, f) { (listeners[event] = listeners[event] || []).push(f); },
    removeListener() {},
  };
  window.ethereum = provider;
  const info = { uuid: "6c1a3f0e-1f7a-4c1e-9a55-0c2b8a1d2e3f", name: "Test wallet", rdns: "org.backing.test",
                 icon: "data:image/svg+xml,%%3Csvg xmlns='http://www.w3.org/2000/svg'/%%3E" };
  const announce = () => window.dispatchEvent(
    new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""


class WebApp:
    """`backing web --port PORT` in the user's working directory (where the manifest is)."""

    def __init__(self, user, port: int):
        self.user, self.port = user, port
        self.url = f"http://127.0.0.1:{port}/"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [str(BACKING), "web", "--port", str(self.port)],
            cwd=self.user.work,
            env=self.user.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.startswith("serving the deployment on chain id"), line + self.process.stderr.read()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                requests.get(self.url + "api/config", timeout=5).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("backing web did not answer")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            errors = self.process.stderr.read()
            self.process = None
            assert "Traceback" not in errors, errors

    def api(self, path: str):
        return requests.get(self.url + "api/" + path, timeout=30).json()


def send(node, fn, sender: str) -> dict:
    """Send a bound web3 call from `sender` (an account the node impersonates: anvil_impersonateAccount) and
    return its receipt; faster than a `backing` subprocess for the set-up steps the tests do not look at."""
    tx = {"from": sender, "to": fn.address, "data": fn._encode_transaction_data()}
    tx_hash = node.rpc("eth_sendTransaction", [tx])
    deadline = time.time() + 30
    while (receipt := node.rpc("eth_getTransactionReceipt", [tx_hash])) is None and time.time() < deadline:
        time.sleep(0.1)  # anvil mines at once, but may answer for the receipt a moment later
    assert receipt and receipt["status"] == "0x1", receipt
    return receipt


def wallet_page(browser, node, app: WebApp, account: str, chain_id: int | None = None, phone: bool = False):
    """A new page (its own context) whose test wallet holds `account` on `chain_id` (default the node's)."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1000, "height": 800}
    context = browser.new_context(viewport=viewport)

    def forward(method, params):
        answer = requests.post(
            node.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=60
        ).json()
        return {"error": answer["error"]} if "error" in answer else {"result": answer["result"]}

    context.expose_function("__backingRpc", forward)
    context.add_init_script(
        TEST_WALLET
        % {"account": json.dumps(account), "chain_id": chain_id or node.chain_id, "node_chain_id": node.chain_id}
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(app.url)
    return page


def screenshot(page, name: str) -> None:
    """A full-page PNG, reduced to a 64-colour palette (small enough to commit under docs/img/)."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    Image.open(path).convert("RGB").quantize(colors=64).save(path, optimize=True)

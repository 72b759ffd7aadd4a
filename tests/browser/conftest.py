"""The browser suite's world: an anvil node with the protocol deployed by `backing deploy --dev-token`, a model
registered and attested with four posted rounds, two agreements created from terms files by `backing agreement
create`, `backing web` serving it, and headless chromium. Ports: BACKING_CLI_TEST_PORT + 8 (anvil) and + 9 (the
web app), above the CLI suites' block."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from support.cli import _BASE, Node, OracleOps, User, write_keystore

MODEL = str(uuid.UUID("8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11"))
ONE = 10**18
HISTORY = [ONE // 50, -ONE // 100, ONE * 3 // 100, ONE // 100]  # rounds 1-4: +2%, -1%, +3%, +1%
TERMS = """\
model_id: "{model}"
unit_size: {unit_size}
min_units: 2
max_units: {max_units}
profit_share: {profit_share}
burn_share: 0.5
reserve_ratio: {reserve_ratio}
upfront_fee: 0.01
lockup_rounds: {lockup}
open_for: 3d
wind_down: 7d
staking_address: "{staking}"
"""


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        pytest.fail("Playwright is missing: `make browser-deps` installs it (the browser-tests extra)")
    from support.browser import CHROMIUM, WebApp

    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium"
    node = Node("anvil", _BASE + 8).start()
    home = tmp_path_factory.mktemp("home-web")
    user = User(home, node)
    for i, role in enumerate(["deployer", "modeller", "alice", "bob", "relayer"]):
        user.addresses[role] = write_keystore(home, role, node.keys[i])
        # the test wallet sends from the node's side (eth_sendTransaction), as a wallet holding the key would
        node.rpc("anvil_impersonateAccount", [user.addresses[role]])
        node.rpc("anvil_setBalance", [user.addresses[role], hex(100 * 10**18)])
    for j in range(3):
        user.addresses[f"signer{j}"] = write_keystore(home, f"signer{j}", "0x" + os.urandom(32).hex())
    a = user.addresses
    app = browser = pw = None
    try:
        user.ok(
            "deploy",
            "--account",
            "deployer",
            "--dev-token",
            "--yes",
            *[x for i in range(3) for x in ("--signer", a[f"signer{i}"])],
            "--quorum",
            2,
            "--dispute-quorum",
            3,
            *[x for r in ("modeller", "alice", "bob") for x in ("--mint", f"{a[r]}=10000")],
        )
        import json

        manifest = json.loads((user.work / "deployments" / f"{node.chain_id}.json").read_text())
        oracle = OracleOps(user, manifest)
        oracle.announce_through(1)
        signers = [x for i in range(2) for x in ("--signer-keystore", home / ".brownie/accounts" / f"signer{i}.json")]
        claim = user.ok("model", "claim", MODEL, "--account", "modeller").stdout.splitlines()[-1]
        profile = home / "profile.txt"
        profile.write_text(claim + "\n")
        user.ok("model", "register", MODEL, "--modeller", a["modeller"], "--first-round", 1, *signers,
                "--account", "relayer", "--yes")  # fmt: skip
        user.ok("model", "attest", MODEL, "--profile", profile, *signers, "--account", "relayer", "--yes")
        from oracle.units import model_id_from_uuid

        raw = model_id_from_uuid(MODEL)
        oracle.post_returns(raw, HISTORY)
        # two agreements by the reference terms loader and the factory (what `backing agreement create` sends)
        from web3 import Web3

        from backing.client.contracts import abi
        from backing.model.terms import load_terms_file
        from support.browser import send

        w3 = Web3(Web3.HTTPProvider(node.url))
        factory = w3.eth.contract(
            address=manifest["contracts"]["AgreementFactory"]["address"], abi=abi("AgreementFactory")
        )
        agreements = {}
        for name, values in {
            "A": dict(unit_size=100, max_units=20, profit_share=0.5, reserve_ratio=0.5, lockup=2),
            "B": dict(unit_size=50, max_units=10, profit_share=0.3, reserve_ratio=1, lockup=24),
        }.items():
            terms_file = home / f"terms-{name}.yaml"
            terms_file.write_text(TERMS.format(model=MODEL, staking=a["modeller"], **values))
            terms = load_terms_file(terms_file, node.now())
            send(node, factory.functions.createAgreement(terms.as_tuple(), terms.ladder_tuples()), a["modeller"])
            count = factory.functions.agreementCount().call()
            agreements[name] = factory.functions.agreements(count - 1, 1).call()[0]
        series_terms = home / "terms-S.yaml"
        series_terms.write_text(
            TERMS.format(model=MODEL, staking=a["modeller"], unit_size=10, max_units=50, profit_share=0.2,
                         reserve_ratio=0.5, lockup=2) + "high_water_mark: true\n"
        )  # fmt: skip
        out = user.ok("series", "create", series_terms, "--account", "modeller", "--yes").stdout
        agreements["S"] = re.search(r"^series (0x[0-9a-fA-F]{40})$", out, re.M).group(1)
        app = WebApp(user, _BASE + 9).start()
        pw = playwright_api.sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield {
            "node": node,
            "user": user,
            "manifest": manifest,
            "oracle": oracle,
            "raw": raw,
            "agreements": agreements,
            "app": app,
            "browser": browser,
        }
    finally:
        try:
            if browser is not None:
                browser.close()
            if pw is not None:
                pw.stop()
        finally:
            try:
                if app is not None:
                    app.stop()
            finally:
                node.stop()

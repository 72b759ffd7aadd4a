"""The web app in headless chromium against anvil with the real contracts, through a test wallet (an injected
EIP-1193 provider forwarding to the node): browse and filter, an agreement's page (terms, chart, the worked
table), a wrong network refused, approve (through zero: NMR's quirk) and deposit, the position, the modeller's
reserve, lock and repayment, the claim after settlement, the model's page (record, agreements, series,
commitments), and the modeller's form with refused inputs shown next to their fields. Every amount the page
shows is checked against the reference model to the wei. The tests run
in order, each continuing the story; screenshots go to $BACKING_WEB_SCREENSHOTS (default build/web-screenshots)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from backing.client.contracts import abi
from backing.model.agreement import Agreement, Phase, lock_amounts
from support.browser import screenshot, send, wallet_page

ONE = 10**18
LOCKUP_RETURNS = [ONE * 3 // 100, -ONE // 100]  # the lockup's two rounds: +3%, -1%


def _w3(world):
    from web3 import Web3

    return Web3(Web3.HTTPProvider(world["node"].url))


def _contract(world, name, address):
    return _w3(world).eth.contract(address=address, abi=abi(name))


def _nmr(world):
    return _contract(world, "MockNMR", world["manifest"]["contracts"]["NMR"]["address"])


def _terms(world, address):
    from backing.client.agreement_cmd import terms_of

    return terms_of(_contract(world, "BackingAgreement", address))


def _weis(page, testid):
    return [int(x) for x in page.eval_on_selector_all(f"[data-testid={testid}]", "els => els.map(e => e.dataset.wei)")]


def _connect(page):
    page.click("[data-testid=connect]")
    page.wait_for_selector("[data-testid=account]")


def _act(page, testid, timeout=90_000):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.click(f"[data-testid={testid}]")
    try:
        _wait_done(page, timeout)
    except PlaywrightTimeout:
        raise AssertionError(f"{testid}: still {page.text_content('#status')!r}; page errors {page.errors}") from None
    status = page.text_content("#status")
    assert status.endswith("; done."), status
    return status


def _wait_done(page, timeout):
    page.wait_for_function(
        "() => /; done\\.$|error/.test(document.querySelector('#status').className + document.querySelector("
        "'#status').textContent) && !document.querySelector('#status').classList.contains('pending')",
        timeout=timeout,
    )


def _shown(page):
    """Wait until the page shows what the address bar asks for (the app marks #main when it has)."""
    page.wait_for_function("() => document.querySelector('#main').dataset.hash === location.hash")


def _goto(page, url):
    page.goto(url)
    _shown(page)


def _rows(page):
    _shown(page)
    return page.eval_on_selector_all("[data-testid=agreement-row]", "els => els.map(e => e.dataset.address)")


def test_browse_and_filter(world):
    a, b = world["agreements"]["A"], world["agreements"]["B"]
    page = wallet_page(world["browser"], world["node"], world["app"], world["user"].addresses["alice"])
    assert sorted(_rows(page)) == sorted([a, b])
    page.fill("[name=max_profit_share]", "0.4")
    page.click("[data-testid=apply-filters]")
    page.wait_for_url("**max_profit_share=0.4**")
    assert _rows(page) == [b]
    page.fill("[name=max_profit_share]", "")
    page.fill("[name=max_lockup]", "12")
    page.check("[name=open]")
    page.click("[data-testid=apply-filters]")
    page.wait_for_url("**max_lockup=12**")
    assert _rows(page) == [a]
    page.fill("[name=max_lockup]", "")
    page.fill("[name=min_reserve_ratio]", "2")
    page.click("[data-testid=apply-filters]")
    page.wait_for_selector("[data-testid=no-agreements]")
    _goto(page, world["app"].url + "#/")
    assert len(_rows(page)) == 2
    screenshot(page, "web-agreements")
    assert not page.errors


def test_agreement_page_chart_and_worked_table(world):
    address = world["agreements"]["A"]
    terms = _terms(world, address)
    page = wallet_page(world["browser"], world["node"], world["app"], world["user"].addresses["alice"], phone=True)
    _goto(page, f"{world['app'].url}#/agreement/{address}?units=3")
    page.wait_for_selector("[data-testid=rounds-chart] canvas")
    assert "Open" in page.text_content("[data-testid=phase]")
    words = page.text_content("[data-testid=terms-words]")
    assert "keeps 50% of gains" in words and "2 rounds" in words
    assert page.text_content("[data-testid=units]") == "0 / 20"
    # the worked table, by the reference model: one backer of 3 units, reserve at the ratio, repaid in full
    assert _weis(page, "receives") == _worked_table(terms, 3)
    assert _weis(page, "required-reserve") == [terms.required_reserve(lock_amounts(terms, 0).staked)]
    # the outcome distribution: lockups drawn from the model's posted returns (seed 1), each settled by the
    # scalar reference model here, path by path
    page.wait_for_selector("[data-testid=outcome-chart] canvas")
    received = sorted(_outcomes_by_reference(world, terms, units=3))
    paths = len(received)
    shown = [_weis(page, f"outcome-{q}")[0] for q in ("p5", "median", "p95")]
    assert shown == [received[int(q * paths)] for q in (0.05, 0.5, 0.95)]
    screenshot(page, "web-agreement-phone")
    assert not page.errors


def _worked_table(terms, units):
    """What one backer of `units` receives if the stake ends at x0.5, x0.9, x1, x1.1, x1.5 (reserve at the ratio,
    repaid in full), by the reference model."""
    staked = lock_amounts(terms, units).staked
    out = []
    for percent in (50, 90, 100, 110, 150):
        model = Agreement(terms=terms, modeller="m")
        model.post_reserve("m", terms.required_reserve(staked))
        model.deposit("you", units, terms.open_until)
        model.lock("m", terms.open_until, start_round=1)
        model.mature(terms.open_until, start_index=staked, end_index=staked * percent // 100)
        model.repay("m", model.matured.amount_due)
        out.append(model.claim("you"))
    return out


def _outcomes_by_reference(world, terms, units):
    import numpy as np

    from backing.model.agreement import index_path
    from backing.web.api import OUTCOME_PATHS, OUTCOME_SEED

    oracle = world["oracle"].oracle.functions
    _, exposure, first, last = oracle.modelInfo(world["raw"]).call()
    returns = [oracle.roundRecord(world["raw"], r).call()[1] for r in range(first, last + 1)]
    draws = np.random.default_rng(OUTCOME_SEED).integers(0, len(returns), size=(OUTCOME_PATHS, terms.lockup_rounds))
    staked = lock_amounts(terms, units).staked
    out = []
    for row in draws:
        end = index_path(exposure, [returns[i] for i in row])[-1]
        model = Agreement(terms=terms, modeller="m")
        model.post_reserve("m", terms.required_reserve(staked))
        model.deposit("you", units, terms.open_until)
        model.lock("m", terms.open_until, start_round=1)
        model.mature(terms.open_until, start_index=ONE, end_index=end)
        model.repay("m", model.matured.amount_due)
        out.append(model.claim("you"))
    return out


def test_wrong_network_is_refused(world):
    page = wallet_page(world["browser"], world["node"], world["app"], world["user"].addresses["alice"], chain_id=1)
    page.click("[data-testid=connect]")
    page.wait_for_selector("#status.error")
    status = page.text_content("#status")
    assert "Wrong network" in status and "chain id 1 (Ethereum mainnet)" in status and "chain id 31337" in status
    assert page.query_selector("[data-testid=account]") is None
    assert page.evaluate("window.__sent || 0") == 0
    page.click("[data-testid=switch-chain]")  # wallet_switchEthereumChain to the deployment's chain, then connect
    page.wait_for_selector("[data-testid=account]")
    assert page.text_content("[data-testid=account]").endswith("chain 31337")


def test_approve_through_zero_and_deposit(world):
    address, alice = world["agreements"]["A"], world["user"].addresses["alice"]
    nmr, node = _nmr(world), world["node"]
    # a stale allowance: NMR refuses approve(x) over it, so the page must reset it to zero first
    data = nmr.encode_abi("approve", [address, ONE])
    node.rpc("eth_sendTransaction", [{"from": alice, "to": nmr.address, "data": data}])
    assert nmr.functions.allowance(alice, address).call() == ONE
    before = nmr.functions.balanceOf(alice).call()
    page = wallet_page(world["browser"], node, world["app"], alice)
    _connect(page)
    _goto(page, f"{world['app'].url}#/agreement/{address}")
    page.fill("[data-testid=deposit-units]", "4")
    _act(page, "deposit")
    assert page.evaluate("window.__sent") == 3  # approve(0), approve(400 NMR), deposit(4)
    page.fill("[data-testid=deposit-units]", "1")
    _act(page, "withdraw")  # while it is open a backer may take units back
    terms = _terms(world, address)
    assert nmr.functions.balanceOf(alice).call() == before - 3 * terms.unit_size
    page.wait_for_selector("[data-testid=position]")
    assert "You hold 3 units" in page.text_content("[data-testid=position]")
    _goto(page, f"{world['app'].url}#/positions")
    page.wait_for_selector("[data-testid=position-row]")
    assert _weis(page, "paid-in") == [3 * terms.unit_size]
    screenshot(page, "web-positions")
    assert not page.errors


def test_modeller_locks_repays_and_backer_claims(world):
    address, user, node = world["agreements"]["A"], world["user"], world["node"]
    a = user.addresses
    # bob deposits 2 units (approve exactly, then deposit), as `backing deposit` sends them
    unit = _terms(world, address).unit_size
    send(node, _nmr(world).functions.approve(address, 2 * unit), a["bob"])
    send(node, _contract(world, "BackingAgreement", address).functions.deposit(2), a["bob"])
    terms = _terms(world, address)
    agreement = _contract(world, "BackingAgreement", address)
    model = Agreement(terms=terms, modeller="modeller")
    model.deposit("alice", 3, terms.open_until)
    model.deposit("bob", 2, terms.open_until)

    modeller = wallet_page(world["browser"], node, world["app"], a["modeller"])
    _connect(modeller)
    _goto(modeller, f"{world['app'].url}#/agreement/{address}")
    modeller.wait_for_selector("[data-testid=post-reserve]")
    _act(modeller, "post-reserve")
    required = terms.required_reserve(lock_amounts(terms, 5).staked)
    assert agreement.functions.reserve().call() == required
    model.post_reserve("modeller", required)
    oracle = world["oracle"]
    oracle.announce_through(oracle.oracle.functions.currentRound().call() + 1)  # a fresh round to lock for
    modeller.wait_for_selector("[data-testid=lock]")
    _act(modeller, "lock")
    start = agreement.functions.startRound().call()
    model.lock("modeller", terms.open_until, start_round=start)
    assert agreement.functions.stakedCapital().call() == model.locked.staked

    # the rounds before the lockup (announced, not yet posted) return nothing; then the lockup's two rounds
    gap = start - 1 - oracle.oracle.functions.lastPostedRound(world["raw"]).call()
    oracle.post_returns(world["raw"], [0] * gap + LOCKUP_RETURNS)
    alice = wallet_page(world["browser"], node, world["app"], a["alice"])
    _connect(alice)
    _goto(alice, f"{world['app'].url}#/agreement/{address}")
    _act(alice, "mature")
    record = oracle.oracle.functions.roundRecord
    start_index = record(world["raw"], start - 1).call()[0]
    end_index = record(world["raw"], start + terms.lockup_rounds - 1).call()[0]
    model.mature(node.now(), start_index=start_index, end_index=end_index)
    alice.wait_for_selector("[data-testid=amount-due]")
    assert _weis(alice, "amount-due") == [model.matured.amount_due]

    _goto(modeller, f"{world['app'].url}#/agreement/{address}?units=2")
    modeller.wait_for_selector("[data-testid=repay]")
    _act(modeller, "repay")
    model.repay("modeller", model.matured.amount_due)
    assert model.phase == Phase.Settled

    _goto(alice, f"{world['app'].url}#/positions")
    _goto(alice, f"{world['app'].url}#/agreement/{address}")
    alice.wait_for_selector("[data-testid=claim]")
    assert _weis(alice, "claimable") == [model.payout("alice")]
    nmr = _nmr(world)
    before = nmr.functions.balanceOf(a["alice"]).call()
    _act(alice, "claim")
    assert nmr.functions.balanceOf(a["alice"]).call() - before == model.claim("alice")
    alice.wait_for_selector("[data-testid=position]")
    assert "(claimed)" in alice.text_content("[data-testid=position]")
    assert not alice.errors and not modeller.errors


def test_modeller_form_refuses_then_creates(world):
    user, node = world["user"], world["node"]
    page = wallet_page(world["browser"], node, world["app"], user.addresses["modeller"])
    _connect(page)
    _goto(page, f"{world['app'].url}#/create")
    page.fill("[data-testid=field-model_id]", "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11")
    page.fill("[data-testid=field-min_units]", "0")
    page.fill("[data-testid=field-profit_share]", "1.5")
    page.fill("[data-testid=field-staking_address]", "0x1234")
    page.wait_for_function("() => document.querySelector('[data-testid=terms-form]').dataset.checked === 'refused' "
                           "&& document.querySelector('[data-testid=error-staking_address]').textContent")  # fmt: skip
    errors = {
        f: page.text_content(f"[data-testid=error-{f}]") for f in ("min_units", "profit_share", "staking_address")
    }
    assert errors["min_units"] == "min_units must be at least 1"
    assert errors["profit_share"] == "profit_share (1.5) must be at most 1 (100%)"
    assert "staking_address must be an Ethereum address" in errors["staking_address"]
    assert page.text_content("[data-testid=error-unit_size]") == ""
    assert page.is_disabled("[data-testid=create]")
    screenshot(page, "web-offer-terms-refused")

    page.fill("[data-testid=field-min_units]", "1")
    page.fill("[data-testid=field-profit_share]", "0.25")
    page.fill("[data-testid=field-staking_address]", user.addresses["modeller"])
    page.check("[data-testid=field-require_attested_model]")  # the model is attested: the terms may require it
    page.wait_for_function("() => document.querySelector('[data-testid=terms-form]').dataset.checked === 'ok'")
    page.wait_for_selector("[data-testid=preview-receives]")
    preview_terms = _expected_form_terms_now(node.now())
    assert _weis(page, "preview-receives") == _worked_table(preview_terms, 1)  # backers of min_units (1)
    count = world["app"].api("agreements")
    _act(page, "create")
    page.wait_for_url("**#/agreement/0x**")
    from web3 import Web3

    created = Web3.to_checksum_address(page.url.split("#/agreement/")[1].split("?")[0])
    _shown(page)
    assert "Open" in page.text_content("[data-testid=phase]")
    assert len(world["app"].api("agreements")) == len(count) + 1
    terms = _terms(world, created)
    assert (terms.min_units, terms.profit_share_bps, terms.unit_size, terms.lockup_rounds) == (1, 2500, 100 * ONE, 12)
    assert terms.staking_address == user.addresses["modeller"]
    assert terms.require_attested_model is True
    assert replace(terms, open_until=0) == replace(
        _expected_form_terms(terms), open_until=0, require_attested_model=True
    )
    assert "locks only while the oracle attests" in page.text_content("[data-testid=terms-words]")
    assert not page.errors


def test_series_deposit_and_claim_after_cancel(world):
    series, user, node = world["agreements"]["S"], world["user"], world["node"]
    alice = user.addresses["alice"]
    page = wallet_page(world["browser"], node, world["app"], alice)
    _connect(page)
    _goto(page, f"{world['app'].url}#/series")
    rows = page.eval_on_selector_all("[data-testid=series-row]", "els => els.map(e => e.dataset.address)")
    assert rows == [series]
    page.click("[data-testid=series-row]")
    page.wait_for_url("**#/series/0x**")
    _shown(page)
    assert page.text_content("[data-testid=series-agreement] td:nth-child(2)") == "Open"
    page.fill("[data-testid=series-deposit-units]", "4")
    _act(page, "series-deposit")
    capital = 4 * 10 * ONE  # 4 units of 10 NMR
    assert _weis(page, "series-position-capital") == [capital]
    user.ok("series", "cancel", series, "--account", "modeller", "--yes")
    _goto(page, f"{world['app'].url}#/")
    _goto(page, f"{world['app'].url}#/series/{series}")
    assert _weis(page, "series-position-claimable") == [capital]  # a cancelled agreement pays back the capital
    nmr = _nmr(world)
    before = nmr.functions.balanceOf(alice).call()
    pid = page.eval_on_selector("[data-testid^=series-claim-]", "e => e.dataset.testid")
    _act(page, pid)
    assert nmr.functions.balanceOf(alice).call() - before == capital
    screenshot(page, "web-series")
    assert not page.errors


def test_model_page_record_agreements_and_commitments(world, tmp_path):
    """The model's page, reached from an agreement's: its record at the oracle, its agreements and series, and its
    predictions commitments as ISubmissionLog's rules count them (a stranger's commitment recorded and ignored)."""
    from backing.consistency import select_commitments
    from oracle.units import model_id_from_uuid

    user, node, oracle = world["user"], world["node"], world["oracle"]
    a, raw = user.addresses, world["raw"]
    model = str(uuid.UUID(bytes=bytes(raw[:16])))
    round_ = oracle.oracle.functions.currentRound().call() + 1
    oracle.announce_through(round_ + 1)
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("id,prediction\nn1,0.25\nn2,0.75\n")
    digest = user.ok("submission", "hash", predictions).stdout.split()[0]
    user.ok("submission", "commit", predictions, "--model", model, "--round", round_, "--account", "modeller", "--yes")
    log = _contract(world, "SubmissionLog", world["manifest"]["contracts"]["SubmissionLog"]["address"])
    send(
        node, log.functions.commit((model_id_from_uuid(model), round_, b"\x77" * 32, b"\0" * 32, b"\0" * 32)), a["bob"]
    )
    send(node, log.functions.expectCommitments(raw), a["bob"])  # not the modeller's promise: does not count
    page = wallet_page(world["browser"], node, world["app"], a["alice"])
    _goto(page, f"{world['app'].url}#/agreement/{world['agreements']['A']}")
    promise = page.text_content("[data-testid=agreement-promise]")
    assert promise == "the modeller has not stated that he commits every round"
    stated = send(node, log.functions.expectCommitments(raw), a["modeller"])
    stated_at = _w3(world).eth.get_block(int(stated["blockNumber"], 16))["timestamp"]
    closes = {r: oracle.oracle.functions.roundCloseTime(r).call() for r in range(1, round_ + 2)}
    promised_from = min(r for r, close in closes.items() if close > stated_at)  # the rounds still open then
    _goto(page, f"{world['app'].url}#/")
    _goto(page, f"{world['app'].url}#/agreement/{world['agreements']['A']}")
    assert page.text_content("[data-testid=agreement-promise]").startswith("the modeller states he commits every")
    page.click("[data-testid=model-link]")
    page.wait_for_url("**#/model/**")
    _shown(page)
    page.wait_for_selector("[data-testid=rounds-chart] canvas")
    factory = _contract(world, "AgreementFactory", world["manifest"]["contracts"]["AgreementFactory"]["address"])
    assert page.text_content("[data-testid=model-modeller]") == a["modeller"]
    assert page.text_content("[data-testid=model-attested]").startswith("yes")
    assert page.text_content("[data-testid=model-defaults]") == str(factory.functions.defaultsOf(a["modeller"]).call())
    listed = page.eval_on_selector_all("[data-testid=model-agreements] a", "els => els.map(e => e.textContent)")
    on_chain = factory.functions.agreementsForModel(raw, 0, 50).call()
    assert len(listed) == len(on_chain) == factory.functions.agreementCountForModel(raw).call()
    assert page.eval_on_selector_all("[data-testid=model-series] a", "els => els.length") == 1
    # the commitments, judged here from the raw events with the rules, not from the page's own API
    events = [
        {"round": e["args"]["round"], "committer": e["args"]["committer"], "order": (e["blockNumber"], e["logIndex"]),
         "hash": "0x" + bytes(e["args"]["predictionsHash"]).hex()}
        for e in log.events.SubmissionCommitted.get_logs(from_block=0)
    ]  # fmt: skip
    counted, ignored = select_commitments(events, a["modeller"], [])
    assert [c["hash"] for c in counted.values()] == [digest] and len(ignored) == 1
    assert page.eval_on_selector_all("[data-testid=commitment-hash]", "els => els.map(e => e.textContent)") == [digest]
    assert page.text_content("[data-testid=committed-rounds]") == str(round_)
    still_open = [r for r in range(promised_from, round_ + 2) if r != round_]
    assert page.text_content("[data-testid=open-rounds]") == ", ".join(map(str, still_open))
    assert page.text_content("[data-testid=commitments-ignored]").startswith("1 commitment")
    promise = page.text_content("[data-testid=commitments-promise]")
    assert promise.startswith(f"The modeller states he commits every round from round {promised_from} ")
    screenshot(page, "web-model")
    _goto(page, f"{world['app'].url}#/model/00000000-0000-4000-8000-000000000001")
    assert "is not registered at this deployment's oracle" in page.text_content("[data-testid=page-error]")
    assert not page.errors


#: The series the modeller offers through the form (a clawback and one commitment option).
SERIES_FORM = {
    "unit_size": "10", "min_units": "1", "max_units": "50", "profit_share": "0.2", "lockup_rounds": "2",
    "clawback_share": "0.25", "clawback_agreements": "2", "commitments": "2:0.1",
}  # fmt: skip


def _fill_series_form(page, model, staking):
    page.fill("[data-testid=field-model_id]", model)
    page.fill("[data-testid=field-staking_address]", staking)
    for name, value in SERIES_FORM.items():
        page.fill(f"[data-testid=field-{name}]", value)
    page.wait_for_function("() => document.querySelector('[data-testid=terms-form]').dataset.checked === 'ok'")


def _series_terms_on_chain(world, series, index, staking):
    """The reference model's terms of agreement `index`: the form's, with the chain's deposit deadline."""
    from backing.model.terms import load_series_terms

    row = world["app"].api(f"series/{series}")["agreements"][index]
    data = {
        "model_id": FORM_TERMS["model_id"], "unit_size": 10, "min_units": 1, "max_units": 50, "profit_share": "0.2",
        "burn_share": FORM_TERMS["burn_share"], "reserve_ratio": FORM_TERMS["reserve_ratio"],
        "upfront_fee": FORM_TERMS["upfront_fee"], "lockup_rounds": 2, "wind_down": FORM_TERMS["wind_down"],
        "staking_address": staking, "open_until": row["open_until"],
        "clawback": {"share": "0.25", "agreements": 2}, "commitments": [{"agreements": 2, "profit_share": "0.1"}],
    }  # fmt: skip
    return load_series_terms(data, now=row["open_until"] - 3600)


def test_series_from_the_form_to_a_transfer_a_roll_and_a_claim(world):
    """The modeller offers a series through the form (a refused field first), Alice deposits and withdraws, the
    modeller posts the reserve and locks, Bob accepts and Alice transfers part of her position to him, Alice
    consents to roll and revokes, anyone matures, the modeller repays and opens the next agreement through the
    form, Alice rolls into it and Bob claims: every amount against the reference series model to the wei."""
    from backing.model.series import Series

    user, node, oracle = world["user"], world["node"], world["oracle"]
    a = user.addresses
    modeller = wallet_page(world["browser"], node, world["app"], a["modeller"])
    _connect(modeller)
    _goto(modeller, f"{world['app'].url}#/create")
    modeller.click("[data-testid=offer-series]")
    _shown(modeller)
    _fill_series_form(modeller, FORM_TERMS["model_id"], a["modeller"])
    modeller.fill("[data-testid=field-clawback_agreements]", "")
    modeller.wait_for_function("() => document.querySelector('[data-testid=terms-form]').dataset.checked === 'refused'")
    assert "give both the clawback share" in modeller.text_content("[data-testid=error-clawback_agreements]")
    modeller.fill("[data-testid=field-clawback_agreements]", "2")
    modeller.wait_for_function("() => document.querySelector('[data-testid=terms-form]').dataset.checked === 'ok'")
    _act(modeller, "create")
    modeller.wait_for_url("**#/series/0x**")
    _shown(modeller)
    from web3 import Web3

    series = Web3.to_checksum_address(modeller.url.split("#/series/")[1])
    contract = _contract(world, "BackingSeries", series)
    terms0 = _series_terms_on_chain(world, series, 0, a["modeller"])
    model = Series("modeller")
    model.open_agreement("modeller", terms0, node.now())
    assert contract.functions.agreementCount().call() == 1
    # the worked table for one unit of 10 NMR, by hand: 1% upfront fee, so 9.9 NMR staked; at x1.5 the 4.95 NMR
    # rise pays a 20% fee; at x0.5 the reserve covers half of the 4.95 NMR loss
    receives = _weis(modeller, "series-receives")
    assert receives == [7425 * ONE // 1000, 9405 * ONE // 1000, 9900 * ONE // 1000, 10692 * ONE // 1000,
                        13860 * ONE // 1000]  # fmt: skip

    alice = wallet_page(world["browser"], node, world["app"], a["alice"])
    _connect(alice)
    _goto(alice, f"{world['app'].url}#/series/{series}")
    alice.fill("[data-testid=series-deposit-units]", "4")
    _act(alice, "series-deposit")
    pid = model.deposit("alice", 4, node.now())
    alice.fill("[data-testid=series-deposit-units]", "1")
    _act(alice, "series-withdraw")
    model.withdraw("alice", 1)
    assert _weis(alice, "series-position-capital") == [model.position(pid)[0].capital] == [30 * ONE]

    node.time_travel(3601)  # a series agreement locks an hour after it opened at the earliest (the rolls' window)
    oracle.announce_through(oracle.oracle.functions.currentRound().call() + 1)
    _goto(modeller, f"{world['app'].url}#/series/{series}")
    _act(modeller, "series-post-reserve")
    required = terms0.base.required_reserve(model.agreements[0].capital - model.agreements[0].capital * 1 // 100)
    model.post_reserve("modeller", int(world["app"].api(f"series/{series}")["agreements"][0]["reserve"]), 0)
    assert model.agreements[0].reserve >= required
    _act(modeller, "series-lock")
    row = world["app"].api(f"series/{series}")["agreements"][0]
    assert row["phase"] == "Locked"
    amounts = model.lock("modeller", node.now(), start_round=row["start_round"])
    assert int(row["staked"]) == amounts.staked

    bob = wallet_page(world["browser"], node, world["app"], a["bob"])
    _connect(bob)
    _goto(bob, f"{world['app'].url}#/series/{series}")
    bob.fill("[data-testid=series-accept-from]", a["alice"])
    _act(bob, "series-accept")
    model.accept_transfers("bob", "alice", True)
    _goto(alice, f"{world['app'].url}#/")
    _goto(alice, f"{world['app'].url}#/series/{series}")
    alice.fill(f"[data-testid=series-transfer-to-{pid}]", a["bob"])
    alice.fill(f"[data-testid=series-transfer-amount-{pid}]", "10")
    _act(alice, f"series-transfer-{pid}")
    bob_pid = model.transfer(pid, "alice", "bob", 10 * ONE)
    # the next agreement opens while agreement 0 runs, through the same form; then Alice can consent to roll
    _goto(modeller, f"{world['app'].url}#/")
    _goto(modeller, f"{world['app'].url}#/series/{series}")
    modeller.click("[data-testid=series-open-next]")
    _shown(modeller)
    _fill_series_form(modeller, FORM_TERMS["model_id"], a["modeller"])
    _act(modeller, "create")
    modeller.wait_for_url(f"**#/series/{series}")
    _shown(modeller)
    model.open_agreement("modeller", _series_terms_on_chain(world, series, 1, a["modeller"]), node.now())
    _goto(alice, f"{world['app'].url}#/")
    _goto(alice, f"{world['app'].url}#/series/{series}")
    _act(alice, f"series-consent-{pid}")
    model.roll(pid, "alice")
    assert alice.text_content(f"[data-position='{pid}'] [data-testid=series-position-consent]") == "all"
    _act(alice, f"series-revoke-{pid}")
    model.roll(pid, "alice", amount=0)
    assert alice.text_content(f"[data-position='{pid}'] [data-testid=series-position-consent]") == "none"

    gap = row["start_round"] - 1 - oracle.oracle.functions.lastPostedRound(world["raw"]).call()
    oracle.post_returns(world["raw"], [0] * gap + LOCKUP_RETURNS)
    _goto(alice, f"{world['app'].url}#/")
    _goto(alice, f"{world['app'].url}#/series/{series}")
    _act(alice, "series-mature")
    record = oracle.oracle.functions.roundRecord
    start_index = record(world["raw"], row["start_round"] - 1).call()[0]
    end_index = record(world["raw"], row["end_round"]).call()[0]
    due = model.mature(node.now(), start_index, end_index)
    _goto(modeller, f"{world['app'].url}#/")
    _goto(modeller, f"{world['app'].url}#/series/{series}")
    assert _weis(modeller, "series-outstanding") == [due]
    _act(modeller, "series-repay")
    model.repay("modeller", due, node.now())
    assert world["app"].api(f"series/{series}")["agreements"][0]["phase"] == "Settled"

    _goto(alice, f"{world['app'].url}#/")
    _goto(alice, f"{world['app'].url}#/series/{series}")
    claim = model.position(pid)[0].claimable
    assert _weis(alice, "series-position-claimable") == [claim]
    _act(alice, f"series-roll-{pid}")
    rolled_into = model.roll(pid, "alice")
    by_position = dict(zip(
        alice.eval_on_selector_all("[data-testid=series-position]", "els => els.map(e => Number(e.dataset.position))"),
        _weis(alice, "series-position-capital"),
    ))  # fmt: skip
    assert by_position[rolled_into] == model.position(rolled_into)[0].capital

    _goto(bob, f"{world['app'].url}#/")
    _goto(bob, f"{world['app'].url}#/series/{series}")
    assert _weis(bob, "series-position-claimable") == [model.position(bob_pid)[0].claimable]
    nmr = _nmr(world)
    before = nmr.functions.balanceOf(a["bob"]).call()
    _act(bob, f"series-claim-{bob_pid}")
    assert nmr.functions.balanceOf(a["bob"]).call() - before == model.claim(bob_pid)
    screenshot(alice, "web-series-roll")
    assert not (modeller.errors or alice.errors or bob.errors)


def _expected_form_terms_now(now):
    from backing.model.terms import load_terms

    return load_terms({**FORM_TERMS, "open_for": "7d", "staking_address": "0x" + "00" * 19 + "01"}, now=now)


def _expected_form_terms(chain_terms):
    """The form's defaults with the fixed fields, as `load_terms` reads them."""
    from backing.model.terms import load_terms

    return load_terms(
        {**FORM_TERMS, "open_until": chain_terms.open_until, "staking_address": chain_terms.staking_address},
        now=chain_terms.open_until - 3600,
    )


#: The form's default fields with the test's corrections.
FORM_TERMS = {
    "model_id": "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11",
    "unit_size": 100,
    "min_units": 1,
    "max_units": 20,
    "profit_share": "0.25",
    "burn_share": "0.5",
    "reserve_ratio": "0.5",
    "upfront_fee": "0.01",
    "lockup_rounds": 12,
    "wind_down": "7d",
}


def test_api_refusals_in_words(world):
    import requests

    url = world["app"].url
    answer = requests.get(url + "api/agreements/0x1234", timeout=30)
    assert answer.status_code == 400 and answer.json() == {"error": "'0x1234' is not an address"}
    stranger = "0x000000000000000000000000000000000000dEaD"
    answer = requests.get(url + f"api/agreements/{stranger}", timeout=30)
    assert answer.status_code == 404 and "is not an agreement of this deployment" in answer.json()["error"]
    answer = requests.post(url + "api/terms/check", data=b"[1]", timeout=30)
    assert answer.status_code == 400 and answer.json() == {"error": "the request body must be a JSON object"}
    answer = requests.post(url + "api/explain", json={"data": "0x"}, timeout=30)
    assert answer.json() == {"reason": "the contract refused without a known reason"}
    assert requests.get(url + "static/../pyproject.toml", timeout=30).status_code == 404
    assert requests.get(url + "api/nothing", timeout=30).status_code == 404
    answer = requests.get(url + "api/models/not-a-uuid", timeout=30)
    assert answer.status_code == 400 and answer.json() == {"error": "'not-a-uuid' is not a model UUID"}

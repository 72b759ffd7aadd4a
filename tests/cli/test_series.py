"""A series through the installed CLI, on anvil and on ganache: the modeller creates a series from a series terms
file, two backers deposit, he posts his reserve and locks, opens the next agreement with the same terms while the
first runs, Alice consents to roll, the oracle posts the rounds, anyone matures, the modeller repays, the consented
roll is executed, Bob claims and deposits again, the second agreement locks, Alice sells part of her position to
Bob, it matures and is repaid, both claim and the modeller collects. Every amount is checked against the reference
model (backing.model.series) to the wei, and NMR is conserved. On the way, the main error paths: each is one line,
its exit code, and nothing sent (the nonce unchanged). A second series ends in a default after a loss and a
partial repayment, which cancels its open next agreement."""

import re
import uuid
from dataclasses import replace

import pytest

from backing.client import EXIT_ALLOWANCE, EXIT_BALANCE, EXIT_REFUSED, EXIT_USAGE
from backing.client.contracts import abi
from backing.model.agreement import ONE
from backing.model.series import Series
from backing.model.terms import load_series_terms_file
from oracle.units import model_id_from_uuid
from support.cli import OracleOps

PORT_OFFSET = 6  # anvil 8798, ganache 8799 (with the default base)

MODEL = str(uuid.UUID("5e61e5e5-1a2b-4c3d-8e4f-0a1b2c3d4e5f"))
RETURNS = [ONE // 50, ONE // 40, -ONE // 100, ONE // 25, ONE // 50, ONE // 50]

TERMS = """\
model_id: "{model}"
unit_size: 100
min_units: 2
max_units: 20
profit_share: 0.5
burn_share: 0.5
reserve_ratio: 0.5
upfront_fee: 0.01
lockup_rounds: 2
open_for: 3d
wind_down: 7d
staking_address: "{staking}"
fee_ladder:
  - {{min_units: 5, profit_share: 0.4}}
high_water_mark: true
clawback: {{share: 0.25, agreements: 2}}
commitments:
  - {{agreements: 3, profit_share: 0.3}}
"""


def _nonce(user, who):
    return user.node.rpc("eth_getTransactionCount", [user.addresses[who], "latest"])


def _refused(user, code, who, *args):
    """The command fails with `code`, one line, and `who` sent nothing. @return the line."""
    before = _nonce(user, who)
    line = user.fails(code, *args, "--account", who, "--yes")
    assert _nonce(user, who) == before, line
    return line


def _terms_at(terms, chain_agreement):
    return replace(terms, base=replace(terms.base, open_until=chain_agreement["open_until"]))


def _indices(user):
    shown = user.json("model", "show", MODEL)["rounds"]
    found = {r["round"]: int(r["index"]) for r in shown}
    found.setdefault(0, ONE)
    return found


def _run_rounds(user, oracle, raw, end_round, returns):
    """Post and finalize every round through `end_round`, taking returns from `returns` in order."""
    last = oracle.oracle.functions.lastPostedRound(raw).call()
    count = end_round - last
    oracle.post_returns(raw, [returns.pop(0) for _ in range(count)])


@pytest.fixture(scope="module")
def registered(user, deployed):
    """The model registered to the modeller by the oracle's signer quorum (each test starts its own series)."""
    OracleOps(user, deployed).announce_through(1)
    signers = [x for i in range(2) for x in ("--signer-keystore", user.home / ".brownie/accounts" / f"signer{i}.json")]
    user.ok(
        "model",
        "register",
        MODEL,
        "--modeller",
        user.addresses["modeller"],
        "--first-round",
        1,
        *signers,
        "--account",
        "relayer",
        "--yes",
    )
    return deployed


def test_series_story(user, registered, tmp_path):
    deployed = registered
    a = user.addresses
    raw = model_id_from_uuid(MODEL)
    oracle = OracleOps(user, deployed)
    returns = list(RETURNS)

    terms_file = tmp_path / "series.yaml"
    terms_file.write_text(TERMS.format(model=MODEL, staking=a["modeller"]))
    checked = user.ok("terms", "check", terms_file).stdout
    assert "series terms" in checked and "25% of each profit fee held in escrow for 2" in checked

    # the modeller creates the series; its first agreement opens in the same command
    out = user.ok("series", "create", terms_file, "--account", "modeller", "--yes").stdout
    address = re.search(r"^series (0x[0-9a-fA-F]{40})$", out, re.M).group(1)
    assert address in [row["address"] for row in user.json("series", "list", "--open")]
    state = user.json("series", "show", address)
    assert state["modeller"] == a["modeller"] and int(state["price"]) == ONE
    terms = load_series_terms_file(terms_file, user.node.now())
    # what 2 units would receive: 1% upfront fee, so 198 NMR staked; at x1.5 the 99 NMR rise pays a 50% fee
    shown = user.ok("series", "show", address, "--units", 2).stdout
    assert f"if the stake ends at x1: pays {_fmt(200 * ONE)}, receives {_fmt(198 * ONE)}" in shown
    assert f"if the stake ends at x1.5: pays {_fmt(200 * ONE)}, receives {_fmt(2475 * ONE // 10)}" in shown
    model = Series("modeller")
    now = user.node.now()
    model.open_agreement("modeller", _terms_at(terms, state["agreements"][0]), now)

    balances = {r: _balance(user, deployed, a[r]) for r in ("modeller", "alice", "bob")}

    # error paths while the agreement is open: over capacity, no allowance
    line = _refused(user, EXIT_REFUSED, "alice", "series", "deposit", address, 21)
    assert "capacity" in line and "deposit at most 20 units" in line
    line = _refused(user, EXIT_ALLOWANCE, "alice", "series", "deposit", address, 1, "--no-approve")
    assert "may spend 0 NMR" in line and "--no-approve" in line
    line = _refused(user, EXIT_REFUSED, "alice", "series", "deposit", address, 1, "--commit", 2)
    assert "no commitment of 2 agreements" in line
    line = _refused(user, EXIT_BALANCE, "relayer", "series", "deposit", address, 1)  # the relayer holds no NMR
    assert "holds 0 NMR" in line and "100 NMR" in line
    # the single-agreement commands point to the series ones
    line = _refused(user, EXIT_USAGE, "alice", "deposit", address, 1)
    assert "is a series" in line and "backing series deposit" in line

    out = user.ok("series", "deposit", address, 3, "--account", "alice", "--yes").stdout
    alice0 = int(re.search(r"position #(\d+)", out).group(1))
    assert alice0 == model.deposit("alice", 3, now)
    out = user.ok("series", "deposit", address, 6, "--account", "bob", "--yes").stdout
    bob0 = int(re.search(r"position #(\d+)", out).group(1))
    assert bob0 == model.deposit("bob", 6, now)

    required = model.agreements[0].terms.base.required_reserve(900 * ONE - 9 * ONE)
    out = user.ok("series", "reserve", address, "--account", "modeller", "--yes").stdout
    assert f"agreement 0's reserve is now {_fmt(required)}" in out
    model.post_reserve("modeller", required, 0)
    out = user.ok("series", "lock", address, "--account", "modeller", "--yes").stdout
    row = user.json("series", "show", address)["agreements"][0]
    assert row["phase"] == "Locked"
    amounts = model.lock("modeller", now, start_round=row["start_round"])
    assert int(row["staked"]) == amounts.staked and int(row["upfront_fee"]) == amounts.upfront_fee
    assert f"{_fmt(amounts.staked)} staked" in out

    # wrong phase: the only agreement is locked, so there is nothing to deposit into (nothing sent)
    line = _refused(user, EXIT_REFUSED, "bob", "series", "deposit", address, 1)
    assert "Locked" in line and "not allowed" in line
    # a roll before there is a next agreement: the contract's refusal in plain words
    line = _refused(user, EXIT_REFUSED, "alice", "series", "consent", address, alice0)
    assert "no agreement after 0 is open to roll into" in line

    # the next agreement opens with the same terms while the first runs; Alice consents to roll all of hers
    user.ok("series", "open", address, "0", "--open-for", "3d", "--account", "modeller", "--yes")
    state = user.json("series", "show", address)
    model.open_agreement("modeller", _terms_at(terms, state["agreements"][1]), user.node.now())
    line = _refused(user, EXIT_REFUSED, "alice", "series", "roll", address, alice0)
    assert "consent" in line and "Locked" in line
    out = user.ok("series", "consent", address, alice0, "--account", "alice", "--yes").stdout
    assert "consents to roll the whole claim" in out
    model.roll(alice0, "alice")

    # the oracle posts agreement 0's rounds; anyone matures; the modeller repays
    _run_rounds(user, oracle, raw, row["end_round"], returns)
    indices = _indices(user)
    out = user.ok("series", "mature", address, "--account", "alice", "--yes").stdout
    due = model.mature(user.node.now(), indices[row["start_round"] - 1], indices[row["end_round"]])
    assert f"amount due {_fmt(due)}" in out
    line = _refused(user, EXIT_REFUSED, "alice", "series", "claim", address)
    assert "no position to claim" in line
    out = user.ok("series", "repay", address, "--account", "modeller", "--yes").stdout
    assert f"repaid {_fmt(due)}; agreement 0 is Settled" in out
    model.repay("modeller", due, user.node.now())
    assert int(user.json("series", "show", address)["price"]) == model.price

    # anyone executes the consented roll; Bob claims his claim and backs the next agreement again
    out = user.ok("series", "execute-roll", address, "--account", "modeller", "--yes").stdout
    alice1 = model.execute_roll(alice0)
    rolled = model.position(alice0)[0].rolled
    assert f"position #{alice0} rolled {_fmt(rolled)} into position #{alice1}" in out
    positions = {p["position"]: p for p in user.json("position", a["bob"])["series_positions"]}
    assert int(positions[bob0]["claimable"]) == model.position(bob0)[0].claimable
    out = user.ok("series", "claim", address, "--account", "bob", "--yes").stdout
    assert _amount_after("claimed", out) == model.claim(bob0)
    now = user.node.now()
    out = user.ok("series", "deposit", address, 2, "--account", "bob", "--yes").stdout
    bob1 = int(re.search(r"position #(\d+)", out).group(1))
    assert bob1 == model.deposit("bob", 2, now)

    out = user.ok("series", "reserve", address, "--account", "modeller", "--yes").stdout
    a1 = model.agreements[1]
    required = a1.terms.base.required_reserve(a1.capital - a1.capital * a1.terms.base.upfront_fee_bps // 10_000)
    assert f"agreement 1's reserve is now {_fmt(required)}" in out
    model.post_reserve("modeller", required, 1)
    # the rolls' window after the settlement (issue 12 M-2): the lock is refused until it passes (nothing sent)
    line = _refused(user, EXIT_REFUSED, "modeller", "series", "lock", address)
    assert "may still roll in until" in line
    user.node.time_travel(model.lockable_at() - user.node.now() + 5)
    now = user.node.now()
    oracle.announce_through(oracle.oracle.functions.currentRound().call() + 1)
    user.ok("series", "lock", address, "--account", "modeller", "--yes")
    row = user.json("series", "show", address)["agreements"][1]
    amounts = model.lock("modeller", now, start_round=row["start_round"])
    assert int(row["staked"]) == amounts.staked

    # Alice sells 50 NMR of her rolled position to Bob: refused until Bob accepts transfers from her
    line = _refused(user, EXIT_REFUSED, "alice", "series", "transfer", address, alice1, a["bob"], 50)
    assert "has not accepted transfers" in line
    user.ok("series", "accept-transfers", address, a["alice"], "--account", "bob", "--yes")
    model.accept_transfers("bob", "alice", True)
    out = user.ok("series", "transfer", address, alice1, a["bob"], 50, "--account", "alice", "--yes").stdout
    to = model.transfer(alice1, "alice", "bob", 50 * ONE)
    assert f"their position #{to}" in out
    shown = user.ok("series", "show", address, "--backer", a["bob"]).stdout
    assert f"position #{to} (agreement 1, Locked)" in shown and f"mark {_fmt(model.price)}" in shown
    line = _refused(user, EXIT_USAGE, "modeller", "series", "reserve", address)
    assert "agreement 1 is locked" in line
    assert address not in [row["address"] for row in user.json("series", "list", "--open")]

    _run_rounds(user, oracle, raw, row["end_round"], returns)
    indices = _indices(user)
    user.ok("series", "mature", address, "--account", "bob", "--yes")
    due = model.mature(user.node.now(), indices[row["start_round"] - 1], indices[row["end_round"]])
    state = user.json("series", "show", address)
    assert int(state["agreements"][1]["amount_due"]) == due
    out = user.ok("series", "repay", address, "--account", "modeller", "--yes").stdout
    model.repay("modeller", due, user.node.now())
    assert "agreement 1 is Settled" in out

    # Bob lets the relayer (a marketplace, say) act for his positions, then revokes it; anyone pokes his positions'
    # books (their outcome fixed, nothing paid: the claims below still pay the model's amounts)
    series_contract = oracle.w3.eth.contract(address=address, abi=abi("BackingSeries"))
    out = user.ok("series", "set-operator", address, a["relayer"], "--account", "bob", "--yes").stdout
    assert f"{a['relayer']} is now the operator of {a['bob']}'s positions" in out
    assert series_contract.functions.isOperator(a["bob"], a["relayer"]).call()
    user.ok("series", "set-operator", address, a["relayer"], "--revoke", "--account", "bob", "--yes")
    assert not series_contract.functions.isOperator(a["bob"], a["relayer"]).call()
    bobs = [p["position"] for p in user.json("position", a["bob"])["series_positions"] if not p["done"]]
    out = user.ok("series", "poke", address, *bobs, "--account", "relayer", "--yes").stdout
    assert all(f"position #{pid}'s books are up to date" in out for pid in bobs)
    line = _refused(user, EXIT_USAGE, "relayer", "series", "poke", address, 999)
    assert "there is no position #999" in line

    # both claim everything they hold; the modeller collects what the series credited him
    for backer in ("alice", "bob"):
        mine = [p for p in user.json("position", a[backer])["series_positions"] if not p["done"]]
        expected = sum(model.claim(p["position"]) for p in mine)
        out = user.ok("series", "claim", address, "--account", backer, "--yes").stdout
        paid = sum(_nmr(x) for x in re.findall(r"claimed ([0-9.]+) NMR", out))
        assert paid == expected, out
    user.ok("series", "collect", address, "--account", "modeller", "--yes")

    after = {r: _balance(user, deployed, a[r]) for r in ("modeller", "alice", "bob")}
    for party in ("alice", "bob"):
        assert after[party] - balances[party] == model.transfers[party]
    assert after["modeller"] - balances["modeller"] == model.transfers["modeller"] + model.transfers["staking"]
    assert _balance(user, deployed, address) == model.balance
    assert all(p["done"] for r in ("alice", "bob") for p in user.json("position", a[r])["series_positions"])


def _nmr(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * ONE + int((frac + "0" * 18)[:18])


def _amount_after(pattern: str, text: str) -> int:
    found = re.search(pattern + r" (-?[0-9.]+) NMR", text)
    assert found, f"{pattern!r} not in:\n{text}"
    return _nmr(found.group(1))


def _fmt(wei: int) -> str:
    from backing.client.tx import nmr

    return nmr(wei)


def _balance(user, deployed, address) -> int:
    from web3 import Web3

    from backing.client.contracts import abi

    w3 = Web3(Web3.HTTPProvider(user.node.url))
    token = w3.eth.contract(address=deployed["contracts"]["NMR"]["address"], abi=abi("MockNMR"))
    return token.functions.balanceOf(address).call()


def test_series_default_cancels_the_next_agreement(user, registered, tmp_path):
    """A second series on the model: a loss, a partial repayment, no more; anyone declares the default after the
    wind-down, which cancels the open next agreement. Alice's share of the pool and Bob's capital back, to the wei."""
    deployed = registered
    a = user.addresses
    raw = model_id_from_uuid(MODEL)
    oracle = OracleOps(user, deployed)
    terms_file = tmp_path / "series.yaml"
    terms_file.write_text(TERMS.format(model=MODEL, staking=a["modeller"]))
    out = user.ok("series", "create", terms_file, "--account", "modeller", "--yes").stdout
    address = re.search(r"^series (0x[0-9a-fA-F]{40})$", out, re.M).group(1)
    assert address in [row["address"] for row in user.json("series", "list", "--model", MODEL)]
    terms = load_series_terms_file(terms_file, user.node.now())
    state = user.json("series", "show", address)
    model = Series("modeller")
    now = user.node.now()
    model.open_agreement("modeller", _terms_at(terms, state["agreements"][0]), now)
    balances = {r: _balance(user, deployed, a[r]) for r in ("alice", "bob")}

    user.ok("series", "deposit", address, 4, "--account", "alice", "--yes")
    alice0 = model.deposit("alice", 4, now)
    oracle.announce_through(oracle.oracle.functions.currentRound().call() + 1)
    user.ok("series", "reserve", address, "--account", "modeller", "--yes")
    a0 = model.agreements[0]
    model.post_reserve("modeller", a0.terms.base.required_reserve(a0.capital - a0.capital // 100), 0)
    user.ok("series", "lock", address, "--account", "modeller", "--yes")
    row = user.json("series", "show", address)["agreements"][0]
    model.lock("modeller", now, start_round=row["start_round"])
    user.ok("series", "open", address, "0", "--account", "modeller", "--yes")
    state = user.json("series", "show", address)
    now = user.node.now()
    model.open_agreement("modeller", _terms_at(terms, state["agreements"][1]), now)
    user.ok("series", "deposit", address, 2, "--account", "bob", "--yes")
    bob1 = model.deposit("bob", 2, now)

    count = row["end_round"] - oracle.oracle.functions.lastPostedRound(raw).call()
    oracle.post_returns(raw, ([-ONE // 20, ONE // 100] + [0] * count)[:count])  # a loss: the reserve covers half
    indices = _indices(user)
    user.ok("series", "mature", address, "--account", "bob", "--yes")
    due = model.mature(user.node.now(), indices[row["start_round"] - 1], indices[row["end_round"]])
    assert int(user.json("series", "show", address)["agreements"][0]["amount_due"]) == due

    # a partial repayment, then nothing: too early to declare a default (nothing sent), then after the wind-down
    user.ok("series", "repay", address, 100, "--account", "modeller", "--yes")
    model.repay("modeller", 100 * ONE, user.node.now())
    line = _refused(user, EXIT_REFUSED, "bob", "series", "default", address)
    assert "a default can be declared only after that" in line
    user.node.time_travel(7 * 86400 + 60)
    out = user.ok("series", "default", address, "--account", "bob", "--yes").stdout
    assert "agreement 0 is Defaulted" in out
    model.declare_default(user.node.now())
    phases = [r["phase"] for r in user.json("series", "show", address)["agreements"]]
    assert phases == ["Defaulted", "Cancelled"] and user.json("series", "show", address)["ended"]

    out = user.ok("series", "claim", address, "--account", "alice", "--yes").stdout
    assert _amount_after("claimed", out) == model.claim(alice0)
    out = user.ok("series", "claim", address, "--account", "bob", "--yes").stdout
    assert _amount_after("claimed", out) == model.claim(bob1) == 200 * ONE
    for party in ("alice", "bob"):
        assert _balance(user, deployed, a[party]) - balances[party] == model.transfers[party]
    line = _refused(user, EXIT_REFUSED, "modeller", "series", "open", address, "0")
    assert "the series has ended" in line

"""The whole story through the installed CLI, on anvil and on ganache: deploy with a development token, register
and attest a model, create an agreement from a terms file, two backers deposit, the modeller posts his reserve
and locks, the oracle posts the lockup's rounds, anyone matures, the modeller repays, both backers claim. Every
amount the CLI prints is checked against the reference model (backing.model.agreement) to the wei, and NMR is
conserved."""

import re
import uuid

from backing.model.agreement import ONE, Agreement, Phase
from backing.model.terms import load_terms_file
from oracle.units import model_id_from_uuid
from support.cli import OracleOps

MODEL = str(uuid.UUID("8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11"))
RETURNS = [ONE // 50, -ONE // 100, ONE // 25]  # rounds 1-3: +2%, -1%, +4%

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
"""


def _nmr_wei(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * ONE + int((frac + "0" * 18)[:18])


def _amount_after(pattern: str, text: str) -> int:
    found = re.search(pattern + r" (-?[0-9.]+) NMR", text)
    assert found, f"{pattern!r} not in:\n{text}"
    return _nmr_wei(found.group(1))


def test_agreement_story(user, deployed, tmp_path):
    a = user.addresses
    raw = model_id_from_uuid(MODEL)
    oracle = OracleOps(user, deployed)
    oracle.announce_through(1)
    signers = [x for i in range(2) for x in ("--signer-keystore", user.home / ".brownie/accounts" / f"signer{i}.json")]

    # the modeller proves ownership in his profile; the signer quorum registers and attests the model
    claim = user.ok("model", "claim", MODEL, "--account", "modeller").stdout.splitlines()[-1]
    assert claim.startswith(f"backing-vaults:{MODEL}:{a['modeller']}:")
    profile = tmp_path / "profile.txt"
    profile.write_text(f"I model for fun.\n{claim}\n")
    user.ok(
        "model",
        "register",
        MODEL,
        "--modeller",
        a["modeller"],
        "--first-round",
        1,
        *signers,
        "--account",
        "relayer",
        "--yes",
    )
    user.ok("model", "attest", MODEL, "--profile", profile, *signers, "--account", "relayer", "--yes")
    shown = user.json("model", "show", MODEL)
    assert shown["modeller"] == a["modeller"] and shown["attested"] and shown["first_round"] == 1

    # the modeller offers terms; the CLI checks them at the chain's time
    terms_file = tmp_path / "terms.yaml"
    terms_file.write_text(TERMS.format(model=MODEL, staking=a["modeller"]))
    out = user.ok("agreement", "create", terms_file, "--account", "modeller", "--yes").stdout
    address = re.search(r"^agreement (0x[0-9a-fA-F]{40})$", out, re.M).group(1)
    listed = user.json("agreement", "list", "--open")
    assert [row["address"] for row in listed] == [address]

    terms = load_terms_file(terms_file, user.node.now())
    chain_terms = user.json("agreement", "show", address)
    assert int(chain_terms["unit_size"]) == terms.unit_size and chain_terms["phase"] == "Open"
    model = Agreement(terms=_same_open_until(terms, chain_terms["open_until"]), modeller="modeller")

    balances = {r: _balance(user, deployed, a[r]) for r in ("modeller", "alice", "bob")}
    now = user.node.now()
    out = user.ok("deposit", address, 3, "--account", "alice", "--yes").stdout
    assert "deposited 300 NMR for 3 units" in out
    model.deposit("alice", 3, now)
    user.ok("deposit", address, 6, "--account", "bob", "--yes")
    model.deposit("bob", 6, now)
    # bob again: his allowance is used up (NMR decrements it), so this approves exactly 100 NMR from zero
    user.ok("deposit", address, 1, "--account", "bob", "--yes")
    model.deposit("bob", 1, now)

    out = user.ok("agreement", "reserve", address, "--account", "modeller", "--yes").stdout
    required = model.terms.required_reserve(_staked(model))
    assert f"reserve now {_fmt(required)}" in out
    model.post_reserve("modeller", required)
    out = user.ok("agreement", "lock", address, "--account", "modeller", "--yes").stdout
    state = user.json("agreement", "show", address)
    assert state["phase"] == "Locked"
    start = state["start_round"]
    model.lock("modeller", now, start_round=start, first_round=1)
    assert int(state["staked"]) == model.locked.staked and int(state["upfront_fee"]) == model.locked.upfront_fee
    assert f"{_fmt(model.locked.staked)} staked" in out

    # the oracle posts every round through the end of the lockup; anyone matures
    oracle.post_returns(raw, RETURNS[: state["end_round"]])
    indices = {r["round"]: int(r["index"]) for r in user.json("model", "show", MODEL)["rounds"]}
    indices.setdefault(0, ONE)
    out = user.ok("agreement", "mature", address, "--account", "alice", "--yes").stdout
    model.mature(user.node.now(), start_index=indices[start - 1], end_index=indices[state["end_round"]])
    state = user.json("agreement", "show", address)
    assert int(state["final_value"]) == model.matured.final_value
    assert int(state["amount_due"]) == model.matured.amount_due
    assert f"amount due {_fmt(model.matured.amount_due)}" in out

    # the staking wallet (the modeller's here) repays everything due; both backers claim
    out = user.ok("agreement", "repay", address, "--account", "modeller", "--yes").stdout
    assert f"repaid {_fmt(model.matured.amount_due)}; the agreement is Settled" in out
    model.repay("modeller", model.matured.amount_due)
    assert model.phase == Phase.Settled
    for backer in ("alice", "bob"):
        position = user.json("position", a[backer])["positions"][0]
        assert int(position["claimable"]) == model.payout(backer)
        out = user.ok("claim", address, "--account", backer, "--yes").stdout
        assert _amount_after("claimed", out) == model.claim(backer)

    # conservation: what each party gained on chain is what the model moved, to the wei
    after = {r: _balance(user, deployed, a[r]) for r in ("modeller", "alice", "bob")}
    for party in ("alice", "bob"):
        assert after[party] - balances[party] == model.transfers[party]
    # the modeller is also the staking address: he received the stake and paid it back with the repayment
    assert after["modeller"] - balances["modeller"] == model.transfers["modeller"] + model.transfers.get("staking", 0)
    assert _balance(user, deployed, address) == model.balance


def _same_open_until(terms, open_until):
    from dataclasses import replace

    return replace(terms, open_until=open_until)


def _staked(model):
    from backing.model.agreement import lock_amounts

    return lock_amounts(model.terms, model.total_units).staked


def _fmt(wei: int) -> str:
    from backing.client.tx import nmr

    return nmr(wei)


def _balance(user, deployed, address) -> int:
    from web3 import Web3

    from backing.client.contracts import abi

    w3 = Web3(Web3.HTTPProvider(user.node.url))
    token = w3.eth.contract(address=deployed["contracts"]["NMR"]["address"], abi=abi("MockNMR"))
    return token.functions.balanceOf(address).call()

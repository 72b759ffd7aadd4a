"""The oracle operator's story through the installed CLI, on anvil and on ganache: after `backing deploy`, the
signer quorum registers a model (`backing oracle register`), the sender posts rounds from a garbled results file
(`backing oracle run`), the owner allows a watcher (`backing oracle signers watcher`), `backing oracle watch
--once` reading the right file disputes the wrong round and posts the NMR bond, `backing oracle resolve` (the
dispute quorum) replaces it and the bond goes back, and the rounds finalize on the right values."""

import json
import uuid

from backing.client.contracts import abi
from oracle.model import RoundResult

MODEL = str(uuid.UUID("5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"))
PORT_OFFSET = 6  # anvil base+6, ganache base+7
ONE = 10**18
DAY = 86400


def _row(round_, close_time, corr, mmc="0"):
    return {
        "model_id": MODEL,
        "round": round_,
        "close_time": close_time,
        "scores": {"CORR20": corr, "MMC": mmc},
        "multipliers": {"CORR20": "0.5", "MMC": "2"},
        "payout_factor": "1",
        "clip": "0.05",
    }


def _report(row):
    from decimal import Decimal

    return RoundResult(
        row["model_id"],
        row["round"],
        {k: Decimal(v) for k, v in row["scores"].items()},
        {k: Decimal(v) for k, v in row["multipliers"].items()},
        Decimal(row["payout_factor"]),
        Decimal(row["clip"]),
    ).to_report(8)


def test_wrong_report_disputed_by_watch_and_replaced(user, fresh, tmp_path):
    from web3 import Web3

    a = user.addresses
    accounts = user.home / ".brownie" / "accounts"
    for path in [user.password_file, *accounts.glob("*.json")]:
        path.chmod(0o600)  # the oracle refuses keys and passwords other users could read
    key = {
        name: str(accounts / f"{name}.json") for name in ("signer0", "signer1", "signer2", "relayer", "bob", "deployer")
    }
    address = fresh["contracts"]["ScoreOracle"]["address"]
    at = ["--oracle", address]
    w3 = Web3(Web3.HTTPProvider(user.node.url))
    oracle = w3.eth.contract(address=address, abi=abi("ScoreOracle")).functions
    nmr = w3.eth.contract(address=fresh["contracts"]["NMR"]["address"], abi=abi("MockNMR")).functions
    model_id = bytes.fromhex(MODEL.replace("-", "")).ljust(32, b"\0")

    out = user.ok(
        "oracle",
        "register",
        MODEL,
        "--modeller",
        a["modeller"],
        "--first-round",
        1,
        *at,
        "--keystore",
        key["signer0"],
        "--keystore",
        key["signer1"],
        "--sender-keystore",
        key["relayer"],
        "--yes",
    ).stdout
    assert f"model {MODEL} registered to {a['modeller']} from round 1" in out

    now = user.node.now()
    closes = [now - 3 * DAY, now - 2 * DAY, now - DAY]
    right_rows = [_row(1, closes[0], "0.01"), _row(2, closes[1], "0.04", "0.01"), _row(3, closes[2], "-0.03")]
    wrong_rows = [right_rows[0], _row(2, closes[1], "0.9"), right_rows[2]]
    (tmp_path / "right.json").write_text(json.dumps(right_rows))
    (tmp_path / "wrong.json").write_text(json.dumps(wrong_rows))
    right = ["--source", "file", "--file", tmp_path / "right.json"]
    sender = ["--keystore", key["signer0"], "--keystore", key["signer1"], "--sender-keystore", key["relayer"]]
    user.ok(
        "oracle",
        "run",
        "--once",
        "--source",
        "file",
        "--file",
        tmp_path / "wrong.json",
        *sender,
        *at,
        "--db",
        tmp_path / "sender.sqlite",
    )
    assert oracle.lastPostedRound(model_id).call() == 3

    user.ok("oracle", "signers", "watcher", a["bob"], "--owner-keystore", key["deployer"], *at, "--yes")
    shown = json.loads(user.ok("oracle", "signers", *at, "--json").stdout)
    assert shown["watchers"] == [a["bob"]] and shown["quorum"] == 2 and shown["dispute_quorum"] == 3

    bond = oracle.disputeBond().call()
    held = nmr.balanceOf(a["bob"]).call()
    out = user.ok("oracle", "watch", "--once", *right, "--watcher-keystore", key["bob"], *at, "--yes").stdout
    assert f"model {MODEL} round 2: WRONG on-chain (return 0.05, the source says 0.04)" in out
    assert "round 2 disputed" in out
    assert oracle.reportOf(model_id, 2).call()[3:5] == [2**64 - 1, a["bob"]]
    assert nmr.balanceOf(a["bob"]).call() == held - bond

    out = user.ok(
        "oracle",
        "resolve",
        MODEL,
        2,
        *right,
        "--keystore",
        key["signer0"],
        "--keystore",
        key["signer1"],
        "--keystore",
        key["signer2"],
        "--sender-keystore",
        key["relayer"],
        *at,
        "--yes",
    ).stdout
    assert "return 0.05 -> 0.04; the report is REPLACED" in out
    assert nmr.balanceOf(a["bob"]).call() == held
    out = user.ok("oracle", "watch", "--once", *right, *at).stdout
    assert f"model {MODEL} round 2: dispute resolved, the round now returns 0.04" in out

    user.node.time_travel(oracle.challengeWindow().call() + 1)
    user.ok("oracle", "run", "--once", *right, *sender, *at, "--db", tmp_path / "honest.sqlite")
    rounds = {r["round"]: r for r in user.json("model", "show", MODEL)["rounds"]}
    assert [int(rounds[r]["return"]) for r in (1, 2, 3)] == [_report(row).round_return() for row in right_rows]
    assert int(rounds[2]["return"]) == ONE * 4 // 100

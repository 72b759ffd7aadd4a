"""`backing portfolio` on a local anvil node: candidates (open agreements), the backer's holdings and both models'
score history are read from the chain; the report's frontier, 2%-rule check, ensemble ranking and plan refer to
them, and the plan only deposits where the contracts take deposits."""

import json
import re
import uuid

import pytest

from backing.model.agreement import ONE
from oracle.units import model_id_from_uuid
from support.cli import PORTS, Node, OracleOps

PORT_OFFSET = 8  # anvil base+8 (8800 by default; 8828 with BACKING_CLI_TEST_PORT=8820)

MODELS = [str(uuid.UUID(int=0x5A11 + i)) for i in range(2)]
RETURNS = {
    0: [ONE // 50, -ONE // 100, ONE // 40, ONE // 100, -ONE // 200, ONE // 80],
    1: [-ONE // 100, ONE // 50, -ONE // 200, ONE // 25, ONE // 100, -ONE // 100],
}

TERMS = """\
model_id: "{model}"
unit_size: 100
min_units: 1
max_units: 20
profit_share: 0.5
burn_share: 0.5
reserve_ratio: 0.5
upfront_fee: 0.01
lockup_rounds: 3
open_for: 3d
wind_down: 7d
staking_address: "{staking}"
"""


@pytest.fixture(scope="module")
def node(request):
    started = Node("anvil", PORTS["anvil"] + PORT_OFFSET).start()
    yield started
    started.stop()


def test_portfolio_reads_candidates_holdings_and_history_from_the_chain(user, deployed, tmp_path):
    a = user.addresses
    oracle = OracleOps(user, deployed)
    oracle.announce_through(1)
    signers = [x for i in range(2) for x in ("--signer-keystore", user.home / ".brownie/accounts" / f"signer{i}.json")]
    addresses = []
    for i, model in enumerate(MODELS):
        user.ok(
            "model",
            "register",
            model,
            "--modeller",
            a["modeller"],
            "--first-round",
            1,
            *signers,
            "--account",
            "relayer",
            "--yes",
        )
        oracle.post_returns(model_id_from_uuid(model), RETURNS[i])
    for i, model in enumerate(MODELS):
        terms_file = tmp_path / f"terms{i}.yaml"
        terms_file.write_text(TERMS.format(model=model, staking=a["modeller"]))
        out = user.ok("agreement", "create", terms_file, "--account", "modeller", "--yes").stdout
        addresses.append(re.search(r"^agreement (0x[0-9a-fA-F]{40})$", out, re.M).group(1))
    user.ok("deposit", addresses[0], 3, "--account", "alice", "--yes")
    user.ok("deposit", addresses[1], 2, "--account", "bob", "--yes")
    # a series on the second model: alice holds a position in its first agreement
    series_terms = tmp_path / "series.yaml"
    series_terms.write_text(TERMS.format(model=MODELS[1], staking=a["modeller"]) + "high_water_mark: true\n")
    out = user.ok("series", "create", series_terms, "--account", "modeller", "--yes").stdout
    series = re.search(r"^series (0x[0-9a-fA-F]{40})$", out, re.M).group(1)
    user.ok("series", "deposit", series, 2, "--account", "alice", "--yes")

    result = user.ok(
        "portfolio",
        "report",
        "--account",
        "alice",
        "--budget",
        "1000",
        "--paths",
        "400",
        "--block",
        "2",
        "--risk-limit",
        "0.05",
        "--plot",
        tmp_path / "plots",
        "--json",
        "-",
    )
    data = json.loads(result.stdout)
    cands = {c["id"]: c for c in data["inputs"]["candidates"]}
    in_series = f"{series}#0"
    assert set(cands) == set(addresses) | {in_series}
    assert cands[addresses[0]]["held"] == 3 and cands[addresses[1]]["held"] == 0
    assert cands[in_series]["kind"] == "series" and cands[in_series]["held"] == 2
    assert cands[in_series]["open_units"] == 18
    assert cands[addresses[0]]["open_units"] == 17 and cands[addresses[1]]["open_units"] == 18
    assert data["inputs"]["history"]["rounds"] == 6
    assert sorted(data["inputs"]["history"]["models"]) == sorted(MODELS)
    assert {r["candidate"] for r in data["ensemble"]} == set(addresses) | {in_series}
    assert {row["model"] for row in data["check"]["models"]} == set(MODELS)
    chosen = data["frontier"]["chosen"]
    assert chosen["cost"] <= 1000
    for action in data["plan"]:
        assert action["action"] in ("deposit", "withdraw")
        if action["action"] == "deposit" and action["candidate"] == in_series:
            assert action["command"] == f"backing series deposit {series} {action['units']}"
        elif action["action"] == "deposit":
            assert action["command"] == f"backing deposit {action['candidate']} {action['units']}"
    assert {p.split("/")[-1] for p in data["plots"]} == {"frontier.png", "correlation.png", "backtest.png"}

    text = user.ok("portfolio", "check", "--address", a["alice"], "--budget", "1000", "--paths", "400").stdout
    assert "The 2% rule" in text and MODELS[0][:20] in text
    # in-process: the history holds exactly the returns the oracle posted (its RoundFinalized events)
    from types import SimpleNamespace

    from backing.portfolio.chain import read_inputs

    manifest = user.work / "deployments" / f"{user.node.chain_id}.json"
    read = read_inputs(SimpleNamespace(rpc_url=user.node.url, chain_id=None, manifest=str(manifest)), a["alice"], 0)
    for i, model in enumerate(MODELS):
        assert read.history.returns[:, read.history.column(model)].tolist() == RETURNS[i]
    assert [h.units for h in read.holdings] == [3, 2]

    # the modeller locks the first agreement and one more round is final: alice's units there are locked, their
    # outcome runs over the rounds left from the index so far, and the plan proposes nothing the contract refuses
    user.ok("agreement", "reserve", addresses[0], "--account", "modeller", "--yes")
    user.ok("agreement", "lock", addresses[0], "--account", "modeller", "--yes")
    end_round = user.json("agreement", "show", addresses[0])["end_round"]
    oracle.post_returns(model_id_from_uuid(MODELS[0]), [ONE // 50])
    data = json.loads(
        user.ok(
            "portfolio",
            "plan",
            "--account",
            "alice",
            "--budget",
            "1000",
            "--paths",
            "400",
            "--block",
            "2",
            "--risk-limit",
            "0.05",
            "--json",
            "-",
        ).stdout
    )
    locked = {c["id"]: c for c in data["inputs"]["candidates"]}[addresses[0]]
    assert locked["phase"] == "Locked" and locked["held"] == 3 and locked["open_units"] == 0
    assert locked["rounds_left"] == end_round - 7 and locked["index_so_far"] == 1.02
    for action in data["plan"]:
        assert action["candidate"] != addresses[0] or action["action"] in ("hold", "wait")
    assert all(p["units"].get(addresses[0], 0) == 0 for p in data["frontier"]["points"])  # nothing to buy there

    # a budget below one unit of every open agreement is refused in plain words (exit 2)
    bad = user.run("portfolio", "frontier", "--account", "alice", "--budget", "50", "--paths", "400")
    assert bad.returncode == 2 and "below one unit" in bad.stderr

"""`backing montecarlo --history chain|numerai --model UUID`: the bootstrap's history read from the oracle's posted
rounds (a node the test starts, CORR20/MMC reports signed by the quorum, one round missed) or from Numerai (the
fake GraphQL server), instead of a CSV. The loaders' histories are compared with what was posted or served, to
the 1e-18, and the command reports bootstrapping that many rounds."""

import json
import uuid
from pathlib import Path

import pytest

from backing.client.history import numerai_history
from backing.model.agreement import ONE
from oracle import typed_data as td
from oracle.testing.fake_numerai import FakeNumerai, running
from oracle.typed_data import Report
from oracle.units import model_id_from_uuid
from support.cli import PORTS, Node, OracleOps

PORT_OFFSET = 8  # anvil base+8
MODEL = str(uuid.UUID("0d15ea5e-1a2b-4c3d-8e4f-0a1b2c3d4e5f"))
TERMS = Path(__file__).resolve().parents[2] / "examples" / "terms.yaml"
SCORES = [(ONE // 50, ONE // 200), (-ONE // 100, ONE // 400), None, (ONE // 40, -ONE // 1000)]  # None: missed


@pytest.fixture(scope="module")
def node():
    started = Node("anvil", PORTS["anvil"] + PORT_OFFSET).start()  # one node kind: the reading is web3's alone
    yield started
    started.stop()


def _report(raw, tournament, round_, pair):
    if pair is None:
        return Report(raw, tournament, round_, missed=True)
    names = (td.to_bytes32("CORR20"), td.to_bytes32("MMC"))
    return Report(raw, tournament, round_, False, names, pair, (ONE // 2, 2 * ONE), ONE // 4, ONE // 20)


def test_history_from_the_chain(user, deployed, tmp_path):
    signers = [x for i in range(2) for x in ("--signer-keystore", user.home / ".brownie/accounts" / f"signer{i}.json")]
    oracle = OracleOps(user, deployed)
    oracle.announce_through(1)
    register = ("model", "register", MODEL, "--modeller", user.addresses["modeller"], "--first-round", 1)
    user.ok(*register, *signers, "--account", "relayer", "--yes")
    raw = bytes(model_id_from_uuid(MODEL))
    tournament = oracle.oracle.functions.tournament().call()
    oracle.post_reports(raw, [_report(raw, tournament, r + 1, p) for r, p in enumerate(SCORES)])

    out = tmp_path / "mc.json"
    argv = ("montecarlo", "--terms", TERMS, "--paths", "20", "--rounds", "2", "--block", "2")
    result = user.ok(*argv, "--seed", "1", "--history", "chain", "--model", MODEL, "--json", out, "--no-progress")
    assert "block bootstrap of 4 history rounds" in result.stdout
    data = json.loads(out.read_text())
    assert data["config"]["scores"]["bootstrap"]["rounds_in_history"] == 4

    from backing.client.history import chain_history

    rounds, scores = chain_history(oracle.oracle, raw, MODEL)
    assert list(rounds) == [1, 2, 3, 4]
    assert [tuple(map(int, s)) for s in scores] == [p or (0, 0) for p in SCORES]

    # a model the oracle does not know: one line, bad input
    line = user.fails(2, *argv, "--history", "chain", "--model", str(uuid.uuid4()))
    assert "is not registered at the oracle" in line
    line = user.fails(2, *argv, "--history", "chain")
    assert "needs --model UUID" in line


def test_history_from_numerai(user, tmp_path):
    fake = FakeNumerai(now=lambda: 1_800_000_000)
    for i, number in enumerate((1000, 1001, 1002)):
        fake.add_round(number, open_time=1767268800 + i * 86400, resolved=True, payout_factor="0.5")
    fake.add_model(MODEL, "alpha")
    fake.set_scores(MODEL, 1000, {"CORR20": "0.0123", "MMC": "-0.0045"})
    fake.set_scores(MODEL, 1002, {"CORR20": "-0.02", "MMC": "0.001"})  # 1001: no submission, a missed round
    with running(fake) as (_, url):
        rounds, scores = numerai_history(MODEL, url)
        assert list(rounds) == [1000, 1001, 1002]
        assert [tuple(map(int, s)) for s in scores] == [
            (123 * ONE // 10_000, -45 * ONE // 10_000),
            (0, 0),
            (-2 * ONE // 100, ONE // 1000),
        ]
        argv = ("montecarlo", "--terms", TERMS, "--paths", "20", "--rounds", "2", "--block", "2")
        result = user.ok(*argv, "--history", "numerai", "--model", MODEL, "--numerai-url", url, "--no-progress")
        assert "block bootstrap of 3 history rounds" in result.stdout
        line = user.fails(2, *argv, "--history", "numerai", "--model", str(uuid.uuid4()), "--numerai-url", url)
        assert "Numerai has no scores of model" in line and "nothing to bootstrap" in line

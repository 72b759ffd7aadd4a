"""`backing submission commit|verify|agent` and `backing consistency` through the installed CLI, on anvil: the
modeller commits round 1's predictions, a backer verifies the revealed file (CSV and parquet: one
hash), a changed file, a missed round and a late attempt; refusals in plain words; the consistency report and
`backing model show` count committed and missed rounds. The log records anything anyone sends: commitments
written around the CLI (a stranger's, a late one) are sent over web3 and shown to be ignored or late."""

import contextlib
import functools
import http.server
import json
import random
import threading
import uuid

import pytest
from eth_account import Account

from backing.client import EXIT_DECLINED, EXIT_REFUSED, EXIT_USAGE
from backing.client.contracts import abi
from oracle.units import model_id_from_uuid
from support.cli import PASSWORD, PORTS, Node, OracleOps

PORT_OFFSET = 8  # anvil base+8
MODEL = str(uuid.UUID("3c1f7a52-0b8a-4b8e-9c1e-2a7f6d1b0c22"))
UNKNOWN = str(uuid.UUID("00000000-0000-4000-8000-000000000001"))
ZERO32 = b"\0" * 32


def send_commit(oracle_ops, deployed, key, round_, digest):
    """A commitment sent straight to the SubmissionLog with `key`, around the CLI's checks."""
    log = oracle_ops.w3.eth.contract(
        address=deployed["contracts"]["SubmissionLog"]["address"], abi=abi("SubmissionLog")
    )
    account = Account.from_key(key)
    tx = log.functions.commit((model_id_from_uuid(MODEL), round_, digest, ZERO32, ZERO32)).build_transaction(
        {
            "from": account.address,
            "chainId": oracle_ops.node.chain_id,
            "nonce": oracle_ops.w3.eth.get_transaction_count(account.address),
        }
    )
    sent = oracle_ops.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    assert oracle_ops.w3.eth.wait_for_transaction_receipt(sent, timeout=60)["status"] == 1
    return account.address


@contextlib.contextmanager
def served(folder):
    """The files of `folder` over HTTP on a free local port, as a modeller's web space would serve them."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 -- http.server's name
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_predictions(path, predictions, reverse=False):
    rows = sorted(predictions.items(), reverse=reverse)
    path.write_text("id,prediction\n" + "".join(f"{i},{v:.9f}\n" for i, v in rows))
    return path


@pytest.fixture(scope="module")
def node():
    """Anvil only: the commands are plain calls and one transaction each, nothing node-specific (the deploy and
    the sending path they share run on both nodes in test_deploy.py and test_story.py); this keeps the module
    near a minute."""
    started = Node("anvil", PORTS["anvil"] + PORT_OFFSET).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def registered(user, deployed, tmp_path_factory):
    """The model registered to the modeller; rounds 1-3 announced."""
    oracle = OracleOps(user, deployed)
    oracle.announce_through(3)
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
    return oracle


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Revealed predictions of a steady model for rounds 1-3 (fixed ids, a little noise) and another model's."""
    folder = tmp_path_factory.mktemp("revealed")
    rng = random.Random(3)
    features = {f"n{k:04d}": [rng.gauss(0, 1) for _ in range(3)] for k in range(200)}
    weights = [0.5, -0.2, 0.3]
    by_round = {}
    for r in (1, 2, 3):
        w = weights if r < 3 else [-0.1, 0.6, -0.4]  # round 3: a different model
        by_round[r] = {
            i: 0.5 + 0.1 * sum(a * b for a, b in zip(w, f)) + rng.gauss(0, 0.005) for i, f in features.items()
        }
        write_predictions(folder / f"round-{r}.csv", by_round[r])
    return folder, by_round


def test_commit_verify_and_the_consistency_report(user, registered, deployed, files, fresh, tmp_path):
    import pandas as pd

    folder, by_round = files
    csv = folder / "round-1.csv"
    # the confirmation is asked first; without a terminal and --yes nothing is sent
    line = user.fails(
        EXIT_DECLINED, "submission", "commit", csv, "--model", MODEL, "--round", 1, "--account", "modeller"
    )
    assert "nothing sent" in line
    out = user.ok(
        "submission", "commit", csv, "--model", MODEL, "--round", 1, "--account", "modeller", "--dry-run"
    ).stdout
    assert "dry run" in out and "round 1" in out
    hashed = user.ok("submission", "hash", csv).stdout.split()[0]
    out = user.ok(
        "submission",
        "commit",
        csv,
        "--model",
        MODEL,
        "--round",
        1,
        "--submission-id",
        MODEL,
        "--account",
        "modeller",
        "--yes",
    ).stdout
    assert f"committed round 1 of model {MODEL}: {hashed}" in out

    # a backer: the revealed file as parquet, rows in another order, matches
    parquet = tmp_path / "revealed.parquet"
    frame = pd.DataFrame({"id": list(by_round[1])[::-1], "prediction": list(by_round[1].values())[::-1]})
    frame.to_parquet(parquet)
    verdict = user.json("submission", "verify", parquet, "--model", MODEL, "--round", 1)
    assert verdict["outcome"] == "match" and verdict["committed_hash"] == hashed
    assert verdict["committer"] == user.addresses["modeller"] and verdict["submission_id"].startswith("0x3c1f7a52")
    changed = dict(by_round[1], n0007=0.99)
    out = user.ok(
        "submission", "verify", write_predictions(tmp_path / "c.csv", changed), "--model", MODEL, "--round", 1
    ).stdout
    assert out.startswith("mismatch:")
    assert (
        user.json("submission", "verify", folder / "round-2.csv", "--model", MODEL, "--round", 2)["outcome"]
        == "missing"
    )

    # anyone may write to the log: a stranger's later commitment for round 1 is recorded, ignored and shown
    outsider = Account.create()
    registered.w3.provider.make_request("anvil_setBalance", [outsider.address, hex(10**18)])
    stranger = send_commit(registered, deployed, outsider.key, 1, b"\x77" * 32)
    verdict = user.json("submission", "verify", parquet, "--model", MODEL, "--round", 1)
    assert verdict["outcome"] == "match" and verdict["committer"] == user.addresses["modeller"]
    assert [(i["committer"], i["hash"]) for i in verdict["ignored"]] == [(stranger, "0x" + "77" * 32)]
    assert "ignored" in user.ok("submission", "verify", parquet, "--model", MODEL, "--round", 1).stdout

    # refusals, in plain words
    line = user.fails(
        EXIT_REFUSED, "submission", "commit", csv, "--model", MODEL, "--round", 1, "--account", "modeller", "--yes"
    )
    assert "already has a commitment for round 1" in line and "nothing sent" in line
    line = user.fails(
        EXIT_REFUSED, "submission", "commit", csv, "--model", MODEL, "--round", 2, "--account", "alice", "--yes"
    )
    assert "may not commit for model" in line
    line = user.fails(
        EXIT_USAGE, "submission", "commit", csv, "--model", UNKNOWN, "--round", 1, "--account", "modeller", "--yes"
    )
    assert "not registered" in line and "unknown model" in line
    line = user.fails(EXIT_USAGE, "submission", "verify", tmp_path / "absent.csv", "--model", MODEL, "--round", 1)
    assert "no such file" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("era,target\n1,0.5\n")
    line = user.fails(
        EXIT_USAGE, "submission", "commit", bad, "--model", MODEL, "--round", 2, "--account", "modeller", "--yes"
    )
    assert "no 'id' column" in line

    # an agent key commits round 3; round 2 is missed once its deadline passes, and a late commitment is refused
    user.ok("submission", "agent", user.addresses["alice"], "--account", "modeller", "--yes")
    user.ok(
        "submission", "commit", folder / "round-3.csv", "--model", MODEL, "--round", 3, "--account", "alice", "--yes"
    )
    close2 = registered.oracle.functions.roundCloseTime(2).call()
    user.node.time_travel(close2 - user.node.now() + 5)
    line = user.fails(
        EXIT_REFUSED,
        "submission",
        "commit",
        folder / "round-2.csv",
        "--model",
        MODEL,
        "--round",
        2,
        "--account",
        "modeller",
        "--yes",
    )
    assert "round 2 closed for submissions" in line
    assert (
        user.json("submission", "verify", folder / "round-2.csv", "--model", MODEL, "--round", 2)["outcome"]
        == "missing"
    )

    report = user.json("consistency", MODEL, "--revealed", folder)
    with served(folder) as base:  # the same files where a modeller publishes them
        urls = [f"{base}/round-{r}.csv" for r in (1, 2, 3)]
        assert user.json("consistency", MODEL, "--revealed-url", *urls) == report
        line = user.fails(EXIT_USAGE, "consistency", MODEL, "--revealed-url", f"{base}/round-9.csv")
        assert "could not be fetched" in line and "404" in line
    line = user.fails(EXIT_USAGE, "consistency", MODEL, "--revealed-url", "ftp://example.org/round-1.csv")
    assert "give an http(s) URL" in line
    assert report["commitments"]["committed"] == [1, 3] and report["commitments"]["missed"] == [2]
    pairs = {(p["previous"], p["round"]): p for p in report["pairs"]}
    assert not pairs[(1, 2)]["flagged"] and pairs[(1, 2)]["correlation"] > 0.95
    assert pairs[(2, 3)]["flagged"]  # the swapped model
    assert report["revealed_vs_commitments"] == {"1": "match", "2": "missing", "3": "match"}
    assert report["committed_not_revealed"] == []
    text = user.ok("consistency", MODEL, "--revealed", folder).stdout
    assert "1 flagged jump(s)" in text and "rounds 1-3: 2 committed in time, 0 late, 1 missed (2)" in text
    shown = user.json("model", "show", MODEL)
    assert shown["commitments"]["missed"] == [2]
    assert "commitments" in user.ok("model", "show", MODEL).stdout

    # the modeller's own late commitment, sent around the CLI's refusal, is recorded and counts as late
    keystore = json.loads((user.home / ".brownie" / "accounts" / "modeller.json").read_text())
    late_hash = bytes.fromhex(user.ok("submission", "hash", folder / "round-2.csv").stdout.split()[0][2:])
    send_commit(registered, deployed, Account.decrypt(keystore, PASSWORD), 2, late_hash)
    verdict = user.json("submission", "verify", folder / "round-2.csv", "--model", MODEL, "--round", 2)
    assert verdict["outcome"] == "late"
    record = user.json("consistency", MODEL)["commitments"]
    assert record["late"] == [2] and record["missed"] == [] and record["committed"] == [1, 3]


def test_a_manifest_without_the_log_says_to_deploy_it(user, registered, fresh, tmp_path):
    path = user.work / "deployments" / f"{user.node.chain_id}.json"
    original = path.read_text()
    partial = json.loads(original)
    del partial["contracts"]["SubmissionLog"]
    path.write_text(json.dumps(partial))
    try:
        line = user.fails(EXIT_USAGE, "submission", "verify", tmp_path / "x.csv", "--model", MODEL, "--round", 1)
        assert "no such file" in line  # the file is checked before the chain
        (tmp_path / "x.csv").write_text("id,prediction\na,0.5\n")
        line = user.fails(5, "submission", "verify", tmp_path / "x.csv", "--model", MODEL, "--round", 1)
        assert "`backing deploy` again" in line
        out = user.ok("deploy", "--account", "deployer", "--yes").stdout
        assert "SubmissionLog.deploy" in out and "ScoreOracle.deploy" not in out
    finally:
        path.write_text(original)


def test_a_batch_commits_several_rounds_in_one_transaction(user, registered, files, fresh, tmp_path):
    folder, _ = files
    batch = tmp_path / "batch.csv"
    batch.write_text(f"file,model,round\n{folder / 'round-1.csv'},{MODEL},1\n{folder / 'round-2.csv'},{MODEL},2\n")
    out = user.ok("submission", "commit", "--batch", batch, "--account", "modeller", "--yes").stdout
    assert "commitMany(2 commitments:" in out and out.count("confirmed in block") == 1
    for r in (1, 2):
        verdict = user.json("submission", "verify", folder / f"round-{r}.csv", "--model", MODEL, "--round", r)
        assert verdict["outcome"] == "match"
    batch.write_text("path,round\nx.csv,1\n")
    line = user.fails(EXIT_USAGE, "submission", "commit", "--batch", batch, "--account", "modeller", "--yes")
    assert "header file,model,round" in line


PROMISING_TERMS = """\
model_id: "{model}"
unit_size: 100
min_units: 1
max_units: 10
profit_share: 0.5
burn_share: 0.5
reserve_ratio: 0.5
upfront_fee: 0.01
lockup_rounds: 2
open_for: 3d
wind_down: 7d
staking_address: "{staking}"
submission_commitments: every_round
"""


def test_terms_that_promise_commitments_are_stated_and_missed_rounds_counted(user, registered, fresh, tmp_path):
    """`submission_commitments: every_round` in the terms: `agreement create` states the promise in the log before
    the agreement exists; `model show` counts from the promise's first round, so a round that closes without a
    commitment is missed even though nothing was ever committed; a second agreement does not state it again."""
    terms = tmp_path / "terms.yaml"
    terms.write_text(PROMISING_TERMS.format(model=MODEL, staking=user.addresses["modeller"]))
    before = user.json("model", "show", MODEL)
    assert before["commitments_expected"] is None and before["commitments"] is None
    out = user.ok("agreement", "create", terms, "--account", "modeller", "--yes").stdout
    assert out.index("expectCommitments") < out.index("createAgreement")
    assert f"stated: you commit every round of model {MODEL}" in out
    shown = user.json("model", "show", MODEL)
    first = shown["commitments_expected"]["from_round"]
    closes = {r: registered.oracle.functions.roundCloseTime(r).call() for r in (1, 2, 3)}
    assert first == min(r for r, close in closes.items() if close > shown["commitments_expected"]["time"])
    assert shown["commitments"]["from_round"] == first and shown["commitments"]["missed"] == []
    assert "states he commits every round" in user.ok("model", "show", MODEL).stdout
    user.node.time_travel(closes[first] - user.node.now() + 5)
    assert user.json("model", "show", MODEL)["commitments"]["missed"] == [first]
    assert user.json("consistency", MODEL)["commitments"]["missed"] == [first]
    again = user.ok("agreement", "create", terms, "--account", "modeller", "--yes").stdout
    assert "already stated" in again and "expectCommitments" not in again
    bad = tmp_path / "bad.yaml"
    bad.write_text(terms.read_text().replace("every_round", "weekly"))
    line = user.fails(EXIT_USAGE, "agreement", "create", bad, "--account", "modeller", "--yes")
    assert "submission_commitments" in line and "every_round" in line


def test_series_terms_that_promise_commitments_are_stated_before_the_series(user, registered, fresh, tmp_path):
    terms = tmp_path / "series.yaml"
    terms.write_text(PROMISING_TERMS.format(model=MODEL, staking=user.addresses["modeller"]))
    out = user.ok("series", "create", terms, "--account", "modeller", "--yes").stdout
    assert out.index("expectCommitments") < out.index("createSeries") < out.index("openAgreement")
    assert user.json("model", "show", MODEL)["commitments_expected"]["from_round"] is not None

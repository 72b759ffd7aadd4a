"""`backing grid` as a generic staker runs it: draw his own model through the gate, train it, claim it on a local
chain (GridRegistry, deployed by `backing deploy`), predict the live round and submit it to the fake Numerai
server; a duplicate claim and a claim by a stranger refused in words, an operator claiming for him, and
`backing grid list --json` giving portfolio tools his grid models with their ids."""

import json

import pytest

from backing.client import EXIT_REFUSED, EXIT_USAGE
from backing.grid import data as grid_data
from backing.grid import pipeline
from backing.grid.draw import config_index
from support.cli import PORTS, Node

PORT_OFFSET = 8  # anvil base+8
CAP = "8"


@pytest.fixture(scope="module")
def node():
    """anvil only: the registry is one small contract, and the CLI suite's time is budgeted in seconds."""
    started = Node("anvil", PORTS["anvil"] + PORT_OFFSET).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("numerai")
    return grid_data.synthetic_dataset(out, train_eras=16, validation_eras=8, rows_per_era=80, n_features=12)


def test_staker_draws_claims_predicts_and_submits(user, deployed, dataset_dir, tmp_path):
    from oracle.testing.fake_numerai import FakeNumerai, running

    alice, relayer = user.addresses["alice"], user.addresses["relayer"]
    models = tmp_path / "models"
    out = user.ok(
        "grid",
        "draw",
        "--staker",
        alice,
        "--nonce",
        0,
        "--data",
        dataset_dir,
        "--max-estimators",
        CAP,
        "--threshold",
        0.0,
        "--out",
        models,
        "--json",
    )
    drawn = json.loads(out.stdout)
    model_dir, record = drawn["model_dir"], drawn["manifest"]
    assert record["staker"] == alice and record["training"]["n_estimators_used"] == int(CAP)
    assert record["gate"]["passed_attempt"] == record["attempt"]

    # alice claims it, once (a stranger's claim is refused on chain: tests/chain/grid)
    claimed = user.ok("grid", "claim", model_dir, "--account", "alice", "--yes").stdout
    assert f"is {alice}'s" in claimed
    line = user.fails(EXIT_REFUSED, "grid", "claim", model_dir, "--account", "alice", "--yes")
    assert f"already claimed by {alice}".lower() in line.lower() and "new nonce" in line

    # an operator she approved claims her second model (drawn in-process: the same draw the command makes)
    user.ok("grid", "operator", relayer, "--account", "alice", "--yes")
    data = grid_data.load(dataset_dir)
    gate, trained = pipeline.draw_and_train(alice, 1, data, threshold=0.0, max_estimators=int(CAP))
    second = pipeline.model_directory(models, gate.passed.config_hash)
    pipeline.save_model(second, alice, 1, gate.passed.attempt, data, trained, gate.summary(), int(CAP))
    user.ok("grid", "claim", second, "--account", "relayer", "--yes")

    listed = user.json("grid", "list", "--staker", alice, "--models", models)
    rows = {row["id"]: row for row in listed["models"]}
    assert set(rows) == {record["config_hash"], gate.passed.config_hash}
    assert rows[record["config_hash"]]["claimer"] == alice and rows[gate.passed.config_hash]["claimer"] == relayer
    assert rows[record["config_hash"]]["config_index"] == config_index(alice, 0, record["attempt"])
    assert rows[record["config_hash"]]["validation"] == record["validation"]

    # predict the live round and submit it to (a fake) Numerai
    predictions = tmp_path / "live.csv"
    user.ok("grid", "predict", model_dir, "--data", dataset_dir, "--out", predictions)
    fake = FakeNumerai()
    model_id = "4b1f0c2e-8d3a-4a57-9b1e-0c6f3d2a1b00"
    fake.add_model(model_id, "grid_alice")
    keys = {"NUMERAI_PUBLIC_ID": "PUBLIC", "NUMERAI_SECRET_KEY": "SECRET"}
    with running(fake) as (_, url):
        user.ok(
            "grid", "submit", predictions, "--model-id", model_id, "--api-url", url, "--manifest", model_dir, env=keys
        )
    (upload,) = fake.uploads.values()
    assert upload["body"] == predictions.read_bytes() and upload["model_id"] == model_id
    assert json.loads((second.parent / model_dir.split("/")[-1] / "manifest.json").read_text())["numerai_model_id"] == (
        model_id
    )


def test_bad_input_refused_in_words(user, deployed, tmp_path):
    line = user.fails(EXIT_USAGE, "grid", "claim", tmp_path, "--account", "alice", "--yes")
    assert "cannot read the manifest" in line

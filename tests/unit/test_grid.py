"""backing.grid: seed 004's grid and its exact size, the keccak draw, the gate's resampling sequence, Numerai's
CORR, the synthetic Numerai-format data, LightGBM training and prediction, the manifest, the upload through
numerapi to the fake Numerai server, the diversification report, and bad input refused in words."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from eth_abi import encode
from eth_utils import keccak

from backing.errors import MESSAGES, GridInputError, plain
from backing.grid import data as grid_data
from backing.grid import draw, gate, manifest, model, pipeline, space
from backing.grid.gate import ValidationStats

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
TARGETS = ["target", "target_alpha_20", "target_beta_20", "target_gamma_60"]
VECTOR_INDEX = 1_076_852_671_949_737_567  # docs/grid.md's test vector's configIndex (alice, nonce 7, attempt 0)
CAP = 8  # trees: the tests train in well under a second each


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("numerai")
    return grid_data.synthetic_dataset(out, train_eras=16, validation_eras=8, rows_per_era=80, n_features=12)


@pytest.fixture(scope="module")
def dataset(dataset_dir):
    return grid_data.load(dataset_dir)


# ---------------------------------------------------------------------------------------------- the grid


def test_axes_are_the_seeds_lists():
    assert space.axis_sizes() == (100, 10_000, 1_000, 4, 11, 15, 250, 24_000)
    assert space.axis_values("max_bin") == (2, 3, 4, 5)
    assert space.axis_values("num_leaves") == (2, 3, 5, 6, 8, 9, 11, 13, 14, 16, 17, 19, 20, 22, 24)
    assert space.axis_values("n_estimators")[:3] == (100, 101, 102) and space.axis_values("n_estimators")[-1] == 25_000
    assert space.axis_values("colsample_bytree")[0] == 0.001 and space.axis_values("colsample_bytree")[-1] == 1.0
    assert space.axis_values("reg_lambda")[1] == pytest.approx(100_000 / 9_999)


def test_exact_distinct_count():
    assert space.distinct_count() == 3_960_000_000_000_000_000
    assert space.distinct_count(4) == 4 * 3_960_000_000_000_000_000
    assert space.distinct_count() == 100 * 10_000 * 1_000 * 4 * 11 * 15 * 250 * 24_000
    assert space.distinct_count() == 100 * space.SEED_CLAIMED_TOTAL  # the seed's text drops a factor of 100
    # 92 of the 165 (max_depth, num_leaves) pairs grow different trees
    assert space.effective_count() == space.distinct_count() // 165 * 92


def test_count_needs_a_target():
    with pytest.raises(GridInputError, match="at least one target"):
        space.distinct_count(0)


# ---------------------------------------------------------------------------------------------- the draw


def test_draw_seed_is_the_documented_keccak():
    expected = keccak(encode(["string", "address", "uint256", "uint256"], ["backing-grid:seed-004/v1", ALICE, 7, 2]))
    assert draw.draw_seed(ALICE, 7, 2) == expected
    # the test vector docs/grid.md quotes: a change of encoding or of the grid cannot pass unnoticed
    assert draw.draw_seed(ALICE, 7, 0).hex() == "19cfe96a0e8dd9d5ea0474cb861eef829f8f8da65dcc9ef18a9dd462eb868e5f"
    vector = draw.draw(ALICE, 7, 0, TARGETS)
    assert vector.indices == (67, 7375, 949, 3, 3, 14, 94, 6526) and vector.target == "target_beta_20"
    assert vector.params()["n_estimators"] == 6871 and vector.params()["max_bin"] == 5
    assert draw.config_hash(vector).hex() == "a102a03283f83e7abcde0d68903c7dda339b6e309edbe34eaa9d145a48e05c80"
    index = int.from_bytes(expected, "big") % space.distinct_count(len(TARGETS))
    assert draw.draw(ALICE, 7, 2, TARGETS) == draw.decode(index, TARGETS)


def test_same_address_and_nonce_same_config_another_address_another():
    first = draw.draw(ALICE, 3, 0, TARGETS)
    assert draw.draw(ALICE.upper().replace("0X", "0x"), 3, 0, list(reversed(TARGETS))) == first  # order, case
    assert draw.draw(BOB, 3, 0, TARGETS) != first
    assert draw.draw(ALICE, 4, 0, TARGETS) != first
    assert draw.draw(ALICE, 3, 1, TARGETS) != first
    hashes = {draw.config_hash(draw.draw(ALICE, n, 0, TARGETS)) for n in range(200)}
    assert len(hashes) == 200


def test_config_index_is_the_draws_hyperparameters_whatever_the_targets():
    """The registry's key: the same eight axis digits as the draw over any target list; the vector's value is
    quoted in docs/grid.md."""
    for targets in (TARGETS, ["target"], TARGETS + ["target_zeta_20", "target_eta_60"]):
        for nonce, attempt in ((7, 0), (3, 1), (2**64 - 1, 5)):
            drawn = draw.draw(ALICE, nonce, attempt, targets)
            index = draw.config_index(ALICE, nonce, attempt)
            assert draw.position(drawn, targets) % space.distinct_count(1) == index
            assert draw.decode(index, ["target"]).indices == drawn.indices
    assert draw.config_index(ALICE, 7, 0) == VECTOR_INDEX
    assert draw.config_index(BOB, 7, 0) != VECTOR_INDEX


def test_decode_and_position_are_inverse():
    rng = np.random.default_rng(1)
    n = space.distinct_count(len(TARGETS))
    for index in [0, n - 1, *[int(rng.integers(0, 2**62)) * 3 % n for _ in range(50)]]:
        assert draw.position(draw.decode(index, TARGETS), TARGETS) == index
    assert draw.decode(0, TARGETS).indices == (0,) * 8 and draw.decode(0, TARGETS).target == "target"
    assert draw.decode(n - 1, TARGETS).target == "target_gamma_60"


def test_config_hash_is_the_documented_encoding():
    config = draw.draw(ALICE, 0, 0, TARGETS)
    assert draw.config_hash(config) == keccak(
        encode(["string", "uint256[8]", "string"], ["seed-004/v1", list(config.indices), config.target])
    )


@pytest.mark.parametrize("staker", ["0x11", "alice", None, "0x" + "zz" * 20])
def test_bad_staker_refused(staker):
    with pytest.raises(GridInputError, match="is not an address"):
        draw.draw(staker, 0, 0, TARGETS)


@pytest.mark.parametrize("nonce", [-1, 2**64, 1.5, "3", True])
def test_bad_nonce_refused(nonce):
    with pytest.raises(GridInputError, match="nonce must be a whole number"):
        draw.draw(ALICE, nonce, 0, TARGETS)


# ---------------------------------------------------------------------------------------------- config outside the grid


def test_config_outside_the_grid_refused_in_words():
    values = draw.draw(ALICE, 0, 0, TARGETS).describe()
    assert space.GridConfig.from_values(values) == draw.draw(ALICE, 0, 0, TARGETS)
    with pytest.raises(GridInputError, match=r"learning_rate = 0\.5 is not a value of the grid \(1,000 values"):
        space.GridConfig.from_values({**values, "learning_rate": 0.5})
    with pytest.raises(GridInputError, match="n_estimators = 30000 is not a value of the grid"):
        space.GridConfig.from_values({**values, "n_estimators": 30_000})
    with pytest.raises(GridInputError, match="max_bin = 'four' is not a value of the grid"):
        space.GridConfig.from_values({**values, "max_bin": "four"})
    with pytest.raises(GridInputError, match="'subsample' is not a parameter of the grid"):
        space.GridConfig.from_values({**values, "subsample": 0.5})
    with pytest.raises(GridInputError, match="lacks max_depth"):
        space.GridConfig.from_values({k: v for k, v in values.items() if k != "max_depth"})
    with pytest.raises(GridInputError, match=r"max_bin index 4 is outside the grid \(0 to 3\)"):
        space.GridConfig((0, 0, 0, 4, 0, 0, 0, 0), "target")
    with pytest.raises(GridInputError, match="not a Numerai target column"):
        space.GridConfig((0,) * 8, "era")


# ---------------------------------------------------------------------------------------------- the gate


def test_numerai_corr():
    rng = np.random.default_rng(0)
    target = grid_data._quantize(rng.normal(size=500))
    assert gate.numerai_corr(target + rng.normal(0, 0.01, 500), target) > 0.9
    assert gate.numerai_corr(-target + rng.normal(0, 0.01, 500), target) < -0.9
    assert abs(gate.numerai_corr(rng.normal(size=500), target)) < 0.15
    assert gate.numerai_corr(np.ones(500), target) == 0.0  # a constant model carries no signal
    stats = ValidationStats.from_eras([0.01, 0.03])
    assert stats.mean == pytest.approx(0.02) and stats.eras == 2 and stats.sharpe == pytest.approx(0.02 / stats.std)


def test_gate_tries_the_fixed_sequence_until_one_passes():
    scores = iter([0.0, 0.019, float("nan"), 0.03, 0.5])
    seen = []

    def evaluate(attempt, config):
        seen.append((attempt, config))
        return ValidationStats(next(scores), 0.01, 1.0, 10)

    result = gate.run_gate(ALICE, 5, TARGETS, evaluate, threshold=0.02, max_attempts=10)
    assert [a for a, _ in seen] == [0, 1, 2, 3]  # stops at the first pass
    assert [c for _, c in seen] == [draw.draw(ALICE, 5, a, TARGETS) for a in range(4)]
    assert result.passed.attempt == 3 and [a.passed for a in result.attempts] == [False, False, False, True]
    summary = result.summary()
    assert summary["attempts"] == 4 and summary["passed_attempt"] == 3 and summary["best_corr"] == 0.03
    assert summary["sequence"][3]["config_hash"] == "0x" + draw.config_hash(seen[3][1]).hex()


def test_gate_that_nothing_passes_says_so():
    def evaluate(attempt, config):
        return ValidationStats(0.001 * attempt, 0.01, 0.1, 10)

    with pytest.raises(GridInputError, match=r"none of the 3 configurations .* best 0\.0020 at attempt 2"):
        gate.run_gate(ALICE, 0, TARGETS, evaluate, threshold=0.02, max_attempts=3)


# ---------------------------------------------------------------------------------------------- data


def test_synthetic_dataset_has_numerais_schema(dataset_dir, dataset):
    import pandas as pd

    train = pd.read_parquet(dataset_dir / "train.parquet")
    assert train.index.name == "id" and {"era", "data_type"} <= set(train.columns)
    assert set(train["data_type"]) == {"train"} and train["era"].iloc[0] == "0001"
    assert dataset.targets == sorted(TARGETS) and len(dataset.features) == 12
    assert train[dataset.features].dtypes.unique().tolist() == [np.int8]
    assert set(np.unique(train["target"])) == {0.0, 0.25, 0.5, 0.75, 1.0}
    live = dataset.live()
    assert set(live["data_type"]) == {"live"} and live["target"].isna().all()
    meta = json.loads((dataset_dir / "features.json").read_text())
    assert set(meta["feature_sets"]) == {"small", "medium", "all"}
    assert len(grid_data.load(dataset_dir, "small").features) == 8
    strided = grid_data.load(dataset_dir, train_era_stride=4)
    assert sorted(strided.train["era"].unique()) == ["0001", "0005", "0009", "0013"]
    with pytest.raises(GridInputError, match="no feature set 'tiny'"):
        grid_data.load(dataset_dir, "tiny")


def test_dataset_problems_in_words(tmp_path, dataset_dir):
    import pandas as pd

    with pytest.raises(GridInputError, match="train.parquet is missing: download the data first"):
        grid_data.load(tmp_path)
    (tmp_path / "train.parquet").write_text("not parquet")
    (tmp_path / "validation.parquet").write_text("not parquet")
    with pytest.raises(GridInputError, match="not in Numerai's format: not a parquet file"):
        grid_data.load(tmp_path)
    frame = pd.read_parquet(dataset_dir / "train.parquet")
    frame.drop(columns=[c for c in frame.columns if c.startswith("target")]).to_parquet(tmp_path / "train.parquet")
    pd.read_parquet(dataset_dir / "validation.parquet").to_parquet(tmp_path / "validation.parquet")
    with pytest.raises(GridInputError, match="no target_\\* column"):
        grid_data.load(tmp_path)
    frame.drop(columns=["era"]).to_parquet(tmp_path / "train.parquet")
    with pytest.raises(GridInputError, match="has no era column"):
        grid_data.load(tmp_path)


def test_target_missing_from_the_data_refused(dataset):
    config = space.GridConfig(draw.draw(ALICE, 0, 0, TARGETS).indices, "target_cyrus_20")
    with pytest.raises(GridInputError, match=r"trains on 'target_cyrus_20', which the dataset does not have \(it has"):
        model.train(config, dataset, CAP)


# ---------------------------------------------------------------------------------------------- training


def test_train_is_deterministic_and_capped(dataset):
    config = draw.draw(ALICE, 0, 0, dataset.targets)
    first = model.train(config, dataset, CAP)
    again = model.train(config, dataset, CAP)
    assert first.n_estimators_used == min(config.params()["n_estimators"], CAP) == CAP
    assert np.array_equal(first.validation_predictions, again.validation_predictions)
    assert math.isfinite(first.validation.mean) and first.validation.eras == 8
    params, trees = model.lightgbm_params(config, None)
    assert trees == config.params()["n_estimators"] and params["num_leaves"] == config.params()["num_leaves"]
    with pytest.raises(GridInputError, match="--max-estimators must be at least 1"):
        model.lightgbm_params(config, 0)


def test_draw_train_predict_and_manifest_round_trip(dataset, tmp_path):
    gate_result, trained = pipeline.draw_and_train(
        ALICE, 1, dataset, threshold=0.0, max_attempts=20, max_estimators=CAP
    )
    assert trained.validation.mean > 0.0
    assert trained.config == draw.draw(ALICE, 1, gate_result.passed.attempt, dataset.targets)
    directory = pipeline.model_directory(tmp_path, gate_result.passed.config_hash)
    record = pipeline.save_model(
        directory, ALICE, 1, gate_result.passed.attempt, dataset, trained, gate_result.summary(), CAP
    )
    loaded = manifest.load(directory)
    assert loaded == record and loaded.to_json() == record.to_json()
    assert loaded.config_hash == gate_result.passed.config_hash and loaded.training["max_estimators"] == CAP
    assert loaded.data["files"]["train.parquet"] == grid_data.sha256(dataset.path / "train.parquet")
    assert manifest.find(tmp_path) == [(directory, loaded)]
    # the saved model predicts what the trained one did, and the live file is Numerai's submission format
    booster = model.load_booster(directory / "model.txt")
    ids, predictions = model.predict_live(booster, dataset)
    assert len(ids) == len(dataset.live()) and ((predictions > 0) & (predictions < 1)).all()
    path = model.write_predictions(tmp_path / "live.csv", ids, predictions)
    assert path.read_text().splitlines()[0] == "id,prediction"


def test_edited_manifest_refused(dataset, tmp_path):
    gate_result, trained = pipeline.draw_and_train(ALICE, 2, dataset, threshold=-1.0, max_estimators=CAP)
    record = pipeline.save_model(tmp_path, ALICE, 2, 0, dataset, trained, gate_result.summary(), CAP)
    raw = json.loads((tmp_path / "manifest.json").read_text())
    other_depth = space.axis_values("max_depth")[(record.indices[4] + 1) % 11]
    for change in ({"nonce": 3}, {"staker": BOB}, {"config": {**record.config, "max_depth": other_depth}}):
        (tmp_path / "manifest.json").write_text(json.dumps({**raw, **change}))
        with pytest.raises(GridInputError, match="does not check"):
            manifest.load(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({**raw, "config": {**record.config, "learning_rate": 0.3}}))
    with pytest.raises(GridInputError, match=r"learning_rate = 0\.3 is not a value of the grid"):
        manifest.load(tmp_path)  # a configuration outside the grid
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(GridInputError, match="cannot read the manifest"):
        manifest.load(tmp_path)


# ---------------------------------------------------------------------------------------------- submit, report


def test_submit_uploads_through_numerapi_to_the_fake(dataset_dir, tmp_path, monkeypatch):
    from numerapi import base_api

    from backing.cli import main
    from oracle.testing.fake_numerai import FakeNumerai, running

    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)  # restored afterwards
    predictions = tmp_path / "live.csv"
    predictions.write_text("id,prediction\nn1,0.25\nn2,0.75\n")
    fake = FakeNumerai()
    fake.add_model("4b1f0c2e-8d3a-4a57-9b1e-0c6f3d2a1b00", "grid_alpha")
    with running(fake) as (_, url):
        monkeypatch.delenv("NUMERAI_PUBLIC_ID", raising=False)
        assert (
            main(
                [
                    "grid",
                    "submit",
                    str(predictions),
                    "--model-id",
                    "4b1f0c2e-8d3a-4a57-9b1e-0c6f3d2a1b00",
                    "--api-url",
                    url,
                ]
            )
            == 2
        )  # no keys: refused in words
        monkeypatch.setenv("NUMERAI_PUBLIC_ID", "PUBLIC")
        monkeypatch.setenv("NUMERAI_SECRET_KEY", "SECRET")
        args = ["grid", "submit", str(predictions), "--api-url", url]
        assert main([*args, "--model-id", "4b1f0c2e-8d3a-4a57-9b1e-0c6f3d2a1b00"]) == 0
        assert main([*args, "--model-id", "00000000-0000-4000-8000-000000000000"]) == 2  # unknown model
    (upload,) = [u for u in fake.uploads.values() if u["body"] is not None]
    assert upload["model_id"] == "4b1f0c2e-8d3a-4a57-9b1e-0c6f3d2a1b00"
    assert upload["body"] == predictions.read_bytes() and upload["submission_id"]
    roots = [root for root, _ in fake.requests]
    assert roots.count("submission_upload_auth") == 2 and roots.count("create_submission") == 1


def test_diversification_report(dataset, tmp_path):
    from backing.grid.diversify import report

    result = report(dataset, 3, tmp_path, max_estimators=CAP, threshold=0.0)
    figures = result["figures"]
    assert [r["models"] for r in figures["ensembles"]] == [1, 2, 3]
    assert len({m["config_hash"] for m in figures["models"]}) == 3
    assert figures["ensembles"][0]["ensemble_corr"] == pytest.approx(figures["models"][0]["validation"]["mean"])
    assert np.allclose(np.diag(figures["pairwise_correlation"]), 1.0)
    assert result["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["markdown"].read_text().count("\n| ") >= 4


def test_download_asks_numerapi_for_each_file(tmp_path):
    class FakeNumerAPI:
        def __init__(self):
            self.asked = []

        def download_dataset(self, filename, dest_path):
            self.asked.append(filename)
            Path(dest_path).write_text(filename)

    napi = FakeNumerAPI()
    paths = grid_data.download("v5.0", tmp_path, napi)
    assert napi.asked == ["v5.0/train.parquet", "v5.0/validation.parquet", "v5.0/live.parquet", "v5.0/features.json"]
    assert [p.name for p in paths] == list(grid_data.FILES) and (tmp_path / "data_version.txt").read_text() == "v5.0\n"


def test_registry_errors_in_words():
    for name in ("ConfigAlreadyClaimed", "NotStakerOrOperator", "OperatorZero"):
        assert name in MESSAGES
    text = plain("ConfigAlreadyClaimed", (VECTOR_INDEX, ALICE))
    assert "already claimed by " + ALICE in text and "new nonce" in text


def test_space_and_show_commands(dataset_dir, capsys):
    from backing.cli import main

    assert main(["grid", "space", "--data", str(dataset_dir), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["distinct_configurations"] == 4 * 3_960_000_000_000_000_000 and shown["targets"] == sorted(TARGETS)
    assert main(["grid", "draw", "--staker", ALICE, "--nonce", "7", "--data", str(dataset_dir), "--show", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["config_hash"] for r in rows] == [
        "0x" + draw.config_hash(draw.draw(ALICE, 7, a, TARGETS)).hex() for a in (0, 1)
    ]
    assert rows[0]["config_hash"] == "0xa102a03283f83e7abcde0d68903c7dda339b6e309edbe34eaa9d145a48e05c80"
    assert main(["grid", "draw", "--staker", ALICE, "--nonce", "-1", "--data", str(dataset_dir)]) == 2
    assert "nonce must be a whole number" in capsys.readouterr().err

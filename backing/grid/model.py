"""Train a grid configuration with LightGBM, score it on validation, predict the live round.

Training is made reproducible: one thread, LightGBM's ``deterministic`` mode and a fixed seed, so the same
configuration on the same data files gives the same trees (the manifest records the LightGBM version, which also
matters). ``max_estimators`` is the compute cap: the grid's ``n_estimators`` runs to 25,000 trees, which takes
hours on Numerai's full data; with a cap the model trains ``min(n_estimators, cap)`` trees. The configuration
(and its hash on chain) stays the one drawn; the manifest records the cap and the trees actually trained, so the
run is reproducible and anyone can see the model is a capped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backing.errors import grid_problem
from backing.grid.data import Dataset
from backing.grid.gate import ValidationStats, era_corrs
from backing.grid.space import GridConfig

TRAINING_SEED = 4  # LightGBM's seed: feature subsampling (colsample_bytree) is random


@dataclass
class Trained:
    config: GridConfig
    booster: object  # lightgbm.Booster
    n_estimators_used: int
    validation: ValidationStats
    validation_predictions: np.ndarray


def lightgbm_params(config: GridConfig, max_estimators: int | None = None) -> tuple[dict, int]:
    """(LightGBM parameters, number of trees) for the configuration under an optional compute cap."""
    if max_estimators is not None and max_estimators < 1:
        raise grid_problem("bad_cap", value=max_estimators)
    values = config.params()
    trees = values["n_estimators"] if max_estimators is None else min(values["n_estimators"], max_estimators)
    params = {
        "objective": "regression",
        "colsample_bytree": values["colsample_bytree"],
        "reg_lambda": values["reg_lambda"],
        "learning_rate": values["learning_rate"],
        "max_bin": values["max_bin"],
        "max_depth": values["max_depth"],
        "num_leaves": values["num_leaves"],
        "min_child_samples": values["min_child_samples"],
        "num_threads": 1,
        "deterministic": True,
        "force_row_wise": True,
        "seed": TRAINING_SEED,
        "verbosity": -1,
    }
    return params, trees


def _rows(frame, target: str):
    known = frame[target].notna()
    return frame[known]


SCORE_TARGET = "target"  # Numerai pays on its main target, whichever target a model trained on


def train(
    config: GridConfig, data: Dataset, max_estimators: int | None = None, score_target: str = SCORE_TARGET
) -> Trained:
    """Train on the train rows with a known target; score validation CORR per era against ``score_target``."""
    import lightgbm

    data.require_target(config.target)
    data.require_target(score_target)
    params, trees = lightgbm_params(config, max_estimators)
    rows = _rows(data.train, config.target)
    train_set = lightgbm.Dataset(
        rows[data.features].to_numpy(dtype=np.float32),
        label=rows[config.target].to_numpy(dtype=np.float64),
        params={"max_bin": params["max_bin"], "verbosity": -1},
        free_raw_data=True,
    )
    booster = lightgbm.train(params, train_set, num_boost_round=trees)
    validation = _rows(data.validation, score_target)
    predictions = booster.predict(validation[data.features].to_numpy(dtype=np.float32), num_threads=1)
    per_era = era_corrs(validation["era"].to_numpy(), predictions, validation[score_target].to_numpy())
    return Trained(config, booster, trees, ValidationStats.from_eras(per_era), predictions)


def predict_live(booster, data: Dataset) -> tuple[list[str], np.ndarray]:
    """(ids, predictions ranked into (0, 1)) for the live rows: Numerai wants values strictly between 0 and 1."""
    from scipy.stats import rankdata

    live = data.live()
    raw = booster.predict(live[data.features].to_numpy(dtype=np.float32), num_threads=1)
    ranked = (rankdata(raw, method="average") - 0.5) / len(raw)
    ids = [str(i) for i in (live["id"] if "id" in live.columns else live.index)]
    return ids, ranked


def write_predictions(path: Path, ids: list[str], predictions: np.ndarray) -> Path:
    """The submission file Numerai takes: a CSV with columns id, prediction."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids, "prediction": predictions}).to_csv(path, index=False)
    return path


def load_booster(path: Path):
    import lightgbm

    return lightgbm.Booster(model_file=str(path))

"""Numerai-format data: the download (numerapi), the loader with its schema checks, and a small synthetic set.

Numerai's tournament data (v5.0) is three parquet files and a JSON of feature sets::

    train.parquet       index id; era ("0001", ...), data_type ("train"), feature_* (int8, 0-4), target*
    validation.parquet  the same with data_type "validation" (and later rows "test" without targets)
    live.parquet        the current round's rows, data_type "live", targets empty
    features.json       {"feature_sets": {"small": [...], "medium": [...], "all": [...]}, "targets": [...]}

Targets take the values 0, 0.25, 0.5, 0.75, 1 (NaN where not yet known); ``target`` is the main one. The
synthetic set (``synthetic_dataset``) has the same schema, a few features that carry signal through a non-linear
function and targets that differ in noise and weights, so the tests and the diversification report run in
seconds; it is made by a seeded generator, not taken from Numerai.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backing.errors import grid_problem

DEFAULT_DATA_VERSION = "v5.0"
FILES = ("train.parquet", "validation.parquet", "live.parquet", "features.json")
TARGET_BINS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
TARGET_SHARES = np.array([0.05, 0.20, 0.50, 0.20, 0.05])  # Numerai's targets are binned like this within an era


def download(version: str, out: Path, napi=None) -> list[Path]:
    """Download the data version's files with numerapi into ``out`` (needs Numerai's network; not run in tests)."""
    import numerapi

    napi = napi or numerapi.NumerAPI()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FILES:
        path = out / name
        napi.download_dataset(f"{version}/{name}", str(path))
        paths.append(path)
    (out / "data_version.txt").write_text(version + "\n")
    return paths


def _quantize(values: np.ndarray) -> np.ndarray:
    """Bin one era's values into Numerai's five target levels by rank (5% / 20% / 50% / 20% / 5%)."""
    ranks = np.argsort(np.argsort(values)) / max(len(values) - 1, 1)
    edges = np.cumsum(TARGET_SHARES)[:-1]
    return TARGET_BINS[np.searchsorted(edges, ranks, side="right")].astype(np.float32)


def synthetic_dataset(
    out: Path,
    seed: int = 4,
    train_eras: int = 40,
    validation_eras: int = 12,
    rows_per_era: int = 120,
    n_features: int = 24,
) -> Path:
    """Write a small dataset in Numerai's schema to ``out`` (train, validation, live parquet and features.json).
    @return ``out``."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    features = [f"feature_{name}" for name in _feature_names(n_features, rng)]
    targets = {"target": None, "target_alpha_20": None, "target_beta_20": None, "target_gamma_60": None}
    weights = rng.normal(0, 1, size=(3, 8))
    frames = []
    eras = train_eras + validation_eras + 1
    for era in range(1, eras + 1):
        x = rng.integers(0, 5, size=(rows_per_era, n_features)).astype(np.int8)
        centred = (x[:, :8] - 2.0) / 2.0
        # a non-linear signal on the first 8 features, its sign flipping in some eras (Numerai's regimes)
        regime = 1.0 if rng.random() > 0.2 else -0.5
        base = centred @ weights[0] + 0.8 * centred[:, 0] * centred[:, 1] - 0.6 * np.abs(centred[:, 2])
        other = centred @ weights[1] + 0.5 * np.tanh(3 * centred[:, 3])
        slow = centred @ weights[2]
        noise = rng.normal(0, 1, size=(4, rows_per_era))
        kind = "train" if era <= train_eras else ("validation" if era <= train_eras + validation_eras else "live")
        frame = pd.DataFrame(x, columns=features)
        frame.insert(0, "era", f"{era:04d}")
        frame.insert(1, "data_type", kind)
        main = regime * base + 30.0 * noise[0]
        targets["target"] = _quantize(main)
        targets["target_alpha_20"] = targets["target"]
        targets["target_beta_20"] = _quantize(regime * (0.7 * base + 0.5 * other) + 33.0 * noise[1])
        targets["target_gamma_60"] = _quantize(0.5 * base + slow + 36.0 * noise[2])
        for name, values in targets.items():
            frame[name] = np.full(rows_per_era, np.nan, dtype=np.float32) if kind == "live" else values
        frame.index = [f"n{era:04d}{i:05d}{rng.integers(16**6):06x}" for i in range(rows_per_era)]
        frames.append(frame)
    data = pd.concat(frames)
    data.index.name = "id"
    out.mkdir(parents=True, exist_ok=True)
    for kind, name in (("train", "train"), ("validation", "validation"), ("live", "live")):
        data[data["data_type"] == kind].to_parquet(out / f"{name}.parquet")
    feature_sets = {"small": features[:8], "medium": features[:16], "all": features}
    (out / "features.json").write_text(json.dumps({"feature_sets": feature_sets, "targets": list(targets)}, indent=1))
    (out / "data_version.txt").write_text(f"synthetic-{seed}\n")
    return out


def _feature_names(n: int, rng) -> list[str]:
    words = ("haunted", "cerulean", "dowdy", "unwieldy", "gritty", "lucid", "pallid", "ornate", "sullen", "brisk")
    return [f"{words[i % len(words)]}_{i:03d}" for i in range(n)]


@dataclass
class Dataset:
    """A loaded dataset: the frames, its feature and target columns, and what identifies its version."""

    path: Path
    version: str
    train: object  # pandas.DataFrame
    validation: object
    features: list[str]
    targets: list[str]
    files: dict  # file name -> sha256
    feature_set: str = "all"
    train_era_stride: int = 1

    def live(self):
        import pandas as pd

        path = self.path / "live.parquet"
        if not path.exists():
            raise grid_problem("dataset_missing", path=path)
        # one thread: arrow's parquet reader threads can abort the process at exit (apache/arrow#34314: seen
        # once under load as `terminate called` after the predictions were written); the live file is small
        live = pd.read_parquet(path, use_threads=False, pre_buffer=False)
        if "data_type" in live.columns:
            live = live[live["data_type"] == "live"]
        if live.empty:
            raise grid_problem("no_live_rows", path=path)
        missing = [f for f in self.features if f not in live.columns]
        if missing:
            raise grid_problem("dataset_columns", path=path, detail=f"it lacks {', '.join(missing[:5])}")
        return live

    def require_target(self, target: str) -> None:
        if target not in self.targets:
            raise grid_problem("target_missing", target=target, have=", ".join(self.targets))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_columns(columns: list[str], path: Path) -> tuple[list[str], list[str]]:
    if "era" not in columns:
        raise grid_problem("dataset_columns", path=path, detail="it has no era column")
    features = [c for c in columns if c.startswith("feature_")]
    targets = sorted(c for c in columns if c == "target" or c.startswith("target_"))
    if not features:
        raise grid_problem("dataset_columns", path=path, detail="it has no feature_* columns")
    if not targets:
        raise grid_problem("no_targets")
    return features, targets


def _schema(file: Path) -> list[str]:
    import pyarrow.parquet as pq

    if not file.exists():
        raise grid_problem("dataset_missing", path=file)
    try:
        return [str(c) for c in pq.read_schema(file).names]
    except Exception as error:  # noqa: BLE001 -- pyarrow raises many kinds for a file that is not parquet
        raise grid_problem("dataset_columns", path=file, detail=f"not a parquet file ({error})") from None


def load(path: Path, feature_set: str = "all", train_era_stride: int = 1) -> Dataset:
    """Read a data directory (train.parquet, validation.parquet; live.parquet when predicting), check its schema.

    Only the columns needed are read (Numerai's full v5 training data is millions of rows by thousands of
    features: give ``feature_set="medium"`` and a stride on a machine of ordinary memory).
    @param feature_set A feature set of features.json ("small", "medium", "all"); all feature_* columns without one.
    @param train_era_stride Train on every n-th era only (1 = all; Numerai's examples use 4: eras overlap).
    """
    import pandas as pd

    path = Path(path)
    if train_era_stride < 1:
        raise grid_problem(
            "dataset_columns", path=path, detail=f"the era stride must be at least 1, not {train_era_stride}"
        )
    train_file, validation_file = path / "train.parquet", path / "validation.parquet"
    features, targets = _check_columns(_schema(train_file), train_file)
    v_features, v_targets = _check_columns(_schema(validation_file), validation_file)
    meta = path / "features.json"
    if feature_set != "all":
        sets = json.loads(meta.read_text()).get("feature_sets", {}) if meta.exists() else {}
        if feature_set not in sets:
            raise grid_problem("dataset_columns", path=meta, detail=f"no feature set {feature_set!r}")
        features = [f for f in sets[feature_set] if f in features]
    missing = [f for f in features if f not in v_features]
    if missing:
        raise grid_problem("dataset_columns", path=validation_file, detail=f"it lacks {missing[0]}")
    frames = {}
    for name, file, have in (("train", train_file, targets), ("validation", validation_file, v_targets)):
        columns = ["era", *features, *have]
        if "data_type" in _schema(file):
            columns.insert(1, "data_type")
        frames[name] = pd.read_parquet(file, columns=columns)
    train = frames["train"]
    if train_era_stride > 1:
        eras = sorted(train["era"].unique())
        train = train[train["era"].isin(eras[::train_era_stride])]
    validation = frames["validation"]
    if "data_type" in validation.columns:
        validation = validation[validation["data_type"] == "validation"]
    version_file = path / "data_version.txt"
    version = version_file.read_text().strip() if version_file.exists() else "unknown"
    files = {name: sha256(path / name) for name in ("train.parquet", "validation.parquet")}
    return Dataset(path, version, train, validation, features, targets, files, feature_set, train_era_stride)

"""Draw through the gate, train, and save a model directory (``manifest.json`` + ``model.txt``) — the steps the
command line and the diversification report share."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from backing.grid import manifest as manifest_mod
from backing.grid.data import Dataset, sha256
from backing.grid.draw import checked_nonce, checked_staker, config_hash
from backing.grid.gate import DEFAULT_MAX_ATTEMPTS, DEFAULT_THRESHOLD, GateResult, run_gate
from backing.grid.model import TRAINING_SEED, Trained, train


def draw_and_train(
    staker: str,
    nonce: int,
    data: Dataset,
    threshold: float = DEFAULT_THRESHOLD,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    max_estimators: int | None = None,
    on_attempt=None,
) -> tuple[GateResult, Trained]:
    """The staker's first configuration (attempt 0, 1, ...) whose model passes the gate, and that model."""
    staker, nonce = checked_staker(staker), checked_nonce(nonce)
    trained: dict[int, Trained] = {}

    def evaluate(attempt, config):
        trained.clear()  # keep only the latest model in memory
        trained[attempt] = train(config, data, max_estimators)
        return trained[attempt].validation

    gate = run_gate(staker, nonce, data.targets, evaluate, threshold, max_attempts, on_attempt)
    return gate, trained[gate.passed.attempt]


def save_model(
    directory: Path, staker: str, nonce: int, attempt: int, data: Dataset, model: Trained, gate: dict, cap
) -> manifest_mod.Manifest:
    """Write model.txt and manifest.json into ``directory``."""
    import lightgbm

    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / "model.txt"
    model.booster.save_model(str(model_path))
    record = manifest_mod.Manifest(
        staker=checked_staker(staker),
        nonce=nonce,
        attempt=attempt,
        targets=sorted(data.targets),
        config=model.config.describe(),
        indices=list(model.config.indices),
        config_hash="0x" + config_hash(model.config).hex(),
        data={
            "version": data.version,
            "path": str(data.path),
            "files": data.files,
            "feature_set": data.feature_set,
            "train_era_stride": data.train_era_stride,
            "features": len(data.features),
            "feature_names_sha256": _names_hash(data.features),
        },
        training={
            "max_estimators": cap,
            "n_estimators_used": model.n_estimators_used,
            "lightgbm": lightgbm.__version__,
            "seed": TRAINING_SEED,
            "threads": 1,
        },
        validation=asdict(model.validation),
        gate=gate,
        model_sha256=sha256(model_path),
    )
    record.save(directory)
    return record


def model_directory(out: Path, config_hash_hex: str) -> Path:
    return out / config_hash_hex[2:14]


def _names_hash(names: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(names).encode()).hexdigest()

"""The manifest of one grid model: everything needed to reproduce and check it (``<model dir>/manifest.json``).

    {"format": 1, "grid": "seed-004/v1", "staker": "0x..", "nonce": 7, "attempt": 2,
     "targets": [...],                    the target list the draw decoded over (sorted)
     "config": {...}, "indices": [...], "config_hash": "0x..",
     "data": {"version": "v5.0", "path": "...", "files": {"train.parquet": "<sha256>", ...}, "features": 2376},
     "training": {"max_estimators": null | N, "n_estimators_used": N, "lightgbm": "4.7.0", "seed": 4, "threads": 1},
     "validation": {"mean": .., "std": .., "sharpe": .., "eras": ..},
     "gate": {"threshold": .., "attempts": .., "sequence": [...]},
     "model_file": "model.txt", "model_sha256": "..", "numerai_model_id": null | "<uuid>", "created": "..."}

``load`` checks the manifest against the grid: the draw (staker, nonce, attempt over the targets) must give the
recorded configuration and hash, so a hand-edited configuration is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from backing.errors import grid_problem
from backing.grid.draw import config_hash, draw
from backing.grid.space import GRID_VERSION, GridConfig

FORMAT = 1
FILE_NAME = "manifest.json"


@dataclass
class Manifest:
    staker: str
    nonce: int
    attempt: int
    targets: list[str]
    config: dict
    indices: list[int]
    config_hash: str
    data: dict
    training: dict
    validation: dict
    gate: dict
    model_file: str = "model.txt"
    model_sha256: str = ""
    numerai_model_id: str | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    grid: str = GRID_VERSION
    format: int = FORMAT

    @property
    def grid_config(self) -> GridConfig:
        return GridConfig(tuple(self.indices), self.config["target"])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)
        return path

    def check(self, path: Path | str = "the manifest") -> None:
        """The draw must give the recorded configuration and hash (raises in words otherwise)."""
        if self.grid != GRID_VERSION or self.format != FORMAT:
            raise grid_problem("manifest_mismatch", path=path, detail=f"grid {self.grid}, format {self.format}")
        GridConfig.from_values(self.config)  # a value outside the grid is named as such
        drawn = draw(self.staker, self.nonce, self.attempt, self.targets)
        if tuple(self.indices) != drawn.indices or self.config.get("target") != drawn.target:
            raise grid_problem("manifest_mismatch", path=path, detail="its configuration is not the staker's draw")
        if self.config != drawn.describe():
            raise grid_problem("manifest_mismatch", path=path, detail="its parameter values differ from the grid's")
        if self.config_hash != "0x" + config_hash(drawn).hex():
            raise grid_problem("manifest_mismatch", path=path, detail="its config_hash is not the configuration's")


def load(path: Path) -> Manifest:
    """A manifest file (or the directory holding manifest.json), checked against the grid."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    try:
        raw = json.loads(path.read_text())
        manifest = Manifest(**raw)
    except (OSError, ValueError, TypeError) as error:
        raise grid_problem("manifest_unreadable", path=path, detail=error) from None
    manifest.check(path)
    return manifest


def find(directory: Path) -> list[tuple[Path, Manifest]]:
    """Every readable, checked manifest under ``directory`` (one model per subdirectory), sorted by path."""
    found = []
    for path in sorted(Path(directory).glob(f"*/{FILE_NAME}")):
        found.append((path.parent, load(path)))
    return found

"""``run``: a ``Config`` to a ``Result``, in chunks of paths (bounded memory) with an optional progress line."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from backing.model.agreement import ONE
from backing.montecarlo.exact import growths, index_paths, round_returns
from backing.montecarlo.history import bootstrap_scores
from backing.montecarlo.params import Payout, ScoreModel, generate_scores
from backing.montecarlo.settlement import Position, settle

# ---------------------------------------------------------------------------------------------- the run


@dataclass
class Config:
    position: Position
    payout: Payout
    rounds: int
    paths: int
    seed: int
    model: ScoreModel | None = None  # the generator, or
    history: np.ndarray | None = None  # a history to bootstrap (int64, (n, 2))
    block: int = 20
    default_prob: float = 0.0
    chunk: int = 1000
    keep_paths: bool = False  # keep float index paths (for the fan chart)


@dataclass
class Result:
    config: Config
    floats: dict = field(default_factory=dict)  # name -> float64 per path (NMR or fractions)
    index_fan: np.ndarray | None = None  # percentiles (5 rows) x rounds+1
    seconds: float = 0.0


FAN_PERCENTILES = (5, 25, 50, 75, 95)


def chunk_scores(config: Config, paths: int, rng: np.random.Generator) -> np.ndarray:
    if config.history is not None:
        return bootstrap_scores(config.history, paths, config.rounds, config.block, rng)
    return generate_scores(config.model, paths, config.rounds, rng)


def run(config: Config, progress: bool | None = None) -> Result:
    """Simulate ``config.paths`` paths in chunks (one tqdm step each). Chunk c draws from
    SeedSequence(seed).spawn(...)[c], so a seed gives the same result for the same --chunk."""
    from tqdm import tqdm

    started = time.perf_counter()
    sizes = [min(config.chunk, config.paths - i) for i in range(0, config.paths, config.chunk)]
    seeds = np.random.SeedSequence(config.seed).spawn(len(sizes))
    collected: dict[str, list] = {}
    fan_rows = []
    unit_value = config.position.units * config.position.terms.unit_size
    staked = config.position.staked
    bar = tqdm(
        total=config.paths,
        unit="path",
        disable=(not progress) if progress is not None else None,
        file=sys.stderr,
        desc="montecarlo",
    )
    for size, seq in zip(sizes, seeds):
        rng = np.random.default_rng(seq)
        scores = chunk_scores(config, size, rng)
        defaulted = rng.random(size) < config.default_prob if config.default_prob > 0 else None
        returns = round_returns(scores, config.payout)
        growth = growths(returns, config.payout.exposure)
        end, floats = index_paths(growth, keep_float=config.keep_paths)
        if floats is not None:
            fan_rows.append(floats.astype(np.float32))
        out = settle(config.position, end, defaulted)
        values = {
            "stake_return": out["value"].astype(float) / staked - 1,
            "backer_return": out["received"].astype(float) / unit_value - 1,
            "backer_received": out["received"].astype(float) / ONE,
            "modeller_fees": out["fees"].astype(float) / ONE,
            "modeller_net": out["modeller_net"].astype(float) / ONE,
            "reserve_used": out["reserve_used"].astype(float) / ONE,
            "shortfall": out["shortfall"].astype(float) / ONE,
            "uncovered": out["uncovered"].astype(float) / ONE,
            "defaulted": defaulted.astype(float) if defaulted is not None else np.zeros(size),
            "mean_round_return": returns.mean(axis=1) / ONE,
        }
        for k, v in values.items():
            collected.setdefault(k, []).append(v)
        bar.update(size)
    bar.close()
    result = Result(config, {k: np.concatenate(v) for k, v in collected.items()})
    if fan_rows:
        allpaths = np.concatenate(fan_rows)
        result.index_fan = np.percentile(allpaths, FAN_PERCENTILES, axis=0)
    result.seconds = time.perf_counter() - started
    return result

"""Diversification evidence (the seed's claim, measured): k distinct random grid models against one.

The k models are the first configurations to pass the gate for one address and nonces 0, 1, ..., k - 1 (each
through ``draw_and_train``, so they are exactly what k stakers, or one staker with k nonces, would get). On the
validation eras it reports:

* each model's mean CORR (against the main target) and its Sharpe;
* the ensemble of the first j models (the mean of their per-era ranked predictions) for j = 1 .. k: its mean CORR
  and Sharpe, against the mean of the j single models;
* the pairwise correlation of the models' validation predictions (Spearman over all rows).

A table (markdown) and a PNG (ensemble CORR against j beside the single models; the correlation matrix) are
written, with the figures as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from backing.grid.gate import DEFAULT_THRESHOLD, ValidationStats, era_corrs
from backing.grid.model import SCORE_TARGET
from backing.grid.pipeline import draw_and_train


def _ranked_per_era(eras: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    out = np.empty_like(predictions, dtype=float)
    for era in np.unique(eras):
        rows = eras == era
        out[rows] = (rankdata(predictions[rows]) - 0.5) / rows.sum()
    return out


def report(
    data,
    k: int,
    out: Path,
    max_estimators: int | None,
    threshold: float = DEFAULT_THRESHOLD,
    staker: str = "0x" + "04" * 20,
) -> dict:
    validation = data.validation[data.validation[SCORE_TARGET].notna()]
    eras = validation["era"].to_numpy()
    target = validation[SCORE_TARGET].to_numpy()
    models = []
    for nonce in range(k):
        gate, trained = draw_and_train(staker, nonce, data, threshold, 50, max_estimators)
        models.append(
            {
                "nonce": nonce,
                "attempt": gate.passed.attempt,
                "config_hash": gate.passed.config_hash,
                "target": trained.config.target,
                "validation": trained.validation,
                "ranked": _ranked_per_era(eras, trained.validation_predictions),
            }
        )
    rows = []
    for j in range(1, k + 1):
        ensemble = np.mean([m["ranked"] for m in models[:j]], axis=0)
        stats = ValidationStats.from_eras(era_corrs(eras, ensemble, target))
        singles = [m["validation"] for m in models[:j]]
        rows.append(
            {
                "models": j,
                "ensemble_corr": stats.mean,
                "ensemble_sharpe": stats.sharpe,
                "mean_single_corr": float(np.mean([s.mean for s in singles])),
                "mean_single_sharpe": float(np.mean([s.sharpe for s in singles])),
                "best_single_corr": float(np.max([s.mean for s in singles])),
            }
        )
    matrix = np.corrcoef(np.array([m["ranked"] for m in models]))
    off = matrix[~np.eye(k, dtype=bool)] if k > 1 else np.array([1.0])
    table = _table(rows, models, off)
    out.mkdir(parents=True, exist_ok=True)
    (out / "diversification.md").write_text(table + "\n")
    figures = {
        "k": k,
        "staker": staker,
        "threshold": threshold,
        "max_estimators": max_estimators,
        "data_version": data.version,
        "models": [
            {kk: (vars(v) if kk == "validation" else v) for kk, v in m.items() if kk != "ranked"} for m in models
        ],
        "ensembles": rows,
        "pairwise_correlation": matrix.round(6).tolist(),
        "pairwise_mean": float(off.mean()),
        "pairwise_min": float(off.min()),
        "pairwise_max": float(off.max()),
    }
    (out / "diversification.json").write_text(json.dumps(figures, indent=2) + "\n")
    _plot(rows, matrix, out / "diversification.png")
    return {
        "table": table,
        "figures": figures,
        "markdown": out / "diversification.md",
        "png": out / "diversification.png",
        "json": out / "diversification.json",
    }


def _table(rows, models, off) -> str:
    lines = [
        "| models | ensemble CORR | ensemble Sharpe | mean single CORR | mean single Sharpe | best single CORR |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['models']} | {r['ensemble_corr']:.4f} | {r['ensemble_sharpe']:.2f} | {r['mean_single_corr']:.4f} "
            f"| {r['mean_single_sharpe']:.2f} | {r['best_single_corr']:.4f} |"
        )
    lines.append("")
    lines.append(
        f"Pairwise correlation of the {len(models)} models' validation predictions: mean {off.mean():.3f}, "
        f"min {off.min():.3f}, max {off.max():.3f}."
    )
    return "\n".join(lines)


def _plot(rows, matrix, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    j = [r["models"] for r in rows]
    left.plot(j, [r["ensemble_corr"] for r in rows], "o-", label="ensemble of the first j models")
    left.plot(j, [r["mean_single_corr"] for r in rows], "s--", label="mean of the j single models")
    left.plot(j, [r["best_single_corr"] for r in rows], "^:", label="best single model so far")
    left.set_xlabel("number of distinct random grid models (j)")
    left.set_ylabel("validation CORR (mean over eras)")
    left.set_title("ensemble vs single models")
    left.legend(fontsize=8)
    image = right.imshow(matrix, vmin=min(0.0, float(matrix.min())), vmax=1.0, cmap="viridis")
    right.set_title("pairwise correlation of predictions")
    right.set_xlabel("model")
    right.set_ylabel("model")
    fig.colorbar(image, ax=right)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""What a Monte Carlo run reports: summary statistics, the text table, the JSON and the PNG plots."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from backing.model.agreement import ONE
from backing.montecarlo.params import SCORE_NAMES
from backing.montecarlo.run import FAN_PERCENTILES, Result
from backing.report import nmr, percent

# ---------------------------------------------------------------------------------------------- report

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
ROWS = (
    ("stake_return", "stake return V/S - 1", "frac"),
    ("backer_return", "backer return", "frac"),
    ("modeller_fees", "modeller fees (NMR)", "nmr"),
    ("modeller_net", "modeller net (NMR)", "nmr"),
    ("reserve_used", "reserve used (NMR)", "nmr"),
)


def summary(result: Result) -> dict:
    """Means, percentiles and probabilities (floats; amounts in NMR, returns as fractions)."""
    f = result.floats
    stats = {}
    for key, _, _ in ROWS:
        v = f[key]
        stats[key] = {
            "mean": float(v.mean()),
            **{f"p{p}": float(x) for p, x in zip(PERCENTILES, np.percentile(v, PERCENTILES))},
        }
    used = f["reserve_used"] > 0
    short = f["shortfall"] > 0
    reserve = result.config.position.reserve / ONE
    probs = {
        "stake_gain": float((f["stake_return"] >= 0).mean()),
        "backer_loss": float((f["backer_return"] < 0).mean()),
        "reserve_used": float(used.mean()),
        "reserve_used_mean_when_used": float(f["reserve_used"][used].mean()) if used.any() else 0.0,
        "reserve_used_all": float((f["reserve_used"] >= reserve).mean()) if reserve > 0 else float(used.mean()),
        "shortfall": float(short.mean()),
        "shortfall_mean_when_short": float(f["shortfall"][short].mean()) if short.any() else 0.0,
        "shortfall_max": float(f["shortfall"].max()),
        "backer_uncovered_mean_when_short": float(f["uncovered"][short].mean()) if short.any() else 0.0,
        "default": float(f["defaulted"].mean()),
    }
    return {"stats": stats, "probabilities": probs}


def describe(result: Result) -> dict:
    c = result.config
    p = c.position
    t = p.terms
    source = (
        {"generator": asdict(c.model)}
        if c.history is None
        else {"bootstrap": {"rounds_in_history": int(len(c.history)), "block": c.block}}
    )
    return {
        "paths": c.paths,
        "rounds": c.rounds,
        "seed": c.seed,
        "chunk": c.chunk,
        "seconds": round(result.seconds, 3),
        "scores": source,
        "payout": {
            "multipliers": dict(zip(SCORE_NAMES, (nmr(m) for m in c.payout.multipliers))),
            "payout_factor": nmr(c.payout.payout_factor),
            "clip": nmr(c.payout.clip),
            "exposure": nmr(c.payout.exposure),
        },
        "position": {
            "units": p.units,
            "total_units": p.total_units,
            "deposit": nmr(p.units * t.unit_size),
            "staked_total": nmr(p.staked),
            "reserve": nmr(p.reserve),
            "upfront_fee": nmr(p.upfront_fee),
            "profit_share_bps": t.profit_share_for(p.units),
            "burn_share_bps": t.burn_share_bps,
        },
        "default_probability": c.default_prob,
    }


def report_text(result: Result) -> str:
    c = result.config
    p = c.position
    s = summary(result)
    src = (
        f"generator: {c.model.describe()}"
        if c.history is None
        else f"block bootstrap of {len(c.history)} history rounds, blocks of {c.block}"
    )
    mult = " + ".join(f"{nmr(m)}*{n}" for n, m in zip(SCORE_NAMES, c.payout.multipliers))
    lines = [
        f"Monte Carlo: {c.paths} paths x {c.rounds} rounds, seed {c.seed} ({result.seconds:.2f} s)",
        f"scores: {src}",
        f"payout: clip(payout factor {nmr(c.payout.payout_factor)} x ({mult}), +-{nmr(c.payout.clip)}), "
        f"exposure {nmr(c.payout.exposure)}",
        f"backer: {p.units} unit(s) = {nmr(p.units * p.terms.unit_size)} NMR of {p.total_units} in the agreement; "
        f"profit share {percent(p.terms.profit_share_for(p.units))}, burn share {percent(p.terms.burn_share_bps)}",
        f"modeller: reserve {nmr(p.reserve)} NMR, upfront fee {nmr(p.upfront_fee)} NMR, staked {nmr(p.staked)} NMR"
        + (
            f"; defaults (repays nothing) with probability {c.default_prob:g}" if c.default_prob else "; repays in full"
        ),
        "",
    ]
    head = f"{'':24}{'mean':>10}" + "".join(f"{'p' + str(q):>10}" for q in PERCENTILES)
    lines.append(head)
    for key, label, kind in ROWS:
        row = s["stats"][key]
        fmt = (lambda x: f"{x * 100:+.1f}%") if kind == "frac" else (lambda x: f"{x:.2f}")
        lines.append(
            f"{label:24}{fmt(row['mean']):>10}" + "".join(f"{fmt(row['p' + str(q)]):>10}" for q in PERCENTILES)
        )
    pr = s["probabilities"]
    lines += [
        "",
        f"P(stake ends up)        {pr['stake_gain'] * 100:.1f}%",
        f"P(backer loses)         {pr['backer_loss'] * 100:.1f}%",
        f"P(reserve used)         {pr['reserve_used'] * 100:.1f}%   mean when used "
        f"{pr['reserve_used_mean_when_used']:.2f} NMR; all of it used {pr['reserve_used_all'] * 100:.1f}%",
        f"P(reserve shortfall)    {pr['shortfall'] * 100:.1f}%   mean shortfall when short "
        f"{pr['shortfall_mean_when_short']:.2f} NMR (max {pr['shortfall_max']:.2f}); "
        f"this backer's uncovered loss {pr['backer_uncovered_mean_when_short']:.2f} NMR",
    ]
    if c.default_prob:
        lines.append(f"defaults drawn          {pr['default'] * 100:.1f}%")
    return "\n".join(lines)


def result_json(result: Result) -> dict:
    data = {
        "config": describe(result),
        "units": "returns are fractions (0.1 = +10%), amounts NMR, probabilities 0..1; config amounts are "
        "exact NMR strings",
        **summary(result),
    }
    if result.index_fan is not None:
        data["index_fan"] = {
            f"p{p}": [round(float(x), 6) for x in row] for p, row in zip(FAN_PERCENTILES, result.index_fan)
        }
    return data


def plot(result: Result, directory: str | Path) -> list[str]:
    """Write backer_returns.png, modeller_fees.png and index_fan.png; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    c = result.config
    f = result.floats
    title = f"{c.paths} paths x {c.rounds} rounds, seed {c.seed}"
    written = []

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.hist(f["backer_return"] * 100, bins=80, color="#3b6ea8")
    ax.axvline(0, color="k", lw=0.8)
    med = np.median(f["backer_return"]) * 100
    ax.axvline(med, color="#d1495b", lw=1.2, ls="--", label=f"median {med:+.1f}%")
    ax.set_xlabel("backer return over the lockup (%)")
    ax.set_ylabel("paths")
    ax.set_title(f"Backer return ({c.position.units} unit(s)) - {title}")
    ax.legend()
    fig.tight_layout()
    written.append(str(directory / "backer_returns.png"))
    fig.savefig(written[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    fees = f["modeller_fees"]
    ax.hist(fees, bins=80, color="#2e8b57")
    ax.set_xlabel("modeller's performance fees kept (NMR; 0 when the stake lost)")
    ax.set_ylabel("paths")
    ax.set_title(f"Modeller fees - P(fee > 0) {np.mean(fees > 0) * 100:.0f}%, mean {fees.mean():.2f} NMR")
    fig.tight_layout()
    written.append(str(directory / "modeller_fees.png"))
    fig.savefig(written[-1])
    plt.close(fig)

    if result.index_fan is not None:
        fan = result.index_fan
        x = np.arange(fan.shape[1])
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        ax.fill_between(x, fan[0], fan[4], color="#3b6ea8", alpha=0.25, label="5-95%")
        ax.fill_between(x, fan[1], fan[3], color="#3b6ea8", alpha=0.45, label="25-75%")
        ax.plot(x, fan[2], color="#1d3557", lw=1.5, label="median")
        ax.axhline(1, color="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("rounds into the lockup")
        ax.set_ylabel("index (1 at lock, log scale)")
        ax.set_title(f"Index paths - {title}")
        ax.legend(loc="upper left")
        fig.tight_layout()
        written.append(str(directory / "index_fan.png"))
        fig.savefig(written[-1])
        plt.close(fig)
    return written

"""Plain-text tables, JSON and PNG plots (matplotlib, Agg) for `backing portfolio`."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _short(cid: str) -> str:
    return cid if len(cid) <= 20 else cid[:10] + "..." + cid[-6:]


def frontier_text(f, chosen: dict, ids: list[str], held: np.ndarray, how: str = "ratio") -> str:
    unit = "sd" if f.method == "variance" else "CVaR"
    rule = {
        "ratio": f"the most mean per unit of {unit}",
        "min-risk": "the least risk",
        "max-return": "the highest mean",
    }.get(how, f"the least risk with a mean of at least {how} NMR")
    lines = [
        f"Efficient frontier (mean-{f.method}), whole units; portfolio {f.portfolio:.2f} NMR (holdings paid in + "
        f"budget {f.budget:.2f}); rule: {f.rule.describe()}",
        "",
    ]
    rows = []
    for k, d in enumerate(f.points, 1):
        mark = "*" if d is chosen else ""
        rows.append(
            [
                f"{k}{mark}",
                f"{d['mean']:+.2f}",
                f"{d['sd']:.2f}",
                f"{d['cvar']:.2f}",
                f"{d['cost']:.2f}",
                int(np.count_nonzero(d["units"])),
            ]
        )
    c = f.current
    rows.append(["now", f"{c['mean']:+.2f}", f"{c['sd']:.2f}", f"{c['cvar']:.2f}", "0.00", int(np.count_nonzero(held))])
    lines.append(_table(["point", "mean NMR", "sd NMR", "CVaR NMR", "new NMR", "agreements"], rows))
    lines += ["", f"chosen point (*: {rule}, --choose): units to add per agreement"]
    add = [[_short(ids[i]), int(u), int(held[i]), int(held[i] + u)] for i, u in enumerate(chosen["units"]) if u]
    lines.append(_table(["agreement", "add", "held", "then"], add) if add else "  nothing to add")
    return "\n".join(lines)


def outcomes_rows(outcomes, level: float) -> list[dict]:
    """One unit of each candidate at maturity: mean, sd, percentiles, P(loss), expected shortfall (NMR)."""
    from backing.portfolio.risk import shortfall

    rows = []
    for i, c in enumerate(outcomes.candidates):
        p = outcomes.profit[:, i]
        rows.append(
            {
                "candidate": c.id,
                "model": c.model,
                "phase": c.phase,
                "unit_nmr": float(outcomes.unit_cost[i]),
                "rounds": c.horizon,
                "mean": float(p.mean()),
                "sd": float(p.std()),
                "p5": float(np.percentile(p, 5)),
                "p50": float(np.percentile(p, 50)),
                "p95": float(np.percentile(p, 95)),
                "p_loss": float((p < 0).mean()),
                "shortfall": shortfall(p, level),
            }
        )
    return rows


def outcomes_text(rows: list[dict], level: float) -> str:
    lines = [f"What one unit returns at maturity (NMR, after fees and covers; ES at {level:g}):", ""]
    table = [
        [
            _short(r["candidate"]),
            r["model"][:16],
            r["phase"],
            f"{r['unit_nmr']:g}",
            r["rounds"],
            f"{r['mean']:+.2f}",
            f"{r['sd']:.2f}",
            f"{r['p5']:+.2f}",
            f"{r['p95']:+.2f}",
            f"{r['p_loss'] * 100:.1f}%",
            f"{r['shortfall']:.2f}",
        ]
        for r in rows
    ]
    lines.append(
        _table(
            ["candidate", "model", "phase", "unit", "rounds", "mean", "sd", "p5", "p95", "P(loss)", "ES"],
            table,
            "lllrrrrrrrr",
        )
    )
    return "\n".join(lines)


def check_text(rows: list[dict], breaches, rule, portfolio: float, words) -> str:
    lines = [f"The {rule.limit * 100:g}% rule: {rule.describe()}; portfolio {portfolio:.2f} NMR", ""]
    table = [
        [
            r["model"][:20],
            sum(r["units"].values()),
            f"{r['at_risk']:.2f}",
            f"{r['joint']:.2f}",
            f"{r['allowed']:.2f}",
            f"{r['share'] * 100:.2f}%",
            "ok" if r["ok"] else "BREACH",
        ]
        for r in rows
    ]
    lines.append(
        _table(["model", "units", "at risk", "joint", "allowed", "share", ""], table) if table else "  no holdings"
    )
    for b in breaches:
        lines.append("  " + words(b, rule, portfolio))
    if rows and not breaches:
        lines.append("  every model is within the limit")
    return "\n".join(lines)


def ensemble_text(rows: list[dict], limit: int = 15) -> str:
    lines = ["Candidates that ensemble with your holdings, best first (least risk added per NMR):", ""]
    table = [
        [
            r["rank"],
            _short(r["candidate"]),
            r["model"][:16],
            "-" if r["score_correlation"] is None else f"{r['score_correlation']:+.2f}",
            "-" if r["outcome_correlation"] is None else f"{r['outcome_correlation']:+.2f}",
            f"{r['risk_change_per_nmr']:+.4f}",
            f"{r['diversification']:.2f}",
            f"{r['mean_per_unit']:+.2f}",
        ]
        for r in rows[:limit]
    ]
    lines.append(
        _table(
            ["rank", "candidate", "model", "corr scores", "corr outcome", "risk/NMR", "diversif.", "mean/unit"], table
        )
    )
    lines.append("")
    lines += [f"  {r['rank']}. {r['words']}" for r in rows[: min(limit, 5)]]
    return "\n".join(lines)


def plan_text(actions: list[dict]) -> str:
    if not actions:
        return "Rebalancing plan: the holdings already match the target; nothing to do"
    lines = ["Rebalancing plan (only what the contracts allow now):", ""]
    table = [
        [a["action"], _short(a["candidate"]), a["phase"], a["held"], a["target"], a["units"], a["command"] or "-"]
        for a in actions
    ]
    lines.append(_table(["action", "agreement", "phase", "held", "target", "units", "command"], table, "llrrrrl"))
    lines.append("")
    lines += [f"  {a['action']} {_short(a['candidate'])}: {a['why']}" for a in actions]
    return "\n".join(lines)


def backtest_text(results) -> str:
    lines = ["Backtest of the rebalancing policies over the history (actions only at each agreement's roll):", ""]
    table = [
        [
            b.policy.name,
            f"{b.value[0]:.2f}",
            f"{b.final:.2f}",
            f"{(b.final / b.value[0] - 1) * 100:+.2f}%",
            f"{b.max_drawdown * 100:.2f}%",
            len(b.actions),
        ]
        for b in results
    ]
    lines.append(_table(["policy", "start NMR", "end NMR", "return", "max drawdown", "actions"], table))
    return "\n".join(lines)


def stress_text(rows: list[dict]) -> str:
    lines = ["Stress for NMR's economics (the chosen allocation with the holdings):", ""]
    usd = "mean_usd" in rows[0] if rows else False
    head = ["scenario", "mean NMR", "p5 NMR", "ES NMR", "P(loss)"] + (["mean USD", "p5 USD", "ES USD"] if usd else [])
    table = []
    for r in rows:
        row = [
            r["scenario"],
            f"{r['mean_nmr']:+.2f}",
            f"{r['p5_nmr']:+.2f}",
            f"{r['shortfall_nmr']:.2f}",
            f"{r['p_loss'] * 100:.1f}%",
        ]
        if usd:
            row += [f"{r['mean_usd']:+.2f}", f"{r['p5_usd']:+.2f}", f"{r['shortfall_usd']:.2f}"]
        table.append(row)
    lines.append(_table(head, table))
    if usd:
        lines.append(f"  NMR/USD now {rows[0]['price_now']:g}, median at the horizon {rows[0]['price_end_median']:.4g}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- plots


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_frontier(f, chosen: dict, path: Path) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    key = "sd" if f.method == "variance" else "cvar"
    xs = [d[key] for d in f.points]
    ys = [d["mean"] for d in f.points]
    ax.plot(xs, ys, "o-", color="#3b6ea8", label="efficient frontier (whole units)")
    ax.plot([f.current[key]], [f.current["mean"]], "s", color="#d1495b", ms=9, label="current holdings")
    ax.plot([chosen[key]], [chosen["mean"]], "*", color="#2e8b57", ms=16, label="chosen point")
    ax.set_xlabel(("standard deviation" if key == "sd" else f"CVaR {f.rule.level:g}") + " of profit (NMR)")
    ax.set_ylabel("mean profit at maturity (NMR)")
    ax.set_title(f"Mean-{f.method} frontier, {f.rule.limit * 100:g}% rule, budget {f.budget:g} NMR")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def plot_correlation(outcomes, path: Path) -> str:
    plt = _plt()
    r = outcomes.history.returns.astype(float)
    corr = np.corrcoef(r, rowvar=False) if r.shape[1] > 1 else np.ones((1, 1))
    corr = np.nan_to_num(np.atleast_2d(corr))
    n = corr.shape[0]
    fig, ax = plt.subplots(figsize=(6 + n * 0.12, 5 + n * 0.12), dpi=110)
    im = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    labels = [m[:12] for m in outcomes.models]
    ax.set_xticks(range(n), labels, rotation=90, fontsize=7 if n > 15 else 9)
    ax.set_yticks(range(n), labels, fontsize=7 if n > 15 else 9)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                color = "white" if abs(corr[i, j]) > 0.6 else "black"
                ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=8, color=color)
    fig.colorbar(im, ax=ax, label="correlation of round returns")
    ax.set_title("Correlation of the models' round returns", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def plot_backtest(results, path: Path) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for b in results:
        ax.plot(b.rounds, b.value, label=f"{b.policy.name} ({len(b.actions)} actions)")
    ax.set_xlabel("round")
    ax.set_ylabel("portfolio value (NMR, marked at settlement value)")
    ax.set_title("Rebalancing backtest over the history")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)

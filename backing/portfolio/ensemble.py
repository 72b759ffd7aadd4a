"""Which candidates "ensemble well" with what the backer holds (shared/seeds/002): for each candidate, how its
model's scores move with the portfolio's and what one more unit does to the portfolio's risk, ranked, in words.

Per candidate ``i`` with one unit's profit ``P_i`` (on the joint paths) and the holdings' profit ``P_h``:

* ``score_correlation``: correlation of the model's round returns with the holdings' (each held model's returns
  weighted by the NMR held on it), over the history's common rounds;
* ``outcome_correlation``: correlation of ``P_i`` with ``P_h`` over the paths;
* ``risk_change``: ``sd(P_h + P_i) - sd(P_h)`` in NMR, and per NMR paid in (``risk_change_per_nmr``);
* ``diversification``: ``sd(P_h) + sd(P_i) - sd(P_h + P_i)`` in NMR: the risk that cancels out; 0 when the two
  move together exactly (a perfectly correlated pair adds no diversification), largest when they move apart.

Ranked by ``risk_change_per_nmr`` (lowest first: the unit that adds the least risk per NMR, or removes the most),
then by mean profit. Without holdings the portfolio is empty: the risk change is the unit's own sd.
"""

from __future__ import annotations

import numpy as np

from backing.portfolio.outcomes import Outcomes


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.std() < 1e-15 or b.std() < 1e-15:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def rank(outcomes: Outcomes, held: np.ndarray, only: list[int] | None = None) -> list[dict]:
    """One row per candidate (those in ``only``, default every one not fully held), best first."""
    held = np.asarray(held, dtype=float)
    ph = outcomes.profit @ held
    sd_h = float(ph.std())
    hist = outcomes.history
    nmr_on = np.zeros(len(outcomes.models))
    np.add.at(nmr_on, outcomes.model_of, held * outcomes.unit_cost)
    held_returns = hist.returns.astype(float) @ nmr_on if nmr_on.any() else None
    rows = []
    for i in only if only is not None else range(len(outcomes.candidates)):
        c = outcomes.candidates[i]
        pi = outcomes.profit[:, i]
        sd_i = float(pi.std())
        sd_new = float((ph + pi).std())
        change = sd_new - sd_h
        model_returns = hist.returns[:, outcomes.model_of[i]].astype(float)
        row = {
            "candidate": c.id,
            "model": c.model,
            "unit_cost": float(outcomes.unit_cost[i]),
            "mean_per_unit": float(pi.mean()),
            "sd_per_unit": sd_i,
            "score_correlation": _corr(model_returns, held_returns) if held_returns is not None else None,
            "outcome_correlation": _corr(pi, ph) if held.any() else None,
            "risk_change": change,
            "risk_change_per_nmr": change / float(outcomes.unit_cost[i]),
            "diversification": max(0.0, sd_h + sd_i - sd_new) if held.any() else 0.0,
        }
        row["words"] = words(row, bool(held.any()))
        rows.append(row)
    rows.sort(key=lambda r: (round(r["risk_change_per_nmr"], 12), -r["mean_per_unit"]))
    for k, r in enumerate(rows, 1):
        r["rank"] = k
    return rows


def verdict(row: dict) -> str:
    rho = row["outcome_correlation"]
    if rho is None:
        return "no holdings to ensemble with"
    if rho >= 0.9:
        return "adds little diversification: it moves with what you hold"
    if rho <= 0.3:
        return "ensembles well"
    return "some diversification"


def words(row: dict, has_holdings: bool) -> str:
    cost = row["unit_cost"]
    if not has_holdings:
        return (
            f"{row['candidate']} (model {row['model']}): you hold nothing yet; one unit ({cost:g} NMR) has risk "
            f"(sd) {row['sd_per_unit']:.2f} NMR and expected profit {row['mean_per_unit']:+.2f} NMR"
        )
    sc = row["score_correlation"]
    scores = f"its scores correlate {sc:+.2f} with your portfolio's" if sc is not None else "no score overlap"
    direction = "lowers" if row["risk_change"] < 0 else "raises"
    return (
        f"{row['candidate']} (model {row['model']}): {scores}; one unit ({cost:g} NMR) {direction} your risk (sd) "
        f"by {abs(row['risk_change']):.2f} NMR ({row['risk_change_per_nmr']:+.4f} per NMR), cancels "
        f"{row['diversification']:.2f} NMR of risk, expected profit {row['mean_per_unit']:+.2f} NMR: {verdict(row)}"
    )

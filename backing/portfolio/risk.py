"""The two percent rule (shared/seeds/000): never more than ``limit`` (2%) of the whole portfolio at risk on one
model. The portfolio is what the backer has paid into his holdings plus the budget he is allocating.

What "at risk" means (``measure``):

* ``es``: expected shortfall at ``level`` (0.95: the mean loss over the worst 5% of the simulated paths) of the
  NMR held on the model;
* ``worst``: the worst loss over every simulated path;
* ``stake``: every NMR paid in (no credit for the reserve's cover).

Per unit these are ``unit_risk``; a model's risk is ``sum(units_i * unit_risk_i)`` over its agreements. For one
agreement per model that is exact (shortfall is positively homogeneous); for several on one model it is an upper
bound (shortfall is subadditive), so the optimizer's constraint stays linear and on the safe side. The check of
holdings (``check``) reports both the bound and the joint shortfall of the model's positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backing.errors import portfolio_problem
from backing.portfolio.outcomes import Outcomes

MEASURES = ("es", "worst", "stake")


@dataclass(frozen=True)
class Rule:
    limit: float = 0.02
    measure: str = "es"
    level: float = 0.95

    def validate(self) -> None:
        if self.measure not in MEASURES:
            raise portfolio_problem("bad_option", option="--risk-measure", why=f"must be one of {', '.join(MEASURES)}")
        if not 0 < self.limit <= 1:
            raise portfolio_problem("bad_option", option="--risk-limit", why=f"{self.limit:g} must be in (0, 1]")
        if not 0.5 <= self.level < 1:
            raise portfolio_problem("bad_option", option="--risk-level", why=f"{self.level:g} must be in [0.5, 1)")

    def describe(self) -> str:
        what = {
            "es": f"expected shortfall at {self.level:g}",
            "worst": "worst simulated loss",
            "stake": "NMR paid in",
        }[self.measure]
        return f"{what} per model <= {self.limit * 100:g}% of the portfolio"


def shortfall(profit: np.ndarray, level: float) -> float:
    """Expected shortfall (a positive number is a loss) of a profit sample at ``level``."""
    losses = np.sort(-np.asarray(profit, dtype=float))[::-1]
    k = max(1, int(np.ceil(len(losses) * (1 - level))))
    return float(losses[:k].mean())


def unit_risk(outcomes: Outcomes, rule: Rule) -> np.ndarray:
    """NMR at risk per unit of each candidate (never negative: a unit that cannot lose adds nothing)."""
    p = outcomes.profit
    if rule.measure == "es":
        losses = -p
        k = max(1, int(np.ceil(p.shape[0] * (1 - rule.level))))
        worst = -np.partition(-losses, k - 1, axis=0)[:k]  # the k largest losses per column
        risk = worst.mean(axis=0)
    elif rule.measure == "worst":
        risk = (-p).max(axis=0)
    else:
        risk = outcomes.unit_cost.copy()
    return np.maximum(risk, 0.0)


def portfolio_value(outcomes: Outcomes, held: np.ndarray, budget_nmr: float) -> float:
    return float(outcomes.unit_cost @ held + budget_nmr)


def model_matrix(outcomes: Outcomes) -> np.ndarray:
    """A[m, i] = 1 when candidate i is on model m."""
    a = np.zeros((len(outcomes.models), len(outcomes.candidates)))
    a[outcomes.model_of, np.arange(len(outcomes.candidates))] = 1
    return a


@dataclass
class Breach:
    model: str
    at_risk: float
    joint: float
    allowed: float
    candidates: list[str]
    units_to_cut: dict


def check(outcomes: Outcomes, units: np.ndarray, portfolio: float, rule: Rule) -> tuple[list[dict], list[Breach]]:
    """Each model's risk under ``units`` against the rule. @return (a row per model held, the breaches)."""
    risk = unit_risk(outcomes, rule)
    allowed = rule.limit * portfolio
    rows, breaches = [], []
    for m, model in enumerate(outcomes.models):
        on = np.nonzero((outcomes.model_of == m) & (units > 0))[0]
        if len(on) == 0:
            continue
        bound = float(risk[on] @ units[on])
        if rule.measure == "es":
            joint = shortfall(outcomes.profit[:, on] @ units[on], rule.level)
        elif rule.measure == "worst":
            joint = float(max(0.0, (-(outcomes.profit[:, on] @ units[on])).max()))
        else:
            joint = bound
        row = {
            "model": model,
            "units": {outcomes.candidates[i].id: int(units[i]) for i in on},
            "at_risk": bound,
            "joint": joint,
            "allowed": allowed,
            "share": bound / portfolio if portfolio > 0 else float("inf"),
            "ok": bound <= allowed + 1e-9,
        }
        rows.append(row)
        if not row["ok"]:
            # units to give up, the riskiest unit first, until the bound is within the limit
            cut, excess = {}, bound - allowed
            for i in sorted(on, key=lambda i: -risk[i]):
                if excess <= 1e-9:
                    break
                n = min(int(units[i]), int(np.ceil(excess / risk[i] - 1e-12)))
                cut[outcomes.candidates[i].id] = n
                excess -= n * risk[i]
            breaches.append(Breach(model, bound, joint, allowed, [outcomes.candidates[i].id for i in on], cut))
    return rows, breaches


def breach_words(b: Breach, rule: Rule, portfolio: float) -> str:
    cuts = ", ".join(f"{n} unit(s) of {cid}" for cid, n in b.units_to_cut.items())
    return (
        f"model {b.model}: {b.at_risk:.2f} NMR at risk ({b.at_risk / portfolio * 100:.2f}% of the portfolio's "
        f"{portfolio:.2f} NMR) is over the {rule.limit * 100:g}% limit of {b.allowed:.2f} NMR; within it after "
        f"giving up {cuts}"
    )

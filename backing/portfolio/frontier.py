"""The efficient frontier in whole units: mean-variance and mean-CVaR over the candidates, within each open
agreement's units for sale, the budget, and the two percent rule; the backer's holdings stay as they are.

The integer method (rounding + repair + local search), for each target mean ``t`` on the frontier:

1. cvxpy (compiled once, the target a parameter) solves the continuous problem: minimise the risk (variance
   ``y' S y``, or CVaR by Rockafellar-Uryasev's linear program over ``cvar_paths`` of the simulated paths) of
   ``y = holdings + x`` subject to ``mean(y) >= t``, ``0 <= x <= units for sale``, ``cost(x) <= budget`` and,
   per model, ``sum(unit risk * y) <= limit * portfolio``. Clarabel solves the variance problem, HiGHS the
   linear programs.
2. Rounding down keeps every constraint (each is an upper bound with non-negative coefficients).
3. Repair: while the mean is below ``t``, add the feasible unit with the least added risk per NMR of mean.
4. Local search: add one unit, drop one, or (mean-variance) move one unit between two candidates, whichever
   lowers the risk most
   while staying feasible with the mean at least ``t`` (or at least the repaired mean when ``t`` cannot be met
   in whole units); stop when nothing lowers it.

With ``--integer milp`` (mean-CVaR only) each point is instead a mixed-integer linear program solved by HiGHS:
exact in whole units on the optimizer's scenarios (at most ``MILP_SECONDS`` a point), slower on big problems.

The highest-mean point is solved exactly in whole units, as a mixed-integer linear program (HiGHS); rounding
and repair take over only if that solve fails. The frontier is the set of integer points that no other point
beats on both mean and risk, sorted by risk (so mean and risk both rise along it). ``tests/unit/test_portfolio.py``
compares the result with a brute-force search over every integer allocation on small cases.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from backing.errors import portfolio_problem
from backing.portfolio.outcomes import Outcomes
from backing.portfolio.risk import Rule, breach_words, check, model_matrix, portfolio_value, shortfall, unit_risk

METHODS = ("variance", "cvar")
INTEGER_METHODS = ("round", "milp")
MILP_SECONDS = 60.0  # per solve: HiGHS stops there (the point then comes from rounding the relaxation)


@dataclass
class Problem:
    """Everything the optimizer needs, in NMR."""

    outcomes: Outcomes
    held: np.ndarray  # units held per candidate (fixed)
    cap: np.ndarray  # units that may be added per candidate
    budget: float
    rule: Rule
    method: str = "variance"
    cvar_level: float = 0.95
    cvar_paths: int = 2000
    seed: int = 1
    integer: str = "round"  # "round" (rounding + repair + local search) or "milp" (mean-CVaR: HiGHS, exact)
    mu: np.ndarray = field(init=False)
    sigma: np.ndarray = field(init=False)
    risk_per_unit: np.ndarray = field(init=False)
    A: np.ndarray = field(init=False)
    allowed: float = field(init=False)
    scenarios: np.ndarray = field(init=False)

    def __post_init__(self):
        o = self.outcomes
        self.held = np.asarray(self.held, dtype=np.int64)
        self.cap = np.asarray(self.cap, dtype=np.int64)
        self.mu = o.mean
        self.sigma = o.cov
        self.risk_per_unit = unit_risk(o, self.rule)
        self.A = model_matrix(o) * self.risk_per_unit  # per model: NMR at risk per unit
        self.portfolio = portfolio_value(o, self.held, self.budget)
        self.allowed = self.rule.limit * self.portfolio
        rng = np.random.default_rng(self.seed)
        n = o.profit.shape[0]
        pick = rng.choice(n, size=self.cvar_paths, replace=False) if self.cvar_paths < n else np.arange(n)
        self.scenarios = o.profit[pick]

    # ------------------------------------------------------------------ evaluation (integer points)

    def feasible(self, x: np.ndarray) -> bool:
        y = self.held + x
        return bool(
            (x >= 0).all()
            and (x <= self.cap).all()
            and self.outcomes.unit_cost @ x <= self.budget + 1e-9
            and (self.A @ y <= self.allowed + 1e-9).all()
        )

    def mean(self, x: np.ndarray) -> float:
        return float(self.mu @ (self.held + x))

    def risk(self, x: np.ndarray, full: bool = False) -> float:
        """The method's risk of holdings + x: variance (NMR^2), or CVaR (NMR) on the optimizer's scenarios (all
        paths with ``full``)."""
        y = (self.held + x).astype(float)
        if self.method == "variance":
            return float(y @ self.sigma @ y)
        sample = self.outcomes.profit if full else self.scenarios
        return shortfall(sample @ y, self.cvar_level)

    def describe(self, x: np.ndarray) -> dict:
        y = (self.held + x).astype(float)
        total = self.outcomes.portfolio(y)
        return {
            "units": x.astype(int),
            "mean": float(self.mu @ y),
            "sd": float(np.sqrt(max(0.0, y @ self.sigma @ y))),
            "cvar": shortfall(total, self.cvar_level),
            "cost": float(self.outcomes.unit_cost @ x),
        }


def check_problem(p: Problem) -> None:
    """Refuse problems with no answer, in plain words."""
    if p.integer not in INTEGER_METHODS:
        raise portfolio_problem("bad_option", option="--integer", why=f"{p.integer!r}: give round or milp")
    if p.integer == "milp" and p.method != "cvar":
        raise portfolio_problem(
            "bad_option",
            option="--integer milp",
            why="a mixed-integer solve needs the linear CVaR objective: add --method cvar (mean-variance rounds)",
        )
    open_ = p.cap > 0
    if not open_.any():
        raise portfolio_problem("no_candidates", where="with units for sale (every candidate is locked or full)")
    smallest = float(p.outcomes.unit_cost[open_].min())
    if p.budget + 1e-9 < smallest:
        raise portfolio_problem("budget_below_unit", budget=f"{p.budget:g}", smallest=f"{smallest:g}")
    if not p.feasible(np.zeros_like(p.held)):
        _, breaches = check(p.outcomes, p.held, p.portfolio, p.rule)
        why = "; ".join(breach_words(b, p.rule, p.portfolio) for b in breaches) or "the holdings break a limit"
        raise portfolio_problem("infeasible", why="the current holdings already break the rule: " + why)


# ---------------------------------------------------------------------------------------------- continuous


@contextlib.contextmanager
def _quiet():
    """HiGHS prints its banner on standard output whatever its options say: send file descriptor 1 to /dev/null
    for the solve (the tables and --json go to stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class _Solver:
    """The continuous problems, compiled once by cvxpy with the target mean as a parameter (DPP), solved by
    Clarabel (the variance problem, a second-order cone program) and HiGHS (the linear programs: highest mean,
    CVaR)."""

    def __init__(self, p: Problem):
        import cvxpy as cp

        self.cp = cp
        n = len(p.mu)
        self.milp = p.integer == "milp"
        self.x = cp.Variable(n, integer=self.milp)
        y = p.held + self.x
        cons = [self.x >= 0, self.x <= p.cap, p.outcomes.unit_cost @ self.x <= p.budget, p.A @ y <= p.allowed]
        self.max_mean = cp.Problem(cp.Maximize(p.mu @ y), cons)
        self.target = cp.Parameter()
        with_target = cons + [p.mu @ y >= self.target]
        if p.method == "variance":
            ridge = 1e-9 * max(1.0, float(np.trace(p.sigma)) / n)
            chol = np.linalg.cholesky(p.sigma + ridge * np.eye(n))
            risk = cp.sum_squares(chol.T @ y)
            self.min_risk_free = cp.Problem(cp.Minimize(risk), cons)
            self.min_risk = cp.Problem(cp.Minimize(risk), with_target)
        else:
            zeta = cp.Variable()
            slack = cp.Variable(p.scenarios.shape[0], nonneg=True)
            tail = [slack >= -(p.scenarios @ y) - zeta]
            k = p.scenarios.shape[0] * (1 - p.cvar_level)
            risk = zeta + cp.sum(slack) / k
            self.min_risk_free = cp.Problem(cp.Minimize(risk), cons + tail)
            self.min_risk = cp.Problem(cp.Minimize(risk), with_target + tail)
        self.cap = p.cap
        self.lp = p.method == "cvar"

    def solve(self, problem, lp: bool = False) -> np.ndarray | None:
        cp = self.cp
        try:
            if lp:  # HiGHS: several times faster than Clarabel on these linear programs, and solves the MILP
                with _quiet():
                    problem.solve(solver="HIGHS", output_flag=False, time_limit=MILP_SECONDS)
            else:
                problem.solve(solver="CLARABEL")
        except cp.error.SolverError:
            try:
                problem.solve(solver="SCS")
            except cp.error.SolverError:
                return None
        if problem.status not in ("optimal", "optimal_inaccurate") or self.x.value is None:
            return None
        return np.clip(self.x.value, 0, self.cap)

    def highest_mean(self):
        return self.solve(self.max_mean, lp=True)

    def highest_mean_whole_units(self, p: Problem) -> np.ndarray | None:
        """The top of the frontier exactly: the mixed-integer linear program max mean(y), x integer (HiGHS)."""
        cp = self.cp
        x = cp.Variable(len(p.mu), integer=True)
        y = p.held + x
        cons = [x >= 0, x <= p.cap, p.outcomes.unit_cost @ x <= p.budget, p.A @ y <= p.allowed]
        prob = cp.Problem(cp.Maximize(p.mu @ y), cons)
        try:
            with _quiet():
                prob.solve(solver="HIGHS", output_flag=False)
        except cp.error.SolverError:
            return None
        if prob.status not in ("optimal", "optimal_inaccurate") or x.value is None:
            return None
        out = np.clip(np.rint(x.value), 0, p.cap).astype(np.int64)
        return out if p.feasible(out) else None

    def least_risk(self, target: float | None = None):
        if target is None:
            return self.solve(self.min_risk_free, lp=self.lp)
        self.target.value = float(target)
        return self.solve(self.min_risk, lp=self.lp)


# ---------------------------------------------------------------------------------------------- integer


def _move_table(p: Problem, x: np.ndarray, swaps: bool):
    """Every one-unit move from ``x`` at once: (remove i, add j) with n standing for "none".

    @return (feasible, new mean, new risk) as (n+1, n+1) arrays; row n = add only, column n = drop only."""
    n = len(x)
    y = (p.held + x).astype(float)
    cost = np.append(p.outcomes.unit_cost, 0.0)
    mu = np.append(p.mu, 0.0)
    risk_unit = np.append(p.risk_per_unit, 0.0)
    model = np.append(p.outcomes.model_of, -1)
    slack = p.allowed - p.A @ y  # per model
    can_add = np.append(x < p.cap, True)
    can_drop = np.append(x > 0, True)
    rem, add = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    if not swaps:
        only = (rem == n) | (add == n)
    else:
        only = np.ones((n + 1, n + 1), dtype=bool)
    spent = p.outcomes.unit_cost @ x
    ok = only & can_drop[rem] & can_add[add] & (rem != add) | ((rem == n) & (add == n))
    ok &= spent - cost[rem] + cost[add] <= p.budget + 1e-9
    # the added unit's model: its slack, plus what the removed unit frees when it is on the same model
    freed = np.where(model[rem] == model[add], risk_unit[rem], 0.0)
    add_slack = np.where(add < n, np.append(slack, 0.0)[np.where(model[add] >= 0, model[add], len(slack))], np.inf)
    ok &= (add == n) | (risk_unit[add] <= add_slack + freed + 1e-9)
    mean = float(mu[:n] @ y) - mu[rem] + mu[add]
    if p.method == "variance":
        g = np.append(p.sigma @ y, 0.0)
        diag = np.append(np.diag(p.sigma), 0.0)
        sig = np.zeros((n + 1, n + 1))
        sig[:n, :n] = p.sigma
        var = float(y @ p.sigma @ y)
        risk = var + 2 * g[add] + diag[add] - 2 * g[rem] + diag[rem] - 2 * sig[rem, add]
    else:
        risk = np.full((n + 1, n + 1), np.inf)
        base = p.scenarios @ y
        k = max(1, int(np.ceil(len(base) * (1 - p.cvar_level))))
        cols = np.concatenate([p.scenarios, np.zeros((len(base), 1))], axis=1)
        for r_i in (n,) if not swaps else range(n + 1):
            trial = base[:, None] - cols[:, r_i : r_i + 1] + cols  # every add j after removing r_i
            losses = -trial
            tail = -np.partition(-losses, k - 1, axis=0)[:k]
            risk[r_i] = tail.mean(axis=0)
        drops = base[:, None] - cols  # remove i, add none
        tail = -np.partition(drops, k - 1, axis=0)[:k]
        risk[:, n] = tail.mean(axis=0)
    return ok, mean, risk


def integerize(p: Problem, x_cont: np.ndarray, target: float, max_steps: int = 10_000) -> np.ndarray:
    """Rounding + repair + local search (the module docstring). Mean-CVaR searches additions and removals only
    (a move between two candidates costs a CVaR per pair)."""
    x = np.floor(np.asarray(x_cont) + 1e-7).astype(np.int64)
    x = np.minimum(np.maximum(x, 0), p.cap)
    while not p.feasible(x):  # numerical slack of the solver: drop units until feasible
        x[np.argmax(x)] -= 1
    n = len(x)
    swaps = p.method == "variance"
    steps = 0
    while p.mean(x) < target - 1e-9 and steps < max_steps:  # repair: reach the target mean
        ok, mean, risk = _move_table(p, x, swaps=False)
        gain = mean[n] - p.mean(x)
        score = np.where(ok[n] & (gain > 1e-12), (risk[n] - p.risk(x)) / np.where(gain > 1e-12, gain, 1), np.inf)
        score[n] = np.inf
        j = int(np.argmin(score))
        if not np.isfinite(score[j]):
            break
        x[j] += 1
        steps += 1
    floor_mean = min(target, p.mean(x))
    while steps < max_steps:  # local search: lower the risk, keep the mean
        ok, mean, risk = _move_table(p, x, swaps=swaps)
        ok = ok & (mean >= floor_mean - 1e-9)
        ok[n, n] = False
        base = p.risk(x)
        risk = np.where(ok, risk, np.inf)
        i, j = np.unravel_index(int(np.argmin(risk)), risk.shape)
        if not risk[i, j] < base - 1e-9 * max(1.0, abs(base)):
            break
        if i < n:
            x[i] -= 1
        if j < n:
            x[j] += 1
        steps += 1
    return x


# ---------------------------------------------------------------------------------------------- the frontier


@dataclass
class Frontier:
    method: str
    points: list[dict]  # sorted by risk; each: units, mean, sd, cvar, cost, risk
    current: dict
    rule: Rule
    portfolio: float
    budget: float


def frontier(p: Problem, points: int = 12, min_return: float | None = None) -> Frontier:
    """The efficient integer points between the least risky allocation and the highest mean."""
    check_problem(p)
    zero = np.zeros_like(p.held)
    solver = _Solver(p)
    x_hi = solver.highest_mean()
    x_lo = solver.least_risk()
    if x_hi is None or x_lo is None:
        raise portfolio_problem("infeasible", why="the solver found no allocation within the limits")
    hi = solver.highest_mean_whole_units(p)
    if hi is None:  # no MILP answer: round the linear program's and fill greedily
        hi = _greedy_mean(p, integerize(p, x_hi, -np.inf))
    t_hi = p.mean(hi)
    t_lo = p.mean(integerize(p, x_lo, -np.inf))
    if min_return is not None:
        if min_return > t_hi + 1e-9:
            raise portfolio_problem(
                "infeasible", why=f"the highest mean profit within the limits is {t_hi:.2f} NMR, below --min-return"
            )
        t_lo = max(t_lo, min_return)
    raw = []
    for t in np.linspace(t_lo, t_hi, max(2, points)):
        xc = solver.least_risk(float(t))
        if xc is None:
            xc = x_hi
        raw.append(integerize(p, xc, float(t)))
    raw.append(hi)
    seen, pts = set(), []
    for x in raw:
        key = tuple(int(v) for v in x)
        if key in seen:
            continue
        seen.add(key)
        d = p.describe(x)
        d["risk"] = d["sd"] if p.method == "variance" else d["cvar"]
        if min_return is not None and d["mean"] < min_return - 1e-9:
            continue
        pts.append(d)
    pts.sort(key=lambda d: (d["risk"], -d["mean"]))
    efficient, best_mean = [], -np.inf
    for d in pts:
        if d["mean"] > best_mean + 1e-9:
            efficient.append(d)
            best_mean = d["mean"]
    current = p.describe(zero)
    current["risk"] = current["sd"] if p.method == "variance" else current["cvar"]
    return Frontier(p.method, efficient, current, p.rule, p.portfolio, p.budget)


def _greedy_mean(p: Problem, x: np.ndarray) -> np.ndarray:
    """Add units by mean per NMR while feasible (the top of the frontier after rounding)."""
    order = np.argsort(-(p.mu / p.outcomes.unit_cost))
    changed = True
    while changed:
        changed = False
        for j in order:
            if p.mu[j] <= 0:
                continue
            y = x.copy()
            y[j] += 1
            if p.feasible(y):
                x, changed = y, True
    return x


def choose(f: Frontier, how: str = "ratio") -> dict:
    """A frontier point: "ratio" (the most mean per unit of risk), "min-risk", "max-return", or a number: the
    least risky point whose mean is at least that many NMR."""
    pts = f.points
    if how == "min-risk":
        return pts[0]
    if how == "max-return":
        return pts[-1]
    if how == "ratio":
        return max(pts, key=lambda d: d["mean"] / d["risk"] if d["risk"] > 1e-12 else (np.inf if d["mean"] > 0 else 0))
    try:
        target = float(how)
    except ValueError:
        raise portfolio_problem(
            "bad_option", option="--choose", why=f"{how!r}: give ratio, min-risk, max-return or a mean profit in NMR"
        ) from None
    for d in pts:
        if d["mean"] >= target - 1e-9:
            return d
    raise portfolio_problem(
        "infeasible",
        why=f"no frontier point has a mean profit of {target:g} NMR (the highest is {pts[-1]['mean']:.2f})",
    )

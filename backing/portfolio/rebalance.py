"""Rebalancing: turn a target allocation into the actions the contracts allow now, and backtest threshold- and
time-based policies over the score history.

What the contracts allow, by phase (``ALLOWED``):

* an **open** agreement takes deposits (whole units, up to capacity, until its deposit window closes) and gives
  units back (``withdraw``);
* a **locked** single agreement allows nothing until it matures: its units stay as they are;
* a **locked** series position may consent to roll into the series' next agreement (or not consent: it then
  leaves at settlement), or be transferred (sold) to another address;
* a **settled, defaulted or cancelled** agreement is claimed (a settled series position may also roll).

``plan`` never proposes anything else: a target above a locked holding waits for the next open agreement, a
target below it waits for maturity (single agreement) or declines the roll (series).

The backtest (``backtest``) replays the history's rounds in order. Each candidate is a recurring agreement on its
model (a series: lockup after lockup, back to back); a position changes only at its agreement's boundary (the
roll), where the policy's target (the chosen frontier point's weights) is applied in whole units, using the
claim and the cash. Policies: ``hold`` (roll everything, never rebalance), ``time:K`` (rebalance at the first
boundary after every K rounds), ``threshold:B`` (rebalance at the next boundary once any weight drifts more than B
from its target). Positions are marked at what they would receive if settled at the current index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backing.errors import portfolio_problem
from backing.model.agreement import ONE
from backing.montecarlo import growths
from backing.portfolio.inputs import Candidate, Inputs
from backing.portfolio.outcomes import settle_float, valued_total

#: phase -> (kind) -> the actions the contracts accept then.
ALLOWED = {
    "Open": {"agreement": {"deposit", "withdraw"}, "series": {"deposit", "withdraw"}},
    "Locked": {"agreement": {"hold"}, "series": {"hold", "consent", "decline", "transfer"}},
    "Matured": {"agreement": {"hold"}, "series": {"hold", "consent", "decline", "transfer"}},
    "Settled": {"agreement": {"claim"}, "series": {"claim", "roll"}},
    "Defaulted": {"agreement": {"claim"}, "series": {"claim"}},
    "Cancelled": {"agreement": {"claim"}, "series": {"claim"}},
}


def allowed(c: Candidate) -> set[str]:
    return ALLOWED[c.phase][c.kind]


def _command(c: Candidate, kind: str, units: int) -> str:
    target = c.series[0] if c.series else c.id
    if c.kind == "series":
        return {
            "deposit": f"backing series deposit {target} {units}",
            "withdraw": f"backing series withdraw {target} {units}",
            "consent": f"backing series consent {target}",
            "transfer": f"backing series transfer {target} POSITION NEW_OWNER",
            "claim": f"backing series claim {target}",
            "roll": f"backing series roll {target}",
        }.get(kind, "")
    return {
        "deposit": f"backing deposit {target} {units}",
        "withdraw": f"backing withdraw {target} {units}",
        "claim": f"backing claim {target}",
    }.get(kind, "")


def plan(inputs: Inputs, target: np.ndarray, now: int | None = None, allow_sales: bool = False) -> list[dict]:
    """The actions that move the holdings toward ``target`` units per candidate, as far as the contracts allow.

    @param now Unix time: an open agreement whose deposit window has closed takes no deposit (default: ignore).
    @param allow_sales Propose transferring (selling) a locked series position the target drops to zero."""
    held = inputs.held_units()
    actions = []
    for i, c in enumerate(inputs.candidates):
        delta = int(target[i]) - int(held[i])
        ok = allowed(c)
        row = {"candidate": c.id, "model": c.model, "phase": c.phase, "held": int(held[i]), "target": int(target[i])}
        if c.phase in ("Settled", "Defaulted", "Cancelled"):
            if held[i]:
                actions.append(
                    {
                        **row,
                        "action": "claim",
                        "units": int(held[i]),
                        "command": _command(c, "claim", 0),
                        "why": f"the agreement is {c.phase}: claim what it owes you",
                    }
                )
            continue
        if delta == 0:
            if c.kind == "series" and c.phase in ("Locked", "Matured") and held[i]:
                actions.append(
                    {
                        **row,
                        "action": "consent",
                        "units": int(held[i]),
                        "command": _command(c, "consent", 0),
                        "why": "keep it: consent to roll into the next agreement when it opens",
                    }
                )
            continue
        window_closed = now is not None and c.open_until is not None and now >= c.open_until
        if delta > 0:
            if "deposit" in ok and not window_closed:
                units = min(delta, c.open_units)
                if units > 0:
                    actions.append(
                        {
                            **row,
                            "action": "deposit",
                            "units": units,
                            "command": _command(c, "deposit", units),
                            "why": f"{units} unit(s) of {c.open_units} for sale"
                            + ("" if units == delta else f"; {delta - units} more wanted than are for sale"),
                        }
                    )
                    continue
            actions.append(
                {
                    **row,
                    "action": "wait",
                    "units": delta,
                    "command": "",
                    "why": "no deposit possible now ("
                    + ("deposit window closed" if window_closed else f"{c.phase}")
                    + "): add at the next open agreement",
                }
            )
            continue
        units = -delta
        if "withdraw" in ok:
            actions.append(
                {
                    **row,
                    "action": "withdraw",
                    "units": units,
                    "command": _command(c, "withdraw", units),
                    "why": "the agreement is still open: take the units back",
                }
            )
        elif "decline" in ok:
            if allow_sales and int(target[i]) == 0:
                actions.append(
                    {
                        **row,
                        "action": "transfer",
                        "units": int(held[i]),
                        "command": _command(c, "transfer", 0),
                        "why": "sell the whole position now (a buyer must accept the transfer)",
                    }
                )
            else:
                actions.append(
                    {
                        **row,
                        "action": "decline",
                        "units": units,
                        "command": "",
                        "why": "do not consent to the next roll: the position leaves at settlement"
                        + ("" if int(target[i]) == 0 else f" (then deposit {target[i]} unit(s) in the next agreement)"),
                    }
                )
        else:
            end = f" after round {c.end_round}" if c.end_round else ""
            actions.append(
                {
                    **row,
                    "action": "hold",
                    "units": units,
                    "command": "",
                    "why": f"a locked agreement cannot shrink: {units} unit(s) come back when it matures{end}; "
                    "claim then",
                }
            )
    for a in actions:  # the promise of the module: nothing the contracts refuse
        if a["action"] != "wait" and a["action"] not in allowed(inputs.candidate(a["candidate"])):
            raise RuntimeError(f"plan proposed {a['action']} on a {a['phase']} {a['candidate']}: a bug, please report")
    return actions


# ---------------------------------------------------------------------------------------------- backtest


@dataclass
class Policy:
    kind: str  # hold, time, threshold
    every: int = 0
    band: float = 0.0

    @property
    def name(self) -> str:
        return {"hold": "hold", "time": f"every {self.every} rounds", "threshold": f"drift > {self.band:g}"}[self.kind]


def parse_policy(text: str) -> Policy:
    kind, _, arg = text.partition(":")
    try:
        if kind == "hold" and not arg:
            return Policy("hold")
        if kind == "time" and int(arg) >= 1:
            return Policy("time", every=int(arg))
        if kind == "threshold" and 0 < float(arg) < 1:
            return Policy("threshold", band=float(arg))
    except ValueError:
        pass
    raise portfolio_problem(
        "bad_option", option="--policy", why=f"{text!r}: give hold, time:K (K rounds) or threshold:B (0 < B < 1)"
    )


@dataclass
class Backtest:
    policy: Policy
    rounds: np.ndarray
    value: np.ndarray  # NMR, after each round (index 0: the start)
    actions: list[dict] = field(default_factory=list)

    @property
    def final(self) -> float:
        return float(self.value[-1])

    @property
    def max_drawdown(self) -> float:
        peak = np.maximum.accumulate(self.value)
        return float(((peak - self.value) / peak).max())


def backtest(inputs: Inputs, weights: np.ndarray, capital: float, policy: Policy) -> Backtest:
    """Replay the history with target ``weights`` (fraction of the capital per candidate; the rest is cash)."""
    cands = inputs.candidates
    models = sorted({c.model for c in cands})
    hist = inputs.history.restricted(models, needed=2, where="the backtest's models")
    n_rounds = len(hist.rounds)
    cols = [hist.column(c.model) for c in cands]
    growth = [growths(hist.returns[:, col], c.exposure) / ONE for c, col in zip(cands, cols)]
    per_unit_cost = np.array([c.unit_cost / ONE for c in cands])
    totals = [valued_total(c) for c in cands]
    reserves = [c.valued_reserve(t) for c, t in zip(cands, totals)]

    lockups = np.array([c.terms.lockup_rounds for c in cands])
    # agreements run back to back from the first round whatever the policy, so each round's value of one unit
    # (settled at the index since its agreement began) is known in advance: one settle per candidate
    unit_value = np.empty((n_rounds, len(cands)))
    for i, c in enumerate(cands):
        index = np.empty(n_rounds)
        for s0 in range(0, n_rounds, int(lockups[i])):
            index[s0 : s0 + lockups[i]] = np.cumprod(growth[i][s0 : s0 + lockups[i]])
        unit_value[:, i] = settle_float(c, totals[i], reserves[i], index, None)
    fresh_value = np.array(
        [settle_float(c, t, r, np.ones(1), None)[0] for c, t, r in zip(cands, totals, reserves)]
    )  # at the index the agreement starts from

    units = np.floor(weights * capital / per_unit_cost).astype(np.int64)
    cash = capital - float(units @ per_unit_cost)
    values = [capital]
    actions = [
        {"round": int(hist.rounds[0]), "candidate": c.id, "action": "deposit", "units": int(u)}
        for c, u in zip(cands, units)
        if u
    ]
    due = np.zeros(len(cands), dtype=bool)  # a rebalance waits for this candidate's next boundary
    last_trigger = 0
    for r in range(n_rounds):
        marks = units * unit_value[r]
        total = cash + marks.sum()
        if policy.kind == "time" and r + 1 - last_trigger >= policy.every:
            due[:], last_trigger = True, r + 1
        elif policy.kind == "threshold" and not due.any() and total > 0:
            if np.abs(marks / total - weights).max() > policy.band:
                due[:] = True
        for i in np.nonzero((r + 1) % lockups == 0)[0]:
            c = cands[i]
            # the boundary: the agreement settles; the claim rolls, or the target is applied
            cash += marks[i]
            wanted = int(np.floor(weights[i] * total / per_unit_cost[i])) if due[i] else int(units[i])
            affordable = int(np.floor(cash / per_unit_cost[i] + 1e-9))
            new = max(0, min(wanted, affordable, c.terms.max_units))
            if new != units[i]:
                kind = "deposit more" if new > units[i] else "decline part of the roll"
                actions.append(
                    {"round": int(hist.rounds[r]), "candidate": c.id, "action": kind, "units": int(new - units[i])}
                )
            cash -= new * per_unit_cost[i]
            units[i] = new
            due[i] = False
        # after a boundary the new agreement has not moved yet: a unit is worth its cost less the upfront fee
        fresh = (r + 1) % lockups == 0
        marks = np.where(fresh, units * fresh_value, units * unit_value[r])
        values.append(cash + marks.sum())
    return Backtest(policy, np.concatenate([[hist.rounds[0] - 1], hist.rounds]), np.array(values), actions)

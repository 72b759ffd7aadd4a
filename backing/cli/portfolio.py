"""``backing portfolio``: a backer's portfolio of agreements (``backing.portfolio``; docs/portfolio.md).

    backing portfolio report|frontier|check|ensemble|plan|backtest|stress [inputs] [options]

Inputs from files (``--candidates FILE --history CSV [--holdings CSV]``) or from a chain (``--rpc-url``,
``--manifest``, ``--account NAME`` or ``--address 0x..``; ``--history CSV`` may replace the oracle's rounds).
Nothing is sent: ``plan`` prints the commands to run. Exit codes: 0 ok, 2 bad input; on a chain also 3-6 (node,
chain id, deployment, account).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

SECTIONS = ("report", "frontier", "check", "ensemble", "plan", "backtest", "stress")

HELP = {
    "report": "everything below, in one run",
    "frontier": "the efficient frontier (mean-variance or mean-CVaR) in whole units, and the chosen point",
    "check": "the 2%% rule against the current holdings, naming each breach",
    "ensemble": "candidates ranked by how much they diversify the holdings, in words",
    "plan": "the actions (deposit, withdraw, consent, decline, transfer) that move to the chosen point",
    "backtest": "threshold and time-based rebalancing policies replayed over the history",
    "stress": "payout factor falling, NMR/USD moving: results in NMR and USD",
}


def add_parser(commands) -> None:
    from backing.client.options import add_node

    p = commands.add_parser(
        "portfolio",
        help="a backer's portfolio: frontier, the 2%% rule, what ensembles well, rebalancing, stress",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="portfolio_section", metavar="SECTION", required=True)
    for name in SECTIONS:
        s = sub.add_parser(name, help=HELP[name], description=HELP[name].replace("%%", "%"))
        g = s.add_argument_group("inputs from files")
        g.add_argument("--candidates", metavar="FILE", help="candidates (YAML/JSON: docs/portfolio.md)")
        g.add_argument("--holdings", metavar="CSV", help="your holdings: candidate,units")
        g.add_argument("--history", metavar="CSV", help="round,model,return or round,model,corr20,mmc")
        g.add_argument("--scheme", choices=("v2", "abs"), default="v2", help="payout scheme for score CSVs")
        g.add_argument(
            "--numerai",
            action="append",
            metavar="NAME=UUID",
            help="add a public Numerai model's resolved rounds through numerapi (repeatable; needs the network)",
        )
        g.add_argument("--numerai-url", metavar="URL", help="another Numerai API endpoint (a test server)")
        add_node(s)
        g = s.add_argument_group("whose holdings (on a chain)")
        g.add_argument("--account", metavar="NAME", help="keystore name (only its address is read)")
        g.add_argument("--keystore", metavar="FILE")
        g.add_argument("--address", metavar="ADDRESS", help="any address instead of an account")
        g = s.add_argument_group("simulation")
        g.add_argument("--budget", default="0", metavar="NMR", help="NMR to allocate on top of the holdings")
        g.add_argument("--paths", type=int, default=10_000, help="joint paths (default 10000)")
        g.add_argument("--seed", type=int, default=1)
        g.add_argument("--block", type=int, default=20, help="bootstrap block in rounds (default 20)")
        g.add_argument("--exact", action="store_true", help="the contracts' integer math to the wei (slower)")
        g = s.add_argument_group("the 2% rule")
        g.add_argument("--risk-limit", type=float, default=0.02, help="share of the portfolio per model (0.02)")
        g.add_argument("--risk-measure", choices=("es", "worst", "stake"), default="es")
        g.add_argument("--risk-level", type=float, default=0.95, help="expected shortfall level (0.95)")
        g = s.add_argument_group("frontier")
        g.add_argument("--method", choices=("variance", "cvar"), default="variance")
        g.add_argument("--points", type=int, default=12)
        g.add_argument("--choose", default="ratio", help="ratio | min-risk | max-return | a mean profit in NMR")
        g.add_argument("--min-return", type=float, metavar="NMR", help="only points with at least this mean")
        g.add_argument("--cvar-paths", type=int, default=2000, help="paths in the CVaR linear program")
        g.add_argument(
            "--integer",
            choices=("round", "milp"),
            default="round",
            help="whole units by rounding + repair (default) or, with --method cvar, a mixed-integer solve (HiGHS)",
        )
        g = s.add_argument_group("rebalancing")
        g.add_argument("--policy", action="append", metavar="P", help="hold | time:K | threshold:B (repeatable)")
        g.add_argument("--allow-sales", action="store_true", help="propose selling locked series positions")
        g = s.add_argument_group("stress")
        g.add_argument("--payout-decay", type=float, default=0.02, help="payout factor fall a round (0.02)")
        g.add_argument("--stake-growth", type=float, default=0.02, help="total stake growth a round (0.02)")
        g.add_argument("--total-stake", type=float, default=288_000.0, help="NMR at risk now (assumption)")
        g.add_argument("--price", type=float, metavar="USD", help="NMR/USD now (USD results)")
        g.add_argument("--price-path", metavar="CSV", help="round,price: a given path")
        g.add_argument("--price-history", metavar="CSV", help="round,price: bootstrap its returns")
        g.add_argument("--price-vol", type=float, default=0.05, help="lognormal vol a round (0.05)")
        g = s.add_argument_group("output")
        g.add_argument("--json", metavar="OUT", help="write the results as JSON (- for stdout)")
        g.add_argument("--plot", metavar="DIR", help="write frontier.png, correlation.png, backtest.png")
        s.set_defaults(handler=run, now=None)


def _inputs(args):
    from backing.errors import portfolio_problem
    from backing.portfolio import inputs as inp

    budget = inp.parse_budget(args.budget)
    if budget < 0:
        raise portfolio_problem("bad_option", option="--budget", why="must not be negative")
    if args.candidates:
        if not args.history and not args.numerai:
            raise portfolio_problem(
                "bad_option", option="--history", why="needed with --candidates (a CSV), or --numerai NAME=UUID"
            )
        holdings = inp.load_holdings_csv(args.holdings) if args.holdings else []
        cands = inp.with_holdings_counted(inp.load_candidates_file(args.candidates), holdings)
        history = inp.load_history_csv(args.history, args.scheme) if args.history else None
        data = inp.Inputs(cands, holdings, history, budget, source=f"in {args.candidates}")
    else:
        from backing.portfolio.chain import read_inputs

        who = None
        if args.address:
            who = args.address
        elif args.account or args.keystore:
            from backing.client.wallet import account_address

            who = account_address(args)
        data = read_inputs(args, who, budget)
        if args.history:
            data.history = inp.load_history_csv(args.history, args.scheme)
    if args.numerai:
        from backing.portfolio import numerai

        extra = numerai.read_history(numerai.parse_models(args.numerai), args.numerai_url)
        data.history = numerai.merged(data.history, extra)
    data.validate()
    return data


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def compute(args) -> tuple[dict, list[str]]:
    """Every section ``args`` asks for. @return (the JSON data, the text blocks)."""
    from backing.errors import PortfolioError
    from backing.portfolio import ensemble, frontier, rebalance, risk, stress
    from backing.portfolio import report as rp
    from backing.portfolio.outcomes import simulate

    section = args.portfolio_section
    want = set(SECTIONS[1:]) if section == "report" else {section}
    data = _inputs(args)
    rule = risk.Rule(args.risk_limit, args.risk_measure, args.risk_level)
    rule.validate()
    if args.paths < 100:
        from backing.errors import portfolio_problem

        raise portfolio_problem("bad_option", option="--paths", why="at least 100 paths")
    out = simulate(data, paths=args.paths, seed=args.seed, block=args.block, exact=args.exact)
    held = data.held_units()
    ids = [c.id for c in data.candidates]
    budget = data.budget / 1e18
    portfolio = risk.portfolio_value(out, held, budget)
    result: dict = {
        "inputs": {
            "source": data.source,
            "account": data.account,
            "candidates": [
                {
                    "id": c.id,
                    "model": c.model,
                    "kind": c.kind,
                    "phase": c.phase,
                    "unit_nmr": c.unit_cost / 1e18,
                    "open_units": c.open_units,
                    "rounds_left": c.horizon,
                    "index_so_far": c.index_so_far / 1e18,
                    "held": int(h),
                    "default_probability": c.default_probability,
                }
                for c, h in zip(data.candidates, held)
            ],
            "history": {"source": out.history.source, "rounds": len(out.history.rounds), "models": out.models},
            "budget_nmr": budget,
            "paths": out.paths,
            "seed": args.seed,
            "block": args.block,
            "exact": args.exact,
            "seconds_simulating": round(out.seconds, 3),
        },
        "units": "NMR; profits at each agreement's maturity; probabilities 0..1",
    }
    texts = [
        f"{len(data.candidates)} candidates, {len(data.holdings)} holdings {data.source}; "
        f"{len(out.history.rounds)} rounds of history ({out.history.source}); {out.paths} joint paths, seed {args.seed}"
    ]
    plots = []
    chosen_units = held.copy()
    result["outcomes"] = rp.outcomes_rows(out, args.risk_level)
    if section in ("report", "frontier"):
        texts.append(rp.outcomes_text(result["outcomes"], args.risk_level))
    if want & {"frontier", "plan", "stress", "backtest"}:
        cap = np.array([c.open_units for c in data.candidates])
        problem = frontier.Problem(
            out,
            held,
            cap,
            budget,
            rule,
            method=args.method,
            cvar_level=args.risk_level,
            cvar_paths=args.cvar_paths,
            seed=args.seed,
            integer=args.integer,
        )
        try:
            f = frontier.frontier(problem, points=args.points, min_return=args.min_return)
            chosen = frontier.choose(f, args.choose)
        except PortfolioError as error:
            if section != "report":
                raise
            # the report goes on: the check below names the breach; the plan's target gives up the units over it
            f = None
            result["frontier"] = {"error": str(error)}
            texts.append(f"Efficient frontier: not computed: {error}")
            _, breaches = risk.check(out, held, portfolio, rule)
            for b in breaches:
                for cid, n in b.units_to_cut.items():
                    chosen_units[ids.index(cid)] -= n
        if f is not None:
            chosen_units = held + chosen["units"]
            result["frontier"] = {
                "method": f.method,
                "portfolio_nmr": f.portfolio,
                "rule": rule.describe(),
                "points": [{**d, "units": dict(zip(ids, map(int, d["units"])))} for d in f.points],
                "current": {k: v for k, v in f.current.items() if k != "units"},
                "chosen": {**chosen, "units": {i: int(u) for i, u in zip(ids, chosen["units"]) if u}},
            }
            if "frontier" in want:
                texts.append(rp.frontier_text(f, chosen, ids, held, args.choose))
            if args.plot:
                plots.append(rp.plot_frontier(f, chosen, Path(args.plot) / "frontier.png"))
    if "check" in want:
        rows, breaches = risk.check(out, held, portfolio, rule)
        result["check"] = {
            "rule": rule.describe(),
            "portfolio_nmr": portfolio,
            "models": rows,
            "breaches": [risk.breach_words(b, rule, portfolio) for b in breaches],
        }
        texts.append(rp.check_text(rows, breaches, rule, portfolio, risk.breach_words))
    if "ensemble" in want:
        buyable = [i for i, c in enumerate(data.candidates) if c.open_units > 0]
        rows = ensemble.rank(out, held, only=buyable or None)
        result["ensemble"] = rows
        texts.append(rp.ensemble_text(rows))
        if args.plot:
            plots.append(rp.plot_correlation(out, Path(args.plot) / "correlation.png"))
    if "plan" in want:
        actions = rebalance.plan(data, chosen_units, now=args.now, allow_sales=args.allow_sales)
        result["plan"] = actions
        texts.append(rp.plan_text(actions))
    if "backtest" in want:
        capital = float(out.unit_cost @ chosen_units)
        if capital <= 0:
            capital = portfolio
        weights = chosen_units * out.unit_cost / max(capital, 1e-12)
        policies = [rebalance.parse_policy(p) for p in (args.policy or ["hold", "time:13", "threshold:0.05"])]
        results = [rebalance.backtest(data, weights, capital, pol) for pol in policies]
        result["backtest"] = [
            {
                "policy": b.policy.name,
                "start": float(b.value[0]),
                "end": b.final,
                "max_drawdown": b.max_drawdown,
                "actions": b.actions,
                "value": [round(float(v), 6) for v in b.value],
            }
            for b in results
        ]
        texts.append(rp.backtest_text(results))
        if args.plot:
            plots.append(rp.plot_backtest(results, Path(args.plot) / "backtest.png"))
    if "stress" in want:
        scenarios = stress.default_scenarios(args.payout_decay, args.stake_growth, args.total_stake)
        given = stress.read_prices(args.price_path) if args.price_path else None
        hist = stress.read_prices(args.price_history) if args.price_history else None
        rows = stress.run(
            data,
            chosen_units,
            scenarios,
            paths=args.paths,
            seed=args.seed,
            block=args.block,
            level=args.risk_level,
            price=args.price,
            price_given=given,
            price_history=hist,
            price_vol=args.price_vol,
        )
        result["stress"] = rows
        texts.append(rp.stress_text(rows))
    if plots:
        result["plots"] = plots
        texts.append("plots: " + ", ".join(plots))
    return _jsonable(result), texts


def run(args) -> int:
    from backing.client import CliError
    from backing.errors import PortfolioError
    from backing.model.terms import TermsError

    try:
        if args.plot:
            Path(args.plot).mkdir(parents=True, exist_ok=True)
        data, texts = compute(args)
    except (PortfolioError, TermsError) as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return 2
    except CliError as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return error.code
    if args.json == "-":
        print(json.dumps(data, indent=2))
        return 0
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    print("\n\n".join(t for t in texts if t))
    return 0

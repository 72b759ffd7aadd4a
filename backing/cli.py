"""The ``backing`` command: check terms files and work out settlements offline.

    backing terms check FILE
    backing settle --terms FILE --deposits alice=1,bob=12 --final-value 140 [--reserve 50] [--repay full]

Nothing here touches a chain: ``settle`` runs the reference model (``backing.model.agreement.Agreement``), which
mirrors the contracts' integer math to the wei. Exit codes: 0 success, 2 bad input (the message goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Callable

from backing.model.agreement import Agreement, ContractError, Phase, Terms, lock_amounts
from backing.report import duration, fraction, nmr, percent, settlement_data, settlement_json, settlement_table
from backing.model.terms import TermsError, dump_terms, load_terms_file, model_uuid, nmr_to_wei

EXIT_OK = 0
EXIT_BAD_INPUT = 2

MODELLER = "modeller"
#: Party keys the reference model and the settlement table use for themselves; a backer may not take them.
RESERVED_NAMES = (MODELLER, "staking", "reserve", "total")


class InputError(ValueError):
    """Bad command-line input, with a message for the user."""


# ---------------------------------------------------------------------------------------------- terms check


def describe_terms(terms: Terms, now: int) -> list[str]:
    """The normalized terms, one line per field: the human value, then the exact on-chain value."""
    rows = [
        ("unit_size", f"{nmr(terms.unit_size)} NMR", f"{terms.unit_size} wei"),
        ("min_units", str(terms.min_units), ""),
        ("max_units", str(terms.max_units), f"capacity {nmr(terms.max_units * terms.unit_size)} NMR"),
        ("profit_share", percent(terms.profit_share_bps), f"{terms.profit_share_bps} bps"),
        ("burn_share", percent(terms.burn_share_bps), f"{terms.burn_share_bps} bps"),
        ("reserve_ratio", percent(terms.reserve_ratio_bps), f"{terms.reserve_ratio_bps} bps"),
        ("upfront_fee", percent(terms.upfront_fee_bps), f"{terms.upfront_fee_bps} bps"),
        ("lockup_rounds", str(terms.lockup_rounds), ""),
        ("open_until", f"in {duration(terms.open_until - now)}", f"unix {terms.open_until}"),
        ("wind_down", duration(terms.wind_down), f"{terms.wind_down} s"),
        ("staking_address", terms.staking_address, ""),
        ("model_id", model_uuid(terms.model_id) or "(not a model UUID)", "0x" + terms.model_id.hex()),
    ]
    for i, tier in enumerate(terms.fee_ladder):
        rows.append((f"fee_ladder[{i}]", f"from {tier.min_units} units: {percent(tier.profit_share_bps)}",
                     f"{tier.profit_share_bps} bps"))
    if not terms.fee_ladder:
        rows.append(("fee_ladder", "none", ""))
    name_width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows if r[2])  # long values without an exact column may overhang
    return [f"  {name:<{name_width}}  {value:<{value_width}}  {exact}".rstrip() for name, value, exact in rows]


def terms_on_chain(terms: Terms) -> dict:
    """The terms as the contract stores them (wei as a decimal string, so JSON readers keep every digit)."""
    return {
        "model_id": "0x" + terms.model_id.hex(),
        "unit_size": str(terms.unit_size),
        "min_units": terms.min_units,
        "max_units": terms.max_units,
        "profit_share_bps": terms.profit_share_bps,
        "burn_share_bps": terms.burn_share_bps,
        "reserve_ratio_bps": terms.reserve_ratio_bps,
        "upfront_fee_bps": terms.upfront_fee_bps,
        "lockup_rounds": terms.lockup_rounds,
        "open_until": terms.open_until,
        "wind_down": terms.wind_down,
        "staking_address": terms.staking_address,
        "fee_ladder": [{"min_units": t.min_units, "profit_share_bps": t.profit_share_bps} for t in terms.fee_ladder],
    }


def cmd_terms_check(args) -> int:
    terms = load_terms_file(args.file, args.now)
    if args.json:
        print(json.dumps({"checked_at": args.now, "terms": dump_terms(terms), "on_chain": terms_on_chain(terms)},
                         indent=2))
        return EXIT_OK
    print(f"{args.file}: terms are valid (checked at unix {args.now})")
    print("\n".join(describe_terms(terms, args.now)))
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- settle


def parse_deposits(text: str) -> dict[str, int]:
    """ "alice=1,bob=12" -> {"alice": 1, "bob": 12}; each name once, each count a whole number >= 1."""
    deposits: dict[str, int] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, count = item.partition("=")
        name, count = name.strip(), count.strip()
        if not sep or not name:
            raise InputError(f"--deposits: {item!r} is not NAME=UNITS (e.g. alice=1,bob=12)")
        if name in RESERVED_NAMES:
            raise InputError(f"--deposits: {name!r} is reserved for the table; pick another backer name")
        if name in deposits:
            raise InputError(f"--deposits: {name!r} is listed twice; give each backer once")
        if not count.isdigit() or int(count) == 0:
            raise InputError(f"--deposits: {name}'s units must be a whole number of at least 1, not {count!r}")
        deposits[name] = int(count)
    if not deposits:
        raise InputError("--deposits: give at least one backer, e.g. --deposits alice=1")
    return deposits


def _option_nmr(option: str, text: str) -> int:
    try:
        return nmr_to_wei(option, text)
    except TermsError as error:
        raise InputError(str(error)) from None


#: Errors the reference model raises while simulating -> a message in terms of the command's options.
SIMULATION_ERRORS: dict[str, Callable[[Agreement, tuple], str]] = {
    "CapacityExceeded": lambda a, args: (
        f"--deposits: the backers ask for more units than the terms allow (max_units {a.terms.max_units})"),
    "BelowMinUnits": lambda a, args: (
        f"--deposits: {args[0]} units in total; these terms need at least min_units ({args[1]}) to lock"),
    "ReserveTooSmall": lambda a, args: (
        f"--reserve ({nmr(args[0])} NMR) is below the {nmr(args[1])} NMR these terms require "
        f"(reserve_ratio {fraction(a.terms.reserve_ratio_bps)} of "
        f"{nmr(lock_amounts(a.terms, a.total_units).staked)} NMR staked)"),
    "RepaymentExceedsDue": lambda a, args: (
        f"--repay ({nmr(args[0])} NMR) is more than the amount due ({nmr(args[1])} NMR)"),
}


def simulate(terms: Terms, deposits: dict[str, int], reserve: int | None, final_value: int, repay: str,
             now: int) -> Agreement:
    """Run an agreement through deposits, lock, maturity at ``final_value``, repayment or default, and claims.

    @param reserve NMR wei the modeller posts; None posts exactly the minimum the terms require.
    @param repay "full", "none", or the amount the modeller repays, in wei.
    @return The settled (or defaulted) reference agreement, every backer claimed.
    @raise InputError when the terms reject the scenario.
    """
    agreement = Agreement(terms=terms, modeller=MODELLER)
    if reserve is None:
        reserve = terms.required_reserve(lock_amounts(terms, sum(deposits.values())).staked)
    try:
        if reserve:
            agreement.post_reserve(MODELLER, reserve)
        for backer, units in deposits.items():
            agreement.deposit(backer, units, now)
        agreement.lock(MODELLER, now, start_round=1)
        # The index ratio end/start only scales the staked capital: start = S, end = V gives exactly V
        # (mulDiv(S, V, S) == V), so the model's own maturity math runs unchanged.
        agreement.mature(now, start_index=agreement.locked.staked, end_index=final_value)
        if agreement.phase == Phase.Matured:
            outstanding = agreement.matured.amount_due - agreement.repaid
            amount = outstanding if repay == "full" else 0 if repay == "none" else repay
            if amount:
                agreement.repay(MODELLER, amount)
        if agreement.phase == Phase.Matured:
            agreement.declare_default(agreement.deadline + 1)
        for backer in deposits:
            agreement.claim(backer)
    except ContractError as error:
        explain = SIMULATION_ERRORS.get(error.name)
        raise InputError(explain(agreement, error.args_) if explain else
                         f"the agreement would reject this scenario: {error}") from None
    return agreement


def cmd_settle(args) -> int:
    terms = load_terms_file(args.terms, args.now)
    deposits = parse_deposits(args.deposits)
    final_value = _option_nmr("--final-value", args.final_value)
    reserve = None if args.reserve is None else _option_nmr("--reserve", args.reserve)
    repay = args.repay.strip().lower()
    if repay not in ("full", "none"):
        repay = _option_nmr("--repay", args.repay)
    agreement = simulate(terms, deposits, reserve, final_value, repay, args.now)

    if args.json:
        print(json.dumps({
            "terms": dump_terms(terms),
            "deposits": deposits,
            "repay": args.repay,
            "settlement": settlement_json(settlement_data(agreement)),
        }, indent=2))
        return EXIT_OK
    staked = agreement.locked.staked
    change = final_value - staked
    title = (f"What-if settlement: {nmr(staked)} NMR staked, final value {nmr(final_value)} NMR "
             f"({'+' if change > 0 else ''}{nmr(change)}), repay {args.repay}")
    print(settlement_table(agreement, title=title))
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- simulate


def cmd_simulate(args) -> int:
    """``backing simulate``: see ``backing.simulate.run_file``. 0 match, 1 mismatch, 2 rejected scenario."""
    from backing.simulate import ReferenceMismatch, ScenarioError, run_file

    try:
        result = run_file(args.scenario, json_out=args.json, plot_dir=args.plot, network_name=args.network,
                          fork_url=args.fork_url, nmr_holder=args.nmr_holder, fork_port=args.fork_port,
                          oracle_service=args.oracle_service)
    except ScenarioError as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ReferenceMismatch as error:
        print(f"backing: reference mismatch: {error}", file=sys.stderr)
        return 1
    return EXIT_OK if result.reference_match else 1


# ---------------------------------------------------------------------------------------------- parser


TERMS_FORMAT = """\
terms file (YAML or JSON); amounts in NMR, shares as fractions (0.5 or "50%"):
  unit_size: 100          min_units: 1             max_units: 50
  profit_share: 0.5       burn_share: 0.5          reserve_ratio: 0.5      upfront_fee: 0.01
  lockup_rounds: 12       open_for: 7d             wind_down: 7d
  staking_address: "0x..."                         model_id: <Numerai model UUID or 0x + 64 hex>
  fee_ladder: [{min_units: 10, profit_share: 0.4}]   (optional)
open_until: <unix time> may replace open_for."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backing",
        description="Backing Vaults for Numerai: check agreement terms and work out settlements offline,\n"
                    "with the same integer math as the contracts.",
        epilog="Exit codes: 0 success, 2 bad input (message on stderr).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    terms = commands.add_parser("terms", help="work with terms files",
                                description="Work with agreement terms files.")
    terms_commands = terms.add_subparsers(dest="terms_command", metavar="ACTION", required=True)
    check = terms_commands.add_parser(
        "check", help="validate a terms file and print it normalized",
        description="Load a terms file, run every check the contract runs at creation, and print the terms\n"
                    "in human units next to their on-chain values (wei, basis points, unix time).",
        epilog=TERMS_FORMAT, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", metavar="FILE", help="terms file (.yaml, .yml or .json)")
    check.add_argument("--json", action="store_true", help="print the normalized terms as JSON")
    _add_now(check)
    check.set_defaults(handler=cmd_terms_check)

    settle = commands.add_parser(
        "settle", help="what-if settlement for given deposits and final value (offline)",
        description="Run the reference model through deposits, lock, maturity at the given final value,\n"
                    "repayment (or default) and every backer's claim, then print who paid and received what.\n"
                    "No chain is involved.",
        epilog="example:\n  backing settle --terms seed.yaml --deposits alice=1,bob=12,carol=3 "
               "--final-value 1900 --repay full\n\n" + TERMS_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    settle.add_argument("--terms", required=True, metavar="FILE", help="terms file (.yaml, .yml or .json)")
    settle.add_argument("--deposits", required=True, metavar="NAME=UNITS,...",
                        help="backers and their units, e.g. alice=1,bob=12")
    settle.add_argument("--final-value", required=True, metavar="NMR",
                        help="what the staked capital is worth after the lockup, in NMR (e.g. 140 or 79.5)")
    settle.add_argument("--reserve", metavar="NMR",
                        help="reserve the modeller posts, in NMR (default: the minimum the terms require)")
    settle.add_argument("--repay", default="full", metavar="full|none|NMR",
                        help="what the modeller repays: the whole amount due (full, the default), nothing "
                             "(none: he defaults), or an amount in NMR (less than due means a default)")
    settle.add_argument("--json", action="store_true",
                        help="print the settlement as JSON (amounts as exact decimal NMR strings)")
    _add_now(settle)
    settle.set_defaults(handler=cmd_settle)

    simulate = commands.add_parser(
        "simulate", help="play a scenario through the real contracts on a local chain (or a fork)",
        description="Deploy the contracts on a local chain (ganache by default), play a scenario file through\n"
                    "them, check every result against the reference model to the wei and print a settlement\n"
                    "table per agreement. Exit codes: 0 reference match, 1 mismatch, 2 the scenario is invalid or\n"
                    "the contracts reject one of its steps (the reason in plain words).",
        epilog="examples:\n  backing simulate examples/scenarios/seed-gain-repaid.yaml --json out.json --plot plots\n"
               "  backing simulate SCENARIO --fork-url https://mainnet.example/KEY --nmr-holder 0x...\n"
               "scenario format: see backing/simulate.py and examples/scenarios/.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    simulate.add_argument("scenario", metavar="SCENARIO", help="scenario file (.yaml, .yml or .json)")
    simulate.add_argument("--json", metavar="OUT", help="write the results as JSON (amounts as exact NMR strings)")
    simulate.add_argument("--plot", metavar="DIR", help="write value_path.png and who_got_what.png into DIR")
    simulate.add_argument("--network", default="ganache-cli", metavar="NAME",
                          help="brownie network to run on (default ganache-cli: brownie starts ganache)")
    simulate.add_argument("--fork-url", metavar="URL",
                          help="run on a ganache fork of this RPC URL (mainnet: real NMR at its mainnet address)")
    simulate.add_argument("--nmr-holder", metavar="ADDRESS",
                          help="with --fork-url: an NMR holder to impersonate; funds backers, reserve and payouts")
    simulate.add_argument("--fork-port", type=int, default=8555, metavar="PORT",
                          help="with --fork-url: loopback port of the forked ganache (default 8555)")
    simulate.add_argument("--oracle-service", action="store_true",
                          help="report the rounds through the oracle service (backing oracle run) reading them "
                               "from a local fake Numerai API, instead of signing them directly")
    simulate.set_defaults(handler=cmd_simulate, now=None)
    from backing.montecarlo import add_parser as add_montecarlo_parser  # `backing montecarlo`: its own module
    add_montecarlo_parser(commands)
    from backing.client.commands import add_parsers as add_chain_parsers  # the chain commands (backing.client)
    add_chain_parsers(commands)
    return parser


def _add_now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--now", type=int, default=None, metavar="UNIX",
                        help="check the terms as of this unix time (default: the clock); open_for counts from it")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``backing`` console script. @return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["oracle"]:  # `backing oracle ...`: the oracle service has its own parser (oracle.cli)
        from oracle.cli import main as oracle_main

        return oracle_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.now is None:
        args.now = int(time.time())
    try:
        return args.handler(args)
    except (TermsError, InputError) as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())

"""``backing settle``: a what-if settlement, offline, through the reference model.

    backing settle --terms FILE --deposits alice=1,bob=12 --final-value 140 [--reserve 50] [--repay full]

Nothing here touches a chain: the reference model (``backing.model.agreement.Agreement``) mirrors the contracts'
integer math to the wei; a step it refuses is reported through ``backing.errors`` in terms of the options.
"""

from __future__ import annotations

import argparse
import json

from backing.cli.common import EXIT_OK, TERMS_FORMAT, InputError, add_now
from backing.errors import Context, plain
from backing.model.agreement import Agreement, ContractError, Phase, Terms, lock_amounts
from backing.model.terms import TermsError, dump_terms, load_terms_file, nmr_to_wei
from backing.report import nmr, settlement_data, settlement_json, settlement_table

MODELLER = "modeller"
#: Party keys the reference model and the settlement table use for themselves; a backer may not take them.
RESERVED_NAMES = (MODELLER, "staking", "reserve", "total")
#: The options that stand for the amounts a contract error may be about (the message names the one to change).
OPTIONS = {"deposits": "--deposits", "reserve": "--reserve", "repayment": "--repay"}


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


def simulate(
    terms: Terms, deposits: dict[str, int], reserve: int | None, final_value: int, repay: str, now: int
) -> Agreement:
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
        # the deposits first: a reserve posted earlier would cap them (DepositBeyondReserve), and the calculator's
        # question is whether this reserve lets these deposits lock
        for backer, units in deposits.items():
            agreement.deposit(backer, units, now)
        if reserve:
            agreement.post_reserve(MODELLER, reserve)
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
        context = Context(terms=agreement.terms, units=agreement.total_units, options=OPTIONS)
        raise InputError(plain(error.name, error.args_, context)) from None
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
        print(
            json.dumps(
                {
                    "terms": dump_terms(terms),
                    "deposits": deposits,
                    "repay": args.repay,
                    "settlement": settlement_json(settlement_data(agreement)),
                },
                indent=2,
            )
        )
        return EXIT_OK
    staked = agreement.locked.staked
    change = final_value - staked
    title = (
        f"What-if settlement: {nmr(staked)} NMR staked, final value {nmr(final_value)} NMR "
        f"({'+' if change > 0 else ''}{nmr(change)}), repay {args.repay}"
    )
    print(settlement_table(agreement, title=title))
    return EXIT_OK


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``backing settle`` on the CLI's subcommand set."""
    settle = commands.add_parser(
        "settle",
        help="what-if settlement for given deposits and final value (offline)",
        description="Run the reference model through deposits, lock, maturity at the given final value,\n"
        "repayment (or default) and every backer's claim, then print who paid and received what.\n"
        "No chain is involved.",
        epilog="example:\n  backing settle --terms seed.yaml --deposits alice=1,bob=12,carol=3 "
        "--final-value 1900 --repay full\n\n" + TERMS_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    settle.add_argument("--terms", required=True, metavar="FILE", help="terms file (.yaml, .yml or .json)")
    settle.add_argument(
        "--deposits", required=True, metavar="NAME=UNITS,...", help="backers and their units, e.g. alice=1,bob=12"
    )
    settle.add_argument(
        "--final-value",
        required=True,
        metavar="NMR",
        help="what the staked capital is worth after the lockup, in NMR (e.g. 140 or 79.5)",
    )
    settle.add_argument(
        "--reserve", metavar="NMR", help="reserve the modeller posts, in NMR (default: the minimum the terms require)"
    )
    settle.add_argument(
        "--repay",
        default="full",
        metavar="full|none|NMR",
        help="what the modeller repays: the whole amount due (full, the default), nothing "
        "(none: he defaults), or an amount in NMR (less than due means a default)",
    )
    settle.add_argument(
        "--json", action="store_true", help="print the settlement as JSON (amounts as exact decimal NMR strings)"
    )
    add_now(settle)
    settle.set_defaults(handler=cmd_settle)
    return settle

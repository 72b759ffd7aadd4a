"""``backing terms check FILE``: validate a terms file and print it normalized (human and on-chain values)."""

from __future__ import annotations

import argparse
import json

from backing.cli.common import EXIT_OK, TERMS_FORMAT, add_now
from backing.model.agreement import Terms
from backing.model.terms import (
    dump_series_terms,
    dump_terms,
    is_series_terms,
    load_series_terms,
    load_terms,
    model_uuid,
    read_terms_file,
)
from backing.report import duration, nmr, percent


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
        rows.append(
            (
                f"fee_ladder[{i}]",
                f"from {tier.min_units} units: {percent(tier.profit_share_bps)}",
                f"{tier.profit_share_bps} bps",
            )
        )
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


def describe_series_terms(terms) -> list[str]:
    """The series' own terms in words: high-water mark, clawback escrow, commitment options."""
    lines = [
        "  high_water_mark  on: each position pays a profit fee only on the series price above its mark (the "
        "price it last paid at)"
    ]
    if terms.clawback_bps:
        lines.append(
            f"  clawback         {percent(terms.clawback_bps)} of each profit fee held in escrow for "
            f"{terms.clawback_agreements} agreement(s), to cover that position's later losses first  "
            f"{terms.clawback_bps} bps"
        )
    else:
        lines.append("  clawback         none (every profit fee goes to the modeller at settlement)")
    for i, c in enumerate(terms.commitments):
        lines.append(
            f"  commitments[{i}]   commit to {c.agreements} agreements: {percent(c.profit_share_bps)} "
            f"profit share (or the tier, if lower)  {c.profit_share_bps} bps"
        )
    if not terms.commitments:
        lines.append("  commitments      none")
    return lines


def series_on_chain(terms) -> dict:
    """openAgreement's series arguments, as the contract stores them."""
    return {
        "clawback_bps": terms.clawback_bps,
        "clawback_agreements": terms.clawback_agreements,
        "commitments": [
            {"agreements": c.agreements, "profit_share_bps": c.profit_share_bps} for c in terms.commitments
        ],
    }


def cmd_terms_check(args) -> int:
    raw = read_terms_file(args.file)
    series = args.series or is_series_terms(raw)
    if series:
        series_terms = load_series_terms(raw, args.now)
        terms = series_terms.base
    else:
        terms = load_terms(raw, args.now)
    if args.json:
        data = {
            "checked_at": args.now,
            "kind": "series" if series else "agreement",
            "terms": dump_series_terms(series_terms) if series else dump_terms(terms),
            "on_chain": terms_on_chain(terms),
        }
        if series:
            data["on_chain"]["series"] = series_on_chain(series_terms)
        print(json.dumps(data, indent=2))
        return EXIT_OK
    kind = "series terms (one agreement of a series)" if series else "terms"
    print(f"{args.file}: {kind} are valid (checked at unix {args.now})")
    print("\n".join(describe_terms(terms, args.now)))
    if series:
        print("\n".join(describe_series_terms(series_terms)))
    return EXIT_OK


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``backing terms`` (``check``) on the CLI's subcommand set."""
    terms = commands.add_parser("terms", help="work with terms files", description="Work with agreement terms files.")
    terms_commands = terms.add_subparsers(dest="terms_command", metavar="ACTION", required=True)
    check = terms_commands.add_parser(
        "check",
        help="validate a terms file and print it normalized",
        description="Load a terms file, run every check the contract runs at creation, and print the terms\n"
        "in human units next to their on-chain values (wei, basis points, unix time).",
        epilog=TERMS_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", metavar="FILE", help="terms file (.yaml, .yml or .json)")
    check.add_argument("--json", action="store_true", help="print the normalized terms as JSON")
    check.add_argument(
        "--series",
        action="store_true",
        help="check them as a series agreement's terms (implied "
        "by clawback, commitments or high_water_mark in the file)",
    )
    add_now(check)
    check.set_defaults(handler=cmd_terms_check)
    return terms

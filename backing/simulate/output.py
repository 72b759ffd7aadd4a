"""What a simulation reports: the JSON (``to_json``), the terminal tables and the PNG plots, for single agreements
and series alike."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from backing.model.agreement import (
    Phase,
)
from backing.report import nmr, settlement_data, settlement_table
from backing.simulate.single import Result

# ---------------------------------------------------------------------------------------------- output


def to_json(result: Result) -> dict:
    """The results in issue 5's schema (amounts as exact decimal NMR strings), plus a few extra fields."""
    agreements = []
    totals_backers: dict[str, dict[str, int]] = {}
    modeller = {"fees": 0, "upfront_fees": 0, "reserve_lost": 0}
    for item in result.agreements:
        if item.get("series"):
            agreements.append(_series_json(item, totals_backers, modeller))
            continue
        agreement = item["chain"]
        summary = agreement.summary()
        data = settlement_data(agreement, item["labels"], item["staking"])
        rows = {row["party"]: row for row in data["rows"]}
        backers = {}
        for name_, address in item["backers"].items():
            row = rows[address]
            backers[name_] = {
                "units": row["units"],
                "deposited": nmr(row["paid_in"]),
                "received": nmr(row["received"]),
                "rolled": "0",
            }
            total = totals_backers.setdefault(name_, {"deposited": 0, "received": 0})
            total["deposited"] += row["paid_in"]
            total["received"] += row["received"]
        modeller["fees"] += summary["fees_kept"]
        modeller["upfront_fees"] += summary["upfront_fee"]
        modeller["reserve_lost"] += summary["reserve_used"]
        staked = summary["staked"]
        agreements.append(
            {
                "address": item["address"],
                "phase": summary["phase"],
                "rounds": [item["start"], item["end"]],
                "staked": nmr(staked),
                "final_value": nmr(summary["final_value"]),
                "amount_due": nmr(summary["amount_due"]),
                "fees": nmr(summary["fees_kept"]),
                "upfront_fees": nmr(summary["upfront_fee"]),
                "repaid": nmr(summary["repaid"]),
                "reserve": nmr(summary["reserve"]),
                "reserve_used": nmr(summary["reserve_used"]),
                "reserve_returned": nmr(summary["reserve_returned"]),
                "dust": nmr(data["header"]["dust"]),
                "value_path": [nmr(staked * i // item["path"][0]) if item["path"][0] else "0" for i in item["path"]],
                "backers": backers,
            }
        )
    return {
        "scenario": result.scenario.name,
        "agreements": agreements,
        "totals": {
            "backers": {n: {k: nmr(v) for k, v in t.items()} for n, t in totals_backers.items()},
            "modeller": {k: nmr(v) for k, v in modeller.items()},
        },
        "model_attested": result.model_attested,
        "reference_match": result.reference_match,
        "checks": len(result.checks),
        "mismatches": [{"what": w, "chain": repr(c), "reference": repr(r)} for w, c, r in result.mismatches],
    }


def tables(result: Result) -> str:
    parts = []
    for item in result.agreements:
        if item.get("series"):
            rounds = f"rounds {item['start']} to {item['end']}" if item["start"] is not None else "never locked"
            parts.append(
                series_table(item, f"{result.scenario.name}: agreement {item['number']} of the series " f"({rounds})")
            )
            continue
        title = f"{result.scenario.name}: agreement {item['number']} (rounds {item['start']} to {item['end']})"
        parts.append(settlement_table(item["chain"], item["labels"], staking=item["staking"], title=title))
    return "\n\n".join(parts)


def plot(result: Result, directory: str | Path) -> list[Path]:
    """``value_path.png`` (each agreement's staked capital along its index) and ``who_got_what.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = to_json(result)
    written = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for item, summary in zip(result.agreements, data["agreements"]):
        if not item["path"]:
            continue
        xs = list(range(item["start"] - 1, item["end"] + 1))
        ax.plot(
            xs,
            [float(Decimal(v)) for v in summary["value_path"]],
            marker="o",
            markersize=3,
            label=f"agreement {item['number']} (V = {Decimal(summary['final_value']):.2f} NMR)",
        )
        ax.axhline(float(Decimal(summary["staked"])), color="grey", linewidth=0.5, linestyle=":")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round")
    ax.set_ylabel("value of the staked capital (NMR)")
    ax.set_title(f"{result.scenario.name}: value path (staked capital x index)")
    ax.legend()
    fig.tight_layout()
    path = directory / "value_path.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)

    names = list(data["totals"]["backers"])
    labels = [*names, "modeller fees", "modeller upfront fees", "modeller reserve lost"]
    paid = [float(Decimal(data["totals"]["backers"][n]["deposited"])) for n in names] + [0, 0, 0]
    got = (
        [float(Decimal(data["totals"]["backers"][n]["received"])) for n in names]
        + [float(Decimal(data["totals"]["modeller"][k])) for k in ("fees", "upfront_fees")]
        + [-float(Decimal(data["totals"]["modeller"]["reserve_lost"]))]
    )
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], paid, width=0.4, label="deposited")
    ax.bar([x + 0.2 for x in xs], got, width=0.4, label="received (reserve lost: negative)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=20, ha="right")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_ylabel("NMR")
    ax.set_title(f"{result.scenario.name}: who got what (all agreements)")
    ax.legend()
    fig.tight_layout()
    path = directory / "who_got_what.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    return written


def _series_numbers(item: dict) -> dict:
    """An agreement of a series in the numbers the table and JSON show (wei), from the (checked) model."""
    a = item["agreement"]
    locked = a.locked
    upfront = locked.upfront_fee if locked else 0
    staked = locked.staked if locked else 0
    matured = a.phase in (Phase.Matured, Phase.Settled, Phase.Defaulted)
    held = sum(p.held_new for p in a.positions.values()) if a.phase == Phase.Settled and a.gain else 0
    fees = (a.value - a.due) if a.phase == Phase.Settled and a.gain else 0
    clawback = (
        sum(p.clawback for p in a.positions.values()) if a.phase == Phase.Settled and matured and not a.gain else 0
    )
    capital = sum(b["deposited"] + b["rolled_in"] for b in item["books"].values())
    return {
        "phase": a.phase.name,
        "capital": capital,
        "upfront_fee": upfront,
        "staked": staked,
        "final_value": a.value if matured else None,
        "amount_due": a.due if matured else None,
        "repaid": a.repaid,
        "fees": fees,
        "held": held,
        "clawback": clawback,
        "reserve": a.reserve,
        "reserve_used": a.reserve_used,
        "reserve_returned": a.reserve_returned,
        "dust": a.swept,
        "price": (a.p_start, a.p_end if matured else None),
        "default_pool": a.default_pool if a.phase == Phase.Defaulted else None,
    }


def series_table(item: dict, title: str) -> str:
    """An agreement of a series: the header and, per backer, what went in (fresh and rolled) and came out."""
    n = _series_numbers(item)
    terms = item["terms"].base

    def amount(value):
        return "-" if value is None else f"{nmr(value)} NMR"

    rolled_in = sum(b["rolled_in"] for b in item["books"].values())
    header = [
        ("phase", n["phase"]),
        (
            "capital pooled",
            f"{amount(n['capital'])} ({amount(n['capital'] - rolled_in)} fresh, "
            f"{amount(rolled_in)} rolled in; units of {nmr(terms.unit_size)} NMR)",
        ),
        ("series price", f"{nmr(n['price'][0])} -> " + ("-" if n["price"][1] is None else nmr(n["price"][1]))),
        ("upfront fee", amount(n["upfront_fee"])),
        ("staked", amount(n["staked"])),
        ("final value", amount(n["final_value"])),
        ("amount due", amount(n["amount_due"])),
        ("repaid", amount(n["repaid"])),
        ("fees kept by modeller", amount(n["fees"])),
        ("fees held in escrow", amount(n["held"])),
        ("clawback paid to backers", amount(n["clawback"])),
        ("reserve posted", amount(n["reserve"])),
        ("reserve used", amount(n["reserve_used"])),
        ("reserve returned", amount(n["reserve_returned"])),
    ]
    if n["default_pool"] is not None:
        header.append(("default pool", amount(n["default_pool"])))
    header.append(
        (
            "swept to modeller",
            f"{amount(n['dust'])} (rounding dust; after a loss also the reserve the " f"clawbacks spared)",
        )
    )
    width = max(len(k) for k, _ in header)
    lines = [title, "=" * len(title)] + [f"  {k:<{width}}  {v}" for k, v in header] + [""]
    columns = ["party", "units", "paid in", "rolled in", "received", "rolled on", "net"]
    body = []
    for name_, b in item["books"].items():
        net = b["received"] + b["rolled"] - b["deposited"] - b["rolled_in"]
        body.append(
            [
                name_,
                str(b["units"]) if b["units"] else "",
                nmr(b["deposited"]),
                nmr(b["rolled_in"]),
                nmr(b["received"]),
                nmr(b["rolled"]),
                f"+{nmr(net)}" if net > 0 else nmr(net),
            ]
        )
    widths = [max(len(row[i]) for row in [columns, *body]) for i in range(len(columns))]

    def render(cells):
        return "  " + "  ".join([f"{cells[0]:<{widths[0]}}", *[f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:])]])

    lines += [render(columns), "  " + "  ".join("-" * w for w in widths), *map(render, body)]
    return "\n".join(lines)


def _series_json(item: dict, totals_backers: dict, modeller: dict) -> dict:
    """One agreement of a series in ``to_json``'s schema (plus rolled_in, fees_held, clawback, series price)."""
    n = _series_numbers(item)
    backers = {}
    for name_, b in item["books"].items():
        backers[name_] = {
            "units": b["units"],
            "deposited": nmr(b["deposited"]),
            "received": nmr(b["received"]),
            "rolled": nmr(b["rolled"]),
            "rolled_in": nmr(b["rolled_in"]),
        }
        total = totals_backers.setdefault(name_, {"deposited": 0, "received": 0})
        total["deposited"] += b["deposited"]
        total["received"] += b["received"]
    modeller["fees"] += n["fees"]
    modeller["upfront_fees"] += n["upfront_fee"]
    modeller["reserve_lost"] += n["reserve_used"]
    path, staked = item["path"], n["staked"]
    return {
        "address": item["address"],
        "series_index": item["index"],
        "phase": n["phase"],
        "rounds": [item["start"], item["end"]],
        "staked": nmr(staked),
        "final_value": nmr(n["final_value"] or 0),
        "amount_due": nmr(n["amount_due"] or 0),
        "fees": nmr(n["fees"]),
        "fees_held": nmr(n["held"]),
        "clawback": nmr(n["clawback"]),
        "upfront_fees": nmr(n["upfront_fee"]),
        "repaid": nmr(n["repaid"]),
        "reserve": nmr(n["reserve"]),
        "reserve_used": nmr(n["reserve_used"]),
        "reserve_returned": nmr(n["reserve_returned"]),
        "dust": nmr(n["dust"]),
        "price": [nmr(n["price"][0]), None if n["price"][1] is None else nmr(n["price"][1])],
        "value_path": [nmr(staked * i // path[0]) if path[0] else "0" for i in path] if path else [],
        "backers": backers,
    }

"""Formatting shared by the ``backing`` CLI and the demo script.

Amounts stay integers (wei) until the very last step, where ``nmr`` renders them as exact decimal strings; no
float is involved anywhere. ``settlement_data`` turns a ``backing.model.agreement.Agreement`` into one row per party
plus a header of totals, and ``settlement_table`` lays that out as fixed-width text. The same functions render the
reference model's result and results collected from the chain (``backing.onchain.agreement.agreement_from_chain``
fills an
``Agreement`` from balances and events), so both print identically and can be compared field by field.
"""

from __future__ import annotations

from decimal import Decimal

from backing.model.agreement import BPS, Agreement, Phase
from oracle.units import fixed_decimal

#: Decimals of NMR (the contract's ``decimals`` is 18).
NMR_DECIMALS = 18
#: The key ``backing.model.agreement.Agreement`` uses for the modeller's staking wallet in ``transfers``.
STAKING = "staking"


nmr = fixed_decimal  # exact decimal NMR of an amount in wei (the oracle's fixed-point rendering)


def fraction(bps: int) -> str:
    """Basis points as an exact decimal fraction string: 5000 -> "0.5", 12345 -> "1.2345", 0 -> "0"."""
    text = format(Decimal(bps) / BPS, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(bps: int) -> str:
    """Basis points as a percentage string: 5000 -> "50%", 1 -> "0.01%"."""
    text = format(Decimal(bps) / 100, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text}%"


def duration(seconds: int) -> str:
    """Seconds as a compact duration: 604800 -> "7d", 131400 -> "1d12h30m", 0 -> "0s"."""
    parts = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


# ---------------------------------------------------------------------------------------------- settlement


def settlement_data(agreement: Agreement, labels: dict | None = None, staking: str = STAKING) -> dict:
    """What every party paid into and received from ``agreement``, plus the totals behind it (all in wei).

    Rows (each with ``party``, ``label``, ``units``, ``paid_in``, ``received``, ``net``):
      * one per backer: paid in = his deposit (units * unit size), received = his claim;
      * ``modeller``: paid in = the repayment he made, received = the upfront fee plus the rounding dust swept
        to him after the last claim;
      * ``reserve``: the modeller's reserve, paid in = posted, received = returned to him;
      * the staking wallet (``staking``): received = the staked capital at lock;
      * any other address that repaid on the modeller's behalf.
    ``total`` sums the rows; its net is minus what the agreement still holds (0 once everything is claimed).

    The modeller's own flows are split from the reserve's using the agreement's records (the modeller is assumed
    not to be a backer of his own agreement). Dust is derived from conservation of NMR: everything paid in,
    minus everything paid out other than the sweep, minus what is still held.

    @param agreement A reference-model agreement, or one filled from the chain in the same shape.
    @param labels Display names by party key (e.g. address -> "alice"); parties default to their key.
    @param staking The key of the modeller's staking wallet in ``agreement.transfers``.
    @return {"header": {...}, "rows": [...], "total": {...}, "modeller_result": int | None}
    """
    labels = labels or {}
    summary = agreement.summary()
    terms = agreement.terms
    transfers = agreement.transfers
    locked = agreement.locked
    matured = agreement.matured

    backers = [b for b in agreement.units if b not in (agreement.modeller, staking)]
    backer_received_total = 0
    rows = []
    for backer in backers:
        units = agreement.units.get(backer, 0)
        paid_in = units * terms.unit_size  # net of withdrawals: what stayed in at lock
        received = transfers.get(backer, 0) + paid_in
        backer_received_total += received
        rows.append(_row(backer, labels.get(backer, backer), units, paid_in, received))

    upfront_fee = locked.upfront_fee if locked else 0
    staked = locked.staked if locked else 0
    capital = agreement.total_units * terms.unit_size
    held = agreement.balance
    dust = (
        capital
        + agreement.reserve
        + agreement.repaid
        - upfront_fee
        - staked
        - agreement.reserve_returned
        - backer_received_total
        - held
    )
    modeller_flow = transfers.get(agreement.modeller, 0)
    modeller_repaid = upfront_fee + dust + agreement.reserve_returned - agreement.reserve - modeller_flow
    rows.append(
        _row(agreement.modeller, labels.get(agreement.modeller, "modeller"), None, modeller_repaid, upfront_fee + dust)
    )
    rows.append(_row("reserve", "reserve", None, agreement.reserve, agreement.reserve_returned))
    if staking in transfers:
        rows.append(_row(staking, labels.get(staking, "staking wallet"), None, staked - transfers[staking], staked))
    for party, flow in transfers.items():
        if party in backers or party in (agreement.modeller, staking):
            continue
        # someone else repaid on the modeller's behalf
        rows.append(_row(party, labels.get(party, party), None, max(0, -flow), max(0, flow)))

    total = {
        "paid_in": sum(r["paid_in"] for r in rows),
        "received": sum(r["received"] for r in rows),
    }
    total["net"] = total["received"] - total["paid_in"]

    # The modeller's overall result counts his staking wallet: it got S at lock and Numerai turned it into V.
    modeller_result = None
    if matured is not None:
        modeller_result = modeller_flow + transfers.get(staking, 0) + matured.final_value - staked
    header = {
        "phase": summary["phase"],
        "unit_size": terms.unit_size,
        "total_units": agreement.total_units,
        "capital": capital,
        "upfront_fee": upfront_fee,
        "staked": staked,
        "final_value": summary["final_value"],
        "amount_due": summary["amount_due"],
        "repaid": agreement.repaid,
        "fees_kept": summary["fees_kept"],
        "reserve_posted": agreement.reserve,
        "reserve_used": agreement.reserve_used,
        "reserve_returned": agreement.reserve_returned,
        "default_pool": agreement.default_pool if agreement.phase == Phase.Defaulted else None,
        "dust": dust,
        "still_held": held,
    }
    return {"header": header, "rows": rows, "total": total, "modeller_result": modeller_result}


def _row(party: str, label: str, units: int | None, paid_in: int, received: int) -> dict:
    return {
        "party": party,
        "label": label,
        "units": units,
        "paid_in": paid_in,
        "received": received,
        "net": received - paid_in,
    }


def settlement_json(data: dict) -> dict:
    """``settlement_data``'s result with every wei amount as an exact decimal NMR string (for JSON output)."""
    amount_keys = {
        "unit_size",
        "capital",
        "upfront_fee",
        "staked",
        "final_value",
        "amount_due",
        "repaid",
        "fees_kept",
        "reserve_posted",
        "reserve_used",
        "reserve_returned",
        "default_pool",
        "dust",
        "still_held",
        "paid_in",
        "received",
        "net",
        "modeller_result",
    }

    def convert(key, value):
        if isinstance(value, dict):
            return {k: convert(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(key, v) for v in value]
        if key in amount_keys and isinstance(value, int):
            return nmr(value)
        return value

    return convert(None, data)


def settlement_table(
    agreement: Agreement, labels: dict | None = None, staking: str = STAKING, title: str | None = None
) -> str:
    """A readable fixed-width settlement: a header block of totals, then one row per party (amounts in NMR).

    @param agreement A reference-model agreement, or one filled from the chain in the same shape.
    @param labels Display names by party key (e.g. address -> "alice").
    @param staking The key of the modeller's staking wallet in ``agreement.transfers``.
    @param title Optional first line.
    @return The table as text, without a trailing newline.
    """
    data = settlement_data(agreement, labels, staking)
    h = data["header"]
    lines = []
    if title:
        lines += [title, "=" * len(title)]

    def amount(value):
        return "-" if value is None else f"{nmr(value)} NMR"

    header = [
        ("phase", h["phase"]),
        ("capital pooled", f"{amount(h['capital'])} ({h['total_units']} units of {nmr(h['unit_size'])} NMR)"),
        ("upfront fee", amount(h["upfront_fee"])),
        ("staked", amount(h["staked"])),
        ("final value", amount(h["final_value"])),
        ("amount due", amount(h["amount_due"])),
        ("repaid", amount(h["repaid"])),
        ("fees kept by modeller", amount(h["fees_kept"])),
        ("reserve posted", amount(h["reserve_posted"])),
        ("reserve used", amount(h["reserve_used"])),
        ("reserve returned", amount(h["reserve_returned"])),
    ]
    if h["default_pool"] is not None:
        header.append(("default pool", amount(h["default_pool"])))
    header.append(("dust to modeller", f"{h['dust']} wei"))
    if h["still_held"]:
        header.append(("still held", amount(h["still_held"])))
    width = max(len(name) for name, _ in header)
    lines += [f"  {name:<{width}}  {value}" for name, value in header]
    lines.append("")

    columns = ["party", "units", "paid in", "received", "net"]
    body = [
        [
            r["label"],
            "" if r["units"] is None else str(r["units"]),
            nmr(r["paid_in"]),
            nmr(r["received"]),
            _signed(r["net"]),
        ]
        for r in data["rows"]
    ]
    total = data["total"]
    footer = ["total", "", nmr(total["paid_in"]), nmr(total["received"]), _signed(total["net"])]
    widths = [max(len(row[i]) for row in [columns, footer, *body]) for i in range(len(columns))]

    def render(cells):
        first = f"{cells[0]:<{widths[0]}}"
        rest = [f"{cell:>{w}}" for cell, w in zip(cells[1:], widths[1:])]
        return "  " + "  ".join([first, *rest]).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    lines += [render(columns), rule, *map(render, body), rule, render(footer)]
    if data["modeller_result"] is not None:
        lines.append("")
        lines.append(
            f"  modeller's result, counting the final value left in his staking wallet: "
            f"{_signed(data['modeller_result'])} NMR"
        )
    return "\n".join(lines)


def _signed(wei: int) -> str:
    return f"+{nmr(wei)}" if wei > 0 else nmr(wei)

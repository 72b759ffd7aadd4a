"""The modeller's and the backer's commands on a series (a modeller's successive agreements for one model).

    backing series create TERMS | open SERIES TERMS-or-INDEX | list | show SERIES
    backing series reserve|lock|mature|repay|cancel|default|execute-roll|collect SERIES ...
    backing series deposit|withdraw|claim|roll|consent|transfer|accept-transfers SERIES ...

The backer's series actions live under ``backing series`` (not the top-level ``deposit``/``claim`` of single
agreements): a series position has an id, a commitment and a roll, which the agreement commands do not have.
``backing position`` lists both kinds. Every amount is in NMR as typed and printed exactly (to the wei);
``--json`` prints wei as decimal strings. A series address must belong to the manifest's SeriesFactory.
The terms of each agreement are read from the series' ``AgreementOpened`` events (the contract keeps them packed).
"""

from __future__ import annotations

from backing.client import EXIT_DEPLOYMENT, EXIT_REFUSED, EXIT_USAGE, CliError
from backing.client.chainread import (
    ZERO,
    address_arg,
    amount,
    chain_now,
    check_balance,
    events,
    model_label,
    with_allowance,
)
from backing.client.contracts import abi
from backing.client.errors import PHASES, explain
from backing.client.node import load_deployment
from backing.client.options import command_parser, handler, print_json, sender
from backing.client.tx import Call, nmr
from backing.model.agreement import BPS, FeeTier, Terms
from backing.model.series import Commitment, SeriesTerms
from backing.model.terms import (
    dump_series_terms,
    expects_commitments,
    load_series_terms,
    load_series_terms_file,
    read_terms_file,
)

KIND = "BackingSeries"
ALL = 2**256 - 1  # roll: the whole claim
FINISHED = ("Settled", "Defaulted", "Cancelled")


# ---------------------------------------------------------------------------------------------- reading a series


def factory_of(dep):
    if dep.series_factory is None:
        raise CliError(
            EXIT_DEPLOYMENT,
            f"the manifest {dep.manifest.path} has no SeriesFactory: run `backing deploy` "
            "again (it deploys only what is missing)",
        )
    return dep.series_factory


def first_block(dep) -> int:
    """Where to start reading series events: the SeriesFactory's deployment block."""
    entry = dep.manifest.contracts.get("SeriesFactory") or {}
    return int(entry.get("block") or 0)


def series_at(dep, text: str):
    address = address_arg(dep.w3, text, "SERIES")
    if not factory_of(dep).functions.isSeries(address).call():
        raise CliError(
            EXIT_DEPLOYMENT,
            f"{address} is not a series of the SeriesFactory at "
            f"{dep.series_factory.address}: check the address (see `backing series list`)",
        )
    return dep.w3.eth.contract(address=address, abi=abi("BackingSeries"))


def _label(series) -> str:
    return f"series {series.address[:10]}"


def _field(value, name: str, i: int):
    """A struct member from an event (web3 gives a mapping) or a call (a tuple)."""
    return value[name] if isinstance(value, dict) or hasattr(value, "keys") else value[i]


def opened_terms(dep, series) -> dict[int, tuple[SeriesTerms, bytes]]:
    """index -> (the agreement's terms, its termsHash), from the series' AgreementOpened events."""
    out = {}
    for log in series.events.AgreementOpened().get_logs(from_block=first_block(dep)):
        a = log["args"]
        t = a["terms"]
        names = (
            "modelId",
            "unitSize",
            "minUnits",
            "maxUnits",
            "profitShareBps",
            "burnShareBps",
            "reserveRatioBps",
            "upfrontFeeBps",
            "lockupRounds",
            "openUntil",
            "windDown",
            "stakingAddress",
            "requireAttestedModel",
        )
        v = [_field(t, n, i) for i, n in enumerate(names)]
        base = Terms(
            unit_size=v[1],
            min_units=v[2],
            max_units=v[3],
            profit_share_bps=v[4],
            burn_share_bps=v[5],
            reserve_ratio_bps=v[6],
            upfront_fee_bps=v[7],
            lockup_rounds=v[8],
            open_until=v[9],
            wind_down=v[10],
            staking_address=v[11],
            require_attested_model=bool(v[12]),
            model_id=bytes(v[0]),
            fee_ladder=tuple(FeeTier(_field(f, "minUnits", 0), _field(f, "profitShareBps", 1)) for f in a["feeLadder"]),
        )
        commitments = tuple(
            Commitment(_field(c, "agreements", 0), _field(c, "profitShareBps", 1)) for c in a["commitments"]
        )
        out[int(a["index"])] = (
            SeriesTerms(base, a["clawbackBps"], a["clawbackAgreements"], commitments),
            bytes(a["termsHash"]),
        )
    return out


AGREEMENT_FIELDS = (
    "phase",
    "capital",
    "reserve",
    "repaid",
    "staked",
    "upfront_fee",
    "final_value",
    "amount_due",
    "owed_total",
    "cover_bound",
    "fee_lower_bound",
    "default_pool",
    "price_start",
    "price_end",
    "start_round",
    "deadline",
    "positions",
    "positions_done",
    "balance",
    "reserve_returned",
    "cohorts",
    "economics",
    "terms_hash",
)
POSITION_FIELDS = (
    "owner",
    "agreement",
    "capital",
    "mark",
    "commit_end",
    "commit_share_bps",
    "held",
    "discount",
    "claimable",
    "rolled",
    "charged_back",
    "intent",
    "evaluated",
    "done",
)
OUTCOME_FIELDS = ("fee", "held_fee", "discount_accrued", "clawback", "cover", "claimable", "mark")


def agreement_view(series, index: int) -> dict:
    return dict(zip(AGREEMENT_FIELDS, series.functions.agreement(index).call()))


def required_reserve(terms: SeriesTerms, capital: int) -> int:
    """What locking needs with `capital` pooled: ceil(S x reserveRatio), S = C - floor(C x upfrontFee)."""
    staked = capital - capital * terms.base.upfront_fee_bps // BPS
    return terms.base.required_reserve(staked)


def _words(value) -> object:
    """Wei and hashes as JSON-safe values (wei as decimal strings)."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return str(value)


def agreement_state(dep, series, index: int, terms: dict) -> dict:
    v = agreement_view(series, index)
    phase = PHASES[v["phase"]]
    t, terms_hash = terms.get(index, (None, b""))
    row = {"index": index, "phase": phase}
    for key in (
        "capital",
        "reserve",
        "repaid",
        "staked",
        "upfront_fee",
        "final_value",
        "amount_due",
        "owed_total",
        "price_start",
        "price_end",
        "balance",
        "reserve_returned",
        "default_pool",
    ):
        row[key] = str(v[key])
    row.update(
        {
            "positions": v["positions"],
            "positions_done": v["positions_done"],
            "cohorts": v["cohorts"],
            "terms_hash": "0x" + bytes(v["terms_hash"]).hex(),
        }
    )
    if t is not None:
        row["terms"] = {k: _words(x) if k != "fee_ladder" else x for k, x in dump_series_terms(t).items()}
        row["open_until"] = t.base.open_until
        row["capacity"] = str(t.base.max_units * t.base.unit_size)
        row["room"] = str(max(0, t.base.max_units * t.base.unit_size - v["capital"])) if phase == "Open" else "0"
        row["minimum"] = str(t.base.min_units * t.base.unit_size)
        if phase == "Open":
            row["required_reserve"] = str(required_reserve(t, v["capital"]))
    if phase not in ("Open", "Cancelled"):
        row["start_round"] = v["start_round"]
        if t is not None:
            row["end_round"] = v["start_round"] + t.base.lockup_rounds - 1
    if phase in ("Matured", "Settled", "Defaulted"):
        row["deadline"] = v["deadline"]
        row["outstanding"] = str(max(0, v["amount_due"] - v["repaid"]))
    return row


def position_state(series, pid: int, phase: str) -> dict:
    p = dict(zip(POSITION_FIELDS, series.functions.positionOf(pid).call()))
    claimable = p["claimable"]
    if not p["evaluated"] and not p["done"]:
        if phase == "Cancelled":
            claimable = p["capital"]
        elif phase in ("Matured", "Settled", "Defaulted"):
            outcome = dict(zip(OUTCOME_FIELDS, series.functions.outcomeOf(pid).call()))
            claimable = outcome["claimable"]
    row = {
        "position": pid,
        "owner": p["owner"],
        "agreement": p["agreement"],
        "phase": phase,
        "capital": str(p["capital"]),
        "mark": str(p["mark"]),
        "commit_end": p["commit_end"],
        "held_fees": str(p["held"]),
        "claimable": str(claimable),
        "rolled": str(p["rolled"]),
        "charged_back": str(p["charged_back"]),
        "done": p["done"],
        "consent": "none" if p["intent"] == 0 else ("all" if p["intent"] == ALL else str(p["intent"])),
    }
    return row


def positions_of(series, count: int, who: str, phases: list[str]) -> list[dict]:
    rows = []
    for index in range(count):
        ids, _ = series.functions.positionsOf(index, who).call()
        rows += [position_state(series, pid, phases[index]) for pid in ids]
    return rows


def series_state(dep, series, backer: str | None = None) -> dict:
    f = series.functions
    terms = opened_terms(dep, series)
    count = f.agreementCount().call()
    state = {
        "address": series.address,
        "model": model_label(bytes(f.modelId().call())),
        "modeller": f.modeller().call(),
        "price": str(f.price().call()),
        "ended": f.ended().call(),
        "escrow": str(f.escrow().call()),
        "modeller_credit": str(f.modellerCredit().call()),
        "agreement_count": count,
        "positions": f.positionCount().call(),
        "agreements": [agreement_state(dep, series, i, terms) for i in range(count)],
    }
    if backer:
        state["backer"] = {
            "address": backer,
            "positions": positions_of(series, count, backer, [a["phase"] for a in state["agreements"]]),
        }
    return state, terms


def _latest(state: dict) -> dict:
    if not state["agreements"]:
        raise CliError(EXIT_REFUSED, explain("NoAgreement", (), KIND) + "; nothing sent")
    return state["agreements"][-1]


def _pick(state: dict, index: int | None, phases: tuple[str, ...], what: str) -> dict:
    """The agreement `index`, or the latest one in one of `phases`; refuses (nothing sent) when there is none."""
    if index is not None:
        if index >= len(state["agreements"]):
            raise CliError(EXIT_REFUSED, explain("UnknownAgreement", (index,), KIND) + "; nothing sent")
        row = state["agreements"][index]
        if row["phase"] not in phases:
            raise CliError(EXIT_REFUSED, _wrong_phase(row) + "; nothing sent")
        return row
    for row in reversed(state["agreements"]):
        if row["phase"] in phases:
            return row
    latest = _latest(state)
    raise CliError(
        EXIT_REFUSED,
        f"no agreement of the series is {' or '.join(phases)} ({what}); the latest, "
        f"agreement {latest['index']}, is {latest['phase']}: see `backing series show`; "
        "nothing sent",
    )


def _wrong_phase(row: dict) -> str:
    return f"agreement {row['index']}: " + explain("WrongPhase", (PHASES.index(row["phase"]),), KIND)


def _outcome_words(series, index: int) -> str:
    row = agreement_view(series, index)
    phase = PHASES[row["phase"]]
    if phase == "Locked":
        return (
            f"agreement {index} is Locked: {nmr(row['staked'])} staked from round {row['start_round']} "
            f"(upfront fee {nmr(row['upfront_fee'])}, price {nmr(row['price_start'])})"
        )
    if phase == "Matured":
        return (
            f"agreement {index} is Matured: final value {nmr(row['final_value'])}, amount due "
            f"{nmr(row['amount_due'])}, repay by unix {row['deadline']}"
        )
    if phase == "Settled":
        return f"agreement {index} is Settled: the series price is now {nmr(row['price_end'])}"
    return f"agreement {index} is {phase}"


# ---------------------------------------------------------------------------------------------- modeller


class _NewSeries:
    """Stands for the series `createSeries` deploys, until its receipt names it (the next call is bound then)."""

    address = "the new series"

    def __init__(self):
        self.contract = None

    @property
    def functions(self):
        return self.contract.functions


def open_args(terms: SeriesTerms) -> tuple:
    return (
        terms.base.as_tuple(),
        terms.base.ladder_tuples(),
        terms.clawback_bps,
        terms.clawback_agreements,
        [(c.agreements, c.profit_share_bps) for c in terms.commitments],
    )


def terms_words(terms: SeriesTerms) -> str:
    t = terms.base
    words = (
        f"{t.min_units}-{t.max_units} units of {nmr(t.unit_size)} (capacity {nmr(t.max_units * t.unit_size)}), "
        f"profit share {t.profit_share_bps / 100:g}% above each position's mark, burn share "
        f"{t.burn_share_bps / 100:g}%, reserve {t.reserve_ratio_bps / 100:g}%, upfront fee "
        f"{t.upfront_fee_bps / 100:g}%, {t.lockup_rounds} rounds, deposits until unix {t.open_until}"
    )
    if terms.clawback_bps:
        words += f", {terms.clawback_bps / 100:g}% of fees held for {terms.clawback_agreements} agreements"
    for c in terms.commitments:
        words += f", {c.profit_share_bps / 100:g}% for a {c.agreements}-agreement commitment"
    if t.require_attested_model:
        words += ", locks only while the oracle attests the model"
    return words


def _check_model_owner(dep, model_id: bytes, address: str) -> None:
    owner = dep.oracle.functions.modelInfo(model_id).call()[0]
    if owner == ZERO:
        raise CliError(
            EXIT_REFUSED,
            f"model {model_label(model_id)} is not registered at the oracle: ask the oracle "
            "operators to register it (`backing model register`); nothing sent",
        )
    if owner != address:
        raise CliError(EXIT_REFUSED, explain("NotModelOwner", (model_id, address, owner)) + "; nothing sent")
    if not dep.oracle.functions.isAttested(model_id).call():
        print(
            f"note: model {model_label(model_id)} is not attested: backers will see that nobody checked you own "
            "it (`backing model claim`)"
        )
    try:
        dep.oracle.functions.nextStartRound().call()
    except Exception as error:  # noqa: BLE001 -- the oracle's refusal, put in words
        from backing.client.tx import refusal

        print(f"note: locking is not possible right now ({str(refusal(error, 'lock')).split(': ', 1)[1]})")


@handler
def cmd_create(args) -> int:
    dep = load_deployment(args)
    factory = factory_of(dep)
    terms = load_series_terms_file(args.terms, chain_now(dep.w3))  # `backing terms check`, at the chain's time
    sending = sender(args, dep.w3, dep.chain_id)
    _check_model_owner(dep, terms.base.model_id, sending.address)
    new = _NewSeries()

    def created(receipt):
        found = events(factory, "SeriesCreated", receipt)
        new.contract = dep.w3.eth.contract(address=found[0]["args"]["series"], abi=abi("BackingSeries"))
        return f"series {new.contract.address} created for model {model_label(terms.base.model_id)}"

    calls = [
        Call(
            "SeriesFactory",
            "createSeries",
            (terms.base.model_id,),
            factory,
            f"model {model_label(terms.base.model_id)}",
            outcome=created,
            kind="SeriesFactory",
        ),
        Call(
            "the new series",
            "openAgreement",
            open_args(terms),
            new,
            terms_words(terms),
            after_previous=True,
            outcome=lambda r: "agreement 0 is open for deposits",
            kind=KIND,
        ),
    ]
    if expects_commitments(read_terms_file(args.terms)):  # stated first: no backer sees the series without it
        from backing.client.submission_cmd import expect_call

        stated = expect_call(dep, terms.base.model_id, model_label(terms.base.model_id))
        calls = [stated, *calls] if stated else calls
    sending.run(calls, "Create a series and open its first agreement:")
    if new.contract is not None:
        print(f"series {new.contract.address}")
    return 0


@handler
def cmd_open(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    now = chain_now(dep.w3)
    if args.terms.isdigit():
        known = opened_terms(dep, series)
        index = int(args.terms)
        if index not in known:
            raise CliError(EXIT_USAGE, explain("UnknownAgreement", (index,), KIND))
        data = dump_series_terms(known[index][0])
        data.pop("open_until")
        data["open_for"] = args.open_for or "7d"
        terms = load_series_terms(data, now)
    else:
        if args.open_for is not None:
            raise CliError(EXIT_USAGE, "--open-for goes with an agreement INDEX; a terms file says open_for itself")
        terms = load_series_terms_file(args.terms, now)
    sending = sender(args, dep.w3, dep.chain_id)
    index = series.functions.agreementCount().call()
    call = Call(
        _label(series),
        "openAgreement",
        open_args(terms),
        series,
        terms_words(terms),
        kind=KIND,
        outcome=lambda r: f"agreement {index} is open for deposits (terms hash 0x"
        f"{bytes(agreement_view(series, index)['terms_hash']).hex()})",
    )
    sending.run([call], f"Open agreement {index} of the series:")
    return 0


@handler
def cmd_list(args) -> int:
    dep = load_deployment(args)
    factory = factory_of(dep)
    rows = []
    for log in factory.events.SeriesCreated().get_logs(from_block=first_block(dep)):
        a = log["args"]
        if (
            args.model
            and model_label(bytes(a["modelId"])) != args.model
            and "0x" + bytes(a["modelId"]).hex() != args.model.lower()
        ):
            continue
        if args.modeller and a["modeller"].lower() != args.modeller.lower():
            continue
        series = dep.w3.eth.contract(address=a["series"], abi=abi("BackingSeries"))
        f = series.functions
        count = f.agreementCount().call()
        latest = agreement_view(series, count - 1) if count else None
        if args.open:
            known = opened_terms(dep, series).get(count - 1) if latest and latest["phase"] == 0 else None
            if (
                known is None
                or known[0].base.max_units * known[0].base.unit_size <= latest["capital"]
                or chain_now(dep.w3) > known[0].base.open_until
            ):
                continue
        rows.append(
            {
                "address": a["series"],
                "model": model_label(bytes(a["modelId"])),
                "modeller": a["modeller"],
                "price": str(f.price().call()),
                "ended": f.ended().call(),
                "agreements": count,
                "latest_phase": PHASES[latest["phase"]] if latest else None,
            }
        )
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no series match")
    for r in rows:
        print(
            f"{r['address']}  model {r['model']}  price {nmr(int(r['price']))}  {r['agreements']} agreements"
            + (f", latest {r['latest_phase']}" if r["latest_phase"] else "")
            + ("  (ended)" if r["ended"] else "")
        )
    return 0


WHAT_IF_RATIOS = ("0.5", "0.9", "1", "1.1", "1.5")


def what_if(terms: SeriesTerms, row: dict, units: int, commit: int = 0) -> list[dict]:
    """What a fresh position of `units` units in agreement `row` (Open or Locked) receives at its claim if the
    stake ends at a few multiples of itself, repaid in full (reference model, backing.model.series): beside the
    others' capital as it stands (whole units), its mark the price at lock, so the profit fee is charged on this
    agreement's rise alone (a rolled position with an older, higher mark pays less). A clawback holds part of the
    modeller's fee in escrow, not the backer's money, so the claim is the same with or without it."""
    from dataclasses import replace

    from backing.model.agreement import ONE, ContractError
    from backing.model.series import Series

    if row["phase"] not in ("Open", "Locked"):
        return []
    unit = terms.base.unit_size
    capital = int(row["capital"])
    others = capital // unit if row["phase"] == "Open" else max(0, capital // unit - units)
    when = terms.base.open_until - 1  # inside the deposit window, whatever the chain's time
    t = replace(terms, base=replace(terms.base, min_units=1))
    rows = []
    for ratio in WHAT_IF_RATIOS:
        model = Series("modeller")
        try:
            model.open_agreement("modeller", t, when)
            pid = model.deposit("you", units, when, commit=commit or None)
            if others:
                model.deposit("others", others, when)
            pooled = model.agreements[0].capital
            model.post_reserve("modeller", max(int(row["reserve"]), required_reserve(t, pooled)), 0)
            model.lock("modeller", when)
            due = model.mature(when, ONE, ONE * int(float(ratio) * 100) // 100)
            if due:
                model.repay("modeller", due, when)
            receives = model.claim(pid, "you")
        except ContractError as error:
            raise CliError(EXIT_USAGE, f"--units {units}: {explain(error.name, error.args_, KIND)}") from None
        rows.append({"ratio": ratio, "paid_in": str(units * unit), "receives": str(receives)})
    return rows


@handler
def cmd_show(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    backer = address_arg(dep.w3, args.backer, "--backer") if args.backer else None
    state, terms = series_state(dep, series, backer)
    if args.units:
        if args.units < 1:
            raise CliError(EXIT_USAGE, "--units must be a whole number of at least 1")
        latest = state["agreements"][-1] if state["agreements"] else None
        latest_terms = terms.get(latest["index"]) if latest else None
        if latest is None or latest_terms is None or latest["phase"] not in ("Open", "Locked"):
            raise CliError(EXIT_USAGE, "--units: the series has no open or locked agreement to show a what-if for")
        _commitment_check(latest_terms[0], args.commit)
        state["what_if"] = {
            "agreement": latest["index"],
            "units": args.units,
            "commit": args.commit,
            "rows": what_if(latest_terms[0], latest, args.units, args.commit),
        }
    if args.json:
        print_json(state)
        return 0
    from backing.report import duration

    now = chain_now(dep.w3)
    print(
        f"series {state['address']}: model {state['model']}, modeller {state['modeller']}"
        + (" (ENDED: no agreement can lock again)" if state["ended"] else "")
    )
    print(
        f"  price {nmr(int(state['price']))} (started at 1); held fees in escrow {nmr(int(state['escrow']))}; "
        f"credited to the modeller, not collected: {nmr(int(state['modeller_credit']))}"
    )
    if not state["agreements"]:
        print("  no agreement yet: the modeller opens one (`backing series open`)")
    for row in state["agreements"]:
        print(f"  agreement {row['index']}: {row['phase']}")
        if index_terms := terms.get(row["index"]):
            print(f"    terms: {terms_words(index_terms[0])}")
        print(
            f"    capital {nmr(int(row['capital']))}"
            + (
                f" of {nmr(int(row['capacity']))} ({nmr(int(row['room']))} left)"
                if row["phase"] == "Open" and "capacity" in row
                else ""
            )
            + f" in {row['positions']} positions; reserve {nmr(int(row['reserve']))}"
            + (f" (needed to lock now: {nmr(int(row['required_reserve']))})" if "required_reserve" in row else "")
        )
        if row["phase"] == "Open" and "open_until" in row:
            left = row["open_until"] - now
            print(f"    deposits open {'for ' + duration(left) if left > 0 else 'no longer (anyone may cancel)'}")
        if "start_round" in row:
            print(
                f"    staked {nmr(int(row['staked']))} for rounds {row['start_round']}-{row.get('end_round', '?')} "
                f"(upfront fee {nmr(int(row['upfront_fee']))}), price at lock {nmr(int(row['price_start']))}"
            )
        if "outstanding" in row:
            print(
                f"    final value {nmr(int(row['final_value']))}, price at the end {nmr(int(row['price_end']))}; "
                f"amount due {nmr(int(row['amount_due']))}, repaid {nmr(int(row['repaid']))}, outstanding "
                f"{nmr(int(row['outstanding']))}"
            )
            if row["phase"] == "Matured":
                left = row["deadline"] - now
                when = f"in {duration(left)}" if left > 0 else "passed: anyone may declare a default"
                print(f"    repayment deadline {when}")
    if backer:
        for p in state["backer"]["positions"]:
            print(
                f"  {backer} position #{p['position']} (agreement {p['agreement']}, {p['phase']}): capital "
                f"{nmr(int(p['capital']))}, "
                + (
                    f"mark {nmr(int(p['mark']))} (it pays a profit fee only above this price)"
                    if int(p["mark"])
                    else "mark set at the lock"
                )
                + f", held fees {nmr(int(p['held_fees']))}, claimable {nmr(int(p['claimable']))}"
                + (f", committed through agreement {p['commit_end']}" if p["commit_end"] >= 0 else "")
                + (f", consented to roll {p['consent']}" if p["consent"] != "none" else "")
                + (" (done)" if p["done"] else "")
            )
    if "what_if" in state:
        w = state["what_if"]
        held = f", committed for {w['commit']} agreements" if w["commit"] else ""
        print(f"  what a fresh position of {w['units']} units in agreement {w['agreement']} receives{held}:")
        for row in w["rows"]:
            print(
                f"    if the stake ends at x{row['ratio']}: pays {nmr(int(row['paid_in']))}, receives "
                f"{nmr(int(row['receives']))}"
            )
    return 0


def _modeller_only(series, sending) -> None:
    modeller = series.functions.modeller().call()
    if sending.address != modeller:
        raise CliError(EXIT_REFUSED, explain("NotModeller", (sending.address,), KIND) + "; nothing sent")


@handler
def cmd_reserve(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    _modeller_only(series, sending)
    state, _ = series_state(dep, series)
    row = _pick(state, args.index, ("Open", "Locked"), "a reserve goes to an open or locked agreement")
    if args.amount:
        value = amount("NMR", args.amount)
        if value == 0:
            raise CliError(EXIT_USAGE, explain("ZeroAmount", (), KIND))
    elif row["phase"] == "Locked":
        raise CliError(
            EXIT_USAGE,
            f"agreement {row['index']} is locked: its reserve ({nmr(int(row['reserve']))}) "
            "already let it lock; give the NMR to add as a top-up",
        )
    else:
        value = max(0, int(row.get("required_reserve", 0)) - int(row["reserve"]))
        if value == 0:
            print(
                f"agreement {row['index']}'s reserve ({nmr(int(row['reserve']))}) already covers what locking needs "
                "now"
            )
            return 0
    check_balance(dep, sending.address, value, "the reserve")
    calls = with_allowance(args, dep, sending, series.address, value, _label(series))
    index = row["index"]
    calls.append(
        Call(
            _label(series),
            "postReserve",
            (index, value),
            series,
            f"agreement {index}, {nmr(value)}",
            after_previous=bool(calls),
            kind=KIND,
            outcome=lambda r: f"agreement {index}'s reserve is now " f"{nmr(agreement_view(series, index)['reserve'])}",
        )
    )
    sending.run(calls, f"Post {nmr(value)} of reserve to agreement {index}:")
    return 0


def _simple(function: str, title: str, phases: tuple[str, ...] | None = None, with_index: bool = False):
    """A command sending one call with no NMR: lock, cancel (the open agreement), mature, default (by index)."""

    @handler
    def run(args) -> int:
        dep = load_deployment(args)
        series = series_at(dep, args.series)
        sending = sender(args, dep.w3, dep.chain_id)
        state, _ = series_state(dep, series)
        row = _pick(state, getattr(args, "index", None), phases, title.lower()) if phases else _latest(state)
        index = row["index"]
        call_args = (index,) if with_index else ()
        call = Call(
            _label(series),
            function,
            call_args,
            series,
            f"agreement {index}" if with_index else "",
            kind=KIND,
            outcome=lambda r: _outcome_words(series, index),
        )
        sending.run([call], f"{title} (agreement {index}):")
        return 0

    return run


@handler
def cmd_repay(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    state, _ = series_state(dep, series)
    row = _pick(state, args.index, ("Matured",), "only a matured agreement is repaid")
    outstanding = int(row["outstanding"])
    value = amount("NMR", args.amount) if args.amount else outstanding
    if value > outstanding:
        raise CliError(EXIT_REFUSED, explain("RepaymentExceedsDue", (value, outstanding), KIND) + "; nothing sent")
    if value == 0:
        raise CliError(EXIT_USAGE, explain("ZeroAmount", (), KIND))
    check_balance(dep, sending.address, value, "the repayment")
    calls = with_allowance(args, dep, sending, series.address, value, _label(series))
    index = row["index"]

    def outcome(receipt):
        v = agreement_view(series, index)
        left = v["amount_due"] - v["repaid"]
        return (
            f"repaid {nmr(value)}; "
            + _outcome_words(series, index)
            + (f", {nmr(left)} still due" if PHASES[v["phase"]] == "Matured" else "")
        )

    calls.append(
        Call(
            _label(series),
            "repay",
            (index, value),
            series,
            f"agreement {index}, {nmr(value)} of {nmr(outstanding)} outstanding",
            after_previous=bool(calls),
            kind=KIND,
            outcome=outcome,
        )
    )
    sending.run(calls, f"Repay {nmr(value)} to agreement {index}:")
    return 0


def _rollable(series, state: dict) -> list[int]:
    """Positions of settled agreements (the next one open) with a consent or a commitment: execute-roll's work."""
    out = []
    rows = state["agreements"]
    for pid in range(1, series.functions.positionCount().call() + 1):
        p = dict(zip(POSITION_FIELDS, series.functions.positionOf(pid).call()))
        i = p["agreement"]
        if (
            p["owner"] == ZERO
            or p["done"]
            or p["rolled"]
            or rows[i]["phase"] != "Settled"
            or i + 1 >= len(rows)
            or rows[i + 1]["phase"] != "Open"
        ):
            continue
        if p["intent"] != 0 or p["commit_end"] > i:
            out.append(pid)
    return out


@handler
def cmd_execute_roll(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    state, _ = series_state(dep, series)
    pids = args.positions or _rollable(series, state)
    if not pids:
        print("no position waits for a roll (a consent or a commitment, its agreement settled, the next one open)")
        return 0
    calls = []
    for pid in pids:

        def outcome(receipt, pid=pid):
            found = events(series, "PositionRolled", receipt)
            if not found:
                return f"position #{pid} rolled"
            e = found[0]["args"]
            return f"position #{pid} rolled {nmr(e['amount'])} into position #{e['newPositionId']}"

        calls.append(
            Call(_label(series), "executeRoll", (pid,), series, f"position #{pid}", kind=KIND, outcome=outcome)
        )
    sending.run(calls, f"Execute the consented rolls of {len(calls)} position(s):")
    return 0


@handler
def cmd_collect(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    credit = series.functions.modellerCredit().call()
    modeller = series.functions.modeller().call()
    call = Call(
        _label(series),
        "collect",
        (),
        series,
        f"{nmr(credit)} to the modeller {modeller}",
        kind=KIND,
        outcome=lambda r: f"collected {nmr(credit)} for the modeller {modeller}",
    )
    sending.run([call], f"Collect {nmr(credit)} for the modeller:")
    return 0


# ---------------------------------------------------------------------------------------------- backer


def _commitment_check(terms: SeriesTerms | None, commit: int) -> None:
    if commit and terms is not None and all(c.agreements != commit for c in terms.commitments):
        offered = ", ".join(str(c.agreements) for c in terms.commitments) or "none"
        raise CliError(
            EXIT_REFUSED, explain("NoSuchCommitment", (commit,), KIND) + f" (offered: {offered}); " "nothing sent"
        )


@handler
def cmd_deposit(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    if args.units <= 0:
        raise CliError(EXIT_USAGE, "UNITS must be a whole number of at least 1")
    state, terms = series_state(dep, series)
    row = _latest(state)
    if row["phase"] != "Open":
        raise CliError(
            EXIT_REFUSED,
            _wrong_phase(row) + " (deposits go to the latest agreement while it is open; "
            "wait for the modeller to open the next one); nothing sent",
        )
    t = terms[row["index"]][0]
    if chain_now(dep.w3) > t.base.open_until:
        raise CliError(EXIT_REFUSED, explain("DepositWindowClosed", (t.base.open_until,), KIND) + "; nothing sent")
    cost = args.units * t.base.unit_size
    room = int(row["room"])
    if cost > room:
        raise CliError(
            EXIT_REFUSED,
            explain("CapacityExceeded", (cost, room), KIND)
            + f": deposit at most {room // t.base.unit_size} units; nothing sent",
        )
    _commitment_check(t, args.commit)
    check_balance(dep, sending.address, cost, f"{args.units} units")
    calls = with_allowance(args, dep, sending, series.address, cost, _label(series))
    index = row["index"]

    def outcome(receipt):
        found = events(series, "PositionDeposited", receipt)
        pid = found[0]["args"]["positionId"] if found else "?"
        return f"deposited {nmr(cost)} for {args.units} units into agreement {index}: position #{pid}"

    commit_words = f", committing to {args.commit} agreements" if args.commit else ""
    calls.append(
        Call(
            _label(series),
            "deposit",
            (args.units, args.commit),
            series,
            f"{args.units} units = {nmr(cost)} into agreement {index}{commit_words}",
            after_previous=bool(calls),
            kind=KIND,
            outcome=outcome,
        )
    )
    sending.run(calls, f"Deposit {args.units} units ({nmr(cost)}):")
    return 0


@handler
def cmd_withdraw(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    state, terms = series_state(dep, series)
    row = _latest(state)
    t = terms[row["index"]][0]
    value = args.units * t.base.unit_size
    call = Call(
        _label(series),
        "withdraw",
        (args.units, args.commit),
        series,
        f"{args.units} units = {nmr(value)} from agreement {row['index']}",
        kind=KIND,
        outcome=lambda r: f"withdrew {nmr(value)}",
    )
    sending.run([call], f"Withdraw {args.units} units:")
    return 0


def _own_positions(dep, series, who: str) -> list[dict]:
    state, _ = series_state(dep, series, who)
    return state["backer"]["positions"]


@handler
def cmd_claim(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    mine = {p["position"]: p for p in _own_positions(dep, series, sending.address)}
    if args.positions:
        pids = args.positions
    else:
        pids = [pid for pid, p in mine.items() if p["phase"] in FINISHED and not p["done"]]
        if not pids:
            raise CliError(
                EXIT_REFUSED,
                f"{sending.address} has no position to claim in this series (a position "
                "is claimed once its agreement is settled, defaulted or cancelled: see "
                "`backing series show SERIES --backer ADDRESS`); nothing sent",
            )
    calls = []
    for pid in pids:

        def outcome(receipt, pid=pid):
            paid = sum(e["args"]["amount"] for e in events(series, "PositionClaimedFrom", receipt))
            return f"claimed {nmr(paid)} from position #{pid}"

        expected = f" (about {nmr(int(mine[pid]['claimable']))})" if pid in mine else ""
        calls.append(
            Call(_label(series), "claim", (pid,), series, f"position #{pid}{expected}", kind=KIND, outcome=outcome)
        )
    sending.run(calls, f"Claim {len(calls)} position(s):")
    return 0


def _next_terms_hash(series, pid: int) -> tuple[int, bytes]:
    """(the position's agreement index, the next agreement's termsHash, zero when there is no next one yet)."""
    p = dict(zip(POSITION_FIELDS, series.functions.positionOf(pid).call()))
    index = p["agreement"]
    if index + 1 < series.functions.agreementCount().call():
        return index, bytes(agreement_view(series, index + 1)["terms_hash"])
    return index, b"\x00" * 32


def _roll(consent: bool):
    @handler
    def run(args) -> int:
        dep = load_deployment(args)
        series = series_at(dep, args.series)
        sending = sender(args, dep.w3, dep.chain_id)
        pid = args.position
        if args.revoke:
            call = Call(
                _label(series),
                "roll",
                (pid, 0, 0, b"\x00" * 32),
                series,
                f"position #{pid}: revoke",
                kind=KIND,
                outcome=lambda r: f"position #{pid} no longer consents to roll",
            )
            sending.run([call], f"Revoke position #{pid}'s consent to roll:")
            return 0
        try:
            index, terms_hash = _next_terms_hash(series, pid)
        except Exception:  # noqa: BLE001 -- an unknown position id reverts the view
            raise CliError(EXIT_REFUSED, explain("UnknownPosition", (pid,), KIND) + "; nothing sent") from None
        phase = PHASES[agreement_view(series, index)["phase"]]
        if not consent and phase != "Settled":
            raise CliError(
                EXIT_REFUSED,
                f"agreement {index} is {phase}, not Settled: a roll happens at settlement; "
                f"`backing series consent {series.address} {pid}` records your consent now "
                "(anyone executes it once the agreement settles); nothing sent",
            )
        value = ALL if args.amount in (None, "all") else amount("AMOUNT", args.amount)
        words = "the whole claim" if value == ALL else nmr(value)
        known = opened_terms(dep, series)
        nxt = known.get(index + 1)
        if nxt is not None:
            _commitment_check(nxt[0], args.commit)
        into = f" into agreement {index + 1} ({terms_words(nxt[0])})" if nxt else ""
        commit_words = f", committing to {args.commit} agreements" if args.commit else ""

        def outcome(receipt):
            found = events(series, "PositionRolled", receipt)
            if found:
                e = found[0]["args"]
                return f"position #{pid} rolled {nmr(e['amount'])} into position #{e['newPositionId']}"
            return f"position #{pid} consents to roll {words}; it rolls when agreement {index} settles"

        call = Call(
            _label(series),
            "roll",
            (pid, value, args.commit, terms_hash),
            series,
            f"position #{pid}, {words}{into}{commit_words}",
            kind=KIND,
            outcome=outcome,
        )
        sending.run([call], ("Consent to roll" if consent else "Roll") + f" position #{pid}:")
        return 0

    return run


@handler
def cmd_transfer(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    to = address_arg(dep.w3, args.to, "TO")
    value = amount("AMOUNT", args.amount)
    pid = args.position

    def outcome(receipt):
        found = events(series, "PositionTransferred", receipt)
        target = f" (their position #{found[0]['args']['toPositionId']})" if found else ""
        return f"moved {nmr(value)} of position #{pid}'s capital to {to}{target}"

    call = Call(
        _label(series),
        "transfer",
        (pid, to, value),
        series,
        f"position #{pid}, {nmr(value)} to {to}",
        kind=KIND,
        outcome=outcome,
    )
    sending.run([call], f"Transfer {nmr(value)} of position #{pid}:")
    return 0


@handler
def cmd_accept(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    caller = address_arg(dep.w3, args.sender_address, "FROM")
    accepted = not args.revoke
    call = Call(
        _label(series),
        "acceptTransfers",
        (caller, accepted),
        series,
        f"{'accept' if accepted else 'refuse'} positions sent by {caller}",
        kind=KIND,
        outcome=lambda r: f"{sending.address} {'accepts' if accepted else 'no longer accepts'} positions "
        f"transferred by {caller}",
    )
    sending.run([call], "Accept transfers:" if accepted else "Stop accepting transfers:")
    return 0


@handler
def cmd_set_operator(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    operator = address_arg(dep.w3, args.operator, "OPERATOR")
    approved = not args.revoke
    call = Call(
        _label(series),
        "setOperator",
        (operator, approved),
        series,
        f"{'let' if approved else 'no longer let'} {operator} transfer and claim all your positions in this series"
        + (" (claims pay you)" if approved else ""),
        kind=KIND,
        outcome=lambda r: f"{operator} {'is now' if approved else 'is no longer'} the operator of "
        f"{sending.address}'s positions in this series",
    )
    sending.run([call], "Set an operator:" if approved else "Revoke an operator:")
    return 0


@handler
def cmd_poke(args) -> int:
    dep = load_deployment(args)
    series = series_at(dep, args.series)
    sending = sender(args, dep.w3, dep.chain_id)
    count = series.functions.positionCount().call()
    for pid in args.positions:
        if not 1 <= pid <= count:
            raise CliError(EXIT_USAGE, f"there is no position #{pid} in this series (positions 1 to {count})")
    calls = [
        Call(
            _label(series),
            "poke",
            (pid,),
            series,
            f"settle position #{pid}'s books (its outcome; held fees whose window ended go to the modeller)",
            kind=KIND,
            outcome=lambda r, pid=pid: f"position #{pid}'s books are up to date",
        )
        for pid in args.positions
    ]
    sending.run(calls, "Poke positions:")
    return 0


def series_positions(dep, who: str) -> list[dict]:
    """Every series position of `who` (for `backing position`), with its next step in words."""
    if dep.series_factory is None:
        return []
    rows = []
    for log in dep.series_factory.events.SeriesCreated().get_logs(from_block=first_block(dep)):
        series = dep.w3.eth.contract(address=log["args"]["series"], abi=abi("BackingSeries"))
        count = series.functions.agreementCount().call()
        if count == 0:
            continue
        views = [agreement_view(series, i) for i in range(count)]
        phases = [PHASES[v["phase"]] for v in views]
        for p in positions_of(series, count, who, phases):
            i = p["agreement"]
            if p["done"]:
                step = "none (claimed or rolled)"
            elif p["phase"] in FINISHED:
                step = "claim (or roll, if the next agreement is open)" if p["phase"] == "Settled" else "claim"
            elif p["phase"] == "Matured":
                step = f"repayment due by unix {views[i]['deadline']}"
            elif p["phase"] == "Locked":
                step = "consent to roll, transfer, or wait for maturity"
            else:
                step = "deposits open; locks when the modeller locks"
            rows.append({"series": series.address, **p, "next": step})
    return rows


# ---------------------------------------------------------------------------------------------- parsers


def _parser(actions, name, help_text, function, sending=True, json_out=False):
    p = command_parser(actions, name, help_text, function, sending, json_out)
    if name not in ("create", "list"):
        p.add_argument("series", metavar="SERIES", help="the series' address (see `backing series list`)")
    return p


def _no_approve(p):
    p.add_argument("--no-approve", action="store_true", help="do not send an NMR approval; fail if one is needed")


def _index(p, what: str):
    p.add_argument("--index", type=int, metavar="N", help=f"the agreement (default: {what})")


def add_parsers(commands) -> None:
    group = commands.add_parser(
        "series",
        help="backing series: a modeller's successive agreements for one model "
        "(create, open, show, the modeller's and the backer's actions)",
    )
    s = group.add_subparsers(dest="series_command", metavar="ACTION", required=True)
    p = _parser(
        s,
        "create",
        "create a series on your registered model and open its first agreement from a series " "terms file",
        cmd_create,
    )
    p.add_argument("terms", metavar="TERMS", help="series terms file (see `backing terms check --help`)")
    p = _parser(
        s,
        "open",
        "open the series' next agreement: from a terms file, or with the terms of agreement INDEX "
        "(a commitment continues only while the terms stay the same)",
        cmd_open,
    )
    p.add_argument("terms", metavar="TERMS-or-INDEX")
    p.add_argument(
        "--open-for", default=None, metavar="DURATION", help="with INDEX: how long deposits stay open (default 7d)"
    )
    p = _parser(s, "list", "series of this deployment", cmd_list, sending=False, json_out=True)
    p.add_argument("--model", metavar="UUID")
    p.add_argument("--modeller", metavar="ADDRESS")
    p.add_argument(
        "--open", action="store_true", help="only series whose latest agreement takes deposits, with " "room left"
    )
    p = _parser(
        s,
        "show",
        "a series: price, and each agreement's terms in words, phase, capital, reserve, amount " "due and deadlines",
        cmd_show,
        sending=False,
        json_out=True,
    )
    p.add_argument("--backer", metavar="ADDRESS", help="also show this backer's positions")
    p.add_argument(
        "--units",
        type=int,
        metavar="N",
        help="what a fresh position of N units in the latest agreement receives for a few final values",
    )
    p.add_argument("--commit", type=int, default=0, metavar="N", help="with --units: committing to N agreements")
    p = _parser(s, "reserve", "post reserve (default: what locking the open agreement needs now)", cmd_reserve)
    p.add_argument("amount", nargs="?", metavar="NMR")
    _index(p, "the latest agreement, open or locked")
    _no_approve(p)
    p = _parser(s, "lock", "lock the open agreement (stake its capital)", _simple("lock", "Lock"))
    p = _parser(
        s,
        "mature",
        "mature the locked agreement once its rounds are final (anyone)",
        _simple("mature", "Mature", ("Locked",), with_index=True),
    )
    _index(p, "the locked one")
    p = _parser(
        s,
        "repay",
        "repay what the matured agreement is due (default: everything outstanding; anyone may " "pay)",
        cmd_repay,
    )
    p.add_argument("amount", nargs="?", metavar="NMR")
    _index(p, "the matured one")
    _no_approve(p)
    p = _parser(
        s,
        "cancel",
        "cancel the open agreement (everyone gets his capital back)",
        _simple("cancel", "Cancel", ("Open",)),
    )
    p = _parser(
        s,
        "default",
        "declare the modeller in default once the wind-down has passed (anyone)",
        _simple("declareDefault", "Declare a default", ("Matured",), with_index=True),
    )
    _index(p, "the matured one")
    p = _parser(
        s,
        "execute-roll",
        "carry out consented rolls after settlement (anyone; default: every position " "waiting for one)",
        cmd_execute_roll,
    )
    p.add_argument("positions", nargs="*", type=int, metavar="POSITION")
    _parser(s, "collect", "send the modeller what the series credited him (anyone)", cmd_collect)

    p = _parser(
        s, "deposit", "back the series' open agreement: buy UNITS units (approves exactly their cost)", cmd_deposit
    )
    p.add_argument("units", type=int, metavar="UNITS")
    p.add_argument(
        "--commit",
        type=int,
        default=0,
        metavar="N",
        help="commit to N consecutive agreements (one of the terms' commitments) for its lower fee",
    )
    _no_approve(p)
    p = _parser(s, "withdraw", "take units back out of the open agreement", cmd_withdraw)
    p.add_argument("units", type=int, metavar="UNITS")
    p.add_argument("--commit", type=int, default=0, metavar="N", help="the commitment the units were deposited with")
    p = _parser(s, "claim", "claim your positions of finished agreements (default: all of them)", cmd_claim)
    p.add_argument("positions", nargs="*", type=int, metavar="POSITION")
    for name, consent, text in (
        ("roll", False, "roll a settled position's claim into the next agreement now"),
        (
            "consent",
            True,
            "consent now to roll a position's claim into the next agreement "
            "when its agreement settles (anyone executes it)",
        ),
    ):
        p = _parser(s, name, text, _roll(consent))
        p.add_argument("position", type=int, metavar="POSITION")
        p.add_argument("amount", nargs="?", metavar="NMR", help="how much of the claim (default: all)")
        p.add_argument(
            "--commit",
            type=int,
            default=0,
            metavar="N",
            help="commit to N agreements from the next one (one of its terms' commitments)",
        )
        p.add_argument("--revoke", action="store_true", help="withdraw an earlier consent instead")
    p = _parser(
        s, "transfer", "move capital of a locked position to another account (who accepts it from you)", cmd_transfer
    )
    p.add_argument("position", type=int, metavar="POSITION")
    p.add_argument("to", metavar="TO")
    p.add_argument("amount", metavar="NMR", help="capital to move")
    p = _parser(
        s, "accept-transfers", "accept positions transferred to you by FROM (or stop, with --revoke)", cmd_accept
    )
    p.add_argument("sender_address", metavar="FROM")
    p.add_argument("--revoke", action="store_true")
    p = _parser(
        s,
        "set-operator",
        "let OPERATOR (an escrow or marketplace) transfer and claim all your positions in this series, claims "
        "paying you (or stop, with --revoke)",
        cmd_set_operator,
    )
    p.add_argument("operator", metavar="OPERATOR")
    p.add_argument("--revoke", action="store_true")
    p = _parser(
        s,
        "poke",
        "settle positions' books without paying them: fix their outcome, release held fees whose window ended "
        "(anyone)",
        cmd_poke,
    )
    p.add_argument("positions", nargs="+", type=int, metavar="POSITION")

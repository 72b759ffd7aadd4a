"""The web app's JSON: what the page shows, read from the chain with ``backing.client``'s helpers and computed
by the reference model. Amounts are wei as decimal strings (the page formats them exactly), fractions basis
points; each answer also carries the sentences the page shows, so the words come from one place."""

from __future__ import annotations

from backing.client import CliError
from backing.client.agreement_cmd import (
    PAGE,
    ZERO,
    agreement_state,
    chain_now,
    model_id,
    model_label,
    what_if,
)
from backing.client.contracts import abi
from backing.client.errors import explain_revert
from backing.model.agreement import lock_amounts
from backing.model.terms import dump_terms, field_errors
from backing.report import duration, nmr, percent

#: The contracts whose ABIs the page needs to build its transactions.
PAGE_CONTRACTS = ("MockNMR", "AgreementFactory", "BackingAgreement", "BackingSeries", "SeriesFactory")


class ApiError(Exception):
    """A request the API cannot answer: ``status`` is the HTTP status, the message says what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def config(dep) -> dict:
    """What the page needs before anything else: the chain, the contracts' addresses and ABIs."""
    return {
        "chain_id": dep.chain_id,
        "contracts": {
            "NMR": dep.token.address,
            "ScoreOracle": dep.oracle.address,
            "AgreementFactory": dep.factory.address,
            "SeriesFactory": dep.series_factory.address if dep.series_factory is not None else None,
        },
        "abi": {name: abi(name) for name in PAGE_CONTRACTS},
        "now": chain_now(dep.w3),
    }


def _agreement(dep, address: str):
    from web3 import Web3

    if not Web3.is_address(address):
        raise ApiError(400, f"{address!r} is not an address")
    address = Web3.to_checksum_address(address)
    if not dep.factory.functions.isAgreement(address).call():
        raise ApiError(404, f"{address} is not an agreement of this deployment's AgreementFactory")
    return dep.w3.eth.contract(address=address, abi=abi("BackingAgreement"))


def terms_words(state: dict, now: int) -> list[str]:
    """The terms and the state of an agreement in sentences (as `backing agreement show` says them)."""
    unit = int(state["unit_size"])
    words = [
        f"{state['units']} of {state['capacity_units']} units sold to {state['backers']} backers, "
        f"{nmr(unit)} NMR each; at least {state['min_units']} units are needed to lock.",
        f"The modeller keeps {percent(state['profit_share_bps'])} of gains and covers "
        f"{percent(state['burn_share_bps'])} of losses from a reserve of {percent(state['reserve_ratio_bps'])} "
        f"of the stake; upfront fee {percent(state['upfront_fee_bps'])}; {state['lockup_rounds']} rounds.",
    ]
    for tier in state["fee_ladder"]:
        words.append(f"From {tier['min_units']} units a backer pays {percent(tier['profit_share_bps'])} of gains.")
    if state.get("require_attested_model"):
        words.append("It locks only while the oracle attests that the model is the modeller's (the terms require it).")
    words.append(f"After maturity the modeller has {duration(state['wind_down'])} to repay.")
    return words


def _reserve_coverage(state: dict, terms) -> dict:
    """The reserve posted and what it covers: the loss (of the stake) it absorbs at the burn share."""
    units = max(state["units"], terms.min_units)
    staked = int(state.get("staked") or lock_amounts(terms, units).staked)
    reserve = int(state["reserve"])
    burn = terms.burn_share_bps
    # the modeller owes burn_share of a loss: a reserve R covers losses up to R / burn_share of the stake
    covered_loss = min(staked, reserve * 10_000 // burn) if burn else 0
    return {
        "staked_for_coverage": str(staked),
        "covered_loss": str(covered_loss),
        "covered_loss_bps": covered_loss * 10_000 // staked if staked else 0,
    }


def _phase_words(state: dict, now: int) -> str:
    phase = state["phase"]
    if phase == "Open":
        left = state["open_until"] - now
        return f"Open: deposits {'close in ' + duration(left) if left > 0 else 'are closed'}."
    if phase == "Locked":
        return f"Locked: staked for rounds {state['start_round']}-{state['end_round']}."
    if phase == "Matured":
        left = state["deadline"] - now
        due = "in " + duration(left) if left > 0 else "passed: anyone may declare a default"
        return f"Matured: {nmr(int(state['outstanding']))} NMR still due, deadline {due}."
    return {
        "Settled": "Settled: repaid in full; backers claim what they are owed.",
        "Defaulted": "Defaulted: backers share the repayment and the reserve.",
        "Cancelled": "Cancelled: every backer claims his deposit back.",
    }[phase]


def _summary(dep, agreement, now: int, backer: str | None = None) -> dict:
    state, terms = agreement_state(dep, agreement, backer)
    state["phase_words"] = _phase_words(state, now)
    state["terms_words"] = terms_words(state, now)
    state.update(_reserve_coverage(state, terms))
    state["model_id"] = "0x" + terms.model_id.hex()
    return state, terms


def list_agreements(dep, query: dict) -> list[dict]:
    """The deployment's agreements matching the filters (each optional): model (UUID), phase, open=1 (taking
    deposits with units left), max_profit_share / min_reserve_ratio (fractions), max_lockup (rounds)."""
    from backing.model.terms import TermsError, _bps

    now = chain_now(dep.w3)
    if query.get("model"):
        try:
            raw = model_id(query["model"])
        except Exception:  # noqa: BLE001 -- CliError: not a UUID
            raise ApiError(400, f"model: {query['model']!r} is not a model UUID") from None
        count = dep.factory.functions.agreementCountForModel(raw).call()
        addresses = dep.factory.functions.agreementsForModel(raw, 0, min(count, PAGE)).call() if count else []
    else:
        count = dep.factory.functions.agreementCount().call()
        addresses = dep.factory.functions.agreements(max(0, count - PAGE), min(count, PAGE)).call() if count else []
    try:
        max_share = _bps("max_profit_share", query["max_profit_share"]) if query.get("max_profit_share") else None
        min_reserve = _bps("min_reserve_ratio", query["min_reserve_ratio"]) if query.get("min_reserve_ratio") else None
    except TermsError as error:
        raise ApiError(400, str(error)) from None
    max_lockup = int(query["max_lockup"]) if str(query.get("max_lockup", "")).isdigit() else None
    rows = []
    for address in reversed(addresses):  # newest first
        state, _ = _summary(dep, dep.w3.eth.contract(address=address, abi=abi("BackingAgreement")), now)
        if query.get("phase") and state["phase"].lower() != query["phase"].lower():
            continue
        if query.get("open") in ("1", "true") and not (
            state["phase"] == "Open" and state["open_units"] > 0 and now <= state["open_until"]
        ):
            continue
        if max_share is not None and state["profit_share_bps"] > max_share:
            continue
        if min_reserve is not None and state["reserve_ratio_bps"] < min_reserve:
            continue
        if max_lockup is not None and state["lockup_rounds"] > max_lockup:
            continue
        rows.append(state)
    return rows


def model_record(dep, raw: bytes, rounds: int = 200) -> dict:
    """A model's record at the oracle: modeller, attestation, defaults, its final rounds (return, index)."""
    modeller, exposure, first_round, last_final = dep.oracle.functions.modelInfo(raw).call()
    record = {"model": model_label(raw), "registered": modeller != ZERO, "rounds": []}
    if modeller == ZERO:
        return record
    for r in range(max(first_round, last_final - rounds + 1), last_final + 1):
        index, ret, missed = dep.oracle.functions.roundRecord(raw, r).call()
        record["rounds"].append({"round": r, "return": str(ret), "index": str(index), "missed": missed})
    count = dep.factory.functions.agreementCountForModel(raw).call()
    record.update(
        {
            "modeller": modeller,
            "exposure": str(exposure),
            "first_round": first_round,
            "last_final_round": last_final,
            "attested": dep.oracle.functions.isAttested(raw).call(),
            "modeller_defaults": dep.factory.functions.defaultsOf(modeller).call(),
            "agreements": dep.factory.functions.agreementsForModel(raw, 0, min(count, PAGE)).call() if count else [],
        }
    )
    to, executable_at, _ = dep.oracle.functions.modellerChangeOf(raw).call()
    record["modeller_change"] = None if to == ZERO else {"to": to, "executable_at": executable_at}
    return record


def _promise_words(dep, raw: bytes) -> str | None:
    """Whether the modeller states he commits every round of the model, in words (None without a SubmissionLog)."""
    from backing.client.submission_cmd import expectation, expectation_words, submission_log

    if not dep.manifest.address("SubmissionLog"):
        return None
    return expectation_words(expectation(dep, submission_log(dep), raw))


def model_page(dep, text: str) -> dict:
    """One model: its record at the oracle (modeller, attestation, the modeller's defaults, posted rounds), its
    agreements and series, and its predictions commitments (rounds committed in time, late, missed, open; each
    commitment that counts, and how many were ignored) by ISubmissionLog's rules, as `backing model show` and
    `backing consistency` count them."""
    from backing.client.submission_cmd import commitment_report, expectation_words, submission_log

    try:
        raw = model_id(text)
    except CliError:
        raise ApiError(400, f"{text!r} is not a model UUID") from None
    record = model_record(dep, raw)
    if not record["registered"]:
        raise ApiError(404, f"model {record['model']} is not registered at this deployment's oracle: check the UUID")
    label = record["model"]
    record["agreement_rows"] = list_agreements(dep, {"model": label})
    record["series"] = list_series(dep, {"model": label})
    record["commitments"] = None
    record["commitment_log"] = bool(dep.manifest.address("SubmissionLog"))
    if record["commitment_log"]:
        report = commitment_report(dep, submission_log(dep), raw)
        summary, closes = report.record, report.closes
        record["commitments"] = {
            "record": summary.as_dict() if summary else None,
            "summary": summary.summary() if summary else "none recorded",
            "list": [
                {
                    "round": r,
                    "hash": "0x" + c["hash"].hex(),
                    "committer": c["committer"],
                    "time": c["time"],
                    "block": c["block"],
                    "in_time": not closes.get(r) or c["time"] < closes[r],
                }
                for r, c in sorted(report.counted.items())
            ],
            "ignored": len(report.ignored),
            "expected": report.expected,
            "expected_words": expectation_words(report.expected),
        }
    return record


def agreement_detail(dep, address: str, units: int | None = None, backer: str | None = None) -> dict:
    """One agreement: its state and terms in words, the model's record, and (for `units`) the worked table of
    what a backer of that many units receives for a few final values, by the reference model."""
    from web3 import Web3

    agreement = _agreement(dep, address)
    now = chain_now(dep.w3)
    if backer and not Web3.is_address(backer):
        raise ApiError(400, f"backer: {backer!r} is not an address")
    state, terms = _summary(dep, agreement, now, Web3.to_checksum_address(backer) if backer else None)
    state["record"] = model_record(dep, terms.model_id)
    state["commitments_promise"] = _promise_words(dep, terms.model_id)
    state["now"] = now
    units = units or terms.min_units
    state["what_if_units"] = units
    state["what_if"] = what_if(terms, state, units, now)
    # fewer paths for long lockups: the page answers within a second or so
    paths = min(OUTCOME_PATHS, max(200, 2_000_000 // terms.lockup_rounds))
    state["outcomes"] = outcome_distribution(terms, state, state["record"], units, paths)
    return state


def positions(dep, who: str) -> list[dict]:
    """Every agreement position of `who`: units, what was paid in, what is claimable now."""
    from web3 import Web3

    if not Web3.is_address(who):
        raise ApiError(400, f"{who!r} is not an address")
    who = Web3.to_checksum_address(who)
    now = chain_now(dep.w3)
    count = dep.factory.functions.agreementCount().call()
    rows = []
    for start in range(0, count, PAGE):
        for address in dep.factory.functions.agreements(start, PAGE).call():
            agreement = dep.w3.eth.contract(address=address, abi=abi("BackingAgreement"))
            units, claimed = agreement.functions.positionOf(who).call()
            if units == 0:
                continue
            state, terms = _summary(dep, agreement, now, who)
            rows.append(
                {
                    "agreement": address,
                    "model": state["model"],
                    "phase": state["phase"],
                    "phase_words": state["phase_words"],
                    "units": units,
                    "paid_in": str(units * terms.unit_size),
                    "claimed": claimed,
                    "claimable": state["position"]["claimable"],
                }
            )
    return rows


def terms_json(terms_tuple: tuple) -> list:
    """The Terms struct for the browser's wallet: the model id as 0x hex, uints as decimal strings (JSON numbers
    lose precision), the staking address and the attestation flag as they are."""
    model_id, *rest = terms_tuple
    return ["0x" + bytes(model_id).hex()] + [
        str(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in rest
    ]


def check_terms(dep, form: dict) -> dict:
    """Terms from the modeller's form, checked by the contract's rules at the chain's time: every violation
    next to its field, or the arguments of ``createAgreement`` and a preview of what backers would receive."""
    now = chain_now(dep.w3)
    ladder = form.get("fee_ladder")
    if isinstance(ladder, str):
        form = dict(form, fee_ladder=_ladder_text(ladder))
    terms, errors = field_errors(form, now)
    if errors:
        return {"ok": False, "errors": errors}
    owner = dep.oracle.functions.modelInfo(terms.model_id).call()[0]
    notes = []
    if owner == ZERO:
        errors["model_id"] = (
            f"model {model_label(terms.model_id)} is not registered at the oracle: ask the oracle operators to "
            "register it to your address (`backing model register`)"
        )
        return {"ok": False, "errors": errors}
    if not dep.oracle.functions.isAttested(terms.model_id).call():
        if terms.require_attested_model:
            errors["require_attested_model"] = (
                f"model {model_label(terms.model_id)} is not attested at the oracle, and these terms require it: "
                "ask the oracle's signers to attest it (`backing model attest`), or untick the box"
            )
            return {"ok": False, "errors": errors}
        notes.append("the model is not attested: backers will see that nobody checked you own it")
    state = {"phase": "Open", "units": 0, "reserve": "0"}
    preview = what_if(terms, state, terms.min_units, now)
    return {
        "ok": True,
        "errors": {},
        "modeller": owner,
        "notes": notes,
        # createAgreement's arguments: the Terms struct (uints as decimal strings) and the fee ladder
        "terms": terms_json(terms.as_tuple()),
        "ladder": [[str(m), str(b)] for m, b in terms.ladder_tuples()],
        "required_reserve_at_min": str(terms.required_reserve(lock_amounts(terms, terms.min_units).staked)),
        "preview_units": terms.min_units,
        "preview": preview,
        "human": dump_terms(terms),
    }


#: The series form's own fields (beside an agreement's) and the terms key each feeds.
SERIES_FORM_FIELDS = {"clawback_share": "clawback", "clawback_agreements": "clawback", "commitments": "commitments"}


def check_series_terms(dep, form: dict) -> dict:
    """A series agreement's terms from the modeller's form: the agreement's fields as in ``check_terms``, plus
    ``clawback_share`` / ``clawback_agreements`` and ``commitments`` ("3:0.15, 5:0.1": agreements:profit share),
    checked by ``load_series_terms`` (the series contract's rules); every violation next to its field, or the
    arguments of ``openAgreement``."""
    from backing.client.series_cmd import open_args
    from backing.model.terms import TermsError, load_series_terms

    series_form = {k: form.pop(k) for k in list(form) if k in SERIES_FORM_FIELDS}
    result = check_terms(dep, form)
    if not result["ok"]:
        return result
    data = dict(result["human"])
    share, count = series_form.get("clawback_share") or "", series_form.get("clawback_agreements") or ""
    errors = {}
    if share or count:
        if not (share and count):
            missing = "clawback_agreements" if share else "clawback_share"
            errors[missing] = "give both the clawback share and how many agreements it covers, or neither"
        else:
            data["clawback"] = {"share": share, "agreements": _whole_text(count)}
    commitments = _ladder_text(series_form.get("commitments") or "")
    if commitments:
        data["commitments"] = (
            [{"agreements": t["min_units"], "profit_share": t["profit_share"]} for t in commitments]
            if isinstance(commitments, list)
            else commitments
        )
    if not errors:
        try:
            terms = load_series_terms(data, chain_now(dep.w3))
        except TermsError as error:
            field = "clawback_share" if error.field == "clawback" else (error.field or "commitments")
            errors[field] = str(error)
    if errors:
        return {"ok": False, "errors": errors}
    terms_tuple, ladder, clawback_bps, clawback_agreements, commitment_tuples = open_args(terms)
    return {
        **result,
        "kind": "series",
        "open_args": {
            "terms": terms_json(terms_tuple),
            "ladder": [[str(m), str(b)] for m, b in ladder],
            "clawback_bps": str(clawback_bps),
            "clawback_agreements": str(clawback_agreements),
            "commitments": [[str(a), str(b)] for a, b in commitment_tuples],
        },
    }


def _whole_text(text: str):
    """ "2" -> 2; other text stays text so that the terms loader names what is wrong with it."""
    return int(text) if str(text).strip().isdigit() else text


def _ladder_text(text: str):
    """ "5:0.4, 10:0.3" -> [{min_units: 5, profit_share: "0.4"}, ...]; text it cannot split stays text."""
    from decimal import Decimal, InvalidOperation

    tiers = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        units, _, share = part.partition(":")
        try:
            tiers.append({"min_units": int(units), "profit_share": Decimal(share.strip())})
        except (ValueError, InvalidOperation):
            return text
    return tiers or None


def explain(data: str, contract: str = "") -> dict:
    """A revert's data in plain words (the catalogue of ``backing.errors``)."""
    return {"reason": explain_revert(data, contract)}


#: The Monte Carlo on the agreement page: paths, bins of the histogram, and the seed (the same page, the same
#: numbers).
OUTCOME_PATHS = 2000
OUTCOME_BINS = 20
OUTCOME_SEED = 1


def outcome_distribution(terms, state: dict, record: dict, units: int, paths: int = OUTCOME_PATHS) -> dict | None:
    """What a backer of `units` receives over many lockups drawn from the model's own posted returns (each round
    of a path a posted round, drawn with replacement), by the reference model's exact math vectorised
    (``backing.montecarlo``: the oracle's index recurrence, then maturity, repayment in full and the claim).
    None when the model has no final round yet or the units cannot lock. Quantiles in wei, exactly."""
    import numpy as np

    from backing.montecarlo import MonteCarloError, growths, index_paths, make_position, settle

    returns = [int(r["return"]) for r in record.get("rounds", []) if not r["missed"]]
    if not returns:
        return None
    others = state["units"] if state["phase"] == "Open" else max(0, state["units"] - units)
    try:
        position = make_position(terms, units, min(terms.max_units, max(units + others, terms.min_units)))
    except MonteCarloError as error:
        return {"error": str(error)}
    rng = np.random.default_rng(OUTCOME_SEED)
    drawn = np.array(returns, dtype=np.int64)[rng.integers(0, len(returns), size=(paths, terms.lockup_rounds))]
    end_index, _ = index_paths(growths(drawn, int(record["exposure"])))
    received = sorted(int(x) for x in settle(position, end_index)["received"])
    paid = units * terms.unit_size
    low, high = received[0], received[-1]
    width = max(1, -(-(high - low) // OUTCOME_BINS))
    counts = [0] * OUTCOME_BINS
    for value in received:
        counts[min(OUTCOME_BINS - 1, (value - low) // width)] += 1

    def quantile(q: float) -> str:
        return str(received[min(paths - 1, int(q * paths))])

    return {
        "paths": paths,
        "units": units,
        "total_units": position.total_units,
        "rounds_drawn_from": len(returns),
        "paid_in": str(paid),
        "p5": quantile(0.05),
        "median": quantile(0.5),
        "p95": quantile(0.95),
        "loss_paths": sum(1 for v in received if v < paid),
        "bins": [
            {"from": str(low + i * width), "to": str(low + (i + 1) * width), "count": c} for i, c in enumerate(counts)
        ],
    }


# ---------------------------------------------------------------------------------------------- series


def list_series(dep, query: dict) -> list[dict]:
    """The deployment's series (from the factory's SeriesCreated events), each with its latest agreement's phase
    and, while it is open, its room left; filters: model (UUID), open=1."""
    from backing.client.series_cmd import agreement_state as series_agreement
    from backing.client.series_cmd import first_block, opened_terms

    if dep.series_factory is None:
        return []
    now = chain_now(dep.w3)
    rows = []
    for log in dep.series_factory.events.SeriesCreated().get_logs(from_block=first_block(dep)):
        event = log["args"]
        label = model_label(bytes(event["modelId"]))
        if query.get("model") and query["model"].lower() not in (label.lower(), "0x" + bytes(event["modelId"]).hex()):
            continue
        series = dep.w3.eth.contract(address=event["series"], abi=abi("BackingSeries"))
        count = series.functions.agreementCount().call()
        latest = series_agreement(dep, series, count - 1, opened_terms(dep, series)) if count else None
        taking = bool(latest and latest["phase"] == "Open" and int(latest["room"]) > 0 and now <= latest["open_until"])
        if query.get("open") in ("1", "true") and not taking:
            continue
        rows.append(
            {
                "address": event["series"],
                "model": label,
                "modeller": event["modeller"],
                "price": str(series.functions.price().call()),
                "ended": series.functions.ended().call(),
                "agreements": count,
                "latest": latest,
                "taking_deposits": taking,
            }
        )
    return rows


def series_detail(dep, address: str, backer: str | None = None, units: int | None = None) -> dict:
    """One series: each agreement's phase, capital and terms in words, the price, `backer`'s positions, and for
    the latest agreement (open or locked) the worked table of what a fresh position of `units` units receives."""
    from web3 import Web3

    from backing.client.series_cmd import series_at, series_state
    from backing.client.series_cmd import terms_words as series_terms_words
    from backing.client.series_cmd import what_if as series_what_if

    try:
        series = series_at(dep, address)
    except CliError as error:
        raise ApiError(404, str(error)) from None
    if backer and not Web3.is_address(backer):
        raise ApiError(400, f"backer: {backer!r} is not an address")
    state, terms = series_state(dep, series, Web3.to_checksum_address(backer) if backer else None)
    for row in state["agreements"]:
        known = terms.get(row["index"])
        row["words"] = series_terms_words(known[0]) if known else "terms not found in the series' events"
        if known:
            row["unit_size"] = str(known[0].base.unit_size)
    state["now"] = chain_now(dep.w3)
    state["record"] = model_record(dep, bytes(series.functions.modelId().call()))
    state["what_if"] = None
    if state["agreements"]:
        latest = state["agreements"][-1]
        known = terms.get(latest["index"])
        if known and latest["phase"] in ("Open", "Locked"):
            count = units or known[0].base.min_units
            try:
                rows = series_what_if(known[0], latest, count)
            except CliError as error:
                raise ApiError(400, str(error).replace("--units", "units")) from None
            state["what_if"] = {"index": latest["index"], "units": count, "rows": rows}
    return state

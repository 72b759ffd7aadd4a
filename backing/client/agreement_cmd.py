"""The modeller's and the backer's commands on a deployed protocol.

    backing model claim|register|attest|show
    backing agreement create TERMS|list|show|reserve|lock|mature|repay|cancel|default|sweep
    backing deposit|withdraw|claim AGREEMENT ...;  backing position [ADDRESS]

Every amount is in NMR as typed (``12.5``) and printed exactly (to the wei); ``--json`` prints wei as decimal
strings. An agreement address must belong to the manifest's AgreementFactory.
"""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path

from backing.client import (
    EXIT_ACCOUNT,
    EXIT_REFUSED,
    EXIT_USAGE,
    CliError,
)
from backing.client.chainread import (  # noqa: F401  (also importable from here, as before the split)
    PAGE,
    ZERO,
    _short,
    address_arg,
    agreement_at,
    amount,
    chain_now,
    check_balance,
    events,
    model_id,
    model_label,
    terms_of,
    with_allowance,
)
from backing.client.contracts import abi
from backing.client.errors import PHASES, explain
from backing.client.node import load_deployment
from backing.client.options import command_parser, handler, print_json, sender
from backing.client.tx import Call, nmr
from backing.model.agreement import Agreement, Terms, lock_amounts
from backing.model.terms import expects_commitments, load_terms_file, read_terms_file
from oracle.units import ONE

# ---------------------------------------------------------------------------------------------- model


@handler
def cmd_model_claim(args) -> int:
    from backing.client.wallet import load_account
    from oracle.attest import statement

    model = str(uuidlib.UUID(args.model)) if not args.model.startswith("0x") else args.model
    account = load_account(args)
    line = statement(account, model)
    print(
        "Put this line in your public Numerai profile (the model owner's bio), then ask the oracle operators "
        "to attest it:"
    )
    print(line)
    return 0


def _signer_accounts(args) -> list:
    from backing.client.wallet import unlock

    if not args.signer_keystore:
        raise CliError(EXIT_USAGE, "give the signers' keystores: --signer-keystore FILE (repeat, a quorum of them)")
    return [unlock(Path(p), args.password_file, f"signer keystore {p}") for p in args.signer_keystore]


def _signed(dep, primary: str, message: dict, signers) -> list[bytes]:
    from oracle import typed_data as td

    domain = td.Domain(dep.chain_id, dep.oracle.address)
    known = {a.lower() for a in dep.oracle.functions.signers().call()}
    for account in signers:
        if account.address.lower() not in known:
            raise CliError(EXIT_ACCOUNT, f"{account.address} is not one of the oracle's signers")
    quorum = dep.oracle.functions.quorum().call()
    if len(signers) < quorum:
        raise CliError(EXIT_USAGE, f"{len(signers)} signer keystores given, the oracle's quorum is {quorum}")
    return td.ordered(td.sign(domain, primary, message, signers))


@handler
def cmd_model_register(args) -> int:
    from oracle import typed_data as td

    dep = load_deployment(args)
    raw = model_id(args.model)
    modeller = address_arg(dep.w3, args.modeller, "--modeller")
    exposure = amount("--exposure", args.exposure)
    first_round = args.first_round
    if first_round is None:
        try:
            first_round = dep.oracle.functions.nextStartRound().call()
        except Exception:  # noqa: BLE001 -- no round announced yet, or the schedule is stale
            first_round = max(1, dep.oracle.functions.currentRound().call())
    deadline = chain_now(dep.w3) + args.valid_for
    message = td.registration_message(raw, modeller, exposure, first_round, deadline)
    signatures = _signed(dep, "ModelRegistration", message, _signer_accounts(args))
    sending = sender(args, dep.w3, dep.chain_id)
    call = Call(
        "ScoreOracle",
        "registerModel",
        (raw, modeller, exposure, first_round, deadline, signatures),
        dep.oracle,
        f"model {model_label(raw)}, modeller {modeller}, exposure {exposure / ONE:g}, first round "
        f"{first_round}, {len(signatures)} signatures",
        outcome=lambda r: f"model {model_label(raw)} registered to {modeller} from round {first_round}",
    )
    sending.run([call], "Register a model at the oracle:")
    return 0


@handler
def cmd_model_attest(args) -> int:
    from oracle import typed_data as td
    from oracle.attest import find_attestation

    dep = load_deployment(args)
    raw = model_id(args.model)
    modeller = dep.oracle.functions.modelInfo(raw).call()[0]
    if modeller == ZERO:
        raise CliError(EXIT_REFUSED, explain("ModelNotRegistered", (raw,)))
    try:
        profile = Path(args.profile).read_text()
    except OSError as error:
        raise CliError(EXIT_USAGE, f"cannot read {args.profile}: {error.strerror}") from None
    evidence = find_attestation(profile, modeller, model_label(raw))
    if evidence is None and not args.withdraw:
        raise CliError(
            EXIT_REFUSED,
            f"the profile text does not prove {modeller} owns the model (neither the address "
            "nor a signed statement from `backing model claim`); nothing sent",
        )
    evidence = evidence or td.to_bytes32(b"")
    nonce = dep.oracle.functions.attestationNonce(raw).call()
    deadline = chain_now(dep.w3) + args.valid_for
    attested = not args.withdraw
    message = td.attestation_message(raw, modeller, attested, evidence, nonce, deadline)
    signatures = _signed(dep, "ModelAttestation", message, _signer_accounts(args))
    sending = sender(args, dep.w3, dep.chain_id)
    call = Call(
        "ScoreOracle",
        "attestModel",
        (raw, modeller, attested, evidence, deadline, signatures),
        dep.oracle,
        f"model {model_label(raw)}, modeller {modeller}, {'attested' if attested else 'withdrawn'}",
        outcome=lambda r: f"model {model_label(raw)} {'attested' if attested else 'no longer attested'}",
    )
    sending.run([call], "Attest a model's ownership at the oracle:")
    return 0


@handler
def cmd_model_show(args) -> int:
    dep = load_deployment(args)
    raw = model_id(args.model)
    modeller, exposure, first_round, last_final = dep.oracle.functions.modelInfo(raw).call()
    registered = modeller != ZERO
    data = {"model": model_label(raw), "model_id": "0x" + raw.hex(), "registered": registered}
    if registered:
        last_posted = dep.oracle.functions.lastPostedRound(raw).call()
        rounds = []
        for r in range(max(first_round, last_final - args.rounds + 1), last_final + 1):
            index, ret, missed = dep.oracle.functions.roundRecord(raw, r).call()
            rounds.append({"round": r, "return": str(ret), "index": str(index), "missed": missed})
        count = dep.factory.functions.agreementCountForModel(raw).call()
        agreements = dep.factory.functions.agreementsForModel(raw, 0, min(count, PAGE)).call() if count else []
        data.update(
            {
                "modeller": modeller,
                "exposure": str(exposure),
                "first_round": first_round,
                "last_final_round": last_final,
                "last_posted_round": last_posted,
                "attested": dep.oracle.functions.isAttested(raw).call(),
                "rounds": rounds,
                "agreements": agreements,
                "modeller_defaults": dep.factory.functions.defaultsOf(modeller).call(),
            }
        )
        to, executable_at, _ = dep.oracle.functions.modellerChangeOf(raw).call()
        data["modeller_change"] = None if to == ZERO else {"to": to, "executable_at": executable_at}
        if dep.series_factory is not None:
            data["series"] = dep.series_factory.functions.seriesForModel(raw).call()
        from backing.client.submission_cmd import model_show_lines, utc

        commitments, commitment_lines = model_show_lines(dep, raw)
        data.update(commitments)
    if args.json:
        print_json(data)
        return 0
    print(f"model {data['model']}")
    if not registered:
        print("  not registered at the oracle: `backing model register` (needs the oracle signers' quorum)")
        return 0
    print(f"  modeller          {modeller} ({data['modeller_defaults']} defaults recorded)")
    print(f"  attested          {'yes' if data['attested'] else 'no (backers cannot tell the modeller owns it)'}")
    if data["modeller_change"]:
        change = data["modeller_change"]
        print(
            f"  modeller change   the oracle signers proposed {change['to']} as the modeller, executable from "
            f"{utc(change['executable_at'])}: agreements and series made before keep {modeller}, his series then "
            "open no new agreement"
        )
    print(f"  exposure          {exposure / ONE:.6g} of the stake per round")
    print(f"  rounds            first {first_round}, final through {last_final}, posted through {last_posted}")
    for r in data["rounds"]:
        ret = int(r["return"])
        print(
            f"    round {r['round']}: "
            + ("missed" if r["missed"] else f"return {ret / ONE * 100:+.4f}%")
            + f", index {int(r['index']) / ONE:.6f}"
        )
    print(f"  agreements        {', '.join(data['agreements']) or 'none'}")
    if "series" in data:
        print(f"  series            {', '.join(data['series']) or 'none'}")
    for line in commitment_lines:
        print(line)
    return 0


# ---------------------------------------------------------------------------------------------- agreement


@handler
def cmd_create(args) -> int:
    dep = load_deployment(args)
    now = chain_now(dep.w3)
    terms = load_terms_file(args.terms, now)  # the checks of `backing terms check`, at the chain's time
    promise = expects_commitments(read_terms_file(args.terms))
    sending = sender(args, dep.w3, dep.chain_id)
    owner = dep.oracle.functions.modelInfo(terms.model_id).call()[0]
    if owner == ZERO:
        raise CliError(
            EXIT_REFUSED,
            f"model {model_label(terms.model_id)} is not registered at the oracle: ask the "
            "oracle operators to register it (`backing model register`); nothing sent",
        )
    if owner != sending.address:
        raise CliError(
            EXIT_REFUSED, explain("NotModelOwner", (terms.model_id, sending.address, owner)) + "; nothing sent"
        )
    if not dep.oracle.functions.isAttested(terms.model_id).call():
        print(
            f"note: model {model_label(terms.model_id)} is not attested: backers will see that nobody checked "
            "you own it (`backing model claim`)"
        )
    try:
        dep.oracle.functions.nextStartRound().call()
    except Exception as error:  # noqa: BLE001
        from backing.client.tx import refusal

        print(f"note: locking is not possible right now ({str(refusal(error, 'lock')).split(': ', 1)[1]})")
    created = {}

    def outcome(receipt):
        found = events(dep.factory, "AgreementCreated", receipt)
        created["address"] = found[0]["args"]["agreement"] if found else None
        return f"agreement {created['address']} created for model {model_label(terms.model_id)}"

    capacity = terms.max_units * terms.unit_size
    call = Call(
        "AgreementFactory",
        "createAgreement",
        (terms.as_tuple(), terms.ladder_tuples()),
        dep.factory,
        f"model {model_label(terms.model_id)}, {terms.min_units}-{terms.max_units} units of "
        f"{nmr(terms.unit_size)} (capacity {nmr(capacity)}), profit share {terms.profit_share_bps / 100:g}%, "
        f"burn share {terms.burn_share_bps / 100:g}%, reserve {terms.reserve_ratio_bps / 100:g}%, upfront "
        f"fee {terms.upfront_fee_bps / 100:g}%, {terms.lockup_rounds} rounds",
        outcome=outcome,
    )
    calls = [call]
    if promise:  # stated before the agreement exists, so no backer sees the agreement without it
        from backing.client.submission_cmd import expect_call

        stated = expect_call(dep, terms.model_id, model_label(terms.model_id))
        calls = [stated, call] if stated else calls
    sending.run(calls, "Create an agreement:")
    if created.get("address"):
        print(f"agreement {created['address']}")
    return 0


def agreement_state(dep, agreement, backer: str | None = None) -> dict:
    f = agreement.functions
    terms = terms_of(agreement)
    phase = f.phase().call()
    total_units, backers, _ = f.totals().call()
    state = {
        "address": agreement.address,
        "model": model_label(terms.model_id),
        "modeller": f.modeller().call(),
        "phase": PHASES[phase],
        "units": total_units,
        "backers": backers,
        "capacity_units": terms.max_units,
        # what can still be deposited: the capacity left, or less once a posted reserve caps it (issue 12 L-1)
        "open_units": f.depositRoom().call() if phase == 0 else 0,
        "unit_size": str(terms.unit_size),
        "min_units": terms.min_units,
        "profit_share_bps": terms.profit_share_bps,
        "burn_share_bps": terms.burn_share_bps,
        "reserve_ratio_bps": terms.reserve_ratio_bps,
        "upfront_fee_bps": terms.upfront_fee_bps,
        "lockup_rounds": terms.lockup_rounds,
        "open_until": terms.open_until,
        "wind_down": terms.wind_down,
        "staking_address": terms.staking_address,
        "require_attested_model": terms.require_attested_model,
        "fee_ladder": [{"min_units": t.min_units, "profit_share_bps": t.profit_share_bps} for t in terms.fee_ladder],
        "reserve": str(f.reserve().call()),
        "required_reserve": str(terms.required_reserve(lock_amounts(terms, total_units).staked)),
        "repaid": str(f.repaid().call()),
    }
    if phase != 0 and phase != 5:
        start = f.startRound().call()
        state.update(
            {
                "start_round": start,
                "end_round": start + terms.lockup_rounds - 1,
                "staked": str(f.stakedCapital().call()),
                "upfront_fee": str(f.upfrontFee().call()),
            }
        )
    if phase in (2, 3, 4):
        state.update(
            {
                "final_value": str(f.finalValue().call()),
                "amount_due": str(f.amountDue().call()),
                "owed_total": str(f.owedTotal().call()),
                "deadline": f.deadline().call(),
                "outstanding": str(max(0, f.amountDue().call() - f.repaid().call())),
            }
        )
    if phase in (3, 4, 5):
        state["reserve_returned"] = str(f.reserveReturned().call())
    if backer:
        units, claimed = f.positionOf(backer).call()
        state["position"] = {
            "backer": backer,
            "units": units,
            "claimed": claimed,
            "claimable": str(f.claimable(backer).call()),
        }
    return state, terms


def what_if(terms: Terms, state: dict, units: int, now: int) -> list[dict]:
    """What a backer of `units` receives for a few final values (reference model, others' units as they stand)."""
    total = max(state["units"], units) if state["phase"] == "Open" else state["units"]
    others = total - units
    staked = lock_amounts(terms, total).staked if state["phase"] == "Open" else int(state.get("staked", 0))
    if staked == 0:
        return []
    reserve = max(int(state["reserve"]), terms.required_reserve(staked))
    rows = []
    for ratio in ("0.5", "0.9", "1", "1.1", "1.5"):
        final_value = staked * int(float(ratio) * 100) // 100
        a = Agreement(terms=terms, modeller="modeller")
        when = min(now, terms.open_until)
        if reserve:
            a.post_reserve("modeller", reserve)
        a.deposit("you", units, when)
        if others:
            a.deposit("others", others, when)
        a.lock("modeller", when, start_round=1)
        a.mature(when, start_index=a.locked.staked, end_index=final_value)
        a.repay("modeller", a.matured.amount_due - a.repaid)
        rows.append(
            {
                "final_value": str(final_value),
                "ratio": ratio,
                "receives": str(a.claim("you")),
                "paid_in": str(units * terms.unit_size),
            }
        )
    return rows


@handler
def cmd_show(args) -> int:
    dep = load_deployment(args)
    agreement = agreement_at(dep, args.agreement)
    backer = address_arg(dep.w3, args.backer, "--backer") if args.backer else None
    state, terms = agreement_state(dep, agreement, backer)
    if args.units:
        state["what_if"] = what_if(terms, state, args.units, chain_now(dep.w3))
    if args.json:
        print_json(state)
        return 0
    from backing.report import duration

    now = chain_now(dep.w3)
    print(f"agreement {state['address']}: {state['phase']}")
    print(f"  model {state['model']}, modeller {state['modeller']}")
    print(
        f"  units {state['units']} of {terms.max_units} sold to {state['backers']} backers "
        f"({nmr(terms.unit_size)} each; at least {terms.min_units} to lock)"
    )
    print(
        f"  the modeller keeps {terms.profit_share_bps / 100:g}% of gains and covers {terms.burn_share_bps / 100:g}% "
        f"of losses from a reserve of {terms.reserve_ratio_bps / 100:g}% of the stake; upfront fee "
        f"{terms.upfront_fee_bps / 100:g}%; {terms.lockup_rounds} rounds"
    )
    for tier in terms.fee_ladder:
        print(f"  from {tier.min_units} units a backer pays {tier.profit_share_bps / 100:g}% of gains")
    if terms.require_attested_model:
        print("  it locks only while the oracle attests the model (the terms require it)")
    print(f"  reserve {nmr(int(state['reserve']))} posted (needed to lock now: {nmr(int(state['required_reserve']))})")
    if state["phase"] == "Open":
        left = terms.open_until - now
        print(
            f"  deposits open {'for ' + duration(left) if left > 0 else 'no longer'}; staking address "
            f"{terms.staking_address}"
        )
        if state["open_units"] < terms.max_units - state["units"]:
            print(
                f"  room for {state['open_units']} more units: the posted reserve covers no more (the modeller "
                f"tops it up to take more)"
            )
    if "start_round" in state:
        print(
            f"  staked {nmr(int(state['staked']))} for rounds {state['start_round']}-{state['end_round']} "
            f"(upfront fee {nmr(int(state['upfront_fee']))})"
        )
    if "amount_due" in state:
        print(
            f"  final value {nmr(int(state['final_value']))}; amount due {nmr(int(state['amount_due']))}, repaid "
            f"{nmr(int(state['repaid']))}, outstanding {nmr(int(state['outstanding']))}"
        )
        if state["phase"] == "Matured":
            left = state["deadline"] - now
            when = "in " + duration(left) if left > 0 else "passed: anyone may declare a default"
            print(f"  repayment deadline {when}")
    if "position" in state:
        p = state["position"]
        print(
            f"  {p['backer']}: {p['units']} units, claimable {nmr(int(p['claimable']))}"
            f"{' (claimed)' if p['claimed'] else ''}"
        )
    for row in state.get("what_if", []):
        print(
            f"  if the stake ends at {nmr(int(row['final_value']))} (x{row['ratio']}), {args.units} units paying "
            f"{nmr(int(row['paid_in']))} receive {nmr(int(row['receives']))}"
        )
    return 0


@handler
def cmd_list(args) -> int:
    dep = load_deployment(args)
    if args.model:
        raw = model_id(args.model)
        count = dep.factory.functions.agreementCountForModel(raw).call()
        addresses = dep.factory.functions.agreementsForModel(raw, 0, count).call() if count else []
    elif args.modeller:
        who = address_arg(dep.w3, args.modeller, "--modeller")
        count = dep.factory.functions.agreementCountOf(who).call()
        addresses = dep.factory.functions.agreementsOf(who, 0, count).call() if count else []
    else:
        count = dep.factory.functions.agreementCount().call()
        addresses = dep.factory.functions.agreements(0, count).call() if count else []
    rows = []
    for address in addresses:
        agreement = dep.w3.eth.contract(address=address, abi=abi("BackingAgreement"))
        state, _ = agreement_state(dep, agreement)
        if args.phase and state["phase"].lower() != args.phase.lower():
            continue
        if args.open and not (state["phase"] == "Open" and state["open_units"] > 0):
            continue
        rows.append(state)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no agreements match")
    for s in rows:
        print(
            f"{s['address']}  {s['phase']:<9} model {s['model']}  {s['units']}/{s['capacity_units']} units of "
            f"{nmr(int(s['unit_size']))}  profit share {s['profit_share_bps'] / 100:g}%"
        )
    return 0


def _simple(function: str, title: str, words: str = "", modeller_only: bool = False):
    @handler
    def run(args) -> int:
        dep = load_deployment(args)
        agreement = agreement_at(dep, args.agreement)
        sending = sender(args, dep.w3, dep.chain_id)

        def outcome(receipt):
            state, _ = agreement_state(dep, agreement)
            extra = ""
            if state["phase"] == "Locked":
                extra = f": {nmr(int(state['staked']))} staked for rounds {state['start_round']}-{state['end_round']}"
            elif state["phase"] == "Matured":
                extra = f": final value {nmr(int(state['final_value']))}, amount due {nmr(int(state['amount_due']))}"
            return f"the agreement is {state['phase']}{extra}"

        sending.run([Call(_short(agreement.address), function, (), agreement, words, outcome=outcome)], title)
        return 0

    return run


@handler
def cmd_reserve(args) -> int:
    dep = load_deployment(args)
    agreement = agreement_at(dep, args.agreement)
    sending = sender(args, dep.w3, dep.chain_id)
    state, terms = agreement_state(dep, agreement)
    if args.amount:
        value = amount("AMOUNT", args.amount)
    else:
        value = max(0, int(state["required_reserve"]) - int(state["reserve"]))
        if value == 0:
            print(f"the reserve ({nmr(int(state['reserve']))}) already covers what locking needs now")
            return 0
    check_balance(dep, sending.address, value, "the reserve")
    calls = with_allowance(args, dep, sending, agreement.address, value, _short(agreement.address))
    calls.append(
        Call(
            _short(agreement.address),
            "postReserve",
            (value,),
            agreement,
            nmr(value),
            after_previous=bool(calls),
            outcome=lambda r: f"reserve now {nmr(agreement.functions.reserve().call())}",
        )
    )
    sending.run(calls, f"Post {nmr(value)} of reserve:")
    return 0


@handler
def cmd_repay(args) -> int:
    dep = load_deployment(args)
    agreement = agreement_at(dep, args.agreement)
    sending = sender(args, dep.w3, dep.chain_id)
    state, _ = agreement_state(dep, agreement)
    if state["phase"] != "Matured":
        raise CliError(EXIT_REFUSED, explain("WrongPhase", (PHASES.index(state["phase"]),)) + "; nothing sent")
    outstanding = int(state["outstanding"])
    value = amount("AMOUNT", args.amount) if args.amount else outstanding
    if value > outstanding:
        raise CliError(EXIT_REFUSED, explain("RepaymentExceedsDue", (value, outstanding)) + "; nothing sent")
    check_balance(dep, sending.address, value, "the repayment")
    calls = with_allowance(args, dep, sending, agreement.address, value, _short(agreement.address))

    def outcome(receipt):
        s, _ = agreement_state(dep, agreement)
        return f"repaid {nmr(value)}; the agreement is {s['phase']}" + (
            f", {nmr(int(s['outstanding']))} still due" if s["phase"] == "Matured" else ""
        )

    calls.append(
        Call(
            _short(agreement.address),
            "repay",
            (value,),
            agreement,
            f"{nmr(value)} of {nmr(outstanding)} outstanding",
            after_previous=bool(calls),
            outcome=outcome,
        )
    )
    sending.run(calls, f"Repay {nmr(value)}:")
    return 0


# ---------------------------------------------------------------------------------------------- backer


@handler
def cmd_deposit(args) -> int:
    dep = load_deployment(args)
    agreement = agreement_at(dep, args.agreement)
    sending = sender(args, dep.w3, dep.chain_id)
    state, terms = agreement_state(dep, agreement)
    units = args.units
    if units <= 0:
        raise CliError(EXIT_USAGE, "UNITS must be a whole number of at least 1")
    if state["phase"] != "Open":
        raise CliError(EXIT_REFUSED, explain("WrongPhase", (PHASES.index(state["phase"]),)) + "; nothing sent")
    if chain_now(dep.w3) > terms.open_until:
        raise CliError(EXIT_REFUSED, explain("DepositWindowClosed", (terms.open_until,)) + "; nothing sent")
    capacity_left = terms.max_units - state["units"]
    if units > capacity_left:
        raise CliError(EXIT_REFUSED, explain("CapacityExceeded", (units, capacity_left)) + "; nothing sent")
    # beyond what the posted reserve covers (state["open_units"]): the contract's own refusal, simulated before
    # anything is sent, says so with the reserve it would need (DepositBeyondReserve)
    cost = units * terms.unit_size
    check_balance(dep, sending.address, cost, f"{units} units")
    calls = with_allowance(args, dep, sending, agreement.address, cost, _short(agreement.address))

    def outcome(receipt):
        held, _ = agreement.functions.positionOf(sending.address).call()
        return f"deposited {nmr(cost)} for {units} units; you hold {held} units"

    calls.append(
        Call(
            _short(agreement.address),
            "deposit",
            (units,),
            agreement,
            f"{units} units = {nmr(cost)}",
            after_previous=bool(calls),
            outcome=outcome,
        )
    )
    sending.run(calls, f"Deposit {units} units ({nmr(cost)}):")
    return 0


@handler
def cmd_withdraw(args) -> int:
    dep = load_deployment(args)
    agreement = agreement_at(dep, args.agreement)
    sending = sender(args, dep.w3, dep.chain_id)
    terms = terms_of(agreement)
    value = args.units * terms.unit_size
    call = Call(
        _short(agreement.address),
        "withdraw",
        (args.units,),
        agreement,
        f"{args.units} units = {nmr(value)}",
        outcome=lambda r: f"withdrew {nmr(value)}",
    )
    sending.run([call], f"Withdraw {args.units} units:")
    return 0


@handler
def cmd_claim(args) -> int:
    dep = load_deployment(args)
    agreement = agreement_at(dep, args.agreement)
    sending = sender(args, dep.w3, dep.chain_id)
    backer = address_arg(dep.w3, args.backer, "--for") if args.backer else sending.address
    expected = agreement.functions.claimable(backer).call()

    def outcome(receipt):
        paid = sum(e["args"]["amount"] for e in events(agreement, "Claimed", receipt))
        return f"claimed {nmr(paid)} for {backer}"

    call = Call(
        _short(agreement.address),
        "claim",
        (backer,),
        agreement,
        f"{backer} (claimable {nmr(expected)})",
        outcome=outcome,
    )
    sending.run([call], f"Claim {nmr(expected)}:")
    return 0


@handler
def cmd_position(args) -> int:
    from backing.client.wallet import account_address

    dep = load_deployment(args)
    if args.address:
        who = address_arg(dep.w3, args.address, "ADDRESS")
    elif args.account or args.keystore:
        who = account_address(args)
    else:
        raise CliError(EXIT_USAGE, "whose positions? give ADDRESS, or --account NAME")
    count = dep.factory.functions.agreementCount().call()
    rows = []
    for start in range(0, count, PAGE):
        for address in dep.factory.functions.agreements(start, PAGE).call():
            agreement = dep.w3.eth.contract(address=address, abi=abi("BackingAgreement"))
            units, claimed = agreement.functions.positionOf(who).call()
            if units == 0:
                continue
            state, terms = agreement_state(dep, agreement, who)
            value = units * terms.unit_size
            row = {
                "agreement": address,
                "phase": state["phase"],
                "units": units,
                "paid_in": str(value),
                "claimed": claimed,
                "claimable": state["position"]["claimable"],
                "owed": str(agreement.functions.owedTo(who).call())
                if state["phase"] in ("Matured", "Settled", "Defaulted")
                else None,
            }
            row["next"] = {
                "Open": f"deposits close at unix {terms.open_until}",
                "Locked": f"matures after round {state.get('end_round')}",
                "Matured": f"repayment due by unix {state.get('deadline')}",
            }.get(state["phase"], "claim" if not claimed and int(row["claimable"]) else "none")
            rows.append(row)
    from backing.client.series_cmd import series_positions

    series_rows = series_positions(dep, who)
    if args.json:
        print_json({"address": who, "positions": rows, "series_positions": series_rows})
        return 0
    if not rows and not series_rows:
        print(f"{who} holds no agreement or series positions")
    for r in rows:
        print(
            f"{r['agreement']}  {r['phase']:<9} {r['units']} units (paid {nmr(int(r['paid_in']))}), claimable "
            f"{nmr(int(r['claimable']))}{' (claimed)' if r['claimed'] else ''}; next: {r['next']}"
        )
    for r in series_rows:
        print(
            f"{r['series']}  position #{r['position']} in agreement {r['agreement']} ({r['phase']}): capital "
            f"{nmr(int(r['capital']))}, claimable {nmr(int(r['claimable']))}"
            f"{', rolled ' + nmr(int(r['rolled'])) if int(r['rolled']) else ''}; next: {r['next']}"
        )
    return 0


# ---------------------------------------------------------------------------------------------- parsers


_parser = command_parser


def _signer_options(p):
    p.add_argument(
        "--signer-keystore",
        action="append",
        default=[],
        metavar="FILE",
        help="an oracle signer's keystore (repeat up to the quorum; same password file)",
    )
    p.add_argument(
        "--valid-for",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="how long the signatures stay valid (default 3600)",
    )


def add_parsers(commands) -> None:
    model = commands.add_parser("model", help="a Numerai model at the oracle: claim, register, attest, show")
    m = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    p = m.add_parser("claim", help="the line to put in your Numerai profile to prove you own the model")
    p.add_argument("model", metavar="MODEL_UUID")
    from backing.client.options import add_account

    add_account(p)
    p.set_defaults(handler=cmd_model_claim, now=None)
    p = _parser(
        m, "register", "register a model to its modeller (signed by the oracle's signer quorum)", cmd_model_register
    )
    p.add_argument("model", metavar="MODEL_UUID")
    p.add_argument("--modeller", required=True, metavar="ADDRESS", help="who may offer agreements on the model")
    p.add_argument("--exposure", default="1", metavar="X", help="fraction of the stake at risk per round (default 1)")
    p.add_argument("--first-round", type=int, metavar="N", help="first round reported (default the next one)")
    _signer_options(p)
    p = _parser(m, "attest", "attest (or withdraw) that the model owner's profile names the modeller", cmd_model_attest)
    p.add_argument("model", metavar="MODEL_UUID")
    p.add_argument("--profile", required=True, metavar="FILE", help="the owner's public profile text, as fetched")
    p.add_argument("--withdraw", action="store_true", help="withdraw the attestation")
    _signer_options(p)
    p = _parser(
        m,
        "show",
        "a model's record: modeller, attestation, rounds, agreements, defaults",
        cmd_model_show,
        sending=False,
        json_out=True,
    )
    p.add_argument("model", metavar="MODEL_UUID")
    p.add_argument("--rounds", type=int, default=20, metavar="N", help="show the last N final rounds (default 20)")

    agreement = commands.add_parser(
        "agreement", help="backing agreements: create, list, show, and the modeller's " "actions"
    )
    a = agreement.add_subparsers(dest="agreement_command", metavar="ACTION", required=True)
    p = _parser(a, "create", "offer an agreement on your registered model from a terms file", cmd_create)
    p.add_argument("terms", metavar="TERMS", help="terms file (see `backing terms check --help`)")
    p = _parser(a, "list", "agreements of this deployment", cmd_list, sending=False, json_out=True)
    p.add_argument("--model", metavar="UUID")
    p.add_argument("--modeller", metavar="ADDRESS")
    p.add_argument("--phase", choices=[ph.lower() for ph in PHASES], type=str.lower)
    p.add_argument("--open", action="store_true", help="only agreements still taking deposits with units left")
    p = _parser(
        a,
        "show",
        "an agreement: terms in words, phase, units, reserve, amounts due, deadlines",
        cmd_show,
        sending=False,
        json_out=True,
    )
    p.add_argument("agreement", metavar="AGREEMENT")
    p.add_argument("--backer", metavar="ADDRESS", help="also show this backer's position")
    p.add_argument("--units", type=int, metavar="N", help="what N units would receive for a few final values")
    p = _parser(a, "reserve", "post reserve (default: what locking needs now)", cmd_reserve)
    p.add_argument("agreement", metavar="AGREEMENT")
    p.add_argument("amount", nargs="?", metavar="NMR")
    p.add_argument("--no-approve", action="store_true", help="do not send an NMR approval; fail if one is needed")
    for name, function, title in (
        ("lock", "lock", "Lock the agreement (stake the capital):"),
        ("mature", "mature", "Mature the agreement (fix the final value):"),
        ("cancel", "cancel", "Cancel the agreement (everyone gets their NMR back):"),
        ("default", "declareDefault", "Declare the modeller in default:"),
        ("sweep", "sweep", "Sweep the agreement's dust to the modeller:"),
    ):
        p = _parser(a, name, title.rstrip(":"), _simple(function, title))
        p.add_argument("agreement", metavar="AGREEMENT")
    p = _parser(a, "repay", "repay what is due (default: everything outstanding)", cmd_repay)
    p.add_argument("agreement", metavar="AGREEMENT")
    p.add_argument("amount", nargs="?", metavar="NMR")
    p.add_argument("--no-approve", action="store_true", help="do not send an NMR approval; fail if one is needed")

    p = _parser(commands, "deposit", "back an agreement: buy UNITS units (approves exactly their cost)", cmd_deposit)
    p.add_argument("agreement", metavar="AGREEMENT")
    p.add_argument("units", type=int, metavar="UNITS")
    p.add_argument("--no-approve", action="store_true", help="do not send an NMR approval; fail if one is needed")
    p = _parser(commands, "withdraw", "take units back out of an open agreement", cmd_withdraw)
    p.add_argument("agreement", metavar="AGREEMENT")
    p.add_argument("units", type=int, metavar="UNITS")
    p = _parser(commands, "claim", "claim what a settled, defaulted or cancelled agreement owes you", cmd_claim)
    p.add_argument("agreement", metavar="AGREEMENT")
    p.add_argument("--for", dest="backer", metavar="ADDRESS", help="claim for another backer (paid to them)")
    p = _parser(
        commands,
        "position",
        "every agreement and series position of an address",
        cmd_position,
        sending=False,
        json_out=True,
    )
    p.add_argument("address", nargs="?", metavar="ADDRESS")
    from backing.client.options import add_account as _acct

    _acct(p)

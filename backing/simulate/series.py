"""Play a scenario with series features as one BackingSeries (``run_series``), through ``SeriesMirror``."""

from __future__ import annotations

from backing.errors import Context, plain
from backing.model.agreement import (
    ONE,
    next_index,
)
from backing.model.terms import TermsError, load_terms
from backing.report import duration, fraction, nmr
from backing.simulate.scenario import (
    MODEL_ID,
    TERMS_DEFAULTS,
    AgreementPlan,
    ReferenceMismatch,
    Scenario,
    ScenarioError,
)
from backing.simulate.single import Result, _expected_return, _stack

# ---------------------------------------------------------------------------------------------- series scenarios


def _series_terms(plan: AgreementPlan, raw: dict, now: int, where: str):
    from backing.model.series import SeriesTerms

    try:
        base = load_terms(raw, now=now)
    except TermsError as error:
        raise ScenarioError(f"{where}: terms: {error}") from None
    return SeriesTerms(base, clawback_bps=plan.clawback[0], clawback_agreements=plan.clawback[1])


def run_series(scenario: Scenario, token=None, funder=None, out=print, oracle_service: bool = False) -> Result:
    """Play a scenario that uses series features as one BackingSeries, through ``SeriesMirror`` (every action on
    the reference model ``backing.model.series`` and on the chain; ``check()`` after each stage, to the wei).

    Agreement k+1 opens while k is locked; its rollover backers consent (to its terms) before k settles; fresh
    deposits go in; k matures and is repaid (full, none or partly: then the wind-down passes and k defaults, which
    ends the series and cancels k+1); the consented rolls are executed, the other positions of k claim, then k+1
    gets its reserve and locks. After the last agreement every position claims."""
    from brownie import chain

    from backing.model.agreement import ContractError, Phase
    from backing.onchain.series import SeriesMirror, create_series, deploy_series_factory

    say = out or (lambda *a, **k: None)
    stack = _stack(scenario, say, oracle_service, token)
    deployer, modeller, staking = stack.deployer, stack.modeller, stack.staking
    token, oracle = stack.token, stack.oracle
    backers, reporter, result = stack.backers, stack.reporter, stack.result
    factory = deploy_series_factory(deployer, token, oracle)
    series = create_series(factory, MODEL_ID, modeller)
    mirror = SeriesMirror(series, token, {"modeller": modeller, **backers}, staking.address, funder=funder)
    say(
        f"deployed: NMR {token.address}, oracle {oracle.address} (max clip {nmr(oracle.maxClip())}), "
        f"series {series.address}"
    )
    model = mirror.model
    rounds = list(scenario.rounds)
    indices = {0: ONE}
    books: list[dict] = []  # per agreement: backer -> {units, deposited, rolled_in, received, rolled}

    def act(where, what, call, **ctx):
        """One mirrored action: a refusal by both is a ScenarioError in plain words; a disagreement a mismatch."""
        try:
            outcome = call()
        except AssertionError as error:
            raise ReferenceMismatch(f"{where}: {what}: {error}") from None
        if isinstance(outcome, ContractError):
            context = Context(contract="BackingSeries", **ctx)
            raise ScenarioError(f"{where}: {plain(outcome.name, outcome.args_, context)}")
        return outcome

    def check(where):
        try:
            mirror.check()
            result.checks.append((f"{where}: series state (model and chain)", True, True))
        except AssertionError as error:
            result.checks.append((f"{where}: series state (model and chain)", repr(error.args), True))

    def book(index, name_):
        return books[index].setdefault(name_, {"units": 0, "deposited": 0, "rolled_in": 0, "received": 0, "rolled": 0})

    def claim_all(index):
        a = model.agreements[index]
        for pid in sorted(a.positions):
            p = a.positions[pid]
            if p.done or p.capital == 0:
                continue
            before = token.balanceOf(backers[p.owner])
            got = act(f"agreement {index + 1}", f"claim of {p.owner}", lambda: mirror.claim(pid))[0]
            paid = token.balanceOf(backers[p.owner]) - before
            result.checks.append((f"agreement {index + 1} claim of {p.owner} (position {pid})", paid, got))
            book(index, p.owner)["received"] += got

    def settle(index, plan, terms):
        """Post agreement `index`'s rounds, mature it, repay as planned (else default)."""
        where = f"agreement {index + 1}"
        start = series.agreement(index)["startRound"]
        end = start + terms.base.lockup_rounds - 1
        planned, expected_returns = [], {}
        for round_ in range(start, end + 1):
            plan_round = rounds.pop(0)
            expected = _expected_return(scenario, plan_round)
            planned.append((round_, plan_round))
            indices[round_] = next_index(indices[round_ - 1], scenario.exposure, expected)
            expected_returns[round_] = (expected, plan_round.missed)
        reporter.report(planned)
        for round_, (expected, missed_planned) in expected_returns.items():
            index_, returned, missed = oracle.roundRecord(MODEL_ID, round_)
            result.checks += [
                (f"{where} round {round_} return", returned, expected),
                (f"{where} round {round_} index", index_, indices[round_]),
                (f"{where} round {round_} missed", missed, missed_planned),
            ]
        act(where, "mature", lambda: mirror.mature(index))
        a = model.agreements[index]
        items[index].update(start=start, end=end, path=[indices[r] for r in range(start - 1, end + 1)])
        say(
            f"  {where} matured: final value {nmr(a.value)} NMR, series price {nmr(a.p_start)} -> "
            f"{nmr(a.p_end)}, amount due {nmr(a.due)} NMR"
        )
        # Numerai settles the staking wallet: it now holds V (the simulator's wallet is only a counterparty)
        check(f"{where} matured")
        if a.phase == Phase.Matured:
            outstanding = a.due - a.repaid
            amount = {"full": outstanding, "none": 0}.get(plan.repayment, plan.repayment)
            if amount:
                act(where, "repay", lambda: mirror.repay(index, amount))
                say(f"  the modeller repays {nmr(amount)} NMR")
        if a.phase == Phase.Matured:
            chain.sleep(terms.base.wind_down + 1)
            chain.mine()
            act(where, "declare default", lambda: mirror.declare_default(index))
            say(
                f"  the modeller did not repay in full within {duration(terms.base.wind_down)}: default declared; "
                f"the series ends"
            )
        check(f"{where} settled")

    items: list[dict] = []
    terms_list = []
    ended_at = None
    for number, plan in enumerate(scenario.agreements, start=1):
        index = number - 1
        where = f"agreement {number}"
        if model.ended:
            break
        raw = {**TERMS_DEFAULTS, **plan.terms, "staking_address": staking.address, "model_id": MODEL_ID}
        terms = _series_terms(plan, raw, chain.time(), where)
        terms_list.append(terms)
        books.append({})
        items.append(
            {
                "number": number,
                "address": series.address,
                "series": True,
                "index": index,
                "start": None,
                "end": None,
                "path": [],
            }
        )
        ctx = {"terms": terms.base}
        act(where, "open", lambda: mirror.open(terms), **ctx)
        say(
            f"\n{where} (series agreement {index}): {nmr(terms.base.unit_size)} NMR units, lockup "
            f"{terms.base.lockup_rounds} rounds"
            + (
                f", {fraction(terms.clawback_bps)} of every profit fee held for "
                f"{terms.clawback_agreements} agreements"
                if terms.clawback_bps
                else ""
            )
        )
        consented = []
        for name_ in plan.rollover:  # consent (to these terms) while the previous agreement is still locked
            for pid in model.positions_of(name_, index - 1):
                p = model.agreements[index - 1].positions[pid]
                if p.capital == 0 or p.done:
                    continue
                act(
                    where,
                    f"roll consent of {name_}",
                    lambda: mirror.roll(pid, name_, consent_terms=True),
                    backer=name_,
                    **ctx,
                )
                consented.append((pid, name_))
            say(f"  {name_} consents to roll their claim from agreement {number - 1}")
        for backer_name, units in plan.deposits:
            act(
                where,
                f"deposit of {backer_name}",
                lambda: mirror.deposit(backer_name, units),
                backer=backer_name,
                **ctx,
            )
            entry = book(index, backer_name)
            entry["units"] += units
            entry["deposited"] += units * terms.base.unit_size
            say(
                f"  {backer_name} deposits {units} unit{'s' if units > 1 else ''} "
                f"({nmr(units * terms.base.unit_size)} NMR)"
            )
        if index > 0:  # the previous agreement settles now; then the rolls, then the others claim
            settle(index - 1, scenario.agreements[index - 1], terms_list[index - 1])
            if model.agreements[index - 1].phase == Phase.Defaulted:
                ended_at = index - 1
                claim_all(index - 1)
                claim_all(index)  # cancelled: everyone's capital back
                check(f"{where} cancelled")
                say(f"  {where} is cancelled (the series ended); its backers take their capital back")
                break
            for pid, name_ in consented:
                new = act(where, f"roll of {name_}", lambda: mirror.execute_roll(pid), backer=name_, **ctx)[0]
                moved = model.agreements[index - 1].positions[pid].rolled
                book(index - 1, name_)["rolled"] += moved
                book(index, name_)["rolled_in"] += moved
                say(f"  {name_} rolls {nmr(moved)} NMR into agreement {number} (position {new})")
            claim_all(index - 1)
            check(f"agreement {number - 1} claimed")
        a = model.agreements[index]
        reserve = plan.reserve
        if reserve is None:
            reserve = terms.base.required_reserve(a.capital - a.capital * terms.base.upfront_fee_bps // 10_000)
        if reserve:
            act(where, "post reserve", lambda: mirror.post_reserve(reserve, index), **ctx)
            say(f"  reserve {nmr(reserve)} NMR")
        # a fresh round opens now, so the lockup starts at the next one; rounds before it are posted as missed
        announced = oracle.currentRound() + 1
        for filler in reporter.open_round(announced):
            indices[filler] = indices[filler - 1]
        act(where, "lock", lambda: mirror.lock(), **ctx)
        v = series.agreement(index)
        say(
            f"  locked at series price {nmr(a.p_start)}: {nmr(a.capital)} NMR pooled, {nmr(v['upfrontFee'])} NMR "
            f"upfront fee, {nmr(v['staked'])} NMR staked, rounds {v['startRound']} to "
            f"{v['startRound'] + terms.base.lockup_rounds - 1}"
        )
        check(f"{where} locked")
    else:
        settle(len(items) - 1, scenario.agreements[len(items) - 1], terms_list[-1])
        if model.agreements[-1].phase == Phase.Defaulted:
            ended_at = len(items) - 1
        claim_all(len(items) - 1)
        check("the series, every claim paid")
    if ended_at is not None and ended_at + 2 < len(scenario.agreements):
        say(
            f"\nthe series ended at agreement {ended_at + 1}'s default: agreements {ended_at + 3} to "
            f"{len(scenario.agreements)} are not played"
        )

    for item in items:
        a = model.agreements[item["index"]]
        v = series.agreement(item["index"])
        for key, chain_value, model_value in (
            ("phase", Phase(v["phase"]), a.phase),
            ("reserve", v["reserve"], a.reserve),
            ("repaid", v["repaid"], a.repaid),
        ):
            result.checks.append((f"agreement {item['number']} {key}", chain_value, model_value))
        item.update(
            agreement=a,
            terms=terms_list[item["index"]],
            books=books[item["index"]],
            backers={n: backers[n].address for n in books[item["index"]]},
        )
        result.agreements.append(item)
    reporter.close()
    return result

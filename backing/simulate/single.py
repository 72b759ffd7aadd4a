"""Play a single-agreement scenario through the contracts in lock-step with the reference model (``run``): the
stack it deploys, how backers are funded (mint on a local chain, a holder on a fork) and the check to the wei."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from backing.errors import Context, plain, revert_error, simulation_problem
from backing.model.agreement import (
    ONE,
    Agreement,
    ContractError,
    Phase,
    lock_amounts,
    next_index,
    round_return,
)
from backing.model.terms import TermsError, load_terms
from backing.report import STAKING, duration, nmr, settlement_data
from backing.simulate.reporters import make_reporter
from backing.simulate.scenario import MODEL_ID, TERMS_DEFAULTS, ReferenceMismatch, Round, Scenario, ScenarioError

# ---------------------------------------------------------------------------------------------- running


@dataclass
class Result:
    """What ``run`` returns: per agreement the chain's and the reference's view, plus every comparison."""

    scenario: Scenario
    agreements: list = field(default_factory=list)  # dicts: chain, reference, labels, staking, path, ...
    checks: list = field(default_factory=list)  # (what, chain value, reference value)
    model_attested: bool = False  # what the oracle says: did its signers attest the modeller owns the model?
    reporter: Any = None  # SignedReporter, or ServiceReporter with --oracle-service (its ``sender``)

    @property
    def mismatches(self) -> list:
        return [c for c in self.checks if c[1] != c[2]]

    @property
    def reference_match(self) -> bool:
        return not self.mismatches


class MintFunder:
    """Gives NMR the way the mock can: its faucet."""

    def __init__(self, token):
        self.token = token

    def fund(self, account, amount: int) -> None:
        if amount:
            self.token.mintTo(account, amount, {"from": account}, silent=True)


class HolderFunder:
    """Gives NMR from an (impersonated) holder's balance: for real NMR on a fork, which has no faucet."""

    def __init__(self, token, holder):
        self.token, self.holder = token, holder

    def fund(self, account, amount: int) -> None:
        if amount:
            held = self.token.balanceOf(self.holder)
            if held < amount:
                raise simulation_problem("holder_short", holder=self.holder, held=nmr(held), needed=nmr(amount))
            self.token.transfer(account, amount, {"from": self.holder}, silent=True)


def backer_account(name: str, accounts, funder_eth):
    """A local account for a named backer (deterministic key), given 1 ETH for gas."""
    from eth_utils import keccak

    key = keccak(text=f"backing-simulate:{name}")
    account = accounts.add(key.hex())
    if account.balance() < ONE // 10:
        funder_eth.transfer(account, ONE, silent=True)
    return account


def _stack(scenario: Scenario, say, oracle_service: bool, token=None) -> SimpleNamespace:
    """What both paths set up: the protocol (on `token`, else a fresh MockNMR), the backers' accounts, the model
    registered for the modeller, the round reporter (signed directly or through the oracle service) and the
    Result, which records whether the oracle attested the model."""
    from brownie import accounts

    from backing.onchain.agreement import deploy_stack

    deployer, modeller, relayer, staking = accounts[0], accounts[1], accounts[2], accounts[3]
    token, oracle, factory, signed = deploy_stack(
        deployer, relayer, getattr(token, "address", token), scenario.max_clip, scenario.max_multiplier
    )
    backers = {name_: backer_account(name_, accounts, deployer) for name_ in scenario.backers}
    signed.register(MODEL_ID, modeller, scenario.exposure, 1)
    reporter = make_reporter(scenario, oracle, signed, modeller.address, oracle_service)
    if oracle_service:
        say(f"rounds served by a fake Numerai API; the oracle service reports them from {reporter.sender}")
    result = Result(scenario, model_attested=oracle.isAttested(MODEL_ID), reporter=reporter)
    say(
        "model ownership: "
        + (
            "attested by the oracle"
            if result.model_attested
            else "NOT attested (the oracle found no proof that the modeller owns this model)"
        )
    )
    return SimpleNamespace(
        deployer=deployer,
        modeller=modeller,
        staking=staking,
        token=token,
        oracle=oracle,
        factory=factory,
        signed=signed,
        backers=backers,
        reporter=reporter,
        result=result,
    )


def run_agreement(scenario: Scenario, token=None, funder=None, out=print, oracle_service: bool = False) -> Result:
    """Play ``scenario`` on the connected network and compare everything with the reference model.

    @param token An NMR token to use (default: a fresh MockNMR); on a fork, the real NMR.
    @param funder ``MintFunder``/``HolderFunder`` (default: the token's faucet).
    @param out Where progress lines go (``None``: nowhere).
    @param oracle_service Report the rounds through the oracle service and a fake Numerai API
        (``ServiceReporter``) instead of signing them directly (``SignedReporter``).
    @raise ScenarioError when the contracts reject a step (nothing after it runs).

    A scenario with series features is ``run_series``'s (``backing.simulate.play.run`` chooses).
    """
    import brownie
    from brownie import BackingAgreement, accounts, chain

    from backing.onchain.agreement import agreement_from_chain, set_allowance

    say = out or (lambda *a, **k: None)
    stack = _stack(scenario, say, oracle_service, token)
    deployer, modeller, staking, sink = stack.deployer, stack.modeller, stack.staking, accounts[4]
    token, oracle, factory = stack.token, stack.oracle, stack.factory
    backers, reporter, result = stack.backers, stack.reporter, stack.result
    funder = funder or MintFunder(token)
    say(
        f"deployed: NMR {token.address}, oracle {oracle.address} (max clip {nmr(oracle.maxClip())}), "
        f"factory {factory.address}"
    )
    labels = {
        modeller.address: "modeller",
        staking.address: "staking wallet",
        **{a.address: n for n, a in backers.items()},
    }
    rounds = list(scenario.rounds)
    indices = {0: ONE}  # model index after each posted round (reference math)

    for number, plan in enumerate(scenario.agreements, start=1):
        where = f"agreement {number}"
        now = chain.time()
        raw = {**TERMS_DEFAULTS, **plan.terms, "staking_address": staking.address, "model_id": MODEL_ID}
        try:
            terms = load_terms(raw, now=now)
        except TermsError as error:
            raise ScenarioError(f"{where}: terms: {error}") from None
        ctx = {"terms": terms, "units": sum(u for _, u in plan.deposits)}  # for backing.errors.Context

        def step(what, reference_call, chain_call, **extra):
            """Run one action on the reference, then on the chain; same outcome or ReferenceMismatch."""
            expected = None
            try:
                reference_call()
            except ContractError as error:
                expected = (error.name, tuple(error.args_))
            try:
                outcome = chain_call()
            except brownie.exceptions.VirtualMachineError as exc:
                got = revert_error(exc)
                if expected is None or got is None or got[0] != expected[0]:
                    raise ReferenceMismatch(
                        f"{where}: {what}: the chain reverted ({got or exc}); the reference "
                        f"model {'raised ' + str(expected) if expected else 'accepted it'}"
                    )
                raise ScenarioError(f"{where}: {plain(got[0], got[1], Context(**ctx, **extra))}") from None
            if expected is not None:
                raise ReferenceMismatch(
                    f"{where}: {what}: the reference model raised {expected}; the chain " f"accepted it"
                )
            return outcome

        start_block = chain.height
        tx = factory.createAgreement(terms.as_tuple(), terms.ladder_tuples(), {"from": modeller}, silent=True)
        agreement = BackingAgreement.at(tx.events["AgreementCreated"]["agreement"])
        reference = Agreement(terms=terms, modeller=modeller.address)
        say(
            f"\n{where}: {agreement.address}, {nmr(terms.unit_size)} NMR units, lockup {terms.lockup_rounds} " f"rounds"
        )

        reserve = plan.reserve
        if reserve is None:
            reserve = terms.required_reserve(lock_amounts(terms, ctx["units"]).staked)
        if reserve:
            funder.fund(modeller, reserve)
            set_allowance(token, modeller, agreement, reserve, silent=True)
            step(
                "post reserve",
                lambda: reference.post_reserve(modeller.address, reserve),
                lambda: agreement.postReserve(reserve, {"from": modeller}, silent=True),
            )
            say(f"  reserve {nmr(reserve)} NMR")
        for backer_name, units in plan.deposits:
            backer = backers[backer_name]
            amount = units * terms.unit_size
            funder.fund(backer, amount)
            set_allowance(token, backer, agreement, amount, silent=True)
            now = chain.time()
            step(
                f"deposit of {backer_name}",
                lambda: reference.deposit(backer.address, units, now),
                lambda: agreement.deposit(units, {"from": backer}, silent=True),
                backer=backer_name,
            )
            say(f"  {backer_name} deposits {units} unit{'s' if units > 1 else ''} ({nmr(amount)} NMR)")

        # A fresh round opens now, so the lockup starts at the next one; rounds before it are posted as missed.
        announced = oracle.currentRound() + 1
        for filler in reporter.open_round(announced):
            indices[filler] = indices[filler - 1]
        now = chain.time()
        before_lock = token.balanceOf(staking)
        step(
            "lock",
            lambda: reference.lock(modeller.address, now, announced + 1, first_round=1),
            lambda: agreement.lock({"from": modeller}, silent=True),
        )
        start, end = agreement.startRound(), agreement.startRound() + terms.lockup_rounds - 1
        say(
            f"  locked: {nmr(agreement.upfrontFee())} NMR upfront fee, {nmr(agreement.stakedCapital())} NMR "
            f"staked, rounds {start} to {end}"
        )

        # the oracle's signers (or the oracle service) report the lockup's rounds, final after the challenge window
        planned, expected_returns = [], {}
        for round_ in range(start, end + 1):
            plan_round = rounds.pop(0)
            expected = _expected_return(scenario, plan_round)
            planned.append((round_, plan_round))
            indices[round_] = next_index(indices[round_ - 1], scenario.exposure, expected)
            expected_returns[round_] = (expected, plan_round.missed)
        reporter.report(planned)
        returns = {}
        for round_, (expected, missed_planned) in expected_returns.items():
            index, returned, missed = oracle.roundRecord(MODEL_ID, round_)
            returns[round_] = returned
            result.checks += [
                (f"{where} round {round_} return", returned, expected),
                (f"{where} round {round_} index", index, indices[round_]),
                (f"{where} round {round_} missed", missed, missed_planned),
            ]

        now = chain.time()
        step(
            "mature",
            lambda: reference.mature(now, indices[start - 1], indices[end], last_final=end),
            lambda: agreement.mature({"from": modeller}, silent=True),
        )
        value, due = agreement.finalValue(), agreement.amountDue()
        say(f"  matured: final value {nmr(value)} NMR, amount due {nmr(due)} NMR")

        # Numerai settles the staking wallet: it now holds V (payouts arrive, burns leave).
        # Whatever the wallet held before this lock (a fork's account may hold NMR already) stays untouched.
        held = token.balanceOf(staking) - before_lock
        if value > held:
            funder.fund(staking, value - held)
        elif value < held:
            token.transfer(sink, held - value, {"from": staking}, silent=True)

        if reference.phase == Phase.Matured:
            outstanding = reference.matured.amount_due - reference.repaid
            amount = {"full": outstanding, "none": 0}.get(plan.repayment, plan.repayment)
            if amount:
                from_wallet = min(amount, token.balanceOf(staking))
                if from_wallet:
                    token.transfer(modeller, from_wallet, {"from": staking}, silent=True)
                funder.fund(modeller, amount - from_wallet)
                set_allowance(token, modeller, agreement, amount, silent=True)
                step(
                    "repay",
                    lambda: reference.repay(modeller.address, amount),
                    lambda: agreement.repay(amount, {"from": modeller}, silent=True),
                )
                say(f"  the modeller repays {nmr(amount)} NMR")
        if reference.phase == Phase.Matured:
            chain.sleep(terms.wind_down + 1)
            chain.mine()
            now = chain.time()
            step(
                "declare default",
                lambda: reference.declare_default(now),
                lambda: agreement.declareDefault({"from": deployer}, silent=True),
            )
            say(f"  the modeller did not repay in full within {duration(terms.wind_down)}: default declared")

        claims = {}
        for backer_name in dict(plan.deposits):
            backer = backers[backer_name]
            holder = {}
            step(
                f"claim of {backer_name}",
                lambda: holder.setdefault("ref", reference.claim(backer.address)),
                lambda: holder.setdefault("tx", agreement.claim(backer, {"from": backer}, silent=True)),
            )
            claims[backer_name] = holder["tx"].events["Claimed"]["amount"]
            result.checks.append((f"{where} claim of {backer_name}", claims[backer_name], holder["ref"]))

        on_chain = agreement_from_chain(agreement, token, terms, start_block)
        reference.transfers[staking.address] = reference.transfers.pop(STAKING)
        _compare(result.checks, where, on_chain, reference, labels, staking.address)
        path = [indices[r] for r in range(start - 1, end + 1)]
        result.agreements.append(
            {
                "number": number,
                "address": agreement.address,
                "terms": terms,
                "chain": on_chain,
                "reference": reference,
                "labels": labels,
                "staking": staking.address,
                "start": start,
                "end": end,
                "path": path,
                "returns": returns,
                "backers": {n: backers[n].address for n, _ in plan.deposits},
            }
        )
    reporter.close()
    return result


def _expected_return(scenario: Scenario, plan_round: Round) -> int:
    """A planned round's return by the reference math (0 for a missed round)."""
    if plan_round.missed:
        return 0
    return round_return(
        list(plan_round.scores),
        list(plan_round.multipliers),
        plan_round.payout_factor,
        plan_round.clip,
        max_clip=scenario.max_clip,
        max_multiplier=scenario.max_multiplier,
        names=list(plan_round.names),
    )


def _compare(checks: list, where: str, on_chain: Agreement, reference: Agreement, labels: dict, staking: str) -> None:
    checks.append((f"{where} start round", on_chain.start_round, reference.start_round))
    checks.append((f"{where} lock amounts", on_chain.locked, reference.locked))
    checks.append((f"{where} maturity", on_chain.matured, reference.matured))
    checks.append((f"{where} units", on_chain.units, reference.units))
    summary_chain, summary_reference = on_chain.summary(), reference.summary()
    for key in summary_reference:
        checks.append((f"{where} summary {key}", summary_chain[key], summary_reference[key]))
    checks.append((f"{where} agreement balance", on_chain.balance, reference.balance))
    checks.append(
        (f"{where} settlement", settlement_data(on_chain, labels, staking), settlement_data(reference, labels, staking))
    )

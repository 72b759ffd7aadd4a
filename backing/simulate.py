"""Scenario runner: play a scenario through the real contracts on a local chain (or a fork), step by step in
lock-step with the reference model, and report who got what.

    backing simulate examples/scenarios/seed-gain-repaid.yaml --json out.json --plot plots/
    backing simulate SCENARIO --fork-url https://... --nmr-holder 0x...      (fork of mainnet, see
    ``backing.onchain.fork``)

A scenario file (YAML or JSON; amounts in NMR, fractions as decimals; read exactly, never through a float; every
key with its unit and bounds in docs/scenarios.md, as a JSON Schema in backing/scenario.schema.json)::

    model: {exposure: 1.0, attested: true} # optional: exposure default 1.0; attested (default false): the
                                           # oracle attests the modeller owns the model (else shown as unattested)
    agreements:                            # played in order, on the same model, on consecutive rounds
      - terms: {unit_size: 100, min_units: 1, max_units: 100, profit_share: 0.5, burn_share: 0.5,
                reserve_ratio: 0.5, upfront_fee: 0, lockup_rounds: 8,
                fee_ladder: [{min_units: 10, profit_share: 0.4}]}      # keys as in examples/terms.yaml;
                                           # open_for, wind_down default to 7d; staking_address and model_id
                                           # are the simulator's own
        reserve: 50                        # optional: default the minimum the terms require
        deposits: [{backer: alice, units: 1}, {backer: bob, units: 12}]
        repayment: full                    # full | none | an amount in NMR (less than due: a default)
    rounds:                                # consumed in order, lockup_rounds per agreement
      - {scores: {CORR20: 0.02, MMC: 0.01}, multipliers: {CORR20: 0.5, MMC: 2.0}, payout_factor: 1.0,
         clip: 0.05}                       # payout_factor defaults to 1; {missed: true} posts a missed round

Every action goes to the reference model (``backing.model.agreement.Agreement``) first and then to the chain; an
action either succeeds on both or fails on both with the same custom error, which ``ScenarioError`` states in
plain words. After the claims, everything the chain did (round returns and indices, lock and maturity amounts,
claims, every party's token flows) is compared with the reference to the wei: ``reference_match``.

**Series features.** A scenario whose terms give ``high_water_mark: true`` or ``clawback: {share: 0.5,
agreements: 2}`` (share of every profit fee held in escrow, for 1 to 4 later settlements), or whose agreements list
``rollover: [alice]`` (backers rolling their whole claim from the previous agreement), is played as one series
(``contracts/series/BackingSeries.sol``, rules in docs/series.md) through ``backing.onchain.series.SeriesMirror``: every
action on the reference model ``backing.model.series`` and on the chain, ``check()``ed to the wei after every stage
(``run_series``). Agreement k+1 opens while k is locked; its rollover backers consent to its terms; fresh deposits
go in; k matures and is repaid (full, none or partly; short of the amount due: default, which ends the series and
cancels k+1); the consented rolls are executed, the others claim; k+1 gets its reserve and locks. A series has a
high-water mark per position, so ``high_water_mark: false`` next to series features is refused (alone it means the
single-agreement path, which has no mark). Output: the same JSON schema with ``rolled`` filled (plus ``rolled_in``,
``fees_held``, ``clawback``, ``price``, ``series_index``); on a local chain or a fork alike.

**Oracle service.** By default the simulator's signer keys sign every announcement and report directly
(``SignedReporter``). With ``--oracle-service`` (``oracle_service=True``) a local fake Numerai GraphQL server
serves the rounds (scores, multipliers as each payout score's ``defaultMultiplier``, payout factor, clip as its
``clipThreshold``; a missed round has no scores) and the oracle service, run in-process by
``oracle.operator.OracleOperator`` (two signer keystores, its own funded sender), announces, posts and finalizes
them (``ServiceReporter``); score names differing only in case are refused (``oracle_service_problem``).

``run(scenario, ...)`` works on whatever network brownie is connected to (a test session's, or the node ``run_file``
starts or attaches to through ``backing.onchain.node``); it needs only the project's contract containers.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from backing.errors import Context, plain, revert_error, simulation_problem
from backing.model.agreement import (
    MAX_SCORES,
    ONE,
    Agreement,
    ContractError,
    Phase,
    lock_amounts,
    next_index,
    round_return,
)
from backing.model.terms import TermsError, _bps, load_terms, nmr_to_wei, read_terms_file
from backing.report import STAKING, duration, fraction, nmr, settlement_data, settlement_table
from oracle.typed_data import Report, to_bytes32

REPO_ROOT = Path(__file__).resolve().parent.parent
#: NMR on Ethereum mainnet (shared/domain/numerai-staking.md section 5).
NMR_MAINNET = "0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671"

SCENARIO_KEYS = ("model", "agreements", "rounds")
MODEL_KEYS = ("exposure", "attested")
AGREEMENT_KEYS = ("terms", "reserve", "deposits", "rollover", "repayment")
ROUND_KEYS = ("scores", "multipliers", "payout_factor", "clip", "missed")
SIMULATOR_TERMS = ("staking_address", "model_id")
TERMS_DEFAULTS = {"open_for": "7d", "wind_down": "7d"}
#: Names the settlement table uses for itself; a backer may not take them.
RESERVED_NAMES = ("modeller", "staking", "reserve", "total")
MODEL_ID = "0x" + "5c1b2f3a8d4e4b6a9f7c2a1e3d4c5b6a" + "00" * 16
MODEL_BYTES = bytes.fromhex(MODEL_ID[2:])
MAX_MULTIPLIER = 1000 * ONE
MIN_ROUND_SPACING = 22 * 3600
CLAWBACK_KEYS = ("share", "agreements")


class ScenarioError(ValueError):
    """A scenario that cannot run: bad input, or an action the contracts reject (message in plain words)."""


class ReferenceMismatch(AssertionError):
    """The chain and the reference model disagree about whether an action is allowed."""


# ---------------------------------------------------------------------------------------------- scenario file


@dataclass(frozen=True)
class Round:
    names: tuple[str, ...] = ()
    scores: tuple[int, ...] = ()
    multipliers: tuple[int, ...] = ()
    payout_factor: int = ONE
    clip: int = 0
    missed: bool = False


@dataclass(frozen=True)
class AgreementPlan:
    terms: dict
    reserve: int | None
    deposits: tuple[tuple[str, int], ...]
    repayment: str | int  # "full", "none" or wei
    rollover: tuple[str, ...] = ()  # backers rolling their whole claim from the previous agreement (series)
    clawback: tuple[int, int] = (0, 0)  # (share in bps, agreements) of every profit fee held in escrow (series)
    high_water_mark: bool | None = None  # as given (None: not given)


@dataclass(frozen=True)
class Scenario:
    exposure: int
    agreements: tuple[AgreementPlan, ...]
    rounds: tuple[Round, ...]
    name: str = "scenario"
    attested: bool = False
    series: bool = False  # uses a series feature: played as one BackingSeries (see ``run_series``)

    @property
    def max_clip(self) -> int:
        """The oracle is deployed with the largest clip the scenario uses (at least 5%)."""
        return max([ONE * 5 // 100] + [r.clip for r in self.rounds if not r.missed])

    @property
    def max_multiplier(self) -> int:
        return max([10 * ONE] + [m for r in self.rounds for m in r.multipliers])

    @property
    def backers(self) -> list[str]:
        names: list[str] = []
        for plan in self.agreements:
            names += [b for b, _ in plan.deposits if b not in names]
        return names


def load_scenario_file(path: str | Path) -> Scenario:
    """Read a scenario from a YAML or JSON file (exact decimals, duplicate keys refused) and check it."""
    try:
        data = read_terms_file(path)
    except TermsError as error:
        raise ScenarioError(str(error).replace("terms file", "scenario file")) from None
    return load_scenario(data, name=Path(path).stem)


def _fixed(where: str, value: Any, low: int | None = None, high: int | None = None, what: str = "") -> int:
    """A decimal (number or text, may be negative) as 1e18 fixed point, exactly."""
    negative = False
    if isinstance(value, str) and value.strip().startswith("-"):
        negative, value = True, value.strip()[1:]
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value < 0:
        negative, value = True, -value
    elif isinstance(value, float):
        text = repr(value)
        negative, value = text.startswith("-"), text.lstrip("-")
    try:
        number = nmr_to_wei(where, value)
    except TermsError as error:
        raise ScenarioError(
            str(error)
            .replace("an amount of NMR such as 100", "a number such as 0.02")
            .replace("NMR is divisible to 18 decimal places only", "scores and factors have 18 decimals at most")
        ) from None
    number = -number if negative else number
    if (low is not None and number < low) or (high is not None and number > high):
        raise ScenarioError(f"{where} ({nmr(number)}) must be {what}")
    return number


def _mapping(where: str, value: Any, keys: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where} must be a mapping with keys {', '.join(keys)}")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ScenarioError(f"{where} has an unknown key {unknown[0]!r}; known keys are {', '.join(keys)}")
    return value


def _units(where: str, value: Any) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(f"{where} must be a whole number of units, at least 1 (got {value!r})")
    return value


def load_scenario(data: Any, name: str = "scenario") -> Scenario:
    """Check a scenario given as a mapping and convert it to wei and 1e18 fixed point.

    Terms are checked later, at the chain's time, with ``backing.model.terms.load_terms``.
    @raise ScenarioError naming the offending entry."""
    data = _mapping("the scenario", data, SCENARIO_KEYS)
    for key in ("agreements", "rounds"):
        if key not in data:
            raise ScenarioError(f"the scenario has no {key!r}")
    model = _mapping("model", data.get("model") or {}, MODEL_KEYS)
    exposure = _fixed("model.exposure", model.get("exposure", 1), 1, ONE, "more than 0 and at most 1")
    attested = model.get("attested", False)
    if not isinstance(attested, bool):
        raise ScenarioError(f"model.attested: {attested!r} is not true or false")

    raw_agreements = data["agreements"]
    if not isinstance(raw_agreements, list) or not raw_agreements:
        raise ScenarioError("agreements must be a list of one or more agreements")
    plans = []
    for i, raw in enumerate(raw_agreements):
        where = f"agreements[{i}]"
        raw = _mapping(where, raw, AGREEMENT_KEYS)
        terms = raw.get("terms")
        if not isinstance(terms, dict):
            raise ScenarioError(f"{where}.terms must be a mapping of terms (keys as in examples/terms.yaml)")
        terms = dict(terms)
        high_water_mark = terms.pop("high_water_mark", None)
        if high_water_mark is not None and not isinstance(high_water_mark, bool):
            raise ScenarioError(f"{where}.terms.high_water_mark: {high_water_mark!r} is not true or false")
        clawback = _clawback(f"{where}.terms.clawback", terms.pop("clawback", None))
        for key in SIMULATOR_TERMS:
            if key in terms:
                raise ScenarioError(f"{where}.terms.{key}: the simulator sets {key} itself; leave it out")
        reserve = raw.get("reserve")
        if reserve is not None:
            reserve = _nmr(f"{where}.reserve", reserve)
        rollover = _rollover(f"{where}.rollover", raw.get("rollover"))
        deposits = raw.get("deposits", [] if rollover else None)
        if not isinstance(deposits, list) or not (deposits or rollover):
            raise ScenarioError(f"{where}.deposits must be a list such as [{{backer: alice, units: 1}}]")
        parsed = []
        for j, deposit in enumerate(deposits):
            spot = f"{where}.deposits[{j}]"
            deposit = _mapping(spot, deposit, ("backer", "units"))
            backer = deposit.get("backer")
            if not isinstance(backer, str) or not backer.strip():
                raise ScenarioError(f"{spot}.backer must be a name such as alice")
            if backer in RESERVED_NAMES:
                raise ScenarioError(f"{spot}.backer: {backer!r} is reserved for the table; pick another name")
            parsed.append((backer.strip(), _units(f"{spot}.units", deposit.get("units"))))
        repayment = raw.get("repayment", "full")
        if isinstance(repayment, str) and repayment.strip().lower() in ("full", "none"):
            repayment = repayment.strip().lower()
        else:
            repayment = _nmr(f"{where}.repayment", repayment, "full, none or an amount of NMR")
        plans.append(AgreementPlan(terms, reserve, tuple(parsed), repayment, rollover, clawback, high_water_mark))
    series = any(p.rollover or p.clawback[0] or p.high_water_mark for p in plans)
    if series:
        _check_series(plans)

    raw_rounds = data["rounds"]
    if not isinstance(raw_rounds, list):
        raise ScenarioError("rounds must be a list of rounds such as {scores: {CORR20: 0.02}, ...}")
    rounds = [_round(f"rounds[{k}]", raw) for k, raw in enumerate(raw_rounds)]
    needed = 0
    for i, plan in enumerate(plans):
        lockup = plan.terms.get("lockup_rounds")
        if isinstance(lockup, Decimal) and lockup == lockup.to_integral_value():
            lockup = int(lockup)
        if isinstance(lockup, int) and not isinstance(lockup, bool) and lockup > 0:
            needed += lockup
    if needed != len(rounds):
        raise ScenarioError(
            f"the scenario gives {len(rounds)} rounds, but its agreements' lockups add up to "
            f"{needed} (rounds are consumed in order, lockup_rounds per agreement)"
        )
    return Scenario(exposure, tuple(plans), tuple(rounds), name, attested, series)


def _clawback(where: str, raw: Any) -> tuple[int, int]:
    """``{share: 0.5, agreements: 2}`` as (bps, agreements); absent: (0, 0)."""
    if raw is None:
        return (0, 0)
    raw = _mapping(where, raw, CLAWBACK_KEYS)
    if set(raw) != set(CLAWBACK_KEYS):
        raise ScenarioError(
            f"{where} needs both share (the part of every profit fee held, e.g. 0.5) and "
            f"agreements (how many later settlements it is held for, 1 to 4)"
        )
    try:
        share = _bps(f"{where}.share", raw["share"])
    except TermsError as error:
        raise ScenarioError(str(error)) from None
    if not 0 < share <= 10_000:
        raise ScenarioError(f"{where}.share ({raw['share']}) must be more than 0 and at most 1")
    agreements = raw["agreements"]
    if isinstance(agreements, Decimal) and agreements == agreements.to_integral_value():
        agreements = int(agreements)
    if isinstance(agreements, bool) or not isinstance(agreements, int) or not 1 <= agreements <= 4:
        raise ScenarioError(f"{where}.agreements must be a whole number from 1 to 4 (got {agreements!r})")
    return (share, agreements)


def _rollover(where: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(b, str) and b.strip() for b in raw):
        raise ScenarioError(f"{where} must be a list of backers' names such as [alice]")
    names = tuple(b.strip() for b in raw)
    if len(set(names)) != len(names):
        raise ScenarioError(f"{where} names a backer twice")
    return names


def _check_series(plans: list[AgreementPlan]) -> None:
    """A scenario with a series feature is one BackingSeries: every agreement has a high-water mark per position,
    and a backer rolls from the agreement before (he must be in it)."""
    for i, plan in enumerate(plans):
        where = f"agreements[{i}]"
        if plan.high_water_mark is False:
            raise ScenarioError(
                f"{where}.terms.high_water_mark: a scenario using series features (high_water_mark, "
                f"clawback, rollover) plays one series, whose every position has a high-water "
                f"mark; high_water_mark: false is not available there (leave it out or set it true)"
            )
        if plan.rollover and i == 0:
            raise ScenarioError(f"{where}.rollover: the first agreement has no previous agreement to roll from")
        if plan.rollover:
            before = {b for b, _ in plans[i - 1].deposits} | set(plans[i - 1].rollover)
            for name_ in plan.rollover:
                if name_ not in before:
                    raise ScenarioError(
                        f"{where}.rollover: {name_} has no claim in agreements[{i - 1}] to roll "
                        f"(not among its deposits or rollovers)"
                    )


def _nmr(where: str, value: Any, what: str = "an amount of NMR") -> int:
    try:
        return nmr_to_wei(where, value)
    except TermsError as error:
        raise ScenarioError(f"{where} must be {what}: {error}") from None


def _round(where: str, raw: Any) -> Round:
    raw = _mapping(where, raw, ROUND_KEYS)
    if raw.get("missed"):
        if len(raw) > 1:
            raise ScenarioError(f"{where}: a missed round has no scores; give only missed: true")
        return Round(missed=True)
    scores = raw.get("scores")
    multipliers = raw.get("multipliers")
    if not isinstance(scores, dict) or not scores:
        raise ScenarioError(f"{where}.scores must be a mapping such as {{CORR20: 0.02, MMC: 0.01}}")
    if len(scores) > MAX_SCORES:
        raise ScenarioError(f"{where}.scores has {len(scores)} scores; the oracle takes at most {MAX_SCORES}")
    if not isinstance(multipliers, dict) or set(multipliers) != set(scores):
        raise ScenarioError(
            f"{where}.multipliers must give a multiplier for each score and nothing else "
            f"({', '.join(map(str, scores))})"
        )
    names = []
    for name_ in scores:
        if not isinstance(name_, str) or not name_ or len(name_.encode()) > 32:
            raise ScenarioError(f"{where}.scores: {name_!r} must be a name of 1 to 32 bytes")
        names.append(name_)
    values = tuple(_fixed(f"{where}.scores.{n}", scores[n], -ONE, ONE, "between -1 and 1") for n in names)
    mults = tuple(
        _fixed(f"{where}.multipliers.{n}", multipliers[n], 0, MAX_MULTIPLIER, "between 0 and 1000") for n in names
    )
    payout = _fixed(f"{where}.payout_factor", raw.get("payout_factor", 1), 0, ONE, "between 0 and 1")
    if "clip" not in raw:
        raise ScenarioError(f"{where}.clip is missing (the round's clip, e.g. 0.05)")
    clip = _fixed(f"{where}.clip", raw["clip"], 1, ONE, "more than 0 and at most 1")
    return Round(tuple(names), values, mults, payout, clip)


# ---------------------------------------------------------------------------------------------- reporting rounds


class SignedReporter:
    """Reports rounds by having the oracle's local signer keys sign them directly (the default)."""

    def __init__(self, scenario: Scenario, oracle, signed, modeller: str):
        self.oracle, self.signed = oracle, signed
        if scenario.attested:
            signed.attest(MODEL_ID, modeller, True, to_bytes32(b"simulated profile"))

    def open_round(self, announced: int) -> list[int]:
        """Announce rounds through `announced` (open now); post the rounds not posted yet as missed.
        @return The rounds posted as fillers."""
        self.signed.announce_through(announced)
        last = self.oracle.lastPostedRound(MODEL_ID)
        if last < announced:
            self.signed.post_returns(MODEL_ID, [None] * (announced - last))
        return list(range(last + 1, announced + 1))

    def report(self, planned: list) -> None:
        """Announce, post (one batch) and, after the challenge window, finalize [(round, Round)]."""
        from brownie import chain

        tournament = self.oracle.tournament()
        reports = []
        for round_, plan_round in planned:
            if plan_round.missed:
                reports.append(Report(MODEL_BYTES, tournament, round_, missed=True))
            else:
                reports.append(
                    Report(
                        MODEL_BYTES,
                        tournament,
                        round_,
                        False,
                        tuple(to_bytes32(n) for n in plan_round.names),
                        tuple(plan_round.scores),
                        tuple(plan_round.multipliers),
                        plan_round.payout_factor,
                        plan_round.clip,
                    )
                )
        self.signed.announce_through(planned[-1][0])
        self.signed.post(reports)
        chain.sleep(self.oracle.challengeWindow())
        chain.mine()
        self.signed.finalize(MODEL_ID)

    def close(self) -> None:
        pass


#: The Numerai model UUID that MODEL_ID encodes, and the name the fake Numerai serves it under.
MODEL_UUID = "5c1b2f3a-8d4e-4b6a-9f7c-2a1e3d4c5b6a"
MODEL_NAME = "simulated_model"


def oracle_service_problem(scenario: Scenario) -> str | None:
    """Why the scenario's rounds cannot be served through Numerai's API shape (None: they can).

    Numerai gives per round a payout factor and per payout score a display name, a multiplier and a clip, so
    everything a scenario round holds goes through, except score names that differ only in case: the oracle
    service matches Numerai's score rows to the round's score configs case-insensitively."""
    for number, round_ in enumerate(scenario.rounds, start=1):
        folded: dict[str, str] = {}
        for name_ in round_.names:
            if name_.casefold() in folded:
                return (
                    f"round {number} has scores {folded[name_.casefold()]!r} and {name_!r}: Numerai's API (as "
                    f"the oracle service reads it) cannot tell score names apart that differ only in case"
                )
            folded[name_.casefold()] = name_
    return None


def _decimal(value: int) -> Decimal:
    """1e18 fixed point as the exact decimal Numerai would serve."""
    return Decimal(value).scaleb(-18)


class ServiceReporter:
    """Reports rounds through the oracle service (``backing oracle run --once``, in-process): the scenario's
    rounds are served by a local fake Numerai GraphQL server (``oracle.fake_numerai``); an operator holding two
    of the three signer keys in keystores, with its own funded sender account (``oracle.operator``), announces,
    posts and finalizes them, and attests the model when the modeller's Numerai profile names his address."""

    def __init__(self, scenario: Scenario, oracle, signed, modeller: str):
        from brownie import chain

        from oracle.testing.fake_numerai import FakeNumerai
        from oracle.testing.operator import OracleOperator, start_fake_numerai

        problem = oracle_service_problem(scenario)
        if problem:
            raise ScenarioError(f"--oracle-service: {problem}")
        self.oracle, self.chain = oracle, chain
        self.spacing = oracle.minRoundSpacing()
        self.last_close = 0
        self.fake = FakeNumerai(now=chain.time)
        bio = f"My Backing Vaults address: {modeller}" if scenario.attested else "A simulated model."
        self.fake.add_model(MODEL_UUID, MODEL_NAME, bio=bio)
        self.server, url = start_fake_numerai(self.fake)
        self.operator = OracleOperator(
            oracle, signed, url, {MODEL_UUID: MODEL_NAME}, attest=scenario.attested, prefix="backing-simulate-oracle-"
        )
        if scenario.attested:
            self._pass()

    @property
    def sender(self) -> str:
        """The account the service sends its transactions from."""
        return self.operator.sender

    def _pass(self) -> None:
        try:
            self.operator.run()
        except AssertionError as error:
            raise ScenarioError(f"--oracle-service: {error}") from None

    def _add(self, number: int, plan_round: Round | None) -> None:
        """Serve round `number`, resolved, with the model's scores (None or missed: the model has none)."""
        now = self.chain.time()
        close = max(now + 3600, self.last_close + self.spacing) if self.last_close else now + 3600
        self.last_close = close
        if plan_round is None or plan_round.missed:
            self.fake.add_round(number, open_time=min(now - 60, close - 3600), close_staking_time=close, resolved=True)
            return
        configs = [
            {"displayName": name_, "defaultMultiplier": _decimal(m), "clipThreshold": _decimal(plan_round.clip)}
            for name_, m in zip(plan_round.names, plan_round.multipliers)
        ]
        self.fake.add_round(
            number,
            open_time=min(now - 60, close - 3600),
            close_staking_time=close,
            resolved=True,
            payout_factor=_decimal(plan_round.payout_factor),
            score_configs=configs,
        )
        self.fake.set_scores(MODEL_UUID, number, {n: _decimal(v) for n, v in zip(plan_round.names, plan_round.scores)})

    def _through(self, end: int) -> None:
        """Run the service until it has announced and posted every round through `end`."""
        for _ in range(2 + end // 32):
            if self.oracle.currentRound() >= end and self.oracle.lastPostedRound(MODEL_ID) >= end:
                return
            self._pass()
        raise ScenarioError(
            f"--oracle-service: the oracle service did not announce and post the rounds through "
            f"{end} (round {self.oracle.currentRound()} announced, "
            f"{self.oracle.lastPostedRound(MODEL_ID)} posted); its log: {self.operator.log_path}"
        )

    def open_round(self, announced: int) -> list[int]:
        for number in range(max(self.fake.rounds, default=0) + 1, announced + 1):
            self._add(number, None)
        last = self.oracle.lastPostedRound(MODEL_ID)
        self._through(announced)
        return list(range(last + 1, announced + 1))

    def report(self, planned: list) -> None:
        for number, plan_round in planned:
            self._add(number, plan_round)
        self._through(planned[-1][0])
        self.chain.sleep(self.oracle.challengeWindow())
        self.chain.mine()
        self._pass()  # the service's next pass finalizes the rounds past their challenge window

    def close(self) -> None:
        self.server.stop()


def make_reporter(scenario: Scenario, oracle, signed, modeller: str, oracle_service: bool):
    return (ServiceReporter if oracle_service else SignedReporter)(scenario, oracle, signed, modeller)


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


def run(scenario: Scenario, token=None, funder=None, out=print, oracle_service: bool = False) -> Result:
    """Play ``scenario`` on the connected network and compare everything with the reference model.

    @param token An NMR token to use (default: a fresh MockNMR); on a fork, the real NMR.
    @param funder ``MintFunder``/``HolderFunder`` (default: the token's faucet).
    @param out Where progress lines go (``None``: nowhere).
    @param oracle_service Report the rounds through the oracle service and a fake Numerai API
        (``ServiceReporter``) instead of signing them directly (``SignedReporter``).
    @raise ScenarioError when the contracts reject a step (nothing after it runs).

    A scenario with series features (``scenario.series``) is played by ``run_series`` (with the same token and
    funder).
    """
    if scenario.series:
        return run_series(scenario, token=token, funder=funder, out=out, oracle_service=oracle_service)
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


# ---------------------------------------------------------------------------------------------- entry point


def run_file(
    path: str | Path,
    json_out: str | None = None,
    plot_dir: str | None = None,
    node: str | None = None,
    attach: str | None = None,
    fork_url: str | None = None,
    fork_block: int | None = None,
    nmr_holder: str | None = None,
    network_name: str | None = None,
    out=print,
    oracle_service: bool = False,
) -> Result:
    """The ``backing simulate`` command: load, start (or attach to, or fork on) a node, run, print, write outputs.

    @param node ``"ganache"`` or ``"anvil"``: the node simulate starts on a free loopback port (default ganache;
        anvil on a fork). @param attach The URL of a development node on this machine to use instead.
    @param network_name brownie's name of the node (``ganache-cli``, ``anvil``), the older way to say ``node``.
    @return The result; its ``reference_match`` says whether every value matched the reference model.
    @raise ScenarioError (invalid scenario, refused step), SimulationSetupError (node, chain, fork source,
        funding: its ``code`` is the exit code), ReferenceMismatch."""
    import requests

    from backing.onchain import node as nodes

    scenario = load_scenario_file(path)
    if oracle_service and oracle_service_problem(scenario):
        raise ScenarioError(f"--oracle-service: {oracle_service_problem(scenario)}")
    if network_name and not node:
        if network_name not in nodes.BROWNIE_NETWORKS:
            raise simulation_problem("network_unknown", name=network_name)
        node = nodes.BROWNIE_NETWORKS[network_name]
    if attach and fork_url:
        raise ScenarioError("--attach and --fork-url exclude each other: simulate starts the fork itself")
    if fork_url:
        kind = node or "anvil"
        if kind != "anvil" and not nmr_holder:
            raise simulation_problem("fork_needs_anvil")
        fork_block = nodes.check_fork_source(fork_url, fork_block, NMR_MAINNET)
        chain_node = nodes.start_node(kind, fork_url, fork_block, unlock=(nmr_holder,) if nmr_holder else ())
    elif attach:
        chain_node = nodes.attach_node(attach)
    else:
        chain_node = nodes.start_node(node or "ganache")
    try:
        out(chain_node.describe())
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"brownie\..*")
        warnings.filterwarnings("ignore", message=r"rpc\.\w+ should not be called directly")
        nodes.connect(chain_node)
        token = funder = None
        if fork_url:
            from backing.onchain import fork

            token, funder = fork.prepare(chain_node.kind, nmr_holder)
            out(
                f"NMR from the fork at {token.address}, funded "
                + (f"from the holder {nmr_holder}" if nmr_holder else "by writing its balances (anvil_setStorageAt)")
            )
        result = run(scenario, token=token, funder=funder, out=out, oracle_service=oracle_service)
    except (ConnectionError, requests.exceptions.ConnectionError) as error:  # the node went away mid-run
        chain_node.keep_log = True
        log = f" (the node's log: {chain_node.log})" if chain_node.log else ""
        raise simulation_problem("node_lost", url=chain_node.url, detail=type(error).__name__, log=log) from None
    finally:
        nodes.disconnect(chain_node)
    out("")
    out(tables(result))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    if plot_dir:
        for written in plot(result, plot_dir):
            out(f"wrote {written}")
    for what, got, want in result.mismatches:
        out(f"MISMATCH {what}: chain {got!r}, reference {want!r}")
    out(
        f"\n{len(result.checks)} values compared with the reference model: "
        f"reference match: {'yes' if result.reference_match else 'no'}"
    )
    return result


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

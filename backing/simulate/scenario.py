"""The scenario file: its format (docs/scenarios.md), read exactly (never through a float) and checked key by key;
``ScenarioError`` says in plain words what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from backing.model.agreement import (
    MAX_SCORES,
    ONE,
)
from backing.model.terms import TermsError, _bps, nmr_to_wei, read_terms_file
from backing.report import nmr

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

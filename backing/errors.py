"""Every contract custom error in plain words: what happened and what to do next.

One catalogue for every command that reports a contract's refusal (``backing terms check``, ``settle``,
``simulate``, the series runner): ``MESSAGES`` maps each custom error of the deployable contracts (their
interfaces in ``contracts/interfaces/``) to a function of the error's arguments and a ``Context`` (what the
caller knows about the step: the terms, the backer, the option names of a command line). ``plain(name, args,
context)`` renders one error; ``revert_error(exc)`` decodes a brownie revert into the (name, args) pair to render.

Some errors mean different things in different contracts (``CapacityExceeded`` counts units in an agreement and
NMR wei in a series): an entry ``"BackingSeries.CapacityExceeded"`` is used when ``Context.contract`` is
``"BackingSeries"``, before the plain ``"CapacityExceeded"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backing.model.agreement import (
    MAX_FEE_TIERS,
    MAX_LOCKUP_ROUNDS,
    MAX_OPEN_PERIOD,
    MAX_RESERVE_RATIO_BPS,
    MAX_UNIT_SIZE,
    MAX_UNITS,
    MAX_UPFRONT_FEE_BPS,
    MAX_WIND_DOWN,
    MIN_WIND_DOWN,
    FeeTier,
    Phase,
    Terms,
    lock_amounts,
)
from backing.report import duration, fraction, nmr


@dataclass(frozen=True)
class Context:
    """What a message may quote besides the error's own arguments (every field optional).

    @param terms The agreement's terms (``backing.model.agreement.Terms``).
    @param now The unix time the terms were checked at (terms validation).
    @param raw The terms as written (``open_for`` or ``open_until``: the message names the one the user gave).
    @param backer The backer the step is about.
    @param units The units the agreement would lock (to quote the staked capital).
    @param contract The contract that refused (``"BackingAgreement"``, ``"BackingSeries"``, ...).
    @param options Command-line options standing for the amounts: ``{"reserve": "--reserve", "deposits":
        "--deposits", "repayment": "--repay"}`` makes the message name the option to change.
    """

    terms: Terms | None = None
    now: int | None = None
    raw: dict = field(default_factory=dict)
    backer: str | None = None
    units: int | None = None
    contract: str = ""
    options: dict = field(default_factory=dict)

    @property
    def open_key(self) -> str:
        return "open_for" if "open_for" in self.raw else "open_until"

    def tier(self, index: int) -> FeeTier:
        return self.terms.fee_ladder[index]


Message = Callable[[tuple, Context], str]


def _a(args: tuple, i: int) -> Any:
    """The i-th argument, or "?" when the revert carried fewer (a message never fails on a short revert)."""
    return args[i] if i < len(args) else "?"


def _n(args: tuple, i: int) -> str:
    """The i-th argument as NMR."""
    value = _a(args, i)
    return nmr(value) if isinstance(value, int) else str(value)


def _phase(value) -> str:
    try:
        return Phase(int(value)).name
    except (TypeError, ValueError):
        return str(value)


def _when(value) -> str:
    return f"unix {value}"


# ---------------------------------------------------------------------------------------------- terms checks


def _open_until_not_in_future(args, c: Context) -> str:
    if c.open_key == "open_for":
        return "open_for must be longer than 0 seconds"
    return f"open_until ({c.terms.open_until}) must be in the future (now is {c.now})"


def _open_until_too_far(args, c: Context) -> str:
    limit = duration(MAX_OPEN_PERIOD)
    if c.open_key == "open_for":
        return f"open_for ({duration(c.terms.open_until - c.now)}) must be at most {limit}"
    return (
        f"open_until ({c.terms.open_until}) must be at most {limit} from now, "
        f"i.e. no later than {c.now + MAX_OPEN_PERIOD}"
    )


def _tier_not_ascending(args, c: Context) -> str:
    i = args[0]
    here = c.tier(i).min_units
    if i > 0 and here <= c.tier(i - 1).min_units:
        return (
            f"fee_ladder[{i}].min_units ({here}) must be greater than the previous tier's "
            f"({c.tier(i - 1).min_units}): tiers go in ascending order"
        )
    if here == 0:
        return f"fee_ladder[{i}].min_units must be at least 1"
    return f"fee_ladder[{i}].min_units ({here}) must be at most max_units ({c.terms.max_units})"


#: The errors ``Terms.validate`` (the contracts' creation checks) raises -> the terms field each concerns.
TERMS_FIELDS = {
    "UnitSizeOutOfRange": "unit_size",
    "MinUnitsZero": "min_units",
    "MaxUnitsBelowMinUnits": "max_units",
    "MaxUnitsTooLarge": "max_units",
    "ProfitShareTooHigh": "profit_share",
    "BurnShareTooHigh": "burn_share",
    "ReserveRatioTooHigh": "reserve_ratio",
    "UpfrontFeeTooHigh": "upfront_fee",
    "LockupRoundsOutOfRange": "lockup_rounds",
    "OpenUntilNotInFuture": "open_until",
    "OpenUntilTooFar": "open_until",
    "WindDownOutOfRange": "wind_down",
    "StakingAddressZero": "staking_address",
    "FeeLadderTooLong": "fee_ladder",
    "FeeTierMinUnitsNotAscending": "fee_ladder",
    "FeeTierShareTooHigh": "fee_ladder",
}

# Terms messages quote the terms (``Context.terms``), as the user wrote them, rather than the raw arguments.
_TERMS: dict[str, Message] = {
    "UnitSizeOutOfRange": lambda a, c: (
        f"unit_size ({nmr(c.terms.unit_size)} NMR) must be more than 0 and at most {nmr(MAX_UNIT_SIZE)} NMR"
    ),
    "MinUnitsZero": lambda a, c: "min_units must be at least 1",
    "MaxUnitsBelowMinUnits": lambda a, c: (
        f"max_units ({c.terms.max_units}) must be at least min_units ({c.terms.min_units})"
    ),
    "MaxUnitsTooLarge": lambda a, c: f"max_units ({c.terms.max_units}) must be at most {MAX_UNITS}",
    "ProfitShareTooHigh": lambda a, c: (
        f"profit_share ({fraction(c.terms.profit_share_bps)}) must be at most 1 (100%)"
    ),
    "BurnShareTooHigh": lambda a, c: f"burn_share ({fraction(c.terms.burn_share_bps)}) must be at most 1 (100%)",
    "ReserveRatioTooHigh": lambda a, c: (
        f"reserve_ratio ({fraction(c.terms.reserve_ratio_bps)}) must be at most "
        f"{fraction(MAX_RESERVE_RATIO_BPS)} ({MAX_RESERVE_RATIO_BPS // 100}% of the staked capital)"
    ),
    "UpfrontFeeTooHigh": lambda a, c: (
        f"upfront_fee ({fraction(c.terms.upfront_fee_bps)}) must be at most {fraction(MAX_UPFRONT_FEE_BPS)} "
        f"({MAX_UPFRONT_FEE_BPS // 100}%)"
    ),
    "LockupRoundsOutOfRange": lambda a, c: (
        f"lockup_rounds ({c.terms.lockup_rounds}) must be between 1 and {MAX_LOCKUP_ROUNDS}"
    ),
    "OpenUntilNotInFuture": _open_until_not_in_future,
    "OpenUntilTooFar": _open_until_too_far,
    "WindDownOutOfRange": lambda a, c: (
        f"wind_down ({duration(c.terms.wind_down)}) must be between {duration(MIN_WIND_DOWN)} "
        f"and {duration(MAX_WIND_DOWN)}"
    ),
    "StakingAddressZero": lambda a, c: "staking_address must not be the zero address",
    "FeeLadderTooLong": lambda a, c: (
        f"fee_ladder has {len(c.terms.fee_ladder)} tiers; at most {MAX_FEE_TIERS} are allowed"
    ),
    "FeeTierMinUnitsNotAscending": _tier_not_ascending,
    "FeeTierShareTooHigh": lambda a, c: (
        f"fee_ladder[{a[0]}].profit_share ({fraction(c.tier(a[0]).profit_share_bps)}) must be at most 1 (100%)"
    ),
}

# The same errors when no terms are at hand (a raw revert from a deployed contract): quote the arguments.
_TERMS_BARE: dict[str, Message] = {
    "UnitSizeOutOfRange": lambda a, c: (
        f"unit_size ({_n(a, 0)} NMR) must be more than 0 and at most {nmr(MAX_UNIT_SIZE)} NMR: fix the terms"
    ),
    "MinUnitsZero": lambda a, c: "min_units must be at least 1: fix the terms",
    "MaxUnitsBelowMinUnits": lambda a, c: (
        f"max_units ({_a(a, 1)}) must be at least min_units ({_a(a, 0)}): fix the terms"
    ),
    "MaxUnitsTooLarge": lambda a, c: f"max_units ({_a(a, 0)}) must be at most {_a(a, 1)}: fix the terms",
    "ProfitShareTooHigh": lambda a, c: f"profit_share ({_a(a, 0)} bps) must be at most 10000 bps: fix the terms",
    "BurnShareTooHigh": lambda a, c: f"burn_share ({_a(a, 0)} bps) must be at most 10000 bps: fix the terms",
    "ReserveRatioTooHigh": lambda a, c: (
        f"reserve_ratio ({_a(a, 0)} bps) must be at most {_a(a, 1)} bps: fix the terms"
    ),
    "UpfrontFeeTooHigh": lambda a, c: f"upfront_fee ({_a(a, 0)} bps) must be at most {_a(a, 1)} bps: fix the terms",
    "LockupRoundsOutOfRange": lambda a, c: (
        f"lockup_rounds ({_a(a, 0)}) must be between 1 and {_a(a, 1)}: fix the terms"
    ),
    "OpenUntilNotInFuture": lambda a, c: (
        f"open_until ({_when(_a(a, 0))}) is not in the future: give a later open_until (or an open_for)"
    ),
    "OpenUntilTooFar": lambda a, c: (
        f"open_until ({_when(_a(a, 0))}) is later than the limit ({_when(_a(a, 1))}): open the deposits for less"
    ),
    "WindDownOutOfRange": lambda a, c: (
        f"wind_down ({_a(a, 0)} s) must be between {_a(a, 1)} s and {_a(a, 2)} s: fix the terms"
    ),
    "StakingAddressZero": lambda a, c: "staking_address must not be the zero address: give the staking wallet",
    "FeeLadderTooLong": lambda a, c: (
        f"fee_ladder has {_a(a, 0)} tiers; at most {_a(a, 1)} are allowed: drop some tiers"
    ),
    "FeeTierMinUnitsNotAscending": lambda a, c: (
        f"fee_ladder[{_a(a, 0)}].min_units must be above the previous tier's, at least 1 and at most max_units: "
        f"fix the ladder"
    ),
    "FeeTierShareTooHigh": lambda a, c: (
        f"fee_ladder[{_a(a, 0)}].profit_share ({_a(a, 1)} bps) must be at most 10000 bps: fix the ladder"
    ),
}


# ---------------------------------------------------------------------------------------------- agreement


def _option(c: Context, subject: str) -> str | None:
    return c.options.get(subject)


def _reserve_too_small(a, c: Context) -> str:
    option = _option(c, "reserve")
    if c.terms is None:
        return (
            f"the reserve ({_n(a, 0)} NMR) is below the {_n(a, 1)} NMR these terms require to lock: "
            f"post at least {_n(a, 1)} NMR"
        )
    if c.contract == "BackingSeries":
        return (
            f"the reserve ({_n(a, 0)} NMR) is below the {_n(a, 1)} NMR these terms require to lock "
            f"(reserve_ratio {fraction(c.terms.reserve_ratio_bps)} of the staked capital)"
        )
    staked = lock_amounts(c.terms, c.units).staked if c.units is not None else None
    of = f" of {nmr(staked)} NMR staked" if staked is not None else " of the staked capital"
    if option:
        return (
            f"{option} ({_n(a, 0)} NMR) is below the {_n(a, 1)} NMR these terms require "
            f"(reserve_ratio {fraction(c.terms.reserve_ratio_bps)}{of})"
        )
    return (
        f"the reserve ({_n(a, 0)} NMR) is below the {_n(a, 1)} NMR these terms require to lock "
        f"(reserve_ratio {fraction(c.terms.reserve_ratio_bps)}{of})"
    )


def _capacity_exceeded(a, c: Context) -> str:
    option = _option(c, "deposits")
    limit = f" (max_units {c.terms.max_units})" if c.terms is not None else ""
    if option:
        return f"{option}: the backers ask for more units than the terms allow{limit}"
    who = c.backer or "the backer"
    return f"{who} asks for {_a(a, 0)} units but only {_a(a, 1)} are left{limit}"


def _series_capacity_exceeded(a, c: Context) -> str:
    limit = f" (max_units {c.terms.max_units})" if c.terms is not None else ""
    who = c.backer or "the backer"
    return f"{who} brings {_n(a, 0)} NMR but only {_n(a, 1)} NMR of capacity is left{limit}"


def _below_min_units(a, c: Context) -> str:
    option = _option(c, "deposits")
    if option:
        return f"{option}: {_a(a, 0)} units in total; these terms need at least min_units ({_a(a, 1)}) to lock"
    return f"the backers deposit {_a(a, 0)} units in total; the terms need at least min_units ({_a(a, 1)}) to lock"


def _below_min_capital(a, c: Context) -> str:
    need = f" (min_units {c.terms.min_units})" if c.terms is not None else ""
    return f"the agreement pools {_n(a, 0)} NMR; the terms need at least {_n(a, 1)} NMR{need} to lock"


def _repayment_exceeds_due(a, c: Context) -> str:
    subject = _option(c, "repayment") or "the repayment"
    return f"{subject} ({_n(a, 0)} NMR) is more than the amount due ({_n(a, 1)} NMR)"


_AGREEMENT: dict[str, Message] = {
    "ModellerZero": lambda a, c: "the modeller is the zero address: create the agreement from the modeller's account",
    "AlreadyInitialized": lambda a, c: "this contract is already initialized: create a new one through the factory",
    "NotFactory": lambda a, c: f"{_a(a, 0)} is not the factory: only the factory may initialize an agreement",
    "NotModeller": lambda a, c: f"{_a(a, 0)} is not the modeller: send this step from the modeller's account",
    "WrongPhase": lambda a, c: (
        f"the agreement is {_phase(_a(a, 0))}, and this step is not allowed in that phase: check the agreement's "
        f"phase first"
    ),
    "ReentrantCall": lambda a, c: "a call re-entered the contract and was refused: call it directly, once",
    "ZeroAmount": lambda a, c: "an amount of zero (reserve or repayment) is not accepted",
    "DepositWindowClosed": lambda a, c: "the deposit window (open_for) has closed",
    "CapacityExceeded": _capacity_exceeded,
    "InsufficientUnits": lambda a, c: (
        f"{c.backer or 'the backer'} asks to withdraw {_a(a, 0)} units but holds only {_a(a, 1)}: "
        f"withdraw at most {_a(a, 1)}"
    ),
    "OpenWindowNotOver": lambda a, c: (
        f"the deposit window is open until {_when(_a(a, 0))}: wait until it closes (or reach max_units)"
    ),
    "BelowMinUnits": _below_min_units,
    "ReserveTooSmall": _reserve_too_small,
    "DepositBeyondReserve": lambda a, c: (
        f"this deposit would need a reserve of {_n(a, 0)} NMR and the modeller has posted {_n(a, 1)} NMR: once a "
        f"reserve is posted, deposits stop where it no longer covers the stake; deposit fewer units, or ask the "
        f"modeller to top up his reserve"
    ),
    "ModelNotStarted": lambda a, c: (
        f"the agreement would start at round {_a(a, 0)}, before the model's first round on the oracle "
        f"({_a(a, 1)}): lock once round {_a(a, 1)} is the next round"
    ),
    "RoundsOutstanding": lambda a, c: (
        f"the oracle has final rounds up to {_a(a, 0)}; the lockup ends at round {_a(a, 1)}: wait until every "
        f"round of the lockup is final"
    ),
    "RepaymentExceedsDue": _repayment_exceeds_due,
    "WindDownNotOver": lambda a, c: (
        f"the modeller may still repay until {_when(_a(a, 0))}: a default can be declared only after that"
    ),
    "NothingToClaim": lambda a, c: f"{c.backer or _a(a, 0)} has nothing to claim from this agreement",
    "AlreadyClaimed": lambda a, c: f"{c.backer or _a(a, 0)} has already claimed: there is nothing more to collect",
    "ClaimsOutstanding": lambda a, c: (f"{_a(a, 0)} backers have not claimed yet: wait until every backer has claimed"),
    # AgreementFactory and SeriesFactory (BackingFactory)
    "NotModelOwner": lambda a, c: (
        f"{_a(a, 1)} is not the modeller the oracle registered for model {_a(a, 0)} ({_a(a, 2)}): send it from "
        f"the registered modeller's account, or register the model first"
    ),
    "NotAnAgreement": lambda a, c: f"{_a(a, 0)} is not an agreement of this factory: only its agreements may do this",
    "NotASeries": lambda a, c: f"{_a(a, 0)} is not a series of this factory: only its series may do this",
    # ModellerRecord (each modeller's defaults, written by the two factories of a deployment)
    "DefaultAlreadyRecorded": lambda a, c: f"the default of {_a(a, 0)} is already recorded: it counts once",
    "UnknownFactory": lambda a, c: (
        f"{_a(a, 0)} is not one of the two factories this record was deployed for: only they record defaults"
    ),
    "RecordNotForThisFactory": lambda a, c: (
        f"the record at {_a(a, 0)} does not name this factory as a writer: deploy the record first with the "
        f"factories' predicted addresses (`backing deploy` does)"
    ),
}


# ---------------------------------------------------------------------------------------------- series

_SERIES: dict[str, Message] = {
    "BackingSeries.CapacityExceeded": _series_capacity_exceeded,
    "BelowMinCapital": _below_min_capital,
    "ModelMismatch": lambda a, c: (
        f"the terms name model {_a(a, 0)} but this series is for model {_a(a, 1)}: use the series' model id"
    ),
    "SeriesEnded": lambda a, c: "the series has ended (a default or a wipe-out): start a new series",
    "ModelNotAttested": lambda a, c: (
        f"the terms require an attested model and the oracle does not attest model {_a(a, 0)}: ask the oracle's "
        "signers to attest it (`backing model attest`), or offer terms without require_attested_model; an agreement "
        "that cannot lock can be cancelled and every deposit comes back"
    ),
    "ModellerReplaced": lambda a, c: (
        f"the oracle now names {_a(a, 1)} as model {_a(a, 0)}'s modeller: this series opens no new agreement (its "
        "agreements and positions run to their end); the new modeller creates his own series"
    ),
    "SeriesWipedOut": lambda a, c: (
        "the series price fell to zero: the series has ended and cannot lock another agreement"
    ),
    "NoAgreement": lambda a, c: "the series has no agreement yet: the modeller opens one first",
    "UnknownAgreement": lambda a, c: f"the series has no agreement {_a(a, 0)}: check the agreement index",
    "UnknownPosition": lambda a, c: f"there is no position {_a(a, 0)} in this series: check the position id",
    "NextAlreadyOpen": lambda a, c: (
        f"agreement {_a(a, 0)} is still open: lock or cancel it before opening the next one"
    ),
    "PreviousNotSettled": lambda a, c: (
        f"agreement {_a(a, 0)} is not settled or cancelled yet: settle it before locking the next one"
    ),
    "ClawbackTooHigh": lambda a, c: f"the clawback share ({_a(a, 0)} bps) must be at most 10000 bps: fix the terms",
    "ClawbackWindowTooLong": lambda a, c: (
        f"the clawback covers {_a(a, 0)} agreements; at most {_a(a, 1)} are allowed: fix the terms"
    ),
    "ClawbackHalfSet": lambda a, c: (
        f"the clawback has share {_a(a, 0)} bps over {_a(a, 1)} agreements: give both a share and a number of "
        f"agreements, or neither"
    ),
    "TooManyCommitments": lambda a, c: (
        f"the terms offer {_a(a, 0)} commitments; at most {_a(a, 1)} are allowed: drop some"
    ),
    "CommitmentNotAscending": lambda a, c: (
        f"commitment {_a(a, 0)} is not longer than the one before: list commitments in ascending length"
    ),
    "CommitmentShareTooHigh": lambda a, c: (
        f"commitment {_a(a, 0)}'s profit share ({_a(a, 1)} bps) must be at most 10000 bps: fix the terms"
    ),
    "NoSuchCommitment": lambda a, c: (
        f"the terms offer no commitment of {_a(a, 0)} agreements: pick one the terms list"
    ),
    "AlreadyCommitted": lambda a, c: (
        f"the position is already committed until agreement {_a(a, 0)}: wait until that commitment ends"
    ),
    "TooManyPositions": lambda a, c: (
        f"{_a(a, 0)} already holds {_a(a, 1)} positions in this series, the most allowed: use an existing one"
    ),
    "TooManyCohorts": lambda a, c: (
        f"{_a(a, 0)} fee cohorts would be needed: too many different commitments in one agreement"
    ),
    "NotOwner": lambda a, c: f"{_a(a, 0)} does not own this position (nor operate it): send it from the owner",
    "TransferToModeller": lambda a, c: f"a position cannot go to the modeller ({_a(a, 0)}): pick another recipient",
    "TransferToAgreement": lambda a, c: (
        f"a position cannot go to the series or its staking wallet ({_a(a, 0)}): pick another recipient"
    ),
    "TransferToSelf": lambda a, c: f"{_a(a, 0)} already owns this position: pick another recipient",
    "TransferToZero": lambda a, c: "a position cannot go to the zero address: give the recipient's address",
    "TransferNotAccepted": lambda a, c: (
        f"{_a(a, 0)} has not accepted transfers from {_a(a, 1)}: the recipient calls acceptTransfers for you first"
    ),
    "InsufficientCapital": lambda a, c: (
        f"the position holds {_n(a, 1)} NMR; {_n(a, 0)} NMR were asked for: ask for at most {_n(a, 1)} NMR"
    ),
    "NoOpenNextAgreement": lambda a, c: (
        f"no agreement after {_a(a, 0)} is open to roll into: the modeller opens the next agreement first"
    ),
    "OpenTooLong": lambda a, c: (
        f"a series agreement takes deposits for at most 30 days: its deposit window must end by {_when(_a(a, 1))}, "
        f"not {_when(_a(a, 0))}"
    ),
    "RollWindowOpen": lambda a, c: (
        f"the positions of the previous agreement may still roll in until {_when(_a(a, 0))}: lock after that"
    ),
    "TermsMismatch": lambda a, c: (
        f"the terms consented to differ from agreement {_a(a, 0)}'s: read its terms again and consent to them"
    ),
    "PositionClaimed": lambda a, c: (
        f"position {_a(a, 0)} has already been claimed or rolled: nothing is left in it (see `backing position`)"
    ),
    "NoConsent": lambda a, c: (
        f"position {_a(a, 0)} did not consent to the next agreement's terms: its owner consents first, or claims"
    ),
    "NothingToRoll": lambda a, c: f"{c.backer or 'the backer'} has nothing left to roll (his claim is zero)",
    "NothingToCollect": lambda a, c: (
        "the series owes the modeller nothing right now (upfront fees, reserve returned, released held fees and "
        "charge-backs are credited at lock and settlement): collect after the next one"
    ),
    # the same series terms errors, as a terms file states them (``load_series_terms``: Context(contract=
    # "SeriesTerms"))
    "SeriesTerms.ClawbackTooHigh": lambda a, c: (
        f"clawback.share ({fraction(a[0]) if isinstance(_a(a, 0), int) else _a(a, 0)}) must be at most 1 (100%)"
    ),
    "SeriesTerms.ClawbackWindowTooLong": lambda a, c: (
        f"clawback.agreements ({_a(a, 0)}) must be at most {_a(a, 1)}: held fees stay in escrow for at most "
        f"{_a(a, 1)} agreements"
    ),
    "SeriesTerms.ClawbackHalfSet": lambda a, c: (
        "clawback needs both a share above 0 and at least 1 agreement (or leave clawback out)"
    ),
    "SeriesTerms.TooManyCommitments": lambda a, c: (
        f"commitments lists {_a(a, 0)} options; at most {_a(a, 1)} are allowed: drop some"
    ),
    "SeriesTerms.CommitmentNotAscending": lambda a, c: (
        f"commitments[{_a(a, 0)}].agreements must be more than the one before it (the first at least 2) and at "
        f"most 8: list commitments by ascending length"
    ),
    "SeriesTerms.CommitmentShareTooHigh": lambda a, c: (
        f"commitments[{_a(a, 0)}].profit_share ({fraction(a[1]) if isinstance(_a(a, 1), int) else _a(a, 1)}) "
        f"must be at most 1 (100%)"
    ),
}


# ---------------------------------------------------------------------------------------------- oracle

_ORACLE: dict[str, Message] = {
    "ZeroAddress": lambda a, c: "an address given is the zero address: give a real address",
    "BoundOutOfRange": lambda a, c: f"the oracle bound {_a(a, 0)} is out of its allowed range: pick a value inside",
    "SignerSetInvalid": lambda a, c: (
        f"{_a(a, 0)} signers with quorum {_a(a, 1)} and dispute quorum {_a(a, 2)} is not a valid signer set: "
        f"each quorum must be at least 1 and at most the number of signers"
    ),
    "SignatureExpired": lambda a, c: f"the signatures expired at {_when(_a(a, 0))}: sign the message again",
    "QuorumNotMet": lambda a, c: f"{_a(a, 0)} signatures given, {_a(a, 1)} needed: collect more signatures",
    "InvalidSignature": lambda a, c: f"signature {_a(a, 0)} is malformed: sign again",
    "NotSigner": lambda a, c: (
        f"signature {_a(a, 0)} is from {_a(a, 1)}, who is not an oracle signer: use a signer's key"
    ),
    "SignersNotAscending": lambda a, c: (
        f"signature {_a(a, 0)} is out of order: sort the signatures by signer address, each signer once"
    ),
    "NotSignerOrWatcher": lambda a, c: f"{_a(a, 0)} is neither a signer nor a watcher: send it from one",
    "NoSignerSetProposed": lambda a, c: "no signer set has been proposed: propose one first",
    "SignerSetMismatch": lambda a, c: (
        f"the signer set given ({_a(a, 1)}) is not the one proposed ({_a(a, 0)}): give the proposed set"
    ),
    "TimelockNotOver": lambda a, c: f"the change can be executed from {_when(_a(a, 0))}: wait until then",
    "RenounceDisabled": lambda a, c: "ownership cannot be renounced: transfer it instead",
    "ModelAlreadyRegistered": lambda a, c: f"model {_a(a, 0)} is already registered: use the registration there is",
    "ModelNotRegistered": lambda a, c: f"model {_a(a, 0)} is not registered with the oracle: register it first",
    "ModellerMismatch": lambda a, c: (
        f"model {_a(a, 0)} is registered to {_a(a, 1)}, not {_a(a, 2)}: use the registered modeller"
    ),
    "ExposureOutOfBounds": lambda a, c: (
        f"the exposure ({_n(a, 0)}) is above the oracle's maximum ({_n(a, 1)}): give at most {_n(a, 1)}"
    ),
    "FirstRoundZero": lambda a, c: "the model's first round must be at least 1",
    "WrongTournament": lambda a, c: (
        f"the message is for tournament {_a(a, 0)}; this oracle serves tournament {_a(a, 1)}: sign for it"
    ),
    "NoCloseTimes": lambda a, c: "the announcement has no round close times: give at least one",
    "RoundNotNextAnnouncement": lambda a, c: (
        f"round {_a(a, 0)} cannot be announced now; the next announcement is round {_a(a, 1)}"
    ),
    "CloseTimeTooEarly": lambda a, c: (
        f"the close time {_when(_a(a, 0))} is earlier than {_when(_a(a, 1))}: announce a later close time"
    ),
    "NoRoundAnnounced": lambda a, c: "no round has been announced yet: announce one first",
    "RoundScheduleStale": lambda a, c: (
        f"round {_a(a, 0)} closed at {_when(_a(a, 1))} and the schedule went stale at {_when(_a(a, 2))}: "
        f"announce the coming rounds first"
    ),
    "RoundNotNext": lambda a, c: (
        f"model {_a(a, 0)}: round {_a(a, 1)} is not the next to post (that is {_a(a, 2)}): post the rounds in order"
    ),
    "RoundNotAnnounced": lambda a, c: (
        f"round {_a(a, 0)} is not announced yet (the latest is {_a(a, 1)}): wait for its announcement"
    ),
    "NoReports": lambda a, c: "the batch holds no reports: give at least one",
    "NoScores": lambda a, c: "the report has no scores: give at least one, or report the round as missed",
    "MissedRoundWithScores": lambda a, c: "a missed round carries no scores: drop them, or do not mark it missed",
    "TooManyScores": lambda a, c: f"the report has {_a(a, 0)} scores; at most {_a(a, 1)} are allowed",
    "LengthMismatch": lambda a, c: "the score names, scores and multipliers differ in length: give one of each",
    "EmptyScoreName": lambda a, c: f"score {_a(a, 0)} has an empty name: name every score",
    "DuplicateScoreName": lambda a, c: f"the score {_a(a, 0)} appears twice: give each score once",
    "ScoreOutOfBounds": lambda a, c: f"score {_a(a, 0)} ({_n(a, 1)}) must be between -1 and 1",
    "MultiplierOutOfBounds": lambda a, c: (
        f"multiplier {_a(a, 0)} ({_n(a, 1)}) is above the oracle's maximum ({_n(a, 2)})"
    ),
    "PayoutFactorOutOfBounds": lambda a, c: f"the payout factor ({_n(a, 0)}) must be between 0 and 1",
    "ClipOutOfBounds": lambda a, c: f"a round's clip ({_n(a, 0)}) is above the oracle's maximum ({_n(a, 1)})",
    "IndexOverflow": lambda a, c: "the model's index grew beyond what the oracle stores (uint184)",
    "RoundNotPosted": lambda a, c: f"model {_a(a, 0)}: round {_a(a, 1)} has not been posted yet: post it first",
    "RoundNotPending": lambda a, c: f"model {_a(a, 0)}: round {_a(a, 1)} is not waiting to be finalized",
    "ChallengeWindowOver": lambda a, c: (
        f"model {_a(a, 0)}: round {_a(a, 1)}'s challenge window closed at {_when(_a(a, 2))}: it can no longer "
        f"be disputed"
    ),
    "NotDisputed": lambda a, c: f"model {_a(a, 0)}: round {_a(a, 1)} is not disputed",
    "AlreadyDisputed": lambda a, c: f"model {_a(a, 0)}: round {_a(a, 1)} is already disputed",
    "DisputeTimeoutNotOver": lambda a, c: (
        f"the dispute can be expired (the disputed report then stands) from {_when(_a(a, 0))}: wait"
    ),
    "CloseTimeTooLate": lambda a, c: (
        f"the close time {_when(_a(a, 0))} is later than {_when(_a(a, 1))}, a year from now: give close times in "
        f"seconds, not milliseconds"
    ),
    "RoundOutOfRange": lambda a, c: f"round {_a(a, 0)} is above the largest round the oracle accepts ({_a(a, 1)})",
    "NoModellerChangeProposed": lambda a, c: (
        f"no change of model {_a(a, 0)}'s modeller is pending: the signers propose one first "
        "(`backing oracle change-modeller`)"
    ),
    "ModellerUnchanged": lambda a, c: f"model {_a(a, 0)} is registered to {_a(a, 1)} already: nothing to change",
    "ModellerChangeExpired": lambda a, c: (
        f"the change of model {_a(a, 0)}'s modeller expired at {_when(_a(a, 1))}: the signers propose it again"
    ),
    "SignerSetProposalExpired": lambda a, c: (
        f"the signer-set proposal expired at {_when(_a(a, 0))}: propose it again"
    ),
    "IndexTooLow": lambda a, c: (
        f"model {_a(a, 0)} lost nearly all its value (index {_a(a, 2)} after round {_a(a, 1)}, below "
        f"{_a(a, 3)}): no agreement can start on it; cancel to give backers their deposits back"
    ),
}

# ---------------------------------------------------------------------------------------------- grid registry

_GRID: dict[str, Message] = {
    "ConfigAlreadyClaimed": lambda a, c: (
        f"this grid configuration (index {_a(a, 0)}) is already claimed by {_a(a, 1)}: every configuration belongs to "
        f"one staker; draw another with a new nonce (`backing grid draw --nonce N+1`)"
    ),
    "NotStakerOrOperator": lambda a, c: (
        f"{_a(a, 0)} may not claim for {_a(a, 1)}: send the claim from the staker's account, or have him approve "
        f"you first (`backing grid operator {_a(a, 0)} --account STAKER`)"
    ),
    "OperatorZero": lambda a, c: "the operator is the zero address: give the operator's address",
}


# ---------------------------------------------------------------------------------------------- submissions


_SUBMISSIONS: dict[str, Message] = {
    "EmptyPredictionsHash": lambda a, c: (
        f"commitment {_a(a, 0)} of the batch has no predictions hash: hash the predictions file first"
    ),
    "NoCommitments": lambda a, c: "the batch holds no commitments: give at least one predictions file",
}

# ---------------------------------------------------------------------------------------------- OpenZeppelin

# The library errors a user can meet through the contracts (token transfers, ownership, signatures, clones).
_OPENZEPPELIN: dict[str, Message] = {
    "SafeERC20FailedOperation": lambda a, c: (
        f"the token ({_a(a, 0)}) refused a transfer: check the balance and the allowance (NMR changes a non-zero "
        f"allowance only through changeApproval)"
    ),
    "ERC20InsufficientBalance": lambda a, c: (
        f"{_a(a, 0)} holds {_n(a, 1)} NMR but {_n(a, 2)} NMR are needed: fund the account first"
    ),
    "ERC20InsufficientAllowance": lambda a, c: (
        f"{_a(a, 0)} may spend {_n(a, 1)} NMR but {_n(a, 2)} NMR are needed: raise the allowance first"
    ),
    "OwnableUnauthorizedAccount": lambda a, c: f"{_a(a, 0)} is not the owner: send it from the owner's account",
    "OwnableInvalidOwner": lambda a, c: f"{_a(a, 0)} cannot be the owner: give a real address",
    "ReentrancyGuardReentrantCall": lambda a, c: "a call re-entered the contract and was refused: call it once",
    "ECDSAInvalidSignature": lambda a, c: "a signature does not recover to any address: sign again",
    "ECDSAInvalidSignatureLength": lambda a, c: f"a signature is {_a(a, 0)} bytes long, not 65: sign again",
    "ECDSAInvalidSignatureS": lambda a, c: "a signature is malleable (high s): sign again with a standard signer",
    "ERC1167FailedCreateClone": lambda a, c: "the factory could not create the clone: try again in a new transaction",
    "MathOverflowedMulDiv": lambda a, c: "an amount is too large for the contracts' arithmetic: use smaller amounts",
    "AddressEmptyCode": lambda a, c: f"there is no contract at {_a(a, 0)}: check the deployment's token address",
    "AddressInsufficientBalance": lambda a, c: f"{_a(a, 0)} holds too little ETH for this call: fund it first",
    "FailedInnerCall": lambda a, c: "a call the contract made failed without a reason: check the token and try again",
}


#: Every contract custom error -> its plain-words renderer (see the module docstring for "Contract.Name" keys).
MESSAGES: dict[str, Message] = {
    **_TERMS_BARE,
    **_AGREEMENT,
    **_SERIES,
    **_ORACLE,
    **_GRID,
    **_SUBMISSIONS,
    **_OPENZEPPELIN,
}


def plain(name: str, args: tuple = (), context: Context | None = None) -> str:
    """One contract error in plain words.

    @param name The custom error's name (``ContractError.name``, or the name ``revert_error`` decoded).
    @param args Its arguments, in declaration order.
    @param context What the caller knows about the step (terms, backer, option names); see ``Context``.
    @return The sentence; an error the catalogue does not know is named with its arguments.
    """
    context = context or Context()
    args = tuple(args)
    message = MESSAGES.get(f"{context.contract}.{name}") if context.contract else None
    if message is None and context.terms is not None and name in _TERMS:
        message = _TERMS[name]
    message = message or MESSAGES.get(name)
    if message is None:
        return f"the contracts refuse this step: {name}({', '.join(map(str, args))})"
    return message(args, context)


def known(name: str) -> bool:
    """Whether the catalogue has a sentence for this error name."""
    return name in MESSAGES


def revert_error(exc: Exception) -> tuple[str, tuple] | None:
    """(custom error name, args) from a brownie revert such as "ReserveTooSmall: 25000, 50000"; None without one.
    Numeric arguments come back as ints, the others as brownie renders them."""
    text = getattr(exc, "revert_msg", None)
    if not text:
        return None
    name, _, rest = str(text).partition(":")
    return name.strip(), tuple(_revert_arg(a.strip()) for a in rest.split(",") if a.strip())


def _revert_arg(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def explain_revert(exc: Exception, context: Context | None = None) -> str | None:
    """A brownie revert in plain words; None when it carries no custom error."""
    decoded = revert_error(exc)
    return None if decoded is None else plain(decoded[0], decoded[1], context)


# ---------------------------------------------------------------------------------------------- backing simulate
# What can stop a simulation before anything is compared: the node, the chain, the fork source, the NMR funding.
# Each has its own exit code (0, 1 and 2 are match, mismatch and an invalid or refused scenario); the help text and
# docs/developer.md list them from ``SIMULATION_EXIT_CODES``.

EXIT_SIMULATION_NODE = 3
EXIT_SIMULATION_CHAIN = 4
EXIT_SIMULATION_FORK_SOURCE = 5
EXIT_SIMULATION_FUNDING = 6

#: exit code -> what it means, in the order ``backing simulate --help`` lists them.
SIMULATION_EXIT_CODES = {
    0: "reference match",
    1: "reference mismatch (the chain and the reference model disagree)",
    2: "invalid scenario, or the contracts refuse one of its steps",
    EXIT_SIMULATION_NODE: "no local node: not installed, did not start, nothing answers at --attach URL, or it "
    "stopped answering",
    EXIT_SIMULATION_CHAIN: "wrong chain: --attach to a node that is not a development node, or a fork source "
    "without NMR at its mainnet address",
    EXIT_SIMULATION_FORK_SOURCE: "the fork source (--fork-url) cannot be reached, or has no block --fork-block",
    EXIT_SIMULATION_FUNDING: "NMR cannot be funded on the fork (the --nmr-holder has too little, a ganache fork "
    "without --nmr-holder, or the storage write did not take)",
}


class SimulationSetupError(RuntimeError):
    """A simulation that cannot start (or be funded): ``code`` is its exit code, the message says what to do."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


#: key -> (exit code, message template with str.format fields)
SIMULATION_PROBLEMS: dict[str, tuple[int, str]] = {
    "node_missing": (
        EXIT_SIMULATION_NODE,
        "{binary} is not installed: run `make setup` in {root} (it installs ganache and anvil into "
        "node_modules), or put {binary} on PATH",
    ),
    "node_failed": (EXIT_SIMULATION_NODE, "{kind} did not start on port {port}: {detail} (its log: {log})"),
    "node_lost": (
        EXIT_SIMULATION_NODE,
        "the node at {url} stopped answering during the simulation ({detail}); nothing was compared: run " "again{log}",
    ),
    "attach_down": (
        EXIT_SIMULATION_NODE,
        "nothing answers at --attach {url}: start the node first (e.g. node_modules/.bin/anvil "
        "--port 8545), or leave --attach out and simulate starts its own",
    ),
    "attach_remote": (
        EXIT_SIMULATION_NODE,
        "--attach {url}: simulate attaches only to a node on this machine (127.0.0.1 or "
        "localhost), whose clock it moves; use --fork-url to play on another chain's state",
    ),
    "attach_not_development": (
        EXIT_SIMULATION_CHAIN,
        "--attach {url} is {client} (chain id {chain_id}), not a development node (ganache, "
        "anvil or hardhat): simulate deploys test contracts and moves the clock, so it runs "
        "only there; to play on mainnet's state, fork it: --fork-url URL",
    ),
    "network_unknown": (
        EXIT_SIMULATION_NODE,
        "--network {name}: simulate starts ganache or anvil itself (--node ganache|anvil); to use a "
        "node you started, give --attach URL",
    ),
    "fork_source_down": (
        EXIT_SIMULATION_FORK_SOURCE,
        "the fork source {url} cannot be reached ({detail}): check the URL (and its API key) and "
        "your network, or try another RPC provider",
    ),
    "fork_block_missing": (
        EXIT_SIMULATION_FORK_SOURCE,
        "the fork source {url} has no block {block} (its latest is {latest}): give a lower "
        "--fork-block, or leave it out to fork the latest block",
    ),
    "fork_no_nmr": (
        EXIT_SIMULATION_CHAIN,
        "the fork source {url} (chain id {chain_id}) has no contract at NMR's mainnet address {nmr}: "
        "fork an Ethereum mainnet node",
    ),
    "fork_needs_anvil": (
        EXIT_SIMULATION_FUNDING,
        "--fork-url without --nmr-holder funds NMR by writing its storage, which needs anvil: "
        "leave --node ganache out, or give --nmr-holder ADDRESS",
    ),
    "holder_empty": (
        EXIT_SIMULATION_FUNDING,
        "the NMR holder {holder} holds no NMR on the fork: give an address holding enough NMR for the "
        "scenario, or leave --nmr-holder out (on anvil NMR is then written into the fork's storage)",
    ),
    "holder_short": (
        EXIT_SIMULATION_FUNDING,
        "the NMR holder {holder} has {held} NMR; the scenario needs {needed} NMR more: give a holder "
        "with more NMR, or leave --nmr-holder out (on anvil NMR is then written into the fork's "
        "storage)",
    ),
    "storage_write_failed": (
        EXIT_SIMULATION_FUNDING,
        "could not find NMR's balance slot at {nmr} on the fork (looked at slots 0 to {last}): "
        "give --nmr-holder ADDRESS to fund from a holder instead",
    ),
}


def simulation_problem(key: str, **fields) -> SimulationSetupError:
    """The catalogued problem ``key`` with its fields filled in, ready to raise."""
    code, template = SIMULATION_PROBLEMS[key]
    return SimulationSetupError(code, template.format(**fields))


# ---------------------------------------------------------------------------------------------- backing grid
# Bad input to the grid tools (backing/grid): each refusal in plain words, exit code 2 on the command line. A
# duplicate claim on chain is the registry's custom error ``ConfigAlreadyClaimed`` above.


class GridInputError(ValueError):
    """Bad input for ``backing grid``; the message says what is wrong and what to do next."""


#: key -> message template with str.format fields
GRID_PROBLEMS: dict[str, str] = {
    "not_a_parameter": "{name!r} is not a parameter of the grid (it has {names}, target)",
    "no_targets": "the grid needs at least one target column: the dataset has no target_* column",
    "index_count": "a configuration has {expected} indices, not {got}",
    "index_outside": "{name} index {index!r} is outside the grid (0 to {last})",
    "value_outside": (
        "{name} = {value!r} is not a value of the grid ({count:,} values from {low} to {high}): draw a "
        "configuration with `backing grid draw` instead of writing one"
    ),
    "missing_parameter": "the configuration lacks {name}: give every parameter of the grid and the target",
    "bad_target_name": "target {target!r} is not a Numerai target column (target, target_*)",
    "target_missing": (
        "the configuration trains on {target!r}, which the dataset does not have (it has {have}): use the data "
        "version the model was drawn on, or draw again on this data"
    ),
    "dataset_missing": (
        "{path} is missing: download the data first (`backing grid data --version v5.0 --out DIR`) or build "
        "the synthetic set (`backing grid synthetic DIR`)"
    ),
    "dataset_columns": "{path} is not in Numerai's format: {detail}",
    "bad_address": "{value!r} is not an address: give the staker's 0x... address",
    "bad_nonce": "the nonce must be a whole number from 0 to 2^64 - 1, not {value!r}",
    "gate_failed": (
        "none of the {attempts} configurations drawn from {staker} nonce {nonce} passed the gate (validation CORR "
        "above {threshold}; best {best:.4f} at attempt {best_attempt}): try another nonce, or more --max-attempts"
    ),
    "manifest_unreadable": "cannot read the manifest {path}: {detail}",
    "manifest_mismatch": (
        "the manifest {path} does not check: {detail}; it was edited or written by another grid version: draw " "again"
    ),
    "no_live_rows": "{path} has no live rows (data_type == 'live'): download the current round's live data",
    "bad_cap": "--max-estimators must be at least 1, not {value}",
}


def grid_problem(key: str, **fields) -> GridInputError:
    """The catalogued grid refusal ``key`` with its fields filled in, ready to raise."""
    return GridInputError(GRID_PROBLEMS[key].format(**fields))


# ---------------------------------------------------------------------------------------------- backing portfolio
# What `backing portfolio` refuses before it computes anything (exit 2, bad input), each with what to do next.

#: key -> message template with str.format fields.
PORTFOLIO_PROBLEMS: dict[str, str] = {
    "unknown_agreement": "{where}: {name!r} is not one of the candidates ({known}): check the id or address, or "
    "add it to the candidates",
    "unknown_model": "{where}: model {model!r} has no score history ({known}): add its rounds to the history "
    "(CSV columns round,model,...), or drop the candidate",
    "empty_history": "the score history {where} has no rounds: give a CSV with rows (round,model,return or "
    "round,model,corr20,mmc), or wait until the oracle has posted final rounds",
    "short_history": "the models {models} share only {rounds} round(s) of history; at least {needed} are needed "
    "(one block of --block rounds): give a longer history, a smaller --block, or drop the newest models",
    "no_candidates": "no candidates to choose from {where}: give a candidates file, or point at a chain with "
    "agreements still taking deposits",
    "budget_below_unit": "the budget ({budget} NMR) is below one unit of every candidate (the smallest unit is "
    "{smallest} NMR): raise --budget",
    "infeasible": "no allocation satisfies the constraints: {why}; relax the constraint (--risk-limit, "
    "--risk-level, --min-return) or raise --budget",
    "bad_option": "{option}: {why}",
    "bad_file": "{where}: {why}",
}


class PortfolioError(ValueError):
    """Bad input for `backing portfolio` (exit 2): the message says what is wrong and what to do."""


def portfolio_problem(key: str, **fields) -> PortfolioError:
    """The catalogued portfolio problem ``key`` with its fields filled in, ready to raise."""
    return PortfolioError(PORTFOLIO_PROBLEMS[key].format(**fields))

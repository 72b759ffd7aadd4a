"""``backing.errors``: one plain-words sentence for every custom error the contracts declare, rendered from the
error's arguments and what the caller knows (terms, backer, option names); the brownie revert decoder."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from backing.errors import MESSAGES, TERMS_FIELDS, Context, explain_revert, known, plain, revert_error
from backing.model.agreement import ONE, Terms

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
#: ``error Name(type a, type b);`` in any Solidity file the project deploys (mocks and bench are test-only).
ERROR_DECLARATION = re.compile(r"^\s*error\s+(\w+)\s*\(([^)]*)\)\s*;", re.MULTILINE)


def declared_errors() -> dict[str, int]:
    """Every custom error of the deployable contracts -> its number of arguments."""
    found: dict[str, int] = {}
    for path in CONTRACTS.rglob("*.sol"):
        if {"mocks", "bench"} & set(path.relative_to(CONTRACTS).parts):
            continue
        for name, params in ERROR_DECLARATION.findall(path.read_text()):
            found[name] = len([p for p in params.split(",") if p.strip()])
    return found


def test_every_declared_error_has_a_sentence():
    declared = declared_errors()
    assert len(declared) > 80  # the parser found the interfaces
    missing = sorted(set(declared) - set(MESSAGES))
    assert not missing, f"add these errors to backing/errors.py: {missing}"


def test_no_sentence_for_an_error_nobody_declares():
    """A sentence left for an error the contracts (or the OpenZeppelin code they use) no longer declare is stale:
    it would describe a rule that is gone."""
    openzeppelin = Path(__file__).resolve().parents[2] / "node_modules" / "@openzeppelin" / "contracts"
    if not openzeppelin.exists():
        pytest.skip("npm packages not installed (make setup)")
    known_errors = set(declared_errors())
    for path in openzeppelin.rglob("*.sol"):
        known_errors |= {name for name, _ in ERROR_DECLARATION.findall(path.read_text())}
    stale = sorted(name for name in MESSAGES if name[0].isupper() and name.split(".")[-1] not in known_errors)
    assert not stale, f"remove (or re-declare) these: {stale}"


@pytest.mark.parametrize("name, arity", sorted(declared_errors().items()))
def test_each_sentence_renders_from_its_arguments_alone(name, arity):
    """A raw revert (no terms, no backer) renders with the declared number of arguments, in plain words."""
    args = tuple(range(7, 7 + arity))
    text = plain(name, args)
    assert text and name not in text and "refuse this step" not in text
    assert text[0].islower() or text[0].isdigit() or text[0] in "-0"  # it follows "backing: error: ..." or a prefix


def test_terms_errors_have_a_field_and_a_sentence():
    assert set(TERMS_FIELDS) <= set(MESSAGES)


def test_unknown_error_is_named_with_its_arguments():
    assert not known("SomethingNew")
    assert plain("SomethingNew", (7, "0xab")) == "the contracts refuse this step: SomethingNew(7, 0xab)"


def terms(**changes) -> Terms:
    base = dict(
        unit_size=100 * ONE,
        min_units=1,
        max_units=2,
        profit_share_bps=5000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=1,
        open_until=10**9,
        wind_down=86400,
        staking_address="0x" + "11" * 20,
        model_id=b"\x01" * 32,
    )
    base.update(changes)
    return Terms(**base)


def test_one_sentence_per_context():
    """The same error says what to change in the caller's words: an option, a scenario's reserve, a series."""
    seed = terms()
    cli = Context(terms=seed, units=1, options={"reserve": "--reserve"})
    scenario = Context(terms=seed, units=1)
    series = Context(terms=seed, contract="BackingSeries")
    args = (25 * ONE, 50 * ONE)
    assert plain("ReserveTooSmall", args, cli) == (
        "--reserve (25 NMR) is below the 50 NMR these terms require (reserve_ratio 0.5 of 100 NMR staked)"
    )
    assert plain("ReserveTooSmall", args, scenario) == (
        "the reserve (25 NMR) is below the 50 NMR these terms require to lock (reserve_ratio 0.5 of 100 NMR staked)"
    )
    assert plain("ReserveTooSmall", args, series).endswith("(reserve_ratio 0.5 of the staked capital)")
    assert plain("ReserveTooSmall", args) == (
        "the reserve (25 NMR) is below the 50 NMR these terms require to lock: post at least 50 NMR"
    )


def test_capacity_counts_units_in_an_agreement_and_nmr_in_a_series():
    seed = terms()
    assert plain("CapacityExceeded", (2, 1), Context(terms=seed, backer="bob")) == (
        "bob asks for 2 units but only 1 are left (max_units 2)"
    )
    assert plain(
        "CapacityExceeded", (2 * ONE, ONE // 2), Context(terms=seed, backer="bob", contract="BackingSeries")
    ) == ("bob brings 2 NMR but only 0.5 NMR of capacity is left (max_units 2)")


def test_wrong_phase_names_the_phase():
    assert plain("WrongPhase", (2,)).startswith("the agreement is Matured, and this step is not allowed")


def test_revert_decoder():
    assert revert_error(SimpleNamespace(revert_msg="ReserveTooSmall: 25000, 50000")) == (
        "ReserveTooSmall",
        (25000, 50000),
    )
    assert revert_error(SimpleNamespace(revert_msg="SeriesEnded")) == ("SeriesEnded", ())
    assert revert_error(SimpleNamespace(revert_msg="NotModeller: 0xAbC")) == ("NotModeller", ("0xAbC",))
    assert revert_error(SimpleNamespace(revert_msg=None)) is None
    assert revert_error(ValueError("no revert")) is None
    assert explain_revert(SimpleNamespace(revert_msg="NotModeller: 0xAbC")) == (
        "0xAbC is not the modeller: send this step from the modeller's account"
    )
    assert explain_revert(ValueError("no revert")) is None

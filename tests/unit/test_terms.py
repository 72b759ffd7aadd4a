"""backing.model.terms: every error path of the loader with its message, exact conversions, round trips, model UUIDs."""

import inspect
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import MODEL_ID, MODEL_UUID, NOW, STAKING, seed_terms_dict

from backing.model import agreement as reference
from backing.model.agreement import ONE, ContractError, FeeTier, Terms
from backing.model.terms import (
    TERMS_FIELDS,
    TermsError,
    dump_terms,
    expects_commitments,
    explain,
    load_terms,
    load_terms_file,
    model_id_from_uuid,
    model_uuid,
    nmr_to_wei,
)

DAY = 86400
ZERO_ADDRESS = "0x" + "0" * 40


def error_of(data, now=NOW) -> TermsError:
    with pytest.raises(TermsError) as caught:
        load_terms(data, now=now)
    return caught.value


def without(key: str) -> dict:
    data = seed_terms_dict()
    del data[key]
    return data


# ---------------------------------------------------------------------------------------------- success


def test_seed_terms_load_to_wei_and_bps():
    terms = load_terms(seed_terms_dict(fee_ladder=[{"min_units": 10, "profit_share": 0.4}]), now=NOW)
    assert terms == Terms(
        unit_size=100 * ONE,
        min_units=1,
        max_units=100,
        profit_share_bps=5000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=8,
        open_until=NOW + 7 * DAY,
        wind_down=7 * DAY,
        staking_address=STAKING,
        model_id=MODEL_ID,
        fee_ladder=(FeeTier(10, 4000),),
    )


@pytest.mark.parametrize(
    "value, wei",
    [
        (100, 100 * ONE),
        ("0.5", ONE // 2),
        (Decimal("0.1"), ONE // 10),
        (0.1, ONE // 10),  # a float goes through its shortest repr, "0.1", never its binary value
        ("1e3", 1000 * ONE),
        ("0.000000000000000001", 1),
        ("123456789.123456789123456789", 123456789123456789123456789),
        (" 7 ", 7 * ONE),
    ],
)
def test_nmr_amounts_convert_exactly(value, wei):
    assert nmr_to_wei("unit_size", value) == wei


@pytest.mark.parametrize(
    "value, bps",
    [
        (0.5, 5000),
        ("0.5", 5000),
        ("50%", 5000),
        (" 12.5 % ", 1250),
        ("0.0001", 1),
        ("0.01%", 1),
        (1, 10000),
        (Decimal("2.5"), 25000),
        (0, 0),
        ("0.12340", 1234),
    ],
)
def test_fractions_convert_to_basis_points_exactly(value, bps):
    assert load_terms(seed_terms_dict(reserve_ratio=value), now=NOW).reserve_ratio_bps == bps


@pytest.mark.parametrize(
    "value, seconds",
    [
        (3600, 3600),
        ("3600", 3600),
        ("7d", 7 * DAY),
        ("12h", 43200),
        ("1d12h", 129600),
        ("1d 12h 30m", 131400),
        ("2w", 14 * DAY),
        ("90m", 5400),
        ("3600s", 3600),
        (Decimal("7200"), 7200),
    ],
)
def test_durations(value, seconds):
    assert load_terms(seed_terms_dict(wind_down=value), now=NOW).wind_down == seconds


def test_open_until_is_taken_as_given():
    data = seed_terms_dict(open_until=NOW + 123)
    del data["open_for"]
    assert load_terms(data, now=NOW).open_until == NOW + 123


def test_require_attested_model_is_an_optional_yes_or_no():
    assert load_terms(seed_terms_dict(), now=NOW).require_attested_model is False
    for value in (True, "true", "yes", "on"):
        terms = load_terms(seed_terms_dict(require_attested_model=value), now=NOW)
        assert terms.require_attested_model is True
        assert terms.as_tuple()[-1] is True  # the contract's last Terms field
        assert load_terms(dump_terms(terms), now=NOW) == terms
    assert "require_attested_model" not in dump_terms(load_terms(seed_terms_dict(), now=NOW))
    error = error_of(seed_terms_dict(require_attested_model="maybe"))
    assert error.field == "require_attested_model" and "must be true or false" in str(error)


def test_staking_address_is_checksummed():
    assert load_terms(seed_terms_dict(staking_address=STAKING.lower()), now=NOW).staking_address == STAKING
    assert (
        load_terms(seed_terms_dict(staking_address=STAKING.upper().replace("0X", "0x")), now=NOW).staking_address
        == STAKING
    )


# ---------------------------------------------------------------------------------------------- model ids


def test_uuid_becomes_its_16_bytes_left_aligned():
    assert model_id_from_uuid(MODEL_UUID) == MODEL_ID
    assert model_id_from_uuid(MODEL_UUID) == bytes.fromhex(MODEL_UUID.replace("-", "")) + b"\0" * 16
    assert load_terms(seed_terms_dict(model_id=MODEL_UUID.upper()), now=NOW).model_id == MODEL_ID


def test_hex_model_id_is_taken_as_is():
    raw = "0x" + "ab" * 32
    assert load_terms(seed_terms_dict(model_id=raw), now=NOW).model_id == b"\xab" * 32


def test_model_uuid_inverts_the_conversion():
    assert model_uuid(MODEL_ID) == MODEL_UUID
    assert model_uuid(b"\xab" * 32) is None  # not left-aligned: no UUID in it
    assert model_uuid(b"\xab" * 16) is None  # not 32 bytes


# ---------------------------------------------------------------------------------------------- structural errors


@pytest.mark.parametrize(
    "data, field, message",
    [
        (["unit_size", 100], None, "terms must be a mapping of keys to values, not a list"),
        (None, None, "terms must be a mapping of keys to values, not nothing (empty)"),
        (
            {**seed_terms_dict(), 1: 2},
            None,
            "key 1 is not text: every key must be one of unit_size, min_units, "
            "max_units, profit_share, burn_share, reserve_ratio, upfront_fee, lockup_rounds, wind_down, "
            "staking_address, model_id, open_for, open_until, fee_ladder, submission_commitments, "
            "require_attested_model",
        ),
        (
            seed_terms_dict(profit_shares="0.5"),
            "profit_shares",
            "unknown key 'profit_shares'; did you mean 'profit_share'?",
        ),
        (
            seed_terms_dict(colour="blue"),
            "colour",
            "unknown key 'colour'; known keys are unit_size, min_units, "
            "max_units, profit_share, burn_share, reserve_ratio, upfront_fee, lockup_rounds, wind_down, "
            "staking_address, model_id, open_for, open_until, fee_ladder, submission_commitments, "
            "require_attested_model",
        ),
        (without("burn_share"), "burn_share", "missing required key: burn_share"),
        (
            {k: v for k, v in seed_terms_dict().items() if k not in ("wind_down", "model_id")},
            "wind_down",
            "missing required keys: wind_down, model_id",
        ),
        (
            without("open_for"),
            "open_for",
            'missing open_for (a duration, e.g. "7d") or open_until (a unix time): ' "say when deposits close",
        ),
        (seed_terms_dict(open_until=NOW + 10), "open_until", "give either open_for or open_until, not both"),
    ],
)
def test_structural_errors(data, field, message):
    error = error_of(data)
    assert (error.field, str(error)) == (field, message)
    assert isinstance(error, ValueError)


# ---------------------------------------------------------------------------------------------- field errors


@pytest.mark.parametrize(
    "key, value, message",
    [
        # NMR amounts
        ("unit_size", [100], 'unit_size must be an amount of NMR such as 100 or "0.5", not a list'),
        ("unit_size", True, 'unit_size must be an amount of NMR such as 100 or "0.5", not a true/false value (true)'),
        ("unit_size", "lots", "unit_size must be an amount of NMR such as 100 or \"0.5\", not text ('lots')"),
        ("unit_size", "-5", "unit_size must not be negative (got -5)"),
        ("unit_size", "Infinity", "unit_size must be a finite number, not Infinity"),
        ("unit_size", "NaN", "unit_size must be a finite number, not NaN"),
        ("unit_size", "1e100", "unit_size is far too large (1E+100)"),
        (
            "unit_size",
            "0.0000000000000000001",
            "unit_size (0.0000000000000000001) has more than 18 decimals; NMR is "
            "divisible to 18 decimal places only",
        ),
        # whole numbers
        ("min_units", "5", "min_units must be a whole number, not text ('5')"),
        ("min_units", Decimal("1.5"), "min_units must be a whole number, not 1.5"),
        ("min_units", 1.0, "min_units must be a whole number, not a number (1.0)"),
        ("max_units", -3, "max_units must not be negative (got -3)"),
        ("lockup_rounds", False, "lockup_rounds must be a whole number, not a true/false value (false)"),
        ("max_units", Decimal("1e100"), "max_units is far too large (1E+100)"),
        # fractions
        (
            "profit_share",
            "0.00005",
            "profit_share (0.00005) is not a whole number of basis points: the smallest step " "is 0.0001 (0.01%)",
        ),
        (
            "burn_share",
            "0.001%",
            "burn_share (0.001%) is not a whole number of basis points: the smallest step is " "0.0001 (0.01%)",
        ),
        ("upfront_fee", "-0.01", "upfront_fee must not be negative (got -0.01)"),
        (
            "upfront_fee",
            "half",
            'upfront_fee must be a fraction such as 0.5 (or text such as "50%"), not ' "text ('half')",
        ),
        (
            "reserve_ratio",
            None,
            'reserve_ratio must be a fraction such as 0.5 (or text such as "50%"), not ' "nothing (empty)",
        ),
        # durations
        (
            "wind_down",
            "7 days",
            'wind_down must be a duration: seconds (e.g. 3600) or text such as "7d", "12h" or '
            "\"1d12h\" (units w, d, h, m, s), not text ('7 days')",
        ),
        ("open_for", "-1d", "open_for must not be negative (got -1d)"),
        ("open_for", -60, "open_for must not be negative (got -60)"),
        (
            "wind_down",
            1.5,
            'wind_down must be a duration: seconds (e.g. 3600) or text such as "7d", "12h" or '
            '"1d12h" (units w, d, h, m, s), not a number (1.5)',
        ),
        # addresses
        (
            "staking_address",
            "0x1234",
            "staking_address must be an Ethereum address (0x followed by 40 hex digits), " "not text ('0x1234')",
        ),
        (
            "staking_address",
            int(STAKING, 16),
            "staking_address must be an Ethereum address (0x followed by 40 hex "
            f"digits), not a number ({int(STAKING, 16)})",
        ),
        (
            "staking_address",
            STAKING.replace("7E5F", "7e5F"),
            f"staking_address ({STAKING.replace('7E5F', '7e5F')}) "
            "has a wrong checksum: check for a typo, or write it in lower case to skip the check",
        ),
        # model ids
        (
            "model_id",
            "0x" + "ab" * 31,
            f"model_id (0x{'ab' * 31}) must be 0x followed by exactly 64 hex digits (got "
            "62 characters after 0x), or a model UUID",
        ),
        (
            "model_id",
            "my-model",
            "model_id must be a Numerai model UUID (such as 0f5c3a7e-59c1-4c55-9a8e-2e4dbb3a6f11) "
            "or 0x followed by 64 hex digits, not text ('my-model')",
        ),
        (
            "model_id",
            42,
            "model_id must be a Numerai model UUID (such as 0f5c3a7e-59c1-4c55-9a8e-2e4dbb3a6f11) "
            "or 0x followed by 64 hex digits, not a number (42)",
        ),
    ],
)
def test_field_errors(key, value, message):
    error = error_of(seed_terms_dict(**{key: value}))
    assert str(error) == message
    assert error.field == key


def test_open_until_must_be_a_unix_time():
    data = without("open_for")
    data["open_until"] = "tomorrow"
    error = error_of(data)
    assert (error.field, str(error)) == (
        "open_until",
        "open_until must be a unix time in seconds, not text " "('tomorrow')",
    )


@pytest.mark.parametrize(
    "ladder, message",
    [
        (
            {"min_units": 10},
            "fee_ladder must be a list of tiers such as [{min_units: 10, profit_share: 0.4}], " "not a mapping",
        ),
        ([5], "fee_ladder[0] must be a mapping with min_units and profit_share, not a number (5)"),
        (
            [{"min_units": 10, "profit_share": 0.4, "fee": 1}],
            "fee_ladder[0] has an unknown key 'fee'; a tier has " "exactly min_units and profit_share",
        ),
        ([{"min_units": 10, "profit_share": 0.4}, {"profit_share": 0.3}], "fee_ladder[1] is missing min_units"),
        ([{}], "fee_ladder[0] is missing min_units and profit_share"),
        (
            [{"min_units": "ten", "profit_share": 0.4}],
            "fee_ladder[0].min_units must be a whole number, not text " "('ten')",
        ),
        (
            [{"min_units": 10, "profit_share": "0.40001"}],
            "fee_ladder[0].profit_share (0.40001) is not a whole number "
            "of basis points: the smallest step is 0.0001 (0.01%)",
        ),
    ],
)
def test_fee_ladder_errors(ladder, message):
    error = error_of(seed_terms_dict(fee_ladder=ladder))
    assert (error.field, str(error)) == ("fee_ladder", message)


def test_empty_fee_ladder_is_no_ladder():
    assert load_terms(seed_terms_dict(fee_ladder=None), now=NOW).fee_ladder == ()
    assert load_terms(seed_terms_dict(fee_ladder=[]), now=NOW).fee_ladder == ()


# ---------------------------------------------------------------------------------------------- contract checks


def tiers(*pairs):
    return [{"min_units": m, "profit_share": s} for m, s in pairs]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        (
            {"unit_size": 0},
            "unit_size",
            "unit_size (0 NMR) must be more than 0 and at most " "1208925.819614629174706175 NMR",
        ),
        (
            {"unit_size": "1208925.819614629174706176"},
            "unit_size",
            "unit_size (1208925.819614629174706176 NMR) must be "
            "more than 0 and at most 1208925.819614629174706175 NMR",
        ),
        ({"min_units": 0}, "min_units", "min_units must be at least 1"),
        ({"min_units": 5, "max_units": 3}, "max_units", "max_units (3) must be at least min_units (5)"),
        ({"max_units": 2**24}, "max_units", "max_units (16777216) must be at most 16777215"),
        ({"profit_share": "1.0001"}, "profit_share", "profit_share (1.0001) must be at most 1 (100%)"),
        ({"burn_share": "150%"}, "burn_share", "burn_share (1.5) must be at most 1 (100%)"),
        (
            {"reserve_ratio": "10.0001"},
            "reserve_ratio",
            "reserve_ratio (10.0001) must be at most 10 (1000% of the " "staked capital)",
        ),
        ({"upfront_fee": "0.5001"}, "upfront_fee", "upfront_fee (0.5001) must be at most 0.5 (50%)"),
        ({"lockup_rounds": 0}, "lockup_rounds", "lockup_rounds (0) must be between 1 and 5200"),
        ({"lockup_rounds": 5201}, "lockup_rounds", "lockup_rounds (5201) must be between 1 and 5200"),
        ({"open_for": 0}, "open_for", "open_for must be longer than 0 seconds"),
        ({"open_for": "366d"}, "open_for", "open_for (366d) must be at most 365d"),
        ({"wind_down": "59m"}, "wind_down", "wind_down (59m) must be between 1h and 365d"),
        ({"wind_down": "53w"}, "wind_down", "wind_down (371d) must be between 1h and 365d"),
        ({"staking_address": ZERO_ADDRESS}, "staking_address", "staking_address must not be the zero address"),
        (
            {"fee_ladder": tiers(*[(i, 0.1) for i in range(1, 10)])},
            "fee_ladder",
            "fee_ladder has 9 tiers; at most 8 are allowed",
        ),
        (
            {"fee_ladder": tiers((10, 0.4), (10, 0.3))},
            "fee_ladder",
            "fee_ladder[1].min_units (10) must be greater than the previous tier's (10): tiers go in ascending order",
        ),
        ({"fee_ladder": tiers((0, 0.4))}, "fee_ladder", "fee_ladder[0].min_units must be at least 1"),
        (
            {"fee_ladder": tiers((10, 0.4), (101, 0.3))},
            "fee_ladder",
            "fee_ladder[1].min_units (101) must be at most max_units (100)",
        ),
        (
            {"fee_ladder": tiers((10, 0.4), (20, "1.01"))},
            "fee_ladder",
            "fee_ladder[1].profit_share (1.01) must be at most 1 (100%)",
        ),
    ],
)
def test_contract_checks_in_plain_english(overrides, field, message):
    error = error_of(seed_terms_dict(**overrides))
    assert (error.field, str(error)) == (field, message)


@pytest.mark.parametrize(
    "open_until, message",
    [
        (NOW, f"open_until ({NOW}) must be in the future (now is {NOW})"),
        (
            NOW + 365 * DAY + 1,
            f"open_until ({NOW + 365 * DAY + 1}) must be at most 365d from now, i.e. no later than "
            f"{NOW + 365 * DAY}",
        ),
    ],
)
def test_open_until_contract_checks(open_until, message):
    data = without("open_for")
    data["open_until"] = open_until
    error = error_of(data)
    assert (error.field, str(error)) == ("open_until", message)


def test_every_validate_error_has_a_translation():
    """The table must know every error Terms.validate can raise (a new check would otherwise print raw)."""
    raised = set(re.findall(r'ContractError\("(\w+)"', inspect.getsource(Terms.validate)))
    assert raised and raised == set(TERMS_FIELDS)


def test_unknown_contract_error_still_explained():
    terms = load_terms(seed_terms_dict(), now=NOW)
    error = explain(ContractError("SomethingNew", 7), terms, NOW)
    assert str(error) == "the contract would reject these terms: SomethingNew(7,)"
    assert error.field is None


# ---------------------------------------------------------------------------------------------- files


SEED_YAML = f"""\
# the seed proposal's deal
unit_size: 100
min_units: 1
max_units: 100
profit_share: 0.5
burn_share: 50%
reserve_ratio: 0.5
upfront_fee: 0.01
lockup_rounds: 8
open_for: 7d
wind_down: 7d
staking_address: {STAKING.lower()}
model_id: {MODEL_UUID}
fee_ladder:
  - {{min_units: 10, profit_share: 0.4}}
"""


def test_yaml_file(write_terms):
    terms = load_terms_file(write_terms(SEED_YAML), now=NOW)
    assert (terms.unit_size, terms.burn_share_bps, terms.upfront_fee_bps) == (100 * ONE, 5000, 100)
    assert terms.staking_address == STAKING  # an unquoted 0x literal stays an address, not a YAML integer
    assert terms.fee_ladder == (FeeTier(10, 4000),)


def test_yaml_floats_are_read_exactly(write_terms):
    # 0.3 and 1.000000000000000001 are not representable as binary floats
    text = SEED_YAML.replace("unit_size: 100", "unit_size: 1.000000000000000001").replace(
        "profit_share: 0.5", "profit_share: 0.3"
    )
    terms = load_terms_file(write_terms(text), now=NOW)
    assert (terms.unit_size, terms.profit_share_bps) == (ONE + 1, 3000)


def test_unquoted_hex_model_id_in_yaml(write_terms):
    text = SEED_YAML.replace(f"model_id: {MODEL_UUID}", "model_id: 0x" + "00" * 31 + "01")
    assert load_terms_file(write_terms(text), now=NOW).model_id == bytes(31) + b"\x01"


def test_json_file_with_exact_floats(write_terms):
    path = write_terms(
        '{"unit_size": 0.1, "min_units": 1, "max_units": 5, "profit_share": 0.3, '
        '"burn_share": 0.5, "reserve_ratio": 1.5, "upfront_fee": 0.07, "lockup_rounds": 4, '
        f'"open_for": "1d", "wind_down": 3600, "staking_address": "{STAKING}", '
        f'"model_id": "{MODEL_UUID}"}}',
        ".json",
    )
    terms = load_terms_file(path, now=NOW)
    assert (terms.unit_size, terms.profit_share_bps, terms.reserve_ratio_bps, terms.upfront_fee_bps) == (
        ONE // 10,
        3000,
        15000,
        700,
    )


@pytest.mark.parametrize(
    "text, suffix, message",
    [
        (SEED_YAML + "profit_share: 0.4\n", ".yaml", "key 'profit_share' is given more than once (line 16)"),
        ('{"unit_size": 1, "unit_size": 2}', ".json", "key 'unit_size' is given more than once"),
    ],
)
def test_duplicate_keys_are_refused(write_terms, text, suffix, message):
    with pytest.raises(TermsError) as caught:
        load_terms_file(write_terms(text, suffix), now=NOW)
    assert str(caught.value) == message


def test_unreadable_files(write_terms, tmp_path):
    with pytest.raises(TermsError, match=r"^cannot read terms file '.*nowhere.yaml': No such file or directory$"):
        load_terms_file(tmp_path / "nowhere.yaml")
    with pytest.raises(TermsError, match=r"^terms file '.*' is not valid YAML: "):
        load_terms_file(write_terms("unit_size: [1, 2\n"))
    with pytest.raises(TermsError, match=r"^terms file '.*' is not valid JSON: Expecting"):
        load_terms_file(write_terms("{unit_size: 1}", ".json"))
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TermsError, match=r"^terms file '.*binary.yaml' is not UTF-8 text$"):
        load_terms_file(binary)
    with pytest.raises(TermsError, match=r"^terms must be a mapping of keys to values, not a list$"):
        load_terms_file(write_terms("- 1\n- 2\n"))


# ---------------------------------------------------------------------------------------------- round trips


@st.composite
def valid_terms(draw) -> Terms:
    min_units = draw(st.integers(1, 1000))
    max_units = draw(st.integers(min_units, reference.MAX_UNITS))
    ladder_mins = sorted(draw(st.sets(st.integers(1, max_units), max_size=reference.MAX_FEE_TIERS)))
    return Terms(
        unit_size=draw(st.integers(1, reference.MAX_UNIT_SIZE)),
        min_units=min_units,
        max_units=max_units,
        profit_share_bps=draw(st.integers(0, 10_000)),
        burn_share_bps=draw(st.integers(0, 10_000)),
        reserve_ratio_bps=draw(st.integers(0, reference.MAX_RESERVE_RATIO_BPS)),
        upfront_fee_bps=draw(st.integers(0, reference.MAX_UPFRONT_FEE_BPS)),
        lockup_rounds=draw(st.integers(1, reference.MAX_LOCKUP_ROUNDS)),
        open_until=NOW + draw(st.integers(1, reference.MAX_OPEN_PERIOD)),
        wind_down=draw(st.integers(reference.MIN_WIND_DOWN, reference.MAX_WIND_DOWN)),
        staking_address=STAKING,
        model_id=draw(st.binary(min_size=32, max_size=32)),
        fee_ladder=tuple(FeeTier(m, draw(st.integers(0, 10_000))) for m in ladder_mins),
    )


@settings(max_examples=200, deadline=None)
@given(valid_terms())
def test_dump_then_load_round_trips(terms):
    assert load_terms(dump_terms(terms), now=NOW) == terms


@settings(max_examples=100, deadline=None)
@given(valid_terms())
def test_round_trip_through_json_and_yaml_files(tmp_path_factory, terms):
    directory = tmp_path_factory.mktemp("terms")
    as_json = directory / "terms.json"
    as_json.write_text(json.dumps(dump_terms(terms)))
    assert load_terms_file(as_json, now=NOW) == terms
    as_yaml = directory / "terms.yaml"
    # written by hand in the unquoted style a person would use
    as_yaml.write_text(
        "\n".join(f"{k}: {v}" for k, v in dump_terms(terms).items() if k != "fee_ladder")
        + "\n"
        + ("fee_ladder: " + json.dumps(dump_terms(terms).get("fee_ladder", [])) + "\n")
    )
    assert load_terms_file(as_yaml, now=NOW) == terms


def test_submission_commitments_is_stated_beside_the_terms_not_in_them():
    """`submission_commitments: every_round` is accepted by agreement and series terms and changes no contract
    term (the create commands state it in the SubmissionLog); any other value is refused, naming the key."""
    from backing.model.terms import load_series_terms

    promised = {**seed_terms_dict(), "submission_commitments": "every_round"}
    assert load_terms(promised, now=NOW) == load_terms(seed_terms_dict(), now=NOW)
    assert expects_commitments(promised) and not expects_commitments(seed_terms_dict())
    assert load_series_terms(promised, now=NOW) == load_series_terms(seed_terms_dict(), now=NOW)
    for value in ("weekly", True, 1):
        error = error_of({**seed_terms_dict(), "submission_commitments": value})
        assert error.field == "submission_commitments" and "every_round" in str(error)

"""`field_errors`: every violation of a form's terms, each on its field, by the rules of `load_terms`."""

from backing.model.terms import field_errors, load_terms

NOW = 1_700_000_000
GOOD = {
    "model_id": "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11",
    "unit_size": "100",
    "min_units": "2",
    "max_units": "20",
    "profit_share": "0.5",
    "burn_share": "0.5",
    "reserve_ratio": "0.5",
    "upfront_fee": "0.01",
    "lockup_rounds": "12",
    "open_for": "7d",
    "wind_down": "7d",
    "staking_address": "0x000000000000000000000000000000000000dEaD",
}


def test_valid_form_gives_the_terms_load_terms_gives():
    terms, errors = field_errors(GOOD, NOW)
    assert errors == {}
    assert terms == load_terms({**GOOD, "min_units": 2, "max_units": 20, "lockup_rounds": 12}, NOW)


def test_every_violation_is_reported_on_its_field():
    form = dict(GOOD, min_units="0", max_units="99999999", profit_share="1.5", reserve_ratio="x", upfront_fee="0.9")
    form.update(staking_address="0x0000000000000000000000000000000000000000", lockup_rounds="2.5")
    terms, errors = field_errors(form, NOW)
    assert terms is None
    assert errors == {
        "min_units": "min_units must be at least 1",
        "max_units": "max_units (99999999) must be at most 16777215",
        "profit_share": "profit_share (1.5) must be at most 1 (100%)",
        "reserve_ratio": "reserve_ratio must be a fraction such as 0.5 (or text such as \"50%\"), not text ('x')",
        "upfront_fee": "upfront_fee (0.9) must be at most 0.5 (50%)",
        "lockup_rounds": "lockup_rounds must be a whole number, not 2.5",
        "staking_address": "staking_address must not be the zero address",
    }


def test_missing_and_relational_fields():
    form = {k: v for k, v in GOOD.items() if k not in ("wind_down", "open_for")}
    form.update(min_units="5", max_units="3", fee_ladder=[{"min_units": 9, "profit_share": "0.4"}])
    _, errors = field_errors(form, NOW)
    assert errors["wind_down"] == "wind_down is required"
    assert errors["open_for"].startswith("open_for is required")
    assert "max_units" in errors and "min_units" not in errors
    assert errors["max_units"] == load_error(dict(GOOD, min_units=5, max_units=3, lockup_rounds=12))


def load_error(data):
    from backing.model.terms import TermsError

    try:
        load_terms(data, NOW)
    except TermsError as error:
        return str(error)
    raise AssertionError("load_terms accepted it")

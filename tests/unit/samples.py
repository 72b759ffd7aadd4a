"""Shared sample data for the pure-Python tests: a fixed clock and the seed proposal's terms in human units."""

#: A fixed clock, so open_for/open_until checks do not depend on when the tests run.
NOW = 1_700_000_000
STAKING = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
MODEL_UUID = "0f5c3a7e-59c1-4c55-9a8e-2e4dbb3a6f11"
MODEL_ID = bytes.fromhex("0f5c3a7e59c14c559a8e2e4dbb3a6f11") + bytes(16)


def seed_terms_dict(**overrides) -> dict:
    """The seed proposal's deal in human units: 100 NMR units, 50% profit share, 50% burn share, reserve 50%."""
    data = {
        "unit_size": 100,
        "min_units": 1,
        "max_units": 100,
        "profit_share": "0.5",
        "burn_share": "0.5",
        "reserve_ratio": "0.5",
        "upfront_fee": 0,
        "lockup_rounds": 8,
        "open_for": "7d",
        "wind_down": "7d",
        "staking_address": STAKING,
        "model_id": MODEL_UUID,
    }
    data.update(overrides)
    return data

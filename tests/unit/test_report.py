"""backing.report: exact NMR strings and the settlement table/data for reference and chain-shaped agreements."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backing.model.agreement import ONE, Agreement, Terms
from backing.model.terms import nmr_to_wei
from backing.report import duration, fraction, nmr, percent, settlement_data, settlement_json, settlement_table

NMR = ONE


@pytest.mark.parametrize(
    "wei, text",
    [
        (0, "0"),
        (1, "0.000000000000000001"),
        (-1, "-0.000000000000000001"),
        (ONE, "1"),
        (15 * ONE // 10, "1.5"),
        (-2 * ONE, "-2"),
        (100 * ONE + 10, "100.00000000000000001"),
        (ONE - 1, "0.999999999999999999"),
        (10**60 + 1, "1000000000000000000000000000000000000000000.000000000000000001"),
        (2**256 - 1, "115792089237316195423570985008687907853269984665640564039457.584007913129639935"),
    ],
)
def test_nmr_is_exact(wei, text):
    assert nmr(wei) == text


def parse(text: str) -> int:
    """Independent inverse of nmr(): string arithmetic only."""
    negative = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    value = int(whole) * ONE + int(frac.ljust(18, "0") or "0")
    return -value if negative else value


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(2**300), max_value=2**300))
def test_nmr_round_trips_and_is_trimmed(wei):
    text = nmr(wei)
    assert parse(text) == wei
    assert not text.endswith(".") and not (("." in text) and text.endswith("0"))
    assert "e" not in text.lower()
    if wei >= 0:
        assert nmr_to_wei("amount", text) == wei  # the terms loader reads it back exactly


@pytest.mark.parametrize("bad", [1.5, "1", True, None])
def test_nmr_refuses_non_integers(bad):
    with pytest.raises(TypeError):
        nmr(bad)


def test_small_formatters():
    assert [fraction(b) for b in (0, 1, 5000, 10_000, 12_345, 100_000)] == ["0", "0.0001", "0.5", "1", "1.2345", "10"]
    assert [percent(b) for b in (0, 1, 5000, 12_345, 100_000)] == ["0%", "0.01%", "50%", "123.45%", "1000%"]
    assert [duration(s) for s in (0, 59, 3600, 86400 * 7, 131_400, 90_061)] == [
        "0s",
        "59s",
        "1h",
        "7d",
        "1d12h30m",
        "1d1h1m1s",
    ]


# ---------------------------------------------------------------------------------------------- settlement


def seed_terms(**overrides) -> Terms:
    values = dict(
        unit_size=100 * NMR,
        min_units=1,
        max_units=100,
        profit_share_bps=5000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=8,
        open_until=10**9,
        wind_down=3600,
    )
    values.update(overrides)
    return Terms(**values)


def settled(terms: Terms, deposits: dict, reserve: int, value: int, repay: bool = True) -> Agreement:
    agreement = Agreement(terms=terms, modeller="modeller")
    agreement.post_reserve("modeller", reserve)
    for backer, units in deposits.items():
        agreement.deposit(backer, units, 0)
    agreement.lock("modeller", 0, 1)
    agreement.mature(0, agreement.locked.staked, value)
    if repay:
        agreement.repay("modeller", agreement.matured.amount_due)
    else:
        agreement.declare_default(agreement.deadline + 1)
    for backer in deposits:
        agreement.claim(backer)
    return agreement


def rows_by_label(data):
    return {r["label"]: r for r in data["rows"]}


def test_seed_gain_rows():
    """V = 140: the backer gets 120, the modeller keeps 20 of the 40 gain, the reserve comes back whole."""
    data = settlement_data(settled(seed_terms(), {"alice": 1}, 50 * NMR, 140 * NMR))
    rows = rows_by_label(data)
    assert (rows["alice"]["units"], rows["alice"]["paid_in"], rows["alice"]["received"], rows["alice"]["net"]) == (
        1,
        100 * NMR,
        120 * NMR,
        20 * NMR,
    )
    assert (rows["modeller"]["paid_in"], rows["modeller"]["received"]) == (120 * NMR, 0)
    assert (rows["reserve"]["paid_in"], rows["reserve"]["received"]) == (50 * NMR, 50 * NMR)
    assert (rows["staking wallet"]["paid_in"], rows["staking wallet"]["received"]) == (0, 100 * NMR)
    assert data["total"]["net"] == 0
    assert data["modeller_result"] == 20 * NMR
    header = data["header"]
    assert (header["final_value"], header["amount_due"], header["fees_kept"], header["dust"]) == (
        140 * NMR,
        120 * NMR,
        20 * NMR,
        0,
    )


def test_seed_default_rows():
    """V = 80 never repaid: the backer gets the whole 50 NMR reserve; the modeller keeps the 80."""
    data = settlement_data(settled(seed_terms(), {"alice": 1}, 50 * NMR, 80 * NMR, repay=False))
    rows = rows_by_label(data)
    assert rows["alice"]["received"] == 50 * NMR
    assert (rows["reserve"]["received"], rows["modeller"]["paid_in"]) == (0, 0)
    assert data["header"]["default_pool"] == 50 * NMR
    assert data["header"]["reserve_used"] == 50 * NMR
    assert data["modeller_result"] == 30 * NMR


def test_dust_goes_to_the_modeller_row():
    # three backers and a final value that does not split evenly: rounding leaves dust for the modeller
    agreement = settled(seed_terms(upfront_fee_bps=100), {"a": 1, "b": 12, "c": 3}, 792 * NMR, 1900 * NMR)
    data = settlement_data(agreement)
    backers_received = sum(r["received"] for r in data["rows"] if r["label"] in "abc")
    held_for_backers = agreement.repaid + agreement.reserve_used
    assert data["header"]["dust"] == held_for_backers - backers_received > 0
    modeller = rows_by_label(data)["modeller"]
    assert modeller["received"] == 16 * NMR + data["header"]["dust"]  # upfront fee + dust
    assert modeller["paid_in"] == agreement.repaid
    assert data["total"]["net"] == 0


def test_chain_shaped_agreement_uses_labels_and_the_staking_address():
    """Chain results use addresses as party keys, and the staking wallet's address instead of "staking"."""
    agreement = settled(seed_terms(), {"0xA11CE": 1}, 50 * NMR, 140 * NMR)
    agreement.transfers["0x57A4E"] = agreement.transfers.pop("staking")
    labels = {"0xA11CE": "alice", "0x57A4E": "staking wallet", "modeller": "modeller"}
    data = settlement_data(agreement, labels, staking="0x57A4E")
    assert [r["label"] for r in data["rows"]] == ["alice", "modeller", "reserve", "staking wallet"]
    assert data == settlement_data(settled(seed_terms(), {"alice": 1}, 50 * NMR, 140 * NMR)) | {"rows": data["rows"]}
    assert data["modeller_result"] == 20 * NMR


def test_third_party_repayment_gets_its_own_row():
    agreement = Agreement(terms=seed_terms(), modeller="modeller")
    agreement.post_reserve("modeller", 50 * NMR)
    agreement.deposit("alice", 1, 0)
    agreement.lock("modeller", 0, 1)
    agreement.mature(0, agreement.locked.staked, 140 * NMR)
    agreement.repay("friend", 120 * NMR)
    agreement.claim("alice")
    rows = rows_by_label(settlement_data(agreement))
    assert (rows["friend"]["paid_in"], rows["friend"]["received"]) == (120 * NMR, 0)
    assert rows["modeller"]["paid_in"] == 0


def test_table_text():
    # loss of 60 on 300 staked: the modeller repays V = 240 and his reserve covers half the loss (30 NMR). The
    # aggregate cover bound is 30 NMR + 1 wei (backers - 1), so 1 wei of dust returns to him after the claims.
    table = settlement_table(settled(seed_terms(), {"alice": 1, "bob": 2}, 150 * NMR, 240 * NMR), title="Example")
    lines = table.splitlines()
    assert lines[:2] == ["Example", "======="]
    assert "  final value            240 NMR" in lines
    assert "  reserve used           30.000000000000000001 NMR" in lines
    assert "  dust to modeller       1 wei" in lines
    cells = {
        line.split()[0]: line.split()[1:]
        for line in lines[lines.index("") + 1 :]
        if line.startswith("  ") and not line.startswith("  --")
    }
    assert cells["party"] == ["units", "paid", "in", "received", "net"]
    assert cells["alice"] == ["1", "100", "90", "-10"]
    assert cells["bob"] == ["2", "200", "180", "-20"]
    assert cells["modeller"] == ["240", "0.000000000000000001", "-239.999999999999999999"]
    assert cells["reserve"] == ["150", "119.999999999999999999", "-30.000000000000000001"]
    assert cells["total"] == ["690", "690", "0"]
    assert lines[-1] == (
        "  modeller's result, counting the final value left in his staking wallet: " "-30 NMR"
    )  # half the 60 NMR loss: the dust he gets back offsets the extra wei
    rules = [line for line in lines if line.startswith("  --")]
    assert len(rules) == 2 and rules[0] == rules[1]


def test_json_amounts_are_exact_strings():
    data = settlement_json(
        settlement_data(settled(seed_terms(upfront_fee_bps=1), {"alice": 3}, 150 * NMR, ONE * 299 + 1))
    )
    assert data["header"]["final_value"] == "299.000000000000000001"
    assert data["header"]["upfront_fee"] == "0.03"
    assert data["header"]["total_units"] == 3  # counts stay numbers
    assert all(isinstance(r[k], str) for r in data["rows"] for k in ("paid_in", "received", "net"))
    assert data["header"]["default_pool"] is None

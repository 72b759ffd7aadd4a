"""`backing series show SERIES --units N`: what a fresh position receives for a few final values (backing.client.
series_cmd.what_if, on the reference model). The worked example's terms (100 NMR units, 20% profit share, 50% burn
share, reserve 50% of the stake, no upfront fee, a quarter of each fee held for 2 agreements): the expected
amounts below are worked out by hand from the terms."""

import pytest

from backing.client import CliError
from backing.client.series_cmd import what_if
from backing.model.agreement import ONE
from backing.model.series import example_terms


def receives(rows):
    return {row["ratio"]: int(row["receives"]) for row in rows}


def test_a_fresh_position_alone():
    terms = example_terms(0)
    rows = what_if(terms, {"phase": "Open", "capital": "0", "reserve": "0"}, 1)
    assert all(int(row["paid_in"]) == 100 * ONE for row in rows)
    # loss: V = 50, the reserve covers half of the 50 lost; gain: the profit fee is 20% of the rise (the held
    # quarter of it is the modeller's fee in escrow, not the backer's)
    assert receives(rows) == {"0.5": 75 * ONE, "0.9": 95 * ONE, "1": 100 * ONE, "1.1": 108 * ONE, "1.5": 140 * ONE}


def test_beside_others_and_with_a_commitment():
    terms = example_terms(0)
    row = {"phase": "Open", "capital": str(3 * 100 * ONE), "reserve": "0"}
    assert receives(what_if(terms, row, 1))["1.5"] == 140 * ONE  # others' capital does not change his share
    committed = receives(what_if(terms, row, 1, commit=3))
    assert committed["1.5"] == 150 * ONE - 50 * ONE * 15 // 100  # the 3-agreement commitment's 15% fee
    locked = {"phase": "Locked", "capital": str(4 * 100 * ONE), "reserve": str(200 * ONE)}
    assert receives(what_if(terms, locked, 1)) == receives(what_if(terms, {**row, "capital": "0"}, 1))
    assert what_if(terms, {"phase": "Settled", "capital": "0", "reserve": "0"}, 1) == []


def test_more_units_than_the_capacity_is_a_usage_error():
    terms = example_terms(0)
    with pytest.raises(CliError) as error:
        what_if(terms, {"phase": "Open", "capital": "0", "reserve": "0"}, terms.base.max_units + 1)
    assert "--units" in str(error.value)

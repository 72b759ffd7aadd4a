"""GridRegistry: a grid configuration's hash is claimed once, first come, by the staker or his operator; the
claim records the draw (nonce, attempt) and costs at most 60,000 gas."""

import re

import brownie
import pytest
from brownie import GridRegistry

from backing.grid.draw import config_hash, draw
from support.chain import expect_event, reverts_with

TARGETS = ["target", "target_alpha_20"]
CLAIM_GAS_TARGET = 60_000


@pytest.fixture(scope="module")
def registry(deployer):
    return GridRegistry.deploy({"from": deployer})


def claim_of(registry, key) -> tuple:
    staker, nonce, attempt = registry.claimOf(key)
    return str(staker), int(nonce), int(attempt)


def already_claimed_by(holder):
    """Brownie renders the bytes32 argument as Python bytes: match the holder, the argument that tells."""
    return brownie.reverts(revert_pattern=rf"ConfigAlreadyClaimed: .*, {re.escape(str(holder).lower())}")


def drawn_hash(staker, nonce=0, attempt=0) -> str:
    return "0x" + config_hash(draw(str(staker), nonce, attempt, TARGETS)).hex()


def test_staker_claims_his_draw(registry, alice):
    key = drawn_hash(alice, 7, 2)
    tx = registry.claim(key, alice, 7, 2, {"from": alice})
    expect_event(tx, "ConfigClaimed", configHash=key, staker=alice, claimer=alice, nonce=7, attempt=2)
    assert claim_of(registry, key) == (alice, 7, 2)
    assert tx.gas_used <= CLAIM_GAS_TARGET, tx.gas_used


def test_unclaimed_is_zero(registry, alice):
    assert claim_of(registry, drawn_hash(alice)) == ("0x" + "00" * 20, 0, 0)


def test_duplicate_refused_with_the_holder(registry, alice, bob):
    key = drawn_hash(alice)
    registry.claim(key, alice, 0, 0, {"from": alice})
    with already_claimed_by(alice):
        registry.claim(key, bob, 3, 0, {"from": bob})  # another staker copying the configuration
    with already_claimed_by(alice):
        registry.claim(key, alice, 0, 0, {"from": alice})  # nor twice by its own staker
    assert claim_of(registry, key) == (alice, 0, 0)


def test_only_staker_or_approved_operator(registry, alice, bob, outsider):
    key = drawn_hash(alice, 1)
    with reverts_with("NotStakerOrOperator", outsider, alice):
        registry.claim(key, alice, 1, 0, {"from": outsider})
    tx = registry.setOperator(outsider, True, {"from": alice})
    expect_event(tx, "OperatorSet", staker=alice, operator=outsider, approved=True)
    assert registry.isOperator(alice, outsider) and not registry.isOperator(bob, outsider)
    tx = registry.claim(key, alice, 1, 0, {"from": outsider})
    expect_event(tx, "ConfigClaimed", configHash=key, staker=alice, claimer=outsider, nonce=1, attempt=0)
    assert tx.gas_used <= CLAIM_GAS_TARGET, tx.gas_used
    with reverts_with("NotStakerOrOperator", outsider, bob):  # approval is per staker
        registry.claim(drawn_hash(bob), bob, 0, 0, {"from": outsider})
    registry.setOperator(outsider, False, {"from": alice})
    with reverts_with("NotStakerOrOperator", outsider, alice):
        registry.claim(drawn_hash(alice, 2), alice, 2, 0, {"from": outsider})


def test_zero_inputs_refused(registry, alice):
    with reverts_with("ZeroConfigHash"):
        registry.claim("0x" + "00" * 32, alice, 0, 0, {"from": alice})
    with reverts_with("OperatorZero"):
        registry.setOperator("0x" + "00" * 20, True, {"from": alice})
    with reverts_with("NotStakerOrOperator"):  # nobody can claim for the zero address
        registry.claim(drawn_hash(alice), "0x" + "00" * 20, 0, 0, {"from": alice})


def test_distinct_stakers_draw_distinct_hashes(registry, alice, bob):
    a, b = drawn_hash(alice), drawn_hash(bob)
    assert a != b
    registry.claim(a, alice, 0, 0, {"from": alice})
    registry.claim(b, bob, 0, 0, {"from": bob})
    assert claim_of(registry, a)[0] == alice and claim_of(registry, b)[0] == bob

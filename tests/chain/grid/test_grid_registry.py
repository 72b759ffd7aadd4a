"""GridRegistry: a grid configuration is claimed once, first come, by the staker or his operator; the registry
derives the configuration from the staker's own draw (so a copied claim cannot take another's configuration);
the claim records the draw (nonce, attempt) and costs at most 60,000 gas."""

import re

import brownie
import pytest
from brownie import GridRegistry

from backing.grid.draw import config_index, draw, position
from backing.grid.space import distinct_count
from support.chain import expect_event, reverts_with

TARGETS = ["target", "target_alpha_20"]
CLAIM_GAS_TARGET = 60_000
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def registry(deployer):
    return GridRegistry.deploy({"from": deployer})


def claim_of(registry, index) -> tuple:
    staker, nonce, attempt = registry.claimOf(index)
    return str(staker), int(nonce), int(attempt)


def already_claimed_by(holder):
    return brownie.reverts(revert_pattern=rf"ConfigAlreadyClaimed: \d+, {re.escape(str(holder).lower())}")


def test_the_index_is_the_python_draw(registry, alice, bob):
    """The chain's configuration index is the Python draw's hyperparameters: the draw's position over any target
    list, modulo the grid without targets; and the grid's size is the one Python computes."""
    assert registry.GRID_SIZE() == distinct_count(1)
    for staker, nonce, attempt in ((alice, 0, 0), (alice, 7, 2), (bob, 2**64 - 1, 2**32 - 1)):
        index = config_index(str(staker), nonce, attempt)
        assert registry.configIndexOf(staker, nonce, attempt) == index
        drawn = draw(str(staker), nonce, attempt, TARGETS)
        assert position(drawn, TARGETS) % distinct_count(1) == index


def test_staker_claims_his_draw(registry, alice):
    index = config_index(str(alice), 7, 2)
    tx = registry.claim(alice, 7, 2, {"from": alice})
    assert tx.return_value == index
    expect_event(tx, "ConfigClaimed", configIndex=index, staker=alice, claimer=alice, nonce=7, attempt=2)
    assert claim_of(registry, index) == (alice, 7, 2)
    assert tx.gas_used <= CLAIM_GAS_TARGET, tx.gas_used


def test_unclaimed_is_zero(registry, alice):
    assert claim_of(registry, config_index(str(alice), 0, 0)) == (ZERO, 0, 0)


def test_duplicate_refused_with_the_holder(registry, alice):
    registry.claim(alice, 0, 0, {"from": alice})
    with already_claimed_by(alice):
        registry.claim(alice, 0, 0, {"from": alice})  # not twice by its own staker
    assert claim_of(registry, config_index(str(alice), 0, 0)) == (alice, 0, 0)


def test_a_copied_claim_draws_the_copiers_own_configuration(registry, alice, bob):
    """Front-running: bob copies alice's pending claim with himself as the staker. The registry derives bob's own
    draw, another configuration; alice's claim then goes through (the old registry took the caller's hash and
    let bob take alice's configuration first)."""
    tx = registry.claim(bob, 5, 1, {"from": bob})  # what bob can send: a claim for himself
    assert tx.return_value == config_index(str(bob), 5, 1) != config_index(str(alice), 5, 1)
    tx = registry.claim(alice, 5, 1, {"from": alice})
    assert claim_of(registry, config_index(str(alice), 5, 1)) == (alice, 5, 1)
    with reverts_with("NotStakerOrOperator", bob, alice):  # nor can he claim for alice
        registry.claim(alice, 6, 0, {"from": bob})


def test_only_staker_or_approved_operator(registry, alice, bob, outsider):
    with reverts_with("NotStakerOrOperator", outsider, alice):
        registry.claim(alice, 1, 0, {"from": outsider})
    tx = registry.setOperator(outsider, True, {"from": alice})
    expect_event(tx, "OperatorSet", staker=alice, operator=outsider, approved=True)
    assert registry.isOperator(alice, outsider) and not registry.isOperator(bob, outsider)
    tx = registry.claim(alice, 1, 0, {"from": outsider})
    index = config_index(str(alice), 1, 0)
    expect_event(tx, "ConfigClaimed", configIndex=index, staker=alice, claimer=outsider, nonce=1, attempt=0)
    assert tx.gas_used <= CLAIM_GAS_TARGET, tx.gas_used
    with reverts_with("NotStakerOrOperator", outsider, bob):  # approval is per staker
        registry.claim(bob, 0, 0, {"from": outsider})
    registry.setOperator(outsider, False, {"from": alice})
    with reverts_with("NotStakerOrOperator", outsider, alice):
        registry.claim(alice, 2, 0, {"from": outsider})


def test_zero_inputs_refused(registry, alice):
    with reverts_with("OperatorZero"):
        registry.setOperator(ZERO, True, {"from": alice})
    with reverts_with("NotStakerOrOperator"):  # nobody can claim for the zero address
        registry.claim(ZERO, 0, 0, {"from": alice})


def test_distinct_stakers_draw_distinct_configurations(registry, alice, bob):
    a, b = config_index(str(alice), 3, 0), config_index(str(bob), 3, 0)
    assert a != b
    registry.claim(alice, 3, 0, {"from": alice})
    registry.claim(bob, 3, 0, {"from": bob})
    assert claim_of(registry, a)[0] == alice and claim_of(registry, b)[0] == bob

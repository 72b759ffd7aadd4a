"""ScoreOracle construction: parameters and their bounds, the signer set, two-step ownership."""

import dataclasses

import pytest
from brownie import ZERO_ADDRESS

from backing.onchain.oracle import oracle_container, signer_keys, sorted_addresses
from support.chain import DAY, DISPUTE_QUORUM, ORACLE_PARAMS, QUORUM, expect_event, reverts_with
from support.oracle import ONE, WINDOW, expect_event_norm, norm


def deploy_with(
    deployer, bond_token, params=ORACLE_PARAMS, signers=None, quorum=QUORUM, dispute_quorum=DISPUTE_QUORUM, owner=None
):
    return oracle_container(deployer).deploy(
        owner or deployer, params.config(bond_token), signers, quorum, dispute_quorum, {"from": deployer}
    )


def test_constructor_sets_parameters(bare, deployer, nmr_token, signers):
    o = bare.oracle
    assert o.owner() == deployer
    assert o.pendingOwner() == ZERO_ADDRESS
    assert o.bondToken() == nmr_token
    p = ORACLE_PARAMS
    assert (o.tournament(), o.maxClip(), o.maxMultiplier(), o.minRoundSpacing()) == (
        p.tournament,
        p.max_clip,
        p.max_multiplier,
        p.min_round_spacing,
    )
    assert (o.challengeWindow(), o.resolutionDelay(), o.maxReportDelay()) == (
        p.challenge_window,
        p.resolution_delay,
        p.max_report_delay,
    )
    assert (o.disputeBond(), o.disputeTimeout(), o.signerSetDelay()) == (
        p.dispute_bond,
        p.dispute_timeout,
        p.signer_set_delay,
    )
    assert (o.ONE(), o.MAX_ABS_SCORE(), o.MAX_SCORES(), o.MAX_EXPOSURE(), o.MAX_SIGNERS()) == (ONE, ONE, 8, ONE, 32)
    addresses = sorted_addresses(signers)
    assert norm(o.signers()) == norm(addresses)
    assert all(o.isSigner(a) for a in addresses)
    assert not o.isSigner(deployer)
    assert (o.quorum(), o.disputeQuorum()) == (QUORUM, DISPUTE_QUORUM)
    assert (o.currentRound(), o.currentRoundCloseTime(), o.firstAnnouncedRound()) == (0, 0, 0)
    assert (o.proposedSignerSet(), o.proposedSignerSetExecutableAt()) == ("0x" + "00" * 32, 0)
    expect_event_norm(o.tx, "SignerSetChanged", signers=addresses, quorum=QUORUM, disputeQuorum=DISPUTE_QUORUM)


def test_constructor_accepts_extreme_bounds(deployer, nmr_token):
    upper = dataclasses.replace(
        ORACLE_PARAMS,
        max_clip=ONE,
        max_multiplier=1000 * ONE,
        min_round_spacing=365 * DAY,
        challenge_window=30 * DAY,
        resolution_delay=365 * DAY,
        max_report_delay=365 * DAY,
        dispute_timeout=365 * DAY,
        signer_set_delay=365 * DAY,
    )
    addresses = sorted_addresses(signer_keys(32))
    o = deploy_with(deployer, nmr_token, upper, addresses, 31, 32)
    assert (o.maxMultiplier(), o.minRoundSpacing(), o.maxReportDelay()) == (1000 * ONE, 365 * DAY, 365 * DAY)
    assert len(o.signers()) == 32
    lower = dataclasses.replace(
        ORACLE_PARAMS,
        max_clip=1,
        max_multiplier=1,
        min_round_spacing=1,
        challenge_window=1,
        resolution_delay=0,
        max_report_delay=2,
        dispute_bond=1,
        dispute_timeout=1,
        signer_set_delay=1,
    )
    o = deploy_with(deployer, nmr_token, lower, addresses[:2], 1, 2)
    assert (o.maxClip(), o.challengeWindow(), o.maxReportDelay(), o.resolutionDelay()) == (1, 1, 2, 0)
    assert (o.quorum(), o.disputeQuorum()) == (1, 2)


@pytest.mark.parametrize(
    "field, value, bound",
    [
        ("max_clip", 0, "maxClip"),
        ("max_clip", ONE + 1, "maxClip"),
        ("max_multiplier", 0, "maxMultiplier"),
        ("max_multiplier", 1000 * ONE + 1, "maxMultiplier"),
        ("min_round_spacing", 0, "minRoundSpacing"),
        ("min_round_spacing", 365 * DAY + 1, "minRoundSpacing"),
        ("challenge_window", 0, "challengeWindow"),
        ("challenge_window", 30 * DAY + 1, "challengeWindow"),
        ("resolution_delay", 365 * DAY + 1, "resolutionDelay"),
        ("max_report_delay", WINDOW, "maxReportDelay"),  # must exceed the challenge window
        ("max_report_delay", 1, "maxReportDelay"),
        ("max_report_delay", 365 * DAY + 1, "maxReportDelay"),
        ("dispute_bond", 0, "disputeBond"),
        ("dispute_timeout", 0, "disputeTimeout"),
        ("dispute_timeout", 365 * DAY + 1, "disputeTimeout"),
        ("signer_set_delay", 0, "signerSetDelay"),
        ("signer_set_delay", 365 * DAY + 1, "signerSetDelay"),
    ],
)
def test_constructor_bound_out_of_range(deployer, nmr_token, signers, field, value, bound):
    params = dataclasses.replace(ORACLE_PARAMS, **{field: value})
    with reverts_with("BoundOutOfRange", bound):
        deploy_with(deployer, nmr_token, params, sorted_addresses(signers))


@pytest.mark.parametrize(
    "count, quorum, dispute_quorum",
    [(0, 2, 3), (3, 0, 3), (3, 2, 2), (3, 3, 2), (3, 2, 4), (33, 2, 3), (1, 1, 1)],
    ids=[
        "no-signers",
        "quorum-zero",
        "dispute-equals-quorum",
        "dispute-below-quorum",
        "dispute-above-n",
        "33-signers",
        "one-signer",
    ],
)
def test_constructor_signer_set_invalid(deployer, nmr_token, count, quorum, dispute_quorum):
    addresses = sorted_addresses(signer_keys(count)) if count else []
    with reverts_with("SignerSetInvalid", count, quorum, dispute_quorum):
        deploy_with(deployer, nmr_token, signers=addresses, quorum=quorum, dispute_quorum=dispute_quorum)


def test_constructor_signers_not_ascending(deployer, nmr_token, signers):
    a, b, c = sorted_addresses(signers)
    with reverts_with("SignersNotAscending", 1):
        deploy_with(deployer, nmr_token, signers=[b, a, c])
    with reverts_with("SignersNotAscending", 2):
        deploy_with(deployer, nmr_token, signers=[a, c, b])
    with reverts_with("SignersNotAscending", 1):
        deploy_with(deployer, nmr_token, signers=[a, a, c])  # a duplicate is not ascending
    with reverts_with("SignersNotAscending", 0):
        deploy_with(deployer, nmr_token, signers=[ZERO_ADDRESS, a, b])  # nor is the zero address


def test_constructor_zero_addresses(deployer, nmr_token, signers):
    with reverts_with("ZeroAddress"):
        deploy_with(deployer, ZERO_ADDRESS, signers=sorted_addresses(signers))
    with reverts_with("OwnableInvalidOwner", ZERO_ADDRESS):
        oracle_container(deployer).deploy(
            ZERO_ADDRESS, ORACLE_PARAMS.config(nmr_token), sorted_addresses(signers), 2, 3, {"from": deployer}
        )


def test_ownership_two_steps(oracle, deployer, outsider, signers):
    addresses = sorted_addresses(signers)
    tx = oracle.transferOwnership(outsider, {"from": deployer})
    expect_event(tx, "OwnershipTransferStarted", previousOwner=deployer, newOwner=outsider)
    assert oracle.owner() == deployer
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.acceptOwnership({"from": deployer})
    tx = oracle.acceptOwnership({"from": outsider})
    expect_event(tx, "OwnershipTransferred", previousOwner=deployer, newOwner=outsider)
    # the new owner governs, the old one no longer does
    oracle.proposeSignerSet(addresses, 2, 3, {"from": outsider})
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.proposeSignerSet(addresses, 2, 3, {"from": deployer})
    with reverts_with("OwnableUnauthorizedAccount", deployer):
        oracle.setWatcher(deployer, True, {"from": deployer})

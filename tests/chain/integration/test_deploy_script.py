"""scripts/deploy.py deploys a working protocol."""

from brownie import MockNMR

from backing.model.agreement import ONE
from backing.onchain.factories import series_factory_of
from backing.onchain.oracle import sorted_addresses
from scripts.deploy import deploy


def test_deploy_local(accounts):
    token, oracle, factory, signed = deploy(deployer=accounts[0], relayer=accounts[6])
    assert oracle.owner() == accounts[0]
    assert oracle.signers() == sorted_addresses(signed.keys)
    assert (oracle.quorum(), oracle.disputeQuorum()) == (2, 3)
    assert oracle.bondToken() == token and oracle.challengeWindow() == 3600
    assert oracle.maxClip() == 5 * ONE // 100 and oracle.maxMultiplier() == 10 * ONE
    assert oracle.minRoundSpacing() == 22 * 3600
    assert factory.token() == token and factory.oracle() == oracle
    assert factory.implementation() != "0x" + "00" * 20
    series_factory = series_factory_of(factory)
    assert series_factory.token() == token and series_factory.oracle() == oracle
    assert series_factory.record() == factory.record()  # one default count per modeller
    from brownie import BackingSeries

    implementation = BackingSeries.at(series_factory.implementation())
    assert implementation.factory() == series_factory and implementation.modeller() == "0x" + "00" * 20


def test_deploy_reuses_token(accounts):
    existing = MockNMR.deploy({"from": accounts[0]})
    token, _, factory, _ = deploy(deployer=accounts[0], nmr_address=existing.address)
    assert token.address == existing.address and factory.token() == existing


def test_deploy_with_operator_signers(accounts):
    """A real deployment names the operators' addresses; no local key is trusted."""
    addresses = [a.address for a in accounts[7:10]]
    _, oracle, _, signed = deploy(deployer=accounts[0], signers=addresses)
    assert signed is None
    assert oracle.signers() == sorted(addresses, key=lambda a: int(a, 16))

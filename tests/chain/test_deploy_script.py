"""scripts/deploy.py deploys a working protocol."""

from brownie import MockNMR

from backing.reference import ONE
from scripts.deploy import deploy


def test_deploy_local(accounts):
    token, oracle, factory = deploy(deployer=accounts[0], reporter=accounts[6])
    assert oracle.owner() == accounts[0]
    assert oracle.isReporter(accounts[6])
    assert oracle.maxClip() == 5 * ONE // 100 and oracle.maxMultiplier() == 10 * ONE
    assert oracle.minRoundSpacing() == 22 * 3600
    assert factory.token() == token and factory.oracle() == oracle
    assert factory.implementation() != "0x" + "00" * 20


def test_deploy_reuses_token(accounts):
    existing = MockNMR.deploy({"from": accounts[0]})
    token, _, factory = deploy(deployer=accounts[0], nmr_address=existing.address)
    assert token.address == existing.address and factory.token() == existing

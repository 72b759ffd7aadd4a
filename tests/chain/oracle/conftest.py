"""Fixtures for the ScoreOracle tests: k-of-n EIP-712 signed statements that anyone relays, the challenge window,
disputes with an NMR bond resolved by a larger quorum, the liveness fallback agreements mature on, and the
timelocked signer set.

Every failing path asserts its exact custom error and arguments, every state change its event. Statements are
signed off-chain with the ``signers`` keys (``oracle.typed_data``) and relayed by ``reporter`` (or anyone).
Round returns are compared with the Python mirrors ``Report.round_return`` and ``backing.model.agreement``.

None of these tests depends on the agreement token: the oracle's bonds are in ``nmr_token`` and the few
agreement-level tests use ``make_nmr_agreement``, so every test runs once. Shared helpers: ``support.oracle``."""

import itertools

import pytest

from backing.onchain.oracle import SignedOracle, deploy_oracle, signer_keys
from support.chain import DISPUTE_QUORUM, ORACLE_PARAMS, QUORUM
from support.oracle import BOND, ONE, DryRun


@pytest.fixture(scope="module")
def keys(signers):
    """The oracle's signer keys in ascending address order (the order signatures must come in)."""
    return sorted(signers, key=lambda k: int(k.address, 16))


@pytest.fixture(scope="module")
def intruder():
    return signer_keys(1, seed="not-an-oracle-signer")[0]


@pytest.fixture(scope="module")
def bare(deployer, nmr_token, signers, reporter):
    """A second ScoreOracle with the same signers and parameters, nothing registered or announced."""
    o = deploy_oracle(deployer, nmr_token, signers, QUORUM, DISPUTE_QUORUM, ORACLE_PARAMS)
    return SignedOracle(o, signers, reporter)


@pytest.fixture(scope="module")
def dry(oracle, signers, reporter):
    return DryRun(oracle, signers, reporter)


@pytest.fixture(scope="module")
def dry_bare(bare, signers, reporter):
    return DryRun(bare.oracle, signers, reporter)


@pytest.fixture
def fresh_model(signed, modeller):
    """Register a new model id on the shared oracle (given exposure and first round)."""
    counter = itertools.count(1)

    def register(exposure=ONE, first=1):
        model = (0x5EED0000 + next(counter)).to_bytes(32, "big")
        signed.register(model, modeller, exposure, first)
        return model

    return register


@pytest.fixture
def watcher(oracle, deployer, outsider, fund_nmr):
    """`outsider` as a watcher holding exactly one bond, approved to the oracle."""
    oracle.setWatcher(outsider, True, {"from": deployer})
    fund_nmr(outsider, BOND, oracle)
    return outsider

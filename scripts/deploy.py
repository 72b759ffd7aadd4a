"""Deploy the protocol: score oracle, modeller record, agreement factory and series factory (and, on a local
chain, the NMR mock).

    brownie run scripts/deploy.py                      # local ganache: deploys MockNMR too
    NMR_ADDRESS=0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671 DEPLOYER=<brownie account id> \\
        REPORTER=0x... brownie run scripts/deploy.py --network <live network>

Settings (environment): NMR_ADDRESS (token; a MockNMR is deployed when unset on a development network),
DEPLOYER (an account id from `brownie accounts list`; accounts[0] on a development network), SIGNERS (the oracle
operators' signer addresses, comma-separated; required on a live network; on a development network three
deterministic local keys sign instead), QUORUM (default 2), DISPUTE_QUORUM (default 3), MAX_CLIP (default 0.05),
MAX_MULTIPLIER (default 10), MIN_ROUND_SPACING (seconds, default 79200 = 22 h: the shortest gap between two
Numerai rounds' deadlines), CHALLENGE_WINDOW (default 3600), RESOLUTION_DELAY (default 2592000 = 30 days),
MAX_REPORT_DELAY (default 259200 = 3 days), DISPUTE_BOND (NMR, default 100), DISPUTE_TIMEOUT (default 604800),
SIGNER_SET_DELAY (default 172800). The owner (the deployer) can only propose signer changes (timelocked) and
manage watchers; transfer ownership to a multisig after deployment.
"""

import os
from decimal import Decimal

from brownie import accounts, network

from backing.onchain.agreement import deploy_stack
from backing.onchain.factories import series_factory_of
from backing.onchain.oracle import OracleParams

ONE = 10**18


def _fixed(text: str) -> int:
    return int(Decimal(text) * ONE)


def deploy(
    deployer=None,
    nmr_address=None,
    relayer=None,
    max_clip=None,
    max_multiplier=None,
    min_round_spacing=None,
    signers=None,
):
    """Resolve the settings (arguments, else the environment, else the defaults above), then deploy quietly.
    Returns (token, oracle, factory, signed): `signed` drives the local signer keys (None with SIGNERS)."""
    active = network.show_active()
    development = active in ("development", "anvil") or "ganache" in active
    deployer = deployer or _deployer()
    nmr_address = nmr_address or os.environ.get("NMR_ADDRESS")
    if not nmr_address and not development:
        raise SystemExit("NMR_ADDRESS is required on a live network")
    signers = signers or [a.strip() for a in os.environ.get("SIGNERS", "").split(",") if a.strip()]
    if not signers and not development:
        raise SystemExit("SIGNERS is required on a live network")
    env = os.environ.get
    params = OracleParams(
        challenge_window=int(env("CHALLENGE_WINDOW", 3600)),
        resolution_delay=int(env("RESOLUTION_DELAY", 30 * 86400)),
        max_report_delay=int(env("MAX_REPORT_DELAY", 3 * 86400)),
        dispute_bond=_fixed(env("DISPUTE_BOND", "100")),
        dispute_timeout=int(env("DISPUTE_TIMEOUT", 7 * 86400)),
        signer_set_delay=int(env("SIGNER_SET_DELAY", 2 * 86400)),
    )
    return deploy_stack(
        deployer,
        relayer or deployer,
        nmr_address,
        max_clip if max_clip is not None else _fixed(env("MAX_CLIP", "0.05")),
        max_multiplier if max_multiplier is not None else _fixed(env("MAX_MULTIPLIER", "10")),
        min_round_spacing if min_round_spacing is not None else int(env("MIN_ROUND_SPACING", 79200)),
        signer_addresses=signers or None,
        quorum=int(env("QUORUM", 2)),
        dispute_quorum=int(env("DISPUTE_QUORUM", 3)),
        params=params,
        series=True,
    )


def _deployer():
    account_id = os.environ.get("DEPLOYER")
    return accounts.load(account_id) if account_id else accounts[0]


def main():
    deployer = _deployer()
    token, oracle, factory, _ = deploy(deployer=deployer)
    series_factory = series_factory_of(factory)  # on the same ModellerRecord: one default count per modeller
    print(f"token            {token.address}")
    print(
        f"ScoreOracle      {oracle.address}  (maxClip {oracle.maxClip()}, maxMultiplier {oracle.maxMultiplier()}, "
        f"minRoundSpacing {oracle.minRoundSpacing()} s, challenge window {oracle.challengeWindow()} s, "
        f"signers {', '.join(oracle.signers())}, quorum {oracle.quorum()}, dispute quorum {oracle.disputeQuorum()})"
    )
    print(f"ModellerRecord   {factory.record()}  (each modeller's defaults, agreements and series)")
    print(f"AgreementFactory {factory.address}  (implementation {factory.implementation()})")
    print(f"SeriesFactory    {series_factory.address}  (implementation {series_factory.implementation()})")

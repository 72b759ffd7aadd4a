"""Deploy the protocol: score oracle and agreement factory (and, on a local chain, the NMR mock).

    brownie run scripts/deploy.py                      # local ganache: deploys MockNMR too
    NMR_ADDRESS=0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671 DEPLOYER=<brownie account id> \\
        REPORTER=0x... brownie run scripts/deploy.py --network <live network>

Settings (environment): NMR_ADDRESS (token; a MockNMR is deployed when unset on a development network),
DEPLOYER (an account id from `brownie accounts list`; accounts[0] on a development network), REPORTER (address
allowed to post rounds; the deployer when unset), MAX_CLIP (default 0.05), MAX_MULTIPLIER (default 10),
MIN_ROUND_SPACING (seconds, default 79200 = 22 h: the shortest gap between two Numerai rounds' deadlines).
"""

import os
from decimal import Decimal

from brownie import accounts, network

from backing.chain import deploy_stack

ONE = 10**18


def _fixed(text: str) -> int:
    return int(Decimal(text) * ONE)


def deploy(deployer=None, nmr_address=None, reporter=None, max_clip=None, max_multiplier=None,
           min_round_spacing=None):
    """Resolve the settings (arguments, else the environment, else the defaults above), then deploy quietly.
    Returns (token, oracle, factory)."""
    active = network.show_active()
    development = active in ("development", "anvil") or "ganache" in active
    if deployer is None:
        account_id = os.environ.get("DEPLOYER")
        deployer = accounts.load(account_id) if account_id else accounts[0]
    nmr_address = nmr_address or os.environ.get("NMR_ADDRESS")
    if not nmr_address and not development:
        raise SystemExit("NMR_ADDRESS is required on a live network")
    return deploy_stack(
        deployer,
        reporter or os.environ.get("REPORTER") or deployer,
        nmr_address,
        max_clip if max_clip is not None else _fixed(os.environ.get("MAX_CLIP", "0.05")),
        max_multiplier if max_multiplier is not None else _fixed(os.environ.get("MAX_MULTIPLIER", "10")),
        min_round_spacing if min_round_spacing is not None else int(os.environ.get("MIN_ROUND_SPACING", 79200)),
    )


def main():
    token, oracle, factory = deploy()
    print(f"token            {token.address}")
    print(f"ScoreOracle      {oracle.address}  (maxClip {oracle.maxClip()}, maxMultiplier {oracle.maxMultiplier()}, "
          f"minRoundSpacing {oracle.minRoundSpacing()} s, reporter set)")
    print(f"AgreementFactory {factory.address}  (implementation {factory.implementation()})")

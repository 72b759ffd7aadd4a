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

from brownie import AgreementFactory, MockNMR, ScoreOracle, accounts, network

ONE = 10**18


def _fixed(text: str) -> int:
    return int(Decimal(text) * ONE)


def deploy(deployer=None, nmr_address=None, reporter=None, max_clip=None, max_multiplier=None,
           min_round_spacing=None, silent=False):
    """Deploy (or reuse) the token, then the oracle and the factory. Returns (token, oracle, factory)."""
    development = network.show_active() in ("development", "anvil") or "ganache" in network.show_active()
    if deployer is None:
        account_id = os.environ.get("DEPLOYER")
        deployer = accounts.load(account_id) if account_id else accounts[0]
    nmr_address = nmr_address or os.environ.get("NMR_ADDRESS")
    if nmr_address:
        token = MockNMR.at(nmr_address) if development else nmr_address
    elif development:
        token = MockNMR.deploy({"from": deployer, "silent": silent})
    else:
        raise SystemExit("NMR_ADDRESS is required on a live network")
    max_clip = max_clip if max_clip is not None else _fixed(os.environ.get("MAX_CLIP", "0.05"))
    max_multiplier = max_multiplier if max_multiplier is not None else _fixed(os.environ.get("MAX_MULTIPLIER", "10"))
    spacing = min_round_spacing if min_round_spacing is not None else int(os.environ.get("MIN_ROUND_SPACING", 79200))
    reporter = reporter or os.environ.get("REPORTER") or deployer

    oracle = ScoreOracle.deploy(deployer, max_clip, max_multiplier, spacing, {"from": deployer, "silent": silent})
    oracle.setReporter(reporter, True, {"from": deployer, "silent": silent})
    factory = AgreementFactory.deploy(token, oracle, {"from": deployer, "silent": silent})
    return token, oracle, factory


def main():
    token, oracle, factory = deploy()
    print(f"token           {token}")
    print(f"ScoreOracle     {oracle.address}  (maxClip {oracle.maxClip()}, maxMultiplier {oracle.maxMultiplier()}, "
          f"minRoundSpacing {oracle.minRoundSpacing()} s)")
    print(f"AgreementFactory {factory.address}  (implementation {factory.implementation()})")

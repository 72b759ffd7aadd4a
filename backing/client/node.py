"""The node and the deployment: connection (--rpc-url or $BACKING_RPC_URL), chain-id checks, the manifest
``deployments/<chainId>.json`` (or --manifest) and bound contracts whose addresses are checked to hold code."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from backing.client import EXIT_CHAIN, EXIT_DEPLOYMENT, EXIT_NODE, CliError
from backing.client.contracts import abi

DEFAULT_RPC = "http://127.0.0.1:8545"
#: NMR on Ethereum mainnet (chain id 1).
MAINNET_NMR = "0x1776e1F26f98b1A5dF9cD347953a26dd3Cb46671"
MAINNET = 1
#: Chains where a development token (MockNMR) may be deployed: ganache's and anvil's defaults, and 1337.
LOCAL_CHAIN_IDS = (1337, 31337)


def node_errors() -> tuple:
    import requests

    return (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)


def rpc_url(args) -> str:
    return getattr(args, "rpc_url", None) or os.environ.get("BACKING_RPC_URL") or DEFAULT_RPC


def connect(args):
    """A Web3 on --rpc-url whose chain id matches --chain-id (when given). @return (w3, chain_id)."""
    from web3 import Web3

    url = rpc_url(args)
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    try:
        chain_id = w3.eth.chain_id
    except node_errors():
        raise CliError(
            EXIT_NODE, f"cannot reach a node at {url}: start it, or pass --rpc-url (or set " "BACKING_RPC_URL)"
        ) from None
    expected = getattr(args, "chain_id", None)
    if expected is not None and expected != chain_id:
        raise CliError(
            EXIT_CHAIN, f"the node at {url} is on chain id {chain_id}, not {expected} (--chain-id): " "check --rpc-url"
        )
    return w3, chain_id


@dataclass
class Manifest:
    """What `backing deploy` wrote for one chain: {"chain_id", "contracts": {name: {"address", "tx", "block"}}, ...}."""

    path: Path
    chain_id: int
    contracts: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @staticmethod
    def path_for(args, chain_id: int) -> Path:
        explicit = getattr(args, "manifest", None)
        return Path(explicit) if explicit else Path.cwd() / "deployments" / f"{chain_id}.json"

    @classmethod
    def load(cls, args, chain_id: int, must_exist: bool = True) -> Manifest:
        path = cls.path_for(args, chain_id)
        if not path.exists():
            if must_exist:
                raise CliError(
                    EXIT_DEPLOYMENT,
                    f"no deployment for chain id {chain_id} ({path} is missing): run "
                    "`backing deploy`, or pass --manifest FILE",
                )
            return cls(path, chain_id)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CliError(EXIT_DEPLOYMENT, f"cannot read the manifest {path}: {error}") from None
        if data.get("chain_id") != chain_id:
            raise CliError(
                EXIT_CHAIN,
                f"the manifest {path} is for chain id {data.get('chain_id')}, the node is on "
                f"chain id {chain_id}: check --rpc-url and --manifest",
            )
        return cls(path, chain_id, dict(data.get("contracts", {})), dict(data.get("settings", {})))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"chain_id": self.chain_id, "contracts": self.contracts, "settings": self.settings}
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.path)  # a crash mid-write leaves the previous manifest whole

    def address(self, name: str) -> str | None:
        entry = self.contracts.get(name)
        return entry["address"] if entry else None


def has_code(w3, address: str) -> bool:
    try:
        return len(w3.eth.get_code(address)) > 0
    except node_errors():
        raise CliError(EXIT_NODE, "the node stopped answering") from None


def bind(w3, artifact_name: str, address: str, what: str | None = None):
    """The contract at `address` with `artifact_name`'s ABI; CliError when no contract lives there."""
    from web3 import Web3

    if not Web3.is_address(address):
        raise CliError(EXIT_DEPLOYMENT, f"{address!r} is not an address")
    address = Web3.to_checksum_address(address)
    if not has_code(w3, address):
        raise CliError(
            EXIT_DEPLOYMENT,
            f"no contract at {address} ({what or artifact_name}) on this chain: "
            "wrong --rpc-url, or a stale manifest or address",
        )
    return w3.eth.contract(address=address, abi=abi(artifact_name))


@dataclass
class Deployment:
    """The protocol on one chain, bound and cross-checked."""

    w3: object
    chain_id: int
    manifest: Manifest
    token: object
    oracle: object
    factory: object
    series_factory: object | None


def load_deployment(args) -> Deployment:
    """Connect, read the manifest, bind the contracts and check they belong together."""
    w3, chain_id = connect(args)
    manifest = Manifest.load(args, chain_id)
    needed = ("NMR", "ScoreOracle", "AgreementFactory")
    missing = [n for n in needed if not manifest.address(n)]
    if missing:
        raise CliError(
            EXIT_DEPLOYMENT,
            f"the manifest {manifest.path} lacks {', '.join(missing)}: finish the " "deployment with `backing deploy`",
        )
    token = bind(w3, "MockNMR", manifest.address("NMR"), "NMR")
    oracle = bind(w3, "ScoreOracle", manifest.address("ScoreOracle"))
    factory = bind(w3, "AgreementFactory", manifest.address("AgreementFactory"))
    series_factory = None
    if manifest.address("SeriesFactory"):
        series_factory = bind(w3, "SeriesFactory", manifest.address("SeriesFactory"))
    try:
        linked = factory.functions.oracle().call()
    except Exception:  # noqa: BLE001 -- the code there is not an AgreementFactory
        linked = None
    if linked != oracle.address:
        raise CliError(
            EXIT_DEPLOYMENT,
            f"the contract at {factory.address} is not this deployment's "
            "AgreementFactory: the manifest is stale or for another chain",
        )
    return Deployment(w3, chain_id, manifest, token, oracle, factory, series_factory)

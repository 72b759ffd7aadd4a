"""``backing deploy``: the protocol on any network, resumable from the manifest.

Order (each address predicted from the deployer's nonce, checked against its receipt, and written to the
manifest as soon as it is mined, so a re-run deploys only what is missing):

  NMR (MockNMR, --dev-token only) -> RoundReports (the library the oracle links)
  -> ScoreOracle(owner, config, signers, quorum, dispute quorum)
  -> ModellerRecord(both factories' future addresses) (each modeller's defaults, agreements and series)
  -> AgreementFactory(token, oracle, record) (it creates its BackingAgreement implementation)
  -> the series' libraries (whatever BackingSeries links: SeriesTerms, ...)
  -> BackingSeries implementation(token, oracle, the series factory's future address)
  -> SeriesFactory(token, oracle, record, implementation)
  -> GridRegistry() (grid configurations claimed once: docs/grid.md)
  -> SubmissionLog(oracle) (per-round predictions commitments: `backing submission commit`)

The record, the two factories and the series implementation are deployed together (the record names both
factories, each factory checks it): a re-run that misses one of them deploys all four again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from eth_abi import encode
from eth_utils import to_checksum_address

from backing.client import EXIT_DEPLOYMENT, EXIT_USAGE, CliError
from backing.client.contracts import abi, libraries_needed, link
from backing.client.node import LOCAL_CHAIN_IDS, MAINNET, MAINNET_NMR, Manifest, connect, has_code
from backing.client.options import EXIT_EPILOG, add_sending, handler, sender
from backing.client.tx import Call, nmr
from oracle.units import ONE


def _fixed(option: str, text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CliError(EXIT_USAGE, f"{option}: {text!r} is not a number") from None
    wei = value * ONE
    if wei != wei.to_integral_value() or wei < 0:
        raise CliError(EXIT_USAGE, f"{option}: {text!r} has more than 18 decimals or is negative")
    return int(wei)


def contract_address(deployer: str, nonce: int) -> str:
    import rlp
    from eth_utils import keccak

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(deployer[2:]), nonce]))[12:])


def _constructor_types(name: str) -> list:
    from backing.client.contracts import _canonical

    for item in abi(name):
        if item.get("type") == "constructor":
            return [_canonical(i) for i in item["inputs"]]
    return []


def creation_data(name: str, args: tuple, libraries: dict) -> str:
    code = link(name, libraries)
    types = _constructor_types(name)
    return code + (encode(types, list(args)).hex() if types else "")


#: Deployed together: the record names both factories, each factory checks it, the implementation its factory.
FACTORY_GROUP = ("ModellerRecord", "AgreementFactory", "BackingSeries", "SeriesFactory")


@dataclass
class Step:
    key: str  # the manifest entry
    artifact: str
    args: tuple
    words: str
    depends: tuple = ()  # manifest keys its constructor calls into


def oracle_config(args, token: str) -> tuple:
    return (
        token,
        args.tournament,
        _fixed("--max-clip", args.max_clip),
        _fixed("--max-multiplier", args.max_multiplier),
        args.min_round_spacing,
        args.challenge_window,
        args.resolution_delay,
        args.max_report_delay,
        _fixed("--dispute-bond", args.dispute_bond),
        args.dispute_timeout,
        args.signer_set_delay,
    )


def _local_chain(w3, chain_id: int) -> bool:
    if chain_id in LOCAL_CHAIN_IDS:
        return True
    try:
        client = w3.client_version.lower()
    except Exception:  # noqa: BLE001
        return False
    return any(name in client for name in ("ganache", "anvil", "hardhat"))


def _mints(args) -> list[tuple[str, int]]:
    out = []
    for item in args.mint:
        address, sep, amount = item.partition("=")
        from web3 import Web3

        if not sep or not Web3.is_address(address):
            raise CliError(EXIT_USAGE, f"--mint {item!r}: give ADDRESS=NMR, e.g. 0xabc...=1000")
        out.append((to_checksum_address(address), _fixed("--mint", amount)))
    return out


@handler
def cmd_deploy(args) -> int:
    from web3 import Web3

    w3, chain_id = connect(args)
    if args.dev_token and args.nmr:
        raise CliError(EXIT_USAGE, "give --nmr ADDRESS or --dev-token, not both")
    if args.dev_token and (chain_id == MAINNET or not _local_chain(w3, chain_id)):
        raise CliError(
            EXIT_USAGE,
            f"--dev-token deploys a test token; refused on chain id {chain_id} (local "
            "chains only): give --nmr ADDRESS",
        )
    if args.mint and not args.dev_token:
        raise CliError(EXIT_USAGE, "--mint goes with --dev-token")
    mints = _mints(args)
    signers = []
    for address in args.signer:
        if not Web3.is_address(address):
            raise CliError(EXIT_USAGE, f"--signer {address!r} is not an address")
        signers.append(to_checksum_address(address))
    if len(set(signers)) != len(signers):
        raise CliError(EXIT_USAGE, "--signer: each signer once")
    manifest = Manifest.load(args, chain_id, must_exist=False)
    # what is recorded must still be there: otherwise the chain was reset and the manifest is stale
    for key, entry in manifest.contracts.items():
        if not has_code(w3, entry["address"]):
            raise CliError(
                EXIT_DEPLOYMENT,
                f"the manifest {manifest.path} lists {key} at {entry['address']}, but "
                "there is no contract there (was the chain reset?): move the manifest "
                "away to deploy afresh",
            )
    token = manifest.address("NMR")
    if token is None:
        token = args.nmr or (MAINNET_NMR if chain_id == MAINNET else None)
        if token is None and not args.dev_token:
            raise CliError(EXIT_USAGE, "which NMR? give --nmr ADDRESS, or --dev-token on a local chain")
        if token is not None:
            if not Web3.is_address(token) or not has_code(w3, token):
                raise CliError(EXIT_DEPLOYMENT, f"no token contract at {token} on chain id {chain_id}")
            manifest.contracts["NMR"] = {"address": to_checksum_address(token), "dev": False}
    elif args.nmr and to_checksum_address(args.nmr) != token:
        raise CliError(EXIT_USAGE, f"the manifest's NMR is {token}, not {args.nmr}: use another --manifest")
    if not manifest.address("ScoreOracle") and not signers:
        raise CliError(
            EXIT_USAGE,
            "the oracle needs its signers: give --signer ADDRESS (repeat), with --quorum and " "--dispute-quorum",
        )

    sending = sender(args, w3, chain_id)
    deployer = sending.address
    nonce = w3.eth.get_transaction_count(deployer, "pending")
    planned: dict[str, str] = {k: v["address"] for k, v in manifest.contracts.items()}
    steps: list[Step] = []

    def plan(key, artifact, args_fn, words, depends=()):
        nonlocal nonce
        if key in planned:
            return
        planned[key] = contract_address(deployer, nonce)
        nonce += 1
        steps.append(Step(key, artifact, args_fn, words, depends))

    owner = to_checksum_address(args.owner) if args.owner else deployer
    plan("NMR", "MockNMR", lambda: (), "development token")
    ordered = sorted(signers, key=lambda a: int(a, 16))
    if "ScoreOracle" not in planned:  # its library (RoundReports: the report checks) is linked into it
        for library in libraries_needed("ScoreOracle"):
            plan(library, library, lambda: (), "library")
    plan(
        "ScoreOracle",
        "ScoreOracle",
        lambda: (owner, oracle_config(args, planned["NMR"]), ordered, args.quorum, args.dispute_quorum),
        f"owner {owner}, {len(ordered)} signers, quorum {args.quorum}, dispute quorum {args.dispute_quorum}",
    )
    # The record names both factories' addresses and each factory checks that it is named, so the four are deployed
    # together: with any of them missing (an interrupted run, or a manifest from before the record) all four are
    # deployed again; the old entries leave the manifest when the new record lands (so a run interrupted after it
    # never leaves a mix of the two sets, and a declined run leaves the manifest as it was).
    if any(key not in planned for key in FACTORY_GROUP):
        for key in FACTORY_GROUP:
            planned.pop(key, None)
    plan(
        "ModellerRecord",
        "ModellerRecord",
        lambda: (planned["AgreementFactory"], planned["SeriesFactory"]),
        "agreement factory, series factory (its only writers): each modeller's defaults",
    )
    plan(
        "AgreementFactory",
        "AgreementFactory",
        lambda: (planned["NMR"], planned["ScoreOracle"], planned["ModellerRecord"]),
        "token, oracle, record",
        depends=("ModellerRecord",),
    )
    for library in libraries_needed("BackingSeries"):  # the series' external libraries, linked into it
        plan(library, library, lambda: (), "library")
    plan(
        "BackingSeries",
        "BackingSeries",
        lambda: (planned["NMR"], planned["ScoreOracle"], planned["SeriesFactory"]),
        "implementation for the series factory",
    )
    plan(
        "SeriesFactory",
        "SeriesFactory",
        lambda: (planned["NMR"], planned["ScoreOracle"], planned["ModellerRecord"], planned["BackingSeries"]),
        "token, oracle, record, implementation",
        depends=("ModellerRecord", "BackingSeries"),
    )
    # the last two: a deployment made before they existed gains them on a re-run without moving anything else
    plan("GridRegistry", "GridRegistry", lambda: (), "grid configurations, each claimed once (no owner)")
    plan(
        "SubmissionLog",
        "SubmissionLog",
        lambda: (planned["ScoreOracle"],),
        "oracle (model owners, round deadlines); per-round predictions commitments",
    )
    calls = []
    fresh = {s.key for s in steps}
    for step in steps:
        libraries = {lib: planned[lib] for lib in libraries_needed(step.artifact)}
        data = creation_data(step.artifact, step.args(), libraries)
        waits = any(d in fresh for d in step.depends) or any(lib in fresh for lib in libraries)

        def outcome(receipt, step=step, expected=planned[step.key]):
            got = receipt["contractAddress"]
            if got != expected:
                raise CliError(
                    EXIT_DEPLOYMENT,
                    f"{step.key} landed at {got}, not the predicted {expected} (was "
                    "another transaction sent from this account meanwhile?); re-run "
                    "`backing deploy`",
                )
            if step.key == "ModellerRecord":  # the first of its group: the old group's entries go
                for key in FACTORY_GROUP:
                    manifest.contracts.pop(key, None)
            manifest.contracts[step.key] = {
                "address": got,
                "tx": "0x" + bytes(receipt["transactionHash"]).hex(),
                "block": receipt["blockNumber"],
                **({"dev": True} if step.key == "NMR" else {}),
            }
            manifest.save()
            return f"{step.key} at {got}"

        calls.append(
            Call(
                step.key,
                "deploy",
                (),
                None,
                f"{step.words} -> {planned[step.key]}",
                after_previous=waits,
                outcome=outcome,
                deploy_data=data,
            )
        )
    if "NMR" in fresh or (manifest.contracts.get("NMR", {}).get("dev") and mints):
        token_contract = w3.eth.contract(address=planned["NMR"], abi=abi("MockNMR"))
        for address, amount in mints:
            calls.append(
                Call(
                    "NMR",
                    "mintTo",
                    (address, amount),
                    token_contract,
                    f"{address}, {nmr(amount)}",
                    after_previous="NMR" in fresh,
                    outcome=lambda r, a=address, v=amount: f"minted {nmr(v)} to {a}",
                )
            )
    if not calls:
        print(f"nothing to deploy: every contract is in {manifest.path}")
        _print_manifest(manifest)
        return 0
    manifest.settings.update({"deployer": deployer, "owner": owner} if "ScoreOracle" in fresh else {})
    if "ScoreOracle" in fresh:
        manifest.settings.update({"signers": ordered, "quorum": args.quorum, "dispute_quorum": args.dispute_quorum})
    if not args.dry_run and fresh:
        manifest.save()
    sending.run(calls, f"Deploy on chain id {chain_id} ({len(steps)} contracts), manifest {manifest.path}:")
    if not args.dry_run:
        print(f"deployment recorded in {manifest.path}")
        _print_manifest(manifest)
    return 0


def _print_manifest(manifest: Manifest) -> None:
    for key, entry in manifest.contracts.items():
        print(f"  {key:<17} {entry['address']}")


def add_parsers(commands) -> None:
    deploy = commands.add_parser(
        "deploy",
        help="deploy the protocol (oracle, factories) to a network; resumable",
        description=__doc__.split("\n\n", 1)[0] + "\n\n" + __doc__.split("\n\n", 1)[1],
        epilog="example (a local node):\n  backing deploy --rpc-url http://127.0.0.1:8545 --account deployer "
        "--dev-token --mint 0xYOU=1000 \\\n      --signer 0xS1 --signer 0xS2 --signer 0xS3 --quorum 2 "
        "--dispute-quorum 3\n\n" + EXIT_EPILOG,
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    add_sending(deploy)
    token = deploy.add_argument_group("token")
    token.add_argument("--nmr", metavar="ADDRESS", help=f"the NMR token (default on chain id 1: {MAINNET_NMR})")
    token.add_argument("--dev-token", action="store_true", help="deploy a test NMR (MockNMR); local chains only")
    token.add_argument(
        "--mint",
        action="append",
        default=[],
        metavar="ADDRESS=NMR",
        help="with --dev-token: mint test NMR to an address (repeat)",
    )
    oracle = deploy.add_argument_group("oracle")
    oracle.add_argument(
        "--signer",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an oracle signer (repeat; the operators keep their keys)",
    )
    oracle.add_argument("--quorum", type=int, default=2, help="signatures a statement needs (default 2)")
    oracle.add_argument(
        "--dispute-quorum", type=int, default=3, help="signatures a dispute resolution needs (default 3)"
    )
    oracle.add_argument(
        "--owner", metavar="ADDRESS", help="the oracle's owner (default the deployer; transfer to " "a multisig later)"
    )
    oracle.add_argument("--tournament", type=int, default=8, help="Numerai tournament (default 8, classic)")
    oracle.add_argument("--max-clip", default="0.05", metavar="X", help="largest round clip (default 0.05)")
    oracle.add_argument("--max-multiplier", default="10", metavar="X", help="largest score multiplier (default 10)")
    oracle.add_argument(
        "--min-round-spacing",
        type=int,
        default=79200,
        metavar="SECONDS",
        help="shortest gap between two rounds' deadlines (default 79200 = 22 h)",
    )
    oracle.add_argument("--challenge-window", type=int, default=3600, metavar="SECONDS", help="default 3600")
    oracle.add_argument(
        "--resolution-delay", type=int, default=30 * 86400, metavar="SECONDS", help="default 2592000 (30 days)"
    )
    oracle.add_argument(
        "--max-report-delay", type=int, default=3 * 86400, metavar="SECONDS", help="default 259200 (3 days)"
    )
    oracle.add_argument("--dispute-bond", default="100", metavar="NMR", help="default 100")
    oracle.add_argument(
        "--dispute-timeout", type=int, default=7 * 86400, metavar="SECONDS", help="default 604800 (7 days)"
    )
    oracle.add_argument(
        "--signer-set-delay",
        type=int,
        default=2 * 86400,
        metavar="SECONDS",
        help="timelock of signer changes (default 172800 = 2 days)",
    )
    deploy.set_defaults(handler=cmd_deploy, now=None)

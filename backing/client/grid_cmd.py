"""``backing grid claim|operator|list``: the grid registry on chain (``GridRegistry``, deployed by ``backing
deploy``; its address is the manifest's ``GridRegistry``, or ``--registry ADDRESS``).

A claim names a model's draw (staker, nonce, attempt); the registry computes the configuration from it and records
it for the staker, once: a configuration someone already holds is refused before anything is sent
(``ConfigAlreadyClaimed``, exit 7). ``list`` reads the ``ConfigClaimed``
events of one staker (no storage list: a claim stays under 60,000 gas) and joins the local manifests, so
portfolio tools get every grid model of a staker with its ids (``--json``).
"""

from __future__ import annotations

from pathlib import Path

from backing.client import EXIT_DEPLOYMENT, EXIT_USAGE, CliError
from backing.client.node import Manifest, bind, connect
from backing.client.options import EXIT_EPILOG, add_json, add_node, add_sending, handler, print_json, sender
from backing.client.tx import Call
from backing.errors import GridInputError

ZERO = "0x" + "00" * 20


def registry(args):
    """(w3, chain_id, the bound GridRegistry)."""
    w3, chain_id = connect(args)
    address = getattr(args, "registry", None)
    if not address:
        address = Manifest.load(args, chain_id).address("GridRegistry")
        if not address:
            raise CliError(
                EXIT_DEPLOYMENT,
                "the deployment has no GridRegistry: run `backing deploy` again (it adds what is missing), or "
                "give --registry ADDRESS",
            )
    return w3, chain_id, bind(w3, "GridRegistry", address)


def _manifest(path: str):
    from backing.grid import manifest as manifest_mod

    try:
        return manifest_mod.load(Path(path))
    except GridInputError as error:
        raise CliError(EXIT_USAGE, str(error)) from None


@handler
def cmd_claim(args) -> int:
    record = _manifest(args.model_dir)
    w3, chain_id, contract = registry(args)
    sending = sender(args, w3, chain_id)
    from backing.grid.draw import config_index

    index = config_index(record.staker, record.nonce, record.attempt)
    call = Call(
        "GridRegistry",
        "claim",
        (record.staker, record.nonce, record.attempt),
        contract,
        f"configuration {record.config_hash} (grid index {index}), staker {record.staker}, nonce {record.nonce}, "
        f"attempt {record.attempt}" + ("" if sending.address == record.staker else f", as operator {sending.address}"),
        outcome=lambda r: f"configuration {record.config_hash} is {record.staker}'s (block {r['blockNumber']})",
        kind="GridRegistry",
    )
    sending.run([call], "Claim a grid configuration (once, first come):")
    return 0


@handler
def cmd_operator(args) -> int:
    w3, chain_id, contract = registry(args)
    if not w3.is_address(args.operator):
        raise CliError(EXIT_USAGE, f"{args.operator!r} is not an address")
    operator = w3.to_checksum_address(args.operator)
    approved = not args.revoke
    sending = sender(args, w3, chain_id)
    call = Call(
        "GridRegistry",
        "setOperator",
        (operator, approved),
        contract,
        f"{operator}, {'approve' if approved else 'revoke'}",
        outcome=lambda r: f"{operator} {'may now claim' if approved else 'may no longer claim'} for {sending.address}",
        kind="GridRegistry",
    )
    sending.run([call], "Grid operator:")
    return 0


def staker_models(contract, staker: str, from_block: int = 0, models_dir: Path | None = None) -> list[dict]:
    """Every configuration claimed for ``staker`` (from the ConfigClaimed events), joined with local manifests.
    The registry derived each claim's configuration from the staker's own draw, so every row is his."""
    from backing.grid import manifest as manifest_mod
    from backing.grid.draw import config_index

    local = {}
    if models_dir is not None and Path(models_dir).exists():
        for directory, record in manifest_mod.find(Path(models_dir)):
            local[config_index(record.staker, record.nonce, record.attempt)] = (directory, record)
    events = contract.events.ConfigClaimed.get_logs(from_block=from_block, argument_filters={"staker": staker})
    rows = []
    for event in events:
        args = event["args"]
        index = int(args["configIndex"])
        row = {
            "id": f"grid-{index}",  # the configuration's hash once a local manifest names it
            "config_index": index,
            "config_hash": None,
            "staker": args["staker"],
            "claimer": args["claimer"],
            "nonce": args["nonce"],
            "attempt": args["attempt"],
            "block": event["blockNumber"],
            "tx": "0x" + bytes(event["transactionHash"]).hex(),
            "model_dir": None,
            "numerai_model_id": None,
            "config": None,
            "validation": None,
        }
        if index in local:
            directory, record = local[index]
            row.update(
                id=record.config_hash,
                config_hash=record.config_hash,
                model_dir=str(directory),
                numerai_model_id=record.numerai_model_id,
                config=record.config,
                validation=record.validation,
            )
        rows.append(row)
    return rows


@handler
def cmd_list(args) -> int:
    w3, _, contract = registry(args)
    if not w3.is_address(args.staker):
        raise CliError(EXIT_USAGE, f"--staker {args.staker!r} is not an address")
    staker = w3.to_checksum_address(args.staker)
    rows = staker_models(contract, staker, args.from_block, Path(args.models) if args.models else None)
    if args.json:
        print_json({"staker": staker, "registry": contract.address, "models": rows})
        return 0
    print(f"{len(rows)} grid configuration(s) claimed for {staker} at {contract.address}:")
    for row in rows:
        corr = f"validation CORR {row['validation']['mean']:+.4f}" if row["validation"] else "no local manifest"
        name = row["config_hash"] or f"grid index {row['config_index']}"
        print(f"  {name}  nonce {row['nonce']} attempt {row['attempt']}  block {row['block']}  {corr}")
        if row["model_dir"]:
            numerai = row["numerai_model_id"] or "not submitted yet"
            print(f"      {row['model_dir']}  Numerai model {numerai}")
    return 0


def add_chain_parsers(sub) -> None:
    def registry_option(p):
        p.add_argument("--registry", metavar="ADDRESS", help="the GridRegistry (default: the deployment manifest's)")

    p = sub.add_parser("claim", help="claim a model's configuration on chain, once (GridRegistry)", epilog=EXIT_EPILOG)
    p.add_argument("model_dir", help="the model directory `backing grid draw` wrote (or its manifest.json)")
    add_sending(p)
    registry_option(p)
    p.set_defaults(handler=cmd_claim)

    p = sub.add_parser("operator", help="let an operator claim configurations for you", epilog=EXIT_EPILOG)
    p.add_argument("operator", metavar="ADDRESS")
    p.add_argument("--revoke", action="store_true", help="take the approval back")
    add_sending(p)
    registry_option(p)
    p.set_defaults(handler=cmd_operator)

    p = sub.add_parser("list", help="a staker's claimed grid models (--json for portfolio tools)", epilog=EXIT_EPILOG)
    p.add_argument("--staker", required=True, metavar="ADDRESS")
    p.add_argument("--models", metavar="DIR", help="join the manifests under DIR (`backing grid draw --out`)")
    p.add_argument("--from-block", type=int, default=0, metavar="N", help="read events from this block (default 0)")
    add_node(p)
    registry_option(p)
    add_json(p)
    p.set_defaults(handler=cmd_list)

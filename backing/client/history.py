"""Score histories for ``backing montecarlo --history``: a model's rounds as the oracle posted them on chain, or as
Numerai publishes them, in the shape ``backing.montecarlo.read_history`` gives for a CSV: (rounds, scores), scores
int64 in 1e18 units, shape (n, 2), columns CORR20 and MMC, sorted by round.

* ``chain_history``: the ``RoundPosted`` events of ScoreOracle for the model (each carries the whole report), the
  final rounds only (through ``lastRound`` of ``modelInfo``), a round replaced by a dispute taken from the
  ``resolveDispute`` call that replaced it (not covered by a test yet); each report's return is checked against
  the round's final record.
* ``numerai_history``: the resolved rounds of a public model through numerapi, with the oracle service's own source
  (``oracle.sources.numerai``: the same validation as for posting); ``numerai_url`` points it at another
  endpoint (the fake server in tests), as ``backing oracle run --numerai-url`` does.

A missed round (no staked submission) has return zero; it enters the history as scores (0, 0), which give a zero
return under any multipliers, payout factor and clip."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from backing.model.agreement import ONE
from backing.montecarlo import MonteCarloError

COLUMNS = ("corr20", "mmc")  # the Monte Carlo's score columns, matched case-insensitively to the report's names


def _fixed(value: Decimal, where: str) -> int:
    if not value.is_finite() or abs(value) > 1:
        raise MonteCarloError(f"{where}: score {value} is not between -1 and 1")
    return int((value * ONE).to_integral_value())


def _pair(names: list[str], values: list[int], where: str) -> tuple[int, int]:
    """(CORR20, MMC) from a report's score names and 1e18 values; MonteCarloError when one is missing."""
    found = {name.lower(): value for name, value in zip(names, values)}
    missing = [c.upper() for c in COLUMNS if c not in found]
    if missing:
        raise MonteCarloError(
            f"{where}: the report has no {' or '.join(missing)} score (it has {', '.join(names) or 'none'}): the "
            f"Monte Carlo's payout uses CORR20 and MMC"
        )
    return found[COLUMNS[0]], found[COLUMNS[1]]


def _arrays(rows: dict[int, tuple[int, int]], source: str) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        raise MonteCarloError(f"{source} has no resolved rounds to bootstrap")
    rounds = sorted(rows)
    return np.array(rounds), np.array([rows[r] for r in rounds], dtype=np.int64)


# ---------------------------------------------------------------------------------------------- chain


def _name(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("utf-8", "replace")


def _report_pair(report, where: str) -> tuple[int, int] | None:
    """(CORR20, MMC) of a decoded RoundReport (a dict or the ABI tuple); (0, 0) for a missed round."""
    if hasattr(report, "keys"):  # a decoded event (AttributeDict) or function argument (dict)
        missed, names, scores = report["missed"], report["scoreNames"], report["scores"]
    else:
        missed, names, scores = report[3], report[4], report[5]
    if missed:
        return (0, 0)
    return _pair([_name(n) for n in names], [int(s) for s in scores], where)


def chain_history(
    oracle, model_id: bytes, label: str, from_block: int = 0, log_range: int = 10_000
) -> tuple[np.ndarray, np.ndarray]:
    """The final rounds the oracle holds for ``model_id`` (``oracle``: a web3 ScoreOracle contract)."""
    modeller, _, first_round, last_final = oracle.functions.modelInfo(model_id).call()
    if modeller == "0x" + "0" * 40:
        raise MonteCarloError(f"model {label} is not registered at the oracle {oracle.address}: no history there")
    w3 = oracle.w3
    latest = w3.eth.block_number
    posted: dict[int, tuple[int, int]] = {}
    returns: dict[int, int] = {}
    replaced: list[tuple[int, str]] = []
    start = from_block
    while start <= latest:
        end = min(latest, start + log_range - 1)
        for log in oracle.events.RoundPosted().get_logs(
            from_block=start, to_block=end, argument_filters={"modelId": model_id}
        ):
            r = int(log["args"]["round"])
            if first_round <= r <= last_final:
                posted[r] = _report_pair(log["args"]["report"], f"model {label} round {r} (posted on chain)")
                returns[r] = int(log["args"]["roundReturn"])
        for log in oracle.events.DisputeResolved().get_logs(
            from_block=start, to_block=end, argument_filters={"modelId": model_id}
        ):
            replaced.append((int(log["args"]["round"]), log["transactionHash"]))
        start = end + 1
    for r, tx_hash in replaced:  # the replacement report is the resolveDispute call's argument
        where = f"model {label} round {r} (replaced by a dispute)"
        try:
            _, arguments = oracle.decode_function_input(w3.eth.get_transaction(tx_hash)["input"])
            posted[r] = _report_pair(arguments["replacement"], where)
        except (ValueError, KeyError):
            raise MonteCarloError(
                f"{where}: the replacement report was not sent to the oracle directly, so its scores cannot be "
                f"read; use --history FILE"
            ) from None
        returns.pop(r, None)
    missing = [r for r in range(first_round, last_final + 1) if r not in posted]
    if missing:
        raise MonteCarloError(
            f"model {label}: no RoundPosted event for final round(s) {', '.join(map(str, missing[:5]))} from block "
            f"{from_block}: give the oracle's deployment block (--from-block) or an earlier one"
        )
    for r, ret in returns.items():  # a report replaced later (already handled) is not checked against its record
        final = oracle.functions.roundRecord(model_id, r).call()[1]
        if final != ret:
            raise MonteCarloError(f"model {label} round {r}: the posted report's return differs from the final one")
    return _arrays(posted, f"the oracle's record of model {label}")


# ---------------------------------------------------------------------------------------------- Numerai


def numerai_history(model_uuid: str, numerai_url: str | None = None, source=None) -> tuple[np.ndarray, np.ndarray]:
    """The resolved rounds Numerai publishes for the public model ``model_uuid`` (``source``: an oracle Source,
    for tests; default the numerapi source on ``numerai_url``)."""
    from oracle.errors import SourceError

    if source is None:
        from oracle.sources.numerai import NumeraiSource

        source = NumeraiSource(numerai_url, attempts=2)
    try:
        schedule = source.schedule(0)  # from the first round the source knows: its whole history
        results = source.resolved_results(model_uuid, schedule[0].round - 1) if schedule else []
    except SourceError as error:
        raise MonteCarloError(f"Numerai's scores of model {model_uuid}: {error}") from None
    rows = {}
    for result in results:
        where = f"model {model_uuid} round {result.round} (Numerai)"
        if result.missed:
            rows[result.round] = (0, 0)
            continue
        names = list(result.scores)
        rows[result.round] = _pair(names, [_fixed(result.scores[n], where) for n in names], where)
    if results and all(result.missed for result in results):
        raise MonteCarloError(
            f"Numerai has no scores of model {model_uuid} in any of its {len(results)} resolved rounds (an unknown "
            f"model, or one that never submitted): nothing to bootstrap"
        )
    return _arrays(rows, f"Numerai's record of model {model_uuid}")


# ---------------------------------------------------------------------------------------------- the option


def load_history(args) -> tuple[np.ndarray, np.ndarray]:
    """``--history FILE | chain | numerai`` of ``backing montecarlo`` (chain and numerai need ``--model UUID``).
    @raise MonteCarloError (bad input), CliError (the node, the manifest: its own exit code)."""
    from backing.montecarlo import read_history

    if args.history not in ("chain", "numerai"):
        return read_history(args.history)
    if not args.model:
        raise MonteCarloError(f"--history {args.history} needs --model UUID: the Numerai model whose rounds to use")
    from backing.client import CliError
    from backing.client.agreement_cmd import model_id

    try:
        raw = model_id(args.model)
    except CliError as error:
        raise MonteCarloError(str(error)) from None
    if args.history == "numerai":
        import uuid

        return numerai_history(str(uuid.UUID(bytes=raw[:16])), args.numerai_url)
    from backing.client.node import load_deployment

    dep = load_deployment(args)
    return chain_history(dep.oracle, raw, args.model, args.from_block)

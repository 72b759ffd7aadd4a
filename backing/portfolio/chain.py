"""Portfolio inputs from a deployment: candidates (open agreements and series agreements with room, and whatever
the backer holds), his holdings, and each model's score history as the oracle posted it (final rounds' returns).

It reuses the chain commands' readers (``backing.client.agreement_cmd.agreement_state``,
``backing.client.series_cmd.series_state``); nothing is sent. A modeller's default probability is his record:
defaults recorded by the factory over the agreements he has offered (0 with no record).
"""

from __future__ import annotations

import numpy as np

from backing.model.agreement import ONE
from backing.portfolio.inputs import Candidate, History, Holding, Inputs

PAGE = 200


def _default_probability(dep, modeller: str, cache: dict) -> float:
    if modeller not in cache:
        defaults = dep.factory.functions.defaultsOf(modeller).call()
        offered = dep.factory.functions.agreementCountOf(modeller).call()
        cache[modeller] = min(1.0, defaults / offered) if offered else 0.0
    return cache[modeller]


def _model_info(dep, raw: bytes, cache: dict):
    if raw not in cache:
        modeller, exposure, first_round, last_final = dep.oracle.functions.modelInfo(raw).call()
        cache[raw] = (exposure or ONE, first_round, last_final)
    return cache[raw]


def _index_so_far(dep, raw: bytes, start_round: int, last_final: int) -> int:
    """Index now / index before the agreement's first round (1e18 fixed point); 1 when nothing is final yet."""
    if last_final < start_round:
        return ONE
    try:
        now = dep.oracle.functions.indexAt(raw, last_final).call()
        before = dep.oracle.functions.indexAt(raw, start_round - 1).call() if start_round > 1 else ONE
    except Exception:  # noqa: BLE001 -- an oracle without the round: value from the start
        return ONE
    return now * ONE // before if before else ONE


def read_history(dep, raws: dict[str, bytes], infos: dict) -> History:
    """Each model's final rounds: their ``RoundFinalized`` events (one log query per model, from the oracle's
    deployment block), and ``roundRecord`` for any final round the node returns no event for. Round returns on
    the union of rounds (``present`` marks which model has which)."""
    entry = dep.manifest.contracts.get("ScoreOracle") or {}
    start_block = int(entry.get("block") or 0)
    per_model: dict[str, dict[int, int]] = {}
    for label, raw in raws.items():
        _, first_round, last_final = _model_info(dep, raw, infos)
        rows: dict[int, int] = {}
        try:
            logs = dep.oracle.events.RoundFinalized().get_logs(
                from_block=start_block, argument_filters={"modelId": raw}
            )
        except ValueError:  # a node that refuses the log query: read the records one by one
            logs = []
        for log in logs:
            r = int(log["args"]["round"])
            if first_round <= r <= last_final:
                rows[r] = int(log["args"]["roundReturn"])
        for r in range(max(1, first_round), last_final + 1):
            if r not in rows:
                _, ret, _ = dep.oracle.functions.roundRecord(raw, r).call()
                rows[r] = int(ret)
        per_model[label] = rows
    models = sorted(per_model)
    rounds = np.array(sorted({r for rows in per_model.values() for r in rows}), dtype=np.int64)
    returns = np.zeros((len(rounds), len(models)), dtype=np.int64)
    present = np.zeros_like(returns, dtype=bool)
    where = {int(r): k for k, r in enumerate(rounds)}
    for m, label in enumerate(models):
        for r, ret in per_model[label].items():
            returns[where[r], m] = ret
            present[where[r], m] = True
    return History(rounds, models, returns, "the oracle's final rounds on chain", present)


def read_inputs(args, who: str | None, budget: int) -> Inputs:
    """Candidates, holdings (of ``who``) and history from the deployment ``args`` points at."""
    from backing.client.agreement_cmd import agreement_state, chain_now, model_label
    from backing.client.contracts import abi
    from backing.client.node import load_deployment
    from backing.client.series_cmd import series_state

    dep = load_deployment(args)
    now = chain_now(dep.w3)
    candidates, holdings = [], []
    raws: dict[str, bytes] = {}
    infos: dict = {}
    defaults: dict = {}
    count = dep.factory.functions.agreementCount().call()
    for start in range(0, count, PAGE):
        for address in dep.factory.functions.agreements(start, PAGE).call():
            agreement = dep.w3.eth.contract(address=address, abi=abi("BackingAgreement"))
            units = agreement.functions.positionOf(who).call()[0] if who else 0
            phase = ("Open", "Locked", "Matured", "Settled", "Defaulted", "Cancelled")[
                agreement.functions.phase().call()
            ]
            if not units and phase != "Open":
                continue
            state, terms = agreement_state(dep, agreement, who)
            if not units and (state["open_units"] == 0 or terms.open_until <= now):
                continue
            label = model_label(terms.model_id)
            raws[label] = terms.model_id
            exposure, _, last_final = _model_info(dep, terms.model_id, infos)
            extra = {}
            if phase in ("Locked", "Matured") and "start_round" in state:
                extra = {
                    "rounds_left": max(0, state["end_round"] - last_final),
                    "index_so_far": _index_so_far(dep, terms.model_id, state["start_round"], last_final),
                    "end_round": state["end_round"],
                }
            candidates.append(
                Candidate(
                    id=address,
                    model=label,
                    terms=terms,
                    kind="agreement",
                    phase=phase,
                    units_sold=state["units"],
                    reserve=int(state["reserve"]),
                    modeller=state["modeller"],
                    default_probability=_default_probability(dep, state["modeller"], defaults),
                    exposure=exposure,
                    open_until=terms.open_until,
                    **extra,
                )
            )
            if units:
                holdings.append(Holding(address, units))
    if dep.series_factory is not None:
        from backing.client.series_cmd import first_block

        for log in dep.series_factory.events.SeriesCreated().get_logs(from_block=first_block(dep)):
            series = dep.w3.eth.contract(address=log["args"]["series"], abi=abi("BackingSeries"))
            state, terms = series_state(dep, series, who)
            mine = {}
            for p in (state.get("backer") or {}).get("positions", []):
                if not p["done"]:
                    mine.setdefault(p["agreement"], []).append(p)
            for row in state["agreements"]:
                i = row["index"]
                if i not in terms:
                    continue
                t = terms[i][0].base
                open_room = row["phase"] == "Open" and int(row.get("room", 0)) >= t.unit_size and t.open_until > now
                if not open_room and i not in mine:
                    continue
                label = model_label(t.model_id)
                raws[label] = t.model_id
                exposure, _, last_final = _model_info(dep, t.model_id, infos)
                cid = f"{series.address}#{i}"
                extra = {}
                if row["phase"] in ("Locked", "Matured") and "start_round" in row:
                    extra = {
                        "rounds_left": max(0, row["end_round"] - last_final),
                        "index_so_far": _index_so_far(dep, t.model_id, row["start_round"], last_final),
                        "end_round": row["end_round"],
                    }
                candidates.append(
                    Candidate(
                        id=cid,
                        model=label,
                        terms=t,
                        kind="series",
                        phase=row["phase"],
                        units_sold=int(row["capital"]) // t.unit_size,
                        reserve=int(row["reserve"]),
                        modeller=state["modeller"],
                        default_probability=_default_probability(dep, state["modeller"], defaults),
                        exposure=exposure,
                        series=(series.address, i),
                        open_until=t.open_until,
                        **extra,
                    )
                )
                for p in mine.get(i, []):
                    holdings.append(Holding(cid, int(p["capital"]) // t.unit_size, p["position"]))
    history = read_history(dep, raws, infos)
    rpc = getattr(args, "rpc_url", None) or "the node"
    return Inputs(candidates, holdings, history, budget, source=f"on chain ({rpc})", account=who)

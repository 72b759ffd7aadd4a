"""Score history of any public Numerai model through numerapi (the oracle's ``NumeraiSource``): each resolved
round's scores, multipliers, payout factor and clip become the round return exactly as ScoreOracle computes it
(``backing.model.agreement.round_return``); a missed round (no staked submission) returns 0, as the oracle posts
it. Needs the network (or ``url``, another endpoint such as ``oracle.testing.fake_numerai``)."""

from __future__ import annotations

import numpy as np

from backing.errors import portfolio_problem
from backing.model.agreement import round_return
from backing.portfolio.inputs import History


def parse_models(items: list[str]) -> dict[str, str]:
    """``NAME=UUID`` (or a bare UUID, named by itself) -> {name: uuid}."""
    import uuid

    out = {}
    for item in items:
        name, _, model = item.rpartition("=")
        name = name or model
        try:
            out[name] = str(uuid.UUID(model))
        except ValueError:
            raise portfolio_problem(
                "bad_option", option="--numerai", why=f"{item!r}: give NAME=MODEL_UUID (the model's id at Numerai)"
            ) from None
    return out


def read_history(models: dict[str, str], url: str | None = None, tournament: int = 8) -> History:
    """The resolved rounds of ``models`` ({name: Numerai model UUID}) as a History (``present`` marks each
    model's rounds)."""
    from oracle.model import SourceError
    from oracle.sources import NumeraiSource

    source = NumeraiSource(url, tournament=tournament, timeout=30, retry_delay=1)
    per_model: dict[str, dict[int, int]] = {}
    for name, model_id in models.items():
        try:
            # the source refuses gaps after `after_round`: start just before the first round Numerai lists
            listed = source._rounds(model_id)
            results = source.resolved_results(model_id, min(listed) - 1) if listed else []
        except (SourceError, ValueError, Exception) as error:  # noqa: BLE001 -- the source's failures are one line
            raise portfolio_problem(
                "bad_option", option="--numerai", why=f"model {name} ({model_id}): Numerai answered: {error}"
            ) from None
        rows = {}
        for result in results:
            report = result.to_report(tournament)
            if report.missed:
                rows[result.round] = 0
            else:
                rows[result.round] = round_return(
                    list(report.scores), list(report.multipliers), report.payout_factor, report.clip
                )
        per_model[name] = rows
    names = list(models)
    rounds = np.array(sorted({r for rows in per_model.values() for r in rows}), dtype=np.int64)
    returns = np.zeros((len(rounds), len(names)), dtype=np.int64)
    present = np.zeros_like(returns, dtype=bool)
    where = {int(r): k for k, r in enumerate(rounds)}
    for m, name in enumerate(names):
        for r, value in per_model[name].items():
            returns[where[r], m] = value
            present[where[r], m] = True
    return History(rounds, names, returns, "Numerai (numerapi)" + (f" at {url}" if url else ""), present)


def merged(base: History | None, extra: History) -> History:
    """``base`` with ``extra``'s models added (a model in both takes ``extra``'s rounds)."""
    if base is None or not base.models:
        return extra
    keep = [m for m in base.models if m not in extra.models]
    names = keep + list(extra.models)
    rounds = np.array(sorted(set(base.rounds.tolist()) | set(extra.rounds.tolist())), dtype=np.int64)
    where = {int(r): k for k, r in enumerate(rounds)}
    returns = np.zeros((len(rounds), len(names)), dtype=np.int64)
    present = np.zeros_like(returns, dtype=bool)
    for source in (base, extra):
        mask = source.present if source.present is not None else np.ones(source.returns.shape, bool)
        rows = [where[int(r)] for r in source.rounds]
        for col, name in enumerate(source.models):
            if source is base and name not in keep:
                continue
            m = names.index(name)
            returns[rows, m] = source.returns[:, col]
            present[rows, m] = mask[:, col]
    return History(rounds, names, returns, f"{base.source} + {extra.source}", present)

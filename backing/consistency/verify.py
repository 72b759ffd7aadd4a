"""Which commitment counts for a (model, round), and the outcome of checking a revealed predictions file against
it. The SubmissionLog only records (anyone may emit a commitment); the rules that decide what counts are
ISubmissionLog's, applied here to the chain's own data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

# Where an event sits in the chain: (block number, log index). Events are compared by it, never by arrival.
Order = tuple[int, int]


class Outcome(str, Enum):
    """What ``backing submission verify`` concludes."""

    MATCH = "match"  # committed before the deadline, and the file hashes to the committed hash
    MISMATCH = "mismatch"  # committed before the deadline, but to other predictions than this file's
    LATE = "late"  # a commitment exists but was recorded at or after the round's submission deadline
    MISSING = "missing"  # no commitment for the model and round


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    words: str  # one line for a person


def classify(
    file_hash: bytes,
    committed_hash: bytes | None,
    committed_at: int | None,
    close_time: int | None,
    now: int,
) -> Verdict:
    """Compare a file's canonical hash with the commitment (None when there is none).

    The commitment is the one that counts (`select_commitments`); late is judged here from its block's time.
    @param close_time The round's submission deadline at the oracle (None or 0 when not announced).
    """
    if committed_hash is None:
        if close_time and now < close_time:
            return Verdict(Outcome.MISSING, "not committed yet; the round takes commitments until its deadline")
        return Verdict(Outcome.MISSING, "no commitment was recorded for this model and round")
    if close_time and committed_at is not None and committed_at >= close_time:
        return Verdict(Outcome.LATE, f"committed {committed_at - close_time} s after the round's submission deadline")
    if committed_hash == file_hash:
        return Verdict(Outcome.MATCH, "the file is the one committed before the deadline")
    return Verdict(Outcome.MISMATCH, "the file differs from the predictions committed for this round")


def agent_at(agents: Iterable[tuple[Order, str]], order: Order) -> str | None:
    """The agent a modeller had named at `order`: the last of his `AgentSet` events before it (None if none or
    removed). @param agents (order, agent address or the zero address) of his AgentSet events, any order."""
    named = None
    for when, agent in sorted(agents):
        if when >= order:
            break
        named = agent
    if named is None or int(named, 16) == 0:
        return None
    return named


def modeller_at(modellers: Iterable[tuple[Order, str]], order: Order) -> str | None:
    """The model's modeller at `order`: the last of its registration and modeller changes before it (None before
    the registration). @param modellers (order, modeller) of the oracle's ModelRegistered and ModellerChanged
    events for the model, any order."""
    named = None
    for when, modeller in sorted(modellers):
        if when >= order:
            break
        named = modeller
    return named


def select_commitments(
    events: Iterable[Mapping],
    modeller: str | Iterable[tuple[Order, str]],
    agents: Iterable[tuple[Order, str]] | Mapping[str, Iterable[tuple[Order, str]]],
) -> tuple[dict[int, Mapping], list[tuple[Mapping, str]]]:
    """ISubmissionLog's rules 1 and 2: per round, the first commitment sent by the model's modeller at the time or
    by the agent he had named at the time; the others are ignored, each with the reason in words.

    @param events the model's SubmissionCommitted events as mappings with "round", "committer" and "order"
    @param modeller the model's registered modeller (one for the whole log), or its history when the oracle changed
        it: (order, modeller) of the model's ModelRegistered and ModellerChanged events
    @param agents (order, agent) of the modeller's AgentSet events; with a history, {modeller (lower case): his}
    @return ({round: the event that counts}, [(ignored event, why)]) in chain order
    """
    if isinstance(modeller, str):
        history = [((-1, -1), modeller)]
        by_modeller = {modeller.lower(): list(agents)}
    else:
        history = list(modeller)
        by_modeller = {k.lower(): list(v) for k, v in dict(agents).items()}
    counted: dict[int, Mapping] = {}
    ignored: list[tuple[Mapping, str]] = []
    for event in sorted(events, key=lambda e: e["order"]):
        committer = event["committer"].lower()
        then = modeller_at(history, event["order"])
        agent = None if then is None else agent_at(by_modeller.get(then.lower(), []), event["order"])
        if then is None or committer != then.lower() and (agent is None or committer != agent.lower()):
            ignored.append((event, f"sent by {event['committer']}, neither the model's modeller nor his agent then"))
        elif event["round"] in counted:
            ignored.append((event, f"a second commitment for round {event['round']}: only the first one counts"))
        else:
            counted[event["round"]] = event
    return counted, ignored

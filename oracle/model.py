"""What the oracle service reads from a source and turns into signed reports.

Every source (Numerai through numerapi, a replay file, a synthetic generator) yields these; the rest of the
service never sees a source's own shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from oracle.errors import SourceError  # noqa: F401  (re-exported: sources raise it)
from oracle.typed_data import Report, model_id_from_uuid, to_bytes32, to_fixed
from oracle.units import fixed_decimal, model_uuid


@dataclass(frozen=True)
class RoundResult:
    """One model's resolved round. Decimals are exact (scores, multipliers, payout factor, clip as Numerai
    gives them); `missed` means the model had no valid staked submission that round (scores empty)."""

    model_id: str  # Numerai model UUID
    round: int
    scores: dict = field(default_factory=dict)  # name -> Decimal, e.g. {"CORR20": ..., "MMC": ...}
    multipliers: dict = field(default_factory=dict)  # name -> Decimal, same keys as scores
    payout_factor: Decimal = Decimal(0)
    clip: Decimal = Decimal(0)
    missed: bool = False

    def to_report(self, tournament: int) -> Report:
        names = sorted(self.scores)
        if self.missed:
            return Report(model_id_from_uuid(self.model_id), tournament, self.round, missed=True)
        return Report(
            model_id=model_id_from_uuid(self.model_id),
            tournament=tournament,
            round=self.round,
            missed=False,
            score_names=tuple(to_bytes32(n) for n in names),
            scores=tuple(to_fixed(self.scores[n]) for n in names),
            multipliers=tuple(to_fixed(self.multipliers[n]) for n in names),
            payout_factor=to_fixed(self.payout_factor),
            clip=to_fixed(self.clip),
        )


@dataclass(frozen=True)
class RoundInfo:
    """A tournament round's schedule: number and submission deadline (closeStakingTime, unix seconds)."""

    round: int
    close_time: int
    resolved: bool = False


class Source:
    """What the service asks a source. Implementations: oracle.sources.NumeraiSource (numerapi),
    FileSource (CSV/JSON replay) and SyntheticSource (simulations)."""

    name = "source"

    def schedule(self, after_round: int) -> list[RoundInfo]:
        """Rounds numbered after `after_round` that have opened, in order, consecutive, with their deadlines."""
        raise NotImplementedError

    def resolved_results(self, model_id: str, after_round: int) -> list[RoundResult]:
        """The model's resolved rounds after `after_round`, consecutive from after_round + 1 and in order,
        stopping before the first round that is not resolved yet. A resolved round without a staked
        submission is a RoundResult with missed=True. Raises SourceError on bad or missing data; never
        returns a partial or out-of-order list."""
        raise NotImplementedError

    def profile_text(self, model_id: str) -> tuple[str, str]:
        """(username, public profile text) of the model's owner, where the modeller publishes his address."""
        raise NotImplementedError


def report_json(report: Report, uuid: str | None = None) -> dict:
    """What --dry-run --json prints per report: every field as an exact decimal string, and the round return."""
    names = [n.rstrip(b"\0").decode(errors="replace") for n in report.score_names]
    return {
        "model_id": "0x" + report.model_id.hex(),
        "model_uuid": uuid if uuid is not None else model_uuid(report.model_id),
        "tournament": report.tournament,
        "round": report.round,
        "missed": report.missed,
        "scores": {n: fixed_decimal(s) for n, s in zip(names, report.scores)},
        "multipliers": {n: fixed_decimal(m) for n, m in zip(names, report.multipliers)},
        "payout_factor": fixed_decimal(report.payout_factor),
        "clip": fixed_decimal(report.clip),
        "round_return": fixed_decimal(report.round_return()),
        "report_hash": "0x" + report.struct_hash().hex(),
    }

"""Model consistency, pure (no chain): the canonical hash of a predictions file, the outcome of checking a
revealed file against a commitment, rank correlations between rounds, breaks in a per-round metric and the
commitment record (committed, late, missed). ``backing.client.submission_cmd`` puts these on the command line.
"""

from backing.consistency.analysis import (
    CommitmentRecord,
    RoundPair,
    commitment_record,
    metric_breaks,
    round_pairs,
    spearman,
)
from backing.consistency.canonical import (
    CANONICAL_HEADER,
    PredictionsError,
    canonical_bytes,
    predictions_hash,
    read_predictions,
)
from backing.consistency.verify import Outcome, agent_at, classify, modeller_at, select_commitments

__all__ = [
    "CANONICAL_HEADER",
    "CommitmentRecord",
    "Outcome",
    "PredictionsError",
    "RoundPair",
    "canonical_bytes",
    "agent_at",
    "classify",
    "commitment_record",
    "metric_breaks",
    "predictions_hash",
    "read_predictions",
    "round_pairs",
    "modeller_at",
    "select_commitments",
    "spearman",
]

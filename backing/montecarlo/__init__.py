"""Monte Carlo over score paths: the reference model's integer math, vectorised with NumPy.

    backing montecarlo --terms FILE [--units N] [--paths 10000] [--rounds 260] [--seed S] [--json OUT] [--plot DIR]

Each path is a sequence of per-round (CORR20, MMC) scores, from a calibrated generator or block-bootstrapped
from a history file. The scores go through exactly the integer math of ``backing.model.agreement`` (which mirrors the
contracts): ``round_return`` (payout factor, multipliers, one truncating division, clip), ``next_index`` (exposure,
floor), ``final_value``, ``maturity`` and ``owed``; the vectorised results equal the scalar model to the wei
(``tests/unit/test_montecarlo.py`` checks it path by path).

How it stays exact without 256-bit integers:

* round returns: ``N = sum_i (payoutFactor * multiplier_i) * score_i`` can reach ~8e57. Scores are split into
  base-1e6 limbs and each constant ``payoutFactor * multiplier_i`` into base-1e6 digits; every partial product is
  below 1e12 and at most 8 * 3 of them meet in one limb, so int64 never overflows. After carrying (floor, so
  every limb but the top is in [0, 1e6)), ``floor(N / 1e36)`` is the limbs from the 6th up, and truncation toward
  zero adds one when N < 0 and a lower limb is non-zero. Limbs above 1e48 only matter to the clamp, so they are
  saturated before the last multiplication: the result is exact for every input the oracle accepts.
* the index: ``I_r = I_{r-1} * growth_r // 1e18`` is kept in base-1e9 limbs (as many as needed, at most 7 for
  the oracle's 2^184 limit); ``growth <= 2e18`` is split into two limbs, every partial product is below 2e18 + 2e18,
  two carry passes normalise the low limbs, and dividing by 1e18 drops the two lowest limbs exactly.
* final value and settlement: per path, once, with Python integers in NumPy object arrays.

Score generator parameters and their sources are in ``ScoreModel``; payout settings in ``SCHEMES``.

Layout (one module per responsibility): ``params`` (payout schemes, the score generator, ``MonteCarloError``),
``history`` (score CSVs, block bootstrap), ``exact`` (round returns and index paths to the wei), ``settlement``
(what a position receives per path), ``run`` (``Config`` to ``Result`` in chunks), ``report`` (tables, JSON,
plots).
"""

from backing.montecarlo.exact import IndexOverflow, growths, index_paths, round_returns
from backing.montecarlo.history import bootstrap_scores, bootstrap_starts, read_history, write_history
from backing.montecarlo.params import (
    MAX_MULTIPLIER,
    SCHEMES,
    SCORE_NAMES,
    MonteCarloError,
    Payout,
    ScoreModel,
    generate_float_scores,
    generate_scores,
    to_fixed,
)
from backing.montecarlo.report import PERCENTILES, describe, plot, report_text, result_json, summary
from backing.montecarlo.run import FAN_PERCENTILES, Config, Result, chunk_scores, run
from backing.montecarlo.settlement import Position, make_position, settle

__all__ = [
    "FAN_PERCENTILES",
    "MAX_MULTIPLIER",
    "PERCENTILES",
    "SCHEMES",
    "SCORE_NAMES",
    "Config",
    "IndexOverflow",
    "MonteCarloError",
    "Payout",
    "Position",
    "Result",
    "ScoreModel",
    "bootstrap_scores",
    "bootstrap_starts",
    "chunk_scores",
    "describe",
    "generate_float_scores",
    "generate_scores",
    "growths",
    "index_paths",
    "make_position",
    "plot",
    "read_history",
    "report_text",
    "result_json",
    "round_returns",
    "run",
    "settle",
    "summary",
    "to_fixed",
    "write_history",
]

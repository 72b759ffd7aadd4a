"""The reference model's round return and index math, vectorised over paths and exact to the wei without 256-bit
integers (limbs: see the package docstring)."""

from __future__ import annotations

import numpy as np

from backing.model.agreement import INDEX_LIMIT, MIN_GROWTH, ONE
from backing.montecarlo.params import MonteCarloError, Payout

_L6 = 10**6  # limb base for round returns
_L9 = 10**9  # limb base for the index


# ---------------------------------------------------------------------------------------------- exact math


def _digits(value: int, base: int) -> list[int]:
    out = []
    while value:
        value, d = divmod(value, base)
        out.append(d)
    return out


def round_returns(scores: np.ndarray, payout: Payout) -> np.ndarray:
    """reference.round_return over the last axis of ``scores`` (int64, 1e18 units, |s| <= 1e18): int64 returns.

    clamp(trunc(payoutFactor * sum_i m_i * s_i / 1e36), -clip, clip), exact (see the module docstring)."""
    shape = scores.shape[:-1]
    limbs: list[np.ndarray | None] = [None] * 12
    for i, m in enumerate(payout.multipliers):
        c = payout.payout_factor * m  # <= 1e39: at most 7 base-1e6 digits
        if c == 0:
            continue
        s = scores[..., i].astype(np.int64)
        s0 = s % _L6
        t = s // _L6
        s_parts = (s0, t % _L6, t // _L6)  # floor limbs: s0, s1 in [0, 1e6), s2 in [-1e6, 1e6]
        for k, ck in enumerate(_digits(c, _L6)):
            if ck == 0:
                continue
            for j, sj in enumerate(s_parts):
                term = sj * ck  # |term| < 1e12
                limbs[k + j] = term if limbs[k + j] is None else limbs[k + j] + term
    if all(limb is None for limb in limbs):
        return np.zeros(shape, dtype=np.int64)
    zero = np.zeros(shape, dtype=np.int64)
    lowest = next(k for k, limb in enumerate(limbs) if limb is not None)  # limbs below are zero
    acc = [zero if limb is None else limb for limb in limbs]
    for k in range(lowest, len(acc) - 1):  # carry: every limb but the top in [0, 1e6)
        carry = acc[k] // _L6
        acc[k] = acc[k] - carry * _L6
        acc[k + 1] = acc[k + 1] + carry
    high = acc[8] + acc[9] * _L6 + acc[10] * _L6**2 + acc[11] * _L6**3  # floor(N / 1e48), |high| < 1e10
    high = np.minimum(np.maximum(high, -2 * _L6), 2 * _L6)  # beyond that |N / 1e36| > 1.99e18 > any clip: saturate
    floor_q = high * _L6**2 + acc[7] * _L6 + acc[6]
    inexact = np.zeros(shape, dtype=bool)
    for k in range(lowest, 6):
        inexact |= acc[k] != 0
    q = floor_q + ((floor_q < 0) & inexact)  # truncate toward zero
    return np.minimum(np.maximum(q, -payout.clip), payout.clip)


def growths(returns: np.ndarray, exposure: int) -> np.ndarray:
    """ONE + tdiv(exposure * return, ONE), int64 in [0, 2e18] (|return| <= 1e18, 0 < exposure <= 1e18)."""
    r = returns.astype(np.int64)
    if exposure == ONE:
        return np.maximum(ONE + r, MIN_GROWTH)
    mag = np.abs(r)
    e1, e0 = divmod(exposure, _L9)
    r1, r0 = mag // _L9, mag % _L9
    mid = e1 * r0 + e0 * r1  # < 2e18
    m1, m0 = mid // _L9, mid % _L9
    q = e1 * r1 + m1 + (m0 * _L9 + e0 * r0) // ONE  # floor(|e * r| / 1e18)
    return np.maximum(ONE + np.where(r < 0, -q, q), MIN_GROWTH)  # ScoreOracle's floor


class IndexOverflow(MonteCarloError):
    """The oracle would revert with IndexOverflow: an index above 2^184 - 1."""


def _limbs_to_int(limbs: np.ndarray) -> np.ndarray:
    """Base-1e9 limbs (rows, low first; may exceed the base) -> object array of Python ints."""
    out = np.zeros(limbs.shape[1], dtype=object)
    for row in limbs[::-1]:
        out = out * _L9 + row.astype(object)
    return out


def index_paths(growth: np.ndarray, start: int = ONE, keep_float: bool = False):
    """reference.index_path for each row of ``growth`` (int64, shape (paths, rounds)), from ``start``.

    @return (end index as an object array of Python ints, float64 index after each round or None).
    @raise IndexOverflow when a path's index would exceed the oracle's 2^184 - 1."""
    paths, rounds = growth.shape
    limbs = np.array(_digits(start, _L9) or [0], dtype=np.int64)
    index = np.repeat(limbs[:, None], paths, axis=1)
    index = np.concatenate([index, np.zeros((1, paths), dtype=np.int64)])  # headroom: top row zero
    g0 = np.ascontiguousarray((growth % _L9).T)
    g1 = np.ascontiguousarray((growth // _L9).T)
    floats = None
    if keep_float:  # for charts only: the same recurrence in floating point (relative error ~1e-16 a round)
        floats = np.empty((paths, rounds + 1))
        floats[:, 0] = start / ONE
        np.cumprod(growth / ONE, axis=1, out=floats[:, 1:])
        floats[:, 1:] *= start / ONE
    for r in range(rounds):
        k = index.shape[0]
        prod = np.zeros((k + 2, paths), dtype=np.int64)
        np.multiply(index, g0[r], out=prod[:k])
        prod[1 : k + 1] += index * g1[r]  # each limb < 1.01e9 * 1e9 + 1.01e9 * 2e9 + carries < 3.1e18
        for _ in range(2):  # two passes: low limbs exact in [0, 1e9), the others below 1e9 + 5
            carry, prod = np.divmod(prod, _L9)
            prod[1:] += carry[:-1]
        index = prod[2:]  # floor(I * growth / 1e18): drop two limbs
        if index[-1].any():
            if index.shape[0] >= 7:
                _check_overflow(index)
            index = np.concatenate([index, np.zeros((1, paths), dtype=np.int64)])
    _check_overflow(index)
    return _limbs_to_int(index), floats


def _check_overflow(index: np.ndarray) -> None:
    if index.shape[0] < 7:
        return
    suspect = np.nonzero(index[6:].any(axis=0))[0]
    if len(suspect) == 0:
        return
    values = _limbs_to_int(index[:, suspect])
    over = sum(1 for v in values if v > INDEX_LIMIT)
    if over:
        raise IndexOverflow(
            f"on {over} path(s) the index would exceed 2^184 - 1 and the oracle would revert "
            f"(IndexOverflow): lower --exposure, --clip or --rounds"
        )

"""The hyperparameter grid of seed 004, exactly as the seed writes it, and its exact size.

The seed's ``param_dict`` (LightGBM parameters; ``np.linspace`` as written, ``dtype='int'`` where it says so)::

    colsample_bytree  np.linspace(0.001, 1, 100)                  100 values
    reg_lambda        np.linspace(0, 100_000, 10_000)          10,000 values
    learning_rate     np.linspace(.00001, 1.0, 1000)            1,000 values
    max_bin           np.linspace(2, 5, 4, dtype='int')             4 values
    max_depth         np.linspace(2, 12, 11, dtype='int')          11 values
    num_leaves        np.linspace(2, 24, 15, dtype='int')          15 values
    min_child_samples np.linspace(1, 250, 250, dtype='int')       250 values
    n_estimators      np.linspace(100, 25_000, 24_000, dtype='int') 24,000 values
    target            the dataset's target columns ("user-specified")

``distinct_count`` counts the distinct values each list really holds (``np.unique``: an integer ``linspace`` may
repeat a value; these do not) and multiplies them: 3,960,000,000,000,000,000 configurations per target (3.96 x
10^18), not the seed's "39,600,000,000,000,000", which drops a factor of 100. ``effective_count`` also merges the
(max_depth, num_leaves) pairs LightGBM grows into the same tree: a tree of depth d holds at most 2^d leaves, and a
tree of L leaves is never deeper than L - 1, so the pair acts as (min(d, L' - 1), L' = min(L, 2^d)).

A configuration is a tuple of indices into these lists (``GridConfig``): integers hash and compare exactly,
where the floats ``linspace`` makes might differ in the last bit between NumPy builds. Values are taken from the
lists only to train.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from backing.errors import grid_problem

#: Names this grid in every hash and manifest: a different grid is a different namespace of configurations.
GRID_VERSION = "seed-004/v1"

#: The seed's lists, in the order the draw decodes them (the first varies fastest); ``target`` comes last.
SEED_AXES: tuple[tuple[str, tuple], ...] = (
    ("colsample_bytree", (0.001, 1, 100, None)),
    ("reg_lambda", (0, 100_000, 10_000, None)),
    ("learning_rate", (0.00001, 1.0, 1000, None)),
    ("max_bin", (2, 5, 4, "int")),
    ("max_depth", (2, 12, 11, "int")),
    ("num_leaves", (2, 24, 15, "int")),
    ("min_child_samples", (1, 250, 250, "int")),
    ("n_estimators", (100, 25_000, 24_000, "int")),
)
PARAMETER_NAMES = tuple(name for name, _ in SEED_AXES)
#: The seed's own (garbled) total, quoted in docs/grid.md against the computed one.
SEED_CLAIMED_TOTAL = 39_600_000_000_000_000


@cache
def axis_values(name: str) -> tuple:
    """The distinct values of one axis, in the seed's order (``np.linspace`` exactly as written, then de-duplicated
    keeping the first occurrence)."""
    spec = dict(SEED_AXES).get(name)
    if spec is None:
        raise grid_problem("not_a_parameter", name=name, names=", ".join(PARAMETER_NAMES))
    start, stop, num, dtype = spec
    raw = np.linspace(start, stop, num, dtype=dtype)
    _, first = np.unique(raw, return_index=True)
    kept = raw[np.sort(first)]
    return tuple(int(v) for v in kept) if dtype == "int" else tuple(float(v) for v in kept)


def axis_sizes() -> tuple[int, ...]:
    """The number of distinct values of each non-target axis, in ``PARAMETER_NAMES`` order."""
    return tuple(len(axis_values(name)) for name in PARAMETER_NAMES)


def distinct_count(n_targets: int = 1) -> int:
    """The exact number of distinct configurations: the product of each axis's distinct values, times the targets."""
    if n_targets < 1:
        raise grid_problem("no_targets")
    return math.prod(axis_sizes()) * n_targets


def effective_count(n_targets: int = 1) -> int:
    """Configurations that can grow different trees: ``distinct_count`` with the (max_depth, num_leaves) pairs
    LightGBM cannot tell apart merged (see the module docstring)."""
    pairs = set()
    for depth in axis_values("max_depth"):
        for leaves in axis_values("num_leaves"):
            capped = min(leaves, 2**depth)
            pairs.add((min(depth, capped - 1), capped))
    others = math.prod(len(axis_values(n)) for n in PARAMETER_NAMES if n not in ("max_depth", "num_leaves"))
    return others * len(pairs) * n_targets


@dataclass(frozen=True)
class GridConfig:
    """One point of the grid: an index into each axis, and the target column by name.

    @param indices One index per ``PARAMETER_NAMES`` entry.
    @param target The target column (a name, so a config keeps its meaning across data versions).
    """

    indices: tuple[int, ...]
    target: str

    def __post_init__(self):
        sizes = axis_sizes()
        if len(self.indices) != len(sizes):
            raise grid_problem("index_count", expected=len(sizes), got=len(self.indices))
        for name, index, size in zip(PARAMETER_NAMES, self.indices, sizes):
            if not isinstance(index, int) or not 0 <= index < size:
                raise grid_problem("index_outside", name=name, index=index, last=size - 1)
        if not isinstance(self.target, str) or not self.target.startswith("target"):
            raise grid_problem("bad_target_name", target=self.target)

    def params(self) -> dict:
        """The LightGBM parameters this configuration stands for (without the target)."""
        return {name: axis_values(name)[i] for name, i in zip(PARAMETER_NAMES, self.indices)}

    def describe(self) -> dict:
        return {**self.params(), "target": self.target}

    @classmethod
    def from_values(cls, values: dict) -> GridConfig:
        """The configuration whose values are ``values`` (as ``describe`` gives them); a value not in the grid
        is refused in words."""
        unknown = sorted(set(values) - set(PARAMETER_NAMES) - {"target"})
        if unknown:
            raise grid_problem("not_a_parameter", name=unknown[0], names=", ".join(PARAMETER_NAMES))
        indices = []
        for name in PARAMETER_NAMES:
            if name not in values:
                raise grid_problem("missing_parameter", name=name)
            options = axis_values(name)
            value = values[name]
            number = isinstance(value, int | float) and not isinstance(value, bool)
            matches = [
                i for i, v in enumerate(options) if number and math.isclose(v, value, rel_tol=1e-12, abs_tol=1e-12)
            ]
            if not matches:
                raise grid_problem(
                    "value_outside", name=name, value=value, count=len(options), low=options[0], high=options[-1]
                )
            indices.append(matches[0])
        if "target" not in values:
            raise grid_problem("missing_parameter", name="target")
        return cls(tuple(indices), values["target"])

"""The deterministic draw: a staker's address and a nonce pick configurations of the grid, in a fixed sequence.

Anyone can recompute a draw with nothing but keccak-256 and the ABI encoding (``cast`` shown, Foundry's tool)::

    seed(staker, nonce, attempt) = keccak256(abi.encode(string "backing-grid:seed-004/v1", address staker,
                                                         uint256 nonce, uint256 attempt))
      cast keccak $(cast abi-encode "f(string,address,uint256,uint256)" backing-grid:seed-004/v1 0xSTAKER 7 0)

    index = uint256(seed) mod N          N = distinct_count(len(targets)): every axis's size times the targets
    for each axis in PARAMETER_NAMES order: i_axis = index mod size(axis); index = index div size(axis)
    target = sorted(targets)[index]      the dataset's target_* columns (and "target"), sorted by name

``attempt`` runs 0, 1, 2, ...: the gate (``backing.grid.gate``) takes the first attempt whose model passes, so the
sequence, and which configuration a staker ends up with, is fixed by his address and nonce alone. The modulo bias
is below N / 2^256 (about 10^-57): negligible. The configuration's hash names a model off chain (its directory,
its manifest)::

    configHash = keccak256(abi.encode(string "seed-004/v1", uint256[8] indices, string target))

The registry claims the configuration's hyperparameters once, keyed by their index, which it computes from the
draw itself (so nobody can claim a configuration drawn from another's address)::

    configIndex = uint256(seed) mod distinct_count(1)    the eight axis digits of ``index`` above, the target not
                                                         (it needs the dataset's target list)
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import is_address, keccak, to_checksum_address

from backing.errors import grid_problem
from backing.grid.space import GRID_VERSION, PARAMETER_NAMES, GridConfig, axis_sizes, distinct_count

DRAW_DOMAIN = "backing-grid:" + GRID_VERSION
MAX_NONCE = 2**64 - 1  # the registry records the nonce as uint64


def checked_staker(staker: str) -> str:
    if not isinstance(staker, str) or not is_address(staker):
        raise grid_problem("bad_address", value=staker)
    return to_checksum_address(staker)


def checked_nonce(nonce) -> int:
    if isinstance(nonce, bool) or not isinstance(nonce, int) or not 0 <= nonce <= MAX_NONCE:
        raise grid_problem("bad_nonce", value=nonce)
    return nonce


def draw_seed(staker: str, nonce: int, attempt: int) -> bytes:
    """keccak256(abi.encode(DRAW_DOMAIN, staker, nonce, attempt)), 32 bytes."""
    staker, nonce = checked_staker(staker), checked_nonce(nonce)
    return keccak(encode(["string", "address", "uint256", "uint256"], [DRAW_DOMAIN, staker, nonce, attempt]))


def decode(index: int, targets: list[str]) -> GridConfig:
    """The configuration at position ``index`` of the grid (mixed radix, the first axis fastest)."""
    ordered = sorted(set(targets))
    if not ordered:
        raise grid_problem("no_targets")
    if not 0 <= index < distinct_count(len(ordered)):
        raise grid_problem("index_outside", name="configuration", index=index, last=distinct_count(len(ordered)) - 1)
    indices = []
    for size in axis_sizes():
        index, digit = divmod(index, size)
        indices.append(digit)
    return GridConfig(tuple(indices), ordered[index])


def position(config: GridConfig, targets: list[str]) -> int:
    """The inverse of ``decode``: the configuration's position in the grid over these targets."""
    ordered = sorted(set(targets))
    if config.target not in ordered:
        raise grid_problem("target_missing", target=config.target, have=", ".join(ordered))
    index = ordered.index(config.target)
    for digit, size in reversed(list(zip(config.indices, axis_sizes()))):
        index = index * size + digit
    return index


def draw(staker: str, nonce: int, attempt: int, targets: list[str]) -> GridConfig:
    """The configuration the staker's ``attempt``-th draw for ``nonce`` picks over these targets."""
    n = distinct_count(len(sorted(set(targets))) or 1)
    return decode(int.from_bytes(draw_seed(staker, nonce, attempt), "big") % n, targets)


def config_hash(config: GridConfig) -> bytes:
    """keccak256(abi.encode(GRID_VERSION, uint256[8] indices, target)): the key the registry claims."""
    return keccak(encode(["string", "uint256[8]", "string"], [GRID_VERSION, list(config.indices), config.target]))


def config_index(staker: str, nonce: int, attempt: int) -> int:
    """The index of the draw's hyperparameters in the grid, the key ``GridRegistry`` claims once
    (``configIndexOf`` on chain): the seed modulo the grid's size without the targets."""
    return int.from_bytes(draw_seed(staker, nonce, attempt), "big") % distinct_count(1)


def sequence(staker: str, nonce: int, targets: list[str], attempts: int):
    """(attempt, config) for attempt 0, 1, ... attempts - 1: the fixed order the gate tries them in."""
    for attempt in range(attempts):
        yield attempt, draw(staker, nonce, attempt, targets)


__all__ = [
    "DRAW_DOMAIN",
    "PARAMETER_NAMES",
    "checked_nonce",
    "checked_staker",
    "config_hash",
    "config_index",
    "decode",
    "draw",
    "draw_seed",
    "position",
    "sequence",
]

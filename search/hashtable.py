"""The observational-equivalence table: equivalence keys of rows, their hashes, and the open-
addressing table that finds a row by its key. Shared by the enumerator's kernels (kernels.py:
one table per bank) and the backward search (inverse.py: its contexts' needed values, and the
output's programs restricted to the training points).

Layout, for rows `values` (n, P) of int64, float64 or uint8 (one row per program, its values at
the P points):

    key    (P,)          uint64   a row's equivalence key (`key_of`): for reals their bits
                                  rounded to nearest at 32 significant bits (relative precision
                                  2^-33), every NaN one NaN, ±0 one zero; for integers and bools
                                  the values themselves
    table  (2 * slots,)  int64    open addressing with linear probing: slot s holds
                                  [row + 1, hash] at table[2 s], table[2 s + 1]; row + 1 == 0
                                  marks it empty, so zeroed memory is an empty table. `slots`
                                  is a power of two, kept at least twice the rows it holds

Two rows are equivalent when their keys are equal; the rows themselves keep their values,
unrounded. Every function here is compiled inline into the kernels that call it. Numba's cache
checks only the file of the function it compiled: after editing this module, touch kernels.py
and inverse.py (or delete search/__pycache__) so that their kernels compile again.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["rounded", "key_of", "hash_of", "same_key", "slot_for", "find", "put", "rebuild_table"]

_NAN_BITS = np.uint64(0x7FF8000000000000)
_ROUND_HALF = np.uint64(1 << 19)
_ROUND_MASK = np.uint64(0xFFFFFFFFFFF00000)  # keeps sign, exponent and 32 mantissa bits
_EXPONENT = np.uint64(0x7FF0000000000000)
_SEED = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)


@njit(inline="always")
def rounded(word: np.uint64) -> np.uint64:
    """The equivalence key of a float64 (given as its bits): rounded to nearest at 32
    significant bits, one NaN, one zero."""
    if (word & _EXPONENT) == _EXPONENT:  # inf or NaN
        return _NAN_BITS if word & ~(_EXPONENT | np.uint64(1 << 63)) else word
    if (word << np.uint64(1)) == 0:  # ±0
        return np.uint64(0)
    return (word + _ROUND_HALF) & _ROUND_MASK


@njit(inline="always")
def key_of(row: np.ndarray, key: NDArray[np.uint64], is_real: bool) -> NDArray[np.uint64]:
    """Fill `key` (uint64) with the row's equivalence key: for reals their rounded bits, for
    integers and bools their values. Returns `key`."""
    if is_real:
        bits = row.view(np.uint64)
        for p in range(bits.shape[0]):
            key[p] = rounded(bits[p])
    else:
        for p in range(row.shape[0]):
            key[p] = np.uint64(row[p])
    return key


@njit(inline="always")
def hash_of(key: NDArray[np.uint64]) -> np.uint64:
    """The hash (uint64) of an equivalence key."""
    h = _SEED
    for word in key:
        h = (h ^ word) * _PRIME
    return h ^ (h >> np.uint64(31))


@njit(inline="always")
def same_key(row: np.ndarray, key: NDArray[np.uint64], is_real: bool) -> bool:
    """Has the stored `row` the equivalence key `key`?"""
    if is_real:
        bits = row.view(np.uint64)
        for p in range(bits.shape[0]):
            if rounded(bits[p]) != key[p]:
                return False
        return True
    for p in range(row.shape[0]):
        if np.uint64(row[p]) != key[p]:
            return False
    return True


@njit(inline="always")
def slot_for(values: np.ndarray, table: NDArray[np.int64], key: NDArray[np.uint64], h: np.uint64,
             is_real: bool) -> int | np.int64:  # fmt: skip
    """The empty slot where a row with `key` (of hash `h`) goes, or -1 when a row of `values`
    with that key is in the table."""
    slots = table.shape[0] // 2
    slot = np.int64(h & np.uint64(slots - 1))
    signed_hash = np.int64(h)
    while table[2 * slot] != 0:
        other = table[2 * slot] - 1
        if table[2 * slot + 1] == signed_hash and same_key(values[other], key, is_real):
            return -1
        slot = (slot + 1) & (slots - 1)
    return slot


@njit(inline="always")
def find(values: np.ndarray, table: NDArray[np.int64], key: NDArray[np.uint64],
         is_real: bool) -> int | np.int64:  # fmt: skip
    """The row of `values` whose key is `key`, or -1."""
    h = hash_of(key)
    slots = table.shape[0] // 2
    slot = np.int64(h & np.uint64(slots - 1))
    while table[2 * slot] != 0:
        row = table[2 * slot] - 1
        if table[2 * slot + 1] == np.int64(h) and same_key(values[row], key, is_real):
            return row
        slot = (slot + 1) & (slots - 1)
    return -1


@njit(inline="always")
def put(table: NDArray[np.int64], slot: int | np.int64, row: int | np.int64, h: np.uint64) -> None:
    """Record `row` (of hash `h`) in the empty `slot` that `slot_for` returned."""
    table[2 * slot] = row + 1
    table[2 * slot + 1] = np.int64(h)


@njit(cache=True)
def rebuild_table(hashes: NDArray[np.uint64], count: int, table: NDArray[np.int64]) -> None:
    """Re-insert rows 0..count-1, of hashes `hashes`, into an empty (all 0) table, e.g. after
    growing it."""
    slots = table.shape[0] // 2
    for index in range(count):
        h = hashes[index]
        slot = np.int64(h & np.uint64(slots - 1))
        while table[2 * slot] != 0:
            slot = (slot + 1) & (slots - 1)
        put(table, slot, index, h)

"""The observational-equivalence table: equivalence keys of rows, their hashes, and the open-
addressing table that finds a row by its key (shared by the enumerator's kernels, kernels.py, and
the backward search, inverse.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_NAN_BITS = np.uint64(0x7FF8000000000000)
_ROUND_HALF = np.uint64(1 << 19)
_ROUND_MASK = np.uint64(0xFFFFFFFFFFF00000)  # keeps sign, exponent and 32 mantissa bits
_EXPONENT = np.uint64(0x7FF0000000000000)
_SEED = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)


@njit(inline="always")
def _rounded(word):
    """The equivalence key of a float64 (given as its bits): rounded to nearest at 32
    significant bits, one NaN, one zero."""
    if (word & _EXPONENT) == _EXPONENT:  # inf or NaN
        return _NAN_BITS if word & ~(_EXPONENT | np.uint64(1 << 63)) else word
    if (word << np.uint64(1)) == 0:  # ±0
        return np.uint64(0)
    return (word + _ROUND_HALF) & _ROUND_MASK


@njit(inline="always")
def _key(row, key, is_real):
    """Fill `key` (uint64) with the row's equivalence key: for reals their rounded bits, for
    integers and bools their values. Returns `key`."""
    if is_real:
        bits = row.view(np.uint64)
        for p in range(bits.shape[0]):
            key[p] = _rounded(bits[p])
    else:
        for p in range(row.shape[0]):
            key[p] = np.uint64(row[p])
    return key


@njit(inline="always")
def _hash(key):
    h = _SEED
    for word in key:
        h = (h ^ word) * _PRIME
    return h ^ (h >> np.uint64(31))


@njit(inline="always")
def _same(row, key, is_real):
    """Has the stored `row` the equivalence key `key`?"""
    if is_real:
        bits = row.view(np.uint64)
        for p in range(bits.shape[0]):
            if _rounded(bits[p]) != key[p]:
                return False
        return True
    for p in range(row.shape[0]):
        if np.uint64(row[p]) != key[p]:
            return False
    return True


@njit(inline="always")
def _slot_for(values, table, key, h, is_real):
    """The empty slot where a row with `key` goes, or -1 when an equal row is in the table."""
    slots = table.shape[0] // 2
    slot = np.int64(h & np.uint64(slots - 1))
    signed_hash = np.int64(h)
    while table[2 * slot] != 0:
        other = table[2 * slot] - 1
        if table[2 * slot + 1] == signed_hash and _same(values[other], key, is_real):
            return -1
        slot = (slot + 1) & (slots - 1)
    return slot


@njit(cache=True)
def rebuild_table(hashes, count, table):
    """Re-insert programs 0..count-1 into an empty (all 0) table, e.g. after growing it."""
    slots = table.shape[0] // 2
    for index in range(count):
        h = hashes[index]
        slot = np.int64(h & np.uint64(slots - 1))
        while table[2 * slot] != 0:
            slot = (slot + 1) & (slots - 1)
        table[2 * slot] = index + 1
        table[2 * slot + 1] = np.int64(h)

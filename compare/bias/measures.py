"""Measures of a truth table that are not its minimal program: Valle-Pérez et al.'s Lempel-Ziv
complexity (the published proxy for simplicity), the number of ones and the entropy of the
share of ones. Each takes packed tables (N, W) uint64 of `points` points (tables.py) and
returns one number per table, so that 10^6 tables cost one call.

Reference: Valle-Pérez, Camargo & Louis, "Deep learning generalizes because the
parameter-function map is biased towards simple functions" (ICLR 2019); their code,
`guillefix/nn-pacbayes`, file `complexities.py`: `KC_LZ`, `calc_KC` and `entropy`, applied to
the string `fstring` of the network's outputs on the inputs `"{0:07b}".format(p)`, p = 0 … 127
(`sample_funs.py`, `generate_inputs_sample.py`) — the truth-table string of tables.py, f(point 0)
first. (With σ_b = 0 and 0/1 inputs their data drops point 0; occam's tables always hold all L
points.)
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from compare.bias.tables import checked_tables

__all__ = ["entropy", "lz76_phrases", "lz_complexity", "ones"]


_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(inline="always")
def _low_bits(count: int) -> np.uint64:
    """A word with its `count` (1..64) low bits set."""
    return _ALL if count >= 64 else (np.uint64(1) << np.uint64(count)) - np.uint64(1)


@njit(inline="always")
def _shifted(bits: NDArray[np.uint64], word: int, shift: int) -> np.uint64:
    """Word `word` of the multi-word integer `bits` shifted right by `shift` bits."""
    source = word + (shift >> 6)
    offset = shift & 63
    low = bits[source] if source < bits.shape[0] else np.uint64(0)
    if offset == 0:
        return low
    high = bits[source + 1] if source + 1 < bits.shape[0] else np.uint64(0)
    return (low >> np.uint64(offset)) | (high << np.uint64(64 - offset))


@njit(inline="always")
def _phrases(bits: NDArray[np.uint64], n: int, starts: NDArray[np.uint64]) -> int:
    """The LZ76 phrase count of the n-bit string whose bit p is bits[p // 64] >> (p % 64): each
    phrase is the shortest that is not a copy of a substring starting earlier (the copy may
    overlap the phrase), the last one possibly a copy. This is what Kaspar & Schuster's loop
    (`KC_LZ`) counts; here it is bit-parallel: `starts` holds the set of earlier positions j whose
    copy still matches, and one word operation tests 64 of them, so a string costs O(n W) word
    operations instead of KC_LZ's O(n^2) comparisons. `starts` is scratch of W words."""
    count, position = 0, 0
    while position < n:
        if position == 0:  # nothing earlier to copy: the first phrase is one symbol
            count, position = 1, 1
            continue
        words = ((position - 1) >> 6) + 1
        for w in range(words - 1):
            starts[w] = _ALL
        starts[words - 1] = _low_bits(position - 64 * (words - 1))
        length = 0
        while True:
            if position + length >= n:  # the copy runs to the end: the last phrase
                return count + 1
            point = position + length
            target = (bits[point >> 6] >> np.uint64(point & 63)) & np.uint64(1)
            alive = np.uint64(0)
            for w in range(words):
                same = _shifted(bits, w, length)  # bit j: the symbol at j + length
                if target == 0:
                    same = ~same
                starts[w] &= same
                alive |= starts[w]
            if alive == 0:
                break
            length += 1
        count += 1
        position += length + 1
    return count


@njit(inline="always")
def _reverse_into(tables: NDArray[np.uint64], row: int, n: int, out: NDArray[np.uint64]) -> None:
    """out = the bits of table `row` in reverse order (bit p of out = point n - 1 - p)."""
    out[:] = 0
    for p in range(n):
        q = n - 1 - p
        if (tables[row, q >> 6] >> np.uint64(q & 63)) & np.uint64(1):
            out[p >> 6] |= np.uint64(1) << np.uint64(p & 63)


def _lz_kernel(tables: NDArray[np.uint64], points: int, out: NDArray[np.float64]) -> None:
    """out[r] = calc_KC of table r's string (constant: log2 L; else log2 L times the mean of the
    phrase counts of the string and of its reverse)."""
    words = tables.shape[1]
    backward = np.zeros(words, dtype=np.uint64)
    starts = np.zeros(words, dtype=np.uint64)
    last = _low_bits(points - 64 * (words - 1))
    scale = np.log2(np.float64(points))
    for row in range(tables.shape[0]):
        zeros, full = True, True
        for w in range(words):
            zeros = zeros and tables[row, w] == 0
            full = full and tables[row, w] == (last if w == words - 1 else _ALL)
        if zeros or full:
            out[row] = scale
            continue
        _reverse_into(tables, row, points, backward)
        forward = _phrases(tables[row], points, starts)
        # the same operations in the same order as calc_KC: log2(L) * (a + b) / 2.0
        out[row] = scale * np.float64(forward + _phrases(backward, points, starts)) / 2.0


def _phrases_kernel(tables: NDArray[np.uint64], points: int, reverse: bool, out: NDArray[np.int64]) -> None:
    backward = np.zeros(tables.shape[1], dtype=np.uint64)
    starts = np.zeros(tables.shape[1], dtype=np.uint64)
    for row in range(tables.shape[0]):
        if reverse:
            _reverse_into(tables, row, points, backward)
            out[row] = _phrases(backward, points, starts)
        else:
            out[row] = _phrases(tables[row], points, starts)


lz_kernel = njit(_lz_kernel, cache=True)
phrases_kernel = njit(_phrases_kernel, cache=True)


def lz_complexity(tables: np.ndarray, points: int) -> NDArray[np.float64]:
    """Valle-Pérez et al.'s Lempel-Ziv complexity (`calc_KC`) of each table, float64 (N,):
    log2(L) · (c(s) + c(reverse s)) / 2 for the truth-table string s (f(point 0) first) and c the
    LZ76 phrase count (Kaspar-Schuster), and log2(L) for the two constant tables. A string of L
    bits scores between log2 L (constants) and about L; for L = 128 the values are multiples of 3.5."""
    tables = checked_tables(tables, points)
    if points < 2:
        return np.zeros(tables.shape[0])  # calc_KC: a 1-bit string is constant, log2(1) = 0
    out = np.empty(tables.shape[0], dtype=np.float64)
    lz_kernel(tables, points, out)
    return out


def lz76_phrases(tables: np.ndarray, points: int, *, reverse: bool = False) -> NDArray[np.int64]:
    """`KC_LZ` of each table's string (or of its reverse), int64 (N,): the number of LZ76 phrases,
    the last one possibly incomplete. L >= 2."""
    tables = checked_tables(tables, points)
    if points < 2:
        raise ValueError(f"the LZ76 phrase count needs at least 2 points, got {points}")
    out = np.empty(tables.shape[0], dtype=np.int64)
    phrases_kernel(tables, points, reverse, out)
    return out


def ones(tables: np.ndarray, points: int) -> NDArray[np.int64]:
    """The number of points each table maps to 1, int64 (N,)."""
    tables = checked_tables(tables, points)
    return np.bitwise_count(tables).sum(axis=1, dtype=np.int64)


def entropy(tables: np.ndarray, points: int) -> NDArray[np.float64]:
    """The binary entropy, in bits, of each table's share of ones, float64 (N,): what Valle-Pérez
    et al. call the entropy of a function (their `entropy`: log2 n − (n0 log2 n0 + n1 log2 n1) / n,
    0 for a constant table, with log2 x = ln x / ln 2 as their code computes it)."""
    n1 = ones(tables, points).astype(np.float64)
    n0 = points - n1
    n = float(points)
    mixed = (n0 > 0) & (n1 > 0)
    safe0, safe1 = np.where(mixed, n0, 1.0), np.where(mixed, n1, 1.0)
    ln2 = np.log(2.0)
    value = np.log(n) / ln2 - (1.0 / n) * (safe0 * (np.log(safe0) / ln2) + safe1 * (np.log(safe1) / ln2))
    return np.where(mixed, value, 0.0)

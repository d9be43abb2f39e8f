"""The second part of a two-part code: bits of the training data given a program.

A program's total description length is its own bits (the grammar's prior) plus the bits needed
to correct its predictions into the observed training targets. An exact fit costs 0.

- Discrete outputs (bool, integers): the exceptions. With n training points of which k ≥ 1 are
  mispredicted, `log2(n)` bits say k, `log2(C(n, k))` which points, and `k · log2(|V| − 1)`
  their values, V being the output's values (its declared range or bit-vector type; for an
  unbounded int, the range of the training targets).
  With two values (bools, `int 0..1`) the exceptions need no value bits, so k and n − k would
  cost the same and a program wrong almost everywhere would explain the data as well as its
  complement (and the posterior's vote would side with the wrong one). There the exceptions are
  coded only while the program is right on a strict majority, k ≤ m = ⌊(n − 1)/2⌋; otherwise
  it is no better than chance, and the code sends the targets as they are, n bits, as if the
  program were not there. `log2(m + 1)` bits say which: k ∈ 1..m, or chance. So every k costs
  a finite number of bits, rising with k up to m and n + log2(m + 1) from there on (C(n, k) <
  2^n: never more than chance).
- Reals: a Gaussian code of the residuals at precision ε: `n/2 · log2(2πe · σ²/ε²)` with σ² the
  mean squared residual, or 0 when that is negative (residuals below the precision). ε defaults
  to 10^-6 of the RMS of the training targets. NaN or infinite residuals cost infinitely much.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsl import SequenceTask, Task

from .space import pack

__all__ = ["DataCode", "ExceptionCode"]


class DataCode:
    """Data bits of candidate predictions on a task's training points."""

    def __init__(self, task: Task, train: np.ndarray, target: np.ndarray, *, precision: float | None = None,
                 packed: bool = False) -> None:  # fmt: skip
        """`train` masks the points, `target` are the values at every point (the rows to score
        have one column per point; `packed`: the truth tables' W words, and `target` is W words
        too)."""
        self.kind = task.output_type.kind
        self.packed = packed
        self.train = train
        self.columns = np.flatnonzero(train).astype(np.int64)
        if packed:
            self.train_words = pack(np.asarray(train, dtype=bool)[None, :])[0]
            self.target = np.ascontiguousarray(target)
        else:
            self.target = np.ascontiguousarray(target[train])
        n = int(train.sum())
        self.n = n
        # the Gaussian code's precision ε: a real output's only, None for a discrete one
        self.precision: float | None
        if self.kind == "real":
            rms = math.sqrt(float(np.mean(self.target.astype(np.float64) ** 2))) if n else 1.0
            self.precision = precision if precision is not None else 1e-6 * (rms or 1.0)
        else:
            self.precision = None
            self._exceptions = ExceptionCode(n, _value_count(task, self.target))

    def bits(self, rows: np.ndarray) -> np.ndarray:
        """(m,) data bits of (m, P) candidate rows (P: the equivalence points)."""
        if self.precision is not None:  # a real output
            variance = _mean_squared_residual(rows, self.columns, self.target)
            with np.errstate(all="ignore"):
                code = self.n / 2 * np.log2(2 * math.pi * math.e * variance / self.precision**2)
            code = np.where(np.isfinite(variance), np.maximum(code, 0.0), np.inf)
            return np.where(np.isnan(code), 0.0, code)  # variance 0: log2(0) = -inf, times n/2
        if self.packed:
            return self.exception_bits(_packed_mismatches(rows, self.target, self.train_words))
        return self.exception_bits(_mismatches(rows, self.columns, self.target.astype(rows.dtype)))

    def exception_bits(self, wrong: np.ndarray) -> np.ndarray:
        """Bits of `wrong` exceptions among the n training points (0 for none; finite for every
        count from 0 to n)."""
        return self._exceptions.bits(wrong)


class ExceptionCode:
    """The discrete outputs' code of the exceptions (module docstring) among `n` outputs of
    `values` possible values: for scalar tasks' points and sequence tasks' steps alike."""

    def __init__(self, n: int, values: int) -> None:
        self.n = n
        self._value_bits = math.log2(values - 1) if values > 2 else 0.0
        binary = values == 2
        self._most = (n - 1) // 2 if binary else n  # exceptions coded as exceptions
        # the header: which k of 1..most, and for two values one more word, chance
        self._header = math.log2(self._most + 1) if binary else math.log2(max(n, 1))
        self._chance = float(n)  # the targets as they are: n bits (two values only)
        # log2(k!) for k = 0..n, to get log2 C(n, k) by subtraction
        self._log2_factorial = np.concatenate([[0.0], np.cumsum(np.log2(np.arange(1, n + 1)))])

    def bits(self, wrong: np.ndarray) -> np.ndarray:
        """Bits of `wrong` exceptions (0 for none; finite for every count from 0 to n)."""
        factorial = self._log2_factorial
        choose = factorial[self.n] - factorial[wrong] - factorial[self.n - wrong]
        # summed in this order, the bits of a code of more than two values are those of before to the last bit
        coded = self._header + choose + wrong * self._value_bits
        code = np.where(wrong <= self._most, coded, self._header + self._chance)
        return np.where(wrong == 0, 0.0, code)


def _value_count(task: Task | SequenceTask, target: np.ndarray) -> int:
    """|V|: how many values the output can take (its domain's size; for an int output without a
    range, which has no finite domain, the span of the training targets)."""
    domain = task.output_domain
    if domain is not None:
        return domain.size
    return int(target.max() - target.min() + 1) if len(target) else 1


@njit(cache=True)
def _mismatches(rows: np.ndarray, columns: np.ndarray, target: np.ndarray) -> np.ndarray:
    wrong = np.zeros(rows.shape[0], dtype=np.int64)
    for r in range(rows.shape[0]):
        for q in range(columns.shape[0]):
            if rows[r, columns[q]] != target[q]:
                wrong[r] += 1
    return wrong


@njit(cache=True, error_model="numpy")
def _mean_squared_residual(rows: np.ndarray, columns: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per row; NaN or infinite residuals give inf."""
    out = np.empty(rows.shape[0])
    for r in range(rows.shape[0]):
        total = 0.0
        for q in range(columns.shape[0]):
            residual = rows[r, columns[q]] - target[q]
            total += residual * residual
        out[r] = total / max(1, columns.shape[0]) if np.isfinite(total) else np.inf
    return out


@njit(cache=True)
def _packed_mismatches(rows: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per (W,)-word truth table of `rows`, the training points (bits of `mask`) where it differs
    from `target`."""
    wrong = np.zeros(rows.shape[0], dtype=np.int64)
    for r in range(rows.shape[0]):
        for w in range(rows.shape[1]):
            wrong[r] += _popcount(np.uint64((rows[r, w] ^ target[w]) & mask[w]))
    return wrong


@njit(inline="always")
def _popcount(x: np.uint64) -> np.int64:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))

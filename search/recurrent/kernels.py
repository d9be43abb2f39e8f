"""Compiled simulation of recurrent programs whose updates are tables.

A point of the table D = U_1 × … × U_k × X is coded `sum_j index_j * strides[j] + x`, where
`index_j` is state j's value less its universe's low end and `x` the code of the step's inputs
(mixed radix, the last input fastest); `strides[k-1]` is |X|. An update table `M[r]` holds, per
point, the index of the new value in its state's universe, or -1 for a value outside it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["simulate", "partial_table", "first_consistent", "run_tables"]


@njit(cache=True, inline="always")
def _point(x, state, strides):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The code of the point of D at the current `state` (indices) and step inputs `x`."""
    point = x
    for i in range(state.shape[0]):
        point += state[i] * strides[i]
    return point


@njit(cache=True)
def _simulate(M, combos, starts, strides, positions, xs, ys, stamp, table, epoch, hits):  # type: ignore[no-untyped-def]  # pragma: no cover
    """For every update tuple `combos[c]` (rows of M, one per state, in update order), start
    `starts[s]` and output position `positions[p]`: does the output stay a function of the
    read-out's point over the training sequences `xs` (N, L) codes, `ys` (N, L) outputs?
    Writes (c, s, p) of each that does into `hits`; returns (hits, epoch, steps simulated)."""
    n_hits = 0
    steps = 0
    k = combos.shape[1]
    n, length = xs.shape
    state = np.empty(k, np.int64)
    for c in range(combos.shape[0]):
        for s in range(starts.shape[0]):
            for p in range(positions.shape[0]):
                at = positions[p]
                epoch += 1
                ok = True
                for seq in range(n):
                    for j in range(k):
                        state[j] = starts[s, j]
                    for t in range(length):
                        x = xs[seq, t]
                        steps += 1
                        for j in range(k + 1):
                            if j == at:
                                point = _point(x, state, strides)
                                if stamp[point] == epoch:
                                    if table[point] != ys[seq, t]:
                                        ok = False
                                        break
                                else:
                                    stamp[point] = epoch
                                    table[point] = ys[seq, t]
                            if j < k:
                                point = _point(x, state, strides)
                                value = M[combos[c, j], point]
                                if value < 0:
                                    ok = False
                                    break
                                state[j] = value
                        if not ok:
                            break
                    if not ok:
                        break
                if ok:
                    hits[n_hits, 0] = c
                    hits[n_hits, 1] = s
                    hits[n_hits, 2] = at
                    n_hits += 1
    return n_hits, epoch, steps


simulate = _simulate


@njit(cache=True)
def _partial_table(M, rows, start, strides, at, xs, ys, n_points):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The read-out's table of one surviving program: (defined (P,) bool, values (P,), the
    least and greatest index each state visits, its start included)."""
    k = rows.shape[0]
    defined = np.zeros(n_points, np.bool_)
    values = np.zeros(n_points, np.int64)
    low = start.copy()
    high = start.copy()
    state = np.empty(k, np.int64)
    n, length = xs.shape
    for seq in range(n):
        for j in range(k):
            state[j] = start[j]
        for t in range(length):
            x = xs[seq, t]
            for j in range(k + 1):
                if j == at:
                    point = _point(x, state, strides)
                    defined[point] = True
                    values[point] = ys[seq, t]
                if j < k:
                    point = _point(x, state, strides)
                    state[j] = M[rows[j], point]
                    low[j] = min(low[j], state[j])
                    high[j] = max(high[j], state[j])
    return defined, values, low, high


partial_table = _partial_table


@njit(cache=True)
def _first_consistent(R, begin, end, points, values):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The first row r in [begin, end) of R with R[r, points] == values, or -1."""
    for r in range(begin, end):
        ok = True
        for i in range(points.shape[0]):
            if R[r, points[i]] != values[i]:
                ok = False
                break
        if ok:
            return r
    return -1


@njit(cache=True)
def _first_consistent_packed(R, begin, end, points, values):  # type: ignore[no-untyped-def]  # pragma: no cover
    """`_first_consistent` over packed truth tables (bit p % 64 of word p // 64 is point p)."""
    for r in range(begin, end):
        ok = True
        for i in range(points.shape[0]):
            p = points[i]
            if (R[r, p >> 6] >> (p & 63)) & 1 != values[i]:
                ok = False
                break
        if ok:
            return r
    return -1


def first_consistent(R: np.ndarray, begin: int, end: int, points: np.ndarray, values: np.ndarray,
                     packed: bool = False) -> int:  # fmt: skip
    """The first row r in [begin, end) of R (values per point, or packed truth tables) that
    equals `values` at `points`, or -1."""
    kernel = _first_consistent_packed if packed else _first_consistent
    return int(kernel(R, begin, end, points, values))


@njit(cache=True)
def _run_tables(M, rows, readout, start, strides, at, xs):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Outputs (N, L) of the program of update rows `rows` of M and read-out row `readout`
    (values per point), from `start` (indices): the compiled evaluator the tests compare with
    the reference one. A state leaving its universe makes the rest of its sequence -1."""
    k = rows.shape[0]
    n, length = xs.shape
    out = np.full((n, length), -1, np.int64)
    state = np.empty(k, np.int64)
    for seq in range(n):
        for j in range(k):
            state[j] = start[j]
        broken = False
        for t in range(length):
            x = xs[seq, t]
            for j in range(k + 1):
                if j == at:
                    point = _point(x, state, strides)
                    out[seq, t] = readout[point]
                if j < k:
                    point = _point(x, state, strides)
                    value = M[rows[j], point]
                    if value < 0:
                        broken = True
                        break
                    state[j] = value
            if broken:
                out[seq, t:] = -1
                break
    return out


run_tables = _run_tables

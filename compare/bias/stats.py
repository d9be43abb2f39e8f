"""The statistics of `occam bias`: how strongly log2 P(f) follows a complexity measure
(a rank or linear correlation with a bootstrap interval), the upper-bound line
log2 P(f) ≤ −a·K(f) + b that simplicity-bias bounds predict, and how much of the probability
mass sits on functions whose probability is within Δ bits of 2^-bits(f).

Inputs are one value per distinct function (the caller filters, e.g. to functions seen ≥ 5
times); nothing here warns, so that `filterwarnings = error` in the tests holds, and a
statistic that is undefined comes back as NaN with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.stats
from numba import njit
from numpy.typing import ArrayLike, NDArray

__all__ = ["Correlation", "UpperBound", "correlation", "mass_within", "upper_bound"]

_METHODS = ("spearman", "pearson")
_CHUNK = 1 << 22  # indices drawn per block, to bound memory at 10^5 functions × 10^3 resamples


@dataclass(frozen=True)
class Correlation:
    """A correlation coefficient over n pairs and its percentile-bootstrap interval [low, high]
    at `level`. `reason` says why the value is NaN (empty when it is not)."""

    method: str
    value: float
    low: float
    high: float
    n: int
    level: float
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """value, low, high (None where not finite: JSON has no NaN), n and level."""
        def finite(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {"value": finite(self.value), "low": finite(self.low), "high": finite(self.high), "n": self.n,
                "level": self.level}  # fmt: skip


@njit(inline="always")
def _ties_sorted(values: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The sort order of `values` and, per sorted position, whether a new tie group starts there."""
    order = np.argsort(values, kind="mergesort")
    starts = np.ones(values.shape[0], dtype=np.bool_)
    for t in range(1, values.shape[0]):
        starts[t] = values[order[t]] != values[order[t - 1]]
    return order, starts


@njit(inline="always")
def _drawn_ranks(
    order: NDArray[np.intp], starts: NDArray[np.bool_], drawn: NDArray[np.float64], rank: NDArray[np.float64]
) -> None:
    """rank[i] = the average rank (ties share the mean of their ranks, as rankdata's 'average')
    of value i within a resample that drew it drawn[i] times: the number drawn below its tie
    group plus (the number drawn in its group + 1) / 2. One pass in sorted order, no sort."""
    n = order.shape[0]
    below = 0.0
    t = 0
    while t < n:
        u = t + 1
        while u < n and not starts[u]:
            u += 1
        size = 0.0
        for v in range(t, u):
            size += drawn[order[v]]
        for v in range(t, u):
            rank[order[v]] = below + (size + 1.0) / 2.0
        below += size
        t = u


@njit(inline="always")
def _weighted_pearson(drawn: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Pearson's r of the pairs (a_i, b_i), each drawn[i] times; NaN if a or b is constant."""
    total = mean_a = mean_b = 0.0
    largest_a = largest_b = 0.0
    for i in range(a.shape[0]):
        total += drawn[i]
        mean_a += drawn[i] * a[i]
        mean_b += drawn[i] * b[i]
        largest_a = max(largest_a, abs(a[i]))
        largest_b = max(largest_b, abs(b[i]))
    mean_a /= total
    mean_b /= total
    saa = sbb = sab = 0.0
    for i in range(a.shape[0]):
        da, db = a[i] - mean_a, b[i] - mean_b
        saa += drawn[i] * da * da
        sbb += drawn[i] * db * db
        sab += drawn[i] * da * db
    # a constant resample leaves only rounding: deviations of a few ulps of the largest value
    eps = 64 * 2.220446049250313e-16
    if saa <= total * (eps * largest_a) ** 2 or sbb <= total * (eps * largest_b) ** 2:
        return np.nan
    return min(1.0, max(-1.0, sab / np.sqrt(saa * sbb)))


def _bootstrap_kernel(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    ranked: bool,
    picks: NDArray[np.int64],
    out: NDArray[np.float64],
) -> None:
    """out[r] = the coefficient on the resample picks[r] (indices of the pairs drawn): Pearson's
    on the values, or with `ranked` on the ranks within the resample (Spearman's)."""
    n = x.shape[0]
    order_x, starts_x = _ties_sorted(x)
    order_y, starts_y = _ties_sorted(y)
    drawn = np.zeros(n)
    rank_x, rank_y = np.empty(n), np.empty(n)
    for r in range(picks.shape[0]):
        drawn[:] = 0.0
        for t in range(n):
            drawn[picks[r, t]] += 1.0
        if ranked:
            _drawn_ranks(order_x, starts_x, drawn, rank_x)
            _drawn_ranks(order_y, starts_y, drawn, rank_y)
            out[r] = _weighted_pearson(drawn, rank_x, rank_y)
        else:
            out[r] = _weighted_pearson(drawn, x, y)


bootstrap_kernel = njit(_bootstrap_kernel, cache=True)


def _resampled(
    xs: NDArray[np.float64], ys: NDArray[np.float64], method: str, picks: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The coefficient of each resample of the pairs, picks (R, n) the indices drawn: the same as
    scipy's on (xs[picks[r]], ys[picks[r]]), computed from how often each pair was drawn."""
    out = np.empty(picks.shape[0])
    if method == "spearman":
        bootstrap_kernel(xs, ys, True, picks.astype(np.int64), out)
    else:
        bootstrap_kernel(xs - xs.mean(), ys - ys.mean(), False, picks.astype(np.int64), out)
    return out


def _undefined(method: str, n: int, level: float, reason: str) -> Correlation:
    nan = float("nan")
    return Correlation(method, nan, nan, nan, n, level, reason)


def correlation(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: str = "spearman",
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Correlation:
    """Spearman's rank correlation (average ranks for ties, as scipy.stats.spearmanr) or
    Pearson's r between paired x and y, with a percentile bootstrap interval: `bootstrap`
    resamples of the n pairs (the functions) with replacement, from `seed`. Resamples in which a
    column is constant have no coefficient and are left out of the percentiles. Fewer than 3
    pairs, a NaN, or a constant column: NaN with the reason. `bootstrap=0`: no interval (NaN)."""
    if method not in _METHODS:
        raise ValueError(f"correlation method must be one of {_METHODS}, got {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"the interval level must be in (0, 1), got {level}")
    xs, ys = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must pair up, got {xs.shape[0]} and {ys.shape[0]} values")
    n = int(xs.shape[0])
    if n < 3:
        return _undefined(method, n, level, f"{n} pairs: a correlation needs at least 3")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return _undefined(method, n, level, "x or y holds NaN or infinite values")
    for name, column in (("x", xs), ("y", ys)):
        if (column == column[0]).all():
            return _undefined(method, n, level, f"{name} is constant ({column[0]:g}): no correlation")
    statistic = scipy.stats.spearmanr if method == "spearman" else scipy.stats.pearsonr
    value = float(statistic(xs, ys)[0])
    low = high = float("nan")
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        values = []
        per_block = max(1, _CHUNK // n)
        for start in range(0, bootstrap, per_block):
            picks = rng.integers(0, n, size=(min(per_block, bootstrap - start), n))
            values.append(_resampled(xs, ys, method, picks))
        resampled = np.concatenate(values)
        resampled = resampled[np.isfinite(resampled)]
        if resampled.size:
            tail = (1 - level) / 2 * 100
            low, high = (float(v) for v in np.percentile(resampled, [tail, 100 - tail]))
    return Correlation(method, value, low, high, n, level)


@dataclass(frozen=True)
class UpperBound:
    """The line log2 P(f) ≤ −a·K(f) + b over the functions fitted, and the `bins` upper-envelope
    points it was fitted through. NaN a and b when fewer than 2 bins had points."""

    a: float
    b: float
    bins: int = 0


def upper_bound(complexity: ArrayLike, log2p: ArrayLike, *, bins: int = 64) -> UpperBound:
    """The upper-bound line of log2 P(f) against a complexity K(f).

    Method: the upper envelope, then a line through it, then the line raised onto the data.
    (1) Bin K: each distinct value is a bin when there are at most `bins` of them (LZ on 128
    points and minimal bits both take few values), else `bins` equal-width bins. (2) In each
    bin keep the point of largest log2 P — the envelope that a bound P(f) ≤ 2^(−aK + b) is about;
    the mass of points below it says nothing about the bound. (3) Fit a least-squares line
    through the envelope points, each bin one point, so that a crowded bin does not outweigh a
    sparse one; its slope gives a. (4) Raise b until no point lies above the line: the result is a
    true upper bound of the data, and a planted line whose maxima lie on it comes back exactly.
    Why not a least-squares line through all points: it estimates the mean trend, not the bound.
    Caveat (the caller's to handle): functions seen once sit on the sampling floor log2(1/N), so
    the envelope flattens at high K; fit over functions seen ≥ k times."""
    ks, ys = np.asarray(complexity, dtype=np.float64).ravel(), np.asarray(log2p, dtype=np.float64).ravel()
    if ks.shape != ys.shape:
        raise ValueError(f"complexity and log2p must pair up, got {ks.shape[0]} and {ys.shape[0]} values")
    keep = np.isfinite(ks) & np.isfinite(ys)
    ks, ys = ks[keep], ys[keep]
    nan = float("nan")
    if ks.size == 0:
        return UpperBound(nan, nan, 0)
    levels = np.unique(ks)
    if levels.size <= bins:
        labels = np.searchsorted(levels, ks)
    else:
        edges = np.linspace(ks.min(), ks.max(), bins + 1)
        labels = np.clip(np.searchsorted(edges, ks, side="right") - 1, 0, bins - 1)
    order = np.lexsort((-ys, labels))  # by bin, the largest log2 P first
    first = order[np.flatnonzero(np.diff(labels[order], prepend=-1))]
    if first.size < 2:
        return UpperBound(nan, nan, int(first.size))
    slope, _ = np.polyfit(ks[first], ys[first], 1)
    a = float(-slope)
    b = float(np.max(ys + a * ks))
    return UpperBound(a, b, int(first.size))


def mass_within(
    log2p: ArrayLike, bits: ArrayLike, weights: ArrayLike, deltas: ArrayLike, *, tolerance: float = 1e-9
) -> dict[float, float]:
    """For each Δ in `deltas`, the share of the probability mass — `weights`, e.g. the counts of
    the functions — on the functions f with −log2 P(f) ≤ bits(f) + Δ: those whose probability is
    within Δ bits of 2^-bits(f). A NaN bits (no minimal length known) is never within. `tolerance`
    absorbs rounding in log2 of counts (−log2(1/2) must count as 1 bit). Empty or zero weights: NaN."""
    surprise = -np.asarray(log2p, dtype=np.float64).ravel()
    lengths = np.asarray(bits, dtype=np.float64).ravel()
    mass = np.asarray(weights, dtype=np.float64).ravel()
    if not surprise.shape == lengths.shape == mass.shape:
        raise ValueError(
            f"log2p, bits and weights must align, got {surprise.shape}, {lengths.shape}, {mass.shape}"
        )
    if (mass < 0).any():
        raise ValueError("weights must be non-negative")
    total = float(mass.sum())
    excess = surprise - lengths  # NaN where bits is NaN: every comparison below is False
    known = np.isfinite(excess)
    result = {}
    for delta in np.asarray(deltas, dtype=np.float64).ravel():
        within = known & (np.where(known, excess, 0.0) <= delta + tolerance)
        result[float(delta)] = float(mass[within].sum()) / total if total > 0 else float("nan")
    return result

"""Correlations with bootstrap intervals against scipy, the upper-bound line on planted data, and
the mass within Δ bits on a hand example."""

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.bias.stats import _resampled, correlation, mass_within, upper_bound


def noisy_pairs(n, seed, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = -x + rng.normal(size=n)
    return (np.round(x), np.round(y)) if ties else (x, y)


@pytest.mark.parametrize("ties", [False, True])
def test_values_are_scipys(ties):
    x, y = noisy_pairs(300, 1, ties)
    spearman = correlation(x, y, bootstrap=0)
    pearson = correlation(x, y, method="pearson", bootstrap=0)
    assert spearman.value == pytest.approx(scipy.stats.spearmanr(x, y)[0], abs=1e-14)
    assert pearson.value == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-14)
    assert (spearman.method, spearman.n, spearman.reason) == ("spearman", 300, "")
    assert np.isnan(spearman.low) and np.isnan(spearman.high)


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 60), st.integers(0, 2**31), st.sampled_from(["spearman", "pearson"]))
def test_each_resample_is_scipys_coefficient_on_it(n, seed, method):
    rng = np.random.default_rng(seed)
    x, y = np.round(rng.normal(size=n) * 2), np.round(rng.normal(size=n) * 2)
    picks = rng.integers(0, n, size=(20, n))
    got = _resampled(x, y, method, picks)
    reference = scipy.stats.spearmanr if method == "spearman" else scipy.stats.pearsonr
    for row, value in zip(picks, got):
        if np.ptp(x[row]) == 0 or np.ptp(y[row]) == 0:
            assert np.isnan(value)  # a constant resample has no coefficient
        else:
            assert value == pytest.approx(reference(x[row], y[row])[0], abs=1e-12)


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_interval_holds_the_value_and_shrinks_with_n(method):
    small = correlation(*noisy_pairs(40, 2), method=method, bootstrap=400, seed=3)
    large = correlation(*noisy_pairs(4000, 2), method=method, bootstrap=400, seed=3)
    for result in (small, large):
        assert result.low <= result.value <= result.high and result.level == 0.95
    assert (large.high - large.low) < (small.high - small.low) / 5  # width ~ 1/sqrt(n): 10x here
    narrow = correlation(*noisy_pairs(40, 2), method=method, bootstrap=400, seed=3, level=0.5)
    assert small.low < narrow.low <= narrow.high < small.high


def test_bootstrap_is_seeded():
    x, y = noisy_pairs(100, 4)
    assert correlation(x, y, seed=7) == correlation(x, y, seed=7)
    assert correlation(x, y, seed=7).low != correlation(x, y, seed=8).low


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        ([1.0, 2.0], [2.0, 1.0], "at least 3"),
        ([], [], "at least 3"),
        ([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0], "x is constant"),
        ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0], "y is constant"),
        ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], "NaN"),
    ],
)
def test_undefined_correlations_are_nan_with_a_reason_and_no_warning(x, y, reason):
    for method in ("spearman", "pearson"):
        result = correlation(x, y, method=method)
        assert np.isnan(result.value) and np.isnan(result.low) and np.isnan(result.high)
        assert reason in result.reason and result.n == len(x)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="kendall"):
        correlation([1, 2, 3], [1, 2, 3], method="kendall")
    with pytest.raises(ValueError, match="pair up"):
        correlation([1, 2, 3], [1, 2])


def planted(a, b, levels, seed):
    """Points on or below log2 P = -a K + b; in every complexity level one point lies on the line."""
    rng = np.random.default_rng(seed)
    k = rng.choice(levels, size=3000)
    log2p = -a * k + b - rng.exponential(3.0, size=k.size)
    k = np.concatenate([k, levels])
    return k, np.concatenate([log2p, -a * levels + b])


@pytest.mark.parametrize(("a", "b"), [(1.0, 0.0), (0.37, -2.5), (2.0, 10.0)])
def test_upper_bound_recovers_a_planted_line(a, b):
    levels = np.arange(7.0, 120.0, 3.5)  # LZ values on 128 points
    k, log2p = planted(a, b, levels, seed=int(10 * a))
    bound = upper_bound(k, log2p)
    assert bound.a == pytest.approx(a, abs=1e-9) and bound.b == pytest.approx(b, abs=1e-9)
    assert bound.bins == levels.size  # 33 levels: each its own bin
    coarse = upper_bound(k, log2p, bins=8)  # equal-width bins, one envelope point each
    assert coarse.bins == 8 and coarse.a == pytest.approx(a, rel=0.1)
    assert (log2p <= -coarse.a * k + coarse.b + 1e-9).all()
    assert (log2p <= -bound.a * k + bound.b + 1e-9).all()


def test_upper_bound_with_binned_continuous_complexity_is_above_every_point():
    rng = np.random.default_rng(9)
    k = rng.uniform(0, 50, size=5000)
    log2p = -0.8 * k + 1.0 - rng.exponential(0.05, size=k.size)
    bound = upper_bound(k, log2p, bins=20)
    assert (
        bound.bins == 20
        and bound.a == pytest.approx(0.8, rel=0.02)
        and bound.b == pytest.approx(1.0, abs=0.5)
    )
    assert (log2p <= -bound.a * k + bound.b + 1e-9).all()
    # a mean-trend fit would be below some points: the bound is not the regression line
    slope, intercept = np.polyfit(k, log2p, 1)
    assert (log2p > slope * k + intercept).any()


def test_upper_bound_needs_two_levels():
    result = upper_bound([5.0, 5.0, 5.0], [-1.0, -2.0, -3.0])
    assert np.isnan(result.a) and np.isnan(result.b) and result.bins == 1
    empty = upper_bound([], [])
    assert np.isnan(empty.a) and np.isnan(empty.b) and empty.bins == 0


def test_mass_within_by_hand():
    # four functions seen 4, 2, 1, 1 times of 8: -log2 P = 1, 2, 3, 3 bits;
    # minimal bits 1, 1, 3, NaN (unknown). Excess over the minimum: 0, 1, 0, unknown.
    counts = np.array([4, 2, 1, 1])
    log2p = np.log2(counts / counts.sum())
    bits = np.array([1.0, 1.0, 3.0, np.nan])
    shares = mass_within(log2p, bits, counts, [0, 0.5, 1, 10])
    # Δ = 0: functions 1 and 3 (4 + 1 of 8); Δ = 1 adds function 2 (+2); the unknown one never counts
    assert shares == {0.0: 5 / 8, 0.5: 5 / 8, 1.0: 7 / 8, 10.0: 7 / 8}


def test_mass_within_refuses_misaligned_or_negative_input():
    with pytest.raises(ValueError, match="align"):
        mass_within([-1.0], [1.0, 2.0], [1], [0])
    with pytest.raises(ValueError, match="non-negative"):
        mass_within([-1.0], [1.0], [-1], [0])
    assert np.isnan(mass_within([-1.0], [1.0], [0], [0])[0.0])

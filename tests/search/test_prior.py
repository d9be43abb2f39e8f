"""The PCFG prior (search/prior.py): sampled tables against the reference evaluator, sampled
frequencies against the exact distribution (chi-square, and a perturbed grammar that must fail
it), the exact distribution against a brute-force sum over every derivation up to a size, and the
calibration bound P(f) >= 2^-K(f) against the enumerator's minimal programs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import dsl
from search import minimal_programs
from search.prior import (
    branching_factor,
    function_distribution,
    reference_table,
    sample_programs,
    sampled_programs,
)

EXOTIC = ("bool -> x1, x2, x3, true, false [0.5], not bool, bool == bool, if(bool, bool, bool) [0.2], "
          "x1 and bool, bool != bool")  # fmt: skip


def boolean_task(n: int, grammar: str = "boolean") -> dsl.Task:
    """The n-input Boolean domain in binary-counting order, x1 the most significant bit."""
    points = np.arange(2**n)
    bits = (points[:, None] >> (n - 1 - np.arange(n))) & 1
    inputs = {f"x{i + 1}": bits[:, i].astype(bool) for i in range(n)}
    return dsl.Task.from_arrays(inputs, bits[:, 0].astype(bool), grammar=grammar)


def counts_of(tables: np.ndarray, functions: int) -> np.ndarray:
    return np.bincount(tables[:, 0].astype(np.int64), minlength=functions)


def chi_square(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of the counts under the probabilities (normalized), bins of expectation < 5 pooled."""
    expected = counts.sum() * probabilities / probabilities.sum()
    small = expected < 5
    if not small.any():
        return float(stats.chisquare(counts, expected).pvalue)
    observed = np.append(counts[~small], counts[small].sum())
    expected = np.append(expected[~small], expected[small].sum())
    return float(stats.chisquare(observed, expected).pvalue)


# --- the sampled programs ---------------------------------------------------------------------


@pytest.mark.parametrize(("n", "grammar"), [(1, "boolean"), (3, "boolean_xor"), (5, "boolean"), (7, "boolean"),
                                            (3, EXOTIC)])  # fmt: skip
def test_tables_and_bits_are_the_reference_evaluators(n: int, grammar: str) -> None:
    task = boolean_task(n, grammar)
    sample = sample_programs(task, 300, seed=5, max_nodes=100, batch=128)
    programs = sampled_programs(task, 300, seed=5, max_nodes=100, batch=128)
    assert len(programs) == len(sample.tables) == len(sample.bits) == 300
    assert sample.tables.dtype == np.uint64 and sample.tables.shape == (300, max(1, 2**n // 64))
    for program, table, bits in zip(programs, sample.tables, sample.bits):
        np.testing.assert_array_equal(table, reference_table(task, program))
        assert bits == pytest.approx(dsl.description_length(program, task.grammar), rel=1e-12)
    assert len({str(program) for program in programs}) > 20  # not one program over and over


def test_unused_bits_are_zero() -> None:
    task = boolean_task(5)  # 32 points: the upper half of the word is unused
    tables = sample_programs(task, 5000, seed=0).tables
    assert np.all(tables >> np.uint64(32) == 0)
    assert np.any(tables == np.uint64(2**32 - 1))  # tautologies (`x or not x`) exist, masked


def test_the_same_seed_gives_the_same_sample() -> None:
    task = boolean_task(3)
    first, again = (sample_programs(task, 5000, seed=11, batch=1000) for _ in range(2))
    other = sample_programs(task, 5000, seed=12, batch=1000)
    np.testing.assert_array_equal(first.tables, again.tables)
    np.testing.assert_array_equal(first.bits, again.bits)
    assert not np.array_equal(first.tables, other.tables)


def test_branching_factor() -> None:
    assert branching_factor(boolean_task(7)) == pytest.approx(0.5)
    assert branching_factor(boolean_task(2)) == pytest.approx(1.0)
    assert branching_factor(boolean_task(3, "boolean_xor")) == pytest.approx(7 / 7)


# --- sampled frequencies against the exact distribution ----------------------------------------


def test_sampled_frequencies_match_the_exact_distribution_n3() -> None:
    task = boolean_task(3)  # subcritical (5/6): rejections at 1000 nodes are negligible
    _, probabilities = function_distribution(task)
    sample = sample_programs(task, 100_000, seed=1)
    assert sample.rejected == 0
    assert chi_square(counts_of(sample.tables, 256), probabilities) > 1e-3


IF_GRAMMAR = "bool -> x1, x2, true, not bool, if(bool, bool, bool) [0.3], bool != bool [0.5]"


def test_three_holes_sampled_against_the_exact_distribution() -> None:
    """`if` (3 holes, subcritical: 2.9 / 4.8): Newton's Jacobian over triples, against plain
    iteration and against the sampler."""
    task = boolean_task(2, IF_GRAMMAR)
    _, probabilities = function_distribution(task)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    p = np.zeros(16)
    f = np.arange(16)
    c, a, b = np.meshgrid(f, f, f, indexing="ij")
    g, h = np.meshgrid(f, f, indexing="ij")
    for _ in range(300):
        new = np.zeros(16)
        new[[12, 10, 15]] += 1 / 4.8  # x1 is true at points 2, 3 (binary 10, 11), x2 at 1, 3; true
        new[15 - f] += p / 4.8
        triples = p[:, None, None] * p[None, :, None] * p[None, None, :] * 0.3 / 4.8
        new += np.bincount(((c & a) | (~c & 15 & b)).ravel(), triples.ravel(), minlength=16)
        new += np.bincount((g ^ h).ravel(), (np.outer(p, p) * 0.5 / 4.8).ravel(), minlength=16)
        p = new
    np.testing.assert_allclose(probabilities, p, rtol=1e-9, atol=1e-15)
    sample = sample_programs(task, 100_000, seed=8)
    assert chi_square(counts_of(sample.tables, 16), probabilities) > 1e-3
    with pytest.raises(dsl.SearchError, match="at most 2 holes"):
        function_distribution(task, max_nodes=10)


def test_sampled_frequencies_match_the_exact_distribution_n2_critical() -> None:
    """n = 2 is critical: the cap matters, and the sample is the distribution up to it."""
    task = boolean_task(2)
    _, probabilities = function_distribution(task, max_nodes=200)
    sample = sample_programs(task, 100_000, seed=2, max_nodes=200)
    assert chi_square(counts_of(sample.tables, 16), probabilities) > 1e-3
    rejected = 1 - probabilities.sum()  # ≈ 0.89 / √200
    assert 0.04 < rejected < 0.08
    assert stats.binomtest(sample.rejected, 100_000 + sample.rejected, rejected).pvalue > 1e-3


@pytest.mark.parametrize("n", [2, 3])
def test_a_perturbed_choice_probability_fails_the_test(n: int) -> None:
    inputs = ", ".join(f"x{i + 1}" for i in range(n))
    exact = function_distribution(boolean_task(n), max_nodes=200 if n == 2 else None)[1]
    perturbed = boolean_task(n, f"bool -> {inputs}, not bool [1.15], bool and bool, bool or bool")
    sample = sample_programs(perturbed, 100_000, seed=3, max_nodes=200)
    assert chi_square(counts_of(sample.tables, 2**2**n), exact) < 1e-6


def test_supercritical_grammar_terminates_with_probability_one_half() -> None:
    """`boolean` on one input: q = 1/4 + q/4 + q²/2, whose least root is 1/2."""
    task = boolean_task(1)
    _, probabilities = function_distribution(task)
    assert probabilities.sum() == pytest.approx(0.5, abs=1e-12)
    _, capped = function_distribution(task, max_nodes=100)
    sample = sample_programs(task, 20_000, seed=4, max_nodes=100)
    accepted = 20_000 / (20_000 + sample.rejected)
    assert stats.binomtest(20_000, 20_000 + sample.rejected, capped.sum()).pvalue > 1e-3
    assert 0.45 < accepted < 0.5  # a little less than the terminating half: those within the cap
    assert chi_square(counts_of(sample.tables, 4), capped) > 1e-3


# --- the exact distribution against brute force -------------------------------------------------


def derivations(task: dsl.Task, size: int) -> list[dsl.Expr]:
    """Every program of `boolean` of exactly `size` nodes (it is unambiguous: one derivation each)."""
    rule = task.grammar.rule(task.output_type)
    assert rule is not None
    by_size: dict[int, list[dsl.Expr]] = {}
    for s in range(1, size + 1):
        programs: list[dsl.Expr] = []
        for alternative in rule.alternatives:
            holes = len(alternative.holes)
            if holes == 0 and s == 1:
                programs.append(alternative.template)
            elif holes == 1 and s >= 2:
                programs += [dsl.program.fill(alternative.template, iter([c])) for c in by_size[s - 1]]
            elif holes == 2:
                for left in range(1, s - 1):
                    programs += [dsl.program.fill(alternative.template, iter([a, b]))
                                 for a in by_size[left] for b in by_size[s - 1 - left]]  # fmt: skip
        by_size[s] = programs
    return [program for s in range(1, size + 1) for program in by_size[s]]


@pytest.mark.parametrize(("n", "size"), [(2, 7), (3, 6)])
def test_function_distribution_against_brute_force(n: int, size: int) -> None:
    task = boolean_task(n)
    functions = 2**2**n
    brute = np.zeros(functions)
    for program in derivations(task, size):
        brute[int(reference_table(task, program)[0])] += 2.0 ** -dsl.description_length(program, task.grammar)
    tables, up_to = function_distribution(task, max_nodes=size)
    np.testing.assert_array_equal(tables[:, 0], np.arange(functions))
    np.testing.assert_allclose(up_to, brute, rtol=1e-12, atol=1e-15)
    _, exact = function_distribution(task)
    tail = exact.sum() - brute.sum()  # the mass of programs of more than `size` nodes
    assert 0 < tail < 1
    assert np.all(exact >= brute - 1e-8) and np.all(exact <= brute + tail + 1e-8)
    assert exact.sum() == pytest.approx(1.0, abs=1e-7)  # n = 2 critical, n = 3 subcritical: both terminate


def test_least_fixed_point_against_plain_iteration() -> None:
    """Subcritical n = 3: iterating p ← G(p) from 0, written out independently, converges to it."""
    task = boolean_task(3)
    f = np.arange(256)
    p = np.zeros(256)
    leaves = [int(reference_table(task, dsl.parse_program(f"x{i}", task))[0]) for i in (1, 2, 3)]
    g, h = np.meshgrid(f, f, indexing="ij")
    for _ in range(400):
        new = np.zeros(256)
        new[leaves] += 1 / 6
        new[255 - f] += p / 6  # not
        pairs = np.outer(p, p) / 6
        new += np.bincount((g & h).ravel(), pairs.ravel(), minlength=256)
        new += np.bincount((g | h).ravel(), pairs.ravel(), minlength=256)
        p = new
    np.testing.assert_allclose(function_distribution(task)[1], p, rtol=1e-9, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.2, 3.0), min_size=5, max_size=5))
def test_least_fixed_point_of_any_weights_against_plain_iteration(weights: list[float]) -> None:
    """Random weights on n = 2 (sub- or supercritical, not near critical, where plain iteration
    crawls): Newton's least fixed point is plain iteration's limit, a sub-probability."""
    x1, x2, negation, conjunction, disjunction = (w / sum(weights) for w in weights)
    assume(abs(negation + 2 * (conjunction + disjunction) - 1) > 0.15)
    grammar = "bool -> " + ", ".join(f"{text} [{w!r}]" for text, w in zip(
        ["x1", "x2", "not bool", "bool and bool", "bool or bool"], weights))  # fmt: skip
    f = np.arange(16)
    g, h = np.meshgrid(f, f, indexing="ij")
    p = np.zeros(16)
    for _ in range(3000):
        new = np.zeros(16)
        new[12] += x1  # x1 is true at points 2, 3 (binary 10, 11), x2 at 1, 3
        new[10] += x2
        new[15 - f] += negation * p
        pairs = np.outer(p, p).ravel()
        new += np.bincount((g & h).ravel(), conjunction * pairs, minlength=16)
        new += np.bincount((g | h).ravel(), disjunction * pairs, minlength=16)
        p = new
    _, exact = function_distribution(boolean_task(2, grammar))
    np.testing.assert_allclose(exact, p, rtol=1e-8, atol=1e-13)
    assert exact.sum() <= 1 + 1e-12


def test_calibration_against_minimal_programs() -> None:
    """P(f) >= 2^-K(f) (f's shortest program alone contributes that much), log P falls with K,
    and the slope fitted to sampled frequencies is the exact distribution's on the same functions
    (what the calibration row of `compare/bias` must recover)."""
    task = boolean_task(3)
    table = minimal_programs(task, max_seconds=60)
    assert table.complete
    minimal = np.full(256, np.inf)
    minimal[table.functions[:, 0].astype(np.int64)] = table.bits
    _, probabilities = function_distribution(task)
    assert np.all(np.log2(probabilities) >= -minimal - 1e-9)
    assert stats.spearmanr(minimal, np.log2(probabilities)).statistic < -0.95
    counts = counts_of(sample_programs(task, 100_000, seed=7).tables, 256)
    seen = counts >= 5
    sampled = np.polyfit(minimal[seen], np.log2(counts[seen] / counts.sum()), 1)[0]
    exact = np.polyfit(minimal[seen], np.log2(probabilities[seen]), 1)[0]
    assert -0.7 < exact < -0.5  # far from -1: a function of K bits has many programs of a little more
    assert abs(sampled - exact) < 0.06


# --- what it refuses ----------------------------------------------------------------------------


def test_refusals() -> None:
    with pytest.raises(dsl.SearchError, match="Boolean functions"):
        sample_programs(dsl.load_task("mod_add_97"), 10, seed=0)
    comparison = dsl.Task.from_arrays({"a": np.arange(4), "b": np.arange(4)}, np.arange(4) < 2,
                                      grammar="bool -> a < b, not bool")  # fmt: skip
    with pytest.raises(dsl.SearchError, match="cannot sample"):
        sample_programs(comparison, 10, seed=0)
    with pytest.raises(dsl.SearchError, match="at most 8 points"):
        function_distribution(boolean_task(4))

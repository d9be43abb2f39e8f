"""Minimal bits of Boolean functions (compare/bias/complexity.py) against an independent
reference: the minimal formula size over {and, or, not, inputs}, by dynamic programming over
truth tables, times the bits of one node under the uniform `boolean` grammar."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compare.bias.complexity import boolean_task, minimal_bits
from compare.bias.tables import pack_tables

N = 3
POINTS = 2**N
NODE_BITS = math.log2(3 + N)  # `boolean`: not, and, or and the N inputs, equally likely


def minimal_sizes(inputs: int) -> dict[int, int]:
    """Truth table (an int, bit p = point p) → the fewest nodes of a formula computing it."""
    points = 2**inputs
    full = 2**points - 1
    variables = [sum(1 << p for p in range(points) if (p >> (inputs - i)) & 1) for i in range(1, inputs + 1)]
    by_size: dict[int, set[int]] = {1: set(variables)}
    size_of = {table: 1 for table in variables}
    for size in range(2, 40):
        new = {full ^ table for table in by_size.get(size - 1, ())}
        for left in range(1, size - 1):
            for a in by_size.get(left, ()):
                for b in by_size.get(size - 1 - left, ()):
                    new.update((a & b, a | b))
        by_size[size] = {table for table in new if table not in size_of}
        size_of.update((table, size) for table in by_size[size])
        if len(size_of) == 2**points:
            break
    return size_of


SIZES = minimal_sizes(N)


def tables_of(ints: list[int]) -> np.ndarray:
    ones = np.array([[(value >> p) & 1 for p in range(POINTS)] for value in ints], dtype=bool)
    return pack_tables(ones)


def test_every_function_of_three_inputs_gets_its_minimal_formula_size() -> None:
    ints = sorted(SIZES)
    assert len(ints) == 2**POINTS
    complexity = minimal_bits(tables_of(ints), N, max_seconds=60)
    assert complexity.certified.all()
    expected = np.array([SIZES[value] * NODE_BITS for value in ints])
    np.testing.assert_allclose(complexity.bits, expected, rtol=1e-12)


def test_programs_compute_their_functions_and_duplicates_share_one_answer() -> None:
    rng = np.random.default_rng(1)
    ints = [int(value) for value in rng.integers(0, 2**POINTS, size=12)]
    ints += ints[:4]  # repeated functions
    complexity = minimal_bits(tables_of(ints), N, max_seconds=60)
    task = boolean_task(N)
    for value, program, bits in zip(ints, complexity.programs, complexity.bits):
        assert program is not None
        computed = _evaluate(program, task)  # the program's text parses and computes the function
        assert sum(int(bit) << p for p, bit in enumerate(computed)) == value, program
        assert bits == pytest.approx(SIZES[value] * NODE_BITS)


def _evaluate(program: str, task) -> np.ndarray:
    import dsl

    expression = dsl.parse_program(program, task)
    return np.asarray(dsl.evaluate(expression, task.points, size=task.n_points), bool)


def test_a_budget_cut_short_leaves_sound_lower_bounds() -> None:
    ints = sorted(SIZES)
    calls = iter(range(10**9))
    complexity = minimal_bits(tables_of(ints), N, stop=lambda: next(calls) >= 12)  # a few kernel calls only
    truth = np.array([SIZES[value] * NODE_BITS for value in ints])
    certified = complexity.certified
    assert not certified.all()  # the budget is too small to certify all 256
    assert certified.any() and complexity.searched == 0
    np.testing.assert_allclose(complexity.bits[certified], truth[certified], rtol=1e-12)
    assert (complexity.lower <= truth + 1e-9).all()
    assert (complexity.upper >= truth - 1e-9).all()


def test_seven_inputs_planted_functions() -> None:
    task = boolean_task(7)
    x = {name: np.asarray(values, bool) for name, values in task.points.items()}
    functions = [x["x1"] & x["x2"], ~(x["x3"] | x["x7"]), x["x6"], ~x["x4"]]
    sizes = [3, 4, 1, 2]
    complexity = minimal_bits(pack_tables(np.array(functions)), 7, max_seconds=30)
    assert complexity.certified.all()
    np.testing.assert_allclose(complexity.bits, np.array(sizes) * math.log2(3 + 7))


def test_the_second_pass_certifies_functions_beyond_the_enumeration_bound() -> None:
    bound = 3 * NODE_BITS  # the first pass meets formulas of at most 3 nodes
    hard = [value for value in sorted(SIZES) if 5 <= SIZES[value] <= 7][::40][:3]
    easy = [value for value in sorted(SIZES) if SIZES[value] <= 3][:3]
    ints = hard + easy
    complexity = minimal_bits(tables_of(ints), N, enumeration_bits=bound + 1e-9, search_seconds=20, max_seconds=120)
    assert complexity.covered_bits == pytest.approx(bound)
    assert complexity.searched == len(hard)
    assert complexity.certified.all()
    np.testing.assert_allclose(complexity.bits, [SIZES[value] * NODE_BITS for value in ints], rtol=1e-12)


def test_the_second_pass_follows_the_order_given() -> None:
    hard = [value for value in sorted(SIZES) if SIZES[value] == 5][:3]
    complexity = minimal_bits(tables_of(hard), N, enumeration_bits=3 * NODE_BITS + 1e-9, order=np.array([2, 1, 0]),
                              max_searches=1, search_seconds=20)  # fmt: skip
    assert complexity.searched == 1
    assert complexity.certified.tolist() == [False, False, True]
    assert complexity.lower[:2] == pytest.approx([3 * NODE_BITS] * 2)
    assert complexity.upper[:2].tolist() == [math.inf, math.inf]


def test_partial_functions_get_the_shortest_program_that_agrees_on_their_points() -> None:
    """On the points where x1 = 1, 'x1 and x2' and 'x2' agree: the partial function's minimal
    bits are those of x2 (1 node), and a function's bits on a subset never exceed its bits on all."""
    points = np.array([p for p in range(POINTS) if p >> (N - 1) & 1])  # x1 = 1
    ints = sorted(SIZES)
    full = tables_of(ints)
    from compare.bias.tables import unpack_tables

    partial = pack_tables(unpack_tables(full, POINTS)[:, points])
    complexity = minimal_bits(partial, N, points=points, max_seconds=60)
    assert complexity.certified.all()
    x1_and_x2 = next(value for value in ints if all(((value >> p) & 1) == ((p >> 2) & (p >> 1) & 1) for p in range(8)))
    assert complexity.bits[ints.index(x1_and_x2)] == pytest.approx(NODE_BITS)
    assert (complexity.bits <= np.array([SIZES[value] * NODE_BITS for value in ints]) + 1e-9).all()


def test_functions_a_grammar_cannot_express_have_no_finite_bound() -> None:
    """A grammar of x1 and `not` alone, exhausted: x2 is not expressible (bits inf), x1 is."""
    from compare.bias.complexity import boolean_task as task_of

    task = task_of(2)
    x = {name: np.asarray(values, bool) for name, values in task.points.items()}
    tables = pack_tables(np.array([x["x1"], ~x["x1"], x["x2"]]))
    complexity = minimal_bits(tables, 2, grammar="bool -> x1, not bool")
    assert complexity.certified.tolist() == [True, True, False]
    assert complexity.bits[2] == math.inf and complexity.lower[2] == math.inf and complexity.searched == 0


def test_ctrl_c_in_the_enumeration_keeps_what_it_found() -> None:
    calls = iter(range(10**9))

    def ctrl_c_after_a_few_kernel_calls() -> bool:
        if next(calls) >= 12:
            raise KeyboardInterrupt
        return False

    ints = sorted(SIZES)
    complexity = minimal_bits(tables_of(ints), N, stop=ctrl_c_after_a_few_kernel_calls)
    truth = np.array([SIZES[value] * NODE_BITS for value in ints])
    assert complexity.interrupted and complexity.searched == 0
    assert complexity.certified.any() and not complexity.certified.all()
    np.testing.assert_allclose(complexity.bits[complexity.certified], truth[complexity.certified], rtol=1e-12)
    assert (complexity.lower <= truth + 1e-9).all()


def test_only_wanted_functions_hold_the_enumeration_and_get_searched() -> None:
    """Wanted: two 3-node functions. The enumeration stops at their level; an unwanted 2-node
    function met before is certified, an unwanted 7-node one is neither met nor searched."""
    by_size = {size: [value for value in sorted(SIZES) if SIZES[value] == size] for size in (2, 3, 7)}
    ints = by_size[3][:2] + by_size[2][:1] + by_size[7][:1]
    complexity = minimal_bits(tables_of(ints), N, wanted=np.array([True, True, False, False]))
    assert complexity.certified.tolist() == [True, True, True, False]
    assert complexity.searched == 0
    assert complexity.lower[3] <= SIZES[ints[3]] * NODE_BITS

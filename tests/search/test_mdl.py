"""The second part of the two-part code, counted by hand."""

import math

import numpy as np
import pytest

import dsl
from search.mdl import DataCode


def task_of(text):
    (task,) = dsl.parse_tasks(text)
    return task


MOD13 = """task m { input a, b: int 0..12  output int 0..12  target (a + b) % 13
                    grammar { int -> a, b, 13, int + int, int % int } }"""
BOOL = """task b { input x, y, z: bool  output bool  target x and y  grammar boolean }"""
REAL = """task r { input x: real -1..1  output real  target x  grammar koza  sample 20 uniform seed 0 }"""


def test_exceptions_with_many_values_cost_count_positions_and_values():
    task = task_of(MOD13)
    everywhere = np.ones(task.n_points, dtype=bool)
    code = DataCode(task, everywhere, task.target_values)
    n = task.n_points
    for k in (0, 1, 5, n // 2 + 10, n):
        expected = 0.0 if k == 0 else math.log2(n) + math.log2(math.comb(n, k)) + k * math.log2(12)
        assert code.exception_bits(np.array([k]))[0] == pytest.approx(expected)


def test_a_two_valued_output_must_be_right_on_a_strict_majority():
    """With no value bits, k and n - k exceptions would cost the same: a program wrong almost
    everywhere would explain the data as well as its complement."""
    task = task_of(BOOL)
    n = task.n_points  # 8
    code = DataCode(task, np.ones(n, dtype=bool), task.target_values)
    bits = code.exception_bits(np.arange(n + 1))
    assert bits[0] == 0.0
    most = (n - 1) // 2  # 3: right on at least 5 of 8
    for k in range(1, most + 1):
        assert bits[k] == pytest.approx(math.log2(most) + math.log2(math.comb(n, k)))
    assert np.isinf(bits[most + 1:]).all()
    rows = np.array([task.target_values, ~task.target_values])
    assert code.bits(rows).tolist() == [0.0, math.inf]


def test_reals_cost_a_gaussian_code_of_the_residuals():
    task = task_of(REAL)
    everywhere = np.ones(task.n_points, dtype=bool)
    code = DataCode(task, everywhere, task.target_values, precision=1e-3)
    residual = np.linspace(-0.1, 0.1, task.n_points)
    rows = np.array([task.target_values, task.target_values + residual, task.target_values * np.nan])
    variance = np.mean(residual**2)
    expected = task.n_points / 2 * math.log2(2 * math.pi * math.e * variance / 1e-6)
    bits = code.bits(rows)
    assert bits[0] == 0.0 and bits[1] == pytest.approx(expected) and bits[2] == math.inf


@pytest.mark.parametrize("output, values", [("bool", 2), ("u8", 256), ("u8 0..9", 10), ("int -3..3", 7)])
def test_exceptions_are_coded_among_the_output_domain(output, values):
    """An exception names one of the other values of `Task.output_domain`: log2(|V| - 1) bits."""
    grammar = "bool -> true" if output == "bool" else f"{output.split()[0]} -> 1"
    column = np.arange(10) % 2 == 0 if output == "bool" else np.arange(10) % 4
    task = dsl.Task.from_arrays({"x": np.arange(10.0)}, column, types={"y": output}, grammar=grammar)
    assert task.output_domain.size == values
    code = DataCode(task, task.train, task.target_values)
    two = code.exception_bits(np.array([2]))[0] - code.exception_bits(np.array([1]))[0]
    choose = math.log2(math.comb(10, 2)) - math.log2(math.comb(10, 1))
    assert two == pytest.approx(choose + (math.log2(values - 1) if values > 2 else 0.0))


def test_an_unbounded_int_output_codes_exceptions_among_the_targets_span():
    """An int without a range has no finite domain: the code takes the training targets' span."""
    task = dsl.Task.from_arrays({"x": np.arange(4.0)}, np.array([5, -2, 9, 0]), types={"y": "int"}, grammar="int -> 1")
    assert task.output_domain is None
    code = DataCode(task, task.train, task.target_values)
    two = code.exception_bits(np.array([2]))[0] - code.exception_bits(np.array([1]))[0]
    assert two == pytest.approx(math.log2(math.comb(4, 2)) - math.log2(4) + math.log2(12 - 1))

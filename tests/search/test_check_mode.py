"""Past the memory budget: candidates are checked against the target, not kept."""

import math

import numpy as np
import pytest

import dsl
import search
from search import kernels

from .cases import task_of

KOZA = """task t {
    input x: real -1..1
    output real
    target x * x * x + x * x + x
    sample 20 uniform seed 3
    grammar koza
}"""

PARITY = """task t {
    input a, b, c, d: bool
    output bool
    target a ^ b ^ c ^ d
    grammar { bool -> a, b, c, d, not bool, bool and bool, bool or bool, bool ^ bool }
}"""

INTS = """task t {
    input a, b: int 0..9
    output int
    target (a + b) * (a - b) + a
    grammar { int -> a, b, 1, int + int, int - int, int * int }
}"""


@pytest.mark.parametrize("text", [KOZA, PARITY, INTS], ids=["koza", "packed parity", "ints"])
def test_checking_finds_the_same_shortest_fit(text):
    task = task_of(text)
    free = search.synthesize(task, posterior_window=0, inverse=False)
    assert free.status == "solved" and free.certified and free.stats.checked == 0
    budget = free.stats.peak_bank_bytes / 4 / 2**20  # a quarter of what the free search kept
    tight = search.synthesize(task, posterior_window=0, inverse=False, max_memory_mb=budget)
    assert tight.stats.checked > 0, "the budget forces checking"
    assert tight.stats.peak_bank_bytes <= budget * 2**20 * 1.25  # rows within budget, tables within a doubling
    assert tight.best is not None and tight.best.fits_train
    fitted = dsl.evaluate(tight.best.program, task.env(task.train))
    assert np.allclose(fitted, task.target_values[task.train])
    assert tight.best.bits >= free.best.bits - 1e-9
    if tight.certified:  # certified only where checking covered every program
        assert tight.best.bits == pytest.approx(free.best.bits)
    else:
        assert tight.status == "memory"


def test_a_budget_too_small_for_any_fit_reports_memory():
    task = task_of(INTS)
    result = search.synthesize(task, posterior_window=0, inverse=False, max_memory_mb=0.005)
    assert result.status == "memory" and not result.certified and result.stats.checked > 0
    assert result.best is None or not result.best.fits_train


def test_check_kernel_hits_are_the_combinations_that_fit():
    rng = np.random.default_rng(0)
    rows = rng.integers(-5, 6, size=(40, 7)).astype(np.int64)
    target = rows[3] + rows[11]
    sweep = kernels.Sweep(0, 40, 0, 40, 0, 1, start=0, stop=40 * 40, symmetric=True)
    rules = kernels.RowRules(64, False, False, np.zeros(7, np.uint8))
    columns = np.arange(7, dtype=np.int64)
    hits = np.empty((1024, 3), dtype=np.int64)
    position, found, candidates = kernels.check(dsl.Op.ADD_I, rows, rows, rows[:1], sweep, rules, columns, target,
                                                np.zeros(7, np.int64), kernels.EXACT, hits)  # fmt: skip
    expected = {(i, j) for i in range(40) for j in range(i, 40) if np.array_equal(rows[i] + rows[j], target)}
    assert position == 40 * 40 and candidates == 40 * 41 // 2
    assert {(int(i), int(j)) for i, j, _ in hits[:found]} == expected and (3, 11) in expected


def test_check_kernel_real_tolerance_rejects_nan():
    rows = np.array([[1.0, np.nan], [2.0, 1.0], [0.5, 0.5]])
    sweep = kernels.Sweep(0, 3, 0, 3, 0, 1, start=0, stop=9, symmetric=False)
    rules = kernels.RowRules(64, False, False, np.zeros(2, np.uint8))
    hits = np.empty((16, 3), dtype=np.int64)
    target = np.array([2.5, 1.5])
    _, found, _ = kernels.check(dsl.Op.ADD_R, rows, rows, rows[:1], sweep, rules, np.arange(2, dtype=np.int64),
                                target, np.full(2, 1e-9), kernels.TOLERANCE, hits)  # fmt: skip
    assert {(int(i), int(j)) for i, j, _ in hits[:found]} == {(1, 2), (2, 1)}
    assert math.isnan(rows[0, 1])

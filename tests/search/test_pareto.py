"""The Pareto front of `search.synthesize` (`result.pareto`, docs/search.md).

The front is description length against data bits: a row is listed when it needs fewer data bits
than every shorter program the search scored, with up to `pareto_k` programs of its length
that tie with it. So no listed row is dominated by another (fewer-or-equal bits and fewer-or-equal
data bits, one strictly), and no row has infinite data bits (a program that cannot code the data
explains nothing). On small grammars enumerated to a bound, the front is compared with the one
computed from every function the reference enumerator (search/reference.py) derives.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
import search
from search.mdl import DataCode
from search.reference import reference_functions

from .cases import CASES, Case, same_bits, task_of, values_at

SYNTH = {"max_seconds": 30.0, "max_memory_mb": 256.0}

# The examples: on a noisy modular task `a + 23` was listed beside `a`, which has fewer
# bits and fewer data bits; on a noisy Boolean task a row of infinite data bits was listed.
NOISY_MOD = """task noisy_mod {
    input a, b: int 0..12
    output int 0..12
    target (a + b) % 13
    grammar { int -> a, b, 0, 1, 13, int + int, int - int, int * int, int % int }
    split train 60% seed 0
    noise label 10% seed 1
}"""
NOISY_BOOL = """task noisy_bool {
    input x, y, z, w: bool
    output bool
    target not x and (y or z)
    grammar { bool -> x, y, z, w, not bool, bool and bool, bool or bool }
    noise label 10% seed 1
}"""
NOISY_REAL = """task noisy_real {
    input x: real -2..2
    output real
    target x * x - x
    grammar { real -> x, 1, 0.5, real + real, real - real, real * real, -real }
    sample 9 grid
    noise gaussian 0.25 seed 2
}"""


def dominates(a: search.Candidate, b: search.Candidate) -> bool:
    return (a.bits <= b.bits + 1e-9 and a.data_bits <= b.data_bits
            and (a.bits < b.bits - 1e-9 or a.data_bits < b.data_bits))  # fmt: skip


def assert_is_a_front(result: search.SynthesisResult) -> None:
    rows = result.pareto
    assert rows, "the front is never empty when a candidate was scored"
    for row in rows:
        assert math.isfinite(row.data_bits), f"{row.program}: infinite data bits"
    for a in rows:
        for b in rows:
            assert not dominates(a, b), (f"{a.program} ({a.bits:.2f}, {a.data_bits:.2f}) dominates "
                                         f"{b.program} ({b.bits:.2f}, {b.data_bits:.2f})")  # fmt: skip
    assert [row.bits for row in rows] == sorted(row.bits for row in rows)


@pytest.mark.parametrize("text", [NOISY_MOD, NOISY_BOOL, NOISY_REAL], ids=["mod", "bool", "real"])
def test_the_front_of_a_noisy_task_has_no_dominated_row(text):
    result = search.synthesize(task_of(text), max_bits=20.0, **SYNTH)
    assert_is_a_front(result)
    best = result.best
    assert any(row.program == best.program for row in result.pareto), "the least total bits is on the front"


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
@pytest.mark.parametrize("case", [case.param() for case in CASES if case.name != "template_past_one_batch"])
def test_the_front_of_an_exact_task_ends_at_its_shortest_fit(case, inverse):
    result = search.synthesize(case.task, max_bits=case.max_bits, inverse=inverse, **SYNTH)
    assert_is_a_front(result)
    last = result.pareto[-1]
    assert last.fits_train and last.data_bits == 0.0 and same_bits(last.bits, result.best.bits)


# --- against the reference -----------------------------------------------------------------------


def reference_front(task: dsl.Task, max_bits: float, k: int) -> list[tuple[float, float, int]]:
    """(bits, data bits, number of rows) per length of the front, from every function of at most
    `max_bits` the reference derives, each at the least bits of its programs."""
    code = DataCode(task, np.asarray(task.train), task.target_values)
    by_length: dict[float, list[float]] = defaultdict(list)
    for found in reference_functions(task, max_bits=max_bits).values():
        data = float(code.bits(values_at(found.program, task)[None, :])[0])
        by_length[round(found.bits, 9)].append(data)
    front, least = [], math.inf
    for bits in sorted(by_length):
        data = min(by_length[bits])
        if data < least:
            least = data
            front.append((bits, data, min(k, by_length[bits].count(data))))
    return front


def noisy(case: Case, noise: str) -> str:
    """The case with noise; label noise needs a ranged output (every case's targets are in it)."""
    text = case.text.replace("output int\n", "output int -30..30\n")
    return text.replace("split", f"{noise}\n        split", 1)


NOISY_CASES = [
    pytest.param(noisy(case, noise), case.max_bits - 1, id=case.name)
    for case in CASES
    for noise in ["noise gaussian 0.5 seed 1" if case.name == "reals_exact" else "noise label 25% seed 1"]
    if case.name in ("bool", "int_ranges", "u8_wraparound", "weighted", "mixed_compare_if", "reals_exact")
]


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize(("text", "bound"), NOISY_CASES)
def test_the_front_is_the_reference_front(text, bound, k):
    task = task_of(text)
    assert task.noise is not None
    # An infinite window: with noise the search would otherwise stop once no program to come can
    # beat the least total bits, before the bound that the reference front is computed to.
    result = search.synthesize(task, max_bits=bound, pareto_k=k, inverse=False, posterior_window=math.inf, **SYNTH)
    assert result.status == "bits", "every program up to the bound was scored"
    expected = reference_front(task, bound, k)
    listed: dict[float, list[search.Candidate]] = defaultdict(list)
    for row in result.pareto:
        listed[round(row.bits, 9)].append(row)
    assert [(bits, rows[0].data_bits, len(rows)) for bits, rows in listed.items()] == expected
    code = DataCode(task, np.asarray(task.train), task.target_values)
    for row in result.pareto:
        assert same_bits(dsl.description_length(row.program, task.grammar), row.bits), str(row.program)
        assert float(code.bits(values_at(row.program, task)[None, :])[0]) == row.data_bits, str(row.program)
    assert len({str(row.program) for row in result.pareto}) == len(result.pareto)


NOISES = st.sampled_from(["noise label 10%", "noise label 30%", "noise label 50%"])


@st.composite
def noisy_tasks(draw) -> dsl.Task:
    """Small noisy Boolean and integer tasks of random targets, grammars and splits."""
    if draw(st.booleans()):
        inputs, output = "input a, b, c: bool", "bool"
        leaves = draw(st.lists(st.sampled_from(["a", "b", "c", "true"]), min_size=1, max_size=4, unique=True))
        operations = ["not bool", "bool and bool", "bool or bool", "bool ^ bool"]
        target = draw(st.sampled_from(["a and b", "a ^ b ^ c", "not a or c", "(a or b) and c"]))
    else:
        inputs, output = "input a, b: int 0..4", "int 0..9"
        leaves = draw(st.lists(st.sampled_from(["a", "b", "1", "2"]), min_size=1, max_size=4, unique=True))
        operations = ["int + int", "int * int", "int - int", "int % 5", "min(int, int)"]
        target = draw(st.sampled_from(["a + b", "a * b % 10", "max(a, b) + 1", "(a + 2 * b) % 10"]))
    chosen = draw(st.lists(st.sampled_from(operations), min_size=1, max_size=3, unique=True))
    noise, seed = draw(NOISES), draw(st.integers(0, 5))
    return task_of(f"""task t {{
        {inputs}
        output {output}
        target {target}
        grammar {{ {output.split()[0]} -> {", ".join(leaves + chosen)} }}
        noise {noise.split(" ", 1)[1]} seed {seed}
    }}""")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=noisy_tasks(), k=st.integers(1, 4))
def test_the_front_has_no_dominated_row_on_random_noisy_tasks(task, k):
    result = search.synthesize(task, max_bits=14.0, pareto_k=k, **SYNTH)
    if result.best is None or not math.isfinite(result.best.data_bits):
        assert all(math.isfinite(row.data_bits) for row in result.pareto)
        return
    assert_is_a_front(result)
    lengths = defaultdict(int)
    for row in result.pareto:
        lengths[round(row.bits, 9)] += 1
    assert max(lengths.values()) <= k


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
def test_a_fit_no_bank_holds_ends_the_front(inverse):
    """Past the memory budget the output's candidates are only checked against the target, and
    inversion reaches past the banks: the shortest fit so found is on the front all the same."""
    task = task_of("""task t {
        input x, y: int 0..7
        output int
        target (x + 1) * (y + 1) * x
        grammar { int -> x, y, 1, int + int, int - int, int * int, int % int }
    }""")
    # Small enough that the banks fill before the fit (0.2 MB solves it), large enough that the
    # banks' share of it holds what inversion needs.
    result = search.synthesize(task, max_memory_mb=0.08, max_seconds=2.0, inverse=inverse)
    assert result.status == "memory" and result.best.fits_train
    assert_is_a_front(result)
    last = result.pareto[-1]
    assert last.program == result.best.program and last.fits_train and last.data_bits == 0.0

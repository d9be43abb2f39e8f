"""The enumerator and `search.synthesize` against the reference enumerator (search/reference.py).

The reference derives every program of a small grammar up to a bound and keeps, per distinct
function, its least bits. The enumerator must keep exactly those functions, each at those bits
(for every type of the grammar, on all points and on the training points); `synthesize` must
find a program of the reference's minimal fitting bits, whose bits are its description length
and which fits under the reference evaluator; its posterior must be the reference's.

Reals are compared function by function only on grammars where the 32-bit equivalence rounding
cannot split a function (cases.py, `exact_reals`): elsewhere two programs whose values differ
in the last bits share a key, the enumerator keeps one of them, and their parents may then fall
on either side of a rounding boundary (`x - log(exp(x))` is 0 to the key, or not), and numpy's
SIMD `exp` differs from the C library's in the last ulp. On those grammars (the Koza set) only
the minimal fitting bits are compared.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
import search
from search import enumerate as enumeration
from search.enumerate import Budget, Enumerator, Stop
from search.kernels import round_reals
from search.reference import (
    derivations,
    function_key,
    real_key_bits,
    reference_fits,
    reference_functions,
    reference_minimal,
    reference_posterior,
)
from search.space import build_space

from .cases import CASES, EXACT_CASES, Case, run_enumerator, same_bits, task_of, values_at

SYNTH = {"max_seconds": 30.0, "max_memory_mb": 256.0}  # generous: the tasks take milliseconds


@functools.cache
def minimal_of(case: Case):
    return reference_minimal(case.task, max_bits=case.max_bits)


def fits_under_reference(program: dsl.Expr, task: dsl.Task) -> bool:
    predicted = values_at(program, task, task.train)
    return reference_fits(predicted, task.target_values[task.train], task.output_type.kind)


# --- the oracle itself -------------------------------------------------------------------------


def test_reference_derives_every_program_counted_by_hand():
    task = task_of(
        "task t {\n input x: int 0..3\n output int\n target x\n grammar { int -> x, 1, int + int }\n}"
    )
    three = 3 * math.log2(3)  # a sum of two leaves: three choices of probability 1/3
    found = sorted(
        (str(f.program), f.bits) for f in derivations(task.grammar, task.output_type, max_bits=three)
    )
    assert [text for text, _ in found] == ["1", "1 + 1", "1 + x", "x", "x + 1", "x + x"]
    assert all(same_bits(bits, math.log2(3) if "+" not in text else three) for text, bits in found)
    functions = reference_functions(task, max_bits=three)
    assert sorted(functions) == sorted([(0, 1, 2, 3), (1, 1, 1, 1), (0, 2, 4, 6), (1, 2, 3, 4), (2, 2, 2, 2)])
    assert same_bits(functions[(1, 2, 3, 4)].bits, three)
    assert len(list(derivations(task.grammar, task.output_type, max_bits=three - 1e-6))) == 2


def test_reference_weights_are_exact_fractions_of_the_rule():
    grammar = "int -> x [3], 1 [0.5], -int [0.5]"
    task = task_of(f"task t {{\n input x: int 0..3\n output int\n target x\n grammar {{ {grammar} }}\n}}")
    (negation,) = [
        f for f in derivations(task.grammar, task.output_type, max_bits=4) if str(f.program) == "-x"
    ]
    assert negation.probability == Fraction(1, 8) * Fraction(3, 4)
    assert same_bits(negation.bits, 5 - math.log2(3))


@pytest.mark.parametrize(
    "case",
    [case.param() for case in CASES if case.name in ("bool", "u8_wraparound", "weighted", "templates")],
)
def test_reference_keeps_each_function_at_its_description_length(case):
    task = case.task
    for key, found in reference_functions(task, max_bits=case.max_bits - 2).items():
        assert same_bits(dsl.description_length(found.program, task.grammar), found.bits), str(found.program)
        assert function_key(values_at(found.program, task), task.output_type.kind) == key


def test_reference_rounding_is_the_kernels_rounding():
    edges = [0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan, -math.nan, 1e308,
             -1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 1 + 2**-33, 1 + 2**-34, 1 + 3 * 2**-34,
             1 - 2**-34, math.pi]  # fmt: skip
    rng = np.random.default_rng(0)
    values = np.concatenate([edges, rng.normal(size=200) * 10.0 ** rng.integers(-300, 300, size=200)])
    np.testing.assert_array_equal(real_key_bits(values), round_reals(values[None, :])[0].view(np.uint64))
    keys = real_key_bits(np.array([math.nan, -math.nan, 0.0, -0.0, 1.0, 1 + 2**-40, 1 + 2**-30]))
    assert keys[0] == keys[1] and keys[2] == keys[3] == 0 and keys[4] == keys[5] != keys[6]


# --- (a) the enumerator keeps exactly the reference's functions -----------------------------------


@pytest.mark.parametrize("equivalence", ["all", "train"])
@pytest.mark.parametrize("case", EXACT_CASES)
def test_enumerator_keeps_exactly_the_reference_functions(case, equivalence):
    assert_keeps_exactly_the_reference_functions(case, equivalence)


def assert_keeps_exactly_the_reference_functions(case: Case, equivalence: str) -> None:
    task = case.task
    run = run_enumerator(task, case.max_bits, equivalence)
    assert run.stop == "bits", "the grammars are infinite: the bound, not exhaustion, ends the enumeration"
    space = run.enumerator.space
    mask = None if equivalence == "all" else task.train
    for type_index, type_ in enumerate(space.types):
        reference = reference_functions(task, max_bits=case.max_bits, equivalence=equivalence, type_=type_,
                                        drop_nan=space.drop_nan)  # fmt: skip
        kept = run.functions[type_index]
        missing = [str(reference[key].program) for key in reference.keys() - kept.keys()]
        extra = [str(kept[key][1]) for key in kept.keys() - reference.keys()]
        assert not missing and not extra, f"{type_}: missing {missing[:5]}, extra {extra[:5]}"
        for key, (bits, program) in kept.items():
            assert same_bits(bits, reference[key].bits), f"{program}: {bits} bits, reference {reference[key]}"
            assert same_bits(dsl.description_length(program, task.grammar), bits), str(program)
            assert function_key(values_at(program, task, mask), type_.kind) == key, f"bank row of {program}"


TEMPLATE_CASES = [
    case.param()
    for case in CASES
    if case.exact_reals and case.name != "template_past_one_batch"  # past one batch without help
    and any(not c.is_leaf and not c.is_simple for c in build_space(case.task).choices)
]


def test_a_template_combination_runs_past_one_batch():
    """The differential tests reach a template combination larger than one batch of the
    composite evaluation (CHUNK // points), where a crash once hid (issue 9, defect 0)."""
    (case,) = [case for case in CASES if case.name == "template_past_one_batch"]
    for equivalence in ("all", "train"):
        run = run_enumerator(case.task, case.max_bits, equivalence)
        space = run.enumerator.space
        (template,) = [c for c in space.choices if not c.is_leaf and not c.is_simple]
        leaves = run.enumerator.banks[template.type_index].levels[0]
        assert leaves.size ** len(template.holes) > enumeration.CHUNK // space.n_points
        assert template.bits + len(template.holes) * leaves.bits <= case.max_bits, "that combination is run"


@pytest.mark.parametrize("equivalence", ["all", "train"])
@pytest.mark.parametrize("case", TEMPLATE_CASES)
def test_templates_in_many_batches_keep_exactly_the_reference_functions(case, equivalence, monkeypatch):
    """Template combinations over levels of several sizes, split into batches of five programs."""
    assert len(TEMPLATE_CASES) >= 2
    monkeypatch.setattr(enumeration, "CHUNK", 5 * build_space(case.task, equivalence=equivalence).n_points)
    assert_keeps_exactly_the_reference_functions(case, equivalence)


def test_a_template_grammar_of_the_issue_is_solved():
    """A Hacker's-Delight-style template grammar on all 256 points of a u8 (issue 9, defect 0)."""
    task = task_of("""task t {
        input x: u8
        output u8
        target ((x + 3) & (x ^ 5)) | 1
        grammar { u8 -> x, 1, 3, 5, u8 | u8, u8 ^ u8, (u8 + u8) & u8 }
    }""")
    result = search.synthesize(task, **SYNTH)
    assert result.status == "solved" and result.certified
    assert same_bits(result.best.bits, dsl.description_length(task.target, task.grammar))
    np.testing.assert_array_equal(values_at(result.best.program, task), task.target_values)


@pytest.mark.parametrize("max_memory_mb", [0.05, 256.0], ids=["checked", "kept"])
def test_a_template_of_four_holes_is_solved(max_memory_mb):
    """Four holes, more than the kernels' three children per row; past the memory budget (a
    few rows) the template's candidates are only checked, and the fit is rebuilt from its four
    children."""
    task = task_of("""task t {
        input x: u8
        output u8
        target (x + 3) & (x ^ 5)
        grammar { u8 -> x, 1, 3, 5, (u8 + u8) & (u8 ^ u8), u8 | u8 }
    }""")
    result = search.synthesize(task, max_seconds=30.0, max_memory_mb=max_memory_mb, inverse=False)
    assert result.status == "solved" and result.certified and result.best.fits_train
    assert same_bits(result.best.bits, dsl.description_length(task.target, task.grammar))
    np.testing.assert_array_equal(values_at(result.best.program, task), task.target_values)
    assert result.stats.checked > 0 if max_memory_mb < 1 else result.stats.checked == 0


def test_programs_nan_at_a_training_point_are_dropped_only_without_absorbing_operations():
    (dropping,) = [case for case in CASES if case.name == "reals_nan_dropped"]
    (keeping,) = [case for case in CASES if case.name == "mixed_reals_if"]
    task = dropping.task
    assert build_space(task).drop_nan
    everything = reference_functions(task, max_bits=dropping.max_bits)
    kept = run_enumerator(task, dropping.max_bits).functions[build_space(task).output_index]
    assert len(kept) < len(everything), "the case makes functions NaN at training points"
    task = keeping.task
    space = build_space(task)
    assert not space.drop_nan, "`<` and `if` can turn a NaN into a number"
    kept = run_enumerator(task, keeping.max_bits).functions[space.output_index]
    assert any(np.isnan(values_at(program, task)).any() for _, program in kept.values())


def test_enumeration_without_a_memory_limit():
    """`Budget()` without max_memory_bytes must not reserve more memory than the machine has."""
    (case,) = [case for case in CASES if case.name == "int_ranges"]
    enumerator = Enumerator(build_space(case.task), Budget(max_bits=8.0))
    with pytest.raises(Stop, match="bits"):
        for _ in enumerator.levels():
            pass
    assert enumerator.distinct > 0


# --- (b) synthesize finds the reference's minimum ------------------------------------------------


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
@pytest.mark.parametrize("equivalence", ["all", "train"])
@pytest.mark.parametrize("case", [case.param() for case in CASES])
def test_synthesize_finds_the_reference_minimum(case, equivalence, inverse):
    task = case.task
    minimal = minimal_of(case)
    assert minimal is not None, "each case's target is within its bound"
    result = search.synthesize(
        task, max_bits=case.max_bits, equivalence=equivalence, inverse=inverse, **SYNTH
    )
    best = result.best
    assert result.status in ("solved", "bits") and best.fits_train and result.certified
    assert same_bits(best.bits, minimal.bits), (
        f"found {best.program} ({best.bits}), reference {minimal.program}"
    )
    assert same_bits(dsl.description_length(best.program, task.grammar), best.bits)
    assert fits_under_reference(best.program, task)


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
def test_synthesize_certifies_nothing_past_the_bound(inverse):
    """No program within max_bits fits: the enumeration stops at the bound. Inversion may still
    meet a longer fit (it reaches past the bank), but cannot certify it."""
    (case,) = [case for case in CASES if case.name == "int_ranges"]
    task = case.task
    bound = minimal_of(case).bits - 1
    assert reference_minimal(task, max_bits=bound) is None
    result = search.synthesize(task, max_bits=bound, inverse=inverse, **SYNTH)
    assert result.status == "bits" and not result.certified
    assert result.best is not None
    if result.best.fits_train:
        assert inverse and result.best.bits > bound
        assert result.best.bits >= minimal_of(case).bits - 1e-9
        assert same_bits(dsl.description_length(result.best.program, task.grammar), result.best.bits)
        assert fits_under_reference(result.best.program, task)


POSTERIOR_TASKS = [
    pytest.param(
        """task t {
        input a, b, c: bool
        output bool
        target a and (b or c)
        grammar { bool -> a, b, c, not bool, bool and bool, bool or bool }
        split train 2 seed 3
    }""",
        7.0,
        id="bool",
    ),
    pytest.param(
        """task t {
        input x, y: int 0..3
        output int
        target x * y
        grammar { int -> x, y, 1, int + int, int * int, int - int }
        split train 3 seed 0
    }""",
        6.0,
        id="int",
    ),
    pytest.param(
        """task t {
        input x, y: int 0..3
        output int
        target x * y
        grammar { int -> x [2], y, 1 [0.5], int + int [1.5], int * int }
        split train 3 seed 1
    }""",
        7.0,
        id="weighted",
    ),
]


@functools.cache
def _reference_posterior(text: str, window: float) -> tuple[float, dict[tuple[int, ...], float]]:
    """The bound to enumerate to (shortest fit + window) and the reference posterior."""
    task = task_of(text)
    bound = reference_minimal(task, max_bits=20).bits + window + 1e-9
    return bound, reference_posterior(task, max_bits=bound, window=window)


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
@pytest.mark.parametrize(("text", "window"), POSTERIOR_TASKS)
def test_posterior_is_the_reference_posterior(text, window, inverse):
    task = task_of(text)
    bound, reference = _reference_posterior(text, window)
    assert len(reference) > 1, "a posterior of more than one function"
    result = search.synthesize(task, posterior_window=window, max_bits=bound, inverse=inverse, **SYNTH)
    weights: dict[tuple[int, ...], float] = defaultdict(float)
    for entry in result.posterior.entries:
        assert same_bits(entry.bits, dsl.description_length(entry.program, task.grammar)), str(entry.program)
        assert fits_under_reference(entry.program, task)
        weights[function_key(values_at(entry.program, task), task.output_type.kind)] += entry.weight
    assert len(weights) == len(result.posterior.entries), "one entry per distinct function"
    assert weights.keys() == reference.keys()
    for key, weight in reference.items():
        assert weights[key] == pytest.approx(weight, abs=1e-9)


# --- (c) determinism ---------------------------------------------------------------------------


def _comparable(result: search.SynthesisResult) -> dict:
    """The result as JSON without its clock readings (CPU seconds, rates)."""
    data = result.to_json()
    data["stats"] = {name: value for name, value in data["stats"].items() if "second" not in name}
    return data


@pytest.mark.parametrize("name", ["mixed_reals_if", "templates", "koza_inexact"])
def test_two_runs_give_identical_results(name):
    (case,) = [case for case in CASES if case.name == name]
    first, second = (search.synthesize(case.task, max_bits=case.max_bits, **SYNTH) for _ in range(2))
    assert _comparable(first) == _comparable(second)
    assert [e.program for e in first.posterior.entries] == [e.program for e in second.posterior.entries]
    assert [candidate.program for candidate in first.pareto] == [c.program for c in second.pareto]


def test_two_enumerations_keep_the_same_rows():
    (case,) = [case for case in CASES if case.name == "unary_commutative"]
    runs = [run_enumerator(case.task, case.max_bits) for _ in range(2)]
    banks = [run.enumerator.banks for run in runs]
    for first, second in zip(*banks):
        assert first.size == second.size
        assert [level.size for level in first.levels] == [level.size for level in second.levels]
        np.testing.assert_array_equal(first.values[: first.size], second.values[: second.size])
        np.testing.assert_array_equal(first.children[: first.size], second.children[: second.size])


# --- (d) budgets -------------------------------------------------------------------------------

BIG = """task t {
    input x, y: int 0..7
    output int
    target x * x * y + y * 7 - x * (y + 1) * (x + y)
    grammar { int -> x, y, 1, int + int, int - int, int * int, int % int, int // int }
    split train 50% seed 0
}"""


def _a_result(result: search.SynthesisResult) -> None:
    assert isinstance(result, search.SynthesisResult)
    assert isinstance(result.to_json(), dict)
    if result.posterior.entries:
        assert sum(entry.weight for entry in result.posterior.entries) == pytest.approx(1.0)


def test_max_bits_stops_the_search():
    result = search.synthesize(task_of(BIG), max_bits=12.0, max_seconds=30.0)
    assert result.status == "bits"
    _a_result(result)
    assert result.stats.levels and max(level["bits"] for level in result.stats.levels) <= 12.0


def test_max_seconds_stops_the_search():
    result = search.synthesize(task_of(BIG), max_seconds=1e-4)
    assert result.status == "time"
    _a_result(result)


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
def test_max_memory_stops_the_search(inverse):
    # With the banks full, inversion spends the time left on longer contexts: give it a second.
    result = search.synthesize(task_of(BIG), max_memory_mb=0.05, max_seconds=1.0, inverse=inverse)
    assert result.status == "memory"
    _a_result(result)
    assert result.stats.peak_bank_bytes <= 0.05 * 2**20


def test_ctrl_c_stops_the_search():
    def interrupt(progress: search.Progress) -> None:
        if progress.level_bits > 6:
            raise KeyboardInterrupt

    result = search.synthesize(task_of(BIG), max_seconds=30.0, progress=interrupt)
    assert result.status == "interrupted"
    _a_result(result)


# --- (e) random tasks --------------------------------------------------------------------------

RANDOM_GRAMMARS = {
    "int": ("input x, y: int 0..3", "int", "int -> x, y, 1, int + int, int - int, int * int, int % int"),
    "u4": ("input x, y: u4", "u4", "u4 -> x, y, 1, u4 + u4, u4 ^ u4, u4 & u4, ~u4, u4 >> 1"),
    "bool": ("input a, b, c: bool", "bool",
             "bool -> a, b, c, not bool, bool and bool, bool or bool, bool ^ bool"),
    "mixed": ("input x, y: int 0..2", "int",
              "int -> x, y, 1, int + int, if(bool, int, int)\n bool -> int < int, int == int, not bool"),
}  # fmt: skip


@functools.cache
def _targets(kind: str) -> list[str]:
    """Programs of the grammar up to 12 bits, as text (the random tasks' targets)."""
    inputs, output, rules = RANDOM_GRAMMARS[kind]
    task = task_of(
        f"task t {{\n {inputs}\n output {output}\n target {_first_input(inputs)}\n grammar {{ {rules} }}\n}}"
    )
    return sorted(
        {str(found.program) for found in derivations(task.grammar, task.output_type, max_bits=12.0)}
    )


def _first_input(inputs: str) -> str:
    return inputs.split()[1].rstrip(",:")


@st.composite
def random_tasks(draw) -> dsl.Task:
    kind = draw(st.sampled_from(sorted(RANDOM_GRAMMARS)))
    inputs, output, rules = RANDOM_GRAMMARS[kind]
    target = draw(st.sampled_from(_targets(kind)))
    task = task_of(f"task t {{\n {inputs}\n output {output}\n target {target}\n grammar {{ {rules} }}\n}}")
    train = draw(st.integers(1, task.n_points))
    seed = draw(st.integers(0, 2**16))
    return task_of(f"task t {{\n {inputs}\n output {output}\n target {target}\n grammar {{ {rules} }}\n"
                   f" split train {train} seed {seed}\n}}")  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=random_tasks(), equivalence=st.sampled_from(["all", "train"]), inverse=st.booleans())
def test_synthesize_is_never_longer_than_the_reference_on_random_tasks(task, equivalence, inverse):
    minimal = reference_minimal(task, max_bits=dsl.description_length(task.target, task.grammar) + 1e-9)
    assert minimal is not None, "the target itself fits"
    result = search.synthesize(task, max_bits=12.5, posterior_window=2.0, equivalence=equivalence,
                               inverse=inverse, **SYNTH)  # fmt: skip
    best = result.best
    assert best is not None and best.fits_train and result.certified
    assert best.bits <= minimal.bits + 1e-9 and same_bits(best.bits, minimal.bits)
    assert fits_under_reference(best.program, task)
    entries = result.posterior.entries
    assert sum(entry.weight for entry in entries) == pytest.approx(1.0)
    assert all(entry.weight >= 0 for entry in entries)
    predicted = result.predict(task.env())
    assert predicted.shape == (task.n_points,) and predicted.dtype == task.output_type.dtype

"""The relaxed searcher on int and bit-vector grammars (search/relaxed/soft.py): the soft tree
against the reference evaluator at one-hot choices over every integer row with a soft form,
expected bits against `dsl.description_length`, gradients, refusals, the data loss, and planted
bit-vector programs recovered end to end."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl import PRIMITIVES, Apply

torch = pytest.importorskip("torch")

import search  # noqa: E402
from search.relaxed import build_tree  # noqa: E402
from search.relaxed import soft  # noqa: E402
from search.synthesize import fits  # noqa: E402


def task_of(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


# Between them, the grammars use every integer row with a soft form on every type it has one on
# (test_the_grammars_cover_every_soft_form), and mix the types: bool slots of integer
# comparisons, `if` over integers, conversions in both directions.
UNSIGNED = """task u { input x, y: u8  input w: i8  output u8  target x & (x - y)  sample 24 uniform seed 1
    grammar { u8 -> x, y, 0, 1, 7, u8 + u8, u8 - u8, -u8, u8 * u8, ~u8, u8 & u8, u8 | u8, u8 ^ u8,
                    u8 >> u8, u8 << u8, abs(u8), min(u8, u8), max(u8, u8), if(bool, u8, u8),
                    popcount(u8), u8(i8)
              bool -> u8 < u8, u8 <= u8, u8 == u8, u8 != u8
              i8 -> w, 3, i8 - i8 } }"""
SIGNED = """task s { input x: i8  input y: u8  output i8  target x >> 1  sample 24 uniform seed 2
    grammar { i8 -> x, 1, 7, i8 >> i8, i8 << i8, -i8, i8 + i8, i8 * i8, abs(i8), popcount(i8), i8(u8),
                    min(i8, i8), max(i8, i8), if(bool, i8, i8), i8 ^ i8
              bool -> i8 < i8, i8 <= i8, i8 == i8, i8 != i8
              u8 -> y, u8 - u8, u8(int)
              int -> int(i8), 200, int + int } }"""
INTEGER = """task i { input a, b: int -20..20  input p: bool  input c: u8  input r: real -5..5
    output int  target a + b  sample 24 uniform seed 3
    grammar { int -> a, b, 0, 1, 3, int + int, int - int, -int, int * int, int // int, int % int, ~int,
                     int & int, int | int, int ^ int, int >> int, int << int, abs(int), min(int, int),
                     max(int, int), if(bool, int, int), int(bool), int(u8), int(real)
              bool -> int < int, int <= int, int == int, int != int, p
              u8 -> u8(int), u8 + u8, c
              real -> real(int), real(u8), r } }"""
GRAMMARS = {"unsigned": UNSIGNED, "signed": SIGNED, "integer": INTEGER}


@functools.cache
def tree_of(name: str, depth: int):
    task = task_of(GRAMMARS[name])
    return task, build_tree(task, depth)


def inputs_of(task: dsl.Task) -> dict:
    return {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env().items()}


def one_hot(tree, choices: list[np.ndarray]) -> list:
    return [torch.nn.functional.one_hot(torch.tensor(c), len(slot.alternatives)).to(torch.float64)
            for c, slot in zip(choices, tree.slots)]  # fmt: skip


def reference_soft(program: dsl.Expr, task: dsl.Task) -> np.ndarray:
    """The reference's values in the soft tree's representation: bits (P, N) for a bit-vector."""
    values = np.asarray(dsl.evaluate(program, task.env(), size=task.n_points))
    if program.type.is_bitvector:
        return ((values.astype(np.int64)[:, None] >> np.arange(program.type.width)) & 1).astype(np.float64)
    return values.astype(np.float64)


def test_the_grammars_cover_every_soft_form():
    used = set()
    for text in GRAMMARS.values():
        for rule in task_of(text).grammar.rules:
            for alternative in rule.alternatives:
                for node in alternative.template.walk():
                    integer = soft._integer_type(node) if isinstance(node, Apply) else None
                    if integer is not None:
                        used.add((node.op, integer.is_bitvector))
    forms = {(op, True) for op, form in soft._ON_BITS.items() if form is not None}
    forms |= {(op, False) for op, form in soft._ON_INT.items() if form is not None}
    assert forms <= used, sorted(forms - used)


@pytest.mark.parametrize("name", sorted(GRAMMARS))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_one_hot_soft_tree_equals_the_reference_evaluator(name, seed):
    task, tree = tree_of(name, 3)
    rng = np.random.default_rng(seed)
    restarts = 24
    choices = [rng.integers(len(slot.alternatives), size=restarts) for slot in tree.slots]
    values, _, dirty = tree.forward(one_hot(tree, choices), inputs_of(task), task.n_points)
    compared = 0
    for restart in range(restarts):
        program = tree.discretize(choices, restart)
        reference = reference_soft(program, task)
        clean = dirty[restart].numpy() == 0  # bit-vectors never dirty; int: |v| > 2^52 (soft.EXACT_INT)
        if task.output_type.is_bitvector:
            assert clean.all()
        np.testing.assert_array_equal(values[restart].numpy()[clean], reference[clean], err_msg=str(program))
        compared += int(clean.sum())
    assert compared > restarts * task.n_points // 2


def test_random_programs_reach_the_rows_the_grammars_offer():
    """The differential test above is not vacuous: random one-hot trees do use the integer rows."""
    task, tree = tree_of("unsigned", 3)
    rng = np.random.default_rng(0)
    choices = [rng.integers(len(slot.alternatives), size=200) for slot in tree.slots]
    programs = [tree.discretize(choices, r) for r in range(200)]
    seen = {node.op for program in programs for node in program.walk() if isinstance(node, Apply)}
    assert {dsl.Op.ADD_I, dsl.Op.SUB_I, dsl.Op.MUL_I, dsl.Op.SHL, dsl.Op.SHR, dsl.Op.LT_I, dsl.Op.POPCOUNT,
            dsl.Op.CONVERT_I, dsl.Op.IF_I} <= seen  # fmt: skip


@pytest.mark.parametrize("name", ["hd01_rightmost_one_off", "hd09_abs", "mod_add_97", "hd10_nlz_equal"])
def test_expected_bits_at_one_hot_equals_description_length(name):
    task = dsl.load_task(name)
    tree = build_tree(task, 3)
    rng = np.random.default_rng(11)
    choices = [rng.integers(len(slot.alternatives), size=32) for slot in tree.slots]
    expected = tree.expected_bits(one_hot(tree, choices)).numpy()
    for restart in range(32):
        program = tree.discretize(choices, restart)
        assert expected[restart] == pytest.approx(tree.derivation_bits(choices, restart), abs=1e-9)
        assert expected[restart] == pytest.approx(dsl.description_length(program, task.grammar), abs=1e-9)


# Straight-through rows (// >> trunc) have no true gradient to check; their kinks aside, the
# others are smooth at generic soft values.
SMOOTH = {
    "bits": """task g { input x, y: u4  output u4  target x ^ y  sample 5 uniform seed 4
        grammar { u4 -> x, y, 1, u4 + u4, u4 - u4, u4 & u4, u4 ^ u4, u4 << u4, u4 * u4, if(bool, u4, u4),
                        popcount(u4)
                  bool -> u4 < u4, u4 == u4 } }""",
    "int": """task g { input a, b: int 0..9  output int  target a + b  sample 5 uniform seed 4
        grammar { int -> a, b, 3, int + int, int * int, int % int, int & int, if(bool, int, int), int(u4)
                  bool -> int < int, int == int
                  u4 -> u4(int), u4 + u4 } }""",
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_gradcheck_in_float64_on_a_small_tree(name):
    task = task_of(SMOOTH[name])
    tree = build_tree(task, 2)
    inputs = {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env().items()}
    target = torch.tensor(np.asarray(task.target_values, dtype=np.float64))
    generator = torch.Generator().manual_seed(0)
    shapes = [len(slot.alternatives) for slot in tree.slots]
    logits = [torch.randn(2, a, generator=generator, dtype=torch.float64, requires_grad=True) for a in shapes]

    def objective(*tensors):
        probabilities = [torch.softmax(t, dim=1) for t in tensors]
        values, penalty, _ = tree.forward(probabilities, inputs, task.n_points)
        return soft.integer_loss(torch, values, target) + tree.expected_bits(probabilities) + penalty

    assert torch.autograd.gradcheck(objective, tuple(logits))


def test_the_bit_loss_is_the_cross_entropy_of_the_target_bits():
    target = torch.tensor([5.0, 255.0, 0.0])
    bits = soft.to_bits(torch, target, 8)[None]
    assert soft.integer_loss(torch, bits, target).item() == pytest.approx(0, abs=1e-5)  # the floor's 1e-7s
    assert soft.integer_loss(torch, torch.full((1, 3, 8), 0.5), target).item() == pytest.approx(8.0)
    wrong = 1 - bits
    assert soft.integer_loss(torch, wrong, target).item() > 100  # every bit wrong: −log2(1e-7) each


def test_soft_bits_interpolate_between_integers_and_two_complement_negatives():
    bits = soft.to_bits(torch, torch.tensor([2.25, -1.0]), 4)
    assert bits[0].tolist() == [0.25, 1.0, 0.0, 0.0]  # 2 and 3, least significant bit first: 0100, 1100
    assert bits[1].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert torch.isnan(soft.to_bits(torch, torch.tensor([float("nan")]), 4)).all()


@pytest.mark.parametrize("grammar, refused", [
    ("{ u8 -> x, 1, u8 // u8 }", r"`//` on u8"), ("{ u8 -> x, 1, u8 % u8 }", r"`%` on u8"),
    ("{ u8 -> x, 1, u8 ** u8 }", r"`\*\*` on u8"),
    ("{ u8 -> x, u8(int)  int -> popcount(int), 1 }", "`popcount` on int"),
])  # fmt: skip
def test_rows_without_a_soft_form_are_refused_by_name(grammar, refused):
    task = task_of(f"task r {{ input x: u8  output u8  target x  grammar {grammar} }}")
    with pytest.raises(dsl.SearchError, match=f"no relaxation of {refused}"):
        build_tree(task, 3)


def test_every_integer_row_says_in_the_table_how_it_relaxes():
    for row in PRIMITIVES:
        if "I" not in row.args and row.result not in ("I", "int"):
            continue
        on_bits, on_int = soft._ON_BITS.get(row.op), soft._ON_INT.get(row.op)
        if row.relaxation == "none":
            assert on_bits is None and on_int is None, row.op
        elif row.relaxation == "surrogate":
            assert on_bits is None and on_int is not None and row.op in soft.INT_SURROGATES, row.op
        else:
            assert row.relaxation == "soft bits", row.op
            assert on_bits is not None or "I" not in row.args, row.op  # bool → int: no bit-vector operand
        if (on_bits is None) != (on_int is None) and row.relaxation != "none" and "I" in row.args:
            assert "none on" in row.relaxation_note, f"{row.op!r}: say which type is refused"


# --- the searcher ---------------------------------------------------------------------------

PLANTED = {
    "x & (x - 1)": """task p { input x: u8  output u8  target x & (x - 1)  sample 32 uniform seed 0
        grammar { u8 -> x, 1, u8 & u8, u8 - u8, u8 | u8 } }""",
    "(x & y) < x": """task p { input x, y: u8  output bool  target (x & y) < x  sample 32 uniform seed 0
        grammar { bool -> u8 < u8, u8 == u8, not bool
                  u8 -> x, y, u8 & u8, u8 ^ u8 } }""",
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_bitvector_program_is_recovered_with_a_fixed_seed(name):
    task = task_of(PLANTED[name])
    config = search.SearchConfig(method="relaxed", relaxed_depth=2, relaxed_steps=200, max_seconds=60)
    result = search.synthesize(task, config)
    assert result.status == "fitted" and result.best.fits_train
    predicted = dsl.evaluate(result.best.program, task.env(task.train), size=int(task.train.sum()))
    assert fits(predicted, task.target_values[task.train], task.output_type.kind)
    assert result.best.bits == dsl.description_length(task.target, task.grammar)
    assert 0 < result.stats.restart_success <= 1
    assert result.stats.surrogates == []  # everything exact in product logic


def test_the_result_lists_the_surrogates_its_grammar_used():
    task = task_of("""task m { input a, b: int 0..4  output int 0..4  target (a + b) % 5
        grammar { int -> a, b, 5, int + int, int % int, int & int } }""")
    result = search.synthesize(task, search.SearchConfig(method="relaxed", relaxed_depth=2, relaxed_steps=25,
                                                         relaxed_restarts=4))  # fmt: skip
    assert result.stats.surrogates == ["% on int", "& on int"]
    again = search.SynthesisResult.from_json(result.to_json(), task)
    assert again.stats.surrogates == result.stats.surrogates
    for candidate in result.pareto:  # every reported program is verified by the reference evaluator
        predicted = dsl.evaluate(candidate.program, task.env(task.train), size=int(task.train.sum()))
        assert candidate.fits_train == fits(predicted, task.target_values[task.train], "int")

"""Repair of the relaxed searcher's programs (search/relaxed/repair.py): one subtree replaced by a
bank program with the values it needs — checked against the reference evaluator, and on Boolean
grammars against a brute force over every (subtree, bank program) substitution."""

from __future__ import annotations

import numpy as np
import pytest

import dsl
import search
from search.synthesize import fits

torch = pytest.importorskip("torch")

from search.relaxed import build_tree  # noqa: E402
from search.relaxed.repair import Repairer, child_need  # noqa: E402


from tests.search.relaxed_cases import AND_OR, PLANTED, task_of  # noqa: E402
MAJORITY = """task m { input a, b, c: bool  output bool  target a and b or a and c or b and c  grammar boolean_xor }"""
MIXED = """task m { input x: real -1..1  input s, t: bool  output real  target if(s, x * x, x)
    sample 16 uniform seed 5
    grammar { real -> x, 0.5, real + real, real * real, if(bool, real, real), real(bool)
              bool -> s, t, not bool, bool and bool } }"""


@pytest.fixture(scope="module")
def repairers() -> dict[str, Repairer]:
    return {text: Repairer(task_of(text), max_seconds=60) for text in (PLANTED, AND_OR, MAJORITY, MIXED)}


def fits_by_reference(program: dsl.Expr, task: dsl.Task) -> bool:
    predicted = dsl.evaluate(program, task.env(task.train), size=int(task.train.sum()))
    return fits(np.asarray(predicted), task.target_values[task.train], task.output_type.kind)


def subtrees(program: dsl.Expr, path: tuple[int, ...] = ()):
    yield path, program
    if isinstance(program, dsl.Apply):
        for position, arg in enumerate(program.args):
            yield from subtrees(arg, (*path, position))


def replaced(program: dsl.Expr, path: tuple[int, ...], new: dsl.Expr) -> dsl.Expr:
    if not path:
        return new
    args = list(program.args)
    args[path[0]] = replaced(args[path[0]], path[1:], new)
    return dsl.Apply(program.op, tuple(args), program.type)


def differing_paths(first: dsl.Expr, second: dsl.Expr) -> list[tuple[int, ...]]:
    """The maximal subtrees where two programs differ."""
    if first == second:
        return []
    if isinstance(first, dsl.Apply) and isinstance(second, dsl.Apply) and first.op == second.op:
        return [(p, *rest) for p, (a, b) in enumerate(zip(first.args, second.args)) for rest in differing_paths(a, b)]
    return [()]


@pytest.mark.parametrize("text, broken", [
    (PLANTED, "x * x + sin(x)"), (PLANTED, "exp(x) * x + x"), (PLANTED, "x * (x + exp(x))"), (PLANTED, "x * x"),
    (AND_OR, "a and b or not c"), (AND_OR, "(a and not b) or c"), (MAJORITY, "a and b or (a ^ c) and not c"),
    (MIXED, "if(s, x * 0.5, x)"), (MIXED, "if(not s, x * x, x)"),
])  # fmt: skip
def test_a_program_one_subtree_away_from_a_fit_is_repaired(repairers, text, broken):
    task = task_of(text)
    program = dsl.parse_program(broken, task)
    assert not fits_by_reference(program, task)
    repaired = repairers[text].repair(program)
    assert repaired is not None and fits_by_reference(repaired, task)
    # the differences lie under one proper subtree: the root's choice is kept
    paths = differing_paths(program, repaired)
    common = paths[0][: min(map(len, paths))]
    while not all(path[: len(common)] == common for path in paths):
        common = common[:-1]
    assert common != ()
    assert dsl.description_length(repaired, task.grammar) < float("inf")  # derivable in the grammar


@pytest.mark.parametrize("text", [AND_OR, MAJORITY], ids=["and_or", "majority"])
def test_boolean_repair_finds_exactly_what_a_brute_force_over_the_bank_finds(repairers, text):
    """Every (proper subtree, bank program) substitution tried by brute force: repair finds a fit
    exactly when one exists, of the same least bits (random programs of a soft tree at depth 3)."""
    task, repairer = task_of(text), repairers[text]
    tree = build_tree(task, 3)
    rng = np.random.default_rng(0)
    choices = [rng.integers(len(slot.alternatives), size=40) for slot in tree.slots]
    outcomes = set()
    for restart in range(40):
        program = tree.discretize(choices, restart)
        if fits_by_reference(program, task):
            continue
        bank = repairer.values[task.output_type]
        brute = [dsl.description_length(candidate, task.grammar)
                 for path, _ in subtrees(program) if path
                 for candidate in (replaced(program, path, repairer.program(task.output_type, row))
                                   for row in range(len(bank)))
                 if fits_by_reference(candidate, task)]  # fmt: skip
        repaired = repairer.repair(program)
        assert (repaired is not None) == bool(brute), str(program)
        if repaired is not None:
            assert fits_by_reference(repaired, task)
            assert dsl.description_length(repaired, task.grammar) == pytest.approx(min(brute))
        outcomes.add(repaired is not None)
    assert outcomes == {True, False}  # both outcomes met: the comparison is not vacuous


@pytest.mark.parametrize("text", [PLANTED, MIXED, AND_OR], ids=["koza", "mixed", "and_or"])
def test_repair_never_reports_a_program_that_does_not_fit(repairers, text):
    task, repairer = task_of(text), repairers[text]
    tree = build_tree(task, 3)
    rng = np.random.default_rng(1)
    choices = [rng.integers(len(slot.alternatives), size=60) for slot in tree.slots]
    repaired = [repairer.repair(tree.discretize(choices, restart)) for restart in range(60)]
    assert all(fits_by_reference(program, task) for program in repaired if program is not None)
    assert any(program is not None for program in repaired)  # not vacuous


def test_needed_values_invert_each_operation():
    """Where a child needs values, the operation applied to them gives the target (reference
    evaluator's semantics via numpy), for random operands."""
    rng = np.random.default_rng(2)
    y, other = rng.uniform(0.5, 2, 12), rng.uniform(0.5, 2, 12)
    mask = np.ones(12, bool)
    for op, apply in [(dsl.Op.ADD_R, np.add), (dsl.Op.SUB_R, np.subtract), (dsl.Op.MUL_R, np.multiply),
                      (dsl.Op.DIV_R, np.divide)]:  # fmt: skip
        for position in (0, 1):
            need, where = child_need(op, position, y, mask, [other, other])
            args = (need, other) if position == 0 else (other, need)
            np.testing.assert_allclose(apply(*args)[where], y[where], rtol=1e-12)
    a, b = rng.integers(0, 2, 32).astype(bool), rng.integers(0, 2, 32).astype(bool)
    target = rng.integers(0, 2, 32).astype(bool)
    for op, apply in [(dsl.Op.AND, np.logical_and), (dsl.Op.OR, np.logical_or)]:
        result = child_need(op, 1, target, np.ones(32, bool), [a, b])
        possible = not np.any(apply(a, True) != target) or None  # refused iff some point is out of reach
        reachable = (apply(a, False) == target) | (apply(a, True) == target)
        assert (result is not None) == bool(reachable.all()) or possible is None
        if result is not None:
            need, where = result
            assert np.array_equal(apply(a, need)[where], target[where])
            assert np.all(apply(a, False)[~where] == apply(a, True)[~where])  # free only where b is irrelevant


def relaxed(task: dsl.Task, **settings) -> search.SynthesisResult:
    return search.synthesize(task, search.SearchConfig(method="relaxed", **({"max_seconds": 60} | settings)))


def test_the_searcher_repairs_restarts_and_counts_them():
    task = task_of(PLANTED)
    settings = dict(relaxed_depth=3, relaxed_steps=100, relaxed_restarts=16)
    plain = relaxed(task, relaxed_repair=False, **settings)
    fixed = relaxed(task, relaxed_repair=True, **settings)
    assert plain.stats.restarts_repaired is None and "restarts_repaired" not in plain.stats.to_json()
    assert fixed.stats.restart_success == plain.stats.restart_success  # the relaxation's own rate
    assert fixed.stats.restarts_repaired > 0 and fixed.status == "fitted"
    assert fits_by_reference(fixed.best.program, task)
    again = search.SynthesisResult.from_json(fixed.to_json(), task)
    assert again.stats.restarts_repaired == fixed.stats.restarts_repaired


def test_the_repair_setting_is_validated():
    assert "relaxed_repair" not in search.SearchConfig().to_json()
    assert search.SearchConfig(relaxed_repair=False).to_json()["relaxed_repair"] is False
    with pytest.raises(dsl.SearchError, match="relaxed_repair = 1 is not a boolean"):
        search.SearchConfig(relaxed_repair=1)

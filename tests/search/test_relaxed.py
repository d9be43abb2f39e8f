"""The relaxed searcher (search/relaxed.py): the soft derivation tree against the reference
evaluator at one-hot choices, its expected description length against `dsl.description_length`,
gradients, and the searcher end to end on small planted tasks."""

from __future__ import annotations

import numpy as np
import pytest

import dsl
from dsl.library import builtin_task_file

torch = pytest.importorskip("torch")

from search.relaxed import build_tree  # noqa: E402


def task_of(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


def builtin(name: str) -> dsl.Task:
    tasks = dsl.parse_tasks(builtin_task_file(name).read_text(encoding="utf-8"))
    return next(task for task in tasks if task.name == name)


BOOLEAN = """task b {
    input a, b, c: bool
    output bool
    target (a and b) or not c
    grammar boolean_xor
}"""
REALS = """task r {
    input x, y: real -1..1
    output real
    target x * y + x
    sample 16 uniform seed 3
    grammar { real -> x, y, 1.5, real + real, real - real, real * real, real / real, sqrt(real), log(real), exp(real) }
}"""
GRAMMARS = {
    "koza_nguyen1": lambda: builtin("nguyen1"),
    "koza_nguyen5": lambda: builtin("nguyen5"),
    "boolean_xor": lambda: task_of(BOOLEAN),
    "reals_with_nan": lambda: task_of(REALS),
}


def inputs_of(task: dsl.Task) -> dict:
    return {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env().items()}


def random_one_hot(tree, restarts: int, rng: np.random.Generator) -> tuple[list, list[np.ndarray]]:
    choices = [rng.integers(len(slot.alternatives), size=restarts) for slot in tree.slots]
    probabilities = [torch.nn.functional.one_hot(torch.tensor(c), len(slot.alternatives)).to(torch.float64)
                     for c, slot in zip(choices, tree.slots)]
    return probabilities, choices


@pytest.mark.parametrize("name", sorted(GRAMMARS))
@pytest.mark.parametrize("depth", [2, 4])
def test_one_hot_soft_tree_equals_the_reference_evaluator(name, depth):
    task = GRAMMARS[name]()
    tree = build_tree(task, depth)
    rng = np.random.default_rng(depth)
    probabilities, choices = random_one_hot(tree, 48, rng)
    values, _, dirty = tree.forward(probabilities, inputs_of(task), task.n_points)
    compared = 0
    for restart in range(48):
        program = tree.discretize(choices, restart)
        assert program.depth <= depth + 1  # Expr.depth counts a leaf as 1
        reference = np.asarray(dsl.evaluate(program, task.env(), size=task.n_points), dtype=np.float64)
        clean = (dirty[restart].numpy() == 0) & np.isfinite(reference)
        if task.output_type.kind == "bool":
            assert clean.all()  # product logic never leaves [0, 1]
            np.testing.assert_array_equal(values[restart].numpy(), reference)
        else:
            np.testing.assert_allclose(values[restart].numpy()[clean], reference[clean], rtol=1e-12, atol=1e-300)
        compared += int(clean.sum())
    assert compared > 48 * task.n_points // 4  # the comparison is not vacuous


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_expected_bits_at_one_hot_equals_description_length(name):
    task = GRAMMARS[name]()
    tree = build_tree(task, 3)
    probabilities, choices = random_one_hot(tree, 32, np.random.default_rng(7))
    expected = tree.expected_bits(probabilities).numpy()
    for restart in range(32):
        program = tree.discretize(choices, restart)
        assert expected[restart] == pytest.approx(tree.derivation_bits(choices, restart), abs=1e-9)
        # these grammars are unambiguous: the derivation is the only one
        assert expected[restart] == pytest.approx(dsl.description_length(program, task.grammar), abs=1e-9)


def test_slots_offer_only_leaves_at_the_bottom_and_share_children():
    tree = build_tree(builtin("nguyen1"), 2)
    assert [slot.depth for slot in tree.slots] == [0, 1, 1, 2, 2, 2, 2]
    root = tree.slots[0]
    assert len(root.alternatives) == 9  # x, + − × ÷ (two holes), sin cos exp log (one)
    assert {children for children in root.children if len(children) == 1} == {(1,)}  # the unary ones share child 1
    assert all(not children for slot in tree.slots if slot.depth == 2 for children in slot.children)


def test_grammars_not_relaxed_yet_are_refused_by_name():
    ints = task_of("""task i { input n: int 0..9  output int  target n + 1  grammar arithmetic }""")
    with pytest.raises(dsl.SearchError, match="does not relax int"):
        build_tree(ints, 3)
    compare = task_of("""task c { input x: real -1..1  output bool  target x < 0.5  sample 8 uniform seed 1
        grammar { bool -> real < real, not bool  real -> x, 0.5 } }""")
    with pytest.raises(dsl.SearchError, match="no relaxation of `<`"):
        build_tree(compare, 3)


def test_gradcheck_in_float64_on_a_small_tree():
    task = task_of(REALS.replace("log(real), exp(real)", "exp(real)"))
    tree = build_tree(task, 2)
    inputs = inputs_of(task)
    shapes = [len(slot.alternatives) for slot in tree.slots]
    generator = torch.Generator().manual_seed(0)
    logits = [torch.randn(2, a, generator=generator, dtype=torch.float64, requires_grad=True) for a in shapes]

    def objective(*tensors):
        probabilities = [torch.softmax(t, dim=1) for t in tensors]
        values, penalty, _ = tree.forward(probabilities, inputs, task.n_points)
        return values.sum(dim=1) + tree.expected_bits(probabilities) + penalty

    assert torch.autograd.gradcheck(objective, tuple(logits))

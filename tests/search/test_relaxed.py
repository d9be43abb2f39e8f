"""The relaxed searcher (search/relaxed/): the soft derivation tree against the reference
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
MIXED = """task m {
    input x: real -1..1
    input s, t: bool
    output real
    target if(s, x * x, x)
    sample 16 uniform seed 5
    grammar { real -> x, 0.5, real + real, real * real, if(bool, real, real), real(bool)
              bool -> s, t, not bool, bool and bool }
}"""
GRAMMARS = {
    "mixed_real_bool": lambda: task_of(MIXED),
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
    powers = task_of("""task i { input n: int 0..9  output int  target n + 1
        grammar { int -> n, 1, int ** int } }""")
    with pytest.raises(dsl.SearchError, match=r"no relaxation of `\*\*` on int"):
        build_tree(powers, 3)
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


# --- the searcher ---------------------------------------------------------------------------

import search  # noqa: E402
from search.synthesize import fits  # noqa: E402

PLANTED = """task p { input x: real -1..1  output real  target x * x + x  sample 20 uniform seed 0  grammar koza }"""
AND_OR = """task b { input a, b, c: bool  output bool  target (a and b) or c  grammar boolean }"""


def relaxed(task: dsl.Task, **settings) -> search.SynthesisResult:
    return search.synthesize(task, search.SearchConfig(method="relaxed", **({"max_seconds": 60} | settings)))


def fits_by_reference(program: dsl.Expr, task: dsl.Task) -> bool:
    predicted = dsl.evaluate(program, task.env(task.train), size=int(task.train.sum()))
    return fits(predicted, task.target_values[task.train], task.output_type.kind)


@pytest.mark.parametrize("text", [PLANTED, AND_OR], ids=["x*x+x on koza", "(a and b) or c"])
def test_a_planted_program_is_recovered_with_a_fixed_seed(text):
    task = task_of(text)
    result = relaxed(task, relaxed_depth=2)
    assert result.status == "fitted" and not result.certified
    assert result.best.fits_train and fits_by_reference(result.best.program, task)
    assert result.best.bits == dsl.description_length(task.target, task.grammar)  # the planted program's bits
    assert 0 < result.stats.restart_success <= 1
    assert result.stats.best_seconds is not None
    fronts = [candidate.bits for candidate in result.pareto]
    assert fronts == sorted(fronts) and result.pareto[-1].fits_train
    assert result.posterior.entries and sum(entry.weight for entry in result.posterior.entries) == pytest.approx(1)
    again = search.SynthesisResult.from_json(result.to_json(), task)
    assert again.status == "fitted" and again.stats.restart_success == result.stats.restart_success


def test_the_same_seed_gives_the_same_result_and_another_seed_another_start():
    task = task_of(AND_OR)
    # without repair: it would make both seeds' fronts the same shortest fits
    settings = dict(relaxed_depth=2, relaxed_steps=50, relaxed_restarts=16, relaxed_repair=False)
    first, second = relaxed(task, **settings), relaxed(task, **settings)
    assert first.best == second.best and first.pareto == second.pareto
    assert first.stats.restart_success == second.stats.restart_success
    other = relaxed(task, relaxed_seed=1, **settings)
    assert {str(c.program) for c in other.pareto} != {str(c.program) for c in first.pareto} or \
        other.stats.restart_success != first.stats.restart_success


def test_the_time_budget_holds_and_ctrl_c_keeps_the_best_so_far(monkeypatch):
    import time

    task = task_of(PLANTED)
    started = time.perf_counter()
    result = relaxed(task, relaxed_depth=3, relaxed_steps=10**6, max_seconds=1.0)
    assert result.status == "time" and time.perf_counter() - started < 3.0
    assert result.best is not None  # the restarts' programs at the stop are kept

    from search.relaxed import searcher as module

    calls = []
    real_loss = module._data_loss

    def interrupted_at_step_30(*args):
        calls.append(1)
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real_loss(*args)

    monkeypatch.setattr(module, "_data_loss", interrupted_at_step_30)
    result = relaxed(task, relaxed_depth=2)
    assert result.status == "interrupted" and result.best is not None and len(calls) == 30


def test_relaxed_settings_are_validated_and_leave_the_default_json_as_it_was():
    assert not any(name.startswith("relaxed_") for name in search.SearchConfig().to_json())
    config = search.SearchConfig(method="relaxed", relaxed_depth=2, relaxed_temperature=(2, 0.5))
    assert config.relaxed_temperature == (2.0, 0.5)
    assert search.SearchConfig.from_json(config.to_json()) == config
    for bad in (dict(relaxed_depth=-1), dict(relaxed_restarts=0), dict(relaxed_learning_rate=float("nan")),
                dict(relaxed_temperature=(1.0,)), dict(relaxed_temperature=(1.0, 0.0)), dict(relaxed_seed=True)):
        with pytest.raises(dsl.SearchError):
            search.SearchConfig(**bad)


def test_import_search_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, search; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_the_memory_budget_holds_before_the_first_step():
    """One step's autograd storage is measured by small passes and extrapolated (an upper bound
    within 25 % of a direct count at 64 restarts on every point); over the budget, a SearchError
    that says how many restarts fit."""
    import numpy as np

    from search.relaxed.searcher import _saved_bytes, step_memory_mb

    task = dsl.load_task("mod_add_53")
    tree = build_tree(task, 2)
    inputs = {name: torch.tensor(np.asarray(v, dtype=np.float64)) for name, v in task.env(task.train).items()}
    target = torch.tensor(np.asarray(task.target_values[task.train], dtype=np.float64))
    at_64 = step_memory_mb(torch, tree, inputs, target, "int", 64)
    direct = _saved_bytes(torch, tree, inputs, target, "int", 64) / 2**20
    assert direct <= at_64 <= 1.25 * direct  # from four passes on 16 and 32 points: a close upper bound
    # the training points' float64 values, at least once per slot and restart: a lower bound
    assert at_64 * 2**20 >= 64 * len(tree.slots) * int(task.train.sum()) * 8
    budget = at_64 / 2
    with pytest.raises(dsl.SearchError, match=r"over max_memory_mb") as refused:
        search.synthesize(task, method="relaxed", relaxed_depth=2, relaxed_restarts=64, max_memory_mb=budget)
    fitting = int(str(refused.value.expected).split("at most ")[1].split()[0])
    assert step_memory_mb(torch, tree, inputs, target, "int", fitting) <= budget
    assert step_memory_mb(torch, tree, inputs, target, "int", fitting + 1) > budget
    result = search.synthesize(task, method="relaxed", relaxed_depth=2, relaxed_restarts=fitting, relaxed_steps=2,
                               max_memory_mb=budget)  # fmt: skip
    assert result.status in ("steps", "fitted")

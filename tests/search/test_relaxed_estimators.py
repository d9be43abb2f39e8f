"""The relaxed searcher's estimators (search/relaxed/estimators.py): softmax, Gumbel-softmax,
straight-through and Gumbel straight-through — seeded, the straight-through forward against the
reference evaluator, its gradient against the softmax's, and the planted programs per estimator."""

from __future__ import annotations

import numpy as np
import pytest

import dsl
import search
from search.synthesize import fits

torch = pytest.importorskip("torch")

from search.relaxed import build_tree  # noqa: E402
from search.relaxed.estimators import ESTIMATORS, choice_probabilities, noise_generator  # noqa: E402


from tests.search.relaxed_cases import AND_OR, PLANTED, task_of  # noqa: E402
BOOLEAN = """task b { input a, b, c: bool  output bool  target (a and b) or not c  grammar boolean_xor }"""
# +, −, × only: torch and numpy compute these IEEE operations identically, so equality is exact
ARITHMETIC = """task r { input x, y: real -1..1  output real  target x * y + x  sample 16 uniform seed 3
    grammar { real -> x, y, 1.5, real + real, real - real, real * real } }"""


def inputs_of(task: dsl.Task) -> dict:
    return {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env().items()}


def random_logits(tree, restarts: int, seed: int) -> list:
    generator = torch.Generator().manual_seed(seed)
    shapes = [(restarts, len(slot.alternatives)) for slot in tree.slots]
    return [torch.randn(s, generator=generator, dtype=torch.float64, requires_grad=True) for s in shapes]


def relaxed(task: dsl.Task, **settings) -> search.SynthesisResult:
    return search.synthesize(task, search.SearchConfig(method="relaxed", **({"max_seconds": 60} | settings)))


def fits_by_reference(program: dsl.Expr, task: dsl.Task) -> bool:
    predicted = dsl.evaluate(program, task.env(task.train), size=int(task.train.sum()))
    return fits(predicted, task.target_values[task.train], task.output_type.kind)


@pytest.mark.parametrize("text", [BOOLEAN, ARITHMETIC], ids=["boolean_xor", "arithmetic"])
@pytest.mark.parametrize("depth", [2, 3])
def test_the_straight_through_forward_is_exactly_the_discretized_program(text, depth):
    task = task_of(text)
    tree = build_tree(task, depth)
    logits = random_logits(tree, 32, seed=depth)
    probabilities = choice_probabilities(torch, logits, 0.7, "straight-through", None)
    values, _, dirty = tree.forward(probabilities, inputs_of(task), task.n_points)
    assert all(((p == 0) | (p == 1)).all() for p in probabilities)  # one-hot, exactly
    choices = [t.detach().argmax(dim=1).numpy() for t in logits]  # what the searcher discretizes
    for restart in range(32):
        program = tree.discretize(choices, restart)
        reference = np.asarray(dsl.evaluate(program, task.env(), size=task.n_points), dtype=np.float64)
        assert not dirty[restart].any()
        np.testing.assert_array_equal(values[restart].detach().numpy(), reference)
    assert len({str(tree.discretize(choices, r)) for r in range(32)}) > 8  # many programs compared


def test_the_straight_through_gradient_is_the_softmax_gradient_at_the_one_hot_point():
    task = task_of(ARITHMETIC)
    tree = build_tree(task, 2)
    inputs, temperature = inputs_of(task), 0.5
    logits = random_logits(tree, 4, seed=1)

    def objective(probabilities):
        values, penalty, _ = tree.forward(probabilities, inputs, task.n_points)
        return (values**2).mean(dim=1).sum() + tree.expected_bits(probabilities).sum() + penalty.sum()

    objective(choice_probabilities(torch, logits, temperature, "straight-through", None)).backward()
    # by hand: dL/dp at the one-hot p, pulled back through softmax(logits / τ)
    one_hot = torch.nn.functional.one_hot
    hard = [one_hot(t.detach().argmax(dim=1), t.shape[1]).to(torch.float64).requires_grad_() for t in logits]
    objective(hard).backward()
    for t, h in zip(logits, hard):
        fresh = t.detach().clone().requires_grad_()
        (expected,) = torch.autograd.grad(torch.softmax(fresh / temperature, dim=1), fresh, h.grad)
        torch.testing.assert_close(t.grad, expected, rtol=1e-12, atol=1e-15)
    assert any(t.grad.abs().sum() > 0 for t in logits)


def test_gumbel_noise_is_seeded_and_is_noise():
    tree = build_tree(task_of(AND_OR), 2)
    logits = random_logits(tree, 8, seed=0)
    plain = choice_probabilities(torch, logits, 1.0, "softmax", None)
    for estimator in ("gumbel", "gumbel-st"):
        first = choice_probabilities(torch, logits, 1.0, estimator, noise_generator(torch, 3))
        again = choice_probabilities(torch, logits, 1.0, estimator, noise_generator(torch, 3))
        other = choice_probabilities(torch, logits, 1.0, estimator, noise_generator(torch, 4))
        assert all(torch.equal(a, b) for a, b in zip(first, again))
        assert not all(torch.equal(a, b) for a, b in zip(first, other))
        assert not all(torch.allclose(a, b) for a, b in zip(first, plain))
        for p in first:
            torch.testing.assert_close(p.sum(dim=1), torch.ones(8, dtype=torch.float64))
    # the Gumbel-max trick: the noisy argmax is a sample of softmax(logits), so over many draws
    # its frequencies approach the softmax's (here 4000 draws, 3 standard errors)
    one = [logits[0][:1].detach().expand(4000, -1)]
    (draws,) = choice_probabilities(torch, one, 1.0, "gumbel-st", noise_generator(torch, 0))
    hits = draws.detach().mean(dim=0)
    expected = torch.softmax(logits[0][0].detach(), dim=0)
    assert torch.all((hits - expected).abs() <= 3 * torch.sqrt(expected * (1 - expected) / 4000) + 1e-12)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_the_same_seed_gives_the_same_result(estimator):
    task = task_of(AND_OR)
    settings = dict(relaxed_depth=2, relaxed_steps=50, relaxed_restarts=16, relaxed_estimator=estimator)
    first, second = relaxed(task, **settings), relaxed(task, **settings)
    assert first.best == second.best and first.pareto == second.pareto
    assert first.stats.restart_success == second.stats.restart_success
    assert [str(e.program) for e in first.posterior.entries] == [str(e.program) for e in
                                                                 second.posterior.entries]  # fmt: skip


# Measured with the defaults (64 restarts, 400 steps, τ 1 → 0.1) at depth 2, seed 0, without repair
# (docs/search.md, "Estimators", has the rates over seeds 0–4): these do not recover the planted
# program: over seeds 0–4, 4 runs of 5 find it with Gumbel-softmax, 1 of 5 with Gumbel
# straight-through, but not seed 0's.
NOT_RECOVERED = {
    ("gumbel", "x*x+x"): "Gumbel-softmax, seed 0: no restart ever fits x*x+x (seeds 0-4: 4/5 runs do)",
    ("gumbel-st", "x*x+x"): "Gumbel straight-through, seed 0: no restart ever fits x*x+x (seeds 0-4: 1/5 runs do)",
}


def _planted_cases():
    for estimator in ESTIMATORS:
        for name, text in (("x*x+x", PLANTED), ("(a and b) or c", AND_OR)):
            reason = NOT_RECOVERED.get((estimator, name))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            yield pytest.param(estimator, text, id=f"{estimator}-{name}", marks=marks)


@pytest.mark.parametrize("estimator, text", list(_planted_cases()))
def test_a_planted_program_is_recovered_under_each_estimator_with_a_fixed_seed(estimator, text):
    task = task_of(text)
    result = relaxed(task, relaxed_depth=2, relaxed_estimator=estimator, relaxed_repair=False)  # the estimator's own
    assert result.status == "fitted" and fits_by_reference(result.best.program, task)
    assert result.best.bits == dsl.description_length(task.target, task.grammar)


def test_the_estimator_setting_is_validated_and_left_out_of_the_json_at_its_default():
    assert "relaxed_estimator" not in search.SearchConfig().to_json()
    config = search.SearchConfig(method="relaxed", relaxed_estimator="gumbel-st")
    assert config.to_json()["relaxed_estimator"] == "gumbel-st"
    assert search.SearchConfig.from_json(config.to_json()) == config
    with pytest.raises(dsl.SearchError, match="relaxed_estimator = 'gumbel-softmax' is not a known"):
        search.SearchConfig(relaxed_estimator="gumbel-softmax")

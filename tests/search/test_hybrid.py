"""The hybrid searcher (search/hybrid.py): the learned PCFG against the prior it is mixed with,
and the searcher end to end: exact fits verified by the reference evaluator, bits under the
task's own grammar, never certified, its phases in the stats, budgets, Ctrl-C, refusals."""

from __future__ import annotations

import numpy as np
import pytest

import dsl
import search
from search.synthesize import fits

torch = pytest.importorskip("torch")

from search.hybrid import WEIGHT_SCALE, learned_grammar  # noqa: E402
from search.relaxed import build_tree  # noqa: E402

PLANTED = """task p { input x: real -1..1  output real  target x * x + x  sample 20 uniform seed 0  grammar koza }"""
AND_OR = """task b { input a, b, c: bool  output bool  target (a and b) or c  grammar boolean }"""
MIXED = """task m {
    input x: real -1..1
    input s, t: bool
    output real
    target if(s, x * x, x)
    sample 16 uniform seed 5
    grammar { real -> x, 0.5, real + real, real * real, if(bool, real, real), real(bool)
              bool -> s, t, not bool, bool and bool }
}"""


def task_of(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


def hybrid(task: dsl.Task, **settings) -> search.SynthesisResult:
    return search.synthesize(task, search.SearchConfig(method="hybrid", **({"max_seconds": 60} | settings)))


def fits_by_reference(program: dsl.Expr, task: dsl.Task) -> bool:
    predicted = dsl.evaluate(program, task.env(task.train), size=int(task.train.sum()))
    return fits(predicted, task.target_values[task.train], task.output_type.kind)


def one_hot(tree, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    choices = [rng.integers(len(slot.alternatives), size=1) for slot in tree.slots]
    return [np.eye(len(slot.alternatives))[c] for c, slot in zip(choices, tree.slots)], choices


@pytest.mark.parametrize("text", [PLANTED, AND_OR, MIXED], ids=["koza", "boolean", "mixed"])
def test_the_learned_grammar_never_makes_a_derivation_it_learned_from_longer(text):
    """One-hot choices of one restart: the learned part is that derivation's choice frequencies,
    the maximum-likelihood PCFG of it, and the log-likelihood is concave in the weights, so the
    mixture gives the program at most its prior bits (before the rounding to whole bits, which
    costs at most half a bit per choice and per rule's normalization)."""
    task = task_of(text)
    tree = build_tree(task, 3)
    rng = np.random.default_rng(0)
    shorter = 0
    for _ in range(20):
        probabilities, choices = one_hot(tree, rng)
        program = tree.discretize(choices, 0)
        grammar = learned_grammar(task.grammar, tree, probabilities, np.ones(1), mix=0.9, whole_bits=False)
        prior_bits, learned_bits = dsl.description_length(program, task.grammar), dsl.description_length(program, grammar)
        assert learned_bits <= prior_bits + 1e-9
        shorter += learned_bits < prior_bits - 1
    assert shorter >= 10  # and it does learn: most derivations get shorter by more than a bit


def test_every_alternative_keeps_a_weight_a_power_of_two_and_the_unchosen_keep_their_prior_order():
    task = task_of(PLANTED)
    tree = build_tree(task, 2)
    probabilities, choices = one_hot(tree, np.random.default_rng(1))
    program = tree.discretize(choices, 0)
    chosen = {node.op if isinstance(node, dsl.Apply) else node for node in program.walk()}
    (rule,) = task.grammar.rules
    for mix in (0.5, 0.9):
        (learned,) = learned_grammar(task.grammar, tree, probabilities, np.ones(1), mix=mix).rules
        assert [a.template for a in learned.alternatives] == [a.template for a in rule.alternatives]
        weights = [int(alternative.weight) for alternative in learned.alternatives]
        assert all(w >= 1 and w & (w - 1) == 0 and w <= WEIGHT_SCALE for w in weights)
        used = [(a.template.op if isinstance(a.template, dsl.Apply) else a.template) in chosen for a in rule.alternatives]
        unused_weights = {w for w, u in zip(weights, used) if not u}
        assert len(unused_weights) == 1  # the prior is uniform, and what was not chosen keeps (1 − mix) of it
        assert all(w > next(iter(unused_weights)) for w, u in zip(weights, used) if u)


def test_a_diverged_restart_counts_for_nothing():
    task = task_of(AND_OR)
    tree = build_tree(task, 2)
    good, _ = one_hot(tree, np.random.default_rng(2))
    both = [np.vstack([p, np.full_like(p, np.nan)]) for p in good]
    assert learned_grammar(task.grammar, tree, both, np.ones(2), mix=0.5) == \
        learned_grammar(task.grammar, tree, good, np.ones(1), mix=0.5)


@pytest.mark.parametrize("text", [PLANTED, AND_OR], ids=["x*x+x on koza", "(a and b) or c"])
def test_the_hybrid_finds_the_planted_program_with_its_bits_under_the_task_grammar(text):
    task = task_of(text)
    result = hybrid(task, relaxed_depth=3, hybrid_steps=50, relaxed_restarts=16)
    assert result.status == "fitted" and not result.certified  # an enumeration under the learned grammar certifies nothing
    assert result.best.fits_train and fits_by_reference(result.best.program, task)
    assert result.best.bits == dsl.description_length(result.best.program, task.grammar)
    assert result.best.bits <= dsl.description_length(task.target, task.grammar) + 1e-9
    assert all(candidate.bits == dsl.description_length(candidate.program, task.grammar) for candidate in result.pareto)
    phases = result.stats.phases
    assert set(phases) == {"relaxed_seconds", "relaxed_cpu_seconds", "enumeration_seconds", "enumeration_cpu_seconds"}
    assert all(seconds >= 0 for seconds in phases.values()) and result.stats.candidates > 0
    assert 0 <= result.stats.restart_success <= 1 and result.stats.best_seconds is not None
    again = search.SynthesisResult.from_json(result.to_json(), task)
    assert again.best == result.best and again.stats.phases == phases and not again.certified


def test_the_same_seed_gives_the_same_result():
    task = task_of(AND_OR)
    settings = dict(relaxed_depth=2, hybrid_steps=30, relaxed_restarts=8)
    first, second = hybrid(task, **settings), hybrid(task, **settings)
    assert first.best == second.best and first.pareto == second.pareto
    assert first.stats.restart_success == second.stats.restart_success
    assert first.stats.candidates == second.stats.candidates  # the same learned grammar: the same enumeration


def test_a_grammar_the_relaxation_refuses_is_refused_by_name(monkeypatch):
    from search.relaxed import searcher

    def refusing(task, depth):
        raise dsl.SearchError("the relaxed search does not relax u8 values yet", expected="a real or bool grammar")

    monkeypatch.setattr(searcher, "build_tree", refusing)
    with pytest.raises(dsl.SearchError) as error:
        hybrid(task_of(AND_OR))
    assert "hybrid search needs the relaxation" in error.value.message and "u8" in error.value.message
    assert 'the enumerator (method "enumerate")' in error.value.expected


def test_the_time_budget_covers_both_phases_and_ctrl_c_keeps_what_was_found(monkeypatch):
    import time

    task = dsl.load_task("nguyen4")  # beyond a second's enumeration
    hybrid(task, relaxed_depth=3, hybrid_steps=5, max_seconds=1.0)  # warm-up: torch's Adam imports torch._dynamo (s)
    started = time.perf_counter()
    result = hybrid(task, relaxed_depth=3, hybrid_steps=10**6, max_seconds=2.0)
    assert time.perf_counter() - started < 5.0 and result.best is not None
    phases = result.stats.phases
    assert phases["relaxed_seconds"] <= 2.0 * 0.25 + 0.5 and phases["enumeration_seconds"] > 0.5  # the time left
    assert result.status in ("time", "fitted")

    from search.relaxed import searcher as module

    calls = []
    real_loss = module._data_loss

    def interrupted_at_step_30(*args):
        calls.append(1)
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real_loss(*args)

    monkeypatch.setattr(module, "_data_loss", interrupted_at_step_30)
    result = hybrid(task_of(PLANTED), relaxed_depth=2)
    assert result.status == "interrupted" and result.best is not None and len(calls) == 30
    assert result.stats.candidates == 0  # no enumeration after Ctrl-C


def test_hybrid_settings_are_validated_and_leave_the_default_json_as_it_was():
    assert "hybrid" in search.SEARCHERS
    assert not any(name.startswith("hybrid_") for name in search.SearchConfig().to_json())
    config = search.SearchConfig(method="hybrid", hybrid_mix=0.25, hybrid_steps=10)
    assert config.to_json()["hybrid_mix"] == 0.25 and search.SearchConfig.from_json(config.to_json()) == config
    for bad in (dict(hybrid_mix=0), dict(hybrid_mix=1), dict(hybrid_steps=0), dict(hybrid_elite=1.5),
                dict(hybrid_time_share=float("nan"))):
        with pytest.raises(dsl.SearchError):
            search.SearchConfig(**bad)

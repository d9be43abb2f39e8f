"""The hybrid searcher: the relaxation ranks the grammar, the enumerator searches it (dPads' idea).

Two phases under one `max_seconds`:

1. *Relaxed.* A short run of the relaxed searcher (search/relaxed/: `hybrid_steps` Adam steps,
   the relaxed_* settings otherwise, at most `hybrid_time_share` of the wall clock). Its
   discretized programs are kept, verified, as candidates.
2. *Enumerated.* The relaxation's choice probabilities become a PCFG: per type, each alternative's
   learned probability is its expected count in the restarts' derivations (Σ over the slots of
   that type of P(slot used) · p_a, the expected counts from which a PCFG is estimated), over the
   `hybrid_elite` fraction of restarts of least final loss; mixed with the task's prior,
   p = (1 − α) · prior + α · learned (α = `hybrid_mix` < 1, so no alternative gets probability 0
   and the enumeration still reaches every program), each p's bits rounded to a whole bit
   (WEIGHT_SCALE says why). The enumerator (`enumerate_search`) then runs
   on the task with that grammar, in order of the learned bits, for the time left.

Every program met, from either phase, is verified by the reference evaluator and scored with
its bits under the task's *own* grammar (`dsl.description_length(program, task.grammar)`); the
result has the enumerator's shape. `certified` is always False: an enumeration complete up to L
learned bits covers every program of at most L learned bits, but observational equivalence keeps
one program per function, the shortest under the *learned* grammar, which may be longer under the
task's; so even a complete enumeration bounds no function's task-grammar bits. (`method="enumerate"`
certifies.)

A grammar the relaxation refuses (search/relaxed/: its types and primitives) is refused here
too, by a SearchError that says so and names the enumerator as the alternative: no silent
fallback to another searcher.

Why here and not in search/relaxed/: the hybrid is a client of both searchers' public entry
points (`relaxed_search`, `enumerate_search`) and owns neither's internals.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dsl import Expr, Grammar, SearchError, Task
from dsl.grammars import Rule, choice_probability

from .config import SearchConfig
from .result import SearchStats, SynthesisResult

__all__ = ["WEIGHT_SCALE", "hybrid_search", "learned_grammar"]

# The learned weights are rounded to powers of two (each alternative's bits to whole bits, relative
# to its rule's likeliest, at most WEIGHT_SCALE apart): the enumerator makes one level per distinct
# derivation probability, and with weights such as 19, 20, 21 out of 256 (measured on mux6) almost
# every combination got a level of its own: mux6, solved by the enumerator in 0.9 CPU s, was not
# solved in 7 s even at hybrid_mix = 0.05. Powers of two keep the levels as few as the prior's.
WEIGHT_SCALE = 2**16


@dataclasses.dataclass
class _Learned:
    """What the relaxed phase hands to the enumeration (filled by `relaxed_search`'s on_end)."""

    grammar: Grammar | None = None
    fitted: list[bool] = dataclasses.field(default_factory=list)


def hybrid_search(task: Task, config: SearchConfig, progress: Callable[[Any], None] | None) -> SynthesisResult:
    """The searcher "hybrid" (module docstring): the relaxed phase, then the enumeration under
    the learned PCFG for the time left. Status: "fitted" (an exact fit was found: none shorter is
    ruled out), else the enumeration's ("time", "candidates", "memory", "bits", "exhausted", or
    "ordered": its MDL-best under the learned grammar, with noise); "interrupted" before either
    when Ctrl-C stopped a phase (what was found is kept; no enumeration follows a stopped
    relaxed phase). `stats.phases` gives each phase's wall and CPU seconds,
    `stats.restart_success` the relaxed restarts' success fraction."""
    started, cpu_started = time.perf_counter(), time.process_time()
    import torch  # noqa: F401  (its first import, seconds, is inside this search's budget)

    from .relaxed import relaxed_search
    from .synthesize import enumerate_search

    learned = _Learned()

    def on_end(tree: Any, probabilities: list[np.ndarray], fitted: list[bool], loss: np.ndarray | None) -> None:
        learned.fitted = fitted
        elite = _elite(fitted, loss, config.hybrid_elite)
        learned.grammar = learned_grammar(task.grammar, tree, probabilities, elite, mix=config.hybrid_mix)

    share = max(config.max_seconds * config.hybrid_time_share - (time.perf_counter() - started), 1e-3)
    relaxed_config = config.replace(method="relaxed", relaxed_steps=config.hybrid_steps, max_seconds=share)
    try:
        relaxed = relaxed_search(task, relaxed_config, progress, on_end=on_end)
    except SearchError as error:
        raise SearchError(f"the hybrid search needs the relaxation of the grammar of {task.name}: {error.message}",
                          expected=f"{error.expected}; or the enumerator (method \"enumerate\"), which searches any grammar")  # fmt: skip
    relaxed_wall, relaxed_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    enumerated: SynthesisResult | None = None
    left = config.max_seconds - relaxed_wall
    if relaxed.status != "interrupted" and learned.grammar is not None and left > 0:
        learned_task = dataclasses.replace(task, grammar=learned.grammar, recipe=None)  # its fingerprint differs
        enumerated = enumerate_search(learned_task, config.replace(method="enumerate", max_seconds=left), progress)
    phases = {"relaxed_seconds": relaxed_wall, "relaxed_cpu_seconds": relaxed_cpu,
              "enumeration_seconds": time.perf_counter() - started - relaxed_wall,
              "enumeration_cpu_seconds": time.process_time() - cpu_started - relaxed_cpu}  # fmt: skip
    return _combined(task, config, relaxed, enumerated, phases, time.process_time() - cpu_started)


def learned_grammar(grammar: Grammar, tree: Any, probabilities: list[np.ndarray], restarts: np.ndarray, *,
                    mix: float, whole_bits: bool = True) -> Grammar:  # fmt: skip
    """`grammar` with each rule's weights (1 − mix) · prior + mix · learned, rounded to powers of
    two (whole bits: WEIGHT_SCALE; `whole_bits=False`: the mixture's probabilities as they are). `probabilities[s]` (R, A_s) are the soft tree's (`tree`) choice
    probabilities per slot; `restarts` (R,) the weight of each restart. Learned: per type, the
    expected count of each alternative in the restarts' derivations, Σ_restarts w_r Σ_slots of
    the type P(slot used) · p_a, normalized; a type no slot has (or none used) learns the prior.
    A restart whose probabilities are not finite (its logits diverged) counts for nothing."""
    counts = {rule.type: np.zeros(len(rule.alternatives)) for rule in grammar.rules}
    finite = np.logical_and.reduce([np.isfinite(p).all(axis=1) for p in probabilities])  # a diverged restart's NaN
    restarts = np.where(finite, restarts, 0.0)
    probabilities = [np.where(finite[:, None], p, 0.0) for p in probabilities]
    for slot, used in zip(tree.slots, _usage(tree, probabilities)):
        counts[slot.type][list(slot.alternatives)] += (restarts * used) @ probabilities[slot.index]
    rules = []
    for rule in grammar.rules:
        prior = np.array([float(choice_probability(rule, alternative)) for alternative in rule.alternatives])
        total = counts[rule.type].sum()
        learned = counts[rule.type] / total if total > 0 else prior
        mixed = (1 - mix) * prior + mix * learned
        weights = _powers_of_two(mixed) if whole_bits else mixed
        rules.append(Rule(rule.type, tuple(dataclasses.replace(alternative, weight=float(weight))
                                           for alternative, weight in zip(rule.alternatives, weights))))  # fmt: skip
    return Grammar(tuple(rules), grammar.name)


def _powers_of_two(probabilities: np.ndarray) -> np.ndarray:
    """Integer weights 2^k ∝ `probabilities` with each -log2 rounded to a whole bit (module constant)."""
    relative = np.rint(np.log2(probabilities / probabilities.max()))  # ≤ 0: bits below the likeliest
    exponents = np.clip(relative, -np.log2(WEIGHT_SCALE), 0) + np.log2(WEIGHT_SCALE)
    return (2 ** exponents.astype(int)).astype(int)


def _usage(tree: Any, probabilities: list[np.ndarray]) -> list[np.ndarray]:
    """P(slot used) per slot, (R,): the soft tree's `usage`, in numpy."""
    restarts = probabilities[0].shape[0]
    used = [np.zeros(restarts) for _ in tree.slots]
    used[0] = np.ones(restarts)
    for slot in tree.slots:  # breadth-first: a parent is final before its children
        for a, children in enumerate(slot.children):
            for child in children:
                used[child] = used[child] + probabilities[slot.index][:, a] * used[slot.index]
    return used


def _elite(fitted: list[bool], loss: np.ndarray | None, fraction: float) -> np.ndarray:
    """Weight 1 for the `fraction` of restarts that fit or else have the least final loss, 0 for
    the rest (at least one restart counts)."""
    restarts = len(fitted)
    order = np.lexsort((np.zeros(restarts) if loss is None else np.nan_to_num(loss, nan=np.inf),
                        ~np.asarray(fitted, dtype=bool)))  # fmt: skip
    weights = np.zeros(restarts)
    weights[order[: max(1, round(fraction * restarts))]] = 1.0
    return weights


def _combined(task: Task, config: SearchConfig, relaxed: SynthesisResult, enumerated: SynthesisResult | None,
              phases: dict[str, float], cpu_seconds: float) -> SynthesisResult:  # fmt: skip
    """One result of both phases' programs, each verified again and scored under the task's grammar."""
    from .relaxed.found import Found, relaxed_result

    found = Found(task, {})
    relaxed_cpu = phases["relaxed_cpu_seconds"]
    for program in _programs(relaxed):
        found.add(program, relaxed.stats.best_seconds or relaxed_cpu)
    if enumerated is not None:
        found_at = relaxed_cpu + (enumerated.stats.best_seconds or phases["enumeration_cpu_seconds"])
        for program in _programs(enumerated):
            found.add(program, found_at)
    status = _status(relaxed, enumerated, fitted=any(fit for _, fit in found.programs.values()))
    result = relaxed_result(task, config, found, status, relaxed.stats.restart_success or 0.0, cpu_seconds)
    counts = enumerated.stats if enumerated is not None else SearchStats()
    stats = dataclasses.replace(counts, cpu_seconds=cpu_seconds, best_seconds=found.first_fit_seconds,
                                restart_success=relaxed.stats.restart_success, phases=phases,
                                covered_bits=None, unseen_weight_bound=None)  # learned bits: not the task's  # fmt: skip
    return dataclasses.replace(result, stats=stats)


def _programs(result: SynthesisResult) -> list[Expr]:
    programs = [result.best.program] if result.best is not None else []
    programs += [candidate.program for candidate in result.pareto]
    return programs + [entry.program for entry in result.posterior.entries]


def _status(relaxed: SynthesisResult, enumerated: SynthesisResult | None, *, fitted: bool) -> str:
    """Ctrl-C in either phase first (a caller such as `occam bench search` stops on it), then a fit."""
    if "interrupted" in (relaxed.status, enumerated.status if enumerated is not None else None):
        return "interrupted"
    if fitted:
        return "fitted"
    if enumerated is None:
        return "time"
    return "ordered" if enumerated.status == "solved" else enumerated.status

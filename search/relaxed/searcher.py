"""The relaxed searcher's loop: restarts as one batch, Adam on data loss + λ · expected bits,
the temperature annealed, every restart's argmax verified as it goes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dsl import SearchError, Task

from ..heap import fix_mmap_threshold
from .estimators import choice_probabilities, noise_generator
from .found import Found, relaxed_result
from .progress import ProgressReport
from .soft import integer_loss
from .tree import SoftTree, build_tree

__all__ = ["relaxed_search"]

PENALTY_WEIGHT = 1.0  # of the non-finite penalty in the objective (package docstring)
PROBABILITY_FLOOR = 1e-7  # Booleans: predictions clamped to [floor, 1 − floor] in the cross-entropy

CHECK_EVERY = 25  # steps between discretizing every restart (to record fits as they appear)


def relaxed_search(task: Task, config: Any, progress: Callable[[Any], None] | None, *,
                   observe: Callable[[int, SoftTree, list[Any], float], None] | None = None,
                   on_end: Callable[[SoftTree, list[np.ndarray], list[bool], np.ndarray | None], None] | None = None,
                   ) -> Any:  # fmt: skip
    """The searcher "relaxed": gradient descent over the soft derivation tree (module docstring).

    `config.relaxed_restarts` restarts of random logits (seeded by `relaxed_seed`) are optimized
    together by Adam for `relaxed_steps` steps on data loss + λ · expected bits (+ the non-finite
    penalty), the temperature annealed geometrically, the choice probabilities made by
    `relaxed_estimator` (estimators.py); every CHECK_EVERY steps and at the end each
    restart's argmax program is verified exactly on the training points (`synthesize.fits`). The
    result's best is the shortest exact fit (exact bits, `dsl.description_length`), else the
    program of least total bits; `certified` is False (the relaxation proves nothing about shorter
    programs). Status: "fitted" (an exact fit was found), "steps" (every step ran, no fit),
    "time" (max_seconds, checked between steps), "interrupted" (Ctrl-C: what was found is kept).
    `progress`, when given, gets a Progress after each check (progress.py: the step, the restarts
    that fit, the least objective, the best program met so far and its bits).
    `observe(step, tree, logits, temperature)`, if given, sees the logits before the first step
    (step 0) and after every step (trace.py records the trajectory with it).
    With `relaxed_repair`, the restarts whose final program does not fit are repaired from the
    enumerator's banks (repair.py), and `stats.restarts_repaired` counts those repaired.
    `on_end(tree, probabilities, fitted, loss)`, if given, is called once at the end with what the
    hybrid searcher reads (search/hybrid.py): per slot the softmax probabilities (R, A_s) at the
    last temperature, per restart whether its final program fits, and the last step's loss per
    restart, (R,) (None when no step ran).
    """
    started, cpu_started = time.perf_counter(), time.process_time()  # torch's import is in the budget
    import torch

    from ..synthesize import RESULT_SHARE

    tree = build_tree(task, config.relaxed_depth)
    found = Found(task, {})
    status = "steps"
    restarts = config.relaxed_restarts
    report = ProgressReport(task, config) if progress is not None else None
    with _torch_settings(torch):
        logits = _initial_logits(torch, tree, restarts, config.relaxed_seed)
        inputs = {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env(task.train).items()}
        target = torch.tensor(np.asarray(task.target_values[task.train], dtype=np.float64))
        n_train = int(task.train.sum())
        _check_memory(torch, task, tree, inputs, target, config)
        optimizer = torch.optim.Adam(logits, lr=config.relaxed_learning_rate)
        first, last = config.relaxed_temperature
        estimator, noise = config.relaxed_estimator, noise_generator(torch, config.relaxed_seed)
        steps = config.relaxed_steps
        if observe is not None:
            observe(0, tree, logits, first)
        loss = None
        try:
            for step in range(steps):
                if time.perf_counter() - started > config.max_seconds * (1 - RESULT_SHARE):  # the rest: the result
                    status = "time"
                    break
                temperature = first * (last / first) ** (step / max(steps - 1, 1))
                probabilities = choice_probabilities(torch, logits, temperature, estimator, noise)
                values, penalty, _ = tree.forward(probabilities, inputs, n_train)
                loss = (_data_loss(torch, values, target, task.output_type.kind)
                        + config.relaxed_bits_weight * tree.expected_bits(probabilities) + PENALTY_WEIGHT * penalty)  # fmt: skip
                optimizer.zero_grad()
                loss.sum().backward()  # restarts are independent: each gets its own gradient
                optimizer.step()
                if observe is not None:
                    observe(step + 1, tree, logits, temperature)
                if (step + 1) % CHECK_EVERY == 0:
                    checked = _discretize_all(tree, logits, found, time.process_time() - cpu_started)
                    if progress is not None and report is not None:
                        progress(report(found, step=step + 1, fitted=checked, loss=float(loss.detach().min()),
                                        temperature=temperature, cpu_seconds=time.process_time() - cpu_started))
        except KeyboardInterrupt:
            status = "interrupted"
        fitted = _discretize_all(tree, logits, found, time.process_time() - cpu_started)
        if on_end is not None:
            final = [torch.softmax(t.detach() / last, dim=1).numpy() for t in logits]
            on_end(tree, final, fitted, None if loss is None else loss.detach().numpy())
    seconds_left = config.max_seconds * (1 - RESULT_SHARE) - (time.perf_counter() - started)
    repaired = _repair(task, config, tree, logits, fitted, found, cpu_started, seconds_left) \
        if config.relaxed_repair and status != "interrupted" and seconds_left > 0 else None  # fmt: skip
    if status == "steps" and any(fit for _, fit in found.programs.values()):
        status = "fitted"
    result = relaxed_result(task, config, found, status, sum(fitted) / restarts, time.process_time() - cpu_started)
    result.stats.restarts_repaired = repaired
    return result


@contextlib.contextmanager
def _torch_settings(torch: Any) -> Iterator[None]:
    """One thread and denormals flushed, as neural/train.py trains (its docstring says why);
    restored afterwards."""
    fix_mmap_threshold()  # search/heap.py
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        torch.set_flush_denormal(False)


PROBE_POINTS = 16  # points of the memory probe's forward passes (it must cost nothing itself)


def step_memory_mb(torch: Any, tree: SoftTree, inputs: dict[str, Any], target: Any, kind: str, restarts: int) -> float:
    """The MB one step's autograd graph holds for `restarts` restarts on the points of `target`:
    the storages a forward pass saves for backward, each counted once (kept alive while counting,
    so that no address is reused). Every saved tensor is a constant, or linear in the restarts,
    the points or their product, so four small passes — 1 and 2 restarts on p and 2p points —
    give the bilinear count exactly, extrapolated to `restarts` and all the points."""
    points = len(target)
    p = min(PROBE_POINTS, max(1, points // 2))

    def saved(r: int, n: int) -> int:
        return _saved_bytes(torch, tree, {name: column[:n] for name, column in inputs.items()}, target[:n], kind, r)

    if points <= 2 * p:  # small enough to count directly, as the bilinear form needs 2p points
        one, two = saved(1, points), saved(2, points)
        return (one + (two - one) * (restarts - 1)) / 2**20
    a, b, c, d = saved(1, p), saved(2, p), saved(1, 2 * p), saved(2, 2 * p)
    per_restart, per_point, per_both = b - a, (c - a) / p, (d - c - b + a) / p
    constant = a - per_restart - per_point * p - per_both * p
    total = constant + per_restart * restarts + per_point * points + per_both * restarts * points
    return max(total, 0.0) / 2**20


def _saved_bytes(torch: Any, tree: SoftTree, inputs: dict[str, Any], target: Any, kind: str, restarts: int) -> int:
    storages: dict[int, int] = {}
    kept: list[Any] = []

    def pack(tensor: Any) -> Any:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        kept.append(tensor)
        return tensor

    logits = [torch.zeros(restarts, len(slot.alternatives), dtype=torch.float64, requires_grad=True)
              for slot in tree.slots]  # fmt: skip
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        probabilities = [torch.softmax(t, dim=1) for t in logits]
        values, penalty, _ = tree.forward(probabilities, inputs, len(target))
        _ = _data_loss(torch, values, target, kind) + tree.expected_bits(probabilities) + penalty
    return sum(storages.values())


def _check_memory(torch: Any, task: Task, tree: SoftTree, inputs: dict[str, Any], target: Any, config: Any) -> None:
    """SearchError before the first step when one step would hold more than max_memory_mb."""
    kind = task.output_type.kind
    needed = step_memory_mb(torch, tree, inputs, target, kind, config.relaxed_restarts)
    if needed <= config.max_memory_mb:
        return
    one, two = (step_memory_mb(torch, tree, inputs, target, kind, r) for r in (1, 2))
    fitting = int((config.max_memory_mb - one) / (two - one)) + 1
    plural = "restart" if fitting == 1 else "restarts"
    fewer = f"at most {fitting} {plural} (relaxed_restarts), " if fitting >= 1 else ""
    raise SearchError(f"the relaxed search of {task.name} would hold about {needed:,.0f} MB for one step "
                      f"({config.relaxed_restarts} restarts, depth {config.relaxed_depth}, {len(target):,} "
                      f"training points), over max_memory_mb = {config.max_memory_mb:,.0f}",
                      expected=f"{fewer}a smaller relaxed_depth, or a larger max_memory_mb")  # fmt: skip


def _initial_logits(torch: Any, tree: SoftTree, restarts: int, seed: int) -> list[Any]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(restarts, len(slot.alternatives), generator=generator, dtype=torch.float64).requires_grad_()
            for slot in tree.slots]  # fmt: skip


def _data_loss(torch: Any, values: Any, target: Any, kind: str) -> Any:
    """Per restart: reals, the mean squared error over the training points relative to the
    targets' mean square (scale-free, so that λ means the same on every task); Booleans, the
    mean binary cross-entropy in bits (predictions clamped to [floor, 1 − floor], the gradient
    kept); integers and bit-vectors, `soft.integer_loss`."""
    if kind == "int":
        return integer_loss(torch, values, target)
    if kind == "real":
        scale = torch.clamp((target**2).mean(), min=1e-12)
        return ((values - target) ** 2).mean(dim=1) / scale
    # The clamp's value with the identity's gradient: a plain clamp has none where a prediction
    # saturates, and the straight-through forward is all 0s and 1s (it would learn nothing).
    clamped = torch.clamp(values, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    p = values + (clamped - values).detach()
    return -(target * torch.log2(p) + (1 - target) * torch.log2(1 - p)).mean(dim=1)


def _repair(task: Task, config: Any, tree: SoftTree, logits: list[Any], fitted: list[bool], found: Found,
            cpu_started: float, seconds_left: float) -> int:  # fmt: skip
    """The restarts whose final program does not fit, repaired from the enumerator's banks
    (repair.py); each repair is verified again by `found.add`. Returns how many were repaired."""
    from .repair import repair_restarts

    choices = [t.detach().argmax(dim=1).numpy() for t in logits]
    programs = [tree.discretize(choices, r) for r in range(len(fitted))]
    return repair_restarts(task, config, programs, fitted, lambda p: found.add(p, time.process_time() - cpu_started),
                           seconds_left)  # fmt: skip


def _discretize_all(tree: SoftTree, logits: list[Any], found: Found, cpu_seconds: float) -> list[bool]:
    """Every restart's argmax program, verified; per restart whether it fits."""
    choices = [t.detach().argmax(dim=1).numpy() for t in logits]
    restarts = len(choices[0])
    return [found.add(tree.discretize(choices, r), cpu_seconds) for r in range(restarts)]



"""The relaxed searcher's loop: restarts as one batch, Adam on data loss + λ · expected bits,
the temperature annealed, every restart's argmax verified as it goes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dsl import Task

from .found import Found, relaxed_result
from .tree import SoftTree, build_tree

__all__ = ["relaxed_search"]

PENALTY_WEIGHT = 1.0  # of the non-finite penalty in the objective (package docstring)
PROBABILITY_FLOOR = 1e-7  # Booleans: predictions clamped to [floor, 1 − floor] in the cross-entropy

CHECK_EVERY = 25  # steps between discretizing every restart (to record fits as they appear)


def relaxed_search(task: Task, config: Any, progress: Callable[[Any], None] | None, *,
                   on_end: Callable[[SoftTree, list[np.ndarray], list[bool], np.ndarray | None], None] | None = None) -> Any:
    """The searcher "relaxed": gradient descent over the soft derivation tree (module docstring).

    `config.relaxed_restarts` restarts of random logits (seeded by `relaxed_seed`) are optimized
    together by Adam for `relaxed_steps` steps on data loss + λ · expected bits (+ the non-finite
    penalty), the temperature annealed geometrically; every CHECK_EVERY steps and at the end each
    restart's argmax program is verified exactly on the training points (`synthesize.fits`). The
    result's best is the shortest exact fit (exact bits, `dsl.description_length`), else the
    program of least total bits; `certified` is False (the relaxation proves nothing about shorter
    programs). Status: "fitted" (an exact fit was found), "steps" (every step ran, no fit),
    "time" (max_seconds, checked between steps), "interrupted" (Ctrl-C: what was found is kept).

    `on_end(tree, probabilities, fitted, loss)`, if given, is called once at the end with what the
    hybrid searcher reads (search/hybrid.py): per slot the softmax probabilities (R, A_s) at the
    last temperature, per restart whether its final program fits, and the last step's loss per
    restart, (R,) (None when no step ran).
    """
    import torch

    from ..synthesize import Progress

    started, cpu_started = time.perf_counter(), time.process_time()
    tree = build_tree(task, config.relaxed_depth)
    found = Found(task, {})
    status = "steps"
    restarts = config.relaxed_restarts
    with _torch_settings(torch):
        logits = _initial_logits(torch, tree, restarts, config.relaxed_seed)
        inputs = {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env(task.train).items()}
        target = torch.tensor(np.asarray(task.target_values[task.train], dtype=np.float64))
        n_train = int(task.train.sum())
        optimizer = torch.optim.Adam(logits, lr=config.relaxed_learning_rate)
        first, last = config.relaxed_temperature
        steps = config.relaxed_steps
        loss = None
        try:
            for step in range(steps):
                if time.perf_counter() - started > config.max_seconds:
                    status = "time"
                    break
                temperature = first * (last / first) ** (step / max(steps - 1, 1))
                probabilities = [torch.softmax(t / temperature, dim=1) for t in logits]
                values, penalty, _ = tree.forward(probabilities, inputs, n_train)
                loss = (_data_loss(torch, values, target, task.output_type.kind)
                        + config.relaxed_bits_weight * tree.expected_bits(probabilities) + PENALTY_WEIGHT * penalty)  # fmt: skip
                optimizer.zero_grad()
                loss.sum().backward()  # restarts are independent: each gets its own gradient
                optimizer.step()
                if (step + 1) % CHECK_EVERY == 0:
                    _discretize_all(tree, logits, found, time.process_time() - cpu_started)
                    if progress is not None:
                        progress(Progress(float("nan"), len(found.programs), len(found.programs),
                                          time.process_time() - cpu_started, None))  # fmt: skip
        except KeyboardInterrupt:
            status = "interrupted"
        fitted = _discretize_all(tree, logits, found, time.process_time() - cpu_started)
        if on_end is not None:
            final = [torch.softmax(t.detach() / last, dim=1).numpy() for t in logits]
            on_end(tree, final, fitted, None if loss is None else loss.detach().numpy())
    if status == "steps" and any(fit for _, fit in found.programs.values()):
        status = "fitted"
    return relaxed_result(task, config, found, status, sum(fitted) / restarts, time.process_time() - cpu_started)


@contextlib.contextmanager
def _torch_settings(torch: Any) -> Iterator[None]:
    """One thread and denormals flushed, as neural/train.py trains (its docstring says why);
    restored afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        torch.set_flush_denormal(False)


def _initial_logits(torch: Any, tree: SoftTree, restarts: int, seed: int) -> list[Any]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(restarts, len(slot.alternatives), generator=generator, dtype=torch.float64).requires_grad_()
            for slot in tree.slots]  # fmt: skip


def _data_loss(torch: Any, values: Any, target: Any, kind: str) -> Any:
    """Per restart: reals, the mean squared error over the training points relative to the
    targets' mean square (scale-free, so that λ means the same on every task); Booleans, the
    mean binary cross-entropy in bits."""
    if kind == "real":
        scale = torch.clamp((target**2).mean(), min=1e-12)
        return ((values - target) ** 2).mean(dim=1) / scale
    p = torch.clamp(values, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return -(target * torch.log2(p) + (1 - target) * torch.log2(1 - p)).mean(dim=1)


def _discretize_all(tree: SoftTree, logits: list[Any], found: Found, cpu_seconds: float) -> list[bool]:
    """Every restart's argmax program, verified; per restart whether it fits."""
    choices = [t.detach().argmax(dim=1).numpy() for t in logits]
    restarts = len(choices[0])
    return [found.add(tree.discretize(choices, r), cpu_seconds) for r in range(restarts)]



"""`occam bench relaxed`: the relaxed searcher's throughput — one optimizer step for 64 restarts
batched against a Python loop over 64 single-restart steps.

A step is what the searcher's loop does once (search/relaxed/searcher.py): choice probabilities
(softmax at τ = 1), the soft tree's forward pass on the training points, data loss + λ · expected
bits + the non-finite penalty, backward, Adam. *Batched*: one step of one Adam over (64, A) logits
per slot. *Loop*: 64 steps, each of its own Adam over (1, A) logits, one after the other, as 64
separate runs would take them. Both under the searcher's torch settings (one thread, float64),
timed in CPU milliseconds (`time.process_time`), the median of `repeats` steps after `warmup`;
the ratio is the loop's median over the batched one's.

Rows: a depth-4 tree of the Koza grammar on Nguyen-1's 20 points, and mod_add_97's grammar on
its 2,822 training points, at the same depth. A grammar the relaxation refuses (mod_add_97's
ints, until they are relaxed) gives a row with the SearchError's reason and null numbers; once
`build_tree` accepts it, the row is measured with no change here. This benchmark measures the
searcher's internals (`build_tree`, `_data_loss`, `_torch_settings`) and says so.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import dsl
import search

__all__ = ["CASES", "DEPTH", "RESTARTS", "bench_relaxed", "throughput_row"]

DEPTH = 4  # the soft tree's depth in both rows
RESTARTS = 64
CASES = (("koza depth 4, 20 points", "nguyen1"), ("mod_add_97, 2,822 points", "mod_add_97"))


def throughput_row(label: str, task: dsl.Task, *, restarts: int = RESTARTS, depth: int = DEPTH, repeats: int = 20,
                   warmup: int = 2) -> dict[str, Any]:  # fmt: skip
    """One row: median CPU ms of a batched step over `restarts` and of a loop over `restarts`
    single-restart steps, and their ratio; `error` (numbers null) when the relaxation refuses the task."""
    import torch

    from search.relaxed import build_tree
    from search.relaxed.searcher import _torch_settings

    row: dict[str, Any] = {"case": label, "task": task.name, "points": int(task.train.sum()), "depth": depth,
                           "restarts": restarts, "repeats": repeats}  # fmt: skip
    try:
        tree = build_tree(task, depth)
    except dsl.SearchError as error:
        return {**row, "error": str(error), "slots": None, "batched_ms": None, "loop_ms": None, "ratio": None}
    with _torch_settings(torch):
        batched = _stepper(torch, tree, task, restarts, seed=0)
        singles = [_stepper(torch, tree, task, 1, seed=1 + r) for r in range(restarts)]

        def loop() -> None:
            for single in singles:
                single()

        batched_ms = _median_ms(batched, repeats, warmup)
        loop_ms = _median_ms(loop, repeats, warmup)
    return {**row, "error": None, "slots": len(tree.slots), "batched_ms": batched_ms, "loop_ms": loop_ms,
            "ratio": loop_ms / batched_ms if batched_ms > 0 else None}  # fmt: skip


def _stepper(torch: Any, tree: Any, task: dsl.Task, restarts: int, *, seed: int) -> Callable[[], None]:
    """One optimizer step of `restarts` restarts, as the searcher's loop takes it."""
    from search.relaxed.estimators import choice_probabilities
    from search.relaxed.searcher import PENALTY_WEIGHT, _data_loss

    generator = torch.Generator().manual_seed(seed)
    logits = [torch.randn(restarts, len(slot.alternatives), generator=generator, dtype=torch.float64).requires_grad_()
              for slot in tree.slots]  # fmt: skip
    inputs = {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env(task.train).items()}
    target = torch.tensor(np.asarray(task.target_values[task.train], dtype=np.float64))
    size, kind = int(task.train.sum()), task.output_type.kind
    bits_weight = search.SearchConfig().relaxed_bits_weight
    optimizer = torch.optim.Adam(logits, lr=search.SearchConfig().relaxed_learning_rate)

    def step() -> None:
        probabilities = choice_probabilities(torch, logits, 1.0, "softmax", None)
        values, penalty, _ = tree.forward(probabilities, inputs, size)
        loss = _data_loss(torch, values, target, kind) + bits_weight * tree.expected_bits(probabilities) \
            + PENALTY_WEIGHT * penalty  # fmt: skip
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()

    return step


def _median_ms(work: Callable[[], None], repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        times.append(1000 * (time.process_time() - started))
    return statistics.median(times)


def bench_relaxed(*, quick: bool = False, restarts: int = RESTARTS,
                  log: Callable[[dict[str, Any]], None] = lambda row: None) -> dict[str, Any]:  # fmt: skip
    """Every row of CASES (`quick`: 5 timed steps each instead of 20); `log(row)` as each is measured."""
    repeats = 5 if quick else 20
    rows = []
    for label, name in CASES:
        row = throughput_row(label, dsl.load_task(name), restarts=restarts, repeats=repeats)
        rows.append(row)
        log(row)
    return {"suite": "relaxed", "restarts": restarts, "depth": DEPTH, "quick": quick, "rows": rows}

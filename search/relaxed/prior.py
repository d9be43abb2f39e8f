"""The prior of occam's gradient searcher over Boolean functions: random logits in the relaxed
grammar (issue 8), the soft program's output on all points, thresholded into a truth table.

"Random logits" are what the searcher starts from (searcher._initial_logits): per slot of the soft
derivation tree unrolled to `depth`, an (R, A_s) float64 tensor of independent N(0, 1) draws from
a `torch.Generator` seeded once, the slots in breadth-first order; here R is the batch, and the
choice probabilities are softmax(logit_scale · logits) per slot — the searcher's first step with
the softmax estimator and its first temperature τ₀ = 1 / logit_scale (τ₀ = 1 by default).

The soft value of a Boolean slot is a probability of true in product logic (and = xy, or =
x + y − xy, not = 1 − x) mixed over its alternatives. The slots of the tree are disjoint subtrees
whose choices are independent, so the root's value at a point is exactly the probability that a
program drawn slot by slot from these probabilities is true there; the table is its majority
vote: bit p is set when the value exceeds 1/2 (a value of exactly 1/2 reads as false). At one-hot
logits and a large scale the soft tree is the discrete program, whose table this then is.

Batch k of `sample_relaxed_tables` is the searcher's initialization with seed `batch_seed(seed, k)`
(torch's generator keeps only 32 bits of a seed, so batches get seeds drawn from (seed, k)):
batch 0 is exactly the step-0 logits of `relaxed_search` with `relaxed_seed = seed` and as many
restarts. torch is imported inside the functions, as elsewhere in search/relaxed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from dsl import SearchError, Task

from ..space import pack
from .searcher import _initial_logits, _torch_settings
from .soft import soft_value
from .tree import SoftTree, build_tree

__all__ = [
    "BATCH_SEED_STRIDE", "batch_seed", "pack_bits", "root_values", "sample_relaxed_tables", "soft_tables",
]  # fmt: skip

BATCH_SEED_STRIDE = 2**32  # seeds are below it: torch's CPU generator keeps 32 bits of a seed


def batch_seed(seed: int, k: int) -> int:
    """The seed of batch k: `seed` itself for batch 0 (the searcher's own start), else one drawn
    from (seed, k) — not seed + k · 2^32, which torch's generator would read as `seed`."""
    return seed if k == 0 else int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
DEFAULT_BATCH = 4096  # samples seeded together (the searcher's restarts)
# Rows of one forward pass: its (rows, points) float64 tensors stay under glibc's mmap threshold
# (128 KiB, which the searcher fixes: search/heap.fix_mmap_threshold), so that they come from the heap;
# at 4096 rows × 128 points each tensor was mmapped afresh and page-faulted in, 4× slower.
FORWARD_BYTES = 96 * 1024


def sample_relaxed_tables(
    task: Task,
    samples: int,
    *,
    seed: int,
    depth: int = 4,
    logit_scale: float = 1.0,
    batch: int = DEFAULT_BATCH,
) -> Iterator[np.ndarray]:
    """Truth tables of `samples` soft programs of random logits (module docstring), in batches:
    yields (b, W) uint64 canonical tables (bit p % 64 of word p // 64 is the value at the task's
    point p), batch k from the searcher's initialization with seed `batch_seed(seed, k)`. SearchError
    for a task without a bool output, or a grammar the relaxed searcher does not cover."""
    import torch

    if task.output_type.kind != "bool":
        raise SearchError(f"the relaxed prior samples Boolean functions; {task.name} has a {task.output_type} output",
                          expected="a task with a bool output")  # fmt: skip
    if samples < 0 or batch < 1 or not (0 <= seed < BATCH_SEED_STRIDE):
        raise SearchError(f"samples = {samples}, batch = {batch}, seed = {seed} are out of range",
                          expected=f"samples >= 0, batch >= 1, 0 <= seed < {BATCH_SEED_STRIDE}")  # fmt: skip
    tree = build_tree(task, depth)
    inputs = {
        name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.points.items()
    }
    left, k = samples, 0
    while left > 0:
        size = min(batch, left)
        with _torch_settings(torch):
            logits = [t.detach() for t in _initial_logits(torch, tree, size, batch_seed(seed, k))]
            tables = soft_tables(tree, logits, inputs, task.n_points, logit_scale=logit_scale)
        yield tables
        left -= size
        k += 1


def soft_tables(tree: SoftTree, logits: list[Any], inputs: dict[str, Any], points: int, *, logit_scale: float = 1.0
                ) -> np.ndarray:  # fmt: skip
    """(R, W) uint64 tables of the soft tree at per-slot (R, A_s) `logits`: the root's value
    under softmax(logit_scale · logits) on the `points` points of `inputs` (float64 columns),
    above 1/2; in chunks of rows (FORWARD_BYTES)."""
    import torch

    rows = len(logits[0])
    chunk = max(1, FORWARD_BYTES // (8 * points))
    tables = []
    with torch.no_grad():
        for start in range(0, rows, chunk):
            probabilities = [torch.softmax(logit_scale * t[start : start + chunk], dim=1) for t in logits]
            tables.append(pack_bits((root_values(tree, probabilities, inputs, points) > 0.5).numpy()))
    return np.concatenate(tables) if tables else np.zeros((0, max(1, -(-points // 64))), dtype=np.uint64)


def root_values(tree: SoftTree, probabilities: list[Any], inputs: dict[str, Any], points: int) -> Any:
    """The root's soft values (R, P) of a Boolean soft tree: `SoftTree.forward`'s first result
    (tests/search/test_relaxed_prior.py checks it against it), without what only a gradient step
    needs (the non-finite masks and penalty, which product logic over truth values never uses),
    and with a slot's hole-free alternatives mixed in one matrix product: ~6× faster."""
    import torch

    values: list[Any] = [None] * len(tree.slots)
    leaves: dict[tuple[int, ...], tuple[list[int], Any]] = {}
    for slot in reversed(tree.slots):
        p = probabilities[slot.index]
        templates = tree.templates(slot)
        if slot.alternatives not in leaves:
            hole_free = [a for a, children in enumerate(slot.children) if not children]
            columns = [torch.broadcast_to(soft_value(templates[a], iter(()), inputs), (1, points))[0]
                       for a in hole_free]  # fmt: skip
            leaves[slot.alternatives] = (hole_free, torch.stack(columns) if columns else None)
        hole_free, matrix = leaves[slot.alternatives]
        mix = (
            p[:, hole_free] @ matrix
            if matrix is not None
            else torch.zeros((p.shape[0], points), dtype=p.dtype)
        )
        for a, children in enumerate(slot.children):
            if children:
                mix = mix + p[:, a, None] * soft_value(
                    templates[a], iter([values[c] for c in children]), inputs
                )
        values[slot.index] = mix
    return values[0]


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(R, P) bools → (R, W) uint64 canonical tables (unused bits of the last word zero):
    search.space's packing, viewed unsigned."""
    return pack(bits).view(np.uint64)

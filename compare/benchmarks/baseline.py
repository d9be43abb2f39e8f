"""The baseline that `occam bench synth` measures the compiled enumerator against.

A numpy-vectorized bottom-up enumerator with the same pruning, as one would write it without a
compiler: programs by size (for a grammar whose alternatives all cost the same, sizes are the
levels of description length), each (operation, child sizes) block computed at once by numpy
broadcasting with the reference semantics of the primitive table, real values rounded to the
same 32-significant-bit keys, and a Python dict from each row's key bytes to the first (shortest)
program — observational equivalence, as in the compiled kernels. Mirrored pairs of commutative
operations are skipped as there, and so are programs that are NaN at a training point when the
grammar cannot absorb a NaN.
"""

from __future__ import annotations

import time

import numpy as np

from dsl import Task

# Internals of search, on purpose: a baseline measured against the kernels must do exactly their
# work. It enumerates the same search space (build_space: the grammar's choices, the leaves'
# values at the equivalence points, which pairs are mirrored, whether NaN is pruned) and keys
# reals as the kernels do (round_reals); deriving these anew here could make the two count
# different candidates, and the ratio would compare different work.
from search.kernels import round_reals
from search.space import build_space

__all__ = ["numpy_enumerate"]


def numpy_enumerate(task: Task, *, max_size: int, max_seconds: float = 60.0) -> dict[str, float]:
    """Enumerate programs of up to `max_size` nodes; returns candidates, distinct functions and
    CPU seconds. The grammar must be one rule whose alternatives are leaves and one primitive
    over holes (the Koza grammar of the Nguyen tasks, say)."""
    space = build_space(task, equivalence="all")
    if len(space.types) != 1 or not all(c.is_leaf or (c.is_simple and len(c.operands) == len(c.holes))
                                        for c in space.choices):  # fmt: skip
        raise ValueError("the numpy baseline handles one rule of leaves and primitives over holes")
    is_real = space.types[0].kind == "real"
    seen: dict[bytes, int] = {}
    by_size: dict[int, np.ndarray] = {}
    candidates = 0
    started = time.process_time()
    for size in range(1, max_size + 1):
        rows = []
        for choice in space.choices:
            for block in _blocks(space, choice, size, by_size):
                candidates += len(block)
                rows.append(block)
        kept = []
        for block in rows:
            if space.drop_nan:  # the same pruning as the kernels: NaN at a training point is useless
                block = block[~np.isnan(block[:, space.train]).any(axis=1)]
            keys = round_reals(block) if is_real else block
            for row, key in zip(block, keys):
                digest = key.tobytes()
                if digest not in seen:
                    seen[digest] = len(seen)
                    kept.append(row)
        by_size[size] = np.array(kept).reshape(-1, space.n_points)
        if time.process_time() - started > max_seconds:
            break
    return {"candidates": candidates, "distinct": len(seen), "cpu_seconds": time.process_time() - started,
            "max_size": size}  # fmt: skip


def _blocks(space, choice, size: int, by_size: dict[int, np.ndarray]):
    """Candidate rows of `choice` with `size` nodes, as (n, P) blocks."""
    if choice.is_leaf:
        if size == 1:
            yield space.leaf_values(choice)[None, :]
        return
    evaluate = choice.template.primitive.evaluate
    arity = len(choice.holes)
    if arity == 1:
        children = by_size.get(size - 1)
        if children is not None and len(children):
            yield _quiet(evaluate, children)
        return
    for left in range(1, size - 1):
        right = size - 1 - left
        if choice.symmetric and left > right:
            continue
        x, y = by_size.get(left), by_size.get(right)
        if x is None or y is None or not len(x) or not len(y):
            continue
        block = _quiet(evaluate, x[:, None, :], y[None, :, :]).reshape(-1, x.shape[1])
        if choice.symmetric and left == right:  # mirrored pairs of one size: keep i <= j
            i, j = np.triu_indices(len(x))
            block = block.reshape(len(x), len(y), -1)[i, j]
        yield block


def _quiet(function, *args):
    with np.errstate(all="ignore"):
        return function(*args)

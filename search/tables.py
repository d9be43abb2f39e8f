"""The shortest program of every function: enumerate a grammar until it has met them all.

For a Boolean task on P points there are 2^P functions; enumerating the grammar in order of
description length with observational equivalence meets each first through its shortest
program, so the output bank *is* the table of minimal programs (and of each function's
complexity under the grammar) once it holds 2^P rows. Simplicity-bias experiments compare a
network's distribution over functions with this table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsl import Expr, Task

from .enumerate import Budget, Enumerator, Stop
from .result import SearchStats
from .space import build_space
from .synthesize import reserving, validate_budgets

__all__ = ["FunctionTable", "minimal_programs"]


@dataclass
class FunctionTable:
    """Minimal programs by function. `functions` are the output bank's rows (truth tables as
    ints for packed Boolean tasks), in order of description length; `bits[i]` is row i's."""

    task: Task
    functions: np.ndarray  # (n, columns): each function's values at the task's points
    bits: np.ndarray  # (n,)
    complete: bool  # every function of the output type on these points was met
    status: str
    stats: SearchStats
    _enumerator: Enumerator

    def __len__(self) -> int:
        return len(self.bits)

    def program(self, index: int) -> Expr:
        space = self._enumerator.space
        return self._enumerator.program(space.output_index, index)


def minimal_programs(
    task: Task, *, max_seconds: float = 60.0, max_bits: float = math.inf, max_memory_mb: float = 4096.0
) -> FunctionTable:
    """Enumerate `task`'s grammar on all its points until every function of the output type is
    met (Boolean outputs: 2^P of them) or a budget runs out."""
    space = build_space(task, equivalence="all")
    validate_budgets(max_seconds=max_seconds, max_bits=max_bits, max_memory_mb=max_memory_mb)
    budget = Budget(max_seconds=max_seconds, max_bits=max_bits, max_memory_bytes=max_memory_mb * 2**20)
    with reserving(max_memory_mb):
        enumerator = Enumerator(space, budget)
    enumerator.compile_kernels()
    budget.restart()
    bank = enumerator.banks[space.output_index]
    total = 2**space.n_points if task.output_type.kind == "bool" else math.inf
    status = "exhausted"
    try:
        for _ in enumerator.levels():
            if bank.size >= total:
                status = "solved"
                break
    except Stop as stop:
        status = stop.reason
    except KeyboardInterrupt:
        status = "interrupted"
    bits = np.concatenate([np.full(level.size, level.bits) for level in bank.levels]) if bank.levels else np.empty(0)
    stats = SearchStats(
        candidates=enumerator.candidates,
        distinct=enumerator.distinct,
        cpu_seconds=budget.cpu_seconds(),
        peak_bank_bytes=enumerator.nbytes,
    )
    return FunctionTable(task, bank.values[: len(bits)].copy(), bits, len(bits) >= total, status, stats, enumerator)

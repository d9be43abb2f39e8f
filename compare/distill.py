"""Distillation: the shortest program, under a task's grammar, that reproduces a function.

A network's function over the task's points is explained by a two-part code: a program from the
task's grammar (its bits) plus the bits of the points where the program differs from the
network (search/mdl.py: exceptions for discrete outputs, a Gaussian code of the residuals for
reals). The distilled program minimizes the sum.

The candidates are the synthesizer's: one enumeration of the grammar in order of description
length, with observational equivalence on all points, up to a bound (`max_bits`) — the
distinct functions it meets do not depend on the network, so one enumeration serves every
recorded step of a trace, and each step only scores them. Within the bound the distilled
program is exact: no program of at most `max_bits` bits gives a shorter code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsl import Expr, Task
from search.enumerate import Budget, Enumerator, Stop
from search.mdl import DataCode
from search.space import build_space, unpack

from .agree import agrees

__all__ = ["Distilled", "Distiller"]


@dataclass(frozen=True)
class Distilled:
    """The shortest two-part code of one function."""

    program: Expr
    program_bits: float
    data_bits: float
    exceptions: int  # points where the program differs from the function (reals: by more than the tolerance)
    values: np.ndarray = field(repr=False, compare=False)  # the program's values at every task point

    @property
    def bits(self) -> float:
        return self.program_bits + self.data_bits


class Distiller:
    """Enumerates a task's grammar once; `distill(function)` scores every function met."""

    def __init__(self, task: Task, *, max_bits: float, max_seconds: float = 60.0, max_memory_mb: float = 1024.0,
                 tolerance: float = 0.05) -> None:  # fmt: skip
        self.task = task
        self.tolerance = tolerance  # reals: values further apart than this are exceptions
        self.max_bits = max_bits
        space = build_space(task, equivalence="all")
        budget = Budget(max_seconds=max_seconds, max_bits=max_bits, max_memory_bytes=max_memory_mb * 2**20)
        enumerator = Enumerator(space, budget)
        enumerator.compile_kernels()
        budget.restart()
        self.status = "exhausted"
        try:
            for _ in enumerator.levels():
                pass
        except Stop as stop:
            self.status = stop.reason
        self.covered_bits = enumerator.covered_bits if self.status != "exhausted" else max_bits
        bank = enumerator.banks[space.output_index]
        count = sum(level.size for level in bank.levels)
        rows = bank.values[:count]
        self.rows = unpack(rows, space.n_points) if space.packed else rows.copy()
        self.bits = np.concatenate([np.full(level.size, level.bits) for level in bank.levels]) if count else np.zeros(0)
        self._enumerator = enumerator
        self._all = np.ones(task.n_points, dtype=bool)

    def __len__(self) -> int:
        return len(self.bits)

    def distill(self, function: np.ndarray) -> Distilled | None:
        """The program of least bits + data bits for `function` (values at every task point), or
        None when no program met gives a finite code: none of the output type, a real function
        with NaN or infinite values, a Boolean one that no program gets right on a majority."""
        if not len(self.bits):
            return None
        target = np.asarray(function).astype(self.rows.dtype)
        code = DataCode(self.task, self._all, target)
        data = code.bits(self.rows)
        total = self.bits + data
        best = int(np.argmin(total))  # ties: the first, which is never longer
        if not np.isfinite(total[best]):
            return None
        values = self.rows[best]
        return Distilled(self.program(best), float(self.bits[best]), float(data[best]),
                         self.exceptions(values, target), values)  # fmt: skip

    def exceptions(self, values: np.ndarray, function: np.ndarray) -> int:
        kind = self.task.output_type.kind
        return int(np.count_nonzero(~agrees(values, function, kind=kind, tolerance=self.tolerance)))

    def program(self, index: int) -> Expr:
        space = self._enumerator.space
        return self._enumerator.program(space.output_index, index)

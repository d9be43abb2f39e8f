"""The distinct functions of a grammar, each through its shortest program, in order of bits.

`enumerate_functions(task, ...)` is the one enumeration of a task's grammar that other
packages use: in exact order of description length, with observational equivalence on the
chosen points, it meets each function first through its shortest program. It yields level
after level the output type's new functions as rows of one array, written where the
enumerator wrote them (no copies; truth tables stay packed for Boolean grammars), so that a
caller can score them in place (the distiller, compare/distill.py) or keep them as a table.

For a Boolean task on P points there are 2^P functions; once the enumeration holds 2^P rows
it *is* the table of minimal programs (and of each function's complexity under the grammar):
`minimal_programs`. Simplicity-bias experiments compare a network's distribution over
functions with this table.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dsl import Expr, SearchError, Task

from .config import EQUIVALENCES, check_budgets
from .enumerate import Enumerator, Stop
from .result import SearchStats
from .space import build_space
from .synthesize import SearchBudget, reserving

__all__ = ["FunctionEnumeration", "FunctionLevel", "FunctionTable", "enumerate_functions", "minimal_programs"]


@dataclass(frozen=True)
class FunctionLevel:
    """The output type's functions first met at one level of the enumeration: rows
    [start, end) of `FunctionEnumeration.values`, each the shortest program (of `bits` bits) of
    a function that no earlier row computes. A level may hold no row (the level's new programs
    were of other types, or all equivalent to earlier ones)."""

    bits: float
    start: int
    end: int
    values: np.ndarray = field(repr=False)  # (end - start, columns): a view of the rows, not a copy
    complete: bool = True  # False: the level a budget cut short (rows of it may be missing)

    @property
    def size(self) -> int:
        return self.end - self.start


class FunctionEnumeration:
    """An enumeration of a task's grammar (see `enumerate_functions`), ready to run: iterating
    it runs it once, yielding a FunctionLevel after every level; `status` then says why it
    ended. Between and after levels, the rows met are `values[:len(self)]`."""

    def __init__(self, task: Task, *, max_bits: float, max_seconds: float, max_memory_mb: float,
                 max_candidates: int | None, equivalence: str, stop: Callable[[], str | None] | None) -> None:  # fmt: skip
        check_budgets(max_seconds=max_seconds, max_bits=max_bits, max_memory_mb=max_memory_mb,
                      max_candidates=max_candidates)  # fmt: skip
        if equivalence not in EQUIVALENCES:
            raise SearchError(f"equivalence = {equivalence!r} is not a known equivalence", expected="'all' or 'train'")
        self.task = task
        self._space = space = build_space(task, equivalence=equivalence)
        self._budget = budget = SearchBudget(max_seconds=max_seconds, max_bits=max_bits,
                                             max_memory_bytes=max_memory_mb * 2**20, max_candidates=max_candidates)  # fmt: skip
        with reserving(max_memory_mb):
            self._enumerator = enumerator = Enumerator(space, budget)
        self._bank = enumerator.banks[space.output_index]
        self._stop = stop
        # the budget asks back through weak references: no cycle holds the banks once the caller
        # drops the enumeration (the garbage collector may run long after)
        enumerator_ref, self_ref = weakref.ref(enumerator), weakref.ref(self)
        budget.count = lambda: enumerator_ref().candidates  # type: ignore[union-attr]
        budget.reason = lambda: self_ref()._reason_to_stop()  # type: ignore[union-attr]
        self.status: str | None = None  # why the enumeration ended; None before it has
        self._iterated = False
        enumerator.compile_kernels()

    # --- running --------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[FunctionLevel]:
        """Run the enumeration (once: its clocks start now), yielding every level closed, then
        the level a budget cut short if it kept rows (`complete=False`). A caller may stop
        early (`break`): `status` then stays None. Ctrl-C is the caller's: KeyboardInterrupt
        passes through (the rows met so far stay readable)."""
        if self._iterated:
            raise RuntimeError("a FunctionEnumeration runs once: call enumerate_functions again")
        self._iterated = True
        enumerator, bank = self._enumerator, self._bank
        self._budget.restart()
        closed_end = 0
        status = "exhausted"
        try:
            for bits in enumerator.levels():
                new = bank.levels[-1] if bank.levels and bank.levels[-1].end > closed_end else None
                start, end = (new.start, new.end) if new is not None else (closed_end, closed_end)
                closed_end = end
                yield FunctionLevel(bits, start, end, bank.values[start:end])
                if enumerator.checking:  # the banks are full: nothing more would be kept
                    raise Stop("memory")
        except Stop as stop:
            status = stop.reason
        self.status = status
        if bank.size > closed_end:
            yield FunctionLevel(enumerator.level_bits, closed_end, bank.size, bank.values[closed_end : bank.size], False)

    def _reason_to_stop(self) -> str | None:
        """Checked after every kernel call (after the clock and the candidates): the banks are
        full (nothing more would be kept), or the caller's `stop` names a reason."""
        if self._enumerator.checking:
            return "memory"
        return self._stop() if self._stop is not None else None

    # --- what it holds --------------------------------------------------------------------------

    def __len__(self) -> int:
        """Rows met so far (functions of the output type)."""
        return self._bank.size

    @property
    def values(self) -> np.ndarray:
        """(capacity, columns) the output type's row array, reserved once for the memory budget:
        rows [0, len(self)) are the functions met, in order, each its values at the equivalence
        points (Boolean grammars of packable operations, `packed`: a truth table in
        W = ceil(n_points / 64) int64 words, bit p % 64 of word p // 64 = point p, the last
        word's bits past the points zero); the rest is space the enumeration will write (a
        caller may use it as scratch before iterating). Its dtype is the rows'."""
        return self._bank.values

    @property
    def capacity(self) -> int:
        return self._bank.max_rows

    @property
    def packed(self) -> bool:
        """Rows are packed truth tables (see `values`)."""
        return self._space.packed

    @property
    def n_points(self) -> int:
        """Equivalence points: a row's columns (unpacked)."""
        return self._space.n_points

    def pack(self, values: np.ndarray) -> np.ndarray:
        """(n, n_points) values → rows as `values` stores them (packed when `packed`)."""
        return self._space.pack(values) if self.packed else values

    def function(self, index: int) -> np.ndarray:
        """Row `index`'s values at every equivalence point (unpacked), a new array."""
        row = self._bank.values[index : index + 1]
        return self._space.unpack(row)[0] if self.packed else row[0].copy()

    def truth_tables(self, start: int, end: int) -> np.ndarray:
        """Rows [start, end) as truth tables, a new (end - start, W) uint64 array: bit p % 64 of
        word p // 64 is the function's value at equivalence point p, W = max(1, ceil(n_points /
        64)), the last word's bits past the points zero — packed rows or not. For a task on the
        whole Boolean domain in binary-counting order (dsl's Bool domain, x1 the most
        significant bit) with equivalence 'all', that is the canonical table of issue 12.
        SearchError for an output type other than bool; IndexError unless 0 <= start <= end <=
        len(self)."""
        if self.task.output_type.kind != "bool":
            raise SearchError(f"truth tables are of Boolean functions, and this task's output is "
                              f"{self.task.output_type}", expected="a task whose output type is bool")  # fmt: skip
        if not 0 <= start <= end <= len(self):
            raise IndexError(f"rows [{start}, {end}) are not among the {len(self)} rows met")
        rows = self._bank.values[start:end]
        words = rows if self.packed else self._space.pack(rows.astype(bool))
        return np.ascontiguousarray(words).view(np.uint64).copy()

    def program(self, index: int) -> Expr:
        """The shortest program of row `index`'s function."""
        return self._enumerator.program(self._space.output_index, index)

    @property
    def level_bits(self) -> float:
        """Bits of the level running (or last run)."""
        return self._enumerator.level_bits

    @property
    def covered_bits(self) -> float:
        """Every program of at most these bits was enumerated."""
        return self._enumerator.covered_bits

    @property
    def candidates(self) -> int:
        """Candidates enumerated so far, all types (SearchStats.candidates)."""
        return self._enumerator.candidates

    def seconds(self) -> float:
        """Wall-clock seconds since the enumeration started (its budget's clock)."""
        return self._budget.elapsed()

    def stats(self) -> SearchStats:
        enumerator = self._enumerator
        return SearchStats(candidates=enumerator.candidates, distinct=enumerator.distinct,
                           cpu_seconds=self._budget.cpu_seconds(), peak_bank_bytes=enumerator.nbytes)  # fmt: skip


def enumerate_functions(
    task: Task,
    *,
    max_bits: float = math.inf,
    max_seconds: float = math.inf,
    max_memory_mb: float = 4096.0,
    max_candidates: int | None = None,
    equivalence: str = "all",
    stop: Callable[[], str | None] | None = None,
) -> FunctionEnumeration:
    """The distinct functions of `task`'s grammar (of its output type), each through its
    shortest program, in order of description length: iterate the result for its levels.

        functions = search.enumerate_functions(dsl.load_task("majority3"), max_bits=12)
        for level in functions:  # levels of 2.81, 5.61, 8.42, 11.23 bits: 3, 3, 10, 22 functions
            print(level.bits, level.size, level.values)
        functions.status, functions.program(0)  # ('bits', x)

    Two programs are one function when their values agree at the `equivalence` points ('all'
    or 'train'). The enumeration stops when the grammar is exhausted within `max_bits`, or when
    a budget runs out: `max_seconds` (from the start of the iteration), `max_candidates`
    (SearchConfig's deterministic budget), `max_memory_mb` (the rows are reserved now; once
    they are full it stops, as nothing more would be kept), or when `stop()`, called after
    every kernel call, names a reason. `status` says which ("exhausted", "bits", "time",
    "candidates", "memory", or `stop`'s reason); Ctrl-C raises KeyboardInterrupt. The kernels
    are compiled (or loaded) here, before the clock starts. SearchError for a budget out of
    range."""
    return FunctionEnumeration(task, max_bits=max_bits, max_seconds=max_seconds, max_memory_mb=max_memory_mb,
                               max_candidates=max_candidates, equivalence=equivalence, stop=stop)  # fmt: skip


@dataclass
class FunctionTable:
    """Minimal programs by function. `functions` are the output bank's rows (truth tables in
    int64 words for packed Boolean tasks, see `FunctionEnumeration.values`), in order of
    description length; `bits[i]` is row i's."""

    task: Task
    functions: np.ndarray  # (n, columns): each function's values at the task's points
    bits: np.ndarray  # (n,)
    complete: bool  # every function of the output type on these points was met
    status: str
    stats: SearchStats
    _enumeration: FunctionEnumeration

    def __len__(self) -> int:
        return len(self.bits)

    def program(self, index: int) -> Expr:
        return self._enumeration.program(index)


def minimal_programs(
    task: Task, *, max_seconds: float = 60.0, max_bits: float = math.inf, max_memory_mb: float = 4096.0
) -> FunctionTable:
    """Enumerate `task`'s grammar on all its points until every function of the output type is
    met (Boolean outputs: 2^P of them) or a budget runs out (the table then holds the levels
    enumerated completely)."""
    functions = enumerate_functions(task, max_seconds=max_seconds, max_bits=max_bits, max_memory_mb=max_memory_mb)
    total = 2**functions.n_points if task.output_type.kind == "bool" else math.inf
    closed: list[FunctionLevel] = []
    status = None
    try:
        for level in functions:
            if level.complete and level.size:
                closed.append(level)
            if level.complete and len(functions) >= total:
                status = "solved"
                break
    except KeyboardInterrupt:
        status = "interrupted"
    bits = np.concatenate([np.full(level.size, level.bits) for level in closed]) if closed else np.empty(0)
    status = status or functions.status or "exhausted"
    table = functions.values[: len(bits)].copy()
    return FunctionTable(task, table, bits, len(bits) >= total, status, functions.stats(), functions)

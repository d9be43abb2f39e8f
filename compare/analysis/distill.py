"""Distillation: the shortest program, under a task's grammar, that reproduces a function.

A network's function over the task's points is explained by a two-part code: a program from the
task's grammar (its bits) plus the bits of the points where the program differs from the
network (search/mdl.py: exceptions for discrete outputs, a Gaussian code of the residuals for
reals). The distilled program minimizes the sum.

The candidates are the synthesizer's: one enumeration of the grammar in order of description
length, with observational equivalence on all points, up to a bound (`max_bits`:
`search.enumerate_functions`) — the
distinct functions it meets do not depend on the network, so one enumeration serves every
recorded step of a trace, and each step only scores them. Within the bound the distilled
program is exact: no program of at most `max_bits` bits gives a shorter code.

The budget covers the whole distillation: the enumeration stops when its banks would pass
`max_memory_mb` (it keeps nothing more, so there is no point in going on) or when the time
left would not score the candidates kept for every function to come (`functions`, timed on a
sample of rows). Scoring allocates nothing per candidate: the rows are read where the
enumeration wrote them (truth tables stay packed), one pass per function.
"""

from __future__ import annotations

import collections
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from dsl import Expr, SearchError, Task
from search import DataCode, FunctionLevel, enumerate_functions
from search.space import pack

from .agree import agrees

__all__ = ["DistillProgress", "Distilled", "Distiller", "check_distill_budget"]

REAL_CHUNK_ROWS = 1 << 16  # real rows scored per numpy call: bounds the temporaries
PROGRESS_SECONDS = 0.25  # least time between two progress reports of the enumeration
SAMPLE_BYTES = 8 << 20  # rows timed to predict the cost of scoring
RETIME_ROWS = 1 << 16  # from this many rows on, scoring is timed again on the rows kept
SCORING_MARGIN = 1.25  # scoring is predicted from a sample on a machine that may be busy
# The next kernel call is taken to last as long as the longest of the last RECENT_CALLS: their
# lengths vary several-fold (0.02 to 0.32 s on one 2 s distillation), and the last alone let a
# long call run the enumeration past its budget.
RECENT_CALLS = 8


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


@dataclass(frozen=True)
class DistillProgress:
    """Where a distillation stands: enumerating the candidates, then scoring functions."""

    phase: str  # "enumerating" or "scoring"
    seconds: float  # since the distillation's clock started
    max_seconds: float
    candidates: int  # programs kept
    bits: float  # enumerating: the level running
    done: int = 0  # scoring: functions scored
    total: int = 0  # scoring: functions to score


class Distiller:
    """Enumerates a task's grammar once; `distill(function)` scores every function met.

    `max_seconds` and `max_memory_mb` bound the enumeration and the scoring of `functions`
    functions together (the kernels' compilation aside); `progress` gets a DistillProgress now
    and then."""

    def __init__(self, task: Task, *, max_bits: float, max_seconds: float = 60.0, max_memory_mb: float = 1024.0,
                 tolerance: float = 0.05, functions: int = 1,
                 progress: Callable[[DistillProgress], None] | None = None) -> None:  # fmt: skip
        check_distill_budget(seconds=max_seconds, memory_mb=max_memory_mb)
        self.task = task
        self.tolerance = tolerance  # reals: values further apart than this are exceptions
        self.max_bits = max_bits
        self.max_seconds = max_seconds
        self.progress = progress
        self._functions = max(1, functions)
        # Stops when the banks are full (nothing more would be kept), or on `_reason_to_stop`.
        enumeration = enumerate_functions(task, max_bits=max_bits, max_seconds=max_seconds,
                                          max_memory_mb=max_memory_mb, stop=self._reason_to_stop)  # fmt: skip
        self._enumeration = enumeration
        self._all = np.ones(task.n_points, dtype=bool)
        self._set_levels([])
        self._seconds_per_row = self._time_scoring()
        self._reported = -math.inf
        self._last_check = 0.0, 0  # (seconds, rows kept) at the last clock check
        self._recent_calls: collections.deque[float] = collections.deque(maxlen=RECENT_CALLS)  # their seconds
        # The longest kernel call met: the budget is checked between calls, so the enumeration
        # may overrun it by at most this much (a call's length varies; docs/compare.md).
        self.longest_call = 0.0
        self._timed_rows = RETIME_ROWS  # rows of the last timed scoring pass (the sample's: fewer)
        levels = []
        for level in enumeration:  # its clock starts now
            levels.append(level)
            if level.complete:  # (the last, cut short, is not reported: the enumeration is over)
                self._report_enumeration(force=True)
        self.longest_call = max(self.longest_call, enumeration.seconds() - self._last_check[0])  # the last call
        self.status = enumeration.status
        self.covered_bits = enumeration.covered_bits if self.status != "exhausted" else max_bits
        self._set_levels(levels)

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    @property
    def bits(self) -> np.ndarray:
        """(candidates,) the candidates' program bits, in order."""
        return np.repeat(self._level_bits, np.diff(np.concatenate([[0], self._ends])))

    def seconds(self) -> float:
        """Seconds since the distillation's clock started."""
        return self._enumeration.seconds()

    def distill(self, function: np.ndarray) -> Distilled | None:
        """The program of least bits + data bits for `function` (values at every task point), or
        None when no program met gives a finite code: none of the output type, a real function
        with NaN or infinite values, a Boolean one that no program gets right on a majority."""
        found = self._best(function, len(self))
        if found is None:
            return None
        best, program_bits, data_bits, target, values = found
        return Distilled(self.program(best), program_bits, data_bits, self.exceptions(values, target), values)

    def exceptions(self, values: np.ndarray, function: np.ndarray) -> int:
        kind = self.task.output_type.kind
        return int(np.count_nonzero(~agrees(values, function, kind=kind, tolerance=self.tolerance)))

    def program(self, index: int) -> Expr:
        return self._enumeration.program(index)

    # --- scoring --------------------------------------------------------------------------------

    def _best(self, function: np.ndarray, count: int) -> tuple[int, float, float, np.ndarray, np.ndarray] | None:
        """The first of the first `count` candidates of least bits + data bits: (index, program
        bits, data bits, the function in the rows' dtype, the row's values at every point); None
        if no code is finite."""
        if count == 0:
            return None
        enumeration = self._enumeration
        rows = enumeration.values
        target = np.asarray(function).astype(bool if enumeration.packed else rows.dtype)
        code = DataCode(self.task, self._all, target)
        ends = np.minimum(self._ends, count)
        if self.task.output_type.kind == "real":
            best, total = self._best_real(code, count)
        else:
            table = code.exception_bits(np.arange(code.n + 1))
            if enumeration.packed:
                words = enumeration.pack(target[None, :])[0]
                best, total = _best_packed(rows[:count], ends, self._level_bits, words,
                                           _all_points(enumeration.n_points), table)  # fmt: skip
            else:
                best, total = _best_discrete(rows[:count], ends, self._level_bits, target, table)
        if best < 0 or not math.isfinite(total):
            return None
        program_bits = float(self._level_bits[np.searchsorted(self._ends, best, side="right")])
        # The best row's own code, as DataCode gives it: total - program_bits can be an ulp off.
        values = self._enumeration.function(best)
        data_bits = float(code.bits(values[None, :])[0])
        return best, program_bits, data_bits, target, values

    def _best_real(self, code: DataCode, count: int) -> tuple[int, float]:
        best, least = -1, math.inf
        bits = self.bits
        for start in range(0, count, REAL_CHUNK_ROWS):
            end = min(count, start + REAL_CHUNK_ROWS)
            total = bits[start:end] + code.bits(self._enumeration.values[start:end])
            here = int(np.argmin(total))  # ties: the first, which is never longer
            if total[here] < least:
                best, least = start + here, float(total[here])
        return best, least

    def _set_levels(self, levels: list[FunctionLevel]) -> None:
        """The candidates' levels: those closed, and the rows kept of the level running when a
        budget stopped the enumeration (programs of that level's bits all the same)."""
        kept = [level for level in levels if level.size]
        self._ends = np.array([level.end for level in kept], dtype=np.int64)
        self._level_bits = np.array([level.bits for level in kept], dtype=np.float64)

    def _time_scoring(self) -> float:
        """Seconds per candidate of one `distill`, timed on the first rows of the bank's arrays
        (compiling the scoring kernels first)."""
        values = self._enumeration.values
        rows = max(1, min(self._enumeration.capacity, SAMPLE_BYTES // max(1, values[:1].nbytes)))
        values[:rows] = 0  # pages the enumeration will write anyway
        self._scoring_seconds(1)  # compile
        return float(np.median([self._scoring_seconds(rows) for _ in range(3)])) / rows

    def _retime_scoring(self, size: int) -> None:
        """Time one scoring pass over the `size` rows kept (each time they have doubled: at most
        twice the cost of the last pass), on the real rows and the machine as busy as it is now."""
        self._seconds_per_row = self._scoring_seconds(size) / size
        self._timed_rows = size

    def _scoring_seconds(self, rows: int) -> float:
        """Seconds one `_best` takes over the first `rows` rows, as one level (the levels met so
        far are set aside for it and put back)."""
        saved = self._ends, self._level_bits
        self._ends, self._level_bits = np.array([rows], dtype=np.int64), np.zeros(1)
        try:
            started = time.perf_counter()
            self._best(np.zeros(self._enumeration.n_points, dtype=self.task.output_type.dtype), rows)
            return time.perf_counter() - started
        finally:
            self._ends, self._level_bits = saved

    def _reason_to_stop(self) -> str | None:
        """Why the enumeration must stop now (None: it may go on; it stops by itself when the
        banks are full): the next kernel call (taken to last as long as the longest of the recent
        ones, and to add as much as the last one did) would leave too little time to score every
        function."""
        size = len(self._enumeration)
        if size >= 2 * self._timed_rows:
            self._retime_scoring(size)
        now = self._enumeration.seconds()
        last_seconds, last_rows = now - self._last_check[0], size - self._last_check[1]
        self._last_check = now, size
        scoring = SCORING_MARGIN * self._functions * (size + last_rows) * self._seconds_per_row
        self._recent_calls.append(last_seconds)
        self.longest_call = max(self.longest_call, last_seconds)
        if now + max(self._recent_calls) + scoring > self.max_seconds:
            return "time"
        self._report_enumeration()
        return None

    def _report_enumeration(self, *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._reported < PROGRESS_SECONDS:
            return
        self._reported = now
        enumeration = self._enumeration
        self.progress(DistillProgress("enumerating", enumeration.seconds(), self.max_seconds, len(enumeration),
                                      enumeration.level_bits))  # fmt: skip


def check_distill_budget(*, seconds: float, memory_mb: float) -> None:
    """Raise SearchError unless both budgets are positive numbers (inf: no limit)."""
    for name, value in (("distill_seconds", seconds), ("distill_memory_mb", memory_mb)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:  # NaN too
            unit = "seconds" if name == "distill_seconds" else "megabytes"
            raise SearchError(f"{name} = {value!r}", expected=f"a positive number of {unit} (inf: no limit)")


def _all_points(points: int) -> np.ndarray:
    """The truth-table words (int64, as the rows) with a bit at each of `points` points."""
    return pack(np.ones((1, points), dtype=bool))[0]


_M1, _M2, _M4, _H01 = (np.uint64(m) for m in (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
                                                0x0101010101010101))  # fmt: skip
_S1, _S2, _S4, _S56 = np.uint64(1), np.uint64(2), np.uint64(4), np.uint64(56)


@njit(cache=True)
def _popcount(word):
    """Bits set in a uint64 (every operand a uint64: numba would mix in float64 otherwise)."""
    word = word - ((word >> _S1) & _M1)
    word = (word & _M2) + ((word >> _S2) & _M2)
    word = (word + (word >> _S4)) & _M4
    return (word * _H01) >> _S56


@njit(cache=True)
def _best_packed(rows, ends, level_bits, target, mask, table):
    """The first row of least level bits + table[points where it differs from `target`], over
    truth tables of W words (rows (n, W), target and mask (W,)); (index, total), (-1, inf) when
    none is finite."""
    best, least, level = -1, np.inf, 0
    for r in range(rows.shape[0]):
        while r >= ends[level]:
            level += 1
        wrong = np.uint64(0)  # (uint64 throughout: numba would mix in float64 otherwise)
        for w in range(rows.shape[1]):
            wrong += _popcount(np.uint64((rows[r, w] ^ target[w]) & mask[w]))  # (int64 → uint64: the bits)
        total = level_bits[level] + table[wrong]
        if total < least:
            best, least = r, total
    return best, least


@njit(cache=True)
def _best_discrete(rows, ends, level_bits, target, table):
    """As _best_packed, over rows of values (one column per point)."""
    best, least, level = -1, np.inf, 0
    for r in range(rows.shape[0]):
        while r >= ends[level]:
            level += 1
        wrong = 0
        for q in range(rows.shape[1]):
            if rows[r, q] != target[q]:
                wrong += 1
        total = level_bits[level] + table[wrong]
        if total < least:
            best, least = r, total
    return best, least

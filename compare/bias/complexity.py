"""The minimal description length of Boolean functions under a grammar, certified by the enumerator.

A function's *minimal bits* are the description length of its shortest program under a stated
grammar (`boolean`: and, or, not over the inputs), not its Kolmogorov complexity: change the
grammar and the numbers change (docs/bias.md). They are found in two passes:

1. one enumeration of the grammar on all 2^n points, in exact order of description length, that
   records every function it meets; a function met at level b has minimal bits b (certified),
   and every function not met by the end has more than the bits covered;
2. for the functions not met, most important first, a search of their own
   (`search.synthesize`: the bank plus solving the last operation against it) while the time
   lasts: certified when it finds the shortest fit, else a lower bound (its covered bits) and, if
   it found a program, an upper bound.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import dsl
import search

from .tables import unpack_tables

__all__ = ["Complexity", "boolean_task", "index_in", "minimal_bits"]


@dataclass
class Complexity:
    """Minimal bits of functions given as tables (one entry per table, in their order)."""

    tables: np.ndarray = field(repr=False)  # (D, W) uint64: the functions
    bits: np.ndarray  # (D,) minimal bits where certified; else the lower bound `lower` (no shorter program exists)
    certified: np.ndarray  # (D,) bool: `bits` is the length of a shortest program
    lower: np.ndarray  # (D,) every program of at most these bits was tried and none computes the function
    upper: np.ndarray  # (D,) bits of the shortest program found (inf: none found)
    programs: list[str | None]  # that program, as text
    covered_bits: float  # the first pass enumerated every program of at most these bits
    grammar: str
    seconds: float
    searched: int  # functions searched one by one (the second pass)
    interrupted: bool = False  # Ctrl-C ended a pass early (what was found is kept)

    def __len__(self) -> int:
        return len(self.bits)

    @property
    def certified_share(self) -> float:
        return float(self.certified.mean()) if len(self) else math.nan

    def index_of(self, tables: np.ndarray) -> np.ndarray:
        """The entry of each of `tables` ((n, W) uint64), −1 for a table not measured here."""
        return index_in(self.tables, tables)


def index_in(reference: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """The row of `reference` ((D, W) uint64) equal to each of `tables`, −1 where none is."""
    keys, wanted = _keys(reference), _keys(tables)
    if not len(keys):
        return np.full(len(wanted), -1, np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    where = np.minimum(np.searchsorted(sorted_keys, wanted), len(keys) - 1)
    return np.where(sorted_keys[where] == wanted, order[where], -1)


def boolean_task(inputs: int, ones: np.ndarray | None = None, *, grammar: str = "boolean",
                 points: np.ndarray | None = None) -> dsl.Task:  # fmt: skip
    """The Boolean task on the 2^inputs points (binary counting, x1 the most significant bit), or
    on the sorted indices `points` of some of them (a partial function), whose target is `ones`
    (a bool array, one per point; default: false everywhere)."""
    if not 1 <= inputs <= 16:
        raise dsl.TaskError(f"inputs = {inputs} is out of range", expected="1 to 16 Boolean inputs")
    point = np.arange(2**inputs) if points is None else np.asarray(points, np.int64)
    columns = {f"x{i}": ((point >> (inputs - i)) & 1).astype(bool) for i in range(1, inputs + 1)}
    target = np.zeros(len(point), bool) if ones is None else np.asarray(ones, bool)
    return dsl.Task.from_arrays(columns, target, grammar=grammar, name=f"boolean{inputs}")


def minimal_bits(
    tables: np.ndarray,
    inputs: int,
    *,
    grammar: str = "boolean",
    max_seconds: float = 120.0,
    enumeration_share: float = 0.5,
    enumeration_bits: float = math.inf,
    search_seconds: float = 2.0,
    order: np.ndarray | None = None,
    max_searches: int | None = None,
    max_memory_mb: float = 4096.0,
    stop: Callable[[], bool] | None = None,
    points: np.ndarray | None = None,
    wanted: np.ndarray | None = None,
) -> Complexity:
    """The minimal bits under `grammar` of each function in `tables` ((D, W) uint64 canonical
    truth tables on the 2^inputs points, or on the sorted point indices `points`: then the bits
    of the shortest program that agrees with each partial function there).

    The enumeration gets `enumeration_share` of `max_seconds`, `max_memory_mb`, and at most
    `enumeration_bits` of description length; the second
    pass searches the functions it did not meet one by one, `search_seconds` each, in `order`
    (indices into `tables`, most important first, e.g. by count; default: their order), until
    `max_seconds` is spent, `max_searches` were run or `stop()` is true. With `wanted` (a bool
    mask over `tables`), the enumeration may stop once every wanted function is met, and only
    wanted ones are searched one by one: the others get bits where the enumeration met them. Ctrl-C ends either pass early and keeps what is
    known: every function keeps a sound lower bound."""
    started = time.perf_counter()
    deadline = started + max_seconds
    tables = np.ascontiguousarray(tables, dtype=np.uint64)
    count = len(tables)
    bits = np.full(count, math.nan)
    upper = np.full(count, math.inf)
    programs: list[str | None] = [None] * count
    task = boolean_task(inputs, grammar=grammar, points=points)
    if not count:  # nothing to measure: no enumeration
        return Complexity(tables=tables, bits=bits, certified=np.zeros(0, bool), lower=bits, upper=upper, programs=[],
                          covered_bits=0.0, grammar=grammar, seconds=time.perf_counter() - started, searched=0)  # fmt: skip
    wanted = np.ones(count, bool) if wanted is None else np.asarray(wanted, bool)
    covered, exhausted, interrupted = _enumerate(task, tables, wanted, bits, programs, max_seconds * enumeration_share,
                                                 enumeration_bits, max_memory_mb, stop)  # fmt: skip
    gc.collect()  # the first pass's banks, held in reference cycles, go before the second pass reserves its own
    certified = ~np.isnan(bits)
    upper[certified] = bits[certified]
    lower = np.where(certified, bits, math.inf if exhausted else covered)  # exhausted: the rest is not expressible
    searched = 0
    pending = [] if exhausted else [int(i) for i in (np.arange(count) if order is None else order) if not certified[i] and wanted[i]]
    for index in pending:
        remaining = deadline - time.perf_counter()
        out_of_searches = max_searches is not None and searched >= max_searches
        if interrupted or out_of_searches or remaining < min(search_seconds, 0.5) or (stop is not None and stop()):
            break
        try:
            result = _search_one(inputs, tables[index], grammar, min(search_seconds, remaining), max_memory_mb,
                                 points)
        except KeyboardInterrupt:
            interrupted = True
            break
        searched += 1
        if result.stats.covered_bits is not None:
            lower[index] = max(lower[index], result.stats.covered_bits)
        best = result.best
        if best is not None and best.fits_train:
            upper[index], programs[index] = best.bits, str(best.program)
            if result.certified:
                certified[index], lower[index] = True, best.bits
    bits = np.where(certified, upper, lower)
    return Complexity(tables=tables, bits=bits, certified=certified, lower=lower, upper=upper, programs=programs,
                      covered_bits=covered, grammar=grammar, seconds=time.perf_counter() - started,
                      searched=searched, interrupted=interrupted)  # fmt: skip


def _enumerate(task: dsl.Task, tables: np.ndarray, wanted: np.ndarray, bits: np.ndarray, programs: list[str | None],
               max_seconds: float,
               max_bits: float, max_memory_mb: float,
               stop: Callable[[], bool] | None) -> tuple[float, bool, bool]:  # fmt: skip
    """The first pass: fill `bits` (and `programs`) of every table the enumeration meets; returns
    the bits it covered completely, whether it exhausted the grammar (then a function it did not
    meet has no program at all), and whether Ctrl-C stopped it."""
    unique, first, inverse = np.unique(_keys(tables), return_index=True, return_inverse=True)
    met_bits = np.full(len(unique), math.nan)
    unique_wanted = np.zeros(len(unique), bool)
    unique_wanted[inverse.reshape(-1)[wanted]] = True
    left = int(unique_wanted.sum())  # wanted functions not met yet
    functions = search.enumerate_functions(task, max_seconds=max_seconds, max_bits=max_bits, max_memory_mb=max_memory_mb,
                                           stop=(lambda: "stopped" if stop() else None) if stop else None)  # fmt: skip
    interrupted = False
    try:
        for level in functions:
            if not level.size:
                continue
            met = _keys(functions.truth_tables(level.start, level.end))
            where = np.searchsorted(unique, met)
            hit = (where < len(unique)) & (unique[np.minimum(where, len(unique) - 1)] == met)
            for row, key in zip(np.flatnonzero(hit), where[hit]):
                if math.isnan(met_bits[key]):  # the first level that meets a function is its shortest
                    met_bits[key] = level.bits  # a level cut short met its functions at its bits too
                    programs[first[key]] = str(functions.program(level.start + int(row)))
                    left -= int(unique_wanted[key])
            if not left:
                break
    except KeyboardInterrupt:
        interrupted = True
    bits[:] = met_bits[inverse.reshape(-1)]
    for index, key in enumerate(inverse.reshape(-1)):
        programs[index] = programs[first[key]]
    return functions.covered_bits, functions.status == "exhausted", interrupted


def _search_one(inputs: int, table: np.ndarray, grammar: str, max_seconds: float, max_memory_mb: float,
                points: np.ndarray | None) -> search.SynthesisResult:  # fmt: skip
    ones = unpack_tables(table[None, :], 2**inputs if points is None else len(points))[0]
    return search.synthesize(boolean_task(inputs, ones, grammar=grammar, points=points), max_seconds=max_seconds,
                             max_memory_mb=max_memory_mb)  # fmt: skip


def _keys(tables: np.ndarray) -> np.ndarray:
    """(D, W) uint64 rows → (D,) structured keys that sort and compare row-wise."""
    tables = np.ascontiguousarray(tables, dtype=np.uint64)
    dtype = np.dtype([(f"w{i}", np.uint64) for i in range(tables.shape[1])])
    return tables.view(dtype).reshape(-1)

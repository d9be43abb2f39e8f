"""Truth tables packed in words against one uint8 per point (`occam bench packed`).

The `boolean` grammar (not, and, or) on the whole domain of n inputs, enumerated by
`search.enumerate_functions` up to a bound on bits, packed (W = ceil(2^n / 64) int64 words per
row) and forced unpacked (`search.space.unpacked_rows`), alternately, `repeats` times each in
the same process: the median seconds of the enumeration (its kernels compiled before, in a
warm-up run of each, and not timed: `enumerate_functions` compiles them before its clock
starts), candidates per second and the ratio. Seconds are CPU seconds of the process (the
enumeration runs on one thread: on an idle machine they are its wall-clock seconds, and on a
shared one they do not count the time others took); the wall-clock medians are in the rows
too. Both must meet the same functions (checked); the candidates are the same by construction.
7 inputs: two words a row; 6 inputs: one word, the case packed before truth tables grew past
64 points.

    python -m compare.benchmarks.packed_bench
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import dsl
import search
from search.space import unpacked_rows, words_for

__all__ = ["DEFAULT_BITS", "domain_task", "main", "run_packed_bench"]

# Per number of inputs, the bound on bits: programs of 12 nodes (10 alternatives: log2(10) bits
# each), a second or so packed (7 inputs: 7.1 million candidates, 1.46 million functions).
DEFAULT_BITS = {6: 12 * np.log2(10) + 1e-9, 7: 12 * np.log2(10) + 1e-9}


def domain_task(n: int) -> dsl.Task:
    """The `boolean` grammar on the 2^n points of n inputs in binary-counting order (x1 the most
    significant bit); the output (parity, which no short program computes) only fixes the
    task's type."""
    p = np.arange(2**n)
    inputs = {f"x{i}": ((p >> (n - i)) & 1).astype(bool) for i in range(1, n + 1)}
    parity = np.bitwise_xor.reduce(np.stack(list(inputs.values())), axis=0)
    return dsl.Task.from_arrays(inputs, parity, grammar="boolean")


_Run = tuple[float, float, int, int, np.ndarray]


def _enumerate(task: dsl.Task, max_bits: float, max_memory_mb: float) -> _Run:
    """One enumeration to `max_bits`: (CPU seconds of the iteration, wall seconds, candidates,
    functions, the last 1000 truth tables). Compiling is done in the constructor, before the
    clocks."""
    functions = search.enumerate_functions(task, max_bits=max_bits, max_memory_mb=max_memory_mb)
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in functions:
        pass
    cpu, seconds = time.process_time() - cpu_started, time.perf_counter() - started
    if functions.status != "bits":
        raise RuntimeError(f"the enumeration ended on {functions.status!r}, not at its bound")
    count = len(functions)
    return cpu, seconds, functions.candidates, count, functions.truth_tables(max(0, count - 1000), count)


def _timed(task: dsl.Task, max_bits: float, max_memory_mb: float, packed: bool) -> _Run:
    if packed:
        return _enumerate(task, max_bits, max_memory_mb)
    with unpacked_rows():
        return _enumerate(task, max_bits, max_memory_mb)


def run_packed_bench(inputs: Sequence[int] = (7, 6), *, max_bits: dict[int, float] | None = None, repeats: int = 3,
                     max_memory_mb: float = 4096.0) -> dict[str, Any]:  # fmt: skip
    """Per number of inputs, packed against unpacked: one row each of the bound, the points and
    words, candidates and functions, the median CPU seconds of `repeats` runs of each (after a
    warm-up of each) and their wall-clock medians, candidates per second, and `speedup` =
    unpacked seconds / packed."""
    bounds = {**DEFAULT_BITS, **(max_bits or {})}
    rows = []
    for n in inputs:
        task, bits = domain_task(n), bounds[n]
        seconds: dict[bool, list[float]] = {True: [], False: []}
        wall: dict[bool, list[float]] = {True: [], False: []}
        results = {packed: _timed(task, bits, max_memory_mb, packed) for packed in (True, False)}  # warm-up
        (_, _, candidates, count, tables), (_, _, unpacked_candidates, unpacked_count, unpacked_tables) = (
            results[True], results[False])  # fmt: skip
        same = np.array_equal(tables, unpacked_tables)
        if (candidates, count) != (unpacked_candidates, unpacked_count) or not same:
            raise RuntimeError(f"{n} inputs: packed and unpacked enumerations differ")
        for _ in range(repeats):
            for packed in (True, False):
                cpu, elapsed = _timed(task, bits, max_memory_mb, packed)[:2]
                seconds[packed].append(cpu)
                wall[packed].append(elapsed)
        packed_s, unpacked_s = statistics.median(seconds[True]), statistics.median(seconds[False])
        rows.append({"inputs": n, "points": 2**n, "words": words_for(2**n), "max_bits": bits, "candidates": candidates,
                     "functions": count, "repeats": repeats, "packed_seconds": packed_s, "unpacked_seconds": unpacked_s,
                     "packed_candidates_per_second": candidates / packed_s,
                     "unpacked_candidates_per_second": candidates / unpacked_s, "speedup": unpacked_s / packed_s,
                     "packed_wall_seconds": statistics.median(wall[True]),
                     "unpacked_wall_seconds": statistics.median(wall[False]),
                     "packed_runs": seconds[True], "unpacked_runs": seconds[False]})  # fmt: skip
    return {"grammar": "boolean", "rows": rows}


def main() -> None:
    print_packed_bench(run_packed_bench())


def print_packed_bench(report: dict[str, Any]) -> None:
    print("the boolean grammar on 2^n points, enumerate_functions to a bound: median CPU seconds of "
          f"{report['rows'][0]['repeats']} runs each (wall-clock medians in brackets)")  # fmt: skip
    print(f"{'inputs':>6} {'words':>5} {'bits':>6} {'candidates':>11} {'functions':>10} {'packed s':>16} "
          f"{'unpacked s':>16} {'packed cand/s':>14} {'unpacked cand/s':>16} {'speedup':>8}")  # fmt: skip
    for row in report["rows"]:
        print(f"{row['inputs']:>6} {row['words']:>5} {row['max_bits']:>6.2f} {row['candidates']:>11,} "
              f"{row['functions']:>10,} {row['packed_seconds']:>7.3f} [{row['packed_wall_seconds']:>6.3f}] "
              f"{row['unpacked_seconds']:>7.3f} [{row['unpacked_wall_seconds']:>6.3f}] "
              f"{row['packed_candidates_per_second']:>14.3g} {row['unpacked_candidates_per_second']:>16.3g} "
              f"{row['speedup']:>7.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()

"""`occam bench search`: every registered search method on the same tasks, side by side.

Per task and method, through the public `search.synthesize(task, SearchConfig(method=...))`
only, so that any searcher registered in `search.SEARCHERS` is measured without changes here:

- the exact-recovery rate over `restarts` runs (a stochastic method, one whose SearchConfig has
  a `seed`, runs with seeds 0 … restarts-1; a deterministic one runs once, its rate is 0 or 1
  and its row says `deterministic`), an exact fit being checked here by the reference evaluator
  (`dsl.evaluate`) against the task's training targets, and, for tasks with held-out points, the
  rate at which the program is the target function on all of them (fresh points for sampled
  real tasks: `bench.recovered`);
- the median CPU seconds (`time.process_time` around the call) of the runs that fit exactly,
  and of the searcher's own `stats.best_seconds` (when its best was found);
- the least bits among the exact fits, beside `minimal_bits`: the enumerator's best when its
  run on the task is certified (None when the enumerator was not run or not certified);
- the size-vs-rate curve (TerpreT's): each stochastic method's exact-recovery rate per bin of
  `minimal_bits` (`size_rate_curve`, in the report's JSON as "size_rate_curve").

A method that refuses a task (SearchError) gives a row with its `error` and null numbers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import dsl
import search
from dsl.library import builtin_task_file

from .bench import recovered

__all__ = ["CURVE_BIN_BITS", "DEFAULT_FILES", "FULL_SECONDS", "QUICK_RESTARTS", "QUICK_SECONDS", "QUICK_TASKS", "RESTARTS", "SEED_SETTINGS",
           "bench_search", "default_tasks", "exact_fit", "has_held_out_points", "is_stochastic", "method_row",
           "size_rate_curve", "target_everywhere"]

DEFAULT_FILES = ("boolean", "bitvector", "modular", "nguyen")  # the built-in library's files benchmarked by default
# --quick: small tasks of each class (4 Boolean, 2 bit-vector, 1 modular, 1 Nguyen) that the
# enumerator solves, certified, in under a CPU second each, run with QUICK_SECONDS per run and
# QUICK_RESTARTS runs of a stochastic method: the enumerator's part takes seconds, the relaxed
# searcher's at most 8 × 8 × 2 s, the hybrid's less (about 3–5 minutes in all on 2 cores).
QUICK_TASKS = ("xor2", "majority3", "parity4", "mux6", "hd03_rightmost_one", "hd09_abs", "mod_add_53", "nguyen1")
QUICK_SECONDS = 2.0  # the wall-clock budget of one run under --quick (SearchConfig.max_seconds)
FULL_SECONDS = 60.0  # ... and otherwise
RESTARTS = 20  # runs of a stochastic method per task
QUICK_RESTARTS = 8  # ... under --quick (each relaxed run is itself a batch of relaxed_restarts = 64 restarts)
DETERMINISTIC_METHODS = ("enumerate",)  # exact enumeration: the same result from every seed


def default_tasks(*, quick: bool) -> list[str]:
    """The built-in tasks benchmarked when none are named: those of DEFAULT_FILES (QUICK_TASKS for --quick)."""
    if quick:
        return list(QUICK_TASKS)
    return [name for name in dsl.builtin_task_names() if builtin_task_file(name).stem in DEFAULT_FILES]


SEED_SETTINGS = {"hybrid": "relaxed_seed"}  # a method seeded by another's setting (the hybrid's relaxed phase)


def seed_setting(method: str) -> str | None:
    """The SearchConfig setting that seeds `method`: its own `<method>_seed` (`relaxed_seed`),
    the one SEED_SETTINGS names, else a shared `seed`; None for the exact enumerator and for a
    config with none of them."""
    if method in DETERMINISTIC_METHODS:
        return None
    names = search.SearchConfig.field_names()
    return next((name for name in (f"{method}_seed", SEED_SETTINGS.get(method), "seed") if name in names), None)


def is_stochastic(method: str) -> bool:
    """Does `method` depend on a seed (its restarts vary it)?"""
    return seed_setting(method) is not None


def exact_fit(program: dsl.Expr, task: dsl.Task) -> bool:
    """Does `program` reproduce every training target? Computed by the reference evaluator
    (reals: to search's relative 1e-9, as the searchers' own `fits_train`)."""
    from search.synthesize import fits

    values = np.asarray(dsl.evaluate(program, task.env(task.train)))
    return fits(values, task.target_values[task.train], task.output_type.kind)


def target_everywhere(program: dsl.Expr, task: dsl.Task) -> bool | None:
    """Is `program` the target on the held-out points too: all of the task's points where some are
    held out of training, fresh points for a task sampled from real ranges (`recovered`); None for
    a task whose training set is its whole domain (nothing more to check)."""
    if _sampled_real(task):
        return recovered(program, task)
    if task.n_train == task.n_points:
        return None
    from search.synthesize import fits

    return fits(np.asarray(dsl.evaluate(program, task.env())), task.target_values, task.output_type.kind)


class Interrupted(Exception):
    """A run stopped by Ctrl-C (the enumerator catches KeyboardInterrupt and returns "interrupted")."""


def _run_once(task: dsl.Task, config: search.SearchConfig) -> dict[str, Any]:
    started = time.process_time()
    result = search.synthesize(task, config)
    cpu = time.process_time() - started
    if result.status == "interrupted":
        raise Interrupted
    best = result.best
    exact = best is not None and exact_fit(best.program, task)
    return {
        "exact": exact,
        "target": target_everywhere(best.program, task) if exact and best is not None else None,
        "bits": best.bits if exact and best is not None else None,
        "program": str(best.program) if best is not None else None,
        "cpu_seconds": cpu,
        "found_cpu_seconds": result.stats.best_seconds if exact else None,  # as the searcher reports it
        "certified": bool(result.certified and exact),
        "restart_success": result.stats.restart_success,  # the batch's fraction of restarts that fit (relaxed)
    }


def method_row(task: dsl.Task, method: str, base: search.SearchConfig, *, restarts: int) -> dict[str, Any]:
    """One (task, method) row: `restarts` runs with seeds 0 … restarts-1 for a stochastic
    method, one run otherwise. A SearchError (the method refuses the task) gives `error`."""
    stochastic = is_stochastic(method)
    count = restarts if stochastic else 1
    row: dict[str, Any] = {"task": task.name, "method": method, "restarts": count, "deterministic": not stochastic}
    try:
        setting = seed_setting(method)
        runs = [_run_once(task, base.replace(method=method, **({setting: seed} if setting else {})))
                for seed in range(count)]  # fmt: skip
    except dsl.SearchError as error:
        return {**row, "error": str(error), "success_rate": None, "target_rate": None, "median_cpu_seconds": None,
                "median_found_cpu_seconds": None, "bits": None, "program": None, "certified": False, "cpu_seconds": None,
                "restart_rate": None, "runs": []}  # fmt: skip
    solved = [run for run in runs if run["exact"]]
    best = min(solved, key=lambda run: run["bits"]) if solved else None
    return {
        **row,
        "success_rate": len(solved) / count,
        # of all runs, those whose exact fit is the target on the held-out points too
        "target_rate": sum(bool(run["target"]) for run in solved) / count if has_held_out_points(task) else None,
        "median_cpu_seconds": statistics.median(run["cpu_seconds"] for run in solved) if solved else None,
        # the searcher's own count of CPU seconds until its best was found (the enumerator goes
        # on to certify it), over the runs that report it
        "median_found_cpu_seconds": _median([run["found_cpu_seconds"] for run in solved]),
        "bits": best["bits"] if best else None,
        "program": best["program"] if best else runs[0]["program"],
        "certified": bool(best and best["certified"]),
        "cpu_seconds": sum(run["cpu_seconds"] for run in runs),
        # the mean over runs of stats.restart_success: the rate per relaxed restart (each run a batch)
        "restart_rate": _mean([run["restart_success"] for run in runs]),
        "runs": [{"seed": seed if stochastic else None, **{key: run[key] for key in _RUN_KEYS}}
                 for seed, run in enumerate(runs)],  # fmt: skip
    }


_RUN_KEYS = ("exact", "target", "bits", "cpu_seconds", "found_cpu_seconds", "program", "restart_success")  # each run's, in the JSON


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.fmean(known) if known else None


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def has_held_out_points(task: dsl.Task) -> bool:
    """Does `target_everywhere` check more than the training points: some points held out, or a
    task sampled from real ranges (checked on fresh points)?"""
    return _sampled_real(task) or task.n_train < task.n_points


def _sampled_real(task: dsl.Task) -> bool:
    return task.target is not None and task.output_type.kind == "real" and all(
        getattr(input_, "range", None) is not None for input_ in task.inputs)  # fmt: skip


def bench_search(
    tasks: Sequence[dsl.Task],
    *,
    methods: Sequence[str] | None = None,
    restarts: int = RESTARTS,
    max_seconds: float = FULL_SECONDS,
    max_candidates: int | None = None,
    log: Callable[[dict[str, Any]], None] = lambda row: None,
) -> dict[str, Any]:
    """Every method (default: all of search.SEARCHERS, the enumerator first: it certifies the
    minimum) on every task; `log(row)` as each row is measured. Ctrl-C stops it: the report
    holds the rows done so far and `interrupted` is True."""
    chosen = _ordered(list(methods) if methods is not None else list(search.SEARCHERS))
    base = search.SearchConfig(max_seconds=max_seconds, max_candidates=max_candidates, posterior_window=0)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    interrupted = False
    warmed: set[tuple[str, str]] = set()
    try:
        for task in tasks:
            minimal: float | None = None
            for method in chosen:
                _warm_up(task, method, base, warmed)
                row = method_row(task, method, base, restarts=restarts)
                if method == "enumerate" and row["certified"]:
                    minimal = row["bits"]
                row["minimal_bits"] = minimal
                rows.append(row)
                log(row)
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
    return {
        "suite": "search",
        "methods": chosen,
        "size_rate_curve": size_rate_curve(rows),
        "restarts": restarts,
        "max_seconds": max_seconds,
        "max_candidates": max_candidates,
        "rows": rows,
        "interrupted": interrupted,
        "wall_seconds": time.perf_counter() - started,
    }


CURVE_BIN_BITS = 10.0  # the size-vs-rate curve's bins of minimal bits: [0, 10), [10, 20), ...


def size_rate_curve(rows: Sequence[dict[str, Any]], *, bin_bits: float = CURVE_BIN_BITS) -> list[dict[str, Any]]:
    """TerpreT's curve: per stochastic method and bin of the certified minimal program's bits
    (`minimal_bits`, binned by `bin_bits`), the exact-recovery rate over all the bin's runs
    (`exact_runs / runs`) and the tasks in it. Rows without a certified minimum (the enumerator
    not run or not certified) fall in the bin whose `bits_from` is None; refused rows are left out."""
    bins: dict[tuple[str, float | None], dict[str, Any]] = {}
    for row in rows:
        if row["deterministic"] or row.get("error") or row["success_rate"] is None:
            continue
        minimal = row["minimal_bits"]
        start = None if minimal is None else bin_bits * (minimal // bin_bits)
        entry = bins.setdefault((row["method"], start), {
            "method": row["method"], "bits_from": start, "bits_to": None if start is None else start + bin_bits,
            "tasks": [], "runs": 0, "exact_runs": 0})  # fmt: skip
        entry["tasks"].append(row["task"])
        entry["runs"] += row["restarts"]
        entry["exact_runs"] += round(row["success_rate"] * row["restarts"])
    curve = sorted(bins.values(), key=lambda e: (e["method"], e["bits_from"] is None, e["bits_from"] or 0.0))
    return [{**entry, "success_rate": entry["exact_runs"] / entry["runs"] if entry["runs"] else None} for entry in curve]


def _warm_up(task: dsl.Task, method: str, base: search.SearchConfig, warmed: set[tuple[str, str]]) -> None:
    """One untimed run of `method` per task signature (input and output types), so that loading
    compiled kernels or importing torch is not counted in the first row's CPU seconds."""
    signature = (method, " ".join(str(input_.type) for input_ in task.inputs) + " -> " + str(task.output_type))
    if signature in warmed:
        return
    warmed.add(signature)
    setting = seed_setting(method)
    changes: dict[str, Any] = {setting: 0} if setting else {}
    try:
        result = search.synthesize(task, base.replace(method=method, max_seconds=min(base.max_seconds, 1.0), **changes))
    except dsl.SearchError:
        return  # the measured run reports it
    if result.status == "interrupted":
        raise Interrupted


def _ordered(methods: list[str]) -> list[str]:
    """The enumerator first (its certified bits are the other rows' `minimal_bits`); SearchError for an unknown method."""
    for method in methods:
        if method not in search.SEARCHERS:
            raise dsl.SearchError(f"method {method!r} is not a known search method",
                                  expected=f"one of {', '.join(map(repr, search.SEARCHERS))}")  # fmt: skip
    return sorted(dict.fromkeys(methods), key=lambda method: method != "enumerate")

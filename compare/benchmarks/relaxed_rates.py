"""Recovery rates of the relaxed searcher per estimator and with or without repair, on small
planted tasks (docs/search.md, "Estimators" and "Repair", quote its numbers):

    python -m compare.benchmarks.relaxed_rates [--estimators E,...] [--seeds N] [--repair | --no-repair]

Each task runs at the depth of its target (or the depth given), with the searcher's defaults
(64 restarts, 400 steps) and seeds 0 … N-1; per (estimator, task): the runs whose best program
fits (by the reference evaluator), the mean fraction of restarts whose final program fits
(`stats.restart_success`), the restarts repaired, the median CPU seconds of a run. One JSON line
per row on standard output.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import dsl
import search
from search.config import RELAXED_ESTIMATORS

from .search_bench import exact_fit

__all__ = ["DEFAULT_TASKS", "TASKS", "rates"]


def _task(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


TASKS: dict[str, tuple[Callable[[], dsl.Task], int]] = {  # name → (task, depth)
    "xor2": (lambda: dsl.load_task("xor2"), 3),
    "parity4": (lambda: dsl.load_task("parity4"), 2),
    "majority3": (lambda: dsl.load_task("majority3"), 3),
    "(a and b) or c": (lambda: _task("task b { input a, b, c: bool  output bool  target (a and b) or c  "
                                     "grammar boolean }"), 2),  # fmt: skip
    "x*x+x": (lambda: _task("task p { input x: real -1..1  output real  target x * x + x  sample 20 uniform "
                            "seed 0  grammar koza }"), 2),  # fmt: skip
    "nguyen1": (lambda: dsl.load_task("nguyen1"), 4),
}
DEFAULT_TASKS = ("xor2", "parity4", "majority3", "(a and b) or c", "x*x+x")  # nguyen1 only when named


def rates(estimators: Sequence[str], *, seeds: int = 5, repair: bool = False, depth: int | None = None,
          tasks: Sequence[str] = DEFAULT_TASKS) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    for estimator in estimators:
        for name in tasks:
            make, own_depth = TASKS[name]
            task, tree_depth = make(), depth if depth is not None else own_depth
            fitted, fractions, repaired, cpu = 0, [], 0, []
            for seed in range(seeds):
                config = search.SearchConfig(method="relaxed", relaxed_depth=tree_depth, relaxed_seed=seed,
                                             relaxed_estimator=estimator, relaxed_repair=repair, max_seconds=300)  # fmt: skip
                started = time.process_time()
                result = search.synthesize(task, config)
                cpu.append(time.process_time() - started)
                fitted += result.best is not None and exact_fit(result.best.program, task)
                fractions.append(result.stats.restart_success or 0.0)
                repaired += result.stats.restarts_repaired or 0
            row = {"estimator": estimator, "task": name, "depth": tree_depth, "repair": repair, "seeds": seeds,
                   "runs_fitted": fitted, "restart_success_mean": statistics.mean(fractions),
                   "restarts_repaired": repaired, "median_cpu_seconds": statistics.median(cpu)}  # fmt: skip
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimators", default=",".join(RELAXED_ESTIMATORS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--depth", type=int, default=None, help="every task at this depth (default: its target's)")
    parser.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help=f"among {', '.join(TASKS)}")
    parser.add_argument("--repair", action=argparse.BooleanOptionalAction, default=False)
    args = parser.parse_args(argv)
    rates(args.estimators.split(","), seeds=args.seeds, repair=args.repair, depth=args.depth,
          tasks=args.tasks.split(","))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed and convergence of the NNGP prior (neural/nngp.py) on {0,1}^7, the issue 12 set-up:

    python -m compare.benchmarks.nngp_bench [--repeat N]

The kernel of the 128 points (depth 2, relu and tanh, σ_w = σ_b = 1), then EP on all 128 points and
on a seeded random 64 of them for four functions from simple to random: CPU seconds (the least and
the median of N runs, after one warm-up that also compiles the numba kernels), EP sweeps, log2 P_B(f).
One JSON line per row on standard output.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from neural.nngp import ep_orthant, nngp_kernel

__all__ = ["main", "rows"]


def _seconds(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    run()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times), statistics.median(times)


def rows(repeat: int = 5) -> list[dict[str, object]]:
    n = 7
    x = ((np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(np.float64)
    result: list[dict[str, object]] = []
    for activation in ("relu", "tanh"):
        least, median = _seconds(partial(nngp_kernel, x, depth=2, activation=activation), repeat)
        result.append({"what": f"nngp_kernel 128 points, depth 2 {activation}", "cpu_s_min": least,
                       "cpu_s_median": median})  # fmt: skip
    kernel = nngp_kernel(x, depth=2)
    rng = np.random.default_rng(0)
    target = x[:, 0].astype(bool) | x[:, 2].astype(bool)
    functions = {
        "constant 1": np.ones(128, dtype=bool),
        "x1 OR x3": target,
        "x1 OR x3, 10% flipped": target ^ (rng.random(128) < 0.1),
        "uniform random": rng.random(128) < 0.5,
    }
    subsets = {128: np.arange(128), 64: np.sort(rng.choice(128, 64, replace=False))}
    for points, index in subsets.items():
        sub = kernel[np.ix_(index, index)]
        for name, table in functions.items():
            signs = np.where(table[index], 1.0, -1.0)
            found = ep_orthant(sub, signs)
            least, median = _seconds(partial(ep_orthant, sub, signs), repeat)
            result.append({"what": f"EP {points} points, {name}", "cpu_s_min": least, "cpu_s_median": median,
                           "sweeps": found.iterations, "converged": found.converged,
                           "log2_probability": found.log_probability / math.log(2)})  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per row (default 5)")
    arguments = parser.parse_args(argv)
    for row in rows(arguments.repeat):
        print(json.dumps(row))


if __name__ == "__main__":
    main()

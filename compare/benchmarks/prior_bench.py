"""`occam bench prior`: how fast random networks on the Boolean cube are sampled into truth tables
(neural/prior.py), against a naive per-network loop in the same run; float32 against float64;
Valle-Pérez et al.'s 2×10^5-sample figures; and batched fitting (Mingard et al. 2021's SGD runs).

- Throughput: `sample_tables` on the 7→40→40→1 ReLU prior (σ_w = σ_b = 1, 0/1 inputs) for each
  batch size, CPU-seconds by `time.process_time` (all threads of the process), the median of
  `repeats` runs; the naive baseline draws and evaluates one network at a time (torch.randn and
  three matrix products per network, as a first implementation would), on fewer networks, and
  its rate is set beside. The issue's target is 10^7 networks in ≤ 5 CPU-minutes, i.e. ≥ 33,333
  networks per CPU-second.
- Precision: the share of tables (and of outputs) whose sign differs between the float32 forward
  pass and float64 on the same parameters.
- Valle-Pérez reproduction: distinct functions among `samples` tables (np.unique on the rows),
  the shares of the two constant functions; REFERENCES.md's figures beside.
- Fitting: `fit_tables` on `nets` nets, |S| = `train_size` random points of a target, Adam
  lr 1e-3, full batch, binary cross-entropy, until each net fits S: CPU and wall seconds, the
  converged share, the median steps.

Measured on this project's 2-core machine (shared with other sessions, one thread), 2 Dec 2026:
- throughput (200,000 nets, median of 3, load ≈ 2.7): batch 256: 52,600, 512: 54,400, 1,024:
  59,400, 2,048: 60,600, 4,096: 71,200 nets per CPU-second; the naive loop 17,900 (4.0× slower
  than the best); 10^7 nets ≈ 140–180 CPU-s (target ≤ 300). 10^6 nets in one process (`--part
  sample --samples 1000000 --batch 2048`, /usr/bin/time -v): 18.1 CPU-s in the loop (55,300
  nets per CPU-second), 21.1 CPU-s with the imports, peak RSS 381 MB; batch 4,096: 18.2 CPU-s,
  399 MB. float32 against float64: 1 table of 200,000 differs.
- Valle-Pérez, 200,000 samples: seeds 0 … 3 give 48,625 / 48,687 / 48,307 / 48,271 distinct
  functions and constant shares 72.6, 72.7, 72.8, 72.8 % (each constant ≈ 36.3–36.6 %); the naive
  loop (torch.randn, independent code) gives 48,407 and 36.3 + 36.4 %. REFERENCES.md's 47,832
  and 36.6 + 36.5 % lie ≈ 3.5 and ≈ 5 standard deviations away (seed to seed: ≈ 190 functions,
  0.08 % of constant share), so that measurement's set-up differed slightly from this one (which follows
  nn-pacbayes: N(0, σ_w²/fan_in) weights, N(0, σ_b²) biases, 0/1 inputs, output > 0). What
  moves the figures (200,000 samples, another seed): σ_b = 1.025 gives 47,686 and 36.6 + 36.6 %
  — REFERENCES.md's figures —, σ_b = 1.05 gives 46,725 and 73.7 %, weights σ_w/√(fan_in + 1)
  45,256 and 74.5 %, ±1 inputs 85,114 and 51.9 %. So the reference is this set-up with biases
  about 2.5 % larger relative to the weights (or an equivalent change of scale). float32 changes
  1 table in 200,000; the threshold (> 0 or ≥ 0) cannot matter when σ_b > 0 (an output is exactly
  0 with probability 0); 0/1 inputs are right.
- fitting, 1,000 nets, |S| = 32 (seed 0), Adam lr 1e-3 full batch: parity of the 7 inputs
  9.2 CPU-s (11.8 CPU-s and 493 MB peak RSS for the process), 100 % converged, median 285 steps,
  979 distinct functions; x1 ∨ x3 4.5 CPU-s, 100 %, median 123 steps, 721 distinct functions.

Mingard et al. 2021's settings for the Boolean experiments could not be checked against their
paper's text from here; their code (guillefix/nn-pacbayes) trains with Adam and cross-entropy by
default (its SGD-vs-Bayes scripts: `--optimizer adam --loss ce`, stopping at 100 % training
accuracy, `--epochs_after_fit 1` on MNIST with batch 128), so the default here is Adam, lr 1e-3,
cross-entropy, full batch (|S| ≤ 64 points: a minibatch of 32 or more is most of S anyway).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np

__all__ = ["REFERENCE", "naive_tables", "run_fit_bench", "run_prior_bench", "valle_perez_figures"]

REFERENCE = {  # ../shared/REFERENCES.md, measured here by a naive implementation of their set-up
    "samples": 200_000, "distinct_functions": 47_832, "constant_shares": (0.366, 0.365), "naive_cpu_seconds": 22.0,
}  # fmt: skip
TARGET_NETS_PER_CPU_SECOND = 10**7 / 300


def naive_tables(prior: Any, nets: int, *, seed: int) -> np.ndarray:
    """The baseline: one network at a time, its parameters from torch.randn, its outputs on the
    cube by plain matrix products, thresholded and packed. The same prior, not the same networks."""
    import itertools
    import math

    import torch

    from neural.prior import boolean_inputs, pack_outputs

    generator = torch.Generator().manual_seed(seed)
    inputs = boolean_inputs(prior.inputs, prior.encoding)
    sizes = prior.sizes
    rows = []
    for _ in range(nets):
        x = inputs
        for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            weights = torch.randn(fan_in, fan_out, generator=generator) * (prior.sigma_w / math.sqrt(fan_in))
            x = x @ weights
            if prior.sigma_b > 0:
                x = x + torch.randn(fan_out, generator=generator) * prior.sigma_b
            if layer < len(sizes) - 2:
                x = torch.relu(x)
        rows.append(x[:, 0] > 0)
    return pack_outputs(torch.stack(rows))


def _cpu(function) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return time.process_time() - cpu, time.perf_counter() - wall, value


def run_prior_bench(*, samples: int = 200_000, batches: tuple[int, ...] = (256, 1024, 4096), repeats: int = 3,
                    naive_nets: int = 5_000, seed: int = 0, precision_nets: int = 20_000,
                    print_rows: bool = True) -> dict[str, Any]:  # fmt: skip
    """Throughput rows (one per batch size, and the naive loop), and the float32/float64 check."""
    import torch

    from neural.prior import MLPPrior, precision_disagreement, sample_tables
    from neural.train import _torch_settings

    prior = MLPPrior()
    rows: list[dict[str, Any]] = []

    def run(batch: int) -> int:
        return sum(len(tables) for tables in sample_tables(prior, samples, seed=seed, batch=batch))

    next(sample_tables(prior, 64, seed=seed, batch=64))  # numba's compiled kernel loaded, torch warmed up
    for batch in batches:
        times = [_cpu(lambda batch=batch: run(batch)) for _ in range(repeats)]
        cpu, wall = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
        rows.append({"method": f"batched ({batch} per batch)", "batch": batch, "nets": samples, "cpu_s": cpu,
                     "wall_s": wall, "nets_per_cpu_s": samples / cpu})  # fmt: skip
    with _torch_settings(1, True), torch.no_grad():
        times = [_cpu(lambda: naive_tables(prior, naive_nets, seed=seed)) for _ in range(repeats)]
    cpu, wall = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
    rows.append({"method": "naive (one network at a time)", "batch": 1, "nets": naive_nets, "cpu_s": cpu,
                 "wall_s": wall, "nets_per_cpu_s": naive_nets / cpu})  # fmt: skip
    best = max(rows[:-1], key=lambda row: row["nets_per_cpu_s"])
    result = {
        "prior": prior.name, "threads": 1, "rows": rows, "best_batch": best["batch"],
        "cpu_s_for_10M": 10**7 / best["nets_per_cpu_s"], "target_nets_per_cpu_s": TARGET_NETS_PER_CPU_SECOND,
        "speedup_over_naive": best["nets_per_cpu_s"] / rows[-1]["nets_per_cpu_s"],
        "precision": precision_disagreement(prior, precision_nets, seed=seed),
    }  # fmt: skip
    if print_rows:
        print(f"prior: {prior.name}, one thread, CPU seconds (median of {repeats})")
        for row in rows:
            print(f"  {row['method']:<32} {row['nets']:>9,} nets  {row['cpu_s']:7.2f} CPU-s  "
                  f"{row['nets_per_cpu_s']:>9,.0f} nets/CPU-s")  # fmt: skip
        print(f"  10^7 nets at the best batch ({best['batch']}): {result['cpu_s_for_10M']:.0f} CPU-s "
              f"(target ≤ 300); {result['speedup_over_naive']:.1f}× the naive loop")  # fmt: skip
        precision = result["precision"]
        print(f"  float32 vs float64 on {precision['networks']:,} nets: {precision['tables_differ']:.2e} of tables, "
              f"{precision['outputs_differ']:.2e} of outputs differ")  # fmt: skip
    return result


def valle_perez_figures(*, samples: int = 200_000, seed: int = 0, batch: int | None = None,
                        print_rows: bool = True) -> dict[str, Any]:  # fmt: skip
    """Distinct functions and the two constant functions' shares among `samples` networks of
    Valle-Pérez et al.'s prior, with REFERENCES.md's figures."""
    from neural.prior import DEFAULT_BATCH, MLPPrior, sample_tables

    prior = MLPPrior()
    cpu, wall, tables = _cpu(
        lambda: np.concatenate(list(sample_tables(prior, samples, seed=seed, batch=batch or DEFAULT_BATCH)))
    )
    functions, counts = np.unique(tables, axis=0, return_counts=True)
    zero = np.zeros(tables.shape[1], dtype=np.uint64)
    one = np.full(tables.shape[1], np.uint64(2**64 - 1))  # 128 points: both words full
    share = {
        name: float(counts[(functions == row).all(1)].sum()) / samples
        for name, row in (("0", zero), ("1", one))
    }
    result = {"prior": prior.name, "samples": samples, "seed": seed, "distinct_functions": len(functions),
              "constant_share": share["0"] + share["1"], "share_false": share["0"], "share_true": share["1"],
              "seen_at_least_5": int((counts >= 5).sum()), "cpu_s": cpu, "wall_s": wall,
              "reference": REFERENCE}  # fmt: skip
    if print_rows:
        print(f"Valle-Pérez set-up, {samples:,} samples, seed {seed}: {len(functions):,} distinct functions "
              f"(reference {REFERENCE['distinct_functions']:,}); constant 0: {share['0']:.1%}, constant 1: "
              f"{share['1']:.1%} (reference 36.6 % / 36.5 %); {cpu:.1f} CPU-s")  # fmt: skip
    return result


def run_fit_bench(*, nets: int = 1000, train_size: int = 32, target: str = "parity", seed: int = 0,
                  max_steps: int = 10_000, print_rows: bool = True) -> dict[str, Any]:  # fmt: skip
    """`fit_tables` on the 7→40→40→1 prior: |S| = `train_size` points drawn with `seed`, labels
    from `target` ("parity": of all 7 inputs; "x1_or_x3"); Adam lr 1e-3, full batch, cross-entropy."""
    from neural.prior import MLPPrior, fit_tables, unpack_tables

    prior = MLPPrior()
    points = np.random.default_rng(seed).choice(prior.points, train_size, replace=False)
    bits = (points[:, None] >> np.arange(prior.inputs - 1, -1, -1)) & 1  # x1 … x7
    labels = bits.sum(1) % 2 == 1 if target == "parity" else (bits[:, 0] | bits[:, 2]) == 1
    cpu, wall, result = _cpu(lambda: fit_tables(prior, points, labels, nets, seed=seed, max_steps=max_steps))
    functions = unpack_tables(result.tables[result.converged], prior.points)
    assert (functions[:, points] == labels).all()
    distinct = len(np.unique(result.tables[result.converged], axis=0))
    fitted_steps = result.steps[result.converged]
    row = {"prior": prior.name, "nets": nets, "train_size": train_size, "target": target, "optimizer": "adam",
           "lr": 1e-3, "batch_size": None, "loss": "cross_entropy", "cpu_s": cpu, "wall_s": wall,
           "converged_share": result.converged_share,
           "median_steps": float(np.median(fitted_steps)) if len(fitted_steps) else None,
           "max_steps": int(result.steps.max()), "distinct_functions": distinct}  # fmt: skip
    if print_rows:
        print(f"fit_tables: {nets} nets, |S| = {train_size} of {target}: {cpu:.1f} CPU-s ({wall:.1f} s wall), "
              f"{row['converged_share']:.1%} converged, median {row['median_steps']} steps, "
              f"{distinct} distinct functions")  # fmt: skip
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--part", choices=("throughput", "valle-perez", "fit", "sample"), default="throughput"
    )
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--batch", type=int, action="append", help="batch sizes (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nets", type=int, default=1000)
    parser.add_argument("--train-size", type=int, default=32)
    parser.add_argument("--target", default="parity")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    if args.part == "throughput":
        result = run_prior_bench(samples=args.samples, batches=tuple(args.batch or (256, 1024, 4096)),
                                 repeats=args.repeats, seed=args.seed)  # fmt: skip
    elif args.part == "valle-perez":
        result = valle_perez_figures(samples=args.samples, seed=args.seed, batch=(args.batch or [None])[0])
    elif args.part == "fit":
        result = run_fit_bench(nets=args.nets, train_size=args.train_size, target=args.target, seed=args.seed)
    else:  # one plain sampling run (for /usr/bin/time -v)
        from neural.prior import DEFAULT_BATCH, MLPPrior, sample_tables

        batch = (args.batch or [DEFAULT_BATCH])[0]
        cpu, wall, count = _cpu(lambda: sum(len(t) for t in sample_tables(MLPPrior(), args.samples, seed=args.seed,
                                                                          batch=batch)))  # fmt: skip
        result = {
            "samples": count,
            "batch": batch,
            "cpu_s": cpu,
            "wall_s": wall,
            "nets_per_cpu_s": count / cpu,
        }
        print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2, default=str)


if __name__ == "__main__":
    main()

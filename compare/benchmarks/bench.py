"""`occam bench synth`: what the synthesizer finds and how fast, measured in one run;
`occam bench train`: how fast the published training set-ups reach 99 % test accuracy here.

synth:

- Nguyen-1 … 12 as the DSR benchmark specifies them, for several seeds of the 20 sampled
  points: the program found, whether it is the target (equal on 1,000 fresh points), its bits,
  CPU seconds until it was found and in all, candidates per CPU-second;
- modular addition from its 30 % training split (mod_add_97, mod_add_113);
- the minimal programs of all 256 three-input and all 65,536 four-input Boolean functions;
- the compiled enumerator's throughput against a numpy-vectorized one with the same pruning
  (compare/benchmarks/baseline.py), on the same task and the same levels, as a ratio.

train: `gromov` on mod_add_97 (30 % split) and `nanda-mini` on mod_add_53 (50 %), each the
preset's whole run from seed 0: steps and CPU seconds to 99 % test accuracy, final accuracies,
CPU-ms per step, beside the reference figures measured on this kind of machine
(../shared/REFERENCES.md).

startup: `occam check majority3` and `occam synth majority3 --max-seconds 1` as fresh processes,
five times each: median wall and CPU seconds, peak RSS, and `python -X importtime`'s import
time per top-level package (and whether torch or matplotlib were loaded: they should not be).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from typing import Any

import numpy as np

import dsl
import search

from ..analysis.agree import agrees
from .baseline import numpy_enumerate

__all__ = ["TRAIN_REFERENCES", "bench_startup", "bench_synth", "bench_train", "recovered", "nguyen_with_seed"]

NGUYEN = [f"nguyen{n}" for n in range(1, 13)]


def nguyen_with_seed(name: str, seed: int) -> dsl.Task:
    """A built-in Nguyen task with its 20 training points drawn with another seed."""
    return dsl.load_task(name).with_sample(seed=seed)


def recovered(program: dsl.Expr, task: dsl.Task, *, points: int = 1000, seed: int = 12345) -> bool:
    """Is `program` the task's target function: equal (to 1e-6 relative; see agree.py) on fresh
    points drawn uniformly from the inputs' ranges?"""
    rng = np.random.default_rng(seed)
    env = {i.name: rng.uniform(i.range.low, i.range.high, points) for i in task.inputs}
    expected, found = dsl.evaluate(task.target, env), dsl.evaluate(program, env)
    scale = float(np.sqrt(np.nanmean(expected**2))) or 1.0
    with np.errstate(all="ignore"):
        tolerance = 1e-6 * (np.abs(expected) + scale)
    return bool(np.all(agrees(found, expected, kind="real", tolerance=tolerance)))


def _nguyen_rows(seeds: list[int], max_seconds: float, log) -> list[dict[str, Any]]:
    rows = []
    for name in NGUYEN:
        for seed in seeds:
            task = nguyen_with_seed(name, seed)
            result = search.synthesize(task, max_seconds=max_seconds, posterior_window=0)
            best = result.best
            solved = best is not None and best.fits_train and recovered(best.program, task)
            row = _search_row(name, seed, result, solved)
            rows.append(row)
            log(row)
    return rows


def _modular_rows(log) -> list[dict[str, Any]]:
    rows = []
    for name in ("mod_add_97", "mod_add_113"):
        task = dsl.load_task(name)
        result = search.synthesize(task, max_seconds=60, posterior_window=0)
        row = _search_row(name, 0, result, result.best is not None and result.best.fits_train and result.certified)
        rows.append(row)
        log(row)
    return rows


def _search_row(name: str, seed: int, result, solved: bool) -> dict[str, Any]:
    best, stats = result.best, result.stats
    return {
        "task": name,
        "seed": seed,
        "solved": bool(solved),
        "program": str(best.program) if best else None,
        "bits": best.bits if best else None,
        "certified": result.certified,
        "status": result.status,
        "found_cpu_seconds": stats.best_seconds,
        "cpu_seconds": stats.cpu_seconds,
        "candidates": stats.candidates,
        "candidates_per_second": stats.candidates_per_second,
        "peak_bank_mb": stats.peak_bank_bytes / 2**20,
    }


def _tables(grammars: list[tuple[int, str]], log) -> list[dict[str, Any]]:
    rows = []
    for inputs, grammar in grammars:
        names = ", ".join(f"x{i}" for i in range(1, inputs + 1))
        (task,) = dsl.parse_tasks(f"task all_functions {{\n input {names}: bool\n output bool\n target x1\n"
                                  f" grammar {grammar}\n}}")  # fmt: skip
        table = search.minimal_programs(task, max_seconds=300)
        row = {
            "inputs": inputs,
            "grammar": grammar,
            "functions": len(table),
            "complete": table.complete,
            "max_bits": float(table.bits.max()) if len(table) else None,
            "cpu_seconds": table.stats.cpu_seconds,
            "candidates": table.stats.candidates,
            "candidates_per_second": table.stats.candidates_per_second,
        }
        rows.append(row)
        log(row)
    return rows


def _throughput(max_size: int) -> dict[str, Any]:
    """Compiled against numpy on Nguyen-1's 20 points, programs up to `max_size` nodes: both keep
    every distinct function (no check-only phase), so they do the same work. The compiled side is
    search's public enumeration (`search.enumerate_functions`), timed over its levels only (its
    kernels are compiled before)."""
    task = dsl.load_task("nguyen1")
    baseline = numpy_enumerate(task, max_size=max_size)
    bits = max_size * math.log2(9) + 1e-9  # Koza with one input: 9 alternatives of one cost
    functions = search.enumerate_functions(task, max_bits=bits)
    started = time.process_time()
    for _ in functions:
        pass
    seconds = time.process_time() - started
    if functions.status not in ("bits", "exhausted"):  # stopped early: not the same work as numpy's
        raise RuntimeError(f"the compiled enumeration stopped early ({functions.status}): no fair ratio")
    stats = functions.stats()
    compiled_rate = stats.candidates / seconds
    numpy_rate = baseline["candidates"] / baseline["cpu_seconds"]
    return {
        "task": "nguyen1",
        "max_size": max_size,
        "compiled": {"candidates": stats.candidates, "distinct": stats.distinct,
                     "cpu_seconds": seconds, "candidates_per_second": compiled_rate},
        "numpy": {**baseline, "candidates_per_second": numpy_rate},
        "ratio": compiled_rate / numpy_rate,
    }  # fmt: skip


def bench_synth(*, quick: bool, log=lambda row: None) -> dict[str, Any]:
    """Run the suite (`quick`: one seed, 10 s per task, smaller tables; about a minute).
    `log(row)` is called as each row is measured."""
    started = time.perf_counter()
    search.synthesize(dsl.load_task("nguyen9"), max_seconds=30)  # compile the kernels before measuring
    seeds = [0] if quick else list(range(10))
    nguyen = _nguyen_rows(seeds, 10.0 if quick else 60.0, log)
    modular = _modular_rows(log)
    tables = _tables([(3, "boolean"), (4, "boolean_xor")] + ([] if quick else [(4, "boolean")]), log)
    throughput = _throughput(9 if quick else 11)
    return {
        "quick": quick,
        "tasks": nguyen + modular,
        "tables": tables,
        "throughput": throughput,
        "throughput_ratio_vs_numpy": throughput["ratio"],
        "recovered": {name: sum(r["solved"] for r in nguyen if r["task"] == name) for name in NGUYEN},
        "seeds": seeds,
        "wall_seconds": time.perf_counter() - started,
    }


# --- occam bench train --------------------------------------------------------------------------

TRAIN_REFERENCES = {  # preset → (task, reference figures: REFERENCES.md, measured on a 2-core machine)
    "gromov": ("mod_add_97", {"steps_to_99_test": 2000, "cpu_seconds_to_99_test": 67.0,
                              "text": "Gromov 2023 set-up at 30 % train: test ≥ 99 % at step ≈ 2000, 67 CPU s"}),
    "nanda-mini": ("mod_add_53", {"steps_to_99_test": 1000, "cpu_seconds_to_99_test": 41.0,
                                  "text": "Nanda et al. recipe, p = 53, 50 % train: 99.9 % test at epoch 1000, 41 CPU s"}),
}  # fmt: skip


def bench_train(*, log=lambda row: None, seed: int = 0) -> dict[str, Any]:
    """Run each preset of TRAIN_REFERENCES on its task; `log(row)` as each run ends."""
    import neural

    started = time.perf_counter()
    rows = []
    for preset_name, (task_name, reference) in TRAIN_REFERENCES.items():
        preset = neural.get_preset(preset_name)
        result = neural.train(dsl.load_task(task_name), preset.config, seed=seed)
        metrics = result.metrics()
        row = {
            "preset": preset_name,
            "task": task_name,
            "seed": seed,
            **{key: metrics[key] for key in ("steps", "steps_to_99_train", "steps_to_99_test", "cpu_seconds_to_99_test",
                                             "final_train_accuracy", "final_test_accuracy", "cpu_seconds",
                                             "eval_cpu_seconds", "cpu_seconds_per_step", "threads")},
            "reference": reference["text"],
            "reference_steps_to_99_test": reference["steps_to_99_test"],
            "reference_cpu_seconds_to_99_test": reference["cpu_seconds_to_99_test"],
        }  # fmt: skip
        rows.append(row)
        log(row)
    denormal = denormal_effect(seed=seed)
    log(denormal)
    return {"runs": rows, "flush_denormal": denormal, "wall_seconds": time.perf_counter() - started}


def denormal_effect(*, preset: str = "nanda-mini", warm_steps: int = 2000, block: int = 50, repeats: int = 5,
                    seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """CPU-ms per step late in a weight-decay run, with and without `torch.set_flush_denormal`.

    Trains `preset` on its task for `warm_steps` with flushing off (so that subnormal values
    accumulate where they arise), then, from copies of that same late state, times `block`
    full-batch steps without flushing and `block` with, alternately `repeats` times (so that
    other load on the machine falls on both alike), and counts the subnormal values in the
    parameters and the optimizer's state."""
    import copy

    import torch

    import neural
    from neural.train import model_inputs

    chosen = neural.get_preset(preset)
    task = dsl.load_task(chosen.task)
    config = neural.with_overrides(chosen, steps=warm_steps, flush_denormal=False, eval_every=warm_steps)
    result = neural.train(task, config, seed=seed)
    train_env = task.env(task.train)
    inputs = model_inputs(result.model, result.encoding, train_env)
    targets = torch.from_numpy(result.encoding.output.targets(task.target_values[task.train]))
    subnormal = _subnormals(result.model, result.optimizer)
    outputs, loss = result.model(inputs, targets)  # one more backward pass, unflushed: where are subnormals?
    outputs.retain_grad()
    loss.backward()
    subnormal["gradients"] = sum(_count_subnormal(parameter.grad) for parameter in result.model.parameters())
    subnormal["output_gradients"] = _count_subnormal(outputs.grad)  # ∂loss/∂logits, cast from the float64 loss
    subnormal["output_gradient_values"] = outputs.grad.numel()
    result.model.zero_grad(set_to_none=True)
    timings: dict[bool, list[float]] = {False: [], True: []}
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        for _ in range(repeats):
            for flush in (False, True):
                model, optimizer = copy.deepcopy((result.model, result.optimizer))
                torch.set_flush_denormal(flush)
                for group in optimizer.param_groups:
                    group["lr"] = config.lr
                started = time.process_time()
                for _ in range(block):
                    _, loss = model(inputs, targets)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                timings[flush].append(1000 * (time.process_time() - started) / block)
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(previous_threads)
    without, with_ = float(np.median(timings[False])), float(np.median(timings[True]))
    return {
        "preset": preset, "task": chosen.task, "warm_steps": warm_steps, "block": block, "repeats": repeats,
        "ms_per_step_without_flush": without, "ms_per_step_with_flush": with_, "speedup": without / with_,
        "blocks_without_flush": timings[False], "blocks_with_flush": timings[True],
        "early_ms_per_step": 1000 * result.train_cpu_seconds_per_step,
        "subnormal_values": subnormal,
    }  # fmt: skip


def _count_subnormal(tensor) -> int:
    import torch

    if not torch.is_tensor(tensor) or not tensor.is_floating_point():
        return 0
    tiny = torch.finfo(tensor.dtype).tiny
    return int(((tensor != 0) & (tensor.abs() < tiny)).sum())


def _subnormals(model, optimizer) -> dict[str, int]:
    """How many values of the parameters, and of each kind of optimizer state, are subnormal."""
    import torch

    counts = {"parameters": sum(_count_subnormal(parameter) for parameter in model.parameters())}
    for state in optimizer.state.values():
        for key, tensor in state.items():
            if torch.is_tensor(tensor) and tensor.dim():  # exp_avg, exp_avg_sq (not the step count)
                counts[key] = counts.get(key, 0) + _count_subnormal(tensor)
    return counts


# --- start-up ----------------------------------------------------------------------------------

STARTUP_COMMANDS = (("check", "majority3"), ("synth", "majority3", "--max-seconds", "1"))
# Packages whose import time is reported on its own; the rest is counted as "other".
STARTUP_PACKAGES = ("dsl", "search", "compare", "neural", "numpy", "numba", "sympy", "lark", "rich", "torch",
                    "matplotlib")  # fmt: skip
HEAVY = ("torch", "matplotlib")  # what no command but train, compare, diff and bench should load
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


def bench_startup(
    *, repeats: int = 5, commands: tuple[tuple[str, ...], ...] = STARTUP_COMMANDS, log=lambda row: None
) -> dict[str, Any]:
    """Start-up cost of small commands, each run `repeats` times as a fresh process (`python -m
    compare.app.cli …`, output discarded): median wall and CPU seconds (user + system, from the
    child's rusage) and peak RSS, and once under `python -X importtime`: the import time in all
    and per top-level package, and whether torch or matplotlib were loaded."""
    rows = []
    for argv in commands:
        runs = [_run_child(argv) for _ in range(repeats)]
        imports = _import_times(argv)
        row = {
            "command": "occam " + " ".join(argv),
            "repeats": repeats,
            "wall_seconds": float(np.median([run["wall_seconds"] for run in runs])),
            "cpu_seconds": float(np.median([run["cpu_seconds"] for run in runs])),
            "walls": [run["wall_seconds"] for run in runs],
            "cpus": [run["cpu_seconds"] for run in runs],
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
            **imports,
        }
        rows.append(row)
        log(row)
    return {"suite": "startup", "rows": rows}


def _child_command(argv: tuple[str, ...], *options: str) -> list[str]:
    return [sys.executable, *options, "-m", "compare.app.cli", *argv]


def _run_child(argv: tuple[str, ...]) -> dict[str, float]:
    started = time.perf_counter()
    child = subprocess.Popen(_child_command(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(_child_command(argv))} exited with status {child.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall_seconds": wall, "cpu_seconds": cpu, "peak_rss_mb": usage.ru_maxrss / 1024}


def _import_times(argv: tuple[str, ...]) -> dict[str, Any]:
    """`python -X importtime`'s report, summed per top-level package (cumulative times of the
    imports made at the top level, so nothing is counted twice)."""
    done = subprocess.run(_child_command(argv, "-X", "importtime"), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)  # fmt: skip
    per_package: dict[str, float] = {}
    loaded: set[str] = set()
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        cumulative, indent, name = int(match.group(2)), match.group(3), match.group(4)
        root = name.split(".")[0]
        loaded.add(root)
        if not indent:
            key = root if root in STARTUP_PACKAGES else "other"
            per_package[key] = per_package.get(key, 0.0) + cumulative / 1e6
    total = sum(per_package.values())
    return {
        "import_seconds": total,
        "import_seconds_by_package": dict(sorted(per_package.items(), key=lambda item: -item[1])),
        "heavy_imports": [name for name in HEAVY if name in loaded],
    }

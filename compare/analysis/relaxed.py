"""The relaxed search as a learner: its trajectory as the `FunctionTrace` a network writes.

Where it sits: `relaxed_trace(task, config)` runs the relaxed searcher with its recorder
(search/relaxed/trace.py) and turns the recorded steps into a neural `FunctionTrace`, which
`harness.compare` then reads exactly as it reads a network's: agreement with the minimal program,
distilled bits over the steps, `program_found_step`, the end of memorization.

A relaxed trace holds, per recorded step k (steps: Adam steps of the soft tree, at
`neural.trace_schedule(relaxed_steps)`: about 40 log-spaced, step 0 and the last):
- `outputs[k]`: the values, at every task point, of the discretized program of the restart chosen
  at that step (search/relaxed/trace.py: the search's answer had it stopped there — the shortest
  exact fit among the restarts' argmax programs, else the least total bits), by `dsl.evaluate`;
  `info["programs"][k]` is that program's text, `extra["program_bits"][k]` its bits;
- `extra["soft_outputs"][k]`: the same restart's soft tree, decoded to the output type (Booleans:
  true above ½), and `extra["soft_values"][k]` the soft values themselves (float64);
- `extra["restart"][k]`, `extra["fitting_restarts"][k]`, `extra["temperature"][k]`: which restart,
  how many restarts' programs fit the training points, τ;
- `metrics`: train and test loss — the objective's data term on the soft values (relative MSE for
  reals, binary cross-entropy in bits for Booleans), as a network's loss is its objective's —
  and accuracy (and RMSE for reals) of the discretized program's outputs, with the network's rules
  (reals: within `task.real_tolerance()`, the training's default tolerance);
- `probe_outputs[k]`: for a task with a real input, the program on the probe grid (`probe_grid`);
- `curve`: the same scalars at the recorded steps, with CPU seconds (search and recording).
`info` says `learner: "relaxed"`, holds the SearchConfig's JSON, the seed, and the search's result
(status, best program, bits, restart success).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from dsl import SearchError, Task, evaluate

if TYPE_CHECKING:  # neural imports torch: for the annotation only
    from neural.trace import FunctionTrace

__all__ = ["RELAXED_TRACE_POINTS", "SELECTION", "check_relaxed_learner", "relaxed_trace", "trace_of_steps"]

RELAXED_TRACE_POINTS = 40  # log-spaced trace steps, as a network's default
SELECTION = ("at each recorded step, of the restarts' discretized programs: the shortest exact fit on the training "
             "points, else the least total bits; ties by soft training loss, then restart index")  # fmt: skip


def check_relaxed_learner(task: Task, config: Any) -> None:
    """Raise, before anything runs, the SearchError the relaxed search would raise for `task`
    (a grammar it does not relax, a depth too small), saying that it is the learner's."""
    from search.relaxed import build_tree

    try:
        build_tree(task, config.relaxed_depth)
    except SearchError as error:
        raise SearchError(f"the learner `relaxed` cannot run on task `{task.name}`: {error.message}",
                          expected=error.expected, hint="--learner network compares a network alone") from None  # fmt: skip


def relaxed_trace(task: Task, config: Any, *, progress: Callable[[Any], None] | None = None) -> tuple[Any, FunctionTrace]:
    """Run the relaxed search on `task` (`config`: a SearchConfig; its `relaxed_*` settings) and
    record its trajectory: (its SynthesisResult, the FunctionTrace of the module docstring)."""
    from neural.trace import trace_schedule
    from search.relaxed import record_relaxed_trace

    config = config.replace(method="relaxed") if config.method != "relaxed" else config
    check_relaxed_learner(task, config)
    schedule = trace_schedule(config.relaxed_steps, count=RELAXED_TRACE_POINTS)
    result, steps = record_relaxed_trace(task, config, schedule=schedule.tolist(), progress=progress)
    return result, trace_of_steps(task, config, result, steps)


def trace_of_steps(task: Task, config: Any, result: Any, steps: list[Any]) -> FunctionTrace:
    """The FunctionTrace of recorded `RelaxedStep`s (search/relaxed/trace.py)."""
    from neural.trace import TraceRecorder, probe_grid
    from search.relaxed import decode_soft

    probe = probe_grid(task)
    recorder = TraceRecorder(task, head="program", probe=probe, info=_info(config, result, steps))
    tolerance = task.real_tolerance()
    for step in steps:
        metrics = _metrics(task, step, tolerance)
        recorder.evaluated(step.step, step.cpu_seconds, metrics)
        probe_outputs = None
        if probe is not None:
            size = len(next(iter(probe.values())))
            with np.errstate(all="ignore"):
                probe_outputs = evaluate(step.program, probe, size=size)
        recorder.record(step.step, step.outputs, metrics, probe_outputs)
    trace = recorder.trace()
    n = task.n_points
    trace.extra = {
        "soft_outputs": np.stack([decode_soft(s.soft_values, task) for s in steps]).astype(trace.outputs.dtype)
        if steps else np.zeros((0, n), trace.outputs.dtype),
        "soft_values": np.stack([s.soft_values for s in steps]) if steps else np.zeros((0, n)),
        "restart": np.array([s.restart for s in steps], dtype=np.int64),
        "program_bits": np.array([s.bits for s in steps], dtype=np.float64),
        "fitting_restarts": np.array([s.fitting_restarts for s in steps], dtype=np.int64),
        "temperature": np.array([s.temperature for s in steps], dtype=np.float64),
    }  # fmt: skip
    return trace


def _metrics(task: Task, step: Any, tolerance: float) -> dict[str, float]:
    """A network's metrics (neural/train.py's `_metrics`) for a recorded step: the losses of the
    soft tree, the accuracies (and RMSE) of the discretized program."""
    metrics = {"train_loss": step.train_loss, "test_loss": step.test_loss}
    outputs = step.outputs
    for split, mask, values in (("train", task.train, task.target_values), ("test", task.test, task.clean_values)):
        if not mask.any():
            metrics.update({f"{split}_loss": math.nan, f"{split}_accuracy": math.nan, f"{split}_rmse": math.nan})
            continue
        if task.output_type.kind == "real":
            with np.errstate(all="ignore"):
                error = outputs[mask].astype(np.float64) - values[mask]
                metrics[f"{split}_rmse"] = float(np.sqrt(np.mean(error**2)))
            metrics[f"{split}_accuracy"] = float(np.mean(np.abs(error) <= tolerance))
        else:
            metrics[f"{split}_rmse"] = math.nan
            metrics[f"{split}_accuracy"] = float(np.mean(outputs[mask] == values[mask]))
    return metrics


def _info(config: Any, result: Any, steps: list[Any]) -> dict[str, Any]:
    best = result.best
    return {
        "learner": "relaxed",
        "config": config.to_json(),
        "seed": config.relaxed_seed,
        "restarts": config.relaxed_restarts,
        "selection": SELECTION,
        "programs": [str(step.program) for step in steps],
        "result": {"status": result.status, "best": str(best.program) if best is not None else None,
                   "best_bits": best.bits if best is not None else None,
                   "best_fits_train": bool(best.fits_train) if best is not None else None,
                   "restart_success": result.stats.restart_success, "best_cpu_seconds": result.stats.best_seconds,
                   "cpu_seconds": result.stats.cpu_seconds},
    }  # fmt: skip

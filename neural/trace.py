"""Function traces: the function a network computes, recorded over training.

Where it sits: `train.py` evaluates the network on ALL the task's points at the steps of
`trace_schedule` (log-spaced, plus step 0, the steps the user asks for and the last) and hands
the decoded outputs to a `TraceRecorder`; compare/ reads the resulting `FunctionTrace` back with
`load_trace`, without the model or torch, to set the network's function beside the minimal
programs at every recorded step.

A trace holds, per recorded step k:
- `outputs[k]`: the decoded network outputs at every task point, in task order (shape
  (steps, n_points), the output type's values in the smallest dtype that holds them);
- `probe_outputs[k]`: for tasks with a real input (sampled points), the outputs on a dense probe
  grid over the input ranges, whose coordinates are `probe` (input name → (n_probe,)); see
  `probe_grid`. None for finite domains, where the task's points already are the whole domain;
- train/test loss and accuracy (regression: also RMSE; accuracy is the share within the
  tolerance);
- `extra[name][k]`: further per-step arrays a learner other than a network records (the relaxed
  search: the soft tree's outputs beside the discretized program's, the chosen restart; see
  compare/analysis/relaxed.py). Empty for a network, and then not written: a network's files are
  as before, and files written before `extra` existed load with it empty.
and a denser `curve` of the same scalars (with CPU seconds) at every evaluation step.

On disk: `NAME.npz` (compressed arrays) and `NAME.json` (everything else: task, fingerprint,
configuration, steps, the scalar series), each written to a temporary file and moved into place
with `os.replace`, so that an interrupted write never leaves a truncated trace. `NAME.json` holds
the sha256 of `NAME.npz` and of its own content: `load_trace` refuses a trace that was edited,
truncated or damaged on disk, rather than comparing programs against wrong outputs.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsl import Range, Task, TrainingError

__all__ = [
    "CURVE_KEYS", "METRICS", "FunctionTrace", "TraceRecorder", "content_sha256", "file_sha256", "is_sealed", "json_safe",
    "load_trace", "probe_grid", "save_trace", "sealed", "step_index", "trace_schedule", "write_atomically", "write_json",
]  # fmt: skip

METRICS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "train_rmse", "test_rmse")
CURVE_KEYS = ("step", "cpu_seconds", *METRICS)
FORMAT = "occam-function-trace/2"  # /2: with the sha256 of both files
PROBE_POINTS = 4096  # the probe grid's size, about


def trace_schedule(steps: int, *, count: int = 40, extra: Iterable[int] = ()) -> np.ndarray:
    """The steps at which a trace records the network's function: `count` steps log-spaced over
    1 … steps (fewer where they round to the same step), step 0, every step in `extra` within
    0 … steps, and `steps`. Sorted int64, unique."""
    logspaced = np.rint(np.geomspace(1, steps, count)) if steps >= 1 and count > 0 else np.array([])
    wanted = {0, steps, *(int(step) for step in logspaced), *(int(s) for s in extra if 0 <= int(s) <= steps)}
    return np.array(sorted(wanted), dtype=np.int64)


def probe_grid(task: Task, *, max_points: int = PROBE_POINTS) -> dict[str, np.ndarray] | None:
    """A dense grid over the input ranges, for tasks with a real input (None otherwise): G values
    per input, G = max(2, ⌊max_points^(1/inputs)⌋), evenly spaced over the declared range
    widened to every point the task holds (held-out points drawn over a wider `test` range
    included: extrapolation is seen); a finite input takes all its values when it has at most G.
    Columns of the grid's points, first input slowest."""
    if all(input_.type.kind != "real" for input_ in task.inputs):
        return None
    per_input = max(2, math.floor(max_points ** (1 / len(task.inputs)) + 1e-9))
    axes = []
    for input_ in task.inputs:
        values = task.points[input_.name]
        bounds = input_.bounds
        low, high = values.min(), values.max()
        if bounds is not None:
            low, high = min(bounds.low, low), max(bounds.high, high)
        if input_.type.kind == "real":
            axes.append(np.linspace(float(low), float(high), per_input))
        elif input_.type.kind == "bool":
            axes.append(np.array([False, True]))
        else:
            axes.append(np.unique(np.rint(np.linspace(int(low), int(high), per_input)).astype(np.int64)))
    mesh = np.meshgrid(*axes, indexing="ij")
    return {input_.name: np.ascontiguousarray(grid.ravel()).astype(input_.type.dtype)
            for input_, grid in zip(task.inputs, mesh)}


def step_index(steps: np.ndarray, step: int) -> int:
    """Where `step` is in a trace's increasing recorded `steps`; KeyError if it was not recorded."""
    index = int(np.searchsorted(steps, step))
    if index >= len(steps) or steps[index] != step:
        raise KeyError(f"step {step} is not in the trace (recorded: {steps.tolist()})")
    return index

@dataclass
class FunctionTrace:
    """The function a network computed over training (see the module docstring for the arrays)."""

    task: str
    fingerprint: str  # dsl.Task.fingerprint of the task the network was trained on
    output_type: str
    head: str  # encode.OutputEncoding.head
    steps: np.ndarray  # (k,) int64: the recorded steps, increasing
    outputs: np.ndarray  # (k, n_points): decoded outputs at every task point
    metrics: dict[str, np.ndarray]  # METRICS → (k,) float64 (NaN where undefined: no test points, not a regression)
    curve: dict[str, np.ndarray]  # CURVE_KEYS → (e,): the scalars at every evaluation step
    train: np.ndarray  # (n_points,) bool: the training points
    targets: np.ndarray  # (n_points,): the task's target values (what the network was trained on)
    probe: dict[str, np.ndarray] | None = None  # input name → (n_probe,): the probe grid
    probe_outputs: np.ndarray | None = None  # (k, n_probe)
    info: dict[str, Any] = field(default_factory=dict)  # config, seed, model, interrupted, …
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # name → (k, …): per-step arrays (module docstring)

    def __len__(self) -> int:
        return len(self.steps)

    def at(self, step: int) -> np.ndarray:
        """The outputs recorded at `step`."""
        return self.outputs[step_index(self.steps, step)]

    def first_step(self, metric: str, threshold: float) -> int | None:
        """The first evaluated step at which `metric` (a curve key) reached `threshold`."""
        reached = np.flatnonzero(self.curve[metric] >= threshold)
        return int(self.curve["step"][reached[0]]) if len(reached) else None


class TraceRecorder:
    """Collects evaluations during training and builds the `FunctionTrace`."""

    def __init__(self, task: Task, *, head: str, probe: Mapping[str, np.ndarray] | None, info: dict[str, Any]) -> None:
        self.task, self.head, self.probe, self.info = task, head, probe, info
        self.output_dtype = _compact_dtype(task)
        self.steps: list[int] = []
        self.outputs: list[np.ndarray] = []
        self.probe_outputs: list[np.ndarray] = []
        self.metrics: list[dict[str, float]] = []
        self.curve: list[dict[str, float]] = []

    @property
    def last_step(self) -> int | None:
        return self.curve[-1]["step"] if self.curve else None

    def evaluated(self, step: int, cpu_seconds: float, metrics: Mapping[str, float]) -> None:
        """A point of the curve."""
        self.curve.append({"step": step, "cpu_seconds": cpu_seconds, **{key: metrics[key] for key in METRICS}})

    def record(self, step: int, outputs: np.ndarray, metrics: Mapping[str, float], probe_outputs: np.ndarray | None) -> None:
        """The network's function at `step` (decoded outputs at every point)."""
        if self.steps and step <= self.steps[-1]:
            raise ValueError(f"step {step} recorded after step {self.steps[-1]}")
        self.steps.append(step)
        self.outputs.append(np.asarray(outputs).astype(self.output_dtype))
        self.metrics.append({key: metrics[key] for key in METRICS})
        if probe_outputs is not None:
            self.probe_outputs.append(np.asarray(probe_outputs).astype(self.output_dtype))

    def trace(self) -> FunctionTrace:
        task = self.task
        n = task.n_points
        return FunctionTrace(
            task=task.name,
            fingerprint=task.fingerprint,
            output_type=str(task.output_type),
            head=self.head,
            steps=np.array(self.steps, dtype=np.int64),
            outputs=np.stack(self.outputs) if self.outputs else np.zeros((0, n), self.output_dtype),
            metrics={key: np.array([m[key] for m in self.metrics], dtype=np.float64) for key in METRICS},
            curve={key: np.array([c[key] for c in self.curve], dtype=np.int64 if key == "step" else np.float64)
                   for key in CURVE_KEYS},
            train=np.asarray(task.train).copy(),
            targets=np.asarray(task.target_values).copy(),
            probe=dict(self.probe) if self.probe is not None else None,
            probe_outputs=np.stack(self.probe_outputs) if self.probe_outputs else None,
            info=dict(self.info),
        )


def _compact_dtype(task: Task) -> np.dtype:
    """The smallest dtype that holds every value of the output type (decoded outputs stay in it)."""
    type_ = task.output_type
    if type_.kind != "int":
        return type_.dtype
    bounds = task.output_range or (Range(*type_.bounds) if type_.is_bitvector else None)
    if bounds is None:
        return np.dtype(np.int64)
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= bounds.low and bounds.high <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


# --- files -------------------------------------------------------------------------------------


def write_atomically(path: str | os.PathLike, write) -> None:
    """Call `write(file)` on a temporary binary file beside `path`, then move it onto `path`."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a run's files are ordinary files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def json_safe(value: Any) -> Any:
    """NaN and ±inf → None, numpy scalars and arrays → Python values, recursively."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(item) for item in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_json(path: str | os.PathLike, data: Any) -> None:
    text = json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"
    write_atomically(path, lambda file: file.write(text.encode("utf-8")))


def content_sha256(data: Any) -> str:
    """The sha256 (hex) of `data` as JSON with sorted keys and no spaces: the same digest for the
    value written by `write_json` and for what `json.loads` reads back from that file."""
    text = json.dumps(json_safe(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sealed(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the sha256 of its content under "sha256" (`is_sealed` checks it)."""
    return {**data, "sha256": content_sha256(data)}


def is_sealed(data: dict[str, Any]) -> bool:
    """Whether "sha256" in `data` is the sha256 of the rest of its content (`sealed`)."""
    return "sha256" in data and data["sha256"] == content_sha256({k: v for k, v in data.items() if k != "sha256"})


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 (hex) of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_trace(trace: FunctionTrace, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write `trace` as PATH.npz and PATH.json (PATH without a suffix, or with `.npz`); returns
    both paths. PATH.json records the sha256 of PATH.npz and of its own content."""
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix in (".npz", ".json") else stem
    arrays = {"steps": trace.steps, "outputs": trace.outputs, "train": trace.train, "targets": trace.targets}
    if trace.probe is not None:
        arrays.update({f"probe/{name}": values for name, values in trace.probe.items()})
        if trace.probe_outputs is not None:
            arrays["probe_outputs"] = trace.probe_outputs
    arrays.update({f"extra/{name}": values for name, values in trace.extra.items()})
    npz, sidecar = stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomically(npz, lambda file: file.write(buffer.getbuffer()))
    meta = {
        "format": FORMAT,
        "task": trace.task,
        "fingerprint": trace.fingerprint,
        "output_type": trace.output_type,
        "head": trace.head,
        "arrays": npz.name,
        "arrays_sha256": hashlib.sha256(buffer.getbuffer()).hexdigest(),
        "n_points": int(trace.outputs.shape[1]),
        "probe_inputs": list(trace.probe) if trace.probe is not None else None,
        "steps": trace.steps,
        "metrics": trace.metrics,
        "curve": trace.curve,
        "info": trace.info,
    }  # fmt: skip
    if trace.extra:  # only then: a network's trace.json is as it was
        meta["extra"] = list(trace.extra)
    write_json(sidecar, sealed(meta))
    return npz, sidecar


def load_trace(path: str | os.PathLike) -> FunctionTrace:
    """A trace saved by `save_trace`: PATH.json, PATH.npz, PATH (the stem) or a run directory
    holding `trace.json`. Needs neither the model nor torch. Raises TrainingError, naming the
    file and what is wrong, for a file that is unreadable, of another format, edited (its
    sha256 differs) or inconsistent (arrays of the wrong shapes)."""
    path = Path(path)
    if path.is_dir():
        path = path / "trace"
    stem = path.with_suffix("") if path.suffix in (".npz", ".json") else path
    sidecar = stem.with_name(stem.name + ".json")
    expected = "a trace written by occam train (train it again)"
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TrainingError(f"cannot read the trace {sidecar}: {error}", expected=expected) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else f"a JSON {type(meta).__name__}"
        raise TrainingError(f"{sidecar} is not an occam function trace (format {found!r})",
                            expected=f"format {FORMAT}; an earlier occam wrote /1, without sha256 (train it again)")  # fmt: skip
    damaged = lambda problem: TrainingError(f"the trace {sidecar} is damaged: {problem}", expected=expected)  # noqa: E731
    if not is_sealed(meta):
        raise damaged("its content does not match the sha256 stored in it (edited, or written partly?)")
    data = _read_arrays(sidecar, meta, damaged)
    try:
        trace = _trace_from(meta, data)
        problems = list(_shape_problems(trace, meta["n_points"]))
    except KeyError as error:
        raise damaged(f"missing {error}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        raise damaged(str(error)) from None
    if problems:
        raise damaged(problems[0])
    return trace


def _read_arrays(sidecar: Path, meta: dict[str, Any], damaged) -> dict[str, np.ndarray]:
    """The arrays of the trace's npz file, once its bytes match the sha256 recorded in `meta`."""
    name = meta.get("arrays")
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise damaged(f"arrays = {name!r}; expected the name of a file beside it")  # never a path elsewhere
    npz = sidecar.with_name(name)
    try:
        content = npz.read_bytes()
    except OSError as error:
        raise TrainingError(f"cannot read the trace's arrays {npz}: {error}", expected="the .npz beside the .json") from None
    if hashlib.sha256(content).hexdigest() != meta.get("arrays_sha256"):
        raise damaged(f"{npz} does not match the sha256 recorded for it (truncated, edited, or another run's?)")
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}
    except Exception as error:  # a zip, zlib or npy header problem: however it shows, the file is not ours
        raise damaged(f"cannot read {npz}: {error}") from None


def _trace_from(meta: dict[str, Any], data: dict[str, np.ndarray]) -> FunctionTrace:
    probe = None
    if meta["probe_inputs"] is not None:
        probe = {name: data[f"probe/{name}"] for name in meta["probe_inputs"]}
    return FunctionTrace(
        task=meta["task"],
        fingerprint=meta["fingerprint"],
        output_type=meta["output_type"],
        head=meta["head"],
        steps=data["steps"],
        outputs=data["outputs"],
        metrics={key: _floats(values) for key, values in meta["metrics"].items()},
        curve={key: np.array(values, dtype=np.int64) if key == "step" else _floats(values)
               for key, values in meta["curve"].items()},
        train=data["train"],
        targets=data["targets"],
        probe=probe,
        probe_outputs=data.get("probe_outputs"),
        info=meta["info"],
        extra={name: data[f"extra/{name}"] for name in meta.get("extra", [])},  # absent in older files
    )


def _shape_problems(trace: FunctionTrace, n_points: Any) -> Iterable[str]:
    """What is inconsistent in a trace read back (each a sentence with the shapes found)."""
    steps = len(trace.steps)
    if trace.steps.ndim != 1 or trace.steps.dtype.kind not in "iu" or np.any(np.diff(trace.steps) <= 0):
        yield f"steps {trace.steps.tolist()!r:.80}; expected increasing integers"
    elif trace.outputs.shape != (steps, n_points):
        yield f"outputs of shape {trace.outputs.shape}; expected ({steps}, {n_points}): steps × points"
    elif trace.train.shape != (n_points,) or trace.train.dtype != bool or trace.targets.shape != (n_points,):
        yield f"train {trace.train.shape} {trace.train.dtype}, targets {trace.targets.shape}; expected ({n_points},) each"
    elif set(trace.metrics) != set(METRICS) or any(len(values) != steps for values in trace.metrics.values()):
        yield f"metrics {sorted(trace.metrics)}; expected {', '.join(METRICS)}, {steps} values each"
    elif set(trace.curve) != set(CURVE_KEYS) or len({len(values) for values in trace.curve.values()}) != 1:
        yield f"curve {sorted(trace.curve)}; expected {', '.join(CURVE_KEYS)}, of one length"
    elif trace.probe is not None and (trace.probe_outputs is None or trace.probe_outputs.shape[0] != steps
                                      or any(values.shape != trace.probe_outputs.shape[1:] for values in trace.probe.values())):  # fmt: skip
        yield "probe grid and probe outputs of inconsistent shapes"
    elif any(values.shape[:1] != (steps,) for values in trace.extra.values()):
        yield f"extra arrays of shapes {[values.shape for values in trace.extra.values()]}; expected {steps} steps first"
    elif not isinstance(trace.info, dict):
        yield f"info = {trace.info!r:.60}; expected an object"


def _floats(values: list) -> np.ndarray:
    return np.array([np.nan if value is None else value for value in values], dtype=np.float64)

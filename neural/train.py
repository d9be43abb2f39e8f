"""Training: one validated `TrainConfig`, a pure learning-rate schedule, a short loop.

Where it sits: `train(task, config, *, seed)` takes a dsl `Task` (its points, split and targets
are the single source of truth: nothing here re-splits or re-samples), encodes it (encode.py),
builds a model (models.py), trains it on the training points, and records the network's
function on ALL points at the trace steps (trace.py). With `out`, the run's directory receives
the trace, a checkpoint (checkpoint.py) and `metrics.json` — also when the run is interrupted
with Ctrl-C, which ends the loop at a step boundary and keeps everything computed so far.

CPU settings, chosen deliberately and restored afterwards:
- `torch.set_num_threads(config.threads)`, default 1. On this project's 2-core machines one
  thread gives the fewest CPU-seconds per step for these small models (measured: Gromov's
  network 24 ms/step on one thread, 45 CPU-ms on two, and far worse when another process holds
  the second core, as OpenMP's threads spin waiting for it); one thread is also what makes a run
  bitwise reproducible. Raise it on an idle many-core machine for wall time.
- `torch.set_flush_denormal(True)`: late in training, values fall into the subnormal range,
  whose arithmetic takes a slow path on x86 — measured on nanda-mini after 2,000 steps: 4 % of
  the loss's gradient at the logits (wrong-class probabilities near e^-90, cast from the float64
  loss to float32), which then enter the backward matrix products; also, in other set-ups,
  Adam's moment estimates of parameters whose gradients vanish and weights under weight decay.
  Flushing them to zero made late steps 1.3× faster there and changes nothing that a float32
  network can resolve (`occam bench train` measures it; docs/neural.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from dsl import Task, TrainingError
from dsl.errors import did_you_mean

from .encode import Encoding, encoding_for
from .models import ACTIVATIONS, DTYPES, LOSSES, MLP, MLPConfig, Transformer, TransformerConfig, objective
from .trace import FunctionTrace, TraceRecorder, json_safe, probe_grid, save_trace, trace_schedule, write_json

__all__ = ["TrainConfig", "TrainProgress", "TrainResult", "build_model", "evaluate", "learning_rate", "train"]

_Config = TypeVar("_Config")

MODELS = ("mlp", "transformer")
OPTIMIZERS = ("adamw", "sgd")
INITS = ("torch", "normal")
DEVICES = ("cpu", "cuda", "auto")
EVAL_CHUNK = 65536  # points per forward pass when evaluating (bounds the memory of big domains)
SAVE_EVERY_SECONDS = 60.0  # with `out`, the run's files are rewritten at trace steps at most this often
# Size limits, checked before a network is built (a config read from a file is held to them too):
# 10^8 parameters are 1.6 GB with their gradients and AdamW's moments in float32, days of CPU steps.
MAX_PARAMETERS = 10**8
MAX_DEPTH = 1000  # linear layers of an MLP (each a module: a million of them alone fill gigabytes)
MAX_STEPS = 10**9  # optimizer steps: far past any published run (Nanda et al.: 50,000), within int64 schedules


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run but the task and the seed. Validated on creation;
    `dataclasses.replace` makes variants, `to_json` / `from_json` convert to plain data."""

    model: str = "mlp"  # "mlp" or "transformer"
    # MLP
    depth: int = 2  # linear layers (2 = one hidden layer)
    width: int = 256
    activation: str = "relu"  # relu, gelu, tanh, square
    bias: bool = True
    init: str = "torch"  # "torch": U(±init_scale/√fan_in) (PyTorch's default at 1); "normal": N(0, init_scale²)
    init_scale: float = 1.0
    # transformer (Nanda et al. 2023's sizes)
    d_model: int = 128
    n_heads: int = 4
    d_head: int = 32
    d_mlp: int = 512
    unembed_vocabulary: bool = True  # read out p + 1 logits (with `=`), as their code does, when the classes are the operands' values
    # optimization
    optimizer: str = "adamw"  # "adamw" or "sgd"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW
    momentum: float = 0.0  # SGD
    weight_decay: float = 0.0  # decoupled (AdamW) or L2 (SGD)
    warmup_steps: int = 0  # lr × min(step / warmup_steps, 1), step counted from 0 (Nanda: 10)
    batch_size: int | None = None  # None: full batch (every training point, every step)
    loss: str = "cross_entropy"  # "cross_entropy" or "mse" (MSE against one-hot targets for classes)
    steps: int = 1000  # optimizer updates
    dtype: str = "float32"  # parameters and activations
    loss_dtype: str = "float32"  # the loss (Nanda et al.: float64)
    # recording and execution
    trace_points: int = 40  # log-spaced trace steps over the run (plus 0, trace_steps and the last)
    trace_steps: tuple[int, ...] = ()  # further steps at which to record the function
    eval_every: int | None = None  # steps between evaluations of the curve; None: steps // 100
    regression_tolerance: float = 0.05  # real outputs' accuracy: |error| ≤ Task.real_tolerance(this)
    device: str = "cpu"  # "cpu", "cuda" (refused when unavailable), "auto" (cuda when available)
    threads: int = 1  # torch.set_num_threads during training (see the module docstring)
    flush_denormal: bool = True  # torch.set_flush_denormal during training
    preset: str | None = None  # the preset this config came from (recorded, not used)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))
        object.__setattr__(self, "trace_steps", tuple(self.trace_steps))
        for problem in _problems(self):
            raise TrainingError(f"invalid training configuration: {problem}")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["betas"], data["trace_steps"] = list(self.betas), list(self.trace_steps)
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> TrainConfig:
        return config_from_json(TrainConfig, data, "training option")


def config_from_json(cls: type[_Config], data: Mapping[str, Any], what: str) -> _Config:
    """`cls(**data)` of a config dataclass, an unknown key a TrainingError naming it (and what it
    may have meant)."""
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in data:
        if key not in names:
            raise TrainingError(f"unknown {what} `{key}`", expected="one of " + ", ".join(names),
                                hint=did_you_mean(key, names))  # fmt: skip
    return cls(**data)


def choice_problems(config: object, choices: Mapping[str, Sequence[str]]) -> Iterator[str]:
    """A sentence for each setting of `config` not among its allowed `choices`."""
    for name, allowed in choices.items():
        value = getattr(config, name)
        if value not in allowed:
            yield f"{name} = {value!r}; expected one of {', '.join(allowed)}"


def integer_problems(config: object, names: Sequence[str], low: int = 1) -> Iterator[str]:
    """A sentence for each setting of `config` named in `names` that is not an integer ≥ `low`."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            yield f"{name} = {value!r}; expected " + ("a positive integer" if low == 1 else f"an integer ≥ {low}")


def _problems(config: TrainConfig) -> Iterator[str]:
    """What is wrong with `config`, one sentence each (showing the offending value)."""
    yield from choice_problems(config, {
        "model": MODELS, "activation": tuple(ACTIVATIONS), "init": INITS, "optimizer": OPTIMIZERS, "loss": LOSSES,
        "dtype": tuple(DTYPES), "loss_dtype": tuple(DTYPES), "device": DEVICES})  # fmt: skip
    yield from integer_problems(config, ("depth", "width", "d_model", "n_heads", "d_head", "d_mlp", "steps",
                                         "trace_points", "threads"))  # fmt: skip
    if isinstance(config.steps, int) and config.steps > MAX_STEPS:
        yield f"steps = {config.steps!r}; expected at most {MAX_STEPS:,} optimizer steps"
    if isinstance(config.depth, int) and config.depth > MAX_DEPTH:
        yield f"depth = {config.depth!r}; expected at most {MAX_DEPTH} layers"
    for name in ("lr", "init_scale", "regression_tolerance"):
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            yield f"{name} = {value!r}; expected a positive number"
    for name in ("momentum", "weight_decay"):
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            yield f"{name} = {value!r}; expected a number ≥ 0"
    if len(config.betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in config.betas):
        yield f"betas = {config.betas!r}; expected two numbers in [0, 1)"
    if not isinstance(config.warmup_steps, int) or config.warmup_steps < 0:
        yield f"warmup_steps = {config.warmup_steps!r}; expected an integer ≥ 0"
    for name in ("batch_size", "eval_every"):
        value = getattr(config, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            yield f"{name} = {value!r}; expected a positive integer or None"
    if any(isinstance(step, bool) or not isinstance(step, int) or step < 0 for step in config.trace_steps):
        yield f"trace_steps = {config.trace_steps!r}; expected integers ≥ 0"


def learning_rate(step: int, config: TrainConfig) -> float:
    """The learning rate of update `step` (0-based): linear warm-up min(step / warmup_steps, 1)
    as Nanda et al.'s LambdaLR, so the first update of a warm-up has rate 0; constant after."""
    if config.warmup_steps == 0:
        return config.lr
    return config.lr * min(step / config.warmup_steps, 1.0)


# --- models ------------------------------------------------------------------------------------


def build_model(config: TrainConfig, encoding: Encoding, *, seed: int = 0, task_name: str = "the task") -> torch.nn.Module:
    """The network `config` describes, sized for `encoding`, initialized from `seed` (on the CPU)."""
    head = encoding.output
    if config.loss == "cross_entropy" and head.head == "regression":
        raise TrainingError(f"cross-entropy needs a discrete output; {task_name}'s output ({head.type}) is regressed",
                            expected="loss mse (the `real` preset)")  # fmt: skip
    if config.model == "mlp":
        mlp = MLPConfig(n_inputs=encoding.n_features, n_outputs=head.size, depth=config.depth, width=config.width,
                        activation=config.activation, bias=config.bias, init=config.init, init_scale=config.init_scale,
                        head=head.head, loss=config.loss, loss_dtype=config.loss_dtype)  # fmt: skip
        _check_size(mlp.parameter_count, task_name)
        return MLP(mlp, seed=seed)
    vocabulary = encoding.token_vocabulary
    if vocabulary is None:
        inputs = ", ".join(input_.description for input_ in encoding.inputs)
        raise TrainingError(
            f"the transformer reads exactly two int inputs of one range as the tokens (a, b, =); {task_name} has {inputs}",
            expected="a task such as mod_add_97 (two inputs `int 0..p-1`), or --model mlp",
        )
    if head.head != "classes":
        raise TrainingError(f"the transformer reads out classes; {task_name}'s output ({head.type}) is not discrete",
                            expected="a bool output or an int output with a range")  # fmt: skip
    n_outputs = vocabulary if config.unembed_vocabulary and head.size == vocabulary - 1 else head.size
    transformer = TransformerConfig(vocabulary=vocabulary, n_outputs=n_outputs, d_model=config.d_model,
                                    n_heads=config.n_heads, d_head=config.d_head, d_mlp=config.d_mlp,
                                    head=head.head, loss=config.loss, loss_dtype=config.loss_dtype)  # fmt: skip
    _check_size(transformer.parameter_count, task_name)
    return Transformer(transformer, seed=seed)


def _check_size(parameters: int, task_name: str) -> None:
    """Refuse a network over MAX_PARAMETERS before any of it is allocated."""
    if parameters > MAX_PARAMETERS:
        raise TrainingError(f"the network would have {parameters:,} parameters for {task_name}",
                            expected=f"at most {MAX_PARAMETERS:,} (a smaller width, depth, d_model or d_mlp)")  # fmt: skip


def model_inputs(model: torch.nn.Module, encoding: Encoding, env: Mapping[str, np.ndarray]) -> torch.Tensor:
    """What `model` reads for the points of `env`: features (float32) or tokens (int64), on the CPU."""
    if model.input_kind == "tokens":
        return torch.from_numpy(encoding.tokens(env))
    return torch.from_numpy(encoding.features(env))


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device cuda was requested, but torch finds no CUDA device",
                            expected="device cpu, or auto (CUDA when present)")  # fmt: skip
    return torch.device(device)


# --- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    """The task's tensors on the training device."""

    inputs: torch.Tensor  # (n_points, …): every point, as the model reads it
    targets: torch.Tensor  # (n_points, …): encoded target values
    train_inputs: torch.Tensor  # inputs[train_index], gathered once for full-batch steps
    train_targets: torch.Tensor
    train_index: torch.Tensor  # (n_train,) int64
    train: np.ndarray  # (n_points,) bool
    train_mask: torch.Tensor  # the same, on the device
    train_values: np.ndarray  # target_values at the training points (what the network sees)
    test_values: np.ndarray  # clean_values at the held-out points
    probe_points: dict[str, np.ndarray] | None  # trace.probe_grid: input name → coordinates
    probe: torch.Tensor | None  # the probe grid, as the model reads it
    real_tolerance: float  # a real output within this of its target is right (Task.real_tolerance)


@torch.no_grad()
def evaluate(model: torch.nn.Module, inputs: torch.Tensor, *, chunk: int = EVAL_CHUNK) -> torch.Tensor:
    """The raw outputs (n, k) of `model` on `inputs`, in chunks of `chunk` points."""
    was_training = model.training
    model.eval()
    outputs = torch.cat([model(inputs[start : start + chunk])[0] for start in range(0, len(inputs), chunk)])
    model.train(was_training)
    return outputs


def _metrics(model, data: _Data, encoding: Encoding, config: TrainConfig) -> tuple[dict[str, float], np.ndarray, np.ndarray | None]:
    """Losses and accuracies on the train and test points; the decoded outputs at every point and
    on the probe grid."""
    outputs = evaluate(model, data.inputs)
    head = encoding.output
    decoded = encoding.decode(outputs.cpu().numpy())
    train_mask = data.train_mask
    dtype = DTYPES[config.loss_dtype]
    metrics: dict[str, float] = {}
    for split, mask, values in (("train", train_mask, data.train_values), ("test", ~train_mask, data.test_values)):
        chosen = decoded[data.train] if split == "train" else decoded[~data.train]
        if len(values) == 0:
            metrics.update({f"{split}_loss": math.nan, f"{split}_accuracy": math.nan, f"{split}_rmse": math.nan})
            continue
        loss = objective(outputs[mask], data.targets[mask], head=head.head, loss=config.loss, dtype=dtype)
        metrics[f"{split}_loss"] = float(loss)
        if head.head == "regression":
            error = chosen.astype(np.float64) - values
            metrics[f"{split}_rmse"] = float(np.sqrt(np.mean(error**2)))
            tolerance = 0.5 if head.integer else data.real_tolerance  # integers are decoded rounded: equality
            metrics[f"{split}_accuracy"] = float(np.mean(np.abs(error) <= tolerance))
        else:
            metrics[f"{split}_rmse"] = math.nan
            metrics[f"{split}_accuracy"] = float(np.mean(chosen == values))
    probe = None if data.probe is None else encoding.decode(evaluate(model, data.probe).cpu().numpy())
    return metrics, decoded, probe


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainProgress:
    """What the `progress` callback sees after each step."""

    step: int  # updates done
    steps: int  # updates planned
    loss: float  # the training loss of this step's batch (before its update)
    train_accuracy: float  # at the latest evaluation
    test_accuracy: float
    evaluated_step: int  # the step of the latest evaluation
    cpu_seconds: float


@dataclass
class TrainResult:
    """A finished (or interrupted) run: the trained model and its function trace."""

    task: Task
    config: TrainConfig
    seed: int
    encoding: Encoding
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer  # its state at the end (not saved in the checkpoint)
    trace: FunctionTrace
    steps: int  # updates done
    interrupted: bool
    cpu_seconds: float  # process CPU time of the loop (all threads), evaluations included
    eval_cpu_seconds: float  # of which evaluating and recording
    wall_seconds: float
    threads: int
    device: str
    out: Path | None = None

    @property
    def train_cpu_seconds_per_step(self) -> float | None:
        return (self.cpu_seconds - self.eval_cpu_seconds) / self.steps if self.steps else None

    def metrics(self) -> dict[str, Any]:
        """What `metrics.json` holds (plain JSON values: None where a number is undefined)."""
        trace, last = self.trace, {key: values[-1] for key, values in self.trace.metrics.items()}
        regression = self.encoding.output.head == "regression"
        to_99 = {f"steps_to_99_{split}": trace.first_step(f"{split}_accuracy", 0.99) for split in ("train", "test")}
        reached = np.flatnonzero(trace.curve["test_accuracy"] >= 0.99)
        data = {
            "task": self.task.name,
            "fingerprint": self.task.fingerprint,
            "preset": self.config.preset,
            "model": self.config.model,
            "parameters": sum(parameter.numel() for parameter in self.model.parameters()),
            "seed": self.seed,
            "steps": self.steps,
            "steps_requested": self.config.steps,
            "interrupted": self.interrupted,
            "status": "interrupted" if self.interrupted else "finished" if self.steps == self.config.steps else "running",
            "final_train_accuracy": last["train_accuracy"],
            "final_test_accuracy": last["test_accuracy"],
            "final_train_loss": last["train_loss"],
            "final_test_loss": last["test_loss"],
            **({"final_train_rmse": last["train_rmse"], "final_test_rmse": last["test_rmse"]} if regression else {}),
            **to_99,
            "cpu_seconds_to_99_test": float(trace.curve["cpu_seconds"][reached[0]]) if len(reached) else None,
            "cpu_seconds": self.cpu_seconds,
            "eval_cpu_seconds": self.eval_cpu_seconds,
            "cpu_seconds_per_step": self.train_cpu_seconds_per_step,
            "wall_seconds": self.wall_seconds,
            "wall_seconds_per_step": self.wall_seconds / self.steps if self.steps else None,
            "threads": self.threads,
            "device": self.device,
            "flush_denormal": self.config.flush_denormal,
            "torch": torch.__version__,
            "trace_steps": len(trace),
            "config": self.config.to_json(),
            "files": {"trace": "trace.npz", "trace_json": "trace.json", "checkpoint": "checkpoint.pt"},
        }
        return json_safe(data)

    def save(self, out: str | os.PathLike) -> Path:
        """Write the trace, the checkpoint and `metrics.json` into the directory `out`."""
        from .checkpoint import save_checkpoint

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        save_trace(self.trace, out / "trace")
        save_checkpoint(out / "checkpoint.pt", self.model, config=self.config, encoding=self.encoding,
                        task=self.task, seed=self.seed, step=self.steps)  # fmt: skip
        write_json(out / "metrics.json", self.metrics())
        self.out = out
        return out


def train(
    task: Task,
    config: TrainConfig,
    *,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train a network on `task`'s training points; record its function on all points.

    Ctrl-C (or a KeyboardInterrupt raised by `progress`) ends the run at a step boundary: the
    function at that step is recorded, the files are written (with `out`), and the result is
    marked `interrupted`. Same task, config and seed on the CPU: bitwise the same trace.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TrainingError(f"seed = {seed!r}; expected an integer ≥ 0")
    device = _resolve_device(config.device)
    encoding = encoding_for(task)
    init_seed, batch_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    model = build_model(config, encoding, seed=init_seed, task_name=f"task `{task.name}`")
    model = model.to(device=device, dtype=DTYPES[config.dtype])
    data = _data(task, encoding, model, config, device)
    info = {"config": config.to_json(), "seed": seed, "model": config.model, "device": str(device),
            "encoding": encoding.to_json()}  # fmt: skip
    recorder = TraceRecorder(task, head=encoding.output.head, probe=data.probe_points, info=info)
    optimizer = _optimizer(model, config)
    batches = _batches(data.train_index, config.batch_size, seed=batch_seed)
    # Ctrl-C is deferred to the end of a step for the whole run, saving included.
    with _torch_settings(config.threads, config.flush_denormal), _deferred_interrupt() as interrupt:
        run = _Run(model, optimizer, data, encoding, config, recorder)

        def save() -> None:
            if out is not None:
                run.result(task, seed, device=device).save(out)

        try:
            _loop(run, batches, interrupt, save=save, progress=progress)
        except KeyboardInterrupt:
            run.interrupted = True
            if recorder.steps[-1:] != [run.updates]:
                run.observe(run.updates, record=True)
        result = run.result(task, seed, device=device)
        if out is not None:
            result.save(out)
    return result


def _loop(run: _Run, batches: Iterator[torch.Tensor | None], interrupt: _Interrupt, *, save, progress) -> None:
    """The steps: update, evaluate at the curve's steps, record at the trace's, report."""
    config = run.config
    schedule = set(trace_schedule(config.steps, count=config.trace_points, extra=config.trace_steps).tolist())
    eval_every = config.eval_every or max(1, config.steps // 100)
    run.observe(0, record=True)
    for step in range(1, config.steps + 1):
        for group in run.optimizer.param_groups:
            group["lr"] = learning_rate(step - 1, config)
        loss = run.update(next(batches))
        if step in schedule or step % eval_every == 0:
            run.observe(step, record=step in schedule)
            if step in schedule and run.seconds_since_save() > SAVE_EVERY_SECONDS:
                save()
                run.saved()
        if progress is not None:
            progress(run.progress(step, loss))
        if interrupt.requested:
            raise KeyboardInterrupt


class _Run:
    """The loop's state: the model, its clocks, and what has been recorded."""

    def __init__(self, model, optimizer, data: _Data, encoding: Encoding, config: TrainConfig, recorder: TraceRecorder) -> None:
        self.model, self.optimizer, self.data, self.encoding = model, optimizer, data, encoding
        self.config, self.recorder = config, recorder
        self.updates = 0
        self.interrupted = False
        self.cpu_started, self.wall_started = time.process_time(), time.perf_counter()
        self.eval_cpu = 0.0
        self.last_save = time.perf_counter()
        self.latest: dict[str, float] = {"train_accuracy": math.nan, "test_accuracy": math.nan}
        self.latest_step = 0

    def update(self, batch: torch.Tensor | None) -> float:
        data = self.data
        inputs, targets = (data.train_inputs, data.train_targets) if batch is None else (
            data.inputs[batch], data.targets[batch])  # fmt: skip
        _, loss = self.model(inputs, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        return loss.item()

    def observe(self, step: int, *, record: bool) -> None:
        started = time.process_time()
        metrics, decoded, probe = _metrics(self.model, self.data, self.encoding, self.config)
        self.recorder.evaluated(step, started - self.cpu_started, metrics)
        if record:
            self.recorder.record(step, decoded, metrics, probe)
        self.latest, self.latest_step = metrics, step
        self.eval_cpu += time.process_time() - started

    def progress(self, step: int, loss: float) -> TrainProgress:
        return TrainProgress(step, self.config.steps, loss, self.latest["train_accuracy"],
                             self.latest["test_accuracy"], self.latest_step, time.process_time() - self.cpu_started)  # fmt: skip

    def seconds_since_save(self) -> float:
        return time.perf_counter() - self.last_save

    def saved(self) -> None:
        self.last_save = time.perf_counter()

    def result(self, task: Task, seed: int, *, device: torch.device) -> TrainResult:
        return TrainResult(
            task=task, config=self.config, seed=seed, encoding=self.encoding, model=self.model, optimizer=self.optimizer,
            trace=self.recorder.trace(), steps=self.updates, interrupted=self.interrupted,
            cpu_seconds=time.process_time() - self.cpu_started, eval_cpu_seconds=self.eval_cpu,
            wall_seconds=time.perf_counter() - self.wall_started, threads=self.config.threads, device=str(device),
        )  # fmt: skip


def _data(task: Task, encoding: Encoding, model: torch.nn.Module, config: TrainConfig, device: torch.device) -> _Data:
    dtype = DTYPES[config.dtype]

    def place(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(device=device, dtype=dtype if tensor.is_floating_point() else tensor.dtype)

    inputs = place(model_inputs(model, encoding, task.env()))
    targets = place(torch.from_numpy(encoding.output.targets(task.target_values)))
    train_index = torch.from_numpy(np.flatnonzero(task.train)).to(device)
    probe = probe_grid(task)
    return _Data(
        inputs=inputs, targets=targets, train_inputs=inputs[train_index], train_targets=targets[train_index],
        train_index=train_index, train=np.asarray(task.train), train_mask=torch.tensor(task.train, device=device),
        train_values=task.target_values[task.train], test_values=task.clean_values[task.test],
        probe_points=probe, probe=None if probe is None else place(model_inputs(model, encoding, probe)),
        real_tolerance=task.real_tolerance(config.regression_tolerance),
    )  # fmt: skip


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def _batches(train_index: torch.Tensor, batch_size: int | None, *, seed: int) -> Iterator[torch.Tensor | None]:
    """None forever (full batch), or minibatches of `train_index`: a fresh permutation (drawn
    from `seed`) each epoch, the last short batch of an epoch dropped."""
    n = len(train_index)
    if batch_size is None or batch_size >= n:
        while True:
            yield None
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=generator).to(train_index.device)
        for start in range(0, n - batch_size + 1, batch_size):
            yield train_index[order[start : start + batch_size]]


@contextlib.contextmanager
def _torch_settings(threads: int, flush_denormal: bool) -> Iterator[None]:
    """torch's thread count and denormal flushing for the run; restored afterwards (flushing is
    off by default in torch, and there is no getter)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.set_flush_denormal(flush_denormal)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        torch.set_flush_denormal(False)


class _Interrupt:
    requested = False


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[_Interrupt]:
    """Ctrl-C during the run sets a flag that the loop checks after each step, so the model is
    never left half-updated; a second Ctrl-C interrupts at once. Only in the main thread (where
    Python delivers signals); elsewhere KeyboardInterrupt is left alone."""
    flag = _Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag.requested = True
        signal.signal(signal.SIGINT, restore)

    previous = signal.signal(signal.SIGINT, handler)
    restore = previous if previous is not None else signal.default_int_handler  # None: set outside Python
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, restore)

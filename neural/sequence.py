"""Recurrent networks trained on a sequence task, recorded as `neural.train` records a feed-forward one.

Where it sits: `train_sequence(task, config)` takes a `dsl.SequenceTask` (its sequences, split and
targets are the single source of truth: nothing here re-splits or re-samples), encodes it, builds
one of neural/rnn.py's networks (`kind` mips | gru | lstm), trains it on the training sequences
and records, at ~40 log-spaced steps, its decoded per-step outputs over every TEST sequence
(`SequenceTrace`). At the end it holds the outputs over ALL sequences (`final_outputs`, for
distillation into a program), per-step and whole-sequence test accuracy, and the hidden states
(`hidden_states`, for `neural.probe.probe_states`).

Encoding (`SequenceEncoding`), decided per value domain, with one limit `categorical_limit`
(default 32) for inputs and the output alike:
- an input whose domain (a bool, a ranged int, a bit-vector) has FEWER than `categorical_limit`
  values is fed one-hot over its domain (`lo..hi` → `hi - lo + 1` features); a wider or unbounded
  one (x: int 0..99) is fed as its raw number, one feature, as MIPS feeds every input (their
  `vectorize_input: false`). Raw, not rescaled: the running sums of MIPS's tasks are then exact
  with unit weights, and the regressed outputs below are in the same units. With
  `scale_numbers` (the gru and lstm presets, whose states are bounded by tanh) numeric inputs and
  a regressed output are divided by their largest magnitude, into [-1, 1]. Features of several
  inputs are concatenated in declaration order.
- an output domain with fewer than `categorical_limit` values is classified (`hi - lo + 1`
  logits, cross-entropy over every step, decoded as argmax + lo); a wider or unbounded integer
  output (Sum_Last3 over 0..99: 0..297) is regressed as its raw value with MIPS's `log` loss
  0.5·log(1 + (ŷ - y)²) (or `mse`) and decoded by rounding to the nearest integer, as MIPS's
  accuracy does. The limit is lower than the 256 a classifier could hold because a wide output
  is numeric in MIPS's tasks (sums, counts): reading 199 sum values out of a hidden number as
  classes takes a read-out with ~199 linear pieces, while regression needs one linear map.
  MIPS regress every output (loss `log`, output_dim 1); cross-entropy for the small ones trains
  in fewer steps here, which is what a 2-core budget needs. Real outputs are refused.

Training: AdamW (MIPS's optimizer) at `learning_rate` (constant, or with `schedule = "cosine"`
lr·(1 + cos(π·step/steps))/2, decayed to 0 at the last step), minibatches of `batch_size` training
sequences (a fresh seeded permutation each epoch, the short last batch dropped; all of them each
step when the batch is larger), the loss averaged over every step of every sequence. Accuracy is
evaluated every `eval_every` steps and at every recorded step; with `target_accuracy`, the run
stops at the first evaluation whose accuracy on `stop_on` ("train" by default — the programs
are fitted on the training sequences too; MIPS select on test) reaches it; the stop step is
recorded. Threads (`torch.set_num_threads(config.threads)`, 1 by default: see neural/train.py)
and denormal flushing are set for the run and restored. Same task, config and seed on the CPU:
bitwise the same weights and trace. Ctrl-C (or a KeyboardInterrupt from `progress`) ends the
run at a step boundary and keeps everything recorded, the stop step included.

Checkpoints (`SequenceTraining.save`, `load_sequence_checkpoint`): the state dict, the config,
the encoding, the task's name and fingerprint, the trace as tensors, and the sha256 of it all,
read back with `torch.load(weights_only=True)`; a checkpoint of another task (fingerprint) or a
damaged one is refused with a TrainingError.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dsl import OccamError, Range, TrainingError
from dsl.errors import did_you_mean
from dsl.sequences import SequenceTask

from .models import ACTIVATIONS
from .rnn import KINDS, RNNConfig, _batches, build_rnn
from .trace import content_sha256, step_index, trace_schedule, write_atomically
from .train import (
    MAX_STEPS, _deferred_interrupt, _torch_settings, choice_problems, config_from_json, integer_problems,
)  # fmt: skip

__all__ = [
    "SEQUENCE_PRESETS", "InputCoding", "SequenceEncoding", "SequencePreset", "SequenceProgress", "SequenceTrace",
    "SequenceTrainConfig", "SequenceTraining", "SizeSearch", "fit_small_first", "get_sequence_preset",
    "load_sequence_checkpoint", "train_sequence",
]  # fmt: skip

FORMAT = "occam-sequence-checkpoint/1"
REGRESSION_LOSSES = ("log", "mse")
SCHEDULES = ("constant", "cosine")
STOP_ON = ("train", "test")
EVAL_CHUNK = 8192  # sequences per forward pass when evaluating
MAX_FEATURES = 4096  # per-step input features (one-hot widths are below categorical_limit each)


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceTrainConfig:
    """Everything that defines a sequence training run but the task. Validated on creation;
    `dataclasses.replace` makes variants, `to_json` / `from_json` convert to plain data."""

    kind: str = "mips"  # neural.rnn.KINDS: "mips" (h_t = MLP([h_{t-1}, x_t]), y_t = MLP(h_t)), "gru", "lstm"
    hidden: int = 16
    mlp_depth: int = 2  # linear layers of each of mips's two MLPs (1: linear)
    mlp_width: int = 32
    activation: str = "relu"  # mips
    learning_rate: float = 3e-3
    schedule: str = "constant"  # "constant" or "cosine" (decayed to 0 over `steps`: fine final precision)
    steps: int = 3000  # optimizer updates (at most; see target_accuracy)
    batch_size: int = 256  # sequences per update
    weight_decay: float = 0.0  # AdamW's, decoupled
    regression_loss: str = "log"  # wide outputs: "log" (MIPS: 0.5 log(1 + e²)) or "mse" (0.5 e²)
    categorical_limit: int = 32  # domains with fewer values: one-hot inputs, classified outputs
    scale_numbers: bool = False  # numeric inputs and regressed outputs divided by their largest magnitude
    seed: int = 0
    threads: int = 1
    flush_denormal: bool = True
    record_points: int = 40  # log-spaced recorded steps (plus 0 and the last)
    eval_every: int = 50  # steps between accuracy evaluations (for the early stop and progress)
    target_accuracy: float | None = (
        1.0  # stop once the per-step accuracy on `stop_on` reaches it (None: never)
    )
    stop_on: str = "train"  # "train" or "test"
    class_margin: float = 0.0  # the early stop also needs each right class's logit ahead of the others by this
    regression_margin: float = 0.0  # ... and each regressed output within 0.5 - this of its target (value units)
    polish_steps: int = 0  # L-BFGS iterations on the whole training set after `steps`, when the target is not met
    restarts: int = 0  # further runs (seeds seed+1, ...) when a run ends without reaching the target
    preset: str | None = None  # the preset this config came from (recorded, not used)

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise TrainingError(f"invalid sequence training configuration: {problem}")

    def rnn_config(self, inputs: int, outputs: int) -> RNNConfig:
        return RNNConfig(kind=self.kind, inputs=inputs, outputs=outputs, hidden=self.hidden, mlp_depth=self.mlp_depth,
                         mlp_width=self.mlp_width, activation=self.activation)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> SequenceTrainConfig:
        return config_from_json(SequenceTrainConfig, data, "sequence training option")


def _problems(config: SequenceTrainConfig) -> Iterable[str]:
    yield from choice_problems(config, {"kind": KINDS, "activation": tuple(ACTIVATIONS),
                                        "regression_loss": REGRESSION_LOSSES, "schedule": SCHEDULES, "stop_on": STOP_ON})  # fmt: skip
    yield from integer_problems(config, ("hidden", "mlp_depth", "mlp_width", "steps", "batch_size", "threads",
                                         "record_points", "eval_every"))  # fmt: skip
    yield from integer_problems(config, ("polish_steps", "restarts"), low=0)
    for name, high in (("class_margin", math.inf), ("regression_margin", 0.5)):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < high:
            yield f"{name} = {value!r}; expected a number in [0, {high})"
    if isinstance(config.steps, int) and config.steps > MAX_STEPS:
        yield f"steps = {config.steps!r}; expected at most {MAX_STEPS:,}"
    limit = config.categorical_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 2:
        yield f"categorical_limit = {limit!r}; expected an integer ≥ 2"
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
        yield f"seed = {config.seed!r}; expected an integer ≥ 0"
    lr = config.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        yield f"learning_rate = {lr!r}; expected a positive number"
    wd = config.weight_decay
    if isinstance(wd, bool) or not isinstance(wd, (int, float)) or not math.isfinite(wd) or wd < 0:
        yield f"weight_decay = {wd!r}; expected a number ≥ 0"
    target = config.target_accuracy
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target <= 1
    ):
        yield f"target_accuracy = {target!r}; expected a number in (0, 1] or None"
    for name in ("flush_denormal", "scale_numbers"):
        if not isinstance(getattr(config, name), bool):
            yield f"{name} = {getattr(config, name)!r}; expected true or false"


@dataclass(frozen=True)
class SequencePreset:
    name: str
    config: SequenceTrainConfig
    doc: str  # what it reproduces, from where, and how it was scaled


SEQUENCE_PRESETS: dict[str, SequencePreset] = {
    preset.name: preset
    for preset in (
        SequencePreset(
            "mips",
            SequenceTrainConfig(
                kind="mips",
                hidden=16,
                mlp_depth=2,
                mlp_width=32,
                activation="relu",
                learning_rate=1e-2,
                schedule="cosine",
                steps=3000,
                batch_size=256,
                weight_decay=0.0,
                regression_loss="log",
                class_margin=2.0,
                polish_steps=200,
                preset="mips",
            ),
            "Michaud et al. 2024 (MIPS, arXiv 2402.05110; ejmichaud/neural-verification, scripts/rnn_train.py "
            "and first_paper_final.yaml): h_t = MLP([h_{t-1}, x_t]), y_t = MLP(h_t), ReLU, AdamW lr 1e-3, no "
            "weight decay, batch 4,096 of ~900,000 training sequences (1e6 generated, 90 % train) of length 10, "
            "10,000 or 20,000 steps, loss `log` on raw numbers, 5 seeds per size, sizes searched small-first "
            "(hidden ≤ 128, MLP depth ≤ 3, width ≤ 256). Scaled to a 2-core CPU and ≤ ~30 s a task: the task "
            "file's 1,000-10,000 sequences, batch 256, at most 3,000 steps (~6 ms each, hidden 16, length 10, one "
            "thread) at lr 1e-2 decayed by a cosine to 0 (fewer, larger steps; the decay gives the rounded "
            "regression its final precision: Sum_Last3 at 10,000 sequences 99.85 % per step with it, 98.9 % at "
            "a constant 3e-3), one network of hidden 16 and MLPs of depth 2 and width 32 (fit_small_first "
            "searches sizes), one seed, cross-entropy for outputs of < 32 values, stopping once every training "
            "step is right. The trade-off: tasks MIPS train 20,000 steps on 900,000 sequences may not reach "
            "100 % here. Two additions of ours for exact outputs (distillation needs every training step right): "
            "the stop needs every right class's logit 2 ahead of the others (test misses on Base_4_Addition "
            "and Min_Seen went away), and a run that ends short of 100 % is polished by up to 200 L-BFGS "
            "iterations with MSE on the whole training set (Sum_All 94.5 % -> 99.98 %, Sum_Last3 99.87 % -> "
            "100 % train and test)",
        ),
        SequencePreset(
            "gru",
            SequenceTrainConfig(
                kind="gru",
                hidden=16,
                learning_rate=1e-2,
                schedule="cosine",
                steps=3000,
                batch_size=256,
                scale_numbers=True,
                preset="gru",
            ),
            "torch.nn.GRU (one layer, hidden 16) and a linear read-out, trained as the mips preset, but with "
            "numeric inputs and regressed outputs scaled into [-1, 1] (its state is bounded by tanh: raw sums "
            "of 0..99 saturate it; measured on Sum_Last3, 2,000 sequences: 17 % raw, 80 % scaled)",
        ),
        SequencePreset(
            "lstm",
            SequenceTrainConfig(
                kind="lstm",
                hidden=16,
                learning_rate=1e-2,
                schedule="cosine",
                steps=3000,
                batch_size=256,
                scale_numbers=True,
                preset="lstm",
            ),
            "torch.nn.LSTM (one layer, hidden 16; h_t read out, not the cell) and a linear read-out, trained as "
            "the gru preset",
        ),
    )
}


def get_sequence_preset(name: str) -> SequencePreset:
    if name not in SEQUENCE_PRESETS:
        raise TrainingError(f"no sequence preset named `{name}`", expected="one of " + ", ".join(SEQUENCE_PRESETS),
                            hint=did_you_mean(name, SEQUENCE_PRESETS))  # fmt: skip
    return SEQUENCE_PRESETS[name]


# --- encoding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputCoding:
    """How one per-step input is fed: "one_hot" over low..low+width-1, or "numeric" (one feature,
    the value divided by `scale`: 1, raw, unless the config scales numbers)."""

    name: str
    kind: str  # "one_hot" | "numeric"
    low: int
    width: int
    scale: float = 1.0


@dataclass(frozen=True)
class SequenceEncoding:
    """Inputs → per-step features, targets ↔ the network's outputs (module docstring)."""

    inputs: tuple[InputCoding, ...]
    head: str  # "classes" | "regression"
    low: int  # the output domain's lowest value (classes: the value of class 0)
    size: int  # classes (1 for regression)
    scale: float = 1.0  # regression: the network's output is the value divided by this

    @staticmethod
    def of(task: SequenceTask, categorical_limit: int, *, scale_numbers: bool = False) -> SequenceEncoding:
        """The encoding of `task`'s inputs and output; with `scale_numbers`, numeric inputs and a
        regressed output are divided by their largest magnitude (over the declared range, else
        over the training sequences), so that they lie in [-1, 1]."""

        def magnitude(domain: Range | None, values: np.ndarray) -> float:
            if not scale_numbers:
                return 1.0
            if domain is not None:
                largest = max(abs(float(domain.low)), abs(float(domain.high)))
            else:
                largest = float(np.max(np.abs(values[task.train]))) if values.size else 1.0
            return largest if largest > 0 else 1.0

        codings = []
        for input_ in task.inputs:
            domain = input_.bounds if input_.type.kind != "real" else None
            if domain is not None and domain.size < categorical_limit:
                codings.append(InputCoding(input_.name, "one_hot", int(domain.low), int(domain.size)))
            else:
                scale = magnitude(domain, np.asarray(task.sequences[input_.name], dtype=np.float64))
                codings.append(InputCoding(input_.name, "numeric", 0, 1, scale))
        if task.output_type.kind == "real":
            raise TrainingError(f"sequence task `{task.name}` has a real output",
                                expected="an int or bool output (rounded regression covers wide integers)")  # fmt: skip
        domain = task.output_domain
        if domain is not None and domain.size < categorical_limit:
            return SequenceEncoding(tuple(codings), "classes", int(domain.low), int(domain.size))
        scale = magnitude(domain, np.asarray(task.target_values, dtype=np.float64))
        return SequenceEncoding(tuple(codings), "regression", 0, 1, scale)

    @property
    def n_features(self) -> int:
        return sum(coding.width for coding in self.inputs)

    def features(self, env: Mapping[str, np.ndarray]) -> torch.Tensor:
        """(n, L, n_features) float32 for input arrays (n, L)."""
        parts = []
        for coding in self.inputs:
            values = np.asarray(env[coding.name]).astype(np.int64 if coding.kind == "one_hot" else np.float64)
            if coding.kind == "one_hot":
                index = values - coding.low
                if index.size and (index.min() < 0 or index.max() >= coding.width):
                    raise TrainingError(f"input `{coding.name}` has values outside its domain",
                                        expected=f"{coding.low}..{coding.low + coding.width - 1}")  # fmt: skip
                parts.append(F.one_hot(torch.from_numpy(index), coding.width).to(torch.float32))
            else:
                parts.append(torch.from_numpy(values / coding.scale).to(torch.float32).unsqueeze(-1))
        return torch.cat(parts, dim=-1)

    def targets(self, values: np.ndarray) -> torch.Tensor:
        """Class indices (int64) or values / scale (float32) of target values (n, L)."""
        values = np.asarray(values).astype(np.int64)
        if self.head == "classes":
            return torch.from_numpy(values - self.low)
        return torch.from_numpy((values / self.scale).astype(np.float32))

    def decode(self, outputs: torch.Tensor) -> np.ndarray:
        """Output values (int64, (n, L)) of the network's raw outputs (n, L, size)."""
        if self.head == "classes":
            return outputs.argmax(dim=-1).numpy().astype(np.int64) + self.low
        values = np.nan_to_num(
            outputs[..., 0].double().numpy() * self.scale, nan=0.0, posinf=2.0**62, neginf=-(2.0**62)
        )
        return np.rint(np.clip(values, -(2.0**62), 2.0**62)).astype(np.int64)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> SequenceEncoding:
        inputs = tuple(InputCoding(**coding) for coding in data["inputs"])
        return SequenceEncoding(inputs, str(data["head"]), int(data["low"]), int(data["size"]),
                                float(data.get("scale", 1.0)))  # fmt: skip


# --- results -----------------------------------------------------------------------------------


@dataclass
class SequenceTrace:
    """What the network computed over training, on the test sequences: `outputs[k]` (n_test, L)
    the decoded outputs at `steps[k]` (test sequences in task order: `test_index`)."""

    steps: np.ndarray  # (S,) int64, increasing
    outputs: np.ndarray  # (S, n_test, L) int64
    test_accuracy: np.ndarray  # (S,) per-step accuracy on the test sequences (nan without any)
    train_accuracy: np.ndarray  # (S,)
    test_index: np.ndarray  # (n_test,) int64: the test sequences' indices in the task

    def __len__(self) -> int:
        return len(self.steps)

    def at(self, step: int) -> np.ndarray:
        """The outputs recorded at `step`."""
        return self.outputs[step_index(self.steps, step)]


@dataclass(frozen=True)
class SequenceProgress:
    """What the `progress` callback sees after each step."""

    step: int
    steps: int
    loss: float  # this step's batch loss (before its update)
    train_accuracy: float  # at the latest evaluation
    test_accuracy: float


@dataclass
class SequenceTraining:
    """A finished, stopped (target reached) or interrupted run, or one read back from a checkpoint."""

    task: SequenceTask
    config: SequenceTrainConfig
    encoding: SequenceEncoding
    model: nn.Module
    trace: SequenceTrace
    final_outputs: np.ndarray  # (N, L) int64: decoded outputs over ALL sequences at the last step
    steps_run: int
    interrupted: bool
    reached_target: bool
    seconds: float = 0.0  # wall time of the loop
    cpu_seconds: float = 0.0
    losses: list[float] = field(default_factory=list)  # every update's batch loss (empty when loaded)

    @property
    def test_accuracy(self) -> float:
        """The share of test (sequence, step) outputs equal to the target (nan without test sequences)."""
        test = self.task.test
        return (
            float(np.mean(self.final_outputs[test] == self.task.target_values[test]))
            if test.any()
            else math.nan
        )

    @property
    def train_accuracy(self) -> float:
        train = self.task.train
        return float(np.mean(self.final_outputs[train] == self.task.target_values[train]))

    @property
    def sequence_accuracy(self) -> float:
        """The share of test sequences whose every step is right."""
        test = self.task.test
        if not test.any():
            return math.nan
        return float(np.mean(np.all(self.final_outputs[test] == self.task.target_values[test], axis=1)))

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def hidden_states(self, mask: np.ndarray | None = None) -> np.ndarray:
        """(n, L, H) float32: the hidden state after each step (h_1 … h_L; the LSTM's h, not its
        cell) of the sequences selected by `mask` (default all), for a probe."""
        with _torch_settings(self.config.threads, self.config.flush_denormal):
            _, hidden = _forward(self.model, self.encoding.features(self.task.env(mask)))
        return hidden.numpy()

    def outputs(self, mask: np.ndarray | None = None) -> np.ndarray:
        """(n, L) int64: the network's decoded outputs now on the sequences selected by `mask`."""
        with _torch_settings(self.config.threads, self.config.flush_denormal):
            outputs, _ = _forward(self.model, self.encoding.features(self.task.env(mask)))
        return self.encoding.decode(outputs)

    def metrics(self) -> dict[str, Any]:
        return {
            "task": self.task.name, "fingerprint": self.task.fingerprint, "preset": self.config.preset,
            "kind": self.config.kind, "hidden": self.config.hidden, "parameters": self.parameters,
            "head": self.encoding.head, "steps": self.steps_run, "steps_requested": self.config.steps,
            "interrupted": self.interrupted, "reached_target": self.reached_target,
            "train_accuracy": self.train_accuracy, "test_accuracy": self.test_accuracy,
            "sequence_accuracy": self.sequence_accuracy, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
        }  # fmt: skip

    def save(self, path: str | os.PathLike) -> Path:
        """Write the checkpoint to `path` (a file; see the module docstring)."""
        trace = self.trace
        arrays = {"steps": trace.steps, "outputs": trace.outputs, "test_accuracy": trace.test_accuracy,
                  "train_accuracy": trace.train_accuracy, "test_index": trace.test_index}  # fmt: skip
        payload: dict[str, Any] = {
            "format": FORMAT,
            "state_dict": {name: t.detach().cpu().clone() for name, t in self.model.state_dict().items()},
            "trace": {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()},
            "config": self.config.to_json(),
            "encoding": self.encoding.to_json(),
            "task": self.task.name,
            "fingerprint": self.task.fingerprint,
            "steps_run": self.steps_run,
            "interrupted": self.interrupted,
            "reached_target": self.reached_target,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
        }
        payload["sha256"] = _payload_sha256(payload)
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        path = Path(path)
        write_atomically(path, lambda file: file.write(buffer.getbuffer()))
        return path


def _payload_sha256(payload: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    plain = {key: value for key, value in payload.items() if key not in ("state_dict", "trace", "sha256")}
    digest.update(content_sha256(plain).encode())
    for group in ("state_dict", "trace"):
        tensors = payload.get(group)
        if not isinstance(tensors, Mapping) or not all(isinstance(t, torch.Tensor) for t in tensors.values()):
            raise ValueError(f"its {group} is not a mapping of names to tensors")
        for name in sorted(tensors, key=str):
            tensor = tensors[name].detach().contiguous()
            digest.update(json.dumps([group, str(name), str(tensor.dtype), list(tensor.shape)]).encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def load_sequence_checkpoint(path: str | os.PathLike, task: SequenceTask) -> SequenceTraining:
    """The run saved at `path`, on `task` (which must be the task it was trained on: same
    fingerprint). Its `final_outputs` are computed again from the weights over `task`."""
    path = Path(path)
    expected = "a checkpoint written by SequenceTraining.save"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (whatever the file is, it is not ours)
        raise TrainingError(
            f"cannot read the sequence checkpoint {path}: {error}", expected=expected
        ) from None
    if not isinstance(payload, Mapping) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, Mapping) else type(payload).__name__
        raise TrainingError(f"{path} is not an occam sequence checkpoint (format {found!r})", expected=FORMAT)
    try:
        if _payload_sha256(payload) != payload.get("sha256"):
            raise ValueError("its content does not match the sha256 stored in it (damaged or edited)")
        config = SequenceTrainConfig.from_json(payload["config"])
        encoding = SequenceEncoding.from_json(payload["encoding"])
        trained_on = (payload["task"], payload["fingerprint"])
        arrays = {name: tensor.numpy() for name, tensor in payload["trace"].items()}
        trace = SequenceTrace(arrays["steps"], arrays["outputs"], arrays["test_accuracy"], arrays["train_accuracy"],
                              arrays["test_index"])  # fmt: skip
        fields = (int(payload["steps_run"]), bool(payload["interrupted"]), bool(payload["reached_target"]),
                  float(payload["seconds"]), float(payload["cpu_seconds"]))  # fmt: skip
    except KeyError as error:
        raise TrainingError(
            f"the sequence checkpoint {path} is damaged: missing {error}", expected=expected
        ) from None
    except (TypeError, ValueError, AttributeError, OccamError) as error:
        reason = error.message if isinstance(error, OccamError) else error
        raise TrainingError(
            f"the sequence checkpoint {path} is damaged: {reason}", expected=expected
        ) from None
    if trained_on != (task.name, task.fingerprint):
        raise TrainingError(
            f"the sequence checkpoint {path} was trained on task `{trained_on[0]}` (fingerprint {trained_on[1]}), "
            f"not on `{task.name}` (fingerprint {task.fingerprint})",
            expected="the task (name, sequences, split and target) it was trained on",
        )
    if SequenceEncoding.of(task, config.categorical_limit, scale_numbers=config.scale_numbers) != encoding:
        raise TrainingError(f"the sequence checkpoint {path} encodes `{task.name}` differently than this version",
                            expected="a checkpoint written by this version of occam")  # fmt: skip
    try:
        model = build_rnn(config.rnn_config(encoding.n_features, encoding.size), seed=0)
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, OccamError) as failure:
        why = failure.message if isinstance(failure, OccamError) else str(failure)
        raise TrainingError(f"the sequence checkpoint {path} is damaged: {why}", expected=expected) from None
    model.eval()
    with _torch_settings(config.threads, config.flush_denormal):
        outputs, _ = _forward(model, encoding.features(task.env()))
    return SequenceTraining(task, config, encoding, model, trace, encoding.decode(outputs), *fields)


# --- training ----------------------------------------------------------------------------------


@torch.no_grad()
def _forward(model: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(outputs, hidden) of `model` on `inputs`, in chunks, in evaluation mode."""
    was_training = model.training
    model.eval()
    pieces = [model(inputs[start : start + EVAL_CHUNK]) for start in range(0, len(inputs), EVAL_CHUNK)]
    model.train(was_training)
    if not pieces:
        raise TrainingError("no sequences to evaluate")
    return torch.cat([y for y, _ in pieces]), torch.cat([h for _, h in pieces])


def _loss(outputs: torch.Tensor, targets: torch.Tensor, head: str, regression_loss: str) -> torch.Tensor:
    if head == "classes":
        return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1))
    error = outputs[..., 0] - targets
    if regression_loss == "log":
        return torch.mean(0.5 * torch.log1p(error * error))
    return torch.mean(0.5 * error * error)


def train_sequence(
    task: SequenceTask,
    config: SequenceTrainConfig,
    *,
    progress: Callable[[SequenceProgress], None] | None = None,
) -> SequenceTraining:
    """Train `config`'s network on `task`'s training sequences (module docstring). With
    `config.restarts`, a run that ends without reaching the target is followed by one with the
    next seed, up to `restarts` more; the first that reaches it is returned, else the most accurate
    (on `stop_on`; the earliest among equals). The returned run's config holds the seed it used."""
    best: SequenceTraining | None = None
    for offset in range(config.restarts + 1):
        run_config = config if offset == 0 else dataclasses.replace(config, seed=config.seed + offset)
        run = _train_once(task, run_config, progress=progress)
        if run.reached_target or run.interrupted:
            return run
        if best is None or _score(run) > _score(best):
            best = run
    assert best is not None
    return best


def _score(run: SequenceTraining) -> float:
    accuracy = run.test_accuracy if run.config.stop_on == "test" and run.task.n_test else run.train_accuracy
    return float(accuracy)


def _margins_met(outputs: torch.Tensor, targets: torch.Tensor, encoding: SequenceEncoding,
                 config: SequenceTrainConfig) -> bool:  # fmt: skip
    """Whether every output is right with the config's margin (outputs and targets of the same sequences)."""
    if encoding.head == "classes":
        if config.class_margin <= 0:
            return True
        right = outputs.gather(-1, targets.unsqueeze(-1))[..., 0]
        others = outputs.scatter(-1, targets.unsqueeze(-1), -math.inf).amax(dim=-1)
        return bool(torch.all(right - others >= config.class_margin))
    if config.regression_margin <= 0:
        return True
    error = (outputs[..., 0].double() - targets.double()).abs() * encoding.scale
    return bool(torch.all(error <= 0.5 - config.regression_margin))


def _train_once(
    task: SequenceTask,
    config: SequenceTrainConfig,
    *,
    progress: Callable[[SequenceProgress], None] | None = None,
) -> SequenceTraining:
    if task.n_train == 0:
        raise TrainingError(f"sequence task `{task.name}` has no training sequences")
    encoding = SequenceEncoding.of(task, config.categorical_limit, scale_numbers=config.scale_numbers)
    if encoding.n_features > MAX_FEATURES:
        raise TrainingError(f"`{task.name}`'s inputs encode to {encoding.n_features} features per step",
                            expected=f"at most {MAX_FEATURES}")  # fmt: skip
    init_seed, batch_seed = (int(s) for s in np.random.SeedSequence(config.seed).generate_state(2))
    model = build_rnn(config.rnn_config(encoding.n_features, encoding.size), seed=init_seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    inputs = encoding.features(task.env())
    targets = encoding.targets(task.target_values)
    train_index = torch.from_numpy(np.flatnonzero(task.train))
    train_inputs, train_targets = inputs[train_index], targets[train_index]
    test_index = np.flatnonzero(task.test)
    target_values = np.asarray(task.target_values)
    schedule = set(trace_schedule(config.steps, count=config.record_points).tolist())

    recorded: dict[str, list] = {"steps": [], "outputs": [], "test_accuracy": [], "train_accuracy": []}
    state: dict[str, Any] = {
        "step": 0,
        "train_accuracy": math.nan,
        "test_accuracy": math.nan,
        "evaluated": -1,
    }
    final: list[np.ndarray] = []
    losses: list[float] = []

    def observe(step: int, *, record: bool) -> bool:
        """Evaluate at `step` (recording the test outputs when `record`); True when the target is reached."""
        outputs, _ = _forward(model, inputs)
        decoded = encoding.decode(outputs)
        right = decoded == target_values
        train_accuracy = float(right[task.train].mean())
        test_accuracy = float(right[test_index].mean()) if len(test_index) else math.nan
        state.update(train_accuracy=train_accuracy, test_accuracy=test_accuracy, evaluated=step)
        final[:] = [decoded]
        on_train = config.stop_on == "train" or not len(test_index)
        reached = (
            config.target_accuracy is not None
            and (train_accuracy if on_train else test_accuracy) >= config.target_accuracy
        )
        if reached:
            index = train_index if on_train else torch.from_numpy(test_index)
            reached = _margins_met(outputs[index], targets[index], encoding, config)
        if record or reached:
            recorded["steps"].append(step)
            recorded["outputs"].append(decoded[test_index])
            recorded["test_accuracy"].append(test_accuracy)
            recorded["train_accuracy"].append(train_accuracy)
        return reached

    interrupted = reached = False
    with _torch_settings(config.threads, config.flush_denormal), _deferred_interrupt() as interrupt:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            reached = observe(0, record=True)
            batches = _batches(len(train_index), config.batch_size, seed=batch_seed)
            step = 0
            while not reached and step < config.steps:
                index = next(batches)
                if config.schedule == "cosine":
                    for group in optimizer.param_groups:
                        group["lr"] = (
                            config.learning_rate * 0.5 * (1 + math.cos(math.pi * step / config.steps))
                        )
                x, y = (
                    (train_inputs, train_targets)
                    if index is None
                    else (train_inputs[index], train_targets[index])
                )
                outputs, _ = model(x)
                loss = _loss(outputs, y, encoding.head, config.regression_loss)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                state["step"] = step
                losses.append(loss.item())
                if step in schedule or step % config.eval_every == 0:
                    reached = observe(step, record=step in schedule)
                if progress is not None:
                    progress(SequenceProgress(step, config.steps, losses[-1], state["train_accuracy"],
                                              state["test_accuracy"]))  # fmt: skip
                if interrupt.requested:
                    raise KeyboardInterrupt
            if not reached and config.polish_steps:
                reached = _polish(model, train_inputs, train_targets, encoding, config, state, observe, interrupt)
        except KeyboardInterrupt:
            interrupted = True
        if state["evaluated"] != state["step"] or recorded["steps"][-1:] != [state["step"]]:
            observe(state["step"], record=True)  # the last step, evaluated and recorded
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    model.eval()
    trace = SequenceTrace(
        steps=np.array(recorded["steps"], dtype=np.int64),
        outputs=np.stack(recorded["outputs"]).astype(np.int64),
        test_accuracy=np.array(recorded["test_accuracy"], dtype=np.float64),
        train_accuracy=np.array(recorded["train_accuracy"], dtype=np.float64),
        test_index=test_index.astype(np.int64),
    )
    return SequenceTraining(task, config, encoding, model, trace, final[0], state["step"], interrupted, reached,
                            seconds, cpu_seconds, losses)  # fmt: skip


POLISH_CHUNK = 25  # L-BFGS iterations between evaluations


def _polish(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, encoding: SequenceEncoding,
            config: SequenceTrainConfig, state: dict[str, Any], observe: Callable[..., bool],
            interrupt: Any) -> bool:  # fmt: skip
    """L-BFGS (strong Wolfe line search) on the whole training set, the loss cross-entropy or
    mean squared error (the `log` loss equals it near 0 and flattens a quadratic's curvature
    away from it), in chunks of POLISH_CHUNK iterations, each followed by an evaluation; stops
    at the target, after `polish_steps` iterations, or when a chunk no longer lowers the loss.
    Each iteration counts as one step. True when the target is reached."""
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=POLISH_CHUNK, history_size=50,
                                  tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        outputs, _ = model(inputs)
        loss = _loss(outputs, targets, encoding.head, "mse")
        loss.backward()
        return loss

    done, previous = 0, math.inf
    while done < config.polish_steps:
        chunk = min(POLISH_CHUNK, config.polish_steps - done)
        optimizer.param_groups[0]["max_iter"] = chunk
        loss = float(optimizer.step(closure).detach())
        done += chunk
        state["step"] += chunk
        if observe(state["step"], record=True):
            return True
        if interrupt.requested:
            raise KeyboardInterrupt
        if not math.isfinite(loss) or loss >= previous:
            break
        previous = loss
    return False


# --- small-first size search -------------------------------------------------------------------


@dataclass
class SizeSearch:
    """What `fit_small_first` tried, in order, and the network it chose."""

    best: SequenceTraining  # the smallest that reached the target, else the most accurate on test
    reached: bool  # whether any size reached the target test accuracy
    tried: list[dict[str, Any]]  # per run: hidden, mlp_width, seed, test_accuracy, steps, seconds
    stopped: str  # "reached", "exhausted" (every size tried) or "time"
    seconds: float


def fit_small_first(
    task: SequenceTask,
    config: SequenceTrainConfig,
    sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
    *,
    widths: Sequence[int] | None = None,
    target_accuracy: float = 1.0,
    seeds_per_size: int = 1,
    max_seconds: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> SizeSearch:
    """MIPS's architecture search, small first: for each hidden size in `sizes` (ascending), for
    each MLP width in `widths` (ascending; default the config's), `seeds_per_size` runs (seeds
    config.seed, +1, …), until one reaches `target_accuracy` on the test sequences (per step).
    Each run stops early at the config's own target; `max_seconds` bounds the whole search (checked
    between runs). MIPS then bisect between the last failure and the success; doubling sizes,
    this stops at the first success."""
    started = time.perf_counter()
    tried: list[dict[str, Any]] = []
    best: SequenceTraining | None = None
    stopped = "exhausted"
    candidates = [(h, w) for h in sorted(set(sizes)) for w in sorted(set(widths or [config.mlp_width]))]
    for hidden, width in candidates:
        for offset in range(seeds_per_size):
            if max_seconds is not None and best is not None and time.perf_counter() - started > max_seconds:
                stopped = "time"
                break
            run_config = dataclasses.replace(
                config, hidden=hidden, mlp_width=width, seed=config.seed + offset
            )
            run = train_sequence(task, run_config)
            accuracy = run.test_accuracy if task.n_test else run.train_accuracy
            row = {"hidden": hidden, "mlp_width": width, "seed": run_config.seed, "test_accuracy": accuracy,
                   "steps": run.steps_run, "seconds": run.seconds, "parameters": run.parameters}  # fmt: skip
            tried.append(row)
            if progress is not None:
                progress(row)
            best_accuracy = (
                -1.0 if best is None else (best.test_accuracy if task.n_test else best.train_accuracy)
            )
            if accuracy >= target_accuracy:
                return SizeSearch(run, True, tried, "reached", time.perf_counter() - started)
            if accuracy > best_accuracy:
                best = run
            if run.interrupted:
                stopped = "interrupted"
                break
        if stopped != "exhausted":
            break
    assert best is not None
    return SizeSearch(best, False, tried, stopped, time.perf_counter() - started)

"""Recurrent networks over sequences, and a minimal batched training loop for per-step classification.

Where it sits: sequence tasks do not exist yet (issue 13), so nothing here reads a dsl `Task`:
sequences come as tensors, inputs (n, length, inputs) float (already encoded, e.g. one-hot) and
targets (n, length) int64 class indices. `build_rnn` makes one of three networks, `train_rnn`
trains it with Adam on minibatches of whole sequences and records per-step accuracy.

The networks (`RNNConfig.kind`):
- "mips": Michaud et al. 2024's RNN, `h_t = f([h_{t-1}, x_t])`, `y_t = g(h_t)`, f and g MLPs of
  `mlp_depth` linear layers with `activation` between them (none after the last, so depth 1 is a
  linear map; ReLU by default as theirs). The first layer of f is split into its h and x columns so
  that the x part of every step is one matrix product before the loop; the step is the same
  function as the concatenated product (tests/neural/test_rnn.py checks it against a plain loop).
- "gru", "lstm": torch.nn.GRU / torch.nn.LSTM (one layer, batch_first) and a linear read-out.
Every network starts from h_0 = 0 (and c_0 = 0 for the LSTM) and returns its hidden state at every
step, `h` (batch, length, hidden) — h_1 … h_T, not h_0 — so that a probe can later be fitted from
it to a program's state. For the LSTM, `h` is the output state h_t, not the cell c_t.

Initialization draws every parameter from an explicit `seed` on the CPU with torch's default
distributions (Linear: U(±1/√fan_in) for weights and biases; GRU/LSTM: U(±1/√hidden)), so a seed
gives the same network on every device and in every process.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dsl import TrainingError

from .models import ACTIVATIONS
from .train import _deferred_interrupt, _torch_settings

__all__ = ["KINDS", "RNNConfig", "RNNProgress", "RNNRun", "build_rnn", "per_step_accuracy", "train_rnn"]

KINDS = ("mips", "gru", "lstm")
MAX_PARAMETERS = 10**8  # as neural.train: refused before anything is allocated
EVAL_CHUNK = 16384  # sequences per forward pass when evaluating


@dataclass(frozen=True)
class RNNConfig:
    """The architecture (the training settings are `train_rnn`'s arguments). Validated on creation."""

    kind: str = "mips"  # "mips" (h_t = MLP([h_{t-1}, x_t]), y_t = MLP(h_t)), "gru", "lstm"
    inputs: int = 1  # per-step input features (after encoding)
    outputs: int = 1  # per-step output units (classes for classification, 1 for regression)
    hidden: int = 16
    mlp_depth: int = 2  # linear layers of each MLP (mips)
    mlp_width: int = 32  # units of each MLP's hidden layers (mips)
    activation: str = "relu"  # a key of neural.models.ACTIVATIONS (mips)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TrainingError(f"invalid RNN configuration: kind = {self.kind!r}",
                                expected="one of " + ", ".join(KINDS))  # fmt: skip
        if self.activation not in ACTIVATIONS:
            raise TrainingError(f"invalid RNN configuration: activation = {self.activation!r}",
                                expected="one of " + ", ".join(ACTIVATIONS))  # fmt: skip
        for name in ("inputs", "outputs", "hidden", "mlp_depth", "mlp_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TrainingError(f"invalid RNN configuration: {name} = {value!r}",
                                    expected="a positive integer")  # fmt: skip
        if self.parameter_count > MAX_PARAMETERS:
            raise TrainingError(f"the RNN would have {self.parameter_count:,} parameters",
                                expected=f"at most {MAX_PARAMETERS:,} (smaller hidden or MLP sizes)")  # fmt: skip

    @property
    def parameter_count(self) -> int:
        """The network's parameter count, computed without building it (to refuse absurd sizes)."""
        h, i, o = self.hidden, self.inputs, self.outputs
        if self.kind == "mips":
            return _mlp_parameters(h + i, h, self.mlp_depth, self.mlp_width) + _mlp_parameters(
                h, o, self.mlp_depth, self.mlp_width)  # fmt: skip
        gates = 3 if self.kind == "gru" else 4
        return gates * (h * i + h * h + 2 * h) + h * o + o

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> RNNConfig:
        names = [f.name for f in dataclasses.fields(RNNConfig)]
        unknown = [key for key in data if key not in names]
        if unknown:
            raise TrainingError(f"unknown RNN option `{unknown[0]}`", expected="one of " + ", ".join(names))
        return RNNConfig(**data)


def _mlp_parameters(m: int, n: int, depth: int, width: int) -> int:
    sizes = [m] + [width] * (depth - 1) + [n]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def _mlp(m: int, n: int, depth: int, width: int) -> nn.ModuleList:
    sizes = [m] + [width] * (depth - 1) + [n]
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))


class MipsRNN(nn.Module):
    """h_t = f([h_{t-1}, x_t]), y_t = g(h_t), h_0 = 0 (module docstring). `cell[0]`'s weight
    columns are [h | x], in that order."""

    def __init__(self, config: RNNConfig) -> None:
        super().__init__()
        self.config = config
        self.cell = _mlp(config.hidden + config.inputs, config.hidden, config.mlp_depth, config.mlp_width)
        self.readout = _mlp(config.hidden, config.outputs, config.mlp_depth, config.mlp_width)
        self.activation = ACTIVATIONS[config.activation]

    def _rest(self, layers: nn.ModuleList, z: torch.Tensor) -> torch.Tensor:
        """The MLP `layers` after its first linear layer, given that layer's output `z`."""
        for layer in layers[1:]:
            z = layer(self.activation(z))
        return z

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.config.hidden
        first: nn.Linear = self.cell[0]  # type: ignore[assignment]
        w_h, w_x = first.weight[:, :hidden], first.weight[:, hidden:]
        from_x = F.linear(x, w_x, first.bias)  # (batch, length, first layer's width): every step at once
        h = x.new_zeros(x.shape[0], hidden)
        states = []
        for t in range(x.shape[1]):
            h = self._rest(self.cell, from_x[:, t] + h @ w_h.T)
            states.append(h)
        h_all = torch.stack(states, dim=1) if states else x.new_zeros(x.shape[0], 0, hidden)
        return self._rest(self.readout, self.readout[0](h_all)), h_all


class GatedRNN(nn.Module):
    """torch.nn.GRU or torch.nn.LSTM (one layer, h_0 = c_0 = 0) and a linear read-out of h_t."""

    def __init__(self, config: RNNConfig) -> None:
        super().__init__()
        self.config = config
        recurrent = nn.GRU if config.kind == "gru" else nn.LSTM
        self.recurrent = recurrent(config.inputs, config.hidden, batch_first=True)
        self.readout = nn.Linear(config.hidden, config.outputs)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h_all, _ = self.recurrent(x)  # no initial state given: torch starts from zeros
        return self.readout(h_all), h_all


def build_rnn(config: RNNConfig, *, seed: int) -> nn.Module:
    """The network `config` describes, initialized from `seed` on the CPU (module docstring).
    forward(x: (batch, length, inputs)) -> (y: (batch, length, outputs), h: (batch, length, hidden))."""
    model = MipsRNN(config) if config.kind == "mips" else GatedRNN(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                bound = 1 / math.sqrt(module.in_features)
                module.weight.uniform_(-bound, bound, generator=generator)
                module.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(module, (nn.GRU, nn.LSTM)):
                bound = 1 / math.sqrt(module.hidden_size)
                for parameter in module.parameters():
                    parameter.uniform_(-bound, bound, generator=generator)
    return model


# --- training ----------------------------------------------------------------------------------


@torch.no_grad()
def per_step_accuracy(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The share of (sequence, step) pairs whose argmax output is the target class."""
    was_training = model.training
    model.eval()
    right = 0
    for start in range(0, len(inputs), EVAL_CHUNK):
        y, _ = model(inputs[start : start + EVAL_CHUNK])
        right += int((y.argmax(dim=-1) == targets[start : start + EVAL_CHUNK]).sum())
    model.train(was_training)
    return right / targets.numel() if targets.numel() else math.nan


@dataclass(frozen=True)
class RNNProgress:
    """What the `progress` callback sees after each step."""

    step: int  # updates done
    steps: int  # updates planned
    loss: float  # this step's batch loss (before its update)
    train_accuracy: float  # at the latest evaluation
    test_accuracy: float


@dataclass
class RNNRun:
    """A finished, stopped (target accuracy reached) or interrupted (Ctrl-C) run."""

    model: nn.Module
    config: RNNConfig
    seed: int
    steps_run: int  # updates done
    interrupted: bool
    eval_steps: list[int] = field(default_factory=list)  # the steps evaluated (0 first, the last step last)
    train_accuracy: list[float] = field(default_factory=list)  # per-step accuracy at each of eval_steps
    test_accuracy: list[float] = field(default_factory=list)  # nan without a test set
    losses: list[float] = field(default_factory=list)  # every update's batch loss
    seconds: float = 0.0  # wall time of the loop, evaluations included
    cpu_seconds: float = 0.0  # process CPU time of the loop (all threads)

    def first_step(self, split: str, threshold: float) -> int | None:
        """The first evaluated step at which `split`'s accuracy is ≥ threshold (None if never)."""
        values = self.train_accuracy if split == "train" else self.test_accuracy
        return next((step for step, value in zip(self.eval_steps, values) if value >= threshold), None)


def train_rnn(
    config: RNNConfig,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    seed: int,
    steps: int,
    lr: float = 1e-3,
    batch: int = 4096,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    eval_every: int = 100,
    stop_at: float | None = None,
    threads: int = 1,
    flush_denormal: bool = True,
    progress: Callable[[RNNProgress], None] | None = None,
) -> RNNRun:
    """Train `build_rnn(config)` for per-step classification: cross-entropy over every step of
    every sequence, Adam (MIPS's optimizer) at `lr`, minibatches of `batch` sequences (a fresh
    permutation each epoch, the short last batch dropped; all sequences every step when batch ≥ n).

    Accuracies are evaluated at step 0, every `eval_every` steps and at the last step; with
    `stop_at`, the run stops at the first evaluation whose test accuracy (train without `test`)
    is ≥ stop_at. Threads and denormal flushing are set for the run and restored, as in
    neural.train (one thread: the fewest CPU-seconds per step on 2 cores, and bitwise
    reproducible). Same arguments and seed: the same weights, bitwise, on the CPU. Ctrl-C (or a
    KeyboardInterrupt from `progress`) ends the run at a step boundary and returns what was
    trained, evaluated at that step, with `interrupted` set.
    """
    _check_data(config, inputs, targets, "inputs")
    if test is not None:
        _check_data(config, test[0], test[1], "test inputs")
        test = (test[0].to(torch.float32), test[1])
    _check_counts(seed=seed, steps=steps, batch=batch, eval_every=eval_every)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise TrainingError(f"lr = {lr!r}", expected="a positive number")
    init_seed, batch_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    model = build_rnn(config, seed=init_seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    inputs = inputs.to(torch.float32)
    run = RNNRun(model=model, config=config, seed=seed, steps_run=0, interrupted=False)

    def observe() -> bool:
        """Evaluate at the current step; True when stop_at is reached."""
        run.eval_steps.append(run.steps_run)
        run.train_accuracy.append(per_step_accuracy(model, inputs, targets))
        run.test_accuracy.append(math.nan if test is None else per_step_accuracy(model, *test))
        watched = run.train_accuracy[-1] if test is None else run.test_accuracy[-1]
        return stop_at is not None and watched >= stop_at

    with _torch_settings(threads, flush_denormal), _deferred_interrupt() as interrupt:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            if not observe():
                for step, index in zip(range(1, steps + 1), _batches(len(inputs), batch, seed=batch_seed)):
                    x, y = (inputs, targets) if index is None else (inputs[index], targets[index])
                    run.losses.append(_update(model, optimizer, x, y))
                    run.steps_run = step
                    if (step % eval_every == 0 or step == steps) and observe():
                        break
                    if progress is not None:
                        progress(RNNProgress(step, steps, run.losses[-1], run.train_accuracy[-1],
                                             run.test_accuracy[-1]))  # fmt: skip
                    if interrupt.requested:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            run.interrupted = True
            if run.eval_steps[-1:] != [run.steps_run]:
                observe()
        run.seconds, run.cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    return run


def _update(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One Adam step on the mean cross-entropy over every step of the batch; its loss before the step."""
    outputs, _ = model(x)
    loss = F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        least = 0 if name in ("seed", "steps") else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise TrainingError(f"{name} = {value!r}", expected=f"an integer ≥ {least}")


def _check_data(config: RNNConfig, inputs: torch.Tensor, targets: torch.Tensor, name: str) -> None:
    if inputs.dim() != 3 or inputs.shape[2] != config.inputs:
        raise TrainingError(f"{name} have shape {tuple(inputs.shape)}",
                            expected=f"(sequences, length, {config.inputs}) for inputs = {config.inputs}")  # fmt: skip
    if targets.shape != inputs.shape[:2] or targets.dtype != torch.int64:
        raise TrainingError(f"targets for the {name}: shape {tuple(targets.shape)}, dtype {targets.dtype}",
                            expected=f"int64 class indices of shape {tuple(inputs.shape[:2])}")  # fmt: skip
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= config.outputs):
        raise TrainingError(f"targets for the {name} lie in {int(targets.min())}..{int(targets.max())}",
                            expected=f"classes 0..{config.outputs - 1} (outputs = {config.outputs})")  # fmt: skip


def _batches(n: int, batch: int, *, seed: int) -> Iterator[torch.Tensor | None]:
    """None forever (every sequence each step), or index minibatches: a fresh permutation from
    `seed` each epoch, the last short batch of an epoch dropped."""
    if batch >= n:
        while True:
            yield None
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch + 1, batch):
            yield order[start : start + batch]

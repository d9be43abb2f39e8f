"""The relaxed search's trajectory: the learner's function at chosen optimization steps.

Where it sits: `record_relaxed_trace` runs `relaxed_search` with a `RelaxedRecorder` as its
`observe` hook (called once before the first Adam step, as step 0, and after every step); at the
steps of its schedule the recorder reads the restarts as they are then and keeps one
`RelaxedStep`. compare/ turns those into a neural `FunctionTrace` (search does not import
neural), so the comparison reads the relaxed search exactly as it reads a network.

*Which restart is the learner.* At each recorded step, the relaxed search's answer had it stopped
there, read off the restarts as they are at that step (not the best met so far): of their
discretized (argmax) programs, the shortest that fits the training points (`synthesize.fits`,
the enumerator's rule), else the one of least total bits (description length + the bits of the
training targets given it, mdl.py's two-part code, as `relaxed_result` ranks); ties go to the
restart of lower soft training loss, then to the lower index. So the chosen restart may change
from step to step (`RelaxedStep.restart` says which it is); the recorded program's values are
the trace's outputs, and the same restart's soft tree gives the soft outputs beside them.

The soft values are the root slot's Σ softmax(logits/τ) mixture on every task point at the
temperature τ of the step just taken (step 0: the first temperature), as the objective saw them
on the training points; `decode_soft` reads them as the output type's values (Booleans: true
where the soft truth value is above ½; integers: rounded; a bit-vector's soft bits are first read
as their expected value). The losses are the objective's data
term (`searcher._data_loss`) on the training and on the held-out points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl import Expr, Task, evaluate
from dsl.grammars import description_length

from .searcher import _data_loss, _torch_settings, relaxed_search
from .tree import SoftTree

__all__ = ["RelaxedRecorder", "RelaxedStep", "decode_soft", "record_relaxed_trace"]


@dataclass(frozen=True)
class RelaxedStep:
    """The learner's function at one recorded step (module docstring: which restart it is)."""

    step: int  # Adam steps done
    restart: int  # the chosen restart
    program: Expr  # its discretized program
    bits: float  # dsl.description_length of it under the task's grammar
    fits_train: bool
    outputs: np.ndarray  # (n_points,): dsl.evaluate(program) at every task point
    soft_values: np.ndarray  # (n_points,) float64: the restart's soft root values
    train_loss: float  # the objective's data term on the training points (soft values)
    test_loss: float  # the same on the held-out points (NaN without any)
    fitting_restarts: int  # restarts whose discretized program fits the training points
    temperature: float
    cpu_seconds: float  # process CPU seconds from the recorder's start to this record (search and recording)


@dataclass(frozen=True)
class _Scored:
    fits: bool
    bits: float
    total_bits: float


class RelaxedRecorder:
    """The `observe` hook of `relaxed_search`: keeps a `RelaxedStep` at every step of `schedule`
    it sees; `finish()` adds the last step seen when the search stopped before the schedule's end
    (time, Ctrl-C)."""

    def __init__(self, task: Task, schedule: Iterable[int], *, precision: float | None = None) -> None:
        from ..mdl import DataCode
        from ..space import STORAGE

        self.task = task
        self.schedule = {int(step) for step in schedule}
        self.steps: list[RelaxedStep] = []
        self._cpu_started = time.process_time()
        self._storage = STORAGE[task.output_type.kind]
        targets = np.asarray(task.target_values).astype(self._storage)
        self._code = DataCode(task, task.train, targets, precision=precision)
        self._scored: dict[str, _Scored] = {}  # program text → its fit and bits, over the whole run
        self._last: tuple[int, SoftTree, list[Any], float] | None = None
        self._tensors: tuple[dict[str, Any], Any, Any, Any] | None = None

    def observe(self, step: int, tree: SoftTree, logits: list[Any], temperature: float) -> None:
        """After `step` Adam steps: `logits` per slot (R, A_s), `temperature` of that step."""
        state = [t.detach().clone() for t in logits]  # the live tensors move on
        self._last = (step, tree, state, temperature)
        if step in self.schedule:
            self._record(step, tree, state, temperature)

    def finish(self) -> list[RelaxedStep]:
        """The recorded steps, the last step seen among them."""
        if self._last is not None and (not self.steps or self.steps[-1].step < self._last[0]):
            import torch

            with _torch_settings(torch):  # as during the search
                self._record(*self._last)
        return self.steps

    def _record(self, step: int, tree: SoftTree, logits: list[Any], temperature: float) -> None:
        import torch

        task = self.task
        inputs, target, train, test = self._all_points(torch)
        with torch.no_grad():
            probabilities = [torch.softmax(t / temperature, dim=1) for t in logits]
            values, _, _ = tree.forward(probabilities, inputs, task.n_points)
            kind = task.output_type.kind
            train_loss = _data_loss(torch, values[:, train], target[train], kind).numpy()
            test_loss = _data_loss(torch, values[:, test], target[test], kind).numpy() if task.n_test else None  # fmt: skip
            soft = _soft_root_values(torch, values, task)
        choices = [t.argmax(dim=1).numpy() for t in logits]
        programs = [tree.discretize(choices, r) for r in range(len(train_loss))]
        scores = [self._score(program) for program in programs]

        def rank(r: int) -> tuple[bool, float, float, int]:
            score, loss = scores[r], float(train_loss[r])
            order = score.bits if score.fits else score.total_bits
            return (not score.fits, order, loss if loss == loss else math.inf, r)

        chosen = min(range(len(programs)), key=rank)
        program = programs[chosen]
        self.steps.append(RelaxedStep(
            step=step, restart=chosen, program=program, bits=scores[chosen].bits,
            fits_train=scores[chosen].fits,
            outputs=evaluate(program, task.env(), size=task.n_points),
            soft_values=soft[chosen].numpy().copy(), train_loss=float(train_loss[chosen]),
            test_loss=float(test_loss[chosen]) if test_loss is not None else math.nan,
            fitting_restarts=sum(score.fits for score in scores), temperature=float(temperature),
            cpu_seconds=time.process_time() - self._cpu_started,
        ))  # fmt: skip

    def _score(self, program: Expr) -> _Scored:
        key = str(program)
        if key not in self._scored:
            from ..synthesize import fits

            task = self.task
            values = np.asarray(evaluate(program, task.env(), size=task.n_points)).astype(self._storage)
            fitted = fits(values[task.train], self._code.target, task.output_type.kind)
            data = 0.0 if fitted else float(self._code.bits(values[None, :])[0])
            bits = description_length(program, task.grammar)
            self._scored[key] = _Scored(fitted, bits, bits + data)
        return self._scored[key]

    def _all_points(self, torch: Any) -> tuple[dict[str, Any], Any, Any, Any]:
        """The inputs at every task point as float64 columns, the targets (the searcher's encoding
        of the training points, on all of them), and the train and test masks."""
        if self._tensors is None:
            task = self.task
            inputs = {name: torch.tensor(np.asarray(values, dtype=np.float64))
                      for name, values in task.env().items()}  # fmt: skip
            target = torch.tensor(np.asarray(task.target_values, dtype=np.float64))
            masks = (torch.tensor(np.asarray(task.train)), torch.tensor(np.asarray(task.test)))
            self._tensors = (inputs, target, *masks)
        return self._tensors


def _soft_root_values(torch: Any, values: Any, task: Task) -> Any:
    """The root's soft values, one float per (restart, point): Booleans clipped to [0, 1] (product
    logic can leave them an ulp outside); a bit-vector's soft bits (so clipped) as their expected value
    Σ_k p_k 2^k (the top bit −2^(N−1) when signed); ints and reals as they are."""
    if values.dim() == 3:
        from .soft import _value_of_bits

        return _value_of_bits(torch, torch.clamp(values, 0.0, 1.0), task.output_type.signed)
    if task.output_type.kind == "bool":
        return torch.clamp(values, 0.0, 1.0)
    return values


def decode_soft(values: np.ndarray, task: Task) -> np.ndarray:
    """Soft root values as the output type's values, as a network's outputs are decoded: Booleans
    true above ½, integers rounded to the nearest (clipped to the output's range), reals as they are."""
    kind = task.output_type.kind
    values = np.asarray(values, dtype=np.float64)
    if kind == "bool":
        return values > 0.5
    if kind == "real":
        return values.copy()
    rounded = np.rint(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0))
    if task.output_range is not None:
        rounded = np.clip(rounded, task.output_range.low, task.output_range.high)
    return rounded.astype(task.output_type.dtype)


def record_relaxed_trace(task: Task, config: Any, *, schedule: Iterable[int],
                         progress: Callable[[Any], None] | None = None
                         ) -> tuple[Any, list[RelaxedStep]]:  # fmt: skip
    """Run the relaxed search (`config`, a SearchConfig; its method is taken to be "relaxed") and
    record the learner's function at the steps of `schedule` (and at the last step done):
    (its SynthesisResult, the recorded steps in order)."""
    config = config.replace(method="relaxed") if config.method != "relaxed" else config
    recorder = RelaxedRecorder(task, schedule, precision=config.precision)
    result = relaxed_search(task, config, progress, observe=recorder.observe)
    return result, recorder.finish()

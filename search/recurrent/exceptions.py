"""Recurrent programs with exceptions: the shortest two-part code for outputs that a short program
explains at all but a few steps — a network's at 99.8 %, whose behaviour no short program
reproduces exactly (docs/search.md, "Programs with exceptions").

The code of the training outputs is the program's bits plus the exceptions' bits
(`exception_bits`, the scalar searches' code of exceptions, search/mdl.py): how many there are,
which steps they are, the output at each. The candidates
are the exact search's programs over small random subsets of the training sequences — when
exceptions are rare most small subsets hold none, and the search then meets the program that
explains the rest — and its program over every training sequence (no exceptions), searched only
below the best code the subsets gave.
Each candidate's exceptions are counted over every training sequence by the reference evaluator;
the least total wins. Nothing here is certified: a program fitting no subset tried is not met.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl.recurrent import Recurrence, State
from dsl.sequences import SequenceTask
from dsl.types import Range

from ..heap import trim_heap
from ..mdl import ExceptionCode, _value_count
from .config import RecurrentConfig
from .result import RecurrentResult
from .synthesize import RecurrentProgress, synthesize_recurrent

__all__ = ["ExceptionFit", "ExceptionsResult", "exception_bits", "synthesize_with_exceptions"]

SUBSET_SIZES = (8, 16, 64, 256)  # training sequences per subset
SUBSET_TRIES = 2  # subsets of each size
MAX_EXCEPTION_SHARE = 0.05  # a candidate wrong at more of the training steps explains nothing
SUBSET_SHARE = 0.5  # the subsets' searches, all together, by default: this share of config.max_seconds


def exception_bits(count: int, steps: int, values: int) -> float:
    """Bits of `count` exceptions among `steps` outputs of `values` possible values: the code of
    the scalar searches' exceptions (search/mdl.py, `ExceptionCode`), over steps instead of points."""
    return float(ExceptionCode(steps, values).bits(np.array([count]))[0])


@dataclass(frozen=True)
class ExceptionFit:
    """A program and the training steps where the outputs are not its own."""

    program: Recurrence
    program_bits: float
    exceptions: tuple[tuple[int, int, int], ...]  # (sequence of the task, step, the output there)
    exception_bits: float
    source: str  # "all training sequences" or "subset of N (seed S)"

    @property
    def bits(self) -> float:
        return self.program_bits + self.exception_bits

    def to_json(self) -> dict[str, Any]:
        return {"program": str(self.program), "bits": self.bits, "program_bits": self.program_bits,
                "exception_bits": self.exception_bits, "exceptions": len(self.exceptions),
                "exception_steps": [list(e) for e in self.exceptions], "source": self.source}  # fmt: skip


@dataclass
class ExceptionsResult:
    """`best`: the candidate of least total bits (None: none explains all but
    MAX_EXCEPTION_SHARE of the steps). `exact`: the search over every training sequence, bounded
    by the best code of the subsets' (None: interrupted before it). `candidates`: every
    candidate that explains enough, by total bits. `status`: the exact search's, or
    "interrupted"."""

    task: SequenceTask
    best: ExceptionFit | None
    exact: RecurrentResult | None
    candidates: list[ExceptionFit]
    subsets: list[dict[str, Any]]  # per subset searched: size, seed, status, program, exceptions
    status: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task.name, "status": self.status, "seconds": self.seconds,
                "best": None if self.best is None else self.best.to_json(),
                "candidates": [c.to_json() for c in self.candidates], "subsets": self.subsets,
                "exact": None if self.exact is None else self.exact.to_json()}  # fmt: skip


def synthesize_with_exceptions(task: SequenceTask, config: RecurrentConfig | None = None, *,
                               subset_seconds: float | None = None, seed: int = 0,
                               progress: Callable[[RecurrentProgress], None] | None = None) -> ExceptionsResult:  # fmt: skip
    """The exact search over SUBSET_TRIES random subsets of each of SUBSET_SIZES training
    sequences (within `subset_seconds` in all, default half of `config.max_seconds`), then over
    every training sequence (within `config`, and shorter than the best code so far); the
    candidate of least program + exception bits. `progress` gets each search's reports. Ctrl-C
    ends it with what was found (status "interrupted")."""
    config = config or RecurrentConfig()
    started = time.perf_counter()
    candidates: list[ExceptionFit] = []
    subsets: list[dict[str, Any]] = []
    interrupted = False
    budget = SUBSET_SHARE * config.max_seconds if subset_seconds is None else subset_seconds
    rng = np.random.default_rng(seed)
    training = np.flatnonzero(task.train)
    plan = [size for size in SUBSET_SIZES if size < len(training) for _ in range(SUBSET_TRIES)]
    for i, size in enumerate(plan):
        chosen = np.zeros(task.n_sequences, dtype=bool)
        chosen[rng.choice(training, size=size, replace=False)] = True
        result = synthesize_recurrent(dataclasses.replace(task, train=chosen),
                                      config.replace(max_seconds=budget / len(plan)), progress=progress)  # fmt: skip
        row: dict[str, Any] = {"size": size, "try": i, "status": result.status, "program": None, "exceptions": None}
        if result.best is not None:
            fit = _fit(task, result.best.program, f"subset of {size} training sequences")
            row.update(program=str(fit.program), exceptions=len(fit.exceptions))
            candidates.append(fit)
        subsets.append(row)
        trim_heap(collect=False)  # each search's memory back before the next (search/heap.py)
        if result.status == "interrupted":
            interrupted = True
            break
    # a program with no exceptions wins only if it is shorter than the best code so far
    explained = _explaining(task, candidates)
    bound = min([config.max_bits] + [c.bits for c in explained])
    exact = synthesize_recurrent(task, config.replace(max_bits=bound), progress=progress) if not interrupted else None
    if exact is not None and exact.best is not None:
        candidates.append(_fit(task, exact.best.program, "all training sequences"))
    status = "interrupted" if interrupted or exact is None or exact.status == "interrupted" else exact.status
    explained = _explaining(task, candidates)
    return ExceptionsResult(task, explained[0] if explained else None, exact, explained, subsets, status,
                            time.perf_counter() - started)  # fmt: skip


def _explaining(task: SequenceTask, candidates: list[ExceptionFit]) -> list[ExceptionFit]:
    """The distinct candidates wrong at no more than MAX_EXCEPTION_SHARE of the training steps,
    by total bits."""
    steps = task.n_train * task.length
    kept = sorted((c for c in candidates if len(c.exceptions) <= MAX_EXCEPTION_SHARE * steps),
                  key=lambda c: (c.bits, str(c.program)))  # fmt: skip
    return list({str(c.program): c for c in reversed(kept)}.values())[::-1]


def _fit(task: SequenceTask, program: Recurrence, source: str) -> ExceptionFit:
    """`program`'s exceptions over every training sequence of `task`, its declaration widened
    to the state values read there."""
    train = np.flatnonzero(task.train)
    run = task.run(program, task.train)
    program = _covering(program, run.states)
    targets = task.target_values[task.train]
    wrong = np.argwhere(run.outputs.astype(np.int64) != targets.astype(np.int64))
    exceptions = tuple((int(train[n]), int(t), int(targets[n, t])) for n, t in wrong)
    bits = exception_bits(len(exceptions), targets.size, _value_count(task, targets.ravel()))
    return ExceptionFit(program, program.bits(task.grammar), exceptions, bits, source)


def _covering(program: Recurrence, states: Mapping[str, np.ndarray]) -> Recurrence:
    """`program` with each int state's declared range widened to the values read in `states`."""
    declared = []
    for state in program.states:
        if state.range is None or state.name not in states or not states[state.name].size:
            declared.append(state)
            continue
        values = states[state.name]
        low = min(int(state.range.low), int(values.min()))
        high = max(int(state.range.high), int(values.max()))
        declared.append(State(state.name, state.type, Range(low, high), state.start))
    return dataclasses.replace(program, states=tuple(declared))

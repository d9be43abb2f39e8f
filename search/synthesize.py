"""`synthesize`: the shortest programs that explain a task's training data.

The enumerator (enumerate.py) produces distinct functions in order of description length. For
each new program of the output type this module scores the two-part code (mdl.py), keeps the
Pareto front, the exact fits and the posterior's members, and decides when to stop:

- without noise, the first program that fits the training data is the shortest one
  (*certified*: every shorter program was enumerated); the search then goes on to fill the
  posterior's window (`posterior_window` bits above it) unless a budget stops it first;
- with noise (or when nothing fits), the best candidate is the one of least total bits, and the
  search runs until a budget or the grammar runs out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dsl import Task, evaluate

from .bank import Bank
from .enumerate import Budget, Enumerator, Stop
from .mdl import DataCode
from .result import Candidate, Posterior, PosteriorEntry, SearchStats, SynthesisResult
from .space import bits_of, build_space

__all__ = ["synthesize", "Progress", "fits"]

FIT_RTOL = 1e-9  # reals: a program fits when it reproduces every training target to this


@dataclass(frozen=True)
class Progress:
    """What the search reports after each level (for progress bars)."""

    level_bits: float
    distinct: int
    candidates: int
    cpu_seconds: float
    best: Candidate | None

    @property
    def candidates_per_second(self) -> float:
        return self.candidates / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


def synthesize(
    task: Task,
    *,
    max_seconds: float = 60.0,
    max_bits: float = math.inf,
    max_memory_mb: float = 4096.0,
    equivalence: str = "all",
    posterior_window: float = 10.0,
    pareto_k: int = 3,
    precision: float | None = None,
    max_posterior: int = 1000,
    progress: Callable[[Progress], None] | None = None,
) -> SynthesisResult:
    """Search `task`'s grammar for the programs that explain its training data.

    Budgets: `max_seconds` of CPU time, `max_bits` of description length, `max_memory_mb` for
    the banks; when one runs out, or on Ctrl-C, the search returns what it has, with a status
    saying why. `equivalence` ('all' or 'train') picks the points on which two programs count
    as the same function. `precision` is ε of the real-valued data code (mdl.py).
    """
    space = build_space(task, equivalence=equivalence)
    budget = Budget(max_seconds=max_seconds, max_bits=max_bits, max_memory_bytes=max_memory_mb * 2**20)
    tracker = _Tracker(task, space, DataCode(task, space.train, space.target, precision=precision),
                       posterior_window, pareto_k, max_posterior)  # fmt: skip
    enumerator = Enumerator(space, budget, on_rows=tracker.on_rows)
    tracker.enumerator = enumerator
    status = "exhausted"
    peak = 0
    try:
        for bits in enumerator.levels():
            peak = max(peak, enumerator.nbytes)
            tracker.close_level(bits)
            if progress is not None:
                progress(Progress(bits, enumerator.distinct, enumerator.candidates, budget.elapsed(), tracker.best()))
            if tracker.done(enumerator.next_bits()):
                status = "solved"
                break
    except Stop as stop:
        status = stop.reason
    except KeyboardInterrupt:
        status = "interrupted"
    peak = max(peak, enumerator.nbytes)
    if status == "exhausted" and tracker.solution is not None:
        status = "solved"
    stats = SearchStats(
        candidates=enumerator.candidates,
        distinct=enumerator.distinct,
        cpu_seconds=budget.elapsed(),
        peak_bank_bytes=peak,
        nan_dropped=sum(int(bank.state[3]) for bank in enumerator.banks),
        levels=tracker.level_stats,
    )
    return tracker.result(status, stats, equivalence)


def fits(predicted: np.ndarray, target: np.ndarray, kind: str) -> bool:
    """Does a program's output reproduce the targets? Exactly, or for reals to FIT_RTOL."""
    if kind != "real":
        return bool(np.array_equal(predicted, target))
    scale = math.sqrt(float(np.mean(target**2))) if len(target) else 1.0
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(predicted - target) <= FIT_RTOL * (np.abs(target) + scale)))


class _Tracker:
    """Scores the output type's new programs and keeps what the result needs."""

    def __init__(self, task: Task, space, code: DataCode, window: float, pareto_k: int, max_posterior: int):
        self.task, self.space, self.code = task, space, code
        self.window, self.pareto_k, self.max_posterior = window, pareto_k, max_posterior
        self.noisy = task.noise is not None
        self.enumerator: Enumerator | None = None
        self.solution: tuple[float, int] | None = None  # (bits, bank index) of the first exact fit
        self.fits: list[tuple[float, int]] = []  # exact fits, in order found
        self.scored: list[tuple[float, float, int]] = []  # (bits, data bits, index): posterior members
        self.best_total = math.inf
        self.best_index: tuple[float, float, int] | None = None
        self.front_data = math.inf  # least data bits so far (the Pareto front's frontier)
        self.pareto: list[tuple[float, float, int]] = []
        self._level: list[tuple[float, int]] = []  # (data bits, index) of this level's programs
        self.level_stats: list[dict] = []
        self._candidates_before = 0

    def on_rows(self, bank: Bank, start: int, end: int, probability: Fraction) -> None:
        if bank.type_index != self.space.output_index:
            return
        bits = bits_of(probability)
        for first in range(start, end, 65536):
            last = min(end, first + 65536)
            data = self.code.bits(bank.values[first:last])
            for offset in np.flatnonzero(data == 0.0):
                index = first + int(offset)
                if self._verify(bank, index):
                    self.fits.append((bits, index))
                    if self.solution is None and not self.noisy:
                        self.solution = (bits, index)
            self._score(bits, data, first)

    def _verify(self, bank: Bank, index: int) -> bool:
        program = bank.program(index, self.enumerator.banks)
        task = self.task
        predicted = evaluate(program, task.env(task.train))
        return fits(predicted, task.target_values[task.train], task.output_type.kind)

    def _score(self, bits: float, data: np.ndarray, first: int) -> None:
        order = np.argsort(data, kind="stable")[: self.pareto_k]
        self._level.extend((float(data[i]), first + int(i)) for i in order)
        totals = bits + data
        best = int(np.argmin(totals))
        if totals[best] < self.best_total:
            self.best_total = float(totals[best])
            self.best_index = (bits, float(data[best]), first + best)
        limit = self.best_total + self.window
        for i in np.flatnonzero(totals <= limit)[: self.max_posterior]:
            self.scored.append((bits, float(data[i]), first + int(i)))
        if len(self.scored) > 4 * self.max_posterior:
            self._prune()

    def _prune(self) -> None:
        limit = self.best_total + self.window
        kept = sorted((s for s in self.scored if s[0] + s[1] <= limit), key=lambda s: s[0] + s[1])
        self.scored = kept[: self.max_posterior]

    def close_level(self, bits: float) -> None:
        if self._level:
            self._level.sort()
            if self._level[0][0] < self.front_data:
                self.front_data = self._level[0][0]
                self.pareto.extend((bits, data, index) for data, index in self._level[: self.pareto_k])
            self._level = []
        candidates = self.enumerator.candidates
        self.level_stats.append({
            "bits": bits,
            "candidates": candidates - self._candidates_before,
            "distinct": [len(bank.levels) and bank.levels[-1].size if bank.levels and bank.levels[-1].bits == bits
                         else 0 for bank in self.enumerator.banks],
        })  # fmt: skip
        self._candidates_before = candidates

    def done(self, next_bits: float) -> bool:
        """Stop: the shortest fit is known and the posterior window is enumerated."""
        return self.solution is not None and next_bits > self.solution[0] + self.window

    def best(self) -> Candidate | None:
        chosen = self._best_triple()
        return self._candidate(*chosen) if chosen else None

    def _best_triple(self) -> tuple[float, float, int] | None:
        if self.solution is not None:
            return (self.solution[0], 0.0, self.solution[1])
        return self.best_index

    def _candidate(self, bits: float, data: float, index: int) -> Candidate:
        bank = self.enumerator.banks[self.space.output_index]
        program = bank.program(index, self.enumerator.banks)
        return Candidate(program, bits, data, fits_train=(bits, index) in self.fits)

    def result(self, status: str, stats: SearchStats, equivalence: str) -> SynthesisResult:
        chosen = self._best_triple()
        best = self._candidate(*chosen) if chosen else None
        certified = best is not None and (
            status in ("solved", "exhausted") or best.bits <= self.enumerator.level_bits
        )
        if best is not None and not self.noisy and self.solution is None:
            certified = certified and status == "exhausted"
        pareto = tuple(self._candidate(*triple) for triple in self.pareto)
        return SynthesisResult(
            task=self.task,
            status=status,
            best=best,
            certified=bool(certified),
            pareto=pareto,
            posterior=self._posterior(),
            stats=stats,
            equivalence=equivalence,
        )

    def _posterior(self) -> Posterior:
        if self.solution is not None:  # exact fits only, weighted by their prior
            members = [(bits, 0.0, index) for bits, index in self.fits if bits <= self.solution[0] + self.window]
        else:
            self._prune()
            members = list(self.scored)
        members = sorted(members, key=lambda m: (m[0] + m[1], m[2]))[: self.max_posterior]
        if not members:
            return Posterior((), self.task.output_type, self.window)
        least = members[0][0] + members[0][1]
        raw = np.array([2.0 ** -(bits + data - least) for bits, data, _ in members])
        weights = raw / raw.sum()
        entries = tuple(
            PosteriorEntry(self._candidate(bits, data, index).program, bits, data, float(weight))
            for (bits, data, index), weight in zip(members, weights)
        )
        return Posterior(entries, self.task.output_type, self.window)

"""What the relaxed search met: the distinct discretized programs, verified exactly, and the
SynthesisResult made of them (best, Pareto front, posterior, stats)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl import Expr, Task, evaluate
from dsl.grammars import description_length

from .tree import surrogates_used

__all__ = ["Found", "relaxed_result"]


@dataclass
class Found:
    """The distinct discretized programs met so far, verified by the reference evaluator."""

    task: Task
    programs: dict[str, tuple[Expr, bool]]  # text → (program, fits the training targets)
    first_fit_seconds: float | None = None

    def add(self, program: Expr, cpu_seconds: float) -> bool:
        key = str(program)
        if key not in self.programs:
            from ..synthesize import fits

            task = self.task
            predicted = evaluate(program, task.env(task.train), size=int(task.train.sum()))
            fitted = fits(predicted, task.target_values[task.train], task.output_type.kind)
            self.programs[key] = (program, fitted)
            if fitted and self.first_fit_seconds is None:
                self.first_fit_seconds = cpu_seconds
        return self.programs[key][1]



def relaxed_result(task: Task, config: Any, found: Found, status: str, success: float, cpu_seconds: float) -> Any:
    from ..mdl import DataCode
    from ..result import Candidate, SearchStats, SynthesisResult
    from ..space import STORAGE

    kind = task.output_type.kind
    code = DataCode(task, task.train, np.asarray(task.target_values).astype(STORAGE[kind]), precision=config.precision)
    scored = []
    for program, fitted in found.programs.values():
        bits = description_length(program, task.grammar)
        if fitted:
            data = 0.0
        else:
            row = np.asarray(evaluate(program, task.env(), size=task.n_points)).astype(STORAGE[kind])[None, :]
            data = float(code.bits(row)[0])
        scored.append(Candidate(program, bits, data, fitted))
    scored.sort(key=lambda c: (not c.fits_train, c.total_bits if not c.fits_train else c.bits, str(c.program)))
    best = scored[0] if scored else None
    pareto: list[Any] = []
    for candidate in sorted(scored, key=lambda c: (c.bits, c.data_bits, str(c.program))):
        if math.isfinite(candidate.data_bits) and all(candidate.data_bits < kept.data_bits for kept in pareto):
            pareto.append(candidate)
    posterior = _posterior(task, scored, config.posterior_window, config.max_posterior)
    stats = SearchStats(candidates=len(found.programs), distinct=len(found.programs), cpu_seconds=cpu_seconds,
                        best_seconds=found.first_fit_seconds, restart_success=success,
                        surrogates=list(surrogates_used(task.grammar)))  # fmt: skip
    return SynthesisResult(task=task, status=status, best=best, certified=False, pareto=tuple(pareto),
                           posterior=posterior, stats=stats, equivalence=config.equivalence, config=config)  # fmt: skip


def _posterior(task: Task, scored: list[Any], window: float, most: int) -> Any:
    """The candidates within `window` bits of the least total, one per function (its values
    at every point), weighted by 2^−total."""
    from ..kernels import round_reals
    from ..result import Posterior, PosteriorEntry

    finite = sorted((c for c in scored if math.isfinite(c.total_bits)), key=lambda c: (c.total_bits, str(c.program)))
    if any(c.fits_train for c in finite):
        finite = [c for c in finite if c.fits_train]
    members: list[Any] = []
    functions: set[bytes] = set()
    for candidate in finite:
        if candidate.total_bits > finite[0].total_bits + window or len(members) == most:
            break
        values = np.asarray(evaluate(candidate.program, task.env(), size=task.n_points))
        if values.dtype == np.float64:
            values = round_reals(values[None, :])[0]
        if values.tobytes() not in functions:
            functions.add(values.tobytes())
            members.append(candidate)
    if not members:
        return Posterior((), task.output_type, window)
    raw = np.array([2.0 ** -(c.total_bits - members[0].total_bits) for c in members])
    weights = raw / raw.sum()
    entries = tuple(PosteriorEntry(c.program, c.bits, c.data_bits, float(w)) for c, w in zip(members, weights))
    return Posterior(entries, task.output_type, window)

"""The relaxed search's progress reports: after each check of the restarts, a `synthesize.Progress`
with the step, the restarts whose program fits, the least objective, the temperature, and the best
discretized program met so far, scored as `found.relaxed_result` scores the result's candidates.

Made only when a caller asks for progress: scoring a program that does not fit evaluates it on
every point of the task, once per distinct program."""

from __future__ import annotations

from typing import Any

import numpy as np

from dsl import Expr, Task, evaluate
from dsl.grammars import description_length

from .found import Found

__all__ = ["ProgressReport"]


class ProgressReport:
    """Makes the Progress of one relaxed run; each distinct program is scored once."""

    def __init__(self, task: Task, config: Any) -> None:
        self.task, self.config = task, config
        self._code: Any = None  # the data code, built at the first program that does not fit
        self._scored: dict[str, Any] = {}  # program text → its Candidate

    def __call__(self, found: Found, *, step: int, fitted: list[bool], loss: float, temperature: float,
                 cpu_seconds: float) -> Any:  # fmt: skip
        """The Progress after `step` steps: `fitted` says per restart whether its argmax program
        fits, `loss` is the least objective over the restarts."""
        from ..synthesize import Progress

        config = self.config
        met = len(found.programs)
        return Progress(float("nan"), met, met, cpu_seconds, self.best(found), step=step,
                        steps=config.relaxed_steps, restarts=config.relaxed_restarts, restarts_fitted=sum(fitted),
                        best_loss=loss, temperature=temperature)  # fmt: skip

    def best(self, found: Found) -> Any:
        """The best program met: the shortest exact fit, else the least total bits (ties by text),
        as the result's best; None before any."""
        candidates = [self._candidate(text, *entry) for text, entry in found.programs.items()]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (not c.fits_train, c.bits if c.fits_train else c.total_bits,
                                              str(c.program)))  # fmt: skip

    def _candidate(self, text: str, program: Expr, fits: bool) -> Any:
        if text not in self._scored:
            from ..result import Candidate

            bits = description_length(program, self.task.grammar)
            self._scored[text] = Candidate(program, bits, 0.0 if fits else self._data_bits(program), fits)
        return self._scored[text]

    def _data_bits(self, program: Expr) -> float:
        from ..mdl import DataCode
        from ..space import STORAGE

        task = self.task
        storage = STORAGE[task.output_type.kind]
        if self._code is None:
            target = np.asarray(task.target_values).astype(storage)
            self._code = DataCode(task, task.train, target, precision=self.config.precision)
        row = np.asarray(evaluate(program, task.env(), size=task.n_points)).astype(storage)[None, :]
        return float(self._code.bits(row)[0])

"""What a synthesis search returns: the best program, the Pareto front, the posterior, stats."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dsl import Expr, Task, Type, evaluate

__all__ = ["Candidate", "Posterior", "PosteriorEntry", "SearchStats", "SynthesisResult", "STATUSES"]

STATUSES = {
    "solved": "the shortest program that fits the training data was found, and no shorter one exists",
    "exhausted": "every program the grammar derives (within max_bits) was enumerated",
    "time": "the time budget ran out",
    "bits": "the bits budget (max_bits) was reached",
    "memory": "the memory budget for the banks was reached",
    "interrupted": "interrupted (Ctrl-C)",
}


@dataclass(frozen=True)
class Candidate:
    """A program and its two-part code on the training data."""

    program: Expr
    bits: float  # description length under the task's grammar
    data_bits: float  # bits of the training targets given the program (0: an exact fit)
    fits_train: bool  # reproduces every training target (reals: to a relative 1e-9)

    @property
    def total_bits(self) -> float:
        return self.bits + self.data_bits

    def to_json(self) -> dict[str, Any]:
        return {
            "program": str(self.program),
            "bits": self.bits,
            "data_bits": _finite(self.data_bits),
            "fits_train": self.fits_train,
        }


@dataclass(frozen=True)
class PosteriorEntry:
    program: Expr
    bits: float
    data_bits: float
    weight: float

    def to_json(self) -> dict[str, Any]:
        return {"program": str(self.program), "bits": self.bits, "data_bits": _finite(self.data_bits),
                "weight": self.weight}  # fmt: skip


@dataclass(frozen=True)
class Posterior:
    """Distinct functions weighted ∝ 2^-(bits + data bits): the Solomonoff predictor restricted
    to the grammar and to the functions the search met within its window."""

    entries: tuple[PosteriorEntry, ...]
    output_type: Type
    window: float

    def predict(self, env: Mapping[str, ArrayLike]) -> np.ndarray:
        """The posterior's prediction at the points of `env`: the weighted vote (bools, integers)
        or the weighted mean (reals). NaN predictions of some entries are left out of a mean."""
        if not self.entries:
            raise ValueError("the posterior is empty: the search found no candidate")
        columns = np.stack([evaluate(entry.program, env) for entry in self.entries])
        weights = np.array([entry.weight for entry in self.entries])
        if self.output_type.kind == "real":
            finite = np.isfinite(columns)
            total = (weights[:, None] * finite).sum(0)
            with np.errstate(all="ignore"):
                return np.where(total > 0, (np.where(finite, columns, 0) * weights[:, None]).sum(0) / total, np.nan)
        return _weighted_vote(columns, weights)


def _weighted_vote(columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per point, the value with the largest total weight (ties: the smallest value)."""
    values = np.unique(columns)
    scores = np.stack([(weights[:, None] * (columns == value)).sum(0) for value in values])
    return values[np.argmax(scores, axis=0)]


@dataclass
class SearchStats:
    candidates: int = 0  # candidate programs evaluated
    checked: int = 0  # of which, past the memory budget, only compared with the target
    distinct: int = 0  # distinct functions kept, all types
    cpu_seconds: float = 0.0
    peak_bank_bytes: int = 0
    nan_dropped: int = 0  # candidates dropped for a NaN at a training point
    best_seconds: float | None = None  # CPU seconds into the search when the best fit was found
    levels: list[dict[str, Any]] = field(default_factory=list)  # per level: bits, new programs, candidates

    @property
    def candidates_per_second(self) -> float:
        return self.candidates / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "checked": self.checked,
            "distinct": self.distinct,
            "cpu_seconds": self.cpu_seconds,
            "candidates_per_second": self.candidates_per_second,
            "peak_bank_bytes": self.peak_bank_bytes,
            "nan_dropped": self.nan_dropped,
            "best_seconds": self.best_seconds,
            "levels": self.levels,
        }


@dataclass
class SynthesisResult:
    """The outcome of `search.synthesize`.

    `best` is the candidate of least total bits (for a task without noise, the shortest exact
    fit when there is one); `certified` says whether every program shorter than it was
    enumerated. `pareto` is the Pareto front of description length against data bits (no row
    dominated by another, none of infinite data bits), with at most `pareto_k` tied programs at
    each length; `posterior` predicts held-out points."""

    task: Task
    status: str
    best: Candidate | None
    certified: bool
    pareto: tuple[Candidate, ...]
    posterior: Posterior
    stats: SearchStats
    equivalence: str

    def predict(self, env: Mapping[str, ArrayLike]) -> np.ndarray:
        return self.posterior.predict(env)

    def test_scores(self) -> dict[str, float | None]:
        """Agreement with the task's held-out targets: of the best program and of the posterior
        (accuracy for discrete outputs, RMSE for reals); None without test points."""
        task = self.task
        if task.n_test == 0 or self.best is None:
            return {"best": None, "posterior": None}
        env, target = task.env(task.test), task.target_values[task.test]
        scores = {}
        for name, predicted in (("best", evaluate(self.best.program, env)), ("posterior", self.predict(env))):
            scores[name] = _score(predicted, target, task.output_type)
        return scores

    @staticmethod
    def from_json(data: dict[str, Any], task: Task) -> SynthesisResult:
        """A result read back from `to_json` (programs re-parsed against `task`)."""
        from dsl import parse_program

        def candidate(entry: dict[str, Any]) -> Candidate:
            program = parse_program(entry["program"], task, expected=task.output_type)
            data_bits = entry["data_bits"] if entry["data_bits"] is not None else math.inf
            return Candidate(program, entry["bits"], data_bits, entry["fits_train"])

        entries = tuple(
            PosteriorEntry(parse_program(e["program"], task, expected=task.output_type), e["bits"],
                           e["data_bits"] if e["data_bits"] is not None else math.inf, e["weight"])
            for e in data["posterior"]
        )  # fmt: skip
        stats = data["stats"]
        return SynthesisResult(
            task=task,
            status=data["status"],
            best=candidate(data["best"]) if data["best"] else None,
            certified=data["certified"],
            pareto=tuple(candidate(entry) for entry in data["pareto"]),
            posterior=Posterior(entries, task.output_type, data["posterior_window"]),
            stats=SearchStats(**{key: stats[key] for key in SearchStats.__dataclass_fields__ if key in stats}),
            equivalence=data["equivalence"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task.name,
            "status": self.status,
            "status_meaning": STATUSES[self.status],
            "certified": self.certified,
            "equivalence": self.equivalence,
            "best": self.best.to_json() if self.best else None,
            "pareto": [candidate.to_json() for candidate in self.pareto],
            "posterior": [entry.to_json() for entry in self.posterior.entries],
            "posterior_window": self.posterior.window,
            "test": self.test_scores(),
            "stats": self.stats.to_json(),
        }


def _score(predicted: np.ndarray, target: np.ndarray, type_: Type) -> float:
    if type_.kind == "real":
        with np.errstate(all="ignore"):
            return float(np.sqrt(np.mean((predicted - target) ** 2)))
    return float(np.mean(predicted == target))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None

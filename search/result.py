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
    "exhausted": "every function the grammar derives (within max_bits) was enumerated",
    "time": "the time budget ran out",
    "bits": "the bits budget (max_bits) was reached",
    "memory": "the memory budget for the banks was reached",
    "interrupted": "interrupted (Ctrl-C)",
}
# With noise no program need fit: `solved` means the MDL-best was certified.
SOLVED_WITH_NOISE = ("the program of least total bits (two-part code) was found, and no program left to "
                     "enumerate could have fewer or enter the posterior's window")  # fmt: skip


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
    max_bytes: int = 256 << 20  # what `predict` may allocate at once: it works through the points in chunks

    def predict(self, env: Mapping[str, ArrayLike]) -> np.ndarray:
        """The posterior's prediction at the points of `env`: the weighted vote (bools, integers)
        or the weighted mean (reals). NaN predictions of some entries are left out of a mean.
        Points are taken in chunks of at most `max_bytes` of working arrays (about 48 bytes per
        entry and point), so memory does not grow with entries × points."""
        if not self.entries:
            raise ValueError("the posterior is empty: the search found no candidate")
        weights = np.array([entry.weight for entry in self.entries])
        arrays = {name: np.asarray(values) for name, values in env.items()}
        size = len(next(iter(arrays.values()))) if arrays else 1
        chunk = max(1, self.max_bytes // (_BYTES_PER_VALUE * len(self.entries)))
        parts = []
        for start in range(0, size, chunk):
            part = {name: values[start : start + chunk] for name, values in arrays.items()}
            points = min(chunk, size - start)
            columns = np.stack([evaluate(entry.program, part, size=points) for entry in self.entries])
            parts.append(_weighted_mean(columns, weights) if self.output_type.kind == "real"
                         else _weighted_vote(columns, weights))  # fmt: skip
        return np.concatenate(parts) if parts else np.empty(0)


_BYTES_PER_VALUE = 48  # per entry and point: the values, the sort's order and sorted copies, weights and sums


def _weighted_mean(columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per point, the weighted mean of the finite values (NaN where none is)."""
    finite = np.isfinite(columns)
    total = (weights[:, None] * finite).sum(0)
    with np.errstate(all="ignore"):
        return np.where(total > 0, (np.where(finite, columns, 0) * weights[:, None]).sum(0) / total, np.nan)


def _weighted_vote(columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per point, the value with the largest total weight (ties: the smallest value).

    `columns` is (entries, points). Memory is O(entries × points), never values × points: each
    point's column is sorted (stably), and one pass down the sorted rows sums each run of equal
    values in entry order, exactly as a plain sum over the entries would (so ties resolve the
    same), keeping per point the first run of largest sum, i.e. the smallest value."""
    order = np.argsort(columns, axis=0, kind="stable")
    values = np.take_along_axis(columns, order, axis=0)
    sorted_weights = weights[order]
    best_value, best_sum = values[0].copy(), np.full(columns.shape[1], -np.inf)
    running = np.zeros(columns.shape[1])
    for row in range(len(values)):
        running = sorted_weights[row] if row == 0 else np.where(values[row] == values[row - 1],
                                                                 running + sorted_weights[row], sorted_weights[row])  # fmt: skip
        ends = values[row] != values[row + 1] if row + 1 < len(values) else np.ones(columns.shape[1], dtype=bool)
        better = ends & (running > best_sum)
        best_value[better], best_sum[better] = values[row][better], running[better]
    return best_value


@dataclass
class SearchStats:
    candidates: int = 0  # candidate programs evaluated
    checked: int = 0  # of which, past the memory budget, only compared with the target
    distinct: int = 0  # distinct functions kept, all types
    cpu_seconds: float = 0.0
    peak_bank_bytes: int = 0
    nan_dropped: int = 0  # candidates dropped for a NaN at a training point
    best_seconds: float | None = None  # CPU seconds into the search when the best (noise: of least total bits) was found
    levels: list[dict[str, Any]] = field(default_factory=list)  # per level: bits, new programs, candidates
    covered_bits: float | None = None  # every program of at most these bits was enumerated (kept or checked)
    # When the search stopped early because the rest of the posterior's window was negligible: the
    # bound on the weight it could add, relative to the weight found (0: it could add nothing).
    unseen_weight_bound: float | None = None

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
            "covered_bits": _finite(self.covered_bits) if self.covered_bits is not None else None,
            "unseen_weight_bound": self.unseen_weight_bound,
        }


@dataclass
class SynthesisResult:
    """The outcome of `search.synthesize`.

    `best` is the candidate of least total bits (for a task without noise, the shortest exact
    fit when there is one); `certified` says whether every program shorter than it was
    enumerated. `pareto` is the front of description length against data bits, with the top
    programs at each length; `posterior` predicts held-out points."""

    task: Task
    status: str
    best: Candidate | None
    certified: bool
    pareto: tuple[Candidate, ...]
    posterior: Posterior
    stats: SearchStats
    equivalence: str
    _test_scores: dict[str, float | None] | None = field(default=None, init=False, repr=False, compare=False)

    def predict(self, env: Mapping[str, ArrayLike]) -> np.ndarray:
        return self.posterior.predict(env)

    @property
    def status_meaning(self) -> str:
        """What the status says, for this task (STATUSES; `solved` reads otherwise with noise)."""
        if self.status == "solved" and self.task.noise is not None:
            return SOLVED_WITH_NOISE
        return STATUSES[self.status]

    def test_scores(self) -> dict[str, float | None]:
        """Agreement with the task's held-out targets: of the best program and of the posterior
        (accuracy for discrete outputs, RMSE for reals); None without test points. Computed
        once (the posterior's prediction at every held-out point can take seconds)."""
        if self._test_scores is None:
            self._test_scores = self._compute_test_scores()
        return dict(self._test_scores)

    def _compute_test_scores(self) -> dict[str, float | None]:
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
            "status_meaning": self.status_meaning,
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

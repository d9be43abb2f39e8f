"""What a synthesis search returns: the best program, the Pareto front, the posterior, stats."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dsl import Expr, OccamError, SearchError, Task, Type, evaluate
from dsl.tabular import input_columns, require_pandas

from .config import SearchConfig

__all__ = ["Candidate", "Posterior", "PosteriorEntry", "SearchStats", "SynthesisResult", "STATUSES"]

STATUSES = {
    "solved": "the shortest program that fits the training data was found, and no shorter one exists",
    "exhausted": "every function the grammar derives (within max_bits) was enumerated",
    "time": "the time budget ran out",
    "bits": "the bits budget (max_bits) was reached",
    "memory": "the memory budget for the banks was reached",
    "candidates": "the candidates budget (max_candidates) ran out",
    "interrupted": "the search was stopped by Ctrl-C (SIGINT); what it had found is kept",
    "fitted": "a program that fits the training data was found (a gradient-based search: none shorter is ruled out)",
    "steps": "every optimization step ran (the relaxed search) and no discretized program fits",
    "ordered": "the hybrid search's enumeration reached its best under the learned grammar (not certified under "
               "the task's)",
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

    def __call__(self, data: Any = None, /, **columns: Any) -> Any:
        """The program's values at the given points: see `Expr.__call__`."""
        return self.program(data, **columns)

    def __repr__(self) -> str:
        return (f"Candidate({str(self.program)!r}, bits={self.bits:.4g}, data_bits={self.data_bits:.4g}, "
                f"fits_train={self.fits_train})")  # fmt: skip

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

    def __repr__(self) -> str:
        return (f"PosteriorEntry({str(self.program)!r}, bits={self.bits:.4g}, data_bits={self.data_bits:.4g}, "
                f"weight={self.weight:.4g})")  # fmt: skip

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

    def __repr__(self) -> str:
        return f"<Posterior over {len(self.entries)} functions ({self.output_type}), window {self.window:g} bits>"

    def to_pandas(self) -> Any:
        """The entries as a DataFrame, one row each: program (canonical text), bits, data_bits,
        total_bits, weight. Needs pandas (`pip install 'occam[pandas]'`)."""
        pandas = require_pandas("Posterior.to_pandas")
        rows = [(str(e.program), e.bits, e.data_bits, e.bits + e.data_bits, e.weight) for e in self.entries]
        return pandas.DataFrame(rows, columns=["program", "bits", "data_bits", "total_bits", "weight"])

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
    restart_success: float | None = None  # the relaxed searcher: the fraction of restarts whose program fits
    surrogates: list[str] | None = None  # the relaxed searcher: the rows relaxed by a surrogate ("% on int")
    restarts_repaired: int | None = None  # the relaxed searcher: how many restarts' programs repair made fit (None: no repair)
    phases: dict[str, float] | None = None  # the hybrid searcher: wall and CPU seconds of each phase

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
        } | {name: value for name, value in self._relaxed_fields().items() if value is not None}

    def _relaxed_fields(self) -> dict[str, Any]:
        """The stats only the relaxed and hybrid searchers have: in the JSON only when set."""
        return {"restart_success": self.restart_success, "surrogates": self.surrogates,
                "restarts_repaired": self.restarts_repaired, "phases": self.phases}  # fmt: skip


@dataclass
class SynthesisResult:
    """The outcome of `search.synthesize`.

    `best` is the candidate of least total bits (for a task without noise, the shortest exact
    fit when there is one); `certified` says whether every program shorter than it was
    enumerated. `pareto` is the Pareto front of description length against data bits (no row
    dominated by another, none of infinite data bits), with at most `pareto_k` tied programs at
    each length; `posterior` predicts held-out points. `config` is the search's settings
    (None for a result read from a file written before they were recorded)."""

    task: Task
    status: str
    best: Candidate | None
    certified: bool
    pareto: tuple[Candidate, ...]
    posterior: Posterior
    stats: SearchStats
    equivalence: str
    config: SearchConfig | None = None
    _test_scores: dict[str, float | None] | None = field(default=None, init=False, repr=False, compare=False)

    def predict(self, data: Any = None, /, **columns: Any) -> Any:
        """The posterior's prediction (`Posterior.predict`) at the points given as a mapping
        (input name -> values), a pandas DataFrame (columns by input name, others ignored), a 2-D
        array with one column per input in the task's order (`task.inputs`), or keywords. Values
        are checked against the inputs' types (DataError, see dsl/tabular.py); single values
        give a single prediction."""
        order = [input_.name for input_ in self.task.inputs]
        types = {name: type_ for entry in self.posterior.entries for name, type_ in entry.program.input_types.items()}
        given = input_columns(data, columns, types, order=order, what="the posterior")
        values = self.posterior.predict(given.env) if given.env else self._predict_constant(given.size)
        return values[0] if given.scalar else values

    def _predict_constant(self, size: int) -> np.ndarray:
        """The posterior's prediction when no entry reads an input (Posterior.predict takes the
        number of points from its columns)."""
        env = {"_points": np.zeros(size)}
        return self.posterior.predict(env)

    def to_pandas(self) -> Any:
        """The Pareto front as a DataFrame, one row per candidate, in order of description
        length: program (canonical text), bits, data_bits, total_bits, fits_train, best (the
        row of `best`). The posterior's table is `posterior.to_pandas()`. Needs pandas
        (`pip install 'occam[pandas]'`)."""
        pandas = require_pandas("SynthesisResult.to_pandas")
        best = self.best.program if self.best is not None else None
        rows = [(str(c.program), c.bits, c.data_bits, c.total_bits, c.fits_train, c.program == best)
                for c in self.pareto]  # fmt: skip
        return pandas.DataFrame(rows, columns=["program", "bits", "data_bits", "total_bits", "fits_train", "best"])

    def __repr__(self) -> str:
        best = f"best {str(self.best.program)!r} ({self.best.bits:.4g} bits)" if self.best else "no candidate"
        return (f"<SynthesisResult {self.task.name}: {self.status}, {best}, {len(self.pareto)} on the Pareto front, "
                f"{len(self.posterior.entries)} in the posterior>")  # fmt: skip

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
        scores: dict[str, float | None] = {}
        for name, predicted in (("best", evaluate(self.best.program, env)), ("posterior", self.predict(env))):
            scores[name] = _score(predicted, target, task.output_type)
        return scores

    @staticmethod
    def from_json(data: Any, task: Task, *, source: str = "the synthesis result") -> SynthesisResult:
        """A result read back from `to_json` (programs re-parsed against `task`).

        Raises SearchError, naming `source` and what is wrong, for data that is not such a
        result (a missing key, a value of the wrong type, a program that does not parse on
        `task`) and for a best program that does not have the description length, the fit or
        the data bits it claims: those are computed again here (one evaluation), so that an
        edited file cannot present another program as the certified shortest."""
        try:
            result = _result_from(data, task)
            problems = list(_claim_problems(result.best, task))
        except KeyError as error:
            raise _damaged(source, f"missing {error}") from None
        except (TypeError, ValueError, AttributeError, OverflowError, RecursionError) as error:
            raise _damaged(source, str(error)) from None
        if problems:
            raise _damaged(source, problems[0])
        return result

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
            "config": self.config.to_json() if self.config is not None else None,
        }


# --- reading a result back ----------------------------------------------------------------------


def _damaged(source: str, problem: str) -> SearchError:
    return SearchError(f"{source} is damaged: {problem}",
                       expected="a synthesis result written by occam for this task (search again to replace it)")  # fmt: skip


def _result_from(data: Any, task: Task) -> SynthesisResult:
    """The result `data` describes; KeyError, TypeError or ValueError where it is malformed."""
    from dsl import parse_program

    if not isinstance(data, Mapping):
        raise TypeError(f"expected a JSON object, found a {type(data).__name__}")

    def program(text: Any) -> Expr:
        if not isinstance(text, str):
            raise TypeError(f"program = {text!r:.60}; expected a string")
        try:
            return parse_program(text, task, expected=task.output_type)
        except OccamError as error:
            raise ValueError(f"the program {text!r:.80} does not read on task `{task.name}`: {error.message}") from None

    def candidate(entry: Any) -> Candidate:
        return Candidate(program(entry["program"]), _number(entry["bits"], "bits"), _data_bits(entry["data_bits"]),
                         _boolean(entry["fits_train"], "fits_train"))  # fmt: skip

    entries = tuple(
        PosteriorEntry(program(e["program"]), _number(e["bits"], "bits"), _data_bits(e["data_bits"]),
                       _number(e["weight"], "weight"))
        for e in _list(data["posterior"], "posterior")
    )  # fmt: skip
    status, equivalence = data["status"], data["equivalence"]
    if status not in STATUSES:
        raise ValueError(f"status = {status!r:.60}; expected one of {', '.join(STATUSES)}")
    if equivalence not in ("all", "train"):
        raise ValueError(f"equivalence = {equivalence!r:.60}; expected 'all' or 'train'")
    return SynthesisResult(
        task=task,
        status=status,
        best=candidate(data["best"]) if data["best"] is not None else None,
        certified=_boolean(data["certified"], "certified"),
        pareto=tuple(candidate(entry) for entry in _list(data["pareto"], "pareto")),
        posterior=Posterior(entries, task.output_type, _number(data["posterior_window"], "posterior_window")),
        stats=_stats(data["stats"]),
        equivalence=equivalence,
        config=_config(data.get("config"), equivalence),  # absent from the files written before it was recorded
    )


def _config(data: Any, equivalence: str) -> SearchConfig | None:
    """The search's settings written with the result; ValueError where they are not settings
    or disagree with the result's own equivalence."""
    if data is None:
        return None
    try:
        config = SearchConfig.from_json(data, source="config")
    except OccamError as error:
        raise ValueError(error.message) from None
    if config.equivalence != equivalence:
        raise ValueError(f"config.equivalence = {config.equivalence!r} but the result's equivalence is {equivalence!r}")
    return config


def _stats(data: Any) -> SearchStats:
    if not isinstance(data, Mapping):
        raise TypeError(f"stats = {data!r:.60}; expected an object")
    stats = SearchStats(**{key: data[key] for key in SearchStats.__dataclass_fields__ if key in data})
    for name in ("candidates", "checked", "distinct", "peak_bank_bytes", "nan_dropped"):
        _number(getattr(stats, name), f"stats.{name}", integer=True)
    _number(stats.cpu_seconds, "stats.cpu_seconds")
    if stats.best_seconds is not None:
        _number(stats.best_seconds, "stats.best_seconds")
    _list(stats.levels, "stats.levels")
    return stats


def _number(value: Any, name: str, *, integer: bool = False) -> Any:
    """`value`, when it is a finite number ≥ 0 (an int with `integer`); else TypeError."""
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) or value < 0:
        raise TypeError(f"{name} = {value!r:.60}; expected {'an integer' if integer else 'a finite number'} ≥ 0")
    return value


def _data_bits(value: Any) -> float:
    return math.inf if value is None else _number(value, "data_bits")  # None: written for inf


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} = {value!r:.60}; expected true or false")
    return value


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise TypeError(f"{name} = {value!r:.60}; expected a list")
    return value


def _claim_problems(best: Candidate | None, task: Task) -> Iterator[str]:
    """Where the best candidate read back is not what it claims on `task`: its bits (the
    grammar's description length), its fit to the training targets (the reference evaluator)
    and its data bits (mdl.DataCode), each computed again."""
    from dsl import description_length

    from .mdl import DataCode
    from .reference import reference_fits

    if best is None:
        return
    program = f"the best program `{best.program}`"
    try:
        bits = description_length(best.program, task.grammar)
    except OccamError as error:
        yield f"{program} is not derivable in the task's grammar: {error.message}"
        return
    if not math.isclose(bits, best.bits, rel_tol=1e-9, abs_tol=1e-9):
        yield f"{program} is said to take {best.bits!r} bits; its description length is {bits!r}"
        return
    kind = task.output_type.kind
    values = evaluate(best.program, task.env(task.train), size=task.n_train)
    target = task.target_values[task.train]
    fits = reference_fits(values, target, kind)
    if fits != best.fits_train:
        yield f"{program} {'fits' if fits else 'does not fit'} the training targets, unlike what is written"
        return
    if kind != "real":  # one row type for the kernels, whatever the output's own dtype
        values, target = values.astype(np.int64), target.astype(np.int64)
    data_bits = 0.0 if fits else float(DataCode(task, np.ones(len(target), bool), target).bits(values[None, :])[0])
    if not math.isclose(data_bits, best.data_bits, rel_tol=1e-6, abs_tol=1e-6):  # inf is close to inf
        yield f"{program} is said to need {best.data_bits!r} data bits; it needs {data_bits!r}"


def _score(predicted: np.ndarray, target: np.ndarray, type_: Type) -> float:
    if type_.kind == "real":
        with np.errstate(all="ignore"):
            return float(np.sqrt(np.mean((predicted - target) ** 2)))
    return float(np.mean(predicted == target))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None

"""The comparison: did the network learn the minimal program, when, and where not?

`compare(task, synthesis, trace)` sets a network's function trace (neural/trace.py) beside the
synthesizer's result (search/) on the same task — its minimal program is the synthesizer's best: the
shortest program that fits the training data or, on a noisy task, the one of least bits + data
bits — and computes for every recorded step:

- agreement of the network with the minimal program on the training points, the held-out points
  and every point (reals: the share of points within `tolerance` × the training targets' standard
  deviation, and the RMSE between the two);
- agreement with the posterior's prediction on the held-out points;
- the distilled program (distill.py): the shortest two-part code of the network's function under
  the task's grammar, its program and bits — the description length of what the network has
  learned;
- how many points the network and the minimal program disagree on;

and over the trace:

- `program_found_step`: the first recorded step from which the network computes the minimal
  program's function at every point, at every later recorded step too (None if never);
- `memorization_ends_step`: the first recorded step from which, at every later recorded step
  too, the distilled program reproduces the network on the held-out points (all points when there are none held out) at least halfway
  from chance to perfect: agreement ≥ (1 + c) / 2, where c = 1 / (number of output values) is
  the agreement of a program that guesses (0 for reals and unbounded integers) — before it, the
  network's behaviour off the training table is not explained by any short program: it has
  memorized. The bar is 0.505 for mod_add_97 and 0.75 for a Boolean output;
- the sequence of distinct distilled programs;
- the disagreements at the last step: how many, which inputs, and a grid for two-input tasks.

A `Comparison` is a value: `to_json` / `from_json` round-trip.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from dsl import Task, TaskError, evaluate
from search import SynthesisResult

from .agree import agreement, agrees
from .distill import DistillProgress, Distiller

if TYPE_CHECKING:  # neural imports torch: for the annotation only, never at run time
    from neural.trace import FunctionTrace

__all__ = [
    "Comparison", "Snapshot", "Disagreements", "agreement", "agrees", "compare", "comparisons_json", "disagreements",
    "learner_of", "learner_summary", "memorization_bar",
]  # fmt: skip

FORMAT = "occam-comparison/1"
SET_FORMAT = "occam-comparisons/1"  # several learners' comparisons with one minimal program
MAX_LISTED = 50  # disagreeing points listed in full
MAX_BY_INPUT = 1024  # distinct values of an input for counts by value


class _HasStep(Protocol):
    @property
    def step(self) -> int: ...


_Stepped = TypeVar("_Stepped", bound=_HasStep)


@dataclass(frozen=True)
class Snapshot:
    """The comparison at one recorded step (None where undefined: no held-out points)."""

    step: int
    train_accuracy: float | None
    test_accuracy: float | None
    agreement_minimal: float | None  # every point
    agreement_minimal_train: float | None
    agreement_minimal_test: float | None
    agreement_posterior_test: float | None
    rmse_minimal: float | None  # reals only
    disagreements: int | None  # points where the network differs from the minimal program
    distilled_program: str | None
    distilled_bits: float | None  # program bits + data bits: the two-part code of the network's function
    distilled_program_bits: float | None
    distilled_data_bits: float | None
    distilled_exceptions: int | None
    memorization: bool | None


@dataclass(frozen=True)
class Disagreements:
    """Where the network and the minimal program differ, at one step."""

    step: int
    count: int
    points: list[dict[str, Any]]  # the first MAX_LISTED: inputs (name → value), network, program, train
    by_input: dict[str, dict[str, int]]  # input → value → count (discrete inputs with ≤ MAX_BY_INPUT values)
    grid: list[list[int]] | None  # two discrete inputs: 0 agree, 1 disagree (rows: first input)
    grid_axes: dict[str, list] | None


@dataclass
class Comparison:
    task: str
    fingerprint: str
    output_type: str
    minimal_program: str | None
    minimal_bits: float | None
    minimal_latex: str | None
    minimal_certified: bool
    posterior_size: int
    program_found_step: int | None
    memorization_ends_step: int | None
    # program, program_bits, first_step, last_step, and the two-part code's bits and exceptions at
    # its first and last step (bits_first, bits_last, exceptions_first, exceptions_last)
    distilled_sequence: list[dict[str, Any]]
    snapshots: list[Snapshot]
    disagreements: Disagreements | None  # at the last step
    settings: dict[str, Any] = field(default_factory=dict)  # tolerance, distillation bound, …

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        return _finite(data)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Comparison:
        data = dict(data)
        data.pop("format", None)
        data["snapshots"] = [Snapshot(**snapshot) for snapshot in data["snapshots"]]
        if data["disagreements"] is not None:
            data["disagreements"] = Disagreements(**data["disagreements"])
        return Comparison(**data)

    def snapshot(self, step: int) -> Snapshot:
        for snapshot in self.snapshots:
            if snapshot.step == step:
                return snapshot
        raise KeyError(step)

    def to_pandas(self) -> Any:
        """The snapshots as a DataFrame, one row per recorded step (columns: Snapshot's fields).
        Needs pandas (`pip install 'occam[pandas]'`)."""
        from dsl.tabular import require_pandas

        pandas = require_pandas("Comparison.to_pandas")
        return pandas.DataFrame([asdict(snapshot) for snapshot in self.snapshots], columns=list(Snapshot.__dataclass_fields__))


def compare(
    task: Task,
    synthesis: SynthesisResult,
    trace: FunctionTrace,
    *,
    tolerance: float = 0.05,
    distill_window: float = 10.0,
    distill_seconds: float = 60.0,
    distill_memory_mb: float = 1024.0,
    progress: Callable[[DistillProgress], None] | None = None,
) -> Comparison:
    """Compare `trace` (a neural FunctionTrace of `task`) with `synthesis` (on the same task).

    Reals agree within `tolerance` × the standard deviation of the training targets
    (`Task.real_tolerance`, the rule `occam diff` and neural's accuracy use too). Distillation
    enumerates programs up to the minimal program's bits + `distill_window` (exact within that
    bound; see distill.py); it and the scoring of every recorded step stay within
    `distill_seconds` and `distill_memory_mb`. `progress` gets a DistillProgress now and then."""
    if trace.fingerprint != task.fingerprint:
        raise TaskError(
            f"the trace was recorded on other data than task `{task.name}` (fingerprint {trace.fingerprint}, "
            f"the task's {task.fingerprint})",
            expected="a trace from `occam train` on this very task file and split",
        )
    kind = task.output_type.kind
    tolerance_value = task.real_tolerance(tolerance)
    best = synthesis.best
    # With noise the minimal program is the one of least bits + data bits: it need not fit.
    minimal = best.program if best is not None and (best.fits_train or task.noise is not None) else None
    minimal_values = evaluate(minimal, task.points) if minimal is not None else None
    posterior_test = _posterior_test(task, synthesis)
    minimal_bits = best.bits if minimal is not None else None
    distiller = Distiller(task, max_bits=(minimal_bits if minimal_bits is not None else 20.0) + distill_window,
                          max_seconds=distill_seconds, max_memory_mb=distill_memory_mb,
                          tolerance=tolerance_value, functions=len(trace.steps), progress=progress)  # fmt: skip
    bar = memorization_bar(task)
    snapshots = []
    for index in range(len(trace.steps)):
        snapshots.append(_snapshot(task, trace, index, minimal_values, posterior_test, distiller, kind,
                                   tolerance_value, bar))  # fmt: skip
        if progress is not None:
            progress(DistillProgress("scoring", distiller.seconds(), distiller.max_seconds, len(distiller),
                                     distiller.max_bits, done=index + 1, total=len(trace.steps)))  # fmt: skip
    last = len(trace.steps) - 1
    return Comparison(
        task=task.name,
        fingerprint=task.fingerprint,
        output_type=str(task.output_type),
        minimal_program=str(minimal) if minimal is not None else None,
        minimal_bits=minimal_bits,
        minimal_latex=minimal.to_latex() if minimal is not None else None,
        minimal_certified=bool(minimal is not None and synthesis.certified),
        posterior_size=len(synthesis.posterior.entries),
        program_found_step=_first_step_of_last_run(snapshots, lambda s: s.agreement_minimal == 1.0),
        memorization_ends_step=_first_step_of_last_run(snapshots, lambda s: s.memorization is False),
        distilled_sequence=_sequence(snapshots),
        snapshots=snapshots,
        disagreements=disagreements(task, trace.outputs[last], int(trace.steps[last]), minimal_values,
                                    tolerance=tolerance_value) if minimal_values is not None and last >= 0 else None,
        settings={"tolerance": tolerance, "tolerance_value": tolerance_value, "distill_window": distill_window,
                  "distill_max_bits": distiller.max_bits, "distill_candidates": len(distiller),
                  "distill_status": distiller.status, "memorization_bar": bar, "seed": trace.info.get("seed"),
                  "preset": trace.info.get("config", {}).get("preset"),
                  **({"learner": trace.info["learner"]} if "learner" in trace.info else {})},  # fmt: skip
    )


def learner_of(comparison: Comparison) -> str:
    """Which learner the comparison is of: "network", or what its trace's info names ("relaxed")."""
    return comparison.settings.get("learner", "network")


def learner_summary(comparison: Comparison) -> dict[str, Any]:
    """The answers of one learner's comparison in a few numbers: when it computed the minimal
    program and stopped memorizing, and where it ended (its last recorded step)."""
    last = comparison.snapshots[-1] if comparison.snapshots else None
    at_last = ("step", "train_accuracy", "test_accuracy", "agreement_minimal", "agreement_minimal_test",
               "distilled_program", "distilled_bits")  # fmt: skip
    return _finite({
        "learner": learner_of(comparison),
        "program_found_step": comparison.program_found_step,
        "memorization_ends_step": comparison.memorization_ends_step,
        **{("last_step" if name == "step" else name): getattr(last, name) if last else None for name in at_last},
    })  # fmt: skip


def comparisons_json(comparisons: dict[str, Comparison]) -> dict[str, Any]:
    """Several learners' comparisons (learner → Comparison, on one task and one synthesis) as one
    JSON object: the minimal program once, `learners` in order, `summary` (learner →
    `learner_summary`) and `comparisons` (learner → `Comparison.to_json()`)."""
    first = next(iter(comparisons.values()))
    return {
        "format": SET_FORMAT, "task": first.task, "fingerprint": first.fingerprint, "output_type": first.output_type,
        "minimal_program": first.minimal_program, "minimal_bits": _finite(first.minimal_bits),
        "minimal_certified": first.minimal_certified, "learners": list(comparisons),
        "summary": {learner: learner_summary(c) for learner, c in comparisons.items()},
        "comparisons": {learner: c.to_json() for learner, c in comparisons.items()},
    }  # fmt: skip


def memorization_bar(task: Task) -> float:
    """The agreement on held-out points from which a distilled program explains the network:
    halfway from chance (a guess among the output's values) to perfect."""
    domain = task.output_domain
    values = math.inf if domain is None else domain.size  # reals, unbounded integers: a guess never agrees
    return (1 + 1 / values) / 2


def _posterior_test(task: Task, synthesis: SynthesisResult) -> np.ndarray | None:
    if task.n_test == 0 or not synthesis.posterior.entries:
        return None
    return synthesis.predict(task.env(task.test))


def _snapshot(task, trace, index, minimal_values, posterior_test, distiller, kind, tolerance, bar) -> Snapshot:
    outputs = trace.outputs[index]
    train, test = task.train, task.test
    metric = {name: _number(values[index]) for name, values in trace.metrics.items()}

    same = None if minimal_values is None else agrees(outputs, minimal_values, kind=kind, tolerance=tolerance)

    def agree(mask):
        return None if same is None or not mask.any() else float(np.mean(same[mask]))

    everywhere = np.ones(task.n_points, dtype=bool)
    rmse = None
    if minimal_values is not None and kind == "real":
        with np.errstate(all="ignore"):
            rmse = _number(np.sqrt(np.mean((outputs.astype(np.float64) - minimal_values) ** 2)))
    distilled = distiller.distill(outputs)
    memorization = None
    if distilled is not None:
        held_out = test if test.any() else everywhere
        explained = agreement(outputs[held_out], distilled.values[held_out], kind=kind, tolerance=tolerance)
        memorization = bool(explained < bar)
    return Snapshot(
        step=int(trace.steps[index]),
        train_accuracy=metric.get("train_accuracy"),
        test_accuracy=metric.get("test_accuracy"),
        agreement_minimal=agree(everywhere),
        agreement_minimal_train=agree(train),
        agreement_minimal_test=agree(test),
        agreement_posterior_test=agreement(outputs[test], posterior_test, kind=kind, tolerance=tolerance)
        if posterior_test is not None else None,
        rmse_minimal=rmse,
        disagreements=None if same is None else int(np.count_nonzero(~same)),
        distilled_program=str(distilled.program) if distilled else None,
        distilled_bits=distilled.bits if distilled else None,
        distilled_program_bits=distilled.program_bits if distilled else None,
        distilled_data_bits=distilled.data_bits if distilled else None,
        distilled_exceptions=distilled.exceptions if distilled else None,
        memorization=memorization,
    )


def _first_step_of_last_run(snapshots: Sequence[_Stepped], holds: Callable[[_Stepped], bool]) -> int | None:
    """The first step from which `holds` is true at every later recorded step (None if not at the
    last), over snapshots of any kind with a `step` (scalar and sequence comparisons alike)."""
    found = None
    for snapshot in snapshots:
        if holds(snapshot):
            found = snapshot.step if found is None else found
        else:
            found = None
    return found


def _sequence(snapshots: list[Snapshot]) -> list[dict[str, Any]]:
    sequence: list[dict[str, Any]] = []
    for snapshot in snapshots:
        if snapshot.distilled_program is None:
            continue
        last = {"last_step": snapshot.step, "bits_last": snapshot.distilled_bits,
                "exceptions_last": snapshot.distilled_exceptions}  # fmt: skip
        if sequence and sequence[-1]["program"] == snapshot.distilled_program:
            sequence[-1].update(last)
        else:
            sequence.append({"program": snapshot.distilled_program, "program_bits": snapshot.distilled_program_bits,
                             "first_step": snapshot.step, "bits_first": snapshot.distilled_bits,
                             "exceptions_first": snapshot.distilled_exceptions, **last})  # fmt: skip
    return sequence


def disagreements(task: Task, outputs: np.ndarray, step: int, program_values: np.ndarray, *,
                  tolerance: float) -> Disagreements:  # fmt: skip
    """Where `outputs` (a network's, at every task point) differ from `program_values` (reals:
    by more than `tolerance`)."""
    minimal_values = program_values
    differ = ~agrees(outputs, minimal_values, kind=task.output_type.kind, tolerance=tolerance)
    where = np.flatnonzero(differ)
    points = [
        {"inputs": {name: _plain(task.points[name][i]) for name in task.points},
         "network": _plain(outputs[i]), "program": _plain(minimal_values[i]), "train": bool(task.train[i])}
        for i in where[:MAX_LISTED]
    ]  # fmt: skip
    by_input = {}
    for input_ in task.inputs:
        values = task.points[input_.name]
        if input_.type.kind != "real" and len(np.unique(values)) <= MAX_BY_INPUT:
            found, counts = np.unique(values[differ], return_counts=True)
            by_input[input_.name] = {json.dumps(_plain(v)): int(c) for v, c in zip(found, counts)}
    grid, axes = _grid(task, differ)
    return Disagreements(step, int(differ.sum()), points, by_input, grid, axes)


def _grid(task: Task, differ: np.ndarray) -> tuple[list[list[int]] | None, dict[str, list] | None]:
    """For two discrete inputs: a (values of the first) × (values of the second) table of 0/1."""
    if len(task.inputs) != 2 or any(input_.type.kind == "real" for input_ in task.inputs):
        return None, None
    first, second = (task.points[input_.name] for input_ in task.inputs)
    rows, row_index = np.unique(first, return_inverse=True)
    columns, column_index = np.unique(second, return_inverse=True)
    if len(rows) * len(columns) > 1 << 16:
        return None, None
    grid = np.zeros((len(rows), len(columns)), dtype=np.int64)
    grid[row_index, column_index] = differ.astype(np.int64)
    axes = {task.inputs[0].name: [_plain(v) for v in rows], task.inputs[1].name: [_plain(v) for v in columns]}
    return grid.tolist(), axes


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(value):
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value) if math.isfinite(value) else None
    return value


def _finite(value):
    """JSON-safe: non-finite floats become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


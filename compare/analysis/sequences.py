"""The comparison on sequence tasks: did the RNN learn the minimal recurrent program, when, and where not?

`compare_sequences(task, synthesis, trace, ...)` sets an RNN's function trace over the held-out
sequences (its per-step outputs at log-spaced training steps, neural/sequence.py) beside the
shortest recurrent program that fits the training sequences (search/recurrent/), and computes:

- per recorded step: accuracy against the targets and agreement with the minimal program over
  every held-out (sequence, step) output, the share of held-out sequences the two agree on
  entirely, and the agreement per position t = 0 … L-1 (where in a sequence the network departs);
- `program_found_step`: the first recorded step from which the network agrees with the minimal
  program on every held-out output at every later recorded step too (None if never);
- the distilled program: the shortest two-part code of the network's outputs on the training
  sequences at the end of training (a recurrent program and the steps it does not explain:
  `search.synthesize_with_exceptions`), and whether it is correct on every held-out sequence of
  the true task;
- the distilled sequence (`distil_over_training`): the same code of the network's function on
  the held-out sequences (the ones its trace records) at a few recorded steps, so that what the
  network computes has a description length over training;
- the probe (neural/): how well a linear read-out of the network's hidden state recovers each state
  variable of the minimal program on held-out sequences.

A `SequenceComparison` is a value: `to_json` / `from_json` round-trip (format
`occam-sequence-comparison/1`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from dsl import Recurrence, SequenceTask

from .harness import _finite, _first_step_of_last_run

__all__ = ["FORMAT", "SequenceComparison", "SequenceSnapshot", "compare_sequences", "distilled_task"]

FORMAT = "occam-sequence-comparison/1"


@dataclass(frozen=True)
class SequenceSnapshot:
    """The comparison at one recorded step, over the held-out sequences (None: none held out)."""

    step: int
    test_accuracy: float | None  # outputs equal to the targets
    agreement_minimal: float | None  # outputs equal to the minimal program's
    sequences_agreeing: float | None  # held-out sequences on which the two agree at every step
    agreement_by_position: list[float] | None  # agreement with the minimal program at position t


@dataclass
class SequenceComparison:
    task: str
    fingerprint: str
    length: int
    minimal_program: str | None
    minimal_bits: float | None
    minimal_certified: bool
    program_found_step: int | None
    distilled_program: str | None  # from the network's outputs on the training sequences, at the end
    distilled_bits: float | None
    distilled_correct: bool | None  # the distilled program is right on every held-out sequence
    distilled_equals_minimal: bool | None  # and computes the minimal program's outputs there
    probe: dict[str, float]  # state variable of the minimal program -> held-out probe score
    snapshots: list[SequenceSnapshot]
    settings: dict[str, Any] = field(default_factory=dict)
    # the distilled code: distilled_bits = distilled_program_bits + the bits of its exceptions, the
    # training steps where the network's outputs are not the program's
    distilled_program_bits: float | None = None
    distilled_exceptions: int | None = None
    # per distilled step (`distil_over_training`): step, program, program_bits, exceptions, bits, status
    distilled_sequence: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        return _finite(data)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> SequenceComparison:
        if data.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} report (format {data.get('format')!r})")
        fields = {key: value for key, value in data.items() if key != "format"}
        fields["snapshots"] = [SequenceSnapshot(**snapshot) for snapshot in data["snapshots"]]
        return SequenceComparison(**fields)

    @property
    def final(self) -> SequenceSnapshot | None:
        return self.snapshots[-1] if self.snapshots else None


def compare_sequences(
    task: SequenceTask, minimal: Recurrence | None, minimal_bits: float | None, minimal_certified: bool,
    steps: np.ndarray, test_outputs: np.ndarray, *, distilled: tuple[Recurrence, float] | None = None,
    probe: Mapping[str, float] | None = None, settings: Mapping[str, Any] | None = None,
    distilled_program_bits: float | None = None, distilled_exceptions: int | None = None,
    distilled_sequence: list[dict[str, Any]] | None = None,
) -> SequenceComparison:  # fmt: skip
    """The comparison of a network's recorded outputs on the held-out sequences, `test_outputs`
    (recorded steps, held-out sequences, L) at `steps`, with the minimal program `minimal` (None
    when the search found none) and the distilled code `distilled` (program, total bits: its
    `distilled_program_bits` and those of `distilled_exceptions` training outputs it does not
    explain)."""
    test = task.test
    targets = task.target_values[test]
    expected_shape = (len(steps), int(test.sum()), task.length)
    if test_outputs.shape != expected_shape:
        raise ValueError(f"test outputs of shape {test_outputs.shape}, expected {expected_shape}")
    minimal_values = task.run(minimal, test).outputs if minimal is not None else None
    snapshots = [_snapshot(int(step), outputs, targets, minimal_values) for step, outputs in zip(steps, test_outputs)]
    distilled_correct = distilled_equals = None
    if distilled is not None:
        values = task.run(distilled[0], test).outputs
        distilled_correct = bool(np.array_equal(values, targets))
        distilled_equals = bool(np.array_equal(values, minimal_values)) if minimal_values is not None else None
    return SequenceComparison(
        task=task.name, fingerprint=task.fingerprint, length=task.length,
        minimal_program=str(minimal) if minimal is not None else None, minimal_bits=minimal_bits,
        minimal_certified=minimal_certified,
        program_found_step=_first_step_of_last_run(snapshots, lambda s: s.agreement_minimal == 1.0),
        distilled_program=str(distilled[0]) if distilled is not None else None,
        distilled_bits=distilled[1] if distilled is not None else None, distilled_correct=distilled_correct,
        distilled_equals_minimal=distilled_equals, probe=dict(probe or {}), snapshots=snapshots,
        settings=dict(settings or {}), distilled_program_bits=distilled_program_bits,
        distilled_exceptions=distilled_exceptions, distilled_sequence=list(distilled_sequence or []),
    )  # fmt: skip


def distil_over_training(task: SequenceTask, steps: np.ndarray, test_outputs: np.ndarray, config: Any, *,
                         count: int = 6) -> list[dict[str, Any]]:  # fmt: skip
    """At `count` of the recorded `steps` (log-spaced over them, the last included): the shortest
    two-part code (`search.synthesize_with_exceptions` within `config`) of the network's outputs on
    the held-out sequences there, `test_outputs` (recorded steps, held-out sequences, L). Per step:
    step, program (None: none explains all but 5 % of them), program_bits, exceptions, bits.
    Stops early, with the steps done, on Ctrl-C."""
    import search

    chosen = _log_spaced(len(steps), count)
    test = task.test
    rows: list[dict[str, Any]] = []
    for index in chosen:
        values = np.array(task.target_values)
        values[test] = test_outputs[index]
        held_out = replace(task, name=f"{task.name} (network at step {int(steps[index])})", target_values=values,
                           target=None, train=test.copy())  # fmt: skip
        result = search.synthesize_with_exceptions(held_out, config)
        fit = result.best
        rows.append({"step": int(steps[index]), "program": None if fit is None else str(fit.program),
                     "program_bits": None if fit is None else fit.program_bits,
                     "exceptions": None if fit is None else len(fit.exceptions),
                     "bits": None if fit is None else fit.bits, "status": result.status})  # fmt: skip
        if result.status == "interrupted":
            break
    return rows


def _log_spaced(n: int, count: int) -> list[int]:
    """`count` indices of 0 … n-1 spread evenly on a log scale of their position (n-1 included)."""
    if n <= count:
        return list(range(n))
    return sorted({min(n - 1, int(round(v)) - 1) for v in np.geomspace(1, n, count)})


def distilled_task(task: SequenceTask, outputs: np.ndarray) -> SequenceTask:
    """The task whose targets are a network's outputs (N, L) over all sequences: what distillation
    searches (on its training sequences, as the minimal program's search does on the data)."""
    if outputs.shape != task.target_values.shape:
        raise ValueError(f"network outputs of shape {outputs.shape}, expected {task.target_values.shape}")
    values = np.ascontiguousarray(outputs, dtype=task.target_values.dtype)
    values.flags.writeable = False
    return replace(task, name=f"{task.name} (network)", target_values=values, target=None)


def _snapshot(step: int, outputs: np.ndarray, targets: np.ndarray, minimal: np.ndarray | None) -> SequenceSnapshot:
    if outputs.shape[0] == 0:
        return SequenceSnapshot(step, None, None, None, None)
    agree = outputs == minimal if minimal is not None else None
    return SequenceSnapshot(
        step=step,
        test_accuracy=float(np.mean(outputs == targets)),
        agreement_minimal=float(np.mean(agree)) if agree is not None else None,
        sequences_agreeing=float(np.mean(agree.all(axis=1))) if agree is not None else None,
        agreement_by_position=[float(v) for v in agree.mean(axis=0)] if agree is not None else None,
    )

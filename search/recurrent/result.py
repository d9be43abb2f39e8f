"""What `synthesize_recurrent` returns: the best recurrent program, the front, the posterior, stats."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsl.recurrent import Recurrence
from dsl.sequences import SequenceTask

from ..result import STATUSES
from .config import RecurrentConfig

__all__ = ["RecurrentCandidate", "RecurrentPosteriorEntry", "RecurrentResult", "RecurrentStats", "SubsearchStats"]


@dataclass(frozen=True)
class RecurrentCandidate:
    """A recurrent program and its description length under the task's grammar."""

    program: Recurrence
    bits: float
    fits_train: bool = True  # reproduces every training output

    def to_json(self) -> dict[str, Any]:
        return {"program": str(self.program), "bits": self.bits, "fits_train": self.fits_train}


@dataclass(frozen=True)
class RecurrentPosteriorEntry:
    """A distinct fitting function (its outputs over every sequence of the task), through its
    shortest program met; `weight` ∝ 2^-bits, normalized over the entries."""

    program: Recurrence
    bits: float
    weight: float

    def to_json(self) -> dict[str, Any]:
        return {"program": str(self.program), "bits": self.bits, "weight": self.weight}


@dataclass
class SubsearchStats:
    """One class of programs searched: k states of the given types."""

    states: int
    types: tuple[str, ...]
    universes: tuple[str, ...]  # each state's universe U, as a range
    table_points: int  # |U_1 × … × U_k × X|
    exact: bool  # False: the table was too large (not searched, or searched on a sample)
    complete: bool = False  # every program of the class that could beat the best was ruled out
    status: str = "pending"  # why it ended: bound (complete), bits, time, memory, skipped, interrupted
    updates: int = 0  # distinct update functions enumerated (all states' banks)
    tuples: int = 0  # update tuples simulated
    simulations: int = 0  # (update tuple, start, output position) simulated
    steps: int = 0  # sequence steps simulated
    survivors: int = 0  # simulations whose output stayed a function of the read-out's point
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    covered_bits: float = 0.0  # every update tuple of at most these bits was simulated

    def to_json(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["types"] = list(self.types)
        data["universes"] = list(self.universes)
        return data


@dataclass
class RecurrentStats:
    subsearches: list[SubsearchStats] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    verify_failures: int = 0  # found programs the reference evaluator disagreed with (a bug if > 0)

    def per_states(self) -> dict[int, dict[str, float]]:
        """Totals per state count k: updates, simulations, cpu and wall seconds."""
        totals: dict[int, dict[str, float]] = {}
        for sub in self.subsearches:
            row = totals.setdefault(sub.states, {"classes": 0, "updates": 0, "simulations": 0, "cpu_seconds": 0.0,
                                                 "wall_seconds": 0.0})  # fmt: skip
            row["classes"] += 1
            row["updates"] += sub.updates
            row["simulations"] += sub.simulations
            row["cpu_seconds"] += sub.cpu_seconds
            row["wall_seconds"] += sub.wall_seconds
        return totals

    def to_json(self) -> dict[str, Any]:
        return {"subsearches": [sub.to_json() for sub in self.subsearches], "cpu_seconds": self.cpu_seconds,
                "wall_seconds": self.wall_seconds, "verify_failures": self.verify_failures}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecurrentStats:
        subs = []
        for row in data.get("subsearches", []):
            row = dict(row)
            row["types"], row["universes"] = tuple(row["types"]), tuple(row["universes"])
            subs.append(SubsearchStats(**row))
        return cls(subs, data.get("cpu_seconds", 0.0), data.get("wall_seconds", 0.0), data.get("verify_failures", 0))


@dataclass
class RecurrentResult:
    """The outcome of `synthesize_recurrent`.

    `best`: the shortest fitting program found (None: none). `certified`: no program of the
    searched classes (at most `config.max_states` states of the tried types, each within its
    universe on the training sequences) is shorter — every class was searched exactly and to
    its bound (`certificate` says it in words). `front`: the fitting programs found, in the
    order found (each shorter than the last). `posterior`: the distinct fitting functions
    within `config.posterior_window` bits of the best, weighted 2^-bits."""

    task: SequenceTask
    best: RecurrentCandidate | None
    status: str
    certified: bool
    certificate: str
    front: list[RecurrentCandidate]
    posterior: list[RecurrentPosteriorEntry]
    stats: RecurrentStats
    config: RecurrentConfig
    why: str | None = None  # one line when nothing fits

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status = {self.status!r}; expected one of {', '.join(STATUSES)}")

    @property
    def describe(self) -> str:
        return STATUSES[self.status]

    def test_accuracy(self) -> float | None:
        """The best program's per-step accuracy on the test sequences (None: none, or no test)."""
        if self.best is None or self.task.n_test == 0:
            return None
        outputs = self.task.run(self.best.program, self.task.test).outputs
        return float(np.mean(outputs == self.task.target_values[self.task.test]))

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task.name,
            "fingerprint": self.task.fingerprint,
            "status": self.status,
            "certified": self.certified,
            "certificate": self.certificate,
            "best": None if self.best is None else self.best.to_json(),
            "front": [candidate.to_json() for candidate in self.front],
            "posterior": [entry.to_json() for entry in self.posterior],
            "stats": self.stats.to_json(),
            "config": self.config.to_json(),
            "why": self.why,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], task: SequenceTask,
                  parse: Callable[[str, SequenceTask], Recurrence] | None = None) -> RecurrentResult:  # fmt: skip
        """Read back `to_json`'s output for `task`; programs are parsed with
        `dsl.parse_recurrence` (or `parse`)."""
        if parse is None:
            import dsl

            def parse(text: str, task: SequenceTask) -> Recurrence:
                return dsl.parse_recurrence(text, task)

        def candidate(row: dict[str, Any]) -> RecurrentCandidate:
            return RecurrentCandidate(parse(row["program"], task), float(row["bits"]), bool(row["fits_train"]))

        best = None if data["best"] is None else candidate(data["best"])
        posterior = [RecurrentPosteriorEntry(parse(row["program"], task), float(row["bits"]), float(row["weight"]))
                     for row in data["posterior"]]  # fmt: skip
        return cls(task=task, best=best, status=data["status"], certified=bool(data["certified"]),
                   certificate=data["certificate"], front=[candidate(row) for row in data["front"]],
                   posterior=posterior, stats=RecurrentStats.from_json(data["stats"]),
                   config=RecurrentConfig.from_json(data["config"]), why=data.get("why"))  # fmt: skip


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None

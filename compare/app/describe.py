"""Plain-data summaries of tasks, shared by `occam check`, `occam tasks` and the reports."""

from __future__ import annotations

from typing import Any

from dsl import GrammarError, SequenceTask, Task, description_length

__all__ = ["task_summary"]


def task_summary(task: Task | SequenceTask) -> dict[str, Any]:
    """Everything `occam check` reports about a task, as JSON-ready values."""
    if isinstance(task, SequenceTask):
        return _sequence_summary(task)
    bits, why_not = None, None
    if task.target is not None:
        try:
            bits = description_length(task.target, task.grammar)
        except GrammarError as error:
            why_not = error.message
    return {
        "name": task.name,
        "doc": task.doc,
        "source": f"{task.source}:{task.line}",
        "inputs": [
            {"name": i.name, "type": str(i.type), "range": _range(i.range)} for i in task.inputs
        ],
        "output": {"name": task.output_name, "type": str(task.output_type), "range": _range(task.output_range)},
        "points": task.n_points,
        "train_points": task.n_train,
        "test_points": task.n_test,
        "sampling": task.sampling,
        "noise": str(task.noise) if task.noise else None,
        "target": str(task.target) if task.target is not None else None,
        "target_latex": task.target.to_latex() if task.target is not None else None,
        "target_bits": bits,
        "target_not_derivable": why_not,
        "grammar": str(task.grammar),
        "grammar_builtin": task.grammar.name,
    }


def _sequence_summary(task: SequenceTask) -> dict[str, Any]:
    """A sequence task's summary: the keys of a scalar task's (points counting sequences), and its length."""
    bits, why_not = None, None
    if task.target is not None:
        try:
            bits = task.target.bits(task.grammar)
        except (GrammarError, ValueError) as error:  # ValueError: a state without a finite range
            why_not = getattr(error, "message", str(error))
    return {
        "name": task.name,
        "doc": task.doc,
        "source": f"{task.source}:{task.line}",
        "kind": "sequence",
        "length": task.length,
        "inputs": [{"name": i.name, "type": str(i.type), "range": _range(i.range)} for i in task.inputs],
        "output": {"name": task.output_name, "type": str(task.output_type), "range": _range(task.output_range)},
        "points": task.n_sequences,
        "train_points": task.n_train,
        "test_points": task.n_test,
        "sampling": task.sampling,
        "noise": None,
        "target": str(task.target) if task.target is not None else None,
        "target_lines": task.target.lines() if task.target is not None else None,
        "target_latex": None,
        "target_bits": bits,
        "target_not_derivable": why_not,
        "grammar": str(task.grammar),
        "grammar_builtin": task.grammar.name,
    }


def _range(range_: Any) -> list[float] | None:
    return None if range_ is None else [range_.low, range_.high]

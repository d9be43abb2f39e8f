"""Building sequence tasks from task files, and loading tasks of either kind.

A task with a `sequence` field is a sequence task (dsl/sequences.py): its inputs are per-step
inputs, its `output` the per-step output, and its data is N sequences of L steps, from one of:

- `sequence length L count N seed S` and a `target` (a recurrent program `target { state …;
  update …; output … }`, or `target EXPR`, a read-out of the current inputs with no state): the
  sequences are drawn by `SequenceTask.generate` (each input uniform over its finite range at
  every step) and the target is run over them;
- a bare `sequence` and `data "file.csv"`, a long-format CSV file (below); such a task has no
  target (`target` and `data` exclude each other, as in scalar tasks).

`split train P% seed S` holds out whole sequences (the same permutation as
`dsl.sequences.split_sequences`; default: every sequence trains). `sample`, `test` and `noise`
are refused. The grammar is built as for a scalar task, from the per-step inputs and the output
type; a recurrent program's states join it as leaves (`dsl.recurrent.with_states`).

The data file, long format: a header naming the columns `sequence`, every input and the output
(other columns are ignored), then one row per step. `sequence` is an integer that labels the
sequence a row belongs to; the rows of one sequence are consecutive and in step order, and every
sequence has the same number of rows (its length). Sequences are numbered in the order of the
file, not by label. Values are read and checked as in a scalar data file (dsl/datafile.py: its
folder confinement, size limit, row limit and cell checks apply):

    sequence,x,y
    0,1,1
    0,2,0
    1,0,0
    1,2,2
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np

from .datafile import _data_root, _read_data
from .errors import DataError, OccamError, Source, TaskError
from .recurrent import Recurrence
from .recurrent_check import check_recurrence, parse_recurrence_syntax, recurrence_of_expression
from .sequences import MAX_SEQUENCE_VALUES, SequenceTask, _readonly
from .splits import _split
from .syntax import Field, OutputSyntax, RecurrenceSyntax, SequenceSyntax, TaskSyntax
from .task import (
    Input,
    Task,
    _build,
    _collect,
    _Fields,
    _inputs,
    _locate,
    _output_and_grammar,
    _parse_file,
    _read,
)
from .types import INT, Range, Type

__all__ = [
    "parse_any_tasks", "load_any_tasks", "load_any_task", "load_sequence_task", "parse_recurrence",
    "build_sequence_task", "is_sequence_syntax",
]  # fmt: skip


# --- loading ------------------------------------------------------------------------------------


def parse_any_tasks(
    text: str,
    *,
    source_name: str = "<string>",
    base_dir: str | os.PathLike | None = None,
    names: Collection[str] | None = None,
    data_root: str | os.PathLike | None = None,
) -> list[Task | SequenceTask]:
    """The tasks in a task file's text, scalar `Task`s and `SequenceTask`s alike, in the order
    written (the arguments as in `dsl.parse_tasks`)."""
    source, syntaxes = _parse_file(text, source_name)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    root = _data_root(data_root, base)
    return [
        build_sequence_task(syntax, source, base, root) if is_sequence_syntax(syntax) else _build(syntax, source, base, root)
        for syntax in syntaxes if names is None or syntax.name.name in names
    ]  # fmt: skip


def load_any_tasks(path: str | os.PathLike, *, data_root: str | os.PathLike | None = None) -> list[Task | SequenceTask]:
    """All tasks in the task file at `path`, of either kind."""
    path = Path(path)
    return parse_any_tasks(_read(path), source_name=str(path), base_dir=path.parent, data_root=data_root)


def load_any_task(source: str | os.PathLike, *, name: str | None = None,
                  data_root: str | os.PathLike | None = None) -> Task | SequenceTask:
    """One task of either kind: `source` and `name` as in `dsl.load_task` (a path, `path:name`,
    or a built-in task's name)."""
    path, text, chosen = _locate(source, name)
    (task,) = parse_any_tasks(text, source_name=str(path), base_dir=path.parent, names=[chosen], data_root=data_root)
    return task


def load_sequence_task(source: str | os.PathLike, *, name: str | None = None,
                       data_root: str | os.PathLike | None = None) -> SequenceTask:
    """One sequence task (`load_any_task`, refusing a scalar task with a TaskError)."""
    task = load_any_task(source, name=name, data_root=data_root)
    if not isinstance(task, SequenceTask):
        raise TaskError(f"task `{task.name}` is not a sequence task (it has no `sequence` field)",
                        expected="`dsl.load_task` for a scalar task, or a task with `sequence length L count N`")
    return task


def parse_recurrence(text: str, task_or_types: Task | SequenceTask | Mapping[str, Type], *,
                     expected: Type | None = None) -> Recurrence:
    """The recurrent program `text` — statements separated by newlines or `;`, as `str` and
    `Recurrence.lines` write them — checked against a task's per-step inputs (or a mapping name →
    type). Its output has type `expected`; by default a task's output type, any type for a mapping."""
    if isinstance(task_or_types, (Task, SequenceTask)):
        inputs = task_or_types.input_types
        if expected is None:
            expected = task_or_types.output_type
    else:
        inputs = dict(task_or_types)
    return parse_recurrence_syntax(text, inputs, expected)


def is_sequence_syntax(syntax: TaskSyntax) -> bool:
    """Does the task declare a `sequence` field?"""
    return any(isinstance(item, SequenceSyntax) for item in syntax.fields)


# --- building -----------------------------------------------------------------------------------


def build_sequence_task(syntax: TaskSyntax, source: Source, base: Path, root: Path) -> SequenceTask:
    """The sequence task that `syntax` declares (module docstring)."""
    name = syntax.name.name
    fields = _collect(syntax, source)
    sequence: SequenceSyntax = fields.get("sequence")
    for keyword in ("sample", "test", "noise"):
        item = fields.get(keyword)
        if item is not None:
            raise TaskError(
                f"a sequence task takes no `{keyword}`", source=source, span=item.span,
                expected="`sequence length L count N seed S` for the sequences and `split` to hold some out"
                if keyword != "noise" else "a sequence task without noise (its outputs are the target's)",
            )
    inputs = _inputs(fields.inputs, syntax, source)
    if fields.get("data") is None:
        for input_ in inputs:
            if not input_.is_finite:
                raise TaskError(
                    f"the input `{input_.name}` has no finite range to draw its steps from", source=source,
                    span=input_.span, expected="a per-step input of type bool, a bit-vector type or int lo..hi",
                )
    output_type, output_range, output_name, grammar = _output_and_grammar(
        fields, syntax, source, inputs, output_example="`output int 0..2`, the type of every step's output",
        grammar_example="arithmetic")  # fmt: skip
    output: OutputSyntax = fields.get("output")
    target_field, data_field = fields.get("target"), fields.get("data")
    if (target_field is None) == (data_field is None):
        raise TaskError(
            f"task `{name}` has {'both a `target` and' if target_field else 'neither a `target` nor'} a `data` file",
            source=source, span=(target_field or syntax.name).span,
            expected="either `target { … }` (generated sequences) or `sequence` and `data \"file.csv\"`",
        )
    doc = fields.get("doc")
    common = {"name": name, "doc": doc.value if doc else "", "inputs": inputs, "output_type": output_type,
              "output_range": output_range, "output_name": output_name, "grammar": grammar,
              "source": source.name, "line": syntax.span.line if syntax.span else 0}
    if data_field is not None:
        task = _from_data(sequence, data_field, output, fields, common, source, base, root)
    else:
        task = _generated(sequence, target_field, fields, common, source)
    train, sampling = _split(fields.get("split"), np.ones(task.n_sequences, dtype=bool), task.sampling, source)
    return dataclasses.replace(task, train=_readonly(train), sampling=sampling)


def _generated(sequence: SequenceSyntax, target_field: Field, fields: _Fields, common: dict, source: Source) -> SequenceTask:
    inputs: tuple[Input, ...] = common["inputs"]
    if sequence.length is None or sequence.count is None:
        raise TaskError("a generated sequence task needs its length and count", source=source, span=sequence.span,
                        expected="`sequence length L count N seed S` (or `data \"file.csv\"` to read the sequences)")
    if sequence.length < 1 or sequence.count < 1:
        raise TaskError(f"{sequence.count} sequences of {sequence.length} steps", source=source, span=sequence.span,
                        expected="at least one sequence of at least one step")
    values = sequence.length * sequence.count * max(1, len(inputs))
    if values > MAX_SEQUENCE_VALUES:
        raise TaskError(
            f"{sequence.count:,} sequences of {sequence.length:,} steps are {values:,} input values", source=source,
            span=sequence.span, expected=f"at most {MAX_SEQUENCE_VALUES:,} (sequences × steps × inputs)",
        )
    types = {input_.name: input_.type for input_ in inputs}
    output_type: Type = common["output_type"]
    try:
        if isinstance(target_field.value, RecurrenceSyntax):
            target = check_recurrence(target_field.value, types, output_type)
        else:
            target = recurrence_of_expression(target_field.value, types, output_type)
    except OccamError as error:
        raise error.located(source, target_field.span) from None  # `target { }`: at the field
    task = SequenceTask.generate(target=target, length=sequence.length, count=sequence.count, seed=sequence.seed,
                                 **common)
    _check_outputs(task, target_field, source)
    return task


def _check_outputs(task: SequenceTask, target_field: Field, source: Source) -> None:
    """The target's outputs must be finite and within the output range, as a scalar target's."""
    values = task.target_values
    bad = ~np.isfinite(values) if task.output_type.kind == "real" else np.zeros(values.shape, dtype=bool)
    if task.output_range is not None:
        bad |= ~task.output_range.contains(values)
    if not bad.any():
        return
    n, t = (int(i) for i in np.argwhere(bad)[0])
    at = ", ".join(f"{name} = {_show(column[n, t])}" for name, column in task.sequences.items())
    value = values[n, t]
    problem = f"outside the output range {task.output_range}" if task.output_range is not None and np.isfinite(
        float(value)) else "not finite"
    raise TaskError(
        f"the target's output is {_show(value)} at step {t + 1} of sequence {n + 1} ({at}): {problem} "
        f"({int(bad.sum()):,} of {values.size:,} steps)", source=source, span=target_field.span,
        expected="a target whose every output lies in the output range; widen it or fix the target",
    )


def _show(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _from_data(sequence: SequenceSyntax, data_field: Field, output: OutputSyntax, fields: _Fields, common: dict,
               source: Source, base: Path, root: Path) -> SequenceTask:
    if sequence.length is not None:
        raise TaskError("a sequence task read from data takes its length and count from the file", source=source,
                        span=sequence.span, expected="a bare `sequence` beside `data \"file.csv\"`")
    if output.name is None:
        raise TaskError("a task read from data must name its output column", source=source, span=output.span,
                        expected=f"`output NAME: {common['output_type']}`")
    inputs: tuple[Input, ...] = common["inputs"]
    sequences, values = read_sequences(data_field, inputs, common["output_name"], common["output_type"],
                                       common["output_range"], source, base, root)
    count, length = values.shape
    return SequenceTask(
        sequences={name: _readonly(column) for name, column in sequences.items()},
        train=_readonly(np.ones(count, dtype=bool)), target_values=_readonly(values), target=None,
        sampling=f"{count:,} sequences of {length} steps from {data_field.value}", **common,
    )


def read_sequences(data_field: Field, inputs: tuple[Input, ...], output_name: str, output_type: Type,
                   output_range: Range | None, source: Source, base: Path,
                   root: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The (N, L) input arrays and outputs of a long-format data file (module docstring)."""
    label = Input("sequence", INT)  # `sequence` is a keyword: no input or output has that name
    columns, values = _read_data(data_field, (label, *inputs), output_name, output_type, output_range, source,
                                 base, root)
    ids = columns.pop("sequence")
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    labels = ids[starts]
    unique, first = np.unique(labels, return_index=True)
    if len(unique) != len(labels):
        repeated = np.ones(len(labels), dtype=bool)
        repeated[first] = False
        again = int(np.flatnonzero(repeated)[0])
        row = int(starts[again]) + 2  # a header line, then rows from 1 (blank lines not counted)
        raise DataError(
            f"the rows of sequence {labels[again]} in {data_field.value} are not consecutive: it starts again at "
            f"data row {row - 1}, after sequence {labels[again - 1]}", source=source, span=data_field.span,
            expected="the rows of each sequence together, in step order",
        )
    lengths = np.diff(np.r_[starts, len(ids)])
    if (lengths != lengths[0]).any():
        other = int(np.flatnonzero(lengths != lengths[0])[0])
        raise DataError(
            f"sequence {labels[other]} in {data_field.value} has {lengths[other]} rows, but sequence {labels[0]} "
            f"has {lengths[0]}", source=source, span=data_field.span,
            expected="sequences of one length (one row per step)",
        )
    count, length = len(starts), int(lengths[0])
    return {name: column.reshape(count, length) for name, column in columns.items()}, values.reshape(count, length)

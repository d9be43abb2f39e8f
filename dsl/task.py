"""Tasks: the single source of truth for the data every searcher and every network sees.

A task file holds `task` blocks (see README.md and docs/language.md). Loading one checks it
and builds a `Task`: the inputs with their domains, every point (the whole finite domain, or
the sampled points), the train/test split, the target values, the target program (or None for a
task read from a CSV file) and the probabilistic grammar. Nothing downstream re-derives a split
or re-samples points.

Points come from exactly one of:
- the whole domain, when every input is finite (bool, bit-vector, or int with a range), in
  lexicographic order (the first input varies slowest);
- `sample N uniform|grid seed S`, within each input's range;
- `data "file.csv"`, one point per row.
The held-out points come from `split train P% seed S` (a random subset of the points is for
training, the rest for testing; default: all training) or from `test N uniform|grid seed S
[range x: a..b, …]`, drawn separately and possibly from a wider range (extrapolation); for
finite domains, test points are distinct from the training points. `noise` corrupts the
training targets only: held-out values stay clean, so test accuracy measures recovery of the
true function.

This module holds the values (`Task`, `Input`) and the loading and building of tasks; the
points are drawn in dsl/sampling.py, split in dsl/splits.py, corrupted in dsl/noise.py, and read
from data files in dsl/datafile.py. dsl/arrays.py builds a task from arrays (`Task.from_arrays`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .check import RESERVED_NAMES, Scope, elaborate
from .datafile import DATA_ROOT_VARIABLE, MAX_DATA_BYTES, _data_root, _read_data, _reason
from .errors import OccamError, OccamTypeError, Source, Span, TaskError, did_you_mean, shortened
from .evaluate import evaluate
from .grammars import Grammar, build_grammar
from .noise import Noise, _add_noise, _noise
from .program import Expr
from .sampling import MAX_POINTS, _points, value_domain
from .splits import _split
from .syntax import (
    Field,
    GrammarSyntax,
    InputSyntax,
    NoiseSyntax,
    Num,
    OutputSyntax,
    RangeSyntax,
    RecurrenceSyntax,
    SampleSyntax,
    SequenceSyntax,
    SplitSyntax,
    TaskSyntax,
    parse_expression,
    parse_task_file,
)
from .types import Range, Type

__all__ = [
    "Task", "Input", "Noise", "load_task", "load_tasks", "parse_tasks", "parse_program", "MAX_POINTS", "MAX_DATA_BYTES",
    "DATA_ROOT_VARIABLE",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Input:
    """An input of a task: its name, type and (optional) range."""

    name: str
    type: Type
    range: Range | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def bounds(self) -> Range | None:
        """The declared range, or the whole range of a bit-vector or bool; None if unbounded."""
        if self.type.kind == "real":
            return self.range
        return value_domain(self.type, self.range)

    @property
    def is_finite(self) -> bool:
        return self.type.kind != "real" and self.bounds is not None

    def __str__(self) -> str:
        return f"{self.name}: {self.type}" + (f" {self.range}" if self.range else "")


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def fingerprint(task: Any, parts: Sequence[str], arrays: Sequence[np.ndarray]) -> str:
    """16 hex digits of SHA-256 over what defines a task (scalar or sequence): its name, grammar,
    output type and range, target, inputs with their ranges, the `parts` of its kind, its `arrays`."""
    digest = hashlib.sha256()
    inputs = [f"{input_.name}: {input_.type} {input_.range}" for input_ in task.inputs]
    for part in (task.name, str(task.grammar), str(task.output_type), str(task.output_range), str(task.target),
                 *inputs, *parts):  # fmt: skip
        digest.update(part.encode() + b"\0")
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Task:
    """A checked task with all its data.

    Arrays are read-only and aligned: `points[name][i]`, `train[i]` and `target_values[i]` all
    describe point i.
    """

    name: str
    doc: str
    inputs: tuple[Input, ...]
    output_type: Type
    output_range: Range | None
    output_name: str
    points: Mapping[str, np.ndarray]  # input name -> values at every point
    train: np.ndarray  # bool mask: the training points
    target_values: np.ndarray  # what learners see: noisy at training points if noise is declared
    clean_values: np.ndarray  # the noise-free values (equal to target_values without noise)
    target: Expr | None  # None for a task read from data
    grammar: Grammar
    source: str = "<string>"  # the file the task came from
    line: int = 0
    sampling: str = ""  # how the points were made, in words
    noise: Noise | None = None
    recipe: _Recipe | None = field(default=None, repr=False)  # what built it: `with_split`/`with_sample` rebuild it

    @property
    def test(self) -> np.ndarray:
        """bool mask of the held-out points."""
        return ~self.train

    @property
    def n_points(self) -> int:
        return len(self.train)

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_test(self) -> int:
        return self.n_points - self.n_train

    @property
    def output_domain(self) -> Range | None:
        """The set of output values, as a range of integers: 0..1 (false, true) for a bool
        output, the declared range of an integer one, else a bit-vector type's whole range;
        None (unbounded) for a real output and an int one without a range. Every part of occam
        that needs the output's values (label noise, the data code, the chance level, a
        network's classes) reads them here."""
        return value_domain(self.output_type, self.output_range)

    @property
    def input_types(self) -> dict[str, Type]:
        return {input_.name: input_.type for input_ in self.inputs}

    def env(self, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Input columns, at the points selected by `mask` (default: all)."""
        return {name: values if mask is None else values[mask] for name, values in self.points.items()}

    def real_tolerance(self, fraction: float = 0.05) -> float:
        """How far apart two real outputs may be and still agree: `fraction` × the standard
        deviation of the training targets (the values a learner sees, noise included; × 1 where
        that is 0 or not finite, or there are no training points). Outputs that are not real agree
        only when equal, and get `fraction` × 1, which nothing compares with. The one yardstick of
        compare's harness, `occam diff` and neural's regression accuracy (docs/compare.md)."""
        if self.output_type.kind != "real" or self.n_train == 0:
            return fraction * 1.0
        scale = float(np.std(np.asarray(self.target_values[self.train], dtype=np.float64)))
        return fraction * (scale if np.isfinite(scale) and scale > 0 else 1.0)

    @property
    def fingerprint(self) -> str:
        """A hash of everything that defines the task's data, grammar and encoding (for caches):
        the ranges too, since a network's input and output layers are sized by them."""
        return fingerprint(self, (str(self.noise),), (*self.points.values(), self.train, self.target_values,
                                                      self.clean_values))  # fmt: skip

    def __repr__(self) -> str:
        return f"<Task {self.name}: {self.n_points} points, {self.n_train} train>"

    @classmethod
    def from_arrays(
        cls,
        inputs: Any,
        output: Any,
        *,
        names: Sequence[str] | None = None,
        output_name: str | None = None,
        types: Mapping[str, Type | str] | None = None,
        grammar: str | None = None,
        train: float | int | str | None = None,
        seed: int = 0,
        name: str = "arrays",
        doc: str = "",
    ) -> Task:
        """A task read from data given as arrays: the task that a task file with a `data` file
        of the same rows declares (same checks, same errors, same fingerprint).

        `inputs`: a mapping name -> 1-D array, a 2-D array (points × inputs; `names` names its
        columns, default x0, x1, …) or a pandas DataFrame. `output`: a 1-D array, or the name
        of a column of `inputs` (then not an input); `output_name` names an array (default
        `y`). `types` maps names to a `Type` or a type as written (`"u8"`, `"int 0..9"`); the
        others are inferred from the dtype: bool -> bool, integer -> int over the observed
        range, float -> real. `grammar`: a built-in grammar's name or grammar text (`real ->
        x, real + real`, or `koza { real -> 1.0 }`), by default `koza` for a real output,
        `boolean` for a bool one and `arithmetic` for an integer one. `train` and `seed` are
        `split train P% seed S`: a fraction in (0, 1], a count, or a percentage text such as
        "70%"; None: every point trains.
        """
        from .arrays import task_from_arrays

        return task_from_arrays(inputs, output, names=names, output_name=output_name, types=types, grammar=grammar,
                                train=train, seed=seed, name=name, doc=doc)

    def with_split(self, train: float | int | str | None, *, seed: int = 0) -> Task:
        """This task with its `split` field replaced by `split train TRAIN seed SEED` (None:
        removed, every point trains; `train` as in `from_arrays`): the task that editing its text
        gives, noise redrawn for the new training points, the fingerprint with it."""
        from .arrays import split_syntax

        return self._rebuilt("split", None if train is None else split_syntax(train, seed))

    def with_sample(self, count: int | None = None, *, method: str | None = None, seed: int | None = None) -> Task:
        """This task with its `sample` field changed (what is not given stays as declared; a task
        without one gets `sample COUNT METHOD seed SEED`, by default uniform, seed 0): the task
        that editing its text gives, every point drawn again."""
        recipe = self._rebuildable()
        current = next((item for item in recipe.syntax.fields
                        if isinstance(item, SampleSyntax) and item.keyword == "sample"), None)  # fmt: skip
        if current is None:
            if count is None:
                raise TaskError(f"task `{self.name}` has no `sample` to change", source=recipe.source,
                                expected="the number of points to sample, as `with_sample(count, seed=…)`")
            current = SampleSyntax("sample", count, "uniform", 0, ())
        from .arrays import check_sample

        settings = (current.count if count is None else count, current.method if method is None else method,
                    current.seed if seed is None else seed)  # fmt: skip
        check_sample(*settings)
        sample = SampleSyntax("sample", int(settings[0]), settings[1], int(settings[2]), ())
        return self._rebuilt("sample", sample)

    def _rebuildable(self) -> _Recipe:
        if self.recipe is None:
            raise TaskError(f"task `{self.name}` was not built by occam's loader, so it cannot be rebuilt",
                            expected="a task from `load_task`, `parse_tasks` or `Task.from_arrays`")
        return self.recipe

    def _rebuilt(self, keyword: str, item: Any) -> Task:
        """The task built from this one's syntax with its `keyword` field replaced by `item`
        (None: removed; added at the end when there was none)."""
        recipe = self._rebuildable()
        fields = [field_ for field_ in recipe.syntax.fields
                  if isinstance(field_, InputSyntax) or _keyword(field_) != keyword]  # fmt: skip
        if item is not None:
            at = next((i for i, field_ in enumerate(recipe.syntax.fields)
                       if not isinstance(field_, InputSyntax) and _keyword(field_) == keyword), len(fields))
            fields.insert(at, item)
        syntax = TaskSyntax(recipe.syntax.name, tuple(fields), recipe.syntax.span)
        read = None if recipe.data is None else functools.partial(_stored_data, recipe.data)
        return _build(syntax, recipe.source, recipe.base, recipe.root, read)


def _stored_data(data: tuple[Mapping[str, np.ndarray], np.ndarray], *_: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A data reader (`DataReader`) giving rows read before (the inputs are the same)."""
    points, values = data
    return dict(points), values


# --- loading ----------------------------------------------------------------------------------


def parse_tasks(
    text: str,
    *,
    source_name: str = "<string>",
    base_dir: str | os.PathLike | None = None,
    names: Collection[str] | None = None,
    data_root: str | os.PathLike | None = None,
) -> list[Task]:
    """The tasks in a task file's text (only those in `names`, if given; the others are parsed
    but not built). Data files are read relative to `base_dir` (default: the working directory)
    and must lie inside `data_root` once symlinks are followed (default: the folder that the
    environment variable OCCAM_DATA_ROOT names, else `base_dir`)."""
    source, syntaxes = _parse_file(text, source_name)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    root = _data_root(data_root, base)
    return [_build(syntax, source, base, root) for syntax in syntaxes if names is None or syntax.name.name in names]


@functools.lru_cache(maxsize=32)
def _parse_file(text: str, source_name: str) -> tuple[Source, tuple[TaskSyntax, ...]]:
    """The syntax of a task file, checked for unique names; cached, since loading one task of a
    file by name parses the file (the syntax objects are immutable)."""
    source = Source(source_name, text)
    syntaxes = parse_task_file(text, source)
    if not syntaxes:
        raise TaskError("the file holds no task", source=source, expected="a block `task NAME { … }`")
    seen: set[str] = set()
    for syntax in syntaxes:
        if syntax.name.name in seen:
            raise TaskError(
                f"a second task named `{syntax.name.name}`", source=source, span=syntax.name.span,
                expected="task names unique within a file",
            )
        seen.add(syntax.name.name)
    return source, tuple(syntaxes)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TaskError(f"cannot read task file {path}: {_reason(error)}") from None


def load_tasks(path: str | os.PathLike, *, data_root: str | os.PathLike | None = None) -> list[Task]:
    """All tasks in the task file at `path` (`data_root`: see `parse_tasks`)."""
    path = Path(path)
    return parse_tasks(_read(path), source_name=str(path), base_dir=path.parent, data_root=data_root)


def load_task(source: str | os.PathLike, *, name: str | None = None,
              data_root: str | os.PathLike | None = None) -> Task:
    """One task: `source` is a path to a task file (`name` picks a task when it holds several;
    `path:name` does the same) or the name of a built-in task (`occam tasks` lists them).
    Only that task is built. Its data file, if any, must lie inside `data_root` (default:
    $OCCAM_DATA_ROOT, else the task file's folder). A sequence task is refused (TaskError):
    `dsl.load_any_task` and `dsl.load_sequence_task` load those."""
    path, source_text, chosen = _locate(source, name)
    (task,) = parse_tasks(source_text, source_name=str(path), base_dir=path.parent, names=[chosen],
                          data_root=data_root)
    return task


def _locate(source: str | os.PathLike, name: str | None) -> tuple[Path, str, str]:
    """The task file, its text and the name of the task that `load_task(source, name=name)` means."""
    from .library import builtin_task_file, builtin_task_names, find_builtin_task

    text = str(source)
    path = Path(text)
    if not path.is_file() and ":" in text and name is None:
        head, _, tail = text.rpartition(":")
        if Path(head).is_file():
            path, name = Path(head), tail
    builtin = find_builtin_task(text) if not path.is_file() else None
    if builtin is not None:
        path, name = builtin, text
    elif not path.is_file():
        if text not in builtin_task_names():
            looks_like_path = os.sep in text or text.endswith(".task")
            raise TaskError(
                f"no task file {text}" if looks_like_path else f"no task file or built-in task named `{text}`",
                expected="a path to a .task file or the name of a built-in task (`occam tasks` lists them)",
                hint=None if looks_like_path else did_you_mean(text, builtin_task_names()),
            )
        path, name = builtin_task_file(text), text
    source_text = _read(path)
    _, syntaxes = _parse_file(source_text, str(path))
    names = [syntax.name.name for syntax in syntaxes]
    if name is None and len(names) > 1:
        raise TaskError(
            f"{path} holds {len(names)} tasks",
            expected=f"one of them named, as `{path}:NAME`: " + ", ".join(names),
        )
    if name is not None and name not in names:
        raise TaskError(
            f"{path} holds no task `{name}`",
            expected="one of " + ", ".join(names),
            hint=did_you_mean(name, names),
        )
    return path, source_text, name or names[0]


def parse_program(text: str, task: Task | Mapping[str, Type], *, expected: Type | None = None) -> Expr:
    """The program `text`, type-checked against a task's inputs (or a mapping name → type).

    With `expected`, the program must have that type (and integer literals take it)."""
    inputs = task.input_types if isinstance(task, Task) else dict(task)
    source = Source("<program>", text)
    try:
        return elaborate(parse_expression(text, source), Scope(inputs), expected)
    except OccamError as error:
        raise error.located(source) from None


# --- building one task -----------------------------------------------------------------------

_SINGLE_FIELDS = ("doc", "output", "target", "data", "grammar", "split", "sample", "test", "noise", "sequence")


@dataclass
class _Fields:
    inputs: list[InputSyntax] = field(default_factory=list)
    single: dict[str, Any] = field(default_factory=dict)

    def get(self, keyword: str) -> Any:
        return self.single.get(keyword)


def _collect(syntax: TaskSyntax, source: Source) -> _Fields:
    fields = _Fields()
    for item in syntax.fields:
        if isinstance(item, InputSyntax):
            fields.inputs.append(item)
            continue
        keyword = _keyword(item)
        if keyword in fields.single:
            raise TaskError(
                f"task `{syntax.name.name}` has a second `{keyword}`", source=source, span=item.span,
                expected=f"one `{keyword}` per task",
            )
        fields.single[keyword] = item
    return fields


def _keyword(item: Any) -> str:
    match item:
        case Field(keyword=keyword):
            return keyword
        case OutputSyntax():
            return "output"
        case GrammarSyntax():
            return "grammar"
        case SplitSyntax():
            return "split"
        case SampleSyntax(keyword=keyword):
            return keyword
        case NoiseSyntax():
            return "noise"
        case SequenceSyntax():
            return "sequence"
    raise TypeError(f"unknown field {item!r}")


@dataclass(frozen=True)
class _Recipe:
    """What a task was built from: its syntax (the fields as written), where it was read, and,
    for a task read from data, the rows (so that a rebuilt task reads no file again)."""

    syntax: TaskSyntax
    source: Source
    base: Path
    root: Path
    data: tuple[Mapping[str, np.ndarray], np.ndarray] | None = None  # (points, output values) of data rows


DataReader = Callable[..., tuple[dict[str, np.ndarray], np.ndarray]]  # `_read_data`'s signature


def _build(syntax: TaskSyntax, source: Source, base: Path, root: Path, read_data: DataReader | None = None) -> Task:
    """The task that `syntax` declares. `read_data` (default: read the CSV file that the `data`
    field names) gives a data task's points and output values, checked against the inputs."""
    name = syntax.name.name
    fields = _collect(syntax, source)
    if fields.get("sequence") is not None:
        raise TaskError(
            f"task `{name}` is a sequence task", source=source, span=fields.get("sequence").span,
            expected="`dsl.load_any_task`, `dsl.load_sequence_task` or `dsl.parse_any_tasks` to load it "
                     "(`load_task`, `load_tasks` and `parse_tasks` build scalar tasks only)",
        )
    target_syntax = fields.get("target")
    if target_syntax is not None and isinstance(target_syntax.value, RecurrenceSyntax):
        raise TaskError(
            f"task `{name}` has a recurrent target but no `sequence` field", source=source, span=target_syntax.span,
            expected="`sequence length L count N seed S` to make it a sequence task, or `target EXPRESSION`",
        )
    inputs = _inputs(fields.inputs, syntax, source)
    output_type, output_range, output_name, grammar = _output_and_grammar(
        fields, syntax, source, inputs, output_example="`output int 0..96` or `output bool`", grammar_example="koza")
    output: OutputSyntax = fields.get("output")
    types = {input_.name: input_.type for input_ in inputs}
    target_field, data_field = fields.get("target"), fields.get("data")
    if (target_field is None) == (data_field is None):
        raise TaskError(
            f"task `{name}` has {'both a `target` and' if target_field else 'neither a `target` nor'} a `data` file",
            source=source, span=(target_field or syntax.name).span,
            expected="either `target EXPRESSION` or `data \"file.csv\"`",
        )
    if data_field is not None:
        if output.name is None:
            raise TaskError("a task read from data must name its output column", source=source, span=output.span,
                            expected=f"`output NAME: {output_type}`")
        for keyword in ("sample", "test"):
            if fields.get(keyword) is not None:
                raise TaskError(f"a task read from data cannot also `{keyword}` points", source=source,
                                span=fields.get(keyword).span, expected="`split` to hold out rows")
        points, values = (read_data or _read_data)(data_field, inputs, output_name, output_type, output_range,
                                                   source, base, root)
        target, sampling = None, f"{len(values)} rows of {data_field.value}"
        candidates = np.ones(len(values), dtype=bool)
    else:
        target = _target(target_field.value, types, output_type, source)
        if fields.get("split") is not None and fields.get("test") is not None:
            raise TaskError("a task may `split` its points or draw `test` points, not both", source=source,
                            span=fields.get("test").span, expected="one of `split` and `test`")
        test: SampleSyntax | None = fields.get("test")
        test_draw = None if test is None else (test, _test_ranges(inputs, test, source))
        points, candidates, sampling = _points(inputs, fields.get("sample"), test_draw, source)
        values = _target_values(target, points, output_type, output_range, target_field, source)
    train, sampling = _split(fields.get("split"), candidates, sampling, source)
    noise = _noise(fields.get("noise"), output_type, output_range, source)
    noise_syntax = fields.get("noise")
    observed = values
    if noise is not None:
        observed = _add_noise(noise, values, train, output_type, output_range, noise_syntax, source)
    doc = fields.get("doc")
    return Task(
        name=name,
        doc=doc.value if doc else "",
        inputs=inputs,
        output_type=output_type,
        output_range=output_range,
        output_name=output_name,
        points={key: _readonly(column) for key, column in points.items()},
        train=_readonly(train),
        target_values=_readonly(observed),
        clean_values=_readonly(values),
        target=target,
        grammar=grammar,
        source=source.name,
        line=syntax.span.line if syntax.span else 0,
        sampling=sampling,
        noise=noise,
        recipe=_Recipe(syntax, source, base, root, None if data_field is None else (points, values)),
    )



def _output_and_grammar(fields: Any, syntax: Any, source: Source, inputs: Sequence[Input], *, output_example: str,
                        grammar_example: str) -> tuple[Type, Range | None, str, Grammar]:  # fmt: skip
    """A task's `output` (type, range, name) and its grammar over `inputs`, of a scalar task or a
    sequence task alike; a missing field is a TaskError showing an example."""
    name = syntax.name.name
    output: OutputSyntax | None = fields.get("output")
    if output is None:
        raise TaskError(f"task `{name}` has no `output`", source=source, span=syntax.name.span,
                        expected=f"a line such as {output_example}")  # fmt: skip
    output_type, output_range = _typed_range(output.type_name, output.range, source)
    output_name = output.name.name if output.name else "output"
    if output.name is not None:
        _check_name(output.name, source, {input_.name for input_ in inputs})
    grammar_syntax: GrammarSyntax | None = fields.get("grammar")
    if grammar_syntax is None:
        raise TaskError(f"task `{name}` has no `grammar`", source=source, span=syntax.name.span,
                        expected=f"`grammar {{ TYPE -> alternatives }}` or a built-in grammar such as `grammar {grammar_example}`")  # fmt: skip
    types = {input_.name: input_.type for input_ in inputs}
    return output_type, output_range, output_name, build_grammar(grammar_syntax, types, output_type, source)


def _inputs(declarations: list[InputSyntax], task: TaskSyntax, source: Source) -> tuple[Input, ...]:
    if not declarations:
        raise TaskError(f"task `{task.name.name}` declares no input", source=source, span=task.name.span,
                        expected="a line such as `input x: real -1..1` or `input a, b: int 0..96`")
    inputs: list[Input] = []
    for declaration in declarations:
        type_, range_ = _typed_range(declaration.type_name, declaration.range, source)
        for name in declaration.names:
            _check_name(name, source, {input_.name for input_ in inputs})
            inputs.append(Input(name.name, type_, range_, name.span))
    return tuple(inputs)


def _check_name(name: Any, source: Source, taken: set[str]) -> None:
    if name.name in taken:
        raise TaskError(f"`{name.name}` is declared twice", source=source, span=name.span,
                        expected="distinct names for the inputs and the output")
    if name.name in RESERVED_NAMES or Type.named(name.name) is not None:
        raise TaskError(f"`{name.name}` is reserved", source=source, span=name.span,
                        expected="a name that is not a keyword, a type or a primitive")


def _typed_range(type_name: Any, range_syntax: RangeSyntax | None, source: Source) -> tuple[Type, Range | None]:
    type_ = Type.named(type_name.name)
    if type_ is None:
        raise OccamTypeError(
            f"unknown type `{type_name.name}`", source=source, span=type_name.span,
            expected="bool, int, real, or a bit-vector type uN / iN (such as u8)",
            hint=did_you_mean(type_name.name, ["bool", "int", "real", "u8", "i8", "u16"]),
        )
    return type_, _range(type_, range_syntax, source)


def _range(type_: Type, range_syntax: RangeSyntax | None, source: Source) -> Range | None:
    if range_syntax is None:
        return None
    if type_.kind == "bool":
        raise TaskError("a bool takes no range", source=source, span=range_syntax.span, expected="just `bool`")
    low = _signed(range_syntax.low, range_syntax.low_negative, type_, source)
    high = _signed(range_syntax.high, range_syntax.high_negative, type_, source)
    if low > high:
        raise TaskError(f"the range {Range(low, high)} is empty", source=source, span=range_syntax.span,
                        expected="low..high with low ≤ high")
    bounds = type_.bounds
    if bounds is not None and (low < bounds[0] or high > bounds[1]):
        raise TaskError(f"the range {Range(low, high)} exceeds type {type_}", source=source,
                        span=range_syntax.span, expected=f"a range within {bounds[0]}..{bounds[1]}")
    return Range(low, high)


def _signed(num: Num, negative: bool, type_: Type, source: Source) -> int | float:
    if type_.kind == "int":
        if num.is_real:
            raise TaskError(f"the bound {num.text} of an integer range is not an integer", source=source,
                            span=num.span, expected="integer bounds, such as 0..96")
        value: int | float = int(num.text)
        bounds = type_.bounds
        assert bounds is not None, "an integer type has bounds"
        low, high = bounds
        if value > 2**64:  # beyond every integer type, and too large to print as a Range (a float)
            raise TaskError(f"the bound {'-' if negative else ''}{shortened(num.text)} exceeds type {type_}",
                            source=source, span=num.span, expected=f"a bound within {low}..{high}")
    else:
        value = float(num.text)
        if math.isinf(value):
            raise TaskError(f"the bound {num.text} is too large", source=source, span=num.span)
    return -value if negative else value


def _target(expr: Any, types: dict[str, Type], output_type: Type, source: Source) -> Expr:
    try:
        return elaborate(expr, Scope(types), output_type)
    except OccamError as error:
        raise error.located(source) from None


def _test_ranges(inputs: tuple[Input, ...], test: SampleSyntax, source: Source) -> dict[str, Range | None]:
    ranges = {input_.name: input_.bounds for input_ in inputs}
    by_name = {input_.name: input_ for input_ in inputs}
    for name, range_syntax in test.ranges:
        if name.name not in by_name:
            raise TaskError(f"`test` names an unknown input `{name.name}`", source=source, span=name.span,
                            expected="one of " + ", ".join(by_name), hint=did_you_mean(name.name, by_name))
        ranges[name.name] = _range(by_name[name.name].type, range_syntax, source)
    return ranges


def _target_values(target: Expr, points: Mapping[str, np.ndarray], output_type: Type, output_range: Range | None, field_: Field, source: Source) -> np.ndarray:
    values = evaluate(target, points)
    bad = ~np.isfinite(values) if output_type.kind == "real" else np.zeros(len(values), dtype=bool)
    if output_range is not None:
        bad |= ~output_range.contains(values)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        at = ", ".join(f"{name} = {_show(column[index])}" for name, column in points.items())
        problem = "outside the output range " + str(output_range) if output_range and np.isfinite(
            float(values[index])) else "not finite"
        raise TaskError(
            f"the target is {_show(values[index])} at {at}: {problem} ({int(bad.sum())} of {len(values)} points)",
            source=source, span=field_.span,
            expected="a target defined on the whole domain; narrow the input ranges or fix the target",
        )
    return values


def _show(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)



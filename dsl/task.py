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
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
import re
import stat
from array import array
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .check import RESERVED_NAMES, Scope, elaborate
from .errors import DataError, OccamError, OccamTypeError, Source, Span, TaskError, did_you_mean, shortened
from .evaluate import evaluate
from .grammars import Grammar, build_grammar
from .program import Expr
from .syntax import (
    AmountSyntax,
    Field,
    GrammarSyntax,
    InputSyntax,
    NoiseSyntax,
    Num,
    OutputSyntax,
    RangeSyntax,
    SampleSyntax,
    SplitSyntax,
    TaskSyntax,
    parse_expression,
    parse_task_file,
)
from .types import Range, Type

__all__ = ["Task", "Input", "Noise", "load_task", "load_tasks", "parse_tasks", "parse_program", "MAX_POINTS"]

MAX_POINTS = 2**24  # the most points a task may hold: its domain, samples and test points together
MAX_DATA_BYTES = 256 * 2**20  # a data file larger than this is refused before it is read
DATA_ROOT_VARIABLE = "OCCAM_DATA_ROOT"  # names the folder data files must lie in, instead of the task file's


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
        if self.range is not None:
            return self.range
        if self.type.kind == "bool":
            return Range(0, 1)
        if self.type.is_bitvector:
            return Range(*self.type.bounds)
        return None

    @property
    def is_finite(self) -> bool:
        return self.type.kind != "real" and self.bounds is not None

    def __str__(self) -> str:
        return f"{self.name}: {self.type}" + (f" {self.range}" if self.range else "")


@dataclass(frozen=True, slots=True)
class Noise:
    """Label noise (a fraction of training labels replaced by other values) or Gaussian noise
    of standard deviation `sigma` added to real training targets."""

    kind: str
    amount: float
    seed: int
    relative: bool = False  # gaussian: sigma is `amount` × the RMS of the clean training targets

    def __str__(self) -> str:
        if self.kind == "label":
            return f"label {_percent(self.amount)} seed {self.seed}"
        sigma = _percent(self.amount) + " of RMS" if self.relative else f"σ = {self.amount:g}"
        return f"gaussian {sigma} seed {self.seed}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


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
        digest = hashlib.sha256()
        inputs = [f"{input_.name}: {input_.type} {input_.range}" for input_ in self.inputs]
        for part in (self.name, str(self.grammar), str(self.output_type), str(self.output_range), str(self.target),
                     *inputs, str(self.noise)):  # fmt: skip
            digest.update(part.encode() + b"\0")
        for array in (*self.points.values(), self.train, self.target_values, self.clean_values):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def __repr__(self) -> str:
        return f"<Task {self.name}: {self.n_points} points, {self.n_train} train>"


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


def _data_root(data_root: str | os.PathLike | None, base: Path) -> Path:
    """The folder that data files must lie in: `data_root`, else $OCCAM_DATA_ROOT, else `base`."""
    if data_root is None:
        data_root = os.environ.get(DATA_ROOT_VARIABLE) or base
    return Path(data_root).resolve()


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
    $OCCAM_DATA_ROOT, else the task file's folder)."""
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
    (task,) = parse_tasks(source_text, source_name=str(path), base_dir=path.parent, names=[name or names[0]],
                          data_root=data_root)
    return task


def parse_program(text: str, task: Task | Mapping[str, Type], *, expected: Type | None = None) -> Expr:
    """The program `text`, type-checked against a task's inputs (or a mapping name → type).

    With `expected`, the program must have that type (and integer literals take it)."""
    inputs = task.input_types if isinstance(task, Task) else dict(task)
    source = Source("<program>", text)
    try:
        return elaborate(parse_expression(text, source), Scope(inputs), expected)
    except OccamError as error:
        raise error.located(source) from None


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return error.strerror or str(error) if isinstance(error, OSError) else str(error)


# --- building one task -----------------------------------------------------------------------

_SINGLE_FIELDS = ("doc", "output", "target", "data", "grammar", "split", "sample", "test", "noise")


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
    raise TypeError(f"unknown field {item!r}")


def _build(syntax: TaskSyntax, source: Source, base: Path, root: Path) -> Task:
    name = syntax.name.name
    fields = _collect(syntax, source)
    inputs = _inputs(fields.inputs, syntax, source)
    output: OutputSyntax | None = fields.get("output")
    if output is None:
        raise TaskError(f"task `{name}` has no `output`", source=source, span=syntax.name.span,
                        expected="a line such as `output int 0..96` or `output bool`")
    output_type, output_range = _typed_range(output.type_name, output.range, source)
    output_name = output.name.name if output.name else "output"
    if output.name is not None:
        _check_name(output.name, source, {input_.name for input_ in inputs})
    types = {input_.name: input_.type for input_ in inputs}
    grammar_syntax: GrammarSyntax | None = fields.get("grammar")
    if grammar_syntax is None:
        raise TaskError(
            f"task `{name}` has no `grammar`", source=source, span=syntax.name.span,
            expected="`grammar { TYPE -> alternatives }` or a built-in grammar such as `grammar koza`",
        )
    grammar = build_grammar(grammar_syntax, types, output_type, source)
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
        points, values = _read_data(data_field, inputs, output_name, output_type, output_range, source, base, root)
        target, sampling = None, f"{len(values)} rows of {data_field.value}"
        candidates = np.ones(len(values), dtype=bool)
    else:
        target = _target(target_field.value, types, output_type, source)
        if fields.get("split") is not None and fields.get("test") is not None:
            raise TaskError("a task may `split` its points or draw `test` points, not both", source=source,
                            span=fields.get("test").span, expected="one of `split` and `test`")
        points, candidates, sampling = _points(inputs, fields, source)
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
    )


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
        low, high = type_.bounds
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


# --- points -------------------------------------------------------------------------------------


def _points(inputs: tuple[Input, ...], fields: _Fields, source: Source) -> tuple[dict[str, np.ndarray], np.ndarray, str]:
    """The points, and which of them are candidates for training (all but `test` points)."""
    sample: SampleSyntax | None = fields.get("sample")
    test: SampleSyntax | None = fields.get("test")
    test_ranges = _test_ranges(inputs, test, source) if test is not None else None
    if sample is not None:
        ranges = {input_.name: input_.bounds for input_ in inputs}
        if test is not None and sample.count > 0 and all(ranges[input_.name] is not None for input_ in inputs):
            requested = _requested(inputs, ranges, sample)
            if requested <= MAX_POINTS:
                _check_total(requested, inputs, test_ranges, test, source)
        train_points = _draw(inputs, ranges, sample, source, exclude=None)
        described = f"{sample.count} {sample.method} samples (seed {sample.seed})"
    else:
        unbounded = [input_ for input_ in inputs if not input_.is_finite]
        if unbounded:
            raise TaskError(
                f"input `{unbounded[0].name}` has no finite domain to enumerate", source=source,
                span=unbounded[0].span, expected="`sample N uniform seed S` to draw points"
                + ("" if unbounded[0].range else f", and a range such as `{unbounded[0].name}: {unbounded[0].type} 0..9`"),
            )
        size = math.prod(input_.bounds.size for input_ in inputs)
        if size > MAX_POINTS:
            raise TaskError(
                f"the domain has {size:,} points, more than occam enumerates ({MAX_POINTS:,})", source=source,
                span=inputs[0].span, expected="`sample N uniform seed S` to draw points from it",
            )
        if test is not None:
            _check_total(size, inputs, test_ranges, test, source)
        train_points = _grid(inputs, {input_.name: input_.bounds for input_ in inputs}, count=0)
        described = f"the whole domain ({size:,} points)"
    n_candidates = len(next(iter(train_points.values())))
    if test is None:
        return train_points, np.ones(n_candidates, dtype=bool), described
    ranges = test_ranges
    test_points = _draw(inputs, ranges, test, source, exclude=train_points)
    points = {name: np.concatenate([train_points[name], test_points[name]]) for name in train_points}
    candidates = np.arange(len(points[inputs[0].name])) < n_candidates
    overrides = ", ".join(f"{name.name}: {range_}" for name, range_ in ((n, ranges[n.name]) for n, _ in test.ranges))
    described += f"; test: {test.count} {test.method} samples (seed {test.seed})" + (f" over {overrides}" if overrides else "")
    return points, candidates, described


def _test_ranges(inputs: tuple[Input, ...], test: SampleSyntax, source: Source) -> dict[str, Range]:
    ranges = {input_.name: input_.bounds for input_ in inputs}
    by_name = {input_.name: input_ for input_ in inputs}
    for name, range_syntax in test.ranges:
        if name.name not in by_name:
            raise TaskError(f"`test` names an unknown input `{name.name}`", source=source, span=name.span,
                            expected="one of " + ", ".join(by_name), hint=did_you_mean(name.name, by_name))
        ranges[name.name] = _range(by_name[name.name].type, range_syntax, source)
    return ranges


def _values(input_: Input, range_: Range) -> np.ndarray:
    """Every value of a finite input within `range_`, in order."""
    if input_.type.kind == "bool":
        return np.array([False, True])
    return np.arange(int(range_.low), int(range_.high) + 1, dtype=np.int64)


def _grid(inputs: tuple[Input, ...], ranges: Mapping[str, Range], count: int) -> dict[str, np.ndarray]:
    """The product of each input's values: every value of finite inputs, `count` evenly spaced
    values of real ones; the first input varies slowest."""
    axes = []
    for input_ in inputs:
        range_ = ranges[input_.name]
        if input_.type.kind == "real":
            axes.append(_between(range_, np.linspace(0.0, 1.0, count)))
        else:
            axes.append(_values(input_, range_))
    mesh = np.meshgrid(*axes, indexing="ij")
    return {input_.name: column.ravel() for input_, column in zip(inputs, mesh)}


def _requested(inputs: tuple[Input, ...], ranges: Mapping[str, Range | None], spec: SampleSyntax) -> int:
    """How many points `spec` asks for (a grid: its product over the inputs); every input ranged."""
    reals = sum(input_.type.kind == "real" for input_ in inputs)
    size = spec.count ** max(1, reals) if spec.method == "grid" else spec.count
    if spec.method == "grid":
        size *= math.prod(ranges[i.name].size for i in inputs if i.type.kind != "real")
    return size


def _check_total(train: int, inputs: tuple[Input, ...], ranges: Mapping[str, Range | None], test: SampleSyntax,
                 source: Source) -> None:
    """Refuse, before anything is drawn, `test` points that with `train` points exceed MAX_POINTS
    (`_draw` checks each count alone, and its messages say what is wrong with the fields)."""
    if test.count <= 0 or any(ranges[input_.name] is None for input_ in inputs):
        return
    size = _requested(inputs, ranges, test)
    if size <= MAX_POINTS < train + size:
        raise TaskError(f"`{test.keyword}` asks for {size:,} points, and with the {train:,} training points the task "
                        f"would hold {train + size:,}, more than occam handles ({MAX_POINTS:,})", source=source,
                        span=test.span, expected=f"at most {MAX_POINTS - train:,} test points, or fewer training points")


def _draw(
    inputs: tuple[Input, ...],
    ranges: Mapping[str, Range | None],
    spec: SampleSyntax,
    source: Source,
    exclude: Mapping[str, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """`spec.count` points by `spec.method`; finite domains give distinct points, none of them
    in `exclude` (the points drawn before; `_check_total` has made sure that with them the task
    holds at most MAX_POINTS)."""
    for input_ in inputs:
        if ranges[input_.name] is None:
            raise TaskError(
                f"input `{input_.name}` needs a range to be sampled", source=source, span=input_.span,
                expected=f"a range, such as `{input_.name}: {input_.type} 0..9`",
            )
    if spec.count <= 0:
        raise TaskError(f"`{spec.keyword}` asks for no points", source=source, span=spec.span,
                        expected="a positive number of points")
    size = _requested(inputs, ranges, spec)
    if size > MAX_POINTS:
        raise TaskError(f"`{spec.keyword}` asks for {size:,} points, more than occam handles ({MAX_POINTS:,})",
                        source=source, span=spec.span, expected=f"at most {MAX_POINTS:,} points")
    if spec.method == "grid":
        points = _grid(inputs, ranges, spec.count)
        if exclude is not None and all(input_.is_finite for input_ in inputs):
            keep = ~_rows_in(points, exclude)
            points = {name: column[keep] for name, column in points.items()}
        return points
    rng = np.random.default_rng(spec.seed)
    if all(input_.is_finite for input_ in inputs):
        return _draw_distinct(inputs, ranges, spec, rng, exclude, source)
    points = {}
    for input_ in inputs:
        range_ = ranges[input_.name]
        if input_.type.kind == "real":
            points[input_.name] = _between(range_, rng.uniform(0.0, 1.0, spec.count))
        else:
            drawn = rng.integers(int(range_.low), int(range_.high), spec.count, dtype=np.int64, endpoint=True)
            points[input_.name] = drawn.astype(input_.type.dtype)
    return points


def _between(range_: Range, fractions: np.ndarray) -> np.ndarray:
    """Points at `fractions` of the way through a real range, without overflowing on huge ranges
    (low + (high − low) · t would: high − low can exceed the largest double)."""
    return range_.low * (1.0 - fractions) + range_.high * fractions


def _draw_distinct(inputs, ranges, spec, rng, exclude, source) -> dict[str, np.ndarray]:
    """Distinct points of a finite domain, none in `exclude`: the same points, in the same order,
    as drawing them one at a time and skipping repeats, but found with numpy (row keys)."""
    bounds = [(int(ranges[i.name].low), int(ranges[i.name].high)) for i in inputs]
    no_points = {input_.name: np.zeros(0, dtype=np.int64) for input_ in inputs}
    taken = _keys_inside(no_points if exclude is None else exclude, inputs, bounds)
    total = math.prod(high - low + 1 for low, high in bounds)  # a Python int: may exceed 2^64
    available = total - len(taken)
    if spec.count > available:
        raise TaskError(
            f"`{spec.keyword}` asks for {spec.count:,} distinct points, but only {available:,} are available",
            source=source, span=spec.span, expected=f"at most {available:,} points",
        )
    if total <= MAX_POINTS:  # choose among the indices left, without replacement
        grid = _grid(inputs, ranges, 0)
        free = np.ones(total, dtype=bool)
        free[taken] = False  # a point's key is its index in the grid (both mixed-radix, the first input slowest)
        allowed = np.flatnonzero(free)
        chosen = np.sort(rng.choice(allowed, spec.count, replace=False))
        return {name: column[chosen] for name, column in grid.items()}
    chosen_rows, seen, needed = [], taken, spec.count  # a huge domain: rejection sampling, in draw order
    while needed > 0:
        batch = np.stack([rng.integers(low, high, spec.count, dtype=np.int64, endpoint=True)
                          for low, high in bounds], axis=1)  # fmt: skip
        keys = _row_keys(list(batch.T), bounds)
        order = np.argsort(keys)
        ordered = keys[order]
        starts = _group_starts(ordered)
        distinct = ordered[starts]
        del ordered  # the batches are up to 2^24 points: free what is done with
        first = np.minimum.reduceat(order, starts)  # each distinct point's first draw in the batch
        del order, starts
        fresh = np.sort(first[~_member(distinct, seen, queries_sorted=True)])[:needed]
        del distinct, first
        chosen_rows.append(batch[fresh])
        needed -= len(fresh)
        if needed > 0:
            seen = np.sort(np.concatenate([seen, keys[fresh]]))
        del batch, keys
    rows = np.concatenate(chosen_rows)
    return {input_.name: rows[:, index].astype(input_.type.dtype) for index, input_ in enumerate(inputs)}


def _row_keys(columns: list[np.ndarray], bounds: list[tuple[int, int]]) -> np.ndarray:
    """One key per row of integer `columns` (column j within bounds[j]), equal exactly when the
    rows are: the row's mixed-radix index in the box (the first column slowest) when that fits
    in an int64, else the row's bytes."""
    if math.prod(high - low + 1 for low, high in bounds) < 2**63:
        keys = np.asarray(columns[0], dtype=np.int64) - bounds[0][0]
        for column, (low, high) in zip(columns[1:], bounds[1:]):
            keys *= high - low + 1
            keys += np.asarray(column, dtype=np.int64) - low
        return keys
    rows = np.ascontiguousarray(np.stack([np.asarray(column).astype(np.int64) for column in columns], axis=1))
    return rows.view(np.dtype((np.void, rows.itemsize * len(columns)))).ravel()


def _keys_inside(points: Mapping[str, np.ndarray], inputs, bounds: list[tuple[int, int]]) -> np.ndarray:
    """The distinct keys (`_row_keys`) of those `points` that lie within `bounds`."""
    columns = [np.asarray(points[input_.name]).astype(np.int64) for input_ in inputs]
    inside = np.ones(len(columns[0]), dtype=bool)
    for column, (low, high) in zip(columns, bounds):
        inside &= (column >= low) & (column <= high)
    keys = np.sort(_row_keys([column[inside] for column in columns], bounds))
    return keys[_group_starts(keys)]


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """The index of the first of each run of equal keys in a sorted array."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))


def _member(queries: np.ndarray, sorted_keys: np.ndarray, *, queries_sorted: bool = False) -> np.ndarray:
    """bool mask: which `queries` stand in `sorted_keys` (np.isin falls back to a slow stable
    sort for keys of a wide range; binary search on sorted queries stays fast)."""
    if len(sorted_keys) == 0 or len(queries) == 0:
        return np.zeros(len(queries), dtype=bool)
    order = None if queries_sorted else np.argsort(queries)
    ordered = queries if order is None else queries[order]
    where = np.searchsorted(sorted_keys, ordered)
    np.minimum(where, len(sorted_keys) - 1, out=where)
    found = sorted_keys[where] == ordered
    if order is None:
        return found
    unordered = np.empty_like(found)
    unordered[order] = found
    return unordered


def _rows_in(points: Mapping[str, np.ndarray], others: Mapping[str, np.ndarray] | None) -> np.ndarray:
    """bool mask: which rows of `points` (integer or bool columns) also stand in `others`."""
    names = list(points)
    n = len(points[names[0]])
    if others is None or len(others[names[0]]) == 0 or n == 0:
        return np.zeros(n, dtype=bool)
    columns = [np.asarray(points[name]).astype(np.int64) for name in names]
    other_columns = [np.asarray(others[name]).astype(np.int64) for name in names]
    bounds = [(int(min(mine.min(), theirs.min())), int(max(mine.max(), theirs.max())))
              for mine, theirs in zip(columns, other_columns)]  # fmt: skip
    return _member(_row_keys(columns, bounds), np.sort(_row_keys(other_columns, bounds)))


def _target_values(target: Expr, points, output_type: Type, output_range: Range | None, field_: Field, source: Source) -> np.ndarray:
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


# --- split and noise ------------------------------------------------------------------------------


def _split(split: SplitSyntax | None, candidates: np.ndarray, sampling: str, source: Source):
    if split is None:
        return candidates.copy(), sampling
    n = len(candidates)
    count = _count(split.train, n, source, "split")
    if count == 0:
        raise TaskError(f"`split` leaves no training point (of {n:,})", source=source, span=split.span,
                        expected="a larger training share")
    order = np.random.default_rng(split.seed).permutation(n)
    train = np.zeros(n, dtype=bool)
    train[order[:count]] = True
    share = f"{split.train.value.text}%" if split.train.percent else f"{count:,} points"
    return train, f"{sampling}; train {share} = {count:,} (seed {split.seed})"


def _count(amount: AmountSyntax, n: int, source: Source, keyword: str) -> int:
    """How many of `n` an amount means: a percentage is floored, as `int(fraction * n)`."""
    text = amount.value.text
    approximate = float(text)  # never fails ('1e999' is inf): bounds the value before Fraction computes it
    if amount.percent:
        if not 0 <= approximate <= 100:
            raise TaskError(f"`{keyword}` percentage {shortened(text)}% is not between 0 and 100", source=source,
                            span=amount.span, expected="a percentage from 0% to 100%")
        if approximate * n < 1:  # so tiny a share takes no point (its Fraction can be huge: 1e-99999999)
            return 0
        try:
            exact = Fraction(text)
        except ValueError:  # more digits than Python converts
            raise TaskError(f"`{keyword}` percentage {shortened(text)}% has too many digits", source=source,
                            span=amount.span, expected="a percentage such as 30% or 12.5%") from None
        return math.floor(exact * n / 100)
    if amount.value.is_real or approximate > n:
        raise TaskError(f"`{keyword}` asks for {shortened(text)} of {n:,} points", source=source, span=amount.span,
                        expected=f"a whole number of points up to {n:,}, or a percentage")
    return int(text)


def _noise(noise: NoiseSyntax | None, output_type: Type, output_range: Range | None, source: Source) -> Noise | None:
    if noise is None:
        return None
    value = float(noise.amount.value.text)  # '1e999' reads as inf
    if not math.isfinite(value):
        raise TaskError(f"noise amount {noise.amount.value.text} is too large", source=source,
                        span=noise.amount.span, expected="a finite amount")
    if noise.kind == "label":
        if output_type.kind == "real" or (output_type.kind == "int" and _output_values(output_type, output_range) is None):
            raise TaskError("label noise needs a discrete output with a finite range", source=source, span=noise.span,
                            expected="a bool, bit-vector or ranged int output; `noise gaussian` for reals")
        if not noise.amount.percent or not 0 <= value <= 100:
            raise TaskError("label noise is a percentage of the training labels", source=source,
                            span=noise.amount.span, expected="a percentage such as 5%")
        if value > 0 and len(_output_values(output_type, output_range)) < 2:
            raise TaskError(
                f"label noise replaces labels by other values, but the output {output_range} has one value",
                source=source, span=noise.span, expected="an output range of two values or more",
            )
        return Noise("label", value / 100, noise.seed)
    if output_type.kind != "real":
        raise TaskError("gaussian noise needs a real output", source=source, span=noise.span,
                        expected="`noise label P%` for a discrete output")
    return Noise("gaussian", value / 100 if noise.amount.percent else value, noise.seed, relative=noise.amount.percent)


def _output_values(output_type: Type, output_range: Range | None) -> np.ndarray | None:
    if output_type.kind == "bool":
        return np.array([False, True])
    bounds = output_range or (Range(*output_type.bounds) if output_type.is_bitvector else None)
    if bounds is None or bounds.size > MAX_POINTS:
        return None
    return np.arange(int(bounds.low), int(bounds.high) + 1, dtype=np.int64)


def _add_noise(noise: Noise, values: np.ndarray, train: np.ndarray, output_type: Type, output_range: Range | None,
               syntax: NoiseSyntax, source: Source) -> np.ndarray:
    rng = np.random.default_rng(noise.seed)
    noisy = values.copy()
    train_index = np.flatnonzero(train)
    if noise.kind == "gaussian":
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is what the check below refuses
            sigma = noise.amount * math.sqrt(float(np.mean(values[train] ** 2))) if noise.relative else noise.amount
            if math.isfinite(sigma):
                noisy[train_index] = values[train_index] + rng.normal(0.0, sigma, len(train_index))
            mean_square = float(np.mean(noisy[train_index] ** 2)) if len(train_index) else 0.0
        if not (math.isfinite(sigma) and math.isfinite(mean_square)):  # learners square targets and residuals
            raise TaskError(
                f"noise gaussian {shortened(syntax.amount.value.text)}{'%' if noise.relative else ''} makes training "
                "targets whose squares overflow a double", source=source, span=syntax.amount.span,
                expected="a smaller sigma: noisy targets below about 1e150 in magnitude",
            )
        return noisy
    corrupt = rng.choice(train_index, math.floor(noise.amount * len(train_index)), replace=False)
    choices = _output_values(output_type, output_range)
    for index in np.sort(corrupt):  # a uniformly chosen *other* value
        others = choices[choices != values[index]]
        noisy[index] = others[rng.integers(0, len(others))]
    return noisy


# --- data files -----------------------------------------------------------------------------------


def _read_data(field_, inputs, output_name, output_type, output_range, source: Source, base: Path, root: Path):
    """The points and output values in the CSV file that `field_` names: one point per non-blank
    row, parsed as they stream in (the rows are not held as strings)."""
    path = _data_path(field_, source, base, root)
    text = _data_text(path, field_, source)
    data_source = Source(str(path), text)
    reader = csv.reader(io.StringIO(text))
    rows = ((number, row) for number, row in enumerate(reader, start=1) if any(cell.strip() for cell in row))
    try:
        _, header = next(rows, (0, None))
        if header is None:
            raise DataError(f"data file {path} is empty", source=source, span=field_.span,
                            expected="a header line naming the columns, then one row per point")
        header = [cell.strip() for cell in header]
        columns = _data_columns(header, inputs, output_name, output_type, output_range, path)
        parsed = {name: array(_ARRAY_CODES[type_.kind]) for name, (_, type_, _) in columns.items()}
        n_rows = 0
        for number, row in rows:
            n_rows += 1
            if n_rows > MAX_POINTS:
                raise DataError(f"data file {path} has more than {MAX_POINTS:,} rows", source=source,
                                span=field_.span, expected=f"at most {MAX_POINTS:,} points")
            if len(row) != len(header):
                raise DataError(f"row has {len(row)} fields, the header {len(header)}", source=data_source,
                                span=Span(number, 1, 0, 1), expected=f"{len(header)} comma-separated fields")
            for name, (index, type_, range_) in columns.items():
                parsed[name].append(_cell(row, index, number, name, type_, range_, data_source))
    except csv.Error as error:  # a NUL byte, an over-long field: the message quotes no content
        raise DataError(f"data file {path} is not CSV at line {reader.line_num}: {error}", source=source,
                        span=field_.span, expected="comma-separated values, a header line first") from None
    if n_rows == 0:
        raise DataError(f"data file {path} has a header but no rows", source=data_source,
                        span=Span(1, 1, 0, 1), expected="one row per point below the header")
    points = {i.name: np.array(parsed[i.name], dtype=i.type.dtype) for i in inputs}
    return points, np.array(parsed[output_name], dtype=output_type.dtype)


_ARRAY_CODES = {"bool": "b", "int": "q", "real": "d"}  # compact columns while the rows stream in
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a header cell shown in an error looks like a name


def _data_columns(header: list[str], inputs, output_name, output_type, output_range, path: Path) -> dict:
    """name -> (index in the header, type, range) for every input and the output. A missing
    column is reported with the header's names, never its other text: the file may not be CSV."""
    columns = {}
    for name, type_, range_ in [*((i.name, i.type, i.bounds if i.type.kind != "bool" else None) for i in inputs),
                                 (output_name, output_type, output_range)]:
        if name not in header:
            names = [cell for cell in header if _COLUMN_NAME.fullmatch(cell)]
            shown = ", ".join(f"`{_truncated(cell)}`" for cell in names[:12]) + (", …" if len(names) > 12 else "")
            others = len(header) - len(names)
            found = (f"its header names {shown}" if names else "its header names no column") + (
                "" if not others else " and 1 cell that is not a name" if others == 1 else
                f" and {others} cells that are not names")
            raise DataError(f"data file {path} has no column `{name}`: {found}", source=Source(str(path), ""),
                            span=Span(1, 1, 0, 1), expected="columns " + ", ".join(
                                [i.name for i in inputs] + [output_name]), hint=did_you_mean(name, names))
        columns[name] = (header.index(name), type_, range_)
    return columns


def _truncated(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _data_path(field_: Field, source: Source, base: Path, root: Path) -> Path:
    """The data file's path, symlinks followed; it must lie inside `root`, so that a task file
    cannot make occam read (and quote) files elsewhere on the machine."""
    path = (base / field_.value).resolve()
    if not path.is_relative_to(root):
        raise DataError(
            f"data file {field_.value} is outside {root}", source=source, span=field_.span,
            expected=f"a CSV file in the task file's folder or below it (the environment variable "
                     f"{DATA_ROOT_VARIABLE}, or `data_root=`, names another folder to read from)",
        )
    return path


def _data_text(path: Path, field_: Field, source: Source) -> str:
    """The text of a regular file of at most MAX_DATA_BYTES. The type and size are checked before
    reading, and the file is opened non-blocking: a device or a FIFO is refused, never read."""

    def refuse(reason: str) -> DataError:
        return DataError(f"cannot read data file {path}: {reason}", source=source, span=field_.span,
                         expected=f"a CSV file of at most {MAX_DATA_BYTES // 2**20} MB, "
                                  "its path relative to the task file")

    def check(status: os.stat_result) -> None:
        if not stat.S_ISREG(status.st_mode):
            raise refuse("it is not a regular file")
        if status.st_size > MAX_DATA_BYTES:
            raise refuse(f"it has {status.st_size:,} bytes, more than the {MAX_DATA_BYTES:,} occam reads")

    try:
        check(os.stat(path))
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with open(descriptor, "rb") as file:
            check(os.fstat(file.fileno()))  # the file opened is the file checked
            data = file.read(MAX_DATA_BYTES + 1)
        if len(data) > MAX_DATA_BYTES:  # it grew since
            raise refuse(f"it has more than the {MAX_DATA_BYTES:,} bytes occam reads")
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()  # universal newlines, as read_text
    except (OSError, UnicodeDecodeError) as error:
        raise refuse(_reason(error)) from None


def _cell(row, index, number, name, type_: Type, range_: Range | None, source: Source):
    """The value of one cell; the type's properties are read once and the span is built only for
    an error, since this runs for every cell of a file of up to 2^24 rows."""
    text = row[index].strip()
    kind = type_.kind
    try:
        if kind == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError
            value: Any = lowered in ("true", "1")
        elif kind == "int":
            value = int(text)
        else:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
    except ValueError:
        raise DataError(f"`{text}` in column `{name}` is not a {'finite ' if kind == 'real' else ''}{type_}",
                        source=source, span=_cell_span(row, index, number), expected=_cell_expectation(type_)) from None
    if kind != "bool" and range_ is not None and not range_.low <= value <= range_.high:
        raise DataError(f"{text} in column `{name}` is outside its range {range_}", source=source,
                        span=_cell_span(row, index, number), expected=f"a value in {range_}")
    if kind == "int":
        low, high = type_.bounds
        if not low <= value <= high:
            raise DataError(f"{text} in column `{name}` does not fit type {type_}", source=source,
                            span=_cell_span(row, index, number), expected=f"a value in {low}..{high}")
    return value


def _cell_span(row, index, number) -> Span:
    column = sum(len(cell) + 1 for cell in row[:index]) + 1
    return Span(number, column, 0, max(1, len(row[index])))


def _cell_expectation(type_: Type) -> str:
    return {"bool": "true, false, 1 or 0", "int": "an integer", "real": "a finite number"}[type_.kind]

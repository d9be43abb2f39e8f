"""Tasks from arrays: `Task.from_arrays`, for notebooks and the scikit-learn estimators.

A task built from arrays is the task that a task file with a `data` file of the same rows
declares, and is built the same way: the arrays' columns and types are written out as the
text of that task (`task NAME { input …  output …  grammar …  split …  data "<arrays>" }`),
which the loader parses and checks as any task file, except that the rows come from the
arrays, checked as the CSV reader checks cells. So the names, types, ranges, grammar and split
follow the rules of docs/language.md, errors point into that text, and the fingerprint is the
one of the task parsed from a file.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from .check import KEYWORDS
from .errors import DataError, Source, TaskError
from .grammars import BUILTIN_GRAMMARS
from .syntax import AmountSyntax, Num, SplitSyntax, parse_task_file
from .task import MAX_POINTS, Input, Task, _build
from .types import Range, Type

__all__ = ["task_from_arrays", "split_syntax", "ARRAYS_SOURCE"]

ARRAYS_SOURCE = "<arrays>"  # the source name of a task from arrays, and its `data` field's file name
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_TEXT = re.compile(r"[A-Za-z0-9_]+( +-?[0-9.eE+]+ *\.\. *-?[0-9.eE+]+)?")  # `int 0..9`, `real -1..1`, `u8`
_DEFAULT_GRAMMARS = {"real": "koza", "bool": "boolean", "int": "arithmetic"}


def task_from_arrays(inputs: Any, output: Any, names: Sequence[str] | None, output_name: str | None,
                     types: Mapping[str, Type | str] | None, grammar: str | None,
                     train: float | int | str | None, seed: int, name: str, doc: str) -> Task:
    """`Task.from_arrays` (see there)."""
    columns, output_name = _columns(inputs, output, names, output_name)
    declared = dict(types or {})
    unknown = [key for key in declared if key not in columns]
    if unknown:
        raise TaskError(f"`types` names `{unknown[0]}`, which is no column", source=Source(ARRAYS_SOURCE, ""),
                        expected="types for the columns " + ", ".join(f"`{key}`" for key in columns))
    type_texts = {key: _type_text(key, declared.get(key), column) for key, column in columns.items()}
    text = _task_text(name, doc, type_texts, output_name, grammar, train, seed)
    source = Source(ARRAYS_SOURCE, text)
    (syntax,) = parse_task_file(text, source)
    reader = functools.partial(_array_data, columns)
    return _build(syntax, source, Path.cwd(), Path.cwd(), reader)


def split_syntax(train: float | int | str, seed: int) -> SplitSyntax:
    """The `split train TRAIN seed SEED` field: a fraction in (0, 1] (written as a percentage,
    exactly: 0.07 is 7%), a count of points, or a percentage text such as "12.5%"."""
    text = _amount_text(train)
    percent = text.endswith("%")
    number = text.removesuffix("%")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise TaskError(f"the split seed {seed!r} is not a non-negative integer", expected="a seed such as 0")
    return SplitSyntax(AmountSyntax(Num(number, not number.isdigit()), percent), int(seed))


def check_sample(count: Any, method: Any, seed: Any) -> None:
    """Raise TaskError unless `count`, `method` and `seed` are what a `sample COUNT METHOD seed
    SEED` field can say: a whole number of points >= 1, `uniform` or `grid`, a seed >= 0 (the
    task file's parser refuses anything else; `Task.with_sample` builds the field directly)."""
    if not _is_whole(count) or count < 1:
        raise TaskError(f"the sample count {count!r} is not a whole number of points >= 1",
                        expected="a number of points such as 100")  # fmt: skip
    if method not in SAMPLE_METHODS:
        raise TaskError(f"the sample method {method!r} is not a way to draw points",
                        expected=" or ".join(map(repr, SAMPLE_METHODS)))  # fmt: skip
    if not _is_whole(seed) or seed < 0:
        raise TaskError(f"the sample seed {seed!r} is not a non-negative integer", expected="a seed such as 0")


SAMPLE_METHODS = ("uniform", "grid")  # `sample N uniform|grid` in grammar.lark


def _is_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _amount_text(train: float | int | str) -> str:
    if isinstance(train, str):
        text = train.strip()
        if re.fullmatch(r"([0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)%?", text):
            return text
    elif isinstance(train, (int, np.integer)) and not isinstance(train, bool) and train >= 0:
        return str(int(train))
    elif isinstance(train, (float, np.floating)) and 0 < train <= 1:
        try:
            percent = Decimal(repr(float(train))) * 100
        except InvalidOperation:  # not reached for a finite float; kept for the type checker's sake
            percent = Decimal(0)
        return format(percent.normalize(), "f") + "%"
    raise TaskError(f"the training share {train!r} is not a fraction, a count or a percentage",
                    expected='a fraction in (0, 1] such as 0.7, a number of points, or a text such as "70%"')


# --- columns ------------------------------------------------------------------------------------


def _columns(inputs: Any, output: Any, names: Sequence[str] | None,
             output_name: str | None) -> tuple[dict[str, np.ndarray], str]:
    """name -> 1-D array for every input, then the output (last), and the output's name."""
    where = Source(ARRAYS_SOURCE, "")
    pandas = sys.modules.get("pandas")  # a DataFrame can only exist once pandas is imported
    if pandas is not None and isinstance(inputs, pandas.DataFrame):
        if names is not None:
            raise TaskError("`names` names a 2-D array's columns; a DataFrame has its own", source=where,
                            expected="the DataFrame's column names, renamed with `DataFrame.rename`")
        columns = {str(key): _series_values(inputs[key], str(key), where) for key in inputs.columns}
        if len(columns) != len(inputs.columns):
            raise TaskError("the DataFrame has two columns of the same name", source=where,
                            expected="distinct column names")
    elif isinstance(inputs, Mapping):
        if names is not None:
            raise TaskError("`names` names a 2-D array's columns; a mapping has its keys", source=where,
                            expected="the input names as the mapping's keys")
        columns = {key: np.asarray(value) for key, value in inputs.items()}
    else:
        matrix = np.asarray(inputs)
        if matrix.ndim != 2:
            raise DataError(f"the inputs are an array of shape {matrix.shape}", source=where,
                            expected="a 2-D array (points × inputs), a mapping name -> 1-D array, or a DataFrame")
        names = [f"x{index}" for index in range(matrix.shape[1])] if names is None else list(names)
        if len(names) != matrix.shape[1]:
            raise DataError(f"`names` has {len(names)} names for {matrix.shape[1]} columns", source=where,
                            expected=f"{matrix.shape[1]} names, one per column")
        columns = {str(key): matrix[:, index] for index, key in enumerate(names)}
        if len(columns) != len(names):  # a dict keeps the last of two equal names: say so, as a task file does
            twice = next(str(key) for index, key in enumerate(names) if str(key) in map(str, names[:index]))
            raise TaskError(f"`names` names two columns `{twice}`", source=where, expected="distinct column names")
    if isinstance(output, str):
        if output not in columns:
            raise TaskError(f"the output `{output}` is no column of the inputs", source=where,
                            expected="one of " + ", ".join(f"`{key}`" for key in columns))
        if output_name is not None and output_name != output:
            raise TaskError(f"`output_name` {output_name!r} renames the output column `{output}`", source=where,
                            expected="the output named once: by its column, or `output_name` with an array")
        output_name = output
        values = columns.pop(output)
    else:
        output_name = "y" if output_name is None else output_name
        if output_name in columns:
            raise TaskError(f"the output `{output_name}` is also an input", source=where,
                            expected="another `output_name`, or the column's name as `output`")
        values = np.asarray(output)
    columns[output_name] = values
    _check_shapes(columns, output_name, where)
    return columns, output_name


def _series_values(series: Any, key: str, where: Source) -> np.ndarray:
    """A DataFrame column's values; a missing value (pandas' NA of a nullable dtype, which
    `to_numpy` turns into NaN or an object) is refused by its row, as an empty CSV cell is."""
    missing = np.flatnonzero(series.isna().to_numpy())
    if len(missing) and not (series.dtype.kind == "f" and isinstance(series.dtype, np.dtype)):
        raise DataError(f"column `{key}` has a missing value (NA) at row {int(missing[0])}", source=where,
                        expected=f"a value at every row ({len(missing)} missing: drop or fill them first)")
    return series.to_numpy()


def _check_shapes(columns: Mapping[str, np.ndarray], output_name: str, where: Source) -> None:
    for key, column in columns.items():
        if not isinstance(key, str) or not _NAME.fullmatch(key) or key in KEYWORDS:
            raise TaskError(f"the column name {key!r} is not a name occam can use", source=where,
                            expected="letters, digits and _, not starting with a digit, and not a keyword")
        if column.ndim != 1:
            raise DataError(f"column `{key}` has shape {column.shape}", source=where,
                            expected="one value per point: a 1-D array")
    lengths = {key: len(column) for key, column in columns.items()}
    n_rows = lengths[output_name]
    for key, length in lengths.items():
        if length != n_rows:
            raise DataError(f"column `{key}` has {length:,} values, the output `{output_name}` {n_rows:,}",
                            source=where, expected="one value per point in every column")
    if n_rows == 0:
        raise DataError("the arrays hold no rows", source=where, expected="one row per point")
    if n_rows > MAX_POINTS:
        raise DataError(f"the arrays hold {n_rows:,} rows, more than {MAX_POINTS:,}", source=where,
                        expected=f"at most {MAX_POINTS:,} points")


def _type_text(key: str, declared: Type | str | None, column: np.ndarray) -> str:
    """The type of a column as written in a task file: the declared one, else inferred."""
    if isinstance(declared, Type):
        return declared.name
    if isinstance(declared, str):
        text = " ".join(declared.split())
        if not _TYPE_TEXT.fullmatch(text):
            raise TaskError(f"the type {declared!r} of column `{key}` is not a type as written", source=Source(
                ARRAYS_SOURCE, ""), expected='a type, optionally with a range: "u8", "int 0..9", "real -1..1"')
        return text
    if declared is not None:
        raise TaskError(f"the type {declared!r} of column `{key}` is neither a Type nor its text",
                        source=Source(ARRAYS_SOURCE, ""), expected='a dsl.Type or a text such as "int 0..9"')
    kind = column.dtype.kind
    if kind == "b":
        return "bool"
    if kind in "iu":
        return f"int {int(column.min())}..{int(column.max())}"
    if kind == "f":
        return "real"
    raise DataError(f"column `{key}` has dtype {column.dtype}, from which occam infers no type",
                    source=Source(ARRAYS_SOURCE, ""),
                    expected="a bool, integer or float column, or the column's type in `types=`")


def _task_text(name: str, doc: str, type_texts: Mapping[str, str], output_name: str, grammar: str | None,
               train: float | int | str | None, seed: int) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in KEYWORDS:
        raise TaskError(f"the task name {name!r} is not a name", source=Source(ARRAYS_SOURCE, ""),
                        expected="letters, digits and _, not starting with a digit, and not a keyword")
    quoted = doc.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    lines = [f"task {name} {{"]
    if doc:
        lines.append(f'    doc "{quoted}"')
    lines += [f"    input {key}: {text}" for key, text in type_texts.items() if key != output_name]
    output_text = type_texts[output_name]
    lines.append(f"    output {output_name}: {output_text}")
    lines.append("    grammar " + _grammar_text(grammar, output_text.split()[0]))
    if train is not None:
        split = split_syntax(train, seed)
        percent = "%" if split.train.percent else ""
        lines.append(f"    split train {split.train.value.text}{percent} seed {split.seed}")
    lines.append(f'    data "{ARRAYS_SOURCE}"')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _grammar_text(grammar: str | None, output_type_name: str) -> str:
    """What follows `grammar` in the task text: a built-in's name, `NAME { rules }` or `{ rules }`."""
    if grammar is None:
        output_type = Type.named(output_type_name)
        return _DEFAULT_GRAMMARS[output_type.kind] if output_type else "koza"  # an unknown type fails first
    if not isinstance(grammar, str):
        raise TaskError(f"the grammar {grammar!r} is not a text", source=Source(ARRAYS_SOURCE, ""),
                        expected="a built-in grammar's name (" + ", ".join(sorted(BUILTIN_GRAMMARS))
                        + ") or grammar text such as `real -> x, real + real`")
    text = grammar.strip()
    if _NAME.fullmatch(text) or re.match(r"([A-Za-z_][A-Za-z0-9_]*\s*)?\{", text):
        return "\n" + text + "\n" if "\n" in text else text
    return "{\n" + text + "\n    }"


# --- rows ---------------------------------------------------------------------------------------


def _array_data(columns: Mapping[str, np.ndarray], field_: Any, inputs: tuple[Input, ...], output_name: str,
                output_type: Type, output_range: Range | None, source: Source, *_: Any
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A data reader (`task.DataReader`): the columns checked as the CSV reader checks cells
    (the type, then the range, then the type's bounds) and converted to the types' dtypes."""
    points = {i.name: _checked(columns[i.name], i.name, i.type, i.bounds if i.type.kind != "bool" else None, source)
              for i in inputs}  # fmt: skip
    return points, _checked(columns[output_name], output_name, output_type, output_range, source)


def _checked(column: np.ndarray, key: str, type_: Type, range_: Range | None, source: Source) -> np.ndarray:
    kind, dtype_kind = type_.kind, column.dtype.kind
    accepted = {"bool": "biuf", "int": "biuf", "real": "iuf"}[kind]
    if dtype_kind not in accepted:
        raise DataError(f"column `{key}` has dtype {column.dtype}, which holds no {type_}", source=source,
                        expected={"bool": "a bool column (or 0 and 1)", "int": "an integer column",
                                  "real": "an integer or float column"}[kind])
    numbers = column.astype(np.float64) if dtype_kind == "f" else column
    if dtype_kind == "f":
        if kind == "bool":
            bad = ~np.isin(numbers, (0.0, 1.0))
        else:
            bad = ~np.isfinite(numbers) | ((numbers != np.floor(numbers)) if kind == "int" else False)
    elif kind == "bool" and dtype_kind != "b":
        bad = ~np.isin(column, (0, 1))
    else:
        bad = np.zeros(len(column), dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        finite = "finite " if kind == "real" else ""
        raise DataError(f"`{column[row]}` in column `{key}` (row {row}) is not a {finite}{type_}"
                        f" ({int(bad.sum()):,} of {len(column):,} values)", source=source,
                        expected={"bool": "true, false, 1 or 0", "int": "an integer",
                                  "real": "a finite number"}[kind])
    if kind == "bool":
        return column.astype(np.bool_)
    if kind == "int":
        if dtype_kind == "f":  # whole numbers: exact as int64 below 2^63 in magnitude
            _check_bounds(numbers, key, Range(-(2.0**63), 2.0**63 - 1024), f"does not fit type {type_}", source)
            column = numbers.astype(np.int64)
        _check_bounds(column, key, range_, "is outside its range", source)
        low, high = type_.bounds or (-(2**63), 2**63 - 1)  # an int type has bounds
        _check_bounds(column, key, Range(low, high), f"does not fit type {type_}", source)
        return column.astype(np.int64)
    if range_ is not None:
        _check_bounds(column, key, range_, "is outside its range", source)
    return column.astype(np.float64)


def _check_bounds(column: np.ndarray, key: str, range_: Range | None, problem: str, source: Source) -> None:
    """Refuse values outside `range_`, compared exactly (as Python numbers where int64 could
    not hold the bound or a uint64 value)."""
    if range_ is None:
        return
    if column.dtype.kind in "iu":
        info = np.iinfo(column.dtype)
        low, high = int(range_.low), int(range_.high)
        outside = np.zeros(len(column), dtype=bool)
        if low > info.min:
            outside |= column < np.array(low).astype(column.dtype) if low <= info.max else True
        if high < info.max:
            outside |= column > np.array(high).astype(column.dtype) if high >= info.min else True
    else:
        outside = ~range_.contains(column)
    if np.any(outside):
        row = int(np.flatnonzero(outside)[0])
        shown = f"{int(column[row])}" if column.dtype.kind != "f" or float(column[row]).is_integer() else (
            f"{float(column[row]):g}")
        message = f"{problem} {range_}" if problem == "is outside its range" else problem
        raise DataError(f"{shown} in column `{key}` (row {row}) {message}", source=source,
                        expected=f"a value in {range_}")

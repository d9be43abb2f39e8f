"""Data files: where a task's `data` file may lie (confined to a folder, symlinks followed), how
it is opened (a regular file of bounded size, never a device), and how its CSV rows are read and
checked, cell by cell, against the task's inputs and output (dsl/task.py builds the task).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, Source, Span, did_you_mean
from .sampling import MAX_POINTS
from .syntax import Field
from .types import Range, Type

if TYPE_CHECKING:
    from .task import Input

__all__ = ["MAX_DATA_BYTES", "DATA_ROOT_VARIABLE"]


MAX_DATA_BYTES = 256 * 2**20  # a data file larger than this is refused before it is read
DATA_ROOT_VARIABLE = "OCCAM_DATA_ROOT"  # names the folder data files must lie in, instead of the task file's


def _data_root(data_root: str | os.PathLike | None, base: Path) -> Path:
    """The folder that data files must lie in: `data_root`, else $OCCAM_DATA_ROOT, else `base`."""
    if data_root is None:
        data_root = os.environ.get(DATA_ROOT_VARIABLE) or base
    return Path(data_root).resolve()


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return error.strerror or str(error) if isinstance(error, OSError) else str(error)


def _read_data(field_: Field, inputs: tuple[Input, ...], output_name: str, output_type: Type,
               output_range: Range | None, source: Source, base: Path,
               root: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
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
        parsed: dict[str, array[Any]] = {  # each column's item type is its type code's: int or float
            name: array(_ARRAY_CODES[type_.kind]) for name, (_, type_, _) in columns.items()}
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


def _data_columns(header: list[str], inputs: tuple[Input, ...], output_name: str, output_type: Type,
                  output_range: Range | None, path: Path) -> dict[str, tuple[int, Type, Range | None]]:
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


def _cell(row: list[str], index: int, number: int, name: str, type_: Type, range_: Range | None,
          source: Source) -> bool | int | float:
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
        bounds = type_.bounds
        assert bounds is not None, "an integer type has bounds"
        low, high = bounds
        if not low <= value <= high:
            raise DataError(f"{text} in column `{name}` does not fit type {type_}", source=source,
                            span=_cell_span(row, index, number), expected=f"a value in {low}..{high}")
    return value


def _cell_span(row: list[str], index: int, number: int) -> Span:
    column = sum(len(cell) + 1 for cell in row[:index]) + 1
    return Span(number, column, 0, max(1, len(row[index])))


def _cell_expectation(type_: Type) -> str:
    return {"bool": "true, false, 1 or 0", "int": "an integer", "real": "a finite number"}[type_.kind]

"""Input columns from what a notebook holds: keywords, a mapping, a DataFrame or a 2-D array.

`Expr.__call__`, `SynthesisResult.predict` and the scikit-learn estimators take their points in
any of these forms; `input_columns` turns each into the one form the reference evaluator takes
(input name -> 1-D array of the input's dtype), checking each value against its input's type.
Columns the program does not read are allowed and ignored (a DataFrame usually holds the target
too, and a program on the Pareto front may read fewer inputs than its task has). pandas is never
imported here: a DataFrame is recognized by its module and read through its own methods.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError
from .types import Type

__all__ = ["Columns", "input_columns", "is_dataframe", "require_pandas"]

_NUMERIC_KINDS = "biuf"  # numpy dtype kinds: bool, signed, unsigned, float
_INT64_LIMIT = 2.0**63  # floats at or beyond this do not convert to int64


@dataclass(frozen=True)
class Columns:
    """Checked input columns: `env` maps each needed input to a 1-D array of its type's dtype,
    all of length `size`; `scalar` says that every value given was a single one (the caller
    then returns a single value, not an array of one)."""

    env: dict[str, np.ndarray]
    size: int
    scalar: bool


def is_dataframe(data: Any) -> bool:
    """Is `data` a pandas DataFrame? (Without importing pandas.)"""
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns") and hasattr(data, "to_numpy")


def require_pandas(purpose: str) -> Any:
    """The pandas module, imported now; DataError naming the extra to install if it is missing."""
    try:
        import pandas
    except ImportError:
        raise DataError(f"{purpose} needs pandas, which is not installed",
                        expected="pandas installed: pip install 'occam[pandas]'") from None  # fmt: skip
    return pandas


def input_columns(
    data: Any,
    keywords: Mapping[str, Any],
    types: Mapping[str, Type],
    *,
    order: Sequence[str] | None = None,
    what: str = "the program",
) -> Columns:
    """The columns of the inputs `types` names, read from `data` and `keywords`.

    `data` is None, a mapping (input name -> values), a pandas DataFrame (columns by input name)
    or, when `order` gives the inputs' order, a 2-D array with one column per input in that
    order. `keywords` add columns by name (a name given twice is an error). Each value is a
    single number or a 1-D array; single numbers are repeated to the arrays' common length.

    Raises DataError, naming the input, for a needed input that is missing, arrays of different
    lengths or of more than one dimension, a non-numeric dtype, and values outside the input's
    type (a fraction or NaN for an integer input, a value outside a bit-vector's width, ...).
    """
    given = _given(data, order, what)
    for name, values in keywords.items():
        if name in given:
            raise DataError(f"input `{name}` is given twice, in the data and as a keyword",
                            expected="each input once")  # fmt: skip
        given[name] = values
    arrays = {name: _array(name, given, types[name], what) for name in types}
    size, scalar = _common_size(arrays, given)
    env = {name: _typed(name, values, types[name], size) for name, values in arrays.items()}
    return Columns(env, size, scalar)


def _given(data: Any, order: Sequence[str] | None, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if is_dataframe(data):
        return {str(name): data[name].to_numpy() for name in data.columns}
    if isinstance(data, Mapping):
        return {str(name): values for name, values in data.items()}
    matrix = np.asarray(data)
    if order is None:
        raise DataError(f"{what} was given a {matrix.ndim}-D array, but a program does not know the order of its inputs",
                        expected="input columns by name: program(x=..., y=...), a mapping or a DataFrame "
                        "(a synthesis result's `predict` takes a 2-D array in its task's input order)")  # fmt: skip
    if matrix.ndim != 2 or matrix.shape[1] != len(order):
        raise DataError(f"{what} was given an array of shape {matrix.shape}",
                        expected=f"a 2-D array with one column per input, in the order {', '.join(order)} "
                        f"(shape (points, {len(order)}))")  # fmt: skip
    return {name: matrix[:, index] for index, name in enumerate(order)}


def _array(name: str, given: Mapping[str, Any], type_: Type, what: str) -> np.ndarray:
    if name not in given:
        close = difflib.get_close_matches(name, list(given), n=1, cutoff=0.6)
        hint = f"`{close[0]}` is given: a misspelling of `{name}`?" if close else (
            f"given: {', '.join(given)}" if given else None)  # fmt: skip
        raise DataError(f"no values given for input `{name}` ({type_}), which {what} reads",
                        expected="a column for every input the program reads", hint=hint)  # fmt: skip
    values = np.asarray(given[name])
    if values.ndim > 1:
        raise DataError(f"the values of input `{name}` have shape {values.shape}",
                        expected="a single value or a 1-D array per input")  # fmt: skip
    if values.dtype.kind not in _NUMERIC_KINDS:
        raise DataError(f"the values of input `{name}` have dtype {values.dtype}",
                        expected=f"numbers of type {type_} (a bool, int or float dtype)")  # fmt: skip
    return values


def _common_size(arrays: Mapping[str, np.ndarray], given: Mapping[str, Any]) -> tuple[int, bool]:
    """The arrays' common length, and whether every value is a single one. A program that reads
    no input takes its length from the other columns given."""
    lengths = {name: len(values) for name, values in arrays.items() if values.ndim == 1}
    if not arrays:
        others = [np.asarray(values) for values in given.values()]
        lengths = {name: len(values) for name, values in zip(given, others) if values.ndim == 1}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}: {length}" for name, length in lengths.items())
        raise DataError(f"the input columns differ in length ({shown})", expected="columns of one length")
    if not lengths:
        return 1, True
    return next(iter(lengths.values())), False


def _typed(name: str, values: np.ndarray, type_: Type, size: int) -> np.ndarray:
    """`values` in `type_`'s dtype, repeated to `size` if a single one; DataError for a value the
    type does not hold."""
    if type_.kind != "real":
        problem = _integral_problem(values, type_)
        if problem is not None:
            raise DataError(f"input `{name}` is {type_}, but {problem}",
                            expected=f"values of type {type_}")  # fmt: skip
    typed = values.astype(type_.dtype)
    return np.full(size, typed) if typed.ndim == 0 else typed


def _integral_problem(values: np.ndarray, type_: Type) -> str | None:
    """What is wrong with `values` for a bool or integer input, if anything."""
    flat = values.reshape(-1)
    if flat.dtype.kind == "f":
        bad = ~np.isfinite(flat) | (np.abs(flat) >= _INT64_LIMIT)
        bad[~bad] = flat[~bad] != np.round(flat[~bad])
        if bad.any():
            return _first(flat, bad, "is not an integer")
    if flat.dtype.kind == "u" and flat.size and int(flat.max()) >= 2**63:
        return f"the value {int(flat.max())} is beyond 64-bit integers"
    integers = flat.astype(np.int64)
    if type_.kind == "bool":
        bad = (integers != 0) & (integers != 1)
        return _first(flat, bad, "is not a bool (0 or 1)") if bad.any() else None
    if type_.is_bitvector:
        bad = type_.wrap(integers) != integers
        return _first(flat, bad, "is outside its range") if bad.any() else None
    return None


def _first(values: np.ndarray, bad: np.ndarray, problem: str) -> str:
    """The first value where `bad` holds, where it is, and what is wrong with it."""
    index = int(np.argmax(bad))
    return f"the value {values[index].item()!r} at position {index} {problem}"

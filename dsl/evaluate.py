"""The reference evaluator: plain, vectorized over points, and the definition of meaning.

Every faster evaluator in occam (the compiled kernels of the search, sympy, torch) is tested
against this one. It walks the tree once, applying each primitive's numpy semantics from the
primitive table to whole columns of values, then wraps bit-vector results into their width.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from .program import Apply, Expr, Hole, Lit, Var

__all__ = ["evaluate"]


def evaluate(program: Expr, env: Mapping[str, ArrayLike], *, size: int | None = None) -> np.ndarray:
    """The values of `program` at each point.

    `env` maps input names to 1-D arrays of one length, the number of points (`size` gives it
    when the program reads no input). Returns an array of that length with the dtype of the
    program's type: bool, int64 or float64.
    """
    columns = {name: np.asarray(values) for name, values in env.items() if name in program.inputs}
    lengths = {column.shape for column in columns.values()}
    if size is None:
        size = len(np.asarray(next(iter(env.values())))) if env else 1
    if any(len(shape) != 1 for shape in lengths) or lengths - {(size,)}:
        shapes = ", ".join(f"{name}: {column.shape}" for name, column in columns.items())
        raise ValueError(f"inputs must be 1-D arrays of one length {size}, got {shapes}")
    return _evaluate(program, _typed_columns(program, columns), size)


def _typed_columns(program: Expr, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    typed = {}
    for node in program.walk():
        if isinstance(node, Var) and node.name not in typed:
            if node.name not in columns:
                raise ValueError(f"no values given for input `{node.name}`")
            column = columns[node.name]
            values = column.astype(node.type.dtype)
            if node.type.kind != "real" and not np.array_equal(values, column):
                raise ValueError(f"values of `{node.name}` are not of type {node.type}")
            if node.type.is_bitvector and not np.array_equal(node.type.wrap(values), values):
                raise ValueError(f"values of `{node.name}` are outside the range of {node.type}")
            typed[node.name] = values
    return typed


def _evaluate(program: Expr, columns: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Children before parents, with an explicit stack: a program built in Python may nest
    deeper than the recursion limit (parsed ones nest at most syntax.MAX_NESTING)."""
    values: list[np.ndarray] = []  # the values of the nodes finished so far, in post-order
    stack: list[tuple[Expr, bool]] = [(program, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, Apply) and not children_done:
            stack.append((node, True))
            stack.extend((arg, False) for arg in reversed(node.args))
            continue
        if isinstance(node, Apply):
            args = values[len(values) - len(node.args) :] if node.args else []
            del values[len(values) - len(node.args) :]
            values.append(_apply(node, args, size))
        else:
            values.append(_leaf(node, columns, size))
    return values[0]


def _apply(node: Apply, args: list[np.ndarray], size: int) -> np.ndarray:
    result = np.asarray(node.primitive.evaluate(*args), dtype=node.type.dtype)
    if result.ndim == 0:
        result = np.full(size, result)
    return node.type.wrap(result)


def _leaf(node: Expr, columns: dict[str, np.ndarray], size: int) -> np.ndarray:
    match node:
        case Lit(value=value, type=type_):
            return np.full(size, value, dtype=type_.dtype)
        case Var(name=name):
            return columns[name]
        case Hole():
            raise ValueError(f"a grammar alternative with holes cannot be evaluated: {node}")
    raise TypeError(f"not a program node: {node!r}")

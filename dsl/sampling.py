"""Points of a task: the whole finite domain, grids and uniform draws within the inputs' ranges,
and distinct draws that avoid the points drawn before (row keys).

Part of building a task (dsl/task.py): `sample` and `test` fields become points here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .errors import Source, TaskError
from .syntax import SampleSyntax
from .types import Range, Type

if TYPE_CHECKING:
    from .task import Input

__all__ = ["MAX_POINTS", "value_domain"]


MAX_POINTS = 2**24  # the most points a task may hold: its domain, samples and test points together


_TestDraw = tuple[SampleSyntax, Mapping[str, Range | None]]  # the `test` field; each input's range for its points


def _points(inputs: tuple[Input, ...], sample: SampleSyntax | None, test: _TestDraw | None,
            source: Source) -> tuple[dict[str, np.ndarray], np.ndarray, str]:
    """The points, and which of them are candidates for training (all but `test` points);
    `test`: the `test` field with each input's range for its points (`_test_ranges`)."""
    if sample is not None:
        ranges = {input_.name: input_.bounds for input_ in inputs}
        if test is not None and sample.count > 0 and all(ranges[input_.name] is not None for input_ in inputs):
            requested = _requested(inputs, _known_ranges(ranges), sample)
            if requested <= MAX_POINTS:
                _check_total(requested, inputs, test, source)
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
        domain = _known_ranges({input_.name: input_.bounds for input_ in inputs})  # every input's: all are finite
        size = math.prod(domain[input_.name].size for input_ in inputs)
        if size > MAX_POINTS:
            raise TaskError(
                f"the domain has {size:,} points, more than occam enumerates ({MAX_POINTS:,})", source=source,
                span=inputs[0].span, expected="`sample N uniform seed S` to draw points from it",
            )
        if test is not None:
            _check_total(size, inputs, test, source)
        train_points = _grid(inputs, domain, count=0)
        described = f"the whole domain ({size:,} points)"
    n_candidates = len(next(iter(train_points.values())))
    if test is None:
        return train_points, np.ones(n_candidates, dtype=bool), described
    test_spec, test_ranges = test
    test_points = _draw(inputs, test_ranges, test_spec, source, exclude=train_points)
    points = {name: np.concatenate([train_points[name], test_points[name]]) for name in train_points}
    candidates = np.arange(len(points[inputs[0].name])) < n_candidates
    overrides = ", ".join(f"{name.name}: {test_ranges[name.name]}" for name, _ in test_spec.ranges)
    described += (f"; test: {test_spec.count} {test_spec.method} samples (seed {test_spec.seed})"
                  + (f" over {overrides}" if overrides else ""))
    return points, candidates, described


def value_domain(type_: Type, range_: Range | None = None) -> Range | None:
    """The values of `type_` within `range_` as a range of integers: 0..1 for bool (false,
    true), the declared range of an integer type, else a bit-vector type's whole range; None
    (unbounded) for real and for an int without a range. The one rule for the set of output
    values (`Task.output_domain`) and of a finite input's values (`Input.bounds`)."""
    if type_.kind == "bool":
        return Range(0, 1)
    if type_.kind != "int":
        return None
    if range_ is not None:
        return range_
    return Range(*type_.bounds) if type_.is_bitvector and type_.bounds else None


def _values(input_: Input, range_: Range) -> np.ndarray:
    """Every value of a finite input within `range_`, in order."""
    if input_.type.kind == "bool":
        return np.array([False, True])
    return np.arange(int(range_.low), int(range_.high) + 1, dtype=np.int64)


def _known_ranges(ranges: Mapping[str, Range | None]) -> dict[str, Range]:
    """The inputs that have a range, with it: every input's where each is known to have one."""
    return {name: range_ for name, range_ in ranges.items() if range_ is not None}


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


def _requested(inputs: tuple[Input, ...], ranges: Mapping[str, Range], spec: SampleSyntax) -> int:
    """How many points `spec` asks for (a grid: its product over the inputs); every input ranged."""
    reals = sum(input_.type.kind == "real" for input_ in inputs)
    size = spec.count ** max(1, reals) if spec.method == "grid" else spec.count
    if spec.method == "grid":
        size *= math.prod(ranges[i.name].size for i in inputs if i.type.kind != "real")
    return size


def _check_total(train: int, inputs: tuple[Input, ...], test_draw: _TestDraw, source: Source) -> None:
    """Refuse, before anything is drawn, `test` points that with `train` points exceed MAX_POINTS
    (`_draw` checks each count alone, and its messages say what is wrong with the fields)."""
    test, ranges = test_draw
    if test.count <= 0 or any(ranges[input_.name] is None for input_ in inputs):
        return
    size = _requested(inputs, _known_ranges(ranges), test)
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
    ranged = _known_ranges(ranges)  # every input's
    if spec.count <= 0:
        raise TaskError(f"`{spec.keyword}` asks for no points", source=source, span=spec.span,
                        expected="a positive number of points")
    size = _requested(inputs, ranged, spec)
    if size > MAX_POINTS:
        raise TaskError(f"`{spec.keyword}` asks for {size:,} points, more than occam handles ({MAX_POINTS:,})",
                        source=source, span=spec.span, expected=f"at most {MAX_POINTS:,} points")
    if spec.method == "grid":
        points = _grid(inputs, ranged, spec.count)
        if exclude is not None and all(input_.is_finite for input_ in inputs):
            keep = ~_rows_in(points, exclude)
            points = {name: column[keep] for name, column in points.items()}
        return points
    rng = np.random.default_rng(spec.seed)
    if all(input_.is_finite for input_ in inputs):
        return _draw_distinct(inputs, ranged, spec, rng, exclude, source)
    points = {}
    for input_ in inputs:
        range_ = ranged[input_.name]
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


def _draw_distinct(inputs: tuple[Input, ...], ranges: Mapping[str, Range], spec: SampleSyntax,
                   rng: np.random.Generator, exclude: Mapping[str, np.ndarray] | None,
                   source: Source) -> dict[str, np.ndarray]:
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


def _keys_inside(points: Mapping[str, np.ndarray], inputs: tuple[Input, ...], bounds: list[tuple[int, int]]) -> np.ndarray:
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

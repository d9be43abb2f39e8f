"""The primitive table's torch column against the numpy reference semantics.

For every row: on hypothesis-drawn arguments (each type's edges favoured: NaN, ±inf, −0.0, int64
MIN/MAX, division by zero, shifts past the width, …) the torch translation computes what the
row's `evaluate` does, before bit-vector wrapping, as the reference evaluator applies it. Rows
with a gradient (`relaxation` other than "none" and the integer rows' words, which the relaxed
search's tests check) give finite gradients on the smooth part of their domain; product-logic
rows agree with their exact logic on 0 and 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import BOOL, INT, PRIMITIVES, REAL, Op, Type
from dsl.primitives import RELAXATIONS, SEARCH_RELAXATIONS

from .strategies import input_values

torch = pytest.importorskip("torch")

_LETTER_TYPES = {"B": (BOOL,), "R": (REAL,), "I": (INT, Type("u8"), Type("i8"), INT)}
# The C library's functions (the rows marked `libm`) and sqrt: numpy's routines and torch's may
# round the last bit differently (sqrt is correctly rounded by IEEE, but torch 2.13's is not on CPU:
# sqrt(0.5) = 0.7071067811865475, one ulp below the correctly rounded value).
_ROUNDED = frozenset(row.op for row in PRIMITIVES if row.libm) | {Op.SQRT}


def _arguments(row, data) -> list[np.ndarray]:
    size = data.draw(st.integers(1, 8))
    integer = data.draw(st.sampled_from(_LETTER_TYPES["I"]))  # the `I` arguments share one type
    columns = []
    for letter in row.args:
        type_ = integer if letter == "I" else _LETTER_TYPES[letter][0]
        values = data.draw(st.lists(input_values(type_), min_size=size, max_size=size))
        columns.append(np.array(values, dtype=type_.dtype))
    return columns


def _expected(row, columns: list[np.ndarray]) -> np.ndarray:
    result = np.asarray(row.evaluate(*columns))
    dtype = {"B": np.bool_, "R": np.float64}.get(row.result, np.int64)
    return result.astype(dtype)


@pytest.mark.parametrize("row", PRIMITIVES, ids=lambda row: row.op.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_torch_forward_equals_the_reference(row, data):
    columns = _arguments(row, data)
    expected = _expected(row, columns)
    got = row.torch(torch, *(torch.from_numpy(column) for column in columns)).numpy()
    assert got.dtype == expected.dtype, f"{row.op!r}: {got.dtype} for {expected.dtype}"
    if row.op in _ROUNDED:
        close = np.isclose(got, expected, rtol=4e-16 * 4, atol=0.0, equal_nan=True) | (got == expected)
        assert close.all(), (columns, got, expected)
    else:
        assert np.array_equal(got, expected, equal_nan=expected.dtype.kind == "f"), (columns, got, expected)
        if expected.dtype.kind == "f":  # the sign of a zero is a value too (1 / −0.0 = −inf); a NaN's is not
            numbers = ~np.isnan(expected)
            assert np.array_equal(np.signbit(got[numbers]), np.signbit(expected[numbers])), (columns, got, expected)


def test_every_row_says_how_it_relaxes():
    for row in PRIMITIVES:
        assert row.relaxation in RELAXATIONS
        assert row.torch is not None
        assert (row.soft is not None) == (row.relaxation == "product logic"), row.op
        if row.relaxation == "straight-through":
            assert row.relaxation_note, f"{row.op!r}: name the surrogate whose gradient passes"
        if row.relaxation in SEARCH_RELAXATIONS:  # the relaxed search's: tests/search/test_relaxed_int.py
            assert "I" in row.args or row.result in ("I", "int"), f"{row.op!r}: not an integer row"
            assert row.relaxation_note, f"{row.op!r}: say how the relaxed search computes it"
        elif row.relaxation != "none" and row.result in ("I", "int"):
            pytest.fail(f"{row.op!r}: an integer result has no gradient")


_DIFFERENTIABLE = [row for row in PRIMITIVES if row.relaxation not in ("none", *SEARCH_RELAXATIONS)]


@pytest.mark.parametrize("row", _DIFFERENTIABLE, ids=lambda row: row.op.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_gradients_are_finite_on_the_smooth_domain(row, data):
    """Real arguments in [0.5, 2] (inside every real row's domain, away from poles: tan's π/2 is
    excluded), soft truth values in [0, 1] through `soft` for product-logic rows."""
    size = 4
    reals = st.floats(0.5, 2.0).filter(lambda v: abs(v - math.pi / 2) > 1e-3)
    soft = row.relaxation == "product logic"
    tensors = []
    for letter in row.args:
        values = data.draw(st.lists(st.floats(0.0, 1.0) if letter == "B" else reals, min_size=size, max_size=size))
        tensors.append(torch.tensor(values, dtype=torch.float64, requires_grad=True))
    function = row.soft if soft else row.torch
    out = function(torch, *tensors)
    if not tensors:
        assert torch.isfinite(out).all()
        return
    out.sum().backward()
    for tensor in tensors:
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all(), (row.op, tensors)
    if row.relaxation == "straight-through":
        assert all((tensor.grad != 0).any() for tensor in tensors), "a straight-through gradient is not zero"


@pytest.mark.parametrize("row", [row for row in PRIMITIVES if row.soft is not None], ids=lambda row: row.op.name)
def test_product_logic_is_exact_on_zero_and_one(row):
    grids = np.meshgrid(*([np.array([False, True])] * sum(letter == "B" for letter in row.args)), indexing="ij")
    truths = [grid.ravel() for grid in grids]
    others = iter([np.linspace(-3.0, 3.0, truths[0].size), np.linspace(5.0, -1.0, truths[0].size)])
    columns = [truths.pop(0) if letter == "B" else next(others) for letter in row.args]
    exact = np.asarray(row.evaluate(*columns)).astype(np.float64)
    soft = row.soft(torch, *(torch.from_numpy(column.astype(np.float64)) for column in columns)).numpy()
    assert np.array_equal(soft, exact)

"""The primitive table's property columns, and every set derived from them.

Two kinds of test. The derived sets are compared with literal copies of the hand-kept sets they
replaced (issue #10): the derivation must not change what the search, the printer or the
kernels do. And each property is checked for what it claims, on the reference evaluator: a
commutative row commutes, an associative one associates, a row that is not NaN-absorbing gives
NaN for a NaN argument, an in-range row stays in its bit-vector's range.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl.check as check
from dsl import BOOL, INT, PRIMITIVES, REAL, Op, Type
from dsl.primitives import ASSOCIATIVE, COMMUTATIVE, primitive
from dsl.program import _EQUIVALENCES as EQUIVALENCES_IN_LATEX
from dsl.program import _TRANSPARENT as TRANSPARENT_IN_LATEX
from dsl.program import CONDITIONALS, CONVERSIONS, FLEXIBLE_OPS, UNRANKED_IN_LATEX
from dsl.symbolic import _in_range
from search.inverse import _COMMUTATIVE as INVERSE_COMMUTATIVE
from search.inverse import INVERTIBLE
from search.kernels import KERNEL_CLASS
from search.space import NAN_ABSORBING, PACKABLE

from .strategies import edge_values, input_values

# --- the sets as they were kept by hand before they were derived (issue #10) ---------------------

BEFORE_COMMUTATIVE = frozenset({
    Op.AND, Op.OR, Op.XOR_B, Op.EQ_B, Op.NE_B,
    Op.ADD_I, Op.MUL_I, Op.BITAND, Op.BITOR, Op.BITXOR, Op.MIN_I, Op.MAX_I, Op.EQ_I, Op.NE_I,
    Op.ADD_R, Op.MUL_R, Op.MIN_R, Op.MAX_R, Op.EQ_R, Op.NE_R,
})  # fmt: skip
BEFORE_ASSOCIATIVE = frozenset({
    Op.AND, Op.OR, Op.XOR_B, Op.ADD_I, Op.MUL_I, Op.BITAND, Op.BITOR, Op.BITXOR, Op.MIN_I,
    Op.MAX_I, Op.MIN_R, Op.MAX_R,
})  # fmt: skip
BEFORE_FLEXIBLE_OPS = frozenset({
    Op.NEG_I, Op.ADD_I, Op.SUB_I, Op.MUL_I, Op.FLOORDIV_I, Op.MOD_I, Op.POW_I, Op.BITNOT,
    Op.BITAND, Op.BITOR, Op.BITXOR, Op.SHL, Op.SHR, Op.ABS_I, Op.MIN_I, Op.MAX_I, Op.IF_I,
    Op.NEG_R, Op.ADD_R, Op.SUB_R, Op.MUL_R, Op.FLOORDIV_R, Op.MOD_R, Op.POW_R, Op.ABS_R,
    Op.MIN_R, Op.MAX_R, Op.IF_R,
})  # fmt: skip
BEFORE_FLEXIBLE_OPERATORS = frozenset({"+", "-", "*", "//", "%", "**", "&", "|", "^", "~", "<<", ">>"})
BEFORE_FLEXIBLE_CALLS = frozenset({"abs", "min", "max"})
BEFORE_NAN_ABSORBING = frozenset({Op.LT_R, Op.LE_R, Op.EQ_R, Op.NE_R, Op.IF_R, Op.REAL_TO_INT, Op.POW_R})
BEFORE_PACKABLE = frozenset({Op.NOT, Op.AND, Op.OR, Op.XOR_B, Op.EQ_B, Op.NE_B, Op.IF_B})
BEFORE_INVERTIBLE = frozenset({
    Op.ADD_I, Op.SUB_I, Op.MUL_I, Op.BITXOR, Op.ADD_R, Op.SUB_R, Op.MUL_R, Op.DIV_R, Op.XOR_B, Op.NE_B, Op.EQ_B,
    Op.NEG_I, Op.BITNOT, Op.NOT, Op.NEG_R, Op.EXP, Op.LOG, Op.SQRT,
})  # fmt: skip
BEFORE_INVERSE_COMMUTATIVE = frozenset({Op.ADD_I, Op.MUL_I, Op.BITXOR, Op.ADD_R, Op.MUL_R, Op.XOR_B, Op.NE_B, Op.EQ_B})
BEFORE_IN_RANGE = frozenset({Op.BITAND, Op.BITOR, Op.BITXOR, Op.MIN_I, Op.MAX_I, Op.IF_I, Op.MOD_I})
BEFORE_KERNEL_CLASSES = {
    "int": [Op.NEG_I, Op.ADD_I, Op.SUB_I, Op.MUL_I, Op.FLOORDIV_I, Op.MOD_I, Op.POW_I, Op.BITNOT, Op.BITAND,
            Op.BITOR, Op.BITXOR, Op.SHL, Op.SHR, Op.ABS_I, Op.MIN_I, Op.MAX_I, Op.IF_I, Op.BOOL_TO_INT,
            Op.CONVERT_I],
    "real_to_int": [Op.REAL_TO_INT],
    "real": [Op.NEG_R, Op.ADD_R, Op.SUB_R, Op.MUL_R, Op.DIV_R, Op.FLOORDIV_R, Op.MOD_R, Op.POW_R, Op.ABS_R,
             Op.MIN_R, Op.MAX_R, Op.SIN, Op.COS, Op.TAN, Op.EXP, Op.LOG, Op.SQRT, Op.TANH, Op.FLOOR, Op.CEIL,
             Op.IF_R, Op.BOOL_TO_REAL, Op.INT_TO_REAL],
    "bool": [Op.NOT, Op.AND, Op.OR, Op.XOR_B, Op.NE_B, Op.EQ_B, Op.IF_B, Op.LT_I, Op.LT_R, Op.LE_I, Op.LE_R,
             Op.EQ_I, Op.EQ_R, Op.NE_I, Op.NE_R],
}  # fmt: skip
BEFORE_UNRANKED_IN_LATEX = frozenset({Op.XOR_B, Op.BITAND, Op.BITOR, Op.BITXOR, Op.SHL, Op.SHR, Op.MOD_I, Op.MOD_R})
BEFORE_TRANSPARENT_IN_LATEX = frozenset({Op.INT_TO_REAL, Op.CONVERT_I})
BEFORE_CONVERSIONS = frozenset({Op.BOOL_TO_INT, Op.BOOL_TO_REAL, Op.INT_TO_REAL, Op.REAL_TO_INT, Op.CONVERT_I})
BEFORE_CONVERSION_OPS = {
    ("bool", "int"): Op.BOOL_TO_INT,
    ("bool", "real"): Op.BOOL_TO_REAL,
    ("int", "real"): Op.INT_TO_REAL,
    ("real", "int"): Op.REAL_TO_INT,
    ("int", "int"): Op.CONVERT_I,
}
BEFORE_TO_INT_ONLY = frozenset({Op.REAL_TO_INT, Op.BOOL_TO_INT})  # `int(x)` converts to no u8
BEFORE_EQUIVALENCES_IN_LATEX = frozenset({Op.EQ_B, Op.NE_B})
BEFORE_CONDITIONALS = frozenset({Op.IF_B, Op.IF_I, Op.IF_R})
BEFORE_CONSTANTS = frozenset({"true", "false", "pi"})
BEFORE_TRANSCENDENTAL = frozenset({Op.SIN, Op.COS, Op.TAN, Op.EXP, Op.LOG, Op.TANH, Op.POW_R})
BEFORE_KEYWORDS = frozenset(
    "task doc input output target data grammar split train sample test range seed noise uniform "
    "grid label gaussian and or not sequence state update".split()
)
BEFORE_OPS = frozenset(op for ops in BEFORE_KERNEL_CLASSES.values() for op in ops) | {Op.PI}


def _before(derived: frozenset[Op]) -> frozenset[Op]:
    """A derived set restricted to the opcodes that existed when the literal copy was taken."""
    return derived & BEFORE_OPS


@pytest.mark.parametrize(
    ("derived", "before"),
    [
        (COMMUTATIVE, BEFORE_COMMUTATIVE),
        (ASSOCIATIVE, BEFORE_ASSOCIATIVE),
        (FLEXIBLE_OPS, BEFORE_FLEXIBLE_OPS),
        (NAN_ABSORBING, BEFORE_NAN_ABSORBING),
        (PACKABLE, BEFORE_PACKABLE),
        (INVERTIBLE, BEFORE_INVERTIBLE),
        (INVERSE_COMMUTATIVE, BEFORE_INVERSE_COMMUTATIVE),
        (UNRANKED_IN_LATEX, BEFORE_UNRANKED_IN_LATEX),
        (TRANSPARENT_IN_LATEX, BEFORE_TRANSPARENT_IN_LATEX),
        (CONVERSIONS, BEFORE_CONVERSIONS),
        (EQUIVALENCES_IN_LATEX, BEFORE_EQUIVALENCES_IN_LATEX),
        (CONDITIONALS, BEFORE_CONDITIONALS),
        (frozenset(row.op for row in PRIMITIVES if row.libm), BEFORE_TRANSCENDENTAL),
        (frozenset(op for op in CONVERSIONS if primitive(op).result == "int"), BEFORE_TO_INT_ONLY),
    ],
    ids=["COMMUTATIVE", "ASSOCIATIVE", "FLEXIBLE_OPS", "NAN_ABSORBING", "PACKABLE", "INVERTIBLE",
         "inverse_commutative", "UNRANKED_IN_LATEX", "latex_transparent", "CONVERSIONS",
         "latex_equivalences", "CONDITIONALS", "libm", "conversions_to_int_only"],  # fmt: skip
)
def test_derived_sets_equal_the_hand_kept_ones(derived, before):
    assert _before(derived) == before


def test_flexible_symbols_of_the_checker_equal_the_hand_kept_ones():
    flexible_rows = [primitive(op) for op in FLEXIBLE_OPS if op in BEFORE_OPS]
    assert {row.symbol for row in flexible_rows if row.fixity != "call"} == BEFORE_FLEXIBLE_OPERATORS
    assert {row.symbol for row in flexible_rows if row.fixity == "call"} - {"if"} == BEFORE_FLEXIBLE_CALLS
    assert BEFORE_FLEXIBLE_OPERATORS <= check._FLEXIBLE_OPERATORS
    assert BEFORE_FLEXIBLE_CALLS <= check._FLEXIBLE_CALLS


def test_the_checkers_conversions_and_constants_equal_the_hand_kept_ones():
    assert check._CONVERSION_OPS == BEFORE_CONVERSION_OPS
    assert check.CONSTANTS == BEFORE_CONSTANTS


def test_kernel_classes_equal_the_hand_kept_ones():
    before = {op: cls for cls, ops in BEFORE_KERNEL_CLASSES.items() for op in ops}
    assert {op: cls for op, cls in KERNEL_CLASS.items() if op in BEFORE_OPS} == before


def test_rows_that_need_no_wrapping_in_sympy_equal_the_hand_kept_ones():
    for type_ in (Type("u8"), Type("i8")):
        stays = {row.op for row in PRIMITIVES if row.op in BEFORE_OPS and _in_range(row, type_)}
        assert stays == BEFORE_IN_RANGE | ({Op.SHR} if not type_.signed else set())


# --- reserved words: grammar.lark is their one source ----------------------------------------------


def test_the_grammars_keywords_are_the_reserved_words():
    grammar = (Path(check.__file__).with_name("grammar.lark")).read_text()
    (excluded,) = re.findall(r"^NAME: /\(\?!\(([a-z|]+)\)", grammar, flags=re.MULTILINE)
    assert frozenset(excluded.split("|")) == check.KEYWORDS, "NAME must exclude exactly the grammar's words"
    assert check.KEYWORDS == BEFORE_KEYWORDS
    assert check.KEYWORDS <= check.RESERVED_NAMES


@pytest.mark.parametrize("word", sorted(BEFORE_KEYWORDS))
def test_no_keyword_is_an_input_name(word):
    from dsl import OccamError, parse_tasks

    source = f"task t {{\n input {word}: int\n output int\n target 1\n grammar {{ int -> 1 }}\n}}"
    with pytest.raises(OccamError, match=word):
        parse_tasks(source)


# --- each property, checked on the reference evaluator ----------------------------------------------

_LETTER_TYPES = {"B": (BOOL,), "R": (REAL,), "I": (INT, Type("u8"), Type("i8"))}


def _column(values, type_: Type) -> np.ndarray:
    return np.array(values, dtype=type_.dtype)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN equal to NaN (−0.0 equal to 0.0, as every comparison of values in occam)."""
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


_BINARY_SAME = [row for row in PRIMITIVES if row.arity == 2 and row.args[0] == row.args[1]]


@pytest.mark.parametrize("row", _BINARY_SAME, ids=lambda row: row.op.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_commutative_rows_commute_and_the_others_do_not(row, data):
    """Flagged rows commute at every point; an unflagged one has a point where it does not (found
    among the edge values, so that the flag cannot be left off a commutative row unnoticed)."""
    type_ = data.draw(st.sampled_from(_LETTER_TYPES[row.args[0]]))
    a = _column(data.draw(st.lists(input_values(type_), min_size=1, max_size=8)), type_)
    b = _column(data.draw(st.lists(input_values(type_), min_size=len(a), max_size=len(a))), type_)
    if row.commutative:
        assert _same(row.evaluate(a, b), row.evaluate(b, a))
    else:
        edges = _column(edge_values(type_), type_)
        x, y = np.repeat(edges, len(edges)), np.tile(edges, len(edges))
        assert not _same(row.evaluate(x, y), row.evaluate(y, x)), f"{row.op!r} commutes: flag it"


@pytest.mark.parametrize("row", [row for row in PRIMITIVES if row.associative], ids=lambda row: row.op.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_associative_rows_associate(row, data):
    type_ = data.draw(st.sampled_from(_LETTER_TYPES[row.args[0]]))
    a, b, c = (_column(data.draw(st.lists(input_values(type_), min_size=4, max_size=4)), type_) for _ in range(3))
    f = row.evaluate
    assert _same(np.asarray(f(f(a, b), c)), np.asarray(f(a, f(b, c))))


def test_real_addition_and_multiplication_do_not_associate():
    """Why they are not flagged: floating point rounds."""
    a, b, c = np.array([1e16]), np.array([-1e16]), np.array([1.0])
    for op in (Op.ADD_R, Op.MUL_R):
        f = primitive(op).evaluate
        x, y, z = (a, b, c) if op == Op.ADD_R else (np.array([1e308]), np.array([10.0]), np.array([0.1]))
        assert not _same(f(f(x, y), z), f(x, f(y, z)))


def _arguments(row, nan_at: int) -> list[np.ndarray]:
    """Every combination of edge values for the row's arguments, NaN for argument `nan_at`."""
    columns = []
    for i, letter in enumerate(row.args):
        type_ = _LETTER_TYPES[letter][0]
        columns.append(_column([math.nan] if i == nan_at else edge_values(type_), type_))
    grids = np.meshgrid(*columns, indexing="ij")
    return [grid.ravel() for grid in grids]


_REAL_ARGUMENT = [(row, i) for row in PRIMITIVES for i, letter in enumerate(row.args) if letter == "R"]


@pytest.mark.parametrize(("row", "index"), _REAL_ARGUMENT, ids=lambda v: v.op.name if hasattr(v, "op") else str(v))
def test_nan_absorbing_is_exactly_the_rows_that_can_turn_a_nan_into_a_number(row, index):
    """NaN in real argument `index`, edge values elsewhere: a NaN-absorbing row gives a non-NaN
    result somewhere (in each real argument: `1 ** nan`, `nan ** 0`), any other row NaN everywhere."""
    result = np.asarray(row.evaluate(*_arguments(row, index)))
    number = ~np.isnan(result) if result.dtype.kind == "f" else np.ones(result.shape, dtype=bool)
    if row.nan_absorbing:
        assert number.any(), f"{row.op!r} never turns a NaN in argument {index} into a number"
    else:
        assert not number.any(), f"{row.op!r} gives a number for a NaN argument {index}: flag it NaN-absorbing"


def _in_range_results(row, type_: Type) -> bool:
    """Does `row` (before wrapping) stay in `type_`'s range at every combination of in-range edge values?"""
    low, high = type_.bounds
    edges = sorted({v for v in edge_values(INT) if low <= v <= high} | set(range(low, min(high, low + 20) + 1)))
    columns = [_column([False, True], BOOL) if letter == "B" else _column(edges, INT) for letter in row.args]
    result = np.asarray(row.evaluate(*(grid.ravel() for grid in np.meshgrid(*columns, indexing="ij"))))
    return bool(((result >= low) & (result <= high)).all())


_INTEGER_ROWS = [row for row in PRIMITIVES if row.result == "I" and row.op != Op.CONVERT_I]


@pytest.mark.parametrize("row", _INTEGER_ROWS, ids=lambda row: row.op.name)
def test_in_range_rows_stay_in_their_types_range(row):
    """A row said to stay in range does, on every bit-vector type tried. (The flag may be left off
    a row that stays in range, `//` on unsigned types: sympy then keeps a `Mod` that changes
    nothing. Setting it would change the sympy export.)"""
    for type_ in (Type(name) for name in ("u1", "u8", "u3", "i2", "i8")):
        if _in_range(row, type_):
            assert _in_range_results(row, type_), f"{row.op!r} leaves the range of {type_}"

"""Hypothesis strategies for occam programs and their inputs.

`programs()` draws well-typed typed ASTs (dsl/program.py) built directly from the primitive table:
for a wanted type it picks a row whose result has that type and recurses on the row's argument
types, so every opcode is reachable, conversions and `if` included. A subtree may be drawn
*flexible* — integer literals (and integral real literals) under same-typed operations only —
which is where the printer's annotations (`u8(1 + 2)`, `real(-3)`) and the checker's
context typing meet. Programs read the fixed inputs `INPUTS`; `points()` draws values for them,
with the edges of every type (0, −1, int64 MIN/MAX, 255, 128, NaN, ±inf, −0.0, …) favoured.

Only programs the type checker can produce are drawn: literals within their type's range, and
no identity conversion (`u8(u)` is checked as `u`).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from dsl import BOOL, INT, PRIMITIVES, REAL, Apply, Lit, Op, Primitive, Type, Var
from dsl.program import CONVERSIONS, FLEXIBLE_OPS, Expr

U8, I8 = Type("u8"), Type("i8")

INPUTS: dict[str, Type] = {
    "a": INT, "b": INT, "x": REAL, "y": REAL, "p": BOOL, "q": BOOL, "u": U8, "v": U8, "s": I8,
}  # fmt: skip

# Integer types a sub-program may have (repeated ones are drawn more often). Only int, u8 and i8
# have inputs; the others are reached through conversions (`u3(a)`), and cover the narrowest and
# widest bit-vectors.
EXOTIC_INTEGER_TYPES = tuple(Type(name) for name in ("u1", "i2", "u3", "i16", "u32", "u63", "i63"))
INTEGER_TYPES = (INT, U8, I8, INT, U8, I8, *EXOTIC_INTEGER_TYPES)
NARROW_INTEGER_TYPES = (INT, U8, I8, INT, U8, I8, *EXOTIC_INTEGER_TYPES[:3])  # sympy: no 2^(2^62)


def result_fits(row: Primitive, type_: Type) -> bool:
    """Can an application of `row` have type `type_`?"""
    if row.result == "B":
        return type_ == BOOL
    if row.result == "R":
        return type_ == REAL
    if row.result == "int":
        return type_ == INT
    return type_.kind == "int"  # "I": an integer operation, or CONVERT_I to any integer type


def _rows_for(type_: Type, flexible: bool, reals: bool) -> list[Primitive]:
    return [
        row for row in PRIMITIVES
        if result_fits(row, type_) and (not flexible or row.op in FLEXIBLE_OPS)
        and (reals or "R" not in (*row.args, row.result))
    ]  # fmt: skip


# --- literals and input values ------------------------------------------------------------------


def _integer_literals(type_: Type) -> st.SearchStrategy[int]:
    high = type_.bounds[1]
    edges = sorted(
        v for v in {0, 1, 2, 3, 7, 8, 63, 64, high, high - 1, high // 2, (high + 1) // 2} if 0 <= v <= high
    )
    return st.one_of(st.sampled_from(edges), st.integers(0, min(high, 300)), st.integers(0, high))


_REAL_LITERAL_EDGES = (0.0, 1.0, 2.0, 0.5, 0.1, 3.0, 10.0, 1e-300, 5e-324, 1e300, 1.7976931348623157e308,
                       2.0**53 + 2, 2.0**63, 1e16)  # fmt: skip


def _real_literals(flexible: bool) -> st.SearchStrategy[float]:
    if flexible:  # integral: written without a point, so it takes its type from the context
        return st.one_of(st.integers(0, 100), st.sampled_from([2**53, 2**63, 10**300])).map(float)
    finite = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)
    return st.one_of(st.sampled_from(_REAL_LITERAL_EDGES), finite)


def literals(type_: Type, *, flexible: bool = False) -> st.SearchStrategy[Lit]:
    """A literal of `type_` that the checker can produce (non-negative, within the type)."""
    if type_ == BOOL:
        return st.booleans().map(lambda value: Lit(value, BOOL))
    if type_ == REAL:
        return _real_literals(flexible).map(lambda value: Lit(value, REAL))
    return _integer_literals(type_).map(lambda value: Lit(value, type_))


REAL_EDGES = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324,
              2.0**63, -(2.0**63), 2.0**64, 2.0**53 + 2, 1e-8, math.pi, 100.0, 1e16)  # fmt: skip


def edge_values(type_: Type) -> list[bool | int | float]:
    """The values of `type_` where a total, wrapping or IEEE semantics decides something."""
    if type_ == BOOL:
        return [False, True]
    if type_ == REAL:
        return list(REAL_EDGES)
    low, high = type_.bounds
    candidates = {low, low + 1, -(2**32), -300, -64, -63, -8, -2, -1, 0, 1, 2, 3, 7, 8, 63, 64, 65, 127, 128,
                  255, 256, 2**32, 2**53 + 1, high // 2, high // 2 + 1, high - 1, high}  # fmt: skip
    return sorted(value for value in candidates if low <= value <= high)


def input_values(type_: Type) -> st.SearchStrategy[bool | int | float]:
    """Values of an input of `type_`, its edges favoured."""
    if type_ == BOOL:
        return st.booleans()
    if type_ == REAL:
        return st.one_of(st.sampled_from(REAL_EDGES), st.floats(-10, 10), st.floats())
    low, high = type_.bounds
    return st.one_of(
        st.sampled_from(edge_values(type_)),
        st.integers(max(low, -300), min(high, 300)),
        st.integers(low, high),
    )


@st.composite
def points(
    draw, inputs: dict[str, Type] = INPUTS, *, min_size: int = 1, max_size: int = 8
) -> dict[str, list]:
    """Values for every input at a few points: {name: [value at point 0, value at point 1, …]}."""
    size = draw(st.integers(min_size, max_size))
    return {
        name: draw(st.lists(input_values(type_), min_size=size, max_size=size))
        for name, type_ in inputs.items()
    }


# --- programs -------------------------------------------------------------------------------------


@st.composite
def expressions(
    draw,
    type_: Type,
    depth: int,
    *,
    inputs: dict[str, Type] = INPUTS,
    integer_types: tuple[Type, ...] = INTEGER_TYPES,
    reals: bool = True,
    flexible: bool = False,
    leaf: bool | None = None,
    root: Primitive | None = None,
) -> Expr:
    """A program of type `type_` at most `depth` deep. `flexible`: literals under same-typed
    operations only (a tree the checker types from its context). `leaf`: whether it is a
    literal or an input (default: drawn; always at depth 1). `reals`: whether sub-programs may
    be real (when `type_` is not). `root`: the row applied at the top (depth 2 at least)."""
    if root is None and not flexible and type_ != BOOL and depth > 1 and draw(st.integers(0, 9)) == 0:
        flexible = True
    if flexible and type_ == BOOL:
        flexible = False  # the condition of `if` inside a flexible tree is any bool
    rows = _rows_for(type_, flexible, reals)
    if leaf is None:
        leaf = root is None and draw(st.integers(0, 3)) == 0
    if root is None and (depth <= 1 or not rows or leaf):
        variables = [Var(name, input_type) for name, input_type in inputs.items() if input_type == type_]
        if variables and not flexible and draw(st.booleans()):
            return draw(st.sampled_from(variables))
        return draw(literals(type_, flexible=flexible))
    row = root or draw(st.sampled_from(rows))
    recurse = {"depth": depth - 1, "inputs": inputs, "integer_types": integer_types, "reals": reals}
    if row.op in CONVERSIONS:
        if row.op == Op.CONVERT_I:  # from another integer type (`u8(u)` would be checked as `u`)
            source = draw(st.sampled_from([t for t in integer_types if t != type_]))
        else:
            source = {"B": BOOL, "R": REAL, "I": None}[row.args[0]] or draw(st.sampled_from(integer_types))
        return Apply(row.op, (draw(expressions(source, **recurse)),), type_)
    # `I` arguments share one type: the result's for integer operations, any for comparisons.
    shared = type_ if row.result == "I" else draw(st.sampled_from(integer_types)) if "I" in row.args else None
    args = []
    for letter in row.args:
        arg_type = {"B": BOOL, "R": REAL, "I": shared}[letter]
        args.append(draw(expressions(arg_type, flexible=flexible and letter != "B", **recurse)))
    return Apply(row.op, tuple(args), type_)


ALL_TYPES = (REAL, BOOL, INT, U8, I8, REAL, BOOL, *EXOTIC_INTEGER_TYPES)


@st.composite
def programs(
    draw,
    types: tuple[Type, ...] = ALL_TYPES,
    *,
    max_depth: int = 5,
    inputs: dict[str, Type] = INPUTS,
    integer_types: tuple[Type, ...] = INTEGER_TYPES,
    reals: bool = True,
) -> Expr:
    """Well-typed applications over `inputs`, of one of `types`, 2 to `max_depth` deep (no real
    sub-program unless `reals`)."""
    type_ = draw(st.sampled_from(types))
    depth = draw(st.integers(2, max_depth))
    return draw(
        expressions(type_, depth, inputs=inputs, integer_types=integer_types, reals=reals, leaf=False)
    )


@st.composite
def programs_applying(draw, row: Primitive, *, max_depth: int = 4) -> Expr:
    """Well-typed programs whose root applies `row`, 2 to `max_depth` deep."""
    type_ = {"B": BOOL, "R": REAL, "int": INT}.get(row.result) or draw(st.sampled_from(INTEGER_TYPES))
    return draw(expressions(type_, draw(st.integers(2, max_depth)), root=row))


def applications(row: Primitive, integer_types: tuple[Type, ...]) -> list[Apply]:
    """`row` applied to inputs c0, c1, … of each integer type in `integer_types` it can take
    (each pair of distinct types for CONVERT_I)."""
    if row.op == Op.CONVERT_I:
        pairs = [(source, target) for source in integer_types for target in integer_types if source != target]
        return [Apply(row.op, (Var("c0", source),), target) for source, target in pairs]
    result = []
    for integer in integer_types if "I" in row.args else (None,):
        letters = {"B": BOOL, "R": REAL, "I": integer}
        type_ = {"B": BOOL, "R": REAL, "int": INT, "I": integer}[row.result]
        result.append(
            Apply(row.op, tuple(Var(f"c{i}", letters[letter]) for i, letter in enumerate(row.args)), type_)
        )
    return result

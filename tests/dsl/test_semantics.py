"""The total semantics of the primitives, at their edges, and the reference evaluator against a
scalar oracle.

`EDGE_CASES` holds the documented behaviour (the `semantics` column of dsl/primitives.py) at the
values where a total, wrapping or IEEE semantics decides something: at least one case per row of
the primitive table. The differential test runs random programs at random points through the
vectorized reference evaluator and through tests/dsl/oracle.py, a scalar interpreter written
from the same documentation, and asks for the same bits (NaN-aware, the sign of zero included).
"""

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl import Apply, Op

from . import oracle
from .strategies import (
    EXOTIC_INTEGER_TYPES,
    I8,
    INPUTS,
    U8,
    applications,
    edge_values,
    input_values,
    points,
    programs,
    programs_applying,
)

MIN, MAX = -(2**63), 2**63 - 1
NAN, INF = math.nan, math.inf


def at(text: str, **point) -> bool | int | float:
    """The value of the program `text` at one point (inputs typed as in INPUTS)."""
    program = dsl.parse_program(text, INPUTS)
    return dsl.evaluate(program, {name: [value] for name, value in point.items()}, size=1)[0].item()


def same(actual, expected) -> bool:
    """Equal values of one type; for reals NaN matches NaN and the sign of a zero counts."""
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        return actual == expected and math.copysign(1.0, actual) == math.copysign(1.0, expected)
    return type(actual) is type(expected) and actual == expected


def case(op: Op, text: str, expected, **point):
    written = ", ".join(f"{name}={value!r}" for name, value in point.items())
    return pytest.param(
        op, text, point, expected, id=f"{op.name}: {text}" + (f" at {written}" if written else "")
    )


EDGE_CASES = [
    # bool
    case(Op.NOT, "not p", False, p=True),
    case(Op.AND, "p and q", False, p=True, q=False),
    case(Op.OR, "p or q", True, p=False, q=True),
    case(Op.XOR_B, "p ^ q", False, p=True, q=True),
    case(Op.EQ_B, "p == q", True, p=False, q=False),
    case(Op.NE_B, "p != q", True, p=True, q=False),
    case(Op.IF_B, "if(p, q, not q)", False, p=False, q=True),
    # integers: int wraps at 64 bits
    case(Op.NEG_I, "-a", MIN, a=MIN),
    case(Op.NEG_I, "-u", 255, u=1),
    case(Op.NEG_I, "-s", -128, s=-128),
    case(Op.ADD_I, "a + 1", MIN, a=MAX),
    case(Op.ADD_I, "u + 1", 0, u=255),
    case(Op.ADD_I, "s + 1", -128, s=127),
    case(Op.SUB_I, "a - 1", MAX, a=MIN),
    case(Op.SUB_I, "u8(0) - 1", 255),
    case(Op.SUB_I, "s - 1", 127, s=-128),
    case(Op.MUL_I, "a * 2", -2, a=MAX),
    case(Op.MUL_I, "a * a", 0, a=2**32),
    case(Op.MUL_I, "u * 16", 0, u=16),
    case(Op.MUL_I, "s * 2", -128, s=64),
    case(Op.FLOORDIV_I, "a // 0", 0, a=7),
    case(Op.FLOORDIV_I, "a // b", -4, a=-7, b=2),
    case(Op.FLOORDIV_I, "a // b", -4, a=7, b=-2),
    case(Op.FLOORDIV_I, "a // -1", MIN, a=MIN),
    case(Op.FLOORDIV_I, "s // -1", -128, s=-128),
    case(Op.FLOORDIV_I, "u // 0", 0, u=200),
    case(Op.MOD_I, "a % 0", 7, a=7),
    case(Op.MOD_I, "a % 0", -7, a=-7),
    case(Op.MOD_I, "a % 3", 2, a=-7),
    case(Op.MOD_I, "a % -3", -2, a=7),
    case(Op.MOD_I, "a % -1", 0, a=MIN),
    case(Op.MOD_I, "u % 0", 200, u=200),
    case(Op.MOD_I, "s % 3", 1, s=-128),
    case(Op.POW_I, "0 ** 0", 1),
    case(Op.POW_I, "a ** b", 1, a=0, b=0),
    case(Op.POW_I, "a ** -1", 0, a=2),
    case(Op.POW_I, "a ** b", 1, a=1, b=-5),
    case(Op.POW_I, "a ** b", -1, a=-1, b=-3),
    case(Op.POW_I, "a ** b", 1, a=-1, b=-4),
    case(Op.POW_I, "a ** b", 0, a=0, b=-1),
    case(Op.POW_I, "a ** b", 0, a=-2, b=-1),
    case(Op.POW_I, "2 ** 63", MIN),
    case(Op.POW_I, "2 ** 64", 0),
    case(Op.POW_I, "a ** 2", 1, a=MAX),
    case(Op.POW_I, "3 ** a", (pow(3, MAX, 2**64) + 2**63) % 2**64 - 2**63, a=MAX),
    case(Op.POW_I, "u8(2) ** 8", 0),
    case(Op.POW_I, "u8(3) ** 6", 729 % 256),
    case(Op.POW_I, "i8(2) ** 7", -128),
    case(Op.POW_I, "s ** -1", -1, s=-1),
    case(Op.BITNOT, "~a", -1, a=0),
    case(Op.BITNOT, "~a", MIN, a=MAX),
    case(Op.BITNOT, "~u", 255, u=0),
    case(Op.BITNOT, "~u", 55, u=200),
    case(Op.BITNOT, "~s", -128, s=127),
    case(Op.BITAND, "a & 5", 5, a=-1),
    case(Op.BITAND, "a & b", MIN, a=MIN, b=-1),
    case(Op.BITAND, "s & 127", 127, s=-1),
    case(Op.BITOR, "a | 1", -1, a=-2),
    case(Op.BITOR, "s | 1", -127, s=-128),
    case(Op.BITXOR, "a ^ -1", -6, a=5),
    case(Op.BITXOR, "u ^ 255", 240, u=15),
    case(Op.SHL, "1 << 63", MIN),
    case(Op.SHL, "1 << 64", 0),
    case(Op.SHL, "a << 100", 0, a=1),
    case(Op.SHL, "a << 64", 0, a=-1),
    case(Op.SHL, "a << b", 0, a=1, b=MAX),
    case(Op.SHL, "a << -2", 2, a=8),
    case(Op.SHL, "a << -2", -2, a=-8),
    case(Op.SHL, "a << -1", -4, a=-7),
    case(Op.SHL, "a << b", -1, a=-1, b=-64),
    case(Op.SHL, "a << b", 0, a=5, b=MIN),
    case(Op.SHL, "a << b", -1, a=-5, b=MIN),
    case(Op.SHL, "u << 1", 254, u=255),
    case(Op.SHL, "u << 8", 0, u=1),
    case(Op.SHL, "u << v", 0, u=1, v=255),
    case(Op.SHL, "s << 1", -128, s=64),
    case(Op.SHL, "s << -1", -64, s=-128),
    case(Op.SHR, "a >> 1", -4, a=-7),
    case(Op.SHR, "a >> 100", -1, a=-1),
    case(Op.SHR, "a >> 64", 0, a=1),
    case(Op.SHR, "a >> 63", -1, a=MIN),
    case(Op.SHR, "a >> b", -1, a=MIN, b=MAX),
    case(Op.SHR, "a >> -3", 8, a=1),
    case(Op.SHR, "a >> -63", MIN, a=1),
    case(Op.SHR, "a >> -64", 0, a=1),
    case(Op.SHR, "a >> b", 0, a=3, b=MIN),
    case(Op.SHR, "u >> 8", 0, u=255),
    case(Op.SHR, "u >> v", 1, u=255, v=7),
    case(Op.SHR, "s >> 7", -1, s=-128),
    case(Op.SHR, "s >> 100", -1, s=-1),
    case(Op.SHR, "s >> -7", -128, s=1),
    case(Op.POPCOUNT, "popcount(a)", 0, a=0),
    case(Op.POPCOUNT, "popcount(a)", 64, a=-1),
    case(Op.POPCOUNT, "popcount(a)", 1, a=MIN),
    case(Op.POPCOUNT, "popcount(a)", 63, a=MAX),
    case(Op.POPCOUNT, "popcount(u)", 8, u=255),
    case(Op.POPCOUNT, "popcount(s)", 64, s=-1),  # a negative iN counts its sign extension
    case(Op.POPCOUNT, "popcount(s)", 57, s=-128),
    case(Op.POPCOUNT, "popcount(u8(s))", 1, s=-128),  # the N-bit pattern, through the unsigned type
    case(Op.POPCOUNT, "popcount(i2(a))", 0, a=-1),  # 64, wrapped into i2
    case(Op.ABS_I, "abs(a)", MIN, a=MIN),
    case(Op.ABS_I, "abs(a)", 5, a=-5),
    case(Op.ABS_I, "abs(s)", -128, s=-128),
    case(Op.MIN_I, "min(a, b)", MIN, a=MAX, b=MIN),
    case(Op.MIN_I, "min(u, 0 - 1)", 7, u=7),
    case(Op.MAX_I, "max(a, b)", MAX, a=MIN, b=MAX),
    case(Op.MAX_I, "max(s, 127 + 1)", 5, s=5),
    case(Op.LT_I, "a < b", True, a=MIN, b=MAX),
    case(Op.LT_I, "u + 1 < u", True, u=255),
    case(Op.LE_I, "a <= b", True, a=MIN, b=MIN),
    case(Op.LE_I, "a + 1 <= a", True, a=MAX),
    case(Op.EQ_I, "u8(0) - 1 == 255", True),
    case(Op.EQ_I, "-a == a", True, a=MIN),
    case(Op.NE_I, "a != b", True, a=MIN, b=MAX),
    case(Op.IF_I, "if(p, a, b)", MIN, p=False, a=MAX, b=MIN),
    case(Op.IF_I, "if(p, u, 0 - 1)", 255, p=False, u=0),
    # reals: IEEE-754
    case(Op.NEG_R, "-x", -0.0, x=0.0),
    case(Op.NEG_R, "-x", INF, x=-INF),
    case(Op.NEG_R, "-x", NAN, x=NAN),
    case(Op.ADD_R, "x + y", NAN, x=INF, y=-INF),
    case(Op.ADD_R, "x + y", INF, x=1e308, y=1e308),
    case(Op.ADD_R, "x + y", -0.0, x=-0.0, y=-0.0),
    case(Op.ADD_R, "x + y", 0.0, x=-0.0, y=0.0),
    case(Op.SUB_R, "x - y", NAN, x=INF, y=INF),
    case(Op.SUB_R, "x - y", 0.0, x=1.0, y=1.0),
    case(Op.MUL_R, "x * y", NAN, x=0.0, y=INF),
    case(Op.MUL_R, "x * y", -0.0, x=-1.0, y=0.0),
    case(Op.MUL_R, "x * y", INF, x=1e200, y=1e200),
    case(Op.DIV_R, "x / y", INF, x=1.0, y=0.0),
    case(Op.DIV_R, "x / y", -INF, x=-1.0, y=0.0),
    case(Op.DIV_R, "x / y", -INF, x=1.0, y=-0.0),
    case(Op.DIV_R, "x / y", NAN, x=0.0, y=0.0),
    case(Op.DIV_R, "x / y", NAN, x=INF, y=INF),
    case(Op.DIV_R, "x / y", -0.0, x=-1.0, y=INF),
    case(Op.FLOORDIV_R, "x // y", 3.0, x=7.0, y=2.0),
    case(Op.FLOORDIV_R, "x // y", -4.0, x=-7.0, y=2.0),
    case(Op.FLOORDIV_R, "x // y", INF, x=1.0, y=0.0),
    case(Op.FLOORDIV_R, "x // y", NAN, x=0.0, y=0.0),
    case(Op.FLOORDIV_R, "x // y", 10.0, x=1.0, y=0.1),  # ⌊fl(1 / 0.1)⌋; Python's 1.0 // 0.1 is 9.0
    case(Op.FLOORDIV_R, "x // y", -0.0, x=-0.5, y=INF),  # ⌊−0.0⌋; Python's −0.5 // inf is −1.0
    case(Op.MOD_R, "x % y", NAN, x=7.5, y=0.0),
    case(Op.MOD_R, "x % y", 2.0, x=-7.0, y=3.0),
    case(Op.MOD_R, "x % y", -2.0, x=7.0, y=-3.0),
    case(Op.MOD_R, "x % y", NAN, x=INF, y=3.0),
    case(Op.MOD_R, "x % y", 5.0, x=5.0, y=INF),
    case(Op.MOD_R, "x % y", INF, x=-5.0, y=INF),
    case(Op.MOD_R, "x % y", NAN, x=NAN, y=1.0),
    case(Op.MOD_R, "x % y", 0.0, x=-0.0, y=5.0),
    case(Op.MOD_R, "x % y", -0.0, x=6.0, y=-3.0),
    case(Op.POW_R, "x ** y", NAN, x=-8.0, y=1 / 3),
    case(Op.POW_R, "x ** y", INF, x=0.0, y=-1.0),
    case(Op.POW_R, "x ** y", -INF, x=-0.0, y=-1.0),
    case(Op.POW_R, "x ** y", 1.0, x=0.0, y=0.0),
    case(Op.POW_R, "x ** y", 1.0, x=NAN, y=0.0),
    case(Op.POW_R, "x ** y", 1.0, x=1.0, y=NAN),
    case(Op.POW_R, "x ** y", -8.0, x=-2.0, y=3.0),
    case(Op.POW_R, "x ** y", INF, x=2.0, y=2000.0),
    case(Op.POW_R, "x ** y", 1.0, x=-1.0, y=INF),
    case(Op.ABS_R, "abs(x)", INF, x=-INF),
    case(Op.ABS_R, "abs(x)", 0.0, x=-0.0),
    case(Op.ABS_R, "abs(x)", NAN, x=NAN),
    case(Op.MIN_R, "min(x, y)", NAN, x=NAN, y=1.0),
    case(Op.MIN_R, "min(x, y)", NAN, x=1.0, y=NAN),
    case(Op.MIN_R, "min(x, y)", -INF, x=-INF, y=1.0),
    case(Op.MAX_R, "max(x, y)", NAN, x=NAN, y=1.0),
    case(Op.MAX_R, "max(x, y)", NAN, x=-INF, y=NAN),
    case(Op.MAX_R, "max(x, y)", INF, x=INF, y=1.0),
    case(Op.SIN, "sin(x)", NAN, x=INF),
    case(Op.SIN, "sin(x)", -0.0, x=-0.0),
    case(Op.COS, "cos(x)", NAN, x=-INF),
    case(Op.COS, "cos(x)", 1.0, x=0.0),
    case(Op.TAN, "tan(x)", NAN, x=INF),
    case(Op.TAN, "tan(x)", -0.0, x=-0.0),
    case(Op.EXP, "exp(x)", INF, x=1000.0),
    case(Op.EXP, "exp(x)", 0.0, x=-INF),
    case(Op.EXP, "exp(x)", NAN, x=NAN),
    case(Op.EXP, "exp(x)", 1.0, x=-0.0),
    case(Op.LOG, "log(x)", -INF, x=0.0),
    case(Op.LOG, "log(x)", -INF, x=-0.0),
    case(Op.LOG, "log(x)", NAN, x=-1.0),
    case(Op.LOG, "log(x)", NAN, x=-INF),
    case(Op.LOG, "log(x)", INF, x=INF),
    case(Op.SQRT, "sqrt(x)", NAN, x=-1.0),
    case(Op.SQRT, "sqrt(x)", -0.0, x=-0.0),
    case(Op.SQRT, "sqrt(x)", INF, x=INF),
    case(Op.TANH, "tanh(x)", 1.0, x=INF),
    case(Op.TANH, "tanh(x)", -1.0, x=-INF),
    case(Op.TANH, "tanh(x)", -0.0, x=-0.0),
    case(Op.FLOOR, "floor(x)", -1.0, x=-0.5),
    case(Op.FLOOR, "floor(x)", -0.0, x=-0.0),
    case(Op.FLOOR, "floor(x)", INF, x=INF),
    case(Op.FLOOR, "floor(x)", NAN, x=NAN),
    case(Op.FLOOR, "floor(x)", 1e300, x=1e300),
    case(Op.CEIL, "ceil(x)", -0.0, x=-0.5),
    case(Op.CEIL, "ceil(x)", 1.0, x=0.5),
    case(Op.CEIL, "ceil(x)", -INF, x=-INF),
    case(Op.LT_R, "x < y", False, x=NAN, y=1.0),
    case(Op.LT_R, "x < y", False, x=1.0, y=NAN),
    case(Op.LT_R, "x < y", True, x=-INF, y=INF),
    case(Op.LT_R, "x < y", False, x=-0.0, y=0.0),
    case(Op.LE_R, "x <= y", False, x=NAN, y=NAN),
    case(Op.LE_R, "x <= y", True, x=0.0, y=-0.0),
    case(Op.EQ_R, "x == y", False, x=NAN, y=NAN),
    case(Op.EQ_R, "x == y", True, x=-0.0, y=0.0),
    case(Op.EQ_R, "x == y", True, x=INF, y=INF),
    case(Op.NE_R, "x != y", True, x=NAN, y=NAN),
    case(Op.NE_R, "x != y", False, x=-0.0, y=0.0),
    case(Op.IF_R, "if(p, x, y)", NAN, p=True, x=NAN, y=1.0),
    case(Op.IF_R, "if(p, x, y)", 1.0, p=False, x=NAN, y=1.0),
    case(Op.PI, "pi", math.pi),
    # conversions
    case(Op.BOOL_TO_INT, "int(p)", 1, p=True),
    case(Op.BOOL_TO_INT, "int(p)", 0, p=False),
    case(Op.BOOL_TO_REAL, "real(p)", 1.0, p=True),
    case(Op.BOOL_TO_REAL, "real(p)", 0.0, p=False),
    case(Op.INT_TO_REAL, "real(a)", 2.0**63, a=MAX),
    case(Op.INT_TO_REAL, "real(a)", 2.0**53, a=2**53 + 1),  # the nearest double, ties to even
    case(Op.INT_TO_REAL, "real(a)", 2.0**53 + 4, a=2**53 + 3),
    case(Op.INT_TO_REAL, "real(a)", -(2.0**63), a=MIN),
    case(Op.INT_TO_REAL, "real(u)", 255.0, u=255),
    case(Op.INT_TO_REAL, "real(s)", -128.0, s=-128),
    case(Op.REAL_TO_INT, "int(x)", 2, x=2.7),
    case(Op.REAL_TO_INT, "int(x)", -2, x=-2.7),
    case(Op.REAL_TO_INT, "int(x)", 0, x=-0.0),
    case(Op.REAL_TO_INT, "int(x)", 0, x=NAN),
    case(Op.REAL_TO_INT, "int(x)", MAX, x=INF),
    case(Op.REAL_TO_INT, "int(x)", MIN, x=-INF),
    case(Op.REAL_TO_INT, "int(x)", MAX, x=1e19),
    case(Op.REAL_TO_INT, "int(x)", MIN, x=-1e19),
    case(Op.REAL_TO_INT, "int(x)", MAX, x=2.0**63),
    case(Op.REAL_TO_INT, "int(x)", MIN, x=-(2.0**63)),
    case(Op.REAL_TO_INT, "int(x)", 2**63 - 1024, x=2.0**63 - 1024),
    case(Op.CONVERT_I, "u8(a)", 0, a=256),
    case(Op.CONVERT_I, "u8(a)", 255, a=-1),
    case(Op.CONVERT_I, "u8(a)", 255, a=MAX),
    case(Op.CONVERT_I, "i8(a)", -128, a=128),
    case(Op.CONVERT_I, "i8(a)", -1, a=255),
    case(Op.CONVERT_I, "i8(a)", 0, a=MIN),
    case(Op.CONVERT_I, "int(u)", 200, u=200),
    case(Op.CONVERT_I, "u8(s)", 255, s=-1),
    case(Op.CONVERT_I, "i8(u)", -56, u=200),
    case(Op.CONVERT_I, "u3(a)", 5, a=13),
    case(Op.CONVERT_I, "i2(a)", -1, a=3),
    case(Op.CONVERT_I, "u1(a)", 1, a=-1),
    case(Op.CONVERT_I, "u63(a)", 2**63 - 1, a=-1),
    case(Op.CONVERT_I, "i63(a)", -(2**62), a=2**62),
]


@pytest.mark.parametrize(("op", "text", "point", "expected"), EDGE_CASES)
def test_edge_case(op, text, point, expected):
    program = dsl.parse_program(text, INPUTS)
    assert any(isinstance(node, Apply) and node.op == op for node in program.walk()), "the case uses its row"
    actual = at(text, **point)
    assert same(actual, expected), f"{text} = {actual!r}, documented {expected!r}"


def test_every_row_of_the_table_has_an_edge_case():
    assert {param.values[0] for param in EDGE_CASES} == set(Op)


@pytest.mark.parametrize("type_", [dsl.INT, U8, I8], ids=str)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_floor_division_and_remainder_recompose(type_, data):
    """x = (x // y)·y + x % y in the type's wrapping arithmetic, y = 0 and MIN // −1 included."""
    x, y = (data.draw(input_values(type_)) for _ in "xy")
    program = dsl.parse_program("(a // b) * b + a % b", {"a": type_, "b": type_})
    assert dsl.evaluate(program, {"a": [x], "b": [y]}).tolist() == [x]


def test_no_input_programs_fill_every_point():
    program = dsl.parse_program("pi + real(2 ** 3)", INPUTS)
    assert dsl.evaluate(program, {"x": [0.0, 1.0, 2.0]}).tolist() == [math.pi + 8] * 3
    assert dsl.evaluate(program, {}, size=4).shape == (4,)


def test_evaluate_rejects_values_outside_the_input_type():
    with pytest.raises(ValueError):
        dsl.evaluate(dsl.parse_program("u + 1", INPUTS), {"u": [256]})
    with pytest.raises(ValueError):
        dsl.evaluate(dsl.parse_program("a + 1", INPUTS), {"a": [0.5]})


# --- the reference evaluator against the scalar oracle -------------------------------------------


@pytest.mark.parametrize("row", dsl.PRIMITIVES, ids=lambda row: row.op.name)
def test_every_primitive_agrees_with_the_oracle_on_all_edge_values(row):
    """Each row, on every combination of the edge values of its argument types."""
    for program in applications(row, (dsl.INT, U8, I8, *EXOTIC_INTEGER_TYPES)):
        arguments = [node for node in program.args]
        combinations = list(itertools.product(*(edge_values(arg.type) for arg in arguments)))
        env = {
            arg.name: [combination[index] for combination in combinations]
            for index, arg in enumerate(arguments)
        }
        actual = dsl.evaluate(program, env, size=max(1, len(combinations)))
        for index, combination in enumerate(combinations or [()]):
            point = {arg.name: value for arg, value in zip(arguments, combination)}
            expected = oracle.run(program, point)
            assert same(actual[index].item(), expected), (
                f"{program.type} {program} at {point}: {actual[index].item()!r}, oracle {expected!r}"
            )


def _disagreement(program: dsl.Program, env: dict[str, list], index: int) -> str:
    """The smallest sub-program whose value differs between the evaluator and the oracle."""
    point = {name: column[index] for name, column in env.items()}
    expected = oracle.values(program, point)
    smallest = program
    for node in program.walk():  # parents first: the last mismatch found is among the smallest
        actual = dsl.evaluate(node, env)[index].item()
        if not same(actual, expected[node]) and node.size <= smallest.size:
            smallest = node
            shown = f"{node} = {actual!r} (evaluator) vs {expected[node]!r} (oracle)"
    return f"at {point}: {shown}"


@settings(max_examples=300, deadline=None)
@given(programs(), points())
def test_reference_evaluator_agrees_with_the_scalar_oracle(program, env):
    actual = dsl.evaluate(program, env)
    assert actual.dtype == program.type.dtype and actual.shape == (len(env["a"]),)
    for index in range(len(env["a"])):
        expected = oracle.run(program, {name: column[index] for name, column in env.items()})
        if not same(actual[index].item(), expected):
            pytest.fail(f"{program}: {_disagreement(program, env, index)}")


@pytest.mark.parametrize("row", dsl.PRIMITIVES, ids=lambda row: row.op.name)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_every_primitive_agrees_with_the_oracle_inside_random_programs(row, data):
    program, env = data.draw(programs_applying(row)), data.draw(points())
    actual = dsl.evaluate(program, env)
    for index in range(len(env["a"])):
        expected = oracle.run(program, {name: column[index] for name, column in env.items()})
        if not same(actual[index].item(), expected):
            pytest.fail(f"{program}: {_disagreement(program, env, index)}")


@settings(max_examples=100, deadline=None)
@given(programs(), points(min_size=2, max_size=40))
def test_evaluation_is_pointwise(program, env):
    """A point's value does not depend on the other points evaluated with it."""
    together = dsl.evaluate(program, env)
    for index in (0, len(together) - 1):
        alone = dsl.evaluate(program, {name: column[index : index + 1] for name, column in env.items()})
        assert same(alone[0].item(), together[index].item())

"""The canonical printer and the parser are inverses: print → parse gives the same typed program.

Random well-typed programs (tests/dsl/strategies.py) must re-parse to an equal program of the
same type, and printing is idempotent; hand-written cases pin down precedence, associativity,
the `>` spelling and the annotations of flexible literals.
"""

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import dsl
from dsl import BOOL, INT, REAL, Apply, Lit, Op, Type, Var
from dsl.program import is_flexible

from .strategies import (
    ALL_TYPES,
    EXOTIC_INTEGER_TYPES,
    I8,
    INPUTS,
    INTEGER_TYPES,
    U8,
    expressions,
    programs,
    programs_applying,
    result_fits,
)


def parse(text: str, expected: Type | None = None) -> dsl.Program:
    return dsl.parse_program(text, INPUTS, expected=expected)


@settings(max_examples=300, deadline=None)
@given(programs())
def test_print_then_parse_gives_the_same_program(program):
    text = str(program)
    parsed = parse(text)
    assert parsed == program, text
    assert parsed.type == program.type
    assert str(parsed) == text, "printing is idempotent"


@settings(max_examples=150, deadline=None)
@given(programs())
def test_parse_with_the_expected_type_gives_the_same_program(program):
    assert parse(str(program), expected=program.type) == program


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([INT, U8, I8, REAL, *EXOTIC_INTEGER_TYPES]).flatmap(
        lambda type_: expressions(type_, 6, flexible=True)
    )
)
def test_flexible_literal_trees_round_trip(program):
    """Trees of literals under same-typed operations take their type from the context, so the
    printer annotates them where that context would give another type."""
    assert is_flexible(program)
    text = str(program)
    assert parse(text) == program, text
    if program.type != INT and not isinstance(program, Lit):
        assert text.startswith(f"{program.type}("), "an annotation, not a default int"


@pytest.mark.parametrize("row", dsl.PRIMITIVES, ids=lambda row: row.op.name)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_every_primitive_round_trips_in_random_programs(row, data):
    program = data.draw(programs_applying(row))
    assert program.op == row.op
    assert parse(str(program)) == program, str(program)


def test_every_primitive_can_be_drawn_inside_programs():
    """`programs()` picks rows by result type: each row fits one of the types it draws."""
    drawn_types = {*ALL_TYPES, *INTEGER_TYPES, dsl.INT, dsl.REAL, dsl.BOOL}
    for row in dsl.PRIMITIVES:
        assert any(result_fits(row, type_) for type_ in drawn_types), row.op


@pytest.mark.parametrize("type_", [U8, I8, INT, REAL], ids=str)
def test_programs_hold_deep_flexible_literal_trees(type_):
    """Such as `u8(1 + 2 * 3)`: literals that take the type of their context, three levels deep."""
    found = find(
        programs(),
        lambda program: any(
            is_flexible(node) and node.depth >= 3 and node.type == type_ for node in program.walk()
        ),
        settings=settings(max_examples=5000, database=None, deadline=None, phases=[Phase.generate]),
    )
    assert parse(str(found)) == found


# --- hand-written cases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a - (b - a)",
        "a - b - a",
        "2 ** 3 ** 2",
        "(2 ** 3) ** 2",
        "-x ** 2",
        "(-x) ** 2",
        "a ** -b",
        "~a ** b",
        "not (p and q)",
        "not p and q",
        "not p == q",
        "(not p) == q",
        "p == (not q)",
        "(a < b) == p",
        "p != (x <= y)",
        "a << b >> a",
        "a << (b >> a)",
        "a - -b",
        "--a",
        "a & b | a ^ b",
        "(a | b) & a",
        "a + b * a",
        "(a + b) * a",
        "a // b % a",
        "a // (b % a)",
        "x / (y * x)",
        "p or q and p",
        "(p or q) and p",
        "u8(1) < 2",
        "1 < u",
        "real(1 + 2)",
        "int(u8(3))",
        "(1 + 2) * u",
        "u8(1 + 2) < 3",
        "u + 255",
        "i8(-127 - 1)",
        "real(-3)",
        "x + 1",
        "x + 1.5",
        "1.0",
        "real(int(1 & 2))",
        "if(p, 1, 2)",
        "u8(if(p, 1, 2))",
        "if(p, x, 2)",
        "min(1, 2) + a",
        "abs(-1)",
        "pi * x",
        "int(x) + a",
        "real(p)",
        "int(p)",
        "u3(a)",
        "i63(a) >> 62",
    ],
)
def test_canonical_text_is_a_fixed_point(text):
    program = parse(text)
    assert str(program) == text
    assert parse(str(program)) == program


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a > b", "b < a"),
        ("a >= b", "b <= a"),
        ("x > 1", "1 < x"),
        ("(a - b) - a", "a - b - a"),
        ("2 ** (3 ** 2)", "2 ** 3 ** 2"),
        ("-(x ** 2)", "-x ** 2"),
        ("not (p == q)", "not p == q"),
        ("((a))", "a"),
        ("u8(u)", "u"),
        ("int(a)", "a"),
        ("u8(1) + u8(2)", "u8(1 + 2)"),
        ("real(1) + real(2)", "real(1 + 2)"),
        ("x + real(2)", "x + 2"),
        ("x + 2.0", "x + 2"),
        ("real(3)", "3.0"),
        ("u + u8(1)", "u + 1"),
        ("u8(1 + 2) < u", "1 + 2 < u"),
        ("real(1 & 2)", "real(int(1 & 2))"),
    ],
)
def test_printing_normalizes(text, canonical):
    program = parse(text)
    assert str(program) == canonical
    assert parse(canonical) == program


def test_precedence_and_associativity_build_the_right_trees():
    assert parse("a - (b - a)") == Apply(
        Op.SUB_I, (Var("a", INT), Apply(Op.SUB_I, (Var("b", INT), Var("a", INT)), INT)), INT
    )
    assert parse("2 ** 3 ** 2") == Apply(
        Op.POW_I, (Lit(2, INT), Apply(Op.POW_I, (Lit(3, INT), Lit(2, INT)), INT)), INT
    )
    assert parse("-x ** 2") == Apply(
        Op.NEG_R, (Apply(Op.POW_R, (Var("x", REAL), Lit(2.0, REAL)), REAL),), REAL
    )
    assert parse("not p and q").op == Op.AND
    assert parse("not p == q").op == Op.NOT
    assert parse("a > b") == Apply(Op.LT_I, (Var("b", INT), Var("a", INT)), BOOL)


def test_literal_annotations_give_the_annotated_type():
    assert parse("u8(1) < 2") == Apply(Op.LT_I, (Lit(1, U8), Lit(2, U8)), BOOL)
    assert parse("real(1 + 2)") == Apply(Op.ADD_R, (Lit(1.0, REAL), Lit(2.0, REAL)), REAL)
    assert parse("int(u8(3))") == Apply(Op.CONVERT_I, (Lit(3, U8),), INT)
    assert parse("1 < 2").args[0].type == INT, "an unannotated comparison of literals is on int"


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("u8(if(p, 1, 2))", U8),
        ("u + if(p, 1, 2)", U8),
        ("x + if(p, 1, 2)", REAL),
        ("real(if(p, 1, 2))", REAL),
        ("u8(1 ^ 2)", U8),
        ("u + (1 ^ 2)", U8),
        ("s * -(1 ^ 3)", I8),
        ("real(1 & 2)", REAL),
        ("real(~1)", REAL),
    ],
)
def test_flexible_trees_take_the_type_of_their_context(text, type_):
    """`if` and `^` list a bool overload first in the table; their literal trees still take the
    type of the context, and every node agrees with its parent's type."""
    program = parse(text)
    assert program.type == type_
    for node in program.walk():
        if isinstance(node, Apply) and node.op in (Op.ADD_I, Op.MUL_I, Op.ADD_R, Op.IF_I, Op.IF_R, Op.BITXOR):
            shared = node.args[1:] if node.op in (Op.IF_I, Op.IF_R) else node.args
            assert {arg.type for arg in shared} == {node.type}, str(node)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b < a", dsl.OccamSyntaxError),
        ("u + 256", dsl.OccamTypeError),
        ("s == -128", dsl.OccamTypeError),
        ("u8(1) + i8(1)", dsl.OccamTypeError),
        ("a + x", dsl.OccamTypeError),
        ("a / b", dsl.OccamTypeError),
        ("9223372036854775808", dsl.OccamTypeError),
        ("1e999", dsl.OccamTypeError),
        ("u8(p)", dsl.OccamTypeError),
        ("bool(a)", dsl.OccamTypeError),
    ],
)
def test_ill_formed_programs_are_rejected(text, error):
    with pytest.raises(error):
        parse(text)


def test_the_int64_extremes_are_written_as_programs():
    """The largest int is a literal; the smallest is not (literals are non-negative, and
    2^63 does not fit), so it is written as an expression that wraps to it."""
    assert dsl.evaluate(parse("9223372036854775807"), {}, size=1).tolist() == [2**63 - 1]
    assert dsl.evaluate(parse("-9223372036854775807 - 1"), {}, size=1).tolist() == [-(2**63)]

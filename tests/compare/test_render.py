"""Terminal rendering: the simplified forms shown beside programs are the same functions."""

import time

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings

import dsl
import dsl.symbolic
from compare.app import terminal
from compare.app.terminal import simplified
from dsl import BOOL, REAL, Var
from dsl.symbolic import bitand, bitor, bitxor, symbol
from tests.dsl.strategies import I8, NARROW_INTEGER_TYPES, U8, points, programs
from tests.dsl.test_sympy import _at, _in_contract, _point, _sympy_value

U8_POINTS = {"x": np.arange(256)}


def _shown_at(text: str, program: dsl.Program, point: dict):
    """The displayed text, read back by sympy and evaluated exactly at `point` (by the tests'
    own evaluator, not the one `simplified` checks with)."""
    types = {node.name: node.type for node in program.walk() if isinstance(node, Var)}
    names = {name: symbol(name, type_) for name, type_ in types.items()}
    namespace = {**names, "bitand": bitand, "bitor": bitor, "bitxor": bitxor, **_integer_functions()}
    expression = sympy.sympify(text, locals=namespace, convert_xor=False)  # sympy writes Xor as ^
    expression = sympy.sympify(expression)  # "True" reads as Python's True
    value = _at(expression, {names[name]: _sympy_value(point[name], types[name]) for name in types})
    if program.type == BOOL:
        return value == sympy.true
    return float(value.evalf(30)) if program.type == REAL else int(value)


def _integer_functions() -> dict:
    """The sympy functions of the table's rows that sympy lacks (`popcount`), by their names."""
    functions = {}
    for row in dsl.PRIMITIVES:
        if row.fixity == "call" and row.args == ("I",):
            form = row.sympy(dsl.symbolic, sympy.Symbol("t", integer=True))
            if isinstance(form, dsl.symbolic._IntegerFunction):
                functions[row.symbol] = form.func
    return functions


def test_a_wrong_simplification_of_shifts_is_not_shown():
    # sympy simplifies the export of this u8 program into a function wrong at 248 of 256 points.
    program = dsl.parse_program("x >> 2 << 1 << 1", {"x": U8})
    shown = simplified(program, U8_POINTS)
    expected = dsl.evaluate(program, U8_POINTS)
    if shown is not None:
        assert [_shown_at(shown, program, {"x": x}) for x in range(256)] == expected.tolist()


def test_a_right_simplification_is_still_shown():
    program = dsl.parse_program("x >> 2 << 2", {"x": U8})
    assert simplified(program, U8_POINTS) == "4*(Mod(floor(x/4), 64))"


def test_a_boolean_normal_form_longer_than_the_program_is_not_shown():
    inputs = {"x": BOOL, "y": BOOL, "z": BOOL}
    env = {name: (np.arange(8) >> bit & 1).astype(bool) for bit, name in enumerate(inputs)}
    # sympy writes this as (x & y) ^ (x & z) ^ (y & z): 11 nodes for the program's 9.
    assert simplified(dsl.parse_program("(x and y) ^ (z and x ^ y)", inputs), env) is None
    assert simplified(dsl.parse_program("x ^ (not y)", inputs), env) is None  # x ^ y ^ True
    shorter = simplified(dsl.parse_program("x and y or x and not y", inputs), env)
    assert shorter == "x"


def test_inputs_and_literals_are_not_simplified():
    for text, type_ in (("x", U8), ("2.0", REAL), ("true", BOOL)):
        assert simplified(dsl.parse_program(text, {"x": U8}, expected=type_), U8_POINTS) is None


def test_simplification_is_cut_off_after_its_time(monkeypatch):
    def forever(expression):
        while True:
            pass

    monkeypatch.setattr(sympy, "simplify", forever)
    started = time.monotonic()
    assert simplified(dsl.parse_program("x + 1", {"x": U8}), U8_POINTS, seconds=0.2) is None
    assert time.monotonic() - started < 2


def test_large_tasks_are_checked_on_a_sample(monkeypatch):
    monkeypatch.setattr(terminal, "CHECK_POINTS", 100)
    inputs = {"a": dsl.INT}
    program = dsl.parse_program("a * 2 + a", inputs)
    assert simplified(program, {"a": np.arange(-5000, 5000)}) == "3*a"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    programs(types=(dsl.INT, BOOL, U8, I8), max_depth=4, integer_types=NARROW_INTEGER_TYPES, reals=False),
    points(max_size=4),
)
def test_what_is_shown_is_the_program(program, env):
    """For random programs: the displayed simplification, read back and evaluated exactly,
    gives the reference evaluator's values at the points it was checked on. (Without reals:
    exact arithmetic and the evaluator's rounding part at a comparison of reals, so real
    programs are checked with a tolerance inside `simplified`, which the last test covers.)"""
    shown = simplified(program, env)
    assume(shown is not None)
    expected = dsl.evaluate(program, env).tolist()
    for index, value in enumerate(expected):
        point = _point(env, index)
        if _in_contract(program, point):
            assert _shown_at(shown, program, point) == value, f"{program} shown as {shown} at {point}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("x * x + x * 2.0", "x*(x + 2.0)"), ("sqrt(x) * sqrt(x)", None), ("x - x", None),
     ("(x + 1.0) - 1.0", "x")],  # fmt: skip
)
def test_real_simplifications_are_shown_where_they_agree_with_the_evaluator(text, expected):
    # sqrt(x)·sqrt(x) is x to sympy, NaN to the evaluator for x < 0; x − x is NaN at ±inf.
    env = {"x": np.array([-3.0, -0.5, 0.0, 0.25, 2.0, 1e6, np.inf])}
    assert simplified(dsl.parse_program(text, {"x": REAL}), env) == expected


def test_the_time_limit_gives_back_an_alarm_set_before():
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *args: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        simplified(dsl.parse_program("x + 1", {"x": U8}), U8_POINTS)
        remaining, _ = signal.setitimer(signal.ITIMER_REAL, 0)
        assert 3.0 < remaining <= 5.0 and not fired
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_printing_a_result_past_its_deadline_leaves_the_sympy_forms_out_and_says_so():
    import io

    from rich.console import Console

    import search

    task = dsl.load_task("nguyen1")
    result = search.synthesize(task, max_seconds=30)

    def printed(deadline):
        console = Console(file=io.StringIO(), width=200, highlight=False)
        terminal.print_synthesis(result, console, deadline=deadline)
        return console.file.getvalue()

    on_time, late = printed(None), printed(time.perf_counter())
    assert "x*(x*(x + 1) + 1)" in on_time and "left out" not in on_time
    assert "x*(x*(x + 1) + 1)" not in late and "some sympy forms are left out" in late
    assert str(result.best.program) in late, "the programs themselves are all printed"

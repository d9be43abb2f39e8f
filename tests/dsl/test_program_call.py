"""Programs called on arrays, a mapping or a DataFrame (dsl/tabular.py), and their reprs.

The call is a convenience over the reference evaluator: every form of the points must give
exactly what `dsl.evaluate` gives, and every malformed one a DataError naming the input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import dsl
from dsl import DataError

from .strategies import INPUTS, points, programs

TYPES = {name: type_.name for name, type_ in INPUTS.items()}


def same(actual: np.ndarray, expected: np.ndarray) -> bool:
    """Equal to the bit (NaN payloads, -0.0), in dtype and shape."""
    return actual.dtype == expected.dtype and actual.shape == expected.shape and actual.tobytes() == expected.tobytes()


@settings(max_examples=150, deadline=None)
@given(programs(), points())
def test_a_call_in_every_form_equals_the_reference_evaluator(program, env):
    expected = dsl.evaluate(program, env)
    frame = pd.DataFrame({name: np.asarray(values) for name, values in env.items()})
    assert same(program(env), expected)
    assert same(program(**env), expected)
    assert same(program(frame), expected)
    one_point = {name: values[0] for name, values in env.items()}
    single = program(**one_point)
    assert np.ndim(single) == 0 and same(np.asarray(single), expected[:1].reshape(()))


def test_a_call_reads_inputs_by_name_ignores_other_columns_and_repeats_single_values():
    task = dsl.load_task("mod_add_97")
    program = dsl.parse_program("(a + b) % 97", task)
    frame = pd.DataFrame({"b": [3, 96, 50], "target": [0, 0, 0], "a": [1, 2, 90]})
    np.testing.assert_array_equal(program(frame), [4, 1, 43])
    np.testing.assert_array_equal(program(a=[1, 2, 90], b=5), [6, 7, 95])
    np.testing.assert_array_equal(program({"a": np.array([1.0, 2.0]), "b": [True, False]}), [2, 2])  # integral values
    assert program(a=96, b=2) == 1


def test_a_program_that_reads_no_input_takes_the_number_of_points_from_the_columns_given():
    program = dsl.parse_program("2 + 3", {})
    np.testing.assert_array_equal(program(x=[0.5, 1.5, 2.5]), [5, 5, 5])
    assert program() == 5


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"a": [1, 2]}, "no values given for input `b`"),
        ({"a": [1, 2], "bb": [1, 2]}, "`bb` is given: a misspelling of `b`?"),
        ({"a": [1, 2], "b": [1, 2, 3]}, "differ in length (a: 2, b: 3)"),
        ({"a": [[1, 2]], "b": 1}, "have shape (1, 2)"),
        ({"a": ["1", "2"], "b": 1}, "have dtype <U1"),
        ({"a": [1, 2.5], "b": 1}, "the value 2.5 at position 1 is not an integer"),
        ({"a": [np.nan], "b": 1}, "the value nan at position 0 is not an integer"),
        ({"a": [1e300], "b": 1}, "is not an integer"),
        ({"a": np.array([2**63], dtype=np.uint64), "b": 1}, "beyond 64-bit integers"),
    ],
)
def test_malformed_points_are_refused_with_the_input_named(columns, message):
    program = dsl.parse_program("(a + b) % 97", {"a": dsl.INT, "b": dsl.INT})
    with pytest.raises(DataError) as error:
        program(**columns)
    assert message in str(error.value)


def test_values_outside_a_bool_or_bitvector_input_are_refused():
    program = dsl.parse_program("p and u < 3", {"p": dsl.BOOL, "u": dsl.Type("u8")})
    assert program(p=[1, 0], u=[1, 1]).tolist() == [True, False]
    with pytest.raises(DataError, match="the value 2 at position 0 is not a bool"):
        program(p=[2], u=[1])
    with pytest.raises(DataError, match="the value 256 at position 1 is outside its range"):
        program(p=[True, True], u=[1, 256])


def test_a_2d_array_is_refused_by_a_program_which_does_not_know_its_inputs_order():
    program = dsl.parse_program("a - b", {"a": dsl.INT, "b": dsl.INT})
    with pytest.raises(DataError, match="does not know the order of its inputs"):
        program(np.array([[1, 2], [3, 4]]))


def test_a_name_given_both_in_the_data_and_as_a_keyword_is_refused():
    program = dsl.parse_program("a - b", {"a": dsl.INT, "b": dsl.INT})
    with pytest.raises(DataError, match="input `a` is given twice"):
        program({"a": [1]}, a=[2], b=[0])
    np.testing.assert_array_equal(program({"a": [1]}, b=[3]), [-2])


@settings(max_examples=100, deadline=None)
@given(programs())
def test_the_repr_is_the_canonical_text_and_reads_back(program):
    assert repr(program) == f"Program({str(program)!r})"
    text = eval(repr(program), {"Program": str})  # the repr is a call on the program's text
    assert dsl.parse_program(text, INPUTS) == program


def test_input_types_lists_the_inputs_read_in_order_of_appearance():
    program = dsl.parse_program("x * real(b) + x", {"x": dsl.REAL, "b": dsl.INT, "c": dsl.INT})
    assert program.input_types == {"x": dsl.REAL, "b": dsl.INT}

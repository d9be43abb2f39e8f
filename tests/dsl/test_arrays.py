"""Tasks from arrays, and tasks rebuilt with another split or sample: each is compared with the
task that the task text (with a CSV `data` file of the same rows, or edited by hand) gives."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl import DataError, Task, TaskError


def csv_task(tmp_path, columns, declarations, grammar, extra="", name="arrays"):
    """The task a task file declares for `columns` written to a CSV file."""
    header = list(columns)
    rows = zip(*(columns[key].tolist() for key in header))
    (tmp_path / "rows.csv").write_text(
        ",".join(header) + "\n" + "".join(",".join(_cell(value) for value in row) + "\n" for row in rows))
    inputs = "".join(f"    input {line}\n" for line in declarations[:-1])
    text = (f"task {name} {{\n{inputs}    output {declarations[-1]}\n    grammar {grammar}\n{extra}"
            f'    data "rows.csv"\n}}\n')
    (task,) = dsl.parse_tasks(text, base_dir=tmp_path)
    return task


def _cell(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else repr(value)


def assert_same(task: Task, other: Task) -> None:
    assert (task.name, task.inputs, task.output_type, task.output_range, task.output_name) == (
        other.name, other.inputs, other.output_type, other.output_range, other.output_name)
    assert task.grammar == other.grammar and str(task.grammar) == str(other.grammar)
    assert list(task.points) == list(other.points)
    for key in task.points:
        assert task.points[key].dtype == other.points[key].dtype
        np.testing.assert_array_equal(task.points[key], other.points[key])
    np.testing.assert_array_equal(task.train, other.train)
    np.testing.assert_array_equal(task.target_values, other.target_values)
    np.testing.assert_array_equal(task.clean_values, other.clean_values)
    assert task.target == other.target and task.noise == other.noise
    assert task.fingerprint == other.fingerprint


# --- the same task as from a data file ------------------------------------------------------------


@pytest.mark.parametrize("builtin, grammar", [
    ("mod_add_97", "{ int -> a, b, 1, int + int, int % 97 }"),
    ("nguyen1", "koza"),
    ("even_parity3", "boolean_xor"),
    ("hd09_abs", "bitwise { i8 -> i8 >> 7 }"),
])  # fmt: skip
def test_a_builtin_tasks_columns_give_the_task_of_their_csv_file(tmp_path, builtin, grammar):
    source = dsl.load_task(builtin)
    columns = {**source.points, "out": source.clean_values}
    declarations = [f"{i.name}: {i.type}" + (f" {i.range}" if i.range else "") for i in source.inputs]
    output = f"out: {source.output_type}" + (f" {source.output_range}" if source.output_range else "")
    types = {**{i.name: declarations[k].split(": ")[1] for k, i in enumerate(source.inputs)},
             "out": output.split(": ")[1]}
    expected = csv_task(tmp_path, columns, [*declarations, output], grammar, "    split train 30% seed 7\n")
    built = Task.from_arrays({key: source.points[key] for key in source.points}, source.clean_values,
                             output_name="out", types=types, grammar=grammar, train="30%", seed=7)
    assert_same(built, expected)
    assert built.target is None and built.sampling.startswith(f"{source.n_points} rows")
    as_fraction = Task.from_arrays(dict(source.points), source.clean_values, output_name="out", types=types,
                                   grammar=grammar, train=0.3, seed=7)
    assert_same(as_fraction, expected)


def test_types_are_inferred_from_the_dtypes(tmp_path):
    rng = np.random.default_rng(0)
    columns = {"flag": rng.integers(0, 2, 40).astype(bool), "count": rng.integers(-5, 12, 40),
               "x": rng.normal(size=40)}
    y = np.where(columns["flag"], columns["x"], columns["count"] * 0.5)
    built = Task.from_arrays(columns, y, grammar="real -> x, 1.0, real + real")
    low, high = columns["count"].min(), columns["count"].max()
    expected = csv_task(tmp_path, {**columns, "y": y}, ["flag: bool", f"count: int {low}..{high}", "x: real",
                                                       "y: real"], "{ real -> x, 1.0, real + real }")
    assert_same(built, expected)
    assert built.inputs[1].range == dsl.Range(int(low), int(high))


def test_the_default_grammar_follows_the_output_type():
    x = np.linspace(-1, 1, 9)
    assert Task.from_arrays({"x": x}, x * x).grammar.name == "koza"
    bits = np.array([False, True, True])
    assert Task.from_arrays({"p": bits}, ~bits).grammar.name == "boolean"
    count = np.arange(5)
    integer = Task.from_arrays({"n": count}, count + 1)
    assert integer.grammar.name == "arithmetic" and integer.output_range == dsl.Range(1, 5)


def test_a_2d_array_names_its_columns_x0_x1_or_as_told():
    matrix = np.arange(12, dtype=float).reshape(4, 3)
    task = Task.from_arrays(matrix, matrix.sum(axis=1))
    assert [i.name for i in task.inputs] == ["x0", "x1", "x2"] and task.output_name == "y"
    np.testing.assert_array_equal(task.points["x1"], matrix[:, 1])
    named = Task.from_arrays(matrix, matrix[:, 0], names=["a", "b", "c"], output_name="total")
    assert [i.name for i in named.inputs] == ["a", "b", "c"] and named.output_name == "total"


def test_a_dataframe_gives_the_task_of_its_columns():
    frame = pd.DataFrame({"a": np.arange(6), "b": np.arange(6) % 2 == 0, "z": np.arange(6) * 0.5})
    from_frame = Task.from_arrays(frame, "z", grammar="real -> 1.0, real + real", train=0.5, seed=3)
    from_mapping = Task.from_arrays({"a": np.arange(6), "b": np.arange(6) % 2 == 0}, np.arange(6) * 0.5,
                                    output_name="z", grammar="real -> 1.0, real + real", train=0.5, seed=3)
    assert_same(from_frame, from_mapping)
    with_output = Task.from_arrays(frame[["a", "b"]], frame["z"], output_name="z",
                                   grammar="real -> 1.0, real + real", train=0.5, seed=3)
    assert_same(with_output, from_mapping)


@pytest.mark.parametrize("dtype, values", [("Int64", [1, None, 3]), ("boolean", [True, False, None]),
                                           ("Float64", [0.5, 1.5, None])])
def test_a_missing_value_of_a_nullable_column_is_refused_by_its_row(dtype, values):
    # Int64's NA came through to_numpy as a NaN: the column became real, and an int grammar
    # then reported a type error in the grammar instead of the missing value.
    frame = pd.DataFrame({"n": pd.Series(values, dtype=dtype), "y": [1, 2, 3]})
    with pytest.raises(DataError, match=r"column `n` has a missing value \(NA\) at row [12]"):
        Task.from_arrays(frame, "y", grammar="int -> n, 1, int + int" if dtype == "Int64" else None)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_random_columns_give_the_task_of_their_csv_file(tmp_path_factory, data):
    n = data.draw(st.integers(1, 30))
    kinds = data.draw(st.lists(st.sampled_from(["bool", "int", "real"]), min_size=1, max_size=3))
    seed = data.draw(st.integers(0, 2**32))
    rng = np.random.default_rng(seed)
    make = {"bool": lambda: rng.integers(0, 2, n).astype(bool), "int": lambda: rng.integers(-(2**40), 2**40, n),
            "real": lambda: rng.normal(scale=1e3, size=n)}
    columns = {f"c{k}": make[kind]() for k, kind in enumerate(kinds)}
    y = rng.normal(size=n)
    train = data.draw(st.none() | st.integers(1, n) | st.floats(0.01, 1.0))
    declarations = ["bool" if kind == "bool" else "real" if kind == "real" else
                    f"int {columns[f'c{k}'].min()}..{columns[f'c{k}'].max()}" for k, kind in enumerate(kinds)]
    split = "" if train is None else f"    split train {_exact_percent(train)} seed {seed % 1000}\n"
    folder = tmp_path_factory.mktemp("rows")
    outcomes = []
    for build in (lambda: Task.from_arrays(columns, y, grammar="real -> 1.0, real * real", train=train,
                                           seed=seed % 1000),
                  lambda: csv_task(folder, {**columns, "y": y}, [f"c{k}: {text}" for k, text in
                                   enumerate(declarations)] + ["y: real"], "{ real -> 1.0, real * real }", split)):
        try:
            outcomes.append(build())
        except TaskError as error:  # a share of no point, or more points than there are: both refuse it
            outcomes.append(error.message)
    built, expected = outcomes
    if isinstance(built, str) or isinstance(expected, str):
        assert built == expected
    else:
        assert_same(built, expected)


def _exact_percent(train) -> str:
    if isinstance(train, int):
        return str(train)
    from decimal import Decimal

    return format((Decimal(repr(train)) * 100).normalize(), "f") + "%"


def test_a_fraction_is_the_exact_percentage():
    x = np.arange(100.0)
    # 0.07 × 100 is 7.000000000000001 in floating point; the split takes 7 %, as `split train 7%`
    assert Task.from_arrays({"x": x}, x, train=0.07).n_train == 7
    assert Task.from_arrays({"x": x}, x, train=0.125).sampling.endswith("train 12.5% = 12 (seed 0)")


# --- errors ---------------------------------------------------------------------------------------


def refused(error_type, *args, **kwargs) -> str:
    kwargs.setdefault("grammar", "real -> 1.0, real + real")  # not the point: a grammar for any input
    with pytest.raises(error_type) as caught:
        Task.from_arrays(*args, **kwargs)
    return str(caught.value)


def test_values_that_are_not_of_the_column_type_are_refused():
    message = refused(DataError, {"a": np.array([1.0, math.nan, 2.0])}, np.arange(3.0), types={"a": "int"})
    assert "`nan` in column `a` (row 1) is not a int" in message and "expected an integer" in message
    message = refused(DataError, {"a": np.array([0, 1, 2])}, np.arange(3.0), types={"a": "bool"})
    assert "`2` in column `a` (row 2) is not a bool" in message
    message = refused(DataError, {"a": np.array([1.0, 2.5])}, np.arange(2.0), types={"a": "int"})
    assert "`2.5` in column `a`" in message
    message = refused(DataError, {"a": np.array([1.0, math.inf])}, np.arange(2.0))
    assert "`inf` in column `a` (row 1) is not a finite real" in message
    message = refused(DataError, {"a": np.array(["x", "y"])}, np.arange(2.0))
    assert "column `a` has dtype <U1" in message and "`types=`" in message
    message = refused(DataError, {"a": np.array(["x", "y"], dtype=object)}, np.arange(2.0), types={"a": "real"})
    assert "dtype object, which holds no real" in message
    assert "dtype bool, which holds no real" in refused(DataError, {"a": np.array([True])}, np.arange(1.0),
                                                        types={"a": "real"})


def test_values_outside_the_declared_range_or_type_are_refused():
    assert "12 in column `a` (row 1) is outside its range 0..9" in refused(
        DataError, {"a": np.array([3, 12])}, np.arange(2.0), types={"a": "int 0..9"})
    assert "300 in column `a` (row 0) is outside its range 0..255" in refused(  # an input's range: its type's
        DataError, {"a": np.array([300, 1])}, np.arange(2.0), types={"a": "u8"})
    assert "300 in column `y` (row 0) does not fit type u8" in refused(
        DataError, {"a": np.arange(2.0)}, np.array([300, 1]), types={"y": "u8"}, grammar="u8 -> 1")
    assert "does not fit type int" in refused(DataError, {"a": np.array([2**64 - 1], dtype=np.uint64)},
                                              np.arange(1.0), types={"a": "int"})
    assert "does not fit type int" in refused(DataError, {"a": np.array([1e30])}, np.arange(1.0), types={"a": "int"})
    assert "2.5 in column `y` (row 0) is outside its range -1..1" in refused(
        DataError, {"a": np.arange(2.0)}, np.array([2.5, 0.0]), types={"y": "real -1..1"})


def test_shapes_must_agree():
    assert "column `b` has 2 values, the output `y` 3" in refused(
        DataError, {"a": np.arange(3.0), "b": np.arange(2.0)}, np.arange(3.0))
    assert "column `y` has shape (3, 1)" in refused(DataError, {"a": np.arange(3.0)}, np.zeros((3, 1)))
    assert "an array of shape (3,)" in refused(DataError, np.arange(3.0), np.arange(3.0))
    assert "`names` has 1 names for 2 columns" in refused(DataError, np.zeros((3, 2)), np.arange(3.0), names=["a"])
    assert "the arrays hold no rows" in refused(DataError, {"a": np.zeros(0)}, np.zeros(0))
    assert "declares no input" in refused(TaskError, {}, np.arange(3.0))


def test_names_must_be_names_occam_can_use():
    assert "the column name 'my col' is not a name" in refused(TaskError, {"my col": np.arange(2.0)}, np.arange(2.0))
    assert "the column name 'input' is not a name" in refused(TaskError, {"input": np.arange(2.0)}, np.arange(2.0))
    message = refused(TaskError, {"sin": np.arange(2.0)}, np.arange(2.0))
    assert "`sin` is reserved" in message and "<arrays>:2" in message  # the line of the task text
    assert "the output `x` is also an input" in refused(TaskError, {"x": np.arange(2.0)}, np.arange(2.0),
                                                        output_name="x")
    assert "the task name 'two words' is not a name" in refused(TaskError, {"a": np.arange(2.0)}, np.arange(2.0),
                                                                name="two words")
    assert "`types` names `b`, which is no column" in refused(TaskError, {"a": np.arange(2.0)}, np.arange(2.0),
                                                              types={"b": "real"})
    assert "unknown type `float`" in refused(dsl.OccamTypeError, {"a": np.arange(2.0)}, np.arange(2.0),
                                             types={"a": "float"})
    assert "is not a type as written" in refused(TaskError, {"a": np.arange(2.0)}, np.arange(2.0),
                                                 types={"a": "real }\n target 1"})


def test_grammar_and_split_errors_are_the_task_files():
    assert "unknown built-in grammar `kozza`" in refused(dsl.GrammarError, {"x": np.arange(2.0)}, np.arange(2.0),
                                                         grammar="kozza")
    assert "built-in grammar `boolean` has no rule for real" in refused(
        dsl.GrammarError, {"x": np.arange(2.0)}, np.array([True, False]), grammar=None)
    assert "`split` leaves no training point (of 3)" in refused(TaskError, {"x": np.arange(3.0)}, np.arange(3.0),
                                                               train="10%")
    assert "`split` asks for 5 of 3 points" in refused(TaskError, {"x": np.arange(3.0)}, np.arange(3.0), train=5)
    assert "is not a fraction, a count or a percentage" in refused(TaskError, {"x": np.arange(3.0)}, np.arange(3.0),
                                                                  train=1.5)


# --- another split, another sample ----------------------------------------------------------------

MOD = """task mod {
    input a, b: int 0..12
    output int 0..12
    target (a + b) % 13
    grammar { int -> a, b, 1, int + int, int % 13 }
    SPLIT
    noise label 10% seed 4
}
"""

REAL = """task wave {
    input x: real -1..1
    output real
    target sin(x) + x
    grammar koza
    SAMPLE
}
"""


def from_text(template: str, key: str, line: str) -> Task:
    (task,) = dsl.parse_tasks(template.replace(key, line))
    return task


def test_with_split_is_the_edited_task_text():
    task = from_text(MOD, "SPLIT", "split train 30% seed 1")
    for train, seed, line in [("50%", 2, "split train 50% seed 2"), (0.25, 9, "split train 25% seed 9"),
                              (40, 0, "split train 40 seed 0")]:  # fmt: skip
        assert_same(task.with_split(train, seed=seed), from_text(MOD, "SPLIT", line))
    assert_same(task.with_split(None), from_text(MOD, "SPLIT", ""))
    unsplit = from_text(MOD, "SPLIT", "")
    assert_same(unsplit.with_split("30%", seed=1), task)
    assert task.with_split("50%", seed=2).fingerprint != task.fingerprint
    assert task.fingerprint == from_text(MOD, "SPLIT", "split train 30% seed 1").fingerprint  # unchanged


def test_with_sample_is_the_edited_task_text():
    task = from_text(REAL, "SAMPLE", "sample 20 uniform seed 3")
    assert_same(task.with_sample(seed=8), from_text(REAL, "SAMPLE", "sample 20 uniform seed 8"))
    assert_same(task.with_sample(50, method="grid"), from_text(REAL, "SAMPLE", "sample 50 grid seed 3"))
    assert_same(task.with_sample(5), from_text(REAL, "SAMPLE", "sample 5 uniform seed 3"))
    assert_same(task.with_sample(7, seed=1).with_split("50%", seed=2),
                from_text(REAL, "SAMPLE", "sample 7 uniform seed 1\n    split train 50% seed 2"))
    enumerated = from_text(MOD, "SPLIT", "")
    assert_same(enumerated.with_sample(30, seed=2), from_text(MOD, "SPLIT", "sample 30 uniform seed 2"))


def test_two_columns_of_one_name_are_refused():
    # a 2-D array's `names` with a name twice kept the last column only, silently; a task file
    # refuses `input a, a` ("declared twice")
    assert "`names` names two columns `a`" in refused(TaskError, np.zeros((3, 2)), np.arange(3.0), names=["a", "a"])
    assert "two columns `x1`" in refused(TaskError, np.zeros((3, 3)), np.arange(3.0), names=["x1", "b", "x1"])


@pytest.mark.parametrize(("settings", "message"), [
    ({"count": 2.5}, "the sample count 2.5 is not a whole number"),
    ({"count": "10"}, "the sample count '10' is not a whole number"),
    ({"count": -5}, "the sample count -5 is not a whole number of points >= 1"),
    ({"count": True}, "the sample count True"),
    ({"method": "bogus"}, "the sample method 'bogus' is not a way to draw points"),
    ({"method": ""}, "the sample method '' is not"),
    ({"seed": -1}, "the sample seed -1 is not a non-negative integer"),
    ({"seed": 1.5}, "the sample seed 1.5 is not"),
])  # fmt: skip
def test_with_sample_refuses_what_a_sample_field_cannot_say(settings, message):
    # with_sample builds the field without the parser: `method="bogus"` drew "10 bogus samples",
    # a negative seed or a fractional count reached numpy's own errors
    task = from_text(REAL, "SAMPLE", "sample 20 uniform seed 3")
    with pytest.raises(TaskError, match="expected") as raised:
        task.with_sample(**settings)
    assert message in str(raised.value)


def test_a_rebuilt_task_follows_the_task_files_rules():
    task = from_text(REAL, "SAMPLE", "sample 20 uniform seed 3\n    test 10 uniform seed 1")
    with pytest.raises(TaskError, match="may `split` its points or draw `test` points, not both"):
        task.with_split("50%")
    with pytest.raises(TaskError, match="has no `sample` to change"):
        from_text(MOD, "SPLIT", "").with_sample(seed=3)
    rows = Task.from_arrays({"x": np.arange(4.0)}, np.arange(4.0))
    with pytest.raises(TaskError, match="cannot also `sample` points"):
        rows.with_sample(3)


def test_a_task_from_arrays_takes_another_split_without_its_arrays():
    x = np.arange(40.0)
    task = Task.from_arrays({"x": x}, 2 * x, train="50%", seed=1)
    assert_same(task.with_split(0.25, seed=4), Task.from_arrays({"x": x}, 2 * x, train=0.25, seed=4))


def test_a_csv_task_takes_another_split_without_reading_its_file_again(tmp_path):
    columns = {"x": np.arange(10.0), "y": np.arange(10.0) ** 2}
    task = csv_task(tmp_path, columns, ["x: real", "y: real"], "koza")
    (tmp_path / "rows.csv").unlink()
    resplit = task.with_split("50%", seed=3)
    assert resplit.n_train == 5 and resplit.source == task.source
    np.testing.assert_array_equal(resplit.target_values, columns["y"])

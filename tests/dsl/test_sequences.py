"""Sequence tasks and recurrent programs in the language (dsl/sequence_build.py, dsl/recurrent_check.py).

Parsing, printing ↔ parsing, the checker's errors (with their places), the data a task file
generates (against an independent numpy computation), description lengths worked out by hand,
data files in the long format, determinism, and the loaders' split between the two kinds.
"""

import math
import re
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl import BOOL, INT, OccamError, Recurrence, SequenceTask, State, TaskError, Type, Update
from dsl.recurrent import elias_gamma_bits
from dsl.sequences import split_sequences

from .strategies import U8, expressions

ADD_MOD_3 = """
task Add_Mod_3 {
    doc      "the running sum of the inputs, mod 3 (MIPS)"
    sequence length 10 count 1000 seed 42     # generated sequences
    input    x: int 0..2
    output   int 0..2
    target {
        state  s: int 0..2 = 0
        update s = (s + x) % 3
        output s
    }
    split    train 80% seed 0
    grammar  { int -> x, 0, 1, 2, 3, int + int, int % int }
}
"""

SUM_LAST3 = """
task Sum_Last3 {
    doc      "the sum of the last three inputs (MIPS)"
    sequence length 12 count 500 seed 7
    input    x: int 0..9
    output   int 0..27
    target   { state a: int 0..99 = 0; state b: int 0..99 = 0; output x + a + b; update b = a; update a = x }
    grammar  { int -> x, int + int }
}
"""


def one(text: str, **kwargs) -> SequenceTask:
    (task,) = dsl.parse_any_tasks(textwrap.dedent(text), **kwargs)
    assert isinstance(task, SequenceTask)
    return task


def task_text(target: str = "{ state s: int 0..2 = 0; update s = (s + x) % 3; output s }", *, sequence: str =
              "sequence length 5 count 20 seed 1", inputs: str = "input x: int 0..2", output: str = "output int 0..2",
              extra: str = "") -> str:  # fmt: skip
    return (f"task t {{\n    {sequence}\n    {inputs}\n    {output}\n    target {target}\n{extra}"
            f"    grammar {{ int -> x, 0, 1, 3, int + int, int % int }}\n}}\n")  # fmt: skip


# --- parsing -------------------------------------------------------------------------------------


def test_add_mod_3_parses_into_its_program():
    task = one(ADD_MOD_3)
    assert (task.name, task.length, task.n_sequences, task.n_train) == ("Add_Mod_3", 10, 1000, 800)
    assert task.doc.startswith("the running sum")
    assert task.input_types == {"x": INT} and task.output_type == INT and str(task.output_range) == "0..2"
    target = task.target
    assert target is not None
    assert target.states == (State("s", INT, dsl.Range(0, 2), 0),)
    assert [u.name for u in target.updates] == ["s"] and target.output_at == 1
    assert str(target) == "state s: int 0..2 = 0; update s = (s + x) % 3; output s"
    assert target.lines() == ["state s: int 0..2 = 0", "update s = (s + x) % 3", "output s"]


def test_the_output_is_read_where_it_is_written():
    target = one(SUM_LAST3).target
    assert target is not None and target.output_at == 0  # before both updates: reads the previous state
    assert [u.name for u in target.updates] == ["b", "a"]
    program = dsl.parse_recurrence("state a: int 0..9 = 0\nupdate a = x\noutput a", {"x": INT})
    assert program.output_at == 1


def test_one_line_and_multi_line_programs_are_the_same():
    types = {"x": INT}
    one_line = dsl.parse_recurrence("state s: int 0..2 = 0; update s = (s + x) % 3; output s", types)
    lines = dsl.parse_recurrence("\n  state s: int 0..2 = 0   # comment\n\n update s = (s + x) % 3\n output s\n", types)
    mixed = dsl.parse_recurrence("state s: int 0..2 = 0\nupdate s = (s + x) % 3; output s;", types)
    assert one_line == lines == mixed


def test_a_plain_target_is_a_program_without_state():
    task = one(task_text("(x + 1) % 3"))
    assert task.target == Recurrence((), (), dsl.parse_program("(x + 1) % 3", {"x": INT}), 0)
    np.testing.assert_array_equal(task.target_values, (task.sequences["x"] + 1) % 3)


def test_start_values_negative_and_bool():
    program = dsl.parse_recurrence(
        "state a: int -5..5 = -3; state p: bool = true; state u: u8 = 255; update a = a; update p = not p; "
        "update u = u; output p", {"x": INT})  # fmt: skip
    assert [(s.name, s.type, s.start) for s in program.states] == [("a", INT, -3), ("p", BOOL, 1), ("u", U8, 255)]
    assert str(program).startswith("state a: int -5..5 = -3; state p: bool = true; state u: u8 = 255")
    assert dsl.parse_recurrence(str(program), {"x": INT}) == program


def test_sequence_words_length_and_count_stay_names():
    source = "task t {\n input length, count: int 0..3\n output int\n target length + count\n grammar { int -> 1 }\n}"
    (task,) = dsl.parse_tasks(source)
    assert [i.name for i in task.inputs] == ["length", "count"]


@pytest.mark.parametrize("word", ["sequence", "state", "update"])
def test_the_new_keywords_are_reserved(word):
    source = f"task t {{\n input {word}: int\n output int\n target 1\n grammar {{ int -> 1 }}\n}}"
    with pytest.raises(OccamError, match=word):
        dsl.parse_tasks(source)


# --- printing ↔ parsing -----------------------------------------------------------------------------

SEQ_INPUTS: dict[str, Type] = {"x": INT, "p": BOOL, "u": U8}
STATE_TYPES = (INT, BOOL, U8)


@st.composite
def recurrences(draw) -> Recurrence:
    """A random well-typed recurrent program over SEQ_INPUTS with 0 to 3 states."""
    k = draw(st.integers(0, 3))
    states = []
    for i in range(k):
        type_ = draw(st.sampled_from(STATE_TYPES))
        if type_ == INT:
            low = draw(st.integers(-20, 20))
            range_ = dsl.Range(low, low + draw(st.integers(0, 40)))
            start = draw(st.integers(low, int(range_.high)))
        else:
            range_ = None
            start = draw(st.integers(0, 1 if type_ == BOOL else 255))
        states.append(State(f"h{i}", type_, range_, start))
    scope = SEQ_INPUTS | {s.name: s.type for s in states}
    integer_types = (INT, U8, INT, U8)

    def expression(type_: Type):
        return expressions(type_, draw(st.integers(1, 4)), inputs=scope, integer_types=integer_types, reals=False)

    updates = [Update(s.name, draw(expression(s.type))) for s in states]
    order = draw(st.permutations(range(k)))
    output = draw(expression(draw(st.sampled_from(STATE_TYPES))))
    return Recurrence(tuple(states), tuple(updates[i] for i in order), output, draw(st.integers(0, k)))


@settings(max_examples=200, deadline=None)
@given(recurrences())
def test_print_then_parse_gives_the_same_program(program):
    text = str(program)
    parsed = dsl.parse_recurrence(text, SEQ_INPUTS, expected=program.type)
    assert parsed == program, text
    assert str(parsed) == text
    assert dsl.parse_recurrence("\n".join(program.lines()), SEQ_INPUTS, expected=program.type) == program


@settings(max_examples=50, deadline=None)
@given(recurrences(), st.integers(0, 2**32 - 1))
def test_a_parsed_program_computes_what_the_original_does(program, seed):
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.integers(-3, 4, size=(3, 4)), "p": rng.integers(0, 2, size=(3, 4)).astype(bool),
              "u": rng.integers(0, 256, size=(3, 4)).astype(np.uint8)}  # fmt: skip
    parsed = dsl.parse_recurrence(str(program), SEQ_INPUTS, expected=program.type)
    with np.errstate(all="ignore"):
        a, b = dsl.run_recurrence(program, inputs), dsl.run_recurrence(parsed, inputs)
    np.testing.assert_array_equal(a.outputs, b.outputs)


# --- errors, with their places -----------------------------------------------------------------------


def error_of(text: str, kind: type[OccamError] = OccamError) -> str:
    with pytest.raises(kind) as info:
        dsl.parse_any_tasks(text, source_name="seq.task")
    return str(info.value)


def place(message: str) -> tuple[int, int]:
    line, column = re.match(r"seq\.task:(\d+):(\d+): ", message).groups()  # type: ignore[union-attr]
    return int(line), int(column)


def test_a_start_value_outside_the_range_is_refused_at_it():
    message = error_of(task_text("{\n        state s: int 0..2 = 3\n        update s = s\n        output s\n    }"), TaskError)
    assert "start value 3 of `s` is outside its range 0..2" in message
    assert place(message) == (6, 29)


def test_an_unknown_state_is_named_with_a_suggestion():
    message = error_of(task_text("{\n  state total: int 0..2 = 0\n  update totl = total\n  output total\n}"))
    assert "unknown state `totl`" in message and "did you mean `total`?" in message
    assert place(message) == (7, 10)


def test_a_second_update_is_refused_at_it():
    message = error_of(task_text("{\n  state s: int 0..2 = 0\n  update s = s\n  update s = x\n  output s\n}"), TaskError)
    assert "the state `s` is updated twice (first on line 7)" in message
    assert place(message) == (8, 3)


def test_a_state_never_updated_is_refused_at_its_declaration():
    message = error_of(task_text("{ state s: int 0..2 = 0; state t: int 0..2 = 0; update s = t; output s }"), TaskError)
    assert "the state `t` is never updated" in message and place(message) == (5, 37)


def test_an_update_of_the_wrong_type_is_refused():
    message = error_of(task_text("{ state s: int 0..2 = 0; update s = x == 1; output s }"), dsl.OccamTypeError)
    assert "the update of `s` has type bool, not the state's type, int" in message
    assert place(message) == (5, 48)


def test_an_output_of_the_wrong_type_is_refused():
    message = error_of(task_text("{ state s: bool = false; update s = not s; output s }"), dsl.OccamTypeError)
    assert "the output has type bool, not the output type, int" in message and place(message) == (5, 62)


def test_a_sequence_task_takes_no_noise():
    message = error_of(task_text(extra="    noise label 10% seed 0\n"), TaskError)
    assert "a sequence task takes no `noise`" in message and place(message) == (6, 5)


@pytest.mark.parametrize(("extra", "word"), [("    sample 10 uniform\n", "sample"), ("    test 10 uniform\n", "test")])
def test_a_sequence_task_takes_no_sample_or_test(extra, word):
    assert f"a sequence task takes no `{word}`" in error_of(task_text(extra=extra), TaskError)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{ update s = 1; state s: int 0..2 = 0; output s }", "the state `s` is declared after a statement"),
        ("{ state s: int 0..2 = 0; update s = s; output s; output x }", "a second `output` (the first is on line 5)"),
        ("{ state s: int 0..2 = 0; update s = s }", "the program has no `output`"),
        ("{ state x: int 0..2 = 0; update x = x; output x }", "`x` is an input; a state needs a name of its own"),
        ("{ state s: int 0..2 = 0; state s: int 0..2 = 0; update s = s; output s }", "a second state named `s`"),
        ("{ state pi: int 0..2 = 0; update pi = pi; output pi }", "`pi` is reserved"),
        ("{ update x = x; output x }", "`x` is an input, not a state"),
        ("{ state s: int = 0; update s = s; output s }", "the int state `s` has no range"),
        ("{ state s: real = 0; update s = s; output x }", "the state `s` is real"),
        ("{ state s: u8 0..3 = 0; update s = s; output x }", "a u8 state takes no range"),
        ("{ state s: bool 0..1 = false; update s = s; output x }", "a bool takes no range"),
        ("{ state s: bool = 1; update s = s; output x }", "the bool state `s` starts at `1`"),
        ("{ state s: int 0..2 = true; update s = s; output s }", "the int state `s` starts at `true`"),
        ("{ state s: int 0..2 = 1.5; update s = s; output s }", "the int state `s` starts at `1.5`"),
        ("{ state s: u8 = -1; update s = s; output x }", "the start value -1 of `s` is outside its range 0..255"),
        ("{ state s: int 0..2 = 0 update s = s; output s }", "two statements on one line"),
        ("{ state s: int 2..0 = 0; update s = s; output s }", "the range 2..0 is empty"),
        ("{ state s: nat 0..2 = 0; update s = s; output s }", "unknown type `nat`"),
    ],
)
def test_malformed_programs_are_refused(target, message):
    text = error_of(task_text(target))
    assert message in text
    place(text)  # every error is placed in the file


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence": "sequence"}, "a generated sequence task needs its length and count"),
        ({"sequence": "sequence lenght 5 count 20"}, "unexpected 'lenght'"),
        ({"sequence": "sequence length 0 count 20"}, "0 steps"),
        ({"sequence": "sequence length 100000 count 100000"}, "input values"),
        ({"inputs": "input x: int"}, "the input `x` has no finite range"),
        ({"inputs": "input x: real 0..1"}, "the input `x` has no finite range"),
        ({"output": "output int 0..1"}, "the target's output is 2 at step"),
    ],
)
def test_malformed_sequence_fields_are_refused(kwargs, message):
    assert message in error_of(task_text(**kwargs))


def test_an_empty_program_is_refused_at_its_target():
    message = error_of(task_text("{ }"), TaskError)
    assert "the program has no `output`" in message and place(message) == (5, 5)


def test_a_recurrent_target_needs_a_sequence_field():
    text = "task t {\n input x: int 0..2\n output int\n target { output x }\n grammar { int -> x }\n}"
    with pytest.raises(TaskError, match="recurrent target but no `sequence` field"):
        dsl.parse_any_tasks(text)


def test_parse_recurrence_places_its_errors_in_the_program():
    with pytest.raises(TaskError) as info:
        dsl.parse_recurrence("state s: int 0..2 = 0\nupdate s = s\nupdate s = x\noutput s", {"x": INT})
    assert str(info.value).startswith("<program>:3:1: the state `s` is updated twice")


def test_parse_recurrence_takes_the_tasks_output_type():
    task = one("task t {\n sequence length 2 count 2\n input x: u8\n input n: int 0..3\n output u8\n target x\n"
               " grammar { u8 -> x, 1 }\n}")  # fmt: skip
    program = dsl.parse_recurrence("output 1", task)
    assert program.type == U8
    with pytest.raises(dsl.OccamTypeError, match="the output has type int, not the output type, u8"):
        dsl.parse_recurrence("output n", task)
    assert dsl.parse_recurrence("output n", task, expected=INT).type == INT
    assert dsl.parse_recurrence("output n", {"n": INT}).type == INT  # a mapping: any output type


# --- the data a task generates -----------------------------------------------------------------------


def test_add_mod_3_generates_the_running_sum_mod_3():
    task = one(ADD_MOD_3)
    x = np.random.default_rng(42).integers(0, 3, size=(1000, 10))
    np.testing.assert_array_equal(task.sequences["x"], x)
    np.testing.assert_array_equal(task.target_values, np.cumsum(x, axis=1) % 3)
    np.testing.assert_array_equal(task.train, split_sequences(1000, 0.8, 0))
    assert not task.target_values.flags.writeable and not task.train.flags.writeable


def test_sum_last3_generates_the_sum_of_the_last_three_inputs():
    task = one(SUM_LAST3)
    x = np.random.default_rng(7).integers(0, 10, size=(500, 12))
    padded = np.pad(x, ((0, 0), (2, 0)))
    np.testing.assert_array_equal(task.sequences["x"], x)
    np.testing.assert_array_equal(task.target_values, padded[:, 2:] + padded[:, 1:-1] + padded[:, :-2])
    assert task.n_train == 500  # no split: every sequence trains


def test_the_same_seed_gives_the_same_arrays_and_another_seed_others():
    first, second = one(ADD_MOD_3), one(ADD_MOD_3)
    for name in first.sequences:
        np.testing.assert_array_equal(first.sequences[name], second.sequences[name])
    np.testing.assert_array_equal(first.target_values, second.target_values)
    np.testing.assert_array_equal(first.train, second.train)
    assert first.fingerprint == second.fingerprint
    other = one(ADD_MOD_3.replace("seed 42", "seed 43"))
    assert not np.array_equal(other.sequences["x"], first.sequences["x"]) and other.fingerprint != first.fingerprint
    resplit = one(ADD_MOD_3.replace("split    train 80% seed 0", "split    train 80% seed 1"))
    np.testing.assert_array_equal(resplit.sequences["x"], first.sequences["x"])
    assert not np.array_equal(resplit.train, first.train)


def test_a_split_by_count_holds_out_whole_sequences():
    task = one(ADD_MOD_3.replace("train 80%", "train 250"))
    assert task.n_train == 250 and task.train.shape == (1000,)
    assert "train 250 points = 250 (seed 0)" in task.sampling


# --- description length, by hand --------------------------------------------------------------------


def test_the_description_length_of_add_mod_3():
    """Grammar `int -> x, 0, 1, 2, 3, int + int, int % int` plus the state `s` as a leaf: 8
    alternatives of weight 1, 3 bits a choice; `(s + x) % 3` is 5 choices, `s` 1: 18 bits. The
    declarations: Elias-γ(1 + 1) = 3 bits for one state, log2(2) = 1 for the output's place, 0 for
    the type (the grammar has one), for `int 0..2`: γ(zigzag(0) + 1) = γ(1) = 1 and γ(3) = 3,
    and log2(3) for the start value."""
    task = one(ADD_MOD_3)
    expected = 18 + (3 + 1 + 0 + 1 + 3 + math.log2(3))
    assert task.target.bits(task.grammar) == pytest.approx(expected, abs=1e-12)
    assert task.target.expression_bits(task.grammar) == pytest.approx(18, abs=1e-12)
    assert elias_gamma_bits(2) == 3 and elias_gamma_bits(3) == 3 and elias_gamma_bits(100) == 13


def test_the_description_length_of_sum_last3():
    """Grammar `int -> x, int + int` plus `a` and `b`: 4 alternatives, 2 bits a choice; `x + a + b`
    is 5 choices, `a` and `x` 1 each: 14 bits. Declarations: γ(3) = 3 bits for two states,
    log2(3) for the output's place, and per state (`int 0..99 = 0`) 0 for the type, γ(1) = 1,
    γ(100) = 13 and log2(100) for the start."""
    task = one(SUM_LAST3)
    expected = 14 + 3 + math.log2(3) + 2 * (1 + 13 + math.log2(100))
    assert task.target.bits(task.grammar) == pytest.approx(expected, abs=1e-12)


# --- data files --------------------------------------------------------------------------------------

DATA_TASK = """
task from_file {
    sequence
    data     "seq.csv"
    input    x: int 0..2
    output   y: int 0..2
    split    train 50% seed 3
    grammar  { int -> x, 0, 1, 3, int + int, int % int }
}
"""


def data_task(tmp_path, csv: str, text: str = DATA_TASK) -> SequenceTask:
    (tmp_path / "seq.csv").write_text(textwrap.dedent(csv).lstrip())
    (tmp_path / "seq.task").write_text(text)
    task = dsl.load_any_task(tmp_path / "seq.task")
    assert isinstance(task, SequenceTask)
    return task


def test_a_long_csv_file_gives_the_sequences_in_file_order(tmp_path):
    csv = """
        sequence,x,y,note
        7,1,1,a
        7,2,0,b
        7,2,2,c
        3,0,0,d

        3,1,1,e
        3,0,1,f
        """
    task = data_task(tmp_path, csv)
    np.testing.assert_array_equal(task.sequences["x"], [[1, 2, 2], [0, 1, 0]])
    np.testing.assert_array_equal(task.target_values, [[1, 0, 2], [0, 1, 1]])
    assert task.target is None and task.output_name == "y" and (task.n_sequences, task.length) == (2, 3)
    np.testing.assert_array_equal(task.train, split_sequences(2, 0.5, 3))
    assert "2 sequences of 3 steps from seq.csv" in task.sampling
    program = dsl.parse_recurrence("state s: int 0..2 = 0; update s = (s + x) % 3; output s", task)
    np.testing.assert_array_equal(task.run(program).outputs, task.target_values)  # the running sum mod 3


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("x,y\n1,1\n", "has no column `sequence`"),
        ("sequence,x\n0,1\n", "has no column `y`"),
        ("sequence,x,y\n0,1,1\n1,1,1\n0,2,2\n", "the rows of sequence 0 in seq.csv are not consecutive"),
        ("sequence,x,y\n0,1,1\n0,2,2\n1,1,1\n", "sequence 1 in seq.csv has 1 rows, but sequence 0 has 2"),
        ("sequence,x,y\n0,1,5\n", "5 in column `y` is outside its range 0..2"),
        ("sequence,x,y\nzero,1,1\n", "`zero` in column `sequence` is not a int"),
        ("sequence,x,y\n0,1\n", "row has 2 fields, the header 3"),
        ("sequence,x,y\n", "has a header but no rows"),
        ("", "is empty"),
    ],
)
def test_malformed_data_files_are_refused_clearly(tmp_path, csv, message):
    with pytest.raises(dsl.DataError) as info:
        data_task(tmp_path, csv)
    assert message in str(info.value)


def test_a_data_file_outside_the_folder_is_refused(tmp_path):
    (tmp_path / "seq.task").write_text(DATA_TASK.replace('"seq.csv"', '"../seq.csv"'))
    with pytest.raises(dsl.DataError, match="is outside"):
        dsl.load_any_task(tmp_path / "seq.task")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    sequence\n", "    sequence length 3 count 2\n", "takes its length and count from the file"),
        ("output   y: int 0..2", "output   int 0..2", "must name its output column"),
        ("    split", "    target { output x }\n    split", "both a `target` and a `data` file"),
    ],
)
def test_data_tasks_take_no_length_count_or_target(tmp_path, old, new, message):
    with pytest.raises(TaskError, match=re.escape(message)):
        data_task(tmp_path, "sequence,x,y\n0,1,1\n", DATA_TASK.replace(old, new))


# --- the loaders: scalar and sequence tasks apart ---------------------------------------------------


def test_the_scalar_loaders_refuse_a_sequence_task_and_name_the_others(tmp_path):
    path = tmp_path / "mips.task"
    path.write_text(ADD_MOD_3 + SUM_LAST3)
    for load in (lambda: dsl.parse_tasks(path.read_text()), lambda: dsl.load_tasks(path),
                 lambda: dsl.load_task(path, name="Add_Mod_3")):  # fmt: skip
        with pytest.raises(TaskError, match="is a sequence task") as info:
            load()
        assert "load_any_task" in str(info.value) and "load_sequence_task" in str(info.value)
    assert [t.name for t in dsl.load_any_tasks(path)] == ["Add_Mod_3", "Sum_Last3"]
    assert dsl.load_sequence_task(f"{path}:Sum_Last3").name == "Sum_Last3"
    assert dsl.load_any_task(path, name="Add_Mod_3").length == 10


def test_load_sequence_task_refuses_a_scalar_task():
    assert isinstance(dsl.load_any_task("mod_add_97"), dsl.Task)
    with pytest.raises(TaskError, match="is not a sequence task"):
        dsl.load_sequence_task("mod_add_97")


def test_mixed_files_build_both_kinds_in_order():
    scalar = "task s {\n input a: int 0..3\n output int\n target a\n grammar { int -> a }\n}\n"
    kinds = [type(t).__name__ for t in dsl.parse_any_tasks(scalar + ADD_MOD_3)]
    assert kinds == ["Task", "SequenceTask"]


def test_the_library_lists_tasks_of_both_kinds():
    from dsl.library import builtin_task_kind

    names = dsl.builtin_task_names()
    scalar, sequence = dsl.builtin_task_names("scalar"), dsl.builtin_task_names("sequence")
    assert sorted(scalar + sequence) == sorted(names) and not set(scalar) & set(sequence)
    assert all(builtin_task_kind(name) == "sequence" for name in sequence)
    assert "mod_add_97" in scalar
    with pytest.raises(ValueError, match="kind"):
        dsl.builtin_task_names("recurrent")

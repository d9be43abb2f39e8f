"""Fuzzing the front end: whatever the text, loading it succeeds or raises an `OccamError`.

Strings come from the grammar itself (`hypothesis.extra.lark.from_lark` over
`dsl.syntax._parser()`, for a single program, a whole task file, and task blocks whose fields are
drawn one by one) and from the library's task files with characters and tokens deleted, inserted
and replaced. No other exception may
escape (a Lark error, a numpy warning turned error, a `ValueError`), every error must format,
and whatever loads must print back to itself.

Terminals are drawn from small, meaningful pools (the inputs' names, functions, types, short
numbers) so that a fair share of the strings get past the parser to the type checker and the
task builder; each is followed by a space most of the time, as the grammar's `%ignore WS` is
not generated between tokens otherwise.
"""

import functools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

import dsl
from dsl.primitives import CALL_NAMES
from dsl.syntax import _parser

from .strategies import INPUTS, points

TASK_FILES = sorted((Path(dsl.__file__).parent / "tasks").glob("*.task"))
TASK_TEXTS = [path.read_text(encoding="utf-8") for path in TASK_FILES]


def _spaced(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(strategy, st.sampled_from([" ", " ", " ", "", "\n"])).map("".join)


_NAMES = [*INPUTS, *sorted(CALL_NAMES), "true", "false", "pi", "u8", "i8", "u3", "i2", "u64", "i1", "bool",
          "koza", "boolean", "bitwise", "arithmetic", "boolean_xor", "output", "z", "_", "x1"]  # fmt: skip
_INTS = ["0", "1", "2", "3", "7", "8", "20", "97", "127", "128", "255", "256", "9223372036854775807",
         "9223372036854775808", "0000", "18446744073709551616"]  # fmt: skip


def _terminals(start: str, *, small_numbers: bool) -> dict[str, st.SearchStrategy[str]]:
    """A strategy for each terminal of the grammar from `start` (see the module docstring).
    `small_numbers` (for task files): integers of two digits at most and no u8, so that a domain
    stays small enough to enumerate quickly."""
    terminals, _, _ = _parser().grammar.compile([start], ())
    ints = [text for text in _INTS if not small_numbers or len(text) <= 2]
    names = [name for name in _NAMES if not small_numbers or name not in ("u8", "i8", "u64")]
    types = ["bool", "int", "real", "u3", "i2", "u1"] if small_numbers else ["u8", "i8", "int", "real"]
    special = {
        "NAME": st.one_of(
            st.sampled_from(["a", "b", "x", "p"]),
            st.sampled_from(types),
            st.sampled_from(names),
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True),
        ),
        "INT": st.one_of(
            st.sampled_from(ints),
            st.from_regex(r"[0-9]{1,2}" if small_numbers else r"[0-9]{1,25}", fullmatch=True),
        ),
        "FLOAT": st.one_of(
            st.sampled_from(["0.5", "1.0", "2.5", "0.1", "1e3", "1e-3", "1.5E+2"]),
            st.from_regex(
                r"[0-9]{1,2}\.[0-9]{1,3}"
                if small_numbers
                else r"[0-9]{1,4}(\.[0-9]{1,4})?[eE][+-]?[0-9]{1,4}",
                fullmatch=True,
            ),
        ),
        # no `/`: a data file is read from the test's data directory, never from elsewhere
        "STRING": st.one_of(
            st.sampled_from(['"data.csv"', '"data.csv"', '"missing.csv"', '"a\\nb"', '""']),
            st.from_regex(r'"([^"\\\n/]|\\[nt"\\])*"', fullmatch=True),
        ),
        "COMMENT": st.just("# a comment\n"),
        "WS": st.sampled_from([" ", "\n", "\t"]),
    }
    strategies = {}
    for terminal in terminals:
        if terminal.name in special:
            strategies[terminal.name] = special[terminal.name]
        elif terminal.pattern.type == "str":
            strategies[terminal.name] = st.just(terminal.pattern.value)
        else:  # alternatives of literal strings, such as COMPARE
            strategies[terminal.name] = st.from_regex(terminal.pattern.to_regexp(), fullmatch=True)
    return {name: _spaced(strategy) for name, strategy in strategies.items()}


def grammar_strings(start: str, *, small_numbers: bool, weight: int = 10) -> st.SearchStrategy[str]:
    """Strings derived from the grammar's rule `start`, terminals drawn as `_terminals` says.

    `from_lark` picks each rule's expansions equally often. The expression rules nest thirteen
    levels deep, each recursive half the time, so nearly every draw would grow past Hypothesis'
    size limit and be thrown away (a second or more per example); the shortest expansions of each
    rule of a program are `weight` times likelier here, which keeps the derivations finite. (This
    reaches into `LarkStrategy.nonterminal_strategies`, which hypothesis.extra.lark does not
    document.)
    """
    expression_rules = {rule.origin.name for rule in _parser().grammar.compile(["expr"], ())[1]}
    strategy = from_lark(_parser(), start=start, explicit=_terminals(start, small_numbers=small_numbers))
    lark = strategy.wrapped_strategy
    for name, choices in lark.nonterminal_strategies.items():
        if name not in expression_rules:
            continue
        shortest = min(len(expansion) for expansion in choices.elements)
        weighted = [e for e in choices.elements for _ in range(weight if len(e) == shortest else 1)]
        lark.nonterminal_strategies[name] = st.sampled_from(weighted)
    return lark


def check_error(error: dsl.OccamError) -> None:
    """Every error formats, and says something."""
    text = str(error)
    assert isinstance(text, str) and text.strip()


# --- single programs ---------------------------------------------------------------------------------


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar_strings("expr", small_numbers=False), points(max_size=3))
def test_programs_from_the_grammar_check_or_raise_an_occam_error(text, env):
    try:
        program = dsl.parse_program(text, INPUTS)
    except dsl.OccamError as error:
        check_error(error)
        return
    assert dsl.parse_program(str(program), INPUTS) == program, f"{text!r} prints as {str(program)!r}"
    values = dsl.evaluate(program, env)
    assert values.dtype == program.type.dtype


_PIECES = [*"abxypqusv()+-*/%<>=!&|^~,. 0123456789eE_\n#ü", "**", "//", "<<", ">>", "if(", " and ", " not ",
           "u8("]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_text_is_a_program_or_an_occam_error(text):
    try:
        program = dsl.parse_program(text, INPUTS)
    except dsl.OccamError as error:
        check_error(error)
    else:
        assert dsl.parse_program(str(program), INPUTS) == program


# --- task files -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Where data files are read from: one small, valid CSV file."""
    directory = tmp_path_factory.mktemp("data")
    (directory / "data.csv").write_text("a,b,o\n1,2,3\n4,5,9\n", encoding="utf-8")
    return directory


def load(text: str, data_dir: Path) -> list[dsl.Task | dsl.SequenceTask]:
    """The tasks in `text` (scalar and sequence tasks), or [] after checking the OccamError it raises."""
    try:
        tasks = dsl.parse_any_tasks(text, base_dir=data_dir)
    except dsl.OccamError as error:
        check_error(error)
        return []
    for task in tasks:
        if isinstance(task, dsl.SequenceTask):
            assert len(task.train) == task.n_sequences == len(task.target_values)
            if task.target is not None:
                assert dsl.parse_recurrence(str(task.target), task) == task.target
            continue
        assert len(task.train) == task.n_points == len(task.target_values)
        if task.target is not None:
            assert dsl.parse_program(str(task.target), task, expected=task.output_type) == task.target
    return tasks


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=grammar_strings("start", small_numbers=True))
def test_task_files_from_the_grammar_load_or_raise_an_occam_error(text, data_dir):
    load(text, data_dir)


@functools.cache
def _field(rule: str) -> st.SearchStrategy[str]:
    return grammar_strings(rule, small_numbers=True)


# Coherent tasks, field by field: (inputs, output, target or data, grammar).
_BASES = [
    ("input a, b: int 0..9", "output int", "target a + b", "grammar arithmetic"),
    ("input x: real -1..1", "output real", "target x * x + 1", "grammar koza"),
    ("input p, q: bool", "output bool", "target p and not q", "grammar boolean"),
    ("input a: u3", "output u3", "target a + 1", "grammar bitwise"),
    ("input a: int 0..9", "output o: int", 'data "data.csv"', "grammar arithmetic"),
]
_OPTIONAL = {
    "doc": ['doc "a task"', 'doc "two " "parts"'],
    "split": ["split train 30% seed 1", "split train 5", "split train 0%", "split train 100%",
              "split train 2.5"],
    "sample": ["sample 20 uniform seed 0", "sample 5 grid", "sample 0 uniform", "sample 99 uniform seed 3"],
    "test": ["test 10 uniform seed 1", "test 7 grid range x: -2..2", "test 5 uniform range a: 0..20",
             "test 3 grid range z: 0..1"],
    "noise": ["noise label 10% seed 2", "noise gaussian 0.1", "noise gaussian 5%", "noise label 150%"],
}  # fmt: skip
_RULES = ("input", "output", "target", "grammar")


@st.composite
def task_blocks(draw) -> str:
    """A task block built from a coherent one: each required field kept or, one time in four,
    replaced by one drawn from its rule in the grammar; each optional field (`split`, `sample`,
    `test`, `noise`, `doc`) absent, from a list, or from its rule. Grammar-drawn fields alone
    nearly never give a task that loads; these reach the domains, sampling, splits and noise."""
    fields = []
    for rule, text in zip(_RULES, draw(st.sampled_from(_BASES))):
        replace = draw(st.integers(0, 3)) == 0
        fields.append(draw(_field("data" if text.startswith("data") else rule)) if replace else text)
    for rule, choices in _OPTIONAL.items():
        presence = draw(st.integers(0, 3))
        if presence == 1:
            fields.append(draw(st.sampled_from(choices)))
        elif presence == 2:
            fields.append(draw(_field(rule)))
    fields = draw(st.permutations(fields)) if draw(st.integers(0, 3)) == 0 else fields
    return "task t {\n" + "\n".join(fields) + "\n}\n"


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=task_blocks())
def test_tasks_assembled_from_grammar_fields_load_or_raise_an_occam_error(text, data_dir):
    load(text, data_dir)


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|\S")


@st.composite
def mutated_task_files(draw) -> str:
    """A library task file with one to four characters or tokens deleted, inserted or replaced."""
    text = draw(st.sampled_from(TASK_TEXTS))
    tokens = _TOKEN.findall(text)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        kind = draw(
            st.sampled_from(["delete", "insert", "replace", "delete token", "insert token", "swap token"])
        )
        if kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 3)) :]
        elif kind in ("insert", "replace"):
            inserted = draw(
                st.text(
                    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=3
                )
                | st.sampled_from(list('{}()[],:.-"#\n%') + ["->", "..", "0", "9", "-1"])
            )
            end = position + (len(inserted) if kind == "replace" else 0)
            text = text[:position] + inserted + text[end:]
        else:
            matches = list(_TOKEN.finditer(text))
            if not matches:
                continue
            match = draw(st.sampled_from(matches))
            replacement = "" if kind == "delete token" else draw(st.sampled_from(tokens)) + " "
            if kind == "insert token":
                text = text[: match.start()] + replacement + text[match.start() :]
            else:
                text = text[: match.start()] + replacement + text[match.end() :]
    return text


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=mutated_task_files())
def test_mutated_task_files_load_or_raise_an_occam_error(text, data_dir):
    load(text, data_dir)


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda path: path.name)
def test_library_task_files_load(path, data_dir):
    tasks = load(path.read_text(encoding="utf-8"), data_dir)
    assert tasks, "the unmutated file loads"


@pytest.mark.parametrize(("inputs", "fields", "message"), [
    ("input x: real -1..1", "sample 100000000000 uniform", "more than occam handles"),
    ("input x: real -1..1", "sample 5000 grid\n input y: real 0..1", "more than occam handles"),
    ("input x: real -1..1", "sample 9 uniform\n noise gaussian 1e999", "is too large"),
])  # fmt: skip
def test_huge_counts_and_amounts_are_errors(inputs, fields, message, data_dir):
    """Once escapes found by the fuzzers above (which keep counts and amounts small)."""
    text = f"task t {{\n {inputs}\n output real\n target x\n grammar koza\n {fields}\n}}"
    with pytest.raises(dsl.OccamError, match=message):
        dsl.parse_tasks(text, base_dir=data_dir)


def test_huge_real_ranges_sample_without_overflow(data_dir):
    for method in ("grid", "uniform"):
        text = f"task t {{\n input x: real -1e308..1e308\n output real\n target x\n grammar koza\n sample 3 {method}\n}}"
        (task,) = dsl.parse_tasks(text, base_dir=data_dir)
        assert np.isfinite(task.points["x"]).all() and np.abs(task.points["x"]).max() <= 1e308


@pytest.mark.parametrize(("inputs", "fields"), [
    pytest.param("input a: u63", "sample 5 uniform", id="u63"),
    pytest.param("input a: int -9223372036854775808..9223372036854775807", "sample 5 uniform", id="int64"),
    pytest.param("input a: int 0..9", "test 5 uniform range a: 0..9223372036854775807", id="test"),
])  # fmt: skip
def test_the_widest_integer_domains_sample(inputs, fields, data_dir):
    """Integer domains of 2^63 values or more are sampled, not enumerated: there are points."""
    grammar = "grammar { int -> int(a), 1 }"
    text = f"task t {{\n {inputs}\n output int\n target int(a)\n {grammar}\n {fields}\n}}"
    (task,) = dsl.parse_tasks(text, base_dir=data_dir)
    assert task.n_points >= 5


def test_errors_format_without_a_source_or_a_span():
    for error in (
        dsl.OccamError("plain"),
        dsl.TaskError("x", expected="y", hint="z"),
        dsl.OccamSyntaxError("at the end", span=dsl.errors.Span(3, 1, 99, 100)),
    ):
        check_error(error)

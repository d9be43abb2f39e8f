"""Invalid task files: each gives its own OccamError, at the right place, saying what was expected."""

import pytest

import dsl
from dsl import DataError, GrammarError, OccamSyntaxError, OccamTypeError, TaskError

VALID = """task t {
    input a, b: int 0..9
    output int
    target a + b
    grammar { int -> a, b, int + int }
}"""


def edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


# (why, text, error class, line:column, words the message must contain, words "expected" must contain)
CASES = [
    ("a missing operand", edit("target a + b", "target a +"), OccamSyntaxError, "5:5", "unexpected 'grammar'", "a name"),
    ("an unknown character", edit("a + b", "a $ b"), OccamSyntaxError, "4:14", "unexpected character '$'", "`(`"),
    ("an unclosed block", VALID[:-1], OccamSyntaxError, "5:39", "unexpected end of text", "`}`"),
    ("a chained comparison", edit("target a + b", "target a < b < a").replace("output int", "output bool")
     .replace("grammar { int", "grammar { bool -> a < b\n int"), OccamSyntaxError, "4:18", "do not chain", "a < b and b < c"),
    ("an unknown escape", edit('task t {', 'task t {\n doc "a\\q"'), OccamSyntaxError, "2:6", "unknown escape", '\\"'),
    ("an unknown name", edit("a + b", "a + c"), OccamTypeError, "4:16", "unknown name `c`", "inputs a, b"),
    ("a misspelt keyword", edit("grammar {", "grammer {"), OccamSyntaxError, "5:5", "unexpected 'grammer'",
     "did you mean `grammar`?"),
    ("a misspelt field keyword", edit("target a + b", "targt a + b"), OccamSyntaxError, "4:5", "unexpected 'targt'",
     "did you mean `target`?"),
    ("a misspelt input", edit("a + b", "a + bb"), OccamTypeError, "4:16", "unknown name `bb`", "did you mean `b`?"),
    ("an unknown type", edit("int 0..9", "integer 0..9"), OccamTypeError, "2:17", "unknown type `integer`", "did you mean `int`?"),
    ("a type used as a value", edit("a + b", "a + int"), OccamTypeError, "4:16", "`int` is a type", "an input"),
    ("an ill-typed operator", edit("a + b", "a and b"), OccamTypeError, "4:12", "`and` must be bool, but this is int",
     "type bool"),
    ("integer division by /", edit("a + b", "a / b"), OccamTypeError, "4:12", "`/` must be real", "`//`"),
    ("an unknown function", edit("a + b", "sine(a)"), OccamTypeError, "4:12", "unknown function `sine`", "did you mean `sin`?"),
    ("a wrong argument count", edit("a + b", "min(a)"), OccamTypeError, "4:12", "`min` takes 2 arguments", "2 arguments"),
    ("an oversized literal", edit("a + b", "a + 99999999999999999999"), OccamTypeError, "4:16", "does not fit type int", "9223372036854775807"),
    ("a bit-vector literal out of range", edit("int 0..9", "u8").replace("output int", "output u8")
     .replace("int ->", "u8 ->").replace("int + int", "u8 + u8").replace("a + b", "a + 256"),
     OccamTypeError, "4:16", "256 does not fit type u8", "0..255"),
    ("operands of two types", edit("input a, b: int 0..9", "input a: int 0..9\n    input b: u8").replace("a + b", "a + int(b)")
     .replace("int -> a, b,", "int -> a, int(b),").replace("target a + int(b)", "target a + b"),
     OccamTypeError, "5:12", "different types: int and u8", "operands of one type"),
    ("an output type the target lacks", edit("output int", "output bool").replace("{ int", "{ bool -> a < b\n int"),
     OccamTypeError, "4:12", "type int, but bool", "type bool"),
    ("an empty range", edit("0..9", "9..0"), TaskError, "2:21", "range 9..0 is empty", "low ≤ high"),
    ("a range beyond the type", edit("int 0..9", "u8 0..300").replace("output int", "output u8")
     .replace("int ->", "u8 ->").replace("int + int", "u8 + u8"), TaskError, "2:20", "exceeds type u8", "0..255"),
    ("a ranged bool", edit("int 0..9", "bool 0..1"), TaskError, "2:22", "bool takes no range", "just `bool`"),
    ("no output", edit("    output int\n", ""), TaskError, "1:6", "has no `output`", "output int"),
    ("no grammar", edit("    grammar { int -> a, b, int + int }\n", ""), TaskError, "1:6", "has no `grammar`", "grammar koza"),
    ("neither target nor data", edit("    target a + b\n", ""), TaskError, "1:6", "neither a `target` nor", "data"),
    ("both target and data", edit("target a + b", 'target a + b\n    data "x.csv"'), TaskError, "4:5", "both a `target` and", "either"),
    ("a second output", edit("    output int\n", "    output int\n    output int\n"), TaskError, "4:5", "second `output`", "one `output`"),
    ("a duplicate input", edit("input a, b", "input a, a"), TaskError, "2:14", "`a` is declared twice", "distinct names"),
    ("a reserved input name", edit("input a, b", "input sin, b"), TaskError, "2:11", "`sin` is reserved", "not a keyword"),
    ("no inputs", "task t {\n output int\n target 1\n grammar { int -> 1 }\n}", TaskError, "1:6", "declares no input", "input x"),
    ("an infinite domain", edit("int 0..9", "int"), TaskError, "2:11", "no finite domain", "sample N uniform"),
    ("a real input without sampling", "task t {\n input x: real 0..1\n output real\n target x\n grammar koza\n}",
     TaskError, "2:8", "no finite domain", "sample N uniform"),
    ("a target that is NaN", "task t {\n input x: real -1..1\n output real\n target log(x)\n sample 20 uniform seed 0\n grammar koza\n}",
     TaskError, "4:2", "the target is nan at x = ", "narrow the input ranges"),
    ("a target outside the output range", edit("output int", "output int 0..9"), TaskError, "4:5",
     "outside the output range 0..9 (45 of 100 points)", "defined on the whole domain"),
    ("too many samples", edit("    grammar", "    sample 500 uniform seed 0\n    grammar"), TaskError, "5:5",
     "500 distinct points, but only 100", "at most 100"),
    ("split and test together", edit("    grammar", "    split train 50%\n    test 10 uniform\n    grammar"), TaskError,
     "6:5", "`split` its points or draw `test`", "one of `split` and `test`"),
    ("an empty training set", edit("    grammar", "    split train 0%\n    grammar"), TaskError, "5:5", "no training point", "larger"),
    ("a percentage over 100", edit("    grammar", "    split train 150%\n    grammar"), TaskError, "5:17", "150% is not between", "0% to 100%"),
    ("label noise on a real output", "task t {\n input x: real -1..1\n output real\n target x\n sample 20 uniform seed 0\n"
     " noise label 5%\n grammar koza\n}", TaskError, "6:2", "label noise needs a discrete output", "gaussian"),
    ("gaussian noise on an int output", edit("    grammar", "    noise gaussian 0.1\n    grammar"), TaskError, "5:5",
     "gaussian noise needs a real output", "noise label"),
    ("a test range for an unknown input", "task t {\n input x: real -1..1\n output real\n target x\n sample 20 uniform\n"
     " test 10 uniform range z: 0..1\n grammar koza\n}", TaskError, "6:24", "unknown input `z`", "one of x"),
    ("an unknown built-in grammar", edit("grammar { int -> a, b, int + int }", "grammar kozza"), GrammarError, "5:13",
     "unknown built-in grammar `kozza`", "did you mean `koza`?"),
    ("a built-in grammar without the inputs' type", edit("grammar { int -> a, b, int + int }", "grammar koza"),
     GrammarError, "5:13", "has no rule for int", "inputs of type real"),
    ("an unproductive grammar", edit("int -> a, b, int + int", "int -> int + int, -int"), GrammarError, "5:5",
     "cannot derive any program of the output type int", "needs no int"),
    ("a hole without a rule", edit("int -> a, b, int + int", "int -> a, b, int + int, if(bool, int, int)"),
     GrammarError, "5:39", "needs a bool, but the grammar has no rule for bool", "bool -> …"),
    ("a bare hole", edit("int -> a, b, int + int", "int -> a, int"), GrammarError, "5:25", "derives nothing", "an input"),
    ("a duplicate alternative", edit("int -> a, b, int + int", "int -> a, b, int + int, a"), GrammarError, "5:39",
     "duplicate alternative `a`", "weight"),
    ("a mirrored duplicate", "task t {\n input a, b: int 0..9\n output bool\n target a < b\n"
     " grammar { bool -> int < int, int > int\n int -> a, b }\n}", GrammarError, "5:31",
     "(`int > int` means `int < int`)", "each alternative once"),
    ("a zero weight", edit("b, int", "b [0], int"), GrammarError, "5:28", "weight 0 is not positive", "positive"),
    ("a non-type rule", edit("{ int ->", "{ integer ->"), GrammarError, "5:15", "`integer` is not a type", "did you mean `int`?"),
    ("a missing data file", edit("target a + b", 'data "nope.csv"').replace("output int", "output y: int"), DataError,
     "4:5", "cannot read data file", "CSV file"),
    ("two tasks of one name", VALID + "\n" + VALID, TaskError, "7:6", "a second task named `t`", "unique"),
    # Once Python tracebacks (RecursionError, ValueError, OverflowError) found by fuzzing the loader.
    ("a 340-term sum", edit("a + b", " + ".join(["a"] * 340)), OccamSyntaxError, "4:12",
     "nests 340 operations deep, more than occam's limit of 100", "at most 100 levels"),
    ("250 nested minus signs", edit("a + b", "-" * 250 + "a"), OccamSyntaxError, "4:12", "nests 251 operations deep",
     "at most 100 levels"),
    ("a deep grammar alternative", edit("int + int }", "int + int, " + "abs(" * 120 + "int" + ")" * 120 + " }"),
     OccamSyntaxError, "5:39", "nests 121 operations deep", "at most 100 levels"),
    ("a literal of 5,000 digits", edit("a + b", "a + " + "7" * 5000), OccamSyntaxError, "4:16",
     "an integer of 5,000 digits is too long", "at most 4,300 digits"),
    ("a type name of 5,000 digits", edit("int 0..9", "u" + "1" * 5000), OccamTypeError, "2:17", "unknown type `u111",
     "a bit-vector type uN / iN"),
    ("a literal of 4,000 digits", edit("a + b", "a + " + "7" * 4000), OccamTypeError, "4:16",
     "integer literal 77777777777777777777… (4,000 characters) does not fit type int", "9223372036854775807"),
    ("a range bound of 5,000 digits", edit("0..9", "0.." + "9" * 5000), OccamSyntaxError, "2:24",
     "5,000 digits is too long", "4,300 digits"),
    ("a range bound of 310 digits", edit("0..9", "-" + "9" * 310 + "..9"), TaskError, "2:22",
     "the bound -99999999999999999999… (310 characters) exceeds type int", "-9223372036854775808..9223372036854775807"),
    ("a split of 5,000 digits", edit("    grammar", "    split train " + "3" * 5000 + "\n    grammar"), OccamSyntaxError,
     "5:17", "5,000 digits is too long", "4,300 digits"),
    ("a seed of 5,000 digits", edit("    grammar", "    split train 5 seed " + "3" * 5000 + "\n    grammar"),
     OccamSyntaxError, "5:24", "5,000 digits is too long", "4,300 digits"),
    ("a sample count of 5,000 digits", edit("    grammar", "    sample " + "3" * 5000 + " uniform\n    grammar"),
     OccamSyntaxError, "5:12", "5,000 digits is too long", "4,300 digits"),
    ("a split share with a vast exponent", edit("    grammar", "    split train 1e-999999999%\n    grammar"), TaskError,
     "5:5", "no training point", "larger"),
    ("a split share of 5,000 digits", edit("    grammar", "    split train 5." + "0" * 5000 + "1%\n    grammar"),
     TaskError, "5:17", "has too many digits", "30%"),
    ("label noise on a one-value output", edit("output int", "output int 0..0").replace("a + b", "a * 0")
     .replace("{ int -> a,", "{ int -> 0, a,").replace("    grammar", "    noise label 50%\n    grammar"),
     TaskError, "5:5", "the output 0..0 has one value", "two values or more"),
    ("gaussian noise too large for a double", "task t {\n input x: real -1..1\n output real\n target x\n"
     " sample 20 uniform seed 0\n noise gaussian 1e200\n grammar koza\n}", TaskError, "6:17",
     "squares overflow a double", "below about 1e150"),
]


@pytest.mark.parametrize(("why", "text", "error", "where", "message", "expected"), CASES, ids=[c[0] for c in CASES])
def test_invalid_task_files(why, text, error, where, message, expected):
    with pytest.raises(error) as raised:
        dsl.parse_tasks(text, source_name="bad.task")
    shown = str(raised.value)
    first_line = shown.splitlines()[0]
    assert first_line.startswith(f"bad.task:{where}: "), shown
    assert message in first_line, shown
    assert expected in shown.splitlines()[-1], shown
    line = int(where.split(":")[0])
    assert text.splitlines()[line - 1] in shown, "the offending line is shown"


def test_caret_points_at_the_offending_text():
    with pytest.raises(OccamTypeError) as raised:
        dsl.parse_tasks(VALID.replace("a + b", "a + bb"), source_name="bad.task")
    lines = str(raised.value).splitlines()
    code, caret = lines[1], lines[2]
    assert code[caret.index("^") : caret.index("^") + caret.count("^")] == "bb"


def test_empty_file():
    with pytest.raises(TaskError, match="holds no task"):
        dsl.parse_tasks("# nothing here\n")


def test_every_error_is_an_occam_error():
    for _, _, error, *_ in CASES:
        assert issubclass(error, dsl.OccamError)


def _at_depth(shape: str, depth: int) -> str:
    """A program over `x` whose longest path passes `depth` nodes (`x` alone: 1)."""
    return {
        "sum": " + ".join(["x"] * depth),
        "minus": "-" * (depth - 1) + "x",
        "sin": "sin(" * (depth - 1) + "x" + ")" * (depth - 1),
        "power": " ** ".join(["x"] * depth),
    }[shape]


@pytest.mark.parametrize("shape", ["sum", "minus", "sin", "power"])
def test_programs_at_the_nesting_limit_work_everywhere_and_one_more_level_is_refused(shape):
    """The documented limit is where the recursive walks (type check, printing, LaTeX, sympy,
    description length) are known to work; one level more is refused where it stands."""
    from dsl.grammars import description_length
    from dsl.syntax import MAX_NESTING

    text = _at_depth(shape, MAX_NESTING)
    task_text = ("task t {\n input x: real 0..0.5\n output real\n target " + text
                 + "\n grammar { real -> x, real + real, -real, sin(real), real ** real }\n sample 4 uniform\n}")  # fmt: skip
    (task,) = dsl.parse_tasks(task_text)
    program = task.target
    assert program.depth == MAX_NESTING
    assert dsl.parse_program(str(program), task, expected=program.type) == program
    assert program.to_latex() and program.to_sympy().free_symbols
    assert 0 < description_length(program, task.grammar) < float("inf")
    assert dsl.evaluate(program, task.points).shape == (task.n_points,)
    with pytest.raises(OccamSyntaxError, match=f"nests {MAX_NESTING + 1} operations deep") as raised:
        dsl.parse_program(_at_depth(shape, MAX_NESTING + 1), task)
    assert str(raised.value).startswith("<program>:1:1: ")


@pytest.mark.parametrize("separator", ["\f", "\v", "\u2028", "\u2029", "\x1c", "\x85"])
def test_the_caret_sits_under_the_offending_line_whatever_separates_lines(separator):
    """Only `\n` ends a line, for the parser and for the display alike: a form feed or a
    Unicode line separator inside a line does not shift the line shown."""
    text = VALID.replace("input a, b: int 0..9", f"input a, b: int 0..9 # a {separator} comment").replace("a + b", "a + bb")
    with pytest.raises(OccamTypeError) as raised:
        dsl.parse_tasks(text, source_name="bad.task")
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("bad.task:4:16: unknown name `bb`"), lines
    code, caret = lines[1], lines[2]
    assert code.strip() == "target a + bb"
    assert code[caret.index("^") : caret.index("^") + caret.count("^")] == "bb"


def test_the_caret_line_shows_control_characters_and_keeps_tabs_and_wide_characters_aligned():
    text = VALID.replace("target a + b", "target\t(a + b) + \x0c 0 + bb # 日本")
    text = text.replace('task t {', 'task t {\n    doc "日本語"')
    with pytest.raises(OccamTypeError) as raised:
        dsl.parse_tasks(text, source_name="bad.task")
    code, caret = str(raised.value).splitlines()[1:3]
    assert "\x0c" not in code and "\u240c" in code, "a form feed is shown as ␌, in one column"
    assert caret.index("^") == code.index("bb") and caret[: code.index("\t") + 1].endswith("\t")



def test_wide_characters_before_the_error_widen_the_caret_indent():
    """日 takes two columns on a terminal: the caret under `$` is indented by two per such character."""
    text = VALID.replace("task t {", 'task t {\n    doc "日本" $')
    with pytest.raises(OccamSyntaxError) as raised:
        dsl.parse_tasks(text, source_name="bad.task")
    code, caret = str(raised.value).splitlines()[1:3]
    assert caret.index("^") == code.index("$") + 2


def test_programs_built_in_python_evaluate_and_measure_past_the_recursion_limit():
    """The reference evaluator and `walk`, `size`, `depth` are iterative: a program built
    from the AST classes may nest deeper than any parsed one."""
    import sys

    from dsl.primitives import Op

    depth = 3 * sys.getrecursionlimit()
    program = dsl.Var("x", dsl.INT)
    for _ in range(depth - 1):
        program = dsl.Apply(Op.NEG_I, (program,), dsl.INT)
    program = dsl.Apply(Op.ADD_I, (program, dsl.Lit(1, dsl.INT)), dsl.INT)
    assert program.depth == depth + 1 and program.size == depth + 2
    assert [type(node).__name__ for node in program.walk()][-2:] == ["Var", "Lit"], "parents first, left to right"
    values = dsl.evaluate(program, {"x": [3, 4]})
    assert values.tolist() == [(-1) ** (depth - 1) * 3 + 1, (-1) ** (depth - 1) * 4 + 1]

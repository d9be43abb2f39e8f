"""Description length under probabilistic grammars, counted by hand, and grammar building."""

import math

import pytest

import dsl
from dsl import GrammarError


def task_with(grammar: str, inputs: str = "input a, b: int 0..3", output: str = "int", target: str = "a") -> dsl.Task:
    (task,) = dsl.parse_tasks(f"task t {{\n {inputs}\n output {output}\n target {target}\n grammar {grammar}\n}}")
    return task


def bits(text: str, task: dsl.Task) -> float:
    return dsl.description_length(dsl.parse_program(text, task), task.grammar)


def test_uniform_grammar_counts_log2_of_the_alternatives_per_node():
    task = dsl.load_task("mod_add_97")  # 9 alternatives
    assert bits("(a + b) % 97", task) == pytest.approx(5 * math.log2(9))
    assert bits("a", task) == pytest.approx(math.log2(9))


def test_weights_change_the_cost_of_a_choice():
    task = task_with("{ int -> a, b, int ^ int [2] }")  # total weight 4
    assert bits("a ^ b", task) == pytest.approx(-math.log2(2 / 4) + 2 * -math.log2(1 / 4))


def test_several_rules_add_up():
    task = dsl.load_task("sum_exceeds")  # bool: 4 alternatives, int: 6
    assert bits("z < x + y", task) == pytest.approx(2 + 4 * math.log2(6))
    assert bits("x + y > z", task) == bits("z < x + y", task), "`>` is sugar for a mirrored `<`"


def test_the_shortest_of_several_derivations_counts():
    task = task_with("{ int -> a, 1, a + 1 [0.5], int + int }")  # total 3.5
    via_template = -math.log2(0.5 / 3.5)
    via_plus = 3 * -math.log2(1 / 3.5)
    assert bits("a + 1", task) == pytest.approx(min(via_template, via_plus))
    assert bits("(a + 1) + 1", task) == pytest.approx(
        -math.log2(1 / 3.5) + via_template + -math.log2(1 / 3.5), rel=1e-12
    )


def test_templates_with_several_holes():
    task = task_with("{ int -> a, b, (int + int) % 4 }")
    assert bits("(a + b) % 4", task) == pytest.approx(3 * math.log2(3))
    with pytest.raises(GrammarError, match="cannot be derived"):
        bits("a + b", task)


def test_not_derivable_names_the_culprit_and_the_alternatives():
    task = dsl.load_task("nguyen5")
    with pytest.raises(GrammarError) as raised:
        dsl.description_length(task.target, task.grammar)
    message = str(raised.value)
    assert "`1` (in `sin(x * x) * cos(x) - 1`)" in message and "no alternative of `real` matches it" in message
    assert "`sin(real)`" in message


def test_not_derivable_for_lack_of_a_rule():
    task = dsl.load_task("mod_add_97")
    with pytest.raises(GrammarError, match="no rule for bool"):
        dsl.description_length(dsl.parse_program("a < b", task), task.grammar)


def test_builtin_grammar_gets_the_inputs():
    task = task_with("koza", inputs="input x, y: real 0..1\n sample 5 uniform", output="real", target="x")
    rule = task.grammar.rule(dsl.REAL)
    assert [str(alternative) for alternative in rule.alternatives[:2]] == ["x", "y"]
    assert len(rule.alternatives) == 10 and task.grammar.name == "koza"
    assert bits("sin(x) + y", task) == pytest.approx(4 * math.log2(10))


def test_builtin_grammar_can_be_extended():
    task = task_with("koza { real -> 1 [2] }", inputs="input x: real 0..1\n sample 5 uniform", output="real", target="x")
    rule = task.grammar.rule(dsl.REAL)
    assert str(rule.alternatives[-1]) == "1 [2]"
    assert bits("x + 1", task) == pytest.approx(2 * -math.log2(1 / 11) + -math.log2(2 / 11))


def test_bit_vector_builtin_grammar_uses_the_output_type():
    task = task_with("bitwise", inputs="input x: u8", output="u8", target="x & (x - 1)")
    assert task.grammar.types == (dsl.Type.named("u8"),)
    assert bits("x & (x - 1)", task) > 0


def test_grammar_prints_as_written():
    task = dsl.load_task("average_floor")
    assert str(task.grammar) == (
        "int -> x, y, 1, int + int, int - int, int & int, int | int, int ^ int [2], int >> int, int << int, ~int"
    )


def test_productive_types():
    task = task_with("{ int -> a, int + int\n bool -> not bool, int < int\n real -> sin(real) }")
    assert task.grammar.productive_types() == {dsl.INT, dsl.BOOL}

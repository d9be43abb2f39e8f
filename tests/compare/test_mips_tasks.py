"""The built-in MIPS tasks (dsl/tasks/mips.task) against the catalogue and the independent rules.

Every built-in task's target must reproduce the plain-Python rule of tests/compare/mips_rules.py on
random sequences (the task's own data, re-drawn data under several seeds, and sequences longer than
the catalogue's), its alphabets, length, output range and train share must be the catalogue's, its
doc must cite the paper and the generator, and its grammar must follow the file's one policy.
"""

from __future__ import annotations

import numpy as np
import pytest

import dsl
from compare.benchmarks.mips_catalog import CATALOG, by_name
from compare.benchmarks.mips_tasks import MIPS_UNEXPRESSIBLE, builtin_names, load, regenerate
from dsl.program import Var
from dsl.recurrent import run as run_recurrence
from dsl.sequences import SequenceTask
from tests.compare.mips_rules import RULES, generate

BUILTIN = builtin_names()

# The file's grammar policy (its header): the same operators everywhere, the leaves 0, 1, 2 and the
# inputs, and at most the one constant the rule names.
OPERATORS = {
    "int": ["int + int", "int - int", "int * int", "int // int", "int % int", "abs(int)", "min(int, int)",
            "max(int, int)", "if(bool, int, int)", "int(bool)"],
    "bool": ["int == int", "int < int", "bool and bool"],
}  # fmt: skip
OWN_CONSTANT = {
    **{f"Base_{b}_Addition": b for b in range(3, 8)},
    **{f"Add_Mod_{m}": m for m in range(3, 9)},
    **{f"Div_{d}": d for d in (3, 5, 7)},
    "Dithering": 15,
}


@pytest.fixture(scope="module")
def tasks() -> dict[str, SequenceTask]:
    return {name: load(name) for name in BUILTIN}


def rule_outputs(name: str, sequences: dict[str, np.ndarray]) -> np.ndarray:
    """The independent rule over (N, L) input arrays, inputs in declaration order (x, or a and b)."""
    columns = [sequences[key] for key in (["x"] if "x" in sequences else ["a", "b"])]
    stacked = np.stack(columns, axis=-1).astype(np.int64)
    return np.stack([RULES[name](sequence) for sequence in stacked])


def test_every_catalogue_task_is_built_in_or_listed_as_unexpressible() -> None:
    names = [task.name for task in CATALOG]
    assert sorted(BUILTIN + list(MIPS_UNEXPRESSIBLE)) == sorted(names)
    assert not set(BUILTIN) & set(MIPS_UNEXPRESSIBLE)
    assert all(len(reason) > 20 for reason in MIPS_UNEXPRESSIBLE.values())
    known = set(dsl.builtin_task_names())
    assert set(BUILTIN) <= known
    assert not set(MIPS_UNEXPRESSIBLE) & known
    assert len(BUILTIN) == 61  # all but Newton_Magnetic, whose output is two numbers per step
    with pytest.raises(KeyError, match="two outputs"):
        load("Newton_Magnetic")


def test_the_task_file_holds_exactly_the_built_in_names_in_catalogue_order() -> None:
    with open("dsl/tasks/mips.task", encoding="utf-8") as file:
        declared = [line.split()[1] for line in file if line.startswith("task ")]
    assert declared == BUILTIN


@pytest.mark.parametrize("name", BUILTIN)
def test_fields_are_the_catalogues(name: str, tasks: dict[str, SequenceTask]) -> None:
    task, record = tasks[name], by_name(name)
    assert isinstance(task, SequenceTask) and task.name == name
    expected_inputs = ["x"] if len(record.inputs) == 1 else ["a", "b"]
    assert [input_.name for input_ in task.inputs] == expected_inputs
    for input_, alphabet in zip(task.inputs, record.inputs, strict=True):
        assert input_.type.kind == "int"
        assert input_.range is not None
        assert (int(input_.range.low), int(input_.range.high)) == (alphabet.low, alphabet.high)
        values = task.sequences[input_.name]
        assert values.min() == alphabet.low and values.max() == alphabet.high  # the whole alphabet is drawn
    assert task.output_type.kind == "int" and task.output_range is not None
    assert (int(task.output_range.low), int(task.output_range.high)) == (
        record.output.low,
        record.output.high,
    )
    assert task.target_values.min() >= record.output.low and task.target_values.max() <= record.output.high
    assert task.length == record.length
    assert task.n_sequences == 10_000
    assert task.n_train == int(record.split * 10_000)
    assert "Michaud et al. 2024" in task.doc and "2402.05110" in task.doc
    assert record.source in task.doc and "ejmichaud/neural-verification" in task.doc
    if record.note:
        assert "Note:" in task.doc


@pytest.mark.parametrize("name", BUILTIN)
def test_grammar_follows_the_one_policy_and_derives_the_target(
    name: str, tasks: dict[str, SequenceTask]
) -> None:
    task = tasks[name]
    rules = {
        str(rule.type): [str(alternative) for alternative in rule.alternatives] for rule in task.grammar.rules
    }
    assert set(rules) == {"int", "bool"}
    assert rules["bool"] == OPERATORS["bool"]
    int_rule = task.grammar.rules[0]
    leaves = [str(alternative) for alternative in int_rule.alternatives if not alternative.holes]
    operators = [text for text in rules["int"] if text not in leaves]
    assert operators == OPERATORS["int"]
    inputs = [input_.name for input_ in task.inputs]
    own = [str(OWN_CONSTANT[name])] if name in OWN_CONSTANT else []
    assert leaves == [*inputs, "0", "1", "2", *own]
    assert all(alternative.weight == 1 for rule in task.grammar.rules for alternative in rule.alternatives)
    assert task.target is not None
    bits = task.target.bits(task.grammar)  # raises when the grammar cannot derive the target
    assert 0 < bits < 1000
    assert all(isinstance(a.template, Var) for a in int_rule.alternatives[: len(inputs)])


@pytest.mark.parametrize("name", BUILTIN)
def test_the_built_in_data_is_the_rule_on_the_same_draw(name: str, tasks: dict[str, SequenceTask]) -> None:
    task, record = tasks[name], by_name(name)
    # The same seeded draw as mips_rules.generate: inputs in order, each a (count, length) array.
    inputs, outputs = generate(name, 10_000, record.seed)
    for k, input_ in enumerate(task.inputs):
        assert np.array_equal(task.sequences[input_.name], inputs[:, :, k])
    assert np.array_equal(task.target_values, outputs)


@pytest.mark.parametrize("name", BUILTIN)
def test_target_reproduces_the_rule_on_other_seeds_and_longer_sequences(
    name: str, tasks: dict[str, SequenceTask]
) -> None:
    task, record = tasks[name], by_name(name)
    for seed in (1, 2, 3):
        for length in (record.length, 3 * record.length):
            again = regenerate(task, count=300, length=length, seed=seed)
            assert again.length == length and again.n_sequences == 300
            want = rule_outputs(name, dict(again.sequences))
            assert np.array_equal(again.target_values, want), (seed, length)
    # and the reference evaluator directly, on extreme sequences: every step the alphabet's low, or its high
    assert task.target is not None
    for pick in ("low", "high"):
        sequences = {input_.name: np.full((1, 2 * record.length), getattr(alphabet, pick), dtype=np.int64)
                     for input_, alphabet in zip(task.inputs, record.inputs, strict=True)}  # fmt: skip
        assert np.array_equal(run_recurrence(task.target, sequences).outputs, rule_outputs(name, sequences))


def test_a_wrong_target_is_caught() -> None:
    # The comparison can fail: Add_Mod_4's target against Add_Mod_3's rule disagrees.
    task = load("Add_Mod_4", count=200)
    assert not np.array_equal(task.target_values, rule_outputs("Add_Mod_3", dict(task.sequences)))

"""Sequence tasks for the recurrent synthesizer's tests and benchmark, built in Python (no
task-file parser needed): MIPS rules with the MIPS suite's grammar policy (dsl/tasks/mips.task)."""

from __future__ import annotations

from collections.abc import Sequence

import dsl
from dsl import INT, Input, Range
from dsl.grammars import Grammar
from dsl.recurrent import Recurrence, State, Update
from dsl.sequences import SequenceTask

MIPS_OPERATIONS = ("int + int, int - int, int * int, int // int, int % int, abs(int), min(int, int), max(int, int), "
                   "if(bool, int, int), int(bool)\n bool -> int == int, int < int, bool and bool")  # fmt: skip


def grammar(inputs: Sequence[str], rules: str) -> Grammar:
    """A grammar over int inputs `inputs`: `rules` is the text inside `grammar { }`."""
    declared = ", ".join(inputs)
    text = f"task g {{ input {declared}: int 0..1 output int 0..1 target {inputs[0]} grammar {{ {rules} }} }}"
    return dsl.parse_tasks(text)[0].grammar


def mips_grammar(inputs: Sequence[str], constant: int | None = None) -> Grammar:
    leaves = [*inputs, "0", "1", "2"] + ([str(constant)] if constant is not None else [])
    return grammar(inputs, f"int -> {', '.join(leaves)}, {MIPS_OPERATIONS}")


def recurrence(states: Sequence[tuple[str, int, int, int]], statements: Sequence[tuple[str, str]],
               inputs: Sequence[str]) -> Recurrence:  # fmt: skip
    """`states`: (name, low, high, start); `statements`: ("output", expr) once and
    (state, expr) per update, in order."""
    env = {name: INT for name in inputs} | {state[0]: INT for state in states}
    updates, output, at = [], None, 0
    for target, text in statements:
        if target == "output":
            output, at = dsl.parse_program(text, env), len(updates)
        else:
            updates.append(Update(target, dsl.parse_program(text, env)))
    assert output is not None
    return Recurrence(tuple(State(n, INT, Range(lo, hi), s) for n, lo, hi, s in states), tuple(updates), output, at)


def sequence_task(name: str, inputs: Sequence[tuple[str, int, int]], output: tuple[int, int], target: Recurrence,
                  grammar_: Grammar, *, count: int = 1000, length: int = 10, seed: int = 42,
                  train_share: float = 0.9) -> SequenceTask:  # fmt: skip
    return SequenceTask.generate(name=name, inputs=tuple(Input(n, INT, Range(lo, hi)) for n, lo, hi in inputs),
                                 output_type=INT, output_range=Range(*output), target=target, grammar=grammar_,
                                 length=length, count=count, seed=seed, train_share=train_share)  # fmt: skip


def mips_task(name: str, *, count: int = 1000, length: int = 10) -> SequenceTask:
    """A few MIPS tasks, as dsl/tasks/mips.task writes them."""
    x = [("x", 0, 1)]
    cases = {
        "Add_Mod_3": ([("x", 0, 2)], (0, 2), [("s", 0, 2, 0)], [("s", "(s + x) % 3"), ("output", "s")], 3),
        "Parity_All": (x, (0, 1), [("s", 0, 1, 0)], [("s", "(s + x) % 2"), ("output", "s")], None),
        "Bit_Shift_Right": (x, (0, 1), [("p", 0, 1, 0)], [("output", "p"), ("p", "x")], None),
        "Prev1": ([("x", 0, 9)], (0, 9), [("p", 0, 9, 0)], [("output", "p"), ("p", "x")], None),
        "Parity_Last3": (x, (0, 1), [("p1", 0, 1, 0), ("p2", 0, 1, 0)],
                         [("output", "(x + p1 + p2) % 2"), ("p2", "p1"), ("p1", "x")], None),
        "Binary_Addition": ([("a", 0, 1), ("b", 0, 1)], (0, 1), [("c", 0, 1, 0)],
                            [("output", "(a + b + c) % 2"), ("c", "(a + b + c) // 2")], None),
        "Div_3": (x, (0, 1), [("s", 0, 5, 0)], [("output", "s // 3"), ("s", "2 * (s % 3) + x")], 3),
        "Sum_All": ([("x", 0, 99)], (0, 990), [("s", 0, 990, 0)], [("s", "s + x"), ("output", "s")], None),
    }  # fmt: skip
    inputs, output, states, statements, constant = cases[name]
    names = [n for n, _, _ in inputs]
    target = recurrence(states, statements, names)
    return sequence_task(name, inputs, output, target, mips_grammar(names, constant), count=count, length=length)

"""Four of MIPS's sequence tasks built with dsl.SequenceTask.generate (tests and bench_sequence.py)."""

import dsl
from dsl.recurrent import Recurrence, State, Update
from dsl.sequences import SequenceTask
from dsl.task import Input
from dsl.types import Range

GRAMMAR = "grammar { int -> x, 0, 1, 2, int + int, int % int }"

# name: (inputs with ranges, output range, states (name, range, start), updates, output, output_at)
SPECS = {
    "Add_Mod_3": ({"x": (0, 2)}, (0, 2), [("s", (0, 2), 0)], [("s", "(s + x) % 3")], "s", 1),
    "Parity_Last3": (
        {"x": (0, 1)},
        (0, 1),
        [("a", (0, 1), 0), ("b", (0, 1), 0)],
        [("b", "a"), ("a", "x")],
        "(x + a + b) % 2",
        0,
    ),
    "Sum_Last3": (
        {"x": (0, 99)},
        (0, 297),
        [("a", (0, 99), 0), ("b", (0, 99), 0)],
        [("b", "a"), ("a", "x")],
        "x + a + b",
        0,
    ),
    "Binary_Addition": (
        {"x": (0, 1), "y": (0, 1)},
        (0, 1),
        [("c", (0, 1), 0)],
        [("c", "(x + y + c) // 2")],
        "(x + y + c) % 2",
        0,
    ),
}


def mips_task(name: str, *, count: int = 2000, length: int = 10, seed: int = 42, train_share: float = 0.8,
              ) -> SequenceTask:  # fmt: skip
    inputs, output, states, updates, output_text, output_at = SPECS[name]
    names = {**{k: dsl.INT for k in inputs}, **{s: dsl.INT for s, _, _ in states}}
    leaves = ", ".join(inputs)
    grammar = dsl.parse_tasks(
        f"task g {{ {' '.join(f'input {k}: int {lo}..{hi}' for k, (lo, hi) in inputs.items())} "
        f"output int target 0 grammar {{ int -> {leaves}, 0, 1, 2, int + int, int % int, int // int }} }}"
    )[0].grammar
    program = Recurrence(
        tuple(State(s, dsl.INT, Range(*r), start) for s, r, start in states),
        tuple(Update(s, dsl.parse_program(text, names)) for s, text in updates),
        dsl.parse_program(output_text, names),
        output_at,
    )
    return SequenceTask.generate(
        name=name,
        inputs=tuple(Input(k, dsl.INT, Range(lo, hi)) for k, (lo, hi) in inputs.items()),
        output_type=dsl.INT,
        output_range=Range(*output),
        target=program,
        grammar=grammar,
        length=length,
        count=count,
        seed=seed,
        train_share=train_share,
    )

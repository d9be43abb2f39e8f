"""The MIPS suite as built-in occam sequence tasks: which catalogue tasks are built in, which are not and why.

`dsl/tasks/mips.task` holds the tasks (its header states the data, the split and the grammar policy);
`compare/benchmarks/mips_catalog.py` the facts they were written from. Every one of the catalogue's 62
tasks is either built in under its catalogue name or listed in `MIPS_UNEXPRESSIBLE` with the reason
(tests/compare/test_mips_tasks.py checks both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .mips_catalog import CATALOG, by_name

if TYPE_CHECKING:
    from dsl.sequences import SequenceTask

__all__ = ["MIPS_UNEXPRESSIBLE", "TASK_FILE", "builtin_names", "load", "regenerate"]

TASK_FILE = "dsl/tasks/mips.task"

MIPS_UNEXPRESSIBLE: dict[str, str] = {
    "Newton_Magnetic": "two outputs per step (the x and y of the position); occam's per-step output is one "
    "scalar, and modelling one coordinate would be another task than MIPS's",
}


def builtin_names() -> list[str]:
    """The catalogue's tasks that are built in, in the catalogue's order."""
    return [task.name for task in CATALOG if task.name not in MIPS_UNEXPRESSIBLE]


def load(
    name: str, *, count: int | None = None, length: int | None = None, seed: int | None = None
) -> SequenceTask:
    """The built-in task `name`, or its data re-drawn with another `count`, `length` or `seed`."""
    import dsl

    if name in MIPS_UNEXPRESSIBLE:
        raise KeyError(f"MIPS task {name} is not built in: {MIPS_UNEXPRESSIBLE[name]}")
    by_name(name)  # a KeyError naming the catalogue's tasks for a wrong name
    task = dsl.load_any_task(name)
    if not isinstance(task, dsl.SequenceTask):
        raise TypeError(f"built-in task {name} is not a sequence task")
    if count is None and length is None and seed is None:
        return task
    return regenerate(task, count=count, length=length, seed=seed)


def regenerate(task: SequenceTask, *, count: int | None = None, length: int | None = None,
               seed: int | None = None) -> SequenceTask:  # fmt: skip
    """`task` with its sequences drawn again (its target, grammar, alphabets and the catalogue's
    train share; split seed 0 as in the task file)."""
    from dsl.sequences import SequenceTask

    if task.target is None:
        raise ValueError(f"task {task.name} has no target to generate sequences from")
    record = by_name(task.name)
    return SequenceTask.generate(
        name=task.name, inputs=task.inputs, output_type=task.output_type, output_range=task.output_range,
        target=task.target, grammar=task.grammar, length=length or task.length, count=count or task.n_sequences,
        seed=record.seed if seed is None else seed, train_share=record.split, split_seed=0,
        output_name=task.output_name, doc=task.doc, source=task.source, line=task.line,
    )  # fmt: skip

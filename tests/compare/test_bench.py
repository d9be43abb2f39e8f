"""The pieces of `occam bench synth` that decide what counts as solved."""

import re

import numpy as np
import pytest

import dsl
from compare.benchmarks.bench import NGUYEN, nguyen_with_seed, recovered
from dsl.library import builtin_task_file


def program(text, task):
    return dsl.parse_program(text, task, expected=task.output_type)


def test_a_program_is_recovered_when_it_is_the_target_on_fresh_points():
    nguyen1 = nguyen_with_seed("nguyen1", 3)
    assert recovered(program("x + x * (x + x * x)", nguyen1), nguyen1)
    assert recovered(program("x * (x / x + x * (x / x + x))", nguyen1), nguyen1)  # another form of it
    assert not recovered(program("x + x * x", nguyen1), nguyen1)
    nguyen8 = nguyen_with_seed("nguyen8", 3)  # sqrt(x) on [0, 4]
    assert recovered(program("exp(log(x) * (x / (x + x)))", nguyen8), nguyen8)
    assert not recovered(program("log(x)", nguyen8), nguyen8)


def test_another_seed_moves_only_the_sample():
    zero, one = nguyen_with_seed("nguyen5", 0), nguyen_with_seed("nguyen5", 1)
    assert zero.target == one.target and zero.n_points == one.n_points == 20
    assert not (zero.points["x"] == one.points["x"]).all()


def edited_task_text(name: str, seed: int) -> dsl.Task:
    """The task that editing the built-in task's text to another sample seed gives (what
    nguyen_with_seed did before `Task.with_sample`)."""
    path = builtin_task_file(name)
    block = re.search(rf"task {name} \{{.*?\n\}}", path.read_text(encoding="utf-8"), flags=re.S)
    assert block is not None, name
    changed, edits = re.subn(r"(sample\s+\d+\s+uniform\s+seed\s+)\d+", rf"\g<1>{seed}", block.group(0))
    assert edits == 1, name
    (task,) = dsl.parse_tasks(changed, base_dir=path.parent)
    return task


@pytest.mark.parametrize("name", NGUYEN)
def test_a_seed_gives_the_task_of_the_edited_text(name):
    for seed in (0, 1, 7, 2024):
        task, edited = nguyen_with_seed(name, seed), edited_task_text(name, seed)
        assert task.fingerprint == edited.fingerprint
        assert (task.inputs, task.target, task.grammar, task.sampling) == (
            edited.inputs, edited.target, edited.grammar, edited.sampling)
        for key in (*task.points, "train", "target_values"):
            mine = task.points[key] if key in task.points else getattr(task, key)
            theirs = edited.points[key] if key in edited.points else getattr(edited, key)
            np.testing.assert_array_equal(mine, theirs)

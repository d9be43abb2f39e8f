"""Small tasks for the network tests: each builds in milliseconds and trains in well under a second."""

import pytest

import dsl

MOD_11 = """
task mod_add_11 {
    input   a: int 0..10
    input   b: int 0..10
    output  int 0..10
    target  (a + b) % 11
    grammar { int -> a, b, 0, 1, 11, int + int, int % int }
    split   train 50% seed 0
}
"""


@pytest.fixture(scope="session")
def mod_add_11() -> dsl.Task:
    (task,) = dsl.parse_tasks(MOD_11)
    return task


@pytest.fixture(scope="session")
def majority3() -> dsl.Task:
    return dsl.load_task("majority3")

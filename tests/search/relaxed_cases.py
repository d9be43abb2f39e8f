"""Tasks shared by the relaxed searcher's tests (estimators, repair)."""

import dsl


def task_of(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


PLANTED = """task p { input x: real -1..1  output real  target x * x + x  sample 20 uniform seed 0
    grammar koza }"""
AND_OR = """task b { input a, b, c: bool  output bool  target (a and b) or c  grammar boolean }"""

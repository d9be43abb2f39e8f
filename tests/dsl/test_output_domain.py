"""`Task.output_domain`, the one rule for the set of output values, against the five rules it
replaced (copied here as they stood: dsl/task.py's label noise values, search/mdl.py's and
search/synthesize.py's value counts, compare/analysis/harness.py's chance level, neural/encode.py's
classes; tests/neural/test_encode.py checks the classes themselves). Each must give what it gave before, on every built-in task and on the output types
and ranges that the built-in tasks lack."""

import math

import numpy as np
import pytest

import dsl
from dsl.noise import _output_values
from dsl.sampling import MAX_POINTS


def old_task_values(task):  # dsl/task.py, _output_values
    if task.output_type.kind == "bool":
        return np.array([False, True])
    bounds = task.output_range or (dsl.Range(*task.output_type.bounds) if task.output_type.is_bitvector else None)
    if bounds is None or bounds.size > MAX_POINTS:
        return None
    return np.arange(int(bounds.low), int(bounds.high) + 1, dtype=np.int64)


def old_mdl_count(task, target):  # search/mdl.py, _value_count
    if task.output_type.kind == "bool":
        return 2
    if task.output_range is not None:
        return int(task.output_range.high - task.output_range.low + 1)
    if task.output_type.is_bitvector:
        low, high = task.output_type.bounds
        return high - low + 1
    return int(target.max() - target.min() + 1) if len(target) else 1


def old_synthesize_count(task):  # search/synthesize.py, _value_count
    type_ = task.output_type
    if type_.kind == "bool":
        return 2
    if type_.is_bitvector:
        return 2**type_.width
    return None


def old_harness_values(task):  # compare/analysis/harness.py, memorization_bar
    output = task.output_type
    if task.output_range is not None and output.kind != "real":
        return task.output_range.size
    if output.kind == "bool" or output.is_bitvector:
        return 2**output.width
    return math.inf


def old_encode_classes(task):  # neural/encode.py, _output_encoding: the classes' low and high
    type_ = task.output_type
    if type_.kind == "bool":
        return (0, 1)
    bounds = task.output_range
    if bounds is None and type_.is_bitvector:
        return type_.bounds
    if bounds is not None and type_.kind == "int":
        return (int(bounds.low), int(bounds.high))
    return None


def variants():
    """Outputs of every kind, with and without a range (the rows: 0..9 and their negatives)."""
    rows = np.arange(10)
    for type_text, output in [("bool", rows % 2 == 0), ("int", rows * 7 - 20), ("int -30..50", rows * 7 - 20),
                              ("u8", rows), ("u8 0..9", rows), ("i8", -rows), ("i8 -9..0", -rows), ("u63", rows),
                              ("real", rows * 0.5), ("real -1..5", rows * 0.5)]:  # fmt: skip
        grammar = {"bool": "bool -> true", "real": "real -> 1.0"}.get(type_text.split()[0], f"{type_text.split()[0]} -> 1")
        yield dsl.Task.from_arrays({"x": rows * 1.0}, output, types={"y": type_text}, grammar=grammar,
                                   name=type_text.split()[0])


def every_task():
    return [dsl.load_task(name) for name in dsl.builtin_task_names("scalar")] + list(variants())


@pytest.mark.parametrize("task", every_task(), ids=lambda task: f"{task.name}:{task.output_type}{task.output_range}")
def test_the_domain_gives_what_each_old_rule_gave(task):
    from compare.analysis.harness import memorization_bar
    from search.mdl import _value_count as mdl_count
    from search.synthesize import _value_count as synthesize_count

    domain = task.output_domain
    values, old_values = _output_values(task.output_type, task.output_range), old_task_values(task)
    if task.output_type.kind != "real":  # label noise, the only caller, refuses reals first
        assert (values is None) == (old_values is None)
        if values is not None:
            np.testing.assert_array_equal(values, old_values)
            assert values.dtype == old_values.dtype
    if task.output_type.kind != "real":  # the data code of reals counts no values
        target = task.target_values[task.train]
        assert mdl_count(task, target) == old_mdl_count(task, target)
    assert synthesize_count(task) == old_synthesize_count(task)
    assert (math.inf if domain is None else domain.size) == old_harness_values(task)
    assert memorization_bar(task) == (1 + 1 / old_harness_values(task)) / 2
    assert (None if domain is None else (domain.low, domain.high)) == old_encode_classes(task)


def test_the_domain_of_each_kind():
    by_type = {f"{task.output_type}{task.output_range or ''}": task.output_domain for task in variants()}
    assert by_type == {
        "bool": dsl.Range(0, 1), "int": None, "int-30..50": dsl.Range(-30, 50), "u8": dsl.Range(0, 255),
        "u80..9": dsl.Range(0, 9), "i8": dsl.Range(-128, 127), "i8-9..0": dsl.Range(-9, 0),
        "u63": dsl.Range(0, 2**63 - 1), "real": None, "real-1..5": None,
    }  # fmt: skip
    assert dsl.load_task("mod_add_97").output_domain == dsl.Range(0, 96)

"""A synthesis result in a notebook: `predict` on every form of points, `to_pandas`, reprs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import dsl
import search
from compare.analysis.harness import Comparison, compare
from dsl import DataError
from tests.compare.traces import trace_of

# The order of the inputs matters (a - b): a 2-D array read in the wrong order would show.
SUBTRACT = """task subtract {
    input   a, b: int 0..9
    output  int -9..9
    target  a - b
    grammar { int -> a, b, 0, 1, int + int, int - int }
    split   train 50% seed 0
}"""


@pytest.fixture(scope="module")
def result() -> search.SynthesisResult:
    (task,) = dsl.parse_tasks(SUBTRACT)
    found = search.synthesize(task, posterior_window=8, max_seconds=30)
    assert str(found.best.program) == "a - b"
    return found


def test_predict_takes_a_mapping_a_dataframe_a_2d_array_or_keywords_alike(result):
    env = result.task.env(result.task.test)
    expected = result.posterior.predict(env)  # the posterior's own evaluation, by name
    matrix = np.column_stack([env["a"], env["b"]])  # the task's input order
    for predicted in (result.predict(env), result.predict(pd.DataFrame(env)), result.predict(matrix),
                      result.predict(**env), result.predict(matrix.astype(float))):  # fmt: skip
        np.testing.assert_array_equal(predicted, expected)
    assert result.predict(a=7, b=2) == result.posterior.predict({"a": [7], "b": [2]})[0]


def test_predict_refuses_an_array_of_the_wrong_shape_or_values(result):
    with pytest.raises(DataError, match=r"(?s)shape \(4, 3\).*order a, b"):
        result.predict(np.zeros((4, 3)))
    with pytest.raises(DataError, match="input `a` is int, but the value 0.5"):
        result.predict(np.array([[0.5, 1.0]]))


def test_to_pandas_tables_the_pareto_front_and_the_posterior(result):
    front = result.to_pandas()
    assert list(front.columns) == ["program", "bits", "data_bits", "total_bits", "fits_train", "best"]
    assert front["program"].tolist() == [str(candidate.program) for candidate in result.pareto]
    assert front["bits"].tolist() == [candidate.bits for candidate in result.pareto]
    assert front.loc[front["best"], "program"].tolist() == [str(result.best.program)]
    posterior = result.posterior.to_pandas()
    assert posterior["program"].tolist() == [str(entry.program) for entry in result.posterior.entries]
    assert math.isclose(posterior["weight"].sum(), 1.0)
    np.testing.assert_array_equal(posterior["total_bits"], posterior["bits"] + posterior["data_bits"])


def test_reprs_show_program_text(result):
    best = result.best
    assert repr(best.program) == "Program('a - b')"
    assert repr(best) == f"Candidate('a - b', bits={best.bits:.4g}, data_bits=0, fits_train=True)"
    assert repr(result).startswith("<SynthesisResult subtract: ") and "best 'a - b'" in repr(result)
    assert f"over {len(result.posterior.entries)} functions" in repr(result.posterior)
    np.testing.assert_array_equal(best(a=[5, 1], b=[2, 4]), [3, -3])  # a candidate calls its program


def test_a_comparison_tables_its_snapshots(result):
    task = result.task
    values = dsl.evaluate(result.best.program, task.env())
    comparison = compare(task, result, trace_of(task, [0, 10], [values, values]))
    table = comparison.to_pandas()
    assert len(table) == len(comparison.snapshots) == 2
    assert table["step"].tolist() == [snapshot.step for snapshot in comparison.snapshots]
    assert table["distilled_program"].tolist() == [snapshot.distilled_program for snapshot in comparison.snapshots]
    assert isinstance(Comparison.from_json(comparison.to_json()).to_pandas(), pd.DataFrame)

"""The scikit-learn estimators (search/estimator.py): scikit-learn's own checks, then what a
notebook does with them — fit on arrays or a DataFrame, read the Pareto front, predict, put
them in a Pipeline and under cross-validation."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sympy
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import dsl
from dsl import DataError, SearchError
from search import ProgramClassifier, ProgramRegressor

# Small deterministic budgets: every check fits in well under a second. The classifier needs 26
# bits to reach check_classifiers_train's accuracy (> 0.83) on its three blobs:
# `if(0 < x0, if(x1 < 0, 1, 0), 2)` is 25.2 bits under the default grammar.
CHECKED = [ProgramRegressor(max_bits=12, max_seconds=30), ProgramClassifier(max_bits=26, max_seconds=30)]


# No check is expected to fail: scikit-learn's only skip here is its own check_array_api_input,
# which skips itself unless SCIPY_ARRAY_API is set in the environment.
@parametrize_with_checks(CHECKED)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def nguyen1_data(points: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).uniform(-1, 1, (points, 1))
    return x, x[:, 0] ** 3 + x[:, 0] ** 2 + x[:, 0]


def test_the_regressor_finds_nguyen1_and_shows_its_pareto_front():
    X, y = nguyen1_data()
    model = ProgramRegressor(max_bits=30).fit(X, y)
    assert model.n_features_in_ == 1 and not hasattr(model, "feature_names_in_")
    expected = dsl.parse_program("x0 + x0 * (x0 + x0 * x0)", {"x0": dsl.REAL})
    assert model.program_ == expected and model.result_.certified
    front = model.equations_
    assert list(front.columns) == ["equation", "complexity", "bits", "data_bits", "total_bits", "loss", "fits_train",
                                   "sympy_format", "program", "best"]  # fmt: skip
    assert front["bits"].is_monotonic_increasing and front["loss"].is_monotonic_decreasing
    last = front.iloc[-1]
    assert last["equation"] == str(expected) and last["best"] and last["fits_train"] and last["loss"] < 1e-20
    assert last["complexity"] == expected.size and last["bits"] == model.result_.best.bits
    x0 = sympy.Symbol("x0", real=True)
    assert sympy.simplify(model.sympy() - (x0**3 + x0**2 + x0)) == 0
    assert model.latex() == expected.to_latex() and model.latex(0) == front.iloc[0]["program"].to_latex()
    assert model.latex(-1) == front.iloc[-1]["program"].to_latex()
    rows = len(front)  # a row past the front: the rows there are, not tuple's "tuple index out of range"
    with pytest.raises(IndexError, match=f"no row {rows} in equations_: the Pareto front has {rows} rows"):
        model.sympy(rows)
    X_new = np.linspace(-2, 2, 9)[:, None]
    np.testing.assert_array_equal(model.predict(X_new), dsl.evaluate(expected, {"x0": X_new[:, 0]}))
    assert model.score(X, y) == 1.0


def test_a_dataframe_names_the_inputs_and_its_columns_keep_their_dtypes():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"sepal length (cm)": rng.uniform(0, 1, 30), "if": rng.integers(0, 5, 30)})
    y = frame["sepal length (cm)"].to_numpy() * 2
    model = ProgramRegressor(max_bits=16).fit(frame, y)
    assert list(model.feature_names_in_) == ["sepal length (cm)", "if"]
    assert model.input_names_ == ("sepal_length_cm", "x_if")  # `if` is a reserved word
    assert str(model.program_) == "sepal_length_cm + sepal_length_cm"
    np.testing.assert_array_equal(model.predict(frame), y)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"if": "other"}))


def test_an_integer_column_declared_int_is_searched_as_an_int():
    a = np.arange(12)
    X, y = np.stack([a % 4, a // 4], axis=1), (a % 4) * (a // 4)
    model = ProgramClassifier(types={"x0": "int", "x1": "int"}, grammar="arithmetic", max_bits=20).fit(X, y)
    assert str(model.program_) == "x0 * x1"
    assert model.result_.task.input_types == {"x0": dsl.INT, "x1": dsl.INT}
    np.testing.assert_array_equal(model.predict(X), y)


def test_the_classifier_maps_string_labels_to_a_bool_output_and_back():
    bits = np.array([[p, q] for p in (False, True) for q in (False, True)] * 3)
    labels = np.where(bits[:, 0] & ~bits[:, 1], "yes", "no")
    model = ProgramClassifier(max_bits=20).fit(bits, labels)
    assert list(model.classes_) == ["no", "yes"] and model.result_.task.output_type == dsl.BOOL
    assert str(model.program_) == "x0 and not x1"
    assert model.predict(bits).tolist() == labels.tolist() and model.score(bits, labels) == 1.0


def test_the_classifier_maps_more_than_two_labels_to_class_indices():
    bits = np.array([[p, q] for p in (False, True) for q in (False, True)] * 3)
    labels = np.where(bits[:, 0], 30, np.where(bits[:, 1], 20, 10))
    model = ProgramClassifier(max_bits=20).fit(bits, labels)
    assert list(model.classes_) == [10, 20, 30]
    assert str(model.program_) == "if(x0, 2, if(x1, 1, 0))"
    np.testing.assert_array_equal(model.predict(bits), labels)
    posterior = clone(model).set_params(prediction="posterior").fit(bits, labels)
    np.testing.assert_array_equal(posterior.predict(bits), labels)


def test_in_a_pipeline_the_scaler_puts_the_threshold_at_zero():
    x = np.random.default_rng(2).normal(5.0, 3.0, (40, 2))
    labels = x[:, 0] > x[:, 0].mean()  # after StandardScaler: 0 < x0
    pipeline = Pipeline([("scale", StandardScaler()), ("classify", ProgramClassifier(max_bits=12))]).fit(x, labels)
    assert str(pipeline.named_steps["classify"].program_) == "0 < x0"
    assert pipeline.score(x, labels) == 1.0


def test_cross_validation_refits_on_each_fold():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (40, 2))
    y = X[:, 0] * X[:, 1] + X[:, 0]
    scores = cross_val_score(ProgramRegressor(max_bits=20), X, y, cv=KFold(4, shuffle=True, random_state=0))
    np.testing.assert_allclose(scores, 1.0)


def test_hyper_parameters_are_stored_unchanged_and_checked_in_fit():
    model = ProgramRegressor(grammar="koza", max_bits=None, types={"x0": "real"}, prediction="mean")
    assert model.get_params()["types"] == {"x0": "real"} and model.get_params()["max_bits"] is None
    assert clone(model).get_params() == model.get_params()
    assert model.set_params(max_seconds=5.0).max_seconds == 5.0
    X, y = nguyen1_data()
    with pytest.raises(SearchError, match="prediction = 'mean'"):
        model.fit(X, y)
    with pytest.raises(SearchError, match="types names `z`"):
        ProgramRegressor(types={"z": "int"}, max_bits=10).fit(X, y)


def test_a_fitted_estimator_pickles_and_predicts_the_same():
    X, y = nguyen1_data()
    model = ProgramRegressor(max_bits=20).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    assert again.program_ == model.program_
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_predicting_before_fitting_or_with_other_columns_is_refused():
    with pytest.raises(NotFittedError):
        ProgramRegressor().predict(np.zeros((2, 1)))
    X, y = nguyen1_data()
    model = ProgramRegressor(max_bits=12).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((2, 3)))


def test_import_search_imports_neither_scikit_learn_nor_pandas():
    code = ("import sys, search; print(sorted({'sklearn', 'pandas'} & set(sys.modules)));"
            "search.ProgramRegressor; print('sklearn' in sys.modules)")  # fmt: skip
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded == "[]\nTrue\n"  # and asking for an estimator imports scikit-learn


def test_without_pandas_equations_name_the_extra_to_install(monkeypatch):
    X, y = nguyen1_data()
    model = ProgramRegressor(max_bits=12).fit(X, y)
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    with pytest.raises(DataError, match=r"occam\[pandas\]"):
        model.equations_
    with pytest.raises(DataError, match=r"occam\[pandas\]"):
        model.result_.to_pandas()

"""scikit-learn estimators over occam's synthesis: `ProgramRegressor` and `ProgramClassifier`.

`fit(X, y)` builds a task from the arrays (`Task.from_arrays`: every row trains) and runs
`search.synthesize` on it; `predict` evaluates the best program (or the posterior) on new rows.
The fitted estimator shows what it found as a PySR user expects: `equations_` is the Pareto
front as a DataFrame, `sympy()` and `latex()` the best program (or another row of the front).

Imported only on first use of `search.ProgramRegressor` / `search.ProgramClassifier` (search's
`__getattr__`): `import search` does not import scikit-learn or pandas. Inputs are named after
the DataFrame's columns (made into occam names: `sepal length (cm)` becomes `sepal_length_cm`)
or `x0`, `x1`, ….

Hyper-parameters are the constructor's keyword arguments, stored unchanged (scikit-learn's
rule: `get_params`, `set_params` and `clone` see them as given); they are checked in `fit`.
`max_bits` (and `max_candidates`) are the reproducible budgets: the same data and budget give
the same programs on any machine, so long as `max_seconds` does not run out first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from dsl import Expr, SearchError, Task, Type
from dsl.check import RESERVED_NAMES
from dsl.tabular import is_dataframe, require_pandas

from .result import Candidate, SynthesisResult
from .synthesize import synthesize

__all__ = ["ProgramRegressor", "ProgramClassifier"]

_PREDICTIONS = ("best", "posterior")


class _ProgramEstimator(BaseEstimator):
    """What the regressor and the classifier share: the hyper-parameters, the search, the
    views of the Pareto front. Subclasses say how targets become a task's output and back."""

    def __init__(
        self,
        *,
        grammar: str | None = None,
        max_bits: float | None = 24.0,
        max_candidates: int | None = None,
        max_seconds: float = 60.0,
        max_memory_mb: float = 1024.0,
        types: Mapping[str, str] | None = None,
        posterior_window: float = 10.0,
        pareto_k: int = 3,
        precision: float | None = None,
        prediction: str = "best",
    ) -> None:
        # grammar: a built-in grammar's name or grammar text over the input names (None: the
        #   estimator's default). max_bits, max_candidates: the deterministic budgets (None: none).
        # types: input name -> occam type text ("int", "u8", "bool", "int 0..9") for inputs whose
        #   dtype says otherwise. prediction: "best" (the best program) or "posterior".
        self.grammar = grammar
        self.max_bits = max_bits
        self.max_candidates = max_candidates
        self.max_seconds = max_seconds
        self.max_memory_mb = max_memory_mb
        self.types = types
        self.posterior_window = posterior_window
        self.pareto_k = pareto_k
        self.precision = precision
        self.prediction = prediction

    # --- fitting ---------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> Any:
        """Search for the programs that explain `y` from the columns of `X` (every row trains).
        Sets `result_` (the SynthesisResult), `program_` (the best program), `equations_`,
        `n_features_in_` and, for a DataFrame, `feature_names_in_`. Returns self."""
        columns, y = self._validated(X, y, reset=True)
        output = self._encode_target(y)
        task = Task.from_arrays(columns, output, output_name=_output_name(columns), types=self._input_types(columns),
                                grammar=self._grammar(columns), name=type(self).__name__)  # fmt: skip
        self.result_ = self._search(task)
        if self.result_.best is None:
            raise SearchError(f"the search stopped ({self.result_.status}) before it met any program",
                              expected="a larger budget (max_bits, max_seconds, max_memory_mb)")  # fmt: skip
        self.program_ = self.result_.best.program
        return self

    def _search(self, task: Task) -> SynthesisResult:
        if self.prediction not in _PREDICTIONS:
            raise SearchError(f"prediction = {self.prediction!r}", expected="'best' or 'posterior'")
        max_bits = math.inf if self.max_bits is None else self.max_bits
        # max_candidates is a setting of SearchConfig (issue 10); passed only when set, so that
        # the estimator runs on a synthesize that does not know it yet.
        candidates: dict[str, Any] = {} if self.max_candidates is None else {"max_candidates": self.max_candidates}
        return synthesize(task, max_seconds=self.max_seconds, max_bits=max_bits, max_memory_mb=self.max_memory_mb,
                          posterior_window=self.posterior_window, pareto_k=self.pareto_k, precision=self.precision,
                          **candidates)  # fmt: skip

    def _validated(self, X: Any, y: Any, *, reset: bool) -> tuple[dict[str, np.ndarray], Any]:
        """The columns of X by input name (each keeps its own dtype in a DataFrame) and y,
        checked as scikit-learn checks them (ValueError: no rows, NaN, a 1-D X, …)."""
        frame = X if is_dataframe(X) else None
        if y is None and not reset:
            matrix = validate_data(self, X, reset=False, dtype=None if frame is not None else "numeric")
        else:
            matrix, y = validate_data(self, X, y, reset=reset, dtype=None if frame is not None else "numeric",
                                      y_numeric=self._numeric_target)  # fmt: skip
        if reset:
            names = getattr(self, "feature_names_in_", None)
            self.input_names_ = tuple(_occam_names([str(name) for name in names] if names is not None else None,
                                                   matrix.shape[1]))  # fmt: skip
        if frame is not None:
            arrays = [np.asarray(frame[column].to_numpy()) for column in frame.columns]
        else:
            arrays = [matrix[:, index] for index in range(matrix.shape[1])]
        return dict(zip(self.input_names_, arrays)), y

    def _input_types(self, columns: Mapping[str, np.ndarray]) -> dict[str, str]:
        types = dict(self.types or {})
        unknown = [name for name in types if name not in columns]
        if unknown:
            raise SearchError(f"types names `{unknown[0]}`, which is no input",
                              expected="types for the inputs " + ", ".join(f"`{name}`" for name in columns))  # fmt: skip
        return types

    # --- predicting ------------------------------------------------------------------------

    def _raw_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "result_")
        columns, _ = self._validated(X, None, reset=False)
        if self.prediction == "posterior":
            return np.asarray(self.result_.predict(columns))
        return np.asarray(self.program_(columns))

    # --- what was found --------------------------------------------------------------------

    @property
    def equations_(self) -> Any:
        """The Pareto front as a pandas DataFrame, one row per program, in order of description
        length: equation (canonical text), complexity (nodes), bits, data_bits, total_bits, loss
        (on the training rows: mean squared error, or the error rate of a classifier),
        fits_train, sympy_format, program (callable on a mapping or a DataFrame), best."""
        check_is_fitted(self, "result_")
        pandas = require_pandas(f"{type(self).__name__}.equations_")
        train = self.result_.task.env()
        target = self.result_.task.target_values
        rows = [_equation_row(candidate, self._loss(candidate.program(train), target), candidate == self.result_.best)
                for candidate in self.result_.pareto]  # fmt: skip
        return pandas.DataFrame(rows, columns=list(_EQUATION_COLUMNS))

    def sympy(self, index: int | None = None) -> Any:
        """The best program (or row `index` of `equations_`) as a sympy expression."""
        return self._program(index).to_sympy()

    def latex(self, index: int | None = None) -> str:
        """LaTeX of the best program (or of row `index` of `equations_`), as written."""
        return self._program(index).to_latex()

    def _program(self, index: int | None) -> Expr:
        check_is_fitted(self, "result_")
        if index is None:
            return self.program_
        rows = len(self.result_.pareto)
        if not -rows <= index < rows:  # tuple's own IndexError says only "tuple index out of range"
            raise IndexError(f"there is no row {index} in equations_: the Pareto front has {rows} rows (0..{rows - 1})")
        return self.result_.pareto[index].program

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.max_bits is None and self.max_candidates is None  # only the wall clock then
        return tags

    # --- what subclasses define ------------------------------------------------------------

    _numeric_target = True

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _grammar(self, columns: Mapping[str, np.ndarray]) -> str | None:
        raise NotImplementedError

    @staticmethod
    def _loss(predicted: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError


_EQUATION_COLUMNS = ("equation", "complexity", "bits", "data_bits", "total_bits", "loss", "fits_train",
                     "sympy_format", "program", "best")  # fmt: skip


def _equation_row(candidate: Candidate, loss: float, best: bool) -> tuple:
    program = candidate.program
    return (str(program), program.size, candidate.bits, candidate.data_bits, candidate.total_bits, loss,
            candidate.fits_train, program.to_sympy(), program, best)  # fmt: skip


class ProgramRegressor(RegressorMixin, _ProgramEstimator):
    """The shortest program, under a grammar, that explains real targets (scikit-learn API).

    The output is `real`; the inputs are reals unless `types` says otherwise (an `int` column
    needs a grammar with `int` rules). The default grammar is `koza` (+ − × ÷ sin cos exp log,
    no constants: the Nguyen benchmarks'). `score` is R², as for every scikit-learn regressor.

        >>> model = ProgramRegressor(max_bits=20).fit(X, y)      # doctest: +SKIP
        >>> model.equations_[["equation", "bits", "loss"]]      # doctest: +SKIP
    """

    def _validated(self, X: Any, y: Any, *, reset: bool) -> tuple[dict[str, np.ndarray], Any]:
        columns, y = super()._validated(X, y, reset=reset)
        types = self.types or {}
        columns = {name: values if name in types else values.astype(np.float64) for name, values in columns.items()}
        return columns, y

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)

    def _grammar(self, columns: Mapping[str, np.ndarray]) -> str | None:
        return "koza" if self.grammar is None else self.grammar

    @staticmethod
    def _loss(predicted: np.ndarray, target: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            return float(np.mean((predicted - target) ** 2))

    def predict(self, X: Any) -> np.ndarray:
        """The best program's values (or the posterior's mean) at the rows of X."""
        return self._raw_predict(X).astype(np.float64)


class ProgramClassifier(ClassifierMixin, _ProgramEstimator):
    """The shortest program, under a grammar, that explains discrete labels (scikit-learn API).

    `classes_` holds the labels, sorted. Two classes make the output `bool` (True is
    `classes_[1]`); k > 2 make it `int 0..k-1` (the index into `classes_`; a program value
    outside 0..k-1 predicts the nearest class). The default grammar is written for the inputs'
    types: comparisons of `real -> inputs, 0, 1, + − ×` combined by `not`, `and`, `or` (and, for
    k > 2, `if(bool, int, int)` over the class indices); two classes over bool inputs get `boolean`.
    `score` is accuracy.
    """

    _numeric_target = False

    def _validated(self, X: Any, y: Any, *, reset: bool) -> tuple[dict[str, np.ndarray], Any]:
        columns, y = super()._validated(X, y, reset=reset)
        types = self.types or {}
        columns = {name: values if name in types or values.dtype == np.bool_ else values.astype(np.float64)
                   for name, values in columns.items()}  # fmt: skip
        return columns, y

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        check_classification_targets(y)
        self.classes_, indices = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least two classes in y, found one class: {self.classes_[0]!r}")
        return indices.astype(bool) if len(self.classes_) == 2 else indices.astype(np.int64)

    def _grammar(self, columns: Mapping[str, np.ndarray]) -> str | None:
        if self.grammar is not None:
            return self.grammar
        return _classifier_grammar(columns, len(self.classes_))

    @staticmethod
    def _loss(predicted: np.ndarray, target: np.ndarray) -> float:
        return float(np.mean(predicted != target))

    def predict(self, X: Any) -> np.ndarray:
        """The class of each row of X: the best program's (or the posterior's vote)."""
        values = self._raw_predict(X).astype(np.int64)
        return self.classes_[np.clip(values, 0, len(self.classes_) - 1)]


def _classifier_grammar(columns: Mapping[str, np.ndarray], n_classes: int) -> str | None:
    """Grammar text for a classifier over `columns` (None: the built-in `boolean`)."""
    reals = [name for name, values in columns.items() if values.dtype != np.bool_]
    bools = [name for name, values in columns.items() if values.dtype == np.bool_]
    if not reals and n_classes == 2:
        return None  # Task.from_arrays's default for a bool output: `boolean`
    rules = []
    tests = [*bools, *(["real < real"] if reals else []), "not bool", "bool and bool", "bool or bool"]
    rules.append("bool -> " + ", ".join(tests))
    if reals:
        rules.append("real -> " + ", ".join([*reals, "0", "1", "real + real", "real - real", "real * real"]))
    if n_classes > 2:
        rules.append("int -> " + ", ".join([*(str(index) for index in range(n_classes)), "if(bool, int, int)"]))
    return "\n".join(rules)


def _occam_names(feature_names: list[str] | None, count: int) -> list[str]:
    """Input names for the columns: the feature names made into occam names (letters, digits
    and `_`, not starting with a digit, not a reserved word or type name, distinct), or x0, x1, …"""
    if feature_names is None:
        return [f"x{index}" for index in range(count)]
    names: list[str] = []
    for feature in feature_names:
        name = re.sub(r"[^A-Za-z0-9_]+", "_", feature).strip("_") or "x"
        if name[0].isdigit() or name in RESERVED_NAMES or Type.named(name) is not None:
            name = f"x_{name}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def _output_name(columns: Mapping[str, np.ndarray]) -> str:
    name = "y"
    while name in columns:
        name += "_"
    return name


"""Program synthesis: the shortest programs, under a task's grammar, that explain its data.

    >>> import dsl, search
    >>> result = search.synthesize(dsl.load_task("mod_add_97"))
    >>> str(result.best.program), result.best.bits
    ('(a + b) % 97', 15.84962500721156...)

Enumeration in exact order of description length with observational-equivalence pruning
(enumerate.py, compiled kernels in kernels.py), two-part codes for noisy data (mdl.py), the
posterior over the functions found (result.py); the settings in config.py, the one
enumeration of a grammar's functions that other packages use in tables.py. `ProgramRegressor`
and `ProgramClassifier` (estimator.py) are scikit-learn estimators over `synthesize`, imported on
first use: `import search` imports neither scikit-learn nor pandas.
"""

from typing import TYPE_CHECKING, Any

from .config import SearchConfig
from .mdl import DataCode
from .recurrent import (
    ExceptionFit, ExceptionsResult, RecurrentCandidate, RecurrentConfig, RecurrentPosteriorEntry, RecurrentProgress,
    RecurrentResult, RecurrentStats, synthesize_recurrent, synthesize_with_exceptions,
)  # fmt: skip
from .result import STATUSES, Candidate, Posterior, PosteriorEntry, SearchStats, SynthesisResult
from .synthesize import SEARCHERS, Progress, Searcher, synthesize
from .tables import FunctionEnumeration, FunctionLevel, FunctionTable, enumerate_functions, minimal_programs

__all__ = [
    "STATUSES", "SEARCHERS", "Candidate", "DataCode", "FunctionEnumeration", "FunctionLevel", "FunctionTable",
    "Posterior", "PosteriorEntry", "Progress", "SearchConfig", "SearchStats", "Searcher", "SynthesisResult",
    "enumerate_functions", "minimal_programs", "synthesize",
    "RecurrentCandidate", "RecurrentConfig", "RecurrentPosteriorEntry", "RecurrentProgress", "RecurrentResult",
    "RecurrentStats", "synthesize_recurrent", "ExceptionFit", "ExceptionsResult", "synthesize_with_exceptions",
]  # fmt: skip

# The estimators need scikit-learn: they are imported when first asked for, not with search.
_ESTIMATORS = ("ProgramRegressor", "ProgramClassifier")
__all__ += _ESTIMATORS

if TYPE_CHECKING:
    from .estimator import ProgramClassifier, ProgramRegressor


def __getattr__(name: str) -> Any:
    if name in _ESTIMATORS:
        from . import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'search' has no attribute {name!r}")

"""Program synthesis: the shortest programs, under a task's grammar, that explain its data.

    >>> import dsl, search
    >>> result = search.synthesize(dsl.load_task("mod_add_97"))
    >>> str(result.best.program), result.best.bits
    ('(a + b) % 97', 15.84962500721156...)

Enumeration in exact order of description length with observational-equivalence pruning
(enumerate.py, compiled kernels in kernels.py), two-part codes for noisy data (mdl.py), the
posterior over the functions found (result.py). `ProgramRegressor` and `ProgramClassifier`
(estimator.py) are scikit-learn estimators over `synthesize`, imported on first use: `import
search` imports neither scikit-learn nor pandas.
"""

from typing import TYPE_CHECKING, Any

from .result import Candidate, Posterior, PosteriorEntry, SearchStats, SynthesisResult
from .synthesize import Progress, synthesize
from .tables import FunctionTable, minimal_programs

__all__ = [
    "Candidate", "FunctionTable", "Posterior", "PosteriorEntry", "Progress", "SearchStats", "SynthesisResult",
    "minimal_programs", "synthesize",
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

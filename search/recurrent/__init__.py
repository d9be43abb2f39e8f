"""Recurrent-program synthesis (the state not given): see synthesize.py and docs/search.md."""

from .config import RecurrentConfig
from .exceptions import ExceptionFit, ExceptionsResult, exception_bits, synthesize_with_exceptions
from .result import RecurrentCandidate, RecurrentPosteriorEntry, RecurrentResult, RecurrentStats, SubsearchStats
from .synthesize import RecurrentProgress, state_universe, synthesize_recurrent

__all__ = [
    "ExceptionFit", "ExceptionsResult", "exception_bits", "synthesize_with_exceptions", "RecurrentCandidate", "RecurrentConfig", "RecurrentPosteriorEntry", "RecurrentProgress", "RecurrentResult",
    "RecurrentStats", "SubsearchStats", "state_universe", "synthesize_recurrent",
]  # fmt: skip

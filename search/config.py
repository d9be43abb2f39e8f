"""`SearchConfig`: the validated settings of one synthesis search, in one place.

    >>> import search
    >>> config = search.SearchConfig(max_seconds=5, max_candidates=10**6)
    >>> config.max_seconds, config.method
    (5.0, 'enumerate')
    >>> search.SearchConfig.from_json(config.to_json()) == config
    True

`search.synthesize(task, config)` runs the searcher that `config.method` names; the result
keeps the config (`SynthesisResult.config`, and "config" in its JSON), the CLI takes its
defaults from `SearchConfig()`, and the pipeline's synthesis cache is keyed by `to_json()`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dsl import SearchError

__all__ = ["SearchConfig", "EQUIVALENCES", "check_budgets", "check_number"]

EQUIVALENCES = ("all", "train")  # the points on which two programs count as one function
# relaxed_estimator's values (search/relaxed/estimators.py)
RELAXED_ESTIMATORS = ("softmax", "gumbel", "straight-through", "gumbel-st")
# Settings that may be inf (no limit, an unbounded window): JSON has no inf, to_json writes null.
_UNLIMITED_AS_NULL = ("max_seconds", "max_bits", "posterior_window")


@dataclass(frozen=True)
class SearchConfig:
    """How a synthesis search runs: which searcher, its budgets, what it keeps.

    Frozen and validated on construction (SearchError naming the setting, its value and its
    range). Numbers are stored as floats (ints as given for the integer settings), so two
    configs of the same settings are equal and write the same JSON."""

    method: str = "enumerate"  # the searcher (search.synthesize.SEARCHERS): "enumerate", "relaxed" or "hybrid"
    # Wall clock from the call to its return, loading the compiled kernels included (the search
    # proper gets at least half of it; a first run's compilation is not: docs/search.md); inf:
    # no limit. Machine-dependent: see max_candidates.
    max_seconds: float = 60.0
    max_bits: float = math.inf  # description-length bound; inf: none
    max_memory_mb: float = 4096.0  # everything the search allocates (synthesize.memory_shares); finite
    # The deterministic budget: the search stops at the first budget check at which it has
    # enumerated at least this many candidates (stats.candidates: every program built and
    # evaluated, kept or dropped); None: unbounded. With max_seconds = inf, a run so stopped
    # is the same on every machine (docs/search.md, "Budgets and statuses").
    max_candidates: int | None = None
    equivalence: str = "all"  # 'all' or 'train': the points on which two programs are one function
    posterior_window: float = 10.0  # the posterior: functions up to this many bits above the best
    pareto_k: int = 3  # tied programs kept per length on the Pareto front
    precision: float | None = None  # ε of the real-valued data code (mdl.py); None: its default
    max_posterior: int = 1000  # members of the posterior at most
    inverse: bool = True  # solve the output's last operation against the banks (inverse.py)
    # The relaxed searcher's settings (search/relaxed/, docs/search.md "Relaxed search"); the
    # other searchers ignore them, and to_json leaves them out where they are at their defaults.
    relaxed_depth: int = 4  # the soft derivation tree's depth (root 0, leaves at this level)
    relaxed_restarts: int = 64  # restarts, optimized together as one batch
    relaxed_steps: int = 400  # Adam steps
    relaxed_learning_rate: float = 0.1
    relaxed_bits_weight: float = 0.01  # λ: the objective is data loss + λ · expected bits
    relaxed_temperature: tuple[float, float] = (1.0, 0.1)  # softmax temperature, first → last step (geometric)
    relaxed_seed: int = 0  # the logits' initialization (and the Gumbel noise's)
    # How logits become choice probabilities (search/relaxed/estimators.py): "softmax",
    # "gumbel" (Gumbel-softmax), "straight-through" (one-hot forward, softmax gradient), "gumbel-st".
    relaxed_estimator: str = "softmax"
    # Replace a subtree of each final program that does not fit by a bank program with the values
    # it needs (search/relaxed/repair.py); stats.restarts_repaired counts the repaired restarts.
    relaxed_repair: bool = True
    # The hybrid searcher's settings (search/hybrid.py, docs/search.md "Hybrid search"): a short
    # relaxed run (the relaxed_* settings, but hybrid_steps steps) whose choice probabilities
    # weigh the grammar that orders an enumeration. Left out of to_json at their defaults.
    hybrid_steps: int = 200  # Adam steps of the relaxed phase
    hybrid_mix: float = 0.5  # α in (0, 1): each choice's probability is (1 − α) · prior + α · learned
    hybrid_elite: float = 1.0  # the fraction of restarts (least final loss first) the learned choices average
    hybrid_time_share: float = 0.25  # of max_seconds, at most, for the relaxed phase

    def __post_init__(self) -> None:
        check_budgets(max_seconds=self.max_seconds, max_bits=self.max_bits, max_memory_mb=self.max_memory_mb,
                      max_candidates=self.max_candidates)  # fmt: skip
        check_number("posterior_window", self.posterior_window, lambda value: value >= 0, "a number of bits >= 0")
        if self.precision is not None:
            check_number("precision", self.precision, lambda value: 0 < value < math.inf, "a finite number > 0, or None")
        for name in ("pareto_k", "max_posterior"):
            _check_count(name, getattr(self, name))
        if self.equivalence not in EQUIVALENCES:
            raise SearchError(f"equivalence = {self.equivalence!r} is not a known equivalence",
                              expected="'all' or 'train'")  # fmt: skip
        if not isinstance(self.inverse, bool):
            raise SearchError(f"inverse = {self.inverse!r} is not a boolean", expected="True or False")
        _check_method(self.method)
        _check_relaxed(self)
        _check_hybrid(self)
        for name in ("max_seconds", "max_bits", "max_memory_mb", "posterior_window", "precision"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))

    def replace(self, **changes: Any) -> SearchConfig:
        """A copy with `changes` (validated); TypeError naming a setting that does not exist."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"unknown search setting(s) {', '.join(map(repr, unknown))}; "
                            f"the settings are {', '.join(self.field_names())}")  # fmt: skip
        return dataclasses.replace(self, **changes)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    def to_json(self) -> dict[str, Any]:
        """Every setting by name, in field order; strict JSON (inf, an unlimited time or bits
        budget or window, is written null)."""
        data = {name: getattr(self, name) for name in self.field_names()
                if not (name.startswith(("relaxed_", "hybrid_")) and getattr(self, name) == _DEFAULTS[name])}  # fmt: skip
        if "relaxed_temperature" in data:
            data["relaxed_temperature"] = list(data["relaxed_temperature"])
        for name in _UNLIMITED_AS_NULL:
            if data[name] == math.inf:
                data[name] = None
        return data

    @classmethod
    def from_json(cls, data: Any, *, source: str = "the search settings") -> SearchConfig:
        """The config `to_json` wrote. A setting left out takes its default; SearchError, naming
        `source`, for anything else than such an object: an unknown setting, a value out of
        range."""
        if not isinstance(data, Mapping):
            raise SearchError(f"{source} = {data!r:.60} is not an object", expected="the settings by name")
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise SearchError(f"{source} has unknown setting(s) {', '.join(map(repr, unknown))}",
                              expected=f"settings among {', '.join(cls.field_names())}")  # fmt: skip
        settings = dict(data)
        for name in _UNLIMITED_AS_NULL:
            if name in settings and settings[name] is None:
                settings[name] = math.inf
        if isinstance(settings.get("relaxed_temperature"), list):
            settings["relaxed_temperature"] = tuple(settings["relaxed_temperature"])
        return cls(**settings)


_DEFAULTS = {field.name: field.default for field in dataclasses.fields(SearchConfig)}


def check_budgets(*, max_seconds: float, max_bits: float, max_memory_mb: float, max_candidates: int | None = None) -> None:
    """Raise SearchError unless the time and bits budgets are > 0 (inf: no limit), the memory
    budget is a finite number > 0 (the tables reserve it up front) and `max_candidates` is
    None or an integer >= 1. NaN is refused everywhere: it compares false with everything,
    so a NaN budget would never stop anything."""
    positive = "a number > 0 (inf: no limit)"
    check_number("max_seconds", max_seconds, lambda value: value > 0, positive)
    check_number("max_bits", max_bits, lambda value: value > 0, positive)
    check_number("max_memory_mb", max_memory_mb, lambda value: 0 < value < math.inf, "a finite number of MB > 0")
    if max_candidates is not None:
        _check_count("max_candidates", max_candidates, expected="an integer >= 1, or None (no limit)")


def check_number(name: str, value: Any, in_range: Callable[[float], bool], expected: str) -> None:
    """Raise SearchError, with the value and `expected`, unless `value` is a number (not a
    bool, not NaN) for which `in_range` holds."""
    if isinstance(value, bool):
        raise SearchError(f"{name} = {value!r} is not a number", expected=expected)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SearchError(f"{name} = {value!r} is not a number", expected=expected) from None
    if math.isnan(number) or not in_range(number):
        raise SearchError(f"{name} = {value!r} is out of range", expected=expected)


def _check_relaxed(config: SearchConfig) -> None:
    """The relaxed searcher's settings in range (normalized to floats where they are numbers)."""
    if isinstance(config.relaxed_depth, bool) or not isinstance(config.relaxed_depth, int) or config.relaxed_depth < 0:
        raise SearchError(f"relaxed_depth = {config.relaxed_depth!r} is out of range", expected="an integer >= 0")
    for name in ("relaxed_restarts", "relaxed_steps"):
        _check_count(name, getattr(config, name))
    if isinstance(config.relaxed_seed, bool) or not isinstance(config.relaxed_seed, int) or config.relaxed_seed < 0:
        raise SearchError(f"relaxed_seed = {config.relaxed_seed!r} is out of range", expected="an integer >= 0")
    if config.relaxed_estimator not in RELAXED_ESTIMATORS:
        raise SearchError(f"relaxed_estimator = {config.relaxed_estimator!r} is not a known estimator",
                          expected=f"one of {', '.join(map(repr, RELAXED_ESTIMATORS))}")  # fmt: skip
    if not isinstance(config.relaxed_repair, bool):
        raise SearchError(f"relaxed_repair = {config.relaxed_repair!r} is not a boolean", expected="True or False")
    finite_positive = "a finite number > 0"
    check_number("relaxed_learning_rate", config.relaxed_learning_rate, lambda v: 0 < v < math.inf, finite_positive)
    check_number("relaxed_bits_weight", config.relaxed_bits_weight, lambda v: 0 <= v < math.inf, "a finite number >= 0")
    temperature = config.relaxed_temperature
    if not isinstance(temperature, tuple) or len(temperature) != 2:
        raise SearchError(f"relaxed_temperature = {temperature!r} is not a pair",
                          expected="(first, last): the softmax temperature at the first and the last step")  # fmt: skip
    for value in temperature:
        check_number("relaxed_temperature", value, lambda v: 0 < v < math.inf, "two finite numbers > 0")
    object.__setattr__(config, "relaxed_learning_rate", float(config.relaxed_learning_rate))
    object.__setattr__(config, "relaxed_bits_weight", float(config.relaxed_bits_weight))
    object.__setattr__(config, "relaxed_temperature", tuple(float(value) for value in temperature))


def _check_hybrid(config: SearchConfig) -> None:
    """The hybrid searcher's settings in range (normalized to floats)."""
    _check_count("hybrid_steps", config.hybrid_steps)
    check_number("hybrid_mix", config.hybrid_mix, lambda v: 0 < v < 1,
                 "a number in (0, 1): 1 would give choices the relaxation never took probability 0")  # fmt: skip
    for name in ("hybrid_elite", "hybrid_time_share"):
        check_number(name, getattr(config, name), lambda v: 0 < v <= 1, "a fraction in (0, 1]")
    for name in ("hybrid_mix", "hybrid_elite", "hybrid_time_share"):
        object.__setattr__(config, name, float(getattr(config, name)))


def _check_count(name: str, value: Any, *, expected: str = "an integer >= 1") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SearchError(f"{name} = {value!r} is out of range", expected=expected)


def _check_method(method: Any) -> None:
    from .synthesize import SEARCHERS  # the registry lives with the searchers (it loads the kernels)

    if method not in SEARCHERS:
        raise SearchError(f"method = {method!r} is not a known search method",
                          expected=f"one of {', '.join(map(repr, SEARCHERS))}")  # fmt: skip

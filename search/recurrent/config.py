"""`RecurrentConfig`: the validated settings of one recurrent-program search.

    >>> import search
    >>> config = search.RecurrentConfig(max_states=1, max_seconds=5)
    >>> search.RecurrentConfig.from_json(config.to_json()) == config
    True
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from dsl import SearchError

from ..config import check_budgets, check_number

__all__ = ["RecurrentConfig"]

_UNLIMITED_AS_NULL = ("max_seconds", "max_bits")


@dataclass(frozen=True)
class RecurrentConfig:
    """How `synthesize_recurrent` runs (docs/search.md, "Recurrent programs").

    Frozen and validated on construction (SearchError naming the setting and its range)."""

    max_states: int = 2  # state variables at most (0, 1, ... max_states are all tried)
    # The state types tried, by name ("int", "bool", "u2", ...); None: every type of the
    # grammar that is bool, int or a bit-vector of at most max_state_values values.
    state_types: tuple[str, ...] | None = None
    # An int state's universe U: the hull of 0, the inputs' ranges and the output's range,
    # widened upwards to at least max_state_values[k - 1] values in a class of k states
    # (docs/search.md): one state gets a wide universe (its table is small), several a narrow one.
    max_state_values: tuple[int, ...] = (16, 4, 4)
    # An exact table of an update is over U^k × (input values); past this many points the
    # state count is searched on a seeded sample instead (not certified).
    max_table_points: int = 4096
    # Past max_table_points: search the class on a sample (True) or skip it (False).
    sampled: bool = True
    sample_points: int = 512  # the sample's size (observational equivalence of updates)
    sample_seed: int = 0
    max_seconds: float = 30.0  # wall clock of the whole search; inf: none
    max_bits: float = math.inf  # total description length bound; inf: none
    max_memory_mb: float = 2048.0  # everything the search keeps (docs/search.md: how it is shared); finite
    posterior_window: float = 0.0  # fitting programs up to this many bits above the best are collected
    max_posterior: int = 100
    combos_per_call: int = 1 << 14  # update tuples per simulation-kernel call (Ctrl-C and the clock in between)

    def __post_init__(self) -> None:
        check_budgets(max_seconds=self.max_seconds, max_bits=self.max_bits, max_memory_mb=self.max_memory_mb)
        values = tuple(self.max_state_values) if isinstance(self.max_state_values, (tuple, list)) else ()
        if len(values) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 2 for v in values):
            raise SearchError(f"max_state_values = {self.max_state_values!r} is out of range",
                              expected="three integers >= 2: the least universe of a state in a class of 1, 2, 3 states")
        object.__setattr__(self, "max_state_values", values)
        for name, low in (("max_states", 0), ("max_table_points", 1), ("sample_points", 1),
                          ("max_posterior", 1), ("combos_per_call", 1), ("sample_seed", 0)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SearchError(f"{name} = {value!r} is out of range", expected=f"an integer >= {low}")
        if self.max_states > 3:
            raise SearchError(f"max_states = {self.max_states} is out of range", expected="0, 1, 2 or 3")
        check_number("posterior_window", self.posterior_window, lambda v: 0 <= v < math.inf, "a finite number >= 0")
        if self.state_types is not None:
            types = tuple(self.state_types)
            if not types or not all(isinstance(name, str) for name in types):
                raise SearchError(f"state_types = {self.state_types!r} is not a tuple of type names",
                                  expected="a non-empty tuple such as ('int', 'bool'), or None")  # fmt: skip
            object.__setattr__(self, "state_types", types)
        for name in ("max_seconds", "max_bits", "max_memory_mb", "posterior_window"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def replace(self, **changes: Any) -> RecurrentConfig:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in _UNLIMITED_AS_NULL and value == math.inf:
                value = None
            elif isinstance(value, tuple):
                value = list(value)
            data[field.name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecurrentConfig:
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SearchError(f"unknown recurrent search setting(s) {', '.join(unknown)}",
                              expected=f"among {', '.join(sorted(names))}")  # fmt: skip
        values = dict(data)
        for name in _UNLIMITED_AS_NULL:
            if name in values and values[name] is None:
                values[name] = math.inf
        if values.get("state_types") is not None:
            values["state_types"] = tuple(values["state_types"])
        if "max_state_values" in values:
            values["max_state_values"] = tuple(values["max_state_values"])
        return cls(**values)

"""Noise on a task's training targets: `noise label P% seed S` replaces a share of the labels by
other values, `noise gaussian SIGMA seed S` adds Gaussian noise to real targets. Held-out values
stay clean (dsl/task.py builds the task with them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import Source, TaskError, shortened
from .sampling import MAX_POINTS, value_domain
from .syntax import NoiseSyntax
from .types import Range, Type

__all__ = ["Noise"]


@dataclass(frozen=True, slots=True)
class Noise:
    """Label noise (a fraction of training labels replaced by other values) or Gaussian noise
    of standard deviation `sigma` added to real training targets."""

    kind: str
    amount: float
    seed: int
    relative: bool = False  # gaussian: sigma is `amount` × the RMS of the clean training targets

    def __str__(self) -> str:
        if self.kind == "label":
            return f"label {_percent(self.amount)} seed {self.seed}"
        sigma = _percent(self.amount) + " of RMS" if self.relative else f"σ = {self.amount:g}"
        return f"gaussian {sigma} seed {self.seed}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def _noise(noise: NoiseSyntax | None, output_type: Type, output_range: Range | None, source: Source) -> Noise | None:
    if noise is None:
        return None
    value = float(noise.amount.value.text)  # '1e999' reads as inf
    if not math.isfinite(value):
        raise TaskError(f"noise amount {noise.amount.value.text} is too large", source=source,
                        span=noise.amount.span, expected="a finite amount")
    if noise.kind == "label":
        labels = _output_values(output_type, output_range)  # None for a real or an unbounded int output
        if output_type.kind == "real" or labels is None:
            raise TaskError("label noise needs a discrete output with a finite range", source=source, span=noise.span,
                            expected="a bool, bit-vector or ranged int output; `noise gaussian` for reals")
        if not noise.amount.percent or not 0 <= value <= 100:
            raise TaskError("label noise is a percentage of the training labels", source=source,
                            span=noise.amount.span, expected="a percentage such as 5%")
        if value > 0 and len(labels) < 2:
            raise TaskError(
                f"label noise replaces labels by other values, but the output {output_range} has one value",
                source=source, span=noise.span, expected="an output range of two values or more",
            )
        return Noise("label", value / 100, noise.seed)
    if output_type.kind != "real":
        raise TaskError("gaussian noise needs a real output", source=source, span=noise.span,
                        expected="`noise label P%` for a discrete output")
    return Noise("gaussian", value / 100 if noise.amount.percent else value, noise.seed, relative=noise.amount.percent)


def _output_values(output_type: Type, output_range: Range | None) -> np.ndarray | None:
    """Every output value (`value_domain`), None when unbounded or more than MAX_POINTS."""
    domain = value_domain(output_type, output_range)
    if domain is None or domain.size > MAX_POINTS:
        return None
    if output_type.kind == "bool":
        return np.array([False, True])
    return np.arange(int(domain.low), int(domain.high) + 1, dtype=np.int64)


def _add_noise(noise: Noise, values: np.ndarray, train: np.ndarray, output_type: Type, output_range: Range | None,
               syntax: NoiseSyntax, source: Source) -> np.ndarray:
    rng = np.random.default_rng(noise.seed)
    noisy = values.copy()
    train_index = np.flatnonzero(train)
    if noise.kind == "gaussian":
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is what the check below refuses
            sigma = noise.amount * math.sqrt(float(np.mean(values[train] ** 2))) if noise.relative else noise.amount
            if math.isfinite(sigma):
                noisy[train_index] = values[train_index] + rng.normal(0.0, sigma, len(train_index))
            mean_square = float(np.mean(noisy[train_index] ** 2)) if len(train_index) else 0.0
        if not (math.isfinite(sigma) and math.isfinite(mean_square)):  # learners square targets and residuals
            raise TaskError(
                f"noise gaussian {shortened(syntax.amount.value.text)}{'%' if noise.relative else ''} makes training "
                "targets whose squares overflow a double", source=source, span=syntax.amount.span,
                expected="a smaller sigma: noisy targets below about 1e150 in magnitude",
            )
        return noisy
    corrupt = rng.choice(train_index, math.floor(noise.amount * len(train_index)), replace=False)
    choices = _output_values(output_type, output_range)
    assert choices is not None, "`_noise` makes label noise only for an output of finitely many values"
    for index in np.sort(corrupt):  # a uniformly chosen *other* value
        others = choices[choices != values[index]]
        noisy[index] = others[rng.integers(0, len(others))]
    return noisy

"""The settings of the simplicity-bias experiment and the priors it knows: light (no numpy at
import), so that the command line builds its options without loading the experiment."""

from __future__ import annotations

import math
from dataclasses import dataclass

import dsl

__all__ = ["PRIORS", "BiasConfig"]

# The priors' names and what they are (experiment.py's SAMPLERS draws from each).
PRIORS = {
    "relu": "network: ReLU MLP",
    "relu_nobias": "network: ReLU MLP without biases",
    "tanh": "network: tanh MLP",
    "gelu": "network: GELU MLP",
    "sigmoid": "network: sigmoid MLP",
    "perceptron": "network: perceptron without bias (Mingard et al. 2019)",
    "pcfg": "the grammar's PCFG, sampled directly (calibration)",
    "relaxed": "occam's relaxed grammar with random logits (the gradient searcher's prior)",
}


@dataclass(frozen=True)
class BiasConfig:
    """The experiment's settings. The default is Valle-Pérez et al.'s set-up (7 → 40 → 40 → 1
    ReLU, σ_w = σ_b = 1, inputs 0/1) beside other priors, on a laptop-sized budget."""

    inputs: int = 7
    samples: int = 200_000  # per prior
    seed: int = 0
    priors: tuple[str, ...] = ("relu", "relu_nobias", "tanh", "gelu", "pcfg", "relaxed")
    widths: tuple[int, ...] = (40, 40)  # hidden widths of the network priors
    sigma_w: float = 1.0
    sigma_b: float = 1.0  # the biases' σ of the network priors that have biases
    encoding: str = "01"  # inputs as 0/1 or "pm1"
    grammar: str = "boolean"  # minimal bits are measured under this grammar
    min_count: int = 5  # functions seen at least this often enter the correlations
    complexity_seconds: float = 300.0  # the minimal-bits passes, all priors together
    search_seconds: float = 2.0  # the second pass's search of one function
    max_memory_mb: float = 2048.0  # the minimal-bits search's banks (the process needs about 1 GB more)
    bootstrap: int = 1000  # resamples for the correlations' intervals
    batch: int = 20_000  # samples per batch (a batch's seed is (seed, batch index))
    relaxed_depth: int = 4
    deltas: tuple[float, ...] = (0.0, 2.0, 5.0, 10.0)  # the share of mass within Δ bits of the minimum

    def __post_init__(self) -> None:
        if not 1 <= self.inputs <= 7:
            raise dsl.TaskError(f"inputs = {self.inputs} is out of range", expected="1 to 7 Boolean inputs")
        if self.samples < 1 or self.batch < 1 or self.min_count < 1:
            raise dsl.TaskError("samples, batch and min_count must be at least 1",
                                expected="--samples N and --min-count K with N, K >= 1")  # fmt: skip
        if not self.priors:
            raise dsl.TaskError("no prior to sample", expected=f"some of {', '.join(PRIORS)}")
        for name in self.priors:
            if name not in PRIORS:
                raise dsl.TaskError(f"unknown prior {name!r}", expected=f"one of {', '.join(PRIORS)}")
        if not 0 < self.max_memory_mb < math.inf:
            raise dsl.TaskError(f"max_memory_mb = {self.max_memory_mb} is out of range", expected="a finite number > 0")
        if self.encoding not in ("01", "pm1"):
            raise dsl.TaskError(f"encoding {self.encoding!r} is not known", expected="01 or pm1")

    @property
    def points(self) -> int:
        return 2**self.inputs

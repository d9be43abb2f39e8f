"""Is SGD a Bayesian sampler — and of which prior? (`occam bias --sgd`)

For a target function on n Boolean inputs and training sets S of a few sizes, three
distributions over the functions that fit S (Mingard et al., JMLR 2021, set against occam):

- P_SGD(f | S): the share of networks, each trained from its own random initialisation until it
  classifies S correctly, that compute f on all points (neural.prior.fit_tables, batched);
- P_B(f | S): the random-initialisation prior restricted to S — by rejection sampling where the
  acceptance rate allows it (small S: sample networks, keep those that fit S), else by the
  NNGP with expectation propagation, as Mingard et al. did (neural.nngp):
  P_B(f | S) = P_B(f) / P_B(f restricted to S), both orthant probabilities of the GP;
- occam's posterior: 2^-K(f) over the functions consistent with S, normalised over those SGD
  found, K(f) the minimal bits under the grammar (complexity.py; a lower bound where not certified).

The three pairwise correlations of log-probabilities over the functions SGD found (with bootstrap
intervals) say which prior SGD follows more closely.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import stats
from .complexity import minimal_bits
from .tables import FunctionCounts, pack_tables, unpack_tables

__all__ = ["SGDConfig", "run_sgd"]


@dataclass(frozen=True)
class SGDConfig:
    inputs: int = 7
    target: str = "x1 and x2 or x3 and not x4"  # a program over x1..xn (its truth table is the target)
    train_sizes: tuple[int, ...] = (16, 32, 64)
    nets: int = 1000  # networks trained per training set
    seed: int = 0
    widths: tuple[int, ...] = (40, 40)
    activation: str = "relu"
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    encoding: str = "01"
    optimizer: str = "adam"
    max_steps: int = 2000
    rejection_samples: int = 2_000_000  # prior samples for P_B by rejection (per training set)
    min_accepted: int = 200  # fewer accepted: P_B by the NNGP/EP instead
    grammar: str = "boolean"
    complexity_seconds: float = 60.0
    bootstrap: int = 1000
    min_count: int = 2  # functions SGD found at least this often enter the correlations


def run_sgd(config: SGDConfig | None = None, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The experiment, one row per training-set size; returns its JSON."""
    from neural.prior import MLPPrior

    config = config or SGDConfig()
    prior = MLPPrior(inputs=config.inputs, widths=config.widths, activation=config.activation,
                     sigma_w=config.sigma_w, sigma_b=config.sigma_b, encoding=config.encoding)  # fmt: skip
    target = _target_ones(config)
    rng = np.random.default_rng(config.seed)
    rows = []
    started = time.perf_counter()
    for size in config.train_sizes:
        train = np.sort(rng.choice(len(target), size=size, replace=False))
        rows.append(_row(prior, config, target, train, log))
    return {"config": asdict(config), "target_table": "".join("1" if bit else "0" for bit in target),
            "rows": rows, "seconds": time.perf_counter() - started}  # fmt: skip


def _target_ones(config: SGDConfig) -> np.ndarray:
    import dsl

    from .complexity import boolean_task

    task = boolean_task(config.inputs, grammar=config.grammar)
    program = dsl.parse_program(config.target, task, expected=dsl.BOOL)
    return np.asarray(dsl.evaluate(program, task.points, size=task.n_points), bool)


def _row(prior: Any, config: SGDConfig, target: np.ndarray, train: np.ndarray,
         log: Callable[[str], None] | None) -> dict[str, Any]:  # fmt: skip
    from neural.prior import fit_tables

    points = len(target)
    started = time.perf_counter()
    fit = fit_tables(prior, train, target[train], config.nets, seed=config.seed, optimizer=config.optimizer,
                     max_steps=config.max_steps)  # fmt: skip
    sgd = FunctionCounts(points)
    sgd.add(fit.tables[fit.converged])
    keep = sgd.counts >= config.min_count
    tables, seen = sgd.tables[keep], sgd.counts[keep]
    log2_sgd = np.log2(seen / max(sgd.total, 1))
    log2_b, method = _bayes(prior, config, target, train, tables)
    complexity = minimal_bits(tables, config.inputs, grammar=config.grammar, max_seconds=config.complexity_seconds)
    log2_occam = -complexity.bits - np.log2(np.sum(np.exp2(-complexity.bits))) if len(tables) else np.empty(0)
    correlate = _correlate(config)
    row = {
        "train_size": len(train), "converged": int(fit.converged.sum()), "nets": config.nets,
        "sgd_distinct": len(sgd), "functions": int(keep.sum()), "p_b_method": method,
        "certified_share": complexity.certified_share,
        "sgd_vs_bayes": correlate(log2_sgd, log2_b), "sgd_vs_occam": correlate(log2_sgd, log2_occam),
        "bayes_vs_occam": correlate(log2_b, log2_occam),
        "target_share": float(sgd.count_of(pack_tables(target[None, :]))[0] / max(sgd.total, 1)),
        "seconds": time.perf_counter() - started,
    }  # fmt: skip
    sgd_bayes, sgd_occam = row["sgd_vs_bayes"]["value"], row["sgd_vs_occam"]["value"]
    if sgd_bayes is not None and sgd_occam is not None:
        row["closer_prior"] = "bayes" if sgd_bayes > sgd_occam else "occam"
    if log is not None:
        log(f"|S| = {len(train)}: {row['functions']} functions, P_B by {method}, corr(SGD, B) {sgd_bayes}, "
            f"corr(SGD, occam) {sgd_occam}")  # fmt: skip
    return row


def _bayes(prior: Any, config: SGDConfig, target: np.ndarray, train: np.ndarray,
           tables: np.ndarray) -> tuple[np.ndarray, str]:  # fmt: skip
    """log2 P_B(f | S) of each of `tables`: by rejection sampling if enough prior samples fit S
    (the functions never accepted get none: NaN, and the EP value is used for all), else EP."""
    from neural.prior import sample_tables

    points = len(target)
    accepted = FunctionCounts(points)
    target_words = pack_tables(target[None, :])[0]
    train_mask = pack_tables(np.isin(np.arange(points), train)[None, :])[0]
    for batch in sample_tables(prior, config.rejection_samples, seed=config.seed + 1):
        fits = ((batch ^ target_words) & train_mask == 0).all(axis=1)
        accepted.add(batch[fits])
    if accepted.total >= config.min_accepted:
        counts = accepted.count_of(tables)
        if (counts > 0).all():
            return np.log2(counts / accepted.total), f"rejection ({accepted.total:,} of {config.rejection_samples:,})"
    return _bayes_ep(prior, tables, train, points), "nngp-ep"


def _bayes_ep(prior: Any, tables: np.ndarray, train: np.ndarray, points: int) -> np.ndarray:
    from neural.nngp import log2_conditional_from_kernel, nngp_kernel
    from neural.prior import boolean_inputs

    x = boolean_inputs(prior.inputs, prior.encoding).double().numpy()
    kernel = nngp_kernel(x, depth=len(prior.widths), activation=prior.activation, sigma_w=prior.sigma_w,
                         sigma_b=prior.sigma_b)  # fmt: skip
    mask = np.isin(np.arange(points), train)
    return np.array([log2_conditional_from_kernel(kernel, row, mask) for row in unpack_tables(tables, points)])


def _correlate(config: SGDConfig) -> Callable[[np.ndarray, np.ndarray], dict[str, Any]]:
    def correlate(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        result = stats.correlation(x, y, method="pearson", bootstrap=config.bootstrap, seed=config.seed)
        finite = [None if not math.isfinite(v) else float(v) for v in (result.value, result.low, result.high)]
        return {"value": finite[0], "low": finite[1], "high": finite[2], "n": result.n}

    return correlate

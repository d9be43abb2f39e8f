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

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from . import stats
from .complexity import minimal_bits
from .tables import FunctionCounts, pack_tables, table_strings, unpack_tables

__all__ = ["SGDConfig", "run_sgd"]


@dataclass(frozen=True)
class SGDConfig:
    inputs: int = 7
    target: str = "x1 and x2 or x3 and not x4"  # a program over x1..xn (its truth table is the target)
    train_sizes: tuple[int, ...] = (16, 32, 64)
    test_size: int | None = 16  # held-out points the functions are told apart on (None: all the others)
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
    max_memory_mb: float = 2048.0  # the minimal-bits search's banks
    bootstrap: int = 1000
    min_count: int = 2  # functions SGD found at least this often enter the correlations


def run_sgd(config: SGDConfig | None = None, *, log: Callable[[str], None] | None = None,
            **overrides: Any) -> dict[str, Any]:  # fmt: skip
    """The experiment, one row per training-set size; returns its JSON. `log` gets a line per row."""
    from neural.prior import MLPPrior

    config = replace(config or SGDConfig(), **overrides)
    if any(not 1 <= size < 2**config.inputs for size in config.train_sizes):
        import dsl

        raise dsl.TaskError(f"training-set sizes {config.train_sizes} do not fit {2**config.inputs} points",
                            expected=f"sizes from 1 to {2**config.inputs - 1}")  # fmt: skip
    prior = MLPPrior(inputs=config.inputs, widths=config.widths, activation=config.activation,
                     sigma_w=config.sigma_w, sigma_b=config.sigma_b, encoding=config.encoding)  # fmt: skip
    target = _target_ones(config)
    rng = np.random.default_rng(config.seed)
    rows = []
    started = time.perf_counter()
    for size in config.train_sizes:
        order = rng.permutation(len(target))
        train = np.sort(order[:size])
        test = np.sort(order[size:] if config.test_size is None else order[size : size + config.test_size])
        rows.append(_row(prior, config, target, train, test, log))
    return {"config": asdict(config), "target_table": "".join("1" if bit else "0" for bit in target),
            "rows": rows, "seconds": time.perf_counter() - started}  # fmt: skip


def _target_ones(config: SGDConfig) -> np.ndarray:
    import dsl

    from .complexity import boolean_task

    task = boolean_task(config.inputs, grammar=config.grammar)
    program = dsl.parse_program(config.target, task, expected=dsl.BOOL)
    return np.asarray(dsl.evaluate(program, task.points, size=task.n_points), bool)


def _row(prior: Any, config: SGDConfig, target: np.ndarray, train: np.ndarray, test: np.ndarray,
         log: Callable[[str], None] | None) -> dict[str, Any]:  # fmt: skip
    """One training set S: the functions are told apart on S ∪ E (E the held-out points `test`);
    every one of them agrees with the target on S."""
    from neural.prior import fit_tables

    points = len(target)
    seen_points = np.union1d(train, test)  # U = S ∪ E, sorted: the tables below are over U
    started = time.perf_counter()
    fit = fit_tables(prior, train, target[train], config.nets, seed=config.seed, optimizer=config.optimizer,
                     max_steps=config.max_steps)  # fmt: skip
    sgd = FunctionCounts(len(seen_points))
    sgd.add(_restricted(fit.tables[fit.converged], points, seen_points))
    keep = sgd.counts >= config.min_count
    tables, seen = sgd.tables[keep], sgd.counts[keep]
    log2_sgd = np.log2(seen / max(sgd.total, 1))
    log2_b, method = _bayes(prior, config, target, train, seen_points, tables)
    complexity = minimal_bits(tables, config.inputs, grammar=config.grammar, max_seconds=config.complexity_seconds,
                              points=seen_points, max_memory_mb=config.max_memory_mb)  # fmt: skip
    log2_occam = -complexity.bits - np.log2(np.sum(np.exp2(-complexity.bits))) if len(tables) else np.empty(0)
    correlate = _correlate(config)
    target_on = pack_tables(target[seen_points][None, :])
    row = {
        "train_size": len(train), "test_size": len(test), "converged": int(fit.converged.sum()), "nets": config.nets,
        "sgd_distinct": len(sgd), "functions": int(keep.sum()), "p_b_method": method,
        "certified_share": complexity.certified_share,
        "sgd_vs_bayes": correlate(log2_sgd, log2_b), "sgd_vs_occam": correlate(log2_sgd, log2_occam),
        "bayes_vs_occam": correlate(log2_b, log2_occam),
        "target_share": float(sgd.count_of(target_on)[0] / max(sgd.total, 1)),
        "top": [{"table": string, "sgd": float(2.0**a), "bayes": float(2.0**b), "occam": float(2.0**c),
                 "minimal_bits": float(bits), "certified": bool(certified), "program": program}
                for string, a, b, c, bits, certified, program in sorted(
                    zip(table_strings(tables, len(seen_points)), log2_sgd, log2_b, log2_occam, complexity.bits,
                        complexity.certified, complexity.programs), key=lambda entry: -entry[1])[:10]],
        "seconds": time.perf_counter() - started,
    }  # fmt: skip
    sgd_bayes, sgd_occam = row["sgd_vs_bayes"]["value"], row["sgd_vs_occam"]["value"]
    if sgd_bayes is not None and sgd_occam is not None:
        row["closer_prior"] = "bayes" if sgd_bayes > sgd_occam else "occam"
    if log is not None:
        log(f"|S| = {len(train)}, |E| = {len(test)}: {row['functions']} functions seen ≥ {config.min_count} times, "
            f"P_B by {method}; corr(SGD, B) {_shown(sgd_bayes)}, corr(SGD, occam) {_shown(sgd_occam)}")  # fmt: skip
    return row


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _restricted(tables: np.ndarray, points: int, seen_points: np.ndarray) -> np.ndarray:
    """Tables on all points → the same functions on the points `seen_points` only."""
    return pack_tables(unpack_tables(tables, points)[:, seen_points])


def _bayes(prior: Any, config: SGDConfig, target: np.ndarray, train: np.ndarray, seen_points: np.ndarray,
           tables: np.ndarray) -> tuple[np.ndarray, str]:  # fmt: skip
    """log2 P_B(f | S) of each of `tables` (over `seen_points`): by rejection sampling if enough
    prior samples fit S and every function was met among them, else by the NNGP with EP."""
    from neural.prior import sample_tables

    points = len(target)
    accepted = FunctionCounts(len(seen_points))
    target_words = pack_tables(target[None, :])[0]
    train_mask = pack_tables(np.isin(np.arange(points), train)[None, :])[0]
    for batch in sample_tables(prior, config.rejection_samples, seed=config.seed + 1):
        fits = (((batch ^ target_words) & train_mask) == 0).all(axis=1)
        accepted.add(_restricted(batch[fits], points, seen_points))
    if accepted.total >= config.min_accepted:
        counts = accepted.count_of(tables)
        if (counts > 0).all():
            return np.log2(counts / accepted.total), f"rejection ({accepted.total:,} of {config.rejection_samples:,})"
    return _bayes_ep(prior, tables, np.isin(seen_points, train), seen_points), "nngp-ep"


def _bayes_ep(prior: Any, tables: np.ndarray, on_train: np.ndarray, seen_points: np.ndarray) -> np.ndarray:
    from neural.nngp import log2_conditional_from_kernel, nngp_kernel
    from neural.prior import boolean_inputs

    x = boolean_inputs(prior.inputs, prior.encoding).double().numpy()[seen_points]
    kernel = nngp_kernel(x, depth=len(prior.widths), activation=prior.activation, sigma_w=prior.sigma_w,
                         sigma_b=prior.sigma_b)  # fmt: skip
    ones = unpack_tables(tables, len(seen_points))
    return np.array([log2_conditional_from_kernel(kernel, row, on_train) for row in ones])


def _correlate(config: SGDConfig) -> Callable[[np.ndarray, np.ndarray], dict[str, Any]]:
    def correlate(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        return stats.correlation(x, y, method="pearson", bootstrap=config.bootstrap, seed=config.seed).to_json()

    return correlate

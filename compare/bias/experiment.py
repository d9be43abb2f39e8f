"""The simplicity-bias experiment (`occam bias`): sample functions from each prior, count them,
measure each function met, and set log2 P(f) against its complexity.

    >>> from compare.bias import experiment
    >>> result = experiment.run_bias(experiment.BiasConfig(samples=20_000, priors=("relu", "pcfg")))
    >>> result.to_json()["rows"][0]["spearman_lz"]

Data flow: each prior's sampler yields batches of truth tables (tables.py's format); a
`FunctionCounts` per prior counts them; the functions seen at least `min_count` times in any
prior get their minimal bits under `grammar` (complexity.py), most frequent first; then per
prior: Lempel-Ziv and minimal bits against log2 P(f) (stats.py), the fitted upper bounds, the
share of mass within Δ bits of the minimum, the most frequent functions with their programs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

import dsl

from . import measures, stats
from .complexity import Complexity, boolean_task, index_in, minimal_bits
from .config import PRIORS, BiasConfig
from .tables import FunctionCounts, table_strings

__all__ = ["SAMPLERS", "BiasResult", "PriorRow", "analyse", "run_bias"]

TOP = 20  # the most frequent functions listed per prior


# --- the priors -----------------------------------------------------------------------------

Sampler = Callable[[BiasConfig], Iterator[np.ndarray]]  # config → its prior's batches of tables


def _network(activation: str, *, bias: bool = True, hidden: bool = True) -> Sampler:
    def prior(config: BiasConfig) -> Any:
        from neural.prior import MLPPrior

        return MLPPrior(inputs=config.inputs, widths=config.widths if hidden else (), activation=activation,
                        sigma_w=config.sigma_w, sigma_b=config.sigma_b if bias else 0.0, encoding=config.encoding)  # fmt: skip

    def sample(config: BiasConfig) -> Iterator[np.ndarray]:
        from neural.prior import sample_tables

        return sample_tables(prior(config), config.samples, seed=config.seed, batch=config.batch)

    return sample


def _pcfg(config: BiasConfig) -> Iterator[np.ndarray]:
    from search.prior import sample_programs

    task = boolean_task(config.inputs, grammar=config.grammar)
    for index, size in _batches(config):
        yield sample_programs(task, size, seed=_batch_seed(config.seed, index)).tables


def _relaxed(config: BiasConfig) -> Iterator[np.ndarray]:
    from search.relaxed.prior import sample_relaxed_tables

    task = boolean_task(config.inputs, grammar=config.grammar)
    return sample_relaxed_tables(task, config.samples, seed=config.seed, depth=config.relaxed_depth, batch=config.batch)


def _batch_seed(seed: int, index: int) -> int:
    """The seed of batch `index` of a run seeded `seed` (batches are independent streams)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _batches(config: BiasConfig) -> Iterator[tuple[int, int]]:
    """(batch index, its size) of every batch."""
    count = math.ceil(config.samples / config.batch)
    for index in range(count):
        yield index, min(config.batch, config.samples - index * config.batch)


SAMPLERS: dict[str, Sampler] = {
    "relu": _network("relu"),
    "relu_nobias": _network("relu", bias=False),
    "tanh": _network("tanh"),
    "gelu": _network("gelu"),
    "sigmoid": _network("sigmoid"),
    "perceptron": _network("relu", bias=False, hidden=False),
    "pcfg": _pcfg,
    "relaxed": _relaxed,
}
assert SAMPLERS.keys() == PRIORS.keys()


# --- results --------------------------------------------------------------------------------


@dataclass
class PriorRow:
    """One prior's measurements."""

    prior: str
    description: str
    counts: FunctionCounts = field(repr=False)
    seconds: float
    interrupted: bool = False
    analysis: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        counts = self.counts
        return {"prior": self.prior, "description": self.description, "samples": counts.total,
                "distinct_functions": len(counts), "constant_share": counts.constant_share(),
                "sampling_seconds": self.seconds, "interrupted": self.interrupted} | self.analysis  # fmt: skip


@dataclass
class BiasResult:
    config: BiasConfig
    rows: list[PriorRow]
    complexity: Complexity | None
    interrupted: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The JSON of `occam bias --json`: the first prior's headline numbers at the top
        (`samples`, `distinct_functions`, `constant_share`), then one row per prior. A number
        that is not defined (a share of no functions, a correlation of fewer than 3) is null."""
        return _defined(self._json())

    def _json(self) -> dict[str, Any]:
        first = self.rows[0].to_json() if self.rows else {}
        complexity = self.complexity
        return {
            "samples": first.get("samples", 0),
            "distinct_functions": first.get("distinct_functions", 0),
            "constant_share": first.get("constant_share", math.nan),
            "config": asdict(self.config),
            "complexity": None if complexity is None else {
                "grammar": complexity.grammar, "functions": len(complexity), "covered_bits": complexity.covered_bits,
                "certified_share": complexity.certified_share, "searched": complexity.searched,
                "seconds": complexity.seconds, "interrupted": complexity.interrupted,
            },
            "rows": [row.to_json() for row in self.rows],
            "interrupted": self.interrupted,
            "seconds": self.seconds,
        }  # fmt: skip


# --- running --------------------------------------------------------------------------------


def run_bias(config: BiasConfig | None = None, *, progress: Callable[[str, int, int], None] | None = None,
             **overrides: Any) -> BiasResult:  # fmt: skip
    """Run the experiment. `progress(prior, counted, samples)` after every batch. Ctrl-C while
    sampling keeps what was counted (the row says `interrupted`), skips the other priors and the
    minimal-bits passes, and returns the measurements of what was counted; Ctrl-C in the
    minimal-bits passes keeps what they found. Either way `interrupted` is set."""
    config = replace(config or BiasConfig(), **overrides)
    _check_grammar(config)
    started = time.perf_counter()
    rows: list[PriorRow] = []
    interrupted = False
    for name in config.priors:
        row = _sample(name, config, progress)
        rows.append(row)
        if row.interrupted:
            interrupted = True
            break
    complexity = None if interrupted else _complexity(rows, config)
    interrupted = interrupted or (complexity is not None and complexity.interrupted)
    try:
        for row in rows:
            row.analysis = analyse(row.counts, complexity, config)
    except KeyboardInterrupt:  # the counts stand; the rows not analysed say so
        interrupted = True
    return BiasResult(config, rows, complexity, interrupted, time.perf_counter() - started)


def _check_grammar(config: BiasConfig) -> None:
    """The grammar is refused before any sampling, with the option named (dsl's message says
    what is wrong in the grammar text)."""
    expected = "boolean, boolean_xor, or grammar text over bool naming the inputs (e.g. 'bool -> x1, x2, not bool')"
    try:
        task = boolean_task(config.inputs, grammar=config.grammar)
    except dsl.OccamError as error:
        raise dsl.TaskError(f"the grammar {config.grammar!r} cannot be used on {config.inputs} Boolean inputs: "
                            f"{error}", expected=expected) from None  # fmt: skip
    templates = [alternative.template for rule in task.grammar.rules for alternative in rule.alternatives]
    if not any(isinstance(node, dsl.Var) for template in templates for node in template.walk()):
        raise dsl.TaskError(f"the grammar {config.grammar!r} names none of the inputs x1 … x{config.inputs}: it "
                            "derives constants only", expected=expected)  # fmt: skip


def _sample(name: str, config: BiasConfig, progress: Callable[[str, int, int], None] | None) -> PriorRow:
    description, sampler = PRIORS[name], SAMPLERS[name]
    counts = FunctionCounts(config.points)
    started = time.perf_counter()
    try:
        for tables in sampler(config):
            counts.add(tables)
            if progress is not None:
                progress(name, counts.total, config.samples)
    except KeyboardInterrupt:
        return PriorRow(name, description, counts, time.perf_counter() - started, interrupted=True)
    return PriorRow(name, description, counts, time.perf_counter() - started)


def _complexity(rows: list[PriorRow], config: BiasConfig) -> Complexity:
    """Minimal bits of every function met by some prior. The enumeration runs until every
    function seen at least `min_count` times in some prior is met (or its budget runs out);
    those it did not meet are searched one by one, the most frequent (by the largest share in
    any prior) first."""
    merged = FunctionCounts(config.points)
    for row in rows:
        merged.add(row.counts.tables)
    unique = merged.tables
    best = np.zeros(len(unique))
    for row in rows:
        frequent = row.counts.counts >= config.min_count
        np.maximum.at(best, index_in(unique, row.counts.tables[frequent]), row.counts.counts[frequent] / row.counts.total)
    order = np.argsort(-best, kind="stable")
    return minimal_bits(unique, config.inputs, grammar=config.grammar, max_seconds=config.complexity_seconds,
                        search_seconds=config.search_seconds, order=order, max_memory_mb=config.max_memory_mb,
                        wanted=best > 0)  # fmt: skip


def analyse(counts: FunctionCounts, complexity: Complexity | None, config: BiasConfig) -> dict[str, Any]:
    """One prior's measurements over its functions seen at least `min_count` times."""
    points = config.points
    keep = counts.counts >= config.min_count
    tables, seen = counts.tables[keep], counts.counts[keep]
    log2p = np.log2(seen / counts.total)
    lz = measures.lz_complexity(tables, points)
    out: dict[str, Any] = {"min_count": config.min_count, "functions_min_count": int(keep.sum()),
                           "mass_min_count": float(seen.sum() / counts.total) if counts.total else 0.0}  # fmt: skip
    correlate = _correlate(config)
    out["spearman_lz"] = correlate(lz, log2p, "spearman")
    out["pearson_lz"] = correlate(lz, log2p, "pearson")
    out["bound_lz"] = _bound(lz, log2p)
    out["spearman_entropy"] = correlate(measures.entropy(tables, points), log2p, "spearman")  # sees only the ones
    if complexity is None:
        return out | {"spearman_minimal_bits": None, "certified_share": None, "top": _top(counts, None, config)}
    where = complexity.index_of(tables)
    assert (where >= 0).all(), "every function seen min_count times has its minimal bits measured"
    bits, certified = complexity.bits[where], complexity.certified[where]
    every = complexity.certified[complexity.index_of(counts.tables)]  # all the functions counted
    out["certified_share"] = float(every.mean()) if len(every) else math.nan
    out["certified_mass"] = float(counts.counts[every].sum() / counts.total) if counts.total else math.nan
    out["certified_share_min_count"] = float(certified.mean()) if len(certified) else math.nan
    out["spearman_minimal_bits"] = correlate(bits[certified], log2p[certified], "spearman")
    out["pearson_minimal_bits"] = correlate(bits[certified], log2p[certified], "pearson")
    out["spearman_lz_certified"] = correlate(lz[certified], log2p[certified], "spearman")  # the same functions
    bound = _bound(bits[certified], log2p[certified])
    out["bound_minimal_bits"] = bound
    out["slope_minimal_bits"] = bound["a"] if bound else None
    out["mass_within"] = {f"{delta:g}": share for delta, share in
                          stats.mass_within(log2p[certified], bits[certified], seen[certified], config.deltas).items()}  # fmt: skip
    out["top"] = _top(counts, complexity, config)
    return out


def _correlate(config: BiasConfig) -> Callable[[np.ndarray, np.ndarray, str], dict[str, Any]]:
    def correlate(x: np.ndarray, y: np.ndarray, method: str) -> dict[str, Any]:
        return stats.correlation(x, y, method=method, bootstrap=config.bootstrap, seed=config.seed).to_json()

    return correlate


def _bound(complexity: np.ndarray, log2p: np.ndarray) -> dict[str, float] | None:
    if len(complexity) < 3 or np.ptp(complexity) == 0:
        return None
    bound = stats.upper_bound(complexity, log2p)
    return {"a": bound.a, "b": bound.b}


def _top(counts: FunctionCounts, complexity: Complexity | None, config: BiasConfig) -> list[dict[str, Any]]:
    tables, seen = counts.most_common(TOP)
    strings = table_strings(tables, config.points)
    lz = measures.lz_complexity(tables, config.points)
    where = complexity.index_of(tables) if complexity is not None else np.full(len(tables), -1)
    rows = []
    for i, (string, count) in enumerate(zip(strings, seen)):
        known = where[i] >= 0
        rows.append({"table": string, "count": int(count), "share": float(count / counts.total), "lz": float(lz[i]),
                     "minimal_bits": float(complexity.bits[where[i]]) if known else None,  # type: ignore[union-attr]
                     "certified": bool(complexity.certified[where[i]]) if known else False,  # type: ignore[union-attr]
                     "program": complexity.programs[where[i]] if known else None})  # type: ignore[union-attr]  # fmt: skip
    return rows


def _defined(value: Any) -> Any:
    """`value` with every NaN or infinite float in it replaced by None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: _defined(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_defined(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

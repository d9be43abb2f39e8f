"""The comparison harness (compare/analysis/), its reports and the `occam` command line
(compare/app/), and the benchmarks of the other packages (compare/benchmarks/).

    import compare
    comparison = compare.compare(task, synthesis, trace)   # a Comparison; .to_json() round-trips
    run = compare.run_pipeline(task, preset="gromov", seed=0, out=Path("runs/x"))
    run = compare.run_pipeline(task, out=Path("runs/y"), learners="network,relaxed")   # run.comparisons
    synthesis, trace = compare.relaxed_trace(task, compare.relaxed_config(seed=0))    # the relaxed search's trace

The names load on first use, so that `occam --help` does not pay for numba and torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Comparison": "analysis.harness", "Snapshot": "analysis.harness", "Disagreements": "analysis.harness",
    "compare": "analysis.harness", "disagreements": "analysis.harness",
    "agreement": "analysis.agree", "agrees": "analysis.agree",
    "Distiller": "analysis.distill", "Distilled": "analysis.distill",
    "relaxed_trace": "analysis.relaxed", "comparisons_json": "analysis.harness",
    "run_pipeline": "app.pipeline", "PipelineResult": "app.pipeline", "relaxed_config": "app.pipeline",
    "write_plots": "app.plots",
    "write_report_html": "app.report", "print_summary": "app.terminal",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'compare' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Terminal rendering (rich) of what the commands produce: synthesis progress and results."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from dsl import Expr
from search import Progress, SynthesisResult
from search.result import STATUSES

__all__ = ["SynthesisProgress", "print_bench_row", "print_bench_summary", "print_synthesis", "simplified"]

SIMPLIFY_MAX_SIZE = 40  # sympy's simplify can take minutes on large expressions


def simplified(program: Expr) -> str | None:
    """The program simplified by sympy, when that says something the canonical text does not."""
    if program.size > SIMPLIFY_MAX_SIZE:
        return None
    import sympy

    try:
        text = str(sympy.simplify(program.to_sympy()))
    except Exception:  # sympy raises many kinds of errors on exotic expressions; the text is optional
        return None
    return None if text == str(program) else text


class SynthesisProgress:
    """A live status line during a search; `update` is the `progress` callback."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live = Live(console=console, refresh_per_second=8, transient=True)
        self._last = 0.0

    def __enter__(self) -> SynthesisProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)

    def update(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        best = progress.best
        best_text = f"{escape(str(best.program))} ({best.bits:.2f} bits)" if best else "—"
        self._live.update(
            f"[bold]level[/] {progress.level_bits:.2f} bits · {progress.distinct:,} programs · "
            f"{progress.candidates:,} candidates · {progress.candidates_per_second:.3g}/s · "
            f"{progress.cpu_seconds:.1f} s · [bold]best[/] {best_text}"
        )


def print_synthesis(result: SynthesisResult, console: Console) -> None:
    """The result of a search: status, best program, Pareto front, posterior, test score."""
    task, stats = result.task, result.stats
    status = f"[bold]{result.status}[/]: {STATUSES[result.status]}"
    console.print(f"[bold]{task.name}[/] — {status}")
    best = result.best
    if best is None:
        console.print("no candidate of the output type was found")
    else:
        fit = "fits the training data" if best.fits_train else f"{best.data_bits:.2f} bits of exceptions/residuals"
        certified = "shortest: certified" if result.certified else "not certified shortest (the search stopped first)"
        console.print(f"[bold green]best[/]  {escape(str(best.program))}   [dim]{best.bits:.2f} bits; {fit}; "
                      f"{certified}[/]")  # fmt: skip
        console.print(f"[dim]LaTeX[/] {escape(best.program.to_latex())}")
        simple = simplified(best.program)
        if simple:
            console.print(f"[dim]sympy[/] {escape(simple)}")
    console.print(_candidates_table("Pareto front (description length against data bits)", result.pareto))
    console.print(_posterior_table(result))
    scores = result.test_scores()
    if scores["best"] is not None:
        measure = "RMSE" if task.output_type.kind == "real" else "accuracy"
        console.print(f"[bold]test[/] ({task.n_test:,} held-out points) {measure}: best program {scores['best']:.4g}, "
                      f"posterior {scores['posterior']:.4g}")  # fmt: skip
    console.print(
        f"[dim]{stats.candidates:,} candidates, {stats.distinct:,} distinct functions, {stats.cpu_seconds:.2f} CPU s "
        f"({stats.candidates_per_second:.3g}/s), banks {stats.peak_bank_bytes / 2**20:.0f} MB, "
        f"equivalence on {'all' if result.equivalence == 'all' else 'training'} points[/]"
    )


def _candidates_table(title: str, candidates) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column, justify in (("bits", "right"), ("data bits", "right"), ("fits", "center"), ("program", "left"),
                            ("sympy", "left")):  # fmt: skip
        table.add_column(column, justify=justify)
    for candidate in candidates:
        table.add_row(
            f"{candidate.bits:.2f}",
            f"{candidate.data_bits:.2f}",
            "✓" if candidate.fits_train else "",
            escape(str(candidate.program)),
            escape(simplified(candidate.program) or ""),
        )
    return table


def _posterior_table(result: SynthesisResult, top: int = 10) -> Table:
    entries = result.posterior.entries
    title = f"posterior: {len(entries)} function{'s' if len(entries) != 1 else ''} within {result.posterior.window:g} bits" + (
        f" (top {top})" if len(entries) > top else "")  # fmt: skip
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column, justify in (("weight", "right"), ("bits", "right"), ("data bits", "right"), ("program", "left")):
        table.add_column(column, justify=justify)
    for entry in entries[:top]:
        table.add_row(f"{entry.weight:.3f}", f"{entry.bits:.2f}", f"{entry.data_bits:.2f}", escape(str(entry.program)))
    return table


def print_bench_row(row: dict[str, Any], console: Console) -> None:
    """One measured row of `occam bench synth`, as it comes."""
    if "inputs" in row:  # a table of minimal programs
        console.print(f"all {2 ** 2 ** row['inputs']:,} {row['inputs']}-input functions ({row['grammar']}): "
                      f"{row['functions']:,} found{'' if row['complete'] else ' [red](incomplete)[/]'}, "
                      f"{row['cpu_seconds']:.1f} CPU s, {row['candidates_per_second']:.3g} candidates/s, "
                      f"longest {row['max_bits']:.1f} bits")  # fmt: skip
        return
    mark = "[green]✓[/]" if row["solved"] else "[red]✗[/]"
    found = f"{row['found_cpu_seconds']:.1f}" if row["found_cpu_seconds"] is not None else "—"
    bits = f"{row['bits']:.2f}" if row["bits"] is not None else "—"
    console.print(
        f"{mark} {row['task']:<12} seed {row['seed']:<2} {bits:>6} bits  found {found:>5} s / "
        f"{row['cpu_seconds']:5.1f} CPU s  {row['candidates_per_second']:9.3g}/s  "
        f"{'certified' if row['certified'] else row['status']:<9}  {escape(row['program'] or '')}"
    )


def print_bench_summary(report: dict[str, Any], console: Console) -> None:
    throughput = report["throughput"]
    compiled, numpy = throughput["compiled"], throughput["numpy"]
    seeds = len(report["seeds"])
    recovered = ", ".join(f"{name[6:]}: {count}/{seeds}" for name, count in report["recovered"].items())
    console.print(f"[bold]Nguyen recovered[/] (of {seeds} seed{'s' if seeds > 1 else ''}): {recovered}")
    console.print(
        f"[bold]throughput[/] on {throughput['task']}, programs up to {throughput['max_size']} nodes, every "
        f"distinct function kept: compiled {compiled['candidates_per_second']:.3g} candidates per CPU-second "
        f"({compiled['candidates']:,} in {compiled['cpu_seconds']:.2f} s), numpy "
        f"{numpy['candidates_per_second']:.3g} ({numpy['candidates']:,} in {numpy['cpu_seconds']:.2f} s): "
        f"[bold]{throughput['ratio']:.1f}×[/]"
    )
    console.print(f"[dim]{report['wall_seconds']:.0f} s in all[/]")

"""Everything `occam` prints on the terminal (rich): the live progress lines of the search, the
training and the distillation, and what each command shows: the synthesis result with its sympy
forms, the training summary, the pipeline's stage lines and the comparison's summary, the diff,
the task list and summaries, the benchmark rows. cli.py prints only the errors and the `wrote
FILE` lines that go with its exit statuses. The HTML page is report.py's; the verdict and the
numbers as text, which the page shows too, come from there."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import dsl
from dsl import Apply, Expr, Type, evaluate

from .report import _bits, _count, _number, _percent, _span, _value, learner_noun, shorter_code_note, verdict

if TYPE_CHECKING:  # annotations only: `occam check` and `occam tasks` print here without the search (numba)
    from search import Progress, SynthesisResult

    from ..analysis.harness import Comparison, Snapshot

__all__ = [
    "DistillationProgress", "SynthesisProgress", "TrainingProgress", "by_input_lines", "distillation_text",
    "point_text", "print_bench_row", "print_bench_summary", "print_diff", "print_reused", "print_search_bench_row",
    "print_search_bench_table", "print_stage",
    "print_startup_row", "print_summary", "print_synthesis", "print_task_summary", "print_tasks",
    "print_train_bench_row", "print_training", "simplified", "simplifier", "synthesis_progress_text",
    "time_spent_line",
]  # fmt: skip

SIMPLIFY_MAX_SIZE = 40  # sympy's simplify can take minutes on large expressions
SIMPLIFY_SECONDS = 1.0  # and on some small ones: each simplification is cut off after this long
CHECK_POINTS = 4096  # a simplified form is checked at all the task's points, or this many of them


def simplified(
    program: Expr, points: Mapping[str, np.ndarray], *, seconds: float = SIMPLIFY_SECONDS
) -> str | None:
    """The program simplified by sympy, when that says something the canonical text does not.

    Shown only if it is the same function: sympy's `simplify` is unsound on nested `Mod` and
    `floor` (it turned the u8 program `x >> 2 << 1 << 1` into one wrong at 248 of 256 points),
    so the simplified form is evaluated exactly (dsl.symbolic.evaluate_expression) at `points`
    (input name → values, e.g. `task.env()`; an evenly spaced sample of `CHECK_POINTS` of them
    where there are more) and must give the reference evaluator's values there. For a Boolean
    program it must also be shorter (fewer nodes) than the program: sympy's normal forms often
    are not (`p ^ (not q)` is `p ^ q ^ True` to it). None when any of that fails, when sympy
    raises, or when it takes longer than `seconds` (a limit enforced with SIGALRM on the main
    thread; elsewhere only the size bound applies).
    """
    if not isinstance(program, Apply) or program.size > SIMPLIFY_MAX_SIZE or not seconds > 0:
        return None  # an input or a literal says all there is (sympy wrote 2.0 as 2.00000000000000)
    import sympy

    from dsl.symbolic import Unevaluable, evaluate_expression

    try:
        with _time_limit(seconds):
            simple = sympy.simplify(program.to_sympy())
            text = str(simple)
            if text == str(program) or not _shorter_if_boolean(simple, program):
                return None
            env = _check_points(points, program)
            same = _same_values(evaluate_expression(simple, env), evaluate(program, env), program.type)
    except (_OutOfTime, Unevaluable):
        return None
    except Exception:  # sympy raises many kinds of errors on exotic expressions; the text is optional
        return None
    return text if same else None


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise `_OutOfTime` in the block after `seconds` (on the main thread, where signals go)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    active = True

    def expire(signum: int, frame: Any) -> None:
        if active:  # not once the block is left: the alarm may be delivered late
            raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    # One alarm, not a repeating one, so that none can interrupt the clean-up below (an alarm
    # that lands in a finalizer, where Python drops the exception, leaves the block unbounded).
    pending, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        active = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if pending > 0:  # someone else's alarm was set: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(pending - (time.monotonic() - started), 1e-6))


def _shorter_if_boolean(simple: Any, program: Expr) -> bool:
    return program.type.kind != "bool" or _written_size(simple) < program.size


def _written_size(expression: Any) -> int:
    """Nodes of `expression` written with binary operations (`Xor(p, q, True)` is p ^ q ^ True:
    5), to compare with a program's size."""
    if not expression.args:
        return 1
    return sum(_written_size(arg) for arg in expression.args) + max(1, len(expression.args) - 1)


def _check_points(points: Mapping[str, np.ndarray], program: Expr) -> dict[str, np.ndarray]:
    env = {name: np.asarray(values) for name, values in points.items() if name in program.inputs}
    size = len(next(iter(points.values()))) if points else 1
    if size <= CHECK_POINTS:
        return env
    sample = np.unique(np.linspace(0, size - 1, CHECK_POINTS).round().astype(np.int64))
    return {name: values[sample] for name, values in env.items()}


def _same_values(shown: np.ndarray, reference: np.ndarray, type_: Type) -> bool:
    """Do the simplified form's exact values equal the program's? Reals to 1e-9 (sympy reorders
    floating-point arithmetic), with NaN and ±inf where the program has them."""
    if type_.kind == "bool":
        return shown.dtype == bool and bool(np.array_equal(shown, reference))
    if type_.kind == "int":
        return shown.dtype == object and bool(np.all(shown == reference.astype(object)))
    shown = shown.astype(np.float64)
    finite, infinite = np.isfinite(reference), np.isinf(reference)
    if not np.array_equal(np.isnan(shown), np.isnan(reference)):
        return False
    if not np.array_equal(shown[infinite], reference[infinite]):
        return False
    return bool(np.allclose(shown[finite], reference[finite], rtol=1e-9, atol=1e-12))


# --- occam synth ------------------------------------------------------------------------------


class SynthesisProgress:
    """A live status line during a search (`synthesis_progress_text`); `update` is the `progress`
    callback."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

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
        self._live.update(synthesis_progress_text(progress))


def synthesis_progress_text(progress: Progress) -> str:
    """The status of a search (rich markup): the enumerator's level, programs, candidates and
    best, on one line; the relaxed search's step, restarts whose program fits, least objective
    and temperature, then on a line of its own (programs get long) the best program met, with
    its bits."""
    best = progress.best
    if progress.step is None:
        best_text = f"{escape(str(best.program))} ({best.bits:.2f} bits)" if best else "—"
        return (f"[bold]level[/] {progress.level_bits:.2f} bits · {progress.distinct:,} programs · "
                f"{progress.candidates:,} candidates · {progress.candidates_per_second:.3g}/s · "
                f"{progress.cpu_seconds:.1f} s · [bold]best[/] {best_text}")  # fmt: skip
    if best is None:
        best_text = "—"
    else:
        code = ", fits" if best.fits_train else f" + {best.data_bits:.2f} data bits"
        best_text = f"{escape(str(best.program))} ({best.bits:.2f} bits{code})"
    fitted = f"{progress.restarts_fitted:,}/{progress.restarts:,}"
    return (f"[bold]step[/] {progress.step:,}/{progress.steps:,} · [bold]fit[/] {fitted} restarts · "
            f"best loss {progress.best_loss:.4g} · τ {progress.temperature:.3g} · {progress.cpu_seconds:.1f} s\n"
            f"[bold]best[/] {best_text} of {progress.distinct:,} program{'s' if progress.distinct != 1 else ''} met")


# What `SynthesisResult.pareto` holds (docs/search.md): no row is beaten on both columns.
PARETO_TITLE = (
    "Pareto front: each row needs fewer data bits than every shorter program found "
    "(of programs tied at one length, at most pareto_k: 3 by default)"
)


def print_synthesis(result: SynthesisResult, console: Console, *, deadline: float | None = None,
                    simplify: Callable[[Expr, Mapping[str, np.ndarray]], str | None] | None = None) -> None:
    """The result of a search: status, best program, Pareto front, posterior, test score.

    `deadline` (a `time.perf_counter()` value) bounds the sympy simplifications, the slow part:
    each gets at most what is left of it, and forms not computed in time are left out (said).
    `simplify` (default `simplifier(deadline)`) may be one that has already met some programs.
    """
    task = result.task
    simplify = simplify or simplifier(deadline)
    status = f"[bold]{result.status}[/]: {result.status_meaning}"
    console.print(f"[bold]{task.name}[/] — {status}")
    best = result.best
    if best is None:
        console.print("no candidate of the output type was found")
    else:
        fit = "fits the training data" if best.fits_train else f"{best.data_bits:.2f} bits of exceptions/residuals"
        certified = "shortest: certified" if result.certified else "not certified shortest" + (
            " (the search stopped first)" if _method(result) == "enumerate" else "")  # fmt: skip
        console.print(f"[bold green]best[/]  {escape(str(best.program))}   [dim]{best.bits:.2f} bits; {fit}; "
                      f"{certified}[/]")  # fmt: skip
        console.print(f"[dim]LaTeX[/] {escape(best.program.to_latex())}")
        simple = simplify(best.program, task.env())
        if simple:
            console.print(f"[dim]sympy[/] {escape(simple)}")
    console.print(PARETO_TITLE, style="table.title", highlight=False)  # a table's title wraps to its width
    console.print(_candidates_table(None, result.pareto, task.env(), simplify))
    if deadline is not None and time.perf_counter() >= deadline:
        console.print("[yellow]the time budget ran out while simplifying: some sympy forms are left out "
                      "(a larger --max-seconds shows them)[/]")  # fmt: skip
    console.print(_posterior_table(result))
    _print_scores_and_stats(result, console)


def simplifier(deadline: float | None) -> Callable[[Expr, Mapping[str, np.ndarray]], str | None]:
    """`simplified`, each call cut off at `deadline` (perf_counter) if that comes first, and each
    program simplified once (the best program is also a Pareto row, and goes into the JSON)."""
    known: dict[Expr, str | None] = {}

    def simplify(program: Expr, points: Mapping[str, np.ndarray]) -> str | None:
        if program.size > SIMPLIFY_MAX_SIZE:
            return None  # not simplified at all; and a key's hash would walk the whole tree
        if program not in known:
            left = SIMPLIFY_SECONDS if deadline is None else min(SIMPLIFY_SECONDS, deadline - time.perf_counter())
            known[program] = simplified(program, points, seconds=left)
        return known[program]

    return simplify


def _method(result: SynthesisResult) -> str:
    """The searcher that made `result` (a result read from a file without its config: the enumerator's)."""
    return result.config.method if result.config is not None else "enumerate"


def _print_scores_and_stats(result: SynthesisResult, console: Console) -> None:
    task, stats = result.task, result.stats
    scores = result.test_scores()
    if scores["best"] is not None:
        measure = "RMSE" if task.output_type.kind == "real" else "accuracy"
        console.print(f"[bold]test[/] ({task.n_test:,} held-out points) {measure}: best program {scores['best']:.4g}, "
                      f"posterior {scores['posterior']:.4g}")  # fmt: skip
    if _method(result) == "relaxed":
        for line in relaxed_stats_lines(result):
            console.print(f"[dim]{escape(line)}[/]")
        return
    if stats.restart_success is not None:  # a method built on the relaxed search
        console.print(f"[dim]{escape(restarts_line(result))}[/]")
    console.print(
        f"[dim]{stats.candidates:,} candidates, {stats.distinct:,} distinct functions, {stats.cpu_seconds:.2f} CPU s "
        f"({stats.candidates_per_second:.3g}/s), banks {stats.peak_bank_bytes / 2**20:.0f} MB, "
        f"equivalence on {'all' if result.equivalence == 'all' else 'training'} points[/]"
    )
    spent = time_spent_line(result)
    if spent:
        console.print(f"[dim]{escape(spent)}[/]")


def restarts_line(result: SynthesisResult) -> str:
    """How many of the relaxed search's restarts end on a program that fits (stats.restart_success)."""
    success = result.stats.restart_success
    assert success is not None
    restarts = result.config.relaxed_restarts if result.config is not None else None
    if restarts is None:
        return f"restart success {success:.3g}: the fraction of restarts whose final program fits"
    fitted = round(success * restarts)
    line = f"{fitted:,} of {restarts:,} restarts end on a program that fits (restart success {success:.3g})"
    repaired = result.stats.restarts_repaired
    if repaired:  # the fits repair made, which the relaxation's own rate does not count
        line += f", {repaired:,} more after repair from the enumerator's banks"
    return line


def relaxed_stats_lines(result: SynthesisResult) -> list[str]:
    """The relaxed search's summary: its restarts, settings, programs met and time, and when the
    first fit was found."""
    stats, config = result.stats, result.config
    assert config is not None
    restarts = f"{restarts_line(result)}; " if stats.restart_success is not None else ""
    settings = f"depth {config.relaxed_depth}, {config.relaxed_steps:,} steps, seed {config.relaxed_seed}"
    lines = [f"{restarts}{settings}; {stats.distinct:,} distinct programs met, {stats.cpu_seconds:.2f} CPU s"]
    if stats.best_seconds is not None:
        lines.append(f"first fit after {stats.best_seconds:.2f} CPU s")
    return lines


def time_spent_line(result: SynthesisResult) -> str | None:
    """When the best program was found, and what the search's remaining CPU time bought."""
    stats, best, window = result.stats, result.best, result.posterior.window
    if best is None or stats.best_seconds is None:
        return None
    rest = max(0.0, stats.cpu_seconds - stats.best_seconds)
    entries = len(result.posterior.entries)
    posterior = f"posterior {entries:,} function{'s' if entries != 1 else ''}"
    text = f"best found after {stats.best_seconds:.2f} CPU s; the other {rest:.2f} CPU s "
    covered = stats.covered_bits if stats.covered_bits is not None and math.isfinite(stats.covered_bits) else None
    if stats.unseen_weight_bound == 0:
        return text + f"{'certified it' if result.certified else 'went on'}; no other function can fit at the " \
               f"task's points, so the {window:g}-bit window was not filled: {posterior}"  # fmt: skip
    if result.status == "solved" and stats.unseen_weight_bound is None:
        return text + f"filled the posterior's {window:g}-bit window: {posterior}"
    if covered is None:
        return text + f"ran: {posterior}"
    filled = min(window, max(0.0, covered - best.total_bits))  # noise: the window is above the least total bits
    bound = "" if stats.unseen_weight_bound is None else \
        f" (what it misses weighs at most {stats.unseen_weight_bound:.2g} of it)"  # fmt: skip
    return text + f"filled the posterior's window to {filled:.2f} of {window:g} bits: {posterior}{bound}"


def _candidates_table(title: str | None, candidates, points: Mapping[str, np.ndarray],
                      simplify: Callable[[Expr, Mapping[str, np.ndarray]], str | None] = simplified) -> Table:
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
            escape(simplify(candidate.program, points) or ""),
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


# --- occam bench synth and startup (train's rows are below) ---------------------------------


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


# --- occam bench search -------------------------------------------------------------------------


def print_search_bench_row(row: dict[str, Any], console: Console) -> None:
    """One (task, method) row of `occam bench search`, as it comes."""
    if row.get("error"):
        console.print(f"[red]✗[/] {row['task']:<24} {row['method']:<10} [red]refused:[/] {escape(row['error'])}")
        return
    mark = "[green]✓[/]" if row["success_rate"] else "[red]✗[/]"
    console.print(f"{mark} {row['task']:<24} {row['method']:<10} {_search_success(row):>6}  "
                  f"{_or_dash(row['median_cpu_seconds'], '.2f'):>6} CPU s  {_search_bits(row):>15}  "
                  f"{escape(row['program'] or '')}")  # fmt: skip


def print_search_bench_table(report: dict[str, Any], console: Console) -> None:
    """The headline table of `occam bench search`: a row per task and method."""
    title = (f"occam bench search: {report['restarts']} restarts per stochastic method, {report['max_seconds']:g} s "
             f"per run" + (" [yellow](interrupted)[/]" if report["interrupted"] else ""))  # fmt: skip
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column, justify in (("task", "left"), ("method", "left"), ("exact fits", "right"), ("target", "right"),
                            ("median CPU s", "right"), ("found at", "right"), ("bits / minimal", "right"),
                            ("", "left")):  # fmt: skip
        table.add_column(column, justify=justify)
    for row in report["rows"]:
        if row.get("error"):
            table.add_row(row["task"], row["method"], "—", "—", "—", "—", "—", f"[red]refused:[/] {escape(row['error'])}")
            continue
        target = "—" if row["target_rate"] is None else f"{round(row['target_rate'] * row['restarts'])}/{row['restarts']}"
        table.add_row(row["task"], row["method"], _search_success(row), target,
                      _or_dash(row["median_cpu_seconds"], ".2f"), _or_dash(row["median_found_cpu_seconds"], ".2f"),
                      _search_bits(row),
                      "deterministic" if row["deterministic"] else "")  # fmt: skip
    console.print(table)
    console.print(f"[dim]median CPU s: of the whole call, over the runs that fit exactly; found at: when the "
                  f"searcher found its best (the enumerator then goes on to certify it). {report['wall_seconds']:.0f} s "
                  f"in all[/]")  # fmt: skip
    if report.get("size_rate_curve"):
        _print_size_rate_curve(report["size_rate_curve"], console)


def _print_size_rate_curve(curve: list[dict[str, Any]], console: Console) -> None:
    """TerpreT's curve: each stochastic method's exact-recovery rate by the certified minimal bits."""
    table = Table(title="exact recovery by the minimal program's bits (certified by the enumerator)",
                  title_justify="left", box=None, pad_edge=False)  # fmt: skip
    for column, justify in (("method", "left"), ("minimal bits", "right"), ("exact runs", "right"),
                            ("rate", "right"), ("tasks", "left")):  # fmt: skip
        table.add_column(column, justify=justify)
    for entry in curve:
        bits = "not certified" if entry["bits_from"] is None else f"{entry['bits_from']:g}–{entry['bits_to']:g}"
        table.add_row(entry["method"], bits, f"{entry['exact_runs']}/{entry['runs']}",
                      _or_dash(entry["success_rate"], ".2f"), escape(", ".join(entry["tasks"])))  # fmt: skip
    console.print(table)


def _search_success(row: dict[str, Any]) -> str:
    return f"{round(row['success_rate'] * row['restarts'])}/{row['restarts']}"


def _search_bits(row: dict[str, Any]) -> str:
    return f"{_or_dash(row['bits'], '.2f')} / {_or_dash(row['minimal_bits'], '.2f')}"


def _or_dash(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def print_startup_row(row: dict[str, Any], console: Console) -> None:
    """One command of `occam bench startup`."""
    shares = ", ".join(f"{name} {seconds:.2f}" for name, seconds in row["import_seconds_by_package"].items()
                       if seconds >= 0.005)  # fmt: skip
    heavy = f" [red]loads {', '.join(row['heavy_imports'])}[/]" if row["heavy_imports"] else ""
    console.print(f"[bold]{escape(row['command'])}[/]: median of {row['repeats']}: {row['wall_seconds']:.2f} s wall, "
                  f"{row['cpu_seconds']:.2f} CPU s, peak {row['peak_rss_mb']:.0f} MB{heavy}")  # fmt: skip
    console.print(f"[dim]  imports {row['import_seconds']:.2f} s: {shares}[/]")


def print_relaxed_bench_row(row: dict[str, Any], console: Console) -> None:
    """One case of `occam bench relaxed`: the batched step against the loop, or why it was refused."""
    if row["error"] is not None:
        reason = escape(row["error"].splitlines()[0])
        console.print(f"[bold]{escape(row['case'])}[/]: [yellow]refused[/]: {reason}")
        return
    console.print(f"[bold]{escape(row['case'])}[/] ({row['slots']} slots, {row['restarts']} restarts): one step "
                  f"{row['batched_ms']:.1f} CPU ms batched, {row['loop_ms']:.1f} ms as a loop over the restarts: "
                  f"{row['ratio']:.1f}× (median of {row['repeats']})")  # fmt: skip


# --- training ----------------------------------------------------------------------------------


class TrainingProgress:
    """A progress bar during training (step, loss, train and test accuracy at the latest
    evaluation); `update` is the `progress` callback of `neural.train`."""

    def __init__(self, console: Console, title: str, steps: int) -> None:
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as ProgressBar

        self._progress = ProgressBar(
            TextColumn(f"[bold]{escape(title)}[/]"),
            BarColumn(bar_width=20),
            TextColumn("step {task.completed:,}/{task.total:,}"),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("train {task.fields[train]}"),
            TextColumn("test {task.fields[test]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("train", total=steps, loss="—", train="—", test="—")
        self._last = 0.0
        self._started = False

    def __enter__(self) -> TrainingProgress:
        return self  # the bar appears at the first step: errors before it print nothing else

    def __exit__(self, *exc: Any) -> None:
        if self._started:
            self._progress.__exit__(*exc)

    def update(self, progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and progress.step < progress.steps:
            return
        self._last = now
        if not self._started:
            if not self._progress.console.is_terminal:
                return  # rich would draw nothing live there, only a blank line at the end
            self._progress.__enter__()
            self._started = True
        self._progress.update(self._task, completed=progress.step, loss=f"{progress.loss:.4g}",
                              train=_percent(progress.train_accuracy), test=_percent(progress.test_accuracy))  # fmt: skip


def print_training(result, metrics: dict[str, Any], console: Console) -> None:
    """The summary of a training run (`result`: neural.TrainResult; `metrics`: its metrics.json)."""
    task, trace = result.task, result.trace
    status = "[yellow]interrupted[/] at" if result.interrupted else "finished"
    console.print(f"[bold]{task.name}[/] — {escape(str(metrics['preset']))} ({metrics['model']}, "
                  f"{metrics['parameters']:,} parameters), seed {metrics['seed']}: {status} step "
                  f"{metrics['steps']:,} of {metrics['steps_requested']:,}")  # fmt: skip
    regression = "final_train_rmse" in metrics
    for split, points in (("train", task.n_train), ("test", task.n_test)):
        if points == 0:
            console.print(f"{split:<5}  no {'held-out' if split == 'test' else 'training'} points")
            continue
        measure = "within tolerance" if regression and not result.encoding.output.integer else "accuracy"
        rmse = f"  RMSE {metrics[f'final_{split}_rmse']:.4g}" if regression else ""
        console.print(f"{split:<5}  {measure} [bold]{_percent(metrics[f'final_{split}_accuracy'])}[/]  "
                      f"loss {metrics[f'final_{split}_loss']:.4g}{rmse}  [dim]({points:,} points)[/]")  # fmt: skip
    reached = []
    for split, points in (("train", task.n_train), ("test", task.n_test)):
        if points == 0:  # nothing to reach: said above
            continue
        step = metrics[f"steps_to_99_{split}"]
        reached.append(f"{split} at step {step:,}" if step is not None else f"{split} not reached")
    seconds = metrics["cpu_seconds_to_99_test"]
    if reached:
        console.print("99 % accuracy: " + ", ".join(reached) + (f" ({seconds:.1f} CPU s)" if seconds is not None else ""))
    per_step = metrics["cpu_seconds_per_step"]
    console.print(f"[dim]{metrics['cpu_seconds']:.1f} CPU s ({metrics['eval_cpu_seconds']:.1f} evaluating)"
                  + (f", {1000 * per_step:.2f} CPU ms per step" if per_step is not None else "")
                  + f", {metrics['wall_seconds']:.1f} s wall, {metrics['threads']} thread"
                  + ("s" if metrics["threads"] != 1 else "") + f", {metrics['device']}[/]")  # fmt: skip
    console.print(f"[dim]wrote {escape(metrics['out'])}: trace.npz + trace.json ({len(trace)} steps × "
                  f"{trace.outputs.shape[1]:,} points), checkpoint.pt, metrics.json[/]")  # fmt: skip


def print_train_bench_row(row: dict[str, Any], console: Console) -> None:
    """One row of `occam bench train`: a preset's run beside its reference figures, or the
    measurement of flushing denormals."""
    if "speedup" in row:
        counts = dict(row["subnormal_values"])
        outputs = f"{counts.pop('output_gradients'):,} of {counts.pop('output_gradient_values'):,}"
        others = ", ".join(f"{key} {value:,}" for key, value in counts.items())
        console.print(
            f"[bold]flush denormal[/] {row['preset']} after {row['warm_steps']:,} steps: "
            f"{row['ms_per_step_without_flush']:.2f} CPU ms/step without, {row['ms_per_step_with_flush']:.2f} with "
            f"([bold]{row['speedup']:.2f}×[/]; {row['early_ms_per_step']:.2f} over the first {row['warm_steps']:,})"
        )
        console.print(f"[dim]  subnormal float32 values, unflushed: gradient of the loss at the outputs {outputs}; "
                      f"{others}[/]")  # fmt: skip
        return
    step, seconds = row["steps_to_99_test"], row["cpu_seconds_to_99_test"]
    reached = f"99 % test at step {step:,} ({seconds:.1f} CPU s)" if step is not None else "[red]99 % test not reached[/]"
    console.print(
        f"[bold]{row['preset']:<10}[/] {row['task']:<11} {reached}; final test {_percent(row['final_test_accuracy'])}, "
        f"{row['cpu_seconds']:.1f} CPU s for {row['steps']:,} steps ({1000 * row['cpu_seconds_per_step']:.2f} ms/step)"
    )
    console.print(f"[dim]  reference: {escape(row['reference'])}[/]")


# --- occam compare: the distillation's progress and the summary -------------------------------


def print_stage(message: str, console: Console) -> None:
    """A line of the pipeline between its stages (`synthesizing`, or a stage run again and why)."""
    console.print(f"[dim]{message}…[/]")


def print_reused(out: Any, reused: Mapping[str, bool], console: Console) -> None:
    """Which stages a run took from its folder `out` (`reused`: stage → whether), if any."""
    stages = [stage for stage, hit in reused.items() if hit]
    if stages:
        console.print(f"[dim]reused from {out}: {', '.join(stages)}[/]")


class DistillationProgress:
    """A live status line while `compare` distils (enumerating the candidates, then scoring each
    recorded step); `update` is its `progress` callback. Draws only on a terminal."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self._live = Live(console=console, refresh_per_second=8, transient=True)
        self._started = False

    def __enter__(self) -> DistillationProgress:
        return self  # the line appears at the first report

    def __exit__(self, *exc: Any) -> None:
        if self._started:
            self._live.__exit__(*exc)

    def update(self, progress) -> None:
        if not self._started:
            if not self._live.console.is_terminal:
                return
            self._live.__enter__()
            self._started = True
        self._live.update(distillation_text(progress))


def distillation_text(progress) -> str:
    """One line for a DistillProgress (distill.py)."""
    budget = "" if math.isinf(progress.max_seconds) else f" of {progress.max_seconds:,.0f}"
    clock = f"{progress.seconds:,.1f} s{budget}"
    if progress.phase == "enumerating":
        return (f"distilling: enumerating candidates, {progress.candidates:,} kept, level {progress.bits:.2f} bits"
                f" — {clock}")  # fmt: skip
    return f"distilling: step {progress.done:,} of {progress.total:,} among {progress.candidates:,} candidates — {clock}"


def print_summary(
    comparison: Comparison, console: Console, *, files: Mapping[str, str | os.PathLike] | None = None
) -> None:
    """A few lines that answer the question without opening anything: the minimal program, whether
    and from when the network computes it, when memorization ended, the distilled programs, the
    final numbers, the disagreements left, and where the files are (`files`: name → path)."""
    _print_minimal(comparison, console)
    _print_learner(comparison, console)
    if files:
        _print_files(files, console)


def print_learners_summary(comparisons: Mapping[str, Comparison], console: Console, *,
                           files: Mapping[str, str | os.PathLike] | None = None) -> None:  # fmt: skip
    """`print_summary` for several learners (learner → its comparison, on one task): the minimal
    program once, each learner's lines under its name, then when each computed the minimal program."""
    first = next(iter(comparisons.values()))
    _print_minimal(first, console)
    for comparison in comparisons.values():
        console.print(f"[bold underline]{escape(learner_noun(comparison))}[/]")
        _print_learner(comparison, console)
    found = []
    for comparison in comparisons.values():
        last = comparison.snapshots[-1].step if comparison.snapshots else 0
        step = comparison.program_found_step
        found.append(f"{learner_noun(comparison)} " + (f"at step {step:,} of {last:,}" if step is not None
                                                       else f"never in {last:,} steps"))  # fmt: skip
    console.print("minimal program computed from: " + escape("; ".join(found)))
    if files:
        _print_files(files, console)


def _print_minimal(c: Comparison, console: Console) -> None:
    if c.minimal_program is None:
        console.print(f"[bold]{escape(c.task)}[/] — no program of the grammar fits the training data; nothing to compare")
    else:
        certified = "certified shortest" if c.minimal_certified else "not certified shortest"
        console.print(f"[bold]{escape(c.task)}[/] — minimal program [bold]{escape(c.minimal_program)}[/]  "
                      f"[dim]{_bits(c.minimal_bits)} bits, {certified}[/]")  # fmt: skip


def _print_learner(c: Comparison, console: Console) -> None:
    """One learner's lines of the summary (after the minimal program)."""
    noun = learner_noun(c)
    text, learned = verdict(c)
    console.print(("[bold green]learned[/]  " if learned else "[bold red]not learned[/]  ") + escape(text))
    note = shorter_code_note(c)
    if note:
        console.print(f"[yellow]note[/]  {escape(note)}")
    held_out = "held-out points" if any(s.test_accuracy is not None for s in c.snapshots) else "points"
    fitted = _fitted_line(c.snapshots)
    if fitted:
        console.print(fitted)
    bar = c.settings.get("memorization_bar")
    explains = (f"reproduces the {noun} on ≥ {_percent(bar)} of the {held_out}, halfway from chance to all"
                if bar is not None else f"reproduces the {noun} on the {held_out}")  # fmt: skip
    memorization = _memorization_line(c, noun, explains)
    if memorization:
        console.print(memorization)
    if c.distilled_sequence:
        console.print(f"distilled programs ({len(c.distilled_sequence)}), in order:")
        for line in _sequence_lines(c.distilled_sequence):
            console.print(line)
    stopped = _distillation_stopped(c.settings)
    if stopped:
        console.print(f"[yellow]{escape(stopped)}[/]")
    if c.snapshots:
        console.print(_final_line(c.snapshots[-1]))
    found = c.disagreements
    if found is not None:
        if found.count == 0:
            console.print(f"disagreements at step {found.step:,}: none")
        else:
            shown = ", ".join(point_text(point, learner=noun) for point in found.points[:3])
            more = f", … ({found.count - 3:,} more)" if found.count > 3 else ""
            console.print(f"disagreements at step {found.step:,}: [bold]{found.count:,}[/] — {escape(shown)}{more}")
            for line in by_input_lines(found.by_input):
                console.print(f"  {escape(line)}")


def _distillation_stopped(settings: Mapping[str, Any]) -> str | None:
    """A line when a budget cut the distillation short (its programs are then the shortest among
    fewer candidates), None when it reached its bound."""
    budget = {"time": "time budget (--distill-seconds)", "memory": "memory budget (--distill-memory-mb)"}
    status = settings.get("distill_status")
    if status not in budget:
        return None
    return (f"distillation stopped by its {budget[status]} after {settings.get('distill_candidates', 0):,} candidate "
            f"programs, short of its bound of {_bits(settings.get('distill_max_bits'))} bits: the distilled programs "
            "are the shortest codes among those")  # fmt: skip


def _memorization_line(c: Comparison, noun: str, explains: str, level: float = 0.99) -> str | None:
    """When memorization ended (docs/compare.md). A learner that never fits the training data
    (accuracy below `level` on it at every recorded step) never memorized it, so "memorization
    ended at step 0" would be misleading: then the line says so and what the distilled programs do."""
    if not c.snapshots:
        return None
    training = [s.train_accuracy for s in c.snapshots if s.train_accuracy is not None]
    if training and max(training) < level:
        unfitted = (f"no memorization: the {noun} never fits the training data "
                    f"(accuracy < {100 * level:.0f} %)")
        if c.memorization_ends_step is None:
            return f"{unfitted}, and no distilled program {explains}"
        return f"{unfitted}; from step {c.memorization_ends_step:,} a distilled program {explains}"
    if c.memorization_ends_step is not None:
        return (f"memorization ended at step {c.memorization_ends_step:,} "
                f"(from then a distilled program {explains})")
    return f"memorization never ended: no distilled program {explains}"


def _fitted_line(snapshots: list[Snapshot], level: float = 0.99) -> str | None:
    """When accuracy first reached `level` on the training and the held-out points: the gap
    between the two is grokking."""
    def first(name: str) -> str:
        step = next((s.step for s in snapshots if (getattr(s, name) or 0.0) >= level), None)
        return "never" if step is None else f"at step {step:,}"

    if not snapshots or snapshots[-1].train_accuracy is None:
        return None
    text = f"accuracy ≥ {100 * level:.0f} %: training points {first('train_accuracy')}"
    if snapshots[-1].test_accuracy is not None:
        text += f", held-out points {first('test_accuracy')}"
    return text


def _final_line(last: Snapshot) -> str:
    """The last step's numbers, leaving out those that are undefined (no held-out points: no test)."""
    def part(label: str, value: float | None) -> str | None:
        return None if value is None else f"{label} {_percent(value)}"

    accuracy = [p for p in (part("train", last.train_accuracy), part("test", last.test_accuracy)) if p]
    agreement = [p for p in (part("train", last.agreement_minimal_train), part("test", last.agreement_minimal_test)) if p]
    if last.rmse_minimal is not None:
        agreement.append(f"RMSE {_number(last.rmse_minimal)}")
    text = f"step {last.step:,}: " + (", ".join(accuracy) + "; " if accuracy else "")
    text += f"agreement with the minimal program {_percent(last.agreement_minimal)}"
    text += f" ({', '.join(agreement)})" if agreement else ""
    if last.agreement_posterior_test is not None:
        text += f", with the posterior {_percent(last.agreement_posterior_test)} on test points"
    return text


def _sequence_lines(sequence: list[dict[str, Any]], *, head: int = 3, tail: int = 3) -> list[str]:
    def line(index: int, entry: dict[str, Any]) -> str:
        steps = (f"step {entry['first_step']:,}" if entry["first_step"] == entry["last_step"]
                 else f"steps {entry['first_step']:,}–{entry['last_step']:,}")  # fmt: skip
        exceptions = entry.get("exceptions_first")
        noun = "exception" if exceptions == 1 and entry["exceptions_last"] == 1 else "exceptions"
        code = f"{_span(entry, 'bits', _bits)} bits" + ("" if exceptions is None else
                                                       f" ({_span(entry, 'exceptions', _count)} {noun})")
        return f"  {index + 1:>3}. {escape(entry['program'])}  [dim]{steps}: {code}[/]"

    if len(sequence) <= head + tail + 1:
        return [line(i, entry) for i, entry in enumerate(sequence)]
    hidden = len(sequence) - head - tail
    return ([line(i, sequence[i]) for i in range(head)] + [f"       [dim]… {hidden} more (report.html lists them)[/]"]
            + [line(i, sequence[i]) for i in range(len(sequence) - tail, len(sequence))])  # fmt: skip


def by_input_lines(by_input: Mapping[str, Mapping[str, int]], *, top: int = 3) -> list[str]:
    """Where the disagreements concentrate, per discrete input: its values with the most,
    e.g. `by a: 96 (40), 95 (39), 3 (12); 57 values in all`."""
    lines = []
    for name, counts in by_input.items():
        if not counts:
            continue
        ordered = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep the values' order
        shown = ", ".join(f"{value} ({count:,})" for value, count in ordered[:top])
        lines.append(f"by {name}: {shown}" + (f"; {len(ordered):,} values in all" if len(ordered) > top else ""))
    return lines


def point_text(point: dict[str, Any], *, learner: str = "network") -> str:
    """A disagreeing point (harness.Disagreements.points; "network" holds the learner's value), as
    `compare` and `diff` print it."""
    inputs = ", ".join(f"{key}={_value(value)}" for key, value in point["inputs"].items())
    return f"({inputs}): {learner} {_value(point['network'])}, program {_value(point['program'])}"


def _print_files(files: Mapping[str, str | os.PathLike], console: Console) -> None:
    paths = {name: Path(path) for name, path in files.items()}
    report = paths.get("report.html")
    if report is not None:
        console.print(f"report: [bold]{escape(str(report))}[/]")
    others = [(name, path) for name, path in paths.items() if name != "report.html"]
    if not others:
        return
    try:
        root = Path(os.path.commonpath([str(path.parent) for _, path in others]))
    except ValueError:  # paths on different drives
        root = None
    if root is not None and str(root) not in ("", "."):
        names = ", ".join(escape(str(path.relative_to(root))) for _, path in others)
        console.print(f"[dim]files in {escape(str(root))}: {names}[/]")
    else:
        for name, path in others:
            console.print(f"[dim]{escape(name)}: {escape(str(path))}[/]")


# --- occam diff ------------------------------------------------------------------------------


def print_diff(task, program, model, step, report, found, console: Console) -> None:
    """What `occam diff` prints: the agreement of a saved network with a program, and where they differ."""
    share = lambda value: "—" if value is None else f"{100 * value:.2f} %"  # noqa: E731
    console.print(f"[bold]{task.name}[/]: the network of {model} (step {step}) against "
                  f"[bold]{escape(str(program))}[/]")  # fmt: skip
    console.print(f"agreement: {share(report['agreement'])} of {task.n_points:,} points — train "
                  f"{share(report['agreement_train'])}, test {share(report['agreement_test'])}")  # fmt: skip
    console.print(f"{found.count:,} disagreements")
    for line in by_input_lines(found.by_input):
        console.print(f"  {escape(line)}")
    if found.count:
        console.print(f"the first {min(found.count, 20)}:")
    for point in found.points[:20]:
        console.print(f"  {escape(point_text(point))}" + (" (training point)" if point["train"] else ""))
    if found.count > 20:
        console.print(f"  … {found.count - 20:,} more (--json lists {len(found.points)})")


# --- occam tasks and occam check ------------------------------------------------------------


def print_tasks(summaries: list[dict[str, Any]], console: Console) -> None:
    """The table `occam tasks` prints: one line per task (describe.task_summary's), docs cut to the width."""
    table = Table(title=f"{len(summaries)} built-in tasks", title_justify="left", box=None, pad_edge=False)
    signatures = [f"{_signature(summary['inputs'])} → {summary['output']['type']}" for summary in summaries]
    counts = [f"{summary['points']:,} ({summary['train_points']:,})" for summary in summaries]
    columns = ("task", "inputs → output", "points (train)")
    widths = [max(len(header), *map(len, cells)) for header, cells in
              zip(columns, ([s["name"] for s in summaries], signatures, counts))]  # fmt: skip
    doc_width = max(20, console.width - sum(widths) - 2 * len(widths))  # one line per task: docs are cut
    for header, width in zip(columns, widths):
        table.add_column(header, no_wrap=True, width=width)
    table.add_column("doc", no_wrap=True, width=doc_width)
    for summary, signature, count in zip(summaries, signatures, counts):
        doc = summary["doc"] if len(summary["doc"]) <= doc_width else summary["doc"][: doc_width - 1] + "…"
        table.add_row(f"[bold]{summary['name']}[/]", escape(signature), count, escape(doc))
    console.print(table)


def _signature(inputs: list[dict[str, Any]]) -> str:
    """Inputs grouped by type, long groups shortened: `a, b: int`, `x0 … x10 (11): bool`."""
    groups: list[tuple[str, list[str]]] = []
    for input_ in inputs:
        if groups and groups[-1][0] == input_["type"]:
            groups[-1][1].append(input_["name"])
        else:
            groups.append((input_["type"], [input_["name"]]))
    parts = []
    for type_, names in groups:
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} … {names[-1]} ({len(names)})"
        parts.append(f"{shown}: {type_}")
    return ", ".join(parts)


def print_task_summary(summary: dict[str, Any], console: Console) -> None:
    """What `occam check` prints about a task (`summary`: describe.task_summary's)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(overflow="fold")
    inputs = ", ".join(
        f"{i['name']}: {i['type']}" + (f" {_range_text(i['range'])}" if i["range"] else "") for i in summary["inputs"]
    )
    output = summary["output"]
    grid.add_row("source", escape(summary["source"]))
    grid.add_row("inputs", escape(inputs))
    named = f"{output['name']}: " if output["name"] != "output" else ""
    range_ = f" {_range_text(output['range'])}" if output["range"] else ""
    grid.add_row("output", escape(f"{named}{output['type']}{range_}"))
    unit = f"sequences of {summary['length']} steps" if summary.get("kind") == "sequence" else "points"
    grid.add_row(unit.split()[0], f"{summary['points']:,} {unit} — train {summary['train_points']:,}, "
                                  f"test {summary['test_points']:,}")  # fmt: skip
    grid.add_row("", escape(summary["sampling"]))
    if summary["noise"]:
        grid.add_row("noise", escape(summary["noise"]))
    if summary["target"] is not None:
        lines = summary.get("target_lines") or [summary["target"]]
        grid.add_row("target", "\n".join(f"[bold]{escape(line)}[/]" for line in lines))
        if summary["target_latex"] is not None:
            grid.add_row("LaTeX", escape(summary["target_latex"]))
        if summary["target_bits"] is not None:
            grid.add_row("bits", f"{summary['target_bits']:.2f} under the task's grammar")
        else:
            grid.add_row("bits", "[yellow]not derivable[/]: " + escape(summary["target_not_derivable"]))
    else:
        grid.add_row("target", "none: the task's data are a file")
    grammar = summary["grammar"].replace("\n", "\n")
    grid.add_row("grammar", escape(grammar) + (f"  [dim](built-in {summary['grammar_builtin']} + inputs)[/]"
                                                if summary["grammar_builtin"] else ""))  # fmt: skip
    title = f"[bold green]✓[/] [bold]{summary['name']}[/]" + (f"  {escape(summary['doc'])}" if summary["doc"] else "")
    console.print(title)
    console.print(grid)
    console.print()


def _range_text(range_: list[float]) -> str:
    return str(dsl.Range(*range_))

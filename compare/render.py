"""Terminal rendering (rich) of what the commands produce: synthesis and training progress and
results, benchmark rows."""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table

from dsl import Expr
from search import Progress, SynthesisResult

__all__ = [
    "SynthesisProgress", "TrainingProgress", "print_bench_row", "print_bench_summary", "print_synthesis",
    "print_synthesis_summary", "print_train_bench_row", "print_training", "simplified", "time_spent_line",
]  # fmt: skip

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
    task = result.task
    status = f"[bold]{result.status}[/]: {result.status_meaning}"
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
    _print_scores_and_stats(result, console)


def print_synthesis_summary(result: SynthesisResult, console: Console) -> None:
    """What `print_synthesis` prints but the tables and the sympy forms (the slow part)."""
    console.print(f"[bold]{result.task.name}[/] — [bold]{result.status}[/]: {result.status_meaning}")
    best = result.best
    if best is not None:
        fit = "fits the training data" if best.fits_train else f"{best.data_bits:.2f} bits of exceptions/residuals"
        certified = "shortest: certified" if result.certified else "not certified shortest (the search stopped first)"
        console.print(f"[bold green]best[/]  {escape(str(best.program))}   [dim]{best.bits:.2f} bits; {fit}; "
                      f"{certified}[/]")  # fmt: skip
    _print_scores_and_stats(result, console)


def _print_scores_and_stats(result: SynthesisResult, console: Console) -> None:
    task, stats = result.task, result.stats
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
    spent = time_spent_line(result)
    if spent:
        console.print(f"[dim]{escape(spent)}[/]")


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


# --- training ----------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.2f} %"


class TrainingProgress:
    """A progress bar during training (step, loss, train and test accuracy at the latest
    evaluation); `update` is the `progress` callback of `neural.train`."""

    def __init__(self, console: Console, title: str, steps: int) -> None:
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

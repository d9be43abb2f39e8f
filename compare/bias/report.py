"""The simplicity-bias experiment for people: the terminal table, the figure and one
self-contained HTML page (inline CSS, the figure as a base64 `data:` URI, nothing external),
all read from `BiasResult.to_json()` so that what is shown is what is written."""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["SamplingProgress", "bias_figure", "print_bias", "print_sgd", "write_bias_html"]


class SamplingProgress:
    """A progress bar per prior while it is sampled (`update` is run_bias's `progress`)."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as ProgressBar

        self._progress = ProgressBar(TextColumn("[bold]{task.description}[/]"), BarColumn(bar_width=24),
                                     MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                     console=console, transient=True)  # fmt: skip
        self._tasks: dict[str, Any] = {}
        self._live = console.is_terminal
        self._last = 0.0

    def __enter__(self) -> SamplingProgress:
        if self._live:
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live:
            self._progress.__exit__(*exc)

    def update(self, prior: str, counted: int, samples: int) -> None:
        if not self._live:
            return
        if prior not in self._tasks:
            self._tasks[prior] = self._progress.add_task(escape(prior), total=samples)
        now = time.monotonic()
        if now - self._last > 0.1 or counted >= samples:
            self._last = now
            self._progress.update(self._tasks[prior], completed=counted)


# --- the terminal ---------------------------------------------------------------------------


def print_bias(report: dict[str, Any], console: Console, *, top: int = 8) -> None:
    """The comparison table (one row per prior), then the first prior's most frequent functions."""
    config = report["config"]
    complexity = report["complexity"]
    console.print(f"[bold]simplicity bias[/] on {config['inputs']} Boolean inputs ({2 ** config['inputs']} points), "
                  f"{config['samples']:,} samples per prior, seed {config['seed']}; minimal bits under "
                  f"[bold]{escape(config['grammar'])}[/]; correlations over functions seen ≥ {config['min_count']} "
                  f"times, {config['bootstrap']} bootstrap resamples (95 % intervals)")  # fmt: skip
    if complexity:
        console.print(f"minimal bits: {complexity['functions']:,} functions, enumeration complete to "
                      f"{complexity['covered_bits']:.1f} bits, {complexity['searched']:,} searched one by one, "
                      f"{_percent(complexity['certified_share'])} certified, {complexity['seconds']:.0f} s")  # fmt: skip
    table = Table(box=None, pad_edge=False, title_justify="left")
    for header in ("prior", "distinct", "constants", f"≥{config['min_count']}", "ρ(LZ, log P)",
                   "ρ(K, log P)", "ρ(LZ) same f", "ρ(H, log P)", "slope a (K)", f"certified ≥{config['min_count']}",
                   "certified all"):  # fmt: skip
        table.add_column(header, justify="left" if header == "prior" else "right")
    for row in report["rows"]:
        slope = row.get("slope_minimal_bits")
        table.add_row(escape(row["prior"]) + (" (interrupted)" if row["interrupted"] else ""),
                      f"{row['distinct_functions']:,}", _percent(row["constant_share"]),
                      f"{row.get('functions_min_count', 0):,}", _interval(row.get("spearman_lz")),
                      _interval(row.get("spearman_minimal_bits")), _interval(row.get("spearman_lz_certified")),
                      _value(row.get("spearman_entropy")), "—" if slope is None else f"{slope:.2f}",
                      _percent(row.get("certified_share_min_count")), _percent(row.get("certified_share")))  # fmt: skip
    console.print(table)
    if report["rows"]:
        first = report["rows"][0]
        listing = Table(title=f"most frequent functions of {escape(first['prior'])}", box=None, pad_edge=False,
                        title_justify="left")  # fmt: skip
        for header in ("share", "LZ", "bits", "shortest program"):
            listing.add_column(header, justify="left" if header == "shortest program" else "right")
        for entry in first.get("top", [])[:top]:
            bits = entry["minimal_bits"]
            shown = "—" if bits is None else f"{bits:.1f}" + ("" if entry["certified"] else "+")
            listing.add_row(_percent(entry["share"]), f"{entry['lz']:.1f}", shown, escape(entry["program"] or "—"))
        console.print(listing)
    console.print("ρ: Spearman; K: minimal bits (certified functions only; 'ρ(LZ) same f' is LZ's on those same "
                  "functions); H: the entropy of the share of ones; '+': a lower bound")  # fmt: skip


def print_sgd(report: dict[str, Any], console: Console) -> None:
    """`occam bias --sgd`'s table: per training set, the three correlations of log-probabilities
    over the functions SGD found, and which prior SGD follows more closely."""
    config = report["config"]
    console.print(f"[bold]SGD against the priors[/]: target {escape(config['target'])} on {config['inputs']} inputs, "
                  f"{config['nets']:,} networks {config['activation']} {'-'.join(map(str, config['widths']))} per "
                  f"training set, {escape(config['optimizer'])} to zero training error; Pearson of log2 P over the "
                  f"functions SGD found ≥ {config['min_count']} times (95 % bootstrap intervals)")  # fmt: skip
    table = Table(box=None, pad_edge=False)
    for header in ("|S|", "|E|", "fit", "functions", "P_B by", "SGD~B", "SGD~occam", "B~occam", "closer", "certified"):
        table.add_column(header, justify="left" if header in ("P_B by", "closer") else "right")
    for row in report["rows"]:
        table.add_row(str(row["train_size"]), str(row["test_size"]), f"{row['converged']:,}", f"{row['functions']:,}",
                      escape(row["p_b_method"]), _interval(row["sgd_vs_bayes"]), _interval(row["sgd_vs_occam"]),
                      _interval(row["bayes_vs_occam"]), row.get("closer_prior", "—"),
                      _percent(row["certified_share"]))  # fmt: skip
    console.print(table)
    console.print("B: the random-initialisation prior given S (rejection sampling, or the NNGP with EP); occam: "
                  "2^-bits of the shortest program agreeing on S ∪ E, normalised over the functions found")  # fmt: skip


def _value(correlation: dict[str, Any] | None) -> str:
    return "—" if not correlation or correlation.get("value") is None else f"{correlation['value']:.2f}"


def _interval(correlation: dict[str, Any] | None) -> str:
    if not correlation or correlation.get("value") is None:
        return "—"
    low, high = correlation["low"], correlation["high"]
    band = "" if low is None or high is None else f" [{low:.2f}, {high:.2f}]"
    return f"{correlation['value']:.2f}{band}"


def _percent(value: float | None) -> str:
    """A share as a percentage, with three significant digits below 1 % (rare functions)."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100 * value:.1f}%" if value >= 0.01 or value == 0 else f"{100 * value:.3g}%"


# --- the figure -----------------------------------------------------------------------------


def bias_figure(result: Any, path: str | os.PathLike | None = None) -> bytes:
    """log2 P(f) against minimal bits (left) and against Lempel-Ziv (right), one row per prior,
    with the fitted upper bounds; returns the PNG (and writes it to `path`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from . import measures

    config = result.config
    rows = result.rows
    figure = Figure(figsize=(9, 3.2 * len(rows)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(rows), 2, squeeze=False)
    complexity = result.complexity
    for (left, right), row in zip(axes, rows):
        counts = row.counts
        keep = counts.counts >= config.min_count
        tables, seen = counts.tables[keep], counts.counts[keep]
        log2p = np.log2(seen / counts.total)
        _scatter(right, measures.lz_complexity(tables, config.points), log2p, row.analysis.get("bound_lz"))
        right.set_xlabel("Lempel-Ziv complexity (Valle-Pérez et al.)")
        if complexity is not None:
            where = complexity.index_of(tables)
            certified = complexity.certified[where]
            _scatter(left, complexity.bits[where][certified], log2p[certified], row.analysis.get("bound_minimal_bits"))
        left.set_xlabel(f"minimal bits under {config.grammar} (certified)")
        for axis in (left, right):
            axis.set_ylabel("log2 P(f)")
            axis.set_title(row.prior, fontsize=9, loc="left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    png = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png


def _scatter(axis: Any, x: np.ndarray, y: np.ndarray, bound: dict[str, float] | None) -> None:
    axis.scatter(x, y, s=6, alpha=0.4, linewidths=0)
    if bound is not None and len(x):
        grid = np.linspace(float(np.min(x)), float(np.max(x)), 50)
        axis.plot(grid, -bound["a"] * grid + bound["b"], color="black", linewidth=1,
                  label=f"log2 P ≤ −{bound['a']:.2f}·K {'+' if bound['b'] >= 0 else '−'} {abs(bound['b']):.1f}")  # fmt: skip
        axis.legend(fontsize=7, loc="upper right")


# --- the page -------------------------------------------------------------------------------


def write_bias_html(report: dict[str, Any], png: bytes, path: str | os.PathLike) -> Path:
    """The page: the settings, the comparison table, the figure, each prior's frequent functions."""
    config = report["config"]
    header = ["prior", "samples", "distinct", "constants", f"seen ≥ {config['min_count']}", "ρ(LZ, log P)",
              "ρ(K, log P)", "ρ(LZ, log P), same f", "ρ(entropy, log P)", "slope a (K)",
              f"certified, seen ≥ {config['min_count']}", "certified, all"]  # fmt: skip
    rows = [[row["prior"], f"{row['samples']:,}", f"{row['distinct_functions']:,}", _percent(row["constant_share"]),
             f"{row.get('functions_min_count', 0):,}", _interval(row.get("spearman_lz")),
             _interval(row.get("spearman_minimal_bits")), _interval(row.get("spearman_lz_certified")),
             _interval(row.get("spearman_entropy")), "—" if row.get("slope_minimal_bits") is None else f"{row['slope_minimal_bits']:.2f}",
             _percent(row.get("certified_share_min_count")), _percent(row.get("certified_share"))] for row in report["rows"]]  # fmt: skip
    sections = [f"<h1>Simplicity bias on {config['inputs']} Boolean inputs</h1>",
                f"<p>{_e(_settings(config))}</p>", _table(header, rows),
                f'<img alt="log2 P(f) against minimal bits and Lempel-Ziv" src="data:image/png;base64,'
                f'{base64.b64encode(png).decode("ascii")}">']  # fmt: skip
    for row in report["rows"]:
        entries = [[_percent(entry["share"]), f"{entry['lz']:.1f}",
                    "—" if entry["minimal_bits"] is None else f"{entry['minimal_bits']:.1f}"
                    + ("" if entry["certified"] else "+"), entry["program"] or "—", entry["table"]]
                   for entry in row.get("top", [])]  # fmt: skip
        sections += [f"<h2>{_e(row['prior'])}: {_e(row['description'])}</h2>",
                     _table(["share", "LZ", "minimal bits", "shortest program", "truth table"], entries)]  # fmt: skip
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>occam bias</title><style>"
            "body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{padding:.2em .6em;text-align:right}"
            "td:first-child,th:first-child{text-align:left}code{font-size:85%}img{max-width:100%}"
            "</style></head><body>" + "\n".join(sections) + "</body></html>")  # fmt: skip
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def _settings(config: dict[str, Any]) -> str:
    return (f"{config['samples']:,} samples per prior, seed {config['seed']}; networks {config['inputs']}-"
            f"{'-'.join(map(str, config['widths']))}-1, σ_w = {config['sigma_w']:g}, σ_b = {config['sigma_b']:g}, "
            f"inputs {config['encoding']}; minimal bits under {config['grammar']}; correlations over functions seen "
            f"at least {config['min_count']} times ('+': a lower bound, not certified)")  # fmt: skip


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _e(text: Any) -> str:
    return html.escape(str(text))

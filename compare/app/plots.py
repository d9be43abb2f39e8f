"""The figures of a comparison: PNG files for a paper and for the HTML report (report.py).

Where it sits: `harness.compare` makes a `Comparison`; `write_plots` draws whichever of these
apply to its task and writes them into a directory, and the report embeds them.

- `accuracy_and_agreement`: train and test accuracy and the network's agreement with the
  minimal program and with the posterior, against the training step;
- `distilled_bits`: the description length of what the network computes (the distilled
  program's two-part code) against the step, beside the minimal program's bits;
- `disagreement_map`: for two discrete inputs, where the network and the minimal program differ;
- `real_fit`: for a real input, the data, the minimal program and the network on one axis.

Figures are drawn on `matplotlib.figure.Figure` objects with the Agg canvas, never through
pyplot: nothing here touches matplotlib's global backend or figure registry, so there is no
window, no figure left open and nothing to close. A plot that does not apply raises
`PlotSkipped`, whose message says why.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogFormatterSciNotation,
    MaxNLocator,
    PercentFormatter,
)

import dsl

from ..analysis.agree import agrees
from ..analysis.harness import Comparison, learner_of
from .report import learner_noun

__all__ = [
    "PlotSkipped", "Plots", "accuracy_and_agreement", "disagreement_map", "distilled_bits", "learner_noun",
    "learners_accuracy_and_agreement", "learners_distilled_bits", "map_of_disagreements", "real_fit",
    "transition_step", "write_learner_plots", "write_plots",
]  # fmt: skip

DPI = 150
# Okabe & Ito (2008), "Color universal design": distinguishable under every common colour-vision
# deficiency. Lines that can coincide also differ in style and width.
BLACK, ORANGE, GREEN, BLUE, VERMILLION, PURPLE = "#000000", "#E69F00", "#009E73", "#0072B2", "#D55E00", "#CC79A7"
GREY = "#777777"
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
}
LABEL_CHARACTERS = 32  # programs longer than this are cut in figure labels
MAX_PROGRAM_LABELS = 8  # distilled programs named on the bits plot


def _styled(draw):
    """Run a drawing function under STYLE (rcParams are read as each artist is made)."""

    @functools.wraps(draw)
    def styled(*args, **kwargs):
        with rc_context(STYLE):
            return draw(*args, **kwargs)

    return styled


class _PlainLogFormatter(LogFormatterSciNotation):
    """Log-axis labels as plain numbers (12,000 rather than 1.2×10⁴), on the ticks matplotlib
    would label anyway."""

    def __call__(self, value, pos=None) -> str:
        if not super().__call__(value, pos):
            return ""
        return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


class PlotSkipped(ValueError):
    """A plot that does not apply to this comparison; the message says why."""


class Plots(dict):
    """`write_plots`' answer: plot name → PNG path, plus `skipped`: plot name → why not drawn."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skipped: dict[str, str] = {}


# --- accuracy and agreement -------------------------------------------------------------------


@_styled
def accuracy_and_agreement(comparison: Comparison, path: str | os.PathLike) -> Path:
    """Train and test accuracy, agreement with the minimal program on every point and on the
    held-out points, and agreement with the posterior on the held-out points, against the step
    (symmetric-log x: linear from 0 to 1, logarithmic beyond, so step 0 is the left edge).
    Vertical lines mark `program_found_step` and `memorization_ends_step`. For real outputs a
    second panel shows the RMSE between the network and the minimal program."""
    snapshots = comparison.snapshots
    if not snapshots:
        raise PlotSkipped("the trace records no step")
    steps = np.array([s.step for s in snapshots], dtype=np.float64)
    real = comparison.output_type == "real"
    rmse = _series(snapshots, "rmse_minimal")
    with_rmse = real and (np.isfinite(rmse) & (rmse > 0)).any()  # a log axis; 0 where the network is exact
    figure = _figure((7.0, 5.6) if with_rmse else (7.0, 3.8))
    if with_rmse:
        axes, rmse_axes = figure.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    else:
        axes, rmse_axes = figure.subplots(), None
    # Widest and palest first: where curves coincide (test accuracy often equals the agreement
    # on the held-out points) each stays visible around the next.
    curves = (
        ("agreement_minimal", "agreement with the minimal program, all points", GREEN, "-", 3.2),
        ("train_accuracy", "train accuracy", BLUE, "-", 1.6),
        ("test_accuracy", "test accuracy", ORANGE, "-", 2.2),
        ("agreement_minimal_test", "agreement with the minimal program, test points", BLACK, "--", 1.2),
        ("agreement_posterior_test", "agreement with the posterior, test points", PURPLE, ":", 1.6),
    )
    for field, label, colour, style, width in curves:
        values = _series(snapshots, field)
        if np.isfinite(values).any():
            axes.plot(steps, values, style, color=colour, linewidth=width, label=label, marker="o",
                      markersize=2.2 if width < 2 else 0, solid_capstyle="butt")  # fmt: skip
    _mark_events(comparison, axes, rmse_axes)
    axes.set_ylim(-0.03, 1.03)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    if real:
        tolerance = comparison.settings.get("tolerance")
        within = f"within ±{tolerance:g} σ of the targets" if tolerance is not None else "within tolerance"
        axes.set_ylabel(f"share of points\n({within})")
    else:
        axes.set_ylabel("share of points")
    if comparison.minimal_program is None:
        axes.set_title(f"{comparison.task}: accuracy (no program fits the training data)")
    else:
        axes.set_title(f"{comparison.task}: the {learner_noun(comparison)} against "
                       f"{_program_label(comparison.minimal_program)}")
    bottom = axes
    if rmse_axes is not None:
        rmse_axes.plot(steps, rmse, "-", color=VERMILLION, marker="o", markersize=2.2,
                       label=f"RMSE, {learner_noun(comparison)} vs minimal program (all points)")  # fmt: skip
        _log_y(rmse_axes, minor_thresholds=(1, 0.3))
        rmse_axes.set_ylabel("RMSE (output units)")
        rmse_axes.legend(loc="upper right")
        bottom = rmse_axes
    _step_axis(bottom, steps, _step_label(comparison))
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return _save(figure, path)


# --- distilled bits ---------------------------------------------------------------------------


@_styled
def distilled_bits(comparison: Comparison, path: str | os.PathLike, *, max_labels: int = MAX_PROGRAM_LABELS) -> Path:
    """The distilled two-part code length (program bits + exception bits, log y) against the
    step (symmetric-log x), its program part, and the minimal program's bits as a horizontal
    line. Where the distilled program changes, a marker; up to `max_labels` of the distinct
    programs are named there (the last one, then those held over the most recorded steps)."""
    snapshots = [s for s in comparison.snapshots if s.distilled_bits is not None and math.isfinite(s.distilled_bits)]
    if not snapshots:
        status = comparison.settings.get("distill_status")
        raise PlotSkipped("no step was distilled" + (f" (distillation: {status})" if status else ""))
    steps = np.array([s.step for s in snapshots], dtype=np.float64)
    total = np.array([s.distilled_bits for s in snapshots], dtype=np.float64)
    program = _series(snapshots, "distilled_program_bits")
    figure = _figure((7.0, 4.2))
    axes = figure.subplots()
    axes.plot(steps, total, "-", color=BLUE, linewidth=1.8, marker="o", markersize=2.2,
              label="distilled program: two-part code (program + exceptions)")  # fmt: skip
    axes.plot(steps, program, "--", color=ORANGE, linewidth=1.2, label="distilled program: program part")
    if comparison.minimal_bits is not None:
        axes.axhline(comparison.minimal_bits, color=BLACK, linestyle=":", linewidth=1.2,
                     label=f"minimal program ({comparison.minimal_bits:.2f} bits)")  # fmt: skip
    _mark_events(comparison, axes)
    changes = [(entry, total[np.searchsorted(steps, entry["first_step"])]) for entry in comparison.distilled_sequence
               if entry["first_step"] in steps]  # fmt: skip
    if changes:
        axes.plot([entry["first_step"] for entry, _ in changes], [bits for _, bits in changes], "o", color=BLUE,
                  markerfacecolor="white", markersize=5, zorder=3, label="the distilled program changes")  # fmt: skip
    _log_y(axes)
    low = np.nanmin(np.concatenate([total, program, [comparison.minimal_bits or np.nan]]))
    high = np.nanmax(total)
    axes.set_ylim(max(low, 1e-3) / 1.6, max(high, 1.0) * 3.0)  # room above for the labels
    axes.set_ylabel("description length (bits)")
    axes.set_title(f"{comparison.task}: description length of the {learner_noun(comparison)}'s function")
    _step_axis(axes, steps, _step_label(comparison))
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    _label_programs(figure, axes, _chosen_labels(changes, steps, max_labels))
    return _save(figure, path)


def _chosen_labels(changes, steps: np.ndarray, max_labels: int) -> list[tuple[float, float, str]]:
    """The (step, bits, text) labels to draw, most important first: the last program, then
    those held over the most recorded steps (earlier first among equals)."""
    if not changes or max_labels <= 0:
        return []

    def held(entry) -> int:
        return int(np.count_nonzero((steps >= entry["first_step"]) & (steps <= entry["last_step"])))

    rest = sorted(changes[:-1], key=lambda change: (-held(change[0]), change[0]["first_step"]))
    chosen = [changes[-1], *rest][:max_labels]
    return [(entry["first_step"], bits, _program_label(entry["program"], LABEL_CHARACTERS)) for entry, bits in chosen]


def _label_programs(figure: Figure, axes, labels: Sequence[tuple[float, float, str]]) -> None:
    """Name programs at their points without overlaps: lay the figure out once, freeze it, and
    put each label (most important first) at the first offset that overlaps no label placed
    before it and stays inside the axes; a label that fits nowhere is left out."""
    if not labels:
        return
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    figure.set_layout_engine("none")  # the labels must not move the axes they were fitted to
    renderer = canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    placed = []
    offsets = [(dx, dy) for dy in (14, -16, 28, -30, 42, -44, 56, -58, 70, -72, 84, -86) for dx in (6, -6)]
    for step, bits, text in labels:
        for dx, dy in offsets:
            annotation = axes.annotate(
                text, xy=(step, bits), xytext=(dx, dy), textcoords="offset points", fontsize=7,
                ha="left" if dx > 0 else "right", va="bottom" if dy > 0 else "top", color="#222222",
                arrowprops={"arrowstyle": "-", "linewidth": 0.5, "color": GREY, "shrinkA": 0, "shrinkB": 2},
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )  # fmt: skip
            box = annotation.get_window_extent(renderer)
            fits = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
            if fits and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            annotation.remove()


# --- disagreement map -------------------------------------------------------------------------


def disagreement_map(
    comparison: Comparison,
    task: dsl.Task,
    path: str | os.PathLike,
    *,
    trace=None,
    step: int | None = None,
) -> Path:
    """For two discrete inputs: a heat map over (first input) × (second input) of where the
    network and the minimal program disagree — at the last step, or at `step` (then computed
    from `trace`, a neural FunctionTrace of `task`). See `map_of_disagreements`."""
    if comparison.minimal_program is None:
        raise PlotSkipped("there is no minimal program to disagree with")
    _check_map_inputs(task)
    last = comparison.disagreements
    if step is None or (last is not None and step == last.step):
        if last is None or last.grid is None:
            raise PlotSkipped("the comparison has no disagreement grid (too many cells)")
        step = last.step
        (row_index, column_index), _ = _cells(task)
        differ = np.array(last.grid, dtype=bool)[row_index, column_index]
    else:
        if trace is None:
            raise PlotSkipped(f"a map at step {step} needs the trace")
        differ = _differ(comparison, task, trace.at(step))
    return map_of_disagreements(task, differ, path, program=comparison.minimal_program, step=step)


@_styled
def map_of_disagreements(task: dsl.Task, differ: np.ndarray, path: str | os.PathLike, *, program: str,
                         step: int | None = None) -> Path:  # fmt: skip
    """The heat map of `differ` (a bool per task point: the network differs from `program`)
    over a two-discrete-input task. Training points are drawn in a second colour pair, so that
    the four cases (agree/disagree × train/test) are all distinct; cells that are no task point
    are hatched."""
    _check_map_inputs(task)
    (row_index, column_index), (rows, columns) = _cells(task)
    differ_grid = np.zeros((len(rows), len(columns)), dtype=bool)
    differ_grid[row_index, column_index] = differ
    present = np.zeros((len(rows), len(columns)), dtype=bool)
    present[row_index, column_index] = True
    train = np.zeros((len(rows), len(columns)), dtype=bool)
    train[row_index, column_index] = task.train
    # 0 agree/test, 1 agree/train, 2 disagree/test, 3 disagree/train
    cases = differ_grid.astype(np.int64) * 2 + train.astype(np.int64)
    colours = ["#FFFFFF", "#BBBBBB", VERMILLION, BLUE]
    names = ["agrees, test point", "agrees, training point", "disagrees, test point", "disagrees, training point"]
    figure = _figure(_map_size(len(rows), len(columns)))
    axes = figure.subplots()
    axes.grid(False)
    image = np.ma.masked_array(cases, ~present)
    colour_map = ListedColormap(colours).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    square = max(len(rows), len(columns)) < 4 * min(len(rows), len(columns))  # else stretch a long thin map
    axes.imshow(image, cmap=colour_map, norm=BoundaryNorm(np.arange(-0.5, 4.5), 4), origin="lower",
                interpolation="nearest", aspect="equal" if square else "auto")
    if max(len(rows), len(columns)) <= 40:  # cell borders, where cells are big enough to see them
        axes.vlines(np.arange(len(columns) - 1) + 0.5, -0.5, len(rows) - 0.5, color="white", linewidth=1.0)
        axes.hlines(np.arange(len(rows) - 1) + 0.5, -0.5, len(columns) - 0.5, color="white", linewidth=1.0)
    if not present.all():  # the cells that are no point are transparent: a hatched background shows through
        axes.add_patch(Rectangle((-0.5, -0.5), len(columns), len(rows), facecolor="white", edgecolor="#999999",
                                 hatch="////", linewidth=0, zorder=-1))  # fmt: skip
    for side in ("top", "right"):
        axes.spines[side].set_visible(True)
    _value_ticks(axes.xaxis, columns)
    _value_ticks(axes.yaxis, rows)
    axes.set_xlabel(f"{task.inputs[1].name} ({task.inputs[1].type})")
    axes.set_ylabel(f"{task.inputs[0].name} ({task.inputs[0].type})")
    count = int((differ_grid & present).sum())
    at = f", step {step:,}" if step is not None else ""
    axes.set_title(f"{task.name}{at}: {count:,} of {int(present.sum()):,} points disagree\n"
                   f"with {_program_label(program, 48)}")  # fmt: skip
    handles = [Patch(facecolor=colour, edgecolor="#888888", linewidth=0.5,
                     label=f"{name} ({int(((cases == case) & present).sum()):,})")
               for case, (colour, name) in enumerate(zip(colours, names))]  # fmt: skip
    if not present.all():
        handles.append(Patch(facecolor="white", edgecolor="#888888", hatch="////", label="no task point"))
    figure.legend(handles=handles, loc="outside lower center", ncols=2)
    return _save(figure, path)


def transition_step(comparison: Comparison) -> int | None:
    """A step in the middle of learning, for a second disagreement map when the network ends
    with none: the first recorded step, before the last, at which the network agrees with the
    minimal program on at least half the held-out points (all points without any) and still
    disagrees somewhere. None if there is no such step."""
    for snapshot in comparison.snapshots[:-1]:
        share = snapshot.agreement_minimal_test
        share = snapshot.agreement_minimal if share is None else share
        if share is not None and share >= 0.5 and snapshot.disagreements:
            return snapshot.step
    return None


def _check_map_inputs(task: dsl.Task) -> None:
    if len(task.inputs) != 2 or any(input_.type.kind == "real" for input_ in task.inputs):
        raise PlotSkipped("the map is drawn for tasks with exactly two discrete inputs "
                          f"(this one: {', '.join(str(input_) for input_ in task.inputs)})")  # fmt: skip


def _cells(task: dsl.Task) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Each point's (row, column) in the map, and the rows' and columns' values."""
    first, second = (task.points[input_.name] for input_ in task.inputs)
    rows, row_index = np.unique(first, return_inverse=True)
    columns, column_index = np.unique(second, return_inverse=True)
    return (row_index, column_index), (rows, columns)


def _differ(comparison: Comparison, task: dsl.Task, outputs: np.ndarray) -> np.ndarray:
    program = dsl.parse_program(comparison.minimal_program, task, expected=task.output_type)
    values = dsl.evaluate(program, task.points)
    tolerance = comparison.settings.get("tolerance_value", 0.0)
    return ~agrees(outputs, values, kind=task.output_type.kind, tolerance=tolerance)


def _map_size(rows: int, columns: int) -> tuple[float, float]:
    """Room for a square map of side `side` inches plus ticks and labels (left, below), the
    title (above) and the legend (below): constrained layout cannot grow the figure, and an
    equal-aspect map that is too tall for it pushes the title out."""
    side = 4.6 if max(rows, columns) > 8 else 3.0
    return (max(side + 0.9, 5.2), side + 2.1)


def _value_ticks(axis, values: np.ndarray) -> None:
    """Ticks at cell centres (index positions), labelled with the input's values."""
    count = len(values)
    if count <= 12:
        positions = np.arange(count)
    else:
        positions = np.array([p for p in MaxNLocator(nbins=8, integer=True).tick_values(0, count - 1)
                              if 0 <= p <= count - 1], dtype=np.int64)  # fmt: skip
    axis.set_major_locator(FixedLocator(positions))
    axis.set_ticklabels([_value_text(values[int(p)]) for p in positions])


def _value_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


# --- real fit ---------------------------------------------------------------------------------


@_styled
def real_fit(comparison: Comparison, task: dsl.Task, trace, path: str | os.PathLike, *, step: int | None = None) -> Path:
    """For a task with a real input: the training data (filled circles) and held-out data
    (open circles), the minimal program (line, evaluated with `dsl.evaluate` on a dense grid)
    and the network at the last step, or at `step` (its `probe_outputs` over the probe grid;
    its outputs at the task points when the trace has no probe), along the first real input.
    Other inputs are held at the probe-grid value nearest the middle of their range, and only
    the data points near that slice are drawn (within 5 % of each other input's range). When
    held-out points lie beyond the training points (a wider `test` range), the training range
    is shaded."""
    real_inputs = [input_ for input_ in task.inputs if input_.type.kind == "real"]
    if not real_inputs:
        raise PlotSkipped("the task has no real input")
    if len(trace.steps) == 0:
        raise PlotSkipped("the trace records no step")
    index = len(trace.steps) - 1 if step is None else int(np.searchsorted(trace.steps, step))
    if index >= len(trace.steps) or (step is not None and trace.steps[index] != step):
        raise PlotSkipped(f"step {step} is not in the trace")
    step = int(trace.steps[index])
    along = real_inputs[0]
    others = [input_ for input_ in task.inputs if input_.name != along.name]
    if trace.probe is not None and trace.probe_outputs is not None:
        grid = trace.probe
        held = {input_.name: _middle(grid[input_.name], input_) for input_ in others}
        on_slice = np.ones(len(grid[along.name]), dtype=bool)
        for name, value in held.items():
            on_slice &= grid[name] == value
        slice_env = {name: values[on_slice] for name, values in grid.items()}
        network = np.asarray(trace.probe_outputs[index])[on_slice]
    elif not others:
        held = {}
        slice_env = task.env()
        network = np.asarray(trace.outputs[index])
    else:
        raise PlotSkipped("the trace has no probe grid, and the task's points do not lie on a line through "
                          f"the input space ({len(task.inputs)} inputs)")  # fmt: skip
    x = slice_env[along.name].astype(np.float64)
    order = np.argsort(x, kind="stable")
    x, network = x[order], network[order].astype(np.float64)
    near = np.ones(task.n_points, dtype=bool)
    for input_ in others:
        values = task.points[input_.name].astype(np.float64)
        span = float(values.max() - values.min()) or 1.0
        near &= np.abs(values - float(held[input_.name])) <= 0.05 * span
    data_x = task.points[along.name].astype(np.float64)
    targets = task.target_values.astype(np.float64)
    figure = _figure((6.4, 4.4))
    axes = figure.subplots()
    shown = [targets[near]]
    if comparison.minimal_program is not None:
        dense_x = np.linspace(x.min(), x.max(), max(len(x), 1024)) if not others else x
        dense_env = ({along.name: dense_x.astype(along.type.dtype)} if not others
                     else {name: values[order] for name, values in slice_env.items()})  # fmt: skip
        program = dsl.parse_program(comparison.minimal_program, task, expected=task.output_type)
        with np.errstate(all="ignore"):
            program_values = np.asarray(dsl.evaluate(program, dense_env), dtype=np.float64)
        program_values = np.broadcast_to(program_values, dense_x.shape)
        axes.plot(dense_x, program_values, "-", color=BLACK, linewidth=1.6,
                  label=f"minimal program: {_program_label(comparison.minimal_program, 40)}")  # fmt: skip
        shown.append(program_values)
    discrete = task.output_type.kind != "real"
    axes.plot(x, network, "--", color=VERMILLION, linewidth=1.8, drawstyle="steps-mid" if discrete else "default",
              label=f"{learner_noun(comparison)} at step {step:,}")  # fmt: skip
    train, test = task.train & near, task.test & near
    nearby = " within 5 % of the slice" if others else ""
    axes.plot(data_x[train], targets[train], "o", color=BLUE, markersize=4,
              label=f"training data{nearby} ({int(train.sum())} of {task.n_train})")  # fmt: skip
    if test.any():
        axes.plot(data_x[test], targets[test], "o", color=BLUE, markerfacecolor="white", markersize=4,
                  label=f"held-out data{nearby} ({int(test.sum())} of {task.n_test})")  # fmt: skip
    _shade_training_range(axes, data_x[task.train], data_x[task.test])
    low, high = _finite_span(np.concatenate([np.ravel(values) for values in shown] + [network]), shown)
    axes.set_ylim(low, high)
    axes.set_xlabel(along.name + (f" (held: {_held_text(held)})" if held else ""))
    axes.set_ylabel(f"{task.output_name or 'output'} ({task.output_type})")
    axes.set_title(f"{comparison.task}: data, minimal program and {learner_noun(comparison)}")
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return _save(figure, path)


def _shade_training_range(axes, train_x: np.ndarray, test_x: np.ndarray) -> None:
    """Shade the span of the training points along the axis when held-out points lie beyond it:
    there the network extrapolates."""
    if len(train_x) == 0 or len(test_x) == 0:
        return
    low, high = float(train_x.min()), float(train_x.max())
    if test_x.min() >= low and test_x.max() <= high:
        return
    axes.axvspan(low, high, color=GREY, alpha=0.12, linewidth=0, zorder=0,
                 label=f"training range {_value_text(low)} … {_value_text(high)}")  # fmt: skip


def _middle(values: np.ndarray, input_: dsl.Input):
    """The probe-grid value of an input nearest the middle of its range."""
    unique = np.unique(values)
    bounds = input_.bounds
    middle = (bounds.low + bounds.high) / 2 if bounds is not None else (unique[0] + unique[-1]) / 2
    return unique[np.argmin(np.abs(unique.astype(np.float64) - float(middle)))]


def _held_text(held: dict) -> str:
    return ", ".join(f"{name} = {_value_text(value)}" for name, value in held.items())


def _finite_span(everything: np.ndarray, reference: list[np.ndarray]) -> tuple[float, float]:
    """y limits: the span of the data and the program (padded), so that a network far off
    does not flatten them; the network's own span when there is nothing else finite."""
    values = np.concatenate([np.ravel(r) for r in reference]) if reference else everything
    values = values[np.isfinite(values)]
    if len(values) == 0:
        values = everything[np.isfinite(everything)]
    if len(values) == 0:
        return -1.0, 1.0
    low, high = float(values.min()), float(values.max())
    pad = 0.12 * (high - low) or 0.5
    return low - pad, high + pad


# --- all of them ------------------------------------------------------------------------------


def write_plots(comparison: Comparison, task: dsl.Task, trace, directory: str | os.PathLike) -> Plots:
    """Draw every plot that applies into `directory` (created if missing) as NAME.png; returns
    name → path, with `.skipped`: name → why a plot was not drawn. Names:
    `accuracy_and_agreement`, `distilled_bits`, `disagreement_map`, `disagreement_map_midway`
    (only when the network ends with no disagreement but passed through a step with some: see
    `transition_step`), `real_fit`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plots = Plots()
    midway = transition_step(comparison)
    last_count = comparison.disagreements.count if comparison.disagreements is not None else None
    drawers = {
        "accuracy_and_agreement": lambda path: accuracy_and_agreement(comparison, path),
        "distilled_bits": lambda path: distilled_bits(comparison, path),
        "disagreement_map": lambda path: disagreement_map(comparison, task, path),
        "disagreement_map_midway": lambda path: _midway_map(comparison, task, trace, path, midway, last_count),
        "real_fit": lambda path: real_fit(comparison, task, trace, path),
    }
    for name, draw in drawers.items():
        try:
            plots[name] = draw(directory / f"{name}.png")
        except PlotSkipped as skipped:
            plots.skipped[name] = str(skipped)
            (directory / f"{name}.png").unlink(missing_ok=True)  # an earlier run's would not belong here
    return plots


# --- several learners -------------------------------------------------------------------------


@_styled
def learners_accuracy_and_agreement(comparisons: dict[str, Comparison], path: str | os.PathLike) -> Path:
    """Every learner on one axis (one colour each, against its own step): agreement with the
    minimal program on every point (solid), test accuracy (dashed; train accuracy where nothing is
    held out), and a vertical line where it computes the minimal program from on. The legend has
    one column per learner, headed by its name."""
    return _save(_learners_accuracy_figure(comparisons), path, tight=True)


@_styled
def _learners_accuracy_figure(comparisons: dict[str, Comparison]) -> Figure:
    if not any(c.snapshots for c in comparisons.values()):
        raise PlotSkipped("the traces record no step")
    figure = _figure((7.0, 4.2))
    axes = figure.subplots()
    steps_seen: list[float] = []
    columns = []
    for learner, comparison in comparisons.items():
        snapshots = comparison.snapshots
        steps = np.array([s.step for s in snapshots], dtype=np.float64)
        steps_seen += steps.tolist()
        colour, noun = LEARNER_COLOURS.get(learner, GREEN), learner_noun(comparison)
        agreement = _series(snapshots, "agreement_minimal")
        (agree_line,) = axes.plot(steps, agreement, "-", color=colour, linewidth=2.4)
        accuracy = _series(snapshots, "test_accuracy")
        split = "test"
        if not np.isfinite(accuracy).any():
            accuracy, split = _series(snapshots, "train_accuracy"), "train"
        (accuracy_line,) = axes.plot(steps, accuracy, "--", color=colour, linewidth=1.2, marker="o",
                                     markersize=2.2)  # fmt: skip
        column = [(_blank(), noun), (agree_line, "agreement with the minimal program, all points"),
                  (accuracy_line, f"{split} accuracy")]  # fmt: skip
        found = comparison.program_found_step
        if found is not None:
            found_line = axes.axvline(found, color=colour, linestyle=":", linewidth=1.0)
            column.append((found_line, f"the minimal program from step {found:,}"))
        columns.append(column)
    axes.set_ylim(-0.03, 1.03)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylabel("share of points")
    first = next(iter(comparisons.values()))
    axes.set_title(f"{first.task}: {' and '.join(learner_noun(c) for c in comparisons.values())} against "
                   f"{_program_label(first.minimal_program)}")  # fmt: skip
    _step_axis(axes, np.array(steps_seen or [1.0]), _learners_step_label(comparisons))
    _column_legend(figure, columns)
    return figure


def _blank():
    """A legend handle that draws nothing: for a column's heading and to pad a short column."""
    return Line2D([], [], linestyle="none", marker="none")


def _column_legend(figure: Figure, columns: list[list[tuple]]) -> None:
    """A legend below the axes with one column per list of (handle, label), the first entry of
    each its heading in bold: the learner's name is said once, not in every label (which made
    the labels too wide for the figure)."""
    rows = max(len(column) for column in columns)
    padded = [column + [(_blank(), "")] * (rows - len(column)) for column in columns]
    entries = [entry for column in padded for entry in column]  # matplotlib fills the columns in turn
    legend = figure.legend([h for h, _ in entries], [text for _, text in entries], loc="outside lower center",
                           ncols=len(columns), handlelength=2.4)  # fmt: skip
    for column_index in range(len(columns)):
        legend.get_texts()[column_index * rows].set_fontweight("bold")


@_styled
def learners_distilled_bits(comparisons: dict[str, Comparison], path: str | os.PathLike) -> Path:
    """Every learner's distilled two-part code (solid) and its program part (dashed) against its
    own step, one colour each, beside the minimal program's bits."""
    series = {}
    for learner, comparison in comparisons.items():
        snapshots = [s for s in comparison.snapshots if s.distilled_bits is not None and math.isfinite(s.distilled_bits)]
        if snapshots:
            series[learner] = (comparison, snapshots)
    if not series:
        raise PlotSkipped("no step was distilled")
    figure = _figure((7.0, 4.2))
    axes = figure.subplots()
    steps_seen: list[float] = []
    lows, highs = [], []
    for learner, (comparison, snapshots) in series.items():
        steps = np.array([s.step for s in snapshots], dtype=np.float64)
        total = np.array([s.distilled_bits for s in snapshots], dtype=np.float64)
        program = _series(snapshots, "distilled_program_bits")
        steps_seen += steps.tolist()
        lows.append(np.nanmin(np.concatenate([total, program])))
        highs.append(np.nanmax(total))
        colour, noun = LEARNER_COLOURS.get(learner, GREEN), learner_noun(comparison)
        axes.plot(steps, total, "-", color=colour, linewidth=1.8, marker="o", markersize=2.2,
                  label=f"{noun}: two-part code")  # fmt: skip
        axes.plot(steps, program, "--", color=colour, linewidth=1.0, label=f"{noun}: program part")
    first = next(iter(comparisons.values()))
    if first.minimal_bits is not None:
        axes.axhline(first.minimal_bits, color=BLACK, linestyle=":", linewidth=1.2,
                     label=f"minimal program ({first.minimal_bits:.2f} bits)")  # fmt: skip
        lows.append(first.minimal_bits)
    _log_y(axes)
    axes.set_ylim(max(min(lows), 1e-3) / 1.6, max(max(highs), 1.0) * 3.0)
    axes.set_ylabel("description length (bits)")
    axes.set_title(f"{first.task}: description length of each learner's function")
    _step_axis(axes, np.array(steps_seen), _learners_step_label(comparisons))
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return _save(figure, path, tight=True)


def _learners_step_label(comparisons: dict[str, Comparison]) -> str:
    short = {"network": "training", "relaxed": "Adam"}
    return "step (" + "; ".join(f"{learner_noun(c)}: {short.get(learner_of(c), 'step')}"
                                for c in comparisons.values()) + ")"  # fmt: skip


def write_learner_plots(comparisons: dict[str, Comparison], task: dsl.Task, traces: dict, directory: str | os.PathLike) -> Plots:
    """`write_plots` for several learners (learner → its comparison and its trace): the accuracy and
    the distilled bits of all of them on one figure each (`accuracy_and_agreement`,
    `distilled_bits`), and each learner's own figures as NAME_LEARNER (`distilled_bits_relaxed`,
    `disagreement_map_network`, …)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plots = Plots()
    combined = {"accuracy_and_agreement": lambda path: learners_accuracy_and_agreement(comparisons, path),
                "distilled_bits": lambda path: learners_distilled_bits(comparisons, path)}  # fmt: skip
    for name, draw in combined.items():
        try:
            plots[name] = draw(directory / f"{name}.png")
        except PlotSkipped as skipped:
            plots.skipped[name] = str(skipped)
            (directory / f"{name}.png").unlink(missing_ok=True)
    for learner, comparison in comparisons.items():
        own = write_plots(comparison, task, traces[learner], directory / learner)
        for name, path in own.items():
            target = directory / f"{name}_{learner}.png"
            Path(path).replace(target)
            plots[f"{name}_{learner}"] = target
        plots.skipped.update({f"{name}_{learner}": why for name, why in own.skipped.items()})
        (directory / learner).rmdir()
    return plots


def _midway_map(comparison, task, trace, path, midway, last_count) -> Path:
    if last_count != 0:
        raise PlotSkipped("drawn only when the network ends with no disagreement")
    if midway is None:
        raise PlotSkipped("no recorded step agrees on half the held-out points while still disagreeing somewhere")
    return disagreement_map(comparison, task, path, trace=trace, step=midway)


# --- shared -----------------------------------------------------------------------------------


def _figure(size: tuple[float, float]) -> Figure:
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def _save(figure: Figure, path: str | os.PathLike, *, tight: bool = False) -> Path:
    """Write the figure as a PNG; `tight` grows or trims the canvas to everything drawn, so
    that nothing is cut off (the figures of several learners, whose legends vary the most)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    extent = {"bbox_inches": "tight", "pad_inches": 0.05} if tight else {}
    figure.savefig(path, dpi=DPI, format="png", metadata={"Software": None}, **extent)
    return path


def _series(snapshots, field: str) -> np.ndarray:
    return np.array([_nan(getattr(s, field)) for s in snapshots], dtype=np.float64)


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def _log_y(axes, *, minor_thresholds: tuple[float, float] = (2, 0.5)) -> None:
    """A log y axis with plain labels; minor ticks are labelled (some, all) when it spans at
    most (first, second) decades: give a short axis smaller thresholds."""
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(_PlainLogFormatter())
    axes.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False, minor_thresholds=minor_thresholds))


def _step_axis(axes, steps: np.ndarray, label: str = "training step") -> None:
    """Symmetric-log steps: linear on [0, 1], logarithmic beyond, so step 0 is drawn."""
    axes.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.set_xlim(0, max(float(steps.max()), 1.0) * 1.08)
    axes.set_xlabel(f"{label} (symmetric log scale: linear from 0 to 1)")


LEARNER_STEPS = {"network": "training step", "relaxed": "Adam step of the soft tree"}
LEARNER_COLOURS = {"network": BLUE, "relaxed": VERMILLION}


def _step_label(comparison: Comparison) -> str:
    return LEARNER_STEPS.get(learner_of(comparison), "step")


def _mark_events(comparison: Comparison, *axes_list) -> None:
    events = (
        (comparison.memorization_ends_step, "memorization ends", GREY, (0, (4, 2))),
        (comparison.program_found_step, "minimal program found", BLACK, "-"),
    )
    for step, label, colour, style in events:
        if step is None:
            continue
        for index, axes in enumerate(a for a in axes_list if a is not None):
            axes.axvline(step, color=colour, linestyle=style, linewidth=0.9, alpha=0.8,
                         label=f"{label} (step {step:,})" if index == 0 else None)  # fmt: skip


def _program_label(text: str | None, limit: int = 60) -> str:
    if text is None:
        return "no minimal program"
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")  # a pair of $ would start mathtext

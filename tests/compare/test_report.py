"""The plots, the HTML page and the terminal summary, on small constructed comparisons."""

import base64
import dataclasses
import html
import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.image import imread
from PIL import Image
from rich.console import Console

import dsl
import search
from compare.analysis.harness import Comparison, Snapshot, compare
from compare.app.plots import PlotSkipped, disagreement_map, real_fit, write_plots
from compare.app.report import latex_image, write_report_html
from compare.app.terminal import print_summary
from neural.trace import FunctionTrace, probe_grid
from tests.compare.traces import trace_of

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VERMILLION = np.array([0xD5, 0x5E, 0x00]) / 255  # the disagreement map's "disagrees, test point"

MOD7 = """task mod7 {
    doc     "a + b mod 7 <script>alert(1)</script> & <b>bold</b> 'quoted'"
    input   a, b: int 0..6
    output  int 0..6
    target  (a + b) % 7
    grammar { int -> a, b, 0, 1, 7, int + int, int % int }
    split   train 50% seed 0
}"""

CUBIC = """task cubic {
    input   x: real -1..1
    output  real
    target  x * x * x + x
    sample  20 uniform seed 0
    grammar koza
}"""

PLANE = """task plane {
    input   x, y: real 0..1
    output  real
    target  x + y * y
    sample  30 uniform seed 0
    grammar koza
}"""


@pytest.fixture(scope="module")
def task():
    (task,) = dsl.parse_tasks(MOD7)
    return task


@pytest.fixture(scope="module")
def synthesis(task):
    return search.synthesize(task)


@pytest.fixture(scope="module")
def wrong_at(task):
    """Five held-out points where the network is wrong at step 10."""
    return np.flatnonzero(task.test)[:5]


@pytest.fixture(scope="module")
def trace(task, wrong_at):
    """Constant 0, then the training table with 0 elsewhere, then right but at 5 held-out points,
    then the program everywhere."""
    target = task.target_values
    memorized = np.where(task.train, target, 0)
    almost = target.copy()
    almost[wrong_at] = (almost[wrong_at] + 1) % 7
    return trace_of(task, [0, 3, 10, 40], [np.zeros_like(target), memorized, almost, target])


@pytest.fixture(scope="module")
def learned(task, synthesis, trace) -> Comparison:
    return compare(task, synthesis, trace)


@pytest.fixture(scope="module")
def stuck(task, synthesis, trace) -> Comparison:
    """The same run, stopped at step 10: five disagreements left."""
    partial = trace_of(task, trace.steps[:3], trace.outputs[:3])
    return compare(task, synthesis, partial)


def assert_png(path, *, min_pixels=300):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    pixels = imread(path)
    assert pixels.shape[0] >= min_pixels and pixels.shape[1] >= min_pixels
    assert np.ptp(pixels[..., :3]) > 0.5, "the image is (nearly) one colour"
    with Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((150, 150), abs=0.5)


def vermillion_pixels(path) -> int:
    pixels = imread(path)[..., :3]
    return int(np.all(np.abs(pixels - VERMILLION) < 0.02, axis=-1).sum())


# --- plots ------------------------------------------------------------------------------------


def test_write_plots_draws_what_applies_and_says_why_not_the_rest(task, trace, learned, tmp_path):
    assert learned.program_found_step == 40 and learned.disagreements.count == 0
    plots = write_plots(learned, task, trace, tmp_path / "plots")
    assert set(plots) == {"accuracy_and_agreement", "distilled_bits", "disagreement_map", "disagreement_map_midway"}
    for name, path in plots.items():
        assert path == tmp_path / "plots" / f"{name}.png"
        assert_png(path)
    assert plots.skipped == {"real_fit": "the task has no real input"}


def test_the_disagreement_map_shows_disagreements_where_there_are_some(task, trace, learned, stuck, tmp_path):
    none_left = disagreement_map(learned, task, tmp_path / "none.png")
    five_left = disagreement_map(stuck, task, tmp_path / "five.png")
    midway = disagreement_map(learned, task, tmp_path / "midway.png", trace=trace, step=10)
    assert stuck.disagreements.count == 5 and np.sum(stuck.disagreements.grid) == 5
    cell = imread(five_left).shape[0] * imread(five_left).shape[1] / 7 / 7 / 4  # a cell is over ¼ of this
    assert vermillion_pixels(five_left) > vermillion_pixels(none_left) + 5 * cell
    assert vermillion_pixels(midway) == vermillion_pixels(five_left)  # the same step, from the trace


def test_a_sampled_domain_hatches_the_cells_that_are_no_point(tmp_path):
    (task,) = dsl.parse_tasks("""task sampled {
        input   a, b: int 0..15
        output  int 0..30
        target  a + b
        sample  60 uniform seed 0
        grammar { int -> a, b, 1, int + int }
        split   train 50% seed 0
    }""")
    outputs = np.where(task.train, task.target_values, task.target_values + 1)
    comparison = compare(task, search.synthesize(task), trace_of(task, [0, 5], [outputs, outputs]))
    assert comparison.disagreements.count == task.n_test
    assert_png(disagreement_map(comparison, task, tmp_path / "map.png"))
    pixels = imread(tmp_path / "map.png")[..., :3]
    hatch_grey = np.all(np.abs(pixels - 0x99 / 255) < 0.02, axis=-1).sum()
    assert hatch_grey > 1000  # the hatching shows through the (transparent) missing cells


def test_the_map_is_only_for_two_discrete_inputs(tmp_path):
    majority = dsl.load_task("majority3")
    comparison = Comparison(
        task="majority3", fingerprint=majority.fingerprint, output_type="bool", minimal_program="x",
        minimal_bits=1.0, minimal_latex="x", minimal_certified=True, posterior_size=1, program_found_step=None,
        memorization_ends_step=None, distilled_sequence=[], snapshots=[], disagreements=None,
    )  # fmt: skip
    with pytest.raises(PlotSkipped, match="two discrete inputs"):
        disagreement_map(comparison, majority, tmp_path / "map.png")


def real_comparison(task, trace) -> Comparison:
    """A comparison of a real task, built by hand (no synthesis): the target is the minimal program."""
    values = dsl.evaluate(task.target, task.points)
    snapshots = []
    for step, outputs in zip(trace.steps, trace.outputs):
        rmse = float(np.sqrt(np.mean((outputs - values) ** 2)))
        agree = float(np.mean(np.abs(outputs - values) <= 0.05))
        snapshots.append(Snapshot(
            step=int(step), train_accuracy=agree, test_accuracy=None, agreement_minimal=agree,
            agreement_minimal_train=agree, agreement_minimal_test=None, agreement_posterior_test=None,
            rmse_minimal=rmse, disagreements=round((1 - agree) * task.n_points), distilled_program=str(task.target),
            distilled_bits=30.0 + 100 * rmse, distilled_program_bits=30.0, distilled_data_bits=100 * rmse,
            distilled_exceptions=None, memorization=False,
        ))  # fmt: skip
    return Comparison(
        task=task.name, fingerprint=task.fingerprint, output_type="real", minimal_program=str(task.target),
        minimal_bits=30.0, minimal_latex=task.target.to_latex(), minimal_certified=False, posterior_size=3,
        program_found_step=None, memorization_ends_step=int(trace.steps[0]),
        distilled_sequence=[{"program": str(task.target), "program_bits": 30.0,
                             "first_step": 0, "bits_first": snapshots[0].distilled_bits, "exceptions_first": None,
                             "last_step": int(trace.steps[-1]), "bits_last": snapshots[-1].distilled_bits,
                             "exceptions_last": None}],
        snapshots=snapshots, disagreements=None, settings={"tolerance": 0.05, "tolerance_value": 0.05},
    )  # fmt: skip


def real_trace(task, *, with_probe=True) -> FunctionTrace:
    """The target plus a shrinking wiggle, at steps 0, 10 and 100."""
    probe = probe_grid(task)

    def network(env, scale):
        return dsl.evaluate(task.target, env) + scale * np.sin(7 * env["x"])

    scales = (1.0, 0.3, 0.01)
    return trace_of(
        task, [0, 10, 100], [network(task.env(), s) for s in scales],
        probe=probe if with_probe else None,
        probe_outputs=np.stack([network(probe, s) for s in scales]) if with_probe else None,
    )  # fmt: skip


def test_a_real_task_gets_the_fit_and_an_rmse_panel(tmp_path):
    (task,) = dsl.parse_tasks(CUBIC)
    trace = real_trace(task)
    plots = write_plots(real_comparison(task, trace), task, trace, tmp_path)
    assert set(plots) == {"accuracy_and_agreement", "distilled_bits", "real_fit"}
    for path in plots.values():
        assert_png(path)
    assert "two discrete inputs" in plots.skipped["disagreement_map"]


def test_two_real_inputs_are_cut_through_the_middle_or_skipped_without_a_probe(tmp_path):
    (task,) = dsl.parse_tasks(PLANE)
    trace = real_trace(task)
    comparison = real_comparison(task, trace)
    assert_png(real_fit(comparison, task, trace, tmp_path / "fit.png"))
    without = real_trace(task, with_probe=False)
    with pytest.raises(PlotSkipped, match="no probe grid"):
        real_fit(real_comparison(task, without), task, without, tmp_path / "none.png")


EXTRAPOLATION = """task extrapolation {
    input   x: real 0..4
    output  real
    target  x * x
    grammar { real -> x, 1, 2, real + real, real * real }
    sample  30 uniform seed 0
    test    30 uniform seed 1 range x: 0..8
}"""


def test_the_fit_covers_the_held_out_range_and_marks_the_training_range(tmp_path, monkeypatch):
    """Before, the probe grid covered the declared range (0..4) only: the network's and the
    program's curves stopped where extrapolation begins."""
    (task,) = dsl.parse_tasks(EXTRAPOLATION)
    held_out = task.points["x"][task.test]
    assert held_out.max() > 6 and task.points["x"][task.train].max() <= 4
    grid = probe_grid(task)["x"]
    assert grid.min() == 0.0 and grid.max() == task.points["x"].max()
    trace = real_trace(task)
    drawn = []
    monkeypatch.setattr("compare.app.plots._save", lambda figure, path: drawn.append(figure) or path)
    real_fit(real_comparison(task, trace), task, trace, tmp_path / "fit.png")
    (axes,) = drawn[0].axes
    curves = {line.get_label().split(":")[0]: line.get_xdata() for line in axes.get_lines()}
    for name in ("minimal program", "network at step 100"):
        assert curves[name].min() == 0.0 and curves[name].max() == held_out.max()
    shaded = [patch for patch in axes.patches if patch.get_label().startswith("training range")]
    assert len(shaded) == 1
    low, width = shaded[0].get_x(), shaded[0].get_width()  # data coordinates along x
    train_x = task.points["x"][task.train]
    assert (low, low + width) == (pytest.approx(train_x.min()), pytest.approx(train_x.max()))


def test_no_training_range_is_shaded_when_nothing_lies_beyond_it(tmp_path, monkeypatch):
    (task,) = dsl.parse_tasks(CUBIC)
    trace = real_trace(task)
    drawn = []
    monkeypatch.setattr("compare.app.plots._save", lambda figure, path: drawn.append(figure) or path)
    real_fit(real_comparison(task, trace), task, trace, tmp_path / "fit.png")
    assert not [patch for patch in drawn[0].axes[0].patches if patch.get_label().startswith("training range")]


# --- the page ---------------------------------------------------------------------------------


EXTERNAL = [
    r"http://", r"https://", r"src=\"//", r"href=\"//", r"<link", r"<script", r"@import", r"ftp://",
    r"url\((?!\s*['\"]?data:)",  # url(...) to anything but a data URI
    r"src=\"(?!data:)",  # every src is a data URI
    r"href=\"(?!#)",  # links only within the page
]  # fmt: skip


class TagBalance(HTMLParser):
    VOID = frozenset({"meta", "img", "br", "hr", "input", "link", "source", "wbr", "col", "area", "base", "embed"})

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]}")
        else:
            self.open.pop()


@pytest.fixture(scope="module")
def page(task, trace, stuck, tmp_path_factory):
    directory = tmp_path_factory.mktemp("report")
    plots = write_plots(stuck, task, trace, directory / "plots")
    path = write_report_html(stuck, task, plots, directory / "report.html")
    return path.read_text(encoding="utf-8"), plots


def test_the_page_loads_nothing_from_anywhere(page):
    text, _ = page
    for pattern in EXTERNAL:
        assert not re.search(pattern, text, flags=re.IGNORECASE), pattern


def test_the_page_is_well_formed(page):
    parser = TagBalance()
    parser.feed(page[0])
    parser.close()
    assert parser.errors == [] and parser.open == []


def test_the_page_embeds_every_plot_and_the_formula(page):
    text, plots = page
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    images = [base64.b64decode(data) for data in embedded]
    for path in plots.values():
        assert path.read_bytes() in images
    assert len(images) == len(plots) + 1  # the minimal program's LaTeX, drawn by mathtext
    assert all(image.startswith(PNG_SIGNATURE) for image in images)


def test_the_page_escapes_text(page):
    text, _ = page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &#x27;quoted&#x27;" in text
    assert "<b>" not in text and "alert(1)</script>" not in text


def test_the_page_has_the_key_numbers(page, stuck, wrong_at, task):
    text, _ = page
    assert "(a + b) % 7" in text
    assert f"{stuck.minimal_bits:.2f} bits" in text
    assert "<th>minimal program found at step</th><td>never</td>" in text
    assert f"<th>memorization ends at step</th><td>{stuck.memorization_ends_step:,}</td>" in text
    last = stuck.snapshots[-1]
    assert f"<th>test accuracy</th><td>{100 * last.test_accuracy:.2f} %</td>" in text
    assert "differ on <strong>5</strong> points" in text
    a, b = (int(task.points[name][wrong_at[0]]) for name in ("a", "b"))
    assert f"<td>{a}</td><td>{b}</td><td>{(a + b + 1) % 7}</td><td>{(a + b) % 7}</td><td>test</td>" in text
    for entry in stuck.distilled_sequence:
        assert f"<code>{html.escape(entry['program'])}</code>" in text


def test_latex_that_mathtext_cannot_draw_is_shown_as_source(task, stuck, tmp_path):
    cases = r"\begin{cases} a & \text{if } b < 1 \\ b & \text{otherwise} \end{cases}"
    assert latex_image(cases) is None and latex_image(stuck.minimal_latex) is not None
    path = write_report_html(dataclasses.replace(stuck, minimal_latex=cases), task, {}, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "<code>\\begin{cases} a &amp; \\text{if } b &lt; 1" in text
    assert 'class="latex"' not in text and "mathtext cannot draw" in text


# --- the terminal -----------------------------------------------------------------------------


def summary(comparison, **kwargs) -> str:
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    print_summary(comparison, console, **kwargs)
    return console.export_text()


def test_the_summary_says_whether_and_when_the_program_was_learned(learned, tmp_path):
    files = {"report.json": tmp_path / "report.json", "report.html": tmp_path / "report.html",
             "plots/distilled_bits": tmp_path / "plots" / "distilled_bits.png"}  # fmt: skip
    text = summary(learned, files=files)
    assert f"minimal program (a + b) % 7  {learned.minimal_bits:.2f} bits, certified shortest" in text
    assert "learned  Yes: the network computes the minimal program (a + b) % 7 on every point from step 40 on." in text
    assert f"memorization ended at step {learned.memorization_ends_step}" in text
    assert "accuracy ≥ 99 %: training points at step 3, held-out points at step 40" in text
    for index, entry in enumerate(learned.distilled_sequence, 1):
        assert f"{index}. {entry['program']}" in text
    last = learned.distilled_sequence[-1]
    assert last["program"] == "(a + b) % 7" and last["exceptions_last"] == 0
    assert f"(a + b) % 7  steps {last['first_step']}–40: {last['bits_first']:,.2f} → {last['bits_last']:.2f} bits" in text
    assert "step 40: train 100.00 %, test 100.00 %; agreement with the minimal program 100.00 %" in text
    assert "disagreements at step 40: none" in text
    assert f"report: {tmp_path / 'report.html'}" in text
    assert f"files in {tmp_path}: report.json, plots/distilled_bits.png" in text


def test_the_summary_says_where_it_was_not(stuck):
    text = summary(stuck)
    assert "not learned  No: at its last recorded step (10) the network still differs from the minimal program" in text
    assert "on 5 points" in text
    assert "disagreements at step 10: 5 — (a=" in text and "(2 more)" in text
    assert "report:" not in text


def test_a_yes_without_held_out_points_says_that_nothing_was_held_out():
    (task,) = dsl.parse_tasks(MOD7.replace("split   train 50% seed 0", ""))
    assert task.n_test == 0
    comparison = compare(task, search.synthesize(task), trace_of(task, [0, 5], [task.target_values] * 2))
    text = summary(comparison)
    assert "learned  Yes: the network computes the minimal program" in text
    assert "Nothing was held out (every point is a training point): this shows a fit, not generalization." in text


def test_a_yes_with_held_out_points_says_nothing_of_the_kind(learned):
    assert "held out" not in summary(learned)


def test_a_distilled_code_shorter_than_the_minimal_program_is_explained(learned, task, tmp_path):
    """The minimal program fits exactly; a shorter program with a few exceptions may still be the
    shorter two-part code of the network's function: the two verdicts must not seem to clash."""
    last = learned.snapshots[-1]
    shorter = dataclasses.replace(last, distilled_program="a", distilled_bits=learned.minimal_bits - 3.0,
                                  distilled_program_bits=2.0, distilled_exceptions=4)  # fmt: skip
    comparison = dataclasses.replace(learned, snapshots=[*learned.snapshots[:-1], shorter])
    text = summary(comparison)
    assert "learned  Yes" in text
    note = (f"At step 40 the distilled program a with its 4 exceptions is a shorter description of the network's "
            f"function ({learned.minimal_bits - 3.0:.2f} bits) than the minimal program alone "
            f"({learned.minimal_bits:.2f} bits)")  # fmt: skip
    assert note in text
    assert html.escape(note, quote=True) in write_report_html(comparison, task, {}, tmp_path / "r.html").read_text()
    assert "shorter description" not in summary(learned)


def test_the_distillation_progress_line_says_the_phase_the_count_and_the_clock():
    from compare.analysis.distill import DistillProgress
    from compare.app.terminal import distillation_text

    enumerating = DistillProgress("enumerating", 12.34, 60.0, 1_234_567, 27.5)
    assert distillation_text(enumerating) == ("distilling: enumerating candidates, 1,234,567 kept, level 27.50 bits"
                                              " — 12.3 s of 60")  # fmt: skip
    scoring = DistillProgress("scoring", 50.0, float("inf"), 9_000, 30.0, done=3, total=41)
    assert distillation_text(scoring) == "distilling: step 3 of 41 among 9,000 candidates — 50.0 s"


def test_the_disagreements_by_input_name_the_values_with_the_most():
    from compare.app.terminal import by_input_lines

    lines = by_input_lines({"a": {"1": 3, "4": 5, "10": 1, "32": 5}, "b": {}, "c": {"0": 2}})
    assert lines == ["by a: 4 (5), 32 (5), 1 (3); 4 values in all", "by c: 0 (2)"]


def test_one_exception_is_one_exception_in_the_summary():
    from compare.app.terminal import _sequence_lines

    entry = {"program": "x", "first_step": 1, "last_step": 3, "bits_first": 24.24, "bits_last": 24.24}
    one = _sequence_lines([{**entry, "exceptions_first": 1, "exceptions_last": 1}])[0]
    some = _sequence_lines([{**entry, "exceptions_first": 2, "exceptions_last": 1}])[0]
    assert "(1 exception)" in one and "(2 → 1 exceptions)" in some


def test_the_summary_does_not_say_memorization_ended_for_a_learner_that_never_fits(learned):
    unfitted = [dataclasses.replace(s, train_accuracy=0.5) for s in learned.snapshots]
    explained = dataclasses.replace(learned, snapshots=unfitted, memorization_ends_step=0)
    text = " ".join(summary(explained).split())
    assert "memorization ended" not in text
    assert "no memorization: the network never fits the training data (accuracy < 99 %); from step 0" in text
    never = " ".join(summary(dataclasses.replace(explained, memorization_ends_step=None)).split())
    assert "never fits the training data (accuracy < 99 %), and no distilled program reproduces" in never
    assert "memorization ended at step" in summary(learned)  # one that fits keeps the line


# --- several learners' figures ----------------------------------------------------------------


def two_learners(learned) -> dict[str, Comparison]:
    """`learned` as the network, and as a relaxed search that never computes the minimal program
    (its legend column is one entry short)."""
    settings = {**learned.settings, "learner": "relaxed"}
    relaxed = dataclasses.replace(learned, settings=settings, program_found_step=None)
    return {"network": learned, "relaxed": relaxed}


def test_the_several_learners_legend_lies_inside_the_figure(learned):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from compare.app.plots import _learners_accuracy_figure

    figure = _learners_accuracy_figure(two_learners(learned))
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # the layout is fitted at the figure's own size, before any trim on saving
    renderer, inside = canvas.get_renderer(), figure.bbox
    (legend,) = figure.legends
    for artist in [legend, *legend.get_texts(), *figure.axes]:
        box = artist.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, artist
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, artist
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[0] == "network" and texts[len(texts) // 2] == "relaxed search"  # one column each, headed
    assert f"the minimal program from step {learned.program_found_step}" in texts and texts[-1] == ""


def test_the_several_learners_plots_are_written_whole(learned, task, trace, tmp_path):
    from compare.app.plots import write_learner_plots

    comparisons = two_learners(learned)
    plots = write_learner_plots(comparisons, task, {"network": trace, "relaxed": trace}, tmp_path)
    for name in ("accuracy_and_agreement", "distilled_bits", "accuracy_and_agreement_relaxed"):
        assert_png(plots[name])
    single = write_plots(learned, task, trace, tmp_path / "single")
    assert plots["distilled_bits_network"].read_bytes() == single["distilled_bits"].read_bytes()

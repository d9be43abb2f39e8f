"""The comparison for people: one self-contained HTML page, and the sentences and numbers as
text that the page and the terminal summary (terminal.py's `print_summary`) share.

Where it sits: after `harness.compare` and `plots.write_plots`, `occam compare` writes
`report.html` with `write_report_html` and prints `terminal.print_summary`.

The page needs nothing but itself: its CSS is inline, its images (the plots, and the minimal
program's LaTeX drawn with matplotlib's mathtext) are base64 `data:` URIs, and it names no
external resource — no script, font, style sheet or link — so it opens offline, and can be
mailed or archived as one file. Every piece of text from the task, the programs or the
settings is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dsl

from .describe import task_summary

if TYPE_CHECKING:  # not at run time: `occam check` prints through terminal.py, which needs
    from ..analysis.harness import Comparison  # this module's words, not the harness (numba)

__all__ = ["LEARNER_NOUNS", "latex_image", "learner_noun", "shorter_code_note", "verdict", "write_report_html"]

PLOT_CAPTIONS = {
    "accuracy_and_agreement": "Accuracy and agreement against the training step: train and test accuracy, the "
    "share of points where the network computes the minimal program's value (all points, held-out points), and "
    "the share of held-out points where it predicts what the posterior over short programs predicts.",
    "distilled_bits": "The description length of the network's function: the shortest two-part code (program bits "
    "+ bits of its exceptions) that reproduces the network at every point, against the step; the dotted line is "
    "the minimal program's length. Circles mark where the distilled program changes.",
    "real_fit": "The data, the minimal program and the network's function at the last step.",
    "disagreement_map": "Where the network and the minimal program disagree at the last step, over the two inputs.",
    "disagreement_map_midway": "The same map in the middle of learning: the first recorded step at which the "
    "network agrees with the minimal program on at least half the held-out points.",
}
LATEX_DPI = 200


# --- LaTeX through mathtext -------------------------------------------------------------------

# mathtext is a subset of TeX: what dsl's to_latex writes that mathtext lacks, rewritten to what
# it draws the same way. Anything else it cannot parse (cases environments) falls back to text.
_MATHTEXT_REWRITES = (
    (re.compile(r"\\mathbin\{\\&\}"), r"\\,&\\,"),
    (re.compile(r"\\mathbin\{([^{}]*)\}"), r"\\,\1\\,"),
    (re.compile(r"\\mathop\{([^{}]*)\}"), r"\1 "),
    (re.compile(r"\\land(?![A-Za-z])"), r"\\wedge"),
    (re.compile(r"\\lor(?![A-Za-z])"), r"\\vee"),
    (re.compile(r"\\lnot(?![A-Za-z])"), r"\\neg"),
    (re.compile(r"\\bmod(?![A-Za-z])"), r"\\,\\mathrm{mod}\\,"),
    (re.compile(r"\\le(?![A-Za-z])"), r"\\leq"),
    (re.compile(r"\\ge(?![A-Za-z])"), r"\\geq"),
)


def latex_image(latex: str, *, dpi: int = LATEX_DPI) -> bytes | None:
    """`latex` (math mode, no $) drawn by matplotlib's mathtext as PNG bytes, or None when
    mathtext cannot draw it."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    text = latex
    for pattern, replacement in _MATHTEXT_REWRITES:
        text = pattern.sub(replacement, text)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a glyph mathtext lacks is a failure below, not a warning
            mathtext.math_to_image(f"${text}$", buffer, dpi=dpi, format="png",
                                   prop=FontProperties(size=13, math_fontfamily="cm"))  # Computer Modern, as in TeX
    except (ValueError, RuntimeError):  # mathtext's parse errors are ValueErrors
        return None
    return buffer.getvalue()


# --- the page ---------------------------------------------------------------------------------


def write_report_html(
    comparison: Comparison | Mapping[str, Comparison], task: dsl.Task, plots: Mapping[str, str | os.PathLike],
    path: str | os.PathLike,
) -> Path:
    """Write the report page for `comparison` (of `task`; or several learners' comparisons,
    learner → Comparison, on one page) to `path`; `plots` maps plot names to PNG files
    (`plots.write_plots`' answer; its `skipped` reasons are shown too). Returns the path."""
    path = Path(path)
    if isinstance(comparison, Mapping):
        comparisons = dict(comparison)
        if len(comparisons) > 1:
            return _write_page(_learners_page(comparisons, task, plots), next(iter(comparisons.values())), path,
                               " and ".join(learner_noun(c) for c in comparisons.values()))  # fmt: skip
        (comparison,) = comparisons.values()
    sections = [
        _verdict(comparison, task),
        _task_section(task),
        _minimal_section(comparison),
        _headline_section(comparison),
        _sequence_section(comparison),
        _plots_section(plots, learner_noun(comparison)),
        _snapshots_section(comparison),
        _disagreements_section(comparison),
        _settings_section(comparison),
    ]
    return _write_page(sections, comparison, path, learner_noun(comparison))


def _write_page(sections: list[str], comparison: Comparison, path: Path, learners: str) -> Path:
    did = f"did the {learners} learn the minimal program?"
    title = f"occam · {comparison.task}: {did}"
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{_e(comparison.task)} <span class=\"dim\">— {_e(did)}</span></h1>\n"
        + _nav()
        + "\n".join(section for section in sections if section)
        + "\n<footer>Written by occam. This page is self-contained: it loads nothing from anywhere.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


LEARNER_NOUNS = {"network": "network", "relaxed": "relaxed search"}


def learner_noun(comparison: Comparison) -> str:
    """What the comparison's learner is called in a sentence: "network", "relaxed search"."""
    learner = comparison.settings.get("learner", "network")
    return LEARNER_NOUNS.get(learner, learner)


def _learners_page(comparisons: dict[str, Comparison], task: dsl.Task, plots: Mapping[str, str | os.PathLike]) -> list[str]:
    """The sections of a page of several learners: each one's verdict, the task and the minimal
    program once, a table of the learners side by side, the plots, then each learner's tables."""
    first = next(iter(comparisons.values()))
    sections = [_verdict(c, task) for c in comparisons.values()]
    sections += [_task_section(task), _minimal_section(first), _learners_table(comparisons), _plots_section(plots)]
    for learner, comparison in comparisons.items():
        noun = learner_noun(comparison)
        for section in (_sequence_section(comparison), _snapshots_section(comparison),
                        _disagreements_section(comparison), _settings_section(comparison)):  # fmt: skip
            # each learner's copy of a section gets its own anchor, the first learner's keeps the plain one
            anchor = "" if learner == next(iter(comparisons)) else f"-{learner}"
            sections.append(re.sub(r'<h2 id="([a-z]+)">', lambda m: f'<h2 id="{m.group(1)}{anchor}">{_e(noun)}: ',
                                   section, count=1))  # fmt: skip
    return sections


def _learners_table(comparisons: dict[str, Comparison]) -> str:
    """The learners side by side: when each computed the minimal program, when it stopped
    memorizing, and its numbers at its last recorded step."""
    rows = [("minimal program found at step", lambda c, s: _step(c.program_found_step, never="never")),
            ("memorization ends at step", lambda c, s: _step(c.memorization_ends_step, never="never")),
            ("last recorded step", lambda c, s: f"{s.step:,}" if s else "—"),
            ("train accuracy", lambda c, s: _percent(s.train_accuracy) if s else "—"),
            ("test accuracy", lambda c, s: _percent(s.test_accuracy) if s else "—"),
            ("agreement with the minimal program, all points", lambda c, s: _percent(s.agreement_minimal) if s else "—"),
            ("… on test points", lambda c, s: _percent(s.agreement_minimal_test) if s else "—"),
            ("distilled program", lambda c, s: f"<code>{_e(s.distilled_program)}</code>" if s and s.distilled_program
             else "—"),
            ("distilled two-part code (bits)", lambda c, s: _bits(s.distilled_bits) if s else "—")]  # fmt: skip
    header = ["", *(learner_noun(c) for c in comparisons.values())]
    body = [[_e(name), *(cell(c, c.snapshots[-1] if c.snapshots else None) for c in comparisons.values())]
            for name, cell in rows]  # fmt: skip
    return (f"<h2 id=\"numbers\">Numbers</h2>\n<p>Each learner against the minimal program, each at its own "
            f"steps.</p>\n{_table(header, body, numeric=set(range(1, len(header))))}")  # fmt: skip


CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.dim { color: #666; font-weight: normal; }
nav { font-size: .9rem; margin-bottom: 1rem; }
nav a { color: #0072B2; margin-right: .9rem; text-decoration: none; }
.verdict { font-size: 1.1rem; padding: .8rem 1rem; border-left: 4px solid #0072B2; background: #f3f7fb; }
.verdict.no { border-left-color: #D55E00; background: #fcf4ef; }
code, pre, .program { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
                      font-size: .9em; }
.program { font-size: 1.1rem; background: #f6f6f6; padding: .3rem .6rem; display: inline-block; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .88rem; }
th, td { padding: .22rem .6rem; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { width: 16rem; background: none; font-weight: normal; color: #555; }
.scroll { overflow-x: auto; max-height: 36rem; overflow-y: auto; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #444; max-width: 60rem; }
img.latex { max-width: 100%; height: auto; vertical-align: middle; }
.counts { display: flex; flex-wrap: wrap; gap: .2rem .8rem; font-size: .88rem; font-variant-numeric: tabular-nums; }
footer { margin-top: 3rem; font-size: .8rem; color: #888; }
"""


def _nav() -> str:
    links = [("task", "Task"), ("minimal", "Minimal program"), ("numbers", "Numbers"), ("distilled", "Distilled programs"),
             ("plots", "Plots"), ("snapshots", "Steps"), ("disagreements", "Disagreements"), ("settings", "Settings")]  # fmt: skip
    return "<nav>" + "".join(f"<a href=\"#{anchor}\">{_e(text)}</a>" for anchor, text in links) + "</nav>\n"


def _verdict(comparison: Comparison, task: dsl.Task) -> str:
    text, learned = verdict(comparison, n_points=task.n_points)
    note = shorter_code_note(comparison)
    page = f"<p class=\"verdict{'' if learned else ' no'}\">{_e(text)}</p>"
    return page + (f"\n<p>{_e(note)}</p>" if note else "")


def verdict(comparison: Comparison, *, n_points: int | None = None) -> tuple[str, bool]:
    """One sentence: did the learner (the network) learn the minimal program, from which step; and
    whether it did."""
    noun = learner_noun(comparison)
    if comparison.minimal_program is None:
        return "The synthesizer found no program that fits the training data, so there is nothing to compare.", False
    everywhere = f"on all {n_points:,} points" if n_points is not None else "on every point"
    tolerance = comparison.settings.get("tolerance")
    if comparison.output_type == "real" and tolerance is not None:
        everywhere += f" (within ±{tolerance:g} σ of the targets)"
    if comparison.program_found_step is not None:
        text = (f"Yes: the {noun} computes the minimal program {comparison.minimal_program} {everywhere} from step "
                f"{comparison.program_found_step:,} on.")  # fmt: skip
        if comparison.snapshots and all(s.agreement_minimal_test is None for s in comparison.snapshots):
            text += (" Nothing was held out (every point is a training point): this shows a fit, not "
                     "generalization.")
        return text, True
    last = comparison.snapshots[-1] if comparison.snapshots else None
    if last is None:
        return "The trace records no step.", False
    where = f" (agreement {_percent(last.agreement_minimal)})" if last.agreement_minimal is not None else ""
    count = f"{last.disagreements:,} point{'s' if last.disagreements != 1 else ''}" if last.disagreements is not None else "some points"
    text = (f"No: at its last recorded step ({last.step:,}) the {noun} still differs from the minimal program "
            f"{comparison.minimal_program} on {count}{where}.")  # fmt: skip
    return text, False


def shorter_code_note(comparison: Comparison) -> str | None:
    """When the last step's distilled program is another program whose two-part code (program
    + exceptions) is shorter than the minimal program's bits, one sentence that says why both
    can hold; None otherwise."""
    last = comparison.snapshots[-1] if comparison.snapshots else None
    if (last is None or last.distilled_program is None or comparison.minimal_bits is None
            or last.distilled_program == comparison.minimal_program
            or not last.distilled_bits < comparison.minimal_bits - 1e-9):  # fmt: skip
        return None
    exceptions = last.distilled_exceptions or 0
    noun = learner_noun(comparison)
    return (f"At step {last.step:,} the distilled program {last.distilled_program} with its {exceptions:,} "
            f"exception{'s' if exceptions != 1 else ''} is a shorter description of the {noun}'s function "
            f"({_bits(last.distilled_bits)} bits) than the minimal program alone ({_bits(comparison.minimal_bits)} "
            "bits): on these points, listing the exceptions costs fewer bits than the longer program saves. "
            "The minimal program is the shortest that fits the training data exactly; the distilled one, the "
            f"shortest code of what the {noun} computes.")  # fmt: skip


def _task_section(task: dsl.Task) -> str:
    summary = task_summary(task)
    inputs = ", ".join(f"{i['name']}: {i['type']}" + (f" {_range(i['range'])}" if i["range"] else "") for i in summary["inputs"])
    output = summary["output"]
    output_text = (f"{output['name']}: " if output["name"] else "") + output["type"]
    output_text += f" {_range(output['range'])}" if output["range"] else ""
    rows = [
        ("name", _e(summary["name"])),
        ("description", _e(summary["doc"]) if summary["doc"] else "<span class=\"dim\">—</span>"),
        ("source", f"<code>{_e(summary['source'])}</code>"),
        ("inputs", f"<code>{_e(inputs)}</code>"),
        ("output", f"<code>{_e(output_text)}</code>"),
        ("points", f"{summary['points']:,} — {summary['train_points']:,} train, {summary['test_points']:,} test"),
        ("sampling", _e(summary["sampling"])),
        ("noise", _e(summary["noise"]) if summary["noise"] else "none"),
        ("target", f"<code>{_e(summary['target'])}</code>" + (f" <span class=\"dim\">({summary['target_bits']:.2f} bits)</span>"
                   if summary["target_bits"] is not None else "") if summary["target"] else "none (data)"),
        ("grammar", f"<code>{_e(summary['grammar_builtin'] or 'inline')}</code>"),
        ("fingerprint", f"<code>{_e(task.fingerprint)}</code>"),
    ]  # fmt: skip
    grammar = f"<details><summary>grammar</summary><pre>{_e(summary['grammar'])}</pre></details>"
    return f"<h2 id=\"task\">Task</h2>\n{_kv(rows)}\n{grammar}"


def _range(bounds) -> str:
    low, high = bounds
    return f"{_number(low)}..{_number(high)}"


def _minimal_section(comparison: Comparison) -> str:
    if comparison.minimal_program is None:
        return "<h2 id=\"minimal\">Minimal program</h2>\n<p>None: no program of the grammar fits the training data.</p>"
    program = f"<p><span class=\"program\">{_e(comparison.minimal_program)}</span></p>"
    parts = ["<h2 id=\"minimal\">Minimal program</h2>", program]
    if comparison.minimal_latex:
        image = latex_image(comparison.minimal_latex)
        if image is not None:
            parts.append(f"<p><img class=\"latex\" alt=\"{_e(comparison.minimal_latex)}\" src=\"{_data_uri(image)}\"></p>")
        else:
            parts.append("<p class=\"dim\">mathtext cannot draw this LaTeX; its source:</p>")
        parts.append(f"<p>LaTeX: <code>{_e(comparison.minimal_latex)}</code></p>")
    certified = ("certified shortest (the search finished its level)" if comparison.minimal_certified
                 else "not certified shortest (the search stopped before finishing its level)")  # fmt: skip
    parts.append(_kv([
        ("description length", f"{_bits(comparison.minimal_bits)} bits"),
        ("shortest?", _e(certified)),
        ("posterior", f"{comparison.posterior_size:,} function{'s' if comparison.posterior_size != 1 else ''}"),
    ]))  # fmt: skip
    return "\n".join(parts)


def _headline_section(comparison: Comparison) -> str:
    last = comparison.snapshots[-1] if comparison.snapshots else None
    rows = [
        ("minimal program found at step", _step(comparison.program_found_step, never="never")),
        ("memorization ends at step", _step(comparison.memorization_ends_step, never="never")),
    ]
    if last is not None:
        rows += [
            ("last recorded step", f"{last.step:,}"),
            ("train accuracy", _percent(last.train_accuracy)),
            ("test accuracy", _percent(last.test_accuracy)),
            ("agreement with the minimal program, all points", _percent(last.agreement_minimal)),
            ("… on training points", _percent(last.agreement_minimal_train)),
            ("… on test points", _percent(last.agreement_minimal_test)),
            ("agreement with the posterior, test points", _percent(last.agreement_posterior_test)),
        ]
        if last.rmse_minimal is not None:
            rows.append(("RMSE against the minimal program", _number(last.rmse_minimal)))
        rows += [
            ("disagreements", _count(last.disagreements)),
            ("distilled program", f"<code>{_e(last.distilled_program)}</code>" if last.distilled_program else "—"),
            ("distilled two-part code", (f"{_bits(last.distilled_bits)} bits = {_bits(last.distilled_program_bits)} "
                                         f"(program) + {_bits(last.distilled_data_bits)} (exceptions)")),
        ]  # fmt: skip
    return f"<h2 id=\"numbers\">Numbers</h2>\n{_kv(rows)}"


def _sequence_section(comparison: Comparison) -> str:
    if not comparison.distilled_sequence:
        return "<h2 id=\"distilled\">Distilled programs</h2>\n<p>No step was distilled.</p>"
    rows = [
        [f"{index + 1}", f"<code>{_e(entry['program'])}</code>", _bits(entry["program_bits"]),
         f"{entry['first_step']:,}", f"{entry['last_step']:,}", _span(entry, "bits", _bits),
         _span(entry, "exceptions", _count)]
        for index, entry in enumerate(comparison.distilled_sequence)
    ]  # fmt: skip
    header = ["#", "program", "program bits", "first step", "last step", "two-part code (bits)", "exceptions"]
    table = _table(header, rows, numeric={0, 2, 3, 4, 5, 6})
    return ("<h2 id=\"distilled\">Distilled programs</h2>\n<p>The shortest program that reproduces the "
            f"{learner_noun(comparison)} "
            "(with its exceptions), in the order they appear over training.</p>\n" + table)  # fmt: skip


def _plots_section(plots: Mapping[str, str | os.PathLike], noun: str | None = None) -> str:
    """The figures with their captions; `noun` names the one learner (None: several, whose own
    figures are NAME_LEARNER)."""
    parts = ["<h2 id=\"plots\">Plots</h2>"]
    order = [name for name in PLOT_CAPTIONS if name in plots] + [name for name in plots if name not in PLOT_CAPTIONS]
    for name in order:
        data = Path(plots[name]).read_bytes()
        caption = _caption(name, noun)
        parts.append(f"<figure><img alt=\"{_e(name)}\" src=\"{_data_uri(data)}\">"
                     f"<figcaption>{_e(caption)}</figcaption></figure>")  # fmt: skip
    skipped = getattr(plots, "skipped", {})
    if skipped:
        parts.append("<p class=\"dim\">Not drawn: " + "; ".join(f"{_e(name)} ({_e(why)})" for name, why in skipped.items())
                     + ".</p>")  # fmt: skip
    if len(parts) == 1:
        parts.append("<p>No plot was drawn.</p>")
    return "\n".join(parts)


def _snapshots_section(comparison: Comparison) -> str:
    real = any(s.rmse_minimal is not None for s in comparison.snapshots)
    header = ["step", "train acc.", "test acc.", "agree (all)", "agree (train)", "agree (test)", "posterior (test)"]
    header += ["RMSE"] if real else []
    header += ["disagree", "distilled program", "bits", "program bits", "exceptions", "memorizing"]
    rows = []
    for s in comparison.snapshots:
        row = [f"{s.step:,}", *(_percent(v) for v in (s.train_accuracy, s.test_accuracy, s.agreement_minimal,
               s.agreement_minimal_train, s.agreement_minimal_test, s.agreement_posterior_test))]  # fmt: skip
        row += [_number(s.rmse_minimal)] if real else []
        row += [_count(s.disagreements), f"<code>{_e(s.distilled_program)}</code>" if s.distilled_program else "—",
                _bits(s.distilled_bits), _bits(s.distilled_program_bits), _count(s.distilled_exceptions),
                "—" if s.memorization is None else ("yes" if s.memorization else "no")]  # fmt: skip
        rows.append(row)
    program_column = header.index("distilled program")
    numeric = set(range(len(header))) - {program_column, len(header) - 1}
    return ("<h2 id=\"snapshots\">Steps</h2>\n<p>Every recorded step of the trace (percentages: share of points).</p>\n"
            f"<div class=\"scroll\">{_table(header, rows, numeric=numeric)}</div>")  # fmt: skip


def _disagreements_section(comparison: Comparison) -> str:
    found = comparison.disagreements
    title = "<h2 id=\"disagreements\">Disagreements</h2>"
    if found is None:
        return f"{title}\n<p>None computed (no minimal program, or no recorded step).</p>"
    if found.count == 0:
        return (f"{title}\n<p>At step {found.step:,} the {learner_noun(comparison)} and the minimal program agree on "
                "every point.</p>")  # fmt: skip
    listed = len(found.points)
    parts = [title, f"<p>At step {found.step:,} the {learner_noun(comparison)} and the minimal program differ on "
                    f"<strong>{found.count:,}</strong> point{'s' if found.count != 1 else ''}"
                    + (f"; the first {listed:,} are listed" if listed < found.count else "") + ".</p>"]  # fmt: skip
    if found.points:
        names = list(found.points[0]["inputs"])
        rows = [[_e(_value(point["inputs"][name])) for name in names]
                + [_e(_value(point["network"])), _e(_value(point["program"])), "train" if point["train"] else "test"]
                for point in found.points]  # fmt: skip
        parts.append(_table([*names, learner_noun(comparison), "minimal program", "split"], rows))
    for name, counts in found.by_input.items():
        if not counts:
            continue
        ordered = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep the values' order
        parts.append(f"<h3>by {_e(name)} <span class=\"dim\">(value: disagreements, most first)</span></h3>"
                     "<div class=\"counts\">" + "".join(f"<span>{_e(value)}: {count:,}</span>" for value, count in ordered)
                     + "</div>")  # fmt: skip
    return "\n".join(parts)


def _settings_section(comparison: Comparison) -> str:
    rows = [(str(key), f"<code>{_e(_value(value))}</code>") for key, value in comparison.settings.items()]
    rows.append(("task fingerprint", f"<code>{_e(comparison.fingerprint)}</code>"))
    return f"<h2 id=\"settings\">Settings</h2>\n{_kv(rows)}"


LEARNERS_CAPTIONS = {
    "accuracy_and_agreement": "Every learner against its own step: the share of points where it computes the minimal "
    "program's value (solid), its test accuracy (dashed), and the step from which it computes the minimal program "
    "(dotted).",
    "distilled_bits": "The description length of each learner's function (the shortest two-part code that reproduces "
    "it at every point, solid; its program part, dashed) against its own step; the dotted line is the minimal "
    "program's length.",
}


def _caption(name: str, noun: str | None) -> str:
    """A plot's caption: the one learner's (`noun`), or, with several learners, the combined
    figures' and each learner's own (NAME_LEARNER)."""
    if noun is not None:
        caption = PLOT_CAPTIONS.get(name, name)
        return caption if noun == "network" else caption.replace("the network", f"the {noun}").replace(
            "network's", f"{noun}'s")  # fmt: skip
    if name in LEARNERS_CAPTIONS:
        return LEARNERS_CAPTIONS[name]
    base, _, learner = name.rpartition("_")
    noun = LEARNER_NOUNS.get(learner, learner)
    return f"{noun}: " + _caption(base, noun) if base in PLOT_CAPTIONS else name


# --- html pieces ------------------------------------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _data_uri(png: bytes) -> str:
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("a plot is not a PNG file")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _kv(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table: keys are text (escaped here), values HTML (escaped by the caller)."""
    body = "".join(f"<tr><th>{_e(key)}</th><td>{value}</td></tr>" for key, value in rows)
    return f"<table class=\"kv\">{body}</table>"


def _table(header: list[str], rows: list[list[str]], *, numeric: set[int] = frozenset()) -> str:
    """Cells are HTML already (escaped by the caller); header texts are escaped here."""
    classes = [' class="n"' if i in numeric else "" for i in range(len(header))]
    head = "".join(f"<th{classes[i]}>{_e(text)}</th>" for i, text in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td{classes[i]}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- numbers as text (shared by the page and the terminal) -----------------------------------


def _percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.2f} %"


def _bits(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _step(value: int | None, *, never: str) -> str:
    return never if value is None else f"{value:,}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "—" if value is None else str(value)


def _span(entry: dict[str, Any], key: str, show: Callable[[Any], str]) -> str:
    """A distilled program's `key` (bits, exceptions) over its steps: `first → last`, or one value."""
    first, last = entry[f"{key}_first"], entry[f"{key}_last"]
    return show(first) if first == last else f"{show(first)} → {show(last)}"

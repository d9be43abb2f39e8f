"""occam compare and occam diff, end to end on a small task."""

import json
import re

import pytest

from compare.cli import main

MOD13 = """task mod13 {
    doc     "a + b mod 13, a small grokking task for the tests <script>alert(1)</script>"
    input   a, b: int 0..12
    output  int 0..12
    target  (a + b) % 13
    grammar { int -> a, b, 0, 1, 13, int + int, int - int, int * int, int % int }
    split   train 50% seed 0
}"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("compare")
    source = directory / "mod13.task"
    source.write_text(MOD13)
    out = directory / "run"
    return source, out


def occam(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_compare_writes_the_report_and_reuses_its_stages(capsys, run):
    source, out = run
    status, first, _ = occam(capsys, "compare", source, "--preset", "gromov", "--steps", "300", "--out", out)
    assert status == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "mod13" and report["minimal_program"] == "(a + b) % 13"
    assert {"minimal_bits", "program_found_step", "snapshots"} <= set(report)
    assert report["snapshots"][-1]["step"] == 300
    html = (out / "report.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script>alert" not in html
    assert (out / "plots").is_dir() and any((out / "plots").glob("*.png"))
    assert "(a + b) % 13" in first
    status, second, _ = occam(capsys, "compare", source, "--preset", "gromov", "--steps", "300", "--out", out)
    assert status == 0 and "reused" in second and "synthesis" in second and "training" in second
    assert json.loads((out / "report.json").read_text()) == report


def test_the_distillation_window_is_a_setting(capsys, run, tmp_path):
    source, _ = run
    status, _, _ = occam(capsys, "compare", source, "--steps", "30", "--distill-window", "2", "--out", tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert status == 0 and report["settings"]["distill_window"] == 2.0
    assert report["settings"]["distill_max_bits"] == pytest.approx(report["minimal_bits"] + 2.0)


def test_the_distillation_budget_is_a_setting_and_its_cut_is_said(capsys, run, tmp_path):
    source, _ = run
    status, text, _ = occam(capsys, "compare", source, "--steps", "30", "--distill-memory-mb", "0.02",
                            "--distill-seconds", "30", "--out", tmp_path)  # fmt: skip
    report = json.loads((tmp_path / "report.json").read_text())
    assert status == 0 and report["settings"]["distill_status"] == "memory"
    assert f"stopped by its memory budget (--distill-memory-mb) after {report['settings']['distill_candidates']:,}" in text


@pytest.mark.parametrize("option, value", [("--distill-seconds", "-1"), ("--distill-seconds", "nan"),
                                           ("--distill-memory-mb", "0")])
def test_distillation_budgets_are_checked_before_anything_runs(capsys, run, tmp_path, option, value):
    source, _ = run
    status, text, error = occam(capsys, "compare", source, option, value, "--out", tmp_path / "run")
    assert status == 1 and "distill_" in error and "positive number" in error and "Traceback" not in error
    assert not (tmp_path / "run").exists() and "synthesizing" not in text


def test_compare_help_says_which_stage_each_budget_bounds(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--max-seconds S the synthesis stage's time budget" in text
    assert "--distill-seconds S the comparison stage's time budget" in text and "--distill-memory-mb M" in text


def test_diff_against_the_saved_network(capsys, run):
    source, out = run
    status, text, _ = occam(capsys, "diff", source, "--program", "(a + b) % 13", "--model", out / "train", "--json", "-")
    assert status == 0
    found = json.loads(text)
    report = json.loads((out / "report.json").read_text())
    assert found["agreement"] == pytest.approx(report["snapshots"][-1]["agreement_minimal"])
    assert found["disagreements"] == report["snapshots"][-1]["disagreements"]
    status, text, _ = occam(capsys, "diff", source, "--program", "a", "--model", out / "train", "--json", "-")
    wrong = json.loads(text)
    assert wrong["agreement"] < 0.2 and wrong["disagreements"] > 100 and len(wrong["points"]) == 50
    picture = out.parent / "diff.png"
    status, _, err = occam(capsys, "diff", source, "--program", "a", "--model", out / "train", "--plot", picture)
    assert status == 0 and picture.read_bytes().startswith(b"\x89PNG") and f"wrote {picture}" in err


LINE = """task line {
    input   x: real 0..4
    output  real
    target  x * x
    grammar { real -> x, 1, 2, real + real, real * real }
    sample  30 uniform seed 0
    test    30 uniform seed 1 range x: 0..8
}"""
GATES = """task gates {
    input   p, q: bool
    output  bool
    target  p and not q
    grammar boolean
}"""


def trained(capsys, tmp_path, text, name):
    source = tmp_path / f"{name}.task"
    source.write_text(text)
    status, _, _ = occam(capsys, "train", source, "--steps", "20", "--out", tmp_path / name)
    assert status == 0
    return source, tmp_path / name


def test_diff_plot_on_a_real_task_prints_the_diff_and_says_why_no_plot(capsys, tmp_path):
    """Before, it failed before printing anything."""
    source, model = trained(capsys, tmp_path, LINE, "line")
    picture = tmp_path / "diff.png"
    status, text, err = occam(capsys, "diff", source, "--program", "x + x", "--model", model, "--plot", picture)
    assert "agreement:" in text and "disagreements" in text
    assert status == 1 and "no plot was written" in err and "two discrete inputs" in err
    assert not picture.exists()


def test_diff_and_compare_print_points_and_booleans_alike(capsys, tmp_path):
    from compare.harness import disagreements
    from compare.report import point_text

    source, model = trained(capsys, tmp_path, GATES, "gates")
    status, text, _ = occam(capsys, "diff", source, "--program", "p or q", "--model", model, "--json", tmp_path / "d.json")
    points = json.loads((tmp_path / "d.json").read_text())["points"]
    assert status == 0 and points
    for point in points:
        line = point_text(point)
        assert f"  {line}" in text  # what compare's summary prints for a point
        assert "True" not in line and "False" not in line and re.search(r"\(p=(true|false), q=(true|false)\)", line)
    assert "p = " not in text


def test_diff_refuses_a_network_of_other_data(capsys, run, tmp_path):
    source, out = run
    other = tmp_path / "other.task"
    other.write_text(MOD13.replace("seed 0", "seed 1"))
    status, _, err = occam(capsys, "diff", other, "--program", "a", "--model", out / "train")
    assert status == 1 and "trained on other data" in err


def test_an_interrupted_search_is_written_but_not_reused(monkeypatch, tmp_path):
    import dataclasses

    import dsl
    import search
    from compare import pipeline

    (task,) = dsl.parse_tasks(MOD13)
    real = search.synthesize

    def interrupted(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), status="interrupted")

    monkeypatch.setattr(pipeline.search, "synthesize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_pipeline(task, preset="gromov", seed=0, out=tmp_path, steps=20)
    written = json.loads((tmp_path / "synthesis.json").read_text())
    assert written["status"] == "interrupted" and written["cache_key"] is None
    assert not (tmp_path / "train").exists()
    monkeypatch.setattr(pipeline.search, "synthesize", real)
    result = pipeline.run_pipeline(task, preset="gromov", seed=0, out=tmp_path, steps=20)
    assert result.reused == {"synthesis": False, "training": False}
    again = pipeline.run_pipeline(task, preset="gromov", seed=0, out=tmp_path, steps=20)
    assert again.reused == {"synthesis": True, "training": True}
    assert again.comparison.to_json() == result.comparison.to_json()


@pytest.mark.slow
def test_the_readme_run_learns_the_minimal_program(capsys, tmp_path):
    """The README's main command, in full (about a minute): the gromov MLP on mod_add_97 groks,
    and its distilled program falls from a table to (a + b) % 97."""
    status, text, _ = occam(capsys, "compare", "mod_add_97", "--preset", "gromov", "--out", tmp_path)
    assert status == 0 and "learned  Yes" in text
    report = json.loads((tmp_path / "report.json").read_text())
    first, last = report["snapshots"][0], report["snapshots"][-1]
    assert report["minimal_program"] == "(a + b) % 97" and report["program_found_step"] is not None
    assert last["distilled_program"] == "(a + b) % 97" and last["distilled_bits"] == report["minimal_bits"]
    assert first["distilled_bits"] > 1000 * report["minimal_bits"]
    fitted = next(s["step"] for s in report["snapshots"] if s["train_accuracy"] >= 0.99)
    generalized = next(s["step"] for s in report["snapshots"] if s["test_accuracy"] >= 0.99)
    assert fitted < report["memorization_ends_step"] < generalized <= report["program_found_step"]


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "steps"),
    (["--seed", "-1"], "seed"),
    (["--preset", "no-such-preset"], "preset"),
])  # fmt: skip
def test_bad_training_settings_are_refused_before_the_search(capsys, monkeypatch, tmp_path, argv, message):
    from compare import pipeline

    def never(*args, **kwargs):
        raise AssertionError("the search ran")

    monkeypatch.setattr(pipeline.search, "synthesize", never)
    source = tmp_path / "mod13.task"
    source.write_text(MOD13)
    status, _, err = occam(capsys, "compare", source, *argv, "--out", tmp_path / "run")
    assert status == 1 and "error:" in err and message in err and "Traceback" not in err


def test_files_that_cannot_be_written_are_an_error_not_a_traceback(capsys, tmp_path):
    source = tmp_path / "mod13.task"
    source.write_text(MOD13)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status, _, err = occam(capsys, "compare", source, "--out", blocker)
    assert status == 1 and "error:" in err and str(blocker) in err

"""occam compare and occam diff, end to end on a small task."""

import json
import re

import pytest

from compare.app.cli import main

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
    from compare.analysis.harness import disagreements
    from compare.app.terminal import point_text

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
    from compare.app import pipeline

    (task,) = dsl.parse_tasks(MOD13)
    real = search.synthesize

    def interrupted(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), status="interrupted")

    monkeypatch.setattr(pipeline.search, "synthesize", interrupted)
    with pytest.raises(KeyboardInterrupt, match="during the search: what it found is in .*synthesis.json"):
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
    from compare.app import pipeline

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


# --- damaged or edited caches: each is recomputed (or refused), never trusted, never a traceback --


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """A finished pipeline run of mod13 (20 training steps) and its comparison."""
    import dsl
    from compare.app import pipeline

    (task,) = dsl.parse_tasks(MOD13)
    out = tmp_path_factory.mktemp("clean") / "run"
    result = pipeline.run_pipeline(task, preset="gromov", seed=0, out=out, steps=20)
    return task, out, result.comparison.to_json()


def rerun(clean_run, tmp_path, tamper):
    """Copy the clean run, apply `tamper` to the copy, run the pipeline on it again."""
    import shutil

    from compare.app import pipeline

    task, clean, _ = clean_run
    out = shutil.copytree(clean, tmp_path / "run")
    tamper(out)
    messages = []
    result = pipeline.run_pipeline(task, preset="gromov", seed=0, out=out, steps=20, log=messages.append)
    return result, messages


def edited(path, change, *, seal=False):
    """Apply `change` to the JSON object in `path`; with `seal`, store a matching sha256 (a forger)."""
    from neural.trace import content_sha256

    data = json.loads(path.read_text())
    change(data)
    if seal:
        data.pop("sha256", None)
        data["sha256"] = content_sha256(data)
    path.write_text(json.dumps(data))


def flip_bytes(path, count=64):
    import numpy as np

    content = bytearray(path.read_bytes())
    for offset in np.random.default_rng(0).choice(len(content), count, replace=False):
        content[offset] ^= 0xFF
    path.write_bytes(bytes(content))


def claim(program):
    def change(data):
        data["best"]["program"] = program

    return change


SYNTHESIS_TAMPERING = {
    "[]": lambda out: (out / "synthesis.json").write_text("[]"),
    "not json": lambda out: (out / "synthesis.json").write_text("{\"status\": "),
    "missing key": lambda out: edited(out / "synthesis.json", lambda data: data.pop("best")),
    "missing key, sealed": lambda out: edited(out / "synthesis.json", lambda data: data.pop("stats"), seal=True),
    "wrong type, sealed": lambda out: edited(out / "synthesis.json", lambda data: data.update(pareto=7), seal=True),
    "edited program": lambda out: edited(out / "synthesis.json", claim("a * b")),
    "edited program, sealed": lambda out: edited(out / "synthesis.json", claim("a * b"), seal=True),
    "unreadable program, sealed": lambda out: edited(out / "synthesis.json", claim("a +* b"), seal=True),
    "edited bits, sealed": lambda out: edited(
        out / "synthesis.json", lambda data: data["best"].update(bits=1.0), seal=True),
    "no sha256": lambda out: edited(out / "synthesis.json", lambda data: data.pop("sha256")),
    "huge number, sealed": lambda out: edited(
        out / "synthesis.json", lambda data: data["stats"].update(candidates=10**400), seal=True),
}


@pytest.mark.parametrize("tamper", SYNTHESIS_TAMPERING.values(), ids=SYNTHESIS_TAMPERING.keys())
def test_a_damaged_synthesis_is_searched_again(clean_run, tmp_path, tamper):
    result, messages = rerun(clean_run, tmp_path, tamper)
    assert result.reused == {"synthesis": False, "training": True}
    assert any("synthesis.json" in message for message in messages)  # said why, naming the file
    assert result.synthesis.best is not None and str(result.synthesis.best.program) == "(a + b) % 13"
    assert result.comparison.to_json() == clean_run[2]
    assert json.loads((tmp_path / "run" / "synthesis.json").read_text())["best"]["program"] == "(a + b) % 13"


TRAINING_TAMPERING = {
    "trace.json []": lambda out: (out / "train" / "trace.json").write_text("[]"),
    "trace.json missing key": lambda out: edited(out / "train" / "trace.json", lambda data: data.pop("curve")),
    "trace.npz truncated": lambda out: (out / "train" / "trace.npz").write_bytes(
        (out / "train" / "trace.npz").read_bytes()[:300]),
    "trace.npz missing": lambda out: (out / "train" / "trace.npz").unlink(),
    "checkpoint.pt 64 flipped bytes": lambda out: flip_bytes(out / "train" / "checkpoint.pt"),
    "metrics.json []": lambda out: (out / "train" / "metrics.json").write_text("[]"),
    "metrics.json edited": lambda out: edited(
        out / "train" / "metrics.json", lambda data: data.update(final_test_accuracy=1.0)),
    "metrics.json without file sha256s, sealed": lambda out: edited(
        out / "train" / "metrics.json", lambda data: data.pop("files_sha256"), seal=True),
}


@pytest.mark.parametrize("tamper", TRAINING_TAMPERING.values(), ids=TRAINING_TAMPERING.keys())
def test_a_damaged_training_is_run_again(clean_run, tmp_path, tamper):
    result, messages = rerun(clean_run, tmp_path, tamper)
    assert result.reused == {"synthesis": True, "training": False}
    assert any("training again" in message for message in messages) or any("computing it again" in m for m in messages)
    assert result.comparison.to_json() == clean_run[2]


def test_a_trace_forged_with_matching_sha256s_is_trained_again(clean_run, tmp_path):
    """Every sha256 recomputed after removing a key: the trace is still read before it is reused."""
    from neural.trace import file_sha256

    def forge(out):
        edited(out / "train" / "trace.json", lambda data: data.pop("curve"), seal=True)
        digest = file_sha256(out / "train" / "trace.json")
        edited(out / "train" / "metrics.json", lambda data: data["files_sha256"].update({"trace.json": digest}),
               seal=True)  # fmt: skip

    result, messages = rerun(clean_run, tmp_path, forge)
    assert result.reused == {"synthesis": True, "training": False}
    assert any("trace.json is damaged: missing 'curve'" in message for message in messages)
    assert result.comparison.to_json() == clean_run[2]


def test_an_untampered_run_is_reused_as_it_is(clean_run, tmp_path):
    result, messages = rerun(clean_run, tmp_path, lambda out: None)
    assert result.reused == {"synthesis": True, "training": True} and messages == ["comparing"]
    assert result.comparison.to_json() == clean_run[2]


def test_compare_does_not_present_an_edited_program_as_the_shortest(capsys, tmp_path):
    """The trial's case: a reused synthesis.json edited (and resealed) to claim `a * b`."""
    source = tmp_path / "mod13.task"
    source.write_text(MOD13)
    out = tmp_path / "run"
    assert occam(capsys, "compare", source, "--steps", "20", "--out", out)[0] == 0
    edited(out / "synthesis.json", claim("a * b"), seal=True)
    status, text, err = occam(capsys, "compare", source, "--steps", "20", "--out", out)
    assert status == 0 and "(a + b) % 13" in text and "Traceback" not in err
    said = [line for line in text.splitlines() if "a * b" in line]  # only where the damage is reported
    assert said and all("synthesis.json is damaged" in line and "searching again" in line for line in said)
    assert json.loads((out / "report.json").read_text())["minimal_program"] == "(a + b) % 13"


def test_diff_refuses_a_damaged_checkpoint_with_a_message(capsys, clean_run, tmp_path):
    import shutil

    source = tmp_path / "mod13.task"
    source.write_text(MOD13)
    damaged = shutil.copytree(clean_run[1] / "train", tmp_path / "damaged")
    assert occam(capsys, "diff", source, "--program", "a", "--model", damaged)[0] == 0
    flip_bytes(damaged / "checkpoint.pt")
    status, _, err = occam(capsys, "diff", source, "--program", "a", "--model", damaged)
    assert status == 1 and "checkpoint" in err and str(damaged) in err and "Traceback" not in err


def test_mutated_synthesis_results_read_back_or_are_refused(clean_run):
    """Random edits of a real result (keys removed, values replaced by other JSON values):
    from_json returns a result or raises SearchError naming the source, nothing else."""
    import copy
    import random

    from dsl import SearchError
    from search.result import SynthesisResult

    task, out, _ = clean_run
    original = json.loads((out / "synthesis.json").read_text())
    replacements = [None, [], {}, "", "a * b", -1, 0, 1.5, 10**400, True, [{}], {"program": "a"}]
    refused = 0
    for seed in range(300):
        rng = random.Random(seed)
        data = copy.deepcopy(original)
        for _ in range(rng.randint(1, 3)):
            parent = data
            while isinstance(parent, (dict, list)) and parent and rng.random() < 0.6:
                key = rng.choice(list(parent)) if isinstance(parent, dict) else rng.randrange(len(parent))
                if not isinstance(parent[key], (dict, list)) or not parent[key]:
                    break
                parent = parent[key]
            if isinstance(parent, dict) and parent:
                key = rng.choice(list(parent))
                if rng.random() < 0.3:
                    del parent[key]
                else:
                    parent[key] = rng.choice(replacements)
        try:
            SynthesisResult.from_json(data, task, source="mutated.json")
        except SearchError as error:
            assert str(error).startswith("mutated.json is damaged: ")
            refused += 1
    assert refused > 100


def test_an_interrupted_training_says_where_it_stopped_and_what_it_kept(monkeypatch, capsys, tmp_path):
    import dsl
    import neural
    from compare.app import pipeline

    (task,) = dsl.parse_tasks(MOD13)
    real = neural.train

    def interrupted(*args, **kwargs):
        result = real(*args, **kwargs)
        result.interrupted = True
        return result

    monkeypatch.setattr(neural, "train", interrupted)  # the pipeline imports neural when it trains
    with pytest.raises(KeyboardInterrupt, match=r"during training, at step 20 of 20: the partial run is in .*train"):
        pipeline.run_pipeline(task, preset="gromov", seed=0, out=tmp_path, steps=20)
    assert json.loads((tmp_path / "train" / "metrics.json").read_text())["cache_key"] is None

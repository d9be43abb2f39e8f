"""The relaxed search as a learner: its trajectory is a FunctionTrace that goes through `compare`
like a network's, and `occam compare --learner` sets it beside a network."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dsl
import search
from compare.analysis.harness import compare
from compare.analysis.relaxed import relaxed_trace
from compare.app.cli import main
from compare.app.pipeline import parse_learners, relaxed_config, run_pipeline
from dsl import SearchError

torch = pytest.importorskip("torch")

from neural.trace import load_trace, save_trace  # noqa: E402

OR4 = """task or4 {
    doc     "(a and b) or c; d is irrelevant"
    input   a, b, c, d: bool
    output  bool
    target  (a and b) or c
    grammar boolean
    split   train 75% seed 0
}"""
LINE = """task line {
    input  x: real -1..1
    output real
    target x + x * x
    sample 12 uniform seed 1
    grammar { real -> x, 1.0, real + real, real * real }
    split  train 75% seed 0
}"""
SMALL = {"relaxed_depth": 2, "relaxed_steps": 60, "relaxed_restarts": 16}


def task_of(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


@pytest.fixture(scope="module")
def or4():
    return task_of(OR4)


@pytest.fixture(scope="module")
def or4_run(or4):
    return relaxed_trace(or4, relaxed_config(0, **SMALL))


def test_each_step_records_the_discretized_program_it_names(or4, or4_run):
    result, trace = or4_run
    assert trace.steps[0] == 0 and trace.steps[-1] == SMALL["relaxed_steps"] and np.all(np.diff(trace.steps) > 0)
    assert trace.outputs.shape == (len(trace.steps), or4.n_points)
    programs = trace.info["programs"]
    assert len(programs) == len(trace.steps) and trace.info["learner"] == "relaxed"
    for k, text in enumerate(programs):
        program = dsl.parse_program(text, or4, expected=or4.output_type)
        values = dsl.evaluate(program, or4.env(), size=or4.n_points)
        assert np.array_equal(trace.outputs[k], values), (trace.steps[k], text)
        assert trace.extra["program_bits"][k] == pytest.approx(dsl.description_length(program, or4.grammar))
        train = trace.metrics["train_accuracy"][k]
        assert train == pytest.approx(np.mean(values[or4.train] == or4.target_values[or4.train]))
        # the chosen restart is the best current one: a fit whenever some restart fits
        if trace.extra["fitting_restarts"][k] > 0:
            assert train == 1.0
    soft = trace.extra["soft_values"]
    assert soft.shape == trace.outputs.shape and np.all((soft >= 0) & (soft <= 1))
    assert np.array_equal(trace.extra["soft_outputs"], soft > 0.5)
    assert np.all((trace.extra["restart"] >= 0) & (trace.extra["restart"] < SMALL["relaxed_restarts"]))


def test_the_last_step_is_consistent_with_the_search_result(or4_run):
    result, trace = or4_run
    if trace.metrics["train_accuracy"][-1] == 1.0:  # the last step's program fits: the search found a fit
        assert result.status == "fitted" and result.best.fits_train
        assert result.best.bits <= trace.extra["program_bits"][-1] + 1e-9
    assert trace.info["result"]["status"] == result.status


def test_the_same_seed_gives_the_same_trace_and_another_seed_its_own(or4, or4_run):
    _, trace = or4_run
    _, again = relaxed_trace(or4, relaxed_config(0, **SMALL))
    assert np.array_equal(again.steps, trace.steps) and np.array_equal(again.outputs, trace.outputs)
    assert np.array_equal(again.extra["soft_values"], trace.extra["soft_values"])
    assert again.info["programs"] == trace.info["programs"]
    _, other = relaxed_trace(or4, relaxed_config(1, **SMALL))
    assert not np.array_equal(other.extra["soft_values"], trace.extra["soft_values"])


def test_the_relaxed_trace_goes_through_compare_like_a_networks(or4, or4_run, tmp_path):
    _, trace = or4_run
    save_trace(trace, tmp_path / "trace")
    loaded = load_trace(tmp_path / "trace")  # the extra arrays survive the files
    assert set(loaded.extra) == set(trace.extra)
    assert all(np.array_equal(loaded.extra[name], trace.extra[name]) for name in trace.extra)
    synthesis = search.synthesize(or4)
    comparison = compare(or4, synthesis, loaded, distill_seconds=30)
    assert comparison.settings["learner"] == "relaxed"
    assert [s.step for s in comparison.snapshots] == trace.steps.tolist()
    minimal = dsl.evaluate(synthesis.best.program, or4.points)
    for snapshot, outputs in zip(comparison.snapshots, trace.outputs):
        assert snapshot.agreement_minimal == pytest.approx(np.mean(outputs == minimal))
    found = comparison.program_found_step
    if found is not None:  # from there on, every recorded program computes the minimal one
        assert all(np.array_equal(o, minimal) for s, o in zip(trace.steps, trace.outputs) if s >= found)


def test_a_real_task_has_probe_outputs_and_rmse():
    task = task_of(LINE)
    _, trace = relaxed_trace(task, relaxed_config(0, relaxed_depth=2, relaxed_steps=20, relaxed_restarts=8))
    assert trace.probe is not None and trace.probe_outputs.shape[0] == len(trace.steps)
    last = dsl.parse_program(trace.info["programs"][-1], task, expected=task.output_type)
    with np.errstate(all="ignore"):
        expected = dsl.evaluate(last, trace.probe, size=len(trace.probe["x"]))
    assert np.allclose(trace.probe_outputs[-1], expected, equal_nan=True)
    error = trace.outputs[-1][task.train] - task.target_values[task.train]
    assert trace.metrics["train_rmse"][-1] == pytest.approx(np.sqrt(np.mean(error**2)))


def test_an_old_trace_without_extra_arrays_still_loads(or4, or4_run, tmp_path):
    _, trace = or4_run
    trace.extra, kept = {}, trace.extra
    try:
        save_trace(trace, tmp_path / "plain")
    finally:
        trace.extra = kept
    assert "extra" not in json.loads((tmp_path / "plain.json").read_text())
    assert load_trace(tmp_path / "plain").extra == {}


@pytest.mark.parametrize("text, problem", [
    ("networks", "unknown learner 'networks'"), ("network,,relaxed", "empty"), ("", "empty"),
    ("relaxed,relaxed", "named twice"),
])  # fmt: skip
def test_learner_names_are_checked(text, problem):
    with pytest.raises(SearchError, match=problem):
        parse_learners(text)
    assert parse_learners("network, relaxed") == ("network", "relaxed")
    assert parse_learners(["relaxed"]) == ("relaxed",)


def occam(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_command_line_refuses_a_bad_learner_before_any_work(capsys, tmp_path):
    status, _, err = occam(capsys, "compare", "majority3", "--learner", "netwrk", "--out", tmp_path / "run")
    assert status == 1 and "unknown learner 'netwrk'" in err and "did you mean `network`" in err
    assert not (tmp_path / "run").exists()
    status, _, err = occam(capsys, "compare", "majority3", "--relaxed-steps", "10", "--out", tmp_path / "run")
    assert status == 1 and "--relaxed-steps sets the learner relaxed" in " ".join(err.split())


def test_a_grammar_the_relaxation_refuses_is_a_clear_error(capsys, tmp_path):
    source = tmp_path / "half.task"  # `//` on bit-vectors has no soft form
    source.write_text("""task half {
        input x: u4
        output u4
        target x // 2
        grammar { u4 -> x, 2, u4 // u4, u4 + u4 }
    }""")
    status, _, err = occam(capsys, "compare", source, "--learner", "relaxed", "--out", tmp_path / "run")
    text = " ".join(err.split())
    assert status == 1 and "the learner `relaxed` cannot run on task `half`" in text and "`//` on u4" in text
    assert not (tmp_path / "run" / "synthesis.json").exists()  # refused before the synthesis


def test_network_and_relaxed_are_both_in_the_report(or4, tmp_path):
    out = tmp_path / "both"
    result = run_pipeline(or4, out=out, steps=30, learners="network,relaxed", relaxed=relaxed_config(0, **SMALL),
                          distill_seconds=30)  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["format"] == "occam-comparisons/1" and report["learners"] == ["network", "relaxed"]
    assert report["minimal_program"] == result.comparison.minimal_program
    for learner in ("network", "relaxed"):
        assert report["comparisons"][learner] == result.comparisons[learner].to_json()
        assert report["summary"][learner]["program_found_step"] == result.comparisons[learner].program_found_step
    assert report["comparisons"]["network"]["snapshots"][-1]["step"] == 30
    assert report["comparisons"]["relaxed"]["snapshots"][-1]["step"] == SMALL["relaxed_steps"]
    assert (out / "relaxed" / "trace.json").exists() and (out / "train" / "trace.json").exists()
    assert {"plots/accuracy_and_agreement", "plots/distilled_bits", "plots/distilled_bits_relaxed"} <= set(result.files)
    html = (out / "report.html").read_text()
    assert "relaxed search" in html and "network" in html
    again = run_pipeline(or4, out=out, steps=30, learners="network,relaxed", relaxed=relaxed_config(0, **SMALL),
                         distill_seconds=30)  # fmt: skip
    assert again.reused == {"synthesis": True, "training": True, "relaxed": True}
    assert json.loads((out / "report.json").read_text()) == report


def test_recording_does_not_change_the_search(or4, or4_run):
    result, _ = or4_run
    plain = search.synthesize(or4, relaxed_config(0, **SMALL))  # no observer
    assert str(plain.best.program) == str(result.best.program) and plain.status == result.status
    assert plain.stats.restart_success == result.stats.restart_success
    assert [str(c.program) for c in plain.pareto] == [str(c.program) for c in result.pareto]


def test_a_bit_vector_learners_soft_values_are_its_expected_values():
    """Soft bits (R, P, N) are recorded as one expected value per point, decoded by rounding."""
    task = task_of("""task low_bit_off {
        input x: u4
        output u4
        target x & x - 1
        grammar { u4 -> x, 1, u4 & u4, u4 - u4 }
    }""")
    _, trace = relaxed_trace(task, relaxed_config(0, relaxed_depth=2, relaxed_steps=30, relaxed_restarts=8))
    soft = trace.extra["soft_values"]
    assert soft.shape == trace.outputs.shape and np.all((soft >= 0) & (soft <= 15))
    assert np.array_equal(trace.extra["soft_outputs"], np.rint(soft).astype(trace.outputs.dtype))
    for k, text in enumerate(trace.info["programs"]):
        program = dsl.parse_program(text, task, expected=task.output_type)
        assert np.array_equal(trace.outputs[k], dsl.evaluate(program, task.env(), size=task.n_points))

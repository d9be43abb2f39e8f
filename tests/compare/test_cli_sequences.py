"""`occam synth`, `train`, `compare` and `diff` on a sequence task, and the settings they refuse."""

import itertools
import json

import numpy as np
import pytest

import dsl
from compare.analysis.sequences import SequenceComparison, _log_spaced, compare_sequences, distilled_task
from compare.app.cli import main
from search.recurrent.exceptions import exception_bits

TASK = """
task parity_all {
    doc      "the parity of the bits so far"
    sequence length 6 count 300 seed 3
    input    x: int 0..1
    output   int 0..1
    target {
        state  s: int 0..1 = 0
        update s = (s + x) % 2
        output s
    }
    split    train 50% seed 0
    grammar  { int -> x, 0, 1, 2, int + int, int % int }
}
"""
PROGRAM = "state s: int 0..1 = 0; update s = (s + x) % 2; output s"


@pytest.fixture
def task_file(tmp_path):
    path = tmp_path / "parity.task"
    path.write_text(TASK)
    return path


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_synth_finds_the_target_and_writes_json(capsys, task_file, tmp_path):
    status, out, _ = run(capsys, "synth", task_file, "--json", tmp_path / "r.json", "--max-seconds", 60)
    assert status == 0, out
    data = json.loads((tmp_path / "r.json").read_text())
    task = dsl.load_any_task(task_file)
    program = dsl.parse_recurrence(data["best"]["program"], task)
    assert np.array_equal(task.run(program).outputs, task.target_values)
    assert data["best"]["bits"] <= task.target.bits(task.grammar) + 1e-9
    assert "update s" in out and "certified" in out


def test_train_diff_and_compare(capsys, task_file, tmp_path):
    status, out, _ = run(capsys, "train", task_file, "--steps", 60, "--out", tmp_path / "run", "--json",
                         tmp_path / "m.json")  # fmt: skip
    assert status == 0, out
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["steps"] <= 60 and 0 <= metrics["test_accuracy"] <= 1
    status, out, _ = run(capsys, "diff", task_file, "--model", tmp_path / "run", "--program", PROGRAM, "--json", "-")
    assert status == 0
    report = json.loads(out)
    task = dsl.load_any_task(task_file)
    assert len(report["agreement_by_position"]) == task.length
    assert report["sequences_differing"] >= len(report["sequences"])
    for row in report["sequences"]:  # each listed sequence really differs, and the program's outputs are its own
        assert row["network"] != row["program"]
        assert row["program"] == task.target_values[row["sequence"]].tolist()
    status, out, _ = run(capsys, "compare", task_file, "--steps", 60, "--out", tmp_path / "cmp", "--max-seconds", 30,
                         "--distill-seconds", 5)  # fmt: skip
    assert status == 0, out
    comparison = SequenceComparison.from_json(json.loads((tmp_path / "cmp" / "report.json").read_text()))
    assert comparison.minimal_program is not None and comparison.snapshots[-1].step == comparison.settings["steps"]
    values = 2 if task.output_type.kind == "bool" else task.output_domain.high - task.output_domain.low + 1
    if comparison.distilled_program is not None:  # a two-part code: the program, then its exceptions
        unexplained = exception_bits(comparison.distilled_exceptions, task.n_train * task.length, values)
        assert comparison.distilled_bits == pytest.approx(comparison.distilled_program_bits + unexplained)
    over = comparison.distilled_sequence  # the same code at recorded steps, on the held-out sequences
    steps = [row["step"] for row in over]
    assert 1 <= len(over) <= 6 and steps == sorted(set(steps)) and steps[-1] == comparison.snapshots[-1].step
    for row in over:
        if row["program"] is not None:
            unexplained = exception_bits(row["exceptions"], task.n_test * task.length, values)
            assert row["bits"] == pytest.approx(row["program_bits"] + unexplained)


def test_log_spaced_steps_keep_the_first_and_last():
    assert _log_spaced(4, 6) == [0, 1, 2, 3]
    chosen = _log_spaced(40, 6)
    assert chosen[0] == 0 and chosen[-1] == 39 and len(chosen) == 6 and chosen == sorted(set(chosen))
    gaps = np.diff(chosen)
    assert all(a <= b for a, b in itertools.pairwise(gaps))  # denser early, as the trace's own steps


@pytest.mark.parametrize(
    "argv, message",
    [
        (("synth", "{task}", "--method", "relaxed"), "--method"),
        (("synth", "mod_add_97", "--max-states", "1"), "--max-states"),
        (("train", "{task}", "--preset", "gromov"), "not a preset for sequence tasks"),
        (("compare", "{task}", "--learner", "relaxed"), "network only"),
        (("diff", "{task}", "--model", "nowhere", "--program", "state s: int 0..1 = 0; output t"), "unknown"),
    ],
)
def test_settings_that_do_not_apply_are_errors(capsys, task_file, argv, message):
    status, _, err = run(capsys, *(arg.format(task=task_file) for arg in argv))
    assert status == 1
    assert message in err and "Traceback" not in err


def test_comparison_counts_agreement_and_the_found_step():
    task = dsl.parse_any_tasks(TASK)[0]
    assert isinstance(task, dsl.SequenceTask)
    truth = task.target_values[task.test]
    wrong = truth.copy()
    wrong[0, 2] ^= 1  # one output of one held-out sequence off
    steps = np.array([0, 10, 20])
    outputs = np.stack([1 - truth, truth, truth])
    c = compare_sequences(task, task.target, task.target.bits(task.grammar), True, steps, outputs)
    assert [s.agreement_minimal for s in c.snapshots] == [0.0, 1.0, 1.0]
    assert c.program_found_step == 10
    c = compare_sequences(task, task.target, 1.0, True, steps, np.stack([truth, wrong, truth]))
    assert c.program_found_step == 20  # from the last run of full agreement on
    position = c.snapshots[1].agreement_by_position
    assert position[2] == pytest.approx(1 - 1 / len(truth)) and position[0] == 1.0
    assert c.snapshots[1].sequences_agreeing == pytest.approx(1 - 1 / len(truth))
    assert SequenceComparison.from_json(json.loads(json.dumps(c.to_json()))) == c


def test_distilled_task_holds_the_network_outputs():
    task = dsl.parse_any_tasks(TASK)[0]
    outputs = 1 - np.asarray(task.target_values)
    distilled = distilled_task(task, outputs)
    assert np.array_equal(distilled.target_values, outputs) and distilled.target is None
    assert np.array_equal(distilled.train, task.train)
    with pytest.raises(ValueError):
        distilled_task(task, outputs[:, :-1])

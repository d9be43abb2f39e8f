"""`occam train`: exit codes, the run's files, metrics.json, errors without tracebacks."""

import json

import numpy as np
import pytest

import neural
from compare.app import terminal
from compare.app.cli import main

METRICS_KEYS = {
    "task", "preset", "model", "seed", "steps", "steps_requested", "interrupted", "status", "final_train_accuracy",
    "final_test_accuracy", "final_train_loss", "final_test_loss", "steps_to_99_train", "steps_to_99_test",
    "cpu_seconds", "cpu_seconds_per_step", "wall_seconds", "threads", "device", "config", "out",
}  # fmt: skip


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_train_writes_the_run(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "majority3", "--steps", "40", "--out", str(tmp_path / "run"),
                         "--json", str(tmp_path / "metrics.json"))  # fmt: skip
    assert status == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["final_test_accuracy"] is None  # no held-out points
    assert "majority3" in out and "boolean" in out and "train  accuracy" in out
    assert "test   no held-out points" in out and "99 % accuracy: train" in out
    assert "test not reached" not in out, "a task with no held-out points has no test accuracy to reach"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert METRICS_KEYS - {"out"} <= set(metrics)
    assert metrics["steps"] == 40 and metrics["preset"] == "boolean" and metrics["status"] == "finished"
    trace = neural.load_trace(tmp_path / "run")
    assert trace.steps[-1] == 40 and trace.outputs.shape[1] == 8
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


def test_train_json_to_stdout(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "mod_add_53", "--preset", "nanda-mini", "--steps", "5", "--seed", "3",
                         "--out", str(tmp_path), "--json")  # fmt: skip
    assert status == 0
    metrics = json.loads(out)
    assert METRICS_KEYS <= set(metrics)
    assert metrics["model"] == "transformer" and metrics["seed"] == 3 and metrics["out"] == str(tmp_path)
    assert 0 <= metrics["final_test_accuracy"] <= 1


def test_default_directory_and_the_preset_task(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "train", "--preset", "gromov", "--steps", "2", "--seed", "4")
    assert status == 0 and "mod_add_97" in out
    assert (tmp_path / "runs" / "mod_add_97-gromov-4" / "metrics.json").is_file()


def test_model_override(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "mod_add_53", "--preset", "gromov", "--model", "transformer", "--steps", "2",
                         "--out", str(tmp_path), "--json")  # fmt: skip
    assert status == 0 and json.loads(out)["model"] == "transformer"


@pytest.mark.parametrize("argv, message", [
    (["majority3", "--model", "transformer"], "the transformer reads exactly two int inputs of one range"),
    (["majority3", "--preset", "gromow"], "no preset named `gromow`"),
    (["majority3", "--steps", "0"], "steps = 0; expected a positive integer"),
    (["majority3", "--seed", "-2"], "seed = -2"),
    (["nguyen1", "--preset", "boolean"], "cross-entropy needs a discrete output"),
    (["--preset", "boolean"], "no task to train on: preset `boolean` names none"),
    (["no_such_task"], "no task file or built-in task named `no_such_task`"),
])  # fmt: skip
def test_errors_exit_1_without_a_traceback(capsys, tmp_path, argv, message):
    status, out, err = run(capsys, "train", *argv, "--out", str(tmp_path / "run"))
    assert status == 1 and out == ""
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_interrupt_exits_130_after_writing(capsys, tmp_path, monkeypatch):
    original = terminal.TrainingProgress.update

    def interrupting(self, progress):
        original(self, progress)
        if progress.step == 9:
            raise KeyboardInterrupt

    monkeypatch.setattr(terminal.TrainingProgress, "update", interrupting)
    status, out, _ = run(capsys, "train", "mod_add_53", "--preset", "nanda-mini", "--out", str(tmp_path))
    assert status == 130 and "interrupted" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] and metrics["steps"] == 9
    checkpoint = neural.load_checkpoint(tmp_path)
    trace = neural.load_trace(tmp_path)
    assert checkpoint.step == trace.steps[-1] == 9
    task = __import__("dsl").load_task("mod_add_53")
    np.testing.assert_array_equal(neural.predict(checkpoint, task.env()), trace.outputs[-1])


def test_bench_train_is_a_choice(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "nonsense"])
    assert "train" in capsys.readouterr().err


def test_denormal_measurement_runs():
    from compare.benchmarks.bench import denormal_effect

    row = denormal_effect(warm_steps=12, block=2, repeats=1)
    assert row["ms_per_step_without_flush"] > 0 and row["ms_per_step_with_flush"] > 0
    assert {"parameters", "exp_avg", "exp_avg_sq", "gradients", "output_gradients"} <= set(row["subnormal_values"])


@pytest.mark.slow
def test_bench_train(capsys, tmp_path):
    status, out, _ = run(capsys, "bench", "train", "--json", str(tmp_path / "bench.json"))
    assert status == 0 and "reference" in out
    report = json.loads((tmp_path / "bench.json").read_text())
    assert all(row["final_test_accuracy"] >= 0.99 for row in report["runs"])

"""The `occam` command line: summaries, JSON, and errors without tracebacks."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compare.app.cli import main

SPEC_EXPECTATIONS = {  # the five tasks of the language specification: what `occam check` must say
    "mod_add_97": {"points": 9409, "train_points": 2822, "test_points": 6587, "target": "(a + b) % 97"},
    "majority3": {"points": 8, "train_points": 8, "test_points": 0, "target": "x and y or x and z or y and z"},
    "nguyen5": {"points": 20, "train_points": 20, "test_points": 0, "target": "sin(x * x) * cos(x) - 1",
                "target_bits": None},
    "average_floor": {"points": 65536, "train_points": 65536, "test_points": 0, "target": "(x & y) + ((x ^ y) >> 1)"},
    "sum_exceeds": {"points": 1000, "train_points": 1000, "test_points": 0, "target": "z < x + y"},
}  # fmt: skip


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("name", SPEC_EXPECTATIONS)
def test_check_json_for_the_specification_tasks(capsys, name):
    status, out, _ = run(capsys, "check", name, "--json")
    assert status == 0
    summary = json.loads(out)
    for key, value in SPEC_EXPECTATIONS[name].items():
        assert summary[key] == value, key
    assert summary["name"] == name
    if name != "nguyen5":
        assert summary["target_bits"] > 0


def test_check_prints_a_summary(capsys):
    status, out, _ = run(capsys, "check", "mod_add_97")
    assert status == 0
    for text in ("mod_add_97", "9,409", "train 2,822", "(a + b) % 97", r"\bmod 97", "15.85"):
        assert text in out


def test_check_a_file_with_several_tasks(capsys, tmp_path):
    path = tmp_path / "two.task"
    path.write_text(
        "task first {\n input a: bool\n output bool\n target a\n grammar boolean\n}\n"
        "task second {\n input a: bool\n output bool\n target not a\n grammar boolean\n}\n"
    )
    status, out, _ = run(capsys, "check", str(path), "--json")
    assert status == 0
    assert [summary["name"] for summary in json.loads(out)] == ["first", "second"]


def test_check_json_to_a_file(capsys, tmp_path):
    destination = tmp_path / "summary.json"
    status, _, _ = run(capsys, "check", "majority3", "--json", str(destination))
    assert status == 0
    assert json.loads(destination.read_text())["target"] == "x and y or x and z or y and z"


def test_errors_exit_1_with_the_message(capsys, tmp_path):
    path = tmp_path / "bad.task"
    path.write_text("task t {\n input a: int 0..9\n output int\n target a + c\n grammar { int -> a }\n}\n")
    status, out, err = run(capsys, "check", str(path))
    assert status == 1 and out == ""
    assert f"{path}:4:13: unknown name `c`" in err
    assert "Traceback" not in err


def test_tasks_lists_every_builtin(capsys):
    import dsl

    status, out, _ = run(capsys, "tasks", "--json")
    assert status == 0
    assert [summary["name"] for summary in json.loads(out)] == dsl.builtin_task_names()


def test_console_script_has_no_traceback(tmp_path):
    beside_python = Path(sys.executable).with_name("occam")
    script = str(beside_python) if beside_python.exists() else shutil.which("occam")
    result = subprocess.run([script, "check", str(tmp_path / "missing.task")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "no task file" in result.stderr and "Traceback" not in result.stderr


def test_primitives_doc_is_current(capsys):
    status, out, _ = run(capsys, "primitives")
    assert status == 0
    assert out == (Path(__file__).parents[2] / "docs" / "primitives.md").read_text(), (
        "regenerate with `occam primitives > docs/primitives.md`"
    )


def test_synth_json_to_stdout(capsys):
    status, out, _ = run(capsys, "synth", "majority3", "--json", "-", "--window", "2")
    assert status == 0
    result = json.loads(out)
    assert result["status"] == "solved" and result["certified"] is True
    best = result["best"]
    assert best["fits_train"] is True and best["bits"] > 0 and best["program"]
    import dsl

    task = dsl.load_task("majority3")
    program = dsl.parse_program(best["program"], task)
    assert (dsl.evaluate(program, task.points) == task.target_values).all()
    assert dsl.description_length(program, task.grammar) == best["bits"]
    assert all({"program", "bits", "data_bits"} <= set(entry) for entry in result["pareto"])
    assert all({"program", "bits", "weight"} <= set(entry) for entry in result["posterior"])
    assert abs(sum(entry["weight"] for entry in result["posterior"]) - 1) < 1e-9
    assert {"candidates", "distinct", "cpu_seconds", "candidates_per_second"} <= set(result["stats"])


def test_synth_prints_the_result(capsys):
    status, out, _ = run(capsys, "synth", "mod_add_97", "--window", "0")
    assert status == 0
    assert "(a + b) % 97" in out and "certified" in out and "Pareto front" in out and "test" in out


def test_synth_without_a_fit_exits_2(capsys):
    status, out, _ = run(capsys, "synth", "nguyen12", "--max-seconds", "1", "--json", "-")
    assert status == 2
    result = json.loads(out)
    assert result["status"] in ("time", "memory") and not result["best"]["fits_train"]

"""`occam bench mips` on two tiny tasks with small budgets: the report's keys, that "solved" means right
on every test sequence (re-checked here from the printed program), the unexpressible row, the totals,
and the wiring into `occam bench`."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import dsl
from compare.benchmarks import mips_bench
from compare.benchmarks.mips_tasks import MIPS_UNEXPRESSIBLE, load

TASK_KEYS = {"name", "solved_from_data", "solved_from_network", "program_from_data", "program_from_network", "gpt4",
             "mips", "bits", "cpu_seconds", "why", "rnn_test_accuracy"}  # fmt: skip
TOTAL_KEYS = {"tasks", "built_in", "solved_from_data", "solved_from_network", "solved_either", "rnn_perfect", "mips",
              "gpt4", "mips_published_total", "gpt4_published_total"}  # fmt: skip


def _right_on_test(program_text: str, name: str, count: int) -> bool:
    task = load(name, count=count)
    program = dsl.parse_recurrence(program_text, task)
    outputs = dsl.run_recurrence(program, task.env(task.test)).outputs
    return bool(np.array_equal(outputs, task.target_values[task.test]))


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return mips_bench.bench_mips(["Bitwise_Xor", "Evens_Detector", "Newton_Magnetic"], search_seconds=90.0,
                                 rnn=True, rnn_steps=300, count=400)  # fmt: skip


def test_report_has_the_columns_and_round_trips_as_strict_json(report: dict[str, Any]) -> None:
    assert [row["name"] for row in report["tasks"]] == ["Bitwise_Xor", "Evens_Detector", "Newton_Magnetic"]
    for row in report["tasks"]:
        assert TASK_KEYS <= set(row)
    assert TOTAL_KEYS <= set(report["totals"])
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert report["rnn"] is True and report["interrupted"] is False


def test_solved_means_right_on_every_test_sequence(report: dict[str, Any]) -> None:
    for row in report["tasks"][:2]:
        for key, program in (
            ("solved_from_data", "program_from_data"),
            ("solved_from_network", "program_from_network"),
        ):
            if row[program] is not None:
                assert row[key] == _right_on_test(row[program], row["name"], 400)
            else:
                assert row[key] is False
        if not row["solved_from_data"]:
            assert row["why"]
        assert row["cpu_seconds"] > 0
        assert 0 <= row["rnn_test_accuracy"] <= 1
    # A program with no state, the shortest of these two tasks: certified in seconds once the kernels are
    # compiled (the budget leaves room for compiling them on a fresh clone, whose Numba cache is empty).
    assert report["tasks"][0]["solved_from_data"] is True


def test_the_unexpressible_task_is_a_row_not_solved_with_its_reason(report: dict[str, Any]) -> None:
    row = report["tasks"][2]
    assert (
        row["built_in"] is False and row["solved_from_data"] is False and row["solved_from_network"] is False
    )
    assert MIPS_UNEXPRESSIBLE["Newton_Magnetic"] in row["why"]
    assert row["gpt4"] is False and row["mips"] is False  # as published


def test_totals_count_the_rows(report: dict[str, Any]) -> None:
    rows, totals = report["tasks"], report["totals"]
    assert totals["tasks"] == 3 and totals["built_in"] == 2
    assert totals["solved_from_data"] == sum(row["solved_from_data"] for row in rows)
    assert totals["solved_from_network"] == sum(row["solved_from_network"] for row in rows)
    assert totals["gpt4"] == 2 and totals["mips"] == 1  # Bitwise_Xor: both; Evens_Detector: GPT-4 only
    assert totals["mips_published_total"] == "32/62" and totals["gpt4_published_total"] == "30/62"


def test_a_program_wrong_on_test_is_not_solved() -> None:
    task = load("Bitwise_Xor", count=200)
    wrong = dsl.parse_recurrence("output a", task)
    result = SimpleNamespace(best=SimpleNamespace(program=wrong, bits=10.0, fits_train=True), status="solved",
                             why=None)  # fmt: skip
    solved, program, why, _ = mips_bench._judge(result, task, 2)
    assert solved is False and program == "output a"
    assert why is not None and "test sequences" in why
    assert mips_bench.wrong_test_sequences(wrong, task) > 0
    right = dsl.parse_recurrence("output (a + b) % 2", task)
    assert mips_bench.wrong_test_sequences(right, task) == 0
    # a failure of a task whose target has more states than the bound says so
    nothing = SimpleNamespace(best=None, status="time", why="budget: time")
    why_not = mips_bench._judge(nothing, load("Prev5", count=50), 2)[2]
    assert why_not is not None and "state too large" in why_not


def test_quick_is_a_fixed_dozen_of_built_in_tasks() -> None:
    assert len(mips_bench.QUICK_TASKS) == len(set(mips_bench.QUICK_TASKS)) == 12
    assert not set(mips_bench.QUICK_TASKS) & set(MIPS_UNEXPRESSIBLE)
    assert set(mips_bench.QUICK_TASKS) <= set(dsl.builtin_task_names("sequence"))


def test_occam_bench_mips_is_wired(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: Any) -> None:
    from compare.app.cli import main

    seen: dict[str, Any] = {}

    def fake(names: Any, **settings: Any) -> dict[str, Any]:
        seen.update(names=names, **settings)
        return {"suite": "mips", "quick": settings["quick"], "rnn": False, "rnn_note": "off", "settings": {},
                "tasks": [], "totals": mips_bench.totals([]), "wall_seconds": 0.0, "interrupted": False}  # fmt: skip

    monkeypatch.setattr(mips_bench, "bench_mips", fake)
    path = tmp_path / "mips.json"
    status = main(["bench", "mips", "Add_Mod_3", "--quick", "--max-seconds", "3", "--json", str(path)])
    assert status == 0
    assert seen["names"] == ["Add_Mod_3"] and seen["quick"] is True and seen["search_seconds"] == 3
    assert json.loads(path.read_text())["suite"] == "mips"

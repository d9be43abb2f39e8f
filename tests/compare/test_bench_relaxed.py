"""`occam bench relaxed`: the relaxed searcher's batched step against a loop over the restarts.
Benchmarks measure; this checks the report's shape and arithmetic, not the timings."""

from __future__ import annotations

import functools
import json

import pytest

import dsl

pytest.importorskip("torch")

from compare.app.cli import main  # noqa: E402
from compare.benchmarks import relaxed_bench  # noqa: E402

FIELDS = {"case", "task", "points", "depth", "restarts", "repeats", "error", "slots", "batched_ms", "loop_ms", "ratio"}
REFUSED = """task c { input x: real -1..1  output bool  target x < 0.5  sample 8 uniform seed 1
    grammar { bool -> real < real, not bool  real -> x, 0.5 } }"""


def test_a_row_has_its_fields_and_the_ratio_of_its_two_medians():
    row = relaxed_bench.throughput_row("small", dsl.load_task("nguyen1"), restarts=3, depth=2, repeats=3, warmup=1)
    assert set(row) == FIELDS and row["error"] is None
    assert row["points"] == 20 and row["restarts"] == 3 and row["slots"] == 7
    assert row["batched_ms"] > 0 and row["loop_ms"] > 0
    assert row["ratio"] == row["loop_ms"] / row["batched_ms"]


def test_a_grammar_the_relaxation_refuses_gives_its_reason_and_no_numbers():
    (task,) = dsl.parse_tasks(REFUSED)
    row = relaxed_bench.throughput_row("refused", task)
    assert set(row) == FIELDS
    assert "no relaxation of `<`" in row["error"]
    assert row["batched_ms"] is None and row["loop_ms"] is None and row["ratio"] is None


def test_the_command_writes_every_case_as_json(monkeypatch, tmp_path, capsys):
    small = functools.partial(relaxed_bench.throughput_row, restarts=2, depth=2, warmup=0)
    monkeypatch.setattr(relaxed_bench, "throughput_row", lambda label, task, **kw: small(label, task, repeats=1))
    path = tmp_path / "relaxed.json"
    assert main(["bench", "relaxed", "--quick", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["suite"] == "relaxed" and report["quick"] is True
    assert [row["task"] for row in report["rows"]] == [name for _, name in relaxed_bench.CASES]
    printed = " ".join(capsys.readouterr().out.split())
    for row in report["rows"]:
        assert set(row) == FIELDS and row["case"] in printed
        if row["error"] is None:  # mod_add_97 is measured once its ints are relaxed
            assert row["ratio"] == row["loop_ms"] / row["batched_ms"]
        else:
            assert row["ratio"] is None and f"{row['case']}: refused" in printed

"""The Pareto table `occam synth` prints (compare/app/terminal.py): the front, under a title saying so."""

from __future__ import annotations

import io

from rich.console import Console

import search
from compare.app.terminal import PARETO_TITLE, print_synthesis
from tests.search.cases import task_of
from tests.search.test_pareto import NOISY_BOOL


def test_the_pareto_table_lists_the_front_under_its_title():
    result = search.synthesize(task_of(NOISY_BOOL), max_bits=20.0, max_seconds=30.0, max_memory_mb=256.0)
    console = Console(file=io.StringIO(), width=400, record=True, color_system=None)
    print_synthesis(result, console)
    text = console.export_text()
    assert "front" in PARETO_TITLE and "fewer data bits than every shorter" in PARETO_TITLE
    table = text.split(PARETO_TITLE + "\n", 1)[1].split("posterior:", 1)[0].splitlines()
    header, rows = table[0].split(), table[1:]
    assert header[:2] == ["bits", "data"]
    assert len(rows) == len(result.pareto)
    for line, row in zip(rows, result.pareto):
        bits, data = line.split()[:2]
        assert (bits, data) == (f"{row.bits:.2f}", f"{row.data_bits:.2f}")
        assert data != "inf"


def test_an_exhausted_search_says_every_function_was_enumerated():
    """The banks keep one program per function: "every program" was not enumerated (issue 9, #11)."""
    task = task_of("task t { input x, y: bool\n output bool\n target x ^ y\n grammar { bool -> x, y, bool and bool } }")
    result = search.synthesize(task, max_seconds=30.0, max_memory_mb=64.0)
    console = Console(file=io.StringIO(), width=400, record=True, color_system=None)
    print_synthesis(result, console)
    text = console.export_text()
    assert result.status == "exhausted" and "exhausted: every function the grammar derives" in text
    assert "every program" not in text and result.to_json()["status_meaning"].startswith("every function")

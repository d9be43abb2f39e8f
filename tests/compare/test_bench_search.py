"""`occam bench search`: the rows it measures, through search.synthesize and SEARCHERS only."""

import dataclasses
import json

import pytest

import dsl
import search
from compare.app.cli import main
from compare.benchmarks import search_bench


@dataclasses.dataclass(frozen=True)
class SeededConfig(search.SearchConfig):
    """SearchConfig with a `seed`, as a stochastic searcher's config has (if SearchConfig already
    has one, this only repeats it)."""

    seed: int = 0


def wrong_program(task: dsl.Task) -> dsl.Expr:
    """A program of the task's inputs that is not its target (xor2: `x and y`)."""
    return dsl.parse_program("x and y", task, expected=task.output_type)


def coin_searcher(task, config, progress):
    """A fake stochastic searcher: the enumerator's (exact) result when seed % 4 == 0, else a
    wrong program that it claims fits (the bench must check fits itself)."""
    result = search.synthesize(task, config.replace(method="enumerate"))
    if config.seed % 4 == 0:
        return result
    lying = dataclasses.replace(result.best, program=wrong_program(task), fits_train=True)
    return dataclasses.replace(result, best=lying)


def refusing_searcher(task, config, progress):
    raise dsl.SearchError(f"the relaxed search does not support {task.output_type} outputs yet",
                          expected="a Boolean task")  # fmt: skip


@pytest.fixture
def seeded(monkeypatch):
    """SearchConfig with a seed, and the fake searchers registered beside the enumerator."""
    monkeypatch.setattr(search, "SearchConfig", SeededConfig)
    monkeypatch.setitem(search.SEARCHERS, "coin", coin_searcher)
    monkeypatch.setitem(search.SEARCHERS, "refusing", refusing_searcher)


def test_exact_fits_are_checked_by_the_reference_evaluator():
    task = dsl.load_task("xor2")
    assert search_bench.exact_fit(task.target, task)
    assert not search_bench.exact_fit(wrong_program(task), task)
    assert search_bench.target_everywhere(task.target, task) is None  # trained on its whole domain
    modular = dsl.load_task("mod_add_53")  # held-out points: checked on all of them
    assert search_bench.has_held_out_points(modular) and search_bench.target_everywhere(modular.target, modular)


def test_a_stochastic_method_runs_its_seeds_and_its_rate_counts_the_verified_fits(seeded):
    assert search_bench.is_stochastic("coin") and not search_bench.is_stochastic("enumerate")
    report = search_bench.bench_search([dsl.load_task("xor2")], methods=["coin", "enumerate"], restarts=20,
                                       max_seconds=10)  # fmt: skip
    enumerate_row, coin = report["rows"]  # the enumerator first: its certified bits are the minimum
    assert enumerate_row["method"] == "enumerate" and enumerate_row["deterministic"] and enumerate_row["restarts"] == 1
    assert coin["method"] == "coin" and not coin["deterministic"] and coin["restarts"] == 20
    assert coin["success_rate"] == 5 / 20  # seeds 0, 4, 8, 12, 16: the others' claimed fits are wrong
    assert coin["bits"] == enumerate_row["bits"] == coin["minimal_bits"] == enumerate_row["minimal_bits"]
    assert coin["median_cpu_seconds"] is not None and coin["median_cpu_seconds"] >= 0


def test_without_a_seed_setting_every_method_runs_once(monkeypatch):
    monkeypatch.setitem(search.SEARCHERS, "coin", coin_searcher)
    if "seed" in search.SearchConfig.field_names():
        pytest.skip("SearchConfig has a seed: the seeded test covers it")
    assert not search_bench.is_stochastic("coin") and search_bench.seed_setting("relaxed") == "relaxed_seed"
    (row,) = search_bench.bench_search([dsl.load_task("xor2")], methods=["enumerate"], max_seconds=10)["rows"]
    assert row["restarts"] == 1 and row["deterministic"] and row["success_rate"] == 1.0


def test_a_method_that_refuses_a_task_gives_an_error_row(seeded):
    tasks = [dsl.load_task("xor2"), dsl.load_task("hd03_rightmost_one")]
    rows = search_bench.bench_search(tasks, methods=["enumerate", "refusing"], restarts=3, max_seconds=10)["rows"]
    assert [(row["task"], row["method"]) for row in rows] == [
        ("xor2", "enumerate"), ("xor2", "refusing"), ("hd03_rightmost_one", "enumerate"), ("hd03_rightmost_one", "refusing")]
    refused = rows[3]
    assert "does not support" in refused["error"] and "error" not in rows[2]
    assert refused["success_rate"] is None and refused["median_cpu_seconds"] is None and refused["bits"] is None
    assert refused["minimal_bits"] == rows[2]["bits"]  # the enumerator's certified minimum, beside it


def test_ctrl_c_keeps_the_rows_done(monkeypatch, tmp_path):
    calls = []

    def interrupted_second_time(task, config, progress):
        calls.append(task.name)
        if task.name == "parity4":
            raise KeyboardInterrupt
        return search.synthesize(task, config.replace(method="enumerate"))

    monkeypatch.setitem(search.SEARCHERS, "fragile", interrupted_second_time)
    path = tmp_path / "bench.json"
    status = main(["bench", "search", "xor2", "parity4", "majority3", "--methods", "fragile", "--max-seconds", "10",
                   "--json", str(path)])  # fmt: skip
    report = json.loads(path.read_text())
    assert status == 130 and report["interrupted"]
    assert [row["task"] for row in report["rows"]] == ["xor2"] and "majority3" not in calls


def test_the_json_holds_the_rows(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "search", "xor2", "mod_add_53", "--methods", "enumerate", "--max-seconds", "20",
                 "--json", str(path)]) == 0  # fmt: skip
    report = json.loads(path.read_text())
    assert report["methods"] == ["enumerate"] and not report["interrupted"]
    xor2, modular = report["rows"]
    for row, name in ((xor2, "xor2"), (modular, "mod_add_53")):
        assert {"task", "method", "restarts", "success_rate", "median_cpu_seconds", "bits", "minimal_bits"} <= set(row)
        expected = search.synthesize(dsl.load_task(name), max_seconds=20)
        assert row["task"] == name and row["success_rate"] == 1.0 and row["deterministic"]
        assert row["bits"] == row["minimal_bits"] == expected.best.bits and expected.certified
    assert xor2["target_rate"] is None and modular["target_rate"] == 1.0
    shown = capsys.readouterr().out
    assert "exact fits" in shown and "mod_add_53" in shown and "15.85 / 15.85" in shown


def test_task_files_are_benchmarked_with_all_their_tasks(tmp_path):
    source = tmp_path / "two.task"
    source.write_text("task my_and {\n input x, y: bool\n output bool\n target x and y\n grammar boolean\n}\n"
                      "task my_or {\n input x, y: bool\n output bool\n target x or y\n grammar boolean\n}\n")  # fmt: skip
    path = tmp_path / "bench.json"
    assert main(["bench", "search", str(source), "--methods", "enumerate", "--json", str(path)]) == 0
    rows = json.loads(path.read_text())["rows"]
    assert [row["task"] for row in rows] == ["my_and", "my_or"] and all(row["success_rate"] == 1.0 for row in rows)


def test_the_command_line_refuses_what_it_cannot_run(capsys):
    assert main(["bench", "search", "xor2", "--methods", "enumerate,nosuch"]) == 1
    assert "'nosuch' is not a known search method" in capsys.readouterr().err
    assert main(["bench", "synth", "xor2"]) == 1
    assert "occam bench search" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "search", "--restarts", "0"])


def test_the_defaults_are_the_library_files_and_quick_is_a_subset_of_them():
    everything = search_bench.default_tasks(quick=False)
    assert {"parity4", "hd09_abs", "mod_add_97", "nguyen12"} <= set(everything) and "sum_exceeds" not in everything
    assert set(search_bench.default_tasks(quick=True)) < set(everything)


def test_each_run_is_in_the_row(seeded):
    (_, coin) = search_bench.bench_search([dsl.load_task("xor2")], methods=["enumerate", "coin"], restarts=8,
                                          max_seconds=10)["rows"]  # fmt: skip
    assert [run["seed"] for run in coin["runs"]] == list(range(8))
    assert [run["exact"] for run in coin["runs"]] == [seed % 4 == 0 for seed in range(8)]
    assert [run["program"] for run in coin["runs"]][1] == "x and y"
    assert coin["median_found_cpu_seconds"] is not None  # the enumerator's stats.best_seconds, passed through


def test_the_hybrid_is_seeded_by_its_relaxed_phase_and_benchmarked_by_default():
    assert "hybrid" in search.SEARCHERS and search_bench.seed_setting("hybrid") == "relaxed_seed"
    assert search_bench.is_stochastic("hybrid")


def test_the_size_rate_curve_bins_the_runs_by_the_certified_minimal_bits(seeded, tmp_path, capsys):
    tasks = [dsl.load_task("xor2"), dsl.load_task("majority3")]  # their inputs include x and y (wrong_program)
    report = search_bench.bench_search(tasks, methods=["enumerate", "coin"], restarts=8, max_seconds=10)
    minimal = {row["task"]: row["minimal_bits"] for row in report["rows"] if row["method"] == "enumerate"}
    assert all(bits is not None for bits in minimal.values())
    curve = report["size_rate_curve"]
    assert {entry["method"] for entry in curve} == {"coin"}  # the deterministic enumerator has no curve
    for entry in curve:
        inside = [name for name, bits in minimal.items() if entry["bits_from"] <= bits < entry["bits_to"]]
        assert sorted(entry["tasks"]) == sorted(inside) and entry["runs"] == 8 * len(inside)
        assert entry["exact_runs"] == 2 * len(inside) and entry["success_rate"] == 0.25  # seeds 0 and 4 of 8
    assert sum(len(entry["tasks"]) for entry in curve) == 2
    from rich.console import Console

    from compare.app.terminal import print_search_bench_table

    console = Console(file=None, width=160, record=True)
    print_search_bench_table({**report, "quick": False}, console)
    shown = console.export_text()
    assert "exact recovery by the minimal program's bits" in shown and "2/8" in shown


def test_the_curve_keeps_uncertified_tasks_apart_and_leaves_refusals_out():
    rows = [{"task": "a", "method": "relaxed", "restarts": 4, "deterministic": False, "success_rate": 0.5,
             "minimal_bits": None},
            {"task": "b", "method": "relaxed", "restarts": 4, "deterministic": False, "success_rate": 1.0,
             "minimal_bits": 31.0},
            {"task": "c", "method": "relaxed", "restarts": 4, "deterministic": False, "success_rate": None,
             "minimal_bits": 31.0, "error": "refused"}]  # fmt: skip
    certified, uncertified = search_bench.size_rate_curve(rows)
    assert (certified["bits_from"], certified["bits_to"], certified["exact_runs"], certified["tasks"]) == (30.0, 40.0, 4, ["b"])
    assert uncertified["bits_from"] is None and uncertified["success_rate"] == 0.5 and uncertified["tasks"] == ["a"]


def test_the_restart_rate_is_the_mean_of_the_runs_restart_success():
    """The relaxed searcher's runs are batches: each run's stats.restart_success, and their mean."""
    task = dsl.load_task("xor2")
    base = search.SearchConfig(max_seconds=30, relaxed_depth=2, relaxed_steps=50, relaxed_restarts=8)
    row = search_bench.method_row(task, "relaxed", base, restarts=3)
    successes = [run["restart_success"] for run in row["runs"]]
    for seed, success in enumerate(successes):
        again = search.synthesize(task, base.replace(method="relaxed", relaxed_seed=seed))
        assert success == again.stats.restart_success  # the same seed, the same batch
    assert row["restart_rate"] == pytest.approx(sum(successes) / 3)
    enumerator = search_bench.method_row(task, "enumerate", base, restarts=3)
    assert enumerator["restart_rate"] is None and enumerator["runs"][0]["restart_success"] is None

"""`occam synth`'s settings, exit statuses and budget, its relaxed search (flags, progress, JSON,
Ctrl-C), and `occam train`'s summary without held-out points."""

import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

import dsl
from compare.app.cli import EXIT_STATUSES, main
from compare.app.terminal import print_training
from tests.search.cases import NOISY_BOOL, SLOW_REAL

README = Path(__file__).resolve().parents[2] / "README.md"



def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-seconds", "nan"), ("--max-seconds", "-5"), ("--max-seconds", "0"), ("--max-bits", "nan"),
     ("--max-bits", "-1"), ("--max-memory-mb", "nan"), ("--max-memory-mb", "0"), ("--window", "-3"),
     ("--window", "nan"), ("--max-seconds", "soon"), ("--max-memory-mb", "inf")],
)  # fmt: skip
def test_synth_refuses_budgets_that_are_not_positive_numbers(capsys, option, value):
    with pytest.raises(SystemExit) as raised:
        main(["synth", "majority3", option, value])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert option in err and repr(value) in err


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many"])
def test_synth_refuses_a_candidates_budget_that_is_not_a_positive_integer(capsys, value):
    with pytest.raises(SystemExit) as raised:
        main(["synth", "majority3", "--max-candidates", value])
    assert raised.value.code == 2 and repr(value) in capsys.readouterr().err


def test_the_search_options_default_to_the_search_config(capsys):
    """The defaults are SearchConfig()'s fields, shown in the help, not numbers written twice."""
    import search

    config = search.SearchConfig(max_seconds=7.5, max_memory_mb=123.0, posterior_window=2.5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search.config, "SearchConfig", lambda: config)
        with pytest.raises(SystemExit):
            main(["synth", "--help"])
        shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    assert "(default 7.5;" in shown and "(default 123)" in shown and "(default 2.5)" in shown
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    defaults = search.SearchConfig()
    assert f"(default {defaults.max_seconds:g};" in " ".join(capsys.readouterr().out.split())


def test_a_run_stopped_by_max_candidates_writes_the_same_json_every_time(capsys, tmp_path):
    path = tmp_path / "slow.task"
    path.write_text(SLOW_REAL)
    written = []
    for _ in range(2):
        status, out, _ = run(capsys, "synth", str(path), "--max-candidates", "200000", "--max-seconds", "inf",
                             "--json", "-")  # fmt: skip
        result = json.loads(out)
        for timing in ("cpu_seconds", "candidates_per_second", "best_seconds"):
            result["stats"].pop(timing)
        written.append(result)
    assert written[0]["status"] == "candidates" and written[0]["config"]["max_candidates"] == 200_000
    assert written[0]["config"]["max_seconds"] is None  # inf: no limit
    assert written[0] == written[1]


@pytest.mark.parametrize(("option", "value"), [("--distill-window", "-1"), ("--distill-window", "nan"),
                                               ("--max-seconds", "nan"), ("--distill-seconds", "-1"),
                                               ("--distill-seconds", "nan"), ("--distill-memory-mb", "0"),
                                               ("--max-memory-mb", "inf"), ("--max-memory-mb", "0")])  # fmt: skip
def test_compare_refuses_them_too(capsys, option, value):
    with pytest.raises(SystemExit) as raised:
        main(["compare", "majority3", option, value])
    assert raised.value.code == 2 and option in capsys.readouterr().err


def test_a_noisy_task_whose_mdl_best_program_was_found_exits_0(capsys, tmp_path):
    path = tmp_path / "noisy.task"
    path.write_text(NOISY_BOOL)
    status, out, _ = run(capsys, "synth", str(path), "--max-bits", "14", "--json", "-")
    result = json.loads(out)
    assert not result["best"]["fits_train"] and result["best"]["data_bits"] is not None
    assert status == 0
    assert result["stats"]["best_seconds"] is not None


def test_every_exit_status_is_in_the_help_and_the_readme(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["--help"])
    assert raised.value.code == 0
    help_text = capsys.readouterr().out
    readme = README.read_text(encoding="utf-8")
    table = readme[readme.index("## Exit statuses"):]
    for code in EXIT_STATUSES:
        assert re.search(rf"^\s+{code}\s+\S", help_text, re.MULTILINE), f"exit status {code} in --help"
        assert re.search(rf"^\| `{code}` \|", table, re.MULTILINE), f"exit status {code} in the README"


def test_synth_stays_within_its_time_budget(capsys, tmp_path):
    """--max-seconds bounds the whole command (here from `main`): search, JSON and printing,
    within 10 % plus 0.5 s for a machine shared with other jobs."""
    path = tmp_path / "slow.task"
    path.write_text(SLOW_REAL)
    main(["synth", str(path), "--max-seconds", "0.5"])  # kernels compiled, sympy imported
    capsys.readouterr()
    started = time.perf_counter()
    status, out, _ = run(capsys, "synth", str(path), "--max-seconds", "4", "--json", str(tmp_path / "out.json"))
    elapsed = time.perf_counter() - started
    assert elapsed <= 4 * 1.1 + 0.5, f"{elapsed:.2f} s for --max-seconds 4"
    assert json.loads((tmp_path / "out.json").read_text())["status"] == "time"
    assert "candidates" in out, "the result's summary is printed"


def test_banks_the_address_space_cannot_hold_are_an_error_not_a_traceback():
    """Under `ulimit -v` (here 2.5 GB) the default 4096 MB budget cannot be reserved: a located
    SearchError says so and what to do; a budget that fits runs."""
    limit = 2500 << 20

    def confine() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [sys.executable, "-m", "compare.app.cli", "synth", "nguyen1"]
    refused = subprocess.run(command, capture_output=True, text=True, preexec_fn=confine, timeout=300)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "cannot be reserved" in refused.stderr and "--max-memory-mb" in refused.stderr
    fitting = subprocess.run(command + ["--max-memory-mb", "800"], capture_output=True, text=True,
                             preexec_fn=confine, timeout=300)  # fmt: skip
    assert fitting.returncode == 0, fitting.stderr


def test_synth_without_a_time_limit(capsys):
    status, out, _ = run(capsys, "synth", "majority3", "--max-seconds", "inf", "--json", "-")
    assert status == 0 and json.loads(out)["status"] == "solved"


def test_synth_says_when_the_best_was_found_and_what_the_rest_bought(capsys):
    status, out, _ = run(capsys, "synth", "majority3")
    assert status == 0
    assert re.search(r"best found after [0-9.]+ CPU s; the other [0-9.]+ CPU s certified it; no other function "
                     r"can fit", out)  # fmt: skip


class _Trace(SimpleNamespace):
    def __len__(self) -> int:
        return len(self.outputs)


def test_training_summary_without_held_out_points_says_nothing_of_reaching_test(tmp_path):
    task = dsl.load_task("majority3")
    assert task.n_test == 0
    result = SimpleNamespace(task=task, interrupted=False, trace=_Trace(outputs=np.zeros((3, 8))), encoding=None)
    metrics = {"preset": "boolean", "model": "mlp", "parameters": 10, "seed": 0, "steps": 100, "steps_requested": 100,
               "final_train_accuracy": 1.0, "final_train_loss": 0.01, "final_test_accuracy": None,
               "final_test_loss": None, "steps_to_99_train": 40, "steps_to_99_test": None,
               "cpu_seconds_to_99_test": None, "cpu_seconds_per_step": 0.001, "cpu_seconds": 0.1,
               "eval_cpu_seconds": 0.01, "wall_seconds": 0.2, "threads": 1, "device": "cpu", "out": str(tmp_path)}  # fmt: skip
    console = Console(record=True, width=160)
    print_training(result, metrics, console)
    text = console.export_text()
    assert "train at step 40" in text and "no held-out points" in text
    assert "test not reached" not in text


def test_compare_gives_its_memory_budget_to_the_search(capsys, tmp_path):
    status, _, _ = run(capsys, "compare", "majority3", "--steps", "20", "--max-memory-mb", "50", "--out", str(tmp_path))
    assert status == 0
    synthesis = json.loads((tmp_path / "synthesis.json").read_text())
    assert synthesis["cache_key"]["max_memory_mb"] == 50.0, "another budget is another search"
    import search

    config = search.SearchConfig(max_memory_mb=50.0)
    assert synthesis["config"] == config.to_json()
    assert {key: synthesis["cache_key"][key] for key in config.to_json()} == config.to_json(), "every setting is in the key"
    assert synthesis["stats"]["peak_bank_bytes"] <= 50 * 2**20


def test_train_refuses_more_steps_than_it_can_schedule(capsys, tmp_path):
    status, _, err = run(capsys, "train", "majority3", "--steps", str(10**20), "--out", str(tmp_path / "run"))
    assert status == 1 and "steps = 100000000000000000000" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


# --- occam synth --method relaxed ---------------------------------------------------------------

RELAXED = ["--method", "relaxed", "--restarts", "8", "--steps", "100", "--seed", "0", "--depth", "2"]


def test_synth_relaxed_prints_the_program_and_the_restart_success_and_writes_json_that_reads_back(capsys, tmp_path):
    import search

    task = dsl.load_task("parity3")
    path = tmp_path / "relaxed.json"
    status, out, _ = run(capsys, "synth", "parity3", *RELAXED, "--json", str(path))
    data = json.loads(path.read_text())
    best = data["best"]
    values = dsl.evaluate(dsl.parse_program(best["program"], task), task.env(task.train))
    fits = bool(np.array_equal(values, task.target_values[task.train]))  # the reference evaluator's verdict
    assert best["fits_train"] == fits and status == (0 if fits else 2)
    assert fits, "parity3 at depth 2 is fitted by 5 of these 8 restarts"
    assert data["config"]["method"] == "relaxed" and data["config"]["relaxed_restarts"] == 8
    assert data["config"]["relaxed_steps"] == 100 and data["config"]["relaxed_depth"] == 2
    success = data["stats"]["restart_success"]
    assert 0 < success <= 1 and (success * 8).is_integer()
    assert f"best  {best['program']}   {best['bits']:.2f} bits; fits the training data; not certified shortest" in out
    assert f"{round(success * 8)} of 8 restarts end on a program that fits (restart success {success:.3g})" in out
    assert best["bits"] == pytest.approx(dsl.description_length(dsl.parse_program(best["program"], task), task.grammar))
    result = search.SynthesisResult.from_json(data, task, source=str(path))
    assert result.config == search.SearchConfig.from_json(data["config"]) and result.stats.restart_success == success
    written = {key: value for key, value in data["best"].items() if key not in ("latex", "simplified")}
    assert result.to_json() == {**data, "best": written}, "the JSON round-trips"


@pytest.mark.parametrize(
    ("option", "values"),
    [("--restarts", ["-1"]), ("--restarts", ["0"]), ("--steps", ["0"]), ("--steps", ["2.5"]), ("--depth", ["-1"]),
     ("--seed", ["-2"]), ("--learning-rate", ["0"]), ("--learning-rate", ["inf"]), ("--bits-weight", ["-1"]),
     ("--bits-weight", ["nan"]), ("--temperature", ["1", "x"]), ("--temperature", ["0", "1"]),
     ("--temperature", ["1", "nan"]), ("--method", ["gradient"])],
)  # fmt: skip
def test_synth_refuses_relaxed_settings_out_of_range(capsys, option, values):
    with pytest.raises(SystemExit) as raised:
        main(["synth", "parity3", "--method", "relaxed", option, *values])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and any(repr(value) in err for value in values)


def test_synth_refuses_a_temperature_that_is_not_two_numbers(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["synth", "parity3", "--method", "relaxed", "--temperature", "1"])
    assert raised.value.code == 2 and "argument --temperature: expected 2 arguments" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [(["--restarts", "8", "--seed", "1"], "--restarts and --seed: settings of the relaxed search, which --method "
                                          "enumerate does not run"),
     (["--method", "enumerate", "--temperature", "2", "1"], "--temperature: a setting of the relaxed search"),
     (["--method", "relaxed", "--max-candidates", "10"], "--max-candidates: a setting of the enumerator, which "
                                                         "--method relaxed does not run")],
)  # fmt: skip
def test_a_setting_the_method_does_not_use_is_an_error_not_ignored(capsys, argv, named):
    status, out, err = run(capsys, "synth", "parity3", *argv)
    assert status == 1 and named in " ".join(err.split()) and "Traceback" not in err and out == ""


def test_a_grammar_the_relaxed_search_cannot_relax_is_a_located_error(capsys):
    status, _, err = run(capsys, "synth", "hd20_next_same_popcount", "--method", "relaxed", "--steps", "1")
    assert status == 1 and "error: the relaxed search has no relaxation of `//` on u8" in " ".join(err.split())
    assert "Traceback" not in err


def test_the_enumerators_settings_are_as_before(capsys):
    """No relaxed setting in an enumeration's JSON (its cache key is unchanged), with or without --method."""
    outputs = []
    for extra in ([], ["--method", "enumerate"]):
        status, out, _ = run(capsys, "synth", "majority3", "--max-seconds", "inf", "--json", "-", *extra)
        config = json.loads(out)["config"]
        assert status == 0 and config["method"] == "enumerate"
        assert not [name for name in config if name.startswith("relaxed_")]
        outputs.append(config)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(("task", "method"), [("majority3", []), ("parity3", RELAXED)])
def test_ctrl_c_mid_search_prints_and_writes_what_was_found(capsys, monkeypatch, tmp_path, task, method):
    from compare.app import terminal

    calls = []

    def interrupted(self, progress):
        calls.append(progress)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(terminal.SynthesisProgress, "update", interrupted)
    path = tmp_path / "interrupted.json"
    status, out, _ = run(capsys, "synth", task, *method, "--json", str(path))
    data = json.loads(path.read_text())
    assert status == 130 and data["status"] == "interrupted" and len(calls) == 2
    assert f"\n{task} — interrupted: the search was stopped by Ctrl-C" in out  # after `wrote PATH`
    assert data["best"] is not None and f"best  {data['best']['program']}   " in out


# --- the progress of a relaxed search -----------------------------------------------------------


def test_the_relaxed_searchs_progress_reports_are_filled():
    import search
    from search.relaxed.searcher import CHECK_EVERY

    task = dsl.load_task("parity3")
    reports = []
    # Without repair, which runs after the last check and may add programs the reports never saw.
    result = search.synthesize(task, method="relaxed", relaxed_restarts=8, relaxed_steps=100, relaxed_seed=0,
                               relaxed_depth=2, relaxed_repair=False, progress=reports.append)  # fmt: skip
    assert [p.step for p in reports] == list(range(CHECK_EVERY, 101, CHECK_EVERY))
    for report in reports:
        assert report.steps == 100 and report.restarts == 8 and 0 <= report.restarts_fitted <= 8
        assert np.isnan(report.level_bits) and report.best_loss >= 0 and 0.1 <= report.temperature <= 1
        best = report.best
        assert best.bits == pytest.approx(dsl.description_length(best.program, task.grammar))
        values = dsl.evaluate(best.program, task.env(task.train))
        assert best.fits_train == bool(np.array_equal(values, task.target_values[task.train]))
    temperatures = [p.temperature for p in reports]
    assert temperatures == sorted(temperatures, reverse=True) and temperatures[-1] == pytest.approx(0.1)
    distinct = [p.distinct for p in reports]
    assert distinct == sorted(distinct) and distinct[-1] == result.stats.distinct
    # No step between the last check and the result: the same programs, the same best.
    assert reports[-1].best == result.best
    assert reports[-1].restarts_fitted / 8 == result.stats.restart_success


def test_the_live_line_of_each_searcher():
    import search
    from compare.app.terminal import synthesis_progress_text

    task = dsl.load_task("parity3")
    program = dsl.parse_program("x1 ^ (x2 ^ x3)", task)
    best = search.Candidate(program, 14.04, 0.0, True)
    levels = search.Progress(6.0, 12, 100, 2.0, best)
    assert synthesis_progress_text(levels) == ("[bold]level[/] 6.00 bits · 12 programs · 100 candidates · 50/s · "
                                               "2.0 s · [bold]best[/] x1 ^ (x2 ^ x3) (14.04 bits)")  # fmt: skip
    relaxed = search.Progress(float("nan"), 7, 7, 1.5, best, step=50, steps=100, restarts=8, restarts_fitted=3,
                              best_loss=0.125, temperature=0.32)  # fmt: skip
    text = synthesis_progress_text(relaxed)
    assert "step[/] 50/100" in text and "3/8 restarts" in text and "best loss 0.125" in text and "τ 0.32" in text
    assert text.endswith("\n[bold]best[/] x1 ^ (x2 ^ x3) (14.04 bits, fits) of 7 programs met")
    missing = search.Progress(float("nan"), 7, 7, 1.5, search.Candidate(program, 14.04, 6.5, False), step=50,
                              steps=100, restarts=8, restarts_fitted=0, best_loss=0.5, temperature=0.32)  # fmt: skip
    assert "(14.04 bits + 6.50 data bits)" in synthesis_progress_text(missing)


def test_steps_with_the_hybrid_set_its_relaxed_phases_steps(capsys, tmp_path):
    """--steps is never silently unused: with --method hybrid it is hybrid_steps, which the
    progress reports count up to."""
    out = tmp_path / "hybrid.json"
    status, _, err = run(capsys, "synth", "xor2", "--method", "hybrid", "--steps", "50", "--restarts", "4",
                         "--depth", "2", "--json", str(out))  # fmt: skip
    assert status == 0, err
    config = json.loads(out.read_text())["config"]
    assert config["hybrid_steps"] == 50 and "relaxed_steps" not in config
    import search

    reports = []
    search.synthesize(dsl.load_task("xor2"), search.SearchConfig.from_json(config), progress=reports.append)
    relaxed = [report for report in reports if report.steps is not None]
    assert relaxed and {report.steps for report in relaxed} == {50} and relaxed[-1].step == 50

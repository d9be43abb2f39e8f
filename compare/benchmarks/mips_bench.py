"""`occam bench mips [--quick] [--json PATH]`: occam on the 62 MIPS tasks (Michaud et al. 2024, arXiv
2402.05110), next to MIPS's and GPT-4's published outcomes.

Per task (the built-in tasks of dsl/tasks/mips.task; compare/benchmarks/mips_catalog.py for the facts):

- **occam from the data**: `search.synthesize_recurrent` on the task's training sequences, told
  nothing about the state but the search's bounds. Solved = the program found is right at every step
  of every *test* sequence (run by the reference evaluator, `dsl.recurrent.run`). Its program, bits
  and CPU seconds; `why` when it fails (the search's own reason, "state too large" when the task's
  target needs more states than the search's bound, or how many test sequences it gets wrong).
- **the RNN**: `neural.train_sequence` with the `mips` preset (MIPS's architecture and loss, scaled
  to a CPU: neural/sequence.py), its per-step test accuracy.
- **occam from the RNN's behaviour**: `search.synthesize_with_exceptions` (a program and the training
  steps it does not explain, the shortest two-part code: docs/search.md) on the task whose outputs are
  the trained network's outputs on every sequence (`target_values` = its final outputs, no target).
  Solved = the distilled program is right on every test sequence of the *true* task; the row says how
  many of the network's training outputs it leaves as exceptions. When the network's outputs equal the
  true ones on every sequence the distillation task is the data task itself, and its search is not run
  twice (the row says `network_equals_data`).
- **published**: MIPS's and GPT-4's per-task outcome (gpt4/task_results.csv of their repository, whose
  totals are the paper's 32 and 30 of 62).

Newton_Magnetic is not built in (two outputs per step; compare/benchmarks/mips_tasks.py) and counts as
not solved, with that reason. `--quick` runs `QUICK_TASKS`, a fixed dozen chosen to mix easy tasks
(no or one small state) with hard ones (two states, large ranges, tasks MIPS or GPT-4 failed), with
smaller budgets; the whole suite takes about an hour on a 2-core machine (FULL_* budgets below).

Measured 2026-12-03 on the 2-core machine, idle (main at 765d459):
`/usr/bin/time -v occam bench mips --json full.json`: from the data 47/62, from the RNN's behaviour
47/62 (MIPS 32, GPT-4 30), 32:41 wall, 1.31 GB peak RSS; the RNN is perfect on test for 44, and
six imperfect ones are distilled into their task's program (Sum_All, Div_5, Add_Mod_6/7/8,
Dithering). `--quick` (at 48b0afc): 11/12 from the data, 11/12 from the RNN, 158 s wall, 1.07 GB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .mips_catalog import CATALOG, by_name
from .mips_tasks import MIPS_UNEXPRESSIBLE, load

__all__ = ["FULL_SEARCH_SECONDS", "QUICK_SEARCH_SECONDS", "QUICK_TASKS", "bench_mips", "main", "print_mips_table",
           "wrong_test_sequences"]  # fmt: skip

# A dozen: six easy (no state, or one small state) and six hard (a carry, two states, unbounded-looking
# state, tasks where MIPS or GPT-4 failed).
QUICK_TASKS = (
    "Bitwise_Xor", "Parity_All", "Add_Mod_3", "Prev1", "Max_Seen", "Evens_Detector",
    "Binary_Addition", "Sum_Last2", "Div_3", "Majority_0_1", "Parity_Last3", "Newton_Freebody",
)  # fmt: skip
FULL_SEARCH_SECONDS = 15.0  # wall clock of one synthesize_recurrent call
QUICK_SEARCH_SECONDS = 8.0
QUICK_RNN_STEPS = 1500  # the mips preset's 3,000 halved for --quick
MIPS_TOTAL, GPT4_TOTAL, SUITE_SIZE = 32, 30, 62  # the paper's totals

Log = Callable[[dict[str, Any]], None]


def wrong_test_sequences(program: Any, task: Any) -> int:
    """How many test sequences of `task` `program` gets wrong at some step (reference evaluator)."""
    from dsl.recurrent import run

    mask = task.test
    outputs = run(program, task.env(mask)).outputs
    return int(np.any(outputs != np.asarray(task.target_values)[mask], axis=1).sum())


def _rnn_available() -> str | None:
    """None when neural.train_sequence can be used, else why not (the RNN columns are then left out)."""
    try:
        import neural

        neural.train_sequence  # noqa: B018
        neural.SequenceTrainConfig  # noqa: B018
    except (ImportError, AttributeError) as error:
        return f"no RNN columns: neural.train_sequence is not available ({error})"
    return None


def _search(task: Any, seconds: float, max_states: int | None, *, exceptions: bool = False) -> tuple[Any, float]:
    """(result, CPU s) of `search.synthesize_recurrent` within `seconds`, or with `exceptions` of
    `search.synthesize_with_exceptions` (a network's outputs: its subsets take half as long again)."""
    import search

    settings: dict[str, Any] = {"max_seconds": seconds}
    if max_states is not None:
        settings["max_states"] = max_states
    config = search.RecurrentConfig(**settings)
    started = time.process_time()
    result = (search.synthesize_with_exceptions if exceptions else search.synthesize_recurrent)(task, config)
    return result, time.process_time() - started


def _trim_heap() -> None:
    """The freed memory of a training or a task back to the system (search/heap.py)."""
    from search.heap import trim_heap

    trim_heap()


def _judge_fit(result: Any, task: Any, max_states: int) -> tuple[bool, str | None, str | None, float | None]:
    """(solved, program text, why not, program bits) of a distillation against `task`'s test sequences."""
    fit = result.best
    if fit is None:
        exact = result.exact
        why = (exact.why if exact is not None else None) or f"no program explains all but a few steps ({result.status})"
        return False, None, _with_states_note(why, task, max_states), None
    wrong = wrong_test_sequences(fit.program, task)
    if wrong == 0:
        return True, str(fit.program), None, float(fit.program_bits)
    why = f"explains the network's training outputs but {len(fit.exceptions)} steps; wrong on {wrong} of {task.n_test} test sequences"
    return False, str(fit.program), _with_states_note(why, task, max_states), float(fit.program_bits)


def _judge(result: Any, task: Any, max_states: int) -> tuple[bool, str | None, str | None, float | None]:
    """(solved, program text, why not, bits) of a search result against `task`'s test sequences."""
    best = result.best
    if best is None:
        why = result.why or f"nothing found ({result.status})"
        return False, None, _with_states_note(why, task, max_states), None
    wrong = wrong_test_sequences(best.program, task)
    if wrong == 0:
        return True, str(best.program), None, float(best.bits)
    if not best.fits_train:
        why = f"the best program does not fit the training sequences ({result.status})"
    else:
        why = f"fits the training sequences, wrong on {wrong} of {task.n_test} test sequences"
    return False, str(best.program), _with_states_note(why, task, max_states), float(best.bits)


def _with_states_note(why: str, task: Any, max_states: int) -> str:
    target = getattr(task, "target", None)
    if target is not None and len(target.states) > max_states:
        return f"state too large: the target has {len(target.states)} states, the search at most {max_states}; {why}"
    return why


def _row(name: str, *, search_seconds: float, max_states: int | None, rnn: bool, rnn_steps: int | None,
         count: int | None, seed: int) -> dict[str, Any]:  # fmt: skip
    record = by_name(name)
    row: dict[str, Any] = {"name": name, "gpt4": record.gpt4, "mips": record.mips, "built_in": name not in MIPS_UNEXPRESSIBLE,
                           "length": record.length, "inputs": len(record.inputs)}  # fmt: skip
    empty = {"solved_from_data": False, "program_from_data": None, "bits": None, "cpu_seconds": 0.0,
             "rnn_test_accuracy": None, "solved_from_network": False, "program_from_network": None,
             "bits_from_network": None, "cpu_seconds_network": 0.0, "rnn_cpu_seconds": None}  # fmt: skip
    row.update(empty)
    if not row["built_in"]:
        row["why"] = row["why_from_network"] = f"not expressible: {MIPS_UNEXPRESSIBLE[name]}"
        return row
    task = load(name, count=count)
    row["target_states"] = len(task.target.states) if task.target is not None else None
    row["target_bits"] = task.target.bits(task.grammar) if task.target is not None else None
    result, cpu = _search(task, search_seconds, max_states)
    bound = result.config.max_states
    solved, program, why, bits = _judge(result, task, bound)
    row.update(solved_from_data=solved, program_from_data=program, bits=bits, cpu_seconds=cpu, why=why,
               status=result.status, certified=bool(result.certified))  # fmt: skip
    if not rnn:
        row["why_from_network"] = "no RNN columns"
        return row
    import neural

    config = dataclasses.replace(neural.get_sequence_preset("mips").config, seed=seed)  # as occam train
    if rnn_steps is not None:
        config = dataclasses.replace(config, steps=rnn_steps)
    started = time.process_time()
    training = neural.train_sequence(task, config)
    _trim_heap()  # training's freed memory, before the distillation's search
    row["rnn_cpu_seconds"] = time.process_time() - started
    row["rnn_test_accuracy"] = float(training.test_accuracy)
    outputs = np.asarray(training.final_outputs)
    row["network_equals_data"] = bool(np.array_equal(outputs, np.asarray(task.target_values)))
    if row["network_equals_data"]:  # the data's row stands
        row.update(cpu_seconds_network=0.0, exceptions_from_network=0)
    else:  # its outputs, all but a few of them explained: a program and the steps it does not explain
        behaviour = dataclasses.replace(task, target_values=outputs, target=None)
        distilled, cpu = _search(behaviour, search_seconds, max_states, exceptions=True)
        solved, program, why, bits = _judge_fit(distilled, task, bound)
        fit = distilled.best
        row.update(cpu_seconds_network=cpu, exceptions_from_network=None if fit is None else len(fit.exceptions),
                   exception_bits_from_network=None if fit is None else fit.exception_bits)  # fmt: skip
    row.update(solved_from_network=solved, program_from_network=program, bits_from_network=bits,
               why_from_network=why)  # fmt: skip
    return row


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The counts of each column over `rows`, and the paper's totals over the whole suite."""
    count = len(rows)
    return {
        "tasks": count,
        "built_in": sum(r["built_in"] for r in rows),
        "solved_from_data": sum(r["solved_from_data"] for r in rows),
        "solved_from_network": sum(r["solved_from_network"] for r in rows),
        "solved_either": sum(r["solved_from_data"] or r["solved_from_network"] for r in rows),
        "rnn_perfect": sum(r["rnn_test_accuracy"] == 1.0 for r in rows),
        "mips": sum(bool(r["mips"]) for r in rows),
        "gpt4": sum(bool(r["gpt4"]) for r in rows),
        "mips_published_total": f"{MIPS_TOTAL}/{SUITE_SIZE}",
        "gpt4_published_total": f"{GPT4_TOTAL}/{SUITE_SIZE}",
        "cpu_seconds": sum(
            r["cpu_seconds"] + r["cpu_seconds_network"] + (r["rnn_cpu_seconds"] or 0.0) for r in rows
        ),
    }


def bench_mips(names: Sequence[str] | None = None, *, quick: bool = False, search_seconds: float | None = None,
               max_states: int | None = None, rnn: bool | None = None, rnn_steps: int | None = None,
               count: int | None = None, seed: int = 0, log: Log | None = None) -> dict[str, Any]:  # fmt: skip
    """Run the benchmark over `names` (default: all 62, or QUICK_TASKS with `quick`); `rnn` None:
    the RNN columns when neural.train_sequence exists; `count`: sequences per task (default the task
    file's 10,000). Ctrl-C stops after the rows done so far (`interrupted`)."""
    names = list(names) if names else list(QUICK_TASKS if quick else (t.name for t in CATALOG))
    seconds = (
        search_seconds
        if search_seconds is not None
        else (QUICK_SEARCH_SECONDS if quick else FULL_SEARCH_SECONDS)
    )
    missing = _rnn_available()
    if rnn is None:
        rnn = missing is None
    elif rnn and missing is not None:
        raise RuntimeError(missing)
    steps = rnn_steps if rnn_steps is not None else (QUICK_RNN_STEPS if quick else None)
    rows: list[dict[str, Any]] = []
    interrupted = False
    started = time.perf_counter()
    for name in names:
        by_name(name)
        try:
            row = _row(name, search_seconds=seconds, max_states=max_states, rnn=rnn, rnn_steps=steps, count=count,
                       seed=seed)  # fmt: skip
        except KeyboardInterrupt:
            interrupted = True
            break
        rows.append(row)
        _trim_heap()
        if log is not None:
            log(row)
    return {
        "suite": "mips",
        "quick": quick,
        "rnn": rnn,
        "rnn_note": None if rnn else (missing or "RNN columns switched off"),
        "settings": {
            "search_seconds": seconds,
            "max_states": max_states,
            "rnn_steps": steps,
            "count": count,
            "seed": seed,
        },
        "tasks": rows,
        "totals": totals(rows),
        "wall_seconds": time.perf_counter() - started,
        "interrupted": interrupted,
    }


# --- printing ----------------------------------------------------------------------------------


def _mark(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "-")


def row_line(row: dict[str, Any]) -> str:
    """One plain line for a finished row (printed as the benchmark goes)."""
    accuracy = row.get("rnn_test_accuracy")
    rnn = "" if accuracy is None else f"  rnn {accuracy:.3f} distilled {_mark(row['solved_from_network'])}"
    program = row["program_from_data"] or row.get("why") or ""
    return (f"{row['name']:<24} data {_mark(row['solved_from_data']):<3} {row['cpu_seconds']:6.1f}s{rnn}  "
            f"mips {_mark(row['mips'])} gpt4 {_mark(row['gpt4'])}  {program}")  # fmt: skip


def print_mips_table(report: dict[str, Any], console: Any = None) -> None:
    """The rich table of a report, then its totals."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    rnn = report["rnn"]
    table = Table(title="occam on the MIPS tasks (Michaud et al. 2024)", show_lines=False)
    table.add_column("task")
    table.add_column("data", justify="center")
    table.add_column("program from the data", overflow="fold")
    table.add_column("bits", justify="right")
    table.add_column("CPU s", justify="right")
    if rnn:
        table.add_column("RNN acc", justify="right")
        table.add_column("from RNN", justify="center")
    table.add_column("MIPS", justify="center")
    table.add_column("GPT-4", justify="center")
    for row in report["tasks"]:
        bits = "" if row["bits"] is None else f"{row['bits']:.1f}"
        program = row["program_from_data"] or ""
        if not row["solved_from_data"] and row.get("why"):
            program = f"{program}  [{row['why']}]" if program else f"[{row['why']}]"
        cells = [
            row["name"],
            _mark(row["solved_from_data"]),
            escape(program),
            bits,
            f"{row['cpu_seconds']:.1f}",
        ]
        if rnn:
            accuracy = row["rnn_test_accuracy"]
            cells += ["" if accuracy is None else f"{accuracy:.3f}", _mark(row["solved_from_network"])]
        cells += [_mark(row["mips"]), _mark(row["gpt4"])]
        table.add_row(*cells)
    console.print(table)
    t = report["totals"]
    line = (f"{t['tasks']} tasks ({t['built_in']} built in): occam from the data {t['solved_from_data']}"
            + (f", from the RNN's behaviour {t['solved_from_network']} (either {t['solved_either']}; "
               f"RNN perfect on test {t['rnn_perfect']})" if rnn else "")
            + f"; MIPS {t['mips']} (published {t['mips_published_total']}), GPT-4 {t['gpt4']} "
            f"(published {t['gpt4_published_total']}); {t['cpu_seconds']:.0f} CPU s")  # fmt: skip
    console.print(escape(line))
    if not rnn:
        console.print(escape(f"note: {report['rnn_note']}"))
    if report["interrupted"]:
        console.print("interrupted: the rows above are the tasks done before Ctrl-C")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tasks", nargs="*", help="MIPS task names (default: all 62, or the quick dozen)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=None, help="one search's wall-clock budget")
    parser.add_argument("--no-rnn", action="store_true", help="leave the RNN columns out")
    parser.add_argument("--json", metavar="PATH", help="write the report as JSON (- for standard output)")
    args = parser.parse_args(argv)
    report = bench_mips(args.tasks or None, quick=args.quick, search_seconds=args.max_seconds,
                        rnn=False if args.no_rnn else None,
                        log=None if args.json == "-" else lambda row: print(row_line(row), flush=True))  # fmt: skip
    if args.json == "-":
        json.dump(report, sys.stdout, indent=2, default=_plain)
    else:
        print_mips_table(report)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as file:
                json.dump(report, file, indent=2, default=_plain)
    return 130 if report["interrupted"] else 0


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())

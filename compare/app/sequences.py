"""`occam synth`, `train`, `compare` and `diff` on sequence tasks: the same commands, the same
options where they mean the same, over sequences and recurrent programs (cli.py dispatches here
when SOURCE is a sequence task). What is printed is terminal.py's style: a bold program, its bits,
what the search certified, then numbers."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

import dsl
from dsl import SequenceTask

from .cli import _write_json

__all__ = ["compare", "diff", "synth", "train"]

DISTILLED_STEPS = 6  # recorded steps occam compare distils the network at (the last included)

# Options of the scalar commands that mean nothing for a sequence task: given, they are an error.
_SCALAR_SYNTH_OPTIONS = {"max_candidates": "--max-candidates", "equivalence": "--equivalence", "method": "--method",
                         "relaxed_depth": "--depth", "relaxed_restarts": "--restarts", "relaxed_steps": "--steps",
                         "relaxed_seed": "--seed", "relaxed_learning_rate": "--learning-rate",
                         "relaxed_bits_weight": "--bits-weight", "relaxed_temperature": "--temperature"}  # fmt: skip


def refuse_scalar_options(args: argparse.Namespace, options: dict[str, str], command: str) -> None:
    given = [flag for name, flag in options.items() if name not in args.defaulted and getattr(args, name, None)
             not in (None, False)]  # fmt: skip
    if given:
        raise dsl.SearchError(f"{', '.join(given)}: not a setting of occam {command} on a sequence task",
                              expected="the options of docs/sequences.md")  # fmt: skip


def search_config(args: argparse.Namespace, max_seconds: float | None) -> Any:
    import search

    defaults = search.RecurrentConfig()
    settings: dict[str, Any] = {}
    if max_seconds is not None:
        settings["max_seconds"] = max_seconds
    if "max_memory_mb" not in args.defaulted:
        settings["max_memory_mb"] = args.max_memory_mb
    if "max_bits" not in args.defaulted and getattr(args, "max_bits", None) is not None:
        settings["max_bits"] = args.max_bits
    if getattr(args, "max_states", None) is not None:
        settings["max_states"] = args.max_states
    return search.RecurrentConfig(**{**_config_fields(defaults), **settings})


def _config_fields(config: Any) -> dict[str, Any]:
    import dataclasses

    return {field.name: getattr(config, field.name) for field in dataclasses.fields(config)}


# --- occam synth ----------------------------------------------------------------------------


def synth(args: argparse.Namespace, task: SequenceTask, console: Console) -> int:
    """Exit status 0 when the best program reproduces the training sequences, 2 when none was
    found, 130 when interrupted (what was found is printed and written)."""
    import search

    refuse_scalar_options(args, _SCALAR_SYNTH_OPTIONS, "synth")
    max_seconds = None
    if "max_seconds" not in args.defaulted:
        reserve = min(2.0, max(0.2, 0.05 * args.max_seconds))
        max_seconds = max(args.started + args.max_seconds - reserve - time.perf_counter(), args.max_seconds / 4)
    config = search_config(args, max_seconds)
    with _Status(console, f"{task.name}: searching recurrent programs") as status:
        result = search.synthesize_recurrent(task, config, progress=status.update)
    if args.json:
        _write_json(result.to_json(), args.json, console)
    if args.json != "-":
        print_recurrent_synthesis(task, result, console)
    if result.status == "interrupted":
        return 130
    return 0 if result.best is not None and result.best.fits_train else 2


def print_recurrent_synthesis(task: SequenceTask, result: Any, console: Console) -> None:
    """The best recurrent program, a line per statement, its bits and what they certify."""
    console.print(f"[bold]{escape(task.name)}[/]: {task.n_train:,} training sequences of {task.length} steps "
                  f"({task.n_test:,} held out)")  # fmt: skip
    best = result.best
    if best is None:
        console.print(f"[yellow]no recurrent program fits[/]: {escape(result.why or result.status)}")
    else:
        for line in best.program.lines():
            console.print(f"    [bold]{escape(line)}[/]")
        test = task.test
        correct = None
        if test.any():
            correct = float(np.mean(task.run(best.program, test).outputs == task.target_values[test]))
        accuracy = f"; held-out accuracy {100 * correct:.2f} %" if correct is not None else ""
        console.print(f"{best.bits:.2f} bits ({_states(len(best.program.states))}){accuracy}")
    meaning = result.describe
    console.print(f"status [bold]{escape(result.status)}[/]: {escape(meaning)}")
    console.print(("[green]certified[/]: " if result.certified else "[yellow]not certified[/]: ")
                  + escape(result.certificate))  # fmt: skip
    for sub in result.stats.subsearches:
        console.print(f"[dim]  {sub.states} states over {', '.join(sub.universes) or 'the inputs'}: "
                      f"{sub.table_points:,} table points{'' if sub.exact else ' (sampled)'}, {sub.updates:,} "
                      f"updates, {sub.simulations:,} simulations, {sub.status}, {sub.cpu_seconds:.2f} CPU s[/]")  # fmt: skip


class _Status:
    """A one-line live status on a terminal (nothing when piped): the search's progress."""

    def __init__(self, console: Console, title: str) -> None:
        self.console, self.title, self._status = console, title, None

    def __enter__(self) -> _Status:
        if self.console.is_terminal:
            self._status = self.console.status(escape(self.title))
            self._status.__enter__()
        return self

    def update(self, progress: Any) -> None:
        if self._status is not None:
            self._status.update(escape(f"{self.title} · {progress}"))

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)


# --- occam train ----------------------------------------------------------------------------

_SCALAR_TRAIN_OPTIONS = {"model": "--model", "device": "--device"}


def training_config(args: argparse.Namespace) -> Any:
    """The preset's config (default `mips`), with --steps and --seed."""
    import dataclasses

    import neural

    name = args.preset or "mips"
    if name not in neural.SEQUENCE_PRESETS:
        raise dsl.TrainingError(f"`{name}` is not a preset for sequence tasks",
                                expected="one of " + ", ".join(neural.SEQUENCE_PRESETS))  # fmt: skip
    config = neural.get_sequence_preset(name).config
    changes: dict[str, Any] = {"seed": args.seed}
    if args.steps is not None:
        changes["steps"] = args.steps
    return dataclasses.replace(config, **changes)


def train(args: argparse.Namespace, task: SequenceTask, console: Console) -> int:
    """Train an RNN on the training sequences; write DIR/checkpoint.pt and DIR/metrics.json.
    Exit status 0, or 130 when interrupted (what was trained is written all the same)."""

    refuse_scalar_options(args, _SCALAR_TRAIN_OPTIONS, "train")
    config = training_config(args)
    out = Path(args.out) if args.out else Path("runs") / f"{task.name}-{config.preset}-{args.seed}"
    training = _train(task, config, console)
    metrics = _save_training(training, out)
    if args.json:
        _write_json(metrics, args.json, console)
    if args.json != "-":
        print_sequence_training(training, out, console)
    return 130 if training.interrupted else 0


def _train(task: SequenceTask, config: Any, console: Console) -> Any:
    import neural

    title = f"{task.name} · {config.preset or config.kind}"
    with _Status(console, title) as status:
        return neural.train_sequence(task, config, progress=lambda p: status.update(
            f"step {p.step:,}/{p.steps:,} · loss {p.loss:.4g} · train {100 * p.train_accuracy:.1f} %"))  # fmt: skip


def _save_training(training: Any, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    training.save(out / CHECKPOINT)
    metrics = {**training.metrics(), "out": str(out)}
    (out / "metrics.json").write_text(json.dumps(_json_ready(metrics), indent=2, allow_nan=False) + "\n",
                                      encoding="utf-8")  # fmt: skip
    return metrics


CHECKPOINT = "checkpoint.pt"


def print_sequence_training(training: Any, out: Path, console: Console) -> None:
    task = training.task
    stopped = ("interrupted at" if training.interrupted else "reached the target at" if training.reached_target
               else "ran")  # fmt: skip
    console.print(f"[bold]{escape(task.name)}[/] · {training.config.kind} RNN, hidden {training.config.hidden}, "
                  f"{training.parameters:,} parameters: {stopped} step {training.steps_run:,} "
                  f"({training.seconds:.1f} s)")  # fmt: skip
    console.print(f"accuracy per step: train {_percent(training.train_accuracy)}, test "
                  f"{_percent(training.test_accuracy)}; test sequences entirely right "
                  f"{_percent(training.sequence_accuracy)}")  # fmt: skip
    console.print(f"wrote {escape(str(out / CHECKPOINT))} and metrics.json")


def _percent(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.2f} %"


# --- occam compare --------------------------------------------------------------------------


def compare(args: argparse.Namespace, task: SequenceTask, console: Console) -> int:
    """Synthesize, train, distil, probe, compare; write DIR/report.json. Exit status 0, 130 when
    interrupted (what was computed is written)."""
    import search
    from neural import probe_states, states_after_step
    from search.heap import trim_heap

    from ..analysis.sequences import compare_sequences, distil_over_training, distilled_task

    if args.learner != "network":
        raise dsl.SearchError(f"--learner {args.learner}: sequence tasks compare the network only",
                              expected="--learner network (the default)")  # fmt: skip
    config = training_config(args)
    out = Path(args.out) if args.out else Path("runs") / f"compare-{task.name}-{config.preset}-{args.seed}"
    synthesis_config = search_config(args, None if "max_seconds" in args.defaulted else args.max_seconds)
    console.print("[dim]1/4 synthesis: the shortest recurrent program of the training sequences[/]")
    with _Status(console, f"{task.name}: searching recurrent programs") as status:
        synthesis = search.synthesize_recurrent(task, synthesis_config, progress=status.update)
    print_recurrent_synthesis(task, synthesis, console)
    console.print("[dim]2/4 training[/]")
    training = _train(task, config, console)
    trim_heap()  # training's freed memory, before the distillation's search (search/heap.py)
    _save_training(training, out)
    print_sequence_training(training, out, console)
    console.print("[dim]3/4 distillation: the shortest code of the network's outputs (a program, its exceptions)[/]")
    distill_config = synthesis_config.replace(max_seconds=args.distill_seconds)
    with _Status(console, f"{task.name}: distilling the network") as status:
        distillation = search.synthesize_with_exceptions(distilled_task(task, training.final_outputs), distill_config,
                                                         progress=status.update)  # fmt: skip
    fit = distillation.best
    distilled = (fit.program, fit.bits) if fit is not None else None
    # the code of what it computes over training: DISTILLED_STEPS recorded steps within --distill-seconds
    # in all (each search's subsets take SUBSET_SHARE of its time on top)
    per_step = distill_config.replace(
        max_seconds=args.distill_seconds / ((1 + search.recurrent.exceptions.SUBSET_SHARE) * DISTILLED_STEPS))
    with _Status(console, f"{task.name}: distilling the network over training"):
        over_training = distil_over_training(task, training.trace.steps, training.trace.outputs, per_step,
                                             count=DISTILLED_STEPS)  # fmt: skip
    minimal = synthesis.best.program if synthesis.best is not None else None
    probe: dict[str, float] = {}
    if minimal is not None and minimal.states and task.n_test >= 2:
        console.print("[dim]4/4 probe: the minimal program's state read linearly off the hidden state[/]")
        # h_t holds the state after step t's updates: the probe's target, wherever the program reads its output
        scores = probe_states(training.hidden_states(task.test), states_after_step(minimal, task.env(task.test)))
        probe = {name: score.score for name, score in scores.items()}
    comparison = compare_sequences(
        task, minimal, synthesis.best.bits if synthesis.best is not None else None, synthesis.certified,
        training.trace.steps, training.trace.outputs, distilled=distilled, probe=probe,
        distilled_program_bits=None if fit is None else fit.program_bits,
        distilled_exceptions=None if fit is None else len(fit.exceptions), distilled_sequence=over_training,
        settings={"preset": config.preset, "seed": args.seed, "steps": training.steps_run,
                  "synthesis_status": synthesis.status, "distillation_status": distillation.status,
                  "distillation_source": None if fit is None else fit.source},
    )  # fmt: skip
    data = comparison.to_json()
    (out / "report.json").write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    if args.json:
        _write_json(data, args.json, console)
    if args.json != "-":
        print_sequence_comparison(comparison, out, console)
    return 130 if training.interrupted else 0


def _code(program_bits: float | None, exceptions: int | None, bits: float | None) -> str:
    """A distilled two-part code in words: the program's bits, then its exceptions'."""
    if program_bits is None or bits is None:  # a report written before codes had two parts
        return f"{bits:.2f} bits" if bits is not None else "no code"
    if not exceptions:
        return f"{program_bits:.2f} bits, no exceptions"
    return f"{program_bits:.2f} bits and {exceptions:,} exceptions, {bits:.2f} bits in all"


def print_sequence_comparison(c: Any, out: Path, console: Console) -> None:
    final = c.final
    console.print(f"[bold]{escape(c.task)}[/]: the network against the minimal program "
                  f"[bold]{escape(c.minimal_program or 'none found')}[/]")  # fmt: skip
    if final is not None and final.agreement_minimal is not None:
        console.print(f"at step {final.step:,}: agreement {_percent(final.agreement_minimal)} of held-out outputs, "
                      f"{_percent(final.sequences_agreeing)} of held-out sequences entirely; test accuracy "
                      f"{_percent(final.test_accuracy)}")  # fmt: skip
        if final.agreement_by_position:
            worst = int(np.argmin(final.agreement_by_position))
            console.print(f"by position: lowest at t = {worst} ({_percent(final.agreement_by_position[worst])})")
    found = c.program_found_step
    console.print("the network computes the minimal program on every held-out sequence "
                  + (f"from step {found:,}" if found is not None else "at no recorded step"))  # fmt: skip
    if c.distilled_program is not None:
        verdict = "correct on every held-out sequence" if c.distilled_correct else "not correct on held-out sequences"
        console.print(f"distilled from the network: [bold]{escape(c.distilled_program)}[/] "
                      f"({_code(c.distilled_program_bits, c.distilled_exceptions, c.distilled_bits)}; {verdict})")  # fmt: skip
    else:
        console.print("distilled from the network: no recurrent program explains all but a few of its training outputs")
    if c.distilled_sequence:
        console.print("over training (held-out sequences): " + "; ".join(
            f"step {row['step']:,}: " + (_code(row["program_bits"], row["exceptions"], row["bits"])
                                         if row["program"] is not None else "none")
            for row in c.distilled_sequence))  # fmt: skip
    for name, score in c.probe.items():
        console.print(f"probe: the program's state `{escape(name)}` from the hidden state: {score:.3f} (held out)")
    console.print(f"wrote {escape(str(out / 'report.json'))}")


# --- occam diff -----------------------------------------------------------------------------


def diff(args: argparse.Namespace, task: SequenceTask, console: Console) -> int:
    """Where a saved RNN differs from a recurrent program, over every sequence."""
    import neural

    program = dsl.parse_recurrence(args.program, task, expected=task.output_type)
    path = Path(args.model)
    training = neural.load_sequence_checkpoint(path / CHECKPOINT if path.is_dir() else path, task)
    outputs = training.final_outputs
    values = task.run(program).outputs
    agree = outputs == values
    differ = np.flatnonzero(~agree.all(axis=1))
    report = {
        "task": task.name, "program": str(program), "model": str(args.model), "step": training.steps_run,
        "agreement": float(agree.mean()), "agreement_train": _mean(agree[task.train]),
        "agreement_test": _mean(agree[task.test]),
        "agreement_by_position": [float(v) for v in agree.mean(axis=0)],
        "sequences_differing": int(len(differ)),
        "sequences": [_sequence_row(task, int(n), outputs[n], values[n]) for n in differ[:MAX_LISTED]],
    }  # fmt: skip
    if args.json:
        _write_json(report, args.json, console)
    if args.json != "-":
        console.print(f"[bold]{escape(task.name)}[/]: the network of {escape(str(args.model))} (step "
                      f"{training.steps_run:,}) against [bold]{escape(str(program))}[/]")  # fmt: skip
        console.print(f"agreement: {_percent(report['agreement'])} of {agree.size:,} outputs — train "
                      f"{_percent(report['agreement_train'])}, test {_percent(report['agreement_test'])}")  # fmt: skip
        console.print(f"{len(differ):,} of {task.n_sequences:,} sequences differ somewhere")
        for row in report["sequences"][:10]:
            inputs = "; ".join(f"{name} {row['inputs'][name]}" for name in row["inputs"])
            console.print(f"  sequence {row['sequence']}{' (train)' if row['train'] else ''}: {escape(inputs)}")
            console.print(f"    network {row['network']}\n    program {row['program']}")
    return 0


MAX_LISTED = 50


def _sequence_row(task: SequenceTask, n: int, network: np.ndarray, program: np.ndarray) -> dict[str, Any]:
    return {"sequence": n, "train": bool(task.train[n]),
            "inputs": {name: values[n].tolist() for name, values in task.sequences.items()},
            "network": network.tolist(), "program": program.tolist(),
            "first_difference": int(np.argmax(network != program))}  # fmt: skip


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    return value


def _states(count: int) -> str:
    return "no state" if count == 0 else "1 state variable" if count == 1 else f"{count} state variables"

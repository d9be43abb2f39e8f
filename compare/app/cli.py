"""The `occam` command line.

Every subcommand takes a task file or the name of a built-in task, prints readable results
and can write JSON. Errors in the user's input print one paragraph (file:line:column, the line
with a caret, what was expected) and exit with status 1, never a traceback. Every exit status
is listed in EXIT_STATUSES (shown by `occam --help`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

import dsl
from dsl import OccamError
from dsl.errors import OutputError

from .describe import task_summary

__all__ = ["main", "EXIT_STATUSES"]

EXIT_STATUSES = {
    0: "success (synth: the best program found fits the training data, or with noise codes it)",
    1: "an error in the input, the settings or a file: the message says where and what was expected",
    2: "a command-line usage error; or synth: no program that fits the training data was found "
       "(with noise: none codes it), the results are printed and written all the same",
    130: "interrupted (Ctrl-C): what was computed so far is printed and written",
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Time budgets count from the process's
    start when `argv` is None (the `occam` command: its start-up is waited for too), else from
    this call."""
    started = time.perf_counter() - (_process_age() if argv is None else 0.0)
    parser = _parser()
    args = parser.parse_args(argv)
    _resolve_search_defaults(args)
    args.started = started  # budgets of the whole command count from here
    # Piped output gets wide lines rather than rich's default of 80 columns. No emoji: rich would
    # turn `:x:` in a quoted source line or a task's doc into a picture.
    width = None if sys.stdout.isatty() else 160
    console = Console(highlight=False, soft_wrap=True, width=width, emoji=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    try:
        _check_destinations(args)  # before any work: an unwritable --out is not found after training
        return args.run(args, console)
    except OccamError as error:
        errors.print(f"[bold red]error:[/] {_escape(str(error))}")
        return 1
    except KeyboardInterrupt as interruption:  # a stage may say where it stopped and what it kept
        errors.print("[yellow]interrupted[/]" + (f" {_escape(str(interruption))}" if str(interruption) else ""))
        return 130
    except BrokenPipeError:  # `occam tasks | head`
        return 0
    except OSError as error:  # a file that cannot be written or read, found late
        errors.print(f"[bold red]error:[/] {_escape(_file_error(error, args))}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="occam",
        description="Test whether neural networks learn the shortest programs that explain their data.",
        epilog="exit statuses:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_STATUSES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    tasks = commands.add_parser("tasks", help="list the built-in tasks")
    _json_option(tasks)
    tasks.set_defaults(run=_tasks)

    check = commands.add_parser("check", help="validate a task file and summarize its tasks")
    check.add_argument("source", metavar="SOURCE", help="a .task file (PATH:NAME for one task) or a built-in task")
    _json_option(check)
    check.set_defaults(run=_check)

    synth = commands.add_parser("synth", help="find the shortest programs that explain a task's training data")
    synth.add_argument("source", metavar="SOURCE", help="a .task file (PATH:NAME) or a built-in task")
    synth.add_argument("--max-seconds", type=_positive, default=_SearchDefault("max_seconds"), metavar="S",
                       help="time budget, wall clock, the whole command (default %(default)s; inf: none)")  # fmt: skip
    synth.add_argument("--max-bits", type=_positive, default=_SearchDefault("max_bits"), metavar="B",
                       help="description-length bound")  # fmt: skip
    synth.add_argument("--max-memory-mb", type=_megabytes, default=_SearchDefault("max_memory_mb"), metavar="M",
                       help="memory budget of the search (default %(default)s)")  # fmt: skip
    synth.add_argument("--max-candidates", type=_count, default=_SearchDefault("max_candidates"), metavar="N",
                       help="deterministic budget: candidates enumerated (default: none); with --max-seconds inf, "
                            "a run stopped by it is the same on every machine")  # fmt: skip
    synth.add_argument("--equivalence", choices=("all", "train"), default=_SearchDefault("equivalence"),
                       help="points on which two programs are the same function (default: %(default)s)")  # fmt: skip
    synth.add_argument("--window", type=_non_negative, default=_SearchDefault("posterior_window"), metavar="BITS",
                       help="posterior: functions up to this many bits above the shortest (default %(default)s)")  # fmt: skip
    # A metavar, so that argparse does not list the choices (importing the search) as it builds the parser.
    synth.add_argument("--method", choices=_SearchMethods(), default=_SearchDefault("method"), metavar="METHOD",
                       help="the searcher: %(choices)s (search.SEARCHERS, docs/search.md); enumerate searches by "
                            "description length and certifies its best, relaxed fits the grammar relaxed to a "
                            "soft derivation tree by gradient descent (default %(default)s)")  # fmt: skip
    synth.add_argument("--max-states", type=_natural, metavar="K",
                       help="sequence tasks: state variables at most (default 2; search.RecurrentConfig)")
    _relaxed_options(synth)
    _json_option(synth)
    synth.set_defaults(run=_synth)

    train = commands.add_parser("train", help="train a network on a task's training data and trace its function")
    train.add_argument("source", nargs="?", metavar="SOURCE",
                       help="a .task file (PATH:NAME) or a built-in task; default: the task of --preset")  # fmt: skip
    train.add_argument("--preset", metavar="NAME",
                       help="a training set-up: gromov, nanda, nanda-mini, boolean, real (default: by the task's types)")  # fmt: skip
    train.add_argument("--model", choices=("mlp", "transformer"), help="override the preset's model")
    train.add_argument("--steps", type=int, metavar="N", help="optimizer steps (default: the preset's)")
    train.add_argument("--seed", type=int, default=0, metavar="S", help="initialization and batches (default 0)")
    train.add_argument("--device", choices=("cpu", "cuda", "auto"), help="default: the preset's (cpu; nanda: auto)")
    train.add_argument("--out", metavar="DIR", help="where to write the run (default runs/TASK-PRESET-SEED)")
    _json_option(train)
    train.set_defaults(run=_train)

    compare = commands.add_parser(
        "compare", help="synthesize, train and compare: did the network learn the minimal program, when, where not?"
    )
    compare.add_argument("source", metavar="SOURCE", help="a .task file (PATH:NAME) or a built-in task")
    compare.add_argument("--preset", metavar="NAME", help="the training set-up (default: by the task's types)")
    compare.add_argument("--seed", type=int, default=0, metavar="S",
                         help="the learners' seed: the network's, the relaxed search's restarts (default 0)")
    compare.add_argument("--steps", type=int, metavar="N", help="training steps (default: the preset's)")
    compare.add_argument("--max-seconds", type=_positive, default=_SearchDefault("max_seconds"), metavar="S",
                         help="the synthesis stage's time budget (default %(default)s); training is bounded by --steps, "
                              "the comparison by --distill-seconds")  # fmt: skip
    compare.add_argument("--distill-window", type=_non_negative, default=10.0, metavar="BITS",
                         help="distil among programs up to the minimal program's bits + BITS (default 10)")  # fmt: skip
    compare.add_argument("--distill-seconds", type=_positive, default=60.0, metavar="S",
                         help="the comparison stage's time budget: distilling every recorded step (default 60)")  # fmt: skip
    compare.add_argument("--max-memory-mb", type=_megabytes, default=_SearchDefault("max_memory_mb"), metavar="M",
                         help="the synthesis stage's memory budget (default %(default)s)")  # fmt: skip
    compare.add_argument("--distill-memory-mb", type=_megabytes, default=1024.0, metavar="M",
                         help="the distillation's memory budget: its candidate programs (default 1024)")  # fmt: skip
    compare.add_argument("--out", metavar="DIR", help="where to write the run (default runs/compare-TASK-PRESET-SEED[-Nsteps])")
    compare.add_argument("--max-states", type=_natural, metavar="K",
                         help="sequence tasks: state variables at most (default 2; search.RecurrentConfig)")
    _learner_options(compare)
    _json_option(compare)
    compare.set_defaults(run=_compare)

    diff = commands.add_parser("diff", help="where a saved network differs from a program")
    diff.add_argument("source", metavar="SOURCE", help="the task the network was trained on")
    diff.add_argument("--program", required=True, metavar="TEXT", help="a program over the task's inputs")
    diff.add_argument("--model", required=True, metavar="DIR", help="a run directory of occam train (or its checkpoint)")
    diff.add_argument("--plot", metavar="PNG", help="draw where they disagree (tasks with two discrete inputs)")
    _json_option(diff)
    diff.set_defaults(run=_diff)

    bench = commands.add_parser("bench", help="benchmarks that print numbers (synth, search, train, startup, relaxed, "
                                              "packed, prior, nngp, mips)")  # fmt: skip
    bench.add_argument("suite", choices=("synth", "search", "train", "startup", "relaxed", "packed", "prior", "nngp",
                                         "mips"),
                       help="which benchmark (relaxed: the relaxed searcher's step, batched against a loop; packed: "
                            "truth tables in words against a byte per point; prior: random networks sampled per "
                            "CPU-second against a naive loop; nngp: the NNGP kernel and EP; mips: occam, from the "
                            "data and from an RNN's behaviour, on the 62 MIPS tasks beside MIPS and GPT-4)")  # fmt: skip
    bench.add_argument("tasks", nargs="*", metavar="TASK",
                       help="search: task files or built-in tasks (default: the Boolean, bit-vector, modular "
                            "and Nguyen tasks of the library); mips: MIPS task names (default: all 62)")  # fmt: skip
    bench.add_argument("--quick", action="store_true",
                       help="synth: a short version (about a minute); search: 8 small tasks, 2 s and 8 runs each; "
                            "relaxed: 5 timed steps per case instead of 20; mips: a fixed dozen tasks, smaller budgets")
    bench.add_argument("--methods", metavar="M,...", help="search: the methods (default: every registered one)")
    bench.add_argument("--restarts", type=_count, default=None, metavar="N",
                       help="search: runs of a stochastic method per task, seeds 0 … N-1 (default: 20, --quick: 8)")
    bench.add_argument("--max-seconds", type=_positive, default=None, metavar="S",
                       help="search: wall-clock budget of one run (default: 60, --quick: 2); mips: of one "
                            "recurrent search (default: 15, --quick: 8)")
    _json_option(bench)
    bench.set_defaults(run=_bench)

    bias = commands.add_parser("bias", help="simplicity bias: how often random networks and program priors compute "
                                            "each Boolean function, against its minimal program")  # fmt: skip
    _bias_options(bias)
    _json_option(bias)
    bias.set_defaults(run=_bias)

    primitives = commands.add_parser("primitives", help="print the table of primitives and their semantics")
    primitives.set_defaults(run=_primitives)
    return parser


def _bias_options(bias: argparse.ArgumentParser) -> None:
    """`occam bias`'s settings (BiasConfig's fields; dest: the field's name)."""
    from ..bias.config import PRIORS, BiasConfig

    defaults = BiasConfig()
    bias.add_argument("--inputs", type=_count, default=defaults.inputs, metavar="N", help="Boolean inputs, 1 to 7 "
                      "(2^N points; default %(default)s)")  # fmt: skip
    bias.add_argument("--samples", type=_count, default=defaults.samples, metavar="N",
                      help="functions sampled per prior (default %(default)s)")
    bias.add_argument("--seed", type=_natural, default=defaults.seed, metavar="S", help="(default %(default)s)")
    bias.add_argument("--priors", type=_names, default=defaults.priors, metavar="P,...",
                      help=f"which priors, of {', '.join(PRIORS)} (default: {','.join(defaults.priors)})")
    bias.add_argument("--widths", type=_widths, default=defaults.widths, metavar="W,...",
                      help="the networks' hidden widths (default 40,40: Valle-Pérez et al.'s 7-40-40-1)")
    bias.add_argument("--sigma-w", type=_finite_positive, default=defaults.sigma_w, metavar="σ",
                      help="weights N(0, σ²/fan-in) (default %(default)s)")
    bias.add_argument("--sigma-b", type=_finite_non_negative, default=defaults.sigma_b, metavar="σ",
                      help="biases N(0, σ²) of the priors with biases (default %(default)s)")
    bias.add_argument("--encoding", choices=("01", "pm1"), default=defaults.encoding,
                      help="the inputs as 0/1 or -1/+1 (default %(default)s)")
    bias.add_argument("--grammar", default=defaults.grammar, metavar="NAME",
                      help="the grammar of the minimal programs: boolean, boolean_xor, or grammar text "
                           "(default %(default)s)")  # fmt: skip
    bias.add_argument("--min-count", type=_count, default=defaults.min_count, metavar="K",
                      help="correlations over the functions seen at least K times (default %(default)s)")
    bias.add_argument("--complexity-seconds", type=_positive, default=defaults.complexity_seconds, metavar="S",
                      help="the minimal-bits search, all priors together (default %(default)s)")
    bias.add_argument("--max-memory-mb", type=_megabytes, default=defaults.max_memory_mb, metavar="MB",
                      help="the minimal-bits search's banks (default %(default)s; the process needs about 1 GB more)")
    bias.add_argument("--bootstrap", type=_count, default=defaults.bootstrap, metavar="N",
                      help="bootstrap resamples of the correlations' intervals (default %(default)s)")
    bias.add_argument("--plot", metavar="PNG", help="write the figure (log2 P against minimal bits and LZ)")
    sgd = bias.add_argument_group("--sgd: SGD against the Bayesian prior and occam's posterior (Mingard et al. 2021)")
    sgd.add_argument("--sgd", action="store_true", help="run the SGD experiment instead of the priors' table")
    sgd.add_argument("--target", default=None, metavar="PROGRAM",
                     help="the target function, a program over x1..xN (default: x1 and x2 or x3 and not x4)")
    sgd.add_argument("--train-sizes", type=_widths, default=None, metavar="N,...",
                     help="training-set sizes (default 16,32,64)")
    sgd.add_argument("--nets", type=_count, default=None, metavar="N", help="networks trained per set (default 1000)")
    bias.add_argument("--html", metavar="PATH", help="write a self-contained HTML page of the results")


def _names(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated names."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names nothing (expected names separated by commas)")
    return names


def _widths(text: str) -> tuple[int, ...]:
    """An argparse type: hidden widths separated by commas (an empty text: no hidden layer)."""
    return tuple(_count(part) for part in text.split(",") if part.strip())


def _relaxed_options(synth: argparse.ArgumentParser) -> None:
    """The relaxed searcher's settings (SearchConfig's relaxed_* fields; dest: the field's name)."""
    relaxed = synth.add_argument_group("the relaxed search (--method relaxed, or a method built on it)")

    def option(flag: str, field: str, kind: Any, metavar: Any, help: str, **more: Any) -> None:
        relaxed.add_argument(flag, type=kind, dest=field, default=_SearchDefault(field), metavar=metavar,
                             help=help + " (default %(default)s)", **more)  # fmt: skip

    option("--depth", "relaxed_depth", _natural, "D", "depth of the soft derivation tree")
    option("--restarts", "relaxed_restarts", _count, "N", "restarts, optimized together as one batch")
    option("--steps", "relaxed_steps", _count, "N", "Adam steps (with --method hybrid: of its relaxed phase, "
           "hybrid_steps, default 200)")  # fmt: skip
    option("--seed", "relaxed_seed", _natural, "S", "the initial logits' seed")
    option("--learning-rate", "relaxed_learning_rate", _finite_positive, "LR", "Adam's step size")
    option("--bits-weight", "relaxed_bits_weight", _finite_non_negative, "W",
           "λ: the objective is data loss + λ · expected bits")  # fmt: skip
    option("--temperature", "relaxed_temperature", _finite_positive, ("FIRST", "LAST"),
           "softmax temperature at the first and the last step, geometric between", nargs=2)  # fmt: skip


# The options of `occam synth` that set relaxed_* fields, and the enumerator's options that the
# relaxed searcher ignores (given with the other method: an error, not a setting silently unused).
_RELAXED_OPTIONS = {
    "relaxed_depth": "--depth", "relaxed_restarts": "--restarts", "relaxed_steps": "--steps", "relaxed_seed": "--seed",
    "relaxed_learning_rate": "--learning-rate", "relaxed_bits_weight": "--bits-weight",
    "relaxed_temperature": "--temperature",
}  # fmt: skip
_ENUMERATOR_OPTIONS = {"max_bits": "--max-bits", "max_candidates": "--max-candidates"}


class _SearchMethods:
    """The names in `search.SEARCHERS`, as argparse's choices of --method: read only when
    argparse looks at them (a --method given, a help text shown), since building the parser must
    not import the search; a searcher registered there is a choice at once."""

    def _names(self) -> list[str]:
        from search.synthesize import SEARCHERS

        return list(SEARCHERS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


class _SearchDefault:
    """The default of a search setting: `search.SearchConfig()`'s field `name`, read only when
    needed (a help text shown, the command run), since building the parser must not import
    the search (`occam check` loads none of it). `main` replaces it by its value."""

    def __init__(self, name: str) -> None:
        self.name = name

    def value(self) -> Any:
        from search.config import SearchConfig

        return getattr(SearchConfig(), self.name)

    def __str__(self) -> str:  # for "%(default)s" in a help text
        value = self.value()
        if isinstance(value, tuple):
            return " ".join(f"{item:g}" for item in value)
        return f"{value:g}" if isinstance(value, float) else str(value)


def _resolve_search_defaults(args: argparse.Namespace) -> None:
    """Each _SearchDefault replaced by its value; `args.defaulted` names the settings so set
    (those the command line did not give)."""
    args.defaulted = set()
    for name, value in vars(args).items():
        if isinstance(value, _SearchDefault):
            setattr(args, name, value.value())
            args.defaulted.add(name)


def _process_age() -> float:
    """Wall seconds since this process started (Linux's /proc; elsewhere 0, and the command's
    budget counts from `main`): the `occam` command's start-up is part of what a user waits."""
    try:
        with open("/proc/self/stat", encoding="ascii") as file:
            start_ticks = int(file.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        with open("/proc/uptime", encoding="ascii") as file:
            uptime = float(file.read().split()[0])
        return min(60.0, max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK")))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def _positive(text: str) -> float:
    """An argparse type: a number > 0, or inf (no limit); NaN, which no limit compares with, is refused."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not > 0 (expected a number > 0, or inf for no limit)")
    return value


def _count(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = _parsed(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not >= 1 (expected an integer >= 1)")
    return value


def _natural(text: str) -> int:
    """An argparse type: an integer >= 0."""
    value = _parsed(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative (expected an integer >= 0)")
    return value


def _finite_positive(text: str) -> float:
    """An argparse type: a finite number > 0 (NaN refused)."""
    value = _parsed(text, float, "a number")
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number > 0")
    return value


def _finite_non_negative(text: str) -> float:
    """An argparse type: a finite number >= 0 (NaN refused)."""
    value = _parsed(text, float, "a number")
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number >= 0")
    return value


def _megabytes(text: str) -> float:
    """An argparse type: a finite number of MB > 0 (a memory budget is reserved up front)."""
    value = _positive(text)
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not finite (expected a number of MB > 0)")
    return value


def _non_negative(text: str) -> float:
    """An argparse type: a number >= 0 (NaN refused)."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative (expected a number >= 0)")
    return value


def _number(text: str) -> float:
    value = _parsed(text, float, "a number")
    if value != value:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (expected a number, or inf)")
    return value


def _parsed(text: str, kind: type, what: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", nargs="?", const="-", metavar="PATH", help="write JSON to PATH (default: standard output)"
    )


def _write_json(data: Any, destination: str, console: Console) -> None:
    text = json.dumps(data, indent=2, allow_nan=False)
    if destination == "-":
        sys.stdout.write(text + "\n")
    else:
        try:
            with open(destination, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as error:
            raise OutputError(f"cannot write the JSON to {destination}: {_os_reason(error)}",
                              expected="a --json path in a writable folder") from None  # fmt: skip
        console.print(f"wrote {_escape(destination)}")


def _screen(args: argparse.Namespace, console: Console) -> Console:
    """Where progress and results are shown: standard error when the JSON goes to standard output."""
    return Console(stderr=True, highlight=False, emoji=False) if args.json == "-" else console


def _escape(text: str) -> str:
    """`text` printed as is by rich: its markup escaped (emoji codes such as `:x:` are left
    alone by the consoles, which are made with `emoji=False`)."""
    from rich.markup import escape

    return escape(text)


def _os_reason(error: OSError) -> str:
    """An OSError's reason in words, without its errno and path: 'permission denied'."""
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]


def _file_error(error: OSError, args: argparse.Namespace) -> str:
    """Which file could not be read or written, and why, for an OSError found mid-run."""
    path = error.filename if error.filename is not None else "a file"
    out = getattr(args, "out", None)
    during = f" (writing the run to {out})" if out else ""
    return f"cannot read or write {path}: {_os_reason(error)}{during}"


def _check_destinations(args: argparse.Namespace) -> None:
    """Refuse, before any work, a --json or --plot file or an --out folder (default runs/) that
    cannot be written."""
    if getattr(args, "json", None) not in (None, "-"):
        _require_writable_file(Path(args.json), "--json")
    if getattr(args, "plot", None):
        _require_writable_file(Path(args.plot), "--plot")
    if getattr(args, "html", None):
        _require_writable_file(Path(args.html), "--html")
    if args.run in (_train, _compare):
        out = Path(args.out) if getattr(args, "out", None) else Path("runs")
        _require_writable_folder(out, "--out" if args.out else "the run folder (--out)")


def _require_writable_file(path: Path, option: str) -> None:
    if path.is_dir():
        raise OutputError(f"cannot write {option} {path}: it is a folder", expected="a file path")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {option} {path}: permission denied", expected="a writable file")
        return
    _probe_folder(path.parent, f"{option} {path}", create=False)


def _require_writable_folder(path: Path, option: str) -> None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write {option} {path}: {existing} is not a folder",
                          expected="a folder path")  # fmt: skip
    _probe_folder(existing, f"{option} {path}", create=True)


def _probe_folder(folder: Path, what: str, *, create: bool) -> None:
    """Create and delete a file in `folder` (os.access cannot tell a read-only file system, and
    says yes to root)."""
    import tempfile

    if not folder.is_dir():
        missing = "does not exist" if not folder.exists() else "is not a folder"
        expected = "a folder path" if create else "a path in an existing folder"
        raise OutputError(f"cannot write {what}: {folder} {missing}", expected=expected)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OutputError(f"cannot write {what}: {folder}: {_os_reason(error)}",
                          expected="a path in a writable folder") from None  # fmt: skip


# --- occam tasks -----------------------------------------------------------------------------


def _tasks(args: argparse.Namespace, console: Console) -> int:
    from .terminal import print_tasks

    summaries = [task_summary(dsl.load_any_task(name)) for name in dsl.builtin_task_names()]
    if args.json:
        _write_json(summaries, args.json, console)
        return 0
    print_tasks(summaries, console)
    return 0


# --- occam synth ----------------------------------------------------------------------------


def _synth(args: argparse.Namespace, console: Console) -> int:
    """Exit status (EXIT_STATUSES): 0 when the best program fits the training data (with noise:
    when its two-part code is finite), 2 when not, 130 when interrupted (the results so far are
    printed and written all the same).

    `--max-seconds` bounds the whole command, start-up included: the search gets what is left
    but a reserve for writing and printing the result, which is cut short (the sympy forms left
    out) when it would run past the budget."""
    import search

    from .terminal import SynthesisProgress, print_synthesis, simplifier

    task = dsl.load_any_task(args.source)
    if isinstance(task, dsl.SequenceTask):
        from . import sequences

        return sequences.synth(args, task, console)
    _refuse_max_states(args, task)
    screen = _screen(args, console)
    deadline = args.started + args.max_seconds
    reserve = min(5.0, max(0.5, 0.1 * args.max_seconds))
    search_seconds = max(deadline - reserve - time.perf_counter(), args.max_seconds / 4)
    config = _search_config(args, search_seconds)
    with SynthesisProgress(screen) as progress:
        result = search.synthesize(task, config, progress=progress.update)
    simplify = simplifier(deadline)  # each program's sympy form once: the JSON's best, then the tables
    if args.json:  # written first: the result is safe before anything that might fail or be cut short
        data = result.to_json()
        if result.best is not None:
            data["best"]["latex"] = result.best.program.to_latex()
            data["best"]["simplified"] = simplify(result.best.program, task.env())
        _write_json(data, args.json, screen)
    if args.json != "-":
        print_synthesis(result, console, deadline=deadline, simplify=simplify)
    if result.status == "interrupted":
        return 130
    return 0 if _succeeded(result) else 2


def _refuse_max_states(args: argparse.Namespace, task: dsl.Task) -> None:
    if args.max_states is not None:
        raise dsl.SearchError(f"--max-states: a setting of the recurrent search, and {task.name} is not a sequence task",
                              expected="a sequence task, or no --max-states")  # fmt: skip


def _search_config(args: argparse.Namespace, max_seconds: float) -> Any:
    """The SearchConfig of `occam synth`'s options. SearchError for options the method does not
    use: the relaxed searcher's with --method enumerate, the enumerator's budgets with --method
    relaxed (which would be silently ignored)."""
    import search

    unused = {"enumerate": _RELAXED_OPTIONS, "relaxed": _ENUMERATOR_OPTIONS}.get(args.method, {})
    given = [option for name, option in unused.items() if name not in args.defaulted]
    if given:
        options = " and ".join(given) if len(given) <= 2 else ", ".join(given[:-1]) + " and " + given[-1]
        searcher = "the relaxed search" if args.method == "enumerate" else "the enumerator"
        settings = "a setting" if len(given) == 1 else "settings"
        other = "relaxed" if args.method == "enumerate" else "enumerate"
        raise dsl.SearchError(f"{options}: {settings} of {searcher}, which --method {args.method} does not run",
                              expected=f"--method {other}, or --method {args.method} without {options}")
    relaxed = {name: getattr(args, name) for name in _RELAXED_OPTIONS}
    relaxed["relaxed_temperature"] = tuple(relaxed["relaxed_temperature"])  # argparse gives a list
    if args.method == "hybrid" and "relaxed_steps" not in args.defaulted:
        relaxed["hybrid_steps"] = relaxed.pop("relaxed_steps")  # the steps of the hybrid's relaxed phase
    return search.SearchConfig(method=args.method, max_seconds=max_seconds, max_bits=args.max_bits,
                               max_memory_mb=args.max_memory_mb, max_candidates=args.max_candidates,
                               equivalence=args.equivalence, posterior_window=args.window,
                               **relaxed)  # fmt: skip


def _succeeded(result) -> bool:
    """A fit was found; with noise, a best program whose two-part code is finite (the data then
    need not be reproduced: the MDL-best program is the answer)."""
    best = result.best
    if best is None:
        return False
    return math.isfinite(best.data_bits) if result.task.noise is not None else best.fits_train


# --- occam train ----------------------------------------------------------------------------


def _train(args: argparse.Namespace, console: Console) -> int:
    """Exit status: 0 when the run finished, 130 when it was interrupted (its files are written
    all the same)."""
    from pathlib import Path

    import neural

    from .terminal import TrainingProgress, print_training

    sequence_preset = args.preset is not None and args.preset in neural.SEQUENCE_PRESETS
    preset = neural.get_preset(args.preset) if args.preset is not None and not sequence_preset else None
    source = args.source if args.source is not None else preset.task if preset is not None else None
    if source is None:
        raise dsl.TrainingError(
            "no task to train on" + (f": preset `{preset.name}` names none" if preset is not None else ""),
            expected="occam train SOURCE [--preset NAME] (SOURCE: a .task file or a built-in task)",
        )
    task = dsl.load_any_task(source)
    if isinstance(task, dsl.SequenceTask):
        from . import sequences

        return sequences.train(args, task, console)
    preset = preset or neural.default_preset(task)
    config = neural.with_overrides(preset, model=args.model, steps=args.steps, device=args.device)
    out = Path(args.out) if args.out else Path("runs") / f"{task.name}-{preset.name}-{args.seed}"
    screen = _screen(args, console)
    with TrainingProgress(screen, f"{task.name} · {preset.name}", config.steps) as progress:
        result = neural.train(task, config, seed=args.seed, out=out, progress=progress.update)
    metrics = {**result.metrics(), "out": str(out)}
    if args.json:
        _write_json(metrics, args.json, screen)
    print_training(result, metrics, screen)
    return 130 if result.interrupted else 0


# --- occam compare and diff -----------------------------------------------------------------


def _compare(args: argparse.Namespace, console: Console) -> int:
    """Exit status 0; 130 when interrupted (what was computed is written)."""
    from pathlib import Path

    import neural

    from ..analysis.harness import comparisons_json
    from .pipeline import parse_learners, run_pipeline
    from .terminal import (DistillationProgress, SynthesisProgress, TrainingProgress, print_learners_summary,
                           print_reused, print_stage, print_summary)

    task = dsl.load_any_task(args.source)
    if isinstance(task, dsl.SequenceTask):
        from . import sequences

        return sequences.compare(args, task, console)
    _refuse_max_states(args, task)
    learners = parse_learners(args.learner)
    _check_learner_options(args, learners)
    relaxed = _relaxed_config(args) if "relaxed" in learners else None
    preset = None
    if "network" in learners:
        preset = neural.get_preset(args.preset) if args.preset else neural.default_preset(task)
    out = Path(args.out) if args.out else Path("runs") / _compare_folder(task.name, learners, preset, args)
    screen = _screen(args, console)
    steps = args.steps if args.steps is not None else preset.config.steps if preset is not None else 0
    result = run_pipeline(
        task, preset=preset.name if preset is not None else None, seed=args.seed, out=out,
        max_seconds=args.max_seconds, max_memory_mb=args.max_memory_mb, steps=args.steps,
        distill_window=args.distill_window, distill_seconds=args.distill_seconds,
        distill_memory_mb=args.distill_memory_mb, learners=learners, relaxed=relaxed,
        synth_display=lambda: SynthesisProgress(screen),
        train_display=lambda: TrainingProgress(screen, f"{task.name} · {preset.name}", steps),
        relaxed_display=lambda: SynthesisProgress(screen),
        distill_display=lambda: DistillationProgress(screen),
        log=lambda message: print_stage(message, screen),
    )  # fmt: skip
    several = len(result.comparisons) > 1
    if args.json:
        data = comparisons_json(result.comparisons) if several else result.comparison.to_json()
        _write_json(data, args.json, screen)
    print_reused(out, result.reused, screen)
    if several:
        print_learners_summary(result.comparisons, screen, files=result.files)
    else:
        print_summary(result.comparison, screen, files=result.files)
    return 0


def _learner_options(compare: argparse.ArgumentParser) -> None:
    """`occam compare`'s learners and the relaxed search's settings (its defaults: SearchConfig's)."""
    compare.add_argument("--learner", default="network", metavar="L[,L]",
                         help="what to compare with the minimal program: network (default), relaxed (gradient "
                              "descent over the task's relaxed grammar), or both: network,relaxed")  # fmt: skip
    compare.add_argument("--relaxed-steps", type=_count, metavar="N",
                         help="the relaxed search's Adam steps (default: SearchConfig's, 400)")
    compare.add_argument("--relaxed-depth", type=_count, metavar="D",
                         help="the depth of its soft derivation tree (default 4)")
    compare.add_argument("--relaxed-restarts", type=_count, metavar="R",
                         help="its restarts, optimized as one batch (default 64); --seed seeds them")


def _check_learner_options(args: argparse.Namespace, learners: tuple[str, ...]) -> None:
    """Refuse settings of a learner that is not compared (they would be ignored)."""
    options = {"network": (("--preset", args.preset), ("--steps", args.steps)),
               "relaxed": (("--relaxed-steps", args.relaxed_steps), ("--relaxed-depth", args.relaxed_depth),
                           ("--relaxed-restarts", args.relaxed_restarts))}  # fmt: skip
    for learner, given in options.items():
        unused = [option for option, value in given if value is not None]
        if learner not in learners and unused:
            raise dsl.SearchError(f"{', '.join(unused)} set{'s' if len(unused) == 1 else ''} the learner {learner}, "
                                  f"which --learner {','.join(learners)} does not compare",
                                  expected=f"--learner {','.join(sorted({*learners, learner}, key=LEARNER_ORDER.index))}"
                                           f", or no {unused[0]}")  # fmt: skip


LEARNER_ORDER = ("network", "relaxed")


def _relaxed_config(args: argparse.Namespace) -> Any:
    from .pipeline import relaxed_config

    settings = {"relaxed_steps": args.relaxed_steps, "relaxed_depth": args.relaxed_depth,
                "relaxed_restarts": args.relaxed_restarts}  # fmt: skip
    return relaxed_config(args.seed, **{name: value for name, value in settings.items() if value is not None})


def _compare_folder(task: str, learners: tuple[str, ...], preset: Any, args: argparse.Namespace) -> str:
    """compare-TASK-PRESET-SEED[-Nsteps] for the network (as before learners existed); `relaxed` in
    place of (or after `+`) PRESET for the relaxed search, with -relaxedNsteps, -dD, -rR when set."""
    names = [preset.name if learner == "network" else learner for learner in learners]
    name = f"compare-{task}-{'+'.join(names)}-{args.seed}" + (f"-{args.steps}steps" if args.steps is not None else "")
    if args.relaxed_steps is not None:
        name += f"-relaxed{args.relaxed_steps}steps"
    if args.relaxed_depth is not None:
        name += f"-d{args.relaxed_depth}"
    if args.relaxed_restarts is not None:
        name += f"-r{args.relaxed_restarts}"
    return name


def _diff(args: argparse.Namespace, console: Console) -> int:
    from neural import load_checkpoint, predict

    from ..analysis.harness import agreement, disagreements
    from .terminal import print_diff

    task = dsl.load_any_task(args.source)
    if isinstance(task, dsl.SequenceTask):
        from . import sequences

        return sequences.diff(args, task, console)
    program = dsl.parse_program(args.program, task, expected=task.output_type)
    checkpoint = load_checkpoint(args.model)
    if checkpoint.fingerprint != task.fingerprint:
        raise dsl.TaskError(
            f"the network was trained on other data (task `{checkpoint.task}`, fingerprint {checkpoint.fingerprint}) "
            f"than {task.name} (fingerprint {task.fingerprint})",
            expected="the task file and split the network was trained on",
        )
    outputs = predict(checkpoint, task.env())
    values = dsl.evaluate(program, task.points)
    kind = task.output_type.kind
    tolerance = task.real_tolerance()  # reals: the yardstick of compare and of training (docs/compare.md)
    found = disagreements(task, outputs, checkpoint.step, values, tolerance=tolerance)
    report = {
        "task": task.name,
        "program": str(program),
        "model": str(args.model),
        "step": checkpoint.step,
        "agreement": agreement(outputs, values, kind=kind, tolerance=tolerance),
        "agreement_train": agreement(outputs[task.train], values[task.train], kind=kind, tolerance=tolerance),
        "agreement_test": agreement(outputs[task.test], values[task.test], kind=kind, tolerance=tolerance),
        "disagreements": found.count,
        "points": found.points,
        "by_input": found.by_input,
    }
    if args.json:
        _write_json(report, args.json, console)
    if args.json != "-":
        print_diff(task, program, args.model, checkpoint.step, report, found, console)
    if args.plot:  # after the text: a map that does not apply leaves the diff printed
        _plot_diff(task, outputs, values, program, checkpoint.step, tolerance, args.plot)
    return 0


def _plot_diff(task, outputs, values, program, step, tolerance, path) -> None:
    """The map of where the network differs from `program`; refused for tasks it does not fit."""
    from ..analysis.agree import agrees
    from .plots import PlotSkipped, map_of_disagreements

    differ = ~agrees(outputs, values, kind=task.output_type.kind, tolerance=tolerance)
    try:
        written = map_of_disagreements(task, differ, path, program=str(program), step=step)
    except PlotSkipped as skipped:
        raise dsl.TaskError(f"no map for {task.name}, so no plot was written (the differences are above): {skipped}",
                            expected="a task with two discrete inputs for --plot") from None  # fmt: skip
    Console(stderr=True, highlight=False, soft_wrap=True, emoji=False).print(f"wrote {_escape(str(written))}")


# --- occam bench ----------------------------------------------------------------------------


def _bench(args: argparse.Namespace, console: Console) -> int:
    from ..benchmarks.bench import bench_startup, bench_synth, bench_train
    from .terminal import print_bench_row, print_bench_summary, print_startup_row, print_train_bench_row

    screen = _screen(args, console)
    if args.suite == "search":
        return _bench_search(args, screen)
    if args.suite == "mips":
        return _bench_mips(args, screen)
    if args.tasks or args.methods or args.restarts is not None or args.max_seconds is not None:
        raise dsl.SearchError(f"TASK, --methods, --restarts and --max-seconds are settings of `occam bench search`, "
                              f"not of `occam bench {args.suite}`", expected=f"occam bench {args.suite} [--quick] [--json PATH]")  # fmt: skip
    if args.suite in ("packed", "prior", "nngp"):
        report = _bench_bias_parts(args.suite, quick=args.quick, show=args.json != "-")
    elif args.suite == "relaxed":
        from ..benchmarks.relaxed_bench import bench_relaxed
        from .terminal import print_relaxed_bench_row

        report = bench_relaxed(quick=args.quick, log=lambda row: print_relaxed_bench_row(row, screen))
    elif args.suite == "startup":
        report = bench_startup(log=lambda row: print_startup_row(row, screen))
    elif args.suite == "train":
        report = bench_train(log=lambda row: print_train_bench_row(row, screen))
    else:
        report = bench_synth(quick=args.quick, log=lambda row: print_bench_row(row, screen))
        print_bench_summary(report, screen)
    if args.json:
        _write_json(report, args.json, screen)
    return 0


def _bench_bias_parts(suite: str, *, quick: bool, show: bool) -> dict[str, Any]:
    """The benchmarks of issue 12's parts; they print plain lines on standard output (not with --json -)."""
    if suite == "packed":
        from ..benchmarks.packed_bench import print_packed_bench, run_packed_bench

        report = run_packed_bench(repeats=1 if quick else 3)
        if show:
            print_packed_bench(report)
        return report
    if suite == "prior":
        from ..benchmarks.prior_bench import run_prior_bench

        return run_prior_bench(samples=50_000 if quick else 200_000, repeats=1 if quick else 3, print_rows=show)
    from ..benchmarks.nngp_bench import rows

    report = {"rows": rows(1 if quick else 5)}
    if show:
        for row in report["rows"]:
            print("  ".join(f"{key} {value:.3g}" if isinstance(value, float) else f"{key} {value}"
                            for key, value in row.items()))  # fmt: skip
    return report


def _bench_search(args: argparse.Namespace, screen: Console) -> int:
    """`occam bench search`: the rows as they come, then the headline table; status 130 after Ctrl-C
    (the rows done so far are printed and written)."""
    from ..benchmarks import search_bench
    from .terminal import print_search_bench_row, print_search_bench_table

    names = args.tasks or search_bench.default_tasks(quick=args.quick)
    tasks = [task for name in names for task in _load_all(name)]
    methods = [method.strip() for method in args.methods.split(",") if method.strip()] if args.methods else None
    default_seconds = search_bench.QUICK_SECONDS if args.quick else search_bench.FULL_SECONDS
    report = search_bench.bench_search(
        tasks, methods=methods, restarts=args.restarts or (search_bench.QUICK_RESTARTS if args.quick else search_bench.RESTARTS),
        max_seconds=args.max_seconds or default_seconds, log=lambda row: print_search_bench_row(row, screen),
    )  # fmt: skip
    report["quick"] = args.quick
    print_search_bench_table(report, screen)
    if args.json:
        _write_json(report, args.json, screen)
    return 130 if report["interrupted"] else 0


def _bench_mips(args: argparse.Namespace, screen: Console) -> int:
    """`occam bench mips`: a line per task as it finishes, then the table (compare/benchmarks/mips_bench.py)."""
    from ..benchmarks import mips_bench

    if args.methods or args.restarts is not None:
        raise dsl.SearchError("--methods and --restarts are settings of `occam bench search`, not of `occam bench mips`",
                              expected="occam bench mips [TASK ...] [--quick] [--max-seconds S] [--json PATH]")  # fmt: skip
    report = mips_bench.bench_mips(args.tasks or None, quick=args.quick, search_seconds=args.max_seconds,
                                   log=lambda row: screen.print(_escape(mips_bench.row_line(row))))  # fmt: skip
    mips_bench.print_mips_table(report, screen)
    if args.json:
        _write_json(report, args.json, screen)
    return 130 if report["interrupted"] else 0


# --- occam bias ------------------------------------------------------------------------------


def _bias(args: argparse.Namespace, console: Console) -> int:
    """`occam bias`: sample each prior with a progress bar, measure, print the table; Ctrl-C
    keeps what was counted (printed and written; status 130)."""
    from ..bias.config import BiasConfig
    from ..bias.experiment import run_bias
    from ..bias.report import SamplingProgress, bias_figure, print_bias, write_bias_html

    if args.sgd:
        return _bias_sgd(args, console)

    config = BiasConfig(inputs=args.inputs, samples=args.samples, seed=args.seed, priors=args.priors,
                        widths=args.widths, sigma_w=args.sigma_w, sigma_b=args.sigma_b, encoding=args.encoding,
                        grammar=args.grammar, min_count=args.min_count, complexity_seconds=args.complexity_seconds,
                        bootstrap=args.bootstrap, max_memory_mb=args.max_memory_mb)  # fmt: skip
    screen = _screen(args, console)
    with SamplingProgress(screen) as progress:
        result = run_bias(config, progress=progress.update)
    report = result.to_json()
    print_bias(report, screen)
    if args.plot or args.html:
        png = bias_figure(result, args.plot)
        if args.plot:
            screen.print(f"wrote {_escape(args.plot)}")
        if args.html:
            screen.print(f"wrote {_escape(str(write_bias_html(report, png, args.html)))}")
    if args.json:
        _write_json(report, args.json, screen)
    return 130 if result.interrupted else 0


def _bias_sgd(args: argparse.Namespace, console: Console) -> int:
    """`occam bias --sgd`: a line per training set as it is done, then the table."""
    from ..bias.report import print_sgd
    from ..bias.sgd import SGDConfig, run_sgd

    given = {"target": args.target, "train_sizes": args.train_sizes, "nets": args.nets}
    config = SGDConfig(inputs=args.inputs, seed=args.seed, widths=args.widths, sigma_w=args.sigma_w,
                       sigma_b=args.sigma_b, encoding=args.encoding, grammar=args.grammar, bootstrap=args.bootstrap,
                       max_memory_mb=args.max_memory_mb,
                       **{name: value for name, value in given.items() if value is not None})  # fmt: skip
    screen = _screen(args, console)
    report = run_sgd(config, log=lambda line: screen.print(_escape(line)))
    print_sgd(report, screen)
    if args.json:
        _write_json(report, args.json, screen)
    return 0


# --- occam primitives ------------------------------------------------------------------------


def _primitives(args: argparse.Namespace, console: Console) -> int:
    from dsl.primitives import markdown_table

    sys.stdout.write(markdown_table())
    return 0


# --- occam check -----------------------------------------------------------------------------


def _check(args: argparse.Namespace, console: Console) -> int:
    from .terminal import print_task_summary

    tasks = _load_all(args.source)
    summaries = [task_summary(task) for task in tasks]
    if args.json:
        _write_json(summaries[0] if len(summaries) == 1 else summaries, args.json, console)
        return 0
    for summary in summaries:
        print_task_summary(summary, console)
    return 0


def _load_all(source: str) -> list[dsl.Task | dsl.SequenceTask]:
    """Every task a SOURCE names: one built-in task or PATH:NAME, or all tasks of a file."""
    from pathlib import Path

    if Path(source).is_file():
        return dsl.load_any_tasks(source)
    return [dsl.load_any_task(source)]


if __name__ == "__main__":
    sys.exit(main())

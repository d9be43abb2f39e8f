"""The whole pipeline behind `occam compare`: synthesize, train, compare, report.

Each stage writes its results into the run directory and is reused on the next run when the
task's data and the stage's settings are unchanged (a `cache_key` stored beside the results)
and the files are intact: synthesis.json and metrics.json hold the sha256 of their own content,
metrics.json that of the training's other files, and the synthesis' best program is evaluated
again (`SynthesisResult.from_json`). A stage whose files are damaged or edited runs again:

    DIR/synthesis.json      search.SynthesisResult.to_json() and its cache key (the task's
                            fingerprint and the search's SearchConfig.to_json())
    DIR/train/              trace.npz + trace.json, checkpoint.pt, metrics.json (neural.train)
    DIR/relaxed/            trace.npz + trace.json: the relaxed search's trace, with learner
                            `relaxed` (compare/analysis/relaxed.py); its cache key in the trace's info
    DIR/report.json         the Comparison (compare/analysis/harness.py); with several learners,
                            one per learner and a summary of each (`harness.comparisons_json`)
    DIR/plots/*.png         compare/app/plots.py
    DIR/report.html         one self-contained page (compare/app/report.py)

Ctrl-C during a stage writes what that stage has (an interrupted search or training is not
reused) and raises KeyboardInterrupt; the stages before it stay cached.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dsl
import search
from dsl import OccamError, SearchError
from dsl.errors import did_you_mean
from search import SearchConfig, SynthesisResult

from ..analysis.distill import check_distill_budget
from ..analysis.harness import Comparison, compare, comparisons_json

__all__ = ["LEARNERS", "PipelineResult", "parse_learners", "relaxed_config", "run_pipeline"]

VERSION = 1  # bump to invalidate every cache
TRAINING_FILES = ("trace.npz", "trace.json", "checkpoint.pt")  # metrics.json records their sha256
LEARNERS = ("network", "relaxed")  # what a comparison can set beside the minimal program


@dataclass
class PipelineResult:
    comparison: Comparison
    synthesis: SynthesisResult
    training: Any  # neural.TrainResult, or the metrics of a cached run (None without the learner network)
    trace: Any  # neural FunctionTrace (of the first learner)
    files: dict[str, Path]
    reused: dict[str, bool]  # stage → read from the cache
    comparisons: dict[str, Comparison] = field(default_factory=dict)  # learner → its comparison, in order
    traces: dict[str, Any] = field(default_factory=dict)  # learner → its FunctionTrace


def run_pipeline(
    task: dsl.Task,
    *,
    out: str | os.PathLike,
    preset: str | None = None,
    seed: int = 0,
    max_seconds: float = SearchConfig.max_seconds,
    max_memory_mb: float = SearchConfig.max_memory_mb,
    distill_window: float = 10.0,
    distill_seconds: float = 60.0,
    distill_memory_mb: float = 1024.0,
    steps: int | None = None,
    learners: str | Sequence[str] = ("network",),
    relaxed: SearchConfig | None = None,
    synth_display: Callable[[], Any] = None,
    train_display: Callable[[], Any] = None,
    relaxed_display: Callable[[], Any] = None,
    distill_display: Callable[[], Any] = None,
    log: Callable[[str], None] = lambda message: None,
) -> PipelineResult:
    """Run (or reuse) each stage for `task` and write everything into `out`. The displays make
    context managers (one at a time) whose `update` is the stage's progress callback. Each
    stage has its own budget: `max_seconds` and `max_memory_mb` the synthesis, `steps` the training,
    `distill_seconds` and `distill_memory_mb` the comparison.

    `learners` ("network", "relaxed", or both: "network,relaxed" or a sequence) are compared with
    the minimal program, each from its function trace: the network trained with `preset`, `seed`
    and `steps`; the relaxed search with `relaxed` (a SearchConfig, default `relaxed_config(seed)`:
    bounded by its steps, not by the clock, so that its trace is the same on every machine)."""
    import neural
    from neural.trace import file_sha256, load_trace, write_json

    learners = parse_learners(learners)
    # Settings are checked before the search runs, not a minute later.
    if "network" in learners:
        chosen = neural.get_preset(preset) if preset is not None else neural.default_preset(task)
        config = neural.with_overrides(chosen, steps=steps)
        _check_training(task, config, seed)
    if "relaxed" in learners:
        from ..analysis.relaxed import check_relaxed_learner

        relaxed = relaxed if relaxed is not None else relaxed_config(seed)
        relaxed = relaxed.replace(method="relaxed") if relaxed.method != "relaxed" else relaxed
        check_relaxed_learner(task, relaxed)
    check_distill_budget(seconds=distill_seconds, memory_mb=distill_memory_mb)
    search_config = SearchConfig(max_seconds=max_seconds, max_memory_mb=max_memory_mb)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reused = {}
    # Every setting of the search is in the key: another setting is another search.
    synthesis_key = {"version": VERSION, "task": task.fingerprint, **search_config.to_json()}
    synthesis = _cached_synthesis(out / "synthesis.json", synthesis_key, task, log)
    reused["synthesis"] = synthesis is not None
    if synthesis is None:
        log("synthesizing")
        with _display(synth_display) as display:
            synthesis = search.synthesize(task, search_config, progress=display.update)
        interrupted = synthesis.status == "interrupted"
        _write_sealed(out / "synthesis.json", {**synthesis.to_json(), "cache_key": None if interrupted else synthesis_key})
        if interrupted:
            raise KeyboardInterrupt(f"during the search: what it found is in {out / 'synthesis.json'} "
                                    "(searched again on the next run)")  # fmt: skip

    traces: dict[str, Any] = {}
    training = None
    files = {"report.json": out / "report.json", "synthesis.json": out / "synthesis.json"}
    for learner in learners:
        if learner == "relaxed":
            traces["relaxed"] = _relaxed_stage(task, relaxed, out / "relaxed", reused, relaxed_display, log)
            files["relaxed"] = out / "relaxed"
            continue
        train_key = {"version": VERSION, "task": task.fingerprint, "config": config.to_json(), "seed": seed}
        train_dir = out / "train"
        cached = _cached_training(train_dir, train_key, log)
        reused["training"] = cached is not None
        if cached is not None:
            training, trace = cached
        else:
            log(f"training ({chosen.name})")
            with _display(train_display) as display:
                result = neural.train(task, config, seed=seed, out=train_dir, progress=display.update)
            training = result
            metrics = {**result.metrics(), "cache_key": train_key if not result.interrupted else None,
                       "files_sha256": {name: file_sha256(train_dir / name) for name in TRAINING_FILES}}  # fmt: skip
            _write_sealed(train_dir / "metrics.json", metrics)
            if result.interrupted:
                # The run's files are written; nothing after training can be trusted.
                raise KeyboardInterrupt(f"during training, at step {result.steps:,} of {config.steps:,}: the partial "
                                        f"run is in {train_dir} (trained again on the next run)")  # fmt: skip
            trace = load_trace(train_dir / "trace")  # as it was written, as a later run reads it
        traces["network"] = trace
        files["train"] = train_dir

    log("comparing")
    comparisons = {}
    for learner, trace in traces.items():
        with _display(distill_display) as display:
            comparisons[learner] = compare(task, synthesis, trace, distill_window=distill_window,
                                           distill_seconds=distill_seconds, distill_memory_mb=distill_memory_mb,
                                           progress=display.update)  # fmt: skip
    first = learners[0]
    report = comparisons[first].to_json() if len(learners) == 1 else comparisons_json(comparisons)
    write_json(out / "report.json", report)
    files.update(_report(comparisons, task, traces, out))
    return PipelineResult(comparisons[first], synthesis, training, traces[first], files, reused, comparisons, traces)


def parse_learners(learners: str | Sequence[str]) -> tuple[str, ...]:
    """The learners named by "network", "relaxed", "network,relaxed" (or a sequence of names), in
    order. SearchError for none, an unknown name or one named twice."""
    names = [name.strip() for name in learners.split(",")] if isinstance(learners, str) else list(learners)
    expected = f"one or more of {', '.join(LEARNERS)}, separated by commas (e.g. network,relaxed)"
    if not names or any(not isinstance(name, str) or not name for name in names):
        raise SearchError(f"learners = {learners!r}: a learner's name is empty", expected=expected)
    for name in names:
        if name not in LEARNERS:
            raise SearchError(f"unknown learner {name!r} (in {learners!r})", expected=expected,
                              hint=did_you_mean(name, LEARNERS))  # fmt: skip
        if names.count(name) > 1:
            raise SearchError(f"the learner {name!r} is named twice (in {learners!r})", expected=expected)
    return tuple(names)


def relaxed_config(seed: int = 0, **settings: Any) -> SearchConfig:
    """The relaxed search of the learner `relaxed`: SearchConfig's relaxed defaults, `seed` as its
    `relaxed_seed`, no time budget (its steps bound it: the same trace on every machine), and
    `settings` (relaxed_steps=…, relaxed_depth=…)."""
    return SearchConfig(method="relaxed", max_seconds=math.inf, relaxed_seed=seed, **settings)


def _relaxed_stage(task: dsl.Task, config: SearchConfig, directory: Path, reused: dict[str, bool],
                   display_factory: Callable[[], Any] | None, log: Callable[[str], None]) -> Any:  # fmt: skip
    """The relaxed search's trace in `directory`, reused when its info holds this stage's cache
    key and it reads back intact; else searched and written."""
    from neural.trace import load_trace, save_trace

    from ..analysis.relaxed import relaxed_trace

    key = {"version": VERSION, "task": task.fingerprint, **config.to_json()}
    trace = _cached_relaxed(directory, key, log)
    reused["relaxed"] = trace is not None
    if trace is not None:
        return trace
    log("running the relaxed search")
    with _display(display_factory) as display:
        result, trace = relaxed_trace(task, config, progress=display.update)
    interrupted = result.status == "interrupted"
    trace.info["cache_key"] = None if interrupted else key
    directory.mkdir(parents=True, exist_ok=True)
    save_trace(trace, directory / "trace")
    if interrupted:
        raise KeyboardInterrupt(f"during the relaxed search, at step {int(trace.steps[-1]):,} of "
                                f"{config.relaxed_steps:,}: its trace is in {directory} (run again on the next run)")  # fmt: skip
    return load_trace(directory / "trace")  # as it was written, as a later run reads it


def _cached_relaxed(directory: Path, key: dict[str, Any], log: Callable[[str], None]) -> Any:
    """The relaxed trace in `directory` when it was recorded with `key` and is intact; else None."""
    from neural.trace import load_trace

    if not (directory / "trace.json").exists():
        return None
    try:
        trace = load_trace(directory / "trace")
    except OccamError as error:
        log(f"{error.message}: running the relaxed search again")
        return None
    return trace if trace.info.get("cache_key") == key else None


def _check_training(task: dsl.Task, config, seed: int) -> None:
    """Raise what `neural.train` would raise for these settings, before anything runs."""
    import neural

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise dsl.TrainingError(f"seed = {seed!r}; expected an integer ≥ 0")
    neural.build_model(config, neural.encoding_for(task), seed=0, task_name=f"task `{task.name}`")


class _Silent:
    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def update(self, progress: Any) -> None:
        pass


def _display(factory: Callable[[], Any] | None) -> Any:
    return factory() if factory is not None else _Silent()


def _report(comparisons: dict[str, Comparison], task: dsl.Task, traces: dict[str, Any], out: Path) -> dict[str, Path]:
    from .plots import write_learner_plots, write_plots
    from .report import write_report_html

    if len(comparisons) == 1:
        (comparison,), (trace,) = comparisons.values(), traces.values()
        plots = write_plots(comparison, task, trace, out / "plots")
        write_report_html(comparison, task, plots, out / "report.html")
    else:
        plots = write_learner_plots(comparisons, task, traces, out / "plots")
        write_report_html(comparisons, task, plots, out / "report.html")
    return {**{f"plots/{name}": path for name, path in plots.items()}, "report.html": out / "report.html"}


def _write_sealed(path: Path, data: dict[str, Any]) -> None:
    """Write `data` as JSON with the sha256 of its content under "sha256" (`_seal_problem`)."""
    from neural.trace import sealed, write_json

    write_json(path, sealed(data))


def _seal_problem(path: Path, data: dict[str, Any]) -> str | None:
    """What is wrong with the sha256 that `_write_sealed` stored in `data`, read from `path`."""
    from neural.trace import is_sealed

    if "sha256" not in data:
        return f"{path} has no sha256 of its content"
    if not is_sealed(data):
        return f"{path} is damaged: its content does not match the sha256 stored in it"
    return None


def _cached_synthesis(path: Path, key: dict[str, Any], task: dsl.Task, log: Callable[[str], None]) -> SynthesisResult | None:
    """The result stored at `path`, when it was computed with `key` and is intact (sealed, well
    formed, and its best program has the bits and fit it claims); None to search again."""
    data = _read(path, log)
    if data is None or data.get("cache_key") != key:
        return None
    problem = _seal_problem(path, data)
    if problem is None:
        try:
            return SynthesisResult.from_json(data, task, source=str(path))
        except OccamError as error:
            problem = error.message
    log(f"{problem}: searching again")
    return None


def _cached_training(directory: Path, key: dict[str, Any], log: Callable[[str], None]) -> tuple[dict[str, Any], Any] | None:
    """The metrics and the trace of the run in `directory`, when it was trained with `key` and
    its files are the ones it wrote (metrics.json sealed, the others matching the sha256 it
    records, the trace readable); None to train again."""
    from neural.trace import file_sha256, load_trace

    path = directory / "metrics.json"
    metrics = _read(path, log)
    if metrics is None or metrics.get("cache_key") != key:
        return None
    problem = _seal_problem(path, metrics)
    digests = metrics.get("files_sha256")
    for name in TRAINING_FILES if problem is None else ():
        try:
            if not isinstance(digests, dict) or file_sha256(directory / name) != digests.get(name):
                problem = f"{directory / name} is damaged: it does not match the sha256 recorded in {path}"
        except OSError as error:
            problem = f"cannot read {directory / name}: {error.strerror or error}"
        if problem is not None:
            break
    if problem is None:
        try:
            return metrics, load_trace(directory)  # a forged trace with matching sha256s is refused too
        except OccamError as error:
            problem = error.message
    log(f"{problem}: training again")
    return None


def _read(path: Path, log: Callable[[str], None]) -> dict[str, Any] | None:
    """The JSON object in `path`; None when there is none (said through `log` when the file
    exists but holds something else)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log(f"cannot read {path} ({error}): computing it again")
        return None
    if not isinstance(data, dict):
        log(f"{path} is damaged: it holds a JSON {type(data).__name__}, not an object: computing it again")
        return None
    return data

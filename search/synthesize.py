"""`synthesize`: the shortest programs that explain a task's training data.

The enumerator (enumerate.py) produces distinct functions in order of description length. For
each new program of the output type this module scores the two-part code (mdl.py), keeps the
Pareto front, the exact fits and the posterior's members, and decides when to stop:

- without noise, the first program that fits the training data is the shortest one
  (*certified*: every shorter program was enumerated); the search then goes on to fill the
  posterior's window (`posterior_window` bits above it) unless a budget stops it first, or
  the weight that the rest of the window could still add is provably negligible
  (`_Tracker.unseen_weight_bound`);
- with noise (or when nothing fits), the best candidate is the one of least total bits, and the
  search runs until a budget or the grammar runs out — or, with noise, until the next level's
  bits exceed the least total bits plus the window: no program still to come (total ≥ its
  bits) can then be better or enter the posterior.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from dsl import Expr, SearchError, Task, evaluate, value_domain

from .bank import Bank
from .config import SearchConfig
from .enumerate import Budget, Enumerator, Stop
from .inverse import BackwardSearch
from .kernels import round_reals
from .mdl import DataCode
from .result import Candidate, Posterior, PosteriorEntry, SearchStats, SynthesisResult
from .space import Choice, SearchSpace, bits_of, build_space

__all__ = ["SEARCHERS", "Progress", "SearchBudget", "Searcher", "enumerate_search", "fits", "reserving", "synthesize"]

FIT_RTOL = 1e-9  # reals: a program fits when it reproduces every training target to this


@dataclass(frozen=True)
class Progress:
    """What a search reports as it goes (for progress bars).

    The enumerator reports after each level: its bits, the distinct functions kept and the
    candidates built so far, the best candidate; the fields after `best` are None. The relaxed
    searcher reports after each check of its restarts (every `relaxed.searcher.CHECK_EVERY`
    steps): `level_bits` is NaN (it has no levels), `distinct` and `candidates` count the
    distinct discretized programs met, `best` is the best of them as the result would report it
    now (the shortest exact fit, else the least total bits; its bits are
    `dsl.description_length`), and the fields below are set."""

    level_bits: float
    distinct: int
    candidates: int
    cpu_seconds: float
    best: Candidate | None
    step: int | None = None  # the relaxed search: optimization steps done
    steps: int | None = None  # of these (relaxed_steps)
    restarts: int | None = None  # relaxed_restarts
    restarts_fitted: int | None = None  # restarts whose argmax program fits the training data at this step
    best_loss: float | None = None  # the least objective over the restarts (data loss + λ · expected bits + penalty)
    temperature: float | None = None  # the softmax temperature of the last step

    @property
    def candidates_per_second(self) -> float:
        return self.candidates / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


class Searcher(Protocol):
    """A search method: `searcher(task, config, progress)` returns the SynthesisResult of
    `task` under `config` (best, Pareto front, posterior, stats, status, the config itself),
    calling `progress` now and then if it is not None. Registered by name in SEARCHERS."""

    def __call__(self, task: Task, config: SearchConfig,
                 progress: Callable[[Progress], None] | None) -> SynthesisResult: ...  # fmt: skip


def synthesize(
    task: Task,
    config: SearchConfig | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    **overrides: Any,
) -> SynthesisResult:
    """Search `task`'s grammar for the programs that explain its training data.

    `config` (default `SearchConfig()`) says how; keyword `overrides` replace its fields
    (`synthesize(task, max_seconds=5)`), and the searcher that `config.method` names
    (SEARCHERS) runs. `progress` gets a Progress after each level.

    Raises SearchError for a setting out of its range (a NaN, a negative budget, an unknown
    method, a `config` that is not a SearchConfig, ...), TypeError for a setting that does
    not exist.
    """
    if config is not None and not isinstance(config, SearchConfig):  # a dict of settings, say: no AttributeError
        raise SearchError(f"config = {config!r:.60} is not a SearchConfig",
                          expected="search.SearchConfig(...), SearchConfig.from_json(settings), "
                                   "or the settings as keyword arguments")  # fmt: skip
    config = (config if config is not None else SearchConfig()).replace(**overrides)
    return SEARCHERS[config.method](task, config, progress)


def enumerate_search(task: Task, config: SearchConfig, progress: Callable[[Progress], None] | None) -> SynthesisResult:
    """The searcher "enumerate": enumeration in exact order of description length.

    Budgets (`config`): `max_seconds` of wall-clock time from this call to its return
    (loading the compiled kernels and building the result included, but the search itself gets at
    least half of it), `max_bits` of description length, `max_candidates` candidates,
    `max_memory_mb` for everything the search allocates (the banks, the backward search's
    contexts, and a working share for scoring and for the posterior's predictions: see
    `memory_shares`); when one runs out, or on Ctrl-C, the search returns what it has, with a
    status saying why. `equivalence` ('all' or 'train') picks the points on which two programs count
    as the same function. `precision` is ε of the real-valued data code (mdl.py). `inverse`
    solves the output's last operation against the banks (inverse.py).
    """
    max_memory_mb = config.max_memory_mb
    started = time.perf_counter()
    space = build_space(task, equivalence=config.equivalence)
    backward_on = config.inverse and task.noise is None
    shares = memory_shares(max_memory_mb * 2**20, inverse=backward_on,
                           index_fraction=_train_index_fraction(space) if backward_on else 0.0)  # fmt: skip
    budget = SearchBudget(max_seconds=config.max_seconds * (1 - RESULT_SHARE), max_bits=config.max_bits,
                          max_memory_bytes=shares["banks"], started=started, max_candidates=config.max_candidates)  # fmt: skip
    code = DataCode(task, space.train, space.target, precision=config.precision, packed=space.packed)
    with reserving(max_memory_mb):
        enumerator = Enumerator(space, budget)
    budget.count = lambda: enumerator.candidates
    tracker = _Tracker(task, space, code, enumerator, config.posterior_window, config.pareto_k,
                       config.max_posterior, shares["working"])  # fmt: skip
    # The tracker reads the enumerator's banks; the enumerator reports its new rows and hits to it.
    enumerator.on_rows, enumerator.on_hits = tracker.on_rows, tracker.on_hits
    enumerator.compile_kernels()
    code.bits(np.empty((0, space.row_width), dtype=space.storage(space.output_index)))  # compiles too
    backward = None
    if backward_on:
        with reserving(max_memory_mb):
            backward = BackwardSearch(space, enumerator.banks, max_bytes=int(shares["contexts"]))
        backward.compile_kernels()
    # Compiling (or loading the compiled kernels) counts against the wall-clock budget, but the
    # search proper always gets at least half of it: a small budget is not all spent compiling.
    budget.max_seconds = max(budget.max_seconds, budget.elapsed() + budget.max_seconds / 2)
    budget.restart(wall=False)  # the statistics' CPU seconds are the search's; the wall clock runs on
    status = "exhausted"
    peak = 0
    backward_clock = _StepClock(budget)
    try:
        for bits in enumerator.levels():
            peak = max(peak, enumerator.nbytes)
            tracker.close_level(bits)
            if backward is not None and backward_clock.affordable():  # contexts as dear as the level
                with backward_clock:
                    tracker.add_inverse_fits(backward.step(bits, bound=tracker.fit_bound()))
            if progress is not None:
                progress(Progress(bits, enumerator.distinct, enumerator.candidates, budget.cpu_seconds(), tracker.best()))
            if tracker.done(enumerator.next_bits()):
                status = "solved" if tracker.certified_bits() <= enumerator.complete_bits else "memory"
                break
    except Stop as stop:
        status = stop.reason
        if stop.reason == "memory" and backward is not None:
            _search_backward(backward, tracker, backward_clock, enumerator.level_bits)
    except KeyboardInterrupt:
        status = "interrupted"
    peak = max(peak, enumerator.nbytes)
    if status == "exhausted" and tracker.solution() is not None:
        status = "solved"
    stats = SearchStats(
        candidates=enumerator.candidates,
        checked=enumerator.checked,
        distinct=enumerator.distinct,
        cpu_seconds=budget.cpu_seconds(),
        peak_bank_bytes=peak,
        nan_dropped=sum(bank.nan_dropped for bank in enumerator.banks),
        best_seconds=tracker.best_seconds if tracker.fits or not tracker.noisy else tracker.scored_seconds,
        levels=tracker.level_stats,
        covered_bits=enumerator.covered_bits,
        unseen_weight_bound=tracker.stop_bound,
    )
    result = tracker.result(status, stats, config)
    enumerator.release()
    return result


def _relaxed_search(task: Task, config: SearchConfig, progress: Callable[[Progress], None] | None) -> SynthesisResult:
    """The searcher "relaxed" (search/relaxed/, imported here: it needs torch)."""
    from .relaxed import relaxed_search

    return relaxed_search(task, config, progress)


def _hybrid_search(task: Task, config: SearchConfig, progress: Callable[[Progress], None] | None) -> SynthesisResult:
    """The searcher "hybrid" (search/hybrid.py: the relaxation's choices order an enumeration)."""
    from .hybrid import hybrid_search

    return hybrid_search(task, config, progress)


# method name → searcher (SearchConfig.method)
SEARCHERS: dict[str, Searcher] = {"enumerate": enumerate_search, "relaxed": _relaxed_search, "hybrid": _hybrid_search}


@dataclass
class SearchBudget(Budget):
    """A Budget that also counts candidates, and may have its owner's own reasons to stop.
    `check_time` (the enumerator calls it after every kernel call) raises Stop("time"), then
    Stop("candidates") once `count()` reaches `max_candidates` (None: no limit), then
    Stop(reason) when `reason()` names one."""

    max_candidates: int | None = None
    count: Callable[[], int] = field(default=lambda: 0, repr=False)
    reason: Callable[[], str | None] | None = field(default=None, repr=False)

    def check_time(self) -> None:
        super().check_time()
        if self.max_candidates is not None and self.count() >= self.max_candidates:
            raise Stop("candidates")
        why = self.reason() if self.reason is not None else None
        if why is not None:
            raise Stop(why)


RESULT_SHARE = 0.05  # of max_seconds, kept for building the result (the posterior's members)
WORKING_SHARE = 1 / 8  # of the memory budget, for what is allocated beside the banks
WORKING_CAP = 256 << 20  # bytes: the working share never needs more (the scoring and vote are chunked)
WORKING_FLOOR = 8 << 20  # bytes: a smaller working share would make the vote crawl point by point


def memory_shares(budget_bytes: float, *, inverse: bool, index_fraction: float = 0.0) -> dict[str, float]:
    """How `budget_bytes` are split, so that together they bound what the search allocates:
    `backward`, the backward search's contexts (an eighth, at most 256 MiB; 0 without it);
    `working`, the transient arrays beside the banks (scoring batches, a hash table's doubling,
    the posterior's chunked vote: an eighth, from 8 to 256 MiB); `banks`, the rest, less the
    backward search's index of the output bank, which grows with it: `index_fraction` of a
    bank row per row (`_train_index_fraction`), counted in `backward`."""
    contexts = min(256 << 20, budget_bytes / 8) if inverse else 0.0
    working = max(WORKING_FLOOR, min(WORKING_CAP, budget_bytes * WORKING_SHARE))
    rest = max(0.0, budget_bytes - contexts - min(working, budget_bytes / 4))
    banks = rest / (1 + index_fraction)
    return {"banks": banks, "backward": contexts + (rest - banks), "contexts": contexts, "working": working}


def _train_index_fraction(space: SearchSpace) -> float:
    """Bytes the backward search's index takes per row of the output bank, as a fraction of the
    row's own: nothing when the training points are the equivalence points (the index is the
    bank itself), else a copy of the row at the training points (a truth table's words, masked to
    them) and its table slots."""
    if space.train.all():
        return 0.0
    columns = space.row_width if space.packed else int(np.count_nonzero(space.train))
    output = space.output_index
    copied = columns * np.dtype(space.storage(output)).itemsize + 64
    return copied / Bank.row_bytes(space, output)


@contextlib.contextmanager
def reserving(max_memory_mb: float) -> Iterator[None]:
    """The banks and the backward search's tables reserve their share of the budget up front:
    an address-space limit (ulimit -v) may refuse it, which is the user's to resolve."""
    try:
        yield
    except MemoryError as error:
        raise SearchError(
            f"the search's tables for a memory budget of max_memory_mb = {max_memory_mb:g} cannot be reserved "
            f"({error})",
            expected="a smaller memory budget (--max-memory-mb), or a higher limit on the process's memory "
            "(ulimit -v): the banks and the backward search reserve their shares of the budget up front",
        ) from None


class _StepClock:
    """Times the backward search's steps, which look at no clock inside: a step is started only
    while the time left is at least STEP_GROWTH times the last one's (a step costs a few times
    the one before: its contexts and the bank it probes grow), so none runs far past the budget."""

    STEP_GROWTH = 8.0

    def __init__(self, budget: Budget) -> None:
        self.budget, self.last, self._started = budget, 0.0, 0.0

    def affordable(self) -> bool:
        return self.budget.remaining() > self.STEP_GROWTH * self.last

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.last = time.perf_counter() - self._started


def _search_backward(backward: BackwardSearch, tracker: _Tracker, clock: _StepClock, bits: float) -> None:
    """The banks are full: spend the time left on ever dearer contexts (uncertified fits)."""
    budget = clock.budget
    try:
        while tracker.solution() is None and backward.has_work() and bits < budget.max_bits and clock.affordable():
            bits += 1.0
            with clock:
                tracker.add_inverse_fits(backward.step(bits, bound=tracker.fit_bound()))
            budget.check_time()
    except (Stop, KeyboardInterrupt):
        pass


def _value_count(task: Task) -> int | None:
    """How many values a program of the output type can take anywhere; None when unbounded
    (ints, reals: a declared output range constrains the data, not the programs)."""
    domain = value_domain(task.output_type)  # the type's values, with no range
    return None if domain is None else domain.size


def fits(predicted: np.ndarray, target: np.ndarray, kind: str) -> bool:
    """Does a program's output reproduce the targets? Exactly, or for reals to FIT_RTOL."""
    if kind != "real":
        return bool(np.array_equal(predicted, target))
    scale = math.sqrt(float(np.mean(target**2))) if len(target) else 1.0
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(predicted - target) <= FIT_RTOL * (np.abs(target) + scale)))


class _Tracker:
    """Scores the output type's new programs and keeps what the result needs.

    Programs are referred to by their index in the output bank, or (fits found by inversion,
    which no bank holds) by the program itself."""

    def __init__(self, task: Task, space: SearchSpace, code: DataCode, enumerator: Enumerator, window: float,
                 pareto_k: int, max_posterior: int, working_bytes: float) -> None:  # fmt: skip
        self.task, self.space, self.code = task, space, code
        self.enumerator = enumerator  # whose banks hold the programs that indices refer to
        self.working_bytes = working_bytes  # what the posterior's vote may allocate
        self.window, self.pareto_k, self.max_posterior = window, pareto_k, max_posterior
        self.noisy = task.noise is not None
        self.fits: list[tuple[float, int | Expr]] = []  # exact fits: (bits, program key)
        self.best_seconds: float | None = None  # when the shortest fit so far was found
        self.scored: list[tuple[float, float, int]] = []  # (bits, data bits, index): posterior members
        self.best_scored: tuple[float, float, int] | None = None  # least total bits
        self.scored_seconds: float | None = None  # when it was found
        self.stop_bound: float | None = None  # unseen_weight_bound when it stopped the search
        self.front_data = math.inf  # least data bits so far (the Pareto front's frontier)
        self.pareto: list[tuple[float, float, int]] = []
        self._level: list[tuple[float, int]] = []  # (data bits, index) of this level's best programs
        self.level_stats: list[dict] = []
        self._candidates_before = 0

    # --- scoring --------------------------------------------------------------------------------

    def on_rows(self, bank: Bank, start: int, end: int, probability: Fraction) -> None:
        if bank.type_index != self.space.output_index:
            return
        bits = bits_of(probability)
        for first in range(start, end, 65536):
            last = min(end, first + 65536)
            data = self.code.bits(bank.values[first:last])
            if not self.noisy:
                for offset in np.flatnonzero(data == 0.0):
                    index = first + int(offset)
                    if self._fits(bank.program(index, self.enumerator.banks)):
                        self._add_fit(bits, index)
            self._score(bits, data, first)

    def on_hits(self, choice: Choice, hits: np.ndarray, probability: Fraction) -> None:
        """Candidates the check-only kernels found within tolerance of the target."""
        if self.noisy:
            return
        for ids in hits:
            program = self.enumerator.assemble(choice, ids)
            if self._fits(program):
                self._add_fit(bits_of(probability), program)

    def add_inverse_fits(self, matches: list[tuple[Fraction, Expr]]) -> None:
        for probability, program in matches:
            if self._fits(program):
                self._add_fit(bits_of(probability), program)

    def _add_fit(self, bits: float, key: int | Expr) -> None:
        if bits > self.enumerator.budget.max_bits:  # the backward search can reach past the bound
            return
        best = self.solution()
        self.fits.append((bits, key))
        if best is None or bits < best[0]:
            self.best_seconds = self.enumerator.budget.cpu_seconds()

    def _fits(self, program: Expr) -> bool:
        task = self.task
        predicted = evaluate(program, task.env(task.train))
        return fits(predicted, task.target_values[task.train], task.output_type.kind)

    def _score(self, bits: float, data: np.ndarray, first: int) -> None:
        k = min(self.pareto_k, len(data))
        order = np.argpartition(data, k - 1)[:k] if k < len(data) else np.arange(len(data))
        self._level.extend((float(data[i]), first + int(i)) for i in order)
        totals = bits + data
        best = int(np.argmin(totals))
        if self.best_scored is None or totals[best] < sum(self.best_scored[:2]):
            self.best_scored = (bits, float(data[best]), first + best)
            self.scored_seconds = self.enumerator.budget.cpu_seconds()
        limit = sum(self.best_scored[:2]) + self.window
        # an infinite total (a real program's NaN residuals) codes nothing: no member, no NaN weight
        for i in np.flatnonzero(np.isfinite(totals) & (totals <= limit))[: self.max_posterior]:
            self.scored.append((bits, float(data[i]), first + int(i)))
        if len(self.scored) > 4 * self.max_posterior:
            self._prune()

    def _prune(self) -> None:
        if self.best_scored is None:
            return
        limit = sum(self.best_scored[:2]) + self.window
        kept = sorted((s for s in self.scored if s[0] + s[1] <= limit), key=lambda s: (s[0] + s[1], s[2]))
        self.scored = kept[: self.max_posterior]

    def close_level(self, bits: float) -> None:
        if self._level:
            self._level.sort()
            least = self._level[0][0]
            if least < self.front_data:  # on the front: fewer data bits than every shorter program
                self.front_data = least
                ties = [(data, index) for data, index in self._level[: self.pareto_k] if data == least]
                self.pareto.extend((bits, data, index) for data, index in ties)
            self._level = []
        candidates = self.enumerator.candidates
        new = [bank.levels[-1].size if bank.levels and bank.levels[-1].bits == bits else 0
               for bank in self.enumerator.banks]  # fmt: skip
        self.level_stats.append({"bits": bits, "candidates": candidates - self._candidates_before, "new": new})
        self._candidates_before = candidates

    # --- decisions ------------------------------------------------------------------------------

    def fit_bound(self) -> float:
        """Fits dearer than this are of no use: beyond the posterior's window of the best."""
        solution = self.solution()
        return solution[0] + self.window if solution is not None else math.inf

    def solution(self) -> tuple[float, int | Expr] | None:
        """The shortest exact fit found (ties: the first found)."""
        return min(self.fits, key=lambda fit: fit[0]) if self.fits else None

    def done(self, next_bits: float) -> bool:
        """Stop: the shortest fit is certified (every program of fewer bits than `next_bits` was
        enumerated) and the posterior's window is enumerated, or what the rest of the window
        could add weighs at most 2^-window of what was found (`unseen_weight_bound`)."""
        solution = self.solution()
        if solution is None and self.noisy and self.best_scored is not None:
            return next_bits > self.certified_bits() + self.window  # every total to come exceeds it
        if solution is None or next_bits <= solution[0]:
            return False
        if next_bits > solution[0] + self.window:
            return True
        bound = self.unseen_weight_bound(next_bits)
        if bound <= 2.0**-self.window:
            self.stop_bound = bound
            return True
        return False

    def certified_bits(self) -> float:
        """What the enumeration must cover for the best to be certified: the shortest fit's bits,
        with noise the least total bits (a program of fewer bits might have a smaller total)."""
        solution = self.solution()
        if solution is not None:
            return solution[0]
        return sum(self.best_scored[:2]) if self.best_scored is not None else math.inf

    def unseen_weight_bound(self, next_bits: float) -> float:
        """A bound on the posterior weight, relative to the weight found, of the fitting functions
        the search has not met, when every program of fewer than `next_bits` was enumerated.

        Proof. Let b be the shortest fit's bits, h the number of equivalence points that are
        not training points, V the number of values the output can take. A fit's values at the
        training points are the targets, so at most C = V^h functions on the equivalence points
        fit. Let F be the number of distinct fitting functions found with a program of fewer
        than `next_bits` (their weights are final: nothing shorter remains). Each of the other
        at most C - F functions has no program of fewer than `next_bits` bits, so its weight
        2^-bits is at most 2^-(next_bits - b) times the shortest fit's, which the found weight
        includes. So the unseen (or not yet fully weighed) weight is at most
        (C - F) · 2^-(next_bits - b) of the found weight.

        With h = 0 (no held-out points, or equivalence on the training points) C = 1 = F: the
        bound is 0 and filling the window cannot change the posterior. For reals V is infinite,
        but with h = 0 every fit reproduces the targets at every equivalence point to FIT_RTOL,
        so whatever the window adds, the posterior's mean there stays the targets to FIT_RTOL:
        the bound is 0 too. Otherwise (unbounded values, or C beyond 2^20) it is inf."""
        solution = self.solution()
        if solution is None:
            return math.inf
        held_out = int(self.space.n_points - np.count_nonzero(self.space.train))
        if held_out == 0:
            return 0.0
        values = _value_count(self.task)
        if values is None or held_out * math.log2(max(values, 2)) > 20:
            return math.inf
        found = {self._function(self._program(key)) for bits, key in self.fits if bits < next_bits}
        return (values**held_out - len(found)) * 2.0 ** -(next_bits - solution[0])

    def best(self) -> Candidate | None:
        solution = self.solution()
        if solution is not None:
            return Candidate(self._program(solution[1]), solution[0], 0.0, True)
        if self.best_scored is not None:
            bits, data, index = self.best_scored
            return Candidate(self._program(index), bits, data, False)
        return None

    def _program(self, key: int | Expr) -> Expr:
        if isinstance(key, int):
            return self.enumerator.banks[self.space.output_index].program(key, self.enumerator.banks)
        return key

    def _function(self, program: Expr) -> bytes:
        """The program's equivalence key: its values at the equivalence points, rounded."""
        values = evaluate(program, self.space.points, size=self.space.n_points)
        if self.space.packed:
            values = self.space.pack(values[None, :])
        elif values.dtype == np.float64:
            values = round_reals(values[None, :])[0]
        return values.tobytes()

    def result(self, status: str, stats: SearchStats, config: SearchConfig) -> SynthesisResult:
        best = self.best()
        enumerated = status in ("solved", "exhausted")
        certified = best is not None and (enumerated or best.bits <= self.enumerator.covered_bits + 1e-9)
        if best is not None and not best.fits_train and not self.noisy:
            certified = certified and status == "exhausted"  # nothing fits: only the whole grammar tells
        fitting = {id(self._program(key)) for _, key in self.fits}
        pareto = tuple(
            Candidate(self._shown(program, bits, best), bits, data, id(program) in fitting)
            for bits, data, index in self._front() for program in [self._program(index)]
        )  # fmt: skip
        return SynthesisResult(
            task=self.task,
            status=status,
            best=best,
            certified=bool(certified),
            pareto=pareto,
            posterior=self._posterior(),
            stats=stats,
            equivalence=config.equivalence,
            config=config,
        )

    def _shown(self, program: Expr, bits: float, best: Candidate | None) -> Expr:
        """`program` (of `bits`), or the best program where it is as long and both compute one
        function at every point of the task: the banks keep one program per function, but the check-only kernels and the
        backward search assemble their own (`m * (v * (v / 2))` where the bank holds
        `m * v * (v / 2)`), and one function should print one way in a result."""
        if best is None or program == best.program or abs(bits - best.bits) > 1e-9:
            return program
        if self._everywhere(program) == self._everywhere(best.program):
            return best.program
        return program

    def _everywhere(self, program: Expr) -> bytes:
        values = evaluate(program, self.task.env(), size=self.task.n_points)
        if values.dtype == np.float64:
            values = round_reals(values[None, :])[0]
        return values.tobytes()

    def _front(self) -> list[tuple[float, float, int | Expr]]:
        """The Pareto front of the programs scored, (bits, data bits, program key) by increasing
        bits: the levels' rows (`close_level`), and the shortest fit when inversion found it
        before the banks met it (it then dominates every row from its bits on)."""
        front: list[tuple[float, float, int | Expr]] = list(self.pareto)
        solution = self.solution()
        if solution is not None and not any(data == 0.0 and bits <= solution[0] for bits, data, _ in front):
            front = [row for row in front if row[0] < solution[0]] + [(solution[0], 0.0, solution[1])]
        return front

    def _posterior(self) -> Posterior:
        solution = self.solution()
        if solution is not None:  # exact fits, weighted by their prior
            members = [(bits, 0.0, key) for bits, key in self.fits if bits <= solution[0] + self.window]
        else:
            self._prune()
            members = list(self.scored)
        members.sort(key=lambda m: m[0] + m[1])
        functions, entries_raw = set(), []
        for bits, data, key in members:  # one entry per function: the backward search may meet one again
            program = self._program(key)
            function = self._function(program)
            if function not in functions:
                functions.add(function)
                entries_raw.append((bits, data, program))
                if len(entries_raw) == self.max_posterior:  # the rest would be cut: spare their evaluation
                    break
        if not entries_raw:
            return Posterior((), self.task.output_type, self.window, max_bytes=int(self.working_bytes))
        least = entries_raw[0][0] + entries_raw[0][1]
        raw = np.array([2.0 ** -(bits + data - least) for bits, data, _ in entries_raw])
        weights = raw / raw.sum()
        entries = tuple(PosteriorEntry(program, bits, data, float(weight))
                        for (bits, data, program), weight in zip(entries_raw, weights))  # fmt: skip
        return Posterior(entries, self.task.output_type, self.window, max_bytes=int(self.working_bytes))

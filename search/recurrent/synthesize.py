"""Synthesis of recurrent programs without being told the state (docs/search.md, "Recurrent
programs: what is certified").

For every class of programs — k = 0 … max_states state variables, of the tried types, in
update order — the update of a state is a function over the table D = U_1 × … × U_k × X (each
state's universe U_j, X the step's input values). One enumeration of the grammar with the
states added (`with_states`), over every point of D, with observational equivalence, meets
each such function once, through its shortest expression, in order of bits (search/tables.py).
Tuples of update functions (one per state, the j-th reading the states updated before it with
their new values) are taken in order of their total bits; each is simulated (kernels.py), for
every start value and every output position, over the training sequences, stopping at the
first step where the output is not a function of the read-out's point (the state at the
output's position and the inputs). A survivor's read-out is the first — shortest — function of
the output type's bank that agrees with the outputs at the points visited. A class is done
when the least bits any of its remaining tuples could give (the declarations' least bits, the
tuple's, the cheapest read-out's) exceed the best found; the classes run interleaved, the one
of least bound first, so the order over all of them is exact.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from dsl import Expr, Input, Lit, SearchError, Task, Type, evaluate
from dsl.grammars import Grammar
from dsl.recurrent import Recurrence, State, Update, elias_gamma_bits, run, state_bits, with_states
from dsl.sequences import SequenceTask
from dsl.types import Range

from ..config import SearchConfig
from ..space import unpack
from ..synthesize import synthesize
from ..tables import FunctionEnumeration, enumerate_functions
from .config import RecurrentConfig
from .kernels import first_consistent, partial_table, simulate
from .result import RecurrentCandidate, RecurrentPosteriorEntry, RecurrentResult, RecurrentStats, SubsearchStats

__all__ = ["synthesize_recurrent", "RecurrentProgress", "state_universe"]

PROGRESS_SECONDS = 0.25
# max_memory_mb split: the enumerations' banks (shared equally), the search's own update rows
# (every class's, `_Memory`), a sampled class's read-out search (one at a time, 512 MB at most).
BANKS_SHARE, ROWS_SHARE, READOUT_SHARE = 0.5, 0.375, 0.125
_EPS = 1e-9


@dataclass(frozen=True)
class RecurrentProgress:
    """Where a recurrent search stands (passed to `progress` now and then)."""

    seconds: float
    states: int  # the class being searched: its state count
    types: tuple[str, ...]
    bound: float  # the least bits its next update tuple could give
    best_bits: float  # inf: none found yet
    simulations: int  # over all classes so far


# --- universes and tables -----------------------------------------------------------------------


def state_universe(type_: Type, task: SequenceTask, min_values: int) -> tuple[int, int] | None:
    """(low, size) of the values a state of `type_` may take: 0..1 for bool; for an integer
    type the hull of 0, every integer input's range and the output's range, widened upwards to
    `min_values` values (a bit-vector's: clipped to its type's range). None: not finite."""
    if type_.kind == "bool":
        return 0, 2
    if type_.kind != "int":
        return None
    low, high = 0, 0
    for input_ in task.inputs:
        bounds = input_.bounds
        if bounds is None or input_.type.kind == "real":
            return None
        low, high = min(low, int(bounds.low)), max(high, int(bounds.high))
    out = task.output_domain
    if out is not None and task.output_type.kind != "real":
        low, high = min(low, int(out.low)), max(high, int(out.high))
    high = max(high, low + min_values - 1)
    if type_.is_bitvector:
        type_low, type_high = type_.bounds  # type: ignore[misc]
        low, high = max(low, type_low), min(high, type_high)
    return low, high - low + 1


def _input_axes(task: SequenceTask) -> list[tuple[Input, int, int]]:
    """Per input: (input, low, size) of its values."""
    axes = []
    for input_ in task.inputs:
        bounds = input_.bounds
        if bounds is None or input_.type.kind == "real":
            raise SearchError(f"input `{input_.name}` has no finite range", expected="finite per-step inputs")
        axes.append((input_, int(bounds.low), int(bounds.high) - int(bounds.low) + 1))
    return axes


def _state_names(k: int, taken: set[str]) -> list[str]:
    if k == 0:
        return []
    pools = [["s"], ["q"], ["h"]] if k == 1 else [[f"s{i + 1}" for i in range(k)], [f"q{i + 1}" for i in range(k)]]
    for names in pools:
        if not taken & set(names):
            return names
    return [f"state_{i + 1}_" for i in range(k)]


class _Bank:
    """An enumeration pulled level by level on demand: levels (bits, start, end) of its rows."""

    def __init__(self, enumeration: FunctionEnumeration) -> None:
        self.enumeration = enumeration
        self._levels_iter: Iterator = iter(enumeration)
        self.levels: list[tuple[float, int, int]] = []
        self.done = False
        self.status: str | None = None

    def pull(self) -> bool:
        """One more non-empty level; False when the enumeration has ended (`status` says why),
        or when it has met every function there is (a bool bank of 2^P rows)."""
        if self.done:
            return False
        if self.enumeration.task.output_type.kind == "bool" and len(self.enumeration) >= 2**self.enumeration.n_points:
            self.stop("exhausted")
            return False
        for level in self._levels_iter:
            if not level.complete:  # a budget cut it short: the enumeration's status says which
                self.stop(self.enumeration.status or "exhausted")
            if level.size:
                self.levels.append((level.bits, level.start, level.end))
                return True
            if self.done:
                break
        self.stop(self.enumeration.status or "exhausted")
        return False

    def stop(self, reason: str) -> None:
        """The bank ends here, `reason` saying why (as an enumeration's status)."""
        self.done, self.status = True, reason

    def rows(self, start: int, end: int) -> np.ndarray:
        """Rows [start, end) as values per point: a view of the bank, unpacked if it is packed."""
        values = self.enumeration.values[start:end]
        return unpack(values, self.enumeration.n_points) if self.enumeration.packed else values

    def program(self, row: int) -> Expr:
        return self.enumeration.program(row)


class _Memory:
    """The bytes the search's own arrays (beside the enumerations' banks) may take, shared by
    every class: taken as an array grows, given back when its class is done."""

    def __init__(self, limit_bytes: float) -> None:
        self.limit, self.used = limit_bytes, 0

    def take(self, nbytes: int) -> bool:
        if self.used + nbytes > self.limit:
            return False
        self.used += nbytes
        return True

    def give(self, nbytes: int) -> None:
        self.used -= nbytes


class _UpdateRows:
    """A class's update functions, every state type's in one matrix (the kernels' M), grown by
    doubling within the search's `_Memory`. A row holds, per point of D, the new value's index
    in its state's universe (-1: outside it); on a sample it has no columns (the rows are
    simulated by the reference evaluator, only their count is kept)."""

    def __init__(self, columns: int, dtype: type, memory: _Memory) -> None:
        self.array: np.ndarray = np.empty((0, columns), dtype=dtype)
        self.size = 0
        self.memory = memory
        self.row_bytes = columns * self.array.itemsize

    def add(self, rows: np.ndarray) -> bool:
        """Append `rows`; False, appending nothing, when the memory budget cannot hold them."""
        need = self.size + len(rows)
        if need > len(self.array):
            capacity = max(need, 2 * len(self.array), 16)
            if not self.memory.take((capacity - len(self.array)) * self.row_bytes):
                return False
            grown = np.empty((capacity, self.array.shape[1]), dtype=self.array.dtype)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.array[self.size : need] = rows
        self.size = need
        return True

    def release(self) -> None:
        self.memory.give(len(self.array) * self.row_bytes)
        self.array = self.array[:0]


class _Updates:
    """A state type's update functions: its bank's rows as rows of the class's `_UpdateRows`
    (universe indices), distinct once so mapped, in levels (bits, first, end) of those rows."""

    CHUNK = 4096  # bank rows mapped at a time (the int64 scratch of a chunk)
    SEEN_BYTES = 96  # a seen key's overhead in the set, besides its bytes

    def __init__(self, bank: _Bank, low: int, size: int, store: _UpdateRows, *, exact: bool = True) -> None:
        self.bank, self.low, self.size, self.store, self.exact = bank, low, size, store, exact
        self.levels: list[tuple[float, int, int]] = []
        self.sources: list[np.ndarray] = []  # per level: the bank row of each of its rows
        self._seen: set[bytes] = set()  # the rows with a -1 (only those can coincide once mapped)
        self.taken = 0  # bytes of `_seen` and `sources` taken from the store's memory
        self._mapped = 0  # bank levels mapped

    def level(self, index: int) -> bool:
        """Make level `index` available; False when the bank has no more, or the memory budget
        cannot hold it (the bank then ends with status "memory")."""
        while len(self.levels) <= index:
            while self._mapped >= len(self.bank.levels):
                if not self.bank.pull():
                    return False
            bits, start, end = self.bank.levels[self._mapped]
            first = self.store.size
            kept = self._map(start, end)
            if kept is None:
                self.bank.stop("memory")
                return False
            self._mapped += 1
            if len(kept):
                self.levels.append((bits, first, self.store.size))
                self.sources.append(kept)
        return True

    def _map(self, start: int, end: int) -> np.ndarray | None:
        """Append the distinct mapped rows of bank rows [start, end) to the store; their bank
        rows, or None (the store rolled back) when the memory budget runs out."""
        first = self.store.size
        kept: list[np.ndarray] = []
        for chunk in range(start, end, self.CHUNK):
            stop = min(end, chunk + self.CHUNK)
            if self.exact:
                rows, values, seen_bytes = self._distinct(chunk, stop)
            else:  # on a sample: the rows as they are, checked by simulation
                rows, seen_bytes = np.arange(chunk, stop, dtype=np.int64), 0
                values = np.empty((len(rows), 0), dtype=self.store.array.dtype)
            extra = seen_bytes + rows.nbytes
            if not self.store.memory.take(extra):
                self.store.size = first
                return None
            self.taken += extra
            if not self.store.add(values):
                self.store.size = first
                return None
            kept.append(rows)
        return np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)

    def _distinct(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Bank rows [start, stop) mapped to universe indices, less those outside it everywhere
        and those met before: (their bank rows, their mapped rows, the bytes added to `_seen`)."""
        values = self.bank.rows(start, stop).astype(np.int64) - self.low
        outside = (values < 0) | (values >= self.size)
        values[outside] = -1
        values = values.astype(self.store.array.dtype)
        keep = np.asarray(~outside.all(axis=1))
        seen_bytes = 0
        for i in np.flatnonzero(keep & outside.any(axis=1)):
            key = values[i].tobytes()
            if key in self._seen:
                keep[i] = False
            else:
                self._seen.add(key)
                seen_bytes += len(key) + self.SEEN_BYTES
        return np.flatnonzero(keep) + start, values[keep], seen_bytes

    def program(self, row: int) -> Expr:
        """The expression of the store's row `row` (one of this type's)."""
        index = bisect.bisect_right(self.levels, row, key=lambda level: level[1]) - 1
        _, first, _ = self.levels[index]
        return self.bank.program(int(self.sources[index][row - first]))


class _Readouts:
    """The output type's functions over the read-out's table, in levels of bits: its bank's
    rows, searched where they lie."""

    def __init__(self, bank: _Bank) -> None:
        self.bank = bank

    def level(self, index: int) -> bool:
        while len(self.bank.levels) <= index:
            if not self.bank.pull():
                return False
        return True

    def least_bits(self) -> float:
        return self.bank.levels[0][0] if self.level(0) else math.inf

    def find(self, points: np.ndarray, values: np.ndarray, max_bits: float) -> tuple[Expr, float] | None:
        """The shortest function agreeing with `values` at `points`, of at most `max_bits` bits."""
        enumeration = self.bank.enumeration
        index = 0
        while self.level(index):
            bits, start, end = self.bank.levels[index]
            if bits > max_bits + _EPS:
                return None
            row = first_consistent(enumeration.values, start, end, points, values, enumeration.packed)
            if row >= 0:
                return self.bank.program(row), bits
            index += 1
        return None


def _table_task(name: str, states: Sequence[State], universes: Sequence[tuple[int, int]],
                axes: Sequence[tuple[Input, int, int]], output_type: Type, grammar: Grammar, *,
                sample: tuple[np.random.Generator, int] | None = None) -> Task:  # fmt: skip
    """The scalar task whose points are every point of D (states first, in the kernels' order),
    or `sample` = (rng, count): that many points of D drawn uniformly (each coordinate)."""
    ranges = [(low, size) for low, size in universes] + [(low, size) for _, low, size in axes]
    if sample is None:
        grids = np.meshgrid(*[np.arange(low, low + size) for low, size in ranges], indexing="ij") if ranges else []
        count = int(np.prod([size for _, size in ranges])) if ranges else 1
    else:
        rng, count = sample
        grids = [rng.integers(low, low + size, size=count) for low, size in ranges]
    names = [state.name for state in states] + [input_.name for input_, _, _ in axes]
    types = [state.type for state in states] + [input_.type for input_, _, _ in axes]
    points = {n: np.ascontiguousarray(g.ravel()).astype(t.dtype) for n, g, t in zip(names, grids, types)}
    inputs = tuple(Input(state.name, state.type, Range(low, low + size - 1))
                   for state, (low, size) in zip(states, universes)) + tuple(input_ for input_, _, _ in axes)  # fmt: skip
    zeros = np.zeros(count, dtype=output_type.dtype)
    for array in (*points.values(), zeros):
        array.flags.writeable = False
    train = np.ones(count, dtype=bool)
    return Task(name=name, doc="", inputs=inputs, output_type=output_type, output_range=None, output_name="y",
                points=points, train=train, target_values=zeros, clean_values=zeros, target=None,
                grammar=grammar)  # fmt: skip


def _points_task(task: SequenceTask, states: Sequence[State], points: dict[str, np.ndarray], target: np.ndarray,
                 grammar: Grammar) -> Task:  # fmt: skip
    """The scalar task of a read-out: the points a program visits (states, inputs) and their outputs."""
    inputs = tuple(Input(s.name, s.type, None) for s in states) + tuple(task.inputs)
    for array in (*points.values(), target):
        array.flags.writeable = False
    return Task(name=f"{task.name}/readout", doc="", inputs=inputs, output_type=task.output_type,
                output_range=task.output_range, output_name="y", points=points,
                train=np.ones(len(target), dtype=bool), target_values=target, clean_values=target, target=None,
                grammar=grammar)  # fmt: skip


# --- one class of programs ----------------------------------------------------------------------


class _Class:
    """The programs of k states of given types (in update order): a best-first walk over tuples
    of update levels."""

    def __init__(self, search: _Search, types: tuple[Type, ...]) -> None:
        self.search = search
        task, config = search.task, search.config
        self.k = k = len(types)
        self.types = types
        universes = [state_universe(t, task, config.max_state_values[k - 1]) for t in types]
        names = _state_names(k, {input_.name for input_ in task.inputs})
        self.universes = [u for u in universes if u is not None]
        self.states = [State(name, t, Range(low, low + size - 1) if t.kind == "int" and not t.is_bitvector else None,
                             low) for name, t, (low, size) in zip(names, types, self.universes)]  # fmt: skip
        sizes = [size for _, size in self.universes]
        self.n_points = int(np.prod(sizes)) * search.n_inputs
        self.stats = SubsearchStats(k, tuple(str(t) for t in types),
                                    tuple(f"{low}..{low + size - 1}" for low, size in self.universes),
                                    self.n_points, self.n_points <= config.max_table_points)  # fmt: skip
        self.bound = math.inf
        self.done = False
        self.sampled = not self.stats.exact
        if self.sampled and not config.sampled:
            self.stats.status = "skipped"
            self.done = True
            return
        self.grammar = with_states(task.grammar, self.states)
        ntypes = math.log2(max(1, len(task.grammar.types)))
        self.decl_base = elias_gamma_bits(k + 1) + math.log2(k + 1) + k * ntypes
        self.decl_min = self.decl_base + sum(_least_state_bits(s, u) for s, u in zip(self.states, self.universes))
        strides = [search.n_inputs] * k
        for j in range(k - 2, -1, -1):
            strides[j] = strides[j + 1] * sizes[j + 1]
        self.strides = np.array(strides, dtype=np.int64)
        if self.sampled:  # a few start values: 0, the universe's ends, the grammar's constants
            constants = {int(a.template.value) for rule in task.grammar.rules for a in rule.alternatives
                         if isinstance(a.template, Lit) and a.template.type.kind != "real"}  # fmt: skip
            per_state = [sorted(v - low for v in {0, low, low + size - 1, *constants} if low <= v < low + size)
                         for low, size in self.universes]  # fmt: skip
            starts = list(itertools.product(*per_state))
        else:
            starts = list(itertools.product(*[range(s) for s in sizes]))
        self.starts = np.array(starts, dtype=np.int64).reshape(len(starts), k)
        self.positions = np.arange(k + 1, dtype=np.int64)
        self.stamp = np.zeros(self.n_points if not self.sampled else 1, dtype=np.int64)
        self.table = np.zeros(self.n_points if not self.sampled else 1, dtype=np.int64)
        self.epoch = 0
        self.table_points = min(self.n_points, config.sample_points) if self.sampled else self.n_points
        self.bank_types = list(dict.fromkeys((*types, task.output_type)))

    def open(self) -> None:
        """Start the class's enumerations (one bank per type it uses) and its walk."""
        search, task, k = self.search, self.search.task, self.k
        rng = np.random.default_rng(search.config.sample_seed)
        self.banks = {}
        for t in self.bank_types:
            table = _table_task(f"{task.name}/{k}", self.states, self.universes, search.axes, t, self.grammar,
                                sample=(rng, self.table_points) if self.sampled else None)  # fmt: skip
            self.banks[t] = search.bank(table)
        largest = max((size for _, size in self.universes), default=2)
        dtype = np.int8 if largest <= 127 else np.int16 if largest <= 32767 else np.int32
        self.store = _UpdateRows(0 if self.sampled else self.table_points, dtype, search.memory)
        self.updates = {t: _Updates(self.banks[t], low, size, self.store, exact=not self.sampled)
                        for t, (low, size) in zip(self.types, self.universes)}  # fmt: skip
        self.readouts = _Readouts(self.banks[task.output_type])
        self.readout_min = self.readouts.least_bits()
        self.heap: list[tuple[float, tuple[int, ...]]] = []
        self.pushed: set[tuple[int, ...]] = set()
        self._push((0,) * k)
        self.current: tuple[float, tuple[int, ...], int, int] | None = None  # bits, levels, position, total
        self._refresh()

    def _release(self) -> None:
        """A class done gives back its memory: its banks, update rows and walk."""
        self.store.release()
        for updates in self.updates.values():
            self.store.memory.give(updates.taken)
        self.banks, self.updates, self.heap, self.pushed = {}, {}, [], set()
        del self.readouts

    # the walk over level tuples

    def _tuple_bits(self, levels: tuple[int, ...]) -> float | None:
        bits = 0.0
        for t, level in zip(self.types, levels):
            updates = self.updates[t]
            if not updates.level(level):
                return None
            bits += updates.levels[level][0]
        return bits

    def _push(self, levels: tuple[int, ...]) -> None:
        if levels in self.pushed:
            return
        self.pushed.add(levels)
        bits = self._tuple_bits(levels)
        if bits is not None:
            heapq.heappush(self.heap, (bits, levels))

    def _refresh(self) -> None:
        if self.current is not None:
            bits = self.current[0]
        elif self.heap:
            bits = self.heap[0][0]
        else:
            self.bound = math.inf
            self.done = True
            if self.stats.status == "pending":
                self.stats.status = self._ended()
            self._release()
            return
        self.bound = self.decl_min + bits + self.readout_min

    def _ended(self) -> str:
        """Why the walk ran out of tuples: the banks' enumerations ended."""
        reasons = {bank.status for bank in self.banks.values() if bank.status not in (None, "exhausted")}
        if reasons:
            self.stats.complete = False
            return sorted(reasons)[0]
        self.stats.complete = True
        return "exhausted"

    def step(self, sims: int) -> None:
        """Simulate about `sims` (update tuple, start, position) triples of the next tuple."""
        if self.sampled:
            sims = max(1, sims // 256)  # each simulation runs the reference evaluator
        if self.current is None:
            bits, levels = heapq.heappop(self.heap)
            for j in range(self.k):
                self._push(levels[:j] + (levels[j] + 1,) + levels[j + 1 :])
            total = math.prod(self.updates[t].levels[level][2] - self.updates[t].levels[level][1]
                              for t, level in zip(self.types, levels))  # fmt: skip
            self.current = (bits, levels, 0, total)
        bits, levels, position, total = self.current
        per = max(1, len(self.starts) * len(self.positions))
        count = max(1, min(total - position, sims // per))
        sizes, firsts = [], []
        for t, level in zip(self.types, levels):
            _, first, end = self.updates[t].levels[level]
            sizes.append(end - first)
            firsts.append(first)
        flat = np.arange(position, position + count, dtype=np.int64)
        if self.k:
            combos = np.stack(np.unravel_index(flat, sizes), axis=1).astype(np.int64) + np.array(firsts, np.int64)
        else:
            combos = np.zeros((count, 0), dtype=np.int64)
        if self.sampled:
            self._step_sampled(bits, combos)
            position += count
            if position >= total:
                self.stats.covered_bits = max(self.stats.covered_bits, bits)
            self.current = None if position >= total else (bits, levels, position, total)
            self.stats.updates = self.store.size
            self._refresh()
            return
        matrix = self.store.array if self.k else np.zeros((1, 1), np.int8)
        hits = np.empty((count * per, 3), dtype=np.int64)
        search = self.search
        n_hits, self.epoch, steps = simulate(matrix, combos, self.starts, self.strides, self.positions, search.xs,
                                             search.ys, self.stamp, self.table, self.epoch, hits)  # fmt: skip
        self.stats.tuples += count
        self.stats.simulations += count * per
        self.stats.steps += int(steps)
        self.stats.survivors += int(n_hits)
        search.simulations += count * per
        for c, s, at in hits[:n_hits]:
            self._survivor(bits, matrix, combos[c], self.starts[s], int(at))
        position += count
        self.stats.covered_bits = max(self.stats.covered_bits, bits) if position >= total else self.stats.covered_bits
        self.current = None if position >= total else (bits, levels, position, total)
        self.stats.updates = self.store.size
        self._refresh()

    def _survivor(self, bits: float, matrix: np.ndarray, rows: np.ndarray, start: np.ndarray, at: int) -> None:
        search = self.search
        defined, values, low, high = partial_table(matrix, rows, start, self.strides, at, search.xs, search.ys,
                                                   self.n_points)  # fmt: skip
        states = []
        for state, (ulow, _size), lo, hi, s0 in zip(self.states, self.universes, low, high, start):
            if state.type.kind == "int" and not state.type.is_bitvector:
                states.append(State(state.name, state.type, Range(ulow + int(lo), ulow + int(hi)), ulow + int(s0)))
            else:
                states.append(State(state.name, state.type, None, ulow + int(s0)))
        declaration = self.decl_base + sum(state_bits(s) for s in states)
        limit = search.limit()
        room = limit - declaration - bits
        if room < self.readout_min - _EPS:
            return
        points = np.flatnonzero(defined).astype(np.int64)
        found = self.readouts.find(points, values[points], room)
        if found is None:
            return
        output, output_bits = found
        updates = [Update(state.name, self.updates[t].program(int(row))) for state, t, row in zip(states, self.types, rows)]
        program = Recurrence(tuple(states), tuple(updates), output, at)
        search.consider(program, declaration + bits + output_bits)

    def _step_sampled(self, bits: float, combos: np.ndarray) -> None:
        """Simulate each update tuple (rows of each type's own updates) with the reference
        evaluator, from each start, over the training sequences."""
        search = self.search
        n, length = search.ys.shape
        k = self.k
        for rows in combos:
            exprs = [self.updates[t].program(int(row)) for t, row in zip(self.types, rows)]
            for start in self.starts:
                self.stats.simulations += k + 1
                search.simulations += k + 1
                snaps = self._trajectory(exprs, start, n, length)
                if snaps is None:
                    continue
                self.stats.steps += n * length
                for at in range(k + 1):
                    first = self._functional(snaps[at])
                    if first is None:
                        continue
                    self.stats.survivors += 1
                    self._survivor_sampled(bits, exprs, start, at, snaps, first)
            self.stats.tuples += 1

    def _trajectory(self, exprs: list[Expr], start: np.ndarray, n: int, length: int) -> np.ndarray | None:
        """(k + 1, k, n, L) universe indices of the states at each output position, each step
        (the reference evaluator); None when a state leaves its universe."""
        k = self.k
        inputs = self.search.train_inputs
        snaps = np.empty((k + 1, k, n, length), dtype=np.int64)
        state = [np.full(n, int(s0), dtype=np.int64) for s0 in start]  # indices
        for t in range(length):
            env = {name: values[:, t] for name, values in inputs.items()}
            for j in range(k + 1):
                for i in range(k):
                    snaps[j, i, :, t] = state[i]
                if j < k:
                    for i, (st, (low, _)) in enumerate(zip(self.states, self.universes)):
                        env[st.name] = (state[i] + low).astype(st.type.dtype)
                    value = np.asarray(evaluate(exprs[j], env, size=n)).astype(np.int64) - self.universes[j][0]
                    if value.min() < 0 or value.max() >= self.universes[j][1]:
                        return None
                    state[j] = value
        return snaps

    def _functional(self, snap: np.ndarray) -> np.ndarray | None:
        """Whether the outputs are a function of (the state indices `snap` (k, n, L), the
        inputs): the flat index (over n × L) of each distinct point's first occurrence; None
        at a conflict."""
        search = self.search
        keys = search.xs.copy()
        scale = search.n_inputs
        for i in range(self.k - 1, -1, -1):
            keys = keys + snap[i] * scale
            scale *= self.universes[i][1]
        flat, ys = keys.ravel(), search.ys.ravel()
        order = np.argsort(flat, kind="stable")
        ks, yy = flat[order], ys[order]
        same = ks[1:] == ks[:-1]
        if np.any(same & (yy[1:] != yy[:-1])):
            return None
        return order[np.concatenate([[True], ~same])]

    def _survivor_sampled(self, bits: float, exprs: list[Expr], start: np.ndarray, at: int, snaps: np.ndarray,
                          first: np.ndarray) -> None:  # fmt: skip
        """The read-out of a sampled class's survivor: a scalar search over the points visited."""
        search = self.search
        states = []
        for i, (state, (ulow, _)) in enumerate(zip(self.states, self.universes)):
            lo = min(int(snaps[:, i].min()), int(start[i]))
            hi = max(int(snaps[:, i].max()), int(start[i]))
            if state.type.kind == "int" and not state.type.is_bitvector:
                states.append(State(state.name, state.type, Range(ulow + lo, ulow + hi), ulow + int(start[i])))
            else:
                states.append(State(state.name, state.type, None, ulow + int(start[i])))
        declaration = self.decl_base + sum(state_bits(s) for s in states)
        room = search.limit() - declaration - bits
        remaining = search.config.max_seconds - search.seconds()
        if room < self.readout_min - _EPS or remaining <= 0.05:
            return
        points = {}
        for i, (state, (ulow, _)) in enumerate(zip(self.states, self.universes)):
            points[state.name] = (snaps[at, i].ravel()[first] + ulow).astype(state.type.dtype)
        for name, values in search.train_inputs.items():
            points[name] = np.ascontiguousarray(values.ravel()[first])
        target = search.ys.ravel()[first].astype(search.task.output_type.dtype)
        task = _points_task(search.task, self.states, points, target, self.grammar)
        bound = room if math.isfinite(room) else math.inf
        result = synthesize(task, SearchConfig(max_seconds=min(remaining, 10.0), max_bits=bound,
                                               max_memory_mb=search.readout_mb))  # fmt: skip
        best = result.best
        if best is None or not best.fits_train or best.bits > room + _EPS:
            return
        updates = [Update(state.name, expr) for state, expr in zip(states, exprs)]
        search.consider(Recurrence(tuple(states), tuple(updates), best.program, at), declaration + bits + best.bits)


def _least_state_bits(state: State, universe: tuple[int, int]) -> float:
    """The least bits of a state's declaration whose range lies within its universe."""
    if state.type.kind != "int" or state.type.is_bitvector:
        return state_bits(state)
    low, size = universe
    return min(state_bits(State(state.name, state.type, Range(v, v), v)) for v in range(low, low + size))


# --- the search ---------------------------------------------------------------------------------


class _Search:
    def __init__(self, task: SequenceTask, config: RecurrentConfig,
                 progress: Callable[[RecurrentProgress], None] | None) -> None:  # fmt: skip
        self.task, self.config, self.progress = task, config, progress
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.axes = _input_axes(task)
        self.n_inputs = int(np.prod([size for _, _, size in self.axes])) if self.axes else 1
        train = np.asarray(task.train)
        codes = np.zeros((int(train.sum()), task.length), dtype=np.int64)
        for input_, low, size in self.axes:
            codes = codes * size + (np.asarray(task.sequences[input_.name])[train].astype(np.int64) - low)
        self.xs = np.ascontiguousarray(codes)
        self.ys = np.ascontiguousarray(np.asarray(task.target_values)[train].astype(np.int64))
        self.train_inputs = {name: np.ascontiguousarray(np.asarray(values)[train]) for name, values in task.sequences.items()}
        self.simulations = 0
        self.best: RecurrentCandidate | None = None
        self.front: list[RecurrentCandidate] = []
        self.fitting: list[RecurrentCandidate] = []
        self.verify_failures = 0
        megabytes = config.max_memory_mb
        self.memory = _Memory(ROWS_SHARE * megabytes * 2**20)
        self.readout_mb = min(512.0, READOUT_SHARE * megabytes)  # a sampled class's read-out search, at a time
        self.bank_mb = BANKS_SHARE * megabytes  # each bank's, once the classes are known (`run`)

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def state_types(self) -> list[Type]:
        grammar_types = list(self.task.grammar.types)
        if self.config.state_types is None:
            chosen = [t for t in grammar_types if t.kind == "bool" or (t.kind == "int" and (
                not t.is_bitvector or 2**t.width <= max(self.config.max_state_values)))]  # fmt: skip
        else:
            chosen = []
            for name in self.config.state_types:
                t = Type.named(name)
                if t is None or t.kind == "real":
                    raise SearchError(f"state type {name!r} is not a finite type", expected="bool, int, uN or iN")
                if t in grammar_types:
                    chosen.append(t)
        return chosen

    def bank(self, table: Task) -> _Bank:
        remaining = max(1e-3, self.config.max_seconds - self.seconds())
        enumeration = enumerate_functions(table, max_bits=self.config.max_bits, max_seconds=remaining,
                                          max_memory_mb=self.bank_mb)  # fmt: skip
        return _Bank(enumeration)

    def limit(self) -> float:
        best = self.best.bits if self.best is not None else math.inf
        return min(self.config.max_bits, best + self.config.posterior_window)

    def consider(self, program: Recurrence, bits: float) -> None:
        if bits > self.limit() + _EPS:
            return
        exact = program.bits(self.task.grammar)
        outputs = run(program, self.task.env(self.task.train)).outputs
        if not np.array_equal(outputs.astype(np.int64), self.ys) or abs(exact - bits) > 1e-6:
            self.verify_failures += 1
            return
        candidate = RecurrentCandidate(program, exact, True)
        self.fitting.append(candidate)
        if self.best is None or exact < self.best.bits - _EPS:
            self.best = candidate
            self.front.append(candidate)

    def run(self) -> RecurrentResult:
        config = self.config
        classes: list[_Class] = []
        status: str | None = None
        last_report = -math.inf
        try:
            types = self.state_types()
            for k in range(config.max_states + 1):
                classes.extend(_Class(self, combo) for combo in itertools.product(types, repeat=k))
            searched = [c for c in classes if not c.done]
            self.bank_mb = BANKS_SHARE * config.max_memory_mb / max(1, sum(len(c.bank_types) for c in searched))
            for c in searched:
                if self.seconds() > config.max_seconds:
                    raise _Budget("time")
                c.open()
            while True:
                live = [c for c in classes if not c.done]
                if not live:
                    break
                current = min(live, key=lambda c: c.bound)
                window = self.best.bits + config.posterior_window if self.best is not None else math.inf
                beaten = self.best is not None and (current.bound > window + _EPS or (
                    config.posterior_window == 0 and current.bound >= window - _EPS))  # fmt: skip
                if beaten:
                    for c in live:
                        c.stats.status, c.stats.complete = "bound", True
                    break
                if current.bound > config.max_bits:
                    for c in live:
                        c.stats.status = "bits"
                    break
                if self.seconds() > config.max_seconds:
                    raise _Budget("time")
                clock, cpu = time.perf_counter(), time.process_time()
                current.step(config.combos_per_call)
                current.stats.wall_seconds += time.perf_counter() - clock
                current.stats.cpu_seconds += time.process_time() - cpu
                if self.progress is not None and self.seconds() - last_report >= PROGRESS_SECONDS:
                    last_report = self.seconds()
                    self.progress(RecurrentProgress(last_report, current.k, current.stats.types, current.bound,
                                                    self.best.bits if self.best else math.inf, self.simulations))
        except _Budget as stop:
            status = stop.reason
        except KeyboardInterrupt:
            status = "interrupted"
        return self._result(classes, status)

    def _result(self, classes: list[_Class], stopped: str | None) -> RecurrentResult:
        config = self.config
        for c in classes:
            if c.stats.status == "pending":
                c.stats.status = stopped or ("bits" if c.bound > config.max_bits else "pending")
        searched_all = len(classes) == sum(1 for _ in self._all_classes())
        exact = all(c.stats.exact for c in classes)
        complete = all(c.stats.complete for c in classes) and searched_all
        certified = self.best is not None and exact and complete and stopped is None
        if stopped is not None:
            status = stopped
        elif certified:
            status = "solved"
        elif complete and self.best is None:
            status = "exhausted"
        else:
            reasons = sorted({c.stats.status for c in classes if not c.stats.complete} - {"skipped", "bound"})
            status = reasons[0] if reasons and reasons[0] in ("time", "memory", "bits") else ("bits" if config.max_bits
                                                                                              < math.inf else "exhausted")
        ranges = ", ".join(f"{c.stats.types}: {c.stats.universes}" for c in classes if c.k)
        if certified:
            certificate = (f"no recurrent program of at most {config.max_states} states of types "
                           f"{', '.join(map(str, self.state_types())) or '-'} (each within its universe on the training "
                           f"sequences: {ranges or 'none'}) is shorter than {self.best.bits:.4f} bits")  # type: ignore[union-attr]
        else:
            certificate = "not certified: " + "; ".join(
                f"{c.k} states {c.stats.types} {c.stats.status}" for c in classes if not c.stats.complete) or "-"
        why = None
        if self.best is None:
            skipped = [c for c in classes if not c.stats.exact]
            if status in ("time", "memory", "interrupted"):
                why = f"budget: {status} ({STATUS_WORDS.get(status, status)}) before any program fit"
            elif skipped:
                why = (f"state too large: the tables of {', '.join(f'{c.k} states {c.stats.types} ({c.n_points:,} points)' for c in skipped)} "
                       f"pass max_table_points = {config.max_table_points:,}, and no smaller class fits")
            else:
                why = "not expressible: no program of the classes searched fits the training sequences"
        stats = RecurrentStats([c.stats for c in classes], time.process_time() - self.cpu_started, self.seconds(),
                               self.verify_failures)  # fmt: skip
        return RecurrentResult(task=self.task, best=self.best, status=status, certified=certified,
                               certificate=certificate, front=self.front, posterior=self._posterior(), stats=stats,
                               config=config, why=why)  # fmt: skip

    def _all_classes(self) -> Iterator[tuple[Type, ...]]:
        for k in range(self.config.max_states + 1):
            yield from itertools.product(self.state_types(), repeat=k)

    def _posterior(self) -> list[RecurrentPosteriorEntry]:
        if self.best is None:
            return []
        within = sorted((c for c in self.fitting if c.bits <= self.best.bits + self.config.posterior_window + _EPS),
                        key=lambda c: c.bits)  # fmt: skip
        seen: dict[bytes, RecurrentCandidate] = {}
        for candidate in within:
            key = run(candidate.program, self.task.env()).outputs.astype(np.int64).tobytes()
            seen.setdefault(key, candidate)
            if len(seen) >= self.config.max_posterior:
                break
        members = list(seen.values())
        weights = np.array([2.0 ** -(c.bits - self.best.bits) for c in members])
        weights /= weights.sum()
        return [RecurrentPosteriorEntry(c.program, c.bits, float(w)) for c, w in zip(members, weights)]


STATUS_WORDS = {"time": "max_seconds", "memory": "max_memory_mb", "interrupted": "Ctrl-C"}


class _Budget(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def synthesize_recurrent(task: SequenceTask, config: RecurrentConfig | None = None, *,
                         progress: Callable[[RecurrentProgress], None] | None = None) -> RecurrentResult:  # fmt: skip
    """The shortest recurrent program (`Recurrence.bits` under the task's grammar) that
    reproduces the training sequences, the state not given: see the module docstring and
    docs/search.md. Ctrl-C returns what was found (status "interrupted")."""
    config = config or RecurrentConfig()
    if task.output_type.kind == "real":
        raise SearchError(f"task `{task.name}` has a real output", expected="a bool or integer per-step output")
    return _Search(task, config, progress).run()

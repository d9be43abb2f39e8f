"""Bottom-up enumeration in exact order of description length.

The enumerator keeps one bank per type (bank.py) and a heap of *combinations*: a grammar choice
together with one level of each of its holes' banks. A combination's probability is the
choice's times its children levels'; all the programs it makes share it. Popping the heap by
decreasing probability (increasing bits) and running each combination's kernel fills the banks
level by level, in exactly the order of 2^-bits. When a level is closed, the combinations that
use it (with every other hole at a level already closed) are pushed: each combination is made
once, when the last of its levels closes.

Observational equivalence (kernels.py) keeps one program per distinct function: the first met,
which is never longer than the others.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from dsl import Expr, Op, evaluate
from dsl.program import fill

from .bank import Bank, Level
from .kernels import BANK_STATE, EXACT, MASKED, TOLERANCE, RowRules, Sweep, check, combine, insert_rows
from .space import Choice, SearchSpace, bits_of, holes_to_vars, pack

__all__ = ["Enumerator", "Budget", "Stop"]

CHUNK = 1 << 21  # values (candidates × points) per kernel call: keeps Ctrl-C and the clock responsive

def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX
        return 8 << 30


# Rows are reserved for the memory budget; an unlimited budget reserves this much.
_MEMORY_CEILING = int(0.75 * _physical_memory())


class Stop(Exception):
    """Raised inside the enumeration when a budget runs out; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Budget:
    """Limits of a search: wall-clock seconds (what a user waits; CPU time is at most that),
    description length, bytes of the banks."""

    max_seconds: float = math.inf
    max_bits: float = math.inf
    max_memory_bytes: float = math.inf
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=time.process_time)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def cpu_seconds(self) -> float:
        return time.process_time() - self.cpu_started

    def check_time(self) -> None:
        if self.elapsed() > self.max_seconds:
            raise Stop("time")

    def remaining(self) -> float:
        """Wall-clock seconds left (inf without a limit; negative once past it)."""
        return self.max_seconds - self.elapsed()

    def restart(self, *, wall: bool = True) -> None:
        """Start the clocks now (after compiling the kernels, which is no part of a search).
        `wall=False` restarts only the CPU clock: the statistics leave compiling out while the
        wall-clock budget, what a user waits, counts it."""
        if wall:
            self.started = time.perf_counter()
        self.cpu_started = time.process_time()


@dataclass(frozen=True, order=True)
class _Combination:
    cost: Fraction  # 1 / probability: the heap's order
    sequence: int  # ties: first pushed, first run (deterministic)
    choice: int = field(compare=False)
    levels: tuple[int, ...] = field(compare=False)  # per hole, an index into its bank's levels


class Enumerator:
    """Fills the banks of a search space level by level. `on_rows(bank, start, end, level)`
    is called for every batch of new programs (before the level is closed)."""

    def __init__(
        self,
        space: SearchSpace,
        budget: Budget,
        on_rows: Callable[[Bank, int, int, Fraction], None] | None = None,
    ) -> None:
        self.space = space
        self.budget = budget
        self.on_rows = on_rows
        budget_bytes = min(budget.max_memory_bytes, _MEMORY_CEILING)
        self.banks = [Bank(space, index, int(budget_bytes // Bank.row_bytes(space, index)))
                      for index in range(len(space.types))]  # fmt: skip
        self._heap: list[_Combination] = []
        self._sequence = itertools.count()
        self.level_bits = 0.0  # bits of the level being (or last) enumerated
        self.covered_bits = -math.inf  # every program of at most these bits was enumerated
        self.levels_done = 0
        # Beyond the memory budget, candidates of the output type are only checked against the
        # target (`on_hits`), not kept; programs from `complete_bits` on are then not all met.
        self.checking = False
        self.checked = 0  # candidates checked without being kept
        self.complete_bits = math.inf
        self.on_hits: Callable[[Choice, np.ndarray, Fraction], None] | None = None
        self._withheld = math.inf  # least bits of a combination left out for max_bits
        for choice in space.choices:
            if choice.is_leaf:
                self._push(choice, (), choice.probability)
        self._rules = [self._rules_of(bank) for bank in self.banks]  # per bank, what its kernels do to a row

    # --- public ---------------------------------------------------------------------------------

    @property
    def candidates(self) -> int:
        return sum(bank.candidates for bank in self.banks)

    @property
    def distinct(self) -> int:
        return sum(bank.size for bank in self.banks)

    @property
    def nbytes(self) -> int:
        return sum(bank.nbytes for bank in self.banks)

    def next_bits(self) -> float:
        """Bits of the next level (beyond max_bits when the budget is what ends the search),
        inf when the grammar is exhausted."""
        return bits_of(1 / self._heap[0].cost) if self._heap else self._withheld

    def levels(self) -> Iterator[float]:
        """Enumerate level after level; yields each level's bits once it is closed. Raises
        Stop when a budget runs out (the banks then hold everything up to the last level
        closed, and part of the level running)."""
        while self._heap:
            probability = 1 / self._heap[0].cost
            bits = bits_of(probability)
            if bits > self.budget.max_bits:
                raise Stop("bits")
            self.level_bits = bits
            starts = [bank.size for bank in self.banks]
            while self._heap and self._heap[0].cost == 1 / probability:
                self._run(heapq.heappop(self._heap), probability)
            closed = [(bank, bank.close_level(probability, start)) for bank, start in zip(self.banks, starts)]
            for bank, level in closed:
                if level is not None:
                    self._push_combinations(bank.type_index, len(bank.levels) - 1)
            self.levels_done += 1
            self.covered_bits = min(bits, self.complete_bits)
            yield bits
        if self.checking:
            raise Stop("memory")
        if self._withheld < math.inf:  # programs remain, but past the budget
            raise Stop("bits")

    def program(self, type_index: int, index: int) -> Expr:
        return self.banks[type_index].program(index, self.banks)

    def compile_kernels(self) -> None:
        """Run every kernel this search will use on empty input: Numba compiles it now (or loads
        it from its cache), before the budget's clocks start."""
        space = self.space
        empty = Sweep(0, 0, 0, 0, 0, 0, start=0, stop=0, symmetric=False)
        for choice in space.choices:
            bank = self.banks[choice.type_index]
            rules = self._rules[choice.type_index]
            op = choice.op
            if op is not None:  # a simple choice: its primitive's kernels
                xs = [self.banks[choice.holes[o]].values if isinstance(o, int) else o for o in choice.operands]
                xs += [xs[0][:1]] * (3 - len(xs))
                combine(op, xs[0], xs[1], xs[2], empty, rules, bank.arrays(0), np.zeros(1, BANK_STATE),
                        packed=space.packed)  # fmt: skip
                if choice.type_index == space.output_index:
                    target = _CheckTarget.of(space)
                    check(op, xs[0], xs[1], xs[2], empty, rules, target.columns, target.values,
                          target.tolerance, target.mode, np.empty((1, 3), np.int64), packed=space.packed)  # fmt: skip
            insert_rows(bank.values[:0], np.empty((0, 3), np.int64), bank.type.kind == "real" and not space.packed,
                        rules, bank.arrays(0), np.zeros(1, BANK_STATE))  # fmt: skip

    def release(self) -> None:
        """Drop the banks and the callbacks (which refer back to their owner, a cycle that would
        otherwise hold gigabytes until the garbage collector runs)."""
        self.banks = []
        self.on_rows = self.on_hits = None

    # --- combinations ---------------------------------------------------------------------------

    def _push(self, choice: Choice, levels: tuple[int, ...], probability: Fraction) -> None:
        bits = bits_of(probability)
        if bits <= self.budget.max_bits:
            heapq.heappush(self._heap, _Combination(1 / probability, next(self._sequence), choice.index, levels))
        else:
            self._withheld = min(self._withheld, bits)

    def _push_combinations(self, type_index: int, new_level: int) -> None:
        """Every combination in which some hole of type `type_index` takes its new level and
        the other holes take levels already closed."""
        for choice in self.space.choices_with_hole(type_index):
            ranges = []
            for hole in choice.holes:
                count = len(self.banks[hole].levels)
                ranges.append(range(count))
            seen: set[tuple[int, ...]] = set()
            for position, hole in enumerate(choice.holes):
                if hole != type_index:
                    continue
                options = [ranges[i] if i != position else [new_level] for i in range(len(choice.holes))]
                for levels in itertools.product(*options):
                    if levels in seen or (choice.symmetric and levels[0] > levels[1]):
                        continue
                    # made once: when its last level closes, i.e. no other hole uses a newer level
                    if any(self._is_newer(choice.holes[i], level, type_index, new_level)
                           for i, level in enumerate(levels)):  # fmt: skip
                        continue
                    seen.add(levels)
                    probability = choice.probability
                    for hole_type, level in zip(choice.holes, levels):
                        probability *= self.banks[hole_type].levels[level].probability
                    self._push(choice, levels, probability)

    def _is_newer(self, hole_type: int, level: int, type_index: int, new_level: int) -> bool:
        # Levels of one probability close together, type by type: a combination waiting for a
        # level of another type closed in this same step is pushed when that type's turn comes.
        if hole_type == type_index:
            return level > new_level
        bank = self.banks[hole_type]
        this = self.banks[type_index].levels[new_level]
        other = bank.levels[level]
        return other.probability == this.probability and hole_type > type_index

    # --- running one combination -----------------------------------------------------------------

    def _run(self, combination: _Combination, probability: Fraction) -> None:
        choice = self.space.choices[combination.choice]
        bank = self.banks[choice.type_index]
        children = [self.banks[hole].levels[level] for hole, level in zip(choice.holes, combination.levels)]
        bank.state["choice"] = choice.index
        if choice.is_leaf:
            self._insert(bank, choice, self.space.leaf_values(choice)[None, :], np.full((1, 3), -1), probability)
        elif choice.op is not None:  # a simple choice
            self._run_simple(bank, choice, choice.op, children, probability)
        else:
            self._run_composite(bank, choice, children, probability)

    def _run_simple(
        self, bank: Bank, choice: Choice, op: Op, children: list[Level], probability: Fraction
    ) -> None:
        # `op`: `choice.op`, passed apart because the caller has checked that it is not None.
        # Per operand, its first row and count: a level of its bank, or one row for a constant.
        rows = [(children[o].start, children[o].size) if isinstance(o, int) else (0, 1) for o in choice.operands]
        rows += [(0, 1)] * (3 - len(rows))
        (x_start, x_count), (y_start, y_count), (z_start, z_count) = rows
        total = x_count * y_count * z_count
        grid = Sweep(x_start, x_count, y_start, y_count, z_start, z_count, 0, 0, bool(choice.symmetric))
        rules = self._rules[bank.type_index]
        position = 0
        step = max(1, CHUNK // self.space.row_width)  # a call's time grows with its candidates' points
        while position < total:
            sweep = grid._replace(start=position, stop=min(total, position + step))
            xs = [self.banks[choice.holes[o]].values if isinstance(o, int) else o for o in choice.operands]
            xs += [xs[0][:1]] * (3 - len(xs))
            limit = None if self.checking else self._room(bank, sweep.stop - position)
            if limit is None:  # no memory left: check the output's candidates, skip the others
                if bank.type_index != self.space.output_index:
                    return
                position = self._check(bank, choice, op, xs, sweep, rules, probability)
                continue
            before = bank.size
            position = combine(op, xs[0], xs[1], xs[2], sweep, rules, bank.arrays(limit), bank.state,
                               packed=self.space.packed)  # fmt: skip
            self._after(bank, before, probability)

    def _check(self, bank: Bank, choice: Choice, op: Op, xs: list[np.ndarray], sweep: Sweep, rules: RowRules,
               probability: Fraction) -> int:  # fmt: skip
        target = self._target
        position, found, candidates = check(op, xs[0], xs[1], xs[2], sweep, rules, target.columns,
                                            target.values, target.tolerance, target.mode, self._hits,
                                            packed=self.space.packed)  # fmt: skip
        bank.state["candidates"] += candidates
        self.checked += candidates
        if found and self.on_hits is not None:
            self.on_hits(choice, self._hits[:found].copy(), probability)
        self.budget.check_time()
        return position

    def _check_rows(
        self, bank: Bank, choice: Choice, rows: np.ndarray, origin: np.ndarray, probability: Fraction
    ) -> None:
        """Check precomputed rows (leaves, composite choices) as the check-only kernels do."""
        target = self._target
        bank.state["candidates"] += len(rows)
        self.checked += len(rows)
        if target.mode == MASKED:
            hit = np.all(((rows ^ target.values) & target.tolerance) == 0, axis=1)
        elif target.mode == TOLERANCE:
            with np.errstate(invalid="ignore"):
                hit = np.all(np.abs(rows[:, target.columns] - target.values) <= target.tolerance, axis=1)
        else:
            hit = np.all(rows[:, target.columns] == target.values, axis=1)
        if hit.any() and self.on_hits is not None:
            self.on_hits(choice, origin[hit], probability)

    def assemble(self, choice: Choice, ids: np.ndarray) -> Expr:
        """The program `choice` makes from the children at `ids` (a row of the check-only kernels'
        hits, or of an origin array): one per operand of a simple choice (constant operands have
        none), one per hole of the others."""
        if choice.is_simple:
            ids = ids[[position for position, operand in enumerate(choice.operands)
                       if isinstance(operand, int)]]  # fmt: skip
        children = [self.banks[hole].program(int(child), self.banks) for hole, child in zip(choice.holes, ids)]
        return fill(choice.template, iter(children))

    def _run_composite(self, bank: Bank, choice: Choice, children: list[Level], probability: Fraction) -> None:
        program, names = holes_to_vars(choice.template)
        sizes = [level.size for level in children]
        total = math.prod(sizes)
        starts = np.array([level.start for level in children], dtype=np.int64)
        batch = max(1, CHUNK // max(1, self.space.n_points))
        for first in range(0, total, batch):
            flat = np.arange(first, min(total, first + batch))
            ids = np.stack(np.unravel_index(flat, sizes), axis=1) + starts
            env = {}
            for column, (name, hole) in enumerate(zip(names, choice.holes)):
                values = self.banks[hole].values[ids[:, column]]
                env[name] = (self.space.unpack(values) if self.space.packed else values).ravel()
            for name, values in self.space.points.items():
                env[name] = np.tile(values, len(flat))
            rows = evaluate(program, env, size=len(flat) * self.space.n_points).reshape(len(flat), -1)
            if self.space.packed:
                rows = self.space.pack(rows)
            origin = np.full((len(flat), max(3, len(names))), -1, dtype=np.int64)
            origin[:, : len(names)] = ids
            self._insert(bank, choice, rows.astype(bank.dtype), origin, probability)

    def _rules_of(self, bank: Bank) -> RowRules:
        """Width and signedness to wrap results into: a bit-vector's, the points of a packed
        truth table's last word (64: nothing to wrap); NaN dropped at the training points (never
        for truth tables: they have none)."""
        space = self.space
        if space.packed:
            return RowRules(space.tail_points, False, False, np.zeros(space.row_width, dtype=np.uint8), True)
        type_ = bank.type
        width, signed = (type_.width, type_.signed) if type_.is_bitvector else (64, False)
        return RowRules(int(width), bool(signed), bool(space.drop_nan), space.train.astype(np.uint8))

    def _insert(self, bank: Bank, choice: Choice, rows: np.ndarray, origin: np.ndarray, probability: Fraction) -> None:
        """Keep the new functions among `rows`; `origin[r]` are row r's children (one column per
        hole, at least three)."""
        is_real = bank.type.kind == "real" and not self.space.packed
        # The kernel stores three children per row: past three holes, give it each row's number
        # instead, and copy the kept rows' children from `origin`.
        wide = origin.shape[1] > 3
        kernel_origin = origin
        if wide:
            kernel_origin = np.full((len(rows), 3), -1, dtype=np.int64)
            kernel_origin[:, 0] = np.arange(len(rows))
        done = 0
        while done < len(rows):
            limit = None if self.checking else self._room(bank, len(rows) - done)
            if limit is None:  # no memory left: check the output's candidates, skip the others
                if bank.type_index == self.space.output_index:
                    self._check_rows(bank, choice, rows[done:], origin[done:], probability)
                return
            before = bank.size
            arrays = bank.arrays(limit)
            done += insert_rows(rows[done:], kernel_origin[done:], is_real, self._rules[bank.type_index], arrays,
                                bank.state)  # fmt: skip
            if wide:
                kept = bank.children[before : bank.size, 0].copy()
                bank.children[before : bank.size, : origin.shape[1]] = origin[kept]
            self._after(bank, before, probability)

    def _after(self, bank: Bank, before: int, probability: Fraction) -> None:
        if self.on_rows is not None and bank.size > before:
            self.on_rows(bank, before, bank.size, probability)
        self.budget.check_time()

    def _room(self, bank: Bank, wanted: int) -> int | None:
        """The row limit for the next kernel call: room for `wanted` more rows if the memory
        budget allows, else as many as it does; None, and checking from now on, if it allows
        none."""
        spare = min(self.budget.max_memory_bytes, _MEMORY_CEILING) - self.nbytes
        affordable = int(spare // Bank.row_bytes(self.space, bank.type_index))
        limit = bank.size + min(wanted, affordable, bank.max_rows - bank.size)
        if limit > bank.size:
            return limit
        self._start_checking()
        return None

    def _start_checking(self) -> None:
        """From now on keep nothing. Every combination still to come is of closed levels, so
        the programs not met are those with a child of the level running or later: the
        cheapest of them is a choice, that level for one hole, the cheapest others."""
        self.checking = True
        first = [bank.levels[0].bits if bank.levels else math.inf for bank in self.banks]
        complete = math.inf
        for choice in self.space.choices:
            for position in range(len(choice.holes)):
                others = sum(first[hole] for i, hole in enumerate(choice.holes) if i != position)
                complete = min(complete, choice.bits + max(self.level_bits, first[choice.holes[position]]) + others)
        self.complete_bits = complete
        self._target = _CheckTarget.of(self.space)
        self._hits = np.empty((1024, 3), dtype=np.int64)


class _CheckTarget(NamedTuple):
    """What the check-only kernels compare candidates with, at the training columns."""

    columns: np.ndarray
    values: np.ndarray
    tolerance: np.ndarray
    mode: int

    @classmethod
    def of(cls, space: SearchSpace) -> _CheckTarget:
        if space.packed:  # every word, compared on the training points' bits
            words = pack(space.train[None, :])[0]
            return cls(np.arange(space.row_width, dtype=np.int64), space.target.copy(), words, MASKED)
        columns = np.flatnonzero(space.train).astype(np.int64)
        values = np.ascontiguousarray(space.target[columns])
        if space.types[space.output_index].kind == "real":
            scale = float(np.sqrt(np.mean(values**2))) if len(values) else 1.0
            return cls(columns, values, 1e-6 * (np.abs(values) + scale), TOLERANCE)
        return cls(columns, values, np.zeros(len(columns), dtype=values.dtype), EXACT)

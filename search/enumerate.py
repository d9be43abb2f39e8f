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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from dsl import evaluate

from .bank import Bank, Level
from .kernels import combine, insert_rows
from .space import Choice, SearchSpace, bits_of, holes_to_vars

__all__ = ["Enumerator", "Budget", "Stop"]

CHUNK = 1 << 21  # candidates per kernel call: keeps Ctrl-C and the clock responsive
_MEMORY_CEILING = 2**40  # rows are reserved for the budget, never beyond this (an "unlimited" budget)


class Stop(Exception):
    """Raised inside the enumeration when a budget runs out; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Budget:
    """Limits of a search. Time is CPU time of this process."""

    max_seconds: float = math.inf
    max_bits: float = math.inf
    max_memory_bytes: float = math.inf
    started: float = field(default_factory=time.process_time)

    def elapsed(self) -> float:
        return time.process_time() - self.started

    def check_time(self) -> None:
        if self.elapsed() > self.max_seconds:
            raise Stop("time")


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
        self.levels_done = 0
        for choice in space.choices:
            if choice.is_leaf:
                self._push(choice, (), choice.probability)
        self._nan_mask = space.train.astype(np.uint8)

    # --- public ---------------------------------------------------------------------------------

    @property
    def candidates(self) -> int:
        return sum(int(bank.state[1]) for bank in self.banks)

    @property
    def distinct(self) -> int:
        return sum(bank.size for bank in self.banks)

    @property
    def nbytes(self) -> int:
        return sum(bank.nbytes for bank in self.banks)

    def next_bits(self) -> float:
        """Bits of the next level, inf when the grammar is exhausted."""
        return bits_of(1 / self._heap[0].cost) if self._heap else math.inf

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
            yield bits

    def program(self, type_index: int, index: int):
        return self.banks[type_index].program(index, self.banks)

    # --- combinations ---------------------------------------------------------------------------

    def _push(self, choice: Choice, levels: tuple[int, ...], probability: Fraction) -> None:
        if bits_of(probability) <= self.budget.max_bits:
            heapq.heappush(self._heap, _Combination(1 / probability, next(self._sequence), choice.index, levels))

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
        bank.state[2] = choice.index
        if choice.is_leaf:
            self._insert(bank, choice, self.space.leaf_values(choice)[None, :], np.full((1, 3), -1), probability)
        elif choice.is_simple:
            self._run_simple(bank, choice, children, probability)
        else:
            self._run_composite(bank, choice, children, probability)

    def _run_simple(self, bank: Bank, choice: Choice, children: list[Level], probability: Fraction) -> None:
        ranges = []
        for operand in choice.operands:
            ranges += [children[operand].start, children[operand].size] if isinstance(operand, int) else [0, 1]
        ranges = np.array(ranges + [0, 1] * (3 - len(choice.operands)), dtype=np.int64)
        total = int(ranges[1] * ranges[3] * ranges[5])
        type_ = bank.type
        width = type_.width if type_.is_bitvector else 64
        meta = np.array([width, int(type_.signed), int(choice.symmetric), 0, 0, int(self.space.drop_nan)], np.int64)
        position = 0
        while position < total:
            meta[3], meta[4] = position, min(total, position + CHUNK)
            before = bank.size
            arrays = bank.arrays(self._room(bank, meta[4] - position))
            xs = [self.banks[choice.holes[o]].values if isinstance(o, int) else o for o in choice.operands]
            xs += [xs[0][:1]] * (3 - len(xs))
            position = combine(choice.op, xs[0], xs[1], xs[2], ranges, meta, arrays, bank.state, self._nan_mask)
            self._after(bank, before, probability)

    def _run_composite(self, bank: Bank, choice: Choice, children: list[Level], probability: Fraction) -> None:
        program, names = holes_to_vars(choice.template)
        sizes = [level.size for level in children]
        total = math.prod(sizes)
        batch = max(1, CHUNK // max(1, self.space.n_points))
        for first in range(0, total, batch):
            flat = np.arange(first, min(total, first + batch))
            ids = np.stack(np.unravel_index(flat, sizes), axis=1) + np.array([level.start for level in children])
            env = {}
            for column, (name, hole) in enumerate(zip(names, choice.holes)):
                env[name] = self.banks[hole].values[ids[:, column]].ravel()
            for name, values in self.space.points.items():
                env[name] = np.tile(values, len(flat))
            rows = evaluate(program, env, size=len(flat) * self.space.n_points).reshape(len(flat), -1)
            origin = np.full((len(flat), 3), -1, dtype=np.int64)
            origin[:, : len(names)] = ids
            self._insert(bank, choice, rows.astype(bank.dtype), origin, probability)

    def _insert(self, bank: Bank, choice: Choice, rows, origin, probability: Fraction) -> None:
        type_ = bank.type
        width = type_.width if type_.is_bitvector else 64
        done = 0
        while done < len(rows):
            before = bank.size
            arrays = bank.arrays(self._room(bank, len(rows) - done))
            done += insert_rows(rows[done:], type_.kind == "real", width, type_.signed, arrays, bank.state,
                                self._nan_mask, self.space.drop_nan, origin[done:])  # fmt: skip
            self._after(bank, before, probability)

    def _after(self, bank: Bank, before: int, probability: Fraction) -> None:
        if self.on_rows is not None and bank.size > before:
            self.on_rows(bank, before, bank.size, probability)
        self.budget.check_time()

    def _room(self, bank: Bank, wanted: int) -> int:
        """The row limit for the next kernel call: room for `wanted` more rows if the memory
        budget allows, else as many as it does; Stop('memory') when it allows none."""
        spare = self.budget.max_memory_bytes - self.nbytes
        affordable = int(spare // Bank.row_bytes(self.space, bank.type_index))
        limit = bank.size + min(wanted, affordable, bank.max_rows - bank.size)
        if limit <= bank.size:
            raise Stop("memory")
        return limit

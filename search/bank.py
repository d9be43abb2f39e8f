"""The bank of one type: every distinct function kept so far, one row per program.

Rows are appended in order of description length, so the programs of one *level* (one exact
probability) are contiguous: `levels[n]` is (probability, start, end). A program is stored as
the grammar choice that made it and its children's ids, and rebuilt on demand (`program`).
See kernels.py for the arrays' layout.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dsl import Apply, Expr, Hole

from .kernels import rebuild_table
from .space import SearchSpace, bits_of

__all__ = ["Bank", "Level"]


@dataclass(frozen=True, slots=True)
class Level:
    probability: Fraction
    start: int
    end: int

    @property
    def bits(self) -> float:
        return bits_of(self.probability)

    @property
    def size(self) -> int:
        return self.end - self.start


class Bank:
    """Programs of one type, their values at the equivalence points, and their hash table."""

    def __init__(self, space: SearchSpace, type_index: int, capacity: int | None = None) -> None:
        self.space = space
        self.type_index = type_index
        self.type = space.types[type_index]
        self.dtype = space.storage(type_index)
        self.state = np.zeros(4, dtype=np.int64)  # kept, candidates, current choice, NaN dropped
        self.levels: list[Level] = []
        row_bytes = max(1, space.n_points * np.dtype(self.dtype).itemsize)
        self._allocate(capacity or int(np.clip(2**22 // row_bytes, 16, 4096)))  # start near 4 MB
        self._programs: dict[int, Expr] = {}

    def _allocate(self, capacity: int) -> None:
        points = self.space.n_points
        self.values = np.empty((capacity, points), dtype=self.dtype)
        self.hashes = np.empty(capacity, dtype=np.uint64)
        self.choices = np.empty(capacity, dtype=np.int32)
        self.children = np.empty((capacity, 3), dtype=np.int64)
        self.table = np.full(2 * _slots(capacity), -1, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.state[0])

    @property
    def capacity(self) -> int:
        return self.values.shape[0]

    @property
    def nbytes(self) -> int:
        arrays = (self.values, self.hashes, self.choices, self.children, self.table)
        return sum(array.nbytes for array in arrays)

    def bytes_after_growth(self) -> int:
        """nbytes once `grow` has doubled the capacity."""
        return 2 * self.nbytes

    def arrays(self) -> tuple[np.ndarray, ...]:
        """What the kernels take as `bank`."""
        return (self.values, self.hashes, self.table, self.choices, self.children)

    def grow(self) -> None:
        """Double the capacity, keeping every row; rebuilds the hash table."""
        old = (self.values, self.hashes, self.choices, self.children)
        size = self.size
        self._allocate(2 * self.capacity)
        for new, kept in zip((self.values, self.hashes, self.choices, self.children), old):
            new[:size] = kept[:size]
        rebuild_table(self.hashes, size, self.table)

    def close_level(self, probability: Fraction, start: int) -> Level | None:
        """Record the rows appended since `start` as the level of `probability`."""
        if self.size == start:
            return None
        level = Level(probability, start, self.size)
        self.levels.append(level)
        return level

    def level_of(self, index: int) -> Level:
        starts = [level.start for level in self.levels]
        return self.levels[bisect.bisect_right(starts, index) - 1]

    def bits_of(self, index: int) -> float:
        return self.level_of(index).bits

    def program(self, index: int, banks: list[Bank]) -> Expr:
        """The program stored at `index`, rebuilt from its choice and children."""
        if index not in self._programs:
            choice = self.space.choices[int(self.choices[index])]
            children = [banks[hole].program(int(child), banks) for hole, child in
                        zip(choice.holes, self._children_of(index, choice))]  # fmt: skip
            self._programs[index] = _fill(choice.template, iter(children))
        return self._programs[index]

    def _children_of(self, index: int, choice) -> list[int]:
        if not choice.is_simple:
            return [int(child) for child in self.children[index, : len(choice.holes)]]
        # A simple choice's kernel stores one id per argument; constant arguments have none.
        return [int(self.children[index, position]) for position, operand in enumerate(choice.operands)
                if isinstance(operand, int)]  # fmt: skip


def _fill(template: Expr, children) -> Expr:
    if isinstance(template, Hole):
        return next(children)
    if isinstance(template, Apply):
        return Apply(template.op, tuple(_fill(arg, children) for arg in template.args), template.type)
    return template


def _slots(capacity: int) -> int:
    """A power of two at least twice the capacity (load factor ≤ 1/2)."""
    slots = 1
    while slots < 2 * capacity:
        slots *= 2
    return slots

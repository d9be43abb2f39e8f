"""The bank of one type: every distinct function kept so far, one row per program.

Rows are appended in order of description length, so the programs of one *level* (one exact
probability) are contiguous: `levels[n]` is (probability, start, end). A program is stored as
the grammar choice that made it and its children's ids, and rebuilt on demand (`program`).
See kernels.py for the arrays' layout (`BankArrays`) and the counters (`BANK_STATE`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dsl import Expr
from dsl.program import fill

from .hashtable import rebuild_table
from .kernels import BANK_STATE, BankArrays
from .space import Choice, SearchSpace, bits_of

__all__ = ["Bank", "Level"]


def child_columns(space: SearchSpace) -> int:
    """Columns of `Bank.children`: three (what the kernels write), or more for a template
    alternative of more holes (enumerate.py stores those columns itself)."""
    return max(3, *(len(choice.holes) for choice in space.choices))


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
    """Programs of one type, their values at the equivalence points, and their hash table.

    Row arrays are allocated once for `max_rows` (the memory budget): the operating system
    commits their pages only as rows are written, so nothing is ever copied. The hash table
    grows by doubling, rebuilt from the stored hashes."""

    def __init__(self, space: SearchSpace, type_index: int, max_rows: int) -> None:
        self.space = space
        self.type_index = type_index
        self.type = space.types[type_index]
        self.dtype = space.storage(type_index)
        self.state = np.zeros(1, dtype=BANK_STATE)  # kept, candidates, current choice, NaN dropped
        self.levels: list[Level] = []
        self.max_rows = max(1, max_rows)
        self.values: np.ndarray = np.empty((self.max_rows, space.row_width), dtype=self.dtype)
        self.hashes = np.empty(self.max_rows, dtype=np.uint64)
        self.choices = np.empty(self.max_rows, dtype=np.int32)
        self.children = np.empty((self.max_rows, child_columns(space)), dtype=np.int64)
        self.table = np.zeros(2 * 1024, dtype=np.int64)
        self._programs: dict[int, Expr] = {}

    @staticmethod
    def row_bytes(space: SearchSpace, type_index: int) -> int:
        """Bytes a kept program costs: its values, hash, choice, children and two table slots."""
        values = space.row_width * np.dtype(space.storage(type_index)).itemsize
        return values + 8 + 4 + 8 * child_columns(space) + 32

    @property
    def size(self) -> int:
        """Programs kept."""
        return int(self.state[0]["kept"])

    @property
    def candidates(self) -> int:
        """Candidates computed (or checked) for this bank, kept or not."""
        return int(self.state[0]["candidates"])

    @property
    def nan_dropped(self) -> int:
        """Candidates dropped for a NaN at a training point."""
        return int(self.state[0]["nan_dropped"])

    @property
    def nbytes(self) -> int:
        """Memory in use: the rows kept and the hash table."""
        return self.size * (self.row_bytes(self.space, self.type_index) - 32) + self.table.nbytes

    def arrays(self, limit: int) -> BankArrays:
        """What the kernels take as `bank`, with room for rows up to `limit` (the kernels stop
        there). Grows the table first, so that it stays at most half full."""
        while 2 * limit > self.table.shape[0] // 2:
            self.table = np.zeros(2 * self.table.shape[0], dtype=np.int64)
            rebuild_table(self.hashes, self.size, self.table)
        return BankArrays(self.values[:limit], self.hashes[:limit], self.table, self.choices[:limit],
                          self.children[:limit])  # fmt: skip

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
            self._programs[index] = fill(choice.template, iter(children))
        return self._programs[index]

    def _children_of(self, index: int, choice: Choice) -> list[int]:
        if not choice.is_simple:
            return [int(child) for child in self.children[index, : len(choice.holes)]]
        # A simple choice's kernel stores one id per argument; constant arguments have none.
        return [int(self.children[index, position]) for position, operand in enumerate(choice.operands)
                if isinstance(operand, int)]  # fmt: skip


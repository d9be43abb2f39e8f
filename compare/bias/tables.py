"""Packed truth tables and the count of the distinct ones a sampler meets.

A table is one Boolean function on the L = 2^n points of an n-input domain, packed in W =
max(1, ceil(L / 64)) words (the format every part of issue 12 shares):

    tables  (N, W)  uint64   bit (p % 64) of word (p // 64) is the function's output at point p;
                             the unused bits of the last word are zero
    ones    (N, L)  bool     the same tables unpacked, point 0 first

Point p is the p-th input in binary-counting order with x1 the most significant bit, as in
dsl's Bool domain and in Valle-Pérez et al.'s `"{0:07b}".format(p)`.

`FunctionCounts` is the histogram of a sampler's output: the distinct tables met and how often,
built for 10^7 samples and ~10^6 distinct tables. Its rows are kept sorted in the *table order*
(by the table read as an unsigned integer: word W - 1 first, then down to word 0), which fixes
every tie order (`most_common`) and makes counting a sort and a merge rather than a dictionary
of 10^6 Python keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from search import space

__all__ = [
    "FunctionCounts",
    "checked_tables",
    "constant_tables",
    "pack_tables",
    "sort_and_count",
    "table_hex",
    "table_strings",
    "tables_from_hex",
    "unpack_tables",
    "words_for",
]

Tables = NDArray[np.uint64]


def words_for(points: int) -> int:
    """W, the number of 64-bit words a table of `points` points takes (search.space's rule)."""
    if points < 1:
        raise ValueError(f"a truth table needs at least 1 point, got {points}")
    return space.words_for(points)


def pack_tables(ones: np.ndarray) -> Tables:
    """(N, L) bool → (N, W) uint64 canonical tables (unused bits zero)."""
    ones = np.asarray(ones, dtype=bool)
    if ones.ndim != 2:
        raise ValueError(f"pack_tables wants an (N, L) array, got shape {ones.shape}")
    words_for(ones.shape[1])
    return space.pack(ones).view(np.uint64)  # the enumerator's own layout: one rule for both


def unpack_tables(tables: np.ndarray, points: int) -> NDArray[np.bool_]:
    """(N, W) uint64 → (N, L) bool, point 0 first."""
    return space.unpack(checked_tables(tables, points), points)


def table_strings(tables: np.ndarray, points: int) -> list[str]:
    """Each table as its truth-table string "0110…", f(point 0) first (Valle-Pérez's `fstring`)."""
    digits = unpack_tables(tables, points).astype(np.uint8) + ord("0")
    return [row.tobytes().decode("ascii") for row in digits]


def table_hex(tables: np.ndarray) -> list[str]:
    """Each table as a JSON key: the table read as an unsigned integer (bit p = f(point p)), in
    16 W lower-case hex digits, most significant first; `tables_from_hex` inverts it. Fixed width,
    so that the number of words is in the key and sorting keys as strings is the table order."""
    tables = np.atleast_2d(np.asarray(tables, dtype=np.uint64))
    count, words = tables.shape
    text = np.ascontiguousarray(tables[:, ::-1]).astype(">u8").tobytes().hex()
    width = 16 * words
    return [text[i * width : (i + 1) * width] for i in range(count)]


def tables_from_hex(keys: list[str], points: int | None = None) -> Tables:
    """The tables of `table_hex` keys, (N, W) uint64. With `points`, checks that W fits it and
    that the unused bits are zero."""
    keys = list(keys)
    if not keys:
        return np.zeros((0, words_for(points) if points is not None else 1), dtype=np.uint64)
    width = len(keys[0])
    if width == 0 or width % 16 or any(len(key) != width for key in keys):
        raise ValueError(f"table keys must all have the same length, a multiple of 16; got {keys[0]!r}")
    words = width // 16
    raw = np.frombuffer(bytes.fromhex("".join(keys)), dtype=">u8").reshape(len(keys), words)
    tables = np.ascontiguousarray(raw[:, ::-1]).astype(np.uint64)
    if points is not None:
        checked_tables(tables, points)
    return tables


def _unused_mask(points: int) -> np.uint64:
    """The bits of the last word that a table of `points` points does not use."""
    used = points - 64 * (words_for(points) - 1)
    return np.uint64(0) if used == 64 else ~np.uint64((1 << used) - 1)


def checked_tables(tables: np.ndarray, points: int) -> Tables:
    """`tables` as a C-contiguous (N, W) uint64 array, checked against `points`."""
    tables = np.ascontiguousarray(tables, dtype=np.uint64)
    words = words_for(points)
    if tables.ndim != 2 or tables.shape[1] != words:
        raise ValueError(f"tables of {points} points are (N, {words}) uint64, got shape {tables.shape}")
    stray = tables[:, -1] & _unused_mask(points)
    if stray.any():
        row = int(np.flatnonzero(stray)[0])
        raise ValueError(f"table {row} sets bits beyond point {points - 1}: {table_hex(tables[row])[0]}")
    return tables


def constant_tables(points: int) -> Tables:
    """The two constant functions, (2, W): all 0, then all 1."""
    return pack_tables(np.array([[False] * points, [True] * points]))


def _table_order(tables: Tables) -> NDArray[np.intp]:
    """The permutation that sorts rows in the table order (word W - 1 the primary key)."""
    if tables.shape[1] == 1:
        return np.argsort(tables[:, 0], kind="stable")
    return np.lexsort(tables.T)  # lexsort's last key is the primary one


def sort_and_count(
    tables: Tables, counts: NDArray[np.int64] | None = None
) -> tuple[Tables, NDArray[np.int64]]:
    """The distinct rows of `tables` in the table order and how often each occurs (each row
    weighted by `counts` when given)."""
    if tables.shape[0] == 0:
        return tables.copy(), np.zeros(0, dtype=np.int64)
    order = _table_order(tables)
    ordered = tables[order]
    starts = np.ones(ordered.shape[0], dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    if counts is None:
        sizes = np.diff(np.append(first, ordered.shape[0])).astype(np.int64)
    else:
        sizes = np.add.reduceat(counts[order].astype(np.int64), first)
    return np.ascontiguousarray(ordered[first]), sizes


_SEED = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(inline="always")
def _hash_row(tables: Tables, row: int) -> np.uint64:
    """A 64-bit hash of one table: FNV-style over its words, then splitmix64's finalizer (the
    low bits pick the slot, so they must depend on every bit)."""
    h = _SEED
    for w in range(tables.shape[1]):
        h = (h ^ tables[row, w]) * _PRIME
    h = (h ^ (h >> np.uint64(30))) * _MIX1
    h = (h ^ (h >> np.uint64(27))) * _MIX2
    return h ^ (h >> np.uint64(31))


@njit(inline="always")
def _find_slot(keys: Tables, counts: NDArray[np.int64], tables: Tables, row: int) -> int:
    """The slot holding row `row` of `tables`, or the empty slot where it belongs (count 0 marks
    an empty slot; `keys` has a power-of-two number of slots, never full)."""
    mask = np.int64(keys.shape[0] - 1)
    slot = np.int64(_hash_row(tables, row) & np.uint64(mask))
    while counts[slot] != 0:
        same = True
        for w in range(keys.shape[1]):
            if keys[slot, w] != tables[row, w]:
                same = False
                break
        if same:
            return slot
        slot = (slot + 1) & mask
    return slot


def _insert_kernel(
    keys: Tables, counts: NDArray[np.int64], tables: Tables, weights: NDArray[np.int64], start: int, room: int
) -> tuple[int, int]:
    """Add rows start, start + 1, … of `tables`, row r with weight weights[r] (>= 1), into the
    open-addressing table (`keys`, `counts`) until all are in or `room` new keys went in (the
    caller then grows the table and goes on). Returns (the next row to add, the new keys)."""
    new = 0
    row = start
    while row < tables.shape[0] and new < room:
        slot = _find_slot(keys, counts, tables, row)
        if counts[slot] == 0:
            keys[slot] = tables[row]
            new += 1
        counts[slot] += weights[row]
        row += 1
    return row, new


def _lookup_kernel(keys: Tables, counts: NDArray[np.int64], tables: Tables, out: NDArray[np.int64]) -> None:
    """out[r] = the count of row r of `tables` in the open-addressing table (0 if absent)."""
    for row in range(tables.shape[0]):
        out[row] = counts[_find_slot(keys, counts, tables, row)]


insert_kernel = njit(_insert_kernel, cache=True)
lookup_kernel = njit(_lookup_kernel, cache=True)


class FunctionCounts:
    """The distinct tables of `points` points met so far and how often each was met.

    Counting is an open-addressing hash table in a Numba kernel (O(1) per sample, no Python
    loop), doubled whenever it is half full: between 2 (W + 1) and 4 (W + 1) words per distinct
    table. The sorted
    view (`tables`, `counts`, in the table order) is built when first read after an `add`, with
    one sort of the D distinct rows, and kept until the next `add`.
    """

    _MIN_SLOTS = 1 << 10

    def __init__(self, points: int) -> None:
        self.points = points
        self.words = words_for(points)
        self.total = 0
        self._distinct = 0
        self._keys: Tables = np.zeros((self._MIN_SLOTS, self.words), dtype=np.uint64)
        self._slot_counts: NDArray[np.int64] = np.zeros(self._MIN_SLOTS, dtype=np.int64)
        self._sorted: tuple[Tables, NDArray[np.int64]] | None = None

    def add(self, tables: np.ndarray) -> None:
        """Count a batch of tables, (N, W) uint64 (checked: shape and unused bits zero)."""
        batch = checked_tables(tables, self.points)
        self._insert(batch, np.ones(batch.shape[0], dtype=np.int64))
        self.total += batch.shape[0]

    def merge(self, other: FunctionCounts) -> None:
        """Add everything `other` counted (same number of points)."""
        if other.points != self.points:
            raise ValueError(f"cannot merge counts over {other.points} points into counts over {self.points}")
        self._insert(*other._occupied())
        self.total += other.total

    def _insert(self, tables: Tables, weights: NDArray[np.int64]) -> None:
        row = 0
        while row < tables.shape[0]:
            room = self._keys.shape[0] // 2 - self._distinct
            if room <= 0:
                self._grow()
                continue
            row, new = insert_kernel(self._keys, self._slot_counts, tables, weights, row, room)
            self._distinct += new
        self._sorted = None

    def _grow(self) -> None:
        """Double the slots (the load stays at most 1/2 between growths)."""
        tables, counts = self._occupied()
        slots = 2 * self._keys.shape[0]
        self._keys = np.zeros((slots, self.words), dtype=np.uint64)
        self._slot_counts = np.zeros(slots, dtype=np.int64)
        insert_kernel(self._keys, self._slot_counts, tables, counts, 0, slots)

    def _occupied(self) -> tuple[Tables, NDArray[np.int64]]:
        used = np.flatnonzero(self._slot_counts)
        return self._keys[used], self._slot_counts[used]

    def _sorted_view(self) -> tuple[Tables, NDArray[np.int64]]:
        if self._sorted is None:
            self._sorted = sort_and_count(*self._occupied())
        return self._sorted

    @property
    def tables(self) -> Tables:
        """The distinct tables met, (D, W) uint64, in the table order."""
        return self._sorted_view()[0]

    @property
    def counts(self) -> NDArray[np.int64]:
        """How often each of `tables` was met, (D,) int64."""
        return self._sorted_view()[1]

    def __len__(self) -> int:
        return self._distinct

    def most_common(self, k: int) -> tuple[Tables, NDArray[np.int64]]:
        """The k most frequent tables and their counts, most frequent first; ties in the table order."""
        tables, counts = self._sorted_view()
        order = np.argsort(-counts, kind="stable")[: max(k, 0)]
        return tables[order], counts[order]

    def count_of(self, tables: np.ndarray) -> NDArray[np.int64]:
        """How often each given table (N, W) was met (0 if never)."""
        queries = checked_tables(tables, self.points)
        out = np.zeros(queries.shape[0], dtype=np.int64)
        lookup_kernel(self._keys, self._slot_counts, queries, out)
        return out

    def constant_share(self) -> float:
        """The share of all samples that were one of the two constant functions (NaN if none)."""
        if self.total == 0:
            return float("nan")
        return float(self.count_of(constant_tables(self.points)).sum()) / self.total

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form: `from_dict(to_dict())` gives the same counts exactly."""
        return {
            "points": self.points,
            "total": self.total,
            "tables": table_hex(self.tables),
            "counts": [int(c) for c in self.counts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunctionCounts:
        """The counts that `to_dict` wrote (checked: positive counts that sum to the total, distinct tables)."""
        counts = cls(int(data["points"]))
        tables = tables_from_hex(data["tables"], counts.points).reshape(-1, counts.words)
        values = np.asarray(data["counts"], dtype=np.int64)
        if (
            values.shape != (tables.shape[0],)
            or (values < 1).any()
            or int(values.sum()) != int(data["total"])
        ):
            raise ValueError("function counts: the counts do not match the tables or the total")
        counts._insert(tables, values)
        if len(counts) != tables.shape[0]:
            raise ValueError("function counts: a table is listed twice")
        counts.total = int(data["total"])
        return counts

    def __repr__(self) -> str:
        return f"FunctionCounts(points={self.points}, distinct={len(self)}, total={self.total})"

"""Compiled kernels of the enumerator: apply a primitive to every combination of children,
hash each candidate's values, probe the bank's table, append what is new.

What the kernels take, each a named structure documented below: a bank's arrays
(`BankArrays`, one bank per type, see bank.py), its counters (`BANK_STATE`, a record the kernels
update), the candidates of one call (`Sweep`) and what is done to a candidate's row before it is
kept (`RowRules`).

Two programs are equivalent when their equivalence keys agree at every point (hashtable.py: for
reals their values rounded to nearest at 32 significant bits); the bank keeps the values
themselves, unrounded. Integers wrap into their bit-vector width here (`wrap`).

The scalar semantics below are the primitive table's (dsl/primitives.py), written again for
compiled code; tests check them against the reference evaluator, case by case. One kernel per
class of primitive (integer, real, bool, packed truth tables, int(real)) takes the opcode as
an argument: a branch per point, well predicted, costs less than compiling a kernel per
opcode (minutes of first-run compilation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dsl.primitives import PRIMITIVES, Op, Primitive

from .hashtable import hash_of, key_of, put, rounded, slot_for

__all__ = ["BANK_STATE", "BankArrays", "RowRules", "Sweep", "combine", "insert_rows", "KERNEL_CLASS", "round_reals",
           "wrap"]  # fmt: skip


_I64_MIN = np.int64(-(2**63))
_I64_MAX = np.int64(2**63 - 1)


# --- what the kernels take ----------------------------------------------------------------------


class BankArrays(NamedTuple):
    """The arrays of one bank (one type), as the kernels take them: room for `capacity` rows
    (`Bank.arrays`; a kernel stops when they are full). Row r is program r.

    values    (capacity, P) int64 | float64 | uint8  the program's values at the P equivalence
                                                     points (a packed truth table: its W int64
                                                     words, space.py)
    hashes    (capacity,)   uint64   the hash of the row's equivalence key (hashtable.py)
    table     (2 * slots,)  int64    the hash table of the rows (layout: hashtable.py)
    choices   (capacity,)   int32    the grammar choice that made the program
    children  (capacity, ≥3) int64   its children's ids in their banks, one per operand (-1:
                                     none); the kernels write the first three columns
    """

    values: np.ndarray
    hashes: np.ndarray
    table: np.ndarray
    choices: np.ndarray
    children: np.ndarray


# A bank's counters, one record (`np.zeros(1, BANK_STATE)`) that the kernels read and update:
#   kept         rows in the bank: the next program goes to row `kept`
#   candidates   candidates computed so far (kept or not)
#   choice       the grammar choice being run (set by the caller): recorded with each row kept
#   nan_dropped  candidates dropped for a NaN at a training point (`RowRules.check_nan`)
BANK_STATE = np.dtype(
    [("kept", np.int64), ("candidates", np.int64), ("choice", np.int64), ("nan_dropped", np.int64)], align=True
)


class Sweep(NamedTuple):
    """The candidates of one `combine` or `check` call: x[x_start + i] ∘ y[y_start + j] ∘
    z[z_start + k] for i < x_count, j < y_count, k < z_count, in the flat order
    c = (i * y_count + j) * z_count + k, those with start <= c < stop. An operand the operation
    does not have, or a constant one, is one row: start 0, count 1.

    x_start, x_count   the rows of the first operand: a level of its bank (x_count is implied
                       by `stop`: the kernels do not read it)
    y_start, y_count   the second's
    z_start, z_count   the third's
    start, stop        the flat indices to run; a call that fills the bank stops early and
                       returns the index to resume at
    symmetric          skip x_start + i > y_start + j: a commutative operation over two levels
                       of one bank meets each unordered pair once
    """

    x_start: int
    x_count: int
    y_start: int
    y_count: int
    z_start: int
    z_count: int
    start: int
    stop: int
    symmetric: bool


class RowRules(NamedTuple):
    """What is done to a candidate's row before it is hashed (fixed per bank).

    width      integers wrap into `width` bits (`wrap`; 64: no wrapping); a packed truth table
               passes the points of its last word, whose bits past them are zeroed so
    signed     they wrap in two's complement (a signed bit-vector)
    check_nan  drop candidates that are NaN at a point where `nan_mask` is set (counted in
               the bank's `nan_dropped`); never set for bools
    nan_mask   (P,) uint8: 1 at the training points
    wrap_last  only the row's last column wraps (a packed truth table's last word: the words
               before it are full)
    """

    width: int
    signed: bool
    check_nan: bool
    nan_mask: np.ndarray
    wrap_last: bool = False


# --- scalar semantics ---------------------------------------------------------------------------

# A scalar operation, (opcode, x, y, z) -> the value at one point: one of the functions below.
# Numba compiles it once per dtype of the rows it meets (int64, float64, uint8), hence Any.
_ScalarOp = Callable[[int, Any, Any, Any], Any]


@njit(inline="always")
def _pow_int(x: np.int64, y: np.int64) -> np.int64:
    if y < 0:
        if x == 1:
            return np.int64(1)
        if x == -1:
            return np.int64(-1) if y & 1 else np.int64(1)
        return np.int64(0)
    result, base, exponent = np.int64(1), x, y
    while exponent:
        if exponent & 1:
            result = result * base
        base = base * base
        exponent = exponent >> 1
    return result


@njit(inline="always")
def _shift_left(x: np.int64, s: np.int64) -> np.int64:
    if s >= 64:
        return np.int64(0)
    if s >= 0:
        return x << s
    if s <= -64:
        return np.int64(-1) if x < 0 else np.int64(0)
    return x >> -s


@njit(inline="always")
def _shift_right(x: np.int64, s: np.int64) -> np.int64:
    if s >= 64:
        return np.int64(-1) if x < 0 else np.int64(0)
    if s >= 0:
        return x >> s
    if s <= -64:
        return np.int64(0)
    return x << -s


@njit(inline="always")
def _popcount(x: np.int64) -> np.int64:
    # Hacker's Delight 5-1 on int64 (as dsl/primitives.py's torch column): ones of the 64-bit pattern.
    x = x - ((x >> 1) & np.int64(0x5555555555555555))
    x = (x & np.int64(0x3333333333333333)) + ((x >> 2) & np.int64(0x3333333333333333))
    x = (x + (x >> 4)) & np.int64(0x0F0F0F0F0F0F0F0F)
    return (x * np.int64(0x0101010101010101)) >> 56


@njit(inline="always")
def _int_op(op: int, condition: np.int64 | np.uint8, y: np.int64, z: np.int64) -> np.int64:
    # A bool first argument (Op.IF_I, Op.BOOL_TO_INT) comes as uint8: widened here, or the unsigned
    # branches (-x, ~x) would type as uint64 and every result would pass through float64.
    x = np.int64(condition)
    if op == Op.NEG_I:
        return -x
    if op == Op.ADD_I:
        return x + y
    if op == Op.SUB_I:
        return x - y
    if op == Op.MUL_I:
        return x * y
    if op == Op.FLOORDIV_I:
        if y == 0:
            return np.int64(0)
        if y == -1:
            return -x  # wraps: MIN // -1 = MIN
        return x // y
    if op == Op.MOD_I:
        if y == 0:
            return x
        if y == -1:
            return np.int64(0)
        return x % y
    if op == Op.POW_I:
        return _pow_int(x, y)
    if op == Op.BITNOT:
        return ~x
    if op == Op.BITAND:
        return x & y
    if op == Op.BITOR:
        return x | y
    if op == Op.BITXOR:
        return x ^ y
    if op == Op.SHL:
        return _shift_left(x, y)
    if op == Op.SHR:
        return _shift_right(x, y)
    if op == Op.ABS_I:
        return -x if x < 0 else x
    if op == Op.MIN_I:
        return x if x < y else y
    if op == Op.MAX_I:
        return x if x > y else y
    if op == Op.IF_I:
        return y if x else z
    if op == Op.POPCOUNT:
        return _popcount(x)
    return np.int64(x)  # Op.BOOL_TO_INT, Op.CONVERT_I: the caller wraps


@njit(inline="always")
def _real_to_int(op: int, x: float, y: Any, z: Any) -> np.int64:
    # A kernel of its own: its float arguments do not type in _int_op's bitwise branches.
    if x != x:
        return np.int64(0)
    if x >= 9.223372036854775807e18:
        return _I64_MAX
    if x < -9.223372036854775808e18:
        return _I64_MIN
    return np.int64(x)


@njit(inline="always")
def _mod_real(x: float, y: float) -> float:
    if y == 0.0 or x != x or y != y or math.isinf(x):
        return np.nan
    remainder = np.fmod(x, y)
    if remainder == 0.0:
        return math.copysign(0.0, y)
    if (remainder < 0.0) != (y < 0.0):
        remainder += y
    return remainder


@njit(inline="always")
def _real_op(op: int, x: float, y: float, z: float) -> float:
    # x comes as uint8 for Op.IF_R and Op.BOOL_TO_REAL, as int64 for Op.INT_TO_REAL.
    if op == Op.NEG_R:
        return -x
    if op == Op.ADD_R:
        return x + y
    if op == Op.SUB_R:
        return x - y
    if op == Op.MUL_R:
        return x * y
    if op == Op.DIV_R:
        return x / y
    if op == Op.FLOORDIV_R:
        return np.floor(x / y)
    if op == Op.MOD_R:
        return _mod_real(x, y)
    if op == Op.POW_R:
        return np.power(x, y)
    if op == Op.ABS_R:
        return abs(x)
    if op == Op.MIN_R:
        return np.nan if x != x or y != y else (x if x < y else y)
    if op == Op.MAX_R:
        return np.nan if x != x or y != y else (x if x > y else y)
    if op == Op.SIN:
        return np.sin(x)
    if op == Op.COS:
        return np.cos(x)
    if op == Op.TAN:
        return np.tan(x)
    if op == Op.EXP:
        return np.exp(x)
    if op == Op.LOG:
        return np.log(x)
    if op == Op.SQRT:
        return np.sqrt(x)
    if op == Op.TANH:
        return np.tanh(x)
    if op == Op.FLOOR:
        return np.floor(x)
    if op == Op.CEIL:
        return np.ceil(x)
    if op == Op.IF_R:
        return y if x else z
    return np.float64(x)  # Op.BOOL_TO_REAL, Op.INT_TO_REAL


@njit(inline="always")
def _packed_op(op: int, x: np.int64, y: np.int64, z: np.int64) -> np.int64:
    """Bool operations on truth tables packed in words (the caller masks to the points)."""
    if op == Op.NOT:
        return ~x
    if op == Op.AND:
        return x & y
    if op == Op.OR:
        return x | y
    if op == Op.XOR_B or op == Op.NE_B:
        return x ^ y
    if op == Op.EQ_B:
        return ~(x ^ y)
    return (x & y) | (~x & z)  # Op.IF_B


@njit(inline="always")
def _bool_op(op: int, x: float, y: float, z: float) -> np.uint8:
    # The comparisons of reals compile this with float arguments, and every branch is typed:
    # the logical ones cast to uint8 (a no-op on bools) so that they type for floats too.
    if op == Op.NOT:
        return np.uint8(1 - np.uint8(x))
    if op == Op.AND:
        return np.uint8(np.uint8(x) & np.uint8(y))
    if op == Op.OR:
        return np.uint8(np.uint8(x) | np.uint8(y))
    if op == Op.XOR_B or op == Op.NE_B:
        return np.uint8(np.uint8(x) ^ np.uint8(y))
    if op == Op.EQ_B:
        return np.uint8(1 - (np.uint8(x) ^ np.uint8(y)))
    if op == Op.IF_B:
        return np.uint8(y) if x else np.uint8(z)
    if op == Op.LT_I or op == Op.LT_R:
        return np.uint8(x < y)
    if op == Op.LE_I or op == Op.LE_R:
        return np.uint8(x <= y)
    if op == Op.EQ_I or op == Op.EQ_R:
        return np.uint8(x == y)
    return np.uint8(x != y)  # Op.NE_I, Op.NE_R


# --- rows: wrapping, keeping ----------------------------------------------------------------------


@njit(inline="always")
def wrap(value: float | np.integer, width: int, signed: bool) -> np.int64:
    """`value` as an integer of `width` bits (64: as it is), two's complement when `signed`."""
    word = np.int64(value)  # typed for every row dtype; only integer rows ever get here
    if width >= 64:
        return word
    mask = np.int64((1 << width) - 1)
    if signed:
        half = np.int64(1 << (width - 1))
        return ((word + half) & mask) - half
    return word & mask


@njit(inline="always")
def _keep(bank: BankArrays, choice: int, row_index: int, key: NDArray[np.uint64], is_real: bool,
          i: int, j: int, k: int) -> bool:  # fmt: skip
    """Insert row `row_index` (already written; `key` its equivalence key) unless a row with
    that key is in the table. Returns whether it was kept."""
    values, hashes, table, choices, children = bank.values, bank.hashes, bank.table, bank.choices, bank.children
    h = hash_of(key)
    slot = slot_for(values, table, key, h, is_real)
    if slot < 0:
        return False
    put(table, slot, row_index, h)
    hashes[row_index] = h
    choices[row_index] = choice
    children[row_index, 0] = i
    children[row_index, 1] = j
    children[row_index, 2] = k
    return True


# --- the candidate loop -------------------------------------------------------------------------


_BATCH = 32  # candidates computed before their table probes: independent probes overlap their cache misses


@njit(inline="always")
def _run(apply: _ScalarOp, op: int, is_real: bool, x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep,
         rules: RowRules, bank: BankArrays, state: np.ndarray) -> int:  # fmt: skip
    """The candidates of `sweep` (a `Sweep`) into `bank` (`BankArrays`; `state` its
    `BANK_STATE` record array), in batches: compute and hash a batch, then probe and append.
    Stops early when the bank is full; returns the next flat index."""
    values, hashes, table, choices, children = bank.values, bank.hashes, bank.table, bank.choices, bank.children
    x0, y0, ny, z0, nz = sweep.x_start, sweep.y_start, sweep.y_count, sweep.z_start, sweep.z_count
    symmetric, start, stop = sweep.symmetric, sweep.start, sweep.stop
    width, signed, check_nan, nan_mask = rules.width, rules.signed, rules.check_nan, rules.nan_mask
    capacity, points = values.shape[0], values.shape[1]
    wrapped = points - 1 if rules.wrap_last else 0  # the first column that wraps
    counts = state[0]
    kept, candidates, choice = counts.kept, counts.candidates, counts.choice
    rows = np.empty((_BATCH, points), dtype=values.dtype)
    keys = np.empty((_BATCH, points), dtype=np.uint64)
    batch_hashes = np.empty(_BATCH, dtype=np.uint64)
    origin = np.empty((_BATCH, 3), dtype=np.int64)
    c = start
    i, rest = start // (ny * nz), start % (ny * nz)
    j, k = rest // nz, rest % nz
    while c < stop and kept < capacity:
        n = 0
        room = min(_BATCH, capacity - kept)  # all of a batch may be new: it must fit
        while c < stop and n < room:
            xi, yj, zk = x0 + i, y0 + j, z0 + k
            if not (symmetric and xi > yj):
                row = rows[n]
                a, b, d = x[xi], y[yj], z[zk]
                for p in range(points):
                    row[p] = apply(op, a[p], b[p], d[p])
                if not is_real and width < 64:
                    for p in range(wrapped, points):
                        row[p] = wrap(row[p], width, signed)
                candidates += 1
                if check_nan and _nan_at(row, nan_mask):
                    counts.nan_dropped += 1
                else:
                    batch_hashes[n] = hash_of(key_of(row, keys[n], is_real))
                    origin[n, 0], origin[n, 1], origin[n, 2] = xi, yj, zk
                    n += 1
            c += 1
            k += 1
            if k == nz:
                k = 0
                j += 1
                if j == ny:
                    j = 0
                    i += 1
        for m in range(n):
            slot = slot_for(values, table, keys[m], batch_hashes[m], is_real)
            if slot >= 0:
                values[kept] = rows[m]
                put(table, slot, kept, batch_hashes[m])
                hashes[kept] = batch_hashes[m]
                choices[kept] = choice
                children[kept, 0], children[kept, 1], children[kept, 2] = origin[m, 0], origin[m, 1], origin[m, 2]
                kept += 1
    counts.kept, counts.candidates = kept, candidates
    return c


@njit(inline="always")
def _nan_at(row: np.ndarray, mask: NDArray[np.uint8]) -> bool:
    for p in range(row.shape[0]):
        if mask[p] and row[p] != row[p]:
            return True
    return False


@njit(cache=True, error_model="numpy")
def _combine_int(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                 bank: BankArrays, state: np.ndarray, op: int) -> int:  # fmt: skip
    return _run(_int_op, op, False, x, y, z, sweep, rules, bank, state)


@njit(cache=True, error_model="numpy")
def _combine_real_to_int(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                         bank: BankArrays, state: np.ndarray, op: int) -> int:  # fmt: skip
    return _run(_real_to_int, op, False, x, y, z, sweep, rules, bank, state)


@njit(cache=True, error_model="numpy")
def _combine_real(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                  bank: BankArrays, state: np.ndarray, op: int) -> int:  # fmt: skip
    return _run(_real_op, op, True, x, y, z, sweep, rules, bank, state)


@njit(cache=True, error_model="numpy")
def _combine_bool(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                  bank: BankArrays, state: np.ndarray, op: int) -> int:  # fmt: skip
    return _run(_bool_op, op, False, x, y, z, sweep, rules, bank, state)


@njit(cache=True, error_model="numpy")
def _combine_packed(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                    bank: BankArrays, state: np.ndarray, op: int) -> int:  # fmt: skip
    return _run(_packed_op, op, False, x, y, z, sweep, rules, bank, state)


_KERNELS = {"int": _combine_int, "real_to_int": _combine_real_to_int, "real": _combine_real, "bool": _combine_bool,
            "packed": _combine_packed}  # fmt: skip


def _kernel_class(row: Primitive) -> str:
    """The kernel that applies `row`, by its signature: the scalar function above that has its case."""
    if row.result in ("B", "R"):
        return {"B": "bool", "R": "real"}[row.result]
    return "real_to_int" if "R" in row.args else "int"


KERNEL_CLASS = {row.op: _kernel_class(row) for row in PRIMITIVES if row.fixity != "constant"}
assert set(KERNEL_CLASS) == set(Op) - {Op.PI}, "every primitive but the constant pi has a kernel"


def combine(op: Op, x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules, bank: BankArrays,
            state: np.ndarray, *, packed: bool = False) -> int:  # fmt: skip
    """Apply `op` to the candidates of `sweep` (rows of the operands' values `x`, `y`, `z`) and
    keep the new functions in `bank`, updating `state` (a `BANK_STATE` record array); `packed`:
    rows are truth-table words. Returns the next flat candidate index (`sweep.stop` unless the
    bank filled)."""
    kernel = _KERNELS["packed" if packed else KERNEL_CLASS[op]]
    return kernel(x, y, z, sweep, rules, bank, state, int(op))


@njit(cache=True)
def _insert_rows(rows: np.ndarray, origin: NDArray[np.int64], is_real: bool, rules: RowRules,
                 bank: BankArrays, state: np.ndarray) -> int:  # fmt: skip
    values = bank.values
    width, signed, check_nan, nan_mask = rules.width, rules.signed, rules.check_nan, rules.nan_mask
    counts = state[0]
    kept, choice = counts.kept, counts.choice
    scratch = np.empty(values.shape[1], dtype=np.uint64)
    wrapped = values.shape[1] - 1 if rules.wrap_last else 0  # the first column that wraps
    consumed = 0
    for r in range(rows.shape[0]):
        if kept >= values.shape[0]:
            break
        row = values[kept]
        row[:] = rows[r]
        if not is_real and width < 64:
            for p in range(wrapped, row.shape[0]):
                row[p] = wrap(row[p], width, signed)
        counts.candidates += 1
        consumed += 1
        if check_nan and _nan_at(row, nan_mask):
            counts.nan_dropped += 1
        elif _keep(bank, choice, kept, key_of(row, scratch, is_real), is_real, origin[r, 0], origin[r, 1],
                   origin[r, 2]):  # fmt: skip
            kept += 1
    counts.kept = kept
    return consumed


def insert_rows(rows: np.ndarray, origin: np.ndarray, is_real: bool, rules: RowRules, bank: BankArrays,
                state: np.ndarray) -> int:  # fmt: skip
    """Insert precomputed candidate rows (leaves, composite choices) into `bank`, as `combine`
    does; `origin[r]` are row r's children (three columns), `is_real` whether the rows are of
    reals. Returns how many rows were consumed (fewer when the bank filled)."""
    return _insert_rows(rows, origin, is_real, rules, bank, state)


@njit(cache=True)
def round_reals(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """The equivalence keys of a (n, P) float64 array, as float64 (for the tests)."""
    out = np.empty_like(values)
    for r in range(values.shape[0]):
        bits, keys = values[r].view(np.uint64), out[r].view(np.uint64)
        for p in range(bits.shape[0]):
            keys[p] = rounded(bits[p])
    return out


# --- check-only: candidates beyond the memory budget ----------------------------------------------

EXACT, TOLERANCE, MASKED = 0, 1, 2  # how `_check` compares a candidate with the target


@njit(inline="always")
def _check(apply: _ScalarOp, op: int, x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep,
           rules: RowRules, columns: NDArray[np.int64], target: np.ndarray, tolerance: np.ndarray,
           mode: int, hits: NDArray[np.int64]) -> tuple[int, int, int]:  # fmt: skip
    """Like `_run`, but nothing is stored: each candidate is computed at the training columns
    only, point by point, and dropped at the first point where it misses the target (EXACT:
    equal; TOLERANCE: within `tolerance[q]`; MASKED: truth-table words equal on the bits of
    `tolerance[q]`, which has no bit past the points: no wrapping). Hits (i, j, k) go to
    `hits`. Returns (next flat index, hits, candidates). Of `rules`, only the wrapping applies
    (nothing is dropped for NaN: it misses)."""
    x0, y0, ny, z0, nz = sweep.x_start, sweep.y_start, sweep.y_count, sweep.z_start, sweep.z_count
    symmetric, start, stop = sweep.symmetric, sweep.start, sweep.stop
    width, signed = rules.width, rules.signed
    found, candidates = 0, 0
    c = start
    i, rest = start // (ny * nz), start % (ny * nz)
    j, k = rest // nz, rest % nz
    while c < stop and found < hits.shape[0]:
        xi, yj, zk = x0 + i, y0 + j, z0 + k
        if not (symmetric and xi > yj):
            candidates += 1
            a, b, d = x[xi], y[yj], z[zk]
            hit = True
            for q in range(columns.shape[0]):
                p = columns[q]
                value = apply(op, a[p], b[p], d[p])
                if mode == TOLERANCE:
                    if not abs(value - target[q]) <= tolerance[q]:  # NaN misses too
                        hit = False
                        break
                elif mode == MASKED:
                    if (np.int64(value) ^ np.int64(target[q])) & np.int64(tolerance[q]) != 0:
                        hit = False
                        break
                else:
                    if width < 64:
                        value = wrap(value, width, signed)
                    if value != target[q]:
                        hit = False
                        break
            if hit:
                hits[found, 0], hits[found, 1], hits[found, 2] = xi, yj, zk
                found += 1
        c += 1
        k += 1
        if k == nz:
            k = 0
            j += 1
            if j == ny:
                j = 0
                i += 1
    return c, found, candidates


@njit(cache=True, error_model="numpy")
def _check_int(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
               columns: NDArray[np.int64], target: np.ndarray, tolerance: np.ndarray, mode: int,
               hits: NDArray[np.int64], op: int) -> tuple[int, int, int]:  # fmt: skip
    return _check(_int_op, op, x, y, z, sweep, rules, columns, target, tolerance, mode, hits)


@njit(cache=True, error_model="numpy")
def _check_real_to_int(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                       columns: NDArray[np.int64], target: np.ndarray, tolerance: np.ndarray, mode: int,
                       hits: NDArray[np.int64], op: int) -> tuple[int, int, int]:  # fmt: skip
    return _check(_real_to_int, op, x, y, z, sweep, rules, columns, target, tolerance, mode, hits)


@njit(cache=True, error_model="numpy")
def _check_real(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                columns: NDArray[np.int64], target: np.ndarray, tolerance: np.ndarray, mode: int,
                hits: NDArray[np.int64], op: int) -> tuple[int, int, int]:  # fmt: skip
    return _check(_real_op, op, x, y, z, sweep, rules, columns, target, tolerance, mode, hits)


@njit(cache=True, error_model="numpy")
def _check_bool(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                columns: NDArray[np.int64], target: np.ndarray, tolerance: np.ndarray, mode: int,
                hits: NDArray[np.int64], op: int) -> tuple[int, int, int]:  # fmt: skip
    return _check(_bool_op, op, x, y, z, sweep, rules, columns, target, tolerance, mode, hits)


@njit(cache=True, error_model="numpy")
def _check_packed(x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules,
                  columns: NDArray[np.int64], target: np.ndarray, tolerance: np.ndarray, mode: int,
                  hits: NDArray[np.int64], op: int) -> tuple[int, int, int]:  # fmt: skip
    return _check(_packed_op, op, x, y, z, sweep, rules, columns, target, tolerance, mode, hits)


_CHECKS = {"int": _check_int, "real_to_int": _check_real_to_int, "real": _check_real, "bool": _check_bool,
           "packed": _check_packed}  # fmt: skip


def check(op: Op, x: np.ndarray, y: np.ndarray, z: np.ndarray, sweep: Sweep, rules: RowRules, columns: np.ndarray,
          target: np.ndarray, tolerance: np.ndarray, mode: int, hits: np.ndarray, *,
          packed: bool = False) -> tuple[int, int, int]:  # fmt: skip
    """Check the candidates of `sweep` against `target` at the training `columns`, keeping
    nothing (see `_check`); returns (next flat index, hits written to `hits`, candidates)."""
    kernel = _CHECKS["packed" if packed else KERNEL_CLASS[op]]
    return kernel(x, y, z, sweep, rules, columns, target, tolerance, mode, hits, int(op))

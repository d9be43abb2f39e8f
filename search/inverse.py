"""Reaching further than the bank: the output's last operations solved by inverse semantics.

A program `k ∘ w` of the output type fits the training targets y when w has the values
y ∘⁻¹ k. Working backward from y, each *context* — a chain of invertible operations whose other
operands k are cheap programs from the bank — turns the targets into the values its hole
needs. Contexts are enumerated in order of their bits and deduplicated by those needed values
(the backward twin of observational equivalence); every needed-values vector is looked up among
the kept programs, so one look-up covers every program of the bank at once. The enumerator
covers all programs up to the bank's bits; this covers programs whose spine, from the root,
has only cheap siblings — much longer ones (Nguyen-2's `x + x * (x + …)`).

Inverses: `+` (w = y − k), `-` (w = y + k, or k − y), `*` (w = y / k where k divides y exactly;
for reals where k ≠ 0), `/` (w = y · k, or k / y), xor on bools and integers (w = y ^ k), `==`
on bools. Integer inverses are exact in wrap-around arithmetic; real ones are looked up at the
equivalence rounding (32 significant bits), so a fit can be missed where rounding falls
differently — never wrongly reported: every match is re-evaluated by the reference evaluator.

What this guarantees: a match is a fitting program and its bits are exact; it is the shortest
fit only once the enumeration has passed its bits without a shorter one (`certified`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dsl import PRIMITIVES, Apply, Expr, Op
from dsl.primitives import COMMUTATIVE

from .bank import Bank
from .hashtable import find, hash_of, key_of, put, slot_for
from .kernels import wrap
from .space import Choice, SearchSpace, pack

__all__ = ["BackwardSearch", "INVERTIBLE"]

INVERTIBLE = frozenset(row.op for row in PRIMITIVES if row.invertible)  # each has a case below
_COMMUTATIVE = INVERTIBLE & COMMUTATIVE  # solved for one operand only

_ADD_I, _SUB_I, _MUL_I, _EQ_B = int(Op.ADD_I), int(Op.SUB_I), int(Op.MUL_I), int(Op.EQ_B)
_NEG_I, _BITNOT, _NOT = int(Op.NEG_I), int(Op.BITNOT), int(Op.NOT)
_ADD_R, _SUB_R, _MUL_R, _DIV_R = int(Op.ADD_R), int(Op.SUB_R), int(Op.MUL_R), int(Op.DIV_R)
_NEG_R, _EXP, _LOG = int(Op.NEG_R), int(Op.EXP), int(Op.LOG)


# --- what the kernels take -----------------------------------------------------------------------


class _Operations(NamedTuple):
    """The operations a context can end in, one entry per (choice, side of its known operand);
    entry `o` is `BackwardSearch.choices[o]`.

    opcode         (n,) int64    the choice's `Op`
    known_on_left  (n,) bool     the known operand is the left one (`k - hole`, not `hole - k`)
    arity          (n,) int64    1 (the hole alone) or 2 (a known operand and the hole)
    bits           (n,) float64  the choice's bits
    """

    opcode: np.ndarray
    known_on_left: np.ndarray
    arity: np.ndarray
    bits: np.ndarray


class _Contexts(NamedTuple):
    """The contexts made so far, row c for context c; context 0 is the target itself.

    needs      (states, Q)          the values the context's hole needs at the Q training columns
    costs      (states,) float64    its bits: its operations' and their known operands'
    parent     (states,) int64      the context it extends (-1: none)
    operation  (states,) int64      the entry of `_Operations` it applies to its parent
    known      (states,) int64      that operation's known operand: a row of the output bank (-1: none)
    table      (2 * slots,) int64   the hash table of `needs` (layout: hashtable.py)
    made       (1,) int64           contexts made: the next goes to row `made[0]`
    cursors    (states, n) int64    per context and operation, the next known row to try
    """

    needs: np.ndarray
    costs: np.ndarray
    parent: np.ndarray
    operation: np.ndarray
    known: np.ndarray
    table: np.ndarray
    made: np.ndarray  # not `count`: a tuple has a method of that name
    cursors: np.ndarray


# --- what the hole needs --------------------------------------------------------------------------

# (opcode, known operand on the left, target value, known value, ones) -> (needed value, whether
# one exists), at one column: `_needed_integer` or `_needed_real`, compiled per dtype of the
# values, hence Any.
_Needed = Callable[[int, bool, Any, Any, int], tuple[Any, Any]]


@njit(inline="always")
def _needed_integer(op: int, known_is_left: bool, y: np.int64 | np.uint8, known: np.int64 | np.uint8,
                    ones: int) -> tuple[np.int64 | np.uint8, bool]:  # fmt: skip
    """The value the hole needs so that `left op right == y` (for a unary op, `op hole == y`),
    and whether one exists. `ones` is a bool's true: 1, or for a truth-table word its bits at
    the points (so that negations leave the bits past them zero)."""
    if op == _ADD_I:
        return y - known, True
    if op == _SUB_I:  # y = left - right
        return (known - y, True) if known_is_left else (y + known, True)
    if op == _MUL_I:
        if known == -1:  # compiled MIN // -1 is 0, not the wrapped MIN
            return -y, True
        if known == 0 or y % known != 0:
            return y, False
        return y // known, True
    if op == _NEG_I:
        return -y, True
    if op == _BITNOT:
        return ~y, True
    if op == _NOT:
        return y ^ ones, True
    if op == _EQ_B:
        return y ^ known ^ ones, True
    return y ^ known, True  # BITXOR, XOR_B, NE_B


@njit(inline="always")
def _needed_real(op: int, known_is_left: bool, y: float, known: float, ones: int) -> tuple[float, np.bool_]:
    if op == _ADD_R:
        value = y - known
    elif op == _SUB_R:
        value = known - y if known_is_left else y + known
    elif op == _MUL_R:
        value = y / known
    elif op == _DIV_R:
        value = known / y if known_is_left else y * known
    elif op == _NEG_R:
        value = -y
    elif op == _EXP:
        value = np.log(y)
    elif op == _LOG:
        value = np.exp(y)
    else:  # SQRT
        value = y * y if y >= 0 else np.nan
    return value, np.isfinite(value)


@njit(inline="always")
def _fill_need(needed: _Needed, op: int, known_is_left: bool, target: np.ndarray, known: np.ndarray, width: int,
               signed: bool, need: np.ndarray, is_real: bool, ones: NDArray[np.int64]) -> bool:  # fmt: skip
    for q in range(need.shape[0]):
        value, ok = needed(op, known_is_left, target[q], known[q], ones[q])
        if not ok:
            return False
        need[q] = value
    if not is_real and width < 64:
        for q in range(need.shape[0]):
            need[q] = wrap(need[q], width, signed)
    return True


@njit(inline="always")
def _expand(needed: _Needed, is_real: bool, operations: _Operations, known: np.ndarray,
            known_bits: NDArray[np.float64], width: int, signed: bool, store: _Contexts, cutoff: float,
            work: int, ones: NDArray[np.int64]) -> int:  # fmt: skip
    """Make every context costing at most `cutoff` bits that is not made yet, scanning the
    states in order (new ones included) and resuming each (state, operation) where it stopped:
    known programs come in order of bits, so each pair stops at the first too dear.
    `operations`: an `_Operations`; `store`: the `_Contexts`. Stops when the store is full or
    after `work` tries; returns how many it tried. The first context to need a vector of values
    keeps it. `ones`: per column, a bool's true (`_needed_integer`)."""
    needs, costs, parent_of, operation_of = store.needs, store.costs, store.parent, store.operation
    known_of, table, count, cursors = store.known, store.table, store.made, store.cursors
    points = needs.shape[1]
    need = np.empty(points, dtype=needs.dtype)
    scratch = np.empty(points, dtype=np.uint64)
    tried = 0
    state = 0
    while state < count[0]:
        for operation in range(operations.opcode.shape[0]):
            op, left = operations.opcode[operation], operations.known_on_left[operation]
            binary = operations.arity[operation] == 2
            limit = known.shape[0] if binary else 1
            row = cursors[state, operation]
            while row < limit:
                cost = costs[state] + operations.bits[operation] + (known_bits[row] if binary else 0.0)
                if cost > cutoff:
                    break
                if count[0] >= needs.shape[0] or tried >= work:
                    return tried
                cursors[state, operation] = row + 1
                tried += 1
                if not _fill_need(needed, op, left, needs[state], known[row], width, signed, need, is_real, ones):
                    row += 1
                    continue
                key = key_of(need, scratch, is_real)
                h = hash_of(key)
                slot = slot_for(needs, table, key, h, is_real)
                if slot >= 0:
                    child = count[0]
                    count[0] += 1
                    put(table, slot, child, h)
                    needs[child] = need
                    costs[child], parent_of[child] = cost, state
                    operation_of[child], known_of[child] = operation, row if binary else -1
                row += 1
        state += 1
    return tried


@njit(cache=True, error_model="numpy")
def _expand_integer(operations: _Operations, known: np.ndarray, known_bits: NDArray[np.float64], width: int,
                    signed: bool, store: _Contexts, cutoff: float, work: int,
                    ones: NDArray[np.int64]) -> int:  # fmt: skip
    return _expand(_needed_integer, False, operations, known, known_bits, width, signed, store, cutoff, work, ones)


@njit(cache=True, error_model="numpy")
def _expand_real(operations: _Operations, known: np.ndarray, known_bits: NDArray[np.float64],
                 store: _Contexts, cutoff: float, work: int) -> int:  # fmt: skip
    ones = np.zeros(store.needs.shape[1], dtype=np.int64)
    return _expand(_needed_real, True, operations, known, known_bits, 64, False, store, cutoff, work, ones)


@njit(cache=True)
def _probe(states: NDArray[np.int64], needs: np.ndarray, values: np.ndarray, table: NDArray[np.int64],
           is_real: bool, found: NDArray[np.int64]) -> None:  # fmt: skip
    """For each state, the forward row with its needed values (or -1)."""
    scratch = np.empty(needs.shape[1], dtype=np.uint64)
    for n in range(states.shape[0]):
        found[n] = find(values, table, key_of(needs[states[n]], scratch, is_real), is_real)


@njit(cache=True)
def _index_rows(values: np.ndarray, columns: NDArray[np.int64], first: int, last: int,
                table: NDArray[np.int64], is_real: bool, restricted: np.ndarray) -> None:  # fmt: skip
    """Add rows first..last-1 of `values`, restricted to `columns`, to `table`; `restricted`
    receives the restricted rows (the first, shortest, of equal ones is the one found)."""
    keys = np.empty(columns.shape[0], dtype=np.uint64)
    for row in range(first, last):
        for q in range(columns.shape[0]):
            restricted[row, q] = values[row, columns[q]]
        key = key_of(restricted[row], keys, is_real)
        h = hash_of(key)
        slot = slot_for(restricted, table, key, h, is_real)
        if slot >= 0:
            put(table, slot, row, h)


def _slots_for(count: int) -> int:
    return 1 << max(4, int(2 * count - 1).bit_length())


class _TrainIndex:
    """The output bank's programs restricted to the training points, hashed. When the
    equivalence points are the training points, that is the bank itself. Truth tables are
    restricted by `mask`, their words with the training points' bits (the others zeroed)."""

    def __init__(self, bank: Bank, columns: np.ndarray, mask: np.ndarray | None = None) -> None:
        self.bank, self.columns, self.mask = bank, columns, mask
        self.own = mask is None and len(columns) == bank.space.row_width
        self.count = 0
        self.restricted = bank.values if self.own else np.empty((0, len(columns)), dtype=bank.dtype)
        self.table = bank.table if self.own else np.zeros(2 * 16, dtype=np.int64)

    def update(self) -> None:
        size = self.bank.size
        if self.own:
            self.table, self.count = self.bank.table, size
            return
        if size == self.count:
            return
        if self.restricted.shape[0] < size:
            grown = np.empty((max(size, 2 * self.restricted.shape[0]), len(self.columns)), dtype=self.bank.dtype)
            grown[: self.count] = self.restricted[: self.count]
            self.restricted = grown
        if 2 * size > self.table.shape[0] // 2:
            self.table = np.zeros(2 * _slots_for(2 * size), dtype=np.int64)
            self.count = 0
        is_real = self.bank.type.kind == "real"
        source = self.bank.values
        if self.mask is not None:  # truth tables: masked here, then indexed in place
            self.restricted[self.count : size] = source[self.count : size] & self.mask
            source = self.restricted
        _index_rows(source, self.columns, self.count, size, self.table, is_real, self.restricted)
        self.count = size


def _op_of(choice: Choice) -> Op:
    """The primitive of a choice the backward search takes: a simple one, so it has an `Op`."""
    assert choice.op is not None, "BackwardSearch takes only simple choices with an invertible op"
    return choice.op


class BackwardSearch:
    """Contexts from the target down, matched against the output's bank (see the module
    docstring). Known operands are the bank's first `known_rows` programs — its cheapest;
    `max_states` and `max_bytes` bound the contexts kept."""

    def __init__(self, space: SearchSpace, banks: list[Bank], *, known_rows: int = 1 << 16,
                 max_states: int = 1 << 20, max_bytes: int = 256 << 20) -> None:  # fmt: skip
        self.space, self.banks = space, banks
        output = space.output_index
        self.bank = banks[output]
        # Truth tables: every word, restricted to the training points' bits (`train_words`).
        self.columns = np.arange(space.row_width, dtype=np.int64) if space.packed else np.flatnonzero(
            space.train).astype(np.int64)  # fmt: skip
        train_words = pack(space.train[None, :])[0] if space.packed else None
        self.choices: list[tuple[Choice, bool]] = []
        for choice in space.choices:
            if not (choice.type_index == output and choice.is_simple and choice.op in INVERTIBLE
                    and all(isinstance(o, int) for o in choice.operands) and set(choice.holes) == {output}):
                continue  # fmt: skip
            self.choices.append((choice, True))
            if len(choice.holes) == 2 and choice.op not in _COMMUTATIVE:
                self.choices.append((choice, False))
        self.enabled = bool(self.choices)
        self.operations = _Operations(
            opcode=np.array([int(_op_of(choice)) for choice, _ in self.choices], dtype=np.int64),
            known_on_left=np.array([left for _, left in self.choices], dtype=np.bool_),
            arity=np.array([len(choice.holes) for choice, _ in self.choices], dtype=np.int64),
            bits=np.array([choice.bits for choice, _ in self.choices], dtype=np.float64),
        )
        split = train_words is not None and not space.train.all()
        self.index = _TrainIndex(self.bank, self.columns, train_words if split else None)
        self.known_rows = known_rows
        type_ = self.bank.type
        self.is_real = type_.kind == "real"
        self.width = type_.width if type_.is_bitvector else 64
        # a bool's true per column: for truth tables the training points' bits (nothing to wrap then)
        self.ones = train_words if train_words is not None else np.ones(len(self.columns), dtype=np.int64)
        if space.packed:
            self.width = 64
        row_bytes = len(self.columns) * np.dtype(self.bank.dtype).itemsize + 64
        states = max(16, min(max_states, max_bytes // (row_bytes + 32 + 8 * len(self.choices)))) if self.enabled else 1
        self.needs: np.ndarray = np.empty((states, len(self.columns)), dtype=self.bank.dtype)
        self.needs[0] = space.target[self.columns] if self.enabled else 0
        if train_words is not None:
            self.needs[0] &= train_words
        self.costs = np.zeros(states)
        self.parent = np.full(states, -1, dtype=np.int64)
        self.operation = np.full(states, -1, dtype=np.int64)
        self.known = np.full(states, -1, dtype=np.int64)
        self.cursors = np.zeros((states, max(1, len(self.choices))), dtype=np.int64)
        self.count = np.ones(1, dtype=np.int64)
        self.table = np.zeros(2 * _slots_for(states), dtype=np.int64)
        self._probed = 0  # states probed against the whole index
        self._probed_rows = 0  # forward rows the earlier states were probed against

    def compile_kernels(self) -> None:
        """Run the kernels on empty input, so that Numba compiles them before a budget starts."""
        if not self.enabled:
            return
        store = self._contexts()
        known, bits = self.needs[:0], np.zeros(0)
        if self.is_real:
            _expand_real(self.operations, known, bits, store, -1.0, 0)
        else:
            _expand_integer(self.operations, known, bits, self.width, self.bank.type.signed, store, -1.0, 0,
                            self.ones)  # fmt: skip
        _probe(np.zeros(0, np.int64), self.needs, self.index.restricted, self.index.table, self.is_real,
               np.zeros(0, np.int64))  # fmt: skip
        if not self.index.own:
            _index_rows(self.bank.values, self.columns, 0, 0, self.index.table, self.is_real, self.index.restricted)

    def _contexts(self) -> _Contexts:
        return _Contexts(self.needs, self.costs, self.parent, self.operation, self.known, self.table, self.count,
                         self.cursors)  # fmt: skip

    def has_work(self) -> bool:
        return self.enabled and self.count[0] < len(self.needs)

    def step(self, cutoff: float, *, bound: float = np.inf, work: int = 1 << 21) -> list[tuple[Fraction, Expr]]:
        """Make the contexts costing at most `cutoff` bits (at most `work` tries), then look
        them up among the forward programs. Returns the fits found of at most `bound` bits."""
        if not self.enabled or self.bank.size == 0:
            return []
        self.index.update()
        known_count = min(self.known_rows, self.bank.size)
        known = self.index.restricted[:known_count]
        known_bits = np.concatenate([np.full(level.size, level.bits) for level in self.bank.levels])[:known_count]
        store = self._contexts()
        if self.is_real:
            _expand_real(self.operations, known, known_bits, store, cutoff, work)
        else:
            _expand_integer(self.operations, known, known_bits, self.width, self.bank.type.signed, store, cutoff,
                            work, self.ones)  # fmt: skip
        return self._lookups(bound)

    def _lookups(self, bound: float) -> list[tuple[Fraction, Expr]]:
        """Probe new states against every forward row, old states against the new rows; keep
        the fits of at most `bound` bits."""
        count = int(self.count[0])
        states = np.arange(count, dtype=np.int64) if self._probed_rows < self.index.count else np.arange(
            self._probed, count, dtype=np.int64)  # fmt: skip
        found = np.empty(len(states), dtype=np.int64)
        _probe(states, self.needs, self.index.restricted, self.index.table, self.is_real, found)
        self._probed, self._probed_rows = count, self.index.count
        hits = [(int(state), int(row)) for state, row in zip(states, found) if row >= 0 and state != 0]
        slack = 1e-9  # the float costs only preselect: exact bits come from the Fractions
        return [self._fit(state, row) for state, row in hits
                if self.costs[state] + self.bank.bits_of(row) <= bound + slack]  # fmt: skip

    def _fit(self, state: int, row: int) -> tuple[Fraction, Expr]:
        """The program (and its probability) of a forward row placed in a context."""
        program = self.bank.program(row, self.banks)
        probability = self.bank.level_of(row).probability
        while state != 0:
            choice, known_is_left = self.choices[int(self.operation[state])]
            probability *= choice.probability
            if len(choice.holes) == 1:
                program = Apply(_op_of(choice), (program,), choice.template.type)
            else:
                known_row = int(self.known[state])
                known = self.bank.program(known_row, self.banks)
                probability *= self.bank.level_of(known_row).probability
                args = (known, program) if known_is_left else (program, known)
                program = Apply(_op_of(choice), args, choice.template.type)
            state = int(self.parent[state])
        return probability, program

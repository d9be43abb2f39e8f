"""Repair: a restart's discretized program that does not fit, one subtree replaced by a short
program from the enumerator's banks that has the values the subtree needs.

With the rest of the program fixed, the values a subtree must have for the program to reproduce
the training targets follow from the targets down the path to it, by inverse semantics, as the
enumerator's backward search (search/inverse.py) does from the root: under `a + b`, b needs
y − a; under `a and b`, b needs y where a holds and is free where a is false and y is false (and
nothing can help where a is false and y is true); under `if(c, a, b)`, a needs y where c holds.
A subtree's needed values are therefore known only on some points (a *mask*: the other points do
not matter), or not at all (an operation without an inverse here — sin, cos, comparisons — ends the
path). Each proper subtree (the root is the relaxation's own choice, and stays) is looked up, with
its mask, in a bank of short programs: the enumerator run once, over the grammar, on the training
points, each function kept through its shortest program (`Bank`, in order of bits). Every
replacement is checked to be derivable in the grammar and re-evaluated by the reference evaluator
(`synthesize.fits`); the shortest program that fits is the repair. Nothing unverified is returned.

The bank is enumerated for at most BANK_CANDIDATES candidates (a deterministic budget) and the
seconds the search has left; only if the clock cuts it short does a repair depend on the machine.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dsl import Apply, Expr, GrammarError, Op, Task, Type, description_length, evaluate

__all__ = ["BANK_CANDIDATES", "Repairer", "repair_restarts"]

BANK_CANDIDATES = 20_000  # candidates the bank's enumeration may make (SearchConfig.max_candidates)
BANK_MEMORY_MB = 256.0  # the bank's memory budget at most (its rows are reserved up front)
MATCHES_TRIED = 4  # bank programs tried per subtree, shortest first (a real match may still miss)
LOOKUP_RTOL = 1e-9  # reals: a bank row matches needed values to this, relative (FIT_RTOL's scale)

Need = tuple[np.ndarray, np.ndarray]  # (values, mask): the values needed where mask holds


class Repairer:
    """The bank of short programs of `task`'s grammar on its training points, and the repair of
    programs against it (module docstring)."""

    def __init__(self, task: Task, *, max_seconds: float, max_memory_mb: float = BANK_MEMORY_MB,
                 max_candidates: int = BANK_CANDIDATES) -> None:  # fmt: skip
        from ..enumerate import Enumerator, Stop
        from ..space import build_space
        from ..synthesize import SearchBudget, reserving

        self.task = task
        self.env = task.env(task.train)
        self.size = int(task.train.sum())
        self.target = np.asarray(task.target_values[task.train])
        space = build_space(task, equivalence="train")
        budget = SearchBudget(max_seconds=max(max_seconds, 1e-3), max_memory_bytes=max_memory_mb * 2**20,
                              max_candidates=max_candidates)  # fmt: skip
        with reserving(max_memory_mb):
            enumerator = Enumerator(space, budget)
        budget.count = lambda: enumerator.candidates
        budget.reason = lambda: "memory" if enumerator.checking else None  # full: nothing more would be kept
        enumerator.compile_kernels()
        budget.restart()
        try:
            for _ in enumerator.levels():
                if enumerator.checking:
                    break
        except Stop:
            pass  # the banks hold what was enumerated: a smaller bank, never a wrong one
        self._enumerator = enumerator
        self.values: dict[Type, np.ndarray] = {}  # per type, (n, training points): row i is program i's
        for index, bank in enumerate(enumerator.banks):
            rows = bank.values[: bank.size]
            self.values[space.types[index]] = space.unpack(rows) if space.packed else rows
        self._index = {type_: index for index, type_ in enumerate(space.types)}

    @property
    def bank_size(self) -> int:
        return sum(len(rows) for rows in self.values.values())

    def program(self, type_: Type, row: int) -> Expr:
        """The bank's program of `type_` at `row` (the shortest of its function)."""
        return self._enumerator.program(self._index[type_], row)

    def repair(self, program: Expr) -> Expr | None:
        """The shortest fitting program that is `program` with one proper subtree replaced by a
        bank program, verified by the reference evaluator; None when there is none."""
        from ..synthesize import fits

        kind = self.task.output_type.kind
        best: tuple[float, str, Expr] | None = None
        for path, node, (need, mask) in self._needs(program):
            for row in self._matches(node.type, need, mask):
                replacement = self.program(node.type, row)
                candidate = _replaced(program, path, replacement)
                try:
                    bits = description_length(candidate, self.task.grammar)
                except GrammarError:
                    continue  # the subtree sits inside a template's own operations, not at a hole
                predicted = evaluate(candidate, self.env, size=self.size)
                if fits(np.asarray(predicted), self.target, kind) and (best is None or (bits, str(candidate)) < best[:2]):
                    best = (bits, str(candidate), candidate)
        return best[2] if best is not None else None

    def _needs(self, program: Expr) -> Iterator[tuple[tuple[int, ...], Expr, Need]]:
        """Every proper subtree that some values would make the program fit: its path (argument
        positions from the root), the subtree, and the values it needs where they matter."""
        pending: list[tuple[tuple[int, ...], Expr, Need]] = [((), program, (self.target, np.ones(self.size, bool)))]
        while pending:
            path, node, (need, mask) = pending.pop(0)
            if path:
                yield path, node, (need, mask)
            if not isinstance(node, Apply):
                continue
            values = [self._evaluate(arg) for arg in node.args]
            for position, arg in enumerate(node.args):
                child = child_need(node.op, position, need, mask, values)
                if child is not None and child[1].any():
                    pending.append(((*path, position), arg, child))

    def _evaluate(self, node: Expr) -> np.ndarray:
        return np.broadcast_to(np.asarray(evaluate(node, self.env, size=self.size)), (self.size,))

    def _matches(self, type_: Type, need: np.ndarray, mask: np.ndarray) -> list[int]:
        """The first MATCHES_TRIED bank rows of `type_` (shortest first) with `need` where `mask` holds."""
        rows = self.values.get(type_)
        if rows is None or len(rows) == 0:
            return []
        columns, wanted = rows[:, mask], need[mask]
        if type_.kind == "real":
            if not np.isfinite(wanted).all():
                return []  # a NaN or ±inf needed: not looked up (a corner case, left out)
            with np.errstate(all="ignore"):
                hit = np.all(np.abs(columns - wanted) <= LOOKUP_RTOL * (np.abs(wanted) + _rms(wanted)), axis=1)
        else:
            hit = np.all(columns == wanted.astype(rows.dtype), axis=1)
        return [int(row) for row in np.flatnonzero(hit)[:MATCHES_TRIED]]


def repair_restarts(task: Task, config: Any, programs: list[Expr], fitted: list[bool],
                    add: Callable[[Expr], bool], seconds_left: float) -> int:  # fmt: skip
    """Repair every restart whose program does not fit (each distinct program once); `add(program)`
    records a repair (the searcher's `Found.add`, which verifies it again). Returns how many
    restarts were repaired. The bank is built only if some restart needs it."""
    if all(fitted):
        return 0
    started = time.perf_counter()
    repairer = Repairer(task, max_seconds=seconds_left, max_memory_mb=min(BANK_MEMORY_MB, config.max_memory_mb / 4))
    repairs: dict[str, Expr | None] = {}
    repaired = 0
    for program, fits in zip(programs, fitted):
        if fits:
            continue
        key = str(program)
        if key not in repairs:
            if time.perf_counter() - started > seconds_left:
                break
            repairs[key] = repairer.repair(program)
        fixed = repairs[key]
        repaired += fixed is not None and add(fixed)
    return repaired


# --- what a subtree needs -------------------------------------------------------------------------


def child_need(op: Op, position: int, need: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    """The values argument `position` of `op` needs so that `op(values…)` has `need` where `mask`
    holds, the other arguments keeping `values`; None when no values would do (or `op` has no
    inverse here). The returned mask is where the argument's value matters."""
    if op in _REAL_INVERSES:
        with np.errstate(all="ignore"):
            return _REAL_INVERSES[op](position, need.astype(np.float64), mask, values)
    if op in _BOOL_INVERSES:
        return _BOOL_INVERSES[op](position, need.astype(bool), mask, values)
    if op in (Op.IF_R, Op.IF_B, Op.IF_I):
        return _if_need(position, need, mask, values, real=op == Op.IF_R)
    return None


def _rms(values: np.ndarray) -> float:
    """The root mean square of the finite values, without overflowing (0 for none)."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if len(finite) else 0.0
    return largest * math.sqrt(float(np.mean((finite / largest) ** 2))) if largest > 0 else 0.0


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.abs(a - b) <= LOOKUP_RTOL * (np.abs(b) + _rms(b))


def _where_possible(values: np.ndarray, mask: np.ndarray, possible: np.ndarray, free: np.ndarray) -> Need | None:
    """`values` needed where `mask` holds and the point is not `free`; None if some such point
    is not `possible`."""
    if np.any(mask & ~free & ~possible):
        return None
    return values, mask & ~free


def _add(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    return y - values[1 - position], mask


def _subtract(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    return (y + values[1], mask) if position == 0 else (values[0] - y, mask)


def _multiply(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    known = values[1 - position].astype(np.float64)
    free = (known == 0) & _close(y, np.zeros_like(y))  # 0 · anything finite is the 0 needed
    return _where_possible(y / known, mask, known != 0, free)


def _divide(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    if position == 0:  # w / k = y: w = y · k, where k ≠ 0
        known = values[1].astype(np.float64)
        return _where_possible(y * known, mask, known != 0, np.zeros_like(mask))
    known = values[0].astype(np.float64)  # k / w = y: w = k / y, where y ≠ 0
    return _where_possible(known / y, mask, y != 0, np.zeros_like(mask))


def _exp(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    return _where_possible(np.log(y), mask, y > 0, np.zeros_like(mask))


def _sqrt(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    return _where_possible(y * y, mask, y >= 0, np.zeros_like(mask))


def _to_real(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    return _where_possible(y == 1, mask, (y == 0) | (y == 1), np.zeros_like(mask))


_REAL_INVERSES: dict[Op, Callable[[int, np.ndarray, np.ndarray, list[np.ndarray]], Need | None]] = {
    Op.ADD_R: _add,
    Op.SUB_R: _subtract,
    Op.MUL_R: _multiply,
    Op.DIV_R: _divide,
    Op.NEG_R: lambda position, y, mask, values: (-y, mask),
    Op.EXP: _exp,
    Op.LOG: lambda position, y, mask, values: (np.exp(y), mask),
    Op.SQRT: _sqrt,
    Op.BOOL_TO_REAL: _to_real,
}


def _and(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    known = values[1 - position].astype(bool)  # where it is false the result is false, whatever w
    return _where_possible(y, mask, known | ~y, ~known)


def _or(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray]) -> Need | None:
    known = values[1 - position].astype(bool)  # where it is true the result is true, whatever w
    return _where_possible(y, mask, ~known | y, known)


_BOOL_INVERSES: dict[Op, Callable[[int, np.ndarray, np.ndarray, list[np.ndarray]], Need | None]] = {
    Op.NOT: lambda position, y, mask, values: (~y, mask),
    Op.AND: _and,
    Op.OR: _or,
    Op.XOR_B: lambda position, y, mask, values: (y ^ values[1 - position].astype(bool), mask),
    Op.NE_B: lambda position, y, mask, values: (y ^ values[1 - position].astype(bool), mask),
    Op.EQ_B: lambda position, y, mask, values: (~(y ^ values[1 - position].astype(bool)), mask),
}


def _if_need(position: int, y: np.ndarray, mask: np.ndarray, values: list[np.ndarray], *, real: bool) -> Need | None:
    """`if(c, a, b)`: a where c holds, b where it does not; c where a and b differ, as the one
    that gives y (impossible where neither does)."""
    condition, then, otherwise = values[0].astype(bool), values[1], values[2]
    if position == 1:
        return y, mask & condition
    if position == 2:
        return y, mask & ~condition
    with np.errstate(all="ignore"):
        to_then = _close(then, y) if real else then == y
        to_else = _close(otherwise, y) if real else otherwise == y
    return _where_possible(to_then, mask, to_then | to_else, to_then & to_else)


def _replaced(program: Expr, path: tuple[int, ...], replacement: Expr) -> Expr:
    if not path:
        return replacement
    assert isinstance(program, Apply)
    args = list(program.args)
    args[path[0]] = _replaced(args[path[0]], path[1:], replacement)
    return dataclasses.replace(program, args=tuple(args))

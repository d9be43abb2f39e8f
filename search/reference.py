"""The reference enumerator: the test oracle of the search, slow and obviously right.

It does what the enumerator (enumerate.py) does, the plainest way: derive *every* program of the
task's grammar up to a bound on description length, top-down, rule by rule and alternative by
alternative, each derivation's probability multiplied out exactly (`Fraction`: a choice's weight
over its rule's total weight, as space.py computes it); evaluate each program whole with the
reference evaluator (`dsl.evaluate`); keep, per distinct function, the least bits met and one
program that has them. No observational equivalence prunes the derivations, nothing is
compiled, no code is shared with search/ — which is the point: the tests (tests/search/)
compare the compiled search against it on small grammars.

A function is identified by its *key*: its values at the equivalence points (all the task's
points, or its training points), as a tuple of Python ints — bools as 0/1, integers as they are,
reals as the bits of the value rounded to 32 stored mantissa bits (`real_key_bits`: round to
nearest, ties away from zero; every NaN one NaN, ±0 one zero), the quantization kernels.py
documents.

Bits are `-log2(probability)` as a float, computed as search/space.py's `bits_of` does, so that
equal probabilities give equal floats. A program is kept when its bits are ≤ `max_bits`, the
comparison the enumerator makes.

Only for tests: the number of derivations grows exponentially with `max_bits`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dsl import Expr, Grammar, Hole, Task, Type, evaluate
from dsl.program import fill

__all__ = [
    "Found",
    "derivations",
    "function_key",
    "real_key_bits",
    "reference_fits",
    "reference_functions",
    "reference_minimal",
    "reference_posterior",
]

FIT_RTOL = 1e-9  # reals fit when |value − target| ≤ FIT_RTOL · (|target| + RMS of the targets)


@dataclass(frozen=True)
class Found:
    """A program and the probability of its derivation under the grammar."""

    probability: Fraction
    program: Expr

    @property
    def bits(self) -> float:
        return _bits(self.probability)


def _bits(probability: Fraction) -> float:
    return math.log2(probability.denominator) - math.log2(probability.numerator)


# --- derivations, top-down --------------------------------------------------------------------

# (type, probability floor) -> every derivation of that type at or above the floor
_Memo = dict[tuple[Type, Fraction], list[tuple[Fraction, Expr]]]


def derivations(grammar: Grammar, type_: Type, *, max_bits: float) -> Iterator[Found]:
    """Every derivation of a program of `type_` whose bits are ≤ `max_bits`, with its exact
    probability. A program with several derivations comes once per derivation."""
    # Prune with a floor a hair below 2^-max_bits (exact arithmetic cannot take a float power
    # of two), then keep exactly what the float comparison keeps.
    floor = Fraction(2.0 ** -(max_bits + 1e-6))
    memo: _Memo = {}
    for probability, program in _derive(grammar, type_, floor, grammar.productive_types(), memo):
        if _bits(probability) <= max_bits:
            yield Found(probability, program)


def _derive(
    grammar: Grammar, type_: Type, floor: Fraction, productive: frozenset[Type], memo: _Memo
) -> list[tuple[Fraction, Expr]]:
    """(probability, program) of every derivation of `type_` with probability ≥ `floor`.

    Recursion ends: a cycle of the grammar through productive types passes through a rule with
    two alternatives or more, whose choices have probability < 1, so the floor is reached.
    `memo` only saves recomputing the same list."""
    if (type_, floor) in memo:
        return memo[type_, floor]
    rule = grammar.rule(type_)
    if rule is None:  # a type without a rule has no program
        return []
    total = sum(Fraction(alternative.weight) for alternative in rule.alternatives)
    found: list[tuple[Fraction, Expr]] = []
    for alternative in rule.alternatives:
        probability = Fraction(alternative.weight) / total
        holes = [node.type for node in alternative.template.walk() if isinstance(node, Hole)]
        if probability < floor or not all(hole in productive for hole in holes):
            continue
        for rest, children in _fill(grammar, holes, floor / probability, productive, memo):
            found.append((probability * rest, fill(alternative.template, iter(children))))
    memo[type_, floor] = found
    return found


def _fill(
    grammar: Grammar, holes: list[Type], floor: Fraction, productive: frozenset[Type], memo: _Memo
) -> Iterator[tuple[Fraction, tuple[Expr, ...]]]:
    """Programs for each hole, left to right, whose probabilities multiply to ≥ `floor`."""
    if not holes:
        yield Fraction(1), ()
        return
    for first_probability, first in _derive(grammar, holes[0], floor, productive, memo):
        for rest_probability, rest in _fill(grammar, holes[1:], floor / first_probability, productive, memo):
            yield first_probability * rest_probability, (first, *rest)



# --- functions ----------------------------------------------------------------------------------


def real_key_bits(values: np.ndarray) -> np.ndarray:
    """The equivalence key of float64 values, as uint64 bit patterns: rounded to nearest at 32
    stored mantissa bits (ties away from zero; a carry may reach the exponent, or inf); every NaN
    the one quiet NaN, −0 as +0."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    exponent_all_ones = (bits & np.uint64(0x7FF0000000000000)) == np.uint64(0x7FF0000000000000)
    mantissa = bits & np.uint64(0x000FFFFFFFFFFFFF)
    rounded = (bits + np.uint64(1 << 19)) & np.uint64(0xFFFFFFFFFFF00000)
    key = np.where(exponent_all_ones, bits, rounded)  # ±inf stay
    key = np.where(exponent_all_ones & (mantissa != 0), np.uint64(0x7FF8000000000000), key)  # NaN
    key = np.where(np.asarray(values) == 0.0, np.uint64(0), key)  # ±0
    return key.astype(np.uint64)


def function_key(values: np.ndarray, kind: str) -> tuple[int, ...]:
    """The key of a function from its values ('bool', 'int' or 'real' values)."""
    if kind == "real":
        return tuple(int(word) for word in real_key_bits(values))
    return tuple(int(value) for value in np.asarray(values).astype(np.int64))


def _equivalence_points(task: Task, equivalence: str) -> np.ndarray:
    if equivalence not in ("all", "train"):
        raise ValueError(f"equivalence must be 'all' or 'train', not {equivalence!r}")
    return np.ones(task.n_points, dtype=bool) if equivalence == "all" else np.asarray(task.train)


def reference_functions(
    task: Task,
    *,
    max_bits: float,
    equivalence: str = "all",
    type_: Type | None = None,
    drop_nan: bool = False,
) -> dict[tuple[int, ...], Found]:
    """Every distinct function of type `type_` (default: the task's output type) that a program
    of at most `max_bits` computes, by its key at the equivalence points: the least-bits
    derivation met (the first met among equals).

    `drop_nan` leaves out the functions that are NaN at a training point, as the enumerator does
    for grammars with no operation that can turn a NaN into a number (space.NAN_ABSORBING)."""
    type_ = type_ or task.output_type
    mask = _equivalence_points(task, equivalence)
    env, size = task.env(mask), int(mask.sum())
    train_here = np.asarray(task.train)[mask]
    functions: dict[tuple[int, ...], Found] = {}
    for found in derivations(task.grammar, type_, max_bits=max_bits):
        values = evaluate(found.program, env, size=size)
        if drop_nan and type_.kind == "real" and np.isnan(values[train_here]).any():
            continue
        key = function_key(values, type_.kind)
        if key not in functions or found.probability > functions[key].probability:
            functions[key] = found
    return functions


def reference_fits(values: np.ndarray, target: np.ndarray, kind: str) -> bool:
    """Do `values` reproduce the training `target`? Exactly, or for reals to FIT_RTOL relative
    to the target and its RMS (the tolerance search.synthesize documents)."""
    values, target = np.asarray(values), np.asarray(target)
    if kind != "real":
        return bool(np.array_equal(values.astype(np.int64), target.astype(np.int64)))
    scale = math.sqrt(float(np.mean(target.astype(np.float64) ** 2))) if len(target) else 1.0
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(values - target) <= FIT_RTOL * (np.abs(target) + scale)))


def _fitting(task: Task, max_bits: float) -> Iterator[tuple[Found, np.ndarray]]:
    """Derivations of the output type that fit the training data, with their values at every
    point."""
    train, target = np.asarray(task.train), task.target_values[task.train]
    for found in derivations(task.grammar, task.output_type, max_bits=max_bits):
        values = evaluate(found.program, task.env(), size=task.n_points)
        if reference_fits(values[train], target, task.output_type.kind):
            yield found, values


def reference_minimal(task: Task, *, max_bits: float) -> Found | None:
    """The shortest program (least bits, ≤ `max_bits`) that fits the training data, or None."""
    best: Found | None = None
    for found, _ in _fitting(task, max_bits):
        if best is None or found.probability > best.probability:
            best = found
    return best


def reference_posterior(task: Task, *, max_bits: float, window: float = 10.0) -> dict[tuple[int, ...], float]:
    """The posterior over the distinct functions (keyed at all the points) that fit the training
    data, within `window` bits of the shortest fit: weight ∝ 2^-bits of each function's shortest
    program. `max_bits` must reach the shortest fit plus the window for it to be complete."""
    shortest: dict[tuple[int, ...], Fraction] = {}
    for found, values in _fitting(task, max_bits):
        key = function_key(values, task.output_type.kind)
        shortest[key] = max(shortest.get(key, Fraction(0)), found.probability)
    if not shortest:
        return {}
    least = min(_bits(probability) for probability in shortest.values())
    members = {
        key: probability for key, probability in shortest.items() if _bits(probability) <= least + window
    }
    total = sum(members.values())
    return {key: float(probability / total) for key, probability in members.items()}

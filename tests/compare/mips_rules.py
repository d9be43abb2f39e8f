"""An independent, deliberately plain Python implementation of every MIPS task's rule.

Written from the rules (each generator's semantics, as the catalogue states them, corrected where the
data actually used differs: see `compare/benchmarks/mips_catalog.py`), never from occam's task language,
so that the built-in tasks of issue 13 can be checked against it. Loops over steps with explicit
state, no vectorized tricks: slow and obviously right.

Contract of every rule: it takes one sequence as an integer array of shape `(length, inputs)` and
returns its per-step outputs, an int64 array of shape `(length,)` — or `(length, outputs)` for the one
task with more than one output (Newton_Magnetic). Rules work for any length, not only the catalogue's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compare.benchmarks.mips_catalog import by_name

Rule = Callable[[np.ndarray], np.ndarray]


def _column(x: np.ndarray) -> list[int]:
    """The one input of a single-input task, as Python ints."""
    return [int(v) for v in x[:, 0]]


def _pad(values: list[int], width: int) -> list[int]:
    """`width` zeros in front: the convention for inputs before the first step."""
    return [0] * width + values


def _out(values: list[int] | list[list[int]]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def base_addition(base: int) -> Rule:
    def rule(x: np.ndarray) -> np.ndarray:
        carry, digits = 0, []
        for a, b in x.tolist():
            total = a + b + carry
            digits.append(total % base)
            carry = total // base
        return _out(digits)

    return rule


def bitwise(op: Callable[[int, int], int]) -> Rule:
    return lambda x: _out([op(a, b) for a, b in x.tolist()])


def parity_last(window: int) -> Rule:
    def rule(x: np.ndarray) -> np.ndarray:
        bits = _pad(_column(x), window - 1)
        return _out([sum(bits[t : t + window]) % 2 for t in range(len(x))])

    return rule


def running(step: Callable[[int, int], int], start: int) -> Rule:
    """Output the state after each step of `state = step(state, input)`."""

    def rule(x: np.ndarray) -> np.ndarray:
        state, outputs = start, []
        for value in _column(x):
            state = step(state, value)
            outputs.append(state)
        return _out(outputs)

    return rule


def add_mod(modulus: int) -> Rule:
    return running(lambda total, value: (total + value) % modulus, 0)


def sum_last(window: int) -> Rule:
    def rule(x: np.ndarray) -> np.ndarray:
        values = _pad(_column(x), window - 1)
        return _out([sum(values[t : t + window]) for t in range(len(x))])

    return rule


def prev(lag: int) -> Rule:
    def rule(x: np.ndarray) -> np.ndarray:
        values = _pad(_column(x), lag)
        return _out(values[: len(x)])

    return rule


def with_previous(combine: Callable[[int, int], int]) -> Rule:
    """`combine(current, previous)` at each step, the input before the first being 0."""

    def rule(x: np.ndarray) -> np.ndarray:
        values = _pad(_column(x), 1)
        return _out([combine(values[t + 1], values[t]) for t in range(len(x))])

    return rule


def each(function: Callable[[int], int]) -> Rule:
    return lambda x: _out([function(v) for v in _column(x)])


def majority(x: np.ndarray) -> np.ndarray:
    counts: dict[int, int] = {}
    outputs = []
    for value in _column(x):
        counts[value] = counts.get(value, 0) + 1
        most = max(counts.values())
        outputs.append(min(v for v, c in counts.items() if c == most))
    return _out(outputs)


def bit_palindrome(x: np.ndarray) -> np.ndarray:
    bits = _column(x)
    return _out([int(bits[: t + 1] == bits[: t + 1][::-1]) for t in range(len(bits))])


def balanced_parenthesis(x: np.ndarray) -> np.ndarray:
    depth, broken, outputs = 0, False, []
    for bit in _column(x):
        depth += 1 if bit == 0 else -1
        broken = broken or depth < 0
        outputs.append(int(depth == 0 and not broken))
    return _out(outputs)


def alternating(window: int) -> Rule:
    def rule(x: np.ndarray) -> np.ndarray:
        bits = _pad(_column(x), window - 1)
        outputs = []
        for t in range(len(x)):
            last = bits[t : t + window]
            outputs.append(int(all(last[i] != last[i + 1] for i in range(window - 1))))
        return _out(outputs)

    return rule


def bit_dot_prod_mod2(x: np.ndarray) -> np.ndarray:
    parity, outputs = 0, []
    for a, b in x.tolist():
        parity ^= a & b
        outputs.append(parity)
    return _out(outputs)


def divide(divisor: int) -> Rule:
    """Long division, MSB first; the quotient bit appears one step late (y_0 = 0), as in their data."""

    def rule(x: np.ndarray) -> np.ndarray:
        remainder, quotient_bits = 0, []
        for bit in _column(x):
            remainder = 2 * remainder + bit
            quotient_bits.append(remainder // divisor)
            remainder %= divisor
        return _out([0, *quotient_bits][: len(x)])

    return rule


def dithering(x: np.ndarray) -> np.ndarray:
    total, outputs = 0, []
    for value in _column(x):
        before = total // 15
        total += value
        outputs.append(total // 15 - before)
    return _out(outputs)


def newton(force: Callable[[int, int, int], int]) -> Rule:
    """A unit mass from rest: acceleration `force(input, position, velocity)`, v += a, p += v; output p."""

    def rule(x: np.ndarray) -> np.ndarray:
        position = velocity = 0
        outputs = []
        for value in _column(x):
            velocity += force(value, position, velocity)
            position += velocity
            outputs.append(position)
        return _out(outputs)

    return rule


def newton_magnetic(x: np.ndarray) -> np.ndarray:
    px = py = vx = vy = 0
    outputs = []
    for fx, fy in x.tolist():
        ax, ay = fx - vy, fy + vx  # the Lorentz force of a unit field perpendicular to the plane
        vx, vy = vx + ax, vy + ay
        px, py = px + vx, py + vy
        outputs.append([px, py])
    return _out(outputs)


PERFECT_SQUARES = {n * n for n in range(10)}

RULES: dict[str, Rule] = {
    "Binary_Addition": base_addition(2),
    **{f"Base_{b}_Addition": base_addition(b) for b in range(3, 8)},
    "Bitwise_Xor": bitwise(lambda a, b: a ^ b),
    "Bitwise_Or": bitwise(lambda a, b: a | b),
    "Bitwise_And": bitwise(lambda a, b: a & b),
    "Bitwise_Not": each(lambda v: 1 - v),
    **{f"Parity_Last{k}": parity_last(k) for k in (2, 3, 4)},
    "Parity_All": running(lambda s, v: (s + v) % 2, 0),
    "Parity_Zeros": running(lambda s, v: (s + (v == 0)) % 2, 0),
    "Evens_Counter": running(lambda s, v: s + (v % 2 == 0), 0),
    "Sum_All": running(lambda s, v: s + v, 0),
    **{f"Sum_Last{k}": sum_last(k) for k in range(2, 8)},
    "Current_Number": each(lambda v: v),
    **{f"Prev{k}": prev(k) for k in range(1, 6)},
    "Previous_Equals_Current": with_previous(lambda now, before: int(now == before)),
    "Diff_Last2": with_previous(lambda now, before: now - before),
    "Abs_Diff": with_previous(lambda now, before: abs(now - before)),
    "Abs_Current": each(abs),
    "Diff_Abs_Values": with_previous(lambda now, before: abs(now) - abs(before)),
    "Min_Seen": running(min, 10**9),
    "Max_Seen": running(max, -(10**9)),
    **{f"Majority_0_{k}": majority for k in (1, 2, 3)},
    "Evens_Detector": each(lambda v: int(v % 2 == 0)),
    "Perfect_Square_Detector": each(lambda v: int(v in PERFECT_SQUARES)),
    "Bit_Palindrome": bit_palindrome,
    "Balanced_Parenthesis": balanced_parenthesis,
    "Parity_Bits_Mod2": lambda x: _out([t % 2 for t in range(len(x))]),
    "Alternating_Last3": alternating(3),
    "Alternating_Last4": alternating(4),
    "Bit_Shift_Right": prev(1),
    "Bit_Dot_Prod_Mod2": bit_dot_prod_mod2,
    **{f"Div_{d}": divide(d) for d in (3, 5, 7)},
    **{f"Add_Mod_{m}": add_mod(m) for m in range(3, 9)},
    "Dithering": dithering,
    "Newton_Freebody": newton(lambda f, p, v: f),
    "Newton_Gravity": newton(lambda f, p, v: f - 1),
    "Newton_Spring": newton(lambda f, p, v: f - p),
    "Newton_Magnetic": newton_magnetic,
}


def generate(name: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` sequences of the task `name`: inputs uniform over the catalogue's alphabets.

    Returns `(inputs, outputs)`, int64 arrays of shapes `(count, length, n_inputs)` and
    `(count, length)` (or `(count, length, outputs)`). Uniform even for Bit_Palindrome, whose
    generator plants palindromes (its catalogue `note`).
    """
    task = by_name(name)
    rng = np.random.default_rng(seed)
    columns = [rng.integers(a.low, a.high + 1, size=(count, task.length)) for a in task.inputs]
    inputs = np.stack(columns, axis=-1).astype(np.int64)
    outputs = np.stack([RULES[name](sequence) for sequence in inputs])
    return inputs, outputs

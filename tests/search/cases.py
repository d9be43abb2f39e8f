"""Small tasks for the differential tests of the search, and helpers to run the enumerator.

Each case is a task written inline, with the bound (bits) up to which its grammar is small
enough for the reference enumerator (search/reference.py) to derive every program in well
under a second. `exact_reals` marks real grammars where the 32-bit equivalence rounding cannot
split a function: every value is a dyadic rational far from 2^33 significant bits, so the
rounding is exact and the key is the value itself (up to the sign of zero, which no operation
of those grammars can observe: no division, no `%` by a zero whose sign decides anything).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import dsl
from search.enumerate import Budget, Enumerator, Stop
from search.reference import function_key
from search.space import build_space

MEMORY = 2**28  # bytes of banks for the small enumerations of the tests


def task_of(text: str) -> dsl.Task:
    (task,) = dsl.parse_tasks(text)
    return task


@dataclass(frozen=True)
class Case:
    name: str
    max_bits: float  # the reference derives every program up to here quickly
    exact_reals: bool = True  # no real rounding can split functions (module docstring)
    text: str = ""  # the task file

    @property
    def task(self) -> dsl.Task:
        return task_of(self.text)

    def param(self):
        return pytest.param(self, id=self.name)


CASES = [
    Case("bool", 17.0, text="""task t {
        input a, b, c: bool
        output bool
        target (a and b) or not c
        grammar { bool -> a, b, c, not bool, bool and bool, bool or bool, bool ^ bool }
        split train 6 seed 2
    }"""),
    Case("bool_64_points", 13.5, text="""task t {
        input a, b, c, d, e, f: bool
        output bool
        target a and not f
        grammar { bool -> a, b, c, d, e, f, not bool, bool and bool, bool or bool, bool ^ bool }
        split train 40 seed 1
    }"""),
    # 128 points: truth tables of two words; on the 100 training points ('train') the last word
    # holds 36 points, the bits past them zero.
    Case("bool_128_points", 13.5, text="""task t {
        input a, b, c, d, e, f, g: bool
        output bool
        target a and not g
        grammar { bool -> a, b, c, d, e, f, g, not bool, bool and bool, bool or bool }
        split train 100 seed 3
    }"""),
    Case("int_ranges", 15.6, text="""task t {
        input x: int 0..5
        input y: int -3..2
        output int
        target x * y + x
        grammar { int -> x, y, 1, int + int, int - int, int * int }
        split train 40% seed 1
    }"""),
    Case("u8_wraparound", 15.0, text="""task t {
        input x: u8 240..255
        input y: u8 0..3
        output u8
        target x + x + y
        grammar { u8 -> x, y, 1, u8 + u8, u8 - u8, u8 * u8, ~u8, -u8 }
        split train 50% seed 4
    }"""),
    Case("i8_shifts", 14.0, text="""task t {
        input s: i8 -128..-120
        input t: i8 120..127
        output i8
        target (s ^ t) >> 1
        grammar { i8 -> s, t, 1, i8 ^ i8, i8 & i8, i8 | i8, i8 >> 1, i8 << 1, i8 + i8 }
        split train 50% seed 0
    }"""),
    Case("popcount_u8", 12.0, text="""task t {
        input x: u8 240..255
        input y: u8 0..7
        output u8
        target popcount(x & y)
        grammar { u8 -> x, y, 1, popcount(u8), u8 & u8, u8 + u8, u8 >> 1 }
        split train 50% seed 3
    }"""),
    Case("popcount_negative", 14.0, text="""task t {
        input a: int -10..10
        input s: i8 -128..-100
        output i8
        target popcount(s) - i8(popcount(a))
        grammar { i8 -> s, i8(int), popcount(i8), i8 - i8, ~i8
                  int -> a, 1, popcount(int), -int, int + int }
        split train 50% seed 1
    }"""),
    Case("reals_exact", 15.0, text="""task t {
        input x: real -2..2
        output real
        target x * x - x
        grammar { real -> x, 1, 0.5, real + real, real - real, real * real, -real }
        sample 9 grid
        split train 5 seed 3
    }"""),
    Case("reals_nan_dropped", 16.0, text="""task t {
        input x: real -2..2
        input y: real -1..1
        output real
        target (x - y) % 1
        grammar { real -> x, y, 1, real - real, real % real, (real - real) % y }
        sample 5 grid
        split train 12 seed 1
    }"""),
    Case("mixed_compare_if", 17.0, text="""task t {
        input x, y: int 0..3
        output int
        target if(x < y, y, x)
        grammar {
            int -> x, y, 1, int + int, if(bool, int, int), int(bool)
            bool -> int < int, int == int, not bool
        }
        split train 10 seed 5
    }"""),
    Case("levels_close_together", 16.0, text="""task t {
        input x, y: int 0..2
        input p, q: bool
        output int
        target if(p and q, x, y + y)
        grammar {
            int -> x, y, int + int, if(bool, int, int)
            bool -> p, q, not bool, bool and bool
        }
        split train 20 seed 4
    }"""),
    Case("mixed_reals_if", 16.0, text="""task t {
        input x: real -2..2
        input n: int 0..2
        output real
        target if(x < real(n), x, real(n))
        grammar {
            real -> x, 1, real(int), real * real, if(bool, real, real), real % real
            bool -> real < real, real == real
            int -> n, int + int
        }
        sample 5 grid
        split train 8 seed 2
    }"""),
    Case("weighted", 16.0, text="""task t {
        input x, y: int 0..4
        output int
        target x * y + y
        grammar { int -> x [3], y [0.5], 1, int + int [2], int * int [0.25] }
        split train 60% seed 3
    }"""),
    Case("templates", 17.0, text="""task t {
        input a, b: int 0..6
        output int
        target (a + 1 + b * 2) % 5
        grammar { int -> a, b, a + 1, (int + int) % 5, int >> 1, int * 2, 3 - int, -int }
        split train 50% seed 7
    }"""),
    # One combination of the template (its three holes at the 21 leaves) makes 9,261 programs, past
    # one batch of the composite evaluation (CHUNK // 256 points = 8,192). No split: on the
    # training points too, the batch is that of 256 points.
    Case("template_past_one_batch", 4 * math.log2(22), text="""task t {
        input x: u8
        output u8
        target (x + 17) & x
        grammar {
            u8 -> x, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, (u8 + u8) & u8
        }
    }"""),
    # A template of four holes: more children than the kernels store (enumerate.py keeps them).
    Case("template_four_holes", 7 * math.log2(5) + 1e-9, text="""task t {
        input a, b: int 0..3
        output int
        target if(a < b, b, a) + 1
        grammar { int -> a, b, 1, int + int, if(int < int, int, int) }
        split train 10 seed 2
    }"""),
    Case("unary_commutative", 14.0, text="""task t {
        input p, q: int -2..2
        output int
        target max(p, -q)
        grammar { int -> p, q, 2, abs(int), -int, ~int, min(int, int), max(int, int), int * int, int ^ int }
        split train 12 seed 1
    }"""),
    Case("conversions", 14.0, text="""task t {
        input x: real 0..3
        input n: u8 250..255
        output int
        target int(x) + 1
        grammar {
            int -> 1, int(real), int + int, int(bool)
            real -> x, real(u8), real * real
            u8 -> n, u8(int), u8 + u8
            bool -> real < real
        }
        sample 4 grid
        split train 10 seed 0
    }"""),
    Case("koza_inexact", 16.0, exact_reals=False, text="""task t {
        input x: real -1..1
        output real
        target sin(x) * x
        grammar koza
        sample 12 uniform seed 0
    }"""),
]  # fmt: skip

EXACT_CASES = [case.param() for case in CASES if case.exact_reals]


# --- running the enumerator ---------------------------------------------------------------------


@dataclass
class Enumerated:
    """What the enumerator kept: per type index, key -> (bits, program), and the enumerator."""

    functions: list[dict[tuple[int, ...], tuple[float, dsl.Expr]]]
    enumerator: Enumerator
    stop: str | None


def run_enumerator(task: dsl.Task, max_bits: float, equivalence: str = "all") -> Enumerated:
    """Enumerate every level up to `max_bits`; the kept programs by type, keyed as the
    reference keys them (from the bank's values)."""
    space = build_space(task, equivalence=equivalence)
    enumerator = Enumerator(space, Budget(max_bits=max_bits, max_memory_bytes=MEMORY))
    stop = None
    try:
        for _ in enumerator.levels():
            pass
    except Stop as reason:
        stop = reason.reason
    functions = []
    for bank in enumerator.banks:
        kept: dict[tuple[int, ...], tuple[float, dsl.Expr]] = {}
        for level in bank.levels:
            rows = bank_values(space, bank.values[level.start : level.end])
            for row, values in zip(range(level.start, level.end), rows):
                key = function_key(values, bank.type.kind)
                assert key not in kept, f"two rows of one function in the {bank.type} bank"
                kept[key] = (level.bits, enumerator.program(bank.type_index, row))
        functions.append(kept)
    return Enumerated(functions, enumerator, stop)


def bank_values(space, rows: np.ndarray) -> np.ndarray:
    """(n, P) values of bank rows: as stored, or unpacked from truth-table words (bit p % 64 of
    word p // 64 is the value at point p) when the space packs its bools."""
    if not getattr(space, "packed", False):
        return rows
    points = np.arange(space.n_points)
    words = np.ascontiguousarray(rows).view(np.uint64)[:, points // 64]
    return ((words >> (points % 64).astype(np.uint64)) & np.uint64(1)).astype(np.uint8)


def same_bits(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)


def values_at(program: dsl.Expr, task: dsl.Task, mask: np.ndarray | None = None) -> np.ndarray:
    env = task.env(mask)
    size = task.n_points if mask is None else int(np.count_nonzero(mask))
    return dsl.evaluate(program, env, size=size)


# Shared by the budget tests of search/ and compare/: a real task whose search runs to any budget
# (its target is far beyond koza's short programs), and a noisy Boolean task (one input unused).
SLOW_REAL = """task slow {
    input x: real 0.5..3
    output real
    target sin(x) * exp(x) / (x + cos(x * x)) - log(x) * x
    grammar koza
    sample 20 uniform seed 0
}"""

NOISY_BOOL = """task noisy {
    input x, y, z, w: bool
    output bool
    target x and y or z
    grammar { bool -> x, y, z, w, not bool, bool and bool, bool or bool }
    noise label 10% seed 1
}"""

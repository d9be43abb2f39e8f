"""Types of occam programs, and the ranges that inputs and outputs may declare.

Three kinds of value, each stored in one numpy dtype:

| type            | kind | values                                   | dtype   |
|-----------------|------|------------------------------------------|---------|
| `bool`          | bool | false, true                              | bool    |
| `int`           | int  | 64-bit two's complement, wraps on overflow | int64 |
| `uN` (1≤N≤63)   | int  | N-bit unsigned, 0 … 2^N−1, wraps mod 2^N  | int64   |
| `iN` (2≤N≤63)   | int  | N-bit two's complement, −2^(N−1) … 2^(N−1)−1 | int64 |
| `real`          | real | IEEE-754 double                          | float64 |

Bit-vector types (`u8`, `i16`, …) are how a task asks for fixed-width wrap-around arithmetic:
every operation on them is the `int` operation followed by wrapping the result into N bits.
Ranges (`int 0..96`, `real -1..1`) belong to inputs and outputs, not to types: they set a
domain, the type checker ignores them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Type", "Range", "BOOL", "INT", "REAL", "is_type_name"]

_BITVECTOR = re.compile(r"([ui])([0-9]+)")


@dataclass(frozen=True, slots=True)
class Type:
    """A value type, named as in the language: `bool`, `int`, `real`, `u8`, `i16`, ...

    Construct with `Type.named(text)`, which validates; the constants `BOOL`, `INT`, `REAL`
    cover the common cases.
    """

    name: str

    @staticmethod
    def named(text: str) -> Type | None:
        """The type called `text`, or None when `text` names no type."""
        if text in ("bool", "int", "real"):
            return Type(text)
        match = _BITVECTOR.fullmatch(text)
        if match and not text[1:].startswith("0") and len(text) <= 3:  # u1 … u63: no int() of 5,000 digits
            width = int(match.group(2))
            low = 2 if match.group(1) == "i" else 1
            if low <= width <= 63:
                return Type(text)
        return None

    def __repr__(self) -> str:
        return f"Type({self.name!r})"

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        """'bool', 'int' (also for bit-vectors) or 'real': what an operation dispatches on."""
        return "int" if self.is_bitvector else self.name

    @property
    def is_bitvector(self) -> bool:
        return self.name[0] in "ui" and self.name != "int"

    @property
    def width(self) -> int:
        """Bits per value: 1 for bool, 64 for int and real, N for uN and iN."""
        if self.is_bitvector:
            return int(self.name[1:])
        return 1 if self.name == "bool" else 64

    @property
    def signed(self) -> bool:
        return self.name[0] == "i"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype({"bool": np.bool_, "real": np.float64}.get(self.kind, np.int64))

    @property
    def bounds(self) -> tuple[int, int] | None:
        """Smallest and largest value of an integer type, None for bool and real."""
        if self.kind != "int":
            return None
        if not self.is_bitvector:
            return (-(2**63), 2**63 - 1)
        if self.signed:
            return (-(2 ** (self.width - 1)), 2 ** (self.width - 1) - 1)
        return (0, 2**self.width - 1)

    def wrap(self, values: np.ndarray) -> np.ndarray:
        """int64 `values` reduced into this type (two's complement for iN); identity otherwise."""
        if not self.is_bitvector:
            return values
        mask = np.int64(2**self.width - 1)
        if not self.signed:
            return values & mask
        half = np.int64(2 ** (self.width - 1))
        return ((values + half) & mask) - half

    def wrap_int(self, value: int) -> int:
        """A Python integer reduced into this type, as `wrap` does for arrays."""
        bounds = self.bounds
        if bounds is None:  # bool and real
            return value
        low, high = bounds
        span = high - low + 1
        return (value - low) % span + low


BOOL = Type("bool")
INT = Type("int")
REAL = Type("real")


def is_type_name(text: str) -> bool:
    return Type.named(text) is not None


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive range `low..high` of an input or output (integers or reals)."""

    low: int | float
    high: int | float

    def __str__(self) -> str:
        return f"{_number(self.low)}..{_number(self.high)}"

    @property
    def size(self) -> int:
        """How many integers it holds (0 when empty)."""
        return max(0, math.floor(self.high) - math.ceil(self.low) + 1)

    def contains(self, values: np.ndarray) -> np.ndarray:
        return (values >= self.low) & (values <= self.high)


def _number(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))

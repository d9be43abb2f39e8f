"""A slow, obviously-right scalar interpreter of occam programs: the tests' oracle.

One point at a time, with Python integers (exact, then wrapped into the node's type as
types.py documents) and Python floats, each primitive written from its `semantics` in
dsl/primitives.py with every IEEE special case decided here, case by case. It shares nothing
with the numpy reference evaluator but the last-bit rounding of transcendental functions:
numpy's SIMD `exp`, `log`, `tan`, `tanh` and `pow` differ from the C library's by an ulp, and
that choice is numpy's to make, so for ordinary finite arguments the oracle takes the value
numpy computes for one element.

`checked=True` is for the sympy contract: an `int` result that leaves the int64 range (before
wrapping, or a saturating `int(real)`) raises `Overflow` instead of wrapping. Bit-vectors wrap
in either mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from dsl import INT, Apply, Lit, Op, Var
from dsl.program import Expr

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MODULUS = 2**64


class Overflow(Exception):
    """An `int` value left the int64 range (checked mode)."""


# --- reals ----------------------------------------------------------------------------------------


def _numpy(function: Callable, *args: float) -> float:
    with np.errstate(all="ignore"):
        return float(function(*(np.array([arg], dtype=np.float64) for arg in args))[0])


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y.is_integer() and int(y) % 2 == 1


def _div(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _floor(x: float) -> float:
    if not math.isfinite(x):
        return x
    return math.copysign(0.0, x) if math.floor(x) == 0 else float(math.floor(x))


def _ceil(x: float) -> float:
    if not math.isfinite(x):
        return x
    return math.copysign(0.0, x) if math.ceil(x) == 0 else float(math.ceil(x))


def _mod(x: float, y: float) -> float:
    return math.nan if y == 0 else x % y  # Python's float `%`: the sign of the divisor


def _pow(x: float, y: float) -> float:
    # C99 / IEEE pow, with Python's math.pow deciding the special cases (it raises where C
    # would signal): ValueError for a negative base with a non-integer exponent, or 0 to a
    # negative power; OverflowError for a finite overflow.
    try:
        result = math.pow(x, y)
    except ValueError:
        if x == 0:  # 0 ** negative: ±inf, the sign of zero kept for odd integer exponents
            return math.copysign(math.inf, x) if _is_odd_integer(y) else math.inf
        return math.nan
    except OverflowError:
        return -math.inf if x < 0 and _is_odd_integer(y) else math.inf
    if math.isfinite(result) and result != 0 and math.isfinite(x) and math.isfinite(y):
        return _numpy(np.power, x, y)  # the rounding of the last bit
    return result


def _exp(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        return 0.0 if x == -math.inf else x
    try:
        math.exp(x)
    except OverflowError:
        return math.inf
    return _numpy(np.exp, x)


def _log(x: float) -> float:
    if math.isnan(x) or x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    return math.inf if x == math.inf else _numpy(np.log, x)


def _sqrt(x: float) -> float:
    if math.isnan(x) or x < 0:
        return math.nan
    return math.sqrt(x)  # correctly rounded, as numpy's; sqrt(-0.0) = -0.0


def _periodic(function: Callable) -> Callable[[float], float]:
    def apply(x: float) -> float:
        return math.nan if math.isinf(x) or math.isnan(x) else _numpy(function, x)

    return apply


def _tanh(x: float) -> float:
    if math.isinf(x):
        return math.copysign(1.0, x)
    return x if math.isnan(x) else _numpy(np.tanh, x)


def _min(x: float, y: float) -> float:
    if math.isnan(x) or math.isnan(y):
        return math.nan
    # Equal values: only the sign of a zero tells them apart, which the semantics leave open;
    # numpy gives the second argument, and so does the oracle.
    return x if x < y else y


def _max(x: float, y: float) -> float:
    if math.isnan(x) or math.isnan(y):
        return math.nan
    return x if x > y else y


_REAL: dict[Op, Callable[..., float]] = {
    Op.NEG_R: lambda x: -x,
    Op.ADD_R: lambda x, y: x + y,
    Op.SUB_R: lambda x, y: x - y,
    Op.MUL_R: lambda x, y: x * y,
    Op.DIV_R: _div,
    Op.FLOORDIV_R: lambda x, y: _floor(_div(x, y)),
    Op.MOD_R: _mod,
    Op.POW_R: _pow,
    Op.ABS_R: math.fabs,
    Op.MIN_R: _min,
    Op.MAX_R: _max,
    Op.SIN: _periodic(np.sin),
    Op.COS: _periodic(np.cos),
    Op.TAN: _periodic(np.tan),
    Op.EXP: _exp,
    Op.LOG: _log,
    Op.SQRT: _sqrt,
    Op.TANH: _tanh,
    Op.FLOOR: _floor,
    Op.CEIL: _ceil,
    Op.PI: lambda: math.pi,
}

# Comparisons and bool operations: Python's, which are IEEE's for floats (NaN compares false).
_TO_BOOL: dict[Op, Callable[..., bool]] = {
    Op.NOT: lambda x: not x,
    Op.AND: lambda x, y: x and y,
    Op.OR: lambda x, y: x or y,
    Op.XOR_B: lambda x, y: x != y,
    Op.EQ_B: lambda x, y: x == y,
    Op.NE_B: lambda x, y: x != y,
    Op.LT_I: lambda x, y: x < y,
    Op.LE_I: lambda x, y: x <= y,
    Op.EQ_I: lambda x, y: x == y,
    Op.NE_I: lambda x, y: x != y,
    Op.LT_R: lambda x, y: x < y,
    Op.LE_R: lambda x, y: x <= y,
    Op.EQ_R: lambda x, y: x == y,
    Op.NE_R: lambda x, y: x != y,
}

# --- integers: exact, then wrapped (or checked) by `_integer` -------------------------------------


def _pow_int(x: int, y: int, checked: bool) -> int:
    if y < 0:
        return 1 if x == 1 else (-1 if y % 2 else 1) if x == -1 else 0
    if not checked:
        return pow(x, y, _MODULUS)  # ≡ x ** y mod 2^64, hence mod 2^N: wrapping is exact
    if abs(x) >= 2 and y >= 64:
        raise Overflow(f"{x} ** {y}")
    return x**y


def _shift_left(x: int, s: int, checked: bool) -> int:
    if s < 0:
        return x >> min(-s, 64)  # ⌊x / 2^-s⌋; by ≥ 64 bits an int64 is 0 or −1
    if checked and x != 0 and s >= 64:
        raise Overflow(f"{x} << {s}")
    return x << min(s, 64)  # 2^64 ≡ 0: a shift by ≥ 64 wraps to 0


def _integer(op: Op, args: list, checked: bool) -> int:
    match op, args:
        case Op.NEG_I, [x]:
            return -x
        case Op.ADD_I, [x, y]:
            return x + y
        case Op.SUB_I, [x, y]:
            return x - y
        case Op.MUL_I, [x, y]:
            return x * y
        case Op.FLOORDIV_I, [x, y]:
            return 0 if y == 0 else x // y  # MIN // −1 = 2^63 wraps to MIN
        case Op.MOD_I, [x, y]:
            return x if y == 0 else x % y
        case Op.POW_I, [x, y]:
            return _pow_int(x, y, checked)
        case Op.BITNOT, [x]:
            return ~x
        case Op.BITAND, [x, y]:
            return x & y
        case Op.BITOR, [x, y]:
            return x | y
        case Op.BITXOR, [x, y]:
            return x ^ y
        case Op.SHL, [x, s]:
            return _shift_left(x, s, checked)
        case Op.SHR, [x, s]:
            return _shift_left(x, -s, checked)
        case Op.ABS_I, [x]:
            return abs(x)
        case Op.POPCOUNT, [x]:
            return bin(x & (_MODULUS - 1)).count("1")  # the ones of the 64-bit two's complement
        case Op.MIN_I, [x, y]:
            return min(x, y)
        case Op.MAX_I, [x, y]:
            return max(x, y)
        case Op.IF_I, [c, x, y]:
            return x if c else y
        case Op.BOOL_TO_INT, [b]:
            return int(b)
        case Op.CONVERT_I, [x]:
            return x
        case Op.REAL_TO_INT, [x]:
            if math.isnan(x):
                return 0
            if math.isinf(x):
                truncated = INT64_MAX + 1 if x > 0 else INT64_MIN - 1
            else:
                truncated = math.trunc(x)
            if not INT64_MIN <= truncated <= INT64_MAX:
                if checked:
                    raise Overflow(f"int({x})")
                return INT64_MAX if truncated > 0 else INT64_MIN  # saturation
            return truncated
    raise AssertionError(f"no integer semantics for {op!r}")


def _apply(node: Apply, args: list, checked: bool) -> bool | int | float:
    op, type_ = node.op, node.type
    if op in _TO_BOOL:
        return _TO_BOOL[op](*args)
    if op in (Op.IF_B, Op.IF_R):
        return args[1] if args[0] else args[2]
    if op in _REAL:
        return _REAL[op](*args)
    if op == Op.BOOL_TO_REAL:
        return 1.0 if args[0] else 0.0
    if op == Op.INT_TO_REAL:
        return float(args[0])  # Python rounds an int to the nearest double, ties to even
    checked = checked and type_ == INT  # bit-vectors wrap, in either mode
    value = _integer(op, args, checked)
    if checked and not INT64_MIN <= value <= INT64_MAX:
        raise Overflow(f"{node} = {value}")
    return type_.wrap_int(value)


def values(
    program: Expr, point: Mapping[str, bool | int | float], *, checked: bool = False
) -> dict[Expr, object]:
    """The value of every sub-program of `program` at `point` (equal sub-programs, equal values)."""
    memo: dict[Expr, object] = {}

    def run(node: Expr) -> object:
        if node in memo:
            return memo[node]
        match node:
            case Lit(value=value):
                result = value
            case Var(name=name, type=type_):
                result = point[name]
                if type_.kind == "real":
                    result = float(result)
            case Apply(args=args):
                result = _apply(node, [run(arg) for arg in args], checked)
            case _:
                raise TypeError(f"cannot run {node!r}")
        memo[node] = result
        return result

    run(program)
    return memo


def run(
    program: Expr, point: Mapping[str, bool | int | float], *, checked: bool = False
) -> bool | int | float:
    """The value of `program` at one point."""
    return values(program, point, checked=checked)[program]

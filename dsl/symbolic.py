"""Sympy export of programs.

`to_sympy(program)` gives the mathematical function a program computes, built from each
primitive's `sympy` column in the primitive table. Inputs become symbols (`integer=True` for
integer types, `real=True` for reals). Bitwise operations on integers are the functions
`bitand`, `bitor`, `bitxor` below, which evaluate on integer arguments and print to numpy.

The contract, checked by the tests: the sympy expression agrees with the reference evaluator at
every point where the evaluation stays finite and in range — no NaN or ±inf in any
sub-program, no 64-bit `int` overflow. (Sympy reasons about exact numbers: it simplifies
`x - x` to 0 even where x is inf.) Bit-vector wrap-around *is* exported, as `Mod(…, 2**N)`.
To evaluate it at a point, replace all the inputs at once and evaluate each `Piecewise` in the
branch its condition selects only (tests/dsl/test_sympy.py does): `subs` replaces one input at
a time and re-evaluates the `Mod`s around those still symbolic, where sympy can be wrong (see
`Mod` below), and `xreplace` evaluates every branch, where `a % b` divides by b = 0.

Imports sympy, so it is imported only when a program is exported.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from sympy import (  # noqa: F401  (the primitive table's sympy column reads these from here)
    ITE,
    Abs,
    And,
    Eq,
    Equivalent,
    Integer,
    Le,
    Lt,
    Max,
    Min,
    Ne,
    Not,
    Or,
    Piecewise,
    Xor,
    ceiling,
    cos,
    exp,
    floor,
    log,
    nan,
    pi,
    piecewise_fold,
    sin,
    sqrt,
    tan,
    tanh,
)

from .primitives import Primitive
from .program import Apply, Expr, Hole, Lit, Var
from .types import Type

__all__ = ["to_sympy", "symbol", "bitand", "bitor", "bitxor", "integer_function", "evaluate_expression", "Unevaluable"]


class _Bitwise(sympy.Function):
    """A bitwise operation on (two's complement, unbounded) integers."""

    is_integer = True
    operator: Any = None
    numpy_name = ""
    latex_symbol = ""

    @classmethod
    def eval(cls, x: Any, y: Any) -> Any:
        if x.is_Integer and y.is_Integer:
            return sympy.Integer(cls.operator(int(x), int(y)))
        return None

    def _numpycode(self, printer: Any) -> str:
        x, y = (printer._print(arg) for arg in self.args)
        return f"numpy.{self.numpy_name}({x}, {y})"

    def _latex(self, printer: Any) -> str:
        x, y = (printer._print(arg) for arg in self.args)
        return rf"\left({x} {self.latex_symbol} {y}\right)"


class bitand(_Bitwise):  # noqa: N801  (sympy functions are lower case)
    operator = staticmethod(lambda x, y: x & y)
    numpy_name = "bitwise_and"
    latex_symbol = r"\mathbin{\&}"


class bitor(_Bitwise):  # noqa: N801
    operator = staticmethod(lambda x, y: x | y)
    numpy_name = "bitwise_or"
    latex_symbol = r"\mathbin{|}"


class bitxor(_Bitwise):  # noqa: N801
    operator = staticmethod(lambda x, y: x ^ y)
    numpy_name = "bitwise_xor"
    latex_symbol = r"\oplus"


class _IntegerFunction(sympy.Function):
    """A function of integers that a primitive defines by a Python function (the table's rows
    with no sympy counterpart): evaluated on Integer arguments, symbolic otherwise, and
    computed point by point by `evaluate_expression`. Made by `integer_function`."""

    is_integer = True
    function: Any = None

    @classmethod
    def eval(cls, *args: Any) -> Any:
        if all(arg.is_Integer for arg in args):
            return sympy.Integer(cls.function(*(int(arg) for arg in args)))
        return None


@functools.cache
def integer_function(name: str, function: Callable[..., int]) -> type[sympy.Function]:
    """The sympy function `name` computing `function` on Python integers (one class per name)."""
    return type(name, (_IntegerFunction,), {"function": staticmethod(function)})


def symbol(name: str, type_: Type) -> sympy.Symbol:
    """The sympy symbol for an input."""
    if type_.kind == "int":
        return sympy.Symbol(name, integer=True)
    if type_.kind == "real":
        return sympy.Symbol(name, real=True)
    return sympy.Symbol(name)


def Mod(x: Any, y: Any) -> Any:  # noqa: N802  (the primitive table reads it as `S.Mod`)
    """`sympy.Mod`, left unevaluated while an argument is symbolic: sympy simplifies some nested
    `Mod`s wrongly (`Mod(2*Mod(a, 7), 7)` becomes `2*Mod(a, 7)`; sympy issues #28744, #29757),
    and bit-vector arithmetic nests them at every operation."""
    x, y = sympy.sympify(x), sympy.sympify(y)
    return sympy.Mod(x, y, evaluate=bool(x.is_number and y.is_number))


def _in_range(row: Primitive, type_: Type) -> bool:
    """Bit-vector results that cannot leave the type's range need no `Mod` (the row's
    `in_range`: `>>` only on unsigned types, as a negative shift amount (`s >> -7` on an i8)
    shifts left)."""
    return row.in_range == "always" or (row.in_range == "unsigned" and not type_.signed)


def to_sympy(program: Expr) -> Any:
    """The sympy expression of `program` (see the module docstring for the contract)."""
    import dsl.symbolic as namespace

    def convert(node: Expr) -> Any:
        match node:
            case Lit(value=value, type=type_):
                if type_.kind == "bool":
                    return sympy.true if value else sympy.false
                return sympy.Integer(value) if type_.kind == "int" else sympy.Float(value)
            case Var(name=name, type=type_):
                return symbol(name, type_)
            case Hole(type=type_):
                return sympy.Symbol(f"<{type_}>")
            case Apply(op=op, args=args, type=type_):
                expression = node.primitive.sympy(namespace, *(convert(arg) for arg in args))
                if type_.is_bitvector and not _in_range(node.primitive, type_):
                    expression = _wrap(expression, type_)
                return expression
        raise TypeError(f"not a program node: {node!r}")

    return convert(program)


def _wrap(expression: Any, type_: Type) -> Any:
    modulus = 2**type_.width
    if not type_.signed:
        return Mod(expression, modulus)
    half = 2 ** (type_.width - 1)
    return Mod(expression + half, modulus) - half


# --- numeric evaluation of exported (and simplified) expressions -------------------------------


class Unevaluable(ValueError):
    """An expression `evaluate_expression` cannot evaluate exactly: an unknown function, a
    division by zero in exact arithmetic, a complex value."""


def evaluate_expression(expression: Any, env: Mapping[str, np.ndarray]) -> np.ndarray:
    """The values of a sympy expression (an export or a simplification of one) at each point.

    `env` maps input names to 1-D arrays of one length. Integers and rationals are computed
    exactly (object arrays of Python ints and Fractions, so nothing wraps or rounds), reals in
    float64 as the reference evaluator does, truth values as bool arrays. Each `Piecewise` and
    `ITE` branch is evaluated only at the points its condition selects (`Mod(a, b)` under
    `b ≠ 0` is never computed at b = 0). Returns a bool, object or float64 array; raises
    `Unevaluable` for what it cannot compute exactly, so that a caller that checks an
    expression with it fails safe.
    """
    size = len(next(iter(env.values()))) if env else 1
    columns = {name: _column(np.asarray(values)) for name, values in env.items()}
    with np.errstate(all="ignore"):
        try:
            return _broadcast(_numeric(sympy.sympify(expression), columns, size), size)
        except (ZeroDivisionError, OverflowError, TypeError, ValueError) as error:
            if isinstance(error, Unevaluable):
                raise
            raise Unevaluable(f"cannot evaluate {expression}: {error}") from None


def _column(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iu":  # exact integers: Python ints never wrap
        return values.astype(object)
    return values


def _broadcast(values: Any, size: int) -> np.ndarray:
    if not isinstance(values, np.ndarray):
        dtype = bool if isinstance(values, bool) else np.float64 if isinstance(values, float) else object
        return np.full(size, values, dtype=dtype)
    array = values
    if array.ndim == 0:
        array = np.full(size, array.item(), dtype=array.dtype)
    if array.dtype == object and all(isinstance(value, (bool, np.bool_)) for value in array):
        array = array.astype(bool)
    return array


def _is_float(value: Any) -> bool:
    return isinstance(value, float) or (isinstance(value, np.ndarray) and value.dtype.kind == "f")


def _as_float(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return float(value)


def _unify(values: list[Any]) -> list[Any]:
    """Exact values become floats where a float takes part (as in the reference evaluator's
    real arithmetic)."""
    if any(_is_float(value) for value in values):
        return [_as_float(value) for value in values]
    return values


def _elementwise(function: Any, *values: Any) -> Any:
    if not any(isinstance(value, np.ndarray) for value in values):
        return function(*values)
    return np.frompyfunc(function, len(values), 1)(*values)


def _truth(value: Any, size: int) -> np.ndarray:
    array = _broadcast(value, size)
    if array.dtype != bool:
        raise Unevaluable(f"not a truth value: {array[:3]}")
    return array


def _numeric(node: Any, columns: dict[str, np.ndarray], size: int) -> Any:
    """A scalar (Python int, Fraction, float or bool) or an array of length `size`."""
    if node.is_Symbol:
        if node.name not in columns:
            raise Unevaluable(f"no values for {node.name}")
        return columns[node.name]
    if node is sympy.true or node is sympy.false:
        return bool(node)
    if node.is_Integer:
        return int(node)
    if node.is_Rational:
        return Fraction(int(node.p), int(node.q))
    if node.is_Float:
        return float(node)
    if node in (sympy.pi, sympy.E):
        return float(node)
    if node in (sympy.oo, -sympy.oo):
        return float(node)
    if node is sympy.nan:
        return math.nan
    if isinstance(node, (sympy.Piecewise, ITE)):
        if isinstance(node, ITE):
            condition, then, otherwise = node.args
            return _branches(((then, condition), (otherwise, True)), columns, size)
        return _branches(node.args, columns, size)
    args = [_numeric(arg, columns, size) for arg in node.args]
    if isinstance(node, _IntegerFunction):
        return _integers(node.function)(*args)
    operation = _OPERATIONS.get(type(node).__name__) or _OPERATIONS.get(node.func.__name__)
    if operation is None:
        raise Unevaluable(f"no numeric evaluation of {node.func.__name__}")
    return operation(*args) if not getattr(operation, "needs_size", False) else operation(size, *args)


def _branches(pairs: Any, columns: dict[str, np.ndarray], size: int) -> np.ndarray:
    remaining = np.ones(size, dtype=bool)
    results: list[tuple[np.ndarray, Any]] = []
    for value, condition in pairs:
        selected = remaining & _truth(_numeric(sympy.sympify(condition), columns, size), size)
        if selected.any():
            inside = {name: column[selected] for name, column in columns.items()}
            count = int(selected.sum())
            results.append((selected, _broadcast(_numeric(value, inside, count), count)))
        remaining &= ~selected
    if remaining.any():
        raise Unevaluable("no branch of a Piecewise holds")
    kinds = {values.dtype.kind for _, values in results}
    dtype = bool if kinds == {"b"} else np.float64 if "f" in kinds else object
    out = np.empty(size, dtype=dtype)
    for selected, values in results:
        out[selected] = values.astype(dtype) if dtype is not object else values
    return out


def _sum(*values: Any) -> Any:
    terms = _unify(list(values))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _product(*values: Any) -> Any:
    factors = _unify(list(values))
    total = factors[0]
    for factor in factors[1:]:
        total = total * factor
    return total


def _power(base: Any, exponent: Any) -> Any:
    if _is_float(base) or _is_float(exponent) or isinstance(exponent, Fraction):
        base, exponent = _as_float(base), _as_float(exponent)
        if isinstance(exponent, float) and not exponent.is_integer() and np.any(np.asarray(base) < 0):
            raise Unevaluable("a real power of a negative number is complex in sympy")
        return np.power(base, exponent)

    def exact(x: Any, y: Any) -> Any:
        if abs(y) > 4096:
            raise Unevaluable(f"power {y} too large to compute exactly")
        return Fraction(x) ** y if y < 0 else x**y

    return _elementwise(exact, base, exponent)


def _floor_of(value: Any) -> Any:
    if _is_float(value):
        return np.floor(value)
    return _elementwise(math.floor, value)


def _ceiling_of(value: Any) -> Any:
    if _is_float(value):
        return np.ceil(value)
    return _elementwise(math.ceil, value)


def _mod(x: Any, y: Any) -> Any:
    x, y = _unify([x, y])
    if _is_float(x):
        return np.mod(x, y)
    return x % y


def _logical(function: Any) -> Any:
    def apply(size: int, *values: Any) -> np.ndarray:
        arrays = [_truth(value, size) for value in values]
        result = arrays[0]
        for array in arrays[1:]:
            result = function(result, array)
        return result

    apply.needs_size = True  # type: ignore[attr-defined]
    return apply


def _compare(function: Any) -> Any:
    def apply(size: int, x: Any, y: Any) -> np.ndarray:
        x, y = _unify([x, y])
        return _broadcast(function(x, y), size).astype(bool)

    apply.needs_size = True  # type: ignore[attr-defined]
    return apply


def _extreme(exact: Any, real: Any) -> Any:
    """`Min` or `Max` of any arity: `exact` on Python numbers, `real` (NaN-propagating, as the
    reference evaluator's) on floats."""

    def apply(*values: Any) -> Any:
        operands = _unify(list(values))
        result = operands[0]
        for operand in operands[1:]:
            result = real(result, operand) if _is_float(result) else _elementwise(exact, result, operand)
        return result

    return apply


def _real_function(function: Any) -> Any:
    return lambda value: function(_as_float(value))


def _equivalent(size: int, *values: Any) -> np.ndarray:
    """sympy's `Equivalent(a, b, c)`: all equal (not a chain of `==`)."""
    arrays = [_truth(value, size) for value in values]
    return np.logical_and.reduce([array == arrays[0] for array in arrays])


_equivalent.needs_size = True  # type: ignore[attr-defined]


def _not(size: int, value: Any) -> np.ndarray:
    return ~_truth(value, size)


_not.needs_size = True  # type: ignore[attr-defined]


def _bitwise(function: Any) -> Any:
    def apply(x: Any, y: Any) -> Any:
        if _is_float(x) or _is_float(y):
            raise Unevaluable("a bitwise operation on reals")
        return _elementwise(lambda a, b: function(_integral(a), _integral(b)), x, y)

    return apply


def _integers(function: Any) -> Any:
    """`function` of Python integers, point by point (exact: object arrays never wrap)."""

    def apply(*values: Any) -> Any:
        if any(_is_float(value) for value in values):
            raise Unevaluable("an integer function of reals")
        return _elementwise(lambda *numbers: function(*(_integral(number) for number in numbers)), *values)

    return apply


def _integral(value: Any) -> int:
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise Unevaluable(f"a bitwise operation on {value}")
        return int(value)
    return value


_OPERATIONS: dict[str, Any] = {
    "Add": _sum,
    "Mul": _product,
    "Pow": _power,
    "Mod": _mod,
    "floor": _floor_of,
    "ceiling": _ceiling_of,
    "Abs": lambda value: abs(value),
    "Min": _extreme(min, np.minimum),
    "Max": _extreme(max, np.maximum),
    "And": _logical(np.logical_and),
    "Or": _logical(np.logical_or),
    "Xor": _logical(np.logical_xor),
    "Equivalent": _equivalent,
    "Not": _not,
    "Equality": _compare(lambda x, y: x == y),
    "Unequality": _compare(lambda x, y: x != y),
    "StrictLessThan": _compare(lambda x, y: x < y),
    "LessThan": _compare(lambda x, y: x <= y),
    "StrictGreaterThan": _compare(lambda x, y: x > y),
    "GreaterThan": _compare(lambda x, y: x >= y),
    "sin": _real_function(np.sin),
    "cos": _real_function(np.cos),
    "tan": _real_function(np.tan),
    "exp": _real_function(np.exp),
    "log": _real_function(np.log),
    "tanh": _real_function(np.tanh),
    "bitand": _bitwise(lambda a, b: a & b),
    "bitor": _bitwise(lambda a, b: a | b),
    "bitxor": _bitwise(lambda a, b: a ^ b),
}

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

from typing import Any

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
    sin,
    sqrt,
    tan,
    tanh,
)

from .primitives import Op
from .program import Apply, Expr, Hole, Lit, Var
from .types import Type

__all__ = ["to_sympy", "symbol", "bitand", "bitor", "bitxor"]


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


# Bit-vector results that cannot leave the type's range need no `Mod`; `>>` only on unsigned
# types, as a negative shift amount (`s >> -7` on an i8) shifts left.
_IN_RANGE = frozenset({Op.BITAND, Op.BITOR, Op.BITXOR, Op.MIN_I, Op.MAX_I, Op.IF_I, Op.MOD_I})


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
                if type_.is_bitvector and op not in _IN_RANGE and not (op == Op.SHR and not type_.signed):
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

"""The primitive table: every operation of the language, written down once.

Each row gives a primitive's opcode, how it is written, its signature, its total semantics (in
words for users, and as the numpy reference implementation), its sympy translation and its
LaTeX form. Everything else — the type checker's overload resolution, the printers, the
reference evaluator, the sympy export, the users' table in docs/primitives.md — is derived from
these rows, so that they cannot drift apart.

Signatures use three letters: `B` a bool, `R` a real, and `I` an integer type (`int` or a
bit-vector) that is the *same* for every `I` of one application. A result named `int` is the
concrete type `int`; a result `I` of a conversion is the type it converts to. Results of `I`
operations on bit-vectors are wrapped into N bits by the evaluator, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

__all__ = [
    "Op",
    "Primitive",
    "PRIMITIVES",
    "COMMUTATIVE",
    "ASSOCIATIVE",
    "Precedence",
    "overloads",
    "primitive",
    "CALL_NAMES",
]


class Op(IntEnum):
    """Opcodes, closed and stable: their values go into compiled kernels unchanged."""

    def __repr__(self) -> str:
        return f"Op.{self.name}"

    # bool
    NOT = 1
    AND = 2
    OR = 3
    XOR_B = 4
    EQ_B = 5
    NE_B = 6
    IF_B = 7
    # integers (int and bit-vectors)
    NEG_I = 10
    ADD_I = 11
    SUB_I = 12
    MUL_I = 13
    FLOORDIV_I = 14
    MOD_I = 15
    POW_I = 16
    BITNOT = 17
    BITAND = 18
    BITOR = 19
    BITXOR = 20
    SHL = 21
    SHR = 22
    ABS_I = 23
    MIN_I = 24
    MAX_I = 25
    LT_I = 26
    LE_I = 27
    EQ_I = 28
    NE_I = 29
    IF_I = 30
    # reals
    NEG_R = 40
    ADD_R = 41
    SUB_R = 42
    MUL_R = 43
    DIV_R = 44
    FLOORDIV_R = 45
    MOD_R = 46
    POW_R = 47
    ABS_R = 48
    MIN_R = 49
    MAX_R = 50
    SIN = 51
    COS = 52
    TAN = 53
    EXP = 54
    LOG = 55
    SQRT = 56
    TANH = 57
    FLOOR = 58
    CEIL = 59
    LT_R = 60
    LE_R = 61
    EQ_R = 62
    NE_R = 63
    IF_R = 64
    PI = 65
    # conversions
    BOOL_TO_INT = 80
    BOOL_TO_REAL = 81
    INT_TO_REAL = 82
    REAL_TO_INT = 83
    CONVERT_I = 84


class Precedence(IntEnum):
    """Binding power in the concrete syntax (Python's order): higher binds tighter."""

    OR = 1
    AND = 2
    NOT = 3
    COMPARE = 4
    BITOR = 5
    BITXOR = 6
    BITAND = 7
    SHIFT = 8
    SUM = 9
    PRODUCT = 10
    UNARY = 11
    POWER = 12
    ATOM = 13


@dataclass(frozen=True, slots=True)
class Primitive:
    """One row of the table.

    `fixity` is 'infix', 'prefix', 'call' (written `name(args)`) or 'constant'. `evaluate`
    maps numpy arrays of the argument dtypes to the result (before bit-vector wrapping);
    `sympy` builds the symbolic form from `dsl.symbolic` (passed in, so that sympy is imported
    only when used) and sympy arguments; `latex` is a format string over the arguments' LaTeX,
    where the arguments listed in `latex_delimited` need no parentheses of their own.
    """

    op: Op
    symbol: str
    fixity: str
    args: tuple[str, ...]
    result: str
    semantics: str
    evaluate: Callable[..., np.ndarray] = field(repr=False)
    sympy: Callable[..., Any] = field(repr=False)
    latex: str
    latex_delimited: frozenset[int] = frozenset()

    @property
    def arity(self) -> int:
        return len(self.args)

    @property
    def precedence(self) -> Precedence:
        if self.fixity in ("call", "constant"):
            return Precedence.ATOM
        if self.fixity == "prefix":
            return Precedence.NOT if self.symbol == "not" else Precedence.UNARY
        return _INFIX_PRECEDENCE[self.symbol]


_INFIX_PRECEDENCE = {
    "or": Precedence.OR,
    "and": Precedence.AND,
    "<": Precedence.COMPARE,
    "<=": Precedence.COMPARE,
    "==": Precedence.COMPARE,
    "!=": Precedence.COMPARE,
    "|": Precedence.BITOR,
    "^": Precedence.BITXOR,
    "&": Precedence.BITAND,
    "<<": Precedence.SHIFT,
    ">>": Precedence.SHIFT,
    "+": Precedence.SUM,
    "-": Precedence.SUM,
    "*": Precedence.PRODUCT,
    "/": Precedence.PRODUCT,
    "//": Precedence.PRODUCT,
    "%": Precedence.PRODUCT,
    "**": Precedence.POWER,
}

# --- reference semantics: numpy, vectorized over points ---------------------------------------

_I64_MIN = np.int64(-(2**63))
_I64_MAX = np.int64(2**63 - 1)


def _floordiv_int(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    zero, overflow = y == 0, (x == _I64_MIN) & (y == -1)
    quotient = np.floor_divide(x, np.where(zero | overflow, 1, y))
    return np.where(zero, 0, np.where(overflow, _I64_MIN, quotient))


def _mod_int(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    zero = y == 0
    return np.where(zero, x, np.remainder(x, np.where(zero | (y == -1), 1, y)))


def _pow_int(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Exponentiation by squaring in wrapping int64; negative exponents by the rules documented.
    result = np.ones_like(x)
    base, exponent = x.copy(), np.maximum(y, 0)
    while np.any(exponent):
        odd = (exponent & 1).astype(bool)
        result = np.where(odd, result * base, result)
        base = base * base
        exponent = exponent >> 1
    negative = y < 0
    inverse = np.where(x == 1, 1, np.where(x == -1, np.where(y & 1, -1, 1), 0))
    return np.where(negative, inverse, result)


def _shift_left(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    # x << s = floor(x * 2**s), wrapped: s >= 64 gives 0; a negative s shifts right.
    left = np.left_shift(x, np.clip(s, 0, 63))
    right = np.right_shift(x, np.clip(-np.maximum(s, -63), 0, 63))
    return np.where(s >= 64, 0, np.where(s >= 0, left, np.where(s <= -64, np.where(x < 0, -1, 0), right)))


def _shift_right(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    # x >> s = floor(x / 2**s): s >= 64 gives 0 or -1; a negative s shifts left.
    negated = np.where(s == _I64_MIN, _I64_MAX, -s)
    return _shift_left(x, negated)


def _real_to_int(x: np.ndarray) -> np.ndarray:
    truncated = np.trunc(x)
    fits = (truncated >= -(2.0**63)) & (truncated < 2.0**63)
    inside = np.where(fits, truncated, 0.0).astype(np.int64)
    return np.where(fits, inside, np.where(truncated > 0, _I64_MAX, np.where(truncated < 0, _I64_MIN, 0)))


def _real(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """IEEE semantics: NaN and infinities are values, so silence numpy's warnings."""

    def quiet(*args: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return function(*args)

    return quiet


def _if(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(c, a, b)


def _cast(dtype: type) -> Callable[[np.ndarray], np.ndarray]:
    return lambda values: values.astype(dtype)


# --- sympy builders (S is the dsl.symbolic module) ---------------------------------------------


def _sympy_guarded(S: Any, divisor: Any, at_zero: Any, otherwise: Any) -> Any:
    """`otherwise`, but `at_zero` where the divisor is 0 (decided now when the divisor is known:
    sympy evaluates a division by a literal 0 eagerly, and may raise)."""
    if divisor.is_zero:
        return at_zero
    if divisor.is_zero is False:
        return otherwise()
    return S.Piecewise((at_zero, S.Eq(divisor, 0)), (otherwise(), True))


def _sympy_floordiv_int(S: Any, x: Any, y: Any) -> Any:
    return _sympy_guarded(S, y, S.Integer(0), lambda: S.floor(x / y))


def _sympy_mod_int(S: Any, x: Any, y: Any) -> Any:
    return _sympy_guarded(S, y, x, lambda: S.Mod(x, y))


def _sympy_mod_real(S: Any, x: Any, y: Any) -> Any:
    # No Piecewise guard for a symbolic y: NaN at y = 0 is outside the export's contract, and
    # sympy cannot compare a Piecewise with a NaN branch (`int(x % y)` raised TypeError).
    return S.nan if y.is_zero else S.Mod(x, y)


def _sympy_pow_int(S: Any, x: Any, y: Any) -> Any:
    negative = S.Piecewise((1, S.Eq(x, 1)), ((-1) ** y, S.Eq(x, -1)), (0, True))
    return S.Piecewise((x**y, y >= 0), (negative, True))


def _sympy_truncate(S: Any, x: Any) -> Any:
    return S.Piecewise((S.floor(x), x >= 0), (S.ceiling(x), True))


def _sympy_if(S: Any, c: Any, a: Any, b: Any) -> Any:
    return S.Piecewise((a, c), (b, True))


def _sympy_indicator(S: Any, b: Any) -> Any:
    return S.Piecewise((1, b), (0, True))


# --- the table --------------------------------------------------------------------------------

_IF_LATEX = r"\begin{{cases}} {1} & \text{{if }} {0} \\ {2} & \text{{otherwise}} \end{{cases}}"
_ALL = frozenset({0, 1, 2})


def _row(op, symbol, fixity, signature, semantics, evaluate, sympy, latex, delimited=frozenset()):
    arguments, result = signature.split("->")
    args = tuple(a.strip() for a in arguments.strip(" ()").split(",") if a.strip())
    return Primitive(op, symbol, fixity, args, result.strip(), semantics, evaluate, sympy, latex, delimited)


PRIMITIVES: tuple[Primitive, ...] = (
    # bool
    _row(Op.NOT, "not", "prefix", "(B) -> B", "logical negation", np.logical_not,
         lambda S, x: S.Not(x), r"\lnot {0}"),
    _row(Op.AND, "and", "infix", "(B, B) -> B", "logical and (no short-circuit: programs are pure)",
         np.logical_and, lambda S, x, y: S.And(x, y), r"{0} \land {1}"),
    _row(Op.OR, "or", "infix", "(B, B) -> B", "logical or", np.logical_or,
         lambda S, x, y: S.Or(x, y), r"{0} \lor {1}"),
    _row(Op.XOR_B, "^", "infix", "(B, B) -> B", "exclusive or", np.logical_xor,
         lambda S, x, y: S.Xor(x, y), r"{0} \oplus {1}"),
    _row(Op.EQ_B, "==", "infix", "(B, B) -> B", "equality", np.equal,
         lambda S, x, y: S.Equivalent(x, y), r"{0} \Leftrightarrow {1}"),
    _row(Op.NE_B, "!=", "infix", "(B, B) -> B", "inequality (the same function as `^`)", np.not_equal,
         lambda S, x, y: S.Xor(x, y), r"{0} \not\Leftrightarrow {1}"),
    _row(Op.IF_B, "if", "call", "(B, B, B) -> B", "`if(c, a, b)`: a where c holds, else b", _if,
         lambda S, c, a, b: S.ITE(c, a, b), _IF_LATEX, _ALL),  # a Piecewise is no operand of And
    # integers
    _row(Op.NEG_I, "-", "prefix", "(I) -> I", "negation; wraps (−MIN = MIN)", np.negative,
         lambda S, x: -x, "-{0}"),
    _row(Op.ADD_I, "+", "infix", "(I, I) -> I", "addition; wraps on overflow", np.add,
         lambda S, x, y: x + y, "{0} + {1}"),
    _row(Op.SUB_I, "-", "infix", "(I, I) -> I", "subtraction; wraps on overflow", np.subtract,
         lambda S, x, y: x - y, "{0} - {1}"),
    _row(Op.MUL_I, "*", "infix", "(I, I) -> I", "multiplication; wraps on overflow", np.multiply,
         lambda S, x, y: x * y, r"{0} \cdot {1}"),
    _row(Op.FLOORDIV_I, "//", "infix", "(I, I) -> I",
         "floor division (rounds toward −∞, as Python); x // 0 = 0; MIN // −1 = MIN", _floordiv_int,
         _sympy_floordiv_int, r"\left\lfloor \frac{{{0}}}{{{1}}} \right\rfloor", frozenset({0, 1})),
    _row(Op.MOD_I, "%", "infix", "(I, I) -> I",
         "remainder with the sign of the divisor (as Python); x % 0 = x, so x = (x // y)·y + x % y",
         _mod_int, _sympy_mod_int, r"{0} \bmod {1}"),
    _row(Op.POW_I, "**", "infix", "(I, I) -> I",
         "power, wrapping; 0 ** 0 = 1; for y < 0: 1 if x = 1, ±1 if x = −1, else 0", _pow_int,
         _sympy_pow_int, "{0}^{{{1}}}", frozenset({1})),
    _row(Op.BITNOT, "~", "prefix", "(I) -> I", "bitwise not: ~x = −x − 1", np.invert,
         lambda S, x: -x - 1, r"\mathop{{\sim}} {0}"),
    _row(Op.BITAND, "&", "infix", "(I, I) -> I", "bitwise and (two's complement)", np.bitwise_and,
         lambda S, x, y: S.bitand(x, y), r"{0} \mathbin{{\&}} {1}"),
    _row(Op.BITOR, "|", "infix", "(I, I) -> I", "bitwise or", np.bitwise_or,
         lambda S, x, y: S.bitor(x, y), r"{0} \mathbin{{|}} {1}"),
    _row(Op.BITXOR, "^", "infix", "(I, I) -> I", "bitwise exclusive or", np.bitwise_xor,
         lambda S, x, y: S.bitxor(x, y), r"{0} \oplus {1}"),
    _row(Op.SHL, "<<", "infix", "(I, I) -> I",
         "x << s = x·2^s, wrapped (s ≥ width gives 0); a negative s shifts right", _shift_left,
         lambda S, x, s: S.floor(x * 2**s), r"{0} \ll {1}"),
    _row(Op.SHR, ">>", "infix", "(I, I) -> I",
         "x >> s = ⌊x / 2^s⌋ (arithmetic: s ≥ width gives 0 or −1); a negative s shifts left",
         _shift_right, lambda S, x, s: S.floor(x / 2**s), r"{0} \gg {1}"),
    _row(Op.ABS_I, "abs", "call", "(I) -> I", "absolute value; abs(MIN) = MIN (wraps)", np.abs,
         lambda S, x: S.Abs(x), r"\left|{0}\right|", _ALL),
    _row(Op.MIN_I, "min", "call", "(I, I) -> I", "minimum", np.minimum,
         lambda S, x, y: S.Min(x, y), r"\min\left({0}, {1}\right)", _ALL),
    _row(Op.MAX_I, "max", "call", "(I, I) -> I", "maximum", np.maximum,
         lambda S, x, y: S.Max(x, y), r"\max\left({0}, {1}\right)", _ALL),
    _row(Op.LT_I, "<", "infix", "(I, I) -> B", "less than (`a > b` is written `b < a`)", np.less,
         lambda S, x, y: S.Lt(x, y), "{0} < {1}"),
    _row(Op.LE_I, "<=", "infix", "(I, I) -> B", "at most (`a >= b` is written `b <= a`)", np.less_equal,
         lambda S, x, y: S.Le(x, y), r"{0} \le {1}"),
    _row(Op.EQ_I, "==", "infix", "(I, I) -> B", "equality", np.equal,
         lambda S, x, y: S.Eq(x, y), "{0} = {1}"),
    _row(Op.NE_I, "!=", "infix", "(I, I) -> B", "inequality", np.not_equal,
         lambda S, x, y: S.Ne(x, y), r"{0} \ne {1}"),
    _row(Op.IF_I, "if", "call", "(B, I, I) -> I", "`if(c, a, b)`: a where c holds, else b", _if,
         _sympy_if, _IF_LATEX, _ALL),
    # reals: IEEE-754 double; NaN and ±inf are ordinary values and propagate
    _row(Op.NEG_R, "-", "prefix", "(R) -> R", "negation", _real(np.negative),
         lambda S, x: -x, "-{0}"),
    _row(Op.ADD_R, "+", "infix", "(R, R) -> R", "addition (IEEE)", _real(np.add),
         lambda S, x, y: x + y, "{0} + {1}"),
    _row(Op.SUB_R, "-", "infix", "(R, R) -> R", "subtraction (IEEE)", _real(np.subtract),
         lambda S, x, y: x - y, "{0} - {1}"),
    _row(Op.MUL_R, "*", "infix", "(R, R) -> R", "multiplication (IEEE)", _real(np.multiply),
         lambda S, x, y: x * y, r"{0} \cdot {1}"),
    # x * y**-1, not x / y: sympy raises ZeroDivisionError for Float(1.0) / Float(0.0).
    _row(Op.DIV_R, "/", "infix", "(R, R) -> R", "division (IEEE): x / 0 = ±inf, 0 / 0 = NaN",
         _real(np.divide), lambda S, x, y: x * y**-1, r"\frac{{{0}}}{{{1}}}", frozenset({0, 1})),
    _row(Op.FLOORDIV_R, "//", "infix", "(R, R) -> R", "⌊x / y⌋, with IEEE division",
         _real(lambda x, y: np.floor(np.divide(x, y))), lambda S, x, y: S.floor(x * y**-1),
         r"\left\lfloor \frac{{{0}}}{{{1}}} \right\rfloor", frozenset({0, 1})),
    _row(Op.MOD_R, "%", "infix", "(R, R) -> R",
         "remainder with the sign of the divisor (as Python); x % 0 = NaN", _real(np.mod),
         _sympy_mod_real, r"{0} \bmod {1}"),
    _row(Op.POW_R, "**", "infix", "(R, R) -> R",
         "IEEE pow: a negative base with a non-integer exponent gives NaN, 0 ** −1 = inf",
         _real(np.power), lambda S, x, y: x**y, "{0}^{{{1}}}", frozenset({1})),
    _row(Op.ABS_R, "abs", "call", "(R) -> R", "absolute value", _real(np.abs),
         lambda S, x: S.Abs(x), r"\left|{0}\right|", _ALL),
    _row(Op.MIN_R, "min", "call", "(R, R) -> R", "minimum; NaN if either is NaN", _real(np.minimum),
         lambda S, x, y: S.Min(x, y), r"\min\left({0}, {1}\right)", _ALL),
    _row(Op.MAX_R, "max", "call", "(R, R) -> R", "maximum; NaN if either is NaN", _real(np.maximum),
         lambda S, x, y: S.Max(x, y), r"\max\left({0}, {1}\right)", _ALL),
    _row(Op.SIN, "sin", "call", "(R) -> R", "sine; sin(±inf) = NaN", _real(np.sin),
         lambda S, x: S.sin(x), r"\sin\left({0}\right)", _ALL),
    _row(Op.COS, "cos", "call", "(R) -> R", "cosine; cos(±inf) = NaN", _real(np.cos),
         lambda S, x: S.cos(x), r"\cos\left({0}\right)", _ALL),
    _row(Op.TAN, "tan", "call", "(R) -> R", "tangent", _real(np.tan),
         lambda S, x: S.tan(x), r"\tan\left({0}\right)", _ALL),
    _row(Op.EXP, "exp", "call", "(R) -> R", "e^x; overflows to inf", _real(np.exp),
         lambda S, x: S.exp(x), r"e^{{{0}}}", _ALL),
    _row(Op.LOG, "log", "call", "(R) -> R", "natural logarithm; log(0) = −inf, log(x < 0) = NaN",
         _real(np.log), lambda S, x: S.log(x), r"\log\left({0}\right)", _ALL),
    _row(Op.SQRT, "sqrt", "call", "(R) -> R", "square root; sqrt(x < 0) = NaN", _real(np.sqrt),
         lambda S, x: S.sqrt(x), r"\sqrt{{{0}}}", _ALL),
    _row(Op.TANH, "tanh", "call", "(R) -> R", "hyperbolic tangent", _real(np.tanh),
         lambda S, x: S.tanh(x), r"\tanh\left({0}\right)", _ALL),
    _row(Op.FLOOR, "floor", "call", "(R) -> R", "largest integer ≤ x, as a real", _real(np.floor),
         lambda S, x: S.floor(x), r"\left\lfloor {0} \right\rfloor", _ALL),
    _row(Op.CEIL, "ceil", "call", "(R) -> R", "smallest integer ≥ x, as a real", _real(np.ceil),
         lambda S, x: S.ceiling(x), r"\left\lceil {0} \right\rceil", _ALL),
    _row(Op.LT_R, "<", "infix", "(R, R) -> B", "less than; false if either is NaN", _real(np.less),
         lambda S, x, y: S.Lt(x, y), "{0} < {1}"),
    _row(Op.LE_R, "<=", "infix", "(R, R) -> B", "at most; false if either is NaN", _real(np.less_equal),
         lambda S, x, y: S.Le(x, y), r"{0} \le {1}"),
    _row(Op.EQ_R, "==", "infix", "(R, R) -> B", "equality; NaN == NaN is false", _real(np.equal),
         lambda S, x, y: S.Eq(x, y), "{0} = {1}"),
    _row(Op.NE_R, "!=", "infix", "(R, R) -> B", "inequality; NaN != NaN is true", _real(np.not_equal),
         lambda S, x, y: S.Ne(x, y), r"{0} \ne {1}"),
    _row(Op.IF_R, "if", "call", "(B, R, R) -> R", "`if(c, a, b)`: a where c holds, else b", _if,
         _sympy_if, _IF_LATEX, _ALL),
    _row(Op.PI, "pi", "constant", "() -> R", "π", lambda: np.float64(np.pi),
         lambda S: S.pi, r"\pi"),
    # conversions, written as calls of a type name
    _row(Op.BOOL_TO_INT, "int", "call", "(B) -> int", "1 for true, 0 for false",
         _cast(np.int64), _sympy_indicator, r"\left[{0}\right]", _ALL),
    _row(Op.BOOL_TO_REAL, "real", "call", "(B) -> R", "1.0 for true, 0.0 for false",
         _cast(np.float64), _sympy_indicator, r"\left[{0}\right]", _ALL),
    _row(Op.INT_TO_REAL, "real", "call", "(I) -> R", "the nearest double", _cast(np.float64),
         lambda S, x: x, "{0}", _ALL),
    _row(Op.REAL_TO_INT, "int", "call", "(R) -> int",
         "truncation toward 0; NaN gives 0, ±inf and out-of-range values saturate", _real(_real_to_int),
         _sympy_truncate, r"\operatorname{{trunc}}\left({0}\right)", _ALL),
    _row(Op.CONVERT_I, "<type>", "call", "(I) -> I",
         "`u8(x)`, `int(x)`, …: the integer x wrapped into the named integer type", lambda x: x,
         lambda S, x: x, "{0}", _ALL),
)

_BY_OP = {row.op: row for row in PRIMITIVES}
assert len(_BY_OP) == len(PRIMITIVES) == len(Op), "one row per opcode"

COMMUTATIVE = frozenset({
    Op.AND, Op.OR, Op.XOR_B, Op.EQ_B, Op.NE_B,
    Op.ADD_I, Op.MUL_I, Op.BITAND, Op.BITOR, Op.BITXOR, Op.MIN_I, Op.MAX_I, Op.EQ_I, Op.NE_I,
    Op.ADD_R, Op.MUL_R, Op.MIN_R, Op.MAX_R, Op.EQ_R, Op.NE_R,
})  # fmt: skip
ASSOCIATIVE = frozenset({
    Op.AND, Op.OR, Op.XOR_B, Op.ADD_I, Op.MUL_I, Op.BITAND, Op.BITOR, Op.BITXOR, Op.MIN_I,
    Op.MAX_I, Op.MIN_R, Op.MAX_R,
})  # fmt: skip
# Real + and * are left out of ASSOCIATIVE: floating point does not reassociate exactly.

# Names written as calls (`sin(x)`, `if(c, a, b)`), and the type names that convert.
CALL_NAMES = frozenset(row.symbol for row in PRIMITIVES if row.fixity in ("call", "constant")) - {"<type>"}


def primitive(op: Op) -> Primitive:
    return _BY_OP[op]


def markdown_table() -> str:
    """The users' table of primitives: docs/primitives.md, and `occam primitives`."""
    lines = [
        "# Primitives",
        "",
        "Generated from the primitive table in `dsl/primitives.py` by",
        "`occam primitives > docs/primitives.md`; a test keeps it current.",
        "",
        "Signatures: `B` bool, `R` real, `I` an integer type (`int` or a bit-vector such as `u8`),",
        "the same for every `I` of one use. On bit-vectors every integer operation is followed by",
        "wrapping into N bits. Reals follow IEEE-754: NaN and ±inf are values and propagate.",
        "",
        "| written | signature | semantics | opcode |",
        "|---|---|---|---|",
    ]
    for row in PRIMITIVES:
        if row.fixity == "infix":
            written = f"`a {row.symbol} b`".replace("|", "\\|")
        elif row.fixity == "prefix":
            written = f"`{row.symbol} a`" if row.symbol == "not" else f"`{row.symbol}a`"
        elif row.fixity == "constant":
            written = f"`{row.symbol}`"
        else:
            symbol = "u8" if row.op == Op.CONVERT_I else row.symbol
            written = f"`{symbol}(" + ", ".join("abc"[: row.arity]) + ")`"
        signature = f"({', '.join(row.args)}) → {row.result}"
        semantics = row.semantics.replace("|", "\\|")
        lines.append(f"| {written} | {signature} | {semantics} | {row.op.name} |")
    return "\n".join(lines) + "\n"


def overloads(symbol: str, arity: int) -> tuple[Primitive, ...]:
    """The rows written `symbol` with `arity` arguments (conversions excluded)."""
    return tuple(row for row in PRIMITIVES if row.symbol == symbol and row.arity == arity)

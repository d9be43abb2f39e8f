"""The primitive table: every operation of the language, written down once.

Each row gives a primitive's opcode, how it is written, its signature, its total semantics (in
words for users, and as the numpy reference implementation), its sympy translation, its LaTeX
form, its algebraic properties (commutative, associative, NaN-absorbing, invertible, in range),
whether it rounds as the C math library does, and its torch translation with how that relaxes.
Everything else — the type checker's overload resolution, conversions and flexible literals,
the printers, the reference evaluator, the sympy export, the search's symmetry pruning, NaN
dropping, packing and kernel classes, the users' table in docs/primitives.md — is derived from
these rows, so that they cannot drift apart.

Adding a primitive: a new `Op` value (never renumber: opcodes go into compiled kernels), its
row, and its case in the scalar function of its kernel class (search/kernels.py); an inverse
case in search/inverse.py only if the row says `invertible`. `popcount` was added so.

Signatures use three letters: `B` a bool, `R` a real, and `I` an integer type (`int` or a
bit-vector) that is the *same* for every `I` of one application. A result named `int` is the
concrete type `int`; a result `I` of a conversion is the type it converts to. Results of `I`
operations on bit-vectors are wrapped into N bits by the evaluator, not here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypedDict

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
    "RELAXATIONS",
    "SEARCH_RELAXATIONS",
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
    POPCOUNT = 31
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
    latex_unranked: bool = False  # its symbol has no conventional precedence (⊕, &, |, ≪, ≫, mod)
    # Algebraic properties, used by symmetry pruning and the searches.
    commutative: bool = False  # f(a, b) = f(b, a) at every point
    associative: bool = False  # f(f(a, b), c) = f(a, f(b, c)) exactly (real + and * round: not)
    nan_absorbing: bool = False  # can give a non-NaN result for a NaN argument (`nan < 1`, `1 ** nan`)
    invertible: bool = False  # search/inverse.py solves `f(known, hole) = y` for the hole
    # On bit-vectors: can the result leave the type's range (so that the evaluator's wrapping
    # matters)? "always": never leaves it; "unsigned": never on unsigned types; "": it may.
    in_range: str = ""
    # Is its real result a C math library function's (sin … pow)? Those are not correctly
    # rounded, so numpy's SIMD routine, Numba's libm call and torch may differ in the last bit
    # (IEEE's + − · / and sqrt are correctly rounded: every implementation agrees on them).
    libm: bool = False
    # The torch translation: `torch(T, *tensors)` with T the torch module (imported only by
    # its user) on bool, int64 and float64 tensors, forward-equal to `evaluate`. `relaxation`
    # says what its gradient is (RELAXATIONS), `relaxation_note` how; `soft(T, *tensors)` is
    # the product-logic form over soft truth values in [0, 1], for the rows that have one.
    torch: Callable[..., Any] = field(default=None, repr=False)  # type: ignore[assignment]
    relaxation: str = "none"
    relaxation_note: str = ""
    soft: Callable[..., Any] | None = field(default=None, repr=False)

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


def _popcount(x: np.ndarray) -> np.ndarray:
    # Bit k of the int64 pattern is (x >> k) & 1 (an arithmetic shift brings in the sign bit).
    # Not np.bitwise_count: numpy >= 2 only, and it counts the ones of |x|.
    x = np.asarray(x, dtype=np.int64)
    return sum(((x >> k) & 1 for k in range(64)), np.zeros_like(x))


def _popcount_of_int(x: int) -> int:
    """`_popcount` of a Python integer (sympy's exact arithmetic), by its int64 pattern."""
    return (x % 2**64).bit_count()


def _if(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(c, a, b)


def _cast(dtype: type) -> Callable[[np.ndarray], np.ndarray]:
    return lambda values: values.astype(dtype)


# --- sympy builders (S is the dsl.symbolic module) ---------------------------------------------


def _sympy_guarded(S: Any, divisor: Any, at_zero: Any, otherwise: Callable[[Any], Any]) -> Any:
    """`otherwise(divisor)`, but `at_zero` where the divisor is 0 (decided now when the divisor
    is known: sympy evaluates a division by a literal 0 eagerly, and may raise). A piecewise
    divisor is guarded branch by branch: sympy folds `Piecewise((0, Eq(d, 0)), (x // d, True))`
    over a piecewise d into 0 everywhere (`1 // if(p, 0, 1)` became 0)."""
    if divisor.has(S.Piecewise):
        divisor = S.piecewise_fold(divisor)  # `-if(p, 0, 1)`: one Piecewise, its branches plain
    if isinstance(divisor, S.Piecewise):
        return S.Piecewise(*((_sympy_guarded(S, branch, at_zero, otherwise), condition)
                             for branch, condition in divisor.args))  # fmt: skip
    if divisor.is_zero:
        return at_zero
    if divisor.is_zero is False:
        return otherwise(divisor)
    return S.Piecewise((at_zero, S.Eq(divisor, 0)), (otherwise(divisor), True))


def _sympy_floordiv_int(S: Any, x: Any, y: Any) -> Any:
    return _sympy_guarded(S, y, S.Integer(0), lambda divisor: S.floor(x / divisor))


def _sympy_mod_int(S: Any, x: Any, y: Any) -> Any:
    return _sympy_guarded(S, y, x, lambda divisor: S.Mod(x, divisor))


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


# --- torch translations (T is the torch module, passed in: torch is imported only when used) ---

# How a row's torch translation relaxes. Every translation is forward-equal to `evaluate` on
# bool, int64 and float64 tensors; the word says what its gradient is.
RELAXATIONS = {
    "exact": "the true derivative wherever the function is differentiable (`piecewise`: away from its kinks)",
    "straight-through": "forward exact, backward the gradient of the surrogate named in the note",
    "product logic": "on soft truth values in [0, 1], `soft` is the product-logic form (exact on 0 and 1)",
    "soft bits": "an integer row (its torch translation has no gradient), computed by the relaxed search "
                 "(search/relaxed/soft.py) exactly at one-hot choices: on bit-vectors in product logic "
                 "over soft bits (each bit's probability of being 1), on `int` on float64 values as the "
                 "note says (exact, or a surrogate between integers)",
    "surrogate": "an integer row computed by the relaxed search only through the note's surrogate, exact "
                 "at integer values (one-hot choices), continuous or straight-through between them; the "
                 "types marked none are refused",
    "none": "no gradient: a bool result of reals, an integer argument or result; the relaxed search "
            "refuses it",
}

# The words of the integer rows, relaxed by the relaxed search rather than by their torch translation.
SEARCH_RELAXATIONS = frozenset({"soft bits", "surrogate"})


@functools.cache
def _straight_through(T: Any) -> Callable[..., Any]:
    """`apply(function, x)`: `function(x)` forward, the identity's gradient backward (a custom
    autograd function, not `x + (f(x) - x).detach()`, which is NaN at ±inf and loses −0.0)."""

    class StraightThrough(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, function: Callable[..., Any], x: Any) -> Any:
            return function(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[None, Any]:
            return None, grad

    return StraightThrough.apply


def _torch_if(T: Any, c: Any, a: Any, b: Any) -> Any:
    return T.where(c, a, b)


def _soft_if(T: Any, c: Any, a: Any, b: Any) -> Any:
    return c * a + (1 - c) * b


def _soft_xor(T: Any, x: Any, y: Any) -> Any:
    return x + y - 2 * x * y


def _torch_floordiv_int(T: Any, x: Any, y: Any) -> Any:
    zero, overflow = y == 0, (x == _I64_MIN) & (y == -1)
    quotient = T.floor_divide(x, T.where(zero | overflow, T.ones_like(y), y))
    return T.where(zero, T.zeros_like(x), T.where(overflow, T.full_like(x, _I64_MIN), quotient))


def _torch_mod_int(T: Any, x: Any, y: Any) -> Any:
    zero = y == 0
    return T.where(zero, x, T.remainder(x, T.where(zero | (y == -1), T.ones_like(y), y)))


def _torch_pow_int(T: Any, x: Any, y: Any) -> Any:
    result = T.ones_like(x)
    base, exponent = x.clone(), T.clamp(y, min=0)
    while bool(T.any(exponent)):
        result = T.where((exponent & 1).bool(), result * base, result)
        base = base * base
        exponent = exponent >> 1
    one = T.ones_like(x)
    inverse = T.where(x == 1, one, T.where(x == -1, T.where((y & 1).bool(), -one, one), T.zeros_like(x)))
    return T.where(y < 0, inverse, result)


def _torch_shift_left(T: Any, x: Any, s: Any) -> Any:
    left = T.bitwise_left_shift(x, T.clamp(s, 0, 63))
    right = T.bitwise_right_shift(x, T.clamp(-T.clamp(s, min=-63), 0, 63))
    sign = T.where(x < 0, -T.ones_like(x), T.zeros_like(x))
    return T.where(s >= 64, T.zeros_like(x), T.where(s >= 0, left, T.where(s <= -64, sign, right)))


def _torch_shift_right(T: Any, x: Any, s: Any) -> Any:
    return _torch_shift_left(T, x, T.where(s == _I64_MIN, T.full_like(s, _I64_MAX), -s))


def _torch_popcount(T: Any, x: Any) -> Any:
    # Hacker's Delight 5-1 on int64: each mask clears the sign bits an arithmetic shift brings in.
    x = x - ((x >> 1) & 0x5555555555555555)
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (x * 0x0101010101010101) >> 56  # wraps; the top byte, the count, is at most 64


def _torch_mod_real(T: Any, x: Any, y: Any) -> Any:
    return _remainder(T)(*T.broadcast_tensors(x, y))


@functools.cache
def _remainder(T: Any) -> Callable[..., Any]:
    """`apply(x, y)`: the reference's remainder forward (computed by numpy: torch's vectorized
    CPU fmod gives NaN where x / y overflows, `1e300 % 8.6e-129`, and its scalar path does
    not), with the gradients 1 in x and −⌊x / y⌋ in y backward. On a GPU the forward goes
    through the host."""

    class Remainder(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, y: Any) -> Any:
            ctx.save_for_backward(x, y)
            value = _real(np.mod)(x.detach().cpu().numpy(), y.detach().cpu().numpy())
            return T.from_numpy(np.asarray(value)).to(device=x.device, dtype=x.dtype)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, Any]:
            x, y = ctx.saved_tensors
            return grad, -grad * T.floor(x / y)

    return Remainder.apply


def _torch_min(T: Any, x: Any, y: Any) -> Any:
    # Not T.minimum: of two equal values numpy gives the second (min(0.0, -0.0) = -0.0), as here.
    return T.where(T.isnan(x) | T.isnan(y), x + y, T.where(x < y, x, y))


def _torch_max(T: Any, x: Any, y: Any) -> Any:
    return T.where(T.isnan(x) | T.isnan(y), x + y, T.where(x > y, x, y))


def _torch_real_to_int(T: Any, x: Any) -> Any:
    truncated = T.trunc(x)
    fits = (truncated >= -(2.0**63)) & (truncated < 2.0**63)
    inside = T.where(fits, truncated, T.zeros_like(truncated)).to(T.int64)
    saturated = T.where(truncated > 0, T.full_like(inside, _I64_MAX), T.full_like(inside, _I64_MIN))
    return T.where(fits, inside, T.where(truncated != truncated, T.zeros_like(inside), saturated))


# --- the table --------------------------------------------------------------------------------

_IF_LATEX = r"\begin{{cases}} {1} & \text{{if }} {0} \\ {2} & \text{{otherwise}} \end{{cases}}"
_ALL = frozenset({0, 1, 2})


class _Properties(TypedDict, total=False):
    """The property fields of a `Primitive` that the words of a row's `props` set."""

    commutative: bool
    associative: bool
    nan_absorbing: bool
    invertible: bool
    in_range: str


# The words of a row's `props`, and the fields they set.
_PROPERTIES: dict[str, _Properties] = {
    "commutative": {"commutative": True}, "associative": {"associative": True},
    "NaN-absorbing": {"nan_absorbing": True}, "invertible": {"invertible": True},
    "in range": {"in_range": "always"}, "in range if unsigned": {"in_range": "unsigned"},
}  # fmt: skip
_PROPERTY_WORDS = re.compile("|".join(sorted(map(re.escape, _PROPERTIES), key=len, reverse=True)))


def _row(
    op: Op, symbol: str, fixity: str, signature: str, semantics: str, evaluate: Callable[..., np.ndarray],
    sympy: Callable[..., Any], latex: str, delimited: frozenset[int] = frozenset(), *,
    torch: Callable[..., Any], props: str = "", relax: str = "none", note: str = "",
    soft: Callable[..., Any] | None = None, unranked: bool = False, libm: bool = False,
) -> Primitive:  # fmt: skip
    """A row from the table's shorthand: the signature as text (`"(I, I) -> B"`), the property
    words in `props`, the relaxation's word in `relax` and its note."""
    arguments, result = signature.split("->")
    args = tuple(a.strip() for a in arguments.strip(" ()").split(",") if a.strip())
    assert _PROPERTY_WORDS.sub("", props).strip() == "", f"{op!r}: unknown property in {props!r}"
    properties: _Properties = {}
    for word in _PROPERTY_WORDS.findall(props):
        properties.update(_PROPERTIES[word])
    assert relax in RELAXATIONS and (soft is not None) == (relax == "product logic"), f"{op!r}: relaxation"
    return Primitive(op, symbol, fixity, args, result.strip(), semantics, evaluate, sympy, latex, delimited,
                     unranked, **properties, torch=torch, relaxation=relax, relaxation_note=note, soft=soft,
                     libm=libm)  # fmt: skip


PRIMITIVES: tuple[Primitive, ...] = (
    # bool
    _row(Op.NOT, "not", "prefix", "(B) -> B", "logical negation", np.logical_not,
         lambda S, x: S.Not(x), r"\lnot {0}",
         props="invertible", torch=lambda T, x: T.logical_not(x), relax="product logic", note="1 − x",
         soft=lambda T, x: 1 - x),
    _row(Op.AND, "and", "infix", "(B, B) -> B", "logical and (no short-circuit: programs are pure)",
         np.logical_and, lambda S, x, y: S.And(x, y), r"{0} \land {1}",
         props="commutative associative", torch=lambda T, x, y: T.logical_and(x, y), relax="product logic",
         note="x·y", soft=lambda T, x, y: x * y),
    _row(Op.OR, "or", "infix", "(B, B) -> B", "logical or", np.logical_or,
         lambda S, x, y: S.Or(x, y), r"{0} \lor {1}",
         props="commutative associative", torch=lambda T, x, y: T.logical_or(x, y), relax="product logic",
         note="x + y − x·y", soft=lambda T, x, y: x + y - x * y),
    _row(Op.XOR_B, "^", "infix", "(B, B) -> B", "exclusive or", np.logical_xor,
         lambda S, x, y: S.Xor(x, y), r"{0} \oplus {1}",
         props="commutative associative invertible", unranked=True, torch=lambda T, x, y: T.logical_xor(x, y),
         relax="product logic", note="x + y − 2·x·y", soft=_soft_xor),
    _row(Op.EQ_B, "==", "infix", "(B, B) -> B", "equality", np.equal,
         lambda S, x, y: S.Equivalent(x, y), r"{0} \Leftrightarrow {1}",
         props="commutative invertible", torch=lambda T, x, y: x == y, relax="product logic",
         note="1 − (x + y − 2·x·y)", soft=lambda T, x, y: 1 - _soft_xor(T, x, y)),
    _row(Op.NE_B, "!=", "infix", "(B, B) -> B", "inequality (the same function as `^`)", np.not_equal,
         lambda S, x, y: S.Xor(x, y), r"{0} \not\Leftrightarrow {1}",
         props="commutative invertible", torch=lambda T, x, y: x != y, relax="product logic",
         note="x + y − 2·x·y", soft=_soft_xor),
    _row(Op.IF_B, "if", "call", "(B, B, B) -> B", "`if(c, a, b)`: a where c holds, else b", _if,
         lambda S, c, a, b: S.ITE(c, a, b), _IF_LATEX, _ALL,  # a Piecewise is no operand of And
         torch=_torch_if, relax="product logic", note="c·a + (1 − c)·b", soft=_soft_if),
    # integers
    _row(Op.NEG_I, "-", "prefix", "(I) -> I", "negation; wraps (−MIN = MIN)", np.negative,
         lambda S, x: -x, "-{0}",
         props="invertible", torch=lambda T, x: -x, relax="soft bits",
         note="~x + 1 by a ripple-carry adder; int: −x"),
    _row(Op.ADD_I, "+", "infix", "(I, I) -> I", "addition; wraps on overflow", np.add,
         lambda S, x, y: x + y, "{0} + {1}",
         props="commutative associative invertible", torch=lambda T, x, y: x + y, relax="soft bits",
         note="a ripple-carry adder, carry = majority in product logic; int: x + y"),
    _row(Op.SUB_I, "-", "infix", "(I, I) -> I", "subtraction; wraps on overflow", np.subtract,
         lambda S, x, y: x - y, "{0} - {1}",
         props="invertible", torch=lambda T, x, y: x - y, relax="soft bits",
         note="x + ~y + 1 by a ripple-carry adder; int: x − y"),
    _row(Op.MUL_I, "*", "infix", "(I, I) -> I", "multiplication; wraps on overflow", np.multiply,
         lambda S, x, y: x * y, r"{0} \cdot {1}",
         props="commutative associative invertible", torch=lambda T, x, y: x * y, relax="soft bits",
         note="shift-and-add, Σ_k y_k·(x ≪ k) by ripple-carry adders; int: x·y"),
    _row(Op.FLOORDIV_I, "//", "infix", "(I, I) -> I",
         "floor division (rounds toward −∞, as Python); x // 0 = 0; MIN // −1 = MIN", _floordiv_int,
         _sympy_floordiv_int, r"\left\lfloor \frac{{{0}}}{{{1}}} \right\rfloor", frozenset({0, 1}),
         torch=_torch_floordiv_int, relax="surrogate",
         note="int: ⌊x / y⌋ forward, the gradient of x / y; none on bit-vectors"),
    _row(Op.MOD_I, "%", "infix", "(I, I) -> I",
         "remainder with the sign of the divisor (as Python); x % 0 = x, so x = (x // y)·y + x % y",
         _mod_int, _sympy_mod_int, r"{0} \bmod {1}",
         props="in range", unranked=True, torch=_torch_mod_int, relax="surrogate",
         note="int: x − y·⌊x / y⌋ on soft values, gradient 1 in x and −⌊x / y⌋ in y; none on bit-vectors"),
    _row(Op.POW_I, "**", "infix", "(I, I) -> I",
         "power, wrapping; 0 ** 0 = 1; for y < 0: 1 if x = 1, ±1 if x = −1, else 0", _pow_int,
         _sympy_pow_int, "{0}^{{{1}}}", frozenset({1}),
         torch=_torch_pow_int),
    _row(Op.BITNOT, "~", "prefix", "(I) -> I", "bitwise not: ~x = −x − 1", np.invert,
         lambda S, x: -x - 1, r"\mathop{{\sim}} {0}",
         props="invertible", torch=lambda T, x: T.bitwise_not(x), relax="soft bits",
         note="1 − b per bit; int: −x − 1"),
    _row(Op.BITAND, "&", "infix", "(I, I) -> I", "bitwise and (two's complement)", np.bitwise_and,
         lambda S, x, y: S.bitand(x, y), r"{0} \mathbin{{\&}} {1}",
         props="commutative associative in range", unranked=True, torch=lambda T, x, y: T.bitwise_and(x, y),
         relax="soft bits", note="x·y per bit; int: on interpolated bits (of ⌊v⌋ and ⌊v⌋ + 1)"),
    _row(Op.BITOR, "|", "infix", "(I, I) -> I", "bitwise or", np.bitwise_or,
         lambda S, x, y: S.bitor(x, y), r"{0} \mathbin{{|}} {1}",
         props="commutative associative in range", unranked=True, torch=lambda T, x, y: T.bitwise_or(x, y),
         relax="soft bits", note="x + y − x·y per bit; int: on interpolated bits"),
    _row(Op.BITXOR, "^", "infix", "(I, I) -> I", "bitwise exclusive or", np.bitwise_xor,
         lambda S, x, y: S.bitxor(x, y), r"{0} \oplus {1}",
         props="commutative associative invertible in range", unranked=True,
         torch=lambda T, x, y: T.bitwise_xor(x, y), relax="soft bits",
         note="x + y − 2·x·y per bit; int: on interpolated bits"),
    _row(Op.SHL, "<<", "infix", "(I, I) -> I",
         "x << s = x·2^s, wrapped (s ≥ width gives 0); a negative s shifts right", _shift_left,
         lambda S, x, s: S.floor(x * 2**s), r"{0} \ll {1}",
         unranked=True, torch=_torch_shift_left, relax="soft bits",
         note="a barrel shifter over the amount's bits (each stage an exact permutation, muxed); int: x·2^s"),
    _row(Op.SHR, ">>", "infix", "(I, I) -> I",
         "x >> s = ⌊x / 2^s⌋ (arithmetic: s ≥ width gives 0 or −1); a negative s shifts left",
         _shift_right, lambda S, x, s: S.floor(x / 2**s), r"{0} \gg {1}",
         props="in range if unsigned", unranked=True, torch=_torch_shift_right, relax="soft bits",
         note="a barrel shifter over the amount's bits; int: ⌊x / 2^s⌋, ⌊·⌋ straight-through"),
    _row(Op.ABS_I, "abs", "call", "(I) -> I", "absolute value; abs(MIN) = MIN (wraps)", np.abs,
         lambda S, x: S.Abs(x), r"\left|{0}\right|", _ALL,
         torch=lambda T, x: T.abs(x), relax="soft bits", note="if(x < 0, −x, x) in product logic; int: |x|"),
    _row(Op.MIN_I, "min", "call", "(I, I) -> I", "minimum", np.minimum,
         lambda S, x, y: S.Min(x, y), r"\min\left({0}, {1}\right)", _ALL,
         props="commutative associative in range", torch=lambda T, x, y: T.minimum(x, y), relax="soft bits",
         note="if(x < y, x, y) in product logic; int: exact"),
    _row(Op.MAX_I, "max", "call", "(I, I) -> I", "maximum", np.maximum,
         lambda S, x, y: S.Max(x, y), r"\max\left({0}, {1}\right)", _ALL,
         props="commutative associative in range", torch=lambda T, x, y: T.maximum(x, y), relax="soft bits",
         note="if(x < y, y, x) in product logic; int: exact"),
    _row(Op.LT_I, "<", "infix", "(I, I) -> B", "less than (`a > b` is written `b < a`)", np.less,
         lambda S, x, y: S.Lt(x, y), "{0} < {1}",
         torch=lambda T, x, y: x < y, relax="soft bits",
         note="no carry out of x + ~y + 1 (signed: the sign bits flipped); int: the ramp clamp(y − x, 0, 1)"),
    _row(Op.LE_I, "<=", "infix", "(I, I) -> B", "at most (`a >= b` is written `b <= a`)", np.less_equal,
         lambda S, x, y: S.Le(x, y), r"{0} \le {1}",
         torch=lambda T, x, y: x <= y, relax="soft bits",
         note="not (y < x); int: the ramp clamp(y − x + 1, 0, 1)"),
    _row(Op.EQ_I, "==", "infix", "(I, I) -> B", "equality", np.equal,
         lambda S, x, y: S.Eq(x, y), "{0} = {1}",
         props="commutative", torch=lambda T, x, y: x == y, relax="soft bits",
         note="Π_k (1 − x_k ⊕ y_k); int: the hat clamp(1 − |x − y|, 0, 1)"),
    _row(Op.NE_I, "!=", "infix", "(I, I) -> B", "inequality", np.not_equal,
         lambda S, x, y: S.Ne(x, y), r"{0} \ne {1}",
         props="commutative", torch=lambda T, x, y: x != y, relax="soft bits",
         note="1 − Π_k (1 − x_k ⊕ y_k); int: clamp(|x − y|, 0, 1)"),
    _row(Op.POPCOUNT, "popcount", "call", "(I) -> I",
         "the number of one bits of x in 64-bit two's complement (popcount(−1) = 64); on a bit-vector, "
         "wrapped as every integer result: for unsigned types the ones of the N-bit pattern, while a "
         "negative iN counts its sign extension to 64 bits too (write popcount(uN(x)) for the N bits); "
         "not invertible",
         _popcount, lambda S, x: S.integer_function("popcount", _popcount_of_int)(x),
         r"\operatorname{{popcount}}\left({0}\right)", _ALL, props="in range if unsigned",
         torch=_torch_popcount, relax="soft bits",
         note="the count's exact distribution over the bits, read back as bits; none on int"),
    _row(Op.IF_I, "if", "call", "(B, I, I) -> I", "`if(c, a, b)`: a where c holds, else b", _if,
         _sympy_if, _IF_LATEX, _ALL,
         props="in range", torch=_torch_if, relax="soft bits",
         note="c·a + (1 − c)·b (per bit on bit-vectors)"),
    # reals: IEEE-754 double; NaN and ±inf are ordinary values and propagate
    _row(Op.NEG_R, "-", "prefix", "(R) -> R", "negation", _real(np.negative),
         lambda S, x: -x, "-{0}",
         props="invertible", torch=lambda T, x: -x, relax="exact"),
    _row(Op.ADD_R, "+", "infix", "(R, R) -> R", "addition (IEEE)", _real(np.add),
         lambda S, x, y: x + y, "{0} + {1}",
         props="commutative invertible", torch=lambda T, x, y: x + y, relax="exact"),
    _row(Op.SUB_R, "-", "infix", "(R, R) -> R", "subtraction (IEEE)", _real(np.subtract),
         lambda S, x, y: x - y, "{0} - {1}",
         props="invertible", torch=lambda T, x, y: x - y, relax="exact"),
    _row(Op.MUL_R, "*", "infix", "(R, R) -> R", "multiplication (IEEE)", _real(np.multiply),
         lambda S, x, y: x * y, r"{0} \cdot {1}",
         props="commutative invertible", torch=lambda T, x, y: x * y, relax="exact"),
    # x * y**-1, not x / y: sympy raises ZeroDivisionError for Float(1.0) / Float(0.0).
    _row(Op.DIV_R, "/", "infix", "(R, R) -> R", "division (IEEE): x / 0 = ±inf, 0 / 0 = NaN",
         _real(np.divide), lambda S, x, y: x * y**-1, r"\frac{{{0}}}{{{1}}}", frozenset({0, 1}),
         props="invertible", torch=lambda T, x, y: x / y, relax="exact"),
    _row(Op.FLOORDIV_R, "//", "infix", "(R, R) -> R", "⌊x / y⌋, with IEEE division",
         _real(lambda x, y: np.floor(np.divide(x, y))), lambda S, x, y: S.floor(x * y**-1),
         r"\left\lfloor \frac{{{0}}}{{{1}}} \right\rfloor", frozenset({0, 1}),
         torch=lambda T, x, y: _straight_through(T)(T.floor, x / y), relax="straight-through",
         note="the gradient of x / y"),
    _row(Op.MOD_R, "%", "infix", "(R, R) -> R",
         "remainder with the sign of the divisor (as Python); x % 0 = NaN", _real(np.mod),
         _sympy_mod_real, r"{0} \bmod {1}",
         unranked=True, torch=_torch_mod_real, relax="exact", note="piecewise: 1 in x, −⌊x / y⌋ in y"),
    _row(Op.POW_R, "**", "infix", "(R, R) -> R",
         "IEEE pow: a negative base with a non-integer exponent gives NaN, 0 ** −1 = inf",
         _real(np.power), lambda S, x, y: x**y, "{0}^{{{1}}}", frozenset({1}),
         props="NaN-absorbing", torch=lambda T, x, y: T.pow(x, y), relax="exact",
         libm=True),
    _row(Op.ABS_R, "abs", "call", "(R) -> R", "absolute value", _real(np.abs),
         lambda S, x: S.Abs(x), r"\left|{0}\right|", _ALL,
         torch=lambda T, x: T.abs(x), relax="exact", note="piecewise"),
    _row(Op.MIN_R, "min", "call", "(R, R) -> R", "minimum; NaN if either is NaN", _real(np.minimum),
         lambda S, x, y: S.Min(x, y), r"\min\left({0}, {1}\right)", _ALL,
         props="commutative associative", torch=_torch_min, relax="exact", note="piecewise"),
    _row(Op.MAX_R, "max", "call", "(R, R) -> R", "maximum; NaN if either is NaN", _real(np.maximum),
         lambda S, x, y: S.Max(x, y), r"\max\left({0}, {1}\right)", _ALL,
         props="commutative associative", torch=_torch_max, relax="exact", note="piecewise"),
    _row(Op.SIN, "sin", "call", "(R) -> R", "sine; sin(±inf) = NaN", _real(np.sin),
         lambda S, x: S.sin(x), r"\sin\left({0}\right)", _ALL,
         torch=lambda T, x: T.sin(x), relax="exact", libm=True),
    _row(Op.COS, "cos", "call", "(R) -> R", "cosine; cos(±inf) = NaN", _real(np.cos),
         lambda S, x: S.cos(x), r"\cos\left({0}\right)", _ALL,
         torch=lambda T, x: T.cos(x), relax="exact", libm=True),
    _row(Op.TAN, "tan", "call", "(R) -> R", "tangent", _real(np.tan),
         lambda S, x: S.tan(x), r"\tan\left({0}\right)", _ALL,
         torch=lambda T, x: T.tan(x), relax="exact", libm=True),
    _row(Op.EXP, "exp", "call", "(R) -> R", "e^x; overflows to inf", _real(np.exp),
         lambda S, x: S.exp(x), r"e^{{{0}}}", _ALL,
         props="invertible", torch=lambda T, x: T.exp(x), relax="exact", libm=True),
    _row(Op.LOG, "log", "call", "(R) -> R", "natural logarithm; log(0) = −inf, log(x < 0) = NaN",
         _real(np.log), lambda S, x: S.log(x), r"\log\left({0}\right)", _ALL,
         props="invertible", torch=lambda T, x: T.log(x), relax="exact", libm=True),
    _row(Op.SQRT, "sqrt", "call", "(R) -> R", "square root; sqrt(x < 0) = NaN", _real(np.sqrt),
         lambda S, x: S.sqrt(x), r"\sqrt{{{0}}}", _ALL,
         props="invertible", torch=lambda T, x: T.sqrt(x), relax="exact"),
    _row(Op.TANH, "tanh", "call", "(R) -> R", "hyperbolic tangent", _real(np.tanh),
         lambda S, x: S.tanh(x), r"\tanh\left({0}\right)", _ALL,
         torch=lambda T, x: T.tanh(x), relax="exact", libm=True),
    _row(Op.FLOOR, "floor", "call", "(R) -> R", "largest integer ≤ x, as a real", _real(np.floor),
         lambda S, x: S.floor(x), r"\left\lfloor {0} \right\rfloor", _ALL,
         torch=lambda T, x: _straight_through(T)(T.floor, x), relax="straight-through",
         note="the gradient of x"),
    _row(Op.CEIL, "ceil", "call", "(R) -> R", "smallest integer ≥ x, as a real", _real(np.ceil),
         lambda S, x: S.ceiling(x), r"\left\lceil {0} \right\rceil", _ALL,
         torch=lambda T, x: _straight_through(T)(T.ceil, x), relax="straight-through",
         note="the gradient of x"),
    _row(Op.LT_R, "<", "infix", "(R, R) -> B", "less than; false if either is NaN", _real(np.less),
         lambda S, x, y: S.Lt(x, y), "{0} < {1}",
         props="NaN-absorbing", torch=lambda T, x, y: x < y),
    _row(Op.LE_R, "<=", "infix", "(R, R) -> B", "at most; false if either is NaN", _real(np.less_equal),
         lambda S, x, y: S.Le(x, y), r"{0} \le {1}",
         props="NaN-absorbing", torch=lambda T, x, y: x <= y),
    _row(Op.EQ_R, "==", "infix", "(R, R) -> B", "equality; NaN == NaN is false", _real(np.equal),
         lambda S, x, y: S.Eq(x, y), "{0} = {1}",
         props="commutative NaN-absorbing", torch=lambda T, x, y: x == y),
    _row(Op.NE_R, "!=", "infix", "(R, R) -> B", "inequality; NaN != NaN is true", _real(np.not_equal),
         lambda S, x, y: S.Ne(x, y), r"{0} \ne {1}",
         props="commutative NaN-absorbing", torch=lambda T, x, y: x != y),
    _row(Op.IF_R, "if", "call", "(B, R, R) -> R", "`if(c, a, b)`: a where c holds, else b", _if,
         _sympy_if, _IF_LATEX, _ALL,
         props="NaN-absorbing", torch=_torch_if, relax="product logic", note="c·a + (1 − c)·b",
         soft=_soft_if),
    _row(Op.PI, "pi", "constant", "() -> R", "π", lambda: np.float64(np.pi),
         lambda S: S.pi, r"\pi",
         torch=lambda T: T.tensor(np.pi, dtype=T.float64), relax="exact"),
    # conversions, written as calls of a type name
    _row(Op.BOOL_TO_INT, "int", "call", "(B) -> int", "1 for true, 0 for false",
         _cast(np.int64), _sympy_indicator, r"\left[{0}\right]", _ALL,
         torch=lambda T, b: b.to(T.int64), relax="soft bits", note="the truth value itself"),
    _row(Op.BOOL_TO_REAL, "real", "call", "(B) -> R", "1.0 for true, 0.0 for false",
         _cast(np.float64), _sympy_indicator, r"\left[{0}\right]", _ALL,
         torch=lambda T, b: b.to(T.float64), relax="product logic", note="the truth value itself",
         soft=lambda T, b: b),
    _row(Op.INT_TO_REAL, "real", "call", "(I) -> R", "the nearest double", _cast(np.float64),
         lambda S, x: x, "{0}", _ALL,
         torch=lambda T, x: x.to(T.float64), relax="soft bits",
         note="Σ_k b_k·2^k (signed: −2^(N−1) for the top bit); int: x"),
    _row(Op.REAL_TO_INT, "int", "call", "(R) -> int",
         "truncation toward 0; NaN gives 0, ±inf and out-of-range values saturate", _real(_real_to_int),
         _sympy_truncate, r"\operatorname{{trunc}}\left({0}\right)", _ALL,
         props="NaN-absorbing", torch=_torch_real_to_int, relax="surrogate",
         note="trunc forward, the gradient of x (straight-through)"),
    _row(Op.CONVERT_I, "<type>", "call", "(I) -> I",
         "`u8(x)`, `int(x)`, …: the integer x wrapped into the named integer type", lambda x: x,
         lambda S, x: x, "{0}", _ALL,
         torch=lambda T, x: x, relax="soft bits",
         note="bits sign- or zero-extended, then cut to N; to int: Σ_k b_k·2^k; from int: interpolated bits"),
)

_BY_OP = {row.op: row for row in PRIMITIVES}
assert len(_BY_OP) == len(PRIMITIVES) == len(Op), "one row per opcode"

COMMUTATIVE = frozenset(row.op for row in PRIMITIVES if row.commutative)
ASSOCIATIVE = frozenset(row.op for row in PRIMITIVES if row.associative)

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
        "Properties: *commutative* and *associative* (exactly: real `+` and `*` round), *NaN-absorbing*",
        "(a NaN argument can give a number), *invertible* (the backward search solves it for an operand),",
        "*in range* (on bit-vectors the result never leaves the type's range).",
        "",
        "Each row also has a torch translation, forward-equal to the semantics on bool, int64 and",
        "float64 tensors (sqrt and the transcendental functions up to their last bit). Its gradient:",
        "",
        *(f"- *{word}*: {meaning}" for word, meaning in RELAXATIONS.items()),
        "",
        "| written | signature | semantics | properties | torch gradient | opcode |",
        "|---|---|---|---|---|---|",
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
        relaxation = f"{row.relaxation}: {row.relaxation_note}" if row.relaxation_note else row.relaxation
        properties = _properties_text(row)
        lines.append(f"| {written} | {signature} | {semantics} | {properties} | {relaxation} | {row.op.name} |")
    return "\n".join(lines) + "\n"


def _properties_text(row: Primitive) -> str:
    def has(fields: _Properties) -> bool:
        return all(getattr(row, name) == value for name, value in fields.items())

    words = [word for word, fields in _PROPERTIES.items() if has(fields)]
    return ", ".join(words)


def overloads(symbol: str, arity: int) -> tuple[Primitive, ...]:
    """The rows written `symbol` with `arity` arguments (conversions excluded)."""
    return tuple(row for row in PRIMITIVES if row.symbol == symbol and row.arity == arity)

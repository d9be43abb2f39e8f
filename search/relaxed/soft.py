"""Soft semantics: the value of one template over soft children, from the primitive table's
torch and soft columns (the package docstring says how non-finite values are treated), and the
soft forms of the integer rows.

Representation per type (R restarts, P points; a leading dimension may be 1 where a value does
not depend on it):

| type        | soft value                                                     | shape     |
|-------------|----------------------------------------------------------------|-----------|
| `real`      | float64                                                        | (R, P)    |
| `bool`      | the probability of true, in [0, 1]                             | (R, P)    |
| `int`       | float64, integer-valued at one-hot choices                     | (R, P)    |
| `uN`, `iN`  | soft bits: per bit (least significant first) P(bit = 1)        | (R, P, N) |

Bit-vectors are computed in product logic over their bits, treated as independent (and = xy,
or = x + y − xy, xor = x + y − 2xy, not = 1 − x): bitwise operations per bit; shifts by a soft
amount as a barrel shifter (one stage per bit of the amount, each a product-logic mux of the
value and its shift by 2^k, an exact permutation with fill); + and − as ripple-carry adders
(sum = x ⊕ y ⊕ c, carry = majority(x, y, c) = xy + xc + yc − 2xyc; x − y = x + ~y + 1);
* by shift-and-add; comparisons by the borrow of x − y; popcount by the exact distribution of
the count. On 0 and 1 every one of these is the reference semantics, so at one-hot choices the
soft tree computes what `dsl.evaluate` does.

`int` values are float64, exact while |v| ≤ 2^52 (`EXACT_INT`; beyond it a value is NaN, so
that it is masked and charged as non-finite: the reference wraps at 2^63, a float does not).
+ − × neg abs min max are exact; the rest are surrogates, exact at integer values (so at one-hot
choices) and continuous or straight-through between them (`INT_SURROGATES` says which, and a
result lists the ones its grammar used): `//` (⌊x / y⌋ forward, the gradient of x / y), `%`
(x − y⌊x / y⌋, gradient 1 in x and −⌊x / y⌋ in y), comparisons as ramps (x < y is
clamp(y − x, 0, 1), exact on integers), bitwise operations on *interpolated bits* (the bits of
⌊v⌋ and ⌊v⌋ + 1 mixed by v's fraction, so piecewise linear in v), shifts as x · 2^s (⌊·⌋
straight-through for right shifts). `**` (on every integer type), `//` and `%` on bit-vectors,
and popcount on `int` have no soft form: the searcher refuses them by name (`refusal`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from dsl import Apply, Expr, Hole, Lit, Op, Type, Var

__all__ = ["EXACT_INT", "INT_SURROGATES", "finite_gradient", "integer_loss", "may_be_nonfinite", "refusal",
           "soft_value", "to_bits", "uses_surrogate"]

EXACT_INT = 2.0**52  # |int value| above this is NaN in the soft tree (module docstring)


@functools.cache
def finite_gradient(T: Any) -> Callable[[Any], Any]:
    """The identity, whose backward replaces non-finite gradient elements by 0 (module docstring)."""

    class FiniteGradient(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return T.where(T.isfinite(grad), grad, T.zeros((), dtype=grad.dtype))

    return FiniteGradient.apply


def soft_value(node: Expr, children: Iterator[Any], inputs: dict[str, Any]) -> Any:
    """A template's soft value: holes take the next child's value, inputs their column (a
    bit-vector's as bits), literals their value; a primitive its soft form (module docstring)."""
    import torch

    if isinstance(node, Hole):
        return next(children)
    if isinstance(node, Var):
        column = inputs[node.name][None, :]
        return to_bits(torch, column, node.type.width) if node.type.is_bitvector else column
    if isinstance(node, Lit):
        value = torch.tensor([[float(node.value)]], dtype=torch.float64)
        return to_bits(torch, value, node.type.width) if node.type.is_bitvector else value
    assert isinstance(node, Apply)
    args = [soft_value(arg, children, inputs) for arg in node.args]
    integer = _integer_type(node)
    if integer is not None:
        form = (_ON_BITS if integer.is_bitvector else _ON_INT)[node.op]
        assert form is not None, f"no soft form of {node.op!r} on {integer} (refusal() checks first)"
        return form(torch, node, *args)
    row = node.primitive
    if row.soft is not None:
        return row.soft(torch, *args)
    return row.torch(torch, *args)


@functools.cache
def may_be_nonfinite(template: Expr) -> bool:
    """Whether `template`'s soft value can be NaN or ±inf over finite children: only when one of
    its nodes computes a real or an `int` (guarded, EXACT_INT); product logic over truth values
    and soft bits stays in [0, 1]."""
    return any(node.type.kind == "real" or (node.type.kind == "int" and not node.type.is_bitvector)
               for node in template.walk() if not isinstance(node, Hole))  # fmt: skip


def refusal(node: Apply) -> str | None:
    """Why the soft tree cannot compute `node` (its row has no soft form on its integer type),
    or None when it can (real and bool rows: the primitive table's relaxation decides)."""
    integer = _integer_type(node)
    if integer is None:
        return "its relaxation is none" if node.primitive.relaxation == "none" else None
    table = _ON_BITS if integer.is_bitvector else _ON_INT
    if table.get(node.op) is not None:
        return None
    return f"no soft form on {'bit-vectors' if integer.is_bitvector else 'int'}"


def uses_surrogate(node: Apply) -> bool:
    """Whether `node`'s soft form is a surrogate between integer values (on `int`), not exact."""
    integer = _integer_type(node)
    if node.op == Op.CONVERT_I:
        return not node.args[0].type.is_bitvector and node.type.is_bitvector
    return (integer is not None and not integer.is_bitvector and node.op in INT_SURROGATES) or \
        node.primitive.relaxation == "straight-through"


def _integer_type(node: Apply) -> Type | None:
    """The integer type an application computes on (its first integer argument's, else its
    result's), or None when neither is an integer."""
    for arg in node.args:
        if arg.type.kind == "int":
            return arg.type
    return node.type if node.type.kind == "int" else None


# --- bits -------------------------------------------------------------------------------------


def to_bits(T: Any, values: Any, width: int) -> Any:
    """Integer-valued float64 `values` (any shape) → their two's complement bits (…, width),
    least significant first; between integers, the bits of ⌊v⌋ and ⌊v⌋ + 1 mixed by the fraction
    (exact at integers, piecewise linear in v); NaN where v is not finite."""
    finite = T.isfinite(values)
    safe = T.where(finite, values, T.zeros((), dtype=values.dtype))
    low = T.floor(safe)
    fraction = (safe - low)[..., None]
    low = low.to(T.int64)
    shifts = T.arange(width)
    low_bits = ((low[..., None] >> shifts) & 1).to(T.float64)
    high_bits = (((low + 1)[..., None] >> shifts) & 1).to(T.float64)
    bits = low_bits + fraction * (high_bits - low_bits)
    return T.where(finite[..., None], bits, T.full((), float("nan"), dtype=T.float64))


def _value_of_bits(T: Any, bits: Any, signed: bool) -> Any:
    """Σ_k b_k 2^k (the top bit −2^(N−1) when signed): the expected value, exact on 0 and 1."""
    width = bits.shape[-1]
    weights = [float(2**k) for k in range(width)]
    if signed:
        weights[-1] = -weights[-1]
    return _guard(T, bits @ T.tensor(weights, dtype=T.float64))


def _xor(x: Any, y: Any) -> Any:
    return x + y - 2 * x * y


def _mux(c: Any, a: Any, b: Any) -> Any:
    """if(c, a, b) in product logic; c of shape (R, P) over bits (…, N) or values."""
    if a.dim() > c.dim():
        c = c[..., None]
    return c * a + (1 - c) * b


def _ripple(T: Any, x: Any, y: Any, carry: Any) -> tuple[Any, Any]:
    """x + y + carry by a ripple-carry adder in product logic → (sum bits, carry out)."""
    x, y = T.broadcast_tensors(x, y)
    x, y = x.movedim(-1, 0).contiguous(), y.movedim(-1, 0).contiguous()  # one bit: a contiguous (R, P)
    carry = carry + T.zeros_like(x[0])
    sums = []
    for a, b in zip(x, y):
        half = _xor(a, b)
        sums.append(_xor(half, carry))
        carry = a * b + carry * half  # majority(a, b, c) in product logic: ab + c(a + b − 2ab)
    return T.stack(sums, dim=-1), carry


def _shift_up(T: Any, x: Any, k: int) -> Any:
    """Toward the high bits by k (a left shift), zeros in."""
    width = x.shape[-1]
    if k >= width:
        return T.zeros_like(x)
    return T.cat([T.zeros_like(x[..., :k]), x[..., : width - k]], dim=-1)


def _shift_down(T: Any, x: Any, k: int, signed: bool) -> Any:
    """Toward the low bits by k (an arithmetic right shift: the top bit in when signed)."""
    width = x.shape[-1]
    fill = x[..., -1:] if signed else T.zeros_like(x[..., -1:])
    k = min(k, width)
    return T.cat([x[..., k:], fill.expand(*x.shape[:-1], k)], dim=-1)


def _barrel(T: Any, x: Any, amount: Any, up: bool, signed: bool) -> Any:
    """x shifted by the unsigned amount whose bits are `amount` (…, M): stage k muxes x with x
    shifted by 2^k on bit k (a shift by the width or more leaves only the fill)."""
    width = x.shape[-1]
    for k in range(amount.shape[-1]):
        step = 2**k if k < 7 else width  # 2^k ≥ 64 > any width: the whole fill
        shifted = _shift_up(T, x, step) if up else _shift_down(T, x, step, signed)
        x = _mux(amount[..., k], shifted, x)
    return x


def _shift(T: Any, type_: Type, x: Any, s: Any, up: bool) -> Any:
    """x << s (up) or x >> s on bits, with the reference's rules: a shift by the width or more
    leaves the fill; a negative s (signed types) shifts the other way by −s = ~s + 1."""
    if not type_.signed:
        return _barrel(T, x, s, up, False)
    forward = _barrel(T, x, s[..., :-1], up, True)
    complement = 1 - s[..., :-1]  # the low bits of ~s, whose value is −s − 1 when s < 0
    first = _shift_down(T, x, 1, True) if up else _shift_up(T, x, 1)
    backward = _barrel(T, first, complement, not up, True)
    return _mux(s[..., -1], backward, forward)


def _negate(T: Any, x: Any) -> Any:
    return _ripple(T, 1 - x, T.zeros_like(x), T.ones((), dtype=x.dtype))[0]


def _less(T: Any, type_: Type, x: Any, y: Any) -> Any:
    """x < y: no carry out of x + ~y + 1 (x ≥ y unsigned carries); signed, with the sign bits
    flipped (which maps iN onto uN in order)."""
    if type_.signed:
        x = T.cat([x[..., :-1], 1 - x[..., -1:]], dim=-1)
        y = T.cat([y[..., :-1], 1 - y[..., -1:]], dim=-1)
    _, carry = _ripple(T, x, 1 - y, T.ones((), dtype=x.dtype))
    return 1 - carry


def _equal(T: Any, x: Any, y: Any) -> Any:
    return T.prod(1 - _xor(x, y), dim=-1)


def _multiply(T: Any, x: Any, y: Any) -> Any:
    """Shift-and-add: Σ_k y_k · (x << k), each partial product bitwise x_i · y_k."""
    x, y = T.broadcast_tensors(x, y)
    total = T.zeros_like(x)
    for k in range(x.shape[-1]):
        total = _ripple(T, total, y[..., k, None] * _shift_up(T, x, k), T.zeros((), dtype=x.dtype))[0]
    return total


def _popcount(T: Any, type_: Type, x: Any) -> Any:
    """The count's exact distribution (bits independent), read back as bits of the count wrapped
    into N bits. Signed: the sign bit counts 65 − N (its 64-bit sign extension: primitives.py)."""
    width = x.shape[-1]
    weights = [1] * width
    if type_.signed:
        weights[-1] = 65 - width
    top = sum(weights)
    distribution = T.zeros(*x.shape[:-1], top + 1, dtype=x.dtype)
    distribution[..., 0] = 1
    for k, weight in enumerate(weights):
        b = x[..., k, None]
        moved = T.cat([T.zeros_like(distribution[..., :weight]), distribution[..., : top + 1 - weight]],
                      dim=-1)  # the count plus this bit's weight
        distribution = (1 - b) * distribution + b * moved
    counts = T.arange(top + 1)
    table = ((counts[:, None] >> T.arange(width)) & 1).to(x.dtype)  # (count, bit)
    return distribution @ table


def _convert_bits(T: Any, node: Apply, x: Any) -> Any:
    """`uN(x)` and friends: into a bit-vector (from bits: extended by the sign or zeros, then
    cut to N; from `int`: its interpolated bits); into `int`: the value."""
    source, target = node.args[0].type, node.type
    if not source.is_bitvector:
        return _guard(T, x) if not target.is_bitvector else to_bits(T, x, target.width)
    if not target.is_bitvector:
        return _value_of_bits(T, x, source.signed)
    extra = target.width - source.width
    if extra > 0:
        fill = x[..., -1:] if source.signed else T.zeros_like(x[..., -1:])
        x = T.cat([x, fill.expand(*x.shape[:-1], extra)], dim=-1)
    return x[..., : target.width]


def _bits(form: Callable[..., Any]) -> Callable[..., Any]:
    """A bit-vector form `form(T, type, *args)` as `f(T, node, *args)`, type the operands'."""
    return lambda T, node, *args: form(T, _integer_type(node), *args)


_ON_BITS: dict[Op, Callable[..., Any] | None] = {
    Op.NEG_I: _bits(lambda T, t, x: _negate(T, x)),
    Op.ADD_I: _bits(lambda T, t, x, y: _ripple(T, x, y, T.zeros((), dtype=x.dtype))[0]),
    Op.SUB_I: _bits(lambda T, t, x, y: _ripple(T, x, 1 - y, T.ones((), dtype=x.dtype))[0]),
    Op.MUL_I: _bits(lambda T, t, x, y: _multiply(T, x, y)),
    Op.FLOORDIV_I: None,
    Op.MOD_I: None,
    Op.POW_I: None,
    Op.BITNOT: _bits(lambda T, t, x: 1 - x),
    Op.BITAND: _bits(lambda T, t, x, y: x * y),
    Op.BITOR: _bits(lambda T, t, x, y: x + y - x * y),
    Op.BITXOR: _bits(lambda T, t, x, y: _xor(x, y)),
    Op.SHL: _bits(lambda T, t, x, s: _shift(T, t, x, s, up=True)),
    Op.SHR: _bits(lambda T, t, x, s: _shift(T, t, x, s, up=False)),
    Op.ABS_I: _bits(lambda T, t, x: _mux(x[..., -1], _negate(T, x), x) if t.signed else x),
    Op.MIN_I: _bits(lambda T, t, x, y: _mux(_less(T, t, x, y), x, y)),
    Op.MAX_I: _bits(lambda T, t, x, y: _mux(_less(T, t, x, y), y, x)),
    Op.LT_I: _bits(lambda T, t, x, y: _less(T, t, x, y)),
    Op.LE_I: _bits(lambda T, t, x, y: 1 - _less(T, t, y, x)),
    Op.EQ_I: _bits(lambda T, t, x, y: _equal(T, x, y)),
    Op.NE_I: _bits(lambda T, t, x, y: 1 - _equal(T, x, y)),
    Op.IF_I: lambda T, node, c, a, b: _mux(c, a, b),
    Op.POPCOUNT: _bits(lambda T, t, x: _popcount(T, t, x)),
    Op.INT_TO_REAL: _bits(lambda T, t, x: _value_of_bits(T, x, t.signed)),
    Op.CONVERT_I: _convert_bits,
}


# --- int as float64 ---------------------------------------------------------------------------


def _guard(T: Any, v: Any) -> Any:
    """NaN where |v| > EXACT_INT (module docstring)."""
    return T.where(T.abs(v) <= EXACT_INT, v, T.full((), float("nan"), dtype=v.dtype))


@functools.cache
def _straight_through(T: Any) -> Callable[..., Any]:
    """`apply(exact, surrogate)`: `exact`'s value forward, `surrogate`'s gradient backward
    (exact forward: `s + (e − s).detach()` rounds)."""

    class StraightThrough(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, exact: Any, surrogate: Any) -> Any:
            return exact.detach().clone()

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[None, Any]:
            return None, grad

    return StraightThrough.apply


def _floor_st(T: Any, v: Any) -> Any:
    return _straight_through(T)(T.floor(v), v)


def _safe(T: Any, y: Any) -> Any:
    return T.where(y == 0, T.ones((), dtype=y.dtype), y)


def _floordiv(T: Any, node: Apply, x: Any, y: Any) -> Any:
    quotient = _straight_through(T)(T.div(x, _safe(T, y), rounding_mode="floor"), x / _safe(T, y))
    return _guard(T, T.where(y == 0, T.zeros((), dtype=x.dtype), quotient))


def _mod(T: Any, node: Apply, x: Any, y: Any) -> Any:
    x, y = T.broadcast_tensors(x, y)
    return T.where(y == 0, x, T.remainder(x, _safe(T, y)))


def _bitwise(operation: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """On interpolated two's complement bits, as wide as the operands need (exact at integers)."""

    def form(T: Any, node: Apply, x: Any, y: Any) -> Any:
        largest = T.nan_to_num(T.maximum(T.abs(x).max(), T.abs(y).max()).detach(), nan=0.0)
        width = min(int(largest.item() + 2).bit_length() + 1, 53)
        return _value_of_bits(T, operation(to_bits(T, x, width), to_bits(T, y, width)), True)

    return form


def _shift_int(T: Any, x: Any, s: Any) -> Any:
    """x << s as x · 2^s for s ≥ 0, ⌊x · 2^s⌋ (straight-through) for s < 0; 0 from s = 64."""
    scaled = x * T.pow(2.0, T.clamp(s, -64.0, 64.0))
    value = T.where(s >= 0, scaled, _floor_st(T, scaled))
    return _guard(T, T.where(s >= 64, T.zeros((), dtype=x.dtype), value))


_ON_INT: dict[Op, Callable[..., Any] | None] = {
    Op.NEG_I: lambda T, node, x: -x,
    Op.ADD_I: lambda T, node, x, y: _guard(T, x + y),
    Op.SUB_I: lambda T, node, x, y: _guard(T, x - y),
    Op.MUL_I: lambda T, node, x, y: _guard(T, x * y),
    Op.FLOORDIV_I: _floordiv,
    Op.MOD_I: _mod,
    Op.POW_I: None,
    Op.BITNOT: lambda T, node, x: -x - 1,
    Op.BITAND: _bitwise(lambda x, y: x * y),
    Op.BITOR: _bitwise(lambda x, y: x + y - x * y),
    Op.BITXOR: _bitwise(_xor),
    Op.SHL: lambda T, node, x, s: _shift_int(T, x, s),
    Op.SHR: lambda T, node, x, s: _shift_int(T, x, -s),
    Op.ABS_I: lambda T, node, x: T.abs(x),
    Op.MIN_I: lambda T, node, x, y: T.minimum(x, y),
    Op.MAX_I: lambda T, node, x, y: T.maximum(x, y),
    Op.LT_I: lambda T, node, x, y: T.clamp(y - x, 0, 1),
    Op.LE_I: lambda T, node, x, y: T.clamp(y - x + 1, 0, 1),
    Op.EQ_I: lambda T, node, x, y: T.clamp(1 - T.abs(x - y), 0, 1),
    Op.NE_I: lambda T, node, x, y: T.clamp(T.abs(x - y), 0, 1),
    Op.IF_I: lambda T, node, c, a, b: _mux(c, a, b),
    Op.POPCOUNT: None,
    Op.BOOL_TO_INT: lambda T, node, b: b,
    Op.INT_TO_REAL: lambda T, node, x: x,
    Op.REAL_TO_INT: lambda T, node, x: _guard(T, _straight_through(T)(T.trunc(x), x)),
    Op.CONVERT_I: _convert_bits,
}

# The `int` forms that are surrogates between integers (exact at them); the others are exact.
INT_SURROGATES: dict[Op, str] = {
    Op.FLOORDIV_I: "⌊x / y⌋ with the gradient of x / y",
    Op.MOD_I: "x − y·⌊x / y⌋ on soft values",
    Op.BITAND: "interpolated bits", Op.BITOR: "interpolated bits", Op.BITXOR: "interpolated bits",
    Op.SHL: "x · 2^s", Op.SHR: "⌊x / 2^s⌋, straight-through",
    Op.LT_I: "the ramp clamp(y − x, 0, 1)", Op.LE_I: "the ramp clamp(y − x + 1, 0, 1)",
    Op.EQ_I: "the hat 1 − |x − y|", Op.NE_I: "the ramp |x − y|",
    Op.REAL_TO_INT: "trunc, straight-through", Op.CONVERT_I: "interpolated bits (int → bit-vector)",
}  # fmt: skip


# --- data loss --------------------------------------------------------------------------------

PROBABILITY_FLOOR = 1e-7  # soft bits clamped to [floor, 1 − floor] in the cross-entropy


def integer_loss(T: Any, values: Any, target: Any) -> Any:
    """Per restart, for an integer output (docs/search.md, "Relaxed search"): a bit-vector's
    (R, P, N) soft bits, the cross-entropy of the target's bits in bits, summed over the N bits
    and averaged over the points; an `int`'s (R, P) values, the mean squared error relative to
    the targets' mean square, as for reals (an int slot's value is a mixture's expectation, not a
    distribution over the range, so there is no categorical to score)."""
    if values.dim() == 3:
        bits = to_bits(T, target, values.shape[-1])
        clamped = T.clamp(values, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
        p = values + (clamped - values).detach()  # the gradient kept where a prediction saturates (straight-through)
        return -(bits * T.log2(p) + (1 - bits) * T.log2(1 - p)).sum(dim=2).mean(dim=1)
    scale = T.clamp((target**2).mean(), min=1e-12)
    return ((values - target) ** 2).mean(dim=1) / scale

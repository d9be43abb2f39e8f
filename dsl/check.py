"""Type checking: surface syntax → typed programs (program.py).

Checking is bidirectional. Most expressions have a type of their own; an integer literal, and a
tree of same-typed operations over integer literals (`1 + 2`, `-3`, `min(1, 2)`), is
*flexible*: it takes the type its context expects — the other operand's (`x + 1` with x a
`u8`), the alternative's (`real -> 1`), the output's — or `int` when nothing is expected.
A type name applied to a flexible expression annotates it (`u8(1)`, `real(2)`); applied to
anything else it converts (`int(b)`, `real(n)`, `u8(n)`).

Overloaded operators (`+` on integers and reals, `^` on bools and integers, …) are resolved
from the primitive table by the kinds of their operands, which must share one type: there are
no implicit conversions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from .errors import OccamTypeError, Span, did_you_mean, shortened
from .primitives import CALL_NAMES, PRIMITIVES, Primitive, overloads, primitive
from .program import CONDITIONALS, CONVERSIONS, FLEXIBLE_OPS, Apply, Expr, Hole, Lit, Var
from .syntax import Call, Name, Num, Operation, SurfaceExpr
from .types import BOOL, INT, REAL, Type

__all__ = ["Scope", "elaborate", "RESERVED_NAMES"]

_CONSTANT_ROWS = {row.symbol: row for row in PRIMITIVES if row.fixity == "constant"}  # `pi`
CONSTANTS = frozenset({"true", "false", *_CONSTANT_ROWS})
# The grammar's words ("task", "seed", "and", …): grammar.lark is their one source, and its NAME
# terminal excludes exactly these (tests/dsl/test_primitive_table.py checks).
KEYWORDS = frozenset(re.findall(r'"([A-Za-z_]\w*)"', Path(__file__).with_name("grammar.lark").read_text()))
RESERVED_NAMES = KEYWORDS | CALL_NAMES | CONSTANTS

# The surface symbols of the program printer's flexible operations (program.FLEXIBLE_OPS); `if`
# is flexible through its alternatives only, and is decided apart.
_FLEXIBLE_OPERATORS = frozenset(
    row.symbol for row in PRIMITIVES if row.op in FLEXIBLE_OPS and row.fixity in ("infix", "prefix")
)
_FLEXIBLE_CALLS = frozenset(
    row.symbol for row in PRIMITIVES if row.op in FLEXIBLE_OPS - CONDITIONALS and row.fixity == "call"
)
_MIRRORED = {">": "<", ">=": "<="}
_KIND_LETTER = {"bool": "B", "int": "I", "real": "R"}
_LETTER_WORD = {"B": "bool", "I": "integer", "R": "real"}


@dataclass(frozen=True, slots=True)
class Scope:
    """What names mean: the task's inputs and, inside grammar alternatives (`holes`), type
    names standing for sub-programs."""

    inputs: Mapping[str, Type]
    holes: bool = False


def elaborate(expr: SurfaceExpr, scope: Scope, expected: Type | None = None) -> Expr:
    """The typed program `expr` denotes, of type `expected` when given.

    Raises OccamTypeError with the span of the offending sub-expression (the caller places it
    in its source).
    """
    node = _elaborate(expr, scope, expected)
    _require(node, expected, expr)
    return node


def _elaborate(expr: SurfaceExpr, scope: Scope, expected: Type | None) -> Expr:
    match expr:
        case Num():
            return _number(expr, expected)
        case Name():
            return _name(expr, scope)
        case Operation(symbol=symbol, args=args) if symbol in _MIRRORED:
            mirrored = Operation(_MIRRORED[symbol], (args[1], args[0]), expr.span, expr.operator_span)
            return _apply(mirrored, mirrored.symbol, mirrored.args, scope, expected)
        case Operation(symbol=symbol, args=args):
            return _apply(expr, symbol, args, scope, expected)
        case Call(name=name, args=args):
            target = Type.named(name)
            if target is not None:
                return _conversion(expr, target, scope)
            return _apply(expr, name, args, scope, expected)
    raise TypeError(f"not a surface expression: {expr!r}")


def is_flexible(expr: SurfaceExpr) -> bool:
    """Does `expr` take its type from its context? (See the module docstring.)"""
    match expr:
        case Num(is_real=is_real):
            return not is_real
        case Operation(symbol=symbol, args=args) if symbol in _FLEXIBLE_OPERATORS:
            return all(is_flexible(arg) for arg in args)
        case Call(name=name, args=args) if name in _FLEXIBLE_CALLS:
            return bool(args) and all(is_flexible(arg) for arg in args)
        case Call(name="if", args=(_, then, otherwise)):
            return is_flexible(then) and is_flexible(otherwise)
    return False


# --- leaves -----------------------------------------------------------------------------------


def _number(num: Num, expected: Type | None) -> Lit:
    if num.is_real:
        value = float(num.text)
        if value == float("inf"):
            raise OccamTypeError(f"real literal {shortened(num.text)} is too large for a double", span=num.span)
        return Lit(value, REAL, num.span)
    value = int(num.text)
    target = INT if expected is None or expected.kind == "bool" else expected
    if target.kind == "real":
        if value >= 2**1024:
            raise OccamTypeError(f"literal {shortened(num.text)} is too large for a real", span=num.span)
        return Lit(float(value), REAL, num.span)
    bounds = target.bounds
    assert bounds is not None, "neither bool nor real: an integer type"
    low, high = bounds
    if value > high:
        raise OccamTypeError(
            f"integer literal {shortened(num.text)} does not fit type {target}",
            span=num.span,
            expected=f"a value in {low}..{high}",
        )
    return Lit(value, target, num.span)


def _name(name: Name, scope: Scope) -> Expr:
    if name.name in scope.inputs:
        return Var(name.name, scope.inputs[name.name], name.span)
    if name.name in ("true", "false"):
        return Lit(name.name == "true", BOOL, name.span)
    if name.name in _CONSTANT_ROWS:
        row = _CONSTANT_ROWS[name.name]
        return Apply(row.op, (), _RESULT_TYPE[row.result], name.span)
    type_ = Type.named(name.name)
    if type_ is not None:
        if scope.holes:
            return Hole(type_, name.span)
        raise OccamTypeError(
            f"`{name.name}` is a type, not a value", span=name.span, expected="an input or a constant"
        )
    if name.name in CALL_NAMES:
        raise OccamTypeError(
            f"`{name.name}` is a function", span=name.span, expected=f"a call, such as `{name.name}(…)`"
        )
    known = sorted(scope.inputs)
    expected = f"one of the inputs {', '.join(known)}" if known else "an input (this task declares none)"
    if scope.holes:
        expected += ", or a type name standing for a sub-program"
    raise OccamTypeError(
        f"unknown name `{name.name}`",
        span=name.span,
        expected=expected,
        hint=did_you_mean(name.name, [*known, *CONSTANTS]),
    )


# --- applications -----------------------------------------------------------------------------


def _apply(expr: SurfaceExpr, symbol: str, args: tuple[SurfaceExpr, ...], scope: Scope, expected: Type | None) -> Expr:
    rows = overloads(symbol, len(args))
    if not rows:
        _no_such_operation(expr, symbol, len(args))
    typed: dict[int, Expr] = {}  # by argument position, filled in the order below
    shared = [i for i in range(len(args)) if len({row.args[i] for row in rows}) > 1 or rows[0].args[i] == "I"]
    for i, arg in enumerate(args):  # fixed positions (the condition of `if`, a real argument)
        if i not in shared:
            typed[i] = _argument(expr, symbol, i, arg, _FIXED_LETTER_TYPE[rows[0].args[i]], scope)
    rigid = {i: _elaborate(args[i], scope, None) for i in shared if not is_flexible(args[i])}
    typed.update(rigid)
    shared_type = _unify(expr, symbol, [(args[i], node) for i, node in rigid.items()])
    if shared_type is None and shared:
        # Any row, not the first: `^` and `if` list their bool overload first.
        returns_shared = any(row.result in ("I", "R") for row in rows)
        kinds = {_LETTER_KIND[row.args[shared[0]]] for row in rows}
        fits = expected is not None and expected.kind in kinds and expected.kind != "bool"
        shared_type = expected if returns_shared and fits else INT
    for i in shared:
        if i not in typed:
            typed[i] = _elaborate(args[i], scope, shared_type)
    nodes = [typed[i] for i in range(len(args))]
    row = _resolve(expr, symbol, rows, nodes)
    result = _RESULT_TYPE.get(row.result, shared_type)
    assert result is not None, "an `I` result has `I` arguments, so a shared type"
    return Apply(row.op, tuple(nodes), result, expr.span)


_FIXED_LETTER_TYPE = {"B": BOOL, "R": REAL}  # `I` positions are always shared
_RESULT_TYPE = {"B": BOOL, "R": REAL, "int": INT}  # the results of fixed type (`I`: the shared one)


def _argument(expr: SurfaceExpr, symbol: str, index: int, arg: SurfaceExpr, wanted: Type, scope: Scope) -> Expr:
    """An argument of fixed type (`sin` takes a real, `and` bools), with a message that names
    the operation when it has another type."""
    if is_flexible(arg):
        return elaborate(arg, scope, wanted)
    node = _elaborate(arg, scope, None)
    if node.type != wanted:
        hint = _conversion_hint(node.type, wanted)
        if symbol == "/" and node.type.kind == "int":
            hint = "`/` divides reals: use `//` for integer division, or convert with `real(…)`"
        ordinal = "" if len(_arguments_of(expr)) == 1 else f"argument {index + 1} of "
        raise OccamTypeError(
            f"{ordinal}`{symbol}` must be {wanted}, but this is {node.type}",
            span=_span_of(arg),
            expected=f"an expression of type {wanted}",
            hint=hint,
        )
    return node


def _arguments_of(expr: SurfaceExpr) -> tuple[SurfaceExpr, ...]:
    return expr.args if isinstance(expr, (Operation, Call)) else ()
_LETTER_KIND = {"B": "bool", "I": "int", "R": "real"}


def _unify(expr: SurfaceExpr, symbol: str, operands: list[tuple[SurfaceExpr, Expr]]) -> Type | None:
    if not operands:
        return None
    first = operands[0][1]
    for _, node in operands[1:]:
        if node.type != first.type:
            raise OccamTypeError(
                f"the operands of `{symbol}` have different types: {first.type} and {node.type}",
                span=_span_of(expr),
                expected="operands of one type",
                hint=_conversion_hint(first.type, node.type),
            )
    return first.type


def _resolve(expr: SurfaceExpr, symbol: str, rows: tuple[Primitive, ...], typed: list[Expr]) -> Primitive:
    letters = tuple(_KIND_LETTER[node.type.kind] for node in typed)
    for row in rows:
        if row.args == letters:
            return row
    accepted = " or ".join(
        "(" + ", ".join(_LETTER_WORD[letter] for letter in row.args) + ")" for row in rows
    )
    given = ", ".join(str(node.type) for node in typed)
    raise OccamTypeError(
        f"`{symbol}` is not defined for ({given})",
        span=_span_of(expr),
        expected=f"`{symbol}` of {accepted}",
    )


def _conversion(call: Call, target: Type, scope: Scope) -> Expr:
    if len(call.args) != 1:
        raise OccamTypeError(
            f"`{target}(…)` takes one argument, got {len(call.args)}", span=call.span, expected="one argument"
        )
    (arg,) = call.args
    if target.kind == "bool":
        raise OccamTypeError(
            "there is no conversion to bool", span=call.span, expected="a comparison, such as `x != 0`"
        )
    node = _elaborate(arg, scope, target if is_flexible(arg) else None)
    if is_flexible(arg) and node.type == target:  # an annotation: `u8(1)`, `real(2)`
        assert isinstance(node, (Lit, Apply)), "a flexible expression is a literal or an operation"
        return replace(node, span=call.span)
    # A conversion, also of a flexible tree that cannot take the type: `real(1 & 2)`.
    source = node.type
    if source == target:
        return node
    op = _CONVERSION_OPS.get((source.kind, target.kind))
    # A row whose result is `int` itself (`int(b)`, `int(x)`) converts to no other integer type.
    if op is None or (primitive(op).result == "int" and target != INT):
        raise OccamTypeError(
            f"cannot convert {source} to {target} directly",
            span=call.span,
            expected=f"a conversion such as `{target}(int(…))`",
        )
    return Apply(op, (node,), target, call.span)


# The conversion row of each (source kind, target kind): its signature's argument and result.
_CONVERSION_OPS = {
    (_LETTER_KIND[row.args[0]], "int" if row.result == "int" else _LETTER_KIND[row.result]): row.op
    for row in PRIMITIVES
    if row.op in CONVERSIONS
}
assert len(_CONVERSION_OPS) == len(CONVERSIONS), "one conversion row per pair of kinds"


def _no_such_operation(expr: SurfaceExpr, symbol: str, arity: int) -> NoReturn:
    arities = sorted({row.arity for row in PRIMITIVES if row.symbol == symbol})
    if arities:
        counts = " or ".join(str(a) for a in arities)
        raise OccamTypeError(
            f"`{symbol}` takes {counts} argument{'s' if arities != [1] else ''}, got {arity}",
            span=_span_of(expr),
            expected=f"{counts} argument{'s' if arities != [1] else ''}",
        )
    raise OccamTypeError(
        f"unknown function `{symbol}`",
        span=getattr(expr, "name_span", None) or _span_of(expr),
        expected="a primitive (see docs/primitives.md) or a type name for a conversion",
        hint=did_you_mean(symbol, CALL_NAMES),
    )


def _require(node: Expr, expected: Type | None, expr: SurfaceExpr) -> None:
    if expected is not None and node.type != expected:
        raise OccamTypeError(
            f"this has type {node.type}, but {expected} is expected here",
            span=_span_of(expr),
            expected=f"an expression of type {expected}",
            hint=_conversion_hint(node.type, expected),
        )


def _conversion_hint(have: Type, want: Type) -> str | None:
    if have.kind == "bool" or want.kind == "bool":
        return None
    return f"convert with `{want}(…)`"


def _span_of(expr: SurfaceExpr) -> Span | None:
    return expr.span

"""Typed programs: the AST every part of occam shares, and its canonical text and LaTeX.

A program is a tree of four kinds of node, frozen and hashable: `Lit` (a literal), `Var` (an
input), `Apply` (a primitive applied to arguments, see primitives.py) and `Hole` (a
sub-program of a given type, only inside grammar alternatives). Spans locate a node in its
source for error messages and are left out of equality.

`str(program)` is canonical: minimal parentheses, one spelling per operation (`a > b` is
`b < a`), and literals written so that re-parsing gives an equal program — an integer literal
takes its type from its context, so `x + 1` needs no annotation when x is a `u8`, while a lone
`u8` constant prints as `u8(1)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .errors import Span
from .primitives import PRIMITIVES, Op, Precedence, Primitive, primitive
from .types import Type

__all__ = ["Expr", "Program", "Lit", "Var", "Hole", "Apply", "fill", "literal"]


class Expr:
    """Base of the program nodes. Every subtree is itself a program."""

    __slots__ = ()
    type: Type
    span: Span | None

    @property
    def children(self) -> tuple[Expr, ...]:
        return ()

    def walk(self) -> Iterator[Expr]:
        """This node and all below it, parents first (depth-first, left to right). Iterative,
        as are `size` and `depth`: a program built in Python may nest past the recursion limit."""
        stack: list[Expr] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def size(self) -> int:
        """Number of nodes."""
        return sum(1 for _ in self.walk())

    @property
    def depth(self) -> int:
        """Nodes on the longest path from this one down to a leaf (a leaf: 1)."""
        deepest, stack = 0, [(self, 1)]
        while stack:
            node, depth = stack.pop()
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node.children)
        return deepest

    @property
    def inputs(self) -> frozenset[str]:
        """Names of the inputs the program reads."""
        return frozenset(node.name for node in self.walk() if isinstance(node, Var))

    def __str__(self) -> str:
        return _text(self, None)

    def text(self, expected: Type | None = None) -> str:
        """Canonical text for a place that expects `expected` (there `1` means a `real` 1.0, say);
        `str(program)` is `program.text()`."""
        return _text(self, expected)

    def to_latex(self) -> str:
        """LaTeX of the program as written (not simplified; see `to_sympy` for that)."""
        return _latex(self).text

    def to_sympy(self) -> Any:
        """The program as a sympy expression; see dsl/symbolic.py for the exact contract."""
        from .symbolic import to_sympy

        return to_sympy(self)

    def __repr__(self) -> str:
        # The canonical text, not the tree: what a notebook or a test failure should show.
        return f"Program({str(self)!r})"

    @property
    def input_types(self) -> dict[str, Type]:
        """The inputs the program reads, with their types, in order of first appearance."""
        return {node.name: node.type for node in self.walk() if isinstance(node, Var)}

    def __call__(self, data: Any = None, /, **columns: Any) -> Any:
        """The program's values at the points given as keywords (`program(x=..., y=...)`), a
        mapping or a pandas DataFrame (columns by input name; others are ignored). Values are
        single numbers or 1-D arrays (single numbers are repeated to the arrays' length).

        Returns what the reference evaluator `dsl.evaluate` returns (an array of the program's
        dtype), or a single value when every input was given one. Raises DataError for a
        missing input, columns of different lengths, or values outside an input's type (see
        dsl/tabular.py). A 2-D array is refused: a program does not know its inputs' order (a
        synthesis result's `predict` does)."""
        from .evaluate import evaluate
        from .tabular import input_columns

        given = input_columns(data, columns, self.input_types, what=f"`{self}`")
        values = evaluate(self, given.env, size=given.size)
        return values[0] if given.scalar else values


Program = Expr


def _span_field() -> Any:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, repr=False)
class Lit(Expr):
    """A literal: a bool, a non-negative integer or a finite non-negative real (negative
    constants are `-` applied to a literal; `literal()` builds them)."""

    value: bool | int | float
    type: Type
    span: Span | None = _span_field()

    def __post_init__(self) -> None:
        kind = self.type.kind
        if kind == "bool":
            ok = isinstance(self.value, bool)
        elif kind == "int":
            ok = isinstance(self.value, int) and not isinstance(self.value, bool) and self.value >= 0
        else:
            ok = isinstance(self.value, (int, float)) and not isinstance(self.value, bool)
            ok = ok and self.value == self.value and 0 <= self.value < float("inf")
            if ok:
                object.__setattr__(self, "value", float(self.value) + 0.0)  # -0.0 becomes 0.0
        if not ok:
            raise ValueError(f"{self.value!r} is not a literal of type {self.type}")


@dataclass(frozen=True, slots=True, repr=False)
class Var(Expr):
    """An input of the task, by name."""

    name: str
    type: Type
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True, repr=False)
class Hole(Expr):
    """In a grammar alternative: any sub-program of `type` (written as the type's name)."""

    type: Type
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True, repr=False)
class Apply(Expr):
    """A primitive applied to arguments. `type` is the result type (for `CONVERT_I`, the
    type converted to)."""

    op: Op
    args: tuple[Expr, ...]
    type: Type
    span: Span | None = _span_field()

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.args

    @property
    def primitive(self) -> Primitive:
        return primitive(self.op)


def fill(template: Expr, children: Iterator[Expr]) -> Expr:
    """`template` with its holes replaced by `children`, left to right (a grammar alternative's
    program from its children's)."""
    if isinstance(template, Hole):
        return next(children)
    if isinstance(template, Apply):
        return Apply(template.op, tuple(fill(arg, children) for arg in template.args), template.type)
    return template


def literal(value: bool | int | float, type: Type) -> Expr:
    """A constant of any sign: a negative value becomes `-` applied to its magnitude."""
    if type.kind != "bool" and value < 0:
        op = Op.NEG_R if type.kind == "real" else Op.NEG_I
        return Apply(op, (Lit(-value, type),), type)
    return Lit(value, type)


# --- canonical text ---------------------------------------------------------------------------

def _flexible_ops() -> frozenset[Op]:
    """Operations whose result type is the type of their (non-condition) arguments and whose
    symbol has such an integer row: an integer literal tree built from them takes its type from
    the context, as the type checker does (`1 + 2` may be a `u8`, or a `real` through `+`'s real
    row; `1 / 2` is no integer tree)."""
    def returns_argument_type(row: Primitive) -> bool:
        shared = row.args[1:] if row.symbol == "if" else row.args
        return row.result in ("I", "R") and all(letter == row.result for letter in shared)

    integer = {(row.symbol, row.arity) for row in PRIMITIVES if row.result == "I" and returns_argument_type(row)}
    integer.discard(("<type>", 1))  # a conversion names its type
    return frozenset(
        row.op for row in PRIMITIVES if (row.symbol, row.arity) in integer and returns_argument_type(row)
    )


FLEXIBLE_OPS = _flexible_ops()
# The rows written as a type name (`int(b)`, `real(n)`, `u8(n)`).
CONVERSIONS = frozenset(row.op for row in PRIMITIVES if row.symbol == "<type>" or Type.named(row.symbol))
# The rows whose first argument is a condition that the others do not share (`if(c, a, b)`).
CONDITIONALS = frozenset(row.op for row in PRIMITIVES if row.symbol == "if")
_RIGID = "rigid"  # context of a conversion's argument: a flexible tree there must be annotated


def shared_args(node: Apply) -> tuple[Expr, ...]:
    """The arguments that share one type (all but the condition of `if`)."""
    return node.args[1:] if node.op in CONDITIONALS else node.args


def is_flexible(node: Expr) -> bool:
    """Would the type checker take this node's type from its context? True for integer
    literals (and integral real literals, printed without a point) and for trees of
    same-typed operations over them."""
    if isinstance(node, Lit):
        return node.type.kind == "int" or (node.type.kind == "real" and float(node.value).is_integer())
    if isinstance(node, Apply) and node.op in FLEXIBLE_OPS:
        return all(is_flexible(arg) for arg in shared_args(node))
    return False


def _text(node: Expr, context: Type | str | None) -> str:
    """Canonical text of `node` where the checker would give a flexible tree the type
    `context` (None: no expectation, so `int`)."""
    if is_flexible(node) and node.type != (context or _DEFAULT):
        if isinstance(node, Lit) and node.type.kind == "real":
            return repr(node.value)
        return f"{node.type.name}({_text(node, node.type)})"
    return _bare_text(node, context)


_DEFAULT = Type("int")


def _bare_text(node: Expr, context: Type | str | None) -> str:
    match node:
        case Lit(value=bool() as value):
            return "true" if value else "false"
        case Lit(value=float() as value) if not value.is_integer():
            return repr(value)
        case Lit(value=value):
            return str(int(value))
        case Var(name=name):
            return name
        case Hole(type=type_):
            return type_.name
        case Apply():
            return _apply_text(node)
    raise TypeError(f"not a program node: {node!r}")


def _apply_text(node: Apply) -> str:
    row = node.primitive
    contexts = _argument_contexts(node)
    args = [_text(arg, ctx) for arg, ctx in zip(node.args, contexts)]
    if row.fixity == "constant":
        return row.symbol
    if row.fixity == "call":
        name = node.type.name if node.op == Op.CONVERT_I else row.symbol
        return f"{name}({', '.join(args)})"
    if row.fixity == "prefix":
        (arg,) = args
        if _precedence(node.args[0]) < row.precedence:
            arg = f"({arg})"
        return f"not {arg}" if row.symbol == "not" else f"{row.symbol}{arg}"
    left, right = args
    left_prec, right_prec = _precedence(node.args[0]), _precedence(node.args[1])
    mine = row.precedence
    if mine == Precedence.POWER:  # right-associative; binds tighter than a unary on its left
        left_parens, right_parens = left_prec <= mine, right_prec < Precedence.UNARY
    elif mine == Precedence.COMPARE:  # comparisons do not chain
        left_parens, right_parens = left_prec <= mine, right_prec <= mine
    else:
        left_parens, right_parens = left_prec < mine, right_prec <= mine
    left = f"({left})" if left_parens else left
    right = f"({right})" if right_parens else right
    return f"{left} {row.symbol} {right}"


def _argument_contexts(node: Apply) -> list[Type | str | None]:
    """The type the checker would give each argument of `node` if it were flexible."""
    if node.op in CONVERSIONS:
        return [_RIGID]
    shared = shared_args(node)
    if not shared or shared[0].type.kind == "bool":
        return [None for _ in node.args]
    condition: list[Type | str | None] = [None] * (len(node.args) - len(shared))
    if node.type.kind == "bool" and all(is_flexible(arg) for arg in shared):
        # A comparison of literal trees: the checker types the first as `int` (the printer
        # annotates it if it is not), and the others follow the first.
        return condition + [None] + [shared[0].type] * (len(shared) - 1)
    # Otherwise the arguments share the type of the rigid ones, or the node's own type (the
    # printer annotates a flexible node whose type its context would not give).
    return condition + [shared[0].type] * len(shared)


def _precedence(node: Expr) -> Precedence:
    return node.primitive.precedence if isinstance(node, Apply) else Precedence.ATOM


# --- LaTeX -------------------------------------------------------------------------------------

_GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega".split()
)


def latex_name(name: str) -> str:
    """x → x, x1 → x_{1}, alpha → \\alpha, carry_in → \\mathit{carry\\_in}."""
    match = re.fullmatch(r"([A-Za-z])_?([0-9]+)", name)
    if match:
        return f"{match.group(1)}_{{{match.group(2)}}}"
    if len(name) == 1 or name in _GREEK:
        return name if len(name) == 1 else f"\\{name}"
    return r"\mathit{" + name.replace("_", r"\_") + "}"


class LatexPrecedence(IntEnum):
    """Binding power of the rendered symbols, by mathematical convention (not Python's order:
    there `a == b and c` is `(a == b) and c`, while a reader takes `a ⇔ b ∧ c` as `a ⇔ (b ∧ c)`,
    and `not a < b` is `not (a < b)`, while `¬a < b` reads as `(¬a) < b`)."""

    IFF = 1  # ⇔ ⇎
    OR = 2  # ∨
    AND = 3  # ∧
    RELATION = 4  # = ≠ < ≤
    NOT = 5  # ¬
    SUM = 6  # + −
    PRODUCT = 7  # ·
    UNARY = 8  # −x, ∼x
    POWER = 9
    ATOM = 10  # names, numbers, calls, and what is delimited: fractions, floors, cases


# Symbols with no conventional precedence against the others (⊕, &, |, ≪, ≫, mod: is
# `a + b mod c` (a + b) mod c?). They are parenthesized as operands of any other operation, and
# their operands are unless atoms, `∼x`, or the left operand of the same operation (a ≫ 1 ≫ 1).
UNRANKED_IN_LATEX = frozenset(row.op for row in PRIMITIVES if row.latex_unranked)

_LATEX_PRECEDENCE = {
    Precedence.OR: LatexPrecedence.OR, Precedence.AND: LatexPrecedence.AND, Precedence.NOT: LatexPrecedence.NOT,
    Precedence.COMPARE: LatexPrecedence.RELATION, Precedence.SUM: LatexPrecedence.SUM,
    Precedence.PRODUCT: LatexPrecedence.PRODUCT, Precedence.UNARY: LatexPrecedence.UNARY,
    Precedence.POWER: LatexPrecedence.POWER,
    # unranked (see above): placed as sums, but parenthesized by their own rule
    Precedence.BITOR: LatexPrecedence.SUM, Precedence.BITXOR: LatexPrecedence.SUM,
    Precedence.BITAND: LatexPrecedence.SUM, Precedence.SHIFT: LatexPrecedence.SUM,
}  # fmt: skip
_TRANSPARENT = frozenset(row.op for row in PRIMITIVES if row.latex == "{0}")  # rendered as their argument
# Comparisons of truth values render as an equivalence (⇔, ⇎), which binds loosest of all.
_EQUIVALENCES = frozenset(
    row.op for row in PRIMITIVES if row.precedence == Precedence.COMPARE and row.args == ("B", "B")
)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """LaTeX of a node, with what its parent needs to know to parenthesize it."""

    text: str
    precedence: LatexPrecedence
    op: Op | None = None  # the operation, for unranked ones


def latex_precedence(op: Op) -> LatexPrecedence:
    """The conventional binding power of the symbol `op` renders as (ATOM where it delimits
    its arguments itself)."""
    row = primitive(op)
    if op in _EQUIVALENCES:
        return LatexPrecedence.IFF
    delimited = row.fixity == "infix" and len(row.latex_delimited) == row.arity
    if row.fixity == "call" and "^{{" in row.latex:
        # a call shown as a power (exp: e^{x}) binds as one: as a base it is parenthesized,
        # since e^{x}^{y} is a double superscript, not (e^x)^y
        return LatexPrecedence.POWER
    if row.fixity in ("call", "constant") or delimited:
        return LatexPrecedence.ATOM
    return _LATEX_PRECEDENCE[row.precedence]


def _latex(node: Expr) -> _Rendered:
    match node:
        case Lit(value=bool() as value):
            return _Rendered(r"\mathrm{true}" if value else r"\mathrm{false}", LatexPrecedence.ATOM)
        case Lit(value=value):
            text = repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
            return _Rendered(text, LatexPrecedence.ATOM)
        case Var(name=name):
            return _Rendered(latex_name(name), LatexPrecedence.ATOM)
        case Hole(type=type_):
            return _Rendered(rf"\langle \mathtt{{{type_.name}}} \rangle", LatexPrecedence.ATOM)
    assert isinstance(node, Apply)
    if node.op in _TRANSPARENT:
        return _latex(node.args[0])
    row = node.primitive
    parts = []
    for index, arg in enumerate(node.args):
        child = _latex(arg)
        text = child.text
        if index not in row.latex_delimited and _needs_parens(node.op, index, child):
            text = rf"\left({text}\right)"
        parts.append(text)
    return _Rendered(row.latex.format(*parts), latex_precedence(node.op), node.op)


def _needs_parens(op: Op, index: int, child: _Rendered) -> bool:
    """Does the operand `index` of `op`, rendered as `child`, need parentheses to be read as
    one operand under the conventional precedence of the symbols?"""
    if child.precedence == LatexPrecedence.ATOM:
        return False
    if op in UNRANKED_IN_LATEX or child.op in UNRANKED_IN_LATEX:
        return not ((child.op == op and index == 0) or (op in UNRANKED_IN_LATEX and child.op == Op.BITNOT))
    row, mine = primitive(op), latex_precedence(op)
    if row.fixity == "prefix":
        return child.precedence < mine
    if mine == LatexPrecedence.POWER:
        return child.precedence <= mine if index == 0 else False
    if mine in (LatexPrecedence.RELATION, LatexPrecedence.IFF) or index == 1:  # relations do not chain
        return child.precedence <= mine
    return child.precedence < mine

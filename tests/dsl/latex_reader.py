"""A reader of the LaTeX that `Expr.to_latex` writes, by the conventional precedence of the
symbols — written independently of the renderer, to check that what it writes reads back as
the program it renders.

`read(latex)` gives a tree of `Read(template, args)`, where `template` is the primitive table's
`latex` column of the operation read (so `\\land` reads as "{0} \\land {1}"), or a leaf's text.
The reading follows the usual conventions of mathematics: ⇔ binds loosest, then ∨, ∧,
relations (which do not chain), + −, ·; prefix ¬, − and ∼ take the next operand only, and a
power binds its base tighter still.
Symbols without a conventional precedence against others (⊕, &, |, ≪, ≫, mod) must not meet a
different operator without parentheses: `a + b \\bmod c` is refused as ambiguous
(`Ambiguous`), as is `a < b = c`. `shape(program)` gives the tree a faithful reading must
produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsl import Apply, Expr, Op
from dsl.primitives import _IF_LATEX, primitive

__all__ = ["Ambiguous", "Read", "read", "shape"]


class Ambiguous(ValueError):
    """The LaTeX has no single conventional reading (or is not LaTeX this reader knows)."""


@dataclass(frozen=True)
class Read:
    template: str
    args: tuple[Read, ...] = ()
    grouped: bool = False  # inside \left( … \right) of its own

    def __eq__(self, other: object) -> bool:  # the grouping is how it was written, not what it means
        return isinstance(other, Read) and (self.template, self.args) == (other.template, other.args)

    def __hash__(self) -> int:
        return hash((self.template, self.args))


def _escape(symbol: str) -> str:
    return symbol.replace("{", "{{").replace("}", "}}")


# Binary symbols: their conventional binding power (higher binds tighter), and whether they chain.
IFF, OR, AND, RELATION, SUM, PRODUCT = 1, 2, 3, 4, 6, 7
UNRANKED = 6  # the level at which unranked symbols are parsed: they are refused next to others
_BINARY = {
    r"\Leftrightarrow": IFF, r"\not\Leftrightarrow": IFF, r"\lor": OR, r"\land": AND,
    "<": RELATION, r"\le": RELATION, "=": RELATION, r"\ne": RELATION,
    "+": SUM, "-": SUM, r"\cdot": PRODUCT,
    r"\oplus": UNRANKED, r"\mathbin{\&}": UNRANKED, r"\mathbin{|}": UNRANKED, r"\ll": UNRANKED, r"\gg": UNRANKED,
    r"\bmod": UNRANKED,
}  # fmt: skip
_UNRANKED_SYMBOLS = frozenset({r"\oplus", r"\mathbin{\&}", r"\mathbin{|}", r"\ll", r"\gg", r"\bmod"})
_NON_CHAINING = frozenset({IFF, RELATION})
_PREFIX = frozenset({r"\lnot", "-", r"\mathop{\sim}"})
_FUNCTIONS = ("tanh", "sin", "cos", "tan", "log", "min", "max")

_TOKEN = re.compile(
    r"\s*(\\begin\{cases\}|\\end\{cases\}|\\text\{if \}|\\text\{otherwise\}|\\\\|&"
    r"|\\left\\lfloor|\\right\\rfloor|\\left\\lceil|\\right\\rceil|\\left\(|\\right\)|\\left\||\\right\|"
    r"|\\left\[|\\right\]|\\frac|\\sqrt|\\operatorname\{(?:trunc|popcount)\}"
    r"|\\(?:" + "|".join(_FUNCTIONS) + r")(?![a-zA-Z])"
    r"|\\not\\Leftrightarrow|\\Leftrightarrow|\\lor|\\land|\\lnot|\\oplus|\\le(?![a-zA-Z])|\\ne(?![a-zA-Z])"
    r"|\\ll|\\gg|\\cdot|\\bmod|\\mathbin\{\\&\}|\\mathbin\{\|\}|\\mathop\{\\sim\}|\\mathrm\{(?:true|false)\}"
    r"|\\pi(?![a-zA-Z])|\\mathit\{(?:[^{}\\]|\\_)*\}|\\[a-zA-Z]+|[A-Za-z](?:_\{\d+\})?"
    r"|\d+(?:\.\d+)?(?:e[+-]?\d+)?|[<=+\-,{}^])"
)


def _tokens(latex: str) -> list[str]:
    tokens, position = [], 0
    while position < len(latex):
        if latex[position:].strip() == "":
            break
        match = _TOKEN.match(latex, position)
        if match is None:
            raise Ambiguous(f"unknown LaTeX at {latex[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Reader:
    def __init__(self, latex: str) -> None:
        self.tokens = _tokens(latex)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise Ambiguous(f"expected {expected!r}, found {token!r}")
        self.position += 1
        return token

    def expression(self, minimum: int = 0) -> Read:
        left = self.prefixed()
        while (symbol := self.peek()) in _BINARY and _BINARY[symbol] >= minimum:
            self.take()
            level = _BINARY[symbol]
            right = self.expression(level + 1)
            left = Read("{0} " + _escape(symbol) + " {1}", (left, right))
            _check_unranked(left)
            if level in _NON_CHAINING and _BINARY.get(self.peek() or "") == level:
                raise Ambiguous(f"{symbol} chained with {self.peek()}")
        return left

    def prefixed(self) -> Read:
        symbol = self.peek()
        if symbol in _PREFIX:
            self.take()
            template = {"-": "-{0}"}.get(symbol, _escape(symbol) + " {0}")
            return Read(template, (self.prefixed(),))  # the next operand only: ¬a < b is (¬a) < b
        return self.powered()

    def powered(self) -> Read:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            if base == Read("e"):
                return Read("e^{{{0}}}", (self.braced(),))
            return Read("{0}^{{{1}}}", (base, self.braced()))
        return base

    def braced(self) -> Read:
        self.take("{")
        inside = self.expression()
        self.take("}")
        return inside

    def delimited(self, closing: str) -> Read:
        inside = self.expression()
        self.take(closing)
        return inside

    def atom(self) -> Read:
        token = self.take()
        if token == r"\left(":
            inside = self.delimited(r"\right)")
            return Read(inside.template, inside.args, grouped=True)
        if token == r"\frac":
            return Read(r"\frac{{{0}}}{{{1}}}", (self.braced(), self.braced()))
        if token == r"\left\lfloor":
            if self.peek() == r"\frac":
                self.take()
                numerator, denominator = self.braced(), self.braced()
                self.take(r"\right\rfloor")
                return Read(r"\left\lfloor \frac{{{0}}}{{{1}}} \right\rfloor", (numerator, denominator))
            return Read(r"\left\lfloor {0} \right\rfloor", (self.delimited(r"\right\rfloor"),))
        if token == r"\left\lceil":
            return Read(r"\left\lceil {0} \right\rceil", (self.delimited(r"\right\rceil"),))
        if token == r"\left|":
            return Read(r"\left|{0}\right|", (self.delimited(r"\right|"),))
        if token == r"\left[":
            return Read(r"\left[{0}\right]", (self.delimited(r"\right]"),))
        if token == r"\sqrt":
            return Read(r"\sqrt{{{0}}}", (self.braced(),))
        if token in (r"\operatorname{trunc}", r"\operatorname{popcount}"):
            self.take(r"\left(")
            name = token.removeprefix(r"\operatorname")
            return Read(r"\operatorname{" + name + r"}\left({0}\right)", (self.delimited(r"\right)"),))
        if token.lstrip("\\") in _FUNCTIONS:
            self.take(r"\left(")
            args = [self.expression()]
            while self.peek() == ",":
                self.take()
                args.append(self.expression())
            self.take(r"\right)")
            placeholders = ", ".join(f"{{{index}}}" for index in range(len(args)))
            return Read(token + r"\left(" + placeholders + r"\right)", tuple(args))
        if token == r"\begin{cases}":
            then = self.expression()
            self.take("&")
            self.take(r"\text{if }")
            condition = self.expression()
            self.take("\\\\")
            otherwise = self.expression()
            self.take("&")
            self.take(r"\text{otherwise}")
            self.take(r"\end{cases}")
            return Read(_IF_LATEX, (condition, then, otherwise))
        if token in _BINARY or token in ("{", "}", ",", "^", "&"):
            raise Ambiguous(f"an operand expected, found {token!r}")
        return Read(token)  # a name, a number, \pi, \mathrm{true}


def _check_unranked(node: Read) -> None:
    """Refuse an unranked symbol next to a different operator without parentheses."""
    for index, child in enumerate(node.args):
        if child.grouped or not child.args:
            continue
        parent_unranked, child_unranked = _unranked(node.template), _unranked(child.template)
        if not (parent_unranked or child_unranked):
            continue
        same_chain = child.template == node.template and index == 0
        tight = parent_unranked and child.template in (r"\mathop{{\sim}} {0}", "{0}^{{{1}}}") or _delimits(child)
        if not (same_chain or tight):
            raise Ambiguous(f"{node.template} next to {child.template} without parentheses")


def _unranked(template: str) -> bool:
    return any(template == "{0} " + _escape(symbol) + " {1}" for symbol in _UNRANKED_SYMBOLS)


def _delimits(node: Read) -> bool:
    """Fractions, floors, calls, cases: their operands cannot escape them."""
    return not (node.template.startswith("{0} ") or node.template.startswith("-") or node.template in (
        r"\lnot {0}", r"\mathop{{\sim}} {0}", "{0}^{{{1}}}"))  # fmt: skip


def read(latex: str) -> Read:
    reader = _Reader(latex)
    tree = reader.expression()
    if reader.peek() is not None:
        raise Ambiguous(f"left over: {reader.tokens[reader.position:]}")
    return tree


_TRANSPARENT = frozenset({Op.INT_TO_REAL, Op.CONVERT_I})


def shape(program: Expr) -> Read:
    """The tree a faithful reading of `program.to_latex()` gives."""
    if not isinstance(program, Apply):
        return Read(program.to_latex())
    if program.op in _TRANSPARENT:
        return shape(program.args[0])
    return Read(primitive(program.op).latex, tuple(shape(arg) for arg in program.args))

"""Parsing: text → surface syntax (untyped, with positions).

grammar.lark is parsed by Lark's LALR parser with positions; one explicit `Transformer`
(`_ToSyntax`) then builds the frozen dataclasses below. They are what the text *says*; the type
checker (check.py) decides what it *means*. Lark's exceptions never escape: they become
`OccamSyntaxError`s that name the file, line and column and what was expected.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta

from .errors import OccamError, OccamSyntaxError, Source, Span, did_you_mean

__all__ = [
    "Num", "Name", "Operation", "Call", "SurfaceExpr",
    "TaskSyntax", "InputSyntax", "OutputSyntax", "RangeSyntax", "RuleSyntax", "AlternativeSyntax",
    "GrammarSyntax", "SplitSyntax", "SampleSyntax", "NoiseSyntax", "Field",
    "SequenceSyntax", "StateSyntax", "UpdateSyntax", "ReadOutSyntax", "RecurrenceSyntax",
    "parse_task_file", "parse_recurrence_text", "parse_expression", "parse_rules", "MAX_NESTING", "read_integer",
]  # fmt: skip

# How deeply a program may nest (operations within operations; parentheses do not count). The
# type checker, printer, sympy export and description length walk programs recursively, within
# Python's recursion limit: a deeper program is refused right after parsing, with its place.
MAX_NESTING = 100


def _span() -> Any:
    return field(default=None, compare=False, repr=False)


# --- surface expressions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Num:
    """A number as written: `text` is digits (`is_real` False) or a decimal/exponent form."""

    text: str
    is_real: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Operation:
    """An operator applied to one (prefix) or two (infix) operands, as written (`>` included)."""

    symbol: str
    args: tuple[SurfaceExpr, ...]
    span: Span | None = _span()
    operator_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[SurfaceExpr, ...]
    span: Span | None = _span()
    name_span: Span | None = _span()


SurfaceExpr = Num | Name | Operation | Call


# --- surface task files -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RangeSyntax:
    low: Num
    low_negative: bool
    high: Num
    high_negative: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class InputSyntax:
    names: tuple[Name, ...]
    type_name: Name
    range: RangeSyntax | None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class OutputSyntax:
    name: Name | None
    type_name: Name
    range: RangeSyntax | None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class AlternativeSyntax:
    expr: SurfaceExpr
    weight: Num | None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class RuleSyntax:
    type_name: Name
    alternatives: tuple[AlternativeSyntax, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class GrammarSyntax:
    """`grammar NAME`, `grammar { rules }` or `grammar NAME { extra rules }`."""

    builtin: Name | None
    rules: tuple[RuleSyntax, ...] | None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class AmountSyntax:
    """A count, or a percentage when `percent` (`30%`)."""

    value: Num
    percent: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SplitSyntax:
    train: AmountSyntax
    seed: int
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SampleSyntax:
    """`sample N METHOD seed S` (training points) or `test N METHOD seed S range x: a..b`."""

    keyword: str  # 'sample' or 'test'
    count: int
    method: str  # 'uniform' or 'grid'
    seed: int
    ranges: tuple[tuple[Name, RangeSyntax], ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class NoiseSyntax:
    kind: str  # 'label' or 'gaussian'
    amount: AmountSyntax
    seed: int
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Field:
    """A one-value field: `doc`, `target` or `data` (value: str or expression)."""

    keyword: str
    value: Any
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SequenceSyntax:
    """`sequence length L count N seed S` (generated sequences), or a bare `sequence` (with
    `data`: the sequences are read from a file); `length` and `count` are None when not given."""

    length: int | None
    count: int | None
    seed: int
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StateSyntax:
    """`state NAME: TYPE [range] = VALUE`: the start value as written, an integer literal
    (`negative` for `-3`), a real one (refused by the checker), or a name (`true`, `false`)."""

    name: Name
    type_name: Name
    range: RangeSyntax | None
    value: Num | Name
    negative: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class UpdateSyntax:
    """`update NAME = expr`."""

    name: Name
    expr: SurfaceExpr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ReadOutSyntax:
    """`output expr` inside a recurrent program: the step's output, read at its line."""

    expr: SurfaceExpr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class RecurrenceSyntax:
    """A recurrent program as written: its statements in order (`target { … }`, or the text of
    `dsl.parse_recurrence`)."""

    statements: tuple[StateSyntax | UpdateSyntax | ReadOutSyntax, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class TaskSyntax:
    name: Name
    fields: tuple[Any, ...]
    span: Span | None = _span()


# --- the parser -------------------------------------------------------------------------------


@functools.cache
def _parser() -> Lark:
    return Lark.open(
        "grammar.lark",
        rel_to=__file__,
        parser="lalr",
        propagate_positions=True,
        start=["start", "expr", "rules_only", "recurrence"],
        maybe_placeholders=True,
        cache=_parser_cache(),
    )


def _parser_cache() -> str | bool:
    """Where Lark keeps its parse tables between processes (building them takes longer than a
    small search): beside the bytecode, as trusted as the source, never in a shared temporary
    folder (the cache is a pickle). Lark checks the grammar's, its options' and its own
    version's hash on loading, and carries on without the cache where it cannot be read or
    written. False (no cache) where Python keeps no bytecode here (PYTHONDONTWRITEBYTECODE, a
    read-only install)."""
    folder = Path(__file__).with_name("__pycache__")
    if sys.dont_write_bytecode or not folder.is_dir() or not os.access(folder, os.W_OK | os.R_OK):
        return False
    return str(folder / f"grammar.lark.{sys.implementation.cache_tag}.cache")


def _meta_span(meta: Meta) -> Span | None:
    if getattr(meta, "empty", True):
        return None
    return Span(meta.line, meta.column, meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> Span:
    """The place of a token from the parser. Lark's lexer sets every position; Token declares them
    optional only for tokens built by hand, which never reach here."""
    line, column, start, end = token.line, token.column, token.start_pos, token.end_pos
    if line is None or column is None or start is None or end is None:
        raise ValueError(f"token {token!r} carries no position (not one from the parser)")
    return Span(line, column, start, end)


def read_integer(token: Token) -> int:
    """The value of an INT token; OccamSyntaxError (at the token) for one with more digits than
    Python converts (`sys.get_int_max_str_digits()`, 4,300 by default)."""
    try:
        return int(token)
    except ValueError:
        digits = len(str(token).lstrip("0"))
        raise OccamSyntaxError(
            f"an integer of {digits:,} digits is too long", span=_token_span(token),
            expected=f"at most {sys.get_int_max_str_digits():,} digits",
        ) from None


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(token: Token) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise OccamSyntaxError(
                f"unknown escape `\\{char}` in a string", span=_token_span(token), expected='\\n, \\t, \\" or \\\\'
            )
        return _ESCAPES[char]

    return re.sub(r"\\(.)", escape, token[1:-1])


@v_args(meta=True)
class _ToSyntax(Transformer[Token, Any]):
    """Lark tree → surface dataclasses, one method per aliased rule. `text` is the source text
    (to tell whether two statements of a recurrent program are on one line)."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    # expressions
    def int_literal(self, meta: Meta, children: list[Any]) -> Num:
        read_integer(children[0])  # refuses what Python cannot read as a number
        return Num(str(children[0]), False, _meta_span(meta))

    def real_literal(self, meta: Meta, children: list[Any]) -> Num:
        return Num(str(children[0]), True, _meta_span(meta))

    def name(self, meta: Meta, children: list[Any]) -> Name:
        return Name(str(children[0]), _meta_span(meta))

    def call(self, meta: Meta, children: list[Any]) -> Call:
        name, *args = children
        present = tuple(arg for arg in args if arg is not None)
        return Call(str(name), present, _meta_span(meta), _token_span(name))

    def _infix(
        self, meta: Meta, left: SurfaceExpr, operator: Token, right: SurfaceExpr, symbol: str | None = None
    ) -> Operation:
        span = _token_span(operator) if isinstance(operator, Token) else None
        return Operation(symbol or str(operator), (left, right), _meta_span(meta), span)

    def binary(self, meta: Meta, children: list[Any]) -> Operation:
        return self._infix(meta, *children)

    def power(self, meta: Meta, children: list[Any]) -> Operation:
        return self._infix(meta, *children)

    def unary(self, meta: Meta, children: list[Any]) -> Operation:
        operator, operand = children
        return Operation(str(operator), (operand,), _meta_span(meta), _token_span(operator))

    def not_(self, meta: Meta, children: list[Any]) -> Operation:
        return Operation("not", tuple(children), _meta_span(meta))

    def and_(self, meta: Meta, children: list[Any]) -> Operation:
        return Operation("and", tuple(children), _meta_span(meta))

    def or_(self, meta: Meta, children: list[Any]) -> Operation:
        return Operation("or", tuple(children), _meta_span(meta))

    def bitor(self, meta: Meta, children: list[Any]) -> Operation:
        return Operation("|", tuple(children), _meta_span(meta))

    def bitxor(self, meta: Meta, children: list[Any]) -> Operation:
        return Operation("^", tuple(children), _meta_span(meta))

    def bitand(self, meta: Meta, children: list[Any]) -> Operation:
        return Operation("&", tuple(children), _meta_span(meta))

    def compare(self, meta: Meta, children: list[Any]) -> Operation:
        if len(children) > 3:
            raise OccamSyntaxError(
                "comparisons do not chain",
                span=_token_span(children[3]),
                expected="one comparison; write `a < b and b < c` for a chain",
            )
        return self._infix(meta, *children)

    # task files
    def start(self, meta: Meta, children: list[Any]) -> list[TaskSyntax]:
        return list(children)

    def task(self, meta: Meta, children: list[Any]) -> TaskSyntax:
        name, *fields = children
        return TaskSyntax(Name(str(name), _token_span(name)), tuple(fields), _meta_span(meta))

    def doc(self, meta: Meta, children: list[Any]) -> Field:
        return Field("doc", "".join(_unquote(token) for token in children), _meta_span(meta))

    def target(self, meta: Meta, children: list[Any]) -> Field:
        return Field("target", children[0], _meta_span(meta))

    def target_program(self, meta: Meta, children: list[Any]) -> Field:
        return Field("target", children[0], _meta_span(meta))

    def sequence(self, meta: Meta, children: list[Any]) -> SequenceSyntax:
        length_word, length, count_word, count, seed = children
        for word, wanted in ((length_word, "length"), (count_word, "count")):
            if word is not None and str(word) != wanted:
                raise OccamSyntaxError(f"unexpected {str(word)!r}", span=_token_span(word),
                                       expected=f"`{wanted}`, as in `sequence length 10 count 1000 seed 0`")
        return SequenceSyntax(None if length is None else read_integer(length),
                              None if count is None else read_integer(count), seed or 0, _meta_span(meta))

    # recurrent programs
    def recurrence(self, meta: Meta, children: list[Any]) -> RecurrenceSyntax:
        return children[0]

    def statements(self, meta: Meta, children: list[Any]) -> RecurrenceSyntax:
        statements: list[Any] = []
        separated = True  # a `;` (or the start) since the last statement
        for child in children:
            if isinstance(child, Token):
                separated = True
                continue
            if statements and not separated and not self._newline_between(statements[-1], child):
                raise OccamSyntaxError(
                    "two statements on one line", span=child.span,
                    expected="a `;` or a new line between the statements",
                )
            statements.append(child)
            separated = False
        return RecurrenceSyntax(tuple(statements), _meta_span(meta))

    def _newline_between(self, first: Any, second: Any) -> bool:
        if first.span is None or second.span is None:
            return True
        return "\n" in self.text[first.span.end:second.span.start]

    def state(self, meta: Meta, children: list[Any]) -> StateSyntax:
        name, type_name, range_, value = children
        value, negative = value
        return StateSyntax(Name(str(name), _token_span(name)), Name(str(type_name), _token_span(type_name)), range_,
                           value, negative, _meta_span(meta))

    def state_value(self, meta: Meta, children: list[Any]) -> tuple[Num | Name, bool]:
        (child,) = children
        if isinstance(child, tuple):
            return child
        if child.type == "NAME":
            return Name(str(child), _token_span(child)), False
        return self._number(child), False

    def update(self, meta: Meta, children: list[Any]) -> UpdateSyntax:
        name, expr = children
        return UpdateSyntax(Name(str(name), _token_span(name)), expr, _meta_span(meta))

    def read_out(self, meta: Meta, children: list[Any]) -> ReadOutSyntax:
        return ReadOutSyntax(children[0], _meta_span(meta))

    def data(self, meta: Meta, children: list[Any]) -> Field:
        return Field("data", _unquote(children[0]), _meta_span(meta))

    def input(self, meta: Meta, children: list[Any]) -> InputSyntax:
        *tokens, type_name, range_ = children
        names = tuple(Name(str(token), _token_span(token)) for token in tokens)
        return InputSyntax(names, Name(str(type_name), _token_span(type_name)), range_, _meta_span(meta))

    def output(self, meta: Meta, children: list[Any]) -> OutputSyntax:
        name, type_name, range_ = children
        named = Name(str(name), _token_span(name)) if name is not None else None
        return OutputSyntax(named, Name(str(type_name), _token_span(type_name)), range_, _meta_span(meta))

    def range(self, meta: Meta, children: list[Any]) -> RangeSyntax:
        (low, low_negative), (high, high_negative) = (self._signed(child) for child in children)
        return RangeSyntax(low, low_negative, high, high_negative, _meta_span(meta))

    def _signed(self, child: Token | tuple[Num, bool]) -> tuple[Num, bool]:
        if isinstance(child, tuple):
            return child
        return (self._number(child), False)

    def negative(self, meta: Meta, children: list[Any]) -> tuple[Num, bool]:
        return (self._number(children[0]), True)

    @staticmethod
    def _number(token: Token) -> Num:
        if token.type == "INT":
            read_integer(token)
        return Num(str(token), token.type == "FLOAT", _token_span(token))

    def grammar(self, meta: Meta, children: list[Any]) -> GrammarSyntax:
        builtin, rules = children
        named = Name(str(builtin), _token_span(builtin)) if builtin is not None else None
        return GrammarSyntax(named, rules, _meta_span(meta))

    def rules(self, meta: Meta, children: list[Any]) -> tuple[RuleSyntax, ...]:
        return tuple(children)

    def rules_only(self, meta: Meta, children: list[Any]) -> tuple[RuleSyntax, ...]:
        return tuple(children)

    def rule(self, meta: Meta, children: list[Any]) -> RuleSyntax:
        type_name, *alternatives = children
        return RuleSyntax(Name(str(type_name), _token_span(type_name)), tuple(alternatives), _meta_span(meta))

    def alternative(self, meta: Meta, children: list[Any]) -> AlternativeSyntax:
        expr, weight = children
        return AlternativeSyntax(expr, weight, _meta_span(meta))

    def weight(self, meta: Meta, children: list[Any]) -> Num:
        return self._number(children[0])

    def amount(self, meta: Meta, children: list[Any]) -> AmountSyntax:
        number, percent = children
        return AmountSyntax(self._number(number), percent is not None, _meta_span(meta))

    def seed(self, meta: Meta, children: list[Any]) -> int:
        return read_integer(children[0])

    def method(self, meta: Meta, children: list[Any]) -> str:
        return str(children[0])

    def split(self, meta: Meta, children: list[Any]) -> SplitSyntax:
        amount, seed = children
        return SplitSyntax(amount, seed or 0, _meta_span(meta))

    def sample(self, meta: Meta, children: list[Any]) -> SampleSyntax:
        count, method, seed = children
        return SampleSyntax("sample", read_integer(count), method, seed or 0, (), _meta_span(meta))

    def test(self, meta: Meta, children: list[Any]) -> SampleSyntax:
        count, method, seed, *overrides = children
        ranges = tuple(item for item in overrides if item is not None)
        return SampleSyntax("test", read_integer(count), method, seed or 0, ranges, _meta_span(meta))

    def range_override(self, meta: Meta, children: list[Any]) -> tuple[Name, RangeSyntax]:
        name, range_ = children
        return (Name(str(name), _token_span(name)), range_)

    def noise(self, meta: Meta, children: list[Any]) -> NoiseSyntax:
        kind, amount, seed = children
        return NoiseSyntax(str(kind), amount, seed or 0, _meta_span(meta))


# --- errors -----------------------------------------------------------------------------------

# How to name each terminal in "expected ..." (Lark's own names mean nothing to a user).
_TERMINAL_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a real number", "STRING": 'a "string"',
    "COMPARE": "a comparison", "SHIFT": "a shift", "ADDITIVE": "an operator",
    "MULTIPLICATIVE": "an operator", "UNARY": "a unary operator", "POWER": "**", "PERCENT": "%",
    "NOISE_KIND": "a noise kind (label, gaussian)", "LPAR": "(", "RPAR": ")", "LBRACE": "{", "RBRACE": "}",
    "LSQB": "[", "RSQB": "]", "COMMA": ",", "COLON": ":", "MINUS": "-", "VBAR": "|",
    "CIRCUMFLEX": "^", "AMPERSAND": "&", "EQUAL": "=", "SEMICOLON": ";", "$END": "the end of the text",
}  # fmt: skip


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        described = _TERMINAL_NAMES[name]
    else:
        described = name.lower()
        for terminal in _parser().terminals:
            if terminal.name == name and terminal.pattern.type == "str":
                described = terminal.pattern.value
            elif terminal.name == name and name.startswith("__ANON") and re.fullmatch(r"(\\\W|\w)+", terminal.pattern.value):
                described = re.sub(r"\\(.)", r"\1", terminal.pattern.value)  # a literal Lark escaped: `..`, `->`
    is_phrase = " " in described or described.startswith(("a ", "an "))
    return described if is_phrase else f"`{described}`"


def _expected_list(names: set[str]) -> str:
    described = sorted({_describe_terminal(name) for name in names}, key=lambda text: (text[0] != "`", text))
    if not described:  # Lark may know of none (`a b`: its contextual lexer names no terminal)
        return ""
    if len(described) > 16:
        described = described[:16] + ["…"]
    return described[0] if len(described) == 1 else ", ".join(described[:-1]) + " or " + described[-1]


def _expected_keywords(names: set[str]) -> list[str]:
    """The keywords (`grammar`, `target`, …) among the terminals Lark expected."""
    return [
        terminal.pattern.value for terminal in _parser().terminals
        if terminal.name in names and terminal.pattern.type == "str" and terminal.pattern.value.isidentifier()
    ]  # fmt: skip


def _syntax_error(error: UnexpectedInput, source: Source) -> OccamSyntaxError:
    line, column = max(error.line, 1), max(error.column, 1)
    hint = None
    position = error.pos_in_stream or 0
    if isinstance(error, UnexpectedCharacters):
        char = source.text[position] if position < len(source.text) else ""
        message = f"unexpected character {char!r}"
        expected = _expected_list(set(error.allowed or ()))
        width = 1
    elif isinstance(error, UnexpectedToken) and error.token.type != "$END":
        token = error.token
        message = f"unexpected {_describe_terminal(token.type) if token.type.startswith('__') else repr(str(token))}"
        expected = _expected_list(set(error.expected))
        width = max(1, len(str(token)))
        if token.type == "NAME" and len(set(error.expected)) > 1:  # a misspelt keyword: `grammer`
            hint = did_you_mean(str(token), _expected_keywords(set(error.expected)))
    else:
        message = "unexpected end of text"
        expected = _expected_list(set(getattr(error, "expected", ()) or ()))
        width = 1
        lines = source.text.removesuffix("\n").split("\n")  # lines as Lark counts them (Source.line)
        line, column = len(lines), len(lines[-1].removesuffix("\r")) + 1
        position = len(source.text)
    span = Span(line, column, position, position + width)
    return OccamSyntaxError(message, source=source, span=span, expected=expected or None, hint=hint)


def _parse(text: str, source: Source, start: str) -> Any:
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise _syntax_error(error, source) from None
    _check_nesting(tree, source)
    return _transform(tree, source)


# The tree nodes of programs (grammar.lark's aliases): one level of nesting each.
_EXPRESSION_NODES = frozenset({
    "or_", "and_", "not_", "compare", "bitor", "bitxor", "bitand", "binary", "unary", "power",
    "int_literal", "real_literal", "name", "call",
})  # fmt: skip


def _check_nesting(tree: Tree, source: Source) -> None:
    """Refuse a program nested deeper than MAX_NESTING, pointing at it. Iterative, since the
    point is that recursion would overflow."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.data not in _EXPRESSION_NODES:
            stack.extend(child for child in node.children if isinstance(child, Tree))
            continue
        depth = _nesting(node)
        if depth > MAX_NESTING:
            raise OccamSyntaxError(
                f"the program nests {depth:,} operations deep, more than occam's limit of {MAX_NESTING}",
                source=source, span=_meta_span(node.meta),
                expected=f"at most {MAX_NESTING} levels of nested operations",
            )


def _nesting(expression: Tree) -> int:
    """How many expression nodes the longest path down from `expression` passes (a name: 1)."""
    deepest, stack = 0, [(expression, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def _transform(tree: Tree, source: Source) -> Any:
    try:
        return _ToSyntax(source.text).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, OccamError):
            raise error.orig_exc.located(source) from None
        raise


def parse_task_file(text: str, source: Source) -> list[TaskSyntax]:
    """The tasks of a task file, as written."""
    return _parse(text, source, "start")


def parse_expression(text: str, source: Source) -> SurfaceExpr:
    """One program, as written."""
    return _parse(text, source, "expr")


def parse_recurrence_text(text: str, source: Source) -> RecurrenceSyntax:
    """A recurrent program's statements, as written (`dsl.parse_recurrence` checks them)."""
    return _parse(text, source, "recurrence")


def parse_rules(text: str, source: Source) -> tuple[RuleSyntax, ...]:
    """Grammar rules without the surrounding `grammar { }` (used for the built-in grammars)."""
    return _parse(text, source, "rules_only")


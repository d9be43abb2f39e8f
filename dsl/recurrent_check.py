"""Checking recurrent programs: surface statements (syntax.py) → a `Recurrence` (recurrent.py).

A recurrent program is checked as a whole, in the style of check.py (errors carry the span of the
offending piece; the caller places them in their source):

- the `state` declarations come first; each names a new state (not an input, not a reserved
  word), of type bool, a bit-vector type (its whole range) or int with a finite range `lo..hi`,
  and a start value within it (an integer literal, `true` or `false` for a bool);
- then the statements: one `update NAME = expr` per state (a state updated twice, or never, is an
  error) and exactly one `output expr`, in any order. Every state is in scope in every
  expression — which value it reads (the previous step's or this step's) is decided by the
  order of the lines, not by scope (dsl/recurrent.py);
- an update's expression has its state's type; the output's has the expected type (the task's
  output type) when one is given.
"""

from __future__ import annotations

from collections.abc import Mapping

from .check import RESERVED_NAMES, Scope, elaborate
from .errors import OccamError, OccamTypeError, Source, TaskError, did_you_mean
from .program import Expr
from .recurrent import Recurrence, State, Update
from .sampling import value_domain
from .syntax import (
    Name,
    ReadOutSyntax,
    RecurrenceSyntax,
    StateSyntax,
    SurfaceExpr,
    UpdateSyntax,
    parse_recurrence_text,
)
from .types import BOOL, Range, Type

__all__ = ["check_recurrence", "recurrence_of_expression", "parse_recurrence_syntax"]


def check_recurrence(syntax: RecurrenceSyntax, inputs: Mapping[str, Type], expected: Type | None = None) -> Recurrence:
    """The checked recurrent program `syntax` declares, over the per-step `inputs`, its output of
    type `expected` when given. Raises OccamError (TaskError for declarations, OccamTypeError for
    names and types) with the span of the offending statement."""
    statements = syntax.statements
    states: list[State] = []
    by_name: dict[str, StateSyntax] = {}
    first_statement = None
    for statement in statements:
        if isinstance(statement, StateSyntax):
            if first_statement is not None:
                raise TaskError(
                    f"the state `{statement.name.name}` is declared after a statement", span=statement.span,
                    expected="every `state` declaration before the first `update` and the `output`",
                )
            states.append(_state(statement, inputs, by_name))
            by_name[statement.name.name] = statement
        elif first_statement is None:
            first_statement = statement
    declared = {state.name: state for state in states}
    scope = Scope({**inputs, **{state.name: state.type for state in states}})
    updates: list[Update] = []
    updated: dict[str, UpdateSyntax] = {}
    output: Expr | None = None
    output_at = 0
    output_syntax: ReadOutSyntax | None = None
    for statement in statements:
        if isinstance(statement, UpdateSyntax):
            name = statement.name
            state = _updated_state(name, declared, inputs)
            if name.name in updated:
                first = updated[name.name].span
                where = f" (first on line {first.line})" if first is not None else ""
                raise TaskError(
                    f"the state `{name.name}` is updated twice{where}", span=statement.span,
                    expected="one `update` per state and step",
                )
            updated[name.name] = statement
            expr = _typed(statement.expr, scope, state.type, f"the update of `{name.name}`", f"the state's type, {state.type}")
            updates.append(Update(name.name, expr, statement.span))
        elif isinstance(statement, ReadOutSyntax):
            if output_syntax is not None:
                first = output_syntax.span
                where = f" (the first is on line {first.line})" if first is not None else ""
                raise TaskError(f"a second `output`{where}", span=statement.span,
                                expected="one `output` statement, the step's output")
            output_syntax = statement
            output = _typed(statement.expr, scope, expected, "the output", f"the output type, {expected}")
            output_at = len(updates)
    for state in states:
        if state.name not in updated:
            raise TaskError(f"the state `{state.name}` is never updated", span=by_name[state.name].span,
                            expected=f"a statement `update {state.name} = …` (every state is updated once per step)")
    if output is None:
        raise TaskError("the program has no `output`", span=syntax.span,
                        expected="a statement `output EXPRESSION`, the step's output")
    return Recurrence(tuple(states), tuple(updates), output, output_at)


def recurrence_of_expression(expr: SurfaceExpr, inputs: Mapping[str, Type], expected: Type | None) -> Recurrence:
    """`target EXPR` in a sequence task: a recurrent program with no state."""
    return Recurrence((), (), elaborate(expr, Scope(dict(inputs)), expected), 0)


def parse_recurrence_syntax(text: str, inputs: Mapping[str, Type], expected: Type | None,
                            source_name: str = "<program>") -> Recurrence:
    """The checked program `text` (statements separated by newlines or `;`); errors placed in it."""
    source = Source(source_name, text)
    try:
        return check_recurrence(parse_recurrence_text(text, source), inputs, expected)
    except OccamError as error:
        raise error.located(source) from None


def _typed(expr: SurfaceExpr, scope: Scope, expected: Type | None, what: str, wanted: str) -> Expr:
    """`expr` elaborated, of type `expected`; a mismatch at the top says what (`what`) should have
    which type (`wanted`)."""
    try:
        return elaborate(expr, scope, expected)
    except OccamTypeError as error:
        if expected is not None and error.span == expr.span and error.message.startswith("this has type "):
            have = error.message.removeprefix("this has type ").split(",")[0]
            error.message = f"{what} has type {have}, not {wanted}"
            error.args = (error.message,)
        raise


def _updated_state(name: Name, declared: Mapping[str, State], inputs: Mapping[str, Type]) -> State:
    if name.name in declared:
        return declared[name.name]
    if name.name in inputs:
        raise OccamTypeError(f"`{name.name}` is an input, not a state: it cannot be updated", span=name.span,
                             expected="the name of a declared state" if declared else "a `state` declared first")
    known = sorted(declared)
    raise OccamTypeError(
        f"unknown state `{name.name}`", span=name.span,
        expected=f"one of the states {', '.join(known)}" if known else
        f"a declaration `state {name.name}: TYPE RANGE = START` first",
        hint=did_you_mean(name.name, known),
    )


def _state(syntax: StateSyntax, inputs: Mapping[str, Type], seen: Mapping[str, StateSyntax]) -> State:
    from .task import _range  # task.py imports nothing of this module: no cycle at run time

    name = syntax.name
    if name.name in seen:
        raise TaskError(f"a second state named `{name.name}`", span=name.span, expected="distinct state names")
    if name.name in inputs:
        raise TaskError(f"`{name.name}` is an input; a state needs a name of its own", span=name.span,
                        expected="a state name that is not an input's")
    if name.name in RESERVED_NAMES or Type.named(name.name) is not None:
        raise TaskError(f"`{name.name}` is reserved", span=name.span,
                        expected="a name that is not a keyword, a type or a primitive")
    type_ = Type.named(syntax.type_name.name)
    if type_ is None:
        raise OccamTypeError(
            f"unknown type `{syntax.type_name.name}`", span=syntax.type_name.span,
            expected="bool, int with a range, or a bit-vector type uN / iN (such as u8)",
            hint=did_you_mean(syntax.type_name.name, ["bool", "int", "u8", "i8"]),
        )
    if type_.kind == "real":
        raise TaskError(f"the state `{name.name}` is real", span=syntax.type_name.span,
                        expected="a state of type bool, int lo..hi or a bit-vector type (a finite set of values)")
    if syntax.range is not None and type_.is_bitvector:
        raise TaskError(f"a {type_} state takes no range", span=syntax.range.span,
                        expected=f"just `{type_}` (its whole range), or `int lo..hi`")
    placeholder = Source("<state>", "")
    try:
        range_ = _range(type_, syntax.range, placeholder)
    except OccamError as error:
        error.source = None  # placed by the caller, in the program's own source
        raise
    if type_.kind == "int" and not type_.is_bitvector and range_ is None:
        raise TaskError(f"the int state `{name.name}` has no range", span=syntax.span,
                        expected=f"a range, such as `state {name.name}: int 0..9 = 0`")
    return State(name.name, type_, range_, _start(syntax, type_, range_), syntax.span)


def _start(syntax: StateSyntax, type_: Type, range_: Range | None) -> int:
    value = syntax.value
    name = syntax.name.name
    if type_ == BOOL:
        if isinstance(value, Name) and value.name in ("true", "false"):
            return int(value.name == "true")
        raise TaskError(f"the bool state `{name}` starts at {_written(syntax)}", span=value.span,
                        expected="`true` or `false`")
    if isinstance(value, Name) or value.is_real:
        raise TaskError(f"the {type_} state `{name}` starts at {_written(syntax)}", span=value.span,
                        expected="an integer start value, such as `= 0`")
    start = -int(value.text) if syntax.negative else int(value.text)
    domain = value_domain(type_, range_)
    assert domain is not None, "a checked state has a finite domain"
    if not domain.low <= start <= domain.high:
        raise TaskError(f"the start value {start} of `{name}` is outside its range {domain}", span=value.span,
                        expected=f"a start value in {domain}")
    return start


def _written(syntax: StateSyntax) -> str:
    value = syntax.value
    text = value.name if isinstance(value, Name) else value.text
    return f"`{'-' if syntax.negative else ''}{text}`"

"""Probabilistic grammars over programs, and description length.

A grammar has one rule per type (its non-terminals are types); each alternative is a program
template in which `Hole`s stand for sub-programs of their type, with a relative weight. The
description length of a program is the sum, over the choices of its derivation, of
`-log2(weight / total weight of the rule)` bits — the Solomonoff prior `2^-bits` of the
program under the grammar. A program with several derivations (a template `x + 1` beside
`int + int`) gets its shortest one: the best code for it.

Built-in grammars (`grammar koza`, `grammar boolean`, …) are written in the same language below;
a task that names one gets its inputs added as alternatives of their types.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from .check import Scope, elaborate
from .errors import GrammarError, OccamError, Source, Span, did_you_mean
from .program import Apply, Expr, Hole, Lit, Var
from .syntax import AlternativeSyntax, GrammarSyntax, RuleSyntax, parse_rules
from .types import Type

__all__ = [
    "Grammar", "Rule", "Alternative", "description_length", "bits_of", "choice_probability", "BUILTIN_GRAMMARS",
    "build_grammar",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Alternative:
    template: Expr
    weight: float = 1.0
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def holes(self) -> tuple[Type, ...]:
        """Types of the sub-programs this alternative needs, left to right."""
        return tuple(node.type for node in self.template.walk() if isinstance(node, Hole))

    def __str__(self) -> str:
        weight = "" if self.weight == 1 else f" [{_number(self.weight)}]"
        return f"{self.template.text(self.template.type)}{weight}"


@dataclass(frozen=True, slots=True)
class Rule:
    type: Type
    alternatives: tuple[Alternative, ...]

    @property
    def total_weight(self) -> float:
        return sum(alternative.weight for alternative in self.alternatives)

    def bits(self, alternative: Alternative) -> float:
        """-log2 of the probability of choosing `alternative` in this rule."""
        return bits_of(choice_probability(self, alternative))

    def __str__(self) -> str:
        return f"{self.type} -> " + ", ".join(str(alternative) for alternative in self.alternatives)


@dataclass(frozen=True, slots=True)
class Grammar:
    """A probabilistic grammar: one rule per type, in the order written."""

    rules: tuple[Rule, ...]
    name: str | None = None  # the built-in grammar it extends, if any

    def rule(self, type_: Type) -> Rule | None:
        for rule in self.rules:
            if rule.type == type_:
                return rule
        return None

    @property
    def types(self) -> tuple[Type, ...]:
        return tuple(rule.type for rule in self.rules)

    def __str__(self) -> str:
        return "\n".join(str(rule) for rule in self.rules)

    def productive_types(self) -> frozenset[Type]:
        """Types of which the grammar derives at least one (finite) program."""
        productive: set[Type] = set()
        changed = True
        while changed:
            changed = False
            for rule in self.rules:
                if rule.type not in productive and any(
                    all(hole in productive for hole in alternative.holes) for alternative in rule.alternatives
                ):
                    productive.add(rule.type)
                    changed = True
        return frozenset(productive)


# --- description length -----------------------------------------------------------------------


def description_length(program: Expr, grammar: Grammar) -> float:
    """Bits of the shortest derivation of `program` under `grammar`.

    Computed exactly: the derivation's probability is a product of fractions (weight / total
    weight of the rule), and the bits are its -log2, so that every part of occam that computes
    a program's bits gets the same float. Raises GrammarError, naming the smallest part that
    cannot be derived, when there is no derivation.
    """
    memo: dict[tuple[int, Type], Fraction] = {}
    probability = _probability(program, program.type, grammar, memo)
    if probability == 0:
        raise _not_derivable(program, grammar, memo)
    return bits_of(probability)


def bits_of(probability: Fraction) -> float:
    """-log2 of an exact probability (exact for numerators and denominators of any size)."""
    return math.log2(probability.denominator) - math.log2(probability.numerator)


def choice_probability(rule: Rule, alternative: Alternative) -> Fraction:
    """The exact probability of choosing `alternative` in `rule`."""
    return Fraction(alternative.weight) / sum(Fraction(other.weight) for other in rule.alternatives)


def _probability(node: Expr, type_: Type, grammar: Grammar, memo: dict[tuple[int, Type], Fraction]) -> Fraction:
    """The probability of the likeliest derivation of `node` as a `type_` (0: none)."""
    key = (id(node), type_)
    if key not in memo:
        memo[key] = Fraction(0)  # a guard; templates that are a bare hole are rejected when built
        rule = grammar.rule(type_) if node.type == type_ else None
        best = Fraction(0)
        if rule is not None:
            for alternative in rule.alternatives:
                holes = _match(alternative.template, node)
                if holes is not None:
                    probability = choice_probability(rule, alternative)
                    for sub in holes:
                        probability *= _probability(sub, sub.type, grammar, memo)
                    best = max(best, probability)
        memo[key] = best
    return memo[key]


def _match(template: Expr, node: Expr) -> list[Expr] | None:
    """The sub-programs of `node` at the holes of `template`, or None if it does not fit."""
    if isinstance(template, Hole):
        return [node] if node.type == template.type else None
    if isinstance(template, (Lit, Var)):
        return [] if template == node else None
    if isinstance(template, Apply) and isinstance(node, Apply):
        if template.op != node.op or template.type != node.type:
            return None
        holes: list[Expr] = []
        for part, sub in zip(template.args, node.args):
            found = _match(part, sub)
            if found is None:
                return None
            holes.extend(found)
        return holes
    return None


def _not_derivable(program: Expr, grammar: Grammar, memo: dict[tuple[int, Type], Fraction]) -> GrammarError:
    culprit = program
    for node in program.walk():  # the first node whose parts all derive but which does not
        if _probability(node, node.type, grammar, memo) == 0 and all(
            _probability(child, child.type, grammar, memo) > 0 for child in node.children
        ):
            culprit = node
            break
    rule = grammar.rule(culprit.type)
    where = "" if culprit is program else f" (in `{program}`)"
    culprit_text = culprit.text(culprit.type)
    if rule is None:
        return GrammarError(
            f"`{culprit_text}`{where} cannot be derived: the grammar has no rule for {culprit.type}",
            expected=f"a rule `{culprit.type} -> …`",
        )
    return GrammarError(
        f"`{culprit_text}`{where} cannot be derived: no alternative of `{culprit.type}` matches it",
        expected="one of " + ", ".join(f"`{alternative.template.text(rule.type)}`" for alternative in rule.alternatives),
    )


# --- building grammars from task files ---------------------------------------------------------

BUILTIN_GRAMMARS: dict[str, tuple[str, str]] = {
    "koza": (
        "the Koza function set of the Nguyen benchmarks (DSR): + − × ÷ sin cos exp log, no constants",
        "real -> real + real, real - real, real * real, real / real, sin(real), cos(real), exp(real), log(real)",
    ),
    "boolean": ("and, or, not", "bool -> not bool, bool and bool, bool or bool"),
    "boolean_xor": ("and, or, not, xor", "bool -> not bool, bool and bool, bool or bool, bool ^ bool"),
    "arithmetic": (
        "integer + − × and the constants 0 and 1, in the output type",
        "{T} -> 0, 1, {T} + {T}, {T} - {T}, {T} * {T}",
    ),
    "bitwise": (
        "Hacker's Delight bit manipulation in the output type: + − negation, and or xor not, shifts by 1",
        "{T} -> 0, 1, {T} + {T}, {T} - {T}, -{T}, ~{T}, {T} & {T}, {T} | {T}, {T} ^ {T}, {T} >> 1, {T} << 1",
    ),
}


def build_grammar(
    syntax: GrammarSyntax, inputs: Mapping[str, Type], output_type: Type, source: Source
) -> Grammar:
    """The grammar a task's `grammar` field declares, checked: every alternative well-typed,
    every type used has a rule, weights positive, and the output type derivable."""
    rules: dict[Type, list[Alternative]] = {}
    if syntax.builtin is not None:
        _add_builtin(rules, syntax.builtin.name, syntax.builtin.span, inputs, output_type, source)
    for rule_syntax in syntax.rules or ():
        _add_rule(rules, rule_syntax, inputs, source)
    if not rules:
        raise GrammarError(
            "the grammar is empty", source=source, span=syntax.span, expected="rules such as `int -> x, int + int`"
        )
    grammar = Grammar(
        tuple(Rule(type_, tuple(alternatives)) for type_, alternatives in rules.items()),
        syntax.builtin.name if syntax.builtin else None,
    )
    _check_closed(grammar, source, syntax.span)
    if output_type not in grammar.productive_types():
        raise GrammarError(
            f"the grammar cannot derive any program of the output type {output_type}",
            source=source,
            span=syntax.span,
            expected=f"a rule for {output_type} with an alternative that needs no {output_type} "
            "(an input or a constant)",
        )
    return grammar


def _add_builtin(
    rules: dict[Type, list[Alternative]], name: str, span: Span | None, inputs: Mapping[str, Type],
    output_type: Type, source: Source,
) -> None:
    if name not in BUILTIN_GRAMMARS:
        raise GrammarError(
            f"unknown built-in grammar `{name}`",
            source=source,
            span=span,
            expected="one of " + ", ".join(sorted(BUILTIN_GRAMMARS)),
            hint=did_you_mean(name, BUILTIN_GRAMMARS),
        )
    text = BUILTIN_GRAMMARS[name][1]
    if "{T}" in text and output_type.kind != "int":
        raise GrammarError(
            f"built-in grammar `{name}` works in the output type, which must be an integer type, not {output_type}",
            source=source,
            span=span,
            expected="an int or bit-vector output, or an explicit `grammar { … }`",
        )
    builtin_source, builtin_rules = _builtin_rules(name, output_type.name)
    for rule_syntax in builtin_rules:
        _add_rule(rules, rule_syntax, inputs, builtin_source)
    for input_name, type_ in inputs.items():
        if type_ not in rules:
            raise GrammarError(
                f"built-in grammar `{name}` has no rule for {type_}, the type of input `{input_name}`",
                source=source,
                span=span,
                expected=f"inputs of type {', '.join(str(t) for t in rules)}",
            )
        rules[type_].insert(sum(isinstance(a.template, Var) for a in rules[type_]), Alternative(Var(input_name, type_)))


@functools.cache
def _builtin_rules(name: str, type_name: str) -> tuple[Source, tuple[RuleSyntax, ...]]:
    text = BUILTIN_GRAMMARS[name][1].replace("{T}", type_name)
    source = Source(f"<built-in grammar {name}>", text)
    return source, parse_rules(text, source)


def _add_rule(
    rules: dict[Type, list[Alternative]], syntax: RuleSyntax, inputs: Mapping[str, Type], source: Source
) -> None:
    type_ = Type.named(syntax.type_name.name)
    if type_ is None:
        raise GrammarError(
            f"`{syntax.type_name.name}` is not a type",
            source=source,
            span=syntax.type_name.span,
            expected="a type name as the rule's non-terminal: bool, int, real, u8, …",
            hint=did_you_mean(syntax.type_name.name, ["bool", "int", "real"]),
        )
    alternatives = rules.setdefault(type_, [])
    scope = Scope(inputs, holes=True)
    for alternative_syntax in syntax.alternatives:
        try:
            template = elaborate(alternative_syntax.expr, scope, type_)
        except OccamError as error:
            raise error.located(source) from None
        if isinstance(template, Hole):
            raise GrammarError(
                f"the alternative `{template}` of `{type_}` derives nothing",
                source=source,
                span=alternative_syntax.span,
                expected="an alternative with an input, a constant or an operation",
            )
        weight = _weight(alternative_syntax, source)
        alternative = Alternative(template, weight, alternative_syntax.span)
        duplicate = next((a for a in alternatives if a.template == template), None)
        if duplicate is not None:
            same = "" if str(duplicate.template) == _written(alternative_syntax, source) else (
                f" (`{_written(alternative_syntax, source)}` means `{template}`)"
            )
            raise GrammarError(
                f"duplicate alternative `{template}` in the rule for {type_}{same}",
                source=source,
                span=alternative_syntax.span,
                expected="each alternative once; give it a weight `[2]` to make it more likely",
            )
        alternatives.append(alternative)


def _weight(syntax: AlternativeSyntax, source: Source) -> float:
    if syntax.weight is None:
        return 1.0
    weight = float(syntax.weight.text)
    if not (0 < weight < math.inf):
        raise GrammarError(
            f"weight {syntax.weight.text} is not positive",
            source=source,
            span=syntax.weight.span,
            expected="a positive relative weight, such as [2] or [0.5]",
        )
    return weight


def _written(syntax: AlternativeSyntax, source: Source) -> str:
    span = syntax.expr.span
    return source.text[span.start : span.end] if span else ""


def _check_closed(grammar: Grammar, source: Source, span: Span | None) -> None:
    for rule in grammar.rules:
        for alternative in rule.alternatives:
            for hole in alternative.holes:
                if grammar.rule(hole) is None:
                    raise GrammarError(
                        f"the alternative `{alternative.template}` of `{rule.type}` needs a {hole}, "
                        f"but the grammar has no rule for {hole}",
                        source=source,
                        span=alternative.span or span,
                        expected=f"a rule `{hole} -> …`",
                    )


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)

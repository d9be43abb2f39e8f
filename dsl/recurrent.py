"""Recurrent programs: state variables, their updates, and a read-out, run step by step.

A recurrent program maps sequences of per-step inputs to a sequence of outputs. It declares
state variables, each with a type, a range (integers) and a start value; at every step its
statements run in the order written, as the body of a Python loop would:

    state s: int 0..2 = 0          # MIPS Add_Mod_3: the running sum of the inputs, mod 3
    update s = (s + x) % 3
    output s

- `update s = e` assigns the value of `e` to `s`. `e` reads the step's inputs and the state as
  it is at that line: a state updated on an earlier line has its new value, one updated later
  (or not at all this step) its value from the previous step.
- `output e` is the step's output, read at its line in the same way: after the update above it
  reads the new `s`; written first, before every update, it reads only the previous state
  (MIPS Sum_Last3: `output x + a + b`, `update b = a`, `update a = x`).

Every state is updated exactly once per step. A state's range is its declared type (it sets the
declaration's bits and the search's tables); evaluation does not clamp into it: a value outside
the range is simply that value (bit-vector types wrap, as everywhere).

Description length (`Recurrence.bits`) is a prefix code for the whole program, so that programs
with zero, one, two or three state variables compare fairly:

- the number k of states: Elias-γ of k + 1 (1 bit for none, 3 for one or two);
- where the output is read among the k updates: log2(k + 1) bits;
- per state, its type: log2 of the number of the grammar's types; for an `int` its range
  `lo..hi`: Elias-γ of zigzag(lo) + 1 and of hi - lo + 1; its start value: uniform over the
  range (log2 of its size; bool: 1 bit; uN/iN: N bits);
- the update and output expressions, each under the task's grammar with every state added as a
  leaf of its type's rule (`with_states`).

The names of states are not coded: renaming states gives the same program.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from .errors import Span
from .evaluate import evaluate
from .grammars import Alternative, Grammar, Rule, description_length
from .program import Expr, Var
from .sampling import value_domain
from .types import Range, Type

__all__ = ["State", "Update", "Recurrence", "RecurrentRun", "run", "with_states", "elias_gamma_bits"]


@dataclass(frozen=True, slots=True)
class State:
    """A state variable: its name, type, range (int states) and start value."""

    name: str
    type: Type
    range: Range | None
    start: int
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def domain(self) -> Range | None:
        """The values the state is declared to hold (0..1 for bool): None when unbounded."""
        return value_domain(self.type, self.range)

    def __str__(self) -> str:
        range_ = f" {self.range}" if self.range is not None and self.type.kind == "int" and not self.type.is_bitvector else ""
        start = ("true" if self.start else "false") if self.type.kind == "bool" else str(self.start)
        return f"state {self.name}: {self.type}{range_} = {start}"


@dataclass(frozen=True, slots=True)
class Update:
    """`update name = expr`."""

    name: str
    expr: Expr
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"update {self.name} = {self.expr.text(self.expr.type)}"


@dataclass(frozen=True)
class Recurrence:
    """A recurrent program: `states`, their `updates` in execution order (one per state), and
    the `output` expression, read after the first `output_at` updates of each step."""

    states: tuple[State, ...]
    updates: tuple[Update, ...]
    output: Expr
    output_at: int

    def __post_init__(self) -> None:
        names = [state.name for state in self.states]
        if len(set(names)) != len(names):
            raise ValueError(f"state names must differ: {names}")
        if sorted(update.name for update in self.updates) != sorted(names):
            raise ValueError("every state must be updated exactly once per step")
        if not 0 <= self.output_at <= len(self.updates):
            raise ValueError(f"output_at = {self.output_at} is not between 0 and {len(self.updates)}")

    @property
    def type(self) -> Type:
        return self.output.type

    @property
    def state(self) -> dict[str, State]:
        return {state.name: state for state in self.states}

    @property
    def inputs(self) -> frozenset[str]:
        """The per-step inputs the program reads (not its states)."""
        names = set(self.output.inputs).union(*(update.expr.inputs for update in self.updates))
        return frozenset(names - {state.name for state in self.states})

    @property
    def size(self) -> int:
        return self.output.size + sum(update.expr.size for update in self.updates)

    def lines(self) -> list[str]:
        """The canonical text, a line per declaration and statement."""
        statements = [str(update) for update in self.updates]
        statements.insert(self.output_at, f"output {self.output.text(self.output.type)}")
        return [str(state) for state in self.states] + statements

    def __str__(self) -> str:
        """One line, statements joined by `; ` (`dsl.parse_recurrence` reads it back)."""
        return "; ".join(self.lines())

    def bits(self, grammar: Grammar) -> float:
        """The description length under `grammar` (module docstring)."""
        return self.declaration_bits(grammar) + self.expression_bits(grammar)

    def declaration_bits(self, grammar: Grammar) -> float:
        k = len(self.states)
        bits = elias_gamma_bits(k + 1) + math.log2(k + 1)
        for state in self.states:
            bits += math.log2(max(1, len(grammar.types))) + state_bits(state)
        return bits

    def expression_bits(self, grammar: Grammar) -> float:
        extended = with_states(grammar, self.states)
        return sum(description_length(e, extended) for e in (*(u.expr for u in self.updates), self.output))


def state_bits(state: State) -> float:
    """Bits of a state's range (int states) and start value."""
    domain = state.domain
    if domain is None:
        raise ValueError(f"state `{state.name}` of type {state.type} has no finite range")
    bits = math.log2(domain.size)
    if state.type.kind == "int" and not state.type.is_bitvector:
        low, high = int(domain.low), int(domain.high)
        bits += elias_gamma_bits(_zigzag(low) + 1) + elias_gamma_bits(high - low + 1)
    return bits


def elias_gamma_bits(n: int) -> int:
    """Length of the Elias-γ code of a positive integer: 2 floor(log2 n) + 1."""
    if n < 1:
        raise ValueError(f"Elias-γ codes positive integers, not {n}")
    return 2 * (n.bit_length() - 1) + 1


def _zigzag(value: int) -> int:
    return 2 * value if value >= 0 else -2 * value - 1


def with_states(grammar: Grammar, states: Sequence[State]) -> Grammar:
    """`grammar` with each state a leaf alternative of its type's rule, weighted as the rule's
    heaviest input leaf (1 where it has none), placed after the other leaves."""
    rules = list(grammar.rules)
    for state in states:
        index = next((i for i, rule in enumerate(rules) if rule.type == state.type), None)
        if index is None:
            continue  # no rule derives the state's type: its name cannot appear, as no input could
        rule = rules[index]
        leaves = [a.weight for a in rule.alternatives if isinstance(a.template, Var)]
        weight = max(leaves, default=1.0)
        position = sum(isinstance(a.template, Var) for a in rule.alternatives)
        alternatives = list(rule.alternatives)
        alternatives.insert(position, Alternative(Var(state.name, state.type), weight))
        rules[index] = Rule(rule.type, tuple(alternatives))
    return Grammar(tuple(rules), grammar.name)


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecurrentRun:
    """What a recurrent program computes over sequences: `outputs[n, t]`, and `states[name][n, t]`,
    each state's value when the output of step t is read (the probe's target)."""

    outputs: np.ndarray
    states: Mapping[str, np.ndarray]


def run(program: Recurrence, inputs: Mapping[str, ArrayLike]) -> RecurrentRun:
    """The reference evaluator of recurrent programs: `inputs` maps each per-step input to an
    (N, L) array (N sequences of L steps); every statement is evaluated with `dsl.evaluate`
    over the N sequences at once, step after step."""
    columns = {name: np.asarray(values) for name, values in inputs.items()}
    shapes = {column.shape for column in columns.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"inputs must be (sequences, steps) arrays of one shape, got {sorted(shapes)}")
    missing = program.inputs - set(columns)
    if missing:
        raise ValueError(f"no values given for input `{sorted(missing)[0]}`")
    n, length = next(iter(shapes))
    current = {s.name: np.full(n, s.start, dtype=s.type.dtype) for s in program.states}
    outputs = np.empty((n, length), dtype=program.output.type.dtype)
    read = {s.name: np.empty((n, length), dtype=s.type.dtype) for s in program.states}
    for t in range(length):
        env = {name: column[:, t] for name, column in columns.items()}
        for i in range(len(program.updates) + 1):
            if i == program.output_at:
                outputs[:, t] = evaluate(program.output, env | current, size=n)
                for name, values in current.items():
                    read[name][:, t] = values
            if i < len(program.updates):
                update = program.updates[i]
                current = current | {update.name: evaluate(update.expr, env | current, size=n)}
    return RecurrentRun(outputs, read)

"""The soft derivation tree: a grammar unrolled to a depth, its forward pass, its expected
description length, and its discretization (the package docstring explains the relaxation)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl import Apply, Expr, Grammar, SearchError, Task, Type
from dsl.grammars import bits_of, choice_probability
from dsl.program import fill

from .soft import finite_gradient, may_be_nonfinite, refusal, soft_value, uses_surrogate

__all__ = ["RELAXED_KINDS", "Slot", "SoftTree", "build_tree", "surrogates_used"]

RELAXED_KINDS = ("real", "bool", "int")  # int: `int` and the bit-vectors (soft.py)


@dataclass(frozen=True)
class Slot:
    """One node of the soft derivation tree: a type, the alternatives it offers (indices into
    the type's rule), their bits in the grammar, and per alternative the child slots its holes
    are, left to right."""

    index: int
    type: Type
    depth: int
    alternatives: tuple[int, ...]
    bits: tuple[float, ...]
    children: tuple[tuple[int, ...], ...]  # per alternative: slot index of each hole


@dataclass(frozen=True)
class SoftTree:
    """The grammar of a task unrolled to `depth`: slots in breadth-first order (0 is the root,
    of the output type; a child always has a larger index than its parent)."""

    grammar: Grammar
    depth: int
    slots: tuple[Slot, ...]

    def templates(self, slot: Slot) -> list[Expr]:
        rule = self.grammar.rule(slot.type)
        assert rule is not None
        return [rule.alternatives[a].template for a in slot.alternatives]

    # --- the forward pass -------------------------------------------------------------------

    def forward(self, probabilities: list[Any], inputs: dict[str, Any], size: int) -> tuple[Any, Any, Any]:
        """Per slot `probabilities[s]` of shape (R, A_s), `inputs` the (P,) float64 columns
        (P = `size`) →
        (root values (R, P), or (R, P, N) soft bits for an N-bit output; penalty (R,); dirty
        (R, P)). `dirty` is 1 where some alternative
        on the way had a non-finite value that was masked (at one-hot probabilities: where the
        soft value may differ from the reference's)."""
        import torch

        values: list[Any] = [None] * len(self.slots)
        dirty: list[Any] = [None] * len(self.slots)
        nonfinite: list[Any] = [None] * len(self.slots)  # (R, A) fraction of points, per slot
        for slot in reversed(self.slots):
            p = probabilities[slot.index]
            mix, slot_dirty, fractions = 0.0, 0.0, []
            for a, template in enumerate(self.templates(slot)):
                children = iter([finite_gradient(torch)(values[c]) for c in slot.children[a]])
                value = soft_value(template, children, inputs)
                value = torch.broadcast_to(value, (p.shape[0], size, *value.shape[2:]))  # bits: (R, P, N)
                if may_be_nonfinite(template):
                    finite = torch.isfinite(value)
                    if value.dim() == 3:
                        finite = finite.all(dim=2)
                    value = torch.where(finite[..., None] if value.dim() == 3 else finite, value,
                                        torch.zeros((), dtype=value.dtype))  # fmt: skip
                    own = (~finite).to(torch.float64)
                else:
                    own = torch.zeros((p.shape[0], size), dtype=torch.float64)
                bad = own
                for c in slot.children[a]:
                    bad = torch.maximum(bad, dirty[c])
                weight = p[:, a, None]
                mix = mix + (weight[..., None] if value.dim() == 3 else weight) * value
                slot_dirty = slot_dirty + weight.detach() * bad
                fractions.append(own.mean(dim=1))
            values[slot.index] = mix
            dirty[slot.index] = slot_dirty
            nonfinite[slot.index] = torch.stack(fractions, dim=1)
        usage = self.usage(probabilities)
        penalty = sum(usage[s.index] * (probabilities[s.index] * nonfinite[s.index]).sum(dim=1) for s in self.slots)
        return values[0], penalty, dirty[0]

    def usage(self, probabilities: list[Any]) -> list[Any]:
        """P(slot used) per slot, (R,): 1 at the root; a child's is Σ over its parent's
        alternatives that use it of p_a · P(parent)."""
        rows = probabilities[0].shape[0]
        import torch

        used: list[Any] = [torch.zeros(rows, dtype=torch.float64) for _ in self.slots]
        used[0] = torch.ones(rows, dtype=torch.float64)
        for slot in self.slots:  # breadth-first: a parent is final before its children
            for a, children in enumerate(slot.children):
                for c in children:
                    used[c] = used[c] + probabilities[slot.index][:, a] * used[slot.index]
        return used

    def expected_bits(self, probabilities: list[Any]) -> Any:
        """Σ_slots P(slot used) · Σ_a p_a · bits_a, (R,): at one-hot probabilities, the bits of
        the derivation that `discretize` reads."""
        import torch

        usage = self.usage(probabilities)
        total = torch.zeros(probabilities[0].shape[0], dtype=torch.float64)
        for slot in self.slots:
            bits = torch.tensor(slot.bits, dtype=torch.float64)
            total = total + usage[slot.index] * (probabilities[slot.index] * bits).sum(dim=1)
        return total

    # --- discretizing -----------------------------------------------------------------------

    def discretize(self, choices: list[np.ndarray], restart: int) -> Expr:
        """The program of restart `restart` when every slot takes alternative `choices[s][restart]`
        (an index into the slot's alternatives): only the slots it uses."""

        def program(index: int) -> Expr:
            slot = self.slots[index]
            a = int(choices[index][restart])
            template = self.templates(slot)[a]
            return fill(template, iter([program(c) for c in slot.children[a]]))

        return program(0)

    def derivation_bits(self, choices: list[np.ndarray], restart: int) -> float:
        """The bits of the derivation `discretize` reads (Σ of its choices' bits)."""

        def bits(index: int) -> float:
            slot = self.slots[index]
            a = int(choices[index][restart])
            return slot.bits[a] + sum(bits(c) for c in slot.children[a])

        return bits(0)


def build_tree(task: Task, depth: int) -> SoftTree:
    """The soft derivation tree of `task`'s grammar to `depth` (≥ 0). SearchError for a grammar
    the relaxation does not cover yet (module docstring)."""
    grammar = task.grammar
    _check_relaxable(grammar)
    heights = _heights(grammar)
    output = task.output_type
    if heights.get(output, math.inf) > depth:
        raise SearchError(f"the relaxed search's depth {depth} is too small for the grammar of {task.name}",
                          expected=f"a depth >= {heights.get(output)}: the least depth of a program of type {output}")
    slots: list[Slot | None] = []
    pending: list[tuple[int, Type, int]] = [(0, output, 0)]
    slots.append(None)
    while pending:
        index, type_, level = pending.pop(0)
        rule = grammar.rule(type_)
        assert rule is not None
        remaining = depth - level
        offered = [a for a, alternative in enumerate(rule.alternatives)
                   if all(heights.get(hole, math.inf) <= remaining - 1 for hole in alternative.holes)]  # fmt: skip
        widest: dict[Type, int] = {}
        for a in offered:
            holes = rule.alternatives[a].holes
            for hole in set(holes):
                widest[hole] = max(widest.get(hole, 0), holes.count(hole))
        positions: dict[tuple[Type, int], int] = {}
        for hole_type in sorted(widest, key=str):
            for k in range(widest[hole_type]):
                positions[(hole_type, k)] = len(slots)
                slots.append(None)
                pending.append((positions[(hole_type, k)], hole_type, level + 1))
        children = []
        for a in offered:
            seen: dict[Type, int] = {}
            own = []
            for hole in rule.alternatives[a].holes:
                own.append(positions[(hole, seen.get(hole, 0))])
                seen[hole] = seen.get(hole, 0) + 1
            children.append(tuple(own))
        bits = tuple(bits_of(choice_probability(rule, rule.alternatives[a])) for a in offered)
        slots[index] = Slot(index, type_, level, tuple(offered), bits, tuple(children))
    return SoftTree(grammar, depth, tuple(slot for slot in slots if slot is not None))


def _heights(grammar: Grammar) -> dict[Type, int]:
    """Per type, the least depth of a program of it (0: a leaf); a type without a finite
    program is absent."""
    heights: dict[Type, int] = {}
    changed = True
    while changed:
        changed = False
        for rule in grammar.rules:
            for alternative in rule.alternatives:
                if all(hole in heights for hole in alternative.holes):
                    height = 1 + max((heights[hole] for hole in alternative.holes), default=-1)
                    if height < heights.get(rule.type, math.inf):
                        heights[rule.type] = height
                        changed = True
    return heights


def _check_relaxable(grammar: Grammar) -> None:
    """SearchError naming the first primitive the soft tree cannot compute (soft.refusal)."""
    for rule in grammar.rules:
        for alternative in rule.alternatives:
            for node in alternative.template.walk():
                reason = refusal(node) if isinstance(node, Apply) else None
                if reason is not None:
                    assert isinstance(node, Apply)
                    where = f"in `{alternative}` of the rule for {rule.type}"
                    raise SearchError(f"the relaxed search has no relaxation of `{node.primitive.symbol}` on "
                                      f"{node.args[0].type if node.args else node.type} ({reason}: "
                                      f"{node.primitive.semantics}; {where})",
                                      expected="primitives with a soft form (docs/primitives.md, "
                                               "the relaxation column; docs/search.md, "
                                               "\"Relaxed search\")")  # fmt: skip


def surrogates_used(grammar: Grammar) -> tuple[str, ...]:
    """The primitives of `grammar` whose soft form is a surrogate (soft.uses_surrogate), as
    `symbol on type`, sorted: what a relaxed result reports in its stats."""
    used = set()
    for rule in grammar.rules:
        for alternative in rule.alternatives:
            for node in alternative.template.walk():
                if isinstance(node, Apply) and uses_surrogate(node):
                    used.add(f"{node.primitive.symbol} on {node.args[0].type if node.args else node.type}")
    return tuple(sorted(used))

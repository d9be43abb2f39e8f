"""The relaxed searcher: the task's grammar as a soft derivation tree, fitted by gradient descent.

The grammar is unrolled to a depth D. Every *slot* of type T holds logits over T's alternatives
(restarts as a leading batch dimension R); its children are slots shared by its alternatives, one
per argument position and type (as many of a type as T's widest alternative needs of it), and an
alternative's k-th hole of type U is the slot's k-th child of type U. A slot at remaining depth r
offers only the alternatives whose holes' types derive a program within r − 1 levels (at r = 0: no
holes). A slot's value is Σ_a softmax(logits/τ)_a · value_a, each alternative's value its template
evaluated by the primitive table's torch column (`row.torch`; Booleans by `row.soft`, the product
logic, as floats in [0, 1]); reals are float64.

Non-finite values (log of a negative, 1/0, exp overflowing): an alternative's non-finite value is
replaced by 0 in its slot's mixture, so the mixture stays finite, and the probability given to it is
charged in the loss (`penalty`: Σ_slots P(slot used) · Σ_a p_a · the fraction of points where a is
non-finite), which moves the choice away from it. The gradient through a masked value is 0, but
its operation's backward multiplies that 0 by its own derivative there (∞ or NaN: 1/(2·√x) at
x < 0); so each alternative sees its children through `_finite_gradient`, the identity forward whose
backward zeroes non-finite gradient elements: a NaN stays at the (restart, point) where it arose.

Not relaxed yet (SearchError): types other than `real` and `bool` (int, bit-vectors), and rows
whose relaxation is "none" (comparisons of reals, conversions from ints).

torch is imported inside the functions that need it, never at `import search`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl import Apply, Expr, Grammar, Hole, Lit, SearchError, Task, Type, Var, evaluate
from dsl.grammars import bits_of, choice_probability, description_length
from dsl.program import fill

__all__ = ["SoftTree", "Slot", "build_tree", "relaxed_search"]

RELAXED_KINDS = ("real", "bool")
PENALTY_WEIGHT = 1.0  # of the non-finite penalty in the objective (module docstring)
PROBABILITY_FLOOR = 1e-7  # Booleans: predictions clamped to [floor, 1 − floor] in the cross-entropy


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
        (root values (R, P), penalty (R,), dirty (R, P)). `dirty` is 1 where some alternative
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
                children = iter([_finite_gradient(torch)(values[c]) for c in slot.children[a]])
                value = _soft_value(template, children, inputs)
                value = torch.broadcast_to(value, (p.shape[0], size))
                finite = torch.isfinite(value)
                value = torch.where(finite, value, torch.zeros((), dtype=value.dtype))
                bad = (~finite).to(torch.float64)
                for c in slot.children[a]:
                    bad = torch.maximum(bad, dirty[c])
                mix = mix + p[:, a, None] * value
                slot_dirty = slot_dirty + p[:, a, None].detach() * bad
                fractions.append((~finite).to(torch.float64).mean(dim=1))
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
    for rule in grammar.rules:
        for alternative in rule.alternatives:
            for node in alternative.template.walk():
                if node.type.kind not in RELAXED_KINDS:
                    raise SearchError(f"the relaxed search does not relax {node.type} values yet "
                                      f"(in `{alternative}` of the rule for {rule.type})",
                                      expected="a grammar of real and bool types only (int and bit-vector "
                                               "relaxation is not built yet)")  # fmt: skip
                if isinstance(node, Apply) and node.primitive.relaxation == "none":
                    raise SearchError(f"the relaxed search has no relaxation of `{node.primitive.symbol}` "
                                      f"({node.primitive.semantics}; in `{alternative}` of the rule for {rule.type})",
                                      expected="primitives whose relaxation is exact, straight-through or "
                                               "product logic (docs/primitives.md)")  # fmt: skip


@functools.cache
def _finite_gradient(T: Any) -> Callable[[Any], Any]:
    """The identity, whose backward replaces non-finite gradient elements by 0 (module docstring)."""

    class FiniteGradient(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return T.where(T.isfinite(grad), grad, T.zeros((), dtype=grad.dtype))

    return FiniteGradient.apply


def _soft_value(node: Expr, children: Iterator[Any], inputs: dict[str, Any]) -> Any:
    """A template's soft value: holes take the next child's value, inputs their column,
    literals their value; a primitive its torch translation (Booleans: its product logic)."""
    import torch

    if isinstance(node, Hole):
        return next(children)
    if isinstance(node, Var):
        return inputs[node.name][None, :]
    if isinstance(node, Lit):
        return torch.tensor([[float(node.value)]], dtype=torch.float64)
    assert isinstance(node, Apply)
    row = node.primitive
    args = [_soft_value(arg, children, inputs) for arg in node.args]
    if row.soft is not None:
        return row.soft(torch, *args)
    return row.torch(torch, *args)


# --- the searcher -----------------------------------------------------------------------------

CHECK_EVERY = 25  # steps between discretizing every restart (to record fits as they appear)


@dataclass
class _Found:
    """The distinct discretized programs met so far, verified by the reference evaluator."""

    task: Task
    programs: dict[str, tuple[Expr, bool]]  # text → (program, fits the training targets)
    first_fit_seconds: float | None = None

    def add(self, program: Expr, cpu_seconds: float) -> bool:
        key = str(program)
        if key not in self.programs:
            from .synthesize import fits

            task = self.task
            predicted = evaluate(program, task.env(task.train), size=int(task.train.sum()))
            fitted = fits(predicted, task.target_values[task.train], task.output_type.kind)
            self.programs[key] = (program, fitted)
            if fitted and self.first_fit_seconds is None:
                self.first_fit_seconds = cpu_seconds
        return self.programs[key][1]


def relaxed_search(task: Task, config: Any, progress: Callable[[Any], None] | None) -> Any:
    """The searcher "relaxed": gradient descent over the soft derivation tree (module docstring).

    `config.relaxed_restarts` restarts of random logits (seeded by `relaxed_seed`) are optimized
    together by Adam for `relaxed_steps` steps on data loss + λ · expected bits (+ the non-finite
    penalty), the temperature annealed geometrically; every CHECK_EVERY steps and at the end each
    restart's argmax program is verified exactly on the training points (`synthesize.fits`). The
    result's best is the shortest exact fit (exact bits, `dsl.description_length`), else the
    program of least total bits; `certified` is False (the relaxation proves nothing about shorter
    programs). Status: "fitted" (an exact fit was found), "steps" (every step ran, no fit),
    "time" (max_seconds, checked between steps), "interrupted" (Ctrl-C: what was found is kept).
    """
    import torch

    from .synthesize import Progress

    started, cpu_started = time.perf_counter(), time.process_time()
    tree = build_tree(task, config.relaxed_depth)
    found = _Found(task, {})
    status = "steps"
    restarts = config.relaxed_restarts
    with _torch_settings(torch):
        logits = _initial_logits(torch, tree, restarts, config.relaxed_seed)
        inputs = {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in task.env(task.train).items()}
        target = torch.tensor(np.asarray(task.target_values[task.train], dtype=np.float64))
        n_train = int(task.train.sum())
        optimizer = torch.optim.Adam(logits, lr=config.relaxed_learning_rate)
        first, last = config.relaxed_temperature
        steps = config.relaxed_steps
        try:
            for step in range(steps):
                if time.perf_counter() - started > config.max_seconds:
                    status = "time"
                    break
                temperature = first * (last / first) ** (step / max(steps - 1, 1))
                probabilities = [torch.softmax(t / temperature, dim=1) for t in logits]
                values, penalty, _ = tree.forward(probabilities, inputs, n_train)
                loss = (_data_loss(torch, values, target, task.output_type.kind)
                        + config.relaxed_bits_weight * tree.expected_bits(probabilities) + PENALTY_WEIGHT * penalty)  # fmt: skip
                optimizer.zero_grad()
                loss.sum().backward()  # restarts are independent: each gets its own gradient
                optimizer.step()
                if (step + 1) % CHECK_EVERY == 0:
                    _discretize_all(tree, logits, found, time.process_time() - cpu_started)
                    if progress is not None:
                        progress(Progress(float("nan"), len(found.programs), len(found.programs),
                                          time.process_time() - cpu_started, None))  # fmt: skip
        except KeyboardInterrupt:
            status = "interrupted"
        fitted = _discretize_all(tree, logits, found, time.process_time() - cpu_started)
    if status == "steps" and any(fit for _, fit in found.programs.values()):
        status = "fitted"
    return _result(task, config, found, status, sum(fitted) / restarts, time.process_time() - cpu_started)


@contextlib.contextmanager
def _torch_settings(torch: Any) -> Iterator[None]:
    """One thread and denormals flushed, as neural/train.py trains (its docstring says why);
    restored afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        torch.set_flush_denormal(False)


def _initial_logits(torch: Any, tree: SoftTree, restarts: int, seed: int) -> list[Any]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(restarts, len(slot.alternatives), generator=generator, dtype=torch.float64).requires_grad_()
            for slot in tree.slots]  # fmt: skip


def _data_loss(torch: Any, values: Any, target: Any, kind: str) -> Any:
    """Per restart: reals, the mean squared error over the training points relative to the
    targets' mean square (scale-free, so that λ means the same on every task); Booleans, the
    mean binary cross-entropy in bits."""
    if kind == "real":
        scale = torch.clamp((target**2).mean(), min=1e-12)
        return ((values - target) ** 2).mean(dim=1) / scale
    p = torch.clamp(values, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return -(target * torch.log2(p) + (1 - target) * torch.log2(1 - p)).mean(dim=1)


def _discretize_all(tree: SoftTree, logits: list[Any], found: _Found, cpu_seconds: float) -> list[bool]:
    """Every restart's argmax program, verified; per restart whether it fits."""
    choices = [t.detach().argmax(dim=1).numpy() for t in logits]
    restarts = len(choices[0])
    return [found.add(tree.discretize(choices, r), cpu_seconds) for r in range(restarts)]


def _result(task: Task, config: Any, found: _Found, status: str, success: float, cpu_seconds: float) -> Any:
    from .mdl import DataCode
    from .result import Candidate, SearchStats, SynthesisResult
    from .space import STORAGE

    kind = task.output_type.kind
    code = DataCode(task, task.train, np.asarray(task.target_values).astype(STORAGE[kind]), precision=config.precision)
    scored = []
    for program, fitted in found.programs.values():
        bits = description_length(program, task.grammar)
        if fitted:
            data = 0.0
        else:
            row = np.asarray(evaluate(program, task.env(), size=task.n_points)).astype(STORAGE[kind])[None, :]
            data = float(code.bits(row)[0])
        scored.append(Candidate(program, bits, data, fitted))
    scored.sort(key=lambda c: (not c.fits_train, c.total_bits if not c.fits_train else c.bits, str(c.program)))
    best = scored[0] if scored else None
    pareto: list[Any] = []
    for candidate in sorted(scored, key=lambda c: (c.bits, c.data_bits, str(c.program))):
        if math.isfinite(candidate.data_bits) and all(candidate.data_bits < kept.data_bits for kept in pareto):
            pareto.append(candidate)
    posterior = _posterior(task, scored, config.posterior_window, config.max_posterior)
    stats = SearchStats(candidates=len(found.programs), distinct=len(found.programs), cpu_seconds=cpu_seconds,
                        best_seconds=found.first_fit_seconds, restart_success=success)  # fmt: skip
    return SynthesisResult(task=task, status=status, best=best, certified=False, pareto=tuple(pareto),
                           posterior=posterior, stats=stats, equivalence=config.equivalence, config=config)  # fmt: skip


def _posterior(task: Task, scored: list[Any], window: float, most: int) -> Any:
    """The candidates within `window` bits of the least total, one per function (its values
    at every point), weighted by 2^−total."""
    from .kernels import round_reals
    from .result import Posterior, PosteriorEntry

    finite = sorted((c for c in scored if math.isfinite(c.total_bits)), key=lambda c: (c.total_bits, str(c.program)))
    if any(c.fits_train for c in finite):
        finite = [c for c in finite if c.fits_train]
    members: list[Any] = []
    functions: set[bytes] = set()
    for candidate in finite:
        if candidate.total_bits > finite[0].total_bits + window or len(members) == most:
            break
        values = np.asarray(evaluate(candidate.program, task.env(), size=task.n_points))
        if values.dtype == np.float64:
            values = round_reals(values[None, :])[0]
        if values.tobytes() not in functions:
            functions.add(values.tobytes())
            members.append(candidate)
    if not members:
        return Posterior((), task.output_type, window)
    raw = np.array([2.0 ** -(c.total_bits - members[0].total_bits) for c in members])
    weights = raw / raw.sum()
    entries = tuple(PosteriorEntry(c.program, c.bits, c.data_bits, float(w)) for c, w in zip(members, weights))
    return Posterior(entries, task.output_type, window)

"""The task grammar's own PCFG as a prior over Boolean functions: sampled, and exactly.

A Boolean grammar is a probabilistic context-free grammar: a program is drawn top-down, each
node picking an alternative of its type's rule with its probability (weight / total weight), its
holes drawn the same way. The function a draw computes has probability

    P(f) = Σ over derivations computing f of 2^-bits,

the calibration row of the simplicity-bias experiment (issue 12): a prior whose P(f) is known
exactly, so that what `compare/bias` measures on it can be checked. P(f) ≥ 2^-K(f) always, K(f)
the bits of f's shortest program (that program alone contributes 2^-K(f)).

`sample_programs` draws many trees at once, level by level with numpy: every frontier node of a
level picks its alternative in one vectorized draw, then the truth tables are computed bottom-up,
one numpy operation per (level, alternative), on packed uint64 words (the canonical table format:
bit p % 64 of word p // 64 is the value at the task's point p; unused bits zero). No Python work
per node.

Termination: the expected number of holes filled per node, Σ_a P(a) · holes(a), decides it.
`boolean` on n inputs has 5 / (n + 3): subcritical for n ≥ 3 (1/2 at n = 7: a tree has 2 nodes on
average), critical at n = 2 (it terminates with probability 1 but its expected size is infinite:
P(size > m) ≈ 0.89 / √m), supercritical at n = 1 (it terminates with probability 1/2). Draws
larger than `max_nodes` are discarded and counted (`rejected`): the sample is the PCFG
conditioned on size ≤ max_nodes. `function_distribution` gives the exact P(f), the least fixed
point of the grammar's equations, a sub-probability (its sum is the probability of termination)
for a supercritical grammar; with `max_nodes` the exact probabilities of the derivations of at
most that many nodes, whose normalization is what the sampler draws from.

Grammars handled: one rule, of a bool type, whose alternatives are built from its own holes,
bool inputs, `true`/`false` and the bool-to-bool primitives (not and or ^ == != if); anything
else is a SearchError. A node is a derivation choice (for `boolean`, a program node); a
program's bits are its derivation's, which is its description length when the grammar is
unambiguous (every built-in Boolean grammar is).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from dsl import Apply, Expr, Hole, Lit, Op, SearchError, Task, Var, evaluate
from dsl.grammars import bits_of, choice_probability
from dsl.program import fill

from .space import pack, words_for

__all__ = [
    "ProgramSample",
    "branching_factor",
    "function_distribution",
    "reference_table",
    "sample_programs",
    "sampled_programs",
]

BOOLEAN_OPS = frozenset({Op.NOT, Op.AND, Op.OR, Op.XOR_B, Op.EQ_B, Op.NE_B, Op.IF_B})
DEFAULT_BATCH = 1 << 16  # trees drawn at once: ~10 MB of level arrays for `boolean` on 7 inputs
MAX_EXACT_FUNCTIONS = 256  # function_distribution: 2^P functions of P ≤ 8 points (3 inputs)
MAX_EXACT_TUPLES = 1 << 24  # function_distribution: F^holes child tuples of one alternative
MAX_NEWTON_STEPS = 500
RESIDUAL_FLOOR = 1e-16  # function_distribution: a residual at float64's rounding carries no information
GIVE_UP_DRAWS = 10**6  # sample_programs: draws without one kept before it says the grammar rarely terminates


@dataclass(frozen=True)
class ProgramSample:
    """Programs drawn from a grammar's PCFG, conditioned on at most `max_nodes` nodes."""

    tables: np.ndarray  # (N, W) uint64 canonical truth tables of the sampled programs on all points
    bits: np.ndarray  # (N,) each sampled program's description length (= -log2 of its probability)
    rejected: int  # draws discarded for exceeding max_nodes (before the last draw kept)


@dataclass(frozen=True)
class _Pcfg:
    """A Boolean grammar flattened for sampling: per alternative (a "choice"), its probability,
    bits, number of holes, template, and its table when it is a leaf."""

    task: Task
    templates: tuple[Expr, ...]
    probabilities: np.ndarray  # (C,) float64
    bits: np.ndarray  # (C,) float64, exact -log2 of each choice's probability
    holes: np.ndarray  # (C,) int64
    leaf_tables: np.ndarray  # (C, W) uint64: a leaf's table, zeros for a choice with holes
    mask: np.ndarray  # (W,) uint64: the used bits of each word
    columns: dict[str, np.ndarray]  # (W,) uint64 table of each input

    @property
    def width(self) -> int:
        return len(self.mask)

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.probabilities)


def branching_factor(task: Task) -> float:
    """Expected holes per node, Σ_a P(a) · holes(a): < 1 subcritical (terminates with
    probability 1, finite mean size), 1 critical (terminates, infinite mean size), > 1
    supercritical (terminates with probability < 1)."""
    pcfg = _pcfg(task)
    return float(pcfg.probabilities @ pcfg.holes)


def sample_programs(
    task: Task, samples: int, *, seed: int, max_nodes: int = 1000, batch: int = DEFAULT_BATCH
) -> ProgramSample:
    """`samples` programs drawn from `task`'s grammar as a PCFG, conditioned on at most
    `max_nodes` nodes (module docstring): their truth tables on the task's points (canonical
    format; point p is the task's p-th point), their bits and the number of draws rejected.
    Batch k of min(batch, max(samples still needed, 1024)) trees is drawn by
    `numpy.random.default_rng((seed, k))`: the same seed, samples and batch give the same sample.
    About 4·10^6 samples per CPU-second for `boolean` on 7 inputs (2 nodes a draw on average)."""
    tables, bits, rejected = [], [], 0
    for batch_tables, batch_bits, batch_rejected, _ in _batches(task, samples, seed, max_nodes, batch):
        tables.append(batch_tables)
        bits.append(batch_bits)
        rejected += batch_rejected
    pcfg_width = _pcfg(task).width
    return ProgramSample(
        np.concatenate(tables) if tables else np.zeros((0, pcfg_width), np.uint64),
        np.concatenate(bits) if bits else np.zeros(0),
        rejected,
    )


def sampled_programs(
    task: Task, samples: int, *, seed: int, max_nodes: int = 1000, batch: int = DEFAULT_BATCH
) -> list[Expr]:
    """The programs of `sample_programs` with the same arguments, in its order, as programs (one
    Python object per node: for checking the sampler and for showing examples, not for 10^6; built
    recursively, so a draw nested deeper than Python's recursion limit, ~1000 levels, fails)."""
    pcfg = _pcfg(task)
    programs: list[Expr] = []
    for _, _, _, (levels, kept) in _batches(task, samples, seed, max_nodes, batch):
        programs.extend(_program(pcfg, levels, 0, int(root)) for root in kept)
    return programs


# --- the grammar -------------------------------------------------------------------------------


def _pcfg(task: Task) -> _Pcfg:
    """The task's grammar flattened, or SearchError for a grammar this prior does not handle."""
    grammar, output = task.grammar, task.output_type
    rule = grammar.rule(output)
    if output.kind != "bool" or rule is None:
        raise SearchError(f"the PCFG prior samples Boolean functions; {task.name} has a {output} output",
                          expected="a task with a bool output and a Boolean grammar (boolean, boolean_xor, …)")  # fmt: skip
    for alternative in rule.alternatives:
        for node in alternative.template.walk():
            if not _handled(node, output):
                raise SearchError(
                    f"the PCFG prior cannot sample `{alternative}` of the rule for {output} (at `{node}`)",
                    expected=f"alternatives of {output} built from its own holes, bool inputs, true/false and "
                    "not, and, or, ^, ==, !=, if",
                )
    if all(alternative.holes for alternative in rule.alternatives):
        raise SearchError(f"the grammar of {task.name} has no leaf (an input or a constant): no draw terminates",
                          expected="an alternative without holes")  # fmt: skip
    points = task.n_points
    width = words_for(points)
    mask = np.full(width, np.uint64(2**64 - 1), dtype=np.uint64)
    if points % 64:
        mask[-1] = np.uint64((1 << (points % 64)) - 1)
    columns = {name: _pack_row(np.asarray(values, dtype=bool)) for name, values in task.points.items()}
    templates = tuple(alternative.template for alternative in rule.alternatives)
    exact = [choice_probability(rule, alternative) for alternative in rule.alternatives]
    probabilities = np.array([float(p) for p in exact])
    holes = np.array([len(alternative.holes) for alternative in rule.alternatives], dtype=np.int64)
    leaf_tables = np.zeros((len(templates), width), dtype=np.uint64)
    for c, template in enumerate(templates):
        if holes[c] == 0:
            leaf_tables[c] = _apply(template, iter(()), columns, mask)
    return _Pcfg(task, templates, probabilities, np.array([bits_of(p) for p in exact]), holes, leaf_tables,
                 mask, columns)  # fmt: skip


def _handled(node: Expr, output: object) -> bool:
    if isinstance(node, Hole):
        return node.type == output
    if isinstance(node, (Var, Lit)):
        return node.type.kind == "bool"
    return isinstance(node, Apply) and node.op in BOOLEAN_OPS


def _pack_row(values: np.ndarray) -> np.ndarray:
    """(P,) bools → (W,) uint64 words: search.space's packing, as canonical uint64."""
    return pack(values[None, :])[0].view(np.uint64)


def _apply(template: Expr, children: Iterator[np.ndarray], columns: dict[str, np.ndarray], mask: np.ndarray
           ) -> np.ndarray:  # fmt: skip
    """A template's packed table from its holes' tables (arrays of shape (..., W), broadcast):
    bitwise operations, complements masked to the used bits."""
    if isinstance(template, Hole):
        return next(children)
    if isinstance(template, Var):
        return columns[template.name]
    if isinstance(template, Lit):
        return mask.copy() if template.value else np.zeros_like(mask)
    assert isinstance(template, Apply)
    args = [_apply(arg, children, columns, mask) for arg in template.args]
    op = template.op
    if op == Op.NOT:
        return ~args[0] & mask
    if op == Op.AND:
        return args[0] & args[1]
    if op == Op.OR:
        return args[0] | args[1]
    if op in (Op.XOR_B, Op.NE_B):
        return args[0] ^ args[1]
    if op == Op.EQ_B:
        return ~(args[0] ^ args[1]) & mask
    if op == Op.IF_B:
        return (args[0] & args[1]) | (~args[0] & args[2])
    raise AssertionError(f"unhandled op {op!r} (_pcfg checks first)")


# --- sampling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    """One level of a batch of trees: per node its choice, its tree, whether it was expanded
    (its tree was still within max_nodes), and where its children start in the next level."""

    choice: np.ndarray  # (m,) int64
    tree: np.ndarray  # (m,) int64
    expanded: np.ndarray  # (m,) bool
    offsets: np.ndarray  # (m,) int64


Batch = tuple[np.ndarray, np.ndarray, int, tuple[list[_Level], np.ndarray]]


def _batches(task: Task, samples: int, seed: int, max_nodes: int, batch: int) -> Iterator[Batch]:
    """Per batch: the kept tables (b, W), bits (b,), draws rejected before the last kept, and
    (the levels, the kept roots) for rebuilding programs; until `samples` are kept."""
    if samples < 0 or batch < 1 or max_nodes < 1:
        raise SearchError(f"samples = {samples}, batch = {batch}, max_nodes = {max_nodes} are out of range",
                          expected="samples >= 0, batch >= 1, max_nodes >= 1")  # fmt: skip
    pcfg = _pcfg(task)
    needed, k, drawn = samples, 0, 0
    while needed > 0:
        size = min(batch, max(needed, 1024))
        levels, alive = _draw(pcfg, size, np.random.default_rng((seed, k)), max_nodes)
        tables, bits = _tables(pcfg, levels, size)
        kept = np.flatnonzero(alive)[:needed]
        drawn += size
        if needed == samples and len(kept) == 0 and drawn >= GIVE_UP_DRAWS:
            raise SearchError(f"none of {drawn:,} draws of {task.name}'s grammar ended within max_nodes = "
                              f"{max_nodes:,}", expected="a larger max_nodes, or a grammar that terminates more often")  # fmt: skip
        last = kept[-1] + 1 if len(kept) == needed else size
        yield tables[kept], bits[kept], int(last - alive[:last].sum()), (levels, kept)
        needed -= len(kept)
        k += 1


def _draw(
    pcfg: _Pcfg, size: int, rng: np.random.Generator, max_nodes: int
) -> tuple[list[_Level], np.ndarray]:
    """`size` trees drawn top-down, a level at a time; a tree is abandoned (not expanded
    further) as soon as its nodes exceed `max_nodes`. Returns the levels and which trees are
    whole."""
    cumulative = pcfg.cumulative
    cumulative[-1] = np.inf  # a draw of u ≥ the float sum falls on the last choice
    tree = np.arange(size, dtype=np.int64)
    nodes = np.ones(size, dtype=np.int64)
    alive = np.ones(size, dtype=bool)
    levels = []
    while tree.size:
        choice = np.searchsorted(cumulative, rng.random(tree.size), side="right")
        holes = pcfg.holes[choice]
        nodes += np.bincount(tree, weights=holes, minlength=size).astype(np.int64)
        alive &= nodes <= max_nodes
        expanded = alive[tree]
        children = np.where(expanded, holes, 0)
        offsets = np.cumsum(children) - children
        levels.append(_Level(choice, tree, expanded, offsets))
        tree = np.repeat(tree, children)
    return levels, alive


def _tables(pcfg: _Pcfg, levels: Sequence[_Level], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Bottom-up: every node's table from its children's, one numpy operation per (level,
    choice); → the roots' tables (size, W) and each tree's bits (size,)."""
    below = np.zeros((0, pcfg.width), dtype=np.uint64)
    bits = np.zeros(size)
    branching = [c for c in range(len(pcfg.templates)) if pcfg.holes[c]]
    for level in reversed(levels):
        tables = pcfg.leaf_tables[level.choice]
        for c in branching:
            where = np.flatnonzero((level.choice == c) & level.expanded)
            if where.size:
                start = level.offsets[where]
                children = iter([below[start + j] for j in range(pcfg.holes[c])])
                tables[where] = _apply(pcfg.templates[c], children, pcfg.columns, pcfg.mask)
        bits += np.bincount(level.tree, weights=pcfg.bits[level.choice], minlength=size)
        below = tables
    return below, bits


def _program(pcfg: _Pcfg, levels: Sequence[_Level], depth: int, index: int) -> Expr:
    level = levels[depth]
    c = int(level.choice[index])
    start = int(level.offsets[index])
    children = [_program(pcfg, levels, depth + 1, start + j) for j in range(int(pcfg.holes[c]))]
    return fill(pcfg.templates[c], iter(children))


# --- the exact distribution --------------------------------------------------------------------


def function_distribution(
    task: Task, *, tolerance: float = 1e-12, max_nodes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The exact P(f) of every function f on the task's P ≤ 8 points (3 inputs: 256 functions):
    (tables (2^P, 1) uint64 in order of their value, probabilities (2^P,)).

    Without `max_nodes`: the least fixed point of p_f = Σ_a P(a) Σ_{children g… with a(g…) = f}
    Π p_g, the probability that the PCFG terminates with f (a sub-probability for a
    supercritical grammar), by Newton's method from 0, which converges to the least fixed point
    of such a monotone system (Esparza, Kiefer & Luttenberger 2010) — quadratically, or by halves
    at a critical one, where plain iteration would take ~1/tolerance steps; it stops when a step
    moves no probability by more than `tolerance`. With `max_nodes`: the exact probabilities of
    the derivations of at most that many nodes (a dynamic program over sizes; alternatives of at
    most 2 holes), whose sum is 1 − the sampler's rejection probability."""
    pcfg = _pcfg(task)
    points = task.n_points
    count = 2**points
    if count > MAX_EXACT_FUNCTIONS:
        raise SearchError(f"the exact distribution is over 2^{points} = {count:,} functions of {task.name}'s "
                          f"{points} points, more than {MAX_EXACT_FUNCTIONS}",
                          expected="a task of at most 8 points (3 Boolean inputs); sample_programs beyond")  # fmt: skip
    results = _result_tables(pcfg, count)
    probabilities = _least_fixed_point(pcfg, results, count, tolerance) if max_nodes is None \
        else _up_to_size(pcfg, results, count, max_nodes)  # fmt: skip
    return np.arange(count, dtype=np.uint64).reshape(-1, 1), probabilities


def _result_tables(pcfg: _Pcfg, count: int) -> list[np.ndarray]:
    """Per choice, the function index it computes for every tuple of children's functions:
    an int64 array of shape (F,) * holes (a 0-d array for a leaf)."""
    results = []
    for c, template in enumerate(pcfg.templates):
        k = int(pcfg.holes[c])
        if count**k > MAX_EXACT_TUPLES:
            raise SearchError(f"`{template}` has {k} holes: {count}^{k} child tuples is too many for the exact "
                              "distribution", expected=f"at most {MAX_EXACT_TUPLES:,} tuples")  # fmt: skip
        axes = [np.arange(count, dtype=np.uint64).reshape([-1 if i == j else 1 for i in range(k)] + [1])
                for j in range(k)]  # fmt: skip
        table = _apply(template, iter(axes), pcfg.columns, pcfg.mask)
        results.append(np.broadcast_to(table[..., 0], (count,) * k).astype(np.int64))
    return results


def _products(p: np.ndarray, k: int, skip: int | None = None) -> np.ndarray:
    """Π_j p[g_j] over tuples (g_1 … g_k), as an array of shape (F,) * k; hole `skip` left out
    (the factor its derivative leaves)."""
    total = np.ones((1,) * k)
    for j in range(k):
        if j != skip:
            total = total * p.reshape([-1 if i == j else 1 for i in range(k)])
    return np.broadcast_to(total, (len(p),) * k)


def _equations(pcfg: _Pcfg, results: list[np.ndarray], p: np.ndarray, jacobian: bool
               ) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """The right-hand side G(p) of the grammar's equations and, if asked, its Jacobian."""
    count = len(p)
    value = np.zeros(count)
    derivative = np.zeros(count * count) if jacobian else None
    for c, result in enumerate(results):
        k, w = result.ndim, pcfg.probabilities[c]
        value += w * np.bincount(result.ravel(), _products(p, k).ravel(), minlength=count)
        if derivative is not None:
            for j in range(k):
                child = np.broadcast_to(
                    np.arange(count).reshape([-1 if i == j else 1 for i in range(k)]), result.shape
                )
                derivative += w * np.bincount((result * count + child).ravel(), _products(p, k, j).ravel(),
                                              minlength=count * count)  # fmt: skip
    return value, None if derivative is None else derivative.reshape(count, count)


def _least_fixed_point(pcfg: _Pcfg, results: list[np.ndarray], count: int, tolerance: float) -> np.ndarray:
    """Newton's method from 0 (function_distribution). It stops when a step moves no probability
    by more than `tolerance`, or when the residual G(p) − p is at float64's rounding (≤ 1e-16):
    at a critical grammar the residual is quadratic in the error, so that float64 resolves the
    probabilities to ~1e-8 there and no further. The total is then capped at the probability of
    termination (`_termination`), which the grammar's one-variable equation gives accurately."""
    p = np.zeros(count)
    identity = np.eye(count)
    for _ in range(MAX_NEWTON_STEPS):
        value, derivative = _equations(pcfg, results, p, jacobian=True)
        assert derivative is not None
        residual = float(np.max(np.abs(value - p)))
        try:
            step = np.linalg.solve(identity - derivative, value - p)
        except np.linalg.LinAlgError:
            step = value - p  # a Kleene step: still monotone toward the least fixed point
        new = np.clip(np.maximum(p + step, p), 0.0, 1.0)
        moved = float(np.max(np.abs(new - p)))
        p = new
        if moved <= tolerance or residual <= RESIDUAL_FLOOR:
            total, terminates = float(p.sum()), _termination(pcfg)
            return p * (terminates / total) if total > terminates else p
    raise SearchError(f"Newton's method did not reach a tolerance of {tolerance} in {MAX_NEWTON_STEPS} steps",
                      expected="a larger tolerance")  # fmt: skip


def _termination(pcfg: _Pcfg) -> float:
    """The probability that a draw terminates: the least root in [0, 1] of q = Σ_a P(a) q^holes(a),
    1 when the expected holes per node is at most 1 (a branching process dies out surely
    exactly then), else a simple root below 1, found by Newton's method from 0."""
    if float(pcfg.probabilities @ pcfg.holes) <= 1:
        return 1.0
    q = 0.0
    for _ in range(MAX_NEWTON_STEPS):
        value = float(pcfg.probabilities @ q**pcfg.holes)
        slope = float(pcfg.probabilities @ (pcfg.holes * q ** np.maximum(pcfg.holes - 1, 0)))
        new = q + (value - q) / (1 - slope)
        if abs(new - q) <= 1e-16:
            break
        q = new
    return q


def _up_to_size(pcfg: _Pcfg, results: list[np.ndarray], count: int, max_nodes: int) -> np.ndarray:
    """Σ over derivations of at most `max_nodes` nodes: by[s, f] the probability of the
    derivations of exactly s nodes computing f, a node's children's sizes summing to s − 1."""
    if max(result.ndim for result in results) > 2:
        raise SearchError("the exact distribution up to a size handles alternatives of at most 2 holes",
                          expected="max_nodes=None (the least fixed point)")  # fmt: skip
    by = np.zeros((max_nodes + 1, count))
    for s in range(1, max_nodes + 1):
        for c, result in enumerate(results):
            w = pcfg.probabilities[c]
            if result.ndim == 0 and s == 1:
                by[s, int(result)] += w
            elif result.ndim == 1 and s >= 2:
                by[s] += w * np.bincount(result, by[s - 1], minlength=count)
            elif result.ndim == 2 and s >= 3:
                pairs = by[1 : s - 1].T @ by[s - 2 : 0 : -1]  # Σ_{s1 + s2 = s - 1} by[s1] ⊗ by[s2]
                by[s] += w * np.bincount(result.ravel(), pairs.ravel(), minlength=count)
    return by.sum(axis=0)


def reference_table(task: Task, program: Expr) -> np.ndarray:
    """(W,) uint64: `program`'s canonical table on the task's points by the reference evaluator
    (for checking the packed tables)."""
    values = evaluate(program, task.points, size=task.n_points).astype(bool)
    return _pack_row(values)

"""The search space: a task's grammar and points, flattened for the enumerator.

Each alternative of the grammar becomes a `Choice`: its exact probability in its rule (a
`Fraction`, so that enumeration order by description length is exact), the types of its holes,
and how to compute its values from its children's:

- a *leaf* (no holes: an input, a constant, `x + 1` as a whole) is evaluated once;
- a *simple* choice is one primitive over holes and hole-free operands (`int + int`,
  `sin(real)`, `T >> 1`): the compiled kernels apply it;
- a *composite* choice (holes below the top operation, `(int + int) % 97`) is evaluated by the
  reference evaluator over batches of children, then inserted by a kernel.

Values live on the *equivalence points* — the training points, or all points — as one row per
program: int64 for integer types, float64 for reals, uint8 for bools (0/1). A grammar of bools
alone, whose operations are all bools on bools (`PACKABLE`), is *packed*: a program's row is
its truth table in W = ceil(P / 64) int64 words, bit p % 64 of word p // 64 its value at point
p, and the kernels work on whole words. The last word's bits past the points are kept zero
(the kernels mask that word after every operation), so rows compare, hash and count
mismatches as whole words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dsl import Apply, Expr, Grammar, Hole, Op, Task, Type, Var, evaluate
from dsl.grammars import bits_of, choice_probability
from dsl.primitives import COMMUTATIVE, PRIMITIVES

__all__ = ["Choice", "SearchSpace", "STORAGE", "NAN_ABSORBING", "build_space", "pack", "unpack", "words_for"]

STORAGE = {"bool": np.uint8, "int": np.int64, "real": np.float64}

# Operations that can turn a NaN argument into a non-NaN result. Without them in the grammar, a
# program that is NaN at a training point can never be part of a fit, and is dropped.
NAN_ABSORBING = frozenset(row.op for row in PRIMITIVES if row.nan_absorbing)
# The operations of bools on bools: the kernels apply them to truth tables packed in words.
PACKABLE = frozenset(row.op for row in PRIMITIVES if row.result == "B" and set(row.args) == {"B"})


@dataclass(frozen=True, eq=False)
class Choice:
    """An alternative of the grammar, ready to enumerate."""

    index: int
    type_index: int  # the rule it belongs to
    template: Expr
    probability: Fraction  # weight / total weight of its rule
    holes: tuple[int, ...]  # type index of each hole, left to right
    op: Op | None  # the primitive of a simple choice
    operands: tuple[int | np.ndarray, ...]  # per argument of a simple choice: hole number, or (1, P) values
    symmetric: bool  # a commutative primitive over two holes of one type: skip mirrored pairs

    @property
    def bits(self) -> float:
        return bits_of(self.probability)

    @property
    def is_leaf(self) -> bool:
        return not self.holes

    @property
    def is_simple(self) -> bool:
        return self.op is not None


@dataclass(frozen=True, eq=False)
class SearchSpace:
    """Everything the enumerator needs, derived once from a task."""

    task: Task
    grammar: Grammar
    types: tuple[Type, ...]
    choices: tuple[Choice, ...]
    points: dict[str, np.ndarray]  # input columns at the equivalence points
    train: np.ndarray  # bool mask over the equivalence points
    target: np.ndarray  # target values at the equivalence points (observed ones)
    output_index: int  # type index of the task's output type
    drop_nan: bool  # no NaN-absorbing operation: programs NaN at a training point are useless
    packed: bool  # bools only, packable operations: rows are truth tables in words

    @property
    def n_points(self) -> int:
        return len(self.train)

    @property
    def row_width(self) -> int:
        """Columns of a bank row: the truth table's words when packed, else one per point."""
        return words_for(self.n_points) if self.packed else self.n_points

    @property
    def tail_points(self) -> int:
        """Packed: the points in the last word (1..64); its bits from there on are zero."""
        return self.n_points - 64 * (self.row_width - 1)

    @property
    def full_mask(self) -> np.ndarray:
        """Packed: the (W,) int64 words with a bit set for every point."""
        return pack(np.ones((1, self.n_points), dtype=bool))[0]

    def storage(self, type_index: int) -> type:
        return np.int64 if self.packed else STORAGE[self.types[type_index].kind]

    def pack(self, values: np.ndarray) -> np.ndarray:
        return pack(values)

    def unpack(self, words: np.ndarray) -> np.ndarray:
        return unpack(words, self.n_points)

    def choices_with_hole(self, type_index: int) -> list[Choice]:
        return [choice for choice in self.choices if type_index in choice.holes]

    def leaf_values(self, choice: Choice) -> np.ndarray:
        """The row of a leaf choice: its values at the equivalence points, in storage dtype."""
        values = evaluate(choice.template, self.points, size=self.n_points)
        if self.packed:
            return self.pack(values[None, :])[0]
        return values.astype(self.storage(choice.type_index))


def words_for(points: int) -> int:
    """W: the int64 words of a truth table of `points` points (at least one)."""
    return max(1, -(-points // 64))


def pack(values: np.ndarray) -> np.ndarray:
    """(n, P) bools → (n, W) int64 truth tables: bit p % 64 of word p // 64 is the value at
    point p; the last word's bits past P are zero."""
    n, points = values.shape
    padded = np.zeros((n, 64 * words_for(points)), dtype=np.uint8)
    padded[:, :points] = values
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64).view(np.int64)


def unpack(words: np.ndarray, points: int) -> np.ndarray:
    """(n, W) int64 truth tables → (n, points) bools ((n,) words: one word per row)."""
    rows = np.ascontiguousarray(words).view(np.int64)
    rows = rows[:, None] if rows.ndim == 1 else rows
    as_bytes = np.ascontiguousarray(rows.astype("<i8", copy=False)).view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, count=points, bitorder="little").astype(bool)


_packing = [True]  # whether build_space packs what it can: `unpacked_rows` turns it off


@contextlib.contextmanager
def unpacked_rows() -> Iterator[None]:
    """Within it, `build_space` keeps packable grammars' rows unpacked, one uint8 per point, so
    that every search (synthesize, enumerate_functions) runs unpacked: internal, for the tests
    and the benchmark that compare the two representations."""
    _packing.append(False)
    try:
        yield
    finally:
        _packing.pop()


def build_space(task: Task, *, equivalence: str = "all") -> SearchSpace:
    """The search space of `task`. `equivalence` is 'all' (programs are equivalent when they
    agree on every point of the task) or 'train' (on the training points)."""
    if equivalence not in ("all", "train"):
        raise ValueError(f"equivalence must be 'all' or 'train', not {equivalence!r}")
    mask = np.ones(task.n_points, dtype=bool) if equivalence == "all" else task.train
    points = {name: np.ascontiguousarray(values[mask]) for name, values in task.points.items()}
    train = np.ascontiguousarray(task.train[mask])
    target = np.ascontiguousarray(task.target_values[mask]).astype(STORAGE[task.output_type.kind])
    types = task.grammar.types
    index = {type_: i for i, type_ in enumerate(types)}
    templates = [alternative.template for rule in task.grammar.rules for alternative in rule.alternatives]
    ops = {node.op for template in templates for node in template.walk() if isinstance(node, Apply)}
    packed = _packing[-1] and all(type_.kind == "bool" for type_ in types) and ops <= PACKABLE

    def rows(values: np.ndarray, kind: str) -> np.ndarray:
        """(n, P) values → bank rows: truth tables when packed, else the storage dtype."""
        return pack(values) if packed else values.astype(STORAGE[kind])

    choices: list[Choice] = []
    for rule in task.grammar.rules:
        for alternative in rule.alternatives:
            choices.append(
                _choice(len(choices), index[rule.type], alternative.template, choice_probability(rule, alternative),
                        index, points, len(train), rows)
            )  # fmt: skip
    return SearchSpace(
        task=task,
        grammar=task.grammar,
        types=types,
        choices=tuple(choices),
        points=points,
        train=train,
        target=pack(target[None, :])[0] if packed else target,
        output_index=index[task.output_type],
        drop_nan=not (ops & NAN_ABSORBING),
        packed=packed,
    )


def _choice(
    number: int, type_index: int, template: Expr, probability: Fraction, index: Mapping[Type, int],
    points: Mapping[str, np.ndarray], size: int, rows: Callable[[np.ndarray, str], np.ndarray],
) -> Choice:
    holes = tuple(index[node.type] for node in template.walk() if isinstance(node, Hole))
    operands: tuple[int | np.ndarray, ...]
    op, operands, symmetric = None, (), False
    if holes and isinstance(template, Apply) and all(_is_hole_or_free(arg) for arg in template.args):
        op = template.op
        operands = tuple(_operands(template.args, points, size, rows))
        symmetric = op in COMMUTATIVE and len(template.args) == 2 and len(set(holes)) == 1 and len(holes) == 2
    return Choice(number, type_index, template, probability, holes, op, operands, symmetric)


def _is_hole_or_free(node: Expr) -> bool:
    return isinstance(node, Hole) or not any(isinstance(part, Hole) for part in node.walk())


def _operands(
    args: tuple[Expr, ...], points: Mapping[str, np.ndarray], size: int, rows: Callable[[np.ndarray, str], np.ndarray]
) -> Iterator[int | np.ndarray]:
    """Per argument: the number of the hole it is, or its values as a one-row bank."""
    holes = 0
    for arg in args:
        if isinstance(arg, Hole):
            yield holes
            holes += 1
        else:
            yield rows(evaluate(arg, points, size=size)[None, :], arg.type.kind)


def holes_to_vars(template: Expr) -> tuple[Expr, list[str]]:
    """The template with its holes replaced by inputs `_0`, `_1`, … (to evaluate it on batches
    of children with the reference evaluator)."""
    names: list[str] = []

    def replace(node: Expr) -> Expr:
        if isinstance(node, Hole):
            names.append(f"_{len(names)}")
            return Var(names[-1], node.type)
        if isinstance(node, Apply):
            return Apply(node.op, tuple(replace(arg) for arg in node.args), node.type)
        return node

    return replace(template), names

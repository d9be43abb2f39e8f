"""Sequence tasks: per-step inputs, a per-step output, and a recurrent target program.

A sequence task is to a recurrent program what a `Task` is to an expression: the one source of
truth for the data every searcher and every network sees. It holds N sequences of L steps:
`sequences[name]` is an (N, L) array per input, `target_values` the (N, L) outputs, and the
train/test split is by sequence (`train[n]`). Its target is a `Recurrence` (a read-out of the
current inputs alone is one with no state), or None for sequences read from a data file.

`SequenceTask.generate` draws the sequences as MIPS's generators do (each input uniform over its
range at every step, seeded) and runs the target over them with the reference evaluator; task
files build their sequence tasks through it (dsl/sequence_build.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .grammars import Grammar
from .recurrent import Recurrence, RecurrentRun, run
from .sampling import value_domain
from .task import Input, _readonly, fingerprint
from .types import Range, Type

__all__ = ["SequenceTask", "MAX_SEQUENCE_VALUES"]

MAX_SEQUENCE_VALUES = 50_000_000  # sequences × steps: bounds what a task file can ask to build


@dataclass(frozen=True, eq=False)
class SequenceTask:
    """A checked sequence task with all its data. Arrays are read-only and aligned:
    `sequences[name][n, t]`, `target_values[n, t]` and `train[n]` describe step t of sequence n."""

    name: str
    doc: str
    inputs: tuple[Input, ...]
    output_type: Type
    output_range: Range | None
    output_name: str
    sequences: Mapping[str, np.ndarray]  # input name -> (N, L) values
    train: np.ndarray  # (N,) bool: the training sequences
    target_values: np.ndarray  # (N, L)
    target: Recurrence | None
    grammar: Grammar
    source: str = "<string>"
    line: int = 0
    sampling: str = ""  # how the sequences were made, in words

    # --- the shape of the data ------------------------------------------------------------------

    @property
    def length(self) -> int:
        """Steps per sequence."""
        return int(self.target_values.shape[1])

    @property
    def n_sequences(self) -> int:
        return int(self.target_values.shape[0])

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_test(self) -> int:
        return self.n_sequences - self.n_train

    @property
    def test(self) -> np.ndarray:
        return ~self.train

    @property
    def clean_values(self) -> np.ndarray:
        """The noise-free outputs: sequence tasks take no `noise`, so the target values."""
        return self.target_values

    @property
    def input_types(self) -> dict[str, Type]:
        return {input_.name: input_.type for input_ in self.inputs}

    @property
    def output_domain(self) -> Range | None:
        return value_domain(self.output_type, self.output_range)

    def env(self, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Input arrays (sequences, steps), of the sequences selected by `mask` (default: all)."""
        return {name: values if mask is None else values[mask] for name, values in self.sequences.items()}

    def run(self, program: Recurrence, mask: np.ndarray | None = None) -> RecurrentRun:
        """`program` over the task's sequences (those selected by `mask`), by the reference evaluator."""
        return run(program, self.env(mask))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self, (), (*self.sequences.values(), self.train, self.target_values))

    def __repr__(self) -> str:
        return f"<SequenceTask {self.name}: {self.n_sequences} sequences of {self.length} steps, {self.n_train} train>"

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def generate(
        cls, *, name: str, inputs: tuple[Input, ...], output_type: Type, output_range: Range | None,
        target: Recurrence, grammar: Grammar, length: int, count: int, seed: int, train_share: float = 1.0,
        split_seed: int = 0, output_name: str = "y", doc: str = "", source: str = "<string>", line: int = 0,
    ) -> SequenceTask:  # fmt: skip
        """`count` sequences of `length` steps, each input uniform over its (finite) range at every
        step from `numpy.random.default_rng(seed)` (inputs drawn in declaration order, each as one
        (count, length) array), the target run over them, and a seeded `train_share` of the
        sequences for training (all by default)."""
        if length < 1 or count < 1:
            raise ValueError(f"a sequence task needs at least one sequence of one step, not {count} of {length}")
        if length * count * max(1, len(inputs)) > MAX_SEQUENCE_VALUES:
            raise ValueError(f"{count:,} sequences of {length:,} steps are more than {MAX_SEQUENCE_VALUES:,} values")
        rng = np.random.default_rng(seed)
        sequences = {}
        for input_ in inputs:
            bounds = input_.bounds
            if bounds is None or input_.type.kind == "real":
                raise ValueError(f"input `{input_.name}` needs a finite range to generate sequences")
            values = rng.integers(int(bounds.low), int(bounds.high) + 1, size=(count, length))
            sequences[input_.name] = values.astype(input_.type.dtype)
        outputs = run(target, sequences).outputs
        train = split_sequences(count, train_share, split_seed)
        sampling = f"{count:,} sequences of {length} steps, inputs uniform (seed {seed})"
        if train_share < 1:
            sampling += f"; train {train_share:.0%} = {int(train.sum()):,} sequences (seed {split_seed})"
        return cls(name=name, doc=doc, inputs=inputs, output_type=output_type, output_range=output_range,
                   output_name=output_name, sequences={k: _readonly(v) for k, v in sequences.items()},
                   train=_readonly(train), target_values=_readonly(outputs), target=target, grammar=grammar,
                   source=source, line=line, sampling=sampling)  # fmt: skip


def split_sequences(count: int, train_share: float, seed: int) -> np.ndarray:
    """The training mask over `count` sequences: a seeded random `train_share` of them (floored)."""
    if not 0 < train_share <= 1:
        raise ValueError(f"train share {train_share} is not in (0, 1]")
    n_train = int(train_share * count)
    if n_train == 0:
        raise ValueError(f"a train share of {train_share} leaves none of {count} sequences for training")
    train = np.zeros(count, dtype=bool)
    train[np.random.default_rng(seed).permutation(count)[:n_train]] = True
    return train

"""The train/test split of a task's points: `split train P% seed S` (dsl/task.py builds it)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .errors import Source, TaskError, shortened
from .syntax import AmountSyntax, SplitSyntax


def _split(split: SplitSyntax | None, candidates: np.ndarray, sampling: str,
           source: Source) -> tuple[np.ndarray, str]:
    """The training mask (the `candidates` themselves without a `split`, else a seeded share of
    them) and `sampling`, the description of the points, with the split added."""
    if split is None:
        return candidates.copy(), sampling
    n = len(candidates)
    count = _count(split.train, n, source, "split")
    if count == 0:
        raise TaskError(f"`split` leaves no training point (of {n:,})", source=source, span=split.span,
                        expected="a larger training share")
    order = np.random.default_rng(split.seed).permutation(n)
    train = np.zeros(n, dtype=bool)
    train[order[:count]] = True
    share = f"{split.train.value.text}%" if split.train.percent else f"{count:,} points"
    return train, f"{sampling}; train {share} = {count:,} (seed {split.seed})"


def _count(amount: AmountSyntax, n: int, source: Source, keyword: str) -> int:
    """How many of `n` an amount means: a percentage is floored, as `int(fraction * n)`."""
    text = amount.value.text
    approximate = float(text)  # never fails ('1e999' is inf): bounds the value before Fraction computes it
    if amount.percent:
        if not 0 <= approximate <= 100:
            raise TaskError(f"`{keyword}` percentage {shortened(text)}% is not between 0 and 100", source=source,
                            span=amount.span, expected="a percentage from 0% to 100%")
        if approximate * n < 1:  # so tiny a share takes no point (its Fraction can be huge: 1e-99999999)
            return 0
        try:
            exact = Fraction(text)
        except ValueError:  # more digits than Python converts
            raise TaskError(f"`{keyword}` percentage {shortened(text)}% has too many digits", source=source,
                            span=amount.span, expected="a percentage such as 30% or 12.5%") from None
        return math.floor(exact * n / 100)
    if amount.value.is_real or approximate > n:
        raise TaskError(f"`{keyword}` asks for {shortened(text)} of {n:,} points", source=source, span=amount.span,
                        expected=f"a whole number of points up to {n:,}, or a percentage")
    return int(text)

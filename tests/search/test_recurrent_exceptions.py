"""search.synthesize_with_exceptions: a program and the few training steps it does not explain
(a two-part code), against planted flips of a known recurrence's outputs."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

import search
from search.recurrent.exceptions import exception_bits

from .recurrent_cases import mips_task


def test_exception_bits_by_hand() -> None:  # the scalar searches' code (search/mdl.py), over steps
    assert exception_bits(0, 50, 2) == 0.0
    # how many (log2 10), which of 10 steps, and one of the 3 other values
    assert exception_bits(1, 10, 4) == pytest.approx(math.log2(10) + math.log2(10) + math.log2(3))
    # two values: which k of 1..4 (log2 5), which steps; past a majority wrong, chance (10 bits)
    assert exception_bits(2, 10, 2) == pytest.approx(math.log2(5) + math.log2(45))
    assert exception_bits(6, 10, 2) == pytest.approx(math.log2(5) + 10)


def _flipped(name: str, share: float, seed: int) -> tuple[search.RecurrentConfig, object, object, np.ndarray]:
    task = mips_task(name)
    rng = np.random.default_rng(seed)
    flips = (rng.random(task.target_values.shape) < share) & task.train[:, None]
    values = np.array(task.target_values)
    values[flips] = 1 - values[flips]
    noisy = dataclasses.replace(task, target_values=values, target=None)
    return search.RecurrentConfig(max_states=1, max_seconds=4), task, noisy, flips


@pytest.mark.parametrize("seed", range(2))
def test_flipped_outputs_are_the_exceptions_of_the_planted_program(seed: int) -> None:
    config, task, noisy, flips = _flipped("Div_3", 0.003, seed)
    assert flips.sum() > 5
    exact = search.synthesize_recurrent(noisy, config)
    assert exact.best is None or exact.best.bits > task.target.bits(task.grammar)  # flips hide it from the exact search
    result = search.synthesize_with_exceptions(noisy, config)
    best = result.best
    assert best is not None
    assert np.array_equal(task.run(best.program).outputs, task.target_values)  # the clean function, everywhere
    assert sorted((n, t) for n, t, _ in best.exceptions) == sorted(map(tuple, np.argwhere(flips).tolist()))
    assert all(noisy.target_values[n, t] == value for n, t, value in best.exceptions)
    assert best.program_bits == pytest.approx(best.program.bits(task.grammar))
    assert best.bits == pytest.approx(best.program_bits + exception_bits(int(flips.sum()), noisy.n_train * 10, 2))
    assert result.candidates[0] is best and all(c.bits >= best.bits for c in result.candidates)


def test_clean_outputs_need_no_exceptions() -> None:
    task = mips_task("Parity_All")
    config = search.RecurrentConfig(max_states=1, max_seconds=4)
    result = search.synthesize_with_exceptions(task, config)
    exact = search.synthesize_recurrent(task, config)
    assert result.best is not None and result.best.exceptions == ()
    assert result.best.program_bits == pytest.approx(exact.best.bits)
    assert result.best.bits == pytest.approx(exact.best.bits)  # no exceptions cost nothing


def test_outputs_no_program_explains_give_none() -> None:
    task = mips_task("Parity_All")
    rng = np.random.default_rng(0)
    noise = dataclasses.replace(task, target_values=rng.integers(0, 2, size=task.target_values.shape), target=None)
    result = search.synthesize_with_exceptions(noise, search.RecurrentConfig(max_states=1, max_seconds=3))
    assert result.best is None and result.candidates == []
    data = json.loads(json.dumps(result.to_json()))
    assert data["best"] is None and len(data["subsets"]) == len(result.subsets) == 8

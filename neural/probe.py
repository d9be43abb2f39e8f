"""Linear probes: how well a network's hidden state reads out a program's state variables.

Where it sits: `SequenceTraining.hidden_states(mask)` gives (n, L, H) arrays, the hidden state
after each step; `dsl.recurrent.run(program, ...).states` gives each state's value (n, L) when a
step's output is read (for a program whose output reads the new state, the state after the
step; for a Mealy program, `output_at = 0`, the state before it). `states_after_step` gives the
values after every update of each step, which is what h_t, the state after step t, should hold.
`probe_states` fits, per state, a linear read-out from the hidden state on a seeded half of the
sequences and scores it on the other half (every step of a sequence stays on its side, so the
score is on sequences the read-out never saw):

- a state with at most `max_classes` distinct values (bits, counters mod k) is scored by
  accuracy: the better of (a) rounding a least-squares linear regression to the nearest seen
  value and (b) a linear classifier, least squares onto the one-hot classes, argmax. (a) finds a
  state held as a number along one direction, (b) one held as separable clusters;
- a wider state (a running sum) by R² of the linear regression, 1 − SS_res / SS_tot on the held
  out half (can be negative; nan when the state is constant there).

Ridge regularization `ridge` (on the weights, not the intercept) keeps the solves stable when
hidden units are dead or collinear. numpy only (scikit-learn is an optional dependency).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dsl.recurrent import Recurrence, run

__all__ = ["ProbeScore", "probe_states", "states_after_step"]


def states_after_step(program: Recurrence, env: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each state's value (n, L) after all the updates of each step, over the sequences of `env`
    (the reference evaluator, with the read-out moved after the last update)."""
    moved = dataclasses.replace(program, output_at=len(program.updates))
    return {name: np.asarray(values) for name, values in run(moved, env).states.items()}


@dataclass(frozen=True)
class ProbeScore:
    """How well the hidden state reads out one program state on held-out sequences."""

    name: str
    kind: str  # "accuracy" (few values) or "r2"
    score: float  # the accuracy (best of rounding and classifier) or the R²
    r2: float  # R² of the linear regression (both kinds)
    rounding_accuracy: float  # of the rounded regression (nan for "r2" kind)
    classifier_accuracy: float  # of the one-hot least-squares classifier (nan for "r2" kind)
    values: int  # distinct values of the state


def _design(hidden: np.ndarray) -> np.ndarray:
    return np.concatenate([hidden, np.ones((len(hidden), 1))], axis=1)


def _fit(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge least squares with an unpenalized intercept (the last column of x)."""
    penalty = np.sqrt(ridge) * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0
    target = y if y.ndim == 2 else y[:, None]
    stacked_x = np.concatenate([x, penalty])
    stacked_y = np.concatenate([target, np.zeros((x.shape[1], target.shape[1]))])
    weights, *_ = np.linalg.lstsq(stacked_x, stacked_y, rcond=None)
    return weights


def _r2(truth: np.ndarray, predicted: np.ndarray) -> float:
    total = float(np.sum((truth - truth.mean()) ** 2))
    return float("nan") if total == 0 else 1.0 - float(np.sum((truth - predicted) ** 2)) / total


def probe_states(
    hidden: np.ndarray,
    program_states: Mapping[str, np.ndarray],
    *,
    seed: int = 0,
    max_classes: int = 16,
    ridge: float = 1e-6,
) -> dict[str, ProbeScore]:
    """Per program state, the held-out score of a linear read-out from `hidden` (module docstring).
    `hidden` is (n, L, H); each state (n, L); n ≥ 2 sequences."""
    hidden = np.asarray(hidden, dtype=np.float64)
    if hidden.ndim != 3:
        raise ValueError(f"hidden states must be (sequences, steps, units), got shape {hidden.shape}")
    n, length, units = hidden.shape
    if n < 2:
        raise ValueError("a probe needs at least two sequences (one to fit, one to score)")
    order = np.random.default_rng(seed).permutation(n)
    fit_rows, score_rows = np.sort(order[: n // 2]), np.sort(order[n // 2 :])
    x_fit = _design(hidden[fit_rows].reshape(-1, units))
    x_score = _design(hidden[score_rows].reshape(-1, units))
    scores = {}
    for name, values in program_states.items():
        values = np.asarray(values)
        if values.shape != (n, length):
            raise ValueError(f"state `{name}` has shape {values.shape}, expected {(n, length)}")
        numbers = values.astype(np.float64)
        y_fit, y_score = numbers[fit_rows].reshape(-1), numbers[score_rows].reshape(-1)
        predicted = x_score @ _fit(x_fit, y_fit, ridge)[:, 0]
        r2 = _r2(y_score, predicted)
        classes = np.unique(numbers)
        if len(classes) <= max_classes:
            nearest = classes[np.abs(predicted[:, None] - classes[None, :]).argmin(axis=1)]
            rounding = float(np.mean(nearest == y_score))
            one_hot = (y_fit[:, None] == classes[None, :]).astype(np.float64)
            chosen = classes[(x_score @ _fit(x_fit, one_hot, ridge)).argmax(axis=1)]
            classifier = float(np.mean(chosen == y_score))
            scores[name] = ProbeScore(name, "accuracy", max(rounding, classifier), r2, rounding, classifier,
                                      len(classes))  # fmt: skip
        else:
            scores[name] = ProbeScore(name, "r2", r2, r2, float("nan"), float("nan"), len(classes))
    return scores

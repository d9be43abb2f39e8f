"""When two functions' values agree: one rule for the harness, distillation, plots and `occam diff`."""

from __future__ import annotations

import numpy as np

__all__ = ["agreement", "agrees"]


def agrees(first: np.ndarray, second: np.ndarray, *, kind: str, tolerance: float) -> np.ndarray:
    """Where two functions' values agree: equal, or for reals within `tolerance` (equal
    infinities and two NaNs agree too)."""
    if kind != "real":
        return np.asarray(first) == np.asarray(second)
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (np.abs(first - second) <= tolerance) | (first == second) | (np.isnan(first) & np.isnan(second))


def agreement(first: np.ndarray, second: np.ndarray, *, kind: str, tolerance: float) -> float | None:
    """The share of points where two functions agree (see `agrees`); None for no points."""
    if len(first) == 0:
        return None
    return float(np.mean(agrees(first, second, kind=kind, tolerance=tolerance)))

"""Soft semantics: the value of one template over soft children, from the primitive table's
torch and soft columns (the package docstring says how non-finite values are treated)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from dsl import Apply, Expr, Hole, Lit, Var

__all__ = ["finite_gradient", "soft_value"]

@functools.cache
def finite_gradient(T: Any) -> Callable[[Any], Any]:
    """The identity, whose backward replaces non-finite gradient elements by 0 (module docstring)."""

    class FiniteGradient(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return T.where(T.isfinite(grad), grad, T.zeros((), dtype=grad.dtype))

    return FiniteGradient.apply


def soft_value(node: Expr, children: Iterator[Any], inputs: dict[str, Any]) -> Any:
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
    args = [soft_value(arg, children, inputs) for arg in node.args]
    if row.soft is not None:
        return row.soft(torch, *args)
    return row.torch(torch, *args)


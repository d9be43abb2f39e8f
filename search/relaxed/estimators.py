"""How the relaxed searcher turns each slot's logits into the choice probabilities of one step:
the estimator of the gradient through a discrete choice (`SearchConfig.relaxed_estimator`).

- "softmax": softmax(logits / τ), the plain relaxation (the forward pass mixes alternatives);
- "gumbel": softmax((logits + g) / τ) with g standard Gumbel noise drawn afresh every step (the
  Gumbel-softmax of Jang et al. and Maddison et al. 2017): a sample of the choice, relaxed;
- "straight-through": forward one-hot at the argmax of the logits — the tree computes exactly the
  program that discretization reads — and backward the gradient of softmax(logits / τ);
- "gumbel-st": the straight-through estimator of the Gumbel sample (one-hot at the argmax of
  logits + g forward, the Gumbel-softmax's gradient backward).

The noise comes from the caller's torch.Generator, seeded from `relaxed_seed`: the same seed
gives the same noise, hence the same result. Discretization always reads the argmax of the
noise-free logits.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ESTIMATORS", "choice_probabilities", "noise_generator"]

from ..config import RELAXED_ESTIMATORS as ESTIMATORS  # validated there, one list

NOISE_STREAM = 0x6A09E667  # added to relaxed_seed: the noise's stream is not the initial logits' one
_UNIFORM_FLOOR = 1e-20  # U in [floor, 1 − floor]: −log(−log U) stays finite


def noise_generator(torch: Any, seed: int) -> Any:
    """The generator of the Gumbel noise for a search seeded with `seed`."""
    return torch.Generator().manual_seed(seed + NOISE_STREAM)


def choice_probabilities(torch: Any, logits: list[Any], temperature: float, estimator: str,
                         generator: Any) -> list[Any]:  # fmt: skip
    """Per slot, (R, A) probabilities from (R, A) logits under `estimator` (module docstring).
    The straight-through forward is exactly one-hot: hard + (soft − soft.detach()) adds an exact 0."""
    noisy = estimator in ("gumbel", "gumbel-st")
    probabilities = []
    for slot_logits in logits:
        scores = slot_logits + _gumbel(torch, slot_logits.shape, generator) if noisy else slot_logits
        soft = torch.softmax(scores / temperature, dim=1)
        if estimator in ("straight-through", "gumbel-st"):
            hard = torch.nn.functional.one_hot(scores.detach().argmax(dim=1), soft.shape[1]).to(soft.dtype)
            soft = hard + (soft - soft.detach())
        probabilities.append(soft)
    return probabilities


def _gumbel(torch: Any, shape: Any, generator: Any) -> Any:
    uniform = torch.rand(shape, generator=generator, dtype=torch.float64)
    uniform = torch.clamp(uniform, _UNIFORM_FLOOR, 1 - _UNIFORM_FLOOR)
    return -torch.log(-torch.log(uniform))

"""Random finite-width MLPs sampled layer by layer, for checking the NNGP limit against them.

A hidden unit's pre-activations at the m points are h_k = A w_k + b_k, with A the previous layer's
activations (m, N_prev), w_k ~ N(0, σ_w²/N_prev I) and b_k ~ N(0, σ_b²) independent across units.
Given A, the units' columns are therefore iid N(0, σ_b² + σ_w² A Aᵀ / N_prev): sampling each layer
from that (m × m) Gaussian is sampling the network's weights exactly, in distribution, at a cost of
m × width per layer instead of width² — which is what makes thousands of width-2000 networks cheap.
"""

import numpy as np
from scipy.special import ndtr

FUNCTIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "gelu": lambda z: z * ndtr(z),
    "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2)),
}


def _erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(z)


FUNCTIONS["erf"] = _erf


def _gaussian_columns(covariance: np.ndarray, columns: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, m, columns) samples, each column N(0, covariance[d]) — a symmetric root handles rank loss."""
    values, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.maximum(values, 0.0))[:, None, :]
    noise = rng.standard_normal((covariance.shape[0], covariance.shape[1], columns))
    return root @ noise


def network_outputs(
    x: np.ndarray, *, draws: int, width: int, depth: int, activation: str, sigma_w: float, sigma_b: float,
    seed: int, chunk: int = 1000,
) -> np.ndarray:  # fmt: skip
    """(draws, m) outputs of `draws` independent random MLPs (`depth` hidden layers of `width`) at x."""
    rng = np.random.default_rng(seed)
    function = FUNCTIONS[activation]
    points = np.asarray(x, dtype=np.float64)
    outputs = []
    for start in range(0, draws, chunk):
        count = min(chunk, draws - start)
        previous = np.broadcast_to(points, (count, *points.shape))
        for layer in range(depth + 1):
            covariance = sigma_b**2 + sigma_w**2 * previous @ previous.transpose(0, 2, 1) / previous.shape[2]
            pre_activation = _gaussian_columns(covariance, width if layer < depth else 1, rng)
            previous = function(pre_activation)
        outputs.append(pre_activation[:, :, 0])
    return np.concatenate(outputs)

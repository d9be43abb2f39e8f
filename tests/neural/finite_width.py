"""Random finite-width MLPs sampled layer by layer, for checking the NNGP limit against them.

A hidden unit's pre-activations at the m points are h_k = A w_k + b_k, with A the previous layer's
activations (m, N_prev), w_k ~ N(0, σ_w²/N_prev I) and b_k ~ N(0, σ_b²) independent across units.
Given A, the units' columns are therefore iid N(0, σ_b² + σ_w² A Aᵀ / N_prev): sampling each layer
from that (m × m) Gaussian is sampling the network's weights exactly, in distribution, at a cost of
m × width per layer instead of width² — which is what makes thousands of width-2000 networks cheap.
float32: its rounding (~1e-7 relative) is far below the Monte-Carlo errors these samples are used with.
"""

import numpy as np
import torch

FUNCTIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "erf": torch.erf,
    "gelu": torch.nn.functional.gelu,  # exact x·Φ(x)
    "sigmoid": torch.sigmoid,
}


def _gaussian_columns(covariance: torch.Tensor, columns: int, generator: torch.Generator) -> torch.Tensor:
    """(draws, m, columns) samples, each column N(0, covariance[d]); a symmetric root handles rank loss."""
    values, vectors = torch.linalg.eigh(covariance)
    root = vectors * values.clamp(min=0).sqrt()[:, None, :]
    noise = torch.randn(
        covariance.shape[0], covariance.shape[1], columns, generator=generator, dtype=torch.float32
    )
    return root @ noise


@torch.no_grad()
def network_outputs(
    x: np.ndarray, *, draws: int, width: int, depth: int, activation: str, sigma_w: float, sigma_b: float,
    seed: int, chunk: int = 1000,
) -> np.ndarray:  # fmt: skip
    """(draws, m) outputs of `draws` independent random MLPs (`depth` hidden layers of `width`) at x."""
    generator = torch.Generator().manual_seed(seed)
    function = FUNCTIONS[activation]
    points = torch.as_tensor(np.asarray(x, dtype=np.float32))
    outputs = []
    for start in range(0, draws, chunk):
        count = min(chunk, draws - start)
        previous = points.expand(count, *points.shape)
        for layer in range(depth + 1):
            covariance = sigma_b**2 + sigma_w**2 * previous @ previous.transpose(1, 2) / previous.shape[2]
            pre_activation = _gaussian_columns(covariance, width if layer < depth else 1, generator)
            previous = function(pre_activation)
        outputs.append(pre_activation[:, :, 0])
    return torch.cat(outputs).double().numpy()

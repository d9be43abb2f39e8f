"""The Bayesian prior of an infinitely wide MLP over Boolean functions: its NNGP kernel and the
orthant probabilities of that Gaussian process, by expectation propagation (EP).

Where it sits: issue 12 sets the functions SGD finds (P_SGD(f | S)) against the prior of randomly
initialised networks restricted to a training set S (P_B(f | S)). Rejection sampling of random
networks gives P_B(f | S) only while |S| is small; beyond, Mingard et al. (JMLR 2021, "Is SGD a
Bayesian sampler? Well, almost") and Valle-Pérez et al. (ICLR 2019) used the Gaussian-process
limit of the network and EP, as here.

The maths, once:

- An MLP with `depth` hidden layers, weights N(0, σ_w²/fan_in) and biases N(0, σ_b²) has, as the
  widths go to infinity, a Gaussian-process output g with kernel K^(depth) (Neal 1996; Lee et al.
  2018; Matthews et al. 2018): K^(0)(x, x') = σ_b² + σ_w² x·x'/n and
  K^(l+1)(x, x') = σ_b² + σ_w² E[φ(u) φ(v)], (u, v) ~ N(0, K^(l) restricted to {x, x'}).
- The network's Boolean function is the thresholded output, f(x) = [g(x) > 0]; so the prior
  probability of a function f on points X is an orthant probability,
  P_B(f) = P(s_i g_i > 0 for all i), g ~ N(0, K_XX), s_i = +1 where f(x_i) = 1 and −1 where 0.
- EP approximates this with the Heaviside ("noise-free probit") likelihood ∏ H(s_i g_i); its
  marginal-likelihood estimate is the orthant probability.
- Mingard et al.'s P_B(f | S): for a function f on S ∪ E consistent with the labels on S,
  P_B(f | S) = P_B(f on S ∪ E) / P_B(f on S) — both orthant probabilities, each by EP.

Their code (guillefix/nn-pacbayes, GP_prob/GP_prob_gpy2.py) ran GPy's EP with GPy's Bernoulli
likelihood, whose default link is the probit Φ(g), not the Heaviside step: P(y = 1 | g) = Φ(g) =
P(g + ε > 0) with ε ~ N(0, 1), i.e. the orthant probability of K + I instead of K. Here
`noise_variance` is that added variance: 0 (the default) is the network's own prior, 1 is the
set-up of that code on an unscaled kernel (its `kernel_mult` defaults to 1).

How good EP is here (measured; tests/neural/test_nngp.py). NNGP kernels of Boolean inputs are
strongly correlated (0.95–1 between points of {0,1}^7 for depth 2 relu), where EP is known to be
least accurate for orthant probabilities (Cunningham, Hennig & Lacoste-Julien 2011). On {0,1}^3 it is
within 0.06 bits of the exact orthant for 90 % of the 256 functions (Spearman 0.999), but 0.27 bits
low on the two constant functions; on {0,1}^7 it puts the constant function at 2^-2.07 ≈ 0.24
where exact sampling of the GP gives 0.356 (0.58 bits low; Valle-Pérez et al. sampled ≈ 0.365 for
width-40 networks), so EP's P_B(f) over all functions sums to less than 1. The conditional P_B(f | S),
a ratio of two EP estimates, is better: within ~0.1 bits of exact GP sampling for |S| = 8, 16 and
8 held-out points, and of rejection-sampled width-512 networks on {0,1}^3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
import scipy.linalg
from scipy.special import log_ndtr, ndtr

ACTIVATIONS = ("relu", "erf", "tanh", "gelu", "sigmoid")
Activation = Callable[[np.ndarray], np.ndarray]

# Quadrature for activations without a closed form: the trapezoid rule on a uniform grid of the
# standard normal variable over [-9, 9] (tail mass ~1e-19). For smooth integrands that decay like a
# Gaussian it converges geometrically (Trefethen & Weideman 2014), and unlike Gauss–Hermite it keeps
# resolving a saturating φ(σ t) whose transition narrows as 1/σ: measured against erf's closed form,
# relative error < 1e-14 for pre-activation variances up to 10, ~1e-7 at 50 and ~1e-3 at 200, where 48
# Gauss–Hermite nodes are off by 1e-5 already at variance 2.5 and by 1e-2 at 10.
QUADRATURE_NODES = 201
QUADRATURE_HALF_WIDTH = 9.0

# Jitter on the kernel's diagonal, relative to each entry (K_ii ↦ K_ii (1 + jitter), so that the result
# stays invariant under rescaling the points' outputs): it keeps K positive definite when it is
# rank-deficient, and changes orthant probabilities by ~1e-9.
DEFAULT_JITTER = 1e-9

# Sweeps between recomputing EP's posterior covariance from the sites by a Cholesky factorisation (in
# between: exact rank-one updates, O(m²) per site, whose rounding errors this bounds).
RECOMPUTE_EVERY = 8


def nngp_kernel(
    x: np.ndarray, *, depth: int, activation: str = "relu", sigma_w: float = 1.0, sigma_b: float = 1.0
) -> np.ndarray:
    """The (m, m) NNGP kernel of the output pre-activation of an MLP at the m rows of `x` (m, n).

    `depth` is the number of hidden layers (0: a linear model). relu uses the arc-cosine closed form
    (Cho & Saul 2009), erf Williams's (1997) closed form, tanh, gelu (exact, x·Φ(x)) and sigmoid a
    quadrature of the 2-D Gaussian expectation, vectorised over the distinct pairs. float64.
    """
    points = np.asarray(x, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"x must be a 2-D array (points, inputs), got shape {points.shape}")
    if depth < 0:
        raise ValueError(f"depth must be ≥ 0 (the number of hidden layers), got {depth}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
    kernel = sigma_b**2 + sigma_w**2 * (points @ points.T) / points.shape[1]
    for _ in range(depth):
        kernel = sigma_b**2 + sigma_w**2 * _activation_covariance(kernel, activation)
    return (kernel + kernel.T) / 2


def _activation_covariance(kernel: np.ndarray, activation: str) -> np.ndarray:
    """E[φ(u) φ(v)] for every pair, (u, v) ~ N(0, [[K_ii, K_ij], [K_ij, K_jj]])."""
    variance = np.diag(kernel)
    scale = np.sqrt(np.outer(variance, variance))
    if activation == "relu":
        with np.errstate(invalid="ignore", divide="ignore"):
            cosine = np.where(scale > 0, kernel / scale, 0.0)
        cosine = np.clip(cosine, -1.0, 1.0)
        angle = np.arccos(cosine)
        return scale * (np.sin(angle) + (np.pi - angle) * cosine) / (2 * np.pi)
    if activation == "erf":
        denominator = np.sqrt(np.outer(1 + 2 * variance, 1 + 2 * variance))
        return (2 / np.pi) * np.arcsin(np.clip(2 * kernel / denominator, -1.0, 1.0))
    return _quadrature_covariance(kernel, _elementwise(activation))


def _elementwise(activation: str) -> Activation:
    """φ for the activations that go through quadrature (gelu is the exact x·Φ(x), as torch's default)."""
    return {
        "tanh": np.tanh,
        "gelu": lambda z: z * ndtr(z),
        "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2)),
    }[activation]


def _quadrature_covariance(kernel: np.ndarray, function: Activation) -> np.ndarray:
    """E[φ(u)φ(v)] by quadrature: u = σ_i a, v = σ_j (ρ a + √(1−ρ²) b), a, b iid N(0, 1).

    E depends on a pair only through (K_ii, K_jj, K_ij): it is computed once per distinct triple (on a
    Boolean domain there are O(n³) of them, not m²), and φ(σ_i a) only through (i, node a), so
    E = Σ_a w_a φ(σ_i t_a) Σ_b w_b φ(σ_j(ρ t_a + √(1−ρ²) t_b)), in blocks of triples to bound memory.
    """
    nodes = np.linspace(-QUADRATURE_HALF_WIDTH, QUADRATURE_HALF_WIDTH, QUADRATURE_NODES)
    weights = np.exp(-(nodes**2) / 2)
    weights /= weights.sum()
    m = kernel.shape[0]
    first, second = np.triu_indices(m)
    variance = np.diag(kernel)
    low = np.minimum(variance[first], variance[second])  # E is symmetric in (u, v): order each pair
    high = np.maximum(variance[first], variance[second])
    triples = np.stack([low, high, kernel[first, second]], axis=1)
    unique, inverse = np.unique(np.round(triples, 12), axis=0, return_inverse=True)
    sigma_u, sigma_v = np.sqrt(np.maximum(unique[:, 0], 0.0)), np.sqrt(np.maximum(unique[:, 1], 0.0))
    scale = sigma_u * sigma_v
    rho = np.clip(np.divide(unique[:, 2], scale, out=np.zeros_like(scale), where=scale > 0), -1.0, 1.0)
    orthogonal = np.sqrt(1 - rho**2)
    values = np.empty(len(unique))
    block = max(1, 4_000_000 // QUADRATURE_NODES**2)
    for start in range(0, len(unique), block):
        rows = slice(start, start + block)
        outer = function(sigma_u[rows, None] * nodes[None, :]) * weights  # (block, q)
        v = sigma_v[rows, None, None] * (
            rho[rows, None, None] * nodes[None, :, None] + orthogonal[rows, None, None] * nodes[None, None, :]
        )  # (block, q_a, q_b)
        values[rows] = np.sum(outer * (function(v) @ weights), axis=1)
    result = np.empty_like(kernel)
    result[first, second] = values[inverse.ravel()]
    result[second, first] = values[inverse.ravel()]
    return result


@dataclass(frozen=True)
class OrthantResult:
    """EP's estimate of log P(s_i g_i > 0 ∀i), g ~ N(0, K), and how it got there."""

    log_probability: float  # natural log
    iterations: int  # sweeps over all sites until the site parameters stopped moving
    converged: bool


def ep_orthant(
    kernel: np.ndarray,
    signs: np.ndarray,
    *,
    noise_variance: float = 0.0,
    jitter: float = DEFAULT_JITTER,
    max_iterations: int = 200,
    tolerance: float = 1e-9,
    damping: float = 1.0,
) -> OrthantResult:
    """EP (sequential site updates, Rasmussen & Williams 2006, §3.6) for the likelihood ∏ H(s_i g_i).

    `signs` (m,) in {−1, +1} (or 0/1, read as 0 ↦ −1). `noise_variance` > 0 makes the likelihood the
    probit Φ(s_i g_i / √noise_variance) (see the module docstring). `damping` ∈ (0, 1] is the share
    of each new site value taken (1: undamped; the Heaviside likelihood is log-concave, so site
    precisions stay ≥ 0 and plain sequential EP converges in practice). Converged when no site
    parameter moved by more than `tolerance` (relative) in a sweep; Σ is recomputed from the sites
    every `RECOMPUTE_EVERY` sweeps, so that rank-one update errors do not accumulate, and at the end.
    """
    covariance, sign = _validated(kernel, signs, jitter)
    if not 0 < damping <= 1:
        raise ValueError(f"damping must be in (0, 1], got {damping}")
    m = covariance.shape[0]
    site_precision = np.zeros(m)
    site_shift = np.zeros(m)  # ν̃: site precision × site mean
    sigma, mean = covariance.copy(), np.zeros(m)
    iterations, converged = 0, False
    for iterations in range(1, max_iterations + 1):
        old_precision, old_shift = site_precision.copy(), site_shift.copy()
        _ep_sweep_kernel(sigma, mean, site_precision, site_shift, sign, noise_variance, damping)
        if iterations % RECOMPUTE_EVERY == 0:
            sigma, mean, _ = _posterior(covariance, site_precision, site_shift)
        moved = max(_relative_change(site_precision, old_precision), _relative_change(site_shift, old_shift))
        if moved < tolerance:
            converged = True
            break
    log_probability = _log_marginal(covariance, sign, site_precision, site_shift, noise_variance)
    return OrthantResult(log_probability=log_probability, iterations=iterations, converged=converged)


def log_orthant_probability(
    kernel: np.ndarray,
    signs: np.ndarray,
    *,
    noise_variance: float = 0.0,
    jitter: float = DEFAULT_JITTER,
    max_iterations: int = 200,
    tolerance: float = 1e-9,
    damping: float = 1.0,
) -> float:
    """ln P(s_i g_i > 0 ∀i), g ~ N(0, kernel), by EP (`ep_orthant`); raises if EP did not converge."""
    result = ep_orthant(
        kernel, signs, noise_variance=noise_variance, jitter=jitter, max_iterations=max_iterations,
        tolerance=tolerance, damping=damping,
    )  # fmt: skip
    if not result.converged:
        raise ValueError(
            f"EP did not converge in {max_iterations} sweeps (tolerance {tolerance}); "
            "try damping < 1 or more iterations"
        )
    return result.log_probability


def _validated(kernel: np.ndarray, signs: np.ndarray, jitter: float) -> tuple[np.ndarray, np.ndarray]:
    covariance = np.asarray(kernel, dtype=np.float64)
    sign = np.asarray(signs)
    if covariance.ndim != 2 or covariance.shape[0] != covariance.shape[1]:
        raise ValueError(f"kernel must be a square matrix, got shape {covariance.shape}")
    if sign.shape != (covariance.shape[0],):
        raise ValueError(f"signs must have shape ({covariance.shape[0]},), got {sign.shape}")
    if not np.all(np.isin(sign, (-1, 0, 1))):
        raise ValueError("signs must be ±1 (or 0/1 outputs, 0 read as −1)")
    diagonal = np.diag(covariance)
    if np.any(diagonal <= 0):
        # g_i = 0 surely: the network's output there is exactly 0, thresholded to 0 — not a
        # Gaussian orthant (e.g. the all-zero input with σ_b = 0).
        raise ValueError(f"kernel has a zero variance at point(s) {np.flatnonzero(diagonal <= 0).tolist()}")
    covariance = (covariance + covariance.T) / 2 + np.diag(jitter * diagonal)
    return covariance, np.where(sign > 0, 1.0, -1.0)


def _mills_ratio(z: float) -> float:
    """N(z)/Φ(z), accurate for every z: Φ by erfc (relative accuracy kept in the lower tail) down to
    z = −30, the asymptotic series −z·(1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸)⁻¹ below (error < 1e-12 there)."""
    if z > -30.0:
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) / (0.5 * math.erfc(-z / math.sqrt(2.0)))
    w = 1.0 / (z * z)
    return -z / (1.0 - w + 3.0 * w * w - 15.0 * w**3 + 105.0 * w**4)


def _tilted_moments(sign: float, mean: float, variance: float, noise_variance: float) -> tuple[float, float]:
    """Mean and variance of N(g | mean, variance) · Φ(sign · g / √noise) (a step at noise 0)."""
    spread = math.sqrt(noise_variance + variance)
    z = sign * mean / spread
    ratio = _mills_ratio_kernel(z)
    hat_mean = mean + sign * variance * ratio / spread
    hat_variance = variance - variance**2 * ratio * (z + ratio) / spread**2
    return hat_mean, max(hat_variance, 1e-300)


def _ep_sweep(
    sigma: np.ndarray, mean: np.ndarray, site_precision: np.ndarray, site_shift: np.ndarray,
    sign: np.ndarray, noise_variance: float, damping: float,
) -> None:  # fmt: skip
    """One sequential EP sweep over all sites, in place: cavity, tilted moments, damped site update,
    then the exact rank-one update of Σ (R&W eq. 3.70) and μ = Σ ν̃. O(m²) per site."""
    m = len(mean)
    for i in range(m):
        cavity_precision = 1 / sigma[i, i] - site_precision[i]
        cavity_shift = mean[i] / sigma[i, i] - site_shift[i]
        cavity_variance = 1 / cavity_precision
        cavity_mean = cavity_shift * cavity_variance
        hat_mean, hat_variance = _tilted_moments_kernel(sign[i], cavity_mean, cavity_variance, noise_variance)
        new_precision = max(1 / hat_variance - cavity_precision, 0.0)
        new_shift = hat_mean / hat_variance - cavity_shift
        new_precision = damping * new_precision + (1 - damping) * site_precision[i]
        new_shift = damping * new_shift + (1 - damping) * site_shift[i]
        delta = new_precision - site_precision[i]
        site_precision[i], site_shift[i] = new_precision, new_shift
        column = sigma[:, i].copy()
        scale = delta / (1 + delta * column[i])
        for row in range(m):
            for col in range(m):
                sigma[row, col] -= scale * column[row] * column[col]
        for row in range(m):
            total = 0.0
            for col in range(m):
                total += sigma[row, col] * site_shift[col]
            mean[row] = total


def _posterior(
    covariance: np.ndarray, site_precision: np.ndarray, site_shift: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Σ = K − K S^½ B⁻¹ S^½ K and μ = Σ ν̃, with B = I + S^½ K S^½ (no K⁻¹ needed); also chol(B).

    By the compiled loops of `_posterior_loops`: at m ≤ a few hundred they take milliseconds and no
    BLAS threads, which on a shared, oversubscribed machine made the same LAPACK/BLAS calls 10–100×
    slower (measured: 50 ms for one 128 × 128 Cholesky with 2 OpenBLAS threads on 2 busy cores).
    """
    sigma, cholesky = _posterior_kernel(covariance, np.sqrt(site_precision))
    return sigma, sigma @ site_shift, cholesky


def _posterior_loops(covariance: np.ndarray, root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Σ, L) with L = chol(B), B = I + diag(root) K diag(root), Σ = K − VᵀV, V = L⁻¹ diag(root) K."""
    m = len(root)
    cholesky = np.zeros((m, m))
    for j in range(m):
        total = 1.0 + root[j] * covariance[j, j] * root[j]
        for k in range(j):
            total -= cholesky[j, k] ** 2
        cholesky[j, j] = math.sqrt(total)
        for i in range(j + 1, m):
            total = root[i] * covariance[i, j] * root[j]
            for k in range(j):
                total -= cholesky[i, k] * cholesky[j, k]
            cholesky[i, j] = total / cholesky[j, j]
    v = np.empty((m, m))
    for i in range(m):
        for col in range(m):
            v[i, col] = root[i] * covariance[i, col]
        for k in range(i):
            factor = cholesky[i, k]
            for col in range(m):
                v[i, col] -= factor * v[k, col]
        for col in range(m):
            v[i, col] /= cholesky[i, i]
    sigma = covariance.copy()
    for k in range(m):
        for a in range(m):
            factor = v[k, a]
            for b in range(m):
                sigma[a, b] -= factor * v[k, b]
    return sigma, cholesky


def _posterior_reference(covariance: np.ndarray, site_precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_posterior_loops` by scipy's LAPACK: the reference the compiled loops are tested against."""
    root = np.sqrt(site_precision)
    b = np.eye(len(root)) + root[:, None] * covariance * root[None, :]
    cholesky = scipy.linalg.cholesky(b, lower=True)
    v = scipy.linalg.solve_triangular(cholesky, root[:, None] * covariance, lower=True)
    return covariance - v.T @ v, cholesky


# The compiled kernels (the plain functions above are their references, tests/neural/test_nngp.py).
_mills_ratio_kernel = numba.njit(_mills_ratio, cache=True)
_tilted_moments_kernel = numba.njit(_tilted_moments, cache=True)
_ep_sweep_kernel = numba.njit(_ep_sweep, cache=True)
_posterior_kernel = numba.njit(_posterior_loops, cache=True)


def _log_marginal(
    covariance: np.ndarray, sign: np.ndarray, site_precision: np.ndarray, site_shift: np.ndarray,
    noise_variance: float,
) -> float:  # fmt: skip
    """EP's ln Z, written so that no 1/τ̃ appears (sites may have zero precision).

    ln Z_EP = Σ ln Ẑ_i + ln N(μ̃ | 0, K + Σ̃) − Σ ln N(μ_−i | μ̃_i, σ²_−i + 1/τ̃_i); expanding,
    = Σ ln Φ(z_i) + ½ Σ ln(1 + τ̃_i σ²_−i) − ½ ln|B| + ½ ν̃ᵀΣν̃
      + Σ (τ̃_i μ²_−i − 2 μ_−i ν̃_i − ν̃_i² σ²_−i) / (2 (1 + τ̃_i σ²_−i)).
    """
    sigma, mean, cholesky = _posterior(covariance, site_precision, site_shift)
    diagonal = np.diag(sigma)
    cavity_precision = 1 / diagonal - site_precision
    cavity_variance = 1 / cavity_precision
    cavity_mean = (mean / diagonal - site_shift) * cavity_variance
    z = sign * cavity_mean / np.sqrt(noise_variance + cavity_variance)
    ratio = 1 + site_precision * cavity_variance
    quadratic = (
        site_precision * cavity_mean**2 - 2 * cavity_mean * site_shift - site_shift**2 * cavity_variance
    )
    return float(
        np.sum(log_ndtr(z)) + 0.5 * np.sum(np.log(ratio)) - np.sum(np.log(np.diag(cholesky)))
        + 0.5 * site_shift @ sigma @ site_shift + np.sum(quadratic / (2 * ratio))
    )  # fmt: skip


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.max(np.abs(new - old) / np.maximum(1.0, np.abs(new))))


def log2_prior_probability(
    x: np.ndarray,
    outputs: np.ndarray,
    *,
    depth: int,
    activation: str = "relu",
    sigma_w: float = 1.0,
    sigma_b: float = 1.0,
    noise_variance: float = 0.0,
) -> float:
    """log2 P_B(f): the NNGP prior probability that the network's thresholded output is `outputs`
    (m,) 0/1 at the m rows of `x`, by EP. From a canonical packed table row t (issue 12's uint64
    format), outputs[p] = (t[p // 64] >> (p % 64)) & 1 for the points p in binary-counting order."""
    kernel = nngp_kernel(x, depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    return log_orthant_probability(
        kernel, _signs(outputs, len(kernel)), noise_variance=noise_variance
    ) / math.log(2)


def log2_conditional_probability(
    x: np.ndarray,
    outputs: np.ndarray,
    train: np.ndarray,
    *,
    depth: int,
    activation: str = "relu",
    sigma_w: float = 1.0,
    sigma_b: float = 1.0,
    noise_variance: float = 0.0,
) -> float:
    """log2 P_B(f | S) = log2 P_B(f on all rows of x) − log2 P_B(f on S) (Mingard et al. 2021).

    `outputs` (m,) 0/1 is f at every row of `x`; `train` is S, as row indices or an (m,) bool mask.
    """
    kernel = nngp_kernel(x, depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    return log2_conditional_from_kernel(kernel, outputs, train, noise_variance=noise_variance)


def log2_conditional_from_kernel(
    kernel: np.ndarray, outputs: np.ndarray, train: np.ndarray, *, noise_variance: float = 0.0
) -> float:
    """`log2_conditional_probability` on a kernel already computed (many functions, one kernel).

    The denominator P_B(f on S) is the same for every f that agrees with the labels on S: a caller
    scoring many completions can compute it once with `log_orthant_probability` and subtract.
    """
    signs = _signs(outputs, len(kernel))
    index = np.asarray(train)
    if index.dtype == bool:
        if index.shape != signs.shape:
            raise ValueError(f"a train mask must have shape {signs.shape}, got {index.shape}")
        index = np.flatnonzero(index)
    if index.size == 0:
        raise ValueError("the training set S is empty")
    if len(np.unique(index)) != index.size or index.min() < 0 or index.max() >= len(signs):
        raise ValueError(f"train must hold distinct row indices in 0..{len(signs) - 1}")
    whole = log_orthant_probability(kernel, signs, noise_variance=noise_variance)
    part = log_orthant_probability(kernel[np.ix_(index, index)], signs[index], noise_variance=noise_variance)
    return (whole - part) / math.log(2)


def _signs(outputs: np.ndarray, m: int) -> np.ndarray:
    values = np.asarray(outputs)
    if values.shape != (m,) or not np.all(np.isin(values, (0, 1))):
        raise ValueError(f"outputs must be an ({m},) array of 0/1, got shape {values.shape}")
    return np.where(values.astype(bool), 1.0, -1.0)

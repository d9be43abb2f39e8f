"""Random networks on the Boolean cube: the function each computes, sampled in batches, and the
function each reaches when trained to fit a subset of the cube.

Where it sits: `occam bias` (compare/bias) counts how often each Boolean function is met among
networks with random parameters (the parameter-function map's prior P(f), Valle-Pérez et al.
2019) and among networks trained by SGD to fit a training set S (P_SGD(f | S), Mingard et al.
2021). This module produces those functions as canonical packed truth tables ("tables"): uint64
arrays of shape (N, W), W = max(1, ⌈2^n / 64⌉), bit p % 64 of word p // 64 the output at point
p, points in binary-counting order with x1 the most significant bit, unused bits zero.

The prior (`MLPPrior`) is Valle-Pérez et al.'s, as their code (guillefix/nn-pacbayes) sets it
up: weights N(0, σ_w² / fan_in), biases N(0, σ_b²), inputs 0/1 ("{0:07b}" of the point's index,
or ±1 when centred), output > 0 ↦ 1. For a zero-bias network on 0/1 inputs their code leaves
out the point 0 (its output is exactly 0 there, for any weights); here it stays in the table,
mapped to 0, as Mingard et al. 2019's theorem counts it (P(T = t) = 2^-n for t = 0 … 2^n − 1).

Batched: `samples` networks are `batch`-sized tensors, never a Python loop over networks. A
batch is drawn from its own generator, seeded by (seed, batch index) alone, so a run resumed at
`start_batch = k` yields what the uninterrupted run yields from batch k on; the tables depend on
(prior, seed, batch), and `batch` is part of a run's identity.

Numerics (measured with compare/benchmarks/prior_bench.py):
- float32 parameters and activations: half the memory traffic and twice the SIMD width of
  float64. The sign of the output is all that is kept, and float32 flips it only where |output|
  is within float32 rounding of 0; `precision_disagreement` measures it against float64 on the
  same parameters: 1 of 200,000 tables differs for the Valle-Pérez set-up (0 of 100,000 without
  biases; 2 of 50,000 for a chaotic 7→40×5→1 tanh net, σ_w = 4) — far below the sampling noise
  of any count made from these tables.
- Normal draws are numpy's float64 ziggurat on an SFC64 bit generator, called from a numba
  kernel and rounded to float32: at 2,001 draws per 7→40→40→1 network the draws cost about a
  third of the time, and this was the cheapest exact sampler measured here (3.7 ns a draw;
  numpy's own float32 call 9 ns, torch.randn 13–16 ns).
- `threads` (default 1) and denormal flushing are set around each batch and restored, as
  neural/train.py does, for the same reasons (one thread gives the fewest CPU-seconds on these
  2-core machines and bitwise reproducibility).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numba
import numpy as np
import torch
import torch.nn.functional as F

from dsl import TrainingError

from .train import _torch_settings

__all__ = [
    "ACTIVATIONS", "ENCODINGS", "FitResult", "MLPPrior", "PriorError", "boolean_inputs", "chunk_size",
    "draw_parameters", "fit_tables", "forward", "network_outputs", "pack_outputs", "precision_disagreement",
    "sample_batch", "sample_tables", "unpack_tables",
]  # fmt: skip


class PriorError(TrainingError, ValueError):
    """An invalid prior or fitting request (a ValueError too, for callers outside occam)."""


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "erf": torch.erf,  # the activation with a closed-form NNGP kernel (Williams 1997)
    "elu": F.elu,
    "selu": F.selu,
    "silu": F.silu,
    "softplus": F.softplus,
    "linear": lambda x: x,  # a deep linear network: the perceptron's functions, re-parametrized
}
# The same functions, overwriting their argument: the sampler's activations are temporaries.
INPLACE_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_, "tanh": torch.tanh_, "sigmoid": torch.sigmoid_, "erf": torch.erf_, "selu": torch.selu_,
    "elu": lambda x: F.elu(x, inplace=True), "silu": lambda x: F.silu(x, inplace=True), "linear": lambda x: x,
}  # fmt: skip
ENCODINGS = {"01": (0.0, 1.0), "pm1": (-1.0, 1.0)}  # the input value of a 0 bit and of a 1 bit
ENCODING_NAMES = {"01": "{0,1}", "pm1": "{-1,+1}"}
FORWARD_CHUNK = 64  # networks per forward pass on 128 points (see chunk_size)
DEFAULT_BATCH = 2048  # networks per batch: the fastest of 256 … 4096 (compare/benchmarks/prior_bench.py)
MAX_INPUTS = 20  # 2^20 points per network is already 4 MB of outputs per network in float32


@dataclass(frozen=True)
class MLPPrior:
    """A distribution over fully connected networks with one output, on n Boolean inputs."""

    inputs: int = 7  # n; the tables have 2^n points
    widths: tuple[int, ...] = (40, 40)  # hidden widths; () is a perceptron
    activation: str = "relu"  # a key of ACTIVATIONS, between layers (never after the output)
    sigma_w: float = 1.0  # weights N(0, sigma_w² / fan_in)
    sigma_b: float = 1.0  # biases N(0, sigma_b²); 0.0 is a zero-bias network (no bias drawn)
    encoding: str = "01"  # inputs as 0/1 ("01") or −1/+1 ("pm1")

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(self.widths))
        for problem in _problems(self):
            raise PriorError(f"invalid network prior: {problem}")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, inputs first, the one output last."""
        return (self.inputs, *self.widths, 1)

    @property
    def parameter_count(self) -> int:
        sizes = self.sizes
        weights = sum(a * b for a, b in itertools.pairwise(sizes))
        return weights + (sum(sizes[1:]) if self.sigma_b > 0 else 0)

    @property
    def points(self) -> int:
        return 2**self.inputs

    @property
    def name(self) -> str:
        """Short and readable, e.g. "relu 7-40-40-1 σw=1 σb=1 {0,1}"."""
        shape = "-".join(str(size) for size in self.sizes)
        kind = "perceptron" if not self.widths else self.activation
        return f"{kind} {shape} σw={self.sigma_w:g} σb={self.sigma_b:g} {ENCODING_NAMES[self.encoding]}"


def _problems(prior: MLPPrior) -> Iterator[str]:
    n = prior.inputs
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_INPUTS:
        yield f"inputs = {n!r}; expected an integer from 1 to {MAX_INPUTS}"
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in prior.widths):
        yield f"widths = {prior.widths!r}; expected positive integers (or () for a perceptron)"
    if prior.activation not in ACTIVATIONS:
        yield f"activation = {prior.activation!r}; expected one of {', '.join(ACTIVATIONS)}"
    for name in ("sigma_w", "sigma_b"):
        value = getattr(prior, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            yield f"{name} = {value!r}; expected a finite number ≥ 0"
    if isinstance(prior.sigma_w, (int, float)) and prior.sigma_w == 0:
        yield "sigma_w = 0; expected > 0 (zero weights make every network a constant)"
    if prior.encoding not in ENCODINGS:
        yield f"encoding = {prior.encoding!r}; expected one of {', '.join(ENCODINGS)}"


# --- the cube and tables -------------------------------------------------------------------------


def boolean_inputs(n: int, encoding: str = "01", *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """All 2^n points as rows (2^n, n), in binary-counting order: x_i = (p >> (n − i)) & 1, x1
    the most significant bit; a 0 bit is 0 or −1 as `encoding` says, a 1 bit is 1."""
    if encoding not in ENCODINGS:
        raise PriorError(f"encoding = {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    low, high = ENCODINGS[encoding]
    points = torch.arange(2**n)
    bits = (points[:, None] >> torch.arange(n - 1, -1, -1)) & 1
    return torch.where(bits.bool(), high, low).to(dtype)


def pack_outputs(ones: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, L) bool → (N, W) uint64 canonical tables: bit p % 64 of word p // 64 is column p,
    unused bits of the last word zero — search.space.pack's layout, written again here only
    because neural/ does not import search (a test checks the two agree)."""
    ones = ones.numpy() if isinstance(ones, torch.Tensor) else np.asarray(ones)
    if ones.ndim != 2:
        raise PriorError(f"pack_outputs takes a (N, L) array; got shape {ones.shape}")
    count, length = ones.shape
    words = max(1, -(-length // 64))
    padded = np.zeros((count, words * 64), dtype=bool)
    padded[:, :length] = ones
    packed = np.packbits(padded, axis=1, bitorder="little")  # byte j, bit i = column 8j + i
    return packed.view("<u8").astype(np.uint64, copy=False)


def unpack_tables(tables: np.ndarray, points: int) -> np.ndarray:
    """(N, W) uint64 tables → (N, points) bool, the inverse of `pack_outputs`."""
    tables = np.ascontiguousarray(tables, dtype=np.uint64)
    little = tables.astype("<u8", copy=False).view(np.uint8)
    return np.unpackbits(little, axis=1, bitorder="little")[:, :points].astype(bool)


# --- sampling ------------------------------------------------------------------------------------


Parameters = list[tuple[torch.Tensor, torch.Tensor | None]]  # per layer: weights, biases (None: zero-bias)


def batch_generator(seed: int, index: int) -> np.random.Generator:
    """The generator of batch `index` of the run seeded `seed`: a function of the two alone."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise PriorError(f"seed = {seed!r}; expected an integer ≥ 0")
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence((seed, index))))


def draw_parameters(prior: MLPPrior, count: int, generator: np.random.Generator) -> Parameters:
    """`count` networks' parameters, float32: per layer, weights (count, fan_out, fan_in) (torch's
    nn.Linear layout, one matrix per network) and biases (count, fan_out), or None for a
    zero-bias prior. Drawn tensor after tensor in that order (weights then biases, layer by
    layer), each entry a standard normal times σ_w / √fan_in (weights) or σ_b (biases)."""
    shapes, scales = [], []
    for fan_in, fan_out in itertools.pairwise(prior.sizes):
        shapes.append((count, fan_out, fan_in))
        scales.append(prior.sigma_w / math.sqrt(fan_in))
        if prior.sigma_b > 0:
            shapes.append((count, fan_out))
            scales.append(prior.sigma_b)
    ends = np.cumsum([math.prod(shape) for shape in shapes])
    buffer = np.empty(int(ends[-1]), dtype=np.float32)
    _fill_normals(generator, buffer, ends, np.asarray(scales, dtype=np.float64))
    flat, tensors = torch.from_numpy(buffer), []
    for shape, start, end in zip(shapes, [0, *ends[:-1]], ends, strict=True):
        tensors.append(flat[int(start) : int(end)].view(shape))
    if prior.sigma_b > 0:
        return list(zip(tensors[::2], tensors[1::2], strict=True))
    return [(weights, None) for weights in tensors]


def _fill_normals_kernel(generator, out, ends, scales):  # pragma: no cover - compiled by numba
    """out[i] = scales[s] · N(0, 1) for i in segment s (segments end at `ends`), drawn in order.
    numba's Generator.standard_normal is numpy's float64 ziggurat on the same bit generator,
    without numpy's per-call overhead: 2.5× faster than numpy's own float32 draw here."""
    start = 0
    for segment in range(len(ends)):
        scale = scales[segment]
        for i in range(start, ends[segment]):
            out[i] = generator.standard_normal() * scale
        start = ends[segment]


_fill_normals = numba.njit(_fill_normals_kernel, cache=True)


def network_outputs(prior: MLPPrior, parameters: Parameters, inputs: torch.Tensor, *,
                    chunk: int | None = None) -> torch.Tensor:  # fmt: skip
    """The networks' outputs (count, points) on `inputs` (points, n), in the inputs' dtype
    (parameters are cast to it), `chunk` networks at a time (default `chunk_size(points)`)."""
    count = parameters[0][0].shape[0]
    outputs = torch.empty(count, inputs.shape[0], dtype=inputs.dtype)
    for start, part in _chunks(parameters, chunk or chunk_size(inputs.shape[0])):
        outputs[start : start + len(part[0][0])] = forward(prior, part, inputs)
    return outputs


def chunk_size(points: int) -> int:
    """Networks per forward pass: 64 on 128 points, fewer on more points. At 64 the 7→40→40→1
    activations (64 × 40 × 128 floats, 1.3 MB) stay in cache, and the pass costs 40 % less per
    network than at 1,024 (measured); on 2^20 points one network's are already 160 MB."""
    return max(1, FORWARD_CHUNK * 128 // points)


def _chunks(parameters: Parameters, chunk: int) -> Iterator[tuple[int, Parameters]]:
    count = parameters[0][0].shape[0]
    for start in range(0, count, chunk):
        yield start, [(weights[start : start + chunk], None if biases is None else biases[start : start + chunk])
                      for weights, biases in parameters]  # fmt: skip


def forward(
    prior: MLPPrior, parameters: Parameters, inputs: torch.Tensor, *, inplace: bool = True
) -> torch.Tensor:
    """Outputs (count, points) of the networks in `parameters` on `inputs` (points, n).

    Activations are kept transposed, (count, units, points): the first layer is then one GEMM
    for all networks, (count · width, n) @ (n, points), whose result is already laid out for
    the next layer's batched product W (units_out, units_in) @ h (units_in, points) — 10–15 %
    faster here than (count, points, units), which needs a strided view between the two.
    `inplace` overwrites the temporaries (sampling); training needs them kept for backward."""
    dtype = inputs.dtype
    (first, first_bias), *rest = [(w.to(dtype), None if b is None else b.to(dtype)) for w, b in parameters]
    count, fan_out, fan_in = first.shape
    hidden = (first.reshape(count * fan_out, fan_in) @ inputs.T).view(count, fan_out, -1)
    if first_bias is not None:
        hidden = hidden.add_(first_bias[:, :, None]) if inplace else hidden + first_bias[:, :, None]
    activation = INPLACE_ACTIVATIONS.get(prior.activation) if inplace else None
    activation = activation or ACTIVATIONS[prior.activation]
    for weights, biases in rest:
        hidden = activation(hidden)
        if biases is None:
            hidden = torch.bmm(weights, hidden)
        else:
            hidden = torch.baddbmm(biases[:, :, None], weights, hidden)
    return hidden[:, 0, :]


def sample_batch(prior: MLPPrior, count: int, generator: np.random.Generator) -> np.ndarray:
    """`count` networks drawn from `generator`: their tables (count, W)."""
    parameters = draw_parameters(prior, count, generator)
    inputs = boolean_inputs(prior.inputs, prior.encoding)
    tables = np.empty((count, max(1, -(-prior.points // 64))), dtype=np.uint64)
    # packed chunk by chunk: never (count, 2^n) floats at once
    for start, part in _chunks(parameters, chunk_size(prior.points)):
        tables[start : start + len(part[0][0])] = pack_outputs(forward(prior, part, inputs) > 0)
    return tables


def sample_tables(prior: MLPPrior, samples: int, *, seed: int, batch: int = DEFAULT_BATCH, start_batch: int = 0,
                  threads: int = 1) -> Iterator[np.ndarray]:  # fmt: skip
    """The tables of `samples` random networks, batch after batch: (b, W) uint64 arrays, b =
    `batch` but for a shorter last batch. Batch k comes from `batch_generator(seed, k)` alone:
    `start_batch = k` skips the first k batches (k · batch networks) and yields the rest exactly
    as the full run does. torch's threads and denormal flushing are set for each batch's
    computation only, so the caller's own torch code between batches runs under its settings."""
    for name, value, least in (("samples", samples, 0), ("batch", batch, 1), ("start_batch", start_batch, 0),
                               ("threads", threads, 1)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise PriorError(f"{name} = {value!r}; expected an integer ≥ {least}")
    batch_generator(seed, 0)  # validates the seed before the first batch is asked for
    batches = -(-samples // batch)
    for index in range(start_batch, batches):
        count = min(batch, samples - index * batch)
        with _torch_settings(threads, True), torch.no_grad():
            tables = sample_batch(prior, count, batch_generator(seed, index))
        yield tables


def precision_disagreement(prior: MLPPrior, count: int, *, seed: int) -> dict[str, float]:
    """How much float32 changes the tables against float64, on the same `count` networks (the
    parameters drawn in float32, as the sampler draws them, then cast): the share of tables and
    of (network, point) outputs whose sign differs."""
    inputs = boolean_inputs(prior.inputs, prior.encoding, dtype=torch.float64)
    with _torch_settings(1, True), torch.no_grad():
        parameters = draw_parameters(prior, count, batch_generator(seed, 0))
        single = network_outputs(prior, parameters, inputs.float()) > 0
        double = network_outputs(prior, parameters, inputs) > 0
    differ = single != double
    return {"networks": count, "tables_differ": float(differ.any(1).double().mean()),
            "outputs_differ": float(differ.double().mean())}  # fmt: skip


# --- training to fit -----------------------------------------------------------------------------

OPTIMIZERS = ("adam", "sgd")
FIT_LOSSES = ("cross_entropy", "mse")
FIT_DTYPES = {"float32": torch.float32, "float64": torch.float64}
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's and Keras's defaults


@dataclass
class FitResult:
    """Networks trained from their own random initializations until each classifies all of S."""

    tables: (
        np.ndarray
    )  # (nets, W) uint64: each net's function on all 2^n points when it first fit S (zeros if never)
    converged: np.ndarray  # (nets,) bool: fit S within max_steps
    steps: (
        np.ndarray
    )  # (nets,) int64: optimizer updates before it fit S (0: its initialization fits); max_steps if not

    @property
    def converged_share(self) -> float:
        return float(self.converged.mean()) if len(self.converged) else 0.0


def fit_tables(prior: MLPPrior, train_points: np.ndarray, train_labels: np.ndarray, nets: int, *, seed: int,
               optimizer: str = "adam", lr: float = 1e-3, max_steps: int = 10_000, batch_size: int | None = None,
               loss: str = "cross_entropy", dtype: str = "float32", threads: int = 1) -> FitResult:  # fmt: skip
    """Train `nets` networks of `prior`, each from its own initialization drawn from the prior
    (the same draw as `sample_tables(prior, nets, seed=seed, batch=nets)`'s first batch), on the
    points `train_points` (indices into the cube) with labels `train_labels` (bool), and record
    each net's function on all points at the first step at which it classifies all of S
    correctly (output > 0 ↦ 1); from then on it is dropped from training.

    All nets train at once as batched parameters: the loss is the sum over nets of each net's
    mean loss over its (mini)batch, so each net's gradient is its own, and Adam is elementwise.
    `batch_size` None is full-batch gradient descent; otherwise each net draws its own
    permutation of S each epoch (the epoch's last short batch dropped). `loss` "cross_entropy"
    is the binary cross-entropy of the output as a logit; "mse" is (output − (±1))². `dtype`
    "float64" trains in double precision (the initialization is the same float32 draw, cast).
    Mingard et al. 2021's own settings are discussed in compare/benchmarks/prior_bench.py."""
    points = np.asarray(train_points, dtype=np.int64).reshape(-1)
    labels = np.asarray(train_labels).reshape(-1)
    for problem in _fit_problems(
        prior, points, labels, nets, optimizer, lr, max_steps, batch_size, loss, threads
    ):
        raise PriorError(f"invalid fitting request: {problem}")
    if dtype not in FIT_DTYPES:
        raise PriorError(
            f"invalid fitting request: dtype = {dtype!r}; expected one of {', '.join(FIT_DTYPES)}"
        )
    with _torch_settings(threads, True):
        return _fit(prior, points, labels.astype(bool), nets, seed=seed, optimizer=optimizer, lr=lr,
                    max_steps=max_steps, batch_size=batch_size, loss=loss, dtype=FIT_DTYPES[dtype])  # fmt: skip


def _fit_problems(
    prior, points, labels, nets, optimizer, lr, max_steps, batch_size, loss, threads
) -> Iterator[str]:
    if len(points) == 0 or len(points) != len(labels):
        yield f"{len(points)} training points and {len(labels)} labels; expected as many, at least one"
    elif points.min() < 0 or points.max() >= prior.points:
        yield f"training points from {points.min()} to {points.max()}; expected indices 0 … {prior.points - 1}"
    elif len(np.unique(points)) != len(points):
        yield "repeated training points; expected distinct indices"
    for name, value, least in (("nets", nets, 1), ("max_steps", max_steps, 0), ("threads", threads, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            yield f"{name} = {value!r}; expected an integer ≥ {least}"
    if optimizer not in OPTIMIZERS:
        yield f"optimizer = {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}"
    if loss not in FIT_LOSSES:
        yield f"loss = {loss!r}; expected one of {', '.join(FIT_LOSSES)}"
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        yield f"lr = {lr!r}; expected a positive number"
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        yield f"batch_size = {batch_size!r}; expected a positive integer or None"


def _fit(prior: MLPPrior, points: np.ndarray, labels: np.ndarray, nets: int, *, seed: int, optimizer: str,
         lr: float, max_steps: int, batch_size: int | None, loss: str, dtype: torch.dtype) -> FitResult:  # fmt: skip
    cube = boolean_inputs(prior.inputs, prior.encoding, dtype=dtype)
    inputs, targets = cube[torch.from_numpy(points)], torch.from_numpy(labels)
    signs = targets.to(dtype) * 2 - 1
    # Leaf tensors, one row per net: all weights, then all biases (if any).
    drawn = draw_parameters(prior, nets, batch_generator(seed, 0))
    leaves = [weights.to(dtype, copy=True) for weights, _ in drawn]
    leaves += [biases.to(dtype, copy=True) for _, biases in drawn if biases is not None]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in leaves]
    shuffler = torch.Generator().manual_seed(int(np.random.SeedSequence((seed, 1)).generate_state(1)[0]))

    tables = np.zeros((nets, max(1, -(-prior.points // 64))), dtype=np.uint64)
    converged = np.zeros(nets, dtype=bool)
    steps = np.full(nets, max_steps, dtype=np.int64)
    alive = np.arange(nets)  # the net behind each row of the leaves
    size = len(points)
    batch = None if batch_size is None or batch_size >= size else batch_size
    order, cursor = None, size
    for step in range(max_steps + 1):
        for p in leaves:
            p.requires_grad_(True)
        outputs = _train_forward(prior, leaves, inputs)  # (rows, |S|)
        fit = ((outputs > 0) == targets).all(1)
        if bool(fit.any()):
            fitted = fit.numpy()
            ids = alive[fitted]
            with torch.no_grad():
                rows = [p.detach()[fit] for p in leaves]
                tables[ids] = pack_outputs(_train_forward(prior, rows, cube) > 0)
            converged[ids], steps[ids] = True, step
        keep = ~fit
        if not bool(keep.any()) or step == max_steps:
            break
        if batch is None:
            chosen, chosen_signs = outputs[keep], signs.expand(int(keep.sum()), -1)
        else:
            if cursor + batch > size:  # a new epoch: each net its own permutation of S
                order = torch.argsort(torch.rand(len(alive), size, generator=shuffler), dim=1)
                cursor = 0
            assert order is not None
            index = order[:, cursor : cursor + batch]
            cursor += batch
            chosen, chosen_signs = outputs.gather(1, index)[keep], signs[index[keep]]
        per_point = _loss(chosen, chosen_signs, loss)
        gradients = torch.autograd.grad(per_point.mean(1).sum(), leaves)
        with torch.no_grad():
            leaves = [p.detach() for p in leaves]
            if not bool(keep.all()):  # drop the nets that fit (their updates would be wasted)
                leaves, gradients = [p[keep] for p in leaves], [g[keep] for g in gradients]
                moments = [(m[keep], v[keep]) for m, v in moments]
                order = None if order is None else order[keep]
                alive = alive[keep.numpy()]
            _update(leaves, gradients, moments, optimizer=optimizer, lr=lr, step=step + 1)
    return FitResult(tables=tables, converged=converged, steps=steps)


def _train_forward(prior: MLPPrior, leaves: list[torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """Outputs (rows, points) of the nets in `leaves` (all weights first, then all biases)."""
    layers = len(prior.sizes) - 1
    biases = leaves[layers:] if prior.sigma_b > 0 else [None] * layers
    return forward(prior, list(zip(leaves[:layers], biases, strict=True)), inputs, inplace=False)


def _loss(outputs: torch.Tensor, signs: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "cross_entropy":
        return F.softplus(-signs * outputs)  # = BCE-with-logits of the 0/1 label, stably
    return (outputs - signs) ** 2


def _update(leaves, gradients, moments, *, optimizer: str, lr: float, step: int) -> None:
    """One in-place update of every row: Adam (torch.optim.Adam's arithmetic, no weight decay;
    all live rows share the step count, as all nets start together) or plain SGD."""
    if optimizer == "sgd":
        for p, g in zip(leaves, gradients, strict=True):
            p.sub_(g, alpha=lr)
        return
    beta1, beta2 = ADAM_BETAS
    correction1, correction2 = 1 - beta1**step, 1 - beta2**step
    for p, g, (m, v) in zip(leaves, gradients, moments, strict=True):
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        denominator = (v.sqrt() / math.sqrt(correction2)).add_(ADAM_EPS)  # torch.optim.Adam's rounding
        p.addcdiv_(m, denominator, value=-lr / correction1)

"""The networks: an MLP and the one-layer transformer of Nanda et al. 2023.

Where it sits: `train.py` builds one of these from a `TrainConfig` and the task's `Encoding`
(encode.py), feeds it features (MLP) or tokens (transformer), and reads its outputs through the
encoding's head. Each model's `forward(inputs, targets=None)` returns `(outputs, loss)`; the loss
(cross-entropy or MSE, see `objective`) is None without targets. Initialization draws from an
explicit `seed`, on the CPU, so that a model is the same on every device.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ACTIVATIONS", "MLP", "MLPConfig", "Transformer", "TransformerConfig", "objective"]

ACTIVATIONS = {
    "relu": torch.relu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "square": torch.square,  # Gromov 2023: φ(z) = z²
}
LOSSES = ("cross_entropy", "mse")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def objective(outputs: torch.Tensor, targets: torch.Tensor, *, head: str, loss: str, dtype: torch.dtype) -> torch.Tensor:
    """The mean loss of `outputs` (n, k) against `targets` (encode.OutputEncoding.targets),
    computed in `dtype` (Nanda et al. compute the cross-entropy in float64).

    - classes: cross-entropy of the logits, or MSE against one-hot targets averaged over all
      n·k entries (Gromov's `nn.MSELoss()` on one-hot labels); extra outputs beyond the classes
      (the transformer's `=` logit) take part as in Nanda et al.'s code, as a class never seen.
    - bits: binary cross-entropy of each output as a logit, or MSE against ±1;
    - regression: MSE of output 0 against the standardized target (cross-entropy is refused
      when the config is validated).
    """
    outputs = outputs.to(dtype)
    if head == "classes":
        if loss == "cross_entropy":
            return F.cross_entropy(outputs, targets)
        return F.mse_loss(outputs, F.one_hot(targets, outputs.shape[-1]).to(dtype))
    targets = targets.to(dtype)
    if head == "bits":
        if loss == "cross_entropy":
            return F.binary_cross_entropy_with_logits(outputs, targets)
        return F.mse_loss(outputs, 2 * targets - 1)
    return F.mse_loss(outputs[:, 0], targets)


@dataclass(frozen=True)
class MLPConfig:
    n_inputs: int
    n_outputs: int
    depth: int = 2  # linear layers: 2 is one hidden layer, Gromov's f(x) = W2 φ(W1 x)
    width: int = 256  # units of each hidden layer
    activation: str = "relu"  # a key of ACTIVATIONS
    bias: bool = True
    init: str = "torch"  # "torch": U(±init_scale/√fan_in), PyTorch's default at init_scale 1; "normal": N(0, init_scale²)
    init_scale: float = 1.0
    head: str = "classes"  # encode.OutputEncoding.head: how `objective` reads the outputs
    loss: str = "cross_entropy"
    loss_dtype: str = "float32"

    @property
    def parameter_count(self) -> int:
        """The network's parameter count, computed without building it (to refuse absurd sizes)."""
        if self.depth == 1:
            return self.n_inputs * self.n_outputs + self.bias * self.n_outputs
        width, hidden_pairs = self.width, self.depth - 2
        weights = self.n_inputs * width + hidden_pairs * width * width + width * self.n_outputs
        return weights + self.bias * ((self.depth - 1) * width + self.n_outputs)


class MLP(nn.Module):
    """depth linear layers with `activation` between them; inputs (n, n_inputs) float, outputs
    (n, n_outputs)."""

    input_kind = "features"

    def __init__(self, config: MLPConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        sizes = [config.n_inputs] + [config.width] * (config.depth - 1) + [config.n_outputs]
        self.layers = nn.ModuleList(nn.Linear(m, n, bias=config.bias) for m, n in itertools.pairwise(sizes))
        self.activation = ACTIVATIONS[config.activation]
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for layer in self.layers:
                _initialize(layer.weight, config.init, config.init_scale, layer.in_features, generator)
                if layer.bias is not None:
                    _initialize(layer.bias, config.init, config.init_scale, layer.in_features, generator)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None):
        x = inputs
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        outputs = self.layers[-1](x)
        if targets is None:
            return outputs, None
        config = self.config
        return outputs, objective(outputs, targets, head=config.head, loss=config.loss, dtype=DTYPES[config.loss_dtype])


def _initialize(tensor: torch.Tensor, init: str, scale: float, fan_in: int, generator: torch.Generator) -> None:
    if init == "normal":
        tensor.normal_(0.0, scale, generator=generator)
    else:
        bound = scale / math.sqrt(fan_in)
        tensor.uniform_(-bound, bound, generator=generator)


@dataclass(frozen=True)
class TransformerConfig:
    vocabulary: int  # p + 1 token ids: the operand values 0 … p − 1, and `=` = p
    n_outputs: int  # logits read out (unembedded) at the last position
    d_model: int = 128
    n_heads: int = 4
    d_head: int = 32
    d_mlp: int = 512
    n_context: int = 3  # the sequence (a, b, =)
    activation: str = "relu"
    head: str = "classes"
    loss: str = "cross_entropy"
    loss_dtype: str = "float32"

    @property
    def parameter_count(self) -> int:
        """The network's parameter count, computed without building it (to refuse absurd sizes)."""
        d, attention, m = self.d_model, self.n_heads * self.d_head, self.d_mlp
        embeddings = d * self.vocabulary + self.n_context * d + d * self.n_outputs
        return embeddings + 4 * attention * d + 2 * m * d + m + d


class Transformer(nn.Module):
    """Nanda et al. 2023's transformer (their `transformers.py`): token and learned positional
    embeddings, one block of attention and an MLP, each added to the residual stream, no
    LayerNorm, read-out (unembedding) at the last position. Parameters have their shapes and
    initial scales (N(0, 1/d_model), the unembedding N(0, 1/vocabulary), MLP biases 0).

    With one layer, only the last position's residual reaches the read-out, so only its query,
    attention row and MLP are computed: the same outputs as their causal computation at that
    position, for a third of the work. Inputs: int64 tokens (n, n_context); outputs (n, n_outputs).
    """

    input_kind = "tokens"

    def __init__(self, config: TransformerConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        d, h, dh, m = config.d_model, config.n_heads, config.d_head, config.d_mlp
        generator = torch.Generator().manual_seed(seed)

        def normal(*shape: int, std: float) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=generator) * std)

        self.W_E = normal(d, config.vocabulary, std=d**-0.5)
        self.W_pos = normal(config.n_context, d, std=d**-0.5)
        self.W_K = normal(h, dh, d, std=d**-0.5)
        self.W_Q = normal(h, dh, d, std=d**-0.5)
        self.W_V = normal(h, dh, d, std=d**-0.5)
        self.W_O = normal(d, h * dh, std=d**-0.5)
        self.W_in = normal(m, d, std=d**-0.5)
        self.b_in = nn.Parameter(torch.zeros(m))
        self.W_out = normal(d, m, std=d**-0.5)
        self.b_out = nn.Parameter(torch.zeros(d))
        self.W_U = normal(d, config.n_outputs, std=config.vocabulary**-0.5)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor | None = None):
        config = self.config
        residual = self.W_E.T[tokens] + self.W_pos[: tokens.shape[1]]  # (n, t, d)
        last = residual[:, -1]  # (n, d)
        keys = torch.einsum("hed,ntd->nhte", self.W_K, residual)
        values = torch.einsum("hed,ntd->nhte", self.W_V, residual)
        query = torch.einsum("hed,nd->nhe", self.W_Q, last)
        scores = torch.einsum("nhte,nhe->nht", keys, query) / math.sqrt(config.d_head)
        mixed = torch.einsum("nht,nhte->nhe", scores.softmax(dim=-1), values)  # (n, h, d_head)
        last = last + mixed.flatten(1) @ self.W_O.T
        hidden = self.activation(last @ self.W_in.T + self.b_in)
        last = last + hidden @ self.W_out.T + self.b_out
        outputs = last @ self.W_U
        if targets is None:
            return outputs, None
        return outputs, objective(outputs, targets, head=config.head, loss=config.loss, dtype=DTYPES[config.loss_dtype])

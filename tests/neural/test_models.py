"""The models: shapes, initialization, and the transformer against a plain causal reference."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neural import MLP, MLPConfig, Transformer, TransformerConfig
from neural.models import objective


def reference_transformer(model: Transformer, tokens: torch.Tensor) -> torch.Tensor:
    """Nanda et al.'s computation as written in their code: every position, causal mask, logits
    at every position; the read-out is the last."""
    config = model.config
    x = model.W_E[:, tokens].permute(1, 2, 0) + model.W_pos[: tokens.shape[1]]
    k = torch.einsum("ihd,bpd->biph", model.W_K, x)
    q = torch.einsum("ihd,bpd->biph", model.W_Q, x)
    v = torch.einsum("ihd,bpd->biph", model.W_V, x)
    scores = torch.einsum("biph,biqh->biqp", k, q)
    mask = torch.tril(torch.ones(tokens.shape[1], tokens.shape[1]))
    scores = torch.tril(scores) - 1e10 * (1 - mask)
    attention = F.softmax(scores / math.sqrt(config.d_head), dim=-1)
    z = torch.einsum("biph,biqp->biqh", v, attention)
    z = z.permute(0, 2, 1, 3).reshape(z.shape[0], z.shape[2], -1)
    x = x + torch.einsum("df,bqf->bqd", model.W_O, z)
    hidden = F.relu(torch.einsum("md,bpd->bpm", model.W_in, x) + model.b_in)
    x = x + torch.einsum("dm,bpm->bpd", model.W_out, hidden) + model.b_out
    return (x @ model.W_U)[:, -1]


def test_transformer_equals_the_causal_reference_at_the_last_position():
    config = TransformerConfig(vocabulary=12, n_outputs=12, d_model=32, n_heads=4, d_head=8, d_mlp=64)
    model = Transformer(config, seed=3)
    tokens = torch.tensor([[a, b, 11] for a in range(11) for b in range(11)])
    outputs, loss = model(tokens)
    assert outputs.shape == (121, 12) and loss is None
    torch.testing.assert_close(outputs, reference_transformer(model, tokens), rtol=1e-5, atol=1e-5)


def test_transformer_parameters_have_nanda_shapes_and_scales():
    config = TransformerConfig(vocabulary=114, n_outputs=114)
    model = Transformer(config, seed=0)
    shapes = {name: tuple(parameter.shape) for name, parameter in model.named_parameters()}
    assert shapes == {
        "W_E": (128, 114), "W_pos": (3, 128), "W_K": (4, 32, 128), "W_Q": (4, 32, 128), "W_V": (4, 32, 128),
        "W_O": (128, 128), "W_in": (512, 128), "b_in": (512,), "W_out": (128, 512), "b_out": (128,), "W_U": (128, 114),
    }  # fmt: skip
    assert model.W_in.std().item() == pytest.approx(128**-0.5, rel=0.05)
    assert model.W_U.std().item() == pytest.approx(114**-0.5, rel=0.05)
    assert model.b_in.abs().sum().item() == 0.0


def test_mlp_layers_and_bias():
    config = MLPConfig(n_inputs=10, n_outputs=3, depth=3, width=7, bias=False)
    model = MLP(config, seed=0)
    assert [tuple(layer.weight.shape) for layer in model.layers] == [(7, 10), (7, 7), (3, 7)]
    assert all(layer.bias is None for layer in model.layers)
    assert sum(p.numel() for p in model.parameters()) == 7 * 10 + 7 * 7 + 3 * 7


def test_square_activation_is_gromov_network():
    config = MLPConfig(n_inputs=4, n_outputs=2, depth=2, width=5, activation="square", bias=False)
    model = MLP(config, seed=1)
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    w1, w2 = model.layers[0].weight, model.layers[1].weight
    torch.testing.assert_close(model(x)[0], (x @ w1.T) ** 2 @ w2.T)


@pytest.mark.parametrize("init, scale", [("normal", 0.05), ("torch", 1.0), ("torch", 0.1)])
def test_initialization_scale(init, scale):
    model = MLP(MLPConfig(n_inputs=400, n_outputs=400, depth=2, width=400, init=init, init_scale=scale), seed=0)
    std = model.layers[0].weight.std().item()
    expected = scale if init == "normal" else scale / math.sqrt(400) / math.sqrt(3)  # U(±b) has std b/√3
    assert std == pytest.approx(expected, rel=0.05)


def test_same_seed_same_weights_different_seed_different():
    config = MLPConfig(n_inputs=5, n_outputs=2)
    first, again, other = MLP(config, seed=4), MLP(config, seed=4), MLP(config, seed=5)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), again.parameters()))
    assert not torch.equal(first.layers[0].weight, other.layers[0].weight)


def test_forward_returns_the_loss_with_targets():
    model = MLP(MLPConfig(n_inputs=3, n_outputs=4, loss="mse"), seed=0)
    x, targets = torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])
    outputs, loss = model(x, targets)
    torch.testing.assert_close(loss, F.mse_loss(outputs, F.one_hot(targets, 4).float()))


def test_objective_kinds():
    outputs = torch.tensor([[2.0, -1.0], [-0.5, 0.5]])
    bits = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    bce = objective(outputs, bits, head="bits", loss="cross_entropy", dtype=torch.float64)
    assert bce.dtype == torch.float64
    assert float(bce) == pytest.approx(float(F.binary_cross_entropy_with_logits(outputs.double(), bits.double())))
    mse = objective(outputs, bits, head="bits", loss="mse", dtype=torch.float32)
    assert float(mse) == pytest.approx(float(((outputs - (2 * bits - 1)) ** 2).mean()))
    regression = objective(outputs, torch.tensor([1.0, 0.0]), head="regression", loss="mse", dtype=torch.float32)
    assert float(regression) == pytest.approx(((2.0 - 1.0) ** 2 + 0.5**2) / 2)
    cross_entropy = objective(outputs, torch.tensor([0, 1]), head="classes", loss="cross_entropy", dtype=torch.float64)
    expected = -np.mean([np.log(np.exp(2) / (np.exp(2) + np.exp(-1))), np.log(np.exp(0.5) / (np.exp(0.5) + np.exp(-0.5)))])
    assert float(cross_entropy) == pytest.approx(expected)

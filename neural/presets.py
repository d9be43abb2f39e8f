"""Presets: published training set-ups, with the papers' numbers, and defaults for other tasks.

Where it sits: `occam train SOURCE --preset NAME` takes the preset's `TrainConfig` and trains it
on SOURCE's data — the task is the single source of truth, a preset never re-splits it. A
preset may name the built-in task it was published on (`Preset.task`), which `occam train
--preset NAME` alone uses. Without a preset, `default_preset(task)` picks one by the task's
types.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dsl import Task, TrainingError
from dsl.errors import did_you_mean

from .encode import encoding_for
from .train import TrainConfig

__all__ = ["PRESETS", "Preset", "default_preset", "get_preset"]


@dataclass(frozen=True)
class Preset:
    name: str
    config: TrainConfig
    task: str | None  # the built-in task of the published set-up, if any
    doc: str  # what it reproduces, and from where


# Gromov's group's code (d-doshi/Grokking, utils/models.py `fcn`, the MLP of Gromov 2023 and its
# sequels) draws both layers from N(0, σ²) with σ = √0.25 / (2·width)^(1/3): 0.05 at width 500.
_GROMOV_WIDTH = 500
_GROMOV_INIT = 0.25**0.5 / (2 * _GROMOV_WIDTH) ** (1 / 3)

_NANDA = {"model": "transformer", "optimizer": "adamw", "betas": (0.9, 0.98), "weight_decay": 1.0, "warmup_steps": 10,
          "loss": "cross_entropy", "loss_dtype": "float64"}

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "gromov",
            TrainConfig(model="mlp", depth=2, width=_GROMOV_WIDTH, activation="square", bias=False, init="normal",
                        init_scale=_GROMOV_INIT, optimizer="adamw", lr=5e-3, betas=(0.9, 0.98), weight_decay=0.0,
                        loss="mse", steps=1500, preset="gromov"),
            "mod_add_97",
            "Gromov 2023 (arXiv 2301.02679): f(x) = W2 (W1 x)², no biases, x = one-hot(a) ⊕ one-hot(b), MSE "
            "against one-hot targets, width 500, full-batch AdamW lr 5e-3 (betas 0.9, 0.98 as the group's "
            "code), no weight decay; init N(0, 0.05²) as the group's code",
        ),
        Preset(
            "nanda",
            TrainConfig(d_model=128, n_heads=4, d_head=32, d_mlp=512, lr=1e-3, steps=40_000, trace_points=60,
                        device="auto", preset="nanda", **_NANDA),
            "mod_add_113",
            "Nanda et al. 2023 (arXiv 2301.05217, their code): one-layer transformer, d_model 128, 4 heads of 32, "
            "d_mlp 512, ReLU, no LayerNorm, tokens (a, b, =), full-batch AdamW lr 1e-3, betas (0.9, 0.98), weight "
            "decay 1, warm-up min(step/10, 1), cross-entropy in float64, 40,000 epochs; CUDA when present",
        ),
        Preset(
            "nanda-mini",
            TrainConfig(d_model=64, n_heads=4, d_head=16, d_mlp=256, lr=3e-3, steps=1500, preset="nanda-mini",
                        **_NANDA),
            "mod_add_53",
            "Nanda et al.'s recipe scaled for a CPU: p = 53 with 50% train, d_model 64 (4 heads of 16), d_mlp 256, "
            "lr 3e-3, weight decay 1, 1,500 epochs",
        ),
        Preset(
            "boolean",
            TrainConfig(model="mlp", depth=3, width=128, activation="relu", lr=3e-3, betas=(0.9, 0.98),
                        loss="cross_entropy", steps=2000, preset="boolean"),
            None,
            "a ReLU MLP classifier (two hidden layers of 128, full-batch AdamW lr 3e-3, cross-entropy, 2,000 steps): "
            "the default for Boolean and other discrete outputs",
        ),
        Preset(
            "real",
            TrainConfig(model="mlp", depth=3, width=64, activation="tanh", lr=3e-3, loss="mse", steps=5000,
                        preset="real"),
            None,
            "a tanh MLP regressor (two hidden layers of 64, full-batch AdamW lr 3e-3, MSE on standardized targets, "
            "5,000 steps): the default for real outputs and unbounded integers",
        ),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called `name`."""
    if name not in PRESETS:
        raise TrainingError(f"no preset named `{name}`", expected="one of " + ", ".join(PRESETS),
                            hint=did_you_mean(name, PRESETS))  # fmt: skip
    return PRESETS[name]


def default_preset(task: Task) -> Preset:
    """`real` for a regressed output, `gromov` for two int inputs of one range with a class
    output (the modular-arithmetic shape), `boolean` otherwise."""
    encoding = encoding_for(task)
    if encoding.output.head == "regression":
        return PRESETS["real"]
    if encoding.token_vocabulary is not None and encoding.output.head == "classes":
        return PRESETS["gromov"]
    return PRESETS["boolean"]


def with_overrides(preset: Preset, **changes) -> TrainConfig:
    """The preset's config with the given fields changed (None values are left out)."""
    return replace(preset.config, **{key: value for key, value in changes.items() if value is not None})

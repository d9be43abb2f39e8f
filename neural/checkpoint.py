"""Checkpoints: a trained network as its state dict plus plain data (the training config, the
task's encoding, the seed and step), written atomically and read with `weights_only=True`.

Where it sits: `TrainResult.save` writes `checkpoint.pt` into a run's directory; compare/ (or a
user) rebuilds the network with `load_checkpoint` — the same config and encoding give the same
architecture, and the state dict the same weights, so the outputs are identical — and reads its
function on any points with `predict`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dsl import OccamError, Task, TrainingError

from .encode import Encoding
from .models import DTYPES
from .trace import write_atomically
from .train import TrainConfig, build_model, evaluate, model_inputs

__all__ = ["Checkpoint", "load_checkpoint", "predict", "save_checkpoint"]

FORMAT = "occam-checkpoint/1"


@dataclass
class Checkpoint:
    """A network rebuilt from a checkpoint, on the CPU, in evaluation mode."""

    model: torch.nn.Module
    config: TrainConfig
    encoding: Encoding
    task: str  # the task's name
    fingerprint: str  # dsl.Task.fingerprint of the task it was trained on
    seed: int
    step: int


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, *, config: TrainConfig, encoding: Encoding,
                    task: Task, seed: int, step: int) -> Path:  # fmt: skip
    """Write the checkpoint (tensors on the CPU; everything else plain data)."""
    payload = {
        "format": FORMAT,
        "state_dict": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
        "config": config.to_json(),
        "encoding": encoding.to_json(),
        "task": task.name,
        "fingerprint": task.fingerprint,
        "seed": seed,
        "step": step,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomically(path, lambda file: file.write(buffer.getbuffer()))
    return Path(path)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The network saved at `path` (a file, or a run directory holding `checkpoint.pt`)."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    expected = "a checkpoint written by occam train"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # whatever the file is (unpickling raises many kinds), it is not ours
        raise TrainingError(f"cannot read the checkpoint {path}: {error}", expected=expected) from None
    if not isinstance(payload, Mapping) or payload.get("format") != FORMAT:
        raise TrainingError(f"{path} is not an occam checkpoint", expected=f"format {FORMAT}")
    try:
        config = TrainConfig.from_json(payload["config"])
        encoding = Encoding.from_json(payload["encoding"])
        model = build_model(config, encoding, seed=0)  # the weights come from the state dict
        model = model.to(dtype=DTYPES[config.dtype])
        model.load_state_dict(payload["state_dict"])
        fields = (payload["task"], payload["fingerprint"], payload["seed"], payload["step"])
    except (KeyError, TypeError, ValueError, RuntimeError, OccamError) as error:
        raise TrainingError(f"the checkpoint {path} is damaged: {error}", expected=expected) from None
    model.eval()
    return Checkpoint(model, config, encoding, *fields)


def predict(checkpoint: Checkpoint, env: Mapping[str, np.ndarray]) -> np.ndarray:
    """The network's decoded outputs (task values) at the points of `env` (input name → values)."""
    inputs = model_inputs(checkpoint.model, checkpoint.encoding, env)
    if inputs.is_floating_point():
        inputs = inputs.to(DTYPES[checkpoint.config.dtype])
    return checkpoint.encoding.decode(evaluate(checkpoint.model, inputs).numpy())

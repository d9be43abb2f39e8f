"""Checkpoints: a trained network as its state dict plus plain data (the training config, the
task's encoding, the seed and step), written atomically and read with `weights_only=True`.

Where it sits: `TrainResult.save` writes `checkpoint.pt` into a run's directory; compare/ (or a
user) rebuilds the network with `load_checkpoint` — the same config and encoding give the same
architecture, and the state dict the same weights, so the outputs are identical — and reads its
function on any points with `predict`.

The payload carries the sha256 of everything else in it (the plain data, and each tensor's name,
dtype, shape and bytes): a checkpoint whose bytes were damaged or edited is refused, not loaded
as another network. A config read back is validated as a new one, size limits included, before
any of the network is allocated.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dsl import OccamError, Task, TrainingError

from .encode import HEADS, INPUT_KINDS, Encoding
from .models import DTYPES
from .trace import content_sha256, write_atomically
from .train import TrainConfig, build_model, evaluate, model_inputs

__all__ = ["Checkpoint", "load_checkpoint", "predict", "save_checkpoint"]

FORMAT = "occam-checkpoint/2"  # /2: with the sha256 of its content


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
    payload["sha256"] = _payload_sha256(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomically(path, lambda file: file.write(buffer.getbuffer()))
    return Path(path)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The network saved at `path` (a file, or a run directory holding `checkpoint.pt`). Raises
    TrainingError, naming the file and what is wrong, for a file that is unreadable, of another
    format, damaged (its content differs from its sha256) or describing a network over the size
    limits of `neural.train`."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    expected = "a checkpoint written by occam train"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # whatever the file is (unpickling raises many kinds), it is not ours
        raise TrainingError(f"cannot read the checkpoint {path}: {error}", expected=expected) from None
    if not isinstance(payload, Mapping) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, Mapping) else type(payload).__name__
        raise TrainingError(f"{path} is not an occam checkpoint (format {found!r})",
                            expected=f"format {FORMAT}; an earlier occam wrote /1, without sha256 (train it again)")  # fmt: skip
    try:
        if _payload_sha256(payload) != payload.get("sha256"):
            raise ValueError("its content does not match the sha256 stored in it (damaged or edited)")
        config = TrainConfig.from_json(payload["config"])
        encoding = Encoding.from_json(payload["encoding"])
        _check_encoding(encoding)
        model = build_model(config, encoding, seed=0)  # the weights come from the state dict; sizes checked first
        model = model.to(dtype=DTYPES[config.dtype])
        model.load_state_dict(payload["state_dict"])
        fields = (payload["task"], payload["fingerprint"], payload["seed"], payload["step"])
    except KeyError as error:
        raise TrainingError(f"the checkpoint {path} is damaged: missing {error}", expected=expected) from None
    except (TypeError, ValueError, AttributeError, OverflowError, RuntimeError, OccamError) as error:
        reason = error.message if isinstance(error, OccamError) else error
        raise TrainingError(f"the checkpoint {path} is damaged: {reason}", expected=expected) from None
    model.eval()
    return Checkpoint(model, config, encoding, *fields)


def _payload_sha256(payload: Mapping) -> str:
    """The sha256 of a checkpoint's content: its plain data, then each tensor of the state dict
    (by name: the name, dtype and shape, then the bytes). Raises ValueError for what is not a
    state dict of tensors."""
    state = payload.get("state_dict")
    if not isinstance(state, Mapping) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise ValueError("its state_dict is not a mapping of names to tensors")
    digest = hashlib.sha256()
    plain = {key: value for key, value in payload.items() if key not in ("state_dict", "sha256")}
    digest.update(content_sha256(plain).encode())
    for name in sorted(state, key=str):
        tensor = state[name].detach().contiguous()
        digest.update(json.dumps([str(name), str(tensor.dtype), list(tensor.shape)]).encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _check_encoding(encoding: Encoding) -> None:
    """An encoding read back names kinds that exist (widths are bounded by the model's size limit)."""
    for input_ in encoding.inputs:
        if input_.kind not in INPUT_KINDS or not _positive(input_.width):
            raise ValueError(f"input `{input_.name}`: kind {input_.kind!r}, width {input_.width!r}; "
                             f"expected one of {', '.join(INPUT_KINDS)} and a positive width")  # fmt: skip
    output = encoding.output
    if output.head not in HEADS or not _positive(output.size):
        raise ValueError(f"output head {output.head!r}, size {output.size!r}; "
                         f"expected one of {', '.join(HEADS)} and a positive size")  # fmt: skip


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def predict(checkpoint: Checkpoint, env: Mapping[str, np.ndarray]) -> np.ndarray:
    """The network's decoded outputs (task values) at the points of `env` (input name → values)."""
    inputs = model_inputs(checkpoint.model, checkpoint.encoding, env)
    if inputs.is_floating_point():
        inputs = inputs.to(DTYPES[checkpoint.config.dtype])
    return checkpoint.encoding.decode(evaluate(checkpoint.model, inputs).numpy())

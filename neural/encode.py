"""Encoders from task types to network tensors, and decoders back: the one place where a task's
values meet numbers a network can read.

Where it sits: `train.py` asks `encoding_for(task)` how to feed the task's points to a network
and how to read its outputs; `trace.py` decodes outputs back to task values; checkpoints store
the encoding as plain data (`Encoding.to_json`), so a saved network can be read without the task.

Inputs (one block of features per input, concatenated in the task's input order):

| input                                   | kind       | features                                        |
|-----------------------------------------|------------|-------------------------------------------------|
| `bool`                                  | `sign`     | 1: −1 for false, +1 for true                    |
| `uN` / `iN` (bit-vector)                | `bits`     | N: the two's-complement bits, least significant first, as ±1 |
| `int` with a range of ≤ 1,024 values    | `one_hot`  | one per value (token id = value − low, for the transformer) |
| `real`; `int` unbounded or wider        | `standard` | 1: (value − mean) / std over the TRAINING points |

The output head follows the output type:

| output                                          | head         | network outputs | decoded by                |
|-------------------------------------------------|--------------|-----------------|---------------------------|
| `bool`, or an integer whose range (declared, or the bit-vector's whole type) has ≤ 2^16 values | `classes` | one per value, class index = value − low | argmax + low |
| a bit-vector wider than that (N > 16)           | `bits`       | N, one per bit  | bit k is set where output k > 0 |
| `real`; an `int` with no range or a wider one   | `regression` | 1, standardized with the training targets' mean/std | × std + mean; integers rounded to the nearest and clipped to the range |

Choices made here: bit-vector inputs are bits rather than one-hot, because their tasks are about
bits (Hacker's Delight); wide bit-vector outputs are N independent bits (a binary
cross-entropy, or MSE on ±1 targets) rather than 2^N classes or a regression, so that every bit
pattern stays reachable; unbounded integer outputs are regressed, and their accuracy counts the
rounded value.

The features of all a task's points are built at once, as float32: n_points × n_features × 4
bytes. More than MAX_FEATURE_BYTES (2 GiB) is refused, with the sizes, before anything is
allocated (a 10^6-row task with two one-hot inputs of 1,000 values would need 7.45 GiB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dsl import Task, TrainingError, Type

__all__ = ["MAX_CLASSES", "MAX_FEATURE_BYTES", "MAX_ONE_HOT", "Encoding", "InputEncoding", "OutputEncoding",
           "encoding_for"]

MAX_ONE_HOT = 1024  # an int input with more values than this is read as one standardized number
MAX_CLASSES = 2**16  # an integer output with more values than this is regressed (or read as bits)
MAX_FEATURE_BYTES = 2 * 2**30  # the float32 features of a task's points may take at most this much memory

INPUT_KINDS = ("sign", "bits", "one_hot", "standard")
HEADS = ("classes", "bits", "regression")


@dataclass(frozen=True)
class InputEncoding:
    """How one input becomes features."""

    name: str
    kind: str  # one of INPUT_KINDS
    width: int  # features this input contributes
    low: int = 0  # one_hot: the value of feature 0
    signed: bool = False  # bits: two's complement (iN)
    mean: float = 0.0  # standard: subtracted
    scale: float = 1.0  # standard: divided by (the training points' std; 1 where that is 0)
    integer: bool = False  # standard: an int input (decoded values are rounded)

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Features, shape (n, width), float32."""
        n = len(values)
        match self.kind:
            case "sign":
                return np.where(np.asarray(values, dtype=bool), 1.0, -1.0).astype(np.float32).reshape(n, 1)
            case "bits":
                return _bit_matrix(values, self.width) * 2.0 - 1.0
            case "one_hot":
                features = np.zeros((n, self.width), dtype=np.float32)
                features[np.arange(n), self.token_ids(values)] = 1.0
                return features
            case "standard":
                scaled = (np.asarray(values, dtype=np.float64) - self.mean) / self.scale
                return scaled.astype(np.float32).reshape(n, 1)
        raise ValueError(f"unknown input kind {self.kind!r}")

    @property
    def description(self) -> str:
        """The input as a reader knows it (its type) and how it is read: `a1: bool (±1)`."""
        match self.kind:
            case "sign":
                return f"{self.name}: bool (±1)"
            case "bits":
                return f"{self.name}: {'i' if self.signed else 'u'}{self.width} ({self.width} bits)"
            case "one_hot":
                return f"{self.name}: int {self.low}..{self.low + self.width - 1} (one-hot)"
            case "standard":
                return f"{self.name}: {'int' if self.integer else 'real'} (standardized)"
        raise ValueError(f"unknown input kind {self.kind!r}")

    def token_ids(self, values: np.ndarray) -> np.ndarray:
        """one_hot inputs: value − low, int64."""
        return np.asarray(values, dtype=np.int64) - self.low

    def decode(self, features: np.ndarray) -> np.ndarray:
        """The values that `features` (n, width) encode: the inverse of `encode`."""
        match self.kind:
            case "sign":
                return features[:, 0] > 0
            case "bits":
                return _from_bits(features > 0, self.signed)
            case "one_hot":
                return features.argmax(axis=1).astype(np.int64) + self.low
            case "standard":
                values = features[:, 0].astype(np.float64) * self.scale + self.mean
                return np.rint(values).astype(np.int64) if self.integer else values
        raise ValueError(f"unknown input kind {self.kind!r}")


@dataclass(frozen=True)
class OutputEncoding:
    """How the output becomes training targets, and network outputs become values again."""

    head: str  # one of HEADS
    size: int  # network outputs the head reads (a model may have more: see Encoding.decode)
    type: str  # the task's output type, by name
    low: int = 0  # classes: the value of class 0
    signed: bool = False  # bits: two's complement
    mean: float = 0.0  # regression: targets are (value − mean) / scale
    scale: float = 1.0
    integer: bool = False  # regression of an integer output: decoded values are rounded
    clip_low: float | None = None  # regression of an integer output: decoded values are clipped
    clip_high: float | None = None

    def targets(self, values: np.ndarray) -> np.ndarray:
        """Training targets for task `values`: class indices (int64, shape (n,)), bits (float32,
        (n, size), 0 or 1) or standardized values (float32, (n,))."""
        match self.head:
            case "classes":
                return np.asarray(values, dtype=np.int64) - self.low
            case "bits":
                return _bit_matrix(values, self.size)
            case "regression":
                return ((np.asarray(values, dtype=np.float64) - self.mean) / self.scale).astype(np.float32)
        raise ValueError(f"unknown head {self.head!r}")

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Task values (bool, int64 or float64; shape (n,)) from network outputs (n, ≥ size)."""
        outputs = np.asarray(outputs)[:, : self.size]
        match self.head:
            case "classes":
                index = outputs.argmax(axis=1)
                return index.astype(bool) if self.type == "bool" else index.astype(np.int64) + self.low
            case "bits":
                return _from_bits(outputs > 0, self.signed)
            case "regression":
                values = outputs[:, 0].astype(np.float64) * self.scale + self.mean
                if not self.integer:
                    return values
                low = -(2.0**63) if self.clip_low is None else self.clip_low
                high = 2.0**63 - 1024 if self.clip_high is None else self.clip_high  # the largest double < 2^63
                return np.clip(np.nan_to_num(np.rint(values), nan=0.0), low, high).astype(np.int64)
        raise ValueError(f"unknown head {self.head!r}")


@dataclass(frozen=True)
class Encoding:
    """A task's inputs and output as tensors: `features(env)` for an MLP, `tokens(env)` for the
    transformer, `output.targets(values)` for the loss, `decode(outputs)` for the trace."""

    inputs: tuple[InputEncoding, ...]
    output: OutputEncoding

    @property
    def n_features(self) -> int:
        return sum(input_.width for input_ in self.inputs)

    def feature_bytes(self, n_points: int) -> int:
        """The memory that `features` takes for `n_points` points."""
        return n_points * self.n_features * np.dtype(np.float32).itemsize

    def check_feature_size(self, n_points: int, *, what: str = "the points") -> None:
        """Raise a TrainingError if the features of `n_points` points would exceed MAX_FEATURE_BYTES."""
        size = self.feature_bytes(n_points)
        if size > MAX_FEATURE_BYTES:
            raise TrainingError(
                f"encoding {what} ({n_points:,} points × {self.n_features:,} features × 4 bytes) takes "
                f"{size / 2**30:.2f} GiB, more than the {MAX_FEATURE_BYTES / 2**30:g} GiB occam allows",
                expected="fewer points (`split train N`, `sample N`), or fewer features: an int input with more than "
                         f"{MAX_ONE_HOT:,} values is one number, not one-hot",
            )

    def features(self, env: Mapping[str, np.ndarray]) -> np.ndarray:
        """float32 (n, n_features): every input's block, in input order (refused beyond
        MAX_FEATURE_BYTES, before anything is allocated)."""
        self.check_feature_size(len(env[self.inputs[0].name]) if self.inputs else 0)
        return np.concatenate([input_.encode(env[input_.name]) for input_ in self.inputs], axis=1)

    def decode_features(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """The input values that `features` encode (the inverse of `features`)."""
        columns, start = {}, 0
        for input_ in self.inputs:
            columns[input_.name] = input_.decode(features[:, start : start + input_.width])
            start += input_.width
        return columns

    @property
    def token_vocabulary(self) -> int | None:
        """The transformer's vocabulary p + 1 (operand values 0 … p − 1, then `=` = p), when the
        inputs are exactly two one-hot inputs of one range; None otherwise."""
        if len(self.inputs) != 2 or any(input_.kind != "one_hot" for input_ in self.inputs):
            return None
        first, second = self.inputs
        if (first.low, first.width) != (second.low, second.width):
            return None
        return first.width + 1

    def tokens(self, env: Mapping[str, np.ndarray]) -> np.ndarray:
        """int64 (n, 3): the sequence (a, b, `=`) for each point, `=` being token p."""
        vocabulary = self.token_vocabulary
        if vocabulary is None:
            raise TrainingError("this task's inputs cannot be tokens", expected="two int inputs of one range")
        a, b = (input_.token_ids(env[input_.name]) for input_ in self.inputs)
        return np.stack([a, b, np.full_like(a, vocabulary - 1)], axis=1)

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        return self.output.decode(outputs)

    def to_json(self) -> dict[str, Any]:
        return {"inputs": [asdict(input_) for input_ in self.inputs], "output": asdict(self.output)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Encoding:
        return Encoding(tuple(InputEncoding(**input_) for input_ in data["inputs"]), OutputEncoding(**data["output"]))


def encoding_for(task: Task) -> Encoding:
    """The encoding of `task`'s inputs and output (see the module docstring). Standardization uses
    the task's training points only. A TrainingError if the features of the task's points would
    exceed MAX_FEATURE_BYTES (unless the inputs can be tokens, which take 24 bytes a point)."""
    if task.n_train == 0:
        raise TrainingError(f"task `{task.name}` has no training points", expected="a split with a training share")
    inputs = tuple(_input_encoding(input_.name, input_.type, input_.bounds, task) for input_ in task.inputs)
    encoding = Encoding(inputs, _output_encoding(task))
    if encoding.token_vocabulary is None:  # only features can feed a network: refuse before training starts
        encoding.check_feature_size(task.n_points, what=f"task `{task.name}`")
    return encoding


def _input_encoding(name: str, type_: Type, bounds, task: Task) -> InputEncoding:
    if type_.kind == "bool":
        return InputEncoding(name, "sign", 1)
    if type_.is_bitvector:
        return InputEncoding(name, "bits", type_.width, signed=type_.signed)
    if type_.kind == "int" and bounds is not None and bounds.size <= MAX_ONE_HOT:
        return InputEncoding(name, "one_hot", bounds.size, low=int(bounds.low))
    mean, scale = _standardization(task.points[name][task.train])
    return InputEncoding(name, "standard", 1, mean=mean, scale=scale, integer=type_.kind == "int")


def _output_encoding(task: Task) -> OutputEncoding:
    type_ = task.output_type
    if type_.kind == "bool":
        return OutputEncoding("classes", 2, "bool")
    domain = task.output_domain  # its values: the classes, when there are few
    low, high = (int(domain.low), int(domain.high)) if domain is not None else (None, None)
    if low is not None and high - low + 1 <= MAX_CLASSES:
        return OutputEncoding("classes", high - low + 1, type_.name, low=low)
    if type_.is_bitvector:
        return OutputEncoding("bits", type_.width, type_.name, signed=type_.signed)
    mean, scale = _standardization(task.target_values[task.train])
    if type_.kind == "real":
        return OutputEncoding("regression", 1, type_.name, mean=mean, scale=scale)
    clip = (float(low), float(high)) if low is not None else (None, None)
    return OutputEncoding("regression", 1, type_.name, mean=mean, scale=scale, integer=True,
                          clip_low=clip[0], clip_high=clip[1])  # fmt: skip


def _standardization(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    mean, std = float(values.mean()), float(values.std())
    return mean, std if np.isfinite(std) and std > 0 else 1.0


def _bit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """float32 (n, width): bit k of each value's two's complement, least significant first."""
    values = np.asarray(values, dtype=np.int64)
    return ((values[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.float32)


def _from_bits(bits: np.ndarray, signed: bool) -> np.ndarray:
    """int64 values from a bool matrix (n, width) of bits, least significant first."""
    width = bits.shape[1]
    weights = np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
    values = (bits.astype(np.int64) * weights).sum(axis=1)
    if signed:
        values = np.where(bits[:, -1], values + np.int64(-(2**width)), values)  # width ≤ 63: fits
    return values

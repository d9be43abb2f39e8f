"""Neural networks trained on a task's data, and traces of the functions they compute.

    >>> import dsl, neural
    >>> task = dsl.load_task("mod_add_97")
    >>> result = neural.train(task, neural.get_preset("gromov").config, seed=0, out="runs/gromov")
    >>> result.trace.outputs.shape            # (recorded steps, task points)
    >>> neural.load_trace("runs/gromov")      # without the model
    >>> neural.load_checkpoint("runs/gromov") # the network again

encode.py (task types ↔ tensors), models.py (MLP, Nanda et al.'s transformer), train.py (the
config and the loop), trace.py (function traces), checkpoint.py, presets.py (published set-ups),
sequence.py (recurrent networks on sequence tasks: train_sequence, its presets, checkpoints,
the small-first size search), probe.py (linear probes from hidden states to program states),
nngp.py (the infinite-width prior P_B(f) and P_B(f | S): NNGP kernel and EP orthant probabilities).
See docs/neural.md.
"""

from .checkpoint import Checkpoint, load_checkpoint, predict, save_checkpoint
from .encode import Encoding, InputEncoding, OutputEncoding, encoding_for
from .models import MLP, MLPConfig, Transformer, TransformerConfig
from .nngp import (
    OrthantResult,
    ep_orthant,
    log2_conditional_from_kernel,
    log2_conditional_probability,
    log2_prior_probability,
    log_orthant_probability,
    nngp_kernel,
)
from .presets import PRESETS, Preset, default_preset, get_preset, with_overrides
from .probe import ProbeScore, probe_states, states_after_step
from .sequence import (
    SEQUENCE_PRESETS,
    SequenceEncoding,
    SequencePreset,
    SequenceProgress,
    SequenceTrace,
    SequenceTrainConfig,
    SequenceTraining,
    SizeSearch,
    fit_small_first,
    get_sequence_preset,
    load_sequence_checkpoint,
    train_sequence,
)
from .trace import FunctionTrace, load_trace, probe_grid, save_trace, trace_schedule
from .train import TrainConfig, TrainProgress, TrainResult, build_model, evaluate, learning_rate, train

__all__ = [
    "MLP", "PRESETS", "SEQUENCE_PRESETS", "Checkpoint", "Encoding", "FunctionTrace", "InputEncoding",
    "MLPConfig", "OrthantResult", "OutputEncoding", "Preset", "ProbeScore", "SequenceEncoding",
    "SequencePreset", "SequenceProgress", "SequenceTrace", "SequenceTrainConfig", "SequenceTraining",
    "SizeSearch", "TrainConfig", "TrainProgress", "TrainResult", "Transformer", "TransformerConfig",
    "build_model", "default_preset", "encoding_for", "ep_orthant", "evaluate", "fit_small_first",
    "get_preset", "get_sequence_preset", "learning_rate", "load_checkpoint", "load_sequence_checkpoint",
    "load_trace", "log2_conditional_from_kernel", "log2_conditional_probability", "log2_prior_probability",
    "log_orthant_probability", "nngp_kernel", "predict", "probe_grid", "probe_states", "save_checkpoint",
    "save_trace", "states_after_step", "trace_schedule", "train", "train_sequence", "with_overrides",
]  # fmt: skip

"""Saved traces and checkpoints that were damaged or edited: refused with a TrainingError that
names the file and what is wrong, never loaded as something else, never a traceback."""

import json
import shutil

import numpy as np
import pytest
import torch

from dsl import TrainingError
from neural import TrainConfig, load_checkpoint, load_trace, predict, train
from neural.checkpoint import _payload_sha256
from neural.encode import encoding_for
from neural.models import MLP, MLPConfig, Transformer, TransformerConfig
from neural.trace import content_sha256
from neural.train import MAX_DEPTH, MAX_PARAMETERS, build_model

TINY = TrainConfig(model="mlp", depth=2, width=16, lr=0.03, steps=30, trace_points=5)


@pytest.fixture(scope="module")
def saved(mod_add_11, tmp_path_factory):
    """A finished run's directory (copy it before changing anything)."""
    out = tmp_path_factory.mktemp("saved") / "run"
    train(mod_add_11, TINY, seed=0, out=out)
    return out


@pytest.fixture
def run(saved, tmp_path):
    return shutil.copytree(saved, tmp_path / "run")


def forge(path, payload):
    """Save `payload` as a checkpoint with a matching sha256: what a careful forger would write."""
    payload["sha256"] = _payload_sha256(payload)
    torch.save(payload, path)


def edit(path, change):
    """Apply `change` to the JSON in `path`, leaving its sha256 as it was."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def reseal(path, change):
    """Apply `change` to the JSON in `path` and store the sha256 of the result in it."""
    data = json.loads(path.read_text())
    change(data)
    data.pop("sha256", None)
    path.write_text(json.dumps({**data, "sha256": content_sha256(data)}))


# --- checkpoints -------------------------------------------------------------------------------


def test_an_intact_checkpoint_still_loads(run, mod_add_11):
    checkpoint = load_checkpoint(run)
    np.testing.assert_array_equal(predict(checkpoint, mod_add_11.env()), load_trace(run).outputs[-1])


def test_64_flipped_bytes_in_the_weights_are_refused(run):
    """The bytes of the first layer's weights, found in the file and 64 of them inverted: the
    zip archive still reads, so only the stored sha256 can tell."""
    path = run / "checkpoint.pt"
    weights = torch.load(path, weights_only=True)["state_dict"]["layers.0.weight"].numpy().tobytes()
    content = bytearray(path.read_bytes())
    start = content.find(weights)
    assert start >= 0
    for offset in np.random.default_rng(0).choice(len(weights), 64, replace=False):
        content[start + offset] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(TrainingError, match="checkpoint.pt is damaged: its content does not match the sha256"):
        load_checkpoint(path)


@pytest.mark.parametrize("seed", range(6))
def test_bytes_flipped_anywhere_are_refused(run, seed):
    path = run / "checkpoint.pt"
    content = bytearray(path.read_bytes())
    for offset in np.random.default_rng(seed).choice(len(content), 64, replace=False):
        content[offset] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(TrainingError, match="checkpoint"):
        load_checkpoint(path)


def test_an_edited_checkpoint_is_refused(run):
    path = run / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    payload["step"] = 10**6
    torch.save(payload, path)
    with pytest.raises(TrainingError, match="does not match the sha256"):
        load_checkpoint(path)


@pytest.mark.parametrize("change, message", [
    ({"depth": 10**6}, f"depth = 1000000; expected at most {MAX_DEPTH}"),
    ({"depth": 3, "width": 10_001}, "parameters"),  # 10^8 weights: 400 MB if it were built
    ({"steps": -1}, "steps = -1"),
    ({"lr": 10**400}, "damaged"),
])  # fmt: skip
def test_a_forged_config_is_validated_before_the_network_is_built(run, change, message):
    """With a matching sha256, a config is held to the rules of a new one, sizes included."""
    path = run / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    payload["config"] = {**payload["config"], **change}
    forge(path, payload)
    with pytest.raises(TrainingError, match=message) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_a_forged_encoding_is_refused(run):
    path = run / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    payload["encoding"]["inputs"][0]["kind"] = "telepathy"
    forge(path, payload)
    with pytest.raises(TrainingError, match="kind 'telepathy'"):
        load_checkpoint(path)


def test_a_checkpoint_without_its_sha256_is_refused(run):
    path = run / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    del payload["sha256"]
    torch.save(payload, path)
    with pytest.raises(TrainingError, match="does not match the sha256"):
        load_checkpoint(path)
    payload["format"] = "occam-checkpoint/1"
    torch.save(payload, path)
    with pytest.raises(TrainingError, match="earlier occam"):
        load_checkpoint(path)


# --- sizes -------------------------------------------------------------------------------------


def test_new_configs_have_the_same_size_limits(mod_add_11):
    with pytest.raises(TrainingError, match="depth"):
        TrainConfig(depth=MAX_DEPTH + 1)
    with pytest.raises(TrainingError, match=f"at most {MAX_PARAMETERS:,}"):
        build_model(TrainConfig(depth=3, width=10_001), encoding_for(mod_add_11))
    assert build_model(TrainConfig(depth=3, width=64), encoding_for(mod_add_11)) is not None


@pytest.mark.parametrize("config", [
    MLPConfig(n_inputs=5, n_outputs=3, depth=1),
    MLPConfig(n_inputs=5, n_outputs=3, depth=2, width=7),
    MLPConfig(n_inputs=5, n_outputs=3, depth=4, width=7, bias=False),
    TransformerConfig(vocabulary=12, n_outputs=12, d_model=16, n_heads=2, d_head=8, d_mlp=32),
    TransformerConfig(vocabulary=12, n_outputs=11, d_model=8, n_heads=3, d_head=5, d_mlp=6),
])  # fmt: skip
def test_the_parameter_count_is_the_built_networks(config):
    network = MLP(config) if isinstance(config, MLPConfig) else Transformer(config)
    assert config.parameter_count == sum(parameter.numel() for parameter in network.parameters())


# --- traces ------------------------------------------------------------------------------------


def test_an_intact_trace_still_loads(run):
    assert len(load_trace(run)) == len(json.loads((run / "trace.json").read_text())["steps"])


@pytest.mark.parametrize("tamper, message", [
    (lambda run: (run / "trace.json").write_text("[]"), "not an occam function trace"),
    (lambda run: (run / "trace.json").write_text('{"format": "occam-function-trace/2"'), "cannot read the trace"),
    (lambda run: edit(run / "trace.json", lambda data: data.pop("sha256")), "does not match the sha256"),
    (lambda run: edit(run / "trace.json", lambda data: data.pop("curve")), "does not match the sha256"),
    (lambda run: reseal(run / "trace.json", lambda data: data.pop("curve")), "damaged: missing 'curve'"),
    (lambda run: reseal(run / "trace.json", lambda data: data.update(metrics=[])), "damaged"),
    (lambda run: reseal(run / "trace.json", lambda data: data.update(n_points=7)), "outputs of shape"),
    (lambda run: reseal(run / "trace.json", lambda data: data["metrics"]["train_loss"].__setitem__(0, 10**400)),
     "too large"),
    (lambda run: reseal(run / "trace.json", lambda data: data.update(arrays="../../etc/passwd")), "beside it"),
    (lambda run: (run / "trace.npz").write_bytes((run / "trace.npz").read_bytes()[:200]), "does not match the sha256"),
    (lambda run: (run / "trace.npz").unlink(), "cannot read the trace's arrays"),
])  # fmt: skip
def test_a_damaged_trace_is_refused(run, tamper, message):
    tamper(run)
    with pytest.raises(TrainingError, match=message) as error:
        load_trace(run)
    assert "trace" in str(error.value)


def test_a_truncated_npz_with_a_forged_sha256_is_refused(run):
    import hashlib

    npz = run / "trace.npz"
    npz.write_bytes(npz.read_bytes()[:200])
    reseal(run / "trace.json", lambda data: data.update(arrays_sha256=hashlib.sha256(npz.read_bytes()).hexdigest()))
    with pytest.raises(TrainingError, match="damaged: cannot read"):
        load_trace(run)


def test_an_edited_value_of_the_trace_is_refused(run):
    edit(run / "trace.json", lambda data: data["metrics"]["test_accuracy"].__setitem__(-1, 1.0))
    with pytest.raises(TrainingError, match="does not match the sha256"):
        load_trace(run)

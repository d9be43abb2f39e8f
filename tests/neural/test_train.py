"""Training, traces and checkpoints: small runs that finish in well under a second each."""

import json
import os
from dataclasses import replace

import numpy as np
import pytest
import torch

import dsl
import neural
from dsl import TrainingError
from neural import TrainConfig, load_checkpoint, load_trace, predict, train
from neural.trace import CURVE_KEYS, METRICS

TINY = TrainConfig(model="mlp", depth=2, width=16, lr=0.03, steps=60, trace_points=10)
TINY_TRANSFORMER = replace(neural.get_preset("nanda-mini").config, d_model=16, n_heads=2, d_head=8, d_mlp=32,
                           lr=1e-2, steps=40, trace_points=10)  # fmt: skip


def test_a_tiny_network_learns_majority(majority3):
    result = train(majority3, TINY, seed=0)
    assert result.trace.metrics["train_accuracy"][-1] == 1.0
    np.testing.assert_array_equal(result.trace.outputs[-1], majority3.target_values)
    assert not result.interrupted and result.steps == TINY.steps


def test_xor_with_the_boolean_preset():
    task = dsl.load_task("xor2")
    result = train(task, neural.with_overrides(neural.get_preset("boolean"), steps=100), seed=1)
    np.testing.assert_array_equal(result.trace.outputs[-1], task.target_values)


def test_the_trace_has_the_right_shapes(mod_add_11):
    config = replace(TINY, steps=50, trace_steps=(7, 13, 500), eval_every=5)
    trace = train(mod_add_11, config, seed=0).trace
    steps = trace.steps.tolist()
    assert steps[0] == 0 and steps[-1] == 50 and {7, 13} <= set(steps) and 500 not in steps
    assert steps == sorted(set(steps))
    assert trace.outputs.shape == (len(steps), mod_add_11.n_points) and trace.outputs.dtype == np.int8
    assert set(trace.metrics) == set(METRICS) and all(len(v) == len(steps) for v in trace.metrics.values())
    assert set(trace.curve) == set(CURVE_KEYS)
    assert set(range(0, 51, 5)) <= set(trace.curve["step"].tolist())
    assert np.all(np.isnan(trace.metrics["train_rmse"]))  # not a regression
    np.testing.assert_array_equal(trace.train, mod_add_11.train)
    assert trace.probe is None and trace.probe_outputs is None  # a finite domain: the points are the whole domain
    # accuracy recomputed from the recorded outputs
    correct = trace.outputs == mod_add_11.target_values
    np.testing.assert_allclose(trace.metrics["train_accuracy"], correct[:, mod_add_11.train].mean(axis=1))
    np.testing.assert_allclose(trace.metrics["test_accuracy"], correct[:, mod_add_11.test].mean(axis=1))


def test_trace_schedule_is_log_spaced():
    schedule = neural.trace_schedule(40_000, count=40, extra=(123, 50_000))
    assert schedule[0] == 0 and schedule[-1] == 40_000 and 123 in schedule and 50_000 not in schedule
    assert 40 <= len(schedule) <= 43
    ratios = schedule[2:] / schedule[1:-1]
    assert ratios[-1] < 1.5  # geometric steps at the end, not all packed at the start


def test_learning_rate_warms_up_like_nanda():
    config = TrainConfig(lr=1e-3, warmup_steps=10)
    assert [neural.learning_rate(step, config) for step in (0, 1, 5, 10, 20)] == pytest.approx(
        [0.0, 1e-4, 5e-4, 1e-3, 1e-3])
    assert neural.learning_rate(0, TrainConfig(lr=0.5)) == 0.5


@pytest.mark.parametrize("config", [TINY, TINY_TRANSFORMER, replace(TINY, batch_size=16, optimizer="sgd", momentum=0.9)],
                         ids=["mlp", "transformer", "minibatch-sgd"])  # fmt: skip
def test_same_seed_same_trace(mod_add_11, config):
    first, again = train(mod_add_11, config, seed=7), train(mod_add_11, config, seed=7)
    np.testing.assert_array_equal(first.trace.outputs, again.trace.outputs)
    for key in METRICS:
        np.testing.assert_array_equal(first.trace.metrics[key], again.trace.metrics[key])
    for (name, a), (_, b) in zip(first.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), name
    other = train(mod_add_11, config, seed=8)
    assert not torch.equal(next(iter(first.model.parameters())), next(iter(other.model.parameters())))


def test_outputs_recomputed_from_the_checkpoint_equal_the_trace(mod_add_11, tmp_path):
    for config, name in ((TINY, "mlp"), (TINY_TRANSFORMER, "transformer")):
        result = train(mod_add_11, config, seed=0, out=tmp_path / name)
        checkpoint = load_checkpoint(tmp_path / name)
        assert checkpoint.step == config.steps and checkpoint.task == "mod_add_11"
        assert checkpoint.fingerprint == mod_add_11.fingerprint and checkpoint.config == config
        np.testing.assert_array_equal(predict(checkpoint, mod_add_11.env()), result.trace.outputs[-1])
        for (key, a), (_, b) in zip(result.model.state_dict().items(), checkpoint.model.state_dict().items()):
            assert torch.equal(a.cpu(), b), key


def test_the_checkpoint_loads_with_weights_only(majority3, tmp_path):
    train(majority3, TINY, seed=0, out=tmp_path)
    payload = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(payload) >= {"state_dict", "config", "encoding", "task", "seed", "step"}
    assert TrainConfig.from_json(payload["config"]) == TINY


def test_what_is_not_a_checkpoint_is_refused_with_a_message(majority3, tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(bytes(range(256)) * 2)
    text = tmp_path / "text.pt"
    text.write_text("task t { }")
    for path in (junk, text, tmp_path / "missing", tmp_path):
        with pytest.raises(TrainingError, match="cannot read the checkpoint"):
            load_checkpoint(path)
    train(majority3, TINY, seed=0, out=tmp_path / "run")
    payload = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    del payload["state_dict"]["layers.0.weight"]
    torch.save(payload, tmp_path / "damaged.pt")
    with pytest.raises(TrainingError, match="damaged"):
        load_checkpoint(tmp_path / "damaged.pt")


def test_files_of_a_run(majority3, tmp_path):
    result = train(majority3, TINY, seed=0, out=tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.pt", "metrics.json", "trace.json", "trace.npz"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["final_train_accuracy"] == 1.0 and metrics["final_test_accuracy"] is None  # no held-out points
    assert metrics["steps"] == TINY.steps and metrics["status"] == "finished" and metrics["cpu_seconds"] > 0
    assert metrics["cpu_seconds_per_step"] > 0 and metrics["threads"] == 1
    loaded = load_trace(tmp_path)
    np.testing.assert_array_equal(loaded.outputs, result.trace.outputs)
    np.testing.assert_array_equal(loaded.steps, result.trace.steps)
    for key in METRICS:
        np.testing.assert_array_equal(loaded.metrics[key], result.trace.metrics[key])
    assert loaded.info["config"] == TINY.to_json() and loaded.fingerprint == majority3.fingerprint


def test_ctrl_c_keeps_trace_checkpoint_and_metrics(mod_add_11, tmp_path):
    def progress(state):
        if state.step == 23:
            raise KeyboardInterrupt

    result = train(mod_add_11, replace(TINY, steps=1000), seed=0, out=tmp_path, progress=progress)
    assert result.interrupted and result.steps == 23
    trace = load_trace(tmp_path / "trace.npz")
    assert trace.steps[-1] == 23 and trace.outputs.shape == (len(trace.steps), mod_add_11.n_points)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] and metrics["status"] == "interrupted" and metrics["steps"] == 23
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    assert checkpoint.step == 23
    np.testing.assert_array_equal(predict(checkpoint, mod_add_11.env()), trace.outputs[-1])
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_a_real_sigint_stops_at_the_step_boundary(mod_add_11):
    """SIGINT (Ctrl-C) during a step sets a flag; the loop stops after that step, whole."""
    import signal

    def progress(state):
        if state.step == 5:
            os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    result = train(mod_add_11, replace(TINY, steps=1000), seed=0, progress=progress)
    assert result.interrupted and result.steps == 5 and result.trace.steps[-1] == 5
    assert signal.getsignal(signal.SIGINT) is before


def test_regression_records_rmse_and_a_probe_grid():
    task = dsl.load_task("nguyen1")
    config = neural.with_overrides(neural.get_preset("real"), steps=300)
    trace = train(task, config, seed=0).trace
    assert trace.head == "regression" and trace.outputs.dtype == np.float64
    assert trace.metrics["train_rmse"][-1] < 0.2 * trace.metrics["train_rmse"][0]
    assert set(trace.probe) == {"x"} and len(trace.probe["x"]) == neural.trace.PROBE_POINTS
    assert trace.probe["x"].min() == -1.0 and trace.probe["x"].max() == 1.0
    assert trace.probe_outputs.shape == (len(trace.steps), len(trace.probe["x"]))


def test_probe_grid_of_two_inputs():
    (task,) = dsl.parse_tasks("task t {\n input x: real 0..2\n input n: int 0..3\n output real\n target x\n"
                              " grammar { real -> x, real(n), real + real }\n sample 10 uniform seed 0\n}")  # fmt: skip
    grid = neural.probe_grid(task)
    assert len(grid["x"]) == len(grid["n"]) == 64 * 4
    assert sorted(set(grid["n"].tolist())) == [0, 1, 2, 3] and grid["n"].dtype == np.int64


def test_float64_run(majority3):
    result = train(majority3, replace(TINY, dtype="float64", loss_dtype="float64"), seed=0)
    assert next(result.model.parameters()).dtype == torch.float64
    assert result.trace.metrics["train_accuracy"][-1] == 1.0


def test_the_transformer_refuses_other_tasks(majority3):
    with pytest.raises(dsl.TrainingError, match=r"exactly two int inputs of one range.*has x: bool \(±1\), y: bool \(±1\), z: bool \(±1\)"):
        train(majority3, replace(TINY, model="transformer"), seed=0)


def test_cross_entropy_refused_for_a_real_output():
    with pytest.raises(dsl.TrainingError, match="cross-entropy needs a discrete output"):
        train(dsl.load_task("nguyen1"), TINY, seed=0)


@pytest.mark.parametrize("changes, message", [
    ({"steps": 0}, "steps = 0; expected a positive integer"),
    ({"steps": -5}, "steps = -5"),
    ({"model": "cnn"}, "model = 'cnn'; expected one of mlp, transformer"),
    ({"activation": "swish"}, "activation = 'swish'"),
    ({"lr": 0.0}, "lr = 0.0; expected a positive number"),
    ({"betas": (0.9, 1.0)}, "betas"),
    ({"batch_size": 0}, "batch_size = 0"),
    ({"device": "tpu"}, "device = 'tpu'"),
])  # fmt: skip
def test_bad_configs_are_refused(changes, message):
    with pytest.raises(dsl.TrainingError, match="invalid training configuration: " + message.replace("(", r"\(")):
        replace(TINY, **changes)


def test_unknown_preset_and_option():
    with pytest.raises(dsl.TrainingError, match="no preset named `gromow`") as error:
        neural.get_preset("gromow")
    assert "did you mean `gromov`?" in str(error.value)
    with pytest.raises(dsl.TrainingError, match="unknown training option `stpes`"):
        TrainConfig.from_json({"stpes": 3})


def test_bad_seed(majority3):
    with pytest.raises(dsl.TrainingError, match="seed = -1"):
        train(majority3, TINY, seed=-1)


def test_default_presets():
    assert neural.default_preset(dsl.load_task("mod_add_97")).name == "gromov"
    assert neural.default_preset(dsl.load_task("majority3")).name == "boolean"
    assert neural.default_preset(dsl.load_task("nguyen1")).name == "real"
    assert neural.default_preset(dsl.load_task("hd01_rightmost_one_off")).name == "boolean"


def test_presets_name_their_published_tasks():
    assert {name: preset.task for name, preset in neural.PRESETS.items()} == {
        "gromov": "mod_add_97", "nanda": "mod_add_113", "nanda-mini": "mod_add_53", "boolean": None, "real": None}
    nanda = neural.get_preset("nanda").config
    assert (nanda.d_model, nanda.n_heads, nanda.d_head, nanda.d_mlp, nanda.lr, nanda.weight_decay, nanda.steps) == (
        128, 4, 32, 512, 1e-3, 1.0, 40_000)
    assert nanda.betas == (0.9, 0.98) and nanda.warmup_steps == 10 and nanda.loss_dtype == "float64"
    gromov = neural.get_preset("gromov").config
    assert (gromov.width, gromov.activation, gromov.bias, gromov.loss, gromov.lr, gromov.weight_decay) == (
        500, "square", False, "mse", 5e-3, 0.0)


def test_nanda_reads_out_the_whole_vocabulary():
    task = dsl.load_task("mod_add_113")
    model = neural.build_model(neural.get_preset("nanda").config, neural.encoding_for(task), seed=0)
    assert model.config.vocabulary == 114 and model.config.n_outputs == 114
    embeddings = 2 * 128 * 114 + 3 * 128  # W_E, W_U, W_pos
    attention = 4 * 128 * 128  # W_Q, W_K, W_V (4 heads of 32), W_O
    mlp = 2 * 128 * 512 + 512 + 128
    assert sum(p.numel() for p in model.parameters()) == embeddings + attention + mlp == 226_816


def test_no_global_torch_state_leaks(majority3):
    threads = torch.get_num_threads()
    train(majority3, replace(TINY, threads=1), seed=0)
    assert torch.get_num_threads() == threads


@pytest.mark.slow
def test_gromov_groks_mod_add_97():
    result = train(dsl.load_task("mod_add_97"), neural.get_preset("gromov").config, seed=0)
    assert result.trace.metrics["test_accuracy"][-1] >= 0.99


@pytest.mark.slow
def test_nanda_mini_groks_mod_add_53():
    result = train(dsl.load_task("mod_add_53"), neural.get_preset("nanda-mini").config, seed=0)
    assert result.trace.metrics["test_accuracy"][-1] >= 0.99

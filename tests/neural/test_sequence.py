"""neural/sequence.py and neural/probe.py: encoding, training on dsl.SequenceTasks, the trace,
determinism, Ctrl-C, checkpoints, the small-first size search, and the linear probe."""

import dataclasses
import os
import signal

import numpy as np
import pytest
import torch

from dsl import TrainingError
from dsl.recurrent import run
from neural.probe import probe_states, states_after_step
from neural.sequence import (
    SEQUENCE_PRESETS,
    SequenceEncoding,
    SequenceTrainConfig,
    fit_small_first,
    get_sequence_preset,
    load_sequence_checkpoint,
    train_sequence,
)

from .sequence_tasks import mips_task

FAST = SequenceTrainConfig(hidden=8, mlp_width=16, steps=60, batch_size=64, eval_every=20, record_points=10,
                           target_accuracy=None)  # fmt: skip


@pytest.fixture(scope="module")
def mod3():
    return mips_task("Add_Mod_3", count=300, length=8)


@pytest.fixture(scope="module")
def sum3():
    return mips_task("Sum_Last3", count=200, length=6)


@pytest.fixture(scope="module")
def adder():
    return mips_task("Binary_Addition", count=200, length=6)


def test_tasks_match_the_reference_evaluator(mod3, sum3):
    x = mod3.sequences["x"]
    assert np.array_equal(mod3.target_values, np.cumsum(x, axis=1) % 3)
    x = sum3.sequences["x"].astype(np.int64)
    padded = np.concatenate([np.zeros((len(x), 2), dtype=np.int64), x], axis=1)
    assert np.array_equal(sum3.target_values, padded[:, 2:] + padded[:, 1:-1] + padded[:, :-2])


def test_encoding_one_hot_small_numeric_wide(mod3, sum3, adder):
    small = SequenceEncoding.of(mod3, 32)
    assert (small.head, small.size, small.n_features) == ("classes", 3, 3)
    features = small.features(mod3.env()).numpy()
    assert features.shape == (mod3.n_sequences, mod3.length, 3)
    assert np.array_equal(features.argmax(-1), mod3.sequences["x"]) and np.all(features.sum(-1) == 1)
    wide = SequenceEncoding.of(sum3, 32)
    assert (wide.head, wide.size, wide.n_features) == ("regression", 1, 1)
    assert np.array_equal(wide.features(sum3.env()).numpy()[..., 0], sum3.sequences["x"])  # raw numbers
    assert np.array_equal(wide.decode(wide.targets(sum3.target_values)[..., None]), sum3.target_values)
    two = SequenceEncoding.of(adder, 32)
    assert [c.name for c in two.inputs] == ["x", "y"] and two.n_features == 4
    assert np.array_equal(small.decode(torch.nn.functional.one_hot(small.targets(mod3.target_values), 3).float()),
                          mod3.target_values)  # fmt: skip
    # the limit decides: 3 values stay categorical under a limit of 4, not under 3
    assert (
        SequenceEncoding.of(mod3, 3).head == "regression" and SequenceEncoding.of(mod3, 4).head == "classes"
    )


def test_scaled_numbers_round_trip(sum3):
    scaled = SequenceEncoding.of(sum3, 32, scale_numbers=True)
    assert scaled.inputs[0].scale == 99 and scaled.scale == 297
    features = scaled.features(sum3.env()).numpy()[..., 0]
    assert features.max() <= 1 and np.allclose(features * 99, sum3.sequences["x"], atol=1e-4)
    assert np.array_equal(scaled.decode(scaled.targets(sum3.target_values)[..., None]), sum3.target_values)
    assert SequenceEncoding.from_json(scaled.to_json()) == scaled


def test_config_is_validated():
    for bad in ({"kind": "rnn"}, {"hidden": 0}, {"learning_rate": -1.0}, {"target_accuracy": 1.5},
                {"stop_on": "val"}, {"regression_loss": "l1"}, {"steps": True}, {"categorical_limit": 1}):  # fmt: skip
        with pytest.raises(TrainingError):
            SequenceTrainConfig(**bad)
    assert SequenceTrainConfig.from_json(FAST.to_json()) == FAST
    with pytest.raises(TrainingError, match="unknown"):
        SequenceTrainConfig.from_json({**FAST.to_json(), "lr": 1})
    assert set(SEQUENCE_PRESETS) == {"mips", "gru", "lstm"}
    assert get_sequence_preset("lstm").config.kind == "lstm"
    with pytest.raises(TrainingError):
        get_sequence_preset("mipz")


@pytest.mark.parametrize("kind", ["mips", "gru", "lstm"])
def test_trace_shapes_and_final_outputs(mod3, kind):
    result = train_sequence(mod3, dataclasses.replace(FAST, kind=kind))
    trace = result.trace
    assert trace.steps[0] == 0 and trace.steps[-1] == FAST.steps == result.steps_run
    assert np.all(np.diff(trace.steps) > 0) and len(trace) <= FAST.record_points + 2
    assert trace.outputs.shape == (len(trace), mod3.n_test, mod3.length) and trace.outputs.dtype == np.int64
    assert np.array_equal(trace.test_index, np.flatnonzero(mod3.test))
    assert result.final_outputs.shape == (mod3.n_sequences, mod3.length)
    assert np.array_equal(trace.outputs[-1], result.final_outputs[mod3.test])
    assert np.array_equal(result.outputs(), result.final_outputs)  # the model now computes what was recorded
    assert set(np.unique(result.final_outputs)) <= {0, 1, 2}
    right = result.final_outputs[mod3.test] == mod3.target_values[mod3.test]
    assert result.test_accuracy == pytest.approx(right.mean()) == pytest.approx(trace.test_accuracy[-1])
    assert result.sequence_accuracy == pytest.approx(right.all(axis=1).mean())
    hidden = result.hidden_states(mod3.test)
    assert hidden.shape == (mod3.n_test, mod3.length, FAST.hidden) and hidden.dtype == np.float32


@pytest.mark.parametrize("kind", ["mips", "gru"])
def test_same_seed_same_run_other_seed_another(mod3, kind):
    config = dataclasses.replace(FAST, kind=kind, schedule="cosine")
    a, b = (train_sequence(mod3, config) for _ in range(2))
    c = train_sequence(mod3, dataclasses.replace(config, seed=1))
    assert a.losses == b.losses and np.array_equal(a.trace.outputs, b.trace.outputs)
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), name
    assert a.losses != c.losses


def test_regression_outputs_are_rounded_integers(sum3):
    result = train_sequence(sum3, FAST)
    assert result.encoding.head == "regression" and result.final_outputs.dtype == np.int64
    assert result.trace.outputs.shape[1:] == (sum3.n_test, sum3.length)


def test_stops_at_the_target_and_records_that_step(mod3):
    config = dataclasses.replace(FAST, steps=3000, batch_size=128, learning_rate=1e-2, target_accuracy=0.9,
                                 eval_every=25)  # fmt: skip
    result = train_sequence(mod3, config)
    assert result.reached_target and result.steps_run < config.steps
    assert result.trace.steps[-1] == result.steps_run and result.trace.train_accuracy[-1] >= 0.9
    assert result.train_accuracy >= 0.9


def test_interrupt_keeps_what_was_recorded(mod3):
    def stop_at_35(progress):
        if progress.step == 35:
            raise KeyboardInterrupt

    result = train_sequence(mod3, dataclasses.replace(FAST, steps=500), progress=stop_at_35)
    assert result.interrupted and result.steps_run == 35 and result.trace.steps[-1] == 35
    assert np.array_equal(result.trace.outputs[-1], result.final_outputs[mod3.test])


def test_ctrl_c_signal_ends_at_a_step_boundary(mod3):
    def signal_at_10(progress):
        if progress.step == 10:
            os.kill(os.getpid(), signal.SIGINT)

    result = train_sequence(mod3, dataclasses.replace(FAST, steps=500), progress=signal_at_10)
    assert result.interrupted and result.steps_run == 10


def test_checkpoint_round_trip_and_refusals(mod3, sum3, tmp_path):
    result = train_sequence(mod3, FAST)
    path = result.save(tmp_path / "run.pt")
    scaled = train_sequence(sum3, dataclasses.replace(FAST, kind="lstm", scale_numbers=True))
    reloaded = load_sequence_checkpoint(scaled.save(tmp_path / "sum3.pt"), sum3)
    assert reloaded.encoding.scale == 297 and np.array_equal(reloaded.final_outputs, scaled.final_outputs)
    loaded = load_sequence_checkpoint(path, mod3)
    assert np.array_equal(loaded.final_outputs, result.final_outputs)
    assert np.array_equal(loaded.trace.outputs, result.trace.outputs)
    assert loaded.config == result.config and loaded.steps_run == result.steps_run
    assert np.allclose(loaded.hidden_states(mod3.test), result.hidden_states(mod3.test))
    with pytest.raises(TrainingError, match="trained on task `Add_Mod_3`"):
        load_sequence_checkpoint(path, sum3)
    other = mips_task("Add_Mod_3", count=300, length=8, seed=7)  # same name, other sequences
    with pytest.raises(TrainingError, match="fingerprint"):
        load_sequence_checkpoint(path, other)
    data = bytearray(path.read_bytes())
    payload = torch.load(path, weights_only=True)
    payload["steps_run"] += 1
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(TrainingError, match="sha256"):
        load_sequence_checkpoint(tmp_path / "edited.pt", mod3)
    (tmp_path / "junk.pt").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(TrainingError, match="cannot read"):
        load_sequence_checkpoint(tmp_path / "junk.pt", mod3)


def test_fit_small_first_stops_at_the_first_size_that_reaches(mod3):
    config = dataclasses.replace(FAST, steps=400, learning_rate=1e-2, target_accuracy=None)
    search = fit_small_first(mod3, config, sizes=(1, 16), target_accuracy=0.5)
    # chance is 1/3: a hidden size of 1 can already beat 0.5 or not; either way the search is ordered
    assert [row["hidden"] for row in search.tried] in ([1], [1, 16])
    assert search.reached and search.best.test_accuracy >= 0.5
    assert search.best.config.hidden == search.tried[-1]["hidden"]
    impossible = fit_small_first(
        mod3, dataclasses.replace(config, steps=5), sizes=(1, 2), target_accuracy=1.0
    )
    assert not impossible.reached and impossible.stopped == "exhausted" and len(impossible.tried) == 2
    assert impossible.best.test_accuracy == max(row["test_accuracy"] for row in impossible.tried)


# --- the probe ---------------------------------------------------------------------------------


def test_probe_reads_an_affine_image_of_the_state():
    rng = np.random.default_rng(0)
    counter = rng.integers(0, 5, size=(200, 10))
    total = rng.integers(0, 300, size=(200, 10))
    mix = rng.normal(size=(2, 6))
    hidden = np.stack([counter, total], -1) @ mix + rng.normal(size=6) + 1e-3 * rng.normal(size=(200, 10, 6))
    scores = probe_states(hidden, {"counter": counter, "total": total})
    assert scores["counter"].kind == "accuracy" and scores["counter"].score == 1.0
    assert scores["total"].kind == "r2" and scores["total"].score > 0.999
    noise = rng.normal(size=(200, 10, 6))
    scores = probe_states(noise, {"counter": counter, "total": total})
    assert scores["counter"].score < 0.4 and scores["total"].score < 0.05


def test_probe_classifier_finds_clusters_rounding_misses():
    rng = np.random.default_rng(1)
    state = rng.integers(0, 3, size=(100, 8))
    # one-hot clusters: the value is not on a line (0 → e0, 1 → e1, 2 → e2), so rounding a single
    # regression works poorly only when the order is scrambled; put 1 far from 0 and 2
    hidden = np.eye(3)[state] * np.array([1.0, 5.0, 1.0]) + 0.01 * rng.normal(size=(100, 8, 3))
    score = probe_states(hidden, {"s": state})["s"]
    assert score.classifier_accuracy == 1.0 and score.score == 1.0


def test_probe_on_a_trained_network_sees_the_running_sum_mod_3(mod3):
    """A network at 100 % on Add_Mod_3 holds s = running sum mod 3 in its hidden state."""
    config = dataclasses.replace(FAST, hidden=8, mlp_width=32, steps=3000, batch_size=128, learning_rate=3e-3,
                                 target_accuracy=1.0, eval_every=25)  # fmt: skip
    result = train_sequence(mod3, config)  # measured: 100 % train and test after 100 steps, 0.2 s
    if result.test_accuracy < 0.98:
        pytest.skip(f"the network reached only {result.test_accuracy:.3f}")
    states = run(mod3.target, mod3.env(mod3.test)).states
    score = probe_states(result.hidden_states(mod3.test), states)["s"]
    assert score.kind == "accuracy" and score.score > 0.95
    shuffled = np.random.default_rng(0).permutation(states["s"].reshape(-1)).reshape(states["s"].shape)
    assert probe_states(result.hidden_states(mod3.test), {"s": shuffled})["s"].score < 0.6


def test_states_after_step_of_a_mealy_program(sum3):
    """Sum_Last3 reads its output before its updates (a = x_{t-1}); after step t, a = x_t, b = x_{t-1}."""
    after = states_after_step(sum3.target, sum3.env())
    x = sum3.sequences["x"]
    assert np.array_equal(after["a"], x) and np.array_equal(after["b"][:, 1:], x[:, :-1])
    assert np.all(after["b"][:, 0] == 0)
    read = run(sum3.target, sum3.env()).states  # at the read-out: one step behind
    assert np.array_equal(read["a"][:, 1:], x[:, :-1])


def test_probe_refuses_bad_shapes():
    with pytest.raises(ValueError):
        probe_states(np.zeros((4, 3)), {})
    with pytest.raises(ValueError):
        probe_states(np.zeros((4, 3, 2)), {"s": np.zeros((4, 2))})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Add_Mod_3", "Parity_Last3", "Binary_Addition", "Sum_Last3"])
def test_mips_preset_learns(name):
    task = mips_task(name, count=2000)
    result = train_sequence(task, get_sequence_preset("mips").config)
    assert result.test_accuracy >= 0.99, result.metrics()


def test_margins_polish_and_restarts_are_validated_and_work(mod3, sum3):
    for bad in ({"class_margin": -1.0}, {"regression_margin": 0.5}, {"polish_steps": -1}, {"restarts": True}):
        with pytest.raises(TrainingError):
            dataclasses.replace(FAST, **bad)
    # a margin can only delay the stop: the same seed stops no earlier with it
    plain = train_sequence(mod3, dataclasses.replace(FAST, steps=400, target_accuracy=1.0))
    strict = train_sequence(mod3, dataclasses.replace(FAST, steps=400, target_accuracy=1.0, class_margin=3.0))
    assert strict.steps_run >= plain.steps_run
    # polishing runs after the Adam steps, counted as steps, and lowers the error of a regression
    base = dataclasses.replace(FAST, steps=40, target_accuracy=1.0)
    rough = train_sequence(sum3, base)
    polished = train_sequence(sum3, dataclasses.replace(base, polish_steps=50))
    assert polished.steps_run > rough.steps_run == 40
    assert polished.train_accuracy >= rough.train_accuracy
    # restarts: a run that cannot reach the target is retried with the next seed; the best is kept
    tried = train_sequence(sum3, dataclasses.replace(base, steps=5, restarts=1))
    assert tried.config.seed in (base.seed, base.seed + 1) and not tried.reached_target

"""The recurrent networks: shapes, seeded initialization, the mips step against a plain loop, a
checkpoint round trip, and learning the running sum mod 3 (MIPS's Add_Mod_3)."""

import dataclasses
import os
import signal

import pytest
import torch
import torch.nn.functional as F

from dsl import TrainingError
from neural.rnn import KINDS, RNNConfig, build_rnn, per_step_accuracy, train_rnn


def running_sum_mod_3(n: int, length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs 0..2 one-hot (n, length, 3); targets the running sum mod 3 (n, length)."""
    digits = torch.randint(0, 3, (n, length), generator=torch.Generator().manual_seed(seed))
    return F.one_hot(digits, 3).float(), torch.cumsum(digits, dim=1) % 3


def config(kind: str) -> RNNConfig:
    return RNNConfig(kind=kind, inputs=3, outputs=5, hidden=7, mlp_depth=3, mlp_width=11)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_parameter_count(kind):
    model = build_rnn(config(kind), seed=0)
    y, h = model(torch.randn(4, 6, 3, generator=torch.Generator().manual_seed(1)))
    assert y.shape == (4, 6, 5) and h.shape == (4, 6, 7)
    assert sum(p.numel() for p in model.parameters()) == config(kind).parameter_count


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_network_other_seed_another(kind):
    x = torch.randn(3, 5, 3, generator=torch.Generator().manual_seed(2))
    a, b, c = (build_rnn(config(kind), seed=s) for s in (4, 4, 5))
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    assert torch.equal(a(x)[0], b(x)[0]) and torch.equal(a(x)[1], b(x)[1])
    assert not torch.allclose(a(x)[0], c(x)[0])


def hand_written_mips(model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """h_t = MLP([h_{t-1}, x_t]) from h_0 = 0 with the concatenation written out, y_t = MLP(h_t)."""
    def mlp(layers, z):
        for i, layer in enumerate(layers):
            z = z @ layer.weight.T + layer.bias
            if i < len(layers) - 1:
                z = torch.relu(z)
        return z

    h = torch.zeros(x.shape[0], model.config.hidden)
    ys, hs = [], []
    for t in range(x.shape[1]):
        h = mlp(model.cell, torch.cat([h, x[:, t]], dim=1))
        hs.append(h)
        ys.append(mlp(model.readout, h))
    return torch.stack(ys, 1), torch.stack(hs, 1)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_mips_step_equals_a_hand_written_loop(depth):
    model = build_rnn(dataclasses.replace(config("mips"), mlp_depth=depth), seed=3)
    x = torch.randn(8, 9, 3, generator=torch.Generator().manual_seed(4))
    y, h = model(x)
    y_ref, h_ref = hand_written_mips(model, x)
    torch.testing.assert_close(h, h_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gated_networks_start_from_zero_state(kind):
    model = build_rnn(config(kind), seed=0)
    x = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(5))
    zeros = (torch.zeros(1, 2, 7),) if kind == "gru" else ((torch.zeros(1, 2, 7), torch.zeros(1, 2, 7)),)
    h_ref, _ = model.recurrent(x, *zeros)
    assert torch.equal(model(x)[1], h_ref)


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_round_trip_gives_identical_outputs(kind, tmp_path):
    run = train_rnn(config(kind), *running_sum_mod_3(64, 6, seed=0), seed=1, steps=5, batch=16)
    torch.save({"state_dict": run.model.state_dict(), "config": run.config.to_json()}, tmp_path / "rnn.pt")
    payload = torch.load(tmp_path / "rnn.pt", weights_only=True)
    loaded = build_rnn(RNNConfig.from_json(payload["config"]), seed=99)  # other weights, then overwritten
    loaded.load_state_dict(payload["state_dict"])
    x = torch.randn(5, 8, 3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(loaded(x)[0], run.model(x)[0]) and torch.equal(loaded(x)[1], run.model(x)[1])


def test_training_is_reproducible_and_minibatched():
    data = running_sum_mod_3(200, 5, seed=0)
    a, b = (train_rnn(config("mips"), *data, seed=7, steps=12, batch=64, eval_every=4) for _ in range(2))
    c = train_rnn(config("mips"), *data, seed=8, steps=12, batch=64, eval_every=4)
    assert a.losses == b.losses and len(a.losses) == 12 and a.losses != c.losses
    weights = zip(a.model.state_dict().values(), b.model.state_dict().values())
    assert all(torch.equal(p, q) for p, q in weights)
    assert a.eval_steps == [0, 4, 8, 12] and a.train_accuracy == b.train_accuracy
    assert len(set(a.losses)) == 12  # minibatches of 64 of 200 sequences: each step sees other data


def test_interrupt_returns_what_was_trained():
    def stop(progress):
        if progress.step == 3:
            raise KeyboardInterrupt

    data = running_sum_mod_3(50, 4, seed=0)
    run = train_rnn(config("gru"), *data, seed=0, steps=100, eval_every=10, progress=stop)
    assert run.interrupted and run.steps_run == 3 and run.eval_steps == [0, 3] and len(run.losses) == 3


def test_ctrl_c_ends_the_run_after_the_step():
    def press_ctrl_c(progress):
        if progress.step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # deferred by train_rnn: the step's loop finishes first

    data = running_sum_mod_3(50, 4, seed=0)
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN in a shell's background job
    run = train_rnn(config("mips"), *data, seed=0, steps=100, eval_every=10, progress=press_ctrl_c)
    assert run.interrupted and run.steps_run == 2 and run.eval_steps == [0, 2]
    assert signal.getsignal(signal.SIGINT) is before  # restored


def test_bad_data_is_refused():
    x, y = running_sum_mod_3(10, 4, seed=0)
    with pytest.raises(TrainingError, match="classes 0..1"):
        train_rnn(dataclasses.replace(config("mips"), outputs=2), x, y, seed=0, steps=1)
    with pytest.raises(TrainingError, match="shape"):
        train_rnn(config("mips"), x[:, :, :2], y, seed=0, steps=1)
    with pytest.raises(TrainingError, match="lr"):
        train_rnn(config("mips"), x, y, seed=0, steps=1, lr=0.0)
    with pytest.raises(TrainingError, match="kind"):
        RNNConfig(kind="transformer")


def test_mips_learns_running_sum_mod_3_fast():
    """At lr 1e-2 (ten times MIPS's) the default-sized mips RNN reaches ≥ 99 % per-step test
    accuracy in a few hundred full-batch steps (measured: 100 % at step 200, 2 s on one thread;
    seeds 1 and 2: 99 % at steps 50 and 400)."""
    train, test = running_sum_mod_3(1600, 10, seed=0), running_sum_mod_3(400, 10, seed=1)
    cfg = RNNConfig(kind="mips", inputs=3, outputs=3)
    assert per_step_accuracy(build_rnn(cfg, seed=0), *test) < 0.6
    run = train_rnn(cfg, *train, seed=0, steps=500, lr=1e-2, test=test, eval_every=50, stop_at=0.99)
    assert run.test_accuracy[-1] >= 0.99 and run.steps_run <= 500
    assert run.losses[-1] < 0.1 * run.losses[0]  # chance is ln 3 ≈ 1.10


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_running_sum_mod_3_at_mips_learning_rate(kind):
    """MIPS's lr 1e-3, 1,600 training sequences: ≥ 99 % test within 4,000 steps (measured, seed 0: 99 %
    at step mips 1,750, gru 550, lstm 600; 100 % at gru 650, lstm 600, while mips stalls at 99.88 %
    through 20,000 steps — with 16,000 training sequences it reaches 100 % at step 5,000)."""
    train, test = running_sum_mod_3(1600, 10, seed=0), running_sum_mod_3(400, 10, seed=1)
    run = train_rnn(RNNConfig(kind=kind, inputs=3, outputs=3), *train, seed=0, steps=4000, test=test,
                    eval_every=50, stop_at=0.99)  # fmt: skip
    assert run.test_accuracy[-1] >= 0.99

"""Measurements for neural/rnn.py (a script, not a test): `python tests/neural/bench_rnn.py speed`
prints steps/s of each kind at batch 4096, length 10, one thread; `python tests/neural/bench_rnn.py
mod3 [--lr 1e-3] [--train 1600]` the steps and seconds each kind needs to reach 100 % per-step
test accuracy on the running sum mod 3 (one-hot inputs 0..2, length 10, 400 test sequences).
"""

import argparse
import time

import torch
import torch.nn.functional as F

from neural.rnn import KINDS, RNNConfig, train_rnn


def running_sum_mod_3(n: int, length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    digits = torch.randint(0, 3, (n, length), generator=torch.Generator().manual_seed(seed))
    return F.one_hot(digits, 3).float(), torch.cumsum(digits, dim=1) % 3


def speed(steps: int) -> None:
    data = running_sum_mod_3(8192, 10, seed=0)
    for kind in KINDS:
        config = RNNConfig(kind=kind, inputs=3, outputs=3, hidden=16, mlp_width=32)
        train_rnn(config, *data, seed=0, steps=5, eval_every=10**9)  # warm-up
        started = time.perf_counter()
        run = train_rnn(config, *data, seed=0, steps=steps, eval_every=10**9)  # evaluated at 0 and the end
        seconds = time.perf_counter() - started
        print(f"{kind}: {steps / seconds:.1f} steps/s ({1000 * seconds / steps:.1f} ms/step, batch 4096, "
              f"length 10, 1 thread, 2 evaluations of 8192 sequences included; cpu {run.cpu_seconds:.2f} s)")


def mod3(lr: float, n_train: int, max_steps: int, seeds: int) -> None:
    train, test = running_sum_mod_3(n_train, 10, seed=0), running_sum_mod_3(400, 10, seed=1)
    for kind in KINDS:
        for seed in range(seeds):
            config = RNNConfig(kind=kind, inputs=3, outputs=3, hidden=16, mlp_width=32)
            run = train_rnn(config, *train, seed=seed, steps=max_steps, lr=lr, test=test, eval_every=50,
                            stop_at=1.0)  # fmt: skip
            reached = "100 % test at step" if run.test_accuracy[-1] == 1.0 else "not 100 % by step"
            print(f"{kind} seed {seed}: {reached} {run.steps_run}, {run.seconds:.1f} s; "
                  f"test {run.test_accuracy[-1]:.4f}, 99 % at step {run.first_step('test', 0.99)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["speed", "mod3"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--train", type=int, default=1600)
    parser.add_argument("--max-steps", type=int, default=20000)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    speed(args.steps) if args.what == "speed" else mod3(args.lr, args.train, args.max_steps, args.seeds)

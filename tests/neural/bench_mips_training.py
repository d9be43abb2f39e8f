"""Measurements of the `mips` sequence preset on every built-in MIPS task (a script, not a test):

    PYTHONPATH=. python tests/neural/bench_mips_training.py [--preset mips] [--tasks A,B] [--shard 0/2]
        [--set key=value ...]

loads each task of dsl/tasks/mips.task (its own 10,000 sequences, split and length), trains the
preset on it (one thread) and prints one row per task: head (classes | regression), steps run,
wall seconds, per-step train and test accuracy, whole-sequence test accuracy, and whether both
accuracies are exactly 1 (what distillation into a program needs). `--set` overrides config
fields (e.g. `--set steps=6000 --set learning_rate=3e-3`); `--shard i/n` runs every n-th task.
"""

import argparse
import dataclasses
import json
import time

import dsl
from neural.sequence import get_sequence_preset, train_sequence


def mips_task_names() -> list[str]:
    names = []
    with open("dsl/tasks/mips.task") as file:
        for line in file:
            if line.startswith("task "):
                names.append(line.split()[1])
    return names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="mips")
    parser.add_argument("--tasks", default=None)
    parser.add_argument("--shard", default="0/1")
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()
    config = get_sequence_preset(args.preset).config
    for item in args.set:
        key, value = item.split("=", 1)
        config = dataclasses.replace(config, **{key: json.loads(value) if value[:1] not in "abcdefghijklmnopqrstuvwxyz" or value in ("true", "false", "null") else value})
    names = args.tasks.split(",") if args.tasks else mips_task_names()
    index, count = (int(part) for part in args.shard.split("/"))
    names = names[index::count]
    print(f"{'task':24s} {'head':10s} {'steps':>5s} {'sec':>6s} {'train':>7s} {'test':>7s} {'seqs':>6s} perfect", flush=True)
    perfect = 0
    total = time.perf_counter()
    for name in names:
        task = dsl.load_any_task(name)
        started = time.perf_counter()
        result = train_sequence(task, config)
        ok = result.train_accuracy == 1.0 and result.test_accuracy == 1.0
        perfect += ok
        print(
            f"{name:24s} {result.encoding.head:10s} {result.steps_run:5d} {time.perf_counter() - started:6.1f} "
            f"{result.train_accuracy:7.4f} {result.test_accuracy:7.4f} {result.sequence_accuracy:6.3f} {'yes' if ok else 'no'}",
            flush=True,
        )
    print(f"perfect {perfect}/{len(names)} in {time.perf_counter() - total:.0f} s", flush=True)


if __name__ == "__main__":
    main()

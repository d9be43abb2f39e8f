"""Measurements for neural/sequence.py (a script, not a test):

    PYTHONPATH=. python tests/neural/bench_sequence.py [--preset mips] [--count 2000] [--tasks A,B]

trains the preset on MIPS's Add_Mod_3, Parity_Last3, Sum_Last3 and Binary_Addition (length 10,
`count` sequences, 80 % train) and prints steps, wall seconds and accuracies per task.
"""

import argparse
import time

from neural.sequence import get_sequence_preset, train_sequence
from tests.neural.sequence_tasks import SPECS, mips_task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="mips")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--tasks", default=",".join(SPECS))
    args = parser.parse_args()
    config = get_sequence_preset(args.preset).config
    for name in args.tasks.split(","):
        task = mips_task(name, count=args.count)
        started = time.perf_counter()
        result = train_sequence(task, config)
        print(
            f"{name:16s} {result.encoding.head:10s} steps {result.steps_run:5d} "
            f"wall {time.perf_counter() - started:5.1f} s  train {result.train_accuracy:.4f}  "
            f"test {result.test_accuracy:.4f}  sequences {result.sequence_accuracy:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

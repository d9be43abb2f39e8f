"""search.heap.trim_heap: the heap's free memory goes back to the system (glibc)."""

import subprocess
import sys

import pytest

from search.heap import _libc

SCRIPT = """
import numpy as np
from search.heap import trim_heap
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))
big = np.ones(2 << 20)
del big  # a 16 MB mmapped block freed: glibc's mmap threshold rises to 16 MB
blocks = [np.ones(1 << 20) for _ in range(64)]  # 8 MB each, now from the heap
last = blocks[-1]  # the heap's top stays in use: nothing is returned by itself
del blocks
before = rss_mb()
trim_heap()
print(before, rss_mb())
"""


@pytest.mark.skipif(_libc() is None or not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_memory_is_returned() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before > 400 and after < before - 400  # the 63 freed blocks (504 MB) left the process

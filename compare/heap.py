"""Give the heap's freed memory back to the system between the phases of a long run.

glibc's malloc raises its mmap threshold to the size of each large block freed, after which
blocks of up to 32 MB come from the heap, which it returns only from its top: a process that
trains a network (torch's tensors), then searches (numpy's rows), then trains again keeps the
free memory of every phase as resident. `occam bench mips --quick` peaked at 2.25 GB RSS, its
resident memory growing by 100-500 MB a task (tracemalloc's count of live Python and numpy
memory stayed at 162 MB); with `trim_heap` after each training and each task, 1.3 GB. Fixing the
threshold instead (search/relaxed/searcher.py does, for its many short-lived tensors) cost the
RNN's training a fifth more time here, so the phases trim.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

__all__ = ["trim_heap"]


def trim_heap() -> None:
    """Collect cycles, then return the heap's free pages to the system (a no-op off glibc)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc

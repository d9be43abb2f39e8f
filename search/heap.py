"""glibc's malloc, kept from holding freed memory: the one place for its rules.

glibc raises its mmap threshold to the size of each large block freed, after which blocks of up
to 32 MB come from the heap, which it returns only from its top. Two remedies, each where it fits:

- `fix_mmap_threshold`: keep the threshold at its default 128 KiB, process-wide. The relaxed
  searcher does (its steps allocate MB-sized tensors by the thousand): hd09_abs at depth 4, 3
  steps, peaked at 5.1 GB RSS (60 s) against 0.82 GB (31 s) with the threshold fixed.
- `trim_heap`: return the heap's free pages now, between the phases of a long run. A process
  that trains a network (torch's tensors), then searches (numpy's rows), then trains again kept
  the free memory of every phase resident: `occam bench mips --quick` peaked at 2.25 GB RSS, its
  resident memory growing by 100-500 MB a task while tracemalloc's count of live Python and numpy
  memory stayed at 162 MB; trimming after each training and each task, 1.07 GB. Fixing the
  threshold there instead made the RNN's training about a fifth slower.

Off glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

__all__ = ["fix_mmap_threshold", "trim_heap"]

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


def trim_heap(*, collect: bool = True) -> None:
    """Return the heap's free pages to the system; first, with `collect`, collect reference
    cycles (about 0.1 s with torch and sympy loaded)."""
    if collect:
        gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def fix_mmap_threshold() -> None:
    """Keep the mmap threshold at its default 128 KiB instead of letting it rise (once)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc's, absent elsewhere
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc

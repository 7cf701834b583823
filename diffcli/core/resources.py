"""Bounds on memory and time that hold by construction: work is cut into chunks.

Work that grows with the input (finite differences over n entries, a grid of N points)
runs a chunk at a time. A chunk is sized so that its working arrays fit the memory budget
and so that it takes a fraction of a second: the deadline (deadline.py) is checked between
chunks, and no single NumPy call runs long enough to outlast it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from diffcli.core.errors import OptionError

if TYPE_CHECKING:
    from diffcli.core.problem import Problem

DEFAULT_MEMORY_MIB = 1024  # working arrays of one comparison, at most
MIN_MEMORY_MIB = 16  # less cannot hold one row of a large problem's points
MIB = 1 << 20
# elements one chunk may touch: about 10-50 ms of NumPy work, so a deadline is met within
# a fraction of a second whatever the input
CHUNK_ELEMENTS = 1 << 21
ITEMSIZE = 16  # the widest working number (complex128 for the complex step)


def budget_bytes(memory_mib: float) -> int:
    """The budget in bytes (--max-memory is in MiB)."""
    if not (math.isfinite(memory_mib) and memory_mib >= MIN_MEMORY_MIB):
        raise OptionError(f"--max-memory must be at least 16 (MiB), got {memory_mib:g}")
    return int(memory_mib * MIB)


def row_elements(problem: Problem, entries: int) -> int:
    """Numbers one evaluated point keeps alive: its entries and every node's value (the
    evaluator holds them all until the end). A --python function cannot be read: eight
    times its inputs and output is assumed."""
    from diffcli.lang.expr import walk

    if problem.expr is None:
        return 8 * (entries + math.prod(problem.output_shape))
    sizes = sum(math.prod(node.shape or ()) for node in walk(problem.expr))
    return entries + sizes


def rows_per_chunk(row_elements: int, memory_mib: float = DEFAULT_MEMORY_MIB) -> int:
    """How many points to evaluate at once when each holds row_elements numbers alive."""
    per_row = max(1, row_elements)
    by_memory = budget_bytes(memory_mib) // (per_row * ITEMSIZE)
    by_time = CHUNK_ELEMENTS // per_row
    return max(1, min(by_memory, by_time))


def check_fits(what: str, elements: int, memory_mib: float, hint: str, copies: int = 1) -> None:
    """Refuse up front a result that cannot fit the budget (a 10^5 x 10^5 Hessian), with
    the copies of it the work holds at once."""
    needed = elements * 8 * copies
    budget = budget_bytes(memory_mib)
    if needed > budget:
        held = f"; the methods hold {copies} tables of that size" if copies > 1 else ""
        raise OptionError(
            f"{what} has {elements:,} entries{held} ({byte_size(needed)}), more than the memory "
            f"budget of {byte_size(budget)} (--max-memory {memory_mib:g}); {hint}"
        )


def byte_size(count: float) -> str:
    """A byte count in B, KiB, MiB or GiB."""
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@cache
def _libc() -> Any:
    """glibc, loaded on first use (ctypes is not start-up's business), or None."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> None:
    """Hand memory freed by a finished chunk back to the system (glibc's malloc_trim).

    glibc raises its mmap threshold after the first large free, so chunk-sized arrays
    then come from the heap, where torch's and NumPy's frees fragment it and the resident
    size creeps up with the number of chunks (0.6 GiB more at 10^8 grid points). A no-op
    where the C library has no malloc_trim."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def one_heap_for_new_threads() -> None:
    """Threads started from now on allocate from the heaps (glibc's arenas) that exist,
    the main thread's first, rather than each from a new one of its own.

    Why: a grid runs its methods one after another, some in worker threads (NumPy's
    halves) and some in the main one (torch). With a heap per thread, memory freed by one
    method cannot serve the next, which page-faults fresh memory in instead: a third of a
    10^6-point run's page faults, and torch's first chunks ran 3x slower. Large blocks
    are taken a few per operation, so a shared heap's lock is not contended. It lasts for
    the process (glibc fixes its limit on heaps the first time it needs it), so threads
    that a warm session starts later share heaps too. A no-op where the C library has no
    mallopt."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_ARENA_MAX, 1)


_TRIM_THRESHOLD, _MMAP_THRESHOLD, _ARENA_MAX = -1, -3, -8  # glibc's mallopt parameters
_GLIBC_DEFAULT = 128 * 1024


@contextlib.contextmanager
def freed_memory_kept(most: int = 256 << 20) -> Iterator[None]:
    """Within: blocks up to `most` bytes that NumPy and torch free are kept for their next
    arrays, not handed back to the system at once.

    Why: a grid chunk's temporaries are a MiB or two each, and glibc maps such blocks
    afresh and unmaps them when freed, so every new one page-faults its way in: that was a
    third of a grid's time. Memory stays flat, as the same chunk-sized blocks are reused.
    On leaving, glibc's defaults come back; what is free stays with the process for the
    work after (the table, a plot) until its owner hands it back (release_freed_memory: a
    warm session after each line; a one-shot command ends instead, and a trim there would
    only delay its answer, by 3 ms at 10^6 points). A no-op where the C library has no
    mallopt."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        yield
        return
    libc.mallopt(_TRIM_THRESHOLD, most)
    libc.mallopt(_MMAP_THRESHOLD, most)
    try:
        yield
    finally:
        libc.mallopt(_TRIM_THRESHOLD, _GLIBC_DEFAULT)
        libc.mallopt(_MMAP_THRESHOLD, _GLIBC_DEFAULT)

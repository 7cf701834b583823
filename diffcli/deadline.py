"""A time budget for work that cannot be asked to stop (SymPy on a swelling expression,
a user's Python loop).

On the main thread of a Unix process, an interval timer interrupts the work with
TimedOut between two bytecodes; work that grows with the input runs in short chunks
(resources.py), so it is interrupted within a fraction of a second. Elsewhere (a
notebook's worker thread, Windows) the work runs to the end.

TimedOut is a BaseException, as KeyboardInterrupt is: a user's `except Exception` inside
a --python function cannot swallow it. Deadlines nest: an inner one never outlives the
outer one, and the outer one goes on counting after it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class TimedOut(BaseException):
    """The budget ran out before the work did."""


class Budget:
    """One --timeout for a whole command, shared by its stages: each stage is given its
    share of what is left, so a stage that finishes early leaves more to the next, and the
    command ends within the budget whatever each stage does."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.end is None else max(0.0, self.end - time.monotonic())

    def share(self, stages: int) -> float | None:
        """This stage's part of what is left, when `stages` stages (this one included)
        still have to run."""
        left = self.left()
        return None if left is None else left / max(1, stages)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt the work with TimedOut after `seconds` (None: no limit; 0: at once)."""
    if seconds is not None and seconds <= 0:
        raise TimedOut
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    assert seconds is not None
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()

    def interrupt(signum: int, frame: object) -> None:
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer > 0 else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer > 0:  # the outer deadline's remaining time, at least a moment to fire
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


@contextmanager
def shielded() -> Iterator[None]:
    """Hold the deadline off for a few steps that must not be cut in two (entering and
    leaving torch's forward-AD level: cut there, the level leaks and every later forward
    pass fails). A deadline that passes meanwhile fires as the shield lifts."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

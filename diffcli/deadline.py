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


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
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

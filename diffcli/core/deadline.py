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
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TimedOut(BaseException):
    """The budget ran out before the work did."""


FLOOR = 0.25  # seconds: the least share of a stage, whatever the stages before it took


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
        still have to run; never less than a tenth of the budget (at most FLOOR seconds),
        so that a stage that overran (a long C call is only stopped once it returns) does
        not leave the next one no time at all."""
        left = self.left()
        if left is None or self.seconds is None:
            return None
        return max(left / max(1, stages), min(FLOOR, self.seconds / 10))


REPEAT = 0.05  # seconds between reminders once a deadline has passed


class _State:
    """Whether TimedOut may be raised now: not inside a shielded section (a reminder comes
    again REPEAT seconds later)."""

    shield = 0


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt the work with TimedOut after `seconds` (None: no limit; 0: at once).

    Once the time has passed, the timer keeps firing every REPEAT seconds until the work
    has stopped: a TimedOut raised where Python cannot pass it on (inside a weakref
    callback or a __del__, which would print it as 'Exception ignored': it is dropped
    quietly instead) or held off by a shielded section is raised again a moment later."""
    if seconds is not None and seconds <= 0:
        raise TimedOut
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    assert seconds is not None
    outer, outer_repeat = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    active = [True]

    def interrupt(signum: int, frame: object) -> None:
        if active[0] and not _State.shield:
            raise TimedOut

    report = sys.unraisablehook

    def unraisable(failure: Any) -> None:
        if not isinstance(failure.exc_value, TimedOut):  # that one: the next reminder
            report(failure)

    previous = signal.signal(signal.SIGALRM, interrupt)
    sys.unraisablehook = unraisable
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer > 0 else seconds, REPEAT)
    try:
        yield
    finally:
        active[0] = False  # first: a reminder landing in here must not raise
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = report
        if outer > 0:  # the outer deadline's remaining time, at least a moment to fire
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), outer_repeat)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold the deadline off for steps that must not be cut in two (a pass inside torch's
    forward-AD level: cut there, the level leaks and every later forward pass fails). A
    deadline that passes meanwhile is raised by its next reminder, after the section."""
    _State.shield += 1
    try:
        yield
    finally:
        _State.shield -= 1

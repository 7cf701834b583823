"""Run work that executes the user's code (--python) in a child process that can be killed.

A deadline (deadline.py) interrupts Python code between two bytecodes, which ends a
`while True: pass`; it cannot end code stuck inside one C call (`sum(range(10**15))`, a
regular expression that backtracks for ever). A forked child can always be ended: the
parent waits for its answer until a wall-clock limit, then kills it.

The child is forked (it inherits what is imported, so it starts in milliseconds) and
sends back its result, or the DiffcliError it raised, pickled. Where fork is not
available (Windows, macOS's default), the work runs in this process under its deadlines.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from diffcli.core.errors import DiffcliError

T = TypeVar("T")
# seconds past --timeout before a child that has not answered is killed: its deadlines end
# Python code within the budget and it answers at once; this is for code stuck in one C
# call, with room for a busy machine
GRACE = 2.0


class Stuck(Exception):
    """The child did not answer within its limit and was killed: the work failed (it is
    not a problem with the input)."""


class _Shown(DiffcliError):
    """A DiffcliError raised in the child, shown in the parent exactly as it rendered there."""

    def __init__(self, text: str) -> None:
        super().__init__(text.splitlines()[0] if text else "")
        self.text = text

    def render(self) -> str:
        return self.text


def usable() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def run_isolated(work: Callable[[], T], seconds: float, what: str) -> T:
    """work() in a forked child; killed, with Stuck raised, if it has not answered within
    `seconds` of wall-clock time."""
    if not usable():
        return work()
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, sending), daemon=True)
    child.start()
    sending.close()
    try:
        if not receiving.poll(seconds):
            raise Stuck(f"{what} did not answer within {seconds:g} s and was stopped")
        try:
            kind, payload = receiving.recv()
        except EOFError:
            raise Stuck(f"{what} ended without an answer (the process died)") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiving.close()
    if kind == "error":
        raise _Shown(payload)
    if kind == "stuck":
        raise Stuck(payload)
    if kind == "bug":
        raise RuntimeError(f"in the child process: {payload}")
    return payload


def _child(work: Callable[[], Any], sending: Any) -> None:
    """In the child: do the work, send back its result or its error's text, and leave
    without running the parent's exit handlers (they belong to the parent)."""
    try:
        message: tuple[str, Any] = ("ok", work())
    except DiffcliError as problem:
        message = ("error", problem.render())
    except Stuck as stuck:
        message = ("stuck", str(stuck))
    except BaseException as failure:  # a bug: raised again in the parent, as one line
        message = ("bug", f"{type(failure).__name__}: {failure}".splitlines()[0])
    try:
        sending.send(message)
    except (pickle.PicklingError, TypeError, AttributeError) as failure:
        sending.send(("error", f"the result could not be sent back: {failure}"))
    finally:
        sending.close()
        os._exit(0)

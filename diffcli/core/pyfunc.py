"""--python FILE:FUNC: differentiate a Python function of torch tensors (loops, branches).

This RUNS the user's file (as `python FILE` would, with its own imports): it is asked
for explicitly, and never done with an expression. Errors in that code are reported with
the user's own traceback (the frames in their file), not diffcli's.
"""

from __future__ import annotations

import functools
import inspect
import runpy
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from diffcli.core.errors import DiffcliError


class UserCodeError(DiffcliError):
    """The user's file or function failed; shown with the frames from their own file."""

    def __init__(self, message: str, frames: str = "") -> None:
        super().__init__(message)
        self.frames = frames

    def render(self) -> str:
        return f"{self}\n{self.frames}".rstrip()


def load(spec: str) -> tuple[Callable[..., Any], list[str]]:
    """Run FILE and return FUNC with its parameter names (the variables, in order)."""
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text or not name:
        raise DiffcliError(
            f"--python {spec}: expected FILE.py:FUNCTION, e.g. examples/control_flow.py:f"
        )
    path = Path(path_text)
    if not path.is_file():
        raise DiffcliError(f"--python: no such file: {path}")
    try:
        namespace = runpy.run_path(str(path), run_name="__diffcli_user__")
    except (SystemExit, KeyboardInterrupt) as stop:
        raise UserCodeError(f"--python: running {path} raised {type(stop).__name__}") from None
    except Exception as failure:  # the user's module failed while it ran
        raise UserCodeError(
            f"--python: running {path} raised {type(failure).__name__}: {failure}",
            user_frames(failure.__traceback__, path),
        ) from None
    function = namespace.get(name)
    if not callable(function):
        found = sorted(
            k for k, v in namespace.items() if inspect.isfunction(v) and not k.startswith("_")
        )
        listed = ", ".join(found) or "none"
        raise DiffcliError(
            f"--python: {path} defines no function {name!r} (its functions: {listed})"
        )
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        raise DiffcliError(f"--python: {name} must name its parameters (no *args or **kwargs)")
    if not parameters:
        raise DiffcliError(f"--python: {name} takes no parameters to differentiate by")
    return guarded(function), [p.name for p in parameters]


class UserExit(RuntimeError):
    """The user's function called sys.exit or raised KeyboardInterrupt: that ends the
    method that called it, not diffcli."""


def guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """The user's function, with SystemExit and KeyboardInterrupt from inside it turned
    into an ordinary failure of the method that called it."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (SystemExit, KeyboardInterrupt) as stop:
            detail = f" {stop.code!r}" if isinstance(stop, SystemExit) else ""
            raise UserExit(f"the function raised {type(stop).__name__}{detail}") from None

    return call


def user_frames(tb: TracebackType | None, path: Path) -> str:
    """The traceback lines that belong to the user's file."""
    resolved = str(path.resolve())
    frames = [f for f in traceback.extract_tb(tb) if str(Path(f.filename).resolve()) == resolved]
    if not frames:
        return ""
    return "Traceback (in your file):\n" + "".join(traceback.format_list(frames))


class RanElsewhere:
    """Stands for a --python function that ran in a child process (isolate.py): it can be
    sent back with the result, and says where the function was if it is called."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise DiffcliError(f"--python {self.spec} ran in a child process; call it there")

"""Errors the library raises for bad input, and the exit statuses every command answers with."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What a command's exit status means (docs/json.md), for every command alike."""

    AGREE = 0  # the methods agree; the answer is right; the work is done
    FAILED = 1  # a disagreement, a failed method, a wrong answer, work past --timeout
    BAD_INPUT = 2  # bad input (DiffcliError): one line on stderr
    NOT_DIFFERENTIABLE = 3  # the function has a kink at the point
    INTERRUPTED = 130  # Ctrl-C


class DiffcliError(Exception):
    """A problem with what the user asked for, with a message fit to show them (exit 2)."""

    def render(self) -> str:
        """The text to print on stderr: the message, and where it applies."""
        return str(self)


class SourceError(DiffcliError):
    """A problem at a place in a piece of user text: shown with a caret under it."""

    def __init__(self, message: str, text: str, start: int, end: int | None = None) -> None:
        super().__init__(message)
        self.text = text
        self.start = max(0, min(start, len(text)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)

    def render(self) -> str:
        shown = self.text.replace("\t", " ")
        if len(shown) > 120:
            lo = max(0, self.start - 40)
            shown = ("…" if lo else "") + shown[lo : lo + 100] + "…"
            offset = self.start - lo + (1 if lo else 0)
        else:
            offset = self.start
        width = max(1, min(self.end - self.start, len(shown) - offset))
        return f"{self}\n  {shown}\n  {' ' * offset}{'^' * width}"


class ParseError(SourceError):
    """The expression text is not in the language."""


class PointError(SourceError):
    """The --at text does not give a usable value for every variable."""


class ShapeError(SourceError):
    """An operation is applied to arrays of shapes it does not accept."""


class OptionError(DiffcliError):
    """An option value cannot be used (unknown variable in --wrt, bad --order, ...)."""


class DeviceError(DiffcliError):
    """The requested torch device or dtype is not available on this machine."""

"""Where a command's output goes: printed, as the CLI and the shell do, or kept, as a
notebook's magic wants it (to display as HTML and to return the result object).

Commands write through show(), show_text(), error() and keep(); outside keeping() they
print exactly what they always printed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import click


@dataclass
class Kept:
    """What one command produced: its views (rich renderables, or text such as JSON and
    LaTeX), its one-line errors, and the result object it computed."""

    views: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    result: Any = None


_KEPT: ContextVar[Kept | None] = ContextVar("diffcli_kept", default=None)


@contextmanager
def keeping() -> Iterator[Kept]:
    """Within the block, commands keep their output here instead of printing it."""
    kept = Kept()
    token = _KEPT.set(kept)
    try:
        yield kept
    finally:
        _KEPT.reset(token)


def show(views: list[Any]) -> None:
    """Rich renderables: printed on the console, or kept."""
    kept = _KEPT.get()
    if kept is not None:
        kept.views.extend(views)
        return
    from diffcli.render.console import console

    screen = console()
    for view in views:
        screen.print(view)


def show_text(text: str, newline: bool = True) -> None:
    """Text a script reads (JSON, CSV, LaTeX, DOT): echoed as it is, or kept."""
    kept = _KEPT.get()
    if kept is not None:
        kept.views.append(text)
        return
    click.echo(text, nl=newline)


def error(line: str) -> None:
    """A one-line message for standard error, or kept."""
    kept = _KEPT.get()
    if kept is not None:
        kept.errors.append(line)
        return
    click.echo(line, err=True)


def keep(result: Any) -> None:
    """The result object a command computed: what a magic returns."""
    kept = _KEPT.get()
    if kept is not None:
        kept.result = result


def is_kept() -> bool:
    """Whether output is being kept (a magic) rather than printed."""
    return _KEPT.get() is not None

"""The rich console every table is printed on."""

from __future__ import annotations

import os
import sys
from typing import Any


def console() -> Any:
    """A rich console: colours only on a terminal and without NO_COLOR; as wide as the
    terminal, or COLUMNS where it is set, else 120 in a pipe.

    Markup is off: user text ([x, y], [/x]) must print as written, never as a style tag."""
    from rich.console import Console

    measured = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    no_color = "NO_COLOR" in os.environ or None
    return Console(width=None if measured else 120, no_color=no_color, markup=False)


def html_of(view: Any, width: int = 110) -> str:
    """A rich renderable as inline-styled HTML, as a terminal `width` wide would show it:
    what a notebook displays."""
    import io

    from rich.console import Console

    recorder = Console(
        record=True,
        file=io.StringIO(),
        width=width,
        color_system="truecolor",
        markup=False,
        force_jupyter=False,  # else rich, seeing a kernel, displays it a second time
    )
    recorder.print(view)
    return recorder.export_html(inline_styles=True)

"""The rich console every table is printed on."""

from __future__ import annotations

import os
import sys
from typing import Any


def console() -> Any:
    """A rich console: colours only on a terminal and without NO_COLOR, 120 wide in pipes.

    Markup is off: user text ([x, y], [/x]) must print as written, never as a style tag."""
    from rich.console import Console

    terminal = sys.stdout.isatty()
    no_color = "NO_COLOR" in os.environ or None
    return Console(width=None if terminal else 120, no_color=no_color, markup=False)

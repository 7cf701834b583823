"""diffcli: differentiate an expression symbolically, numerically and with autograd, and
compare the three. The public API loads lazily, so `import diffcli` stays cheap."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
# The printers, explain and SymPy walk a tree recursively; a long sum (a + b + ... over a
# thousand terms) is that deep. Trees are capped at MAX_HEIGHT levels (lang/parse.py), which
# this recursion limit covers; Python's default of 1000 does not.
RECURSION_LIMIT = 10_000
sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
# torch's idle OpenMP threads spin for a while after each parallel operation (libgomp's
# default), taking the cores from the NumPy threads a grid runs beside torch: a tenth of a
# 10^6-point run. A short spin, then sleep; libgomp reads this when torch loads, and a
# setting of the user's own wins.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
__all__ = [
    "Comparison",
    "DiffcliError",
    "Options",
    "__version__",
    "check",
    "compare",
    "explain",
    "graph",
    "parse",
]

if TYPE_CHECKING:
    from diffcli.core.api import compare, graph
    from diffcli.core.errors import DiffcliError
    from diffcli.core.options import Options
    from diffcli.core.results import Comparison
    from diffcli.lang.parse import parse
    from diffcli.teaching.check import check
    from diffcli.teaching.explain import explain

_WHERE = {
    "compare": "diffcli.core.api",
    "graph": "diffcli.core.api",
    "check": "diffcli.teaching.check",
    "explain": "diffcli.teaching.explain",
    "Comparison": "diffcli.core.results",
    "DiffcliError": "diffcli.core.errors",
    "Options": "diffcli.core.options",
    "parse": "diffcli.lang.parse",
}


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext diffcli`: the %diff and %%diff magics (diffcli/warm/magics.py)."""
    from diffcli.warm.magics import load

    load(ipython)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'diffcli' has no attribute {name!r}")

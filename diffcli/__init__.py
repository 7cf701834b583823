"""diffcli: differentiate an expression symbolically, numerically and with autograd, and
compare the three. The public API loads lazily, so `import diffcli` stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Comparison", "DiffcliError", "Options", "__version__", "compare", "parse"]

if TYPE_CHECKING:
    from diffcli.api import compare
    from diffcli.comparison import Comparison
    from diffcli.errors import DiffcliError
    from diffcli.lang.parse import parse
    from diffcli.options import Options

_WHERE = {
    "compare": "diffcli.api",
    "Comparison": "diffcli.comparison",
    "DiffcliError": "diffcli.errors",
    "Options": "diffcli.options",
    "parse": "diffcli.lang.parse",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'diffcli' has no attribute {name!r}")

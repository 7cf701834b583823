"""The three independent ways to differentiate: symbolic, numeric and autograd."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

HESSIAN = "hessian"  # the key of the N x N Hessian over the flattened wrt variables


@dataclass
class Outcome:
    """What one method computed: float64 arrays per variable and the method's own details.

    `value[name]` has shape (output shape + the variable's shape), numerator layout; with
    --order K it is the K-th derivative, of the output's shape. For the hessian command
    there is one entry, value[HESSIAN], N x N over the flattened wrt variables.
    """

    value: dict[str, np.ndarray]
    details: dict[str, Any] = field(default_factory=dict)


def load_engines(symbolic: bool, autograd: bool) -> None:
    """Import NumPy's engine, and SymPy's and torch's where they will run, before a
    deadline's clock starts: importing (torch takes over a second) is start-up, not the
    work --timeout bounds."""
    import importlib

    importlib.import_module("diffcli.methods.numeric")
    if symbolic:
        importlib.import_module("diffcli.methods.symbolic")
    if autograd:
        importlib.import_module("diffcli.methods.autograd")

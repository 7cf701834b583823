"""What a grid's finite differences promise: a stencil taken once, at its first step, is
as accurate as that step allows, and no more.

Along a grid the central difference is taken once, at h = eps^(1/3) max(1, |x|): right
for a function that changes on the scale of max(1, |x|), and off by about h^2 |f'''| / 6
where it changes faster (sin(10 x); log(x) at 0.01, whose derivatives grow as x shrinks).
At a single point the step is settled instead, and there numeric is held to its own error
estimate where that is wider than the tolerance (core/verdict.measure). A grid holds it,
where its error passes the tolerance, to the truncation error of its step, from SymPy's
exact f''' (twice it, and never more than NUMERIC_WIDEST of |f'|, as at a point): an
error past that is the method failing, not its step being too large.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.core.verdict import NUMERIC_WIDEST

SAFETY = 2.0  # the truncation error's leading term, doubled: the next terms and rounding


class Truncation:
    """h^2 |f'''| / 6 for the central difference at each point's first step."""

    def __init__(self, derivative: Any, x_symbol: Any, eps: float, evaluator: Callable) -> None:
        """derivative: SymPy's f'; evaluator(expr) makes expr's float64 values at arrays of
        points (the grid's, with the other variables fixed)."""
        self.derivative, self.x_symbol, self.eps = derivative, x_symbol, eps
        self.evaluator = evaluator
        self._third: Callable[[np.ndarray], np.ndarray] | None = None

    def allowed(self, xs: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """The error the stencil's step allows at the points xs, whose exact f' is `exact`."""
        if self._third is None:  # derived when first asked: most grids never need it
            self._third = self.evaluator(self.derivative.diff(self.x_symbol, 2))
        h = self.eps ** (1 / 3) * np.maximum(1.0, np.abs(xs))
        with np.errstate(all="ignore"):
            allowance = SAFETY * h**2 * np.abs(self._third(xs)) / 6
            widest = NUMERIC_WIDEST * np.maximum(np.abs(exact), 1.0)
            return np.where(np.isfinite(allowance), np.minimum(allowance, widest), 0.0)

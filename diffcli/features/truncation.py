"""What a grid's finite differences promise: a stencil taken once, at its first step (or
the grid's own points nearest it, methods/numeric/gridded.py), is as accurate as that step
allows, and no more.

Along a grid the central difference is taken once, at h = eps^(1/3) max(1, |x|): right
for a function that changes on the scale of max(1, |x|), and off by about h^2 |f'''| / 6
where it changes faster (sin(10 x); log(x) at 0.01, whose derivatives grow as x shrinks).
At a single point the step is settled instead, and there numeric is held to its own error
estimate where that is wider than the tolerance (core/verdict.measure), and to
first-order accuracy next to a kink. A grid holds it, where its error passes the
tolerance, to the truncation error of its step, from SymPy's exact f''' (twice it, and
never more than NUMERIC_WIDEST of |f'|, as at a point), and where its stencil met a kink
(and was settled, numeric/crossings.py) to the same first-order accuracy as at a point:
an error past that is the method failing, not its step being too large.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from diffcli.core.verdict import NUMERIC_WIDEST

SAFETY = 2.0  # the truncation error's leading term, doubled: the next terms and rounding


class Truncation:
    """What numeric may be off by at given points: h^2 |f'''| / 6 for the central
    difference at each point's first step, or first-order accuracy next to a kink."""

    def __init__(
        self,
        derivative: Any,
        x_symbol: Any,
        eps: float,
        evaluator: Callable,
        near_kink: tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], float] | None = None,
        steps: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        """derivative: SymPy's f'; evaluator(expr, dtype) makes expr's values at arrays of
        points (the grid's, with the other variables fixed); near_kink: which points' stencils
        (the points, their reach) meet a kink of f, and the tolerance there (of |f'|);
        steps: each point's step, where it is not eps^(1/3) max(1, |x|) at every point (a
        grid's own points, methods/numeric/gridded.py)."""
        self.derivative, self.x_symbol, self.eps = derivative, x_symbol, eps
        self.evaluator, self.near_kink, self.steps = evaluator, near_kink, steps
        self._third: tuple[Callable, Callable] | None = None

    def allowed(self, xs: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """The error numeric's step allows at the points xs, whose exact f' is `exact`."""
        if self.steps is None:
            h = self.eps ** (1 / 3) * np.maximum(1.0, np.abs(xs))
        else:
            h = self.steps(xs)
        size = np.maximum(np.abs(exact), 1.0)
        with np.errstate(all="ignore"):
            try:
                allowance = SAFETY * h**2 * np.abs(self._third_at(xs)) / 6
            except Exception:  # SymPy's float forms fail in many ways (DiracDelta(x, 1) of
                allowance = np.zeros(xs.shape)  # a kink): each means no allowance here
            allowance = np.where(np.isfinite(allowance), allowance, 0.0)
            allowance = np.minimum(allowance, NUMERIC_WIDEST * size).astype(np.float64)
        if self.near_kink is not None:
            crossed, rtol = self.near_kink
            at_kink = crossed(xs, h)
            allowance[at_kink] = np.maximum(allowance[at_kink], rtol * size[at_kink])
        return allowance

    def _third_at(self, xs: np.ndarray) -> np.ndarray:
        """The third derivative at xs in float64, and in long double where that is not
        finite: it may pass float64's range where f' has not (sinh(x)**2 at 355), and the
        allowance it gives is far less."""
        if self._third is None:  # derived when first asked: most grids never need it
            third = self.derivative.diff(self.x_symbol, 2)
            self._third = (
                self.evaluator(third, np.float64),
                self.evaluator(third, np.longdouble),
            )
        in_float64, in_long_double = self._third
        values = np.asarray(in_float64(xs))
        lost = ~np.isfinite(values)
        if not lost.any():
            return values
        values = values.astype(np.longdouble)
        values[lost] = in_long_double(xs[lost])
        return values


class Holding:
    """numeric on a grid held, past its tolerance `rtol`, to what its step allows: the
    points past it are collected with a chunk's errors (in whichever thread), and judged
    in the main one, where SymPy's third derivative is made under the deadline."""

    def __init__(self, truncation: Truncation, rtol: float) -> None:
        self.truncation, self.rtol = truncation, rtol
        self.pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def collect(self, against: Any, errors: np.ndarray) -> None:
        """The chunk's points where numeric's error (absolute, at against's points) passes
        its tolerance, absolute and relative: their x, exact f' and error."""
        past = np.flatnonzero(errors > self.rtol * (1.0 + against.size))
        self.pending = (against.xs[past], against.exact[past], errors[past]) if past.size else None

    def judge(self, summary: Any) -> None:
        """The collected points' errors left past what the step allows: the largest into
        summary.judged (every other point is within the tolerance, which the verdict
        allows anyway), and how many points and how wide an allowance it took."""
        if self.pending is None:
            return
        xs, exact, errors = self.pending
        self.pending = None
        allowed = self.truncation.allowed(xs, exact)
        left = errors - allowed
        summary.judged = max(summary.judged or 0.0, float(left.max()))
        held = left <= self.rtol * (1.0 + np.abs(exact))
        summary.held += int(np.count_nonzero(held))
        if held.any():
            widest = float(np.max(allowed[held] / np.maximum(np.abs(exact[held]), 1e-300)))
            summary.widest_held = max(summary.widest_held, widest)


def for_grid(
    problem: Any,
    options: Any,
    derivative: Any,
    x_symbol: Any,
    kinks: tuple,
    evaluator: Callable,
    steps: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Holding | None:
    """numeric's holding on this grid: to the truncation error of the one step it takes
    (each point's from `steps`, where given), or first-order accuracy where its stencil met
    a kink. None where the user set the step or a tolerance, or another stencil or order is
    taken."""
    if (
        "numeric" not in options.methods
        or options.step is not None
        or options.scheme != "central"
        or problem.order != 1
        or options.rtol is not None
        or options.atol is not None
    ):
        return None
    from diffcli.core.verdict import default_tolerance
    from diffcli.methods.numeric import crossings

    crossed = functools.partial(crossings.crossed, problem, problem.wrt[0], kinks)
    near_kink = (crossed, default_tolerance("numeric", options, 1, near_kink=True))
    eps = float(np.finfo(options.dtype).eps)
    truncation = Truncation(
        derivative, x_symbol, eps, evaluator, near_kink if kinks else None, steps
    )
    return Holding(truncation, default_tolerance("numeric", options, 1))


def note(summary: Any, kinked: bool, own_points: bool = False) -> str:
    """What numeric was held to, and where (own_points: where the grid's spacing allowed,
    its stencils were the grid's own points, methods/numeric/gridded.py)."""
    return (
        "numeric's stencil is taken once along a grid, at its first step h = eps^(1/3) "
        "max(1, |x|)"
        + (
            ", or the whole number of the grid's spacings within a third of it"
            if own_points
            else ""
        )
        + f" (grad --at settles it): at {summary.held:,} "
        f"{'point' if summary.held == 1 else 'points'}, where f changes faster than that "
        "step assumes, its error passes rtol but is within the step's truncation error, "
        "twice h² |f‴| / 6 from the exact f‴"
        + (", or where the stencil met a kink within first-order accuracy" if kinked else "")
        + f", as at a point (up to {summary.widest_held:.1e} of f′): it is held to that there"
    )

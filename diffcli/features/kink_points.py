"""Which of a grid's points f is not differentiable at: on a kink whose sides differ, or
where f is finite and its slope infinite. Those are left out of every method's errors,
counted and named (grid.py), as grad --at says not differentiable there (exit 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from diffcli.methods.numeric import crossings
from diffcli.methods.numeric.crossings import Kink

if TYPE_CHECKING:
    from diffcli.features.grid import GridResult, Reference


class KinkPoints:
    """Where a chunk's points sit on a kink of f and f is not differentiable there, counted
    by kink for the notes. As at a single point (core/verdict.find_kinks), a point on a
    kink is differentiable when f is continuous there and its exact derivative the same
    just off it on either side (relu(x)*x at 0): that one is compared as any other, and
    counted for a note. So it is where SymPy's derivative at the point is not finite:
    x*sign(x) at 0 is |x| at its kink (counted here, as abs(x) is), and norm([x, 0])**2
    there is differentiable (counted out with the points where the exact derivative is
    not finite)."""

    NEAR = 2.0**-30  # how far off the point the sides are looked at, relative to its size
    SAME = 1e-5  # one-sided values this close (relative) are one

    def __init__(
        self, result: GridResult, kinks: tuple[Kink, ...], reference_at: Reference, f_along: Any
    ) -> None:
        self.result, self.kinks = result, kinks
        self.reference_at, self.f_along = reference_at, f_along

    def __call__(self, xs: np.ndarray, slopes: np.ndarray | None = None) -> np.ndarray:
        """Where a kink's sides differ; not at the infinite `slopes`, which take its place
        (sqrt's own kink at 0), as at a single point (core/verdict.infinite_slope)."""
        problem, name = self.result.problem, self.result.over.name
        masks = crossings.on_kink(problem, name, self.kinks, xs)
        on = np.logical_or.reduce(masks)
        on = np.flatnonzero(on if slopes is None else on & ~slopes)
        kinked, smooth = np.zeros(xs.size, dtype=bool), np.zeros(xs.size, dtype=bool)
        if on.size:
            differentiable = self._differentiable(xs[on])
            kinked[on[~differentiable]] = True
            smooth[on[differentiable]] = True
        for kink, mask in zip(self.kinks, masks):
            where = f"{kink.text} is at its kink ({kink.condition})"
            for found, count in (
                (self.result.kinks, mask & kinked),
                (self.result.smooth, mask & smooth),
            ):
                if count.any():
                    found[where] = found.get(where, 0) + int(np.count_nonzero(count))
        return kinked

    def _differentiable(self, xs: np.ndarray) -> np.ndarray:
        """Whether f is continuous at each point (its value there the one either side
        comes to: sign(x**2) at 0 is 0, and 1 either side) and its derivative one on both
        sides."""
        off = self.NEAR * np.maximum(1.0, np.abs(xs))
        left, right = xs - off, xs + off
        with np.errstate(all="ignore"):
            at = np.concatenate([left, xs, right])
            f_left, f_at, f_right = np.split(np.asarray(self.f_along(at), dtype=np.float64), 3)
            sides = np.concatenate([left, right])
            d_left, d_right = np.split(self.reference_at(sides, np.ones(sides.size, bool))[0], 2)
            size = np.maximum(1.0, np.maximum(np.abs(d_left), np.abs(d_right)))
            rounding = 4 * np.finfo(np.float64).eps * np.maximum(np.abs(f_left), np.abs(f_right))
            reach = 2 * off * size + rounding
            continuous = (np.abs(f_at - f_left) <= reach) & (np.abs(f_right - f_at) <= reach)
            return continuous & (np.abs(d_right - d_left) <= self.SAME * size)


def infinite_slopes(xs: np.ndarray, reference: np.ndarray, long_double: Any) -> np.ndarray | None:
    """Where f is finite and its exact derivative infinite (sqrt(x), x**0.5, x**x at 0), or
    None: the reference is inf there (it is nan where f is not finite), and still inf in
    long double, so past float64's range is not taken for infinite."""
    candidates = np.flatnonzero(np.isinf(reference))
    if not candidates.size:
        return None
    with np.errstate(all="ignore"):
        infinite = np.isinf(np.asarray(long_double(xs[candidates]), dtype=np.longdouble))
    slopes = np.zeros(xs.size, dtype=bool)
    slopes[candidates[infinite]] = True
    return slopes if slopes.any() else None

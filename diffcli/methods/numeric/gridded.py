"""Where a grid's own points are a central difference's: which spacing k each point takes.

Along a grid the central difference's step is h = eps^(1/3) max(1, |x|) (stencils.first_step).
Where the grid is fine enough that a whole number k of its spacings d is within CLOSE of h,
x_i - k d and x_i + k d are the grid's points x_{i-k} and x_{i+k}, where f is evaluated
anyway: (f(x_{i+k}) - f(x_{i-k})) / (x_{i+k} - x_{i-k}) is the central difference at step
k d, the secant through two points whose f is computed at exactly those x, centred on x_i to
within the points' rounding (an ulp of x, against a step of millions of them). f is then
evaluated once per point, not twice, and no step is made exact. h is a rule of thumb for f
that changes on the scale of max(1, |x|): a step within a third of it changes truncation
(~ h^2) and round-off (~ 1/h) by at most 1.8x and 1.5x, and the grid's held allowance
(features/truncation.py) is taken at the step each point took.

k is a function of the point alone (and of d and the halo), so that a grid's pieces, and the
allowance asked about any of its points later, agree on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from diffcli.methods.numeric.kit import EPSILON

STEP_BASE = float(EPSILON[np.float64]) ** (1 / 3)  # the central difference's h at |x| <= 1
CLOSE = 1 / 3  # how far k d may be from h, of h: every ratio h / d from 0.75 up has a k
MOST = 1 << 12  # the most spacings a step may span: the points a chunk evaluates either side


def spacings(xs: np.ndarray, spacing: float, most: int) -> np.ndarray:
    """k at each point: the whole number of spacings within CLOSE of its step, or 0 where
    none is (the grid is too coarse there), or it is past `most`."""
    ratio = STEP_BASE * np.maximum(1.0, np.abs(xs)) / abs(spacing)
    k = np.floor(ratio + 0.5)
    served = (k >= 1) & (k <= most) & (np.abs(k - ratio) <= CLOSE * ratio)
    return np.where(served, k, 0).astype(np.int64)


def _spacing(x: float, spacing: float, most: int) -> int:
    """spacings at one point, in Python's floats: the same float64 operations in the same
    order, so the same k, at a hundredth of NumPy's cost for an array of one."""
    ratio = STEP_BASE * max(1.0, abs(x)) / abs(spacing)
    k = math.floor(ratio + 0.5)
    return k if 1 <= k <= most and abs(k - ratio) <= CLOSE * ratio else 0


def steps(xs: np.ndarray, spacing: float, most: int) -> np.ndarray:
    """The step each point's central difference takes: k d where the grid's points serve,
    else eps^(1/3) max(1, |x|)."""
    k = spacings(xs, spacing, most)
    return np.where(k > 0, k * abs(spacing), STEP_BASE * np.maximum(1.0, np.abs(xs)))


def halo(lo: float, hi: float, spacing: float) -> int:
    """The points either side of a chunk that its differences reach: the largest k of the
    grid's points, at most MOST; 0 where none is served (a grid too coarse, or too fine for
    its |x|)."""
    nearest = 0.0 if (lo < 0) != (hi < 0) else min(abs(lo), abs(hi))
    if not _served_between(nearest, max(abs(lo), abs(hi)), spacing, MOST):
        return 0
    widest = STEP_BASE * max(1.0, abs(lo), abs(hi)) / abs(spacing)
    return min(MOST, math.floor(widest + 0.5))


def runs(xs: np.ndarray, spacing: float, most: int) -> Iterator[tuple[int, int, int]]:
    """(start, stop, k): the points of a chunk (xs, in the grid's order, monotone) in runs
    of one k. On either side of 0 the step grows with |x|, so k does too, a few times a
    chunk (k changes once every 1 / STEP_BASE points): a run is found by halving, and its
    k is spacings' at each of its points."""

    def k_at(i: int) -> int:
        return _spacing(float(xs[i]), spacing, most)

    def one_k(start: int, stop: int) -> int | None:
        """The run's k if every point of it has the same, else None."""
        first, last = float(xs[start]), float(xs[stop - 1])
        k = k_at(start)
        if max(abs(first), abs(last)) <= 1:  # the step is eps^(1/3) at every point
            return k
        if (first < 0) != (last < 0) or k_at(stop - 1) != k:
            return None
        if k == 0 and _served_between(abs(first), abs(last), spacing, most):
            return None
        return k

    pending, run = [(0, xs.size)], (0, 0, -1)
    while pending:  # the leftmost first: runs come in order, and neighbours of one k merge
        start, stop = pending.pop()
        k = one_k(start, stop) if stop - start > 1 else k_at(start)
        if k is None:
            middle = (start + stop) // 2
            pending += [(middle, stop), (start, middle)]
        elif k == run[2]:
            run = (run[0], stop, k)
        else:
            if run[1] > run[0]:
                yield run
            run = (start, stop, k)
    if run[1] > run[0]:
        yield run


def _served_between(a: float, b: float, spacing: float, most: int) -> bool:
    """Whether a point with |x| between a and b may be served: some k up to `most` whose
    served ratios h / d, k / (1 + CLOSE) to k / (1 - CLOSE), meet those between theirs
    (k = 1 is served from 0.8 to 1.33, inside the 0.5 to 1.5 that round to it; 1.33 to
    1.6 is served by neither 1 nor 2)."""
    low, high = (STEP_BASE * max(1.0, size) / abs(spacing) for size in sorted((a, b)))
    return max(1, math.ceil(low * (1 - CLOSE))) <= min(most, math.floor(high * (1 + CLOSE)))

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
PROBED = 1 << 10  # points between those whose k runs() asks for at once


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
    ratio = _ratio(abs(x), spacing)
    k = math.floor(ratio + 0.5)
    return k if 1 <= k <= most and abs(k - ratio) <= CLOSE * ratio else 0


def _ratio(size: float, spacing: float) -> float:
    """h / d at a point of that |x|."""
    return STEP_BASE * max(1.0, size) / abs(spacing)


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
    low, high = _ratio(nearest, spacing), _ratio(max(abs(lo), abs(hi)), spacing)
    # the ratios h / d served: from 1 - CLOSE (k = 1) up to MOST's; CLOSE = 1/3 leaves no gap
    if high < 1 - CLOSE or low >= MOST + 0.5:
        return 0
    return min(MOST, math.floor(high + 0.5))


def runs(xs: np.ndarray, spacing: float, most: int) -> Iterator[tuple[int, int, int]]:
    """(start, stop, k): the points of a chunk (xs, in the grid's order, monotone) in runs
    of one k, each point's k being spacings' for it. k follows h / d, which is constant for
    |x| <= 1 and moves by STEP_BASE a point past it: k changes at most once in PROBED
    points (its thresholds, 1 - CLOSE and k + 1/2, are 0.5 or more apart, some 80,000
    points). So k is taken at every PROBED-th point, and where two differ, the change is
    found between them by halving."""
    last = xs.size - 1
    probed = np.append(np.arange(0, last, PROBED), last)
    ks = spacings(xs[probed], spacing, most)
    start = 0
    for i in np.flatnonzero(ks[1:] != ks[:-1]):
        low, high = int(probed[i]), int(probed[i + 1])  # k(low) = ks[i], k(high) differs
        while high - low > 1:
            middle = (low + high) // 2
            if _spacing(float(xs[middle]), spacing, most) == ks[i]:
                low = middle
            else:
                high = middle
        yield start, high, int(ks[i])
        start = high
    yield start, xs.size, int(ks[-1])

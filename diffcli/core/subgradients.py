"""The subgradient set at a kink, with its true shape.

The Clarke subdifferential of a piecewise-smooth function at a point is the convex hull of
the gradients it has at points arbitrarily close by. So the gradient is sampled just off
the point along random directions, and the set of limits
is named by its shape: an interval (one variable), a box (independent kinks, abs(x) +
abs(y)), a ball (norm at the zero vector: every unit direction is a gradient nearby), or
the convex hull of the active pieces' gradients (max(x, y) at a tie: a segment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.core.problem import Problem

RANDOM_DIRECTIONS = 64
MAX_ENTRIES = 64  # beyond this many variables' entries, only the box of one-sided bounds
NEAR = 1e-8  # how far off the point, relative to its size
SAME = 1e-5  # gradients this close (relative) are one limit
SHOWN_POINTS = 6
ROUND = 1e-3  # a ball's gradients may be this far (relative) from center + radius d


@dataclass
class SubgradientSet:
    """shape: interval, box, ball or hull; the entries are the wrt variables' flattened."""

    shape: str
    names: list[str]
    low: list[float] = field(default_factory=list)  # interval, box; hull: its bounding box
    high: list[float] = field(default_factory=list)
    center: list[float] = field(default_factory=list)  # ball
    radius: float = 0.0
    points: list[list[float]] = field(default_factory=list)  # hull: the vertices found

    def record(self) -> dict[str, Any]:
        """What JSON carries: the shape and the numbers that fix it."""
        out: dict[str, Any] = {"shape": self.shape, "entries": self.names}
        if self.shape == "ball":
            out.update(center=self.center, radius=self.radius)
        else:
            out.update(low=self.low, high=self.high)
        if self.shape == "hull":
            out["points"] = self.points
        return out

    def text(self, label: str) -> str:
        """In words, as the note prints it."""
        from diffcli.render.numbers import number

        def vector(values: list[float]) -> str:
            shown = [number(v, 6) for v in values]
            return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"

        if self.shape == "interval":
            return f"{label} in [{vector(self.low)}, {vector(self.high)}]"
        if self.shape == "box":
            sides = " × ".join(
                f"[{number(lo, 6)}, {number(hi, 6)}]" for lo, hi in zip(self.low, self.high)
            )
            return f"{label} in the box {sides}"
        if self.shape == "ball":
            return (
                f"{label} in the ball of radius {number(self.radius, 6)} around "
                f"{vector(self.center)}"
            )
        if len(self.points) == 2:
            return (
                f"{label} on the segment from {vector(self.points[0])} to "
                f"{vector(self.points[1])}, the gradients of the two active pieces"
            )
        if len(self.points) <= SHOWN_POINTS:
            corners = "; ".join(vector(p) for p in self.points)
            return f"{label} in the convex hull of the active pieces' gradients {corners}"
        return (
            f"{label} in the convex hull of the {len(self.points)} gradients found nearby, "
            f"within the box from {vector(self.low)} to {vector(self.high)}"
        )


def sampled_set(problem: Problem) -> SubgradientSet | None:
    """The subgradient set of a scalar function at its kink, from gradients just off it;
    None where it cannot be sampled (a vector output, too many entries, a failure)."""
    from diffcli.methods import autograd

    names = problem.flat_variables()
    n = len(names)
    if problem.output_shape or problem.order != 1 or n > MAX_ENTRIES or problem.expr is None:
        return None
    x0 = np.concatenate([np.asarray(problem.point[name].floats()) for name in problem.wrt])
    # random directions, none along an axis: an axis often holds another kink (abs(x) +
    # abs(y) along x keeps y at 0), where autograd would give its convention, not a limit
    directions = np.random.default_rng(0).normal(size=(RANDOM_DIRECTIONS, n))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    step = NEAR * max(1.0, float(np.max(np.abs(x0), initial=0.0)))
    gradients = autograd.gradients_at(problem, x0 + step * directions)
    if not np.all(np.isfinite(gradients)):
        return None
    return classify(gradients, directions, names)


def classify(gradients: np.ndarray, directions: np.ndarray, names: list[str]) -> SubgradientSet:
    """Name the convex hull of the limiting gradients (rows), sampled along `directions`
    (unit rows), by its shape."""
    scale = max(1.0, float(np.max(np.abs(gradients))))
    limits = _distinct(np.where(np.abs(gradients) < SAME * scale, 0.0, gradients), SAME * scale)
    low, high = limits.min(axis=0), limits.max(axis=0)
    n = gradients.shape[1]
    if n == 1:
        return SubgradientSet("interval", names, low.tolist(), high.tolist())
    per_axis = [len(_distinct(limits[:, [k]], SAME * scale)) for k in range(n)]
    if len(limits) == int(np.prod(per_axis)) and all(c <= 2 for c in per_axis):
        return SubgradientSet("box", names, low.tolist(), high.tolist())
    ball = _ball(gradients, directions)
    if ball is not None and len(limits) > 2 * n:
        center, radius = ball
        return SubgradientSet(
            "ball", names, low.tolist(), high.tolist(), _snapped(center, scale), radius
        )
    return SubgradientSet("hull", names, low.tolist(), high.tolist(), points=limits.tolist())


def _distinct(rows: np.ndarray, tolerance: float) -> np.ndarray:
    """The rows, with those within `tolerance` (largest entry difference) of an earlier one
    left out."""
    kept: list[np.ndarray] = []
    for row in rows:
        if all(np.max(np.abs(row - other)) > tolerance for other in kept):
            kept.append(row)
    return np.array(kept)


def _ball(gradients: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(center, radius) where each gradient is center + radius * its direction: a norm's
    kink, whose nearby gradients point every way at once (a ball). Points on a sphere are
    not enough: norm(x) + abs(y) has its nearby gradients on two circles (a cylinder)."""
    n = gradients.shape[1]
    design = np.zeros((gradients.size, n + 1))
    for k in range(n):
        design[k::n, k] = 1.0
    design[:, n] = directions.ravel()
    solution, *_ = np.linalg.lstsq(design, gradients.ravel(), rcond=None)
    center, radius = solution[:n], float(solution[n])
    fitted = center + radius * directions
    if radius > 0 and np.max(np.abs(gradients - fitted)) <= ROUND * radius:
        return center, radius
    return None


def _snapped(values: np.ndarray, scale: float) -> list[float]:
    """Entries within rounding of zero written as 0."""
    return np.where(np.abs(values) < SAME * scale, 0.0, values).tolist()

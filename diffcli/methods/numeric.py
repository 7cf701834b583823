"""Finite differences of the original function, evaluated with NumPy.

Each scheme is a stencil: the derivative is sum_j w_j f(x + o_j h) / h^K, with weights
solved exactly from the Taylor expansion. The step balances truncation (~ h^p) against
round-off (~ eps / h^K); the error estimate adds the two: truncation from the same
stencil at 2h (Richardson's difference), round-off from the values actually summed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from diffcli.errors import OptionError
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Const, Num
from diffcli.methods import HESSIAN, Outcome
from diffcli.problem import Problem

DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass(frozen=True)
class Scheme:
    """A family of stencils: the offsets for the K-th derivative and the accuracy order."""

    name: str
    accuracy: int  # truncation error ~ h**accuracy

    def offsets(self, k: int) -> tuple[int, ...]:
        if self.name == "forward":
            return tuple(range(0, k + 1))
        if self.name == "backward":
            return tuple(range(-k, 1))
        half = (k + 1) // 2 + (1 if self.name == "five-point" else 0)
        return tuple(range(-half, half + 1))


SCHEMES = {
    "central": Scheme("central", 2),
    "forward": Scheme("forward", 1),
    "backward": Scheme("backward", 1),
    "five-point": Scheme("five-point", 4),
}


@lru_cache(maxsize=64)
def stencil(offsets: tuple[int, ...], k: int) -> tuple[Fraction, ...]:
    """Weights w with sum_j w_j o_j^m / m! = [m == k] for m < len(offsets), solved exactly."""
    n = len(offsets)
    rows = [
        [Fraction(o) ** m / math.factorial(m) for o in offsets] + [Fraction(int(m == k))]
        for m in range(n)
    ]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    return tuple(row[-1] for row in rows)


class NumpyBackend:
    """Evaluates the tree with NumPy in one working dtype."""

    form = "numpy"
    kit = np

    def __init__(self, dtype: type) -> None:
        self.dtype = dtype

    def number(self, node: Num | Const) -> np.generic:
        if isinstance(node, Num):
            return self.dtype(float(node.value))
        return self.dtype(math.pi if node.name == "pi" else math.e)

    def stack(self, items: list[np.ndarray]) -> np.ndarray:
        return np.stack([np.asarray(item) for item in items])


def leaves(problem: Problem, dtype: type) -> dict[str, np.ndarray]:
    return {
        name: np.array(value.floats(), dtype=dtype).reshape(value.shape)
        for name, value in problem.point.items()
    }


def evaluate_at(problem: Problem, values: dict[str, np.ndarray], dtype: type) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(evaluate(problem.expr, values, NumpyBackend(dtype)))


def default_step(x: float, scheme: Scheme, k: int, dtype: type) -> float:
    """The step that balances truncation and round-off, scaled to the point."""
    eps = float(np.finfo(dtype).eps)
    return eps ** (1.0 / (scheme.accuracy + k)) * max(abs(x), 1.0)


def differentiate(
    problem: Problem,
    scheme_name: str = "central",
    dtype_name: str = "float64",
    step: float | None = None,
) -> Outcome:
    """Derivative of every output by every entry of the wrt variables, by finite differences."""
    scheme = _scheme(scheme_name)
    dtype = DTYPES[dtype_name]
    k = problem.order
    offsets = scheme.offsets(k)
    weights = stencil(offsets, k)
    used = [(o, float(w)) for o, w in zip(offsets, weights) if w != 0]
    base = leaves(problem, dtype)
    eps = float(np.finfo(dtype).eps)
    value: dict[str, np.ndarray] = {}
    estimate = 0.0
    steps: list[float] = []
    out_shape = problem.output_shape
    for name in problem.wrt:
        x0 = base[name]
        grid = np.empty(out_shape + x0.shape, dtype=np.float64)
        for index in np.ndindex(x0.shape):
            h = step if step is not None else default_step(float(x0[index]), scheme, k, dtype)
            h = _representable(float(x0[index]), h, dtype)
            steps.append(h)
            estimates = []
            for stride in (1, 2):
                samples = []
                for o, w in used:
                    moved = dict(base)
                    moved[name] = x0.copy()
                    moved[name][index] = x0[index] + dtype(o * stride * h)
                    samples.append((w, evaluate_at(problem, moved, dtype).astype(np.float64)))
                scale = (stride * h) ** k
                estimates.append(sum(w * f for w, f in samples) / scale)
                if stride == 1:
                    roundoff = eps * sum(abs(w) * np.abs(f) for w, f in samples) / scale
            d_h, d_2h = estimates
            truncation = np.abs(d_h - d_2h) / (2**scheme.accuracy - 1)
            with np.errstate(invalid="ignore"):
                bound = np.max(truncation + roundoff, initial=0.0)
            estimate = max(estimate, float(bound)) if np.isfinite(bound) else math.inf
            grid[(..., *index)] = d_h
        value[name] = grid
    details = {
        "scheme": scheme.name,
        "step": steps[0] if len(set(steps)) == 1 else float(np.median(steps)),
        "error_estimate": estimate,
        "evaluations": len(steps) * 2 * len(used),
        "dtype": dtype_name,
    }
    return Outcome(value, details)


def hessian(problem: Problem, dtype_name: str = "float64", step: float | None = None) -> Outcome:
    """Second differences over the flattened wrt variables, with an error estimate.

    Diagonal: (f(x+h) - 2 f(x) + f(x-h)) / h^2; off the diagonal, the four-point formula
    (f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j). Both are O(h^2), so the step is
    eps^(1/4) scaled to each entry.
    """
    dtype = DTYPES[dtype_name]
    eps = float(np.finfo(dtype).eps)
    base = leaves(problem, dtype)
    x0 = np.concatenate([base[name].ravel() for name in problem.wrt])
    central = SCHEMES["central"]
    chosen = [step if step is not None else default_step(float(v), central, 2, dtype) for v in x0]
    steps = np.array([_representable(float(v), h, dtype) for v, h in zip(x0, chosen)])

    def f(moves: dict[int, float]) -> float:
        x = x0.copy()
        for i, delta in moves.items():
            x[i] = x0[i] + dtype(delta)
        return float(evaluate_at(problem, _unflatten(problem, base, x), dtype))

    f0 = f({})
    tables = [_second_differences(f, f0, steps * stride) for stride in (1, 2)]
    result, doubled = tables
    truncation = np.abs(result - doubled) / 3
    roundoff = 4 * eps * abs(f0) / np.outer(steps, steps)
    n = x0.size
    details = {
        "scheme": "central",
        "step": float(np.median(steps)),
        "error_estimate": float(np.max(truncation + roundoff, initial=0.0)),
        "evaluations": 2 * (2 * n * n) + 1,
        "dtype": dtype_name,
    }
    return Outcome({HESSIAN: result}, details)


def _second_differences(f: Any, f0: float, h: np.ndarray) -> np.ndarray:
    n = h.size
    table = np.empty((n, n))
    for i in range(n):
        table[i, i] = (f({i: h[i]}) - 2 * f0 + f({i: -h[i]})) / h[i] ** 2
        for j in range(i):
            corners = f({i: h[i], j: h[j]}) - f({i: h[i], j: -h[j]})
            corners += f({i: -h[i], j: -h[j]}) - f({i: -h[i], j: h[j]})
            table[i, j] = table[j, i] = corners / (4 * h[i] * h[j])
    return table


def _unflatten(
    problem: Problem, base: dict[str, np.ndarray], flat: np.ndarray
) -> dict[str, np.ndarray]:
    values = dict(base)
    start = 0
    for name in problem.wrt:
        size = base[name].size
        values[name] = flat[start : start + size].reshape(base[name].shape)
        start += size
    return values


def _representable(x: float, h: float, dtype: type) -> float:
    """Adjust h so that x + h - x == h exactly in the working dtype."""
    moved = dtype(x) + dtype(h)
    exact = float(moved) - float(dtype(x))
    return exact if exact != 0 else h


def _scheme(name: str) -> Scheme:
    if name not in SCHEMES:
        known = ", ".join(SCHEMES)
        raise OptionError(f"--scheme {name} is not available yet; choose one of: {known}")
    return SCHEMES[name]

"""The public entry points: derivatives at a point (every entry of the wrt variables), along a
grid of points, the Hessian, and a sweep of steps."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from diffcli.core.errors import OptionError, ParseError
from diffcli.core.problem import Problem
from diffcli.core.resources import DEFAULT_MEMORY_MIB
from diffcli.lang.expr import Call, Var, walk
from diffcli.methods import HESSIAN, Outcome
from diffcli.methods.numeric import crossings, gridded
from diffcli.methods.numeric.kit import DTYPES, EPSILON
from diffcli.methods.numeric.richardson import richardson
from diffcli.methods.numeric.sampler import AlongSampler, Sampler, f_along
from diffcli.methods.numeric.stencils import (
    SCHEMES,
    Scheme,
    complex_step,
    first_step,
    settled,
    shrinking,
    stencil_at,
    stencil_estimate,
    weighted,
)


def differentiate(
    problem: Problem,
    scheme_name: str = "central",
    dtype_name: str = "float64",
    step: float | None = None,
    memory_mib: float = DEFAULT_MEMORY_MIB,
    hold_stops: bool = True,
) -> Outcome:
    """Derivative of every output by every entry of the wrt variables, by finite differences.
    Each stop_gradient is held at its value at the point while the rest is perturbed, as
    detach does (`hold_stops=False` differentiates the function without the stops)."""
    dtype = DTYPES[dtype_name]
    sampler = Sampler(problem, dtype, memory_mib, hold_stops)
    table, estimate, steps = _derive(sampler, scheme_name, step)
    # a float result is never closer than its own rounding
    estimate = estimate + EPSILON[dtype] * abs(table)
    details = {
        "scheme": scheme_name,
        "step": _typical(steps),
        "error_estimate": _worst(estimate),
        "evaluations": sampler.evaluations,
        "dtype": dtype_name,
    }
    return Outcome(_by_variable(problem, table), details)


def along(
    problem: Problem,
    name: str,
    xs: np.ndarray,
    scheme_name: str = "central",
    dtype_name: str = "float64",
    step: float | None = None,
    memory_mib: float = DEFAULT_MEMORY_MIB,
    settle: bool = False,
) -> np.ndarray:
    """df/d`name` at each of the points xs of a grid (float64, shaped as xs), by the same
    stencils, steps and extrapolation as a derivative at one point.

    A grid wants values at many points about as fast as f itself, so by default a stencil is
    taken once, at its first step, except where it reaches a kink of f (abs, relu, max, ...):
    differenced across it, it would give neither side's derivative; or past where f is
    finite (log(x) at 1e-7, whose stencil reaches below 0): those points are settled.
    `settle` takes every stencil as at a point (the step balanced per point, at twice the
    evaluations or more). Richardson and the complex step are the same either way."""
    per_point = settle or scheme_name in ("richardson", "complex-step")
    sampler = AlongSampler(problem, name, xs, DTYPES[dtype_name], memory_mib, noise=per_point)
    if per_point:
        table = _derive(sampler, scheme_name, step)[0]
    else:
        k = problem.order
        scheme = _scheme(scheme_name)
        offsets, weights = weighted(scheme, k)
        with np.errstate(all="ignore"):  # x + h past float64's range is inf: a lost point
            h = first_step(sampler, scheme, k, step)
            table = _weighted_sum(sampler, offsets, weights, h)
            table /= h if k == 1 else h**k
        if step is None:  # a step the user chose is theirs, kink or not
            across = _across_kinks(problem, name, xs, np.max(np.abs(offsets)) * h)
            settled_here = np.union1d(across, _past_an_edge(problem, name, xs, table))
            if settled_here.size:
                points = np.ravel(xs)[settled_here]
                table[settled_here] = along(
                    problem, name, points, scheme_name, dtype_name, None, memory_mib, settle=True
                )
    return np.asarray(table, dtype=np.float64).reshape(np.shape(xs))


def along_grid(
    problem: Problem,
    name: str,
    points: np.ndarray,
    f: np.ndarray,
    halo: int,
    spacing: float,
    stencil: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """df/d`name` at points[halo:-halo], a run of a grid's points (of the given spacing,
    with `halo` more either side), given f at every one of them: the central difference
    from the grid's own points where a whole number of spacings is close to its step
    (gridded.py), `stencil` (the grid's way of calling along) at the others, and where
    that difference meets a kink of f or passes where f is finite: there along takes its
    own step, and settles it only if that step too meets the kink or the edge (k d may be
    a third longer than it, and a step settled next to a kink can lose digits)."""
    count = points.size - 2 * halo
    xs = points[halo : halo + count]
    table = np.empty(count)
    others = []
    with np.errstate(all="ignore"):
        for start, stop, k in gridded.runs(xs, spacing, halo):
            if k == 0:
                table[start:stop] = stencil(xs[start:stop])
                continue
            low, high = halo + start, halo + stop
            part = np.subtract(f[low + k : high + k], f[low - k : high - k], out=table[start:stop])
            part /= np.subtract(points[low + k : high + k], points[low - k : high - k])
            others.append(start + _across_kinks(problem, name, xs[start:stop], k * abs(spacing)))
            if not np.isfinite(np.sum(part)):  # one pass, no mask, where every value is finite
                lost = ~np.isfinite(part) & np.isfinite(f[low:high])
                others.append(start + np.flatnonzero(lost))
    elsewhere = np.unique(np.concatenate(others)) if others else np.arange(0)
    if elsewhere.size:
        table[elsewhere] = stencil(xs[elsewhere])
    return table


def _across_kinks(problem: Problem, name: str, xs: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """The points (indices) whose stencil, reach either side, meets a kink of f."""
    kinks = crossings.kinks_of(problem, name)
    if not kinks:
        return np.arange(0)
    x = np.asarray(xs, dtype=np.float64).ravel()
    return np.flatnonzero(crossings.crossed(problem, name, kinks, x, reach))


def _past_an_edge(problem: Problem, name: str, xs: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The points (indices) where the stencil's value is not finite but f is: it reached
    past the domain's edge, or float64's range, where a smaller step would not."""
    with np.errstate(all="ignore"):
        if np.isfinite(np.sum(table)):  # one pass, no mask, where every value is finite
            return np.arange(0)
        lost = np.flatnonzero(~np.isfinite(np.ravel(table)))
        f = f_along(problem, name, np.asarray(np.ravel(xs)[lost], dtype=np.float64))
    return lost[np.isfinite(np.ravel(f))]


def _weighted_sum(
    sampler: AlongSampler, offsets: np.ndarray, weights: tuple[float, ...], h: np.ndarray
) -> np.ndarray:
    """sum_j w_j f(x + o_j h) over the points, in float64: f at one offset at a time, each
    term added in place, so that f's temporaries are those of one set of points, not of
    every offset at once (half the memory, and half the pages a first chunk faults in, for
    a central difference)."""
    table = None
    for offset, weight in zip(offsets, weights):
        values = np.asarray(sampler.at(_moved(sampler.x0, offset, h)), dtype=np.float64)
        term = np.multiply(values, weight, out=values if _own(values) else None)
        table = term if table is None else np.add(table, term, out=table)
    assert table is not None
    return table


def _moved(x: np.ndarray, offset: float, h: np.ndarray) -> np.ndarray:
    """x + offset h, to the bits a ladder gets (x + (o h)), in one array: o h is exact for
    o = +-1, the central difference's."""
    if offset == 1:
        return np.add(x, h)
    if offset == -1:
        return np.subtract(x, h)
    points = np.multiply(h, offset)
    points += x
    return points


def _own(values: np.ndarray) -> bool:
    """Whether values may be written over: an array of f's own making, not a view of a
    constant broadcast to the points."""
    return values.flags.writeable and values.flags.owndata


def _derive(sampler: Sampler, scheme_name: str, step: float | None) -> tuple[Any, Any, Any]:
    """The derivative table, its error estimate and the steps, by the scheme named."""
    problem = sampler.problem
    with np.errstate(all="ignore"):  # non-finite values are reported, not warned about
        if scheme_name == "richardson":
            return richardson(sampler, problem.order, step)
        if scheme_name == "complex-step":
            _check_analytic(problem)
            return complex_step(sampler, step)
        return stencil_estimate(sampler, _scheme(scheme_name), problem.order, step)


def _scheme(name: str) -> Scheme:
    if name not in SCHEMES:
        raise OptionError(f"--scheme {name}: choose one of {', '.join(SCHEMES)}")
    return SCHEMES[name]


def _worst(estimate: Any) -> float:
    """The largest estimate (a number for one derivative on floats); inf for NaN."""
    if isinstance(estimate, np.ndarray):
        estimate = estimate.max() if estimate.size else 0.0
    worst = float(estimate)
    return worst if math.isfinite(worst) else math.inf


def _typical(steps: Any) -> float:
    """The step to report: the median over entries (a number for one derivative on floats)."""
    if isinstance(steps, np.ndarray):
        return float(steps[0]) if steps.size == 1 else float(np.median(steps))
    return float(steps)


def _check_analytic(problem: Problem) -> None:
    """complex-step needs complex-analytic operations on every path from a variable."""
    if problem.order > 1:
        raise OptionError(
            "--scheme complex-step gives first derivatives; use richardson for --order"
        )
    if problem.expr is None:
        raise OptionError("--scheme complex-step needs an expression it can check is analytic")
    wrt = set(problem.wrt)
    for node in walk(problem.expr):
        refused = isinstance(node, Call) and node.op is not None and not node.op.analytic
        if refused and any(isinstance(sub, Var) and sub.name in wrt for sub in walk(node)):
            raise ParseError(
                f"--scheme complex-step needs complex-analytic operations, and "
                f"{node.op.name} is not (use central or richardson)",
                problem.text,
                *node.span,
            )


def _by_variable(problem: Problem, table: np.ndarray) -> dict[str, np.ndarray]:
    """Split a (entries, *output) table into numerator-layout arrays per variable."""
    output = problem.output_shape
    table = np.asarray(table).reshape((-1, *output))  # one derivative may come as a number
    out: dict[str, np.ndarray] = {}
    start = 0
    for name in problem.wrt:
        shape = problem.shape_of(name)
        size = math.prod(shape)
        part = table[start : start + size]
        if part.ndim > 1:
            part = np.moveaxis(part, 0, -1)
        out[name] = part.reshape(output + shape)
        start += size
    return out


def hessian(
    problem: Problem,
    dtype_name: str = "float64",
    step: float | None = None,
    memory_mib: float = DEFAULT_MEMORY_MIB,
) -> Outcome:
    """Second differences over the flattened wrt variables, with an error estimate.

    Diagonal: (f(x+h) - 2 f(x) + f(x-h)) / h^2; off the diagonal, the four-point formula
    (f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j). Both are O(h^2). Each entry's step is
    the one the central second difference along it settles on (eps^(1/4) max(1, |x|) to
    start, then balanced against the measured truncation, as for --order 2), and that
    settling gives the diagonal at h and 2h; the estimate compares the tables at h and 2h
    (and, for a step the user gives, is inf where the table at 4h shows no h^2 law).
    """
    dtype = DTYPES[dtype_name]
    sampler = Sampler(problem, dtype, memory_mib)
    with np.errstate(all="ignore"):
        diagonal, _, h = settled(sampler, SCHEMES["central"], 2, step)
        f0 = float(sampler(np.zeros((1, 1), dtype=int), np.zeros((1, 1)))[0])
        result, doubled = (
            _second_differences(sampler, diagonal[i], h * stride) for i, stride in enumerate((1, 2))
        )
        eps = sampler.eps
        truncation = np.abs(result - doubled) / 3
        roundoff = 4 * eps * abs(f0) / np.outer(h, h)
        estimate = truncation + roundoff
        if step is not None:
            diagonal_4h = stencil_at(sampler, SCHEMES["central"], 2, 4 * h, h.shape)
            far = doubled - _second_differences(sampler, diagonal_4h, 4 * h)
            estimate = np.where(shrinking(result - doubled, far, 2, roundoff), estimate, np.inf)
    details = {
        "scheme": "central",
        "step": float(np.median(h)),
        "error_estimate": _worst(estimate),
        "evaluations": sampler.evaluations,
        "dtype": dtype_name,
    }
    return Outcome({HESSIAN: result}, details)


def _second_differences(sampler: Sampler, diagonal: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The Hessian at steps h, given its diagonal: the off-diagonal entries from the four
    corners of each pair of entries, a block of rows of pairs at a time (memory stays
    O(chunk), not O(n^2) index arrays)."""
    n = h.size
    signs = np.array([(1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=np.float64)
    table = np.empty((n, n))
    table[np.diag_indices(n)] = diagonal
    for rows in _pair_rows(n, max(1, sampler.chunk // 4)):
        i = np.repeat(rows, rows)
        j = np.concatenate([np.arange(r) for r in rows])
        columns = np.repeat(np.stack([i, j], axis=1), 4, axis=0)
        amounts = np.tile(signs, (i.size, 1)) * h[columns]
        pp, pm, mp, mm = sampler(columns, amounts).astype(np.float64).reshape(-1, 4).T
        table[i, j] = table[j, i] = (pp - pm - mp + mm) / (4 * h[i] * h[j])
    return table


def _pair_rows(n: int, pairs: int) -> Iterator[np.ndarray]:
    """Rows i = 1..n-1 of the Hessian's lower triangle (row i has i pairs), grouped so that
    a group holds about `pairs` pairs, and at least one row."""
    start = 1
    while start < n:
        stop = start + 1
        while stop < n and (stop - start) * stop < pairs:
            stop += 1
        yield np.arange(start, stop)
        start = stop


def sweep(problem: Problem, scheme_name: str, steps: list[float], dtype_name: str) -> list[Outcome]:
    """The derivative by one scheme at each of the given steps (for the stepsize study)."""
    return [differentiate(problem, scheme_name, dtype_name, step=h) for h in steps]

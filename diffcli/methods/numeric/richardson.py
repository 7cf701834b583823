"""Richardson extrapolation over a ladder of central differences; the best trusted window
of the ladder wins."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np

from diffcli.methods.numeric.sampler import Sampler
from diffcli.methods.numeric.stencils import SCHEMES, differences, evaluate_ladder, weighted

RICHARDSON_STEPS = 6  # central pairs on the ladder: 12 evaluations per entry


RICHARDSON_RATIO = 4.0


RICHARDSON_FIRST = 0.25  # the largest step, relative to max(1, |x|)


RICHARDSON_SHRINK = RICHARDSON_RATIO ** -np.arange(RICHARDSON_STEPS, dtype=np.float64)[:, None]


def richardson(sampler: Sampler, k: int, step: float | None) -> tuple[Any, Any, Any]:
    """Central differences on a ladder of steps, extrapolated; the best trusted window wins.

    A window of four steps is trusted when its differences shrink as the h^2 term says
    (by at least r^2/3 per step, of one sign, small against the value) or are already
    down at round-off. If no window of the ladder is trusted, further ladders are tried.
    """
    scale = sampler.scale
    top = step if step is not None else RICHARDSON_FIRST * scale
    shape, (value, estimate, chosen, trusted) = _richardson_ladder(sampler, k, top)
    if step is None and not _everywhere(trusted):
        # untrusted entries try further down the ladder, then (far from 0) steps on the
        # scale of 1 rather than of |x|, then (near 0) steps on the scale of |x|, which
        # stay inside a domain that ends at 0 (log(x) at 1e-6)
        fallbacks = [top / RICHARDSON_RATIO**RICHARDSON_STEPS]
        if np.any(scale > 1):
            fallbacks.append(RICHARDSON_FIRST * np.ones_like(scale))
        size = sampler.size
        near_zero = (size > 0) & (size < RICHARDSON_RATIO**-RICHARDSON_STEPS)
        if np.any(near_zero):
            fallbacks.append(RICHARDSON_FIRST * np.where(near_zero, size, scale))
        for lower in fallbacks:
            if _everywhere(trusted):
                break
            again = _richardson_ladder(sampler, k, lower)[1]
            better = _where(trusted, False, again[3] | (again[1] < estimate))
            value = _where(better, again[0], value)
            estimate = _where(better, again[1], estimate)
            chosen = _where(better, again[2], chosen)
            trusted = trusted | again[3]
    # no window behaved as the h^2 term says: the error is unknown
    estimate = _where(trusted, estimate, math.inf)
    if isinstance(value, float):
        return value, estimate, chosen
    return (
        np.asarray(value).reshape(shape),
        np.asarray(estimate).reshape(shape),
        np.asarray(chosen).ravel(),
    )


def _richardson_ladder(
    sampler: Sampler, k: int, top: Any
) -> tuple[tuple[int, ...], tuple[Any, Any, Any, Any]]:
    """The derivative table's shape, and the ladder's chosen window: value, estimate,
    step and whether it is trusted, as numbers for one derivative, else flat arrays."""
    offsets, weights = weighted(SCHEMES["central"], k)
    ladder = evaluate_ladder(sampler, offsets, RICHARDSON_SHRINK * top, k)
    d, roundoff = differences(ladder, weights, k, sampler.eps)
    return ladder.shape, _extrapolated(d, roundoff, ladder.steps)


def _extrapolated(d: list[Any], roundoff: list[Any], steps: list[Any]) -> tuple[Any, Any, Any, Any]:
    """Richardson's table over the ladder's rows D_0..D_5 (step h / r^j), each row a number
    or an array of columns. For each window of four steps: the thrice-extrapolated value,
    its error (the change from the twice-extrapolated neighbour, plus round-off) and
    whether the differences behave as the h^2 term says. Returns the chosen window's value,
    error, smallest step and trust."""
    r2 = RICHARDSON_RATIO**2
    once = _eliminated(d, r2)
    twice = _eliminated(once, r2**2)
    thrice = _eliminated(twice, r2**3)
    signed = [b - a for a, b in pairwise(d)]
    change = [abs(s) for s in signed]
    # in the asymptotic regime each change is r^2 times the next, of one sign, and small
    # against the value itself; garbage at too large a step fails one of these (a ratio
    # near r^2 alone does not: sin(x)**3 at 197 has one by chance); a change down at
    # round-off passes
    shrinking = [
        ((later * (r2 / 3) <= earlier) & (s_later * s_earlier > 0) & (later <= 0.1 * abs(v)))
        | (later <= 4 * r)
        for earlier, later, s_earlier, s_later, v, r in zip(
            change, change[1:], signed, signed[1:], d[2:], roundoff[2:]
        )
    ]
    errors = [
        _where(e < math.inf, e, math.inf)  # NaN too
        for e in (abs(t - p) + 1.5 * r for t, p, r in zip(thrice, twice[1:], roundoff[3:]))
    ]
    trusted = [a & b & (e < math.inf) for a, b, e in zip(shrinking, shrinking[1:], errors)]
    value, error, step, ok = thrice[0], errors[0], steps[3], trusted[0]
    for j in range(1, len(thrice)):
        # a trusted window beats an untrusted one; among equals, the smaller error
        better = (trusted[j] > ok) | ((trusted[j] == ok) & (errors[j] < error))
        value = _where(better, thrice[j], value)
        error = _where(better, errors[j], error)
        step = _where(better, steps[j + 3], step)
        ok = ok | trusted[j]
    if not _everywhere(ok):  # untrusted: widen the estimate to the ladder's spread
        spread = np.fmax.reduce([abs(t - value) for t in thrice])
        error = _where(ok, error, np.fmax(error, spread))
    return value, error, step, ok


def _eliminated(rows: list[Any], factor: float) -> list[Any]:
    """One Richardson step along the ladder: the h^m term cancelled, factor = r^m."""
    return [(factor * b - a) / (factor - 1) for a, b in pairwise(rows)]


def _where(condition: Any, a: Any, b: Any) -> Any:
    """np.where for a ladder row, in plain Python when the row is one number."""
    if isinstance(condition, np.ndarray):
        return np.where(condition, a, b)
    return a if condition else b


def _everywhere(flags: Any) -> bool:
    return bool(flags.all()) if isinstance(flags, np.ndarray) else bool(flags)

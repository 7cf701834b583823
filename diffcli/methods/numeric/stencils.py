"""Stencils: exact weights, a ladder of steps, the settled step and its error estimate;
and the complex step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from diffcli.methods.numeric.sampler import Sampler

STEP_MOVES = 5  # moves of a stencil's automatic step toward the balance of its errors


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
    "richardson": Scheme("central", 8),
    "complex-step": Scheme("complex-step", 2),
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


def exact_steps(sampler: Sampler, base: Any) -> np.ndarray:
    """Steps made exact in the working dtype, (x + h) - x == h; any leading axes, last = entry."""
    x = sampler.x0
    h = np.asarray(base, dtype=np.float64)
    if sampler.dtype is np.float64:
        moved = np.add(x, h)
        moved -= x
    else:
        moved = (x + h.astype(sampler.dtype)).astype(np.float64) - x.astype(np.float64)
    if not moved.all():  # h itself where it is below x's rounding
        np.copyto(moved, np.broadcast_to(h, moved.shape), where=moved == 0)
    return moved


class Ladder(NamedTuple):
    """f on a ladder of steps, as rows a step: values[j][i] is f at offset i of step j.

    Each row is an array over the columns, a column being one output's derivative by one
    entry (entry-major); or, for one float64 derivative on Python floats, a number.
    """

    values: Any
    magnitudes: Any  # max(floor, roundings |f|) of each value, for its round-off
    steps: Any  # each column's step
    scale: Any  # step^K
    # each column's |x| where x + o h is rounded: inside f (see rounds_inside), or where
    # the outer points reach the next power of two, past which x + 2h is not exact (x just
    # below 1); else 0. A row a step
    x: Any
    shape: tuple[int, ...]  # the derivative table's: (n, *output)


def evaluate_ladder(sampler: Sampler, offsets: np.ndarray, steps: np.ndarray, k: int) -> Ladder:
    """f at x0 + o * h_j * e_i for every step h_j (rows of steps, made exact here), offset o
    and entry i, in one batch."""
    if sampler.scalar and (floats := _float_ladder(sampler, offsets, steps.ravel().tolist(), k)):
        return floats
    steps = exact_steps(sampler, steps)
    n = sampler.x0.size
    amounts = steps[:, None, :] * offsets[None, :, None]
    values = np.asarray(sampler.single(amounts), dtype=np.float64)
    outputs = math.prod(values.shape[1:])
    shape = (n, *values.shape[1:])
    values = values.reshape(len(steps), offsets.size, n * outputs)
    scale = steps if k == 1 else steps**k
    # a step^K past the float range would make D = 0 whatever f is: unknown instead
    scale = np.where(np.isinf(scale), np.nan, scale)
    magnitudes = _magnitudes(sampler, values)
    crossing = sampler.size + np.abs(offsets).max() * steps >= sampler.ceiling
    rounded = np.repeat(np.where(crossing, sampler.size, sampler.inner), outputs, axis=1)
    if outputs > 1:
        steps, scale = np.repeat(steps, outputs, axis=1), np.repeat(scale, outputs, axis=1)
    return Ladder(values, magnitudes, steps, scale, rounded, shape)


def _float_ladder(
    sampler: Sampler, offsets: np.ndarray, steps: list[float], k: int
) -> Ladder | None:
    """ladder for one float64 derivative, on Python floats. None where a step^K underflows
    to 0 or overflows: a float division by 0 and a float power too large raise, where
    NumPy's give inf."""
    x = sampler.x0.item()
    steps = [((x + h) - x) or h for h in steps]  # made exact, as exact_steps does
    try:
        scale = steps if k == 1 else [h**k for h in steps]
    except OverflowError:
        return None
    if not all(scale):
        return None
    moves = offsets.tolist()
    amounts = np.array([o * h for h in steps for o in moves])
    values = np.asarray(sampler.single(amounts), dtype=np.float64).reshape(len(steps), -1)
    magnitudes = _magnitudes(sampler, values).tolist()
    size, ceiling, inner = abs(x), sampler.ceiling.item(), sampler.inner.item()
    reach = max(map(abs, moves))
    rounded = [size if size + reach * h >= ceiling else inner for h in steps]
    return Ladder(values.tolist(), magnitudes, steps, scale, rounded, (1,))


def _magnitudes(sampler: Sampler, values: np.ndarray) -> np.ndarray:
    """max(floor, roundings |f|) for each value: the size its round-off is relative to."""
    out = np.abs(values)
    if sampler.roundings != 1:
        out *= sampler.roundings
    return np.maximum(out, sampler.floor, out=out)


@lru_cache(maxsize=64)
def weighted(scheme: Scheme, k: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """The stencil's offsets (to scale steps by) and weights, without the zero-weight points."""
    offsets = scheme.offsets(k)
    used = [(o, float(w)) for o, w in zip(offsets, stencil(offsets, k)) if w != 0]
    return np.array([o for o, _ in used], dtype=np.float64), tuple(w for _, w in used)


def differences(
    ladder: Ladder, weights: tuple[float, ...], k: int, eps: float
) -> tuple[list[Any], list[Any]]:
    """The stencil's value at each step of the ladder, and the round-off in it, as rows.

    f is computed with a relative error of about eps in its value, and in x + o h where
    that is rounded (ladder.x is |x| there, else 0), so each value carries noise
    eps * (magnitude + |x f'|); the first derivative stands in for f'. The magnitude
    (_magnitudes) is max(1, |f|) where f adds or subtracts, for cancellation: 0.5 -
    sigmoid(x) is 0 at 0, yet carries the rounding of the 0.5 it came from.
    """
    sizes = tuple(map(abs, weights))
    total = sum(sizes)
    d, roundoff = [], []
    for row, magnitudes, scale, x in zip(ladder.values, ladder.magnitudes, ladder.scale, ladder.x):
        value = noise = 0.0
        for w, size, v, m in zip(weights, sizes, row, magnitudes):
            value = value + w * v
            noise = noise + size * m
        value = value / scale
        if k == 1:
            noise = noise + total * abs(x) * abs(value)
        d.append(value)
        roundoff.append(eps * noise / scale)
    return d, roundoff


def stencil_estimate(
    sampler: Sampler, scheme: Scheme, k: int, step: float | None
) -> tuple[Any, Any, Any]:
    """The stencil at its settled step h, with |D(h) - D(2h)| + round-off as the estimate.

    That estimate holds where the h^p term rules, which the automatic step sees to. A step
    the user gives may be far outside it (sin(x) with h = 1e3), so D(4h) is taken too:
    where D(2h) - D(4h) is not about 2^p times D(h) - D(2h), and the change is above
    round-off, the error is unknown, and the estimate says so with inf.
    """
    d, roundoff, h = settled(sampler, scheme, k, step)
    # |D(h) - D(2h)| is (2^p - 1) times the truncation at h when the h^p term rules; taken
    # as 2^p times it, it also covers the next terms (for forward differences, p = 1, the
    # change alone is the truncation, with no room for them)
    p = scheme.accuracy
    estimate = np.abs(d[0] - d[1]) * (2**p / (2**p - 1)) + roundoff[0]
    if step is not None:
        far = d[1] - stencil_at(sampler, scheme, k, 4 * h, d[1].shape)
        in_range = shrinking(d[0] - d[1], far, p, roundoff[0])
        estimate = np.where(in_range, estimate, np.inf)
    return d[0], estimate, h


def stencil_at(
    sampler: Sampler, scheme: Scheme, k: int, h: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """The stencil's D at the given step of each entry, shaped as the derivative table."""
    offsets, weights = weighted(scheme, k)
    d, _ = differences(evaluate_ladder(sampler, offsets, h[None, :], k), weights, k, sampler.eps)
    return np.reshape(d[0], shape)


def shrinking(near: np.ndarray, far: np.ndarray, p: int, roundoff: np.ndarray) -> np.ndarray:
    """Whether a user's step is where the h^p term rules, so that the change from h to 2h
    estimates the error: the change from 2h to 4h is of one sign with it and about 2^p
    times it, or the change is down at round-off."""
    power_law = (near * far > 0) & (1.5 * np.abs(far) >= 2**p * np.abs(near))
    return power_law | (np.abs(near) <= 4 * roundoff)


def first_step(sampler: Sampler, scheme: Scheme, k: int, step: float | None) -> np.ndarray:
    """The step a stencil starts from, made exact: the user's, or eps^(1/(p+K)) max(1, |x|),
    where truncation (~ h^p) and round-off (~ eps / h^K) are about equal for a function
    whose derivatives are of the size of its values."""
    if step is None:
        return exact_steps(sampler, sampler.eps ** (1.0 / (scheme.accuracy + k)) * sampler.scale)
    return exact_steps(sampler, step)


def settled(
    sampler: Sampler, scheme: Scheme, k: int, step: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """D and its round-off at h and 2h (axis 0), and h. Without --step, h starts at
    eps^(1/(p+K)) max(1, |x|) and then moves to the step that balances the measured
    truncation against the measured noise: D(h) - D(2h) gives the h^p coefficient c, and
    c h^p = noise / h^K sets h. At most STEP_MOVES moves, each only while the better step
    is more than 2x away (a badly scaled function, such as sin(1000 x), or sin(x) far from
    0); D is always at the final step. For K >= 2, a move down that lands where the change
    is lost in the noise has overshot (far from the h^p law, as exp(400000 x) at a step of 1e-4, the
    measured truncation says little about c): the step then goes back up, halfway (in log)
    to the last step known to be too large."""
    offsets, weights = weighted(scheme, k)
    eps = sampler.eps
    h = first_step(sampler, scheme, k, step)
    p = scheme.accuracy
    too_large = np.full(h.shape, np.inf)
    for moves in range(STEP_MOVES + 1):
        ladder = evaluate_ladder(sampler, offsets, np.stack([h, 2 * h]), k)
        d, roundoff = np.array(differences(ladder, weights, k, eps))
        if step is not None or moves == STEP_MOVES:
            break
        moved = _balanced_step(d, roundoff, h, p, k, sampler.x0, too_large)
        if moved is None:
            break
        better, too_large = moved
        h = exact_steps(sampler, better)
    return d.reshape((2, *ladder.shape)), roundoff.reshape((2, *ladder.shape)), h


def _balanced_step(
    d: np.ndarray,
    roundoff: np.ndarray,
    h: np.ndarray,
    p: int,
    k: int,
    x0: np.ndarray,
    too_large: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The step where truncation c h^p equals round-off, per entry, if any is 2x off h, and
    the steps now known to be too large (those measured and moved down from).

    At h the truncation is T = |D(h) - D(2h)| / (2^p - 1) and the round-off R; as c h^p
    and noise / h^K they balance (c h*^p = (K/p) noise / h*^K) at h* = h ((K R) / (p T))
    ^ (1/(p+K)), written with ratios only: h^p underflows for x near 1e-300.
    """
    entries = h.size
    change = np.abs(d[0] - d[1]).reshape(entries, -1).max(axis=1)
    roundoff_at_h = roundoff[0].reshape(entries, -1).max(axis=1)
    measurable = np.isfinite(change) & (change > 4 * roundoff_at_h)
    truncation_at_h = change / (2**p - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ideal = h * ((k * roundoff_at_h) / (p * truncation_at_h)) ** (1.0 / (p + k))
    move = measurable & np.isfinite(ideal) & (ideal > 0) & ((ideal > 2 * h) | (ideal < h / 2))
    # lost in the noise after a move down: back up, halfway to the step known too large
    # (higher derivatives: their noise grows as 1/h^K, so an overshoot costs digits fast)
    overshot = np.isfinite(change) & ~measurable & np.isfinite(too_large) & (too_large > 4 * h)
    overshot &= k >= 2
    up = np.sqrt(h * np.where(overshot, too_large, h))
    # a stencil that reaches outside the domain (log near 0) gets a smaller step, below
    # |x| itself when x is near a boundary at 0 (log(x) at 1e-300)
    outside = ~np.isfinite(change)
    if not (move.any() or outside.any() or overshot.any()):
        return None
    inside = np.where(x0 != 0, np.minimum(h / 16, np.abs(x0) / 4), h / 16)
    better = np.where(outside, inside, np.where(move, ideal, np.where(overshot, up, h)))
    return better, np.where(move & (ideal < h), h, too_large)


def complex_step(sampler: Sampler, step: float | None) -> tuple[Any, Any, Any]:
    n = sampler.x0.size
    base = step if step is not None else 1e-20 * sampler.scale
    h = np.broadcast_to(np.asarray(base, dtype=np.float64), (n,)).copy()
    values = sampler.single(np.concatenate([h, 2 * h]) * 1j)
    values = values.reshape((2, n, *values.shape[1:]))
    trailing = values.ndim - 2
    d_h = values[0].imag / _expand(h, trailing)
    d_2h = values[1].imag / _expand(2 * h, trailing)
    eps = sampler.eps
    estimate = np.abs(d_h - d_2h) + 2 * eps * np.abs(d_h)
    return d_h, estimate, h


def _expand(per_entry: np.ndarray, trailing: int) -> np.ndarray:
    return per_entry.reshape(per_entry.shape + (1,) * trailing)

"""Where f is evaluated: at the point with entries moved, a chunk of points at a time, and
what f's expression says about its round-off."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from diffcli.core.problem import Problem, per_problem
from diffcli.core.resources import row_elements, rows_per_chunk
from diffcli.lang.expr import Call, Expr, Index, Num, Var, walk
from diffcli.methods.numeric.kit import (
    COMPLEX,
    EPSILON,
    SUMS,
    evaluate_at,
    largest_terms,
    leaves,
    stops_held,
)


class _Base(NamedTuple):
    """What a sampler needs of the point, made once per problem and dtype."""

    leaves: dict[str, np.ndarray]
    x0: np.ndarray  # the wrt entries, flattened
    # one derivative in float64: Richardson's ladder can run on Python floats, which are
    # float64 too (the same arithmetic, without NumPy's cost per call on arrays of one)
    scalar: bool
    row_elements: int  # numbers held alive per point evaluated: sizes the chunks
    rounds: bool  # whether f rounds the entries inside (see _rounds_inside)
    # f's noise is eps * max(floor, roundings |f|): where f adds or subtracts (see _sums)
    # a floor of its largest summed term (at least 1); else each of the roundings of a
    # product is relative to |f|
    floor: float | np.ndarray  # per entry on a grid (each point has its own terms)
    roundings: float


_BASES: dict[tuple[int, type], tuple[Problem, _Base]] = {}


def _base(problem: Problem, dtype: type) -> _Base:
    key = (id(problem), dtype)
    cached = _BASES.get(key)
    if cached is None or cached[0] is not problem:
        base = leaves(problem, dtype)
        x0 = np.concatenate([base[name].ravel() for name in problem.wrt])
        if len(_BASES) > 64:
            _BASES.clear()
        terms = largest_terms(problem, base, dtype).max(initial=0.0)
        cached = _BASES[key] = (problem, _facts(problem, base, x0, dtype, x0.size, terms))
    return cached[1]


def _facts(
    problem: Problem,
    base: dict[str, np.ndarray],
    x0: np.ndarray,
    dtype: type,
    entries: int,
    terms: float | np.ndarray,
) -> _Base:
    """What a sampler needs of f and of the entries x0 it moves (`entries` of them per
    point); `terms` is f's largest summed term there (kit.largest_terms), or one per point."""
    x0.flags.writeable = False  # shared by the samplers of a problem
    scalar = x0.size == 1 and problem.output_shape == () and dtype is np.float64
    rounds = _rounds_inside(problem)
    if rounds or _sums(problem):
        floor, roundings = np.maximum(1.0, terms), 1.0
    else:
        floor, roundings = 0.0, _calls(problem)
    elements = _row_elements(problem, entries)
    return _Base(base, x0, scalar, elements, rounds, floor, roundings)


@per_problem
def _rounds_inside(problem: Problem) -> bool:
    """Whether f rounds a value computed from a wrt entry and then feeds it to a function
    (sin(1000*x), exp(sin(x))): that rounding is noise of about eps |x f'| in f. Where the
    entries go straight into single libm calls or constant powers (sin(x), x**3) whose
    results are only added, multiplied or divided (sin(x)*exp(x)), every argument x + o h
    is exact, and each rounding is relative to a factor or term of f. A --python function
    cannot be read, so it is assumed to round."""
    if problem.expr is None:
        return True
    wrt = set(problem.wrt)

    def constant(node: Expr) -> bool:
        return not any(isinstance(sub, Var) and sub.name in wrt for sub in walk(node))

    def entry(node: Expr) -> bool:
        while isinstance(node, Index):
            node = node.children[0]
        return isinstance(node, Var) and node.name in wrt

    def exact(node: Expr) -> bool:
        if constant(node) or entry(node):
            return True
        if not isinstance(node, Call) or node.op is None:
            return False
        if node.op.rounding == "arithmetic":
            return all(exact(arg) for arg in node.args)
        power = node.op.name == "pow" and isinstance(node.args[1], Num)
        return (node.op.rounding == "result" or power) and entry(node.args[0])

    return not exact(problem.expr)


@per_problem
def _sums(problem: Problem) -> bool:
    """Whether f adds or subtracts: its value may then cancel below the terms it rounded
    (0.5 - sigmoid(x) is 0 at 0, 1 - cos(x) is x^2/2), so the noise in f is floored at
    eps, not eps |f|. A product of single libm calls (sin(x) at 1e-8) rounds relative to
    its value."""
    if problem.expr is None:
        return True
    return any(
        isinstance(node, Call) and node.op is not None and node.op.name in SUMS
        for node in walk(problem.expr)
    )


@per_problem
def _calls(problem: Problem) -> float:
    """How many operations of the tree round (at least one): in a product of them the
    relative errors add up."""
    assert problem.expr is not None
    return float(max(1, sum(isinstance(node, Call) for node in walk(problem.expr))))


_row_elements = per_problem(row_elements)


class Sampler:
    """Evaluates f at x0 plus moves over the flattened wrt entries, a batch at a time.

    Stencils move one entry a point (`single`); the Hessian's corners move two, given
    sparsely (`__call__`), so no dense points x entries matrix of moves is ever built.
    Points are made and evaluated a chunk at a time, sized by the memory budget and the
    time a chunk may take (resources.py): memory is O(chunk x entries), never entries^2,
    and the deadline is checked between chunks.
    """

    def __init__(
        self, problem: Problem, dtype: type, memory_mib: float, hold_stops: bool = True
    ) -> None:
        self._know(problem, dtype, memory_mib, _base(problem, dtype))
        self.held = stops_held(problem, self.base, dtype) if hold_stops else {}

    def _know(self, problem: Problem, dtype: type, memory_mib: float, known: _Base) -> None:
        self.problem = problem
        self.dtype = dtype
        self.eps = EPSILON[dtype]
        self.base, self.x0 = known.leaves, known.x0
        self.scalar = known.scalar
        self.chunk = rows_per_chunk(known.row_elements, memory_mib)
        self.rounds = known.rounds
        self.floor, self.roundings = known.floor, known.roundings
        self.evaluations = 0

    @functools.cached_property
    def size(self) -> np.ndarray:
        """|x0|."""
        return np.abs(self.x0)

    @functools.cached_property
    def scale(self) -> np.ndarray:
        """max(1, |x0|): steps are relative to it (made in one array: a grid's stencil
        taken once needs this alone of x0's sizes)."""
        scale = np.abs(self.x0)
        return np.maximum(scale, 1.0, out=scale)

    @functools.cached_property
    def ceiling(self) -> np.ndarray:
        """The power of two above |x0|: past it x0 + 2h may not be exact (made when a
        ladder asks: a grid's stencil taken once never does)."""
        return np.ldexp(1.0, np.frexp(self.size)[1])

    @functools.cached_property
    def inner(self) -> np.ndarray:
        """|x0| where f rounds the entries inside, else 0 (see _rounds_inside)."""
        return self.size if self.rounds else np.zeros_like(self.x0)

    def __call__(self, columns: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        """Row r adds amounts[r, j] to entry columns[r, j] (pairs never repeat in a row)."""

        def points(start: int, stop: int) -> np.ndarray:
            rows = self._copies(stop - start, amounts)
            rows[np.arange(stop - start)[:, None], columns[start:stop]] += amounts[start:stop]
            return rows

        return self._in_chunks(len(columns), self.chunk, points)

    def single(self, moves: np.ndarray) -> np.ndarray:
        """Blocks of n points, point i of a block adding moves[..., i] to entry i alone;
        a chunk may end inside a block (n = 10^5 entries is 10^5 points a block)."""
        n = self.x0.size
        if n == 1 and moves.size <= self.chunk:  # every point moves the one entry
            return self._at(np.add(self.x0, moves.reshape(-1, 1), dtype=self._working(moves)))
        flat = moves.ravel()

        def points(start: int, stop: int) -> np.ndarray:
            rows = self._copies(stop - start, flat)
            rows[np.arange(stop - start), np.arange(start, stop) % n] += flat[start:stop]
            return rows

        return self._in_chunks(flat.size, self.chunk, points)

    def _working(self, moves: np.ndarray) -> type:
        return COMPLEX[self.dtype] if moves.dtype.kind == "c" else self.dtype

    def _copies(self, count: int, moves: np.ndarray) -> np.ndarray:
        rows = np.empty((count, self.x0.size), dtype=self._working(moves))
        rows[:] = self.x0
        return rows

    def _in_chunks(
        self, total: int, size: int, points: Callable[[int, int], np.ndarray]
    ) -> np.ndarray:
        if total <= size:
            return self._at(points(0, total))
        first = self._at(points(0, size))
        out = np.empty((total, *first.shape[1:]), dtype=first.dtype)
        out[:size] = first
        for i in range(size, total, size):
            out[i : i + size] = self._at(points(i, min(i + size, total)))
        return out

    def _at(self, points: np.ndarray) -> np.ndarray:
        """f at each row of points, a row being the wrt entries flattened in order."""
        count = len(points)
        self.evaluations += count
        values = dict(self.base)
        start = 0
        for name in self.problem.wrt:
            shape = self.base[name].shape[1:]
            size = math.prod(shape)
            values[name] = points[:, start : start + size].reshape((count, *shape))
            start += size
        out = evaluate_at(self.problem, values, self.dtype, self.held)
        if out.shape[0] != count:  # nothing depended on the moved entries
            out = np.broadcast_to(out, (count, *out.shape[1:]))
        return out


class AlongSampler(Sampler):
    """f along one scalar variable, for a grid: entry i is the i-th point x_i of the grid,
    and moving entry i evaluates f at x_i plus the move alone (the other variables stay at
    the point). The stencils, steps and estimates are then those of a derivative at a point,
    one per grid point, each stop_gradient held at its value at that point."""

    def __init__(
        self,
        problem: Problem,
        name: str,
        xs: np.ndarray,
        dtype: type,
        memory_mib: float,
        noise: bool = True,
    ) -> None:
        """noise=False: no per-point noise floor (f's largest terms, an evaluation of f
        of its own), for a stencil taken once at its first step, which never reads it."""
        x0 = np.asarray(xs, dtype=dtype).ravel().view()  # the points' own memory, read-only here
        base = leaves(problem, dtype)
        at_x0 = {**base, name: x0}
        terms = largest_terms(problem, at_x0, dtype) if noise else 0.0
        known = _facts(problem, base, x0, dtype, 1, terms)
        self._know(problem, dtype, memory_mib, known._replace(scalar=False))
        self.stops_at_x0 = stops_held(problem, at_x0, dtype)
        self.rows = np.arange(0)  # the grid points of the chunk being evaluated
        self.name = name

    def single(self, moves: np.ndarray) -> np.ndarray:
        flat = moves.ravel()
        n = self.x0.size

        def points(start: int, stop: int) -> np.ndarray:
            """x0 + flat over [start, stop), where entry j moves point j % n: added a run of
            consecutive points at a time (no index arrays, which cost more than f's sums)."""
            out = np.empty(stop - start, dtype=self._working(flat))
            at = start
            while at < stop:
                entry, run = at % n, min(n - at % n, stop - at)
                part = out[at - start : at - start + run]
                np.add(self.x0[entry : entry + run], flat[at : at + run], out=part)
                at += run
            if self.stops_at_x0:
                self.rows = np.arange(start, stop) % n
            return out

        return self._in_chunks(flat.size, self.chunk, points)

    def at(self, points: np.ndarray) -> np.ndarray:
        """f at one moved point per grid point: point i moves x_i to points[i]."""

        def part(start: int, stop: int) -> np.ndarray:
            if self.stops_at_x0:
                self.rows = np.arange(start, stop)
            return points[start:stop]

        return self._in_chunks(points.size, self.chunk, part)

    def _at(self, points: np.ndarray) -> np.ndarray:
        self.evaluations += len(points)
        held = {node: value[self.rows] for node, value in self.stops_at_x0.items()}
        return f_along(self.problem, self.name, points, held)


def f_along(
    problem: Problem, name: str, xs: np.ndarray, held: dict[int, np.ndarray] | None = None
) -> np.ndarray:
    """f with the scalar variable `name` at each of xs (float or complex), the others at the
    point, and the `held` nodes at their given values: one value per entry of xs."""
    dtype = np.float64 if xs.dtype in (np.float64, np.complex128) else np.float32
    values = leaves(problem, dtype)
    values[name] = xs
    with np.errstate(all="ignore"):
        out = evaluate_at(problem, values, dtype, held)
    return np.broadcast_to(out, xs.shape) if out.shape != xs.shape else out

"""Finite differences of the original function, evaluated with NumPy, many points at once.

Every value carries a leading batch axis, so all the perturbed points a derivative needs
are evaluated in one pass over the tree. Schemes:

- stencils (forward, backward, central, five-point): sum_j w_j f(x + o_j h) / h^K, weights
  solved exactly from the Taylor expansion; the step balances truncation (~ h^p) against
  round-off (~ eps / h^K). Error estimate: the same stencil at 2h gives the truncation
  (Richardson's difference), plus the round-off of the values actually summed.
- richardson: central differences at a ladder of steps h0 / r^k, extrapolated twice
  (eliminating the h^2 and h^4 terms); of the windows along the ladder, the one with the
  smallest estimated error wins. Its estimate is the last extrapolation's change plus
  round-off.
- complex-step: Im f(x + ih) / h. No subtraction, so no cancellation: machine precision,
  for expressions built only from complex-analytic operations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np

from diffcli.core.errors import OptionError, ParseError
from diffcli.core.problem import Problem
from diffcli.core.resources import DEFAULT_MEMORY_MIB, rows_per_chunk
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, Const, Expr, Index, Num, Var, walk
from diffcli.methods import HESSIAN, Outcome

DTYPES = {"float64": np.float64, "float32": np.float32}
COMPLEX = {np.float64: np.complex128, np.float32: np.complex64}
EPSILON = {dtype: float(np.finfo(dtype).eps) for dtype in DTYPES.values()}

# functions of one argument that NumPy computes in one call, rounding only the result
# (sigmoid and softplus are not: they go through logaddexp, which rounds a value of size |x|)
SINGLE_CALL = frozenset(
    {"abs", "sign", "relu", "sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "erf"}
    | {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh"}
    | {"asinh", "acosh", "atanh"}
)
ARITHMETIC = frozenset({"add", "sub", "mul", "div", "neg", "sum"})  # round relative to a result
STEP_MOVES = 5  # moves of a stencil's automatic step toward the balance of its errors
RICHARDSON_STEPS = 6  # central pairs on the ladder: 12 evaluations per entry
RICHARDSON_RATIO = 4.0
RICHARDSON_FIRST = 0.25  # the largest step, relative to max(1, |x|)
RICHARDSON_SHRINK = RICHARDSON_RATIO ** -np.arange(RICHARDSON_STEPS, dtype=np.float64)[:, None]


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


def _aligned(a: Any, b: Any) -> tuple[Any, Any]:
    """Line up two batched arrays on the batch axis: per-point shapes broadcast as NumPy's."""
    if not isinstance(a, np.ndarray):
        return a, b
    if not isinstance(b, np.ndarray):
        return a, b
    if a.ndim < b.ndim:
        a = a.reshape(a.shape[:1] + (1,) * (b.ndim - a.ndim) + a.shape[1:])
    elif b.ndim < a.ndim:
        b = b.reshape(b.shape[:1] + (1,) * (a.ndim - b.ndim) + b.shape[1:])
    return a, b


def _sample_axes(a: np.ndarray) -> tuple[int, ...]:
    return tuple(range(1, a.ndim))


class BatchedNumpy:
    """The NumPy kit of the operator table: axis 0 of every value is the batch of points.

    Elementwise functions are NumPy's own; reductions and linear algebra act on the other
    axes, so one call evaluates the expression at every point of the batch.
    """

    def __getattr__(self, name: str) -> Any:
        function = getattr(np, name)
        if isinstance(function, np.ufunc) and function.nin == 2:
            ufunc = function

            def function(a: Any, b: Any) -> Any:
                return ufunc(*_aligned(a, b))

        setattr(self, name, function)  # found once, then a plain attribute
        return function

    @staticmethod
    def sum(a: np.ndarray) -> np.ndarray:
        return a.sum(axis=_sample_axes(a))

    @staticmethod
    def mean(a: np.ndarray) -> np.ndarray:
        return a.mean(axis=_sample_axes(a))

    @staticmethod
    def prod(a: np.ndarray) -> np.ndarray:
        return a.prod(axis=_sample_axes(a))

    @staticmethod
    def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        vector_a, vector_b = a.ndim == 2, b.ndim == 2
        left = a[:, None, :] if vector_a else a
        right = b[:, :, None] if vector_b else b
        product = np.matmul(left, right)
        if vector_b:
            product = product[..., 0]
        if vector_a:
            product = product[:, 0]
        return product

    @staticmethod
    def transpose(a: np.ndarray) -> np.ndarray:
        return a.transpose((0, *reversed(range(1, a.ndim))))

    @staticmethod
    def trace(a: np.ndarray) -> np.ndarray:
        return np.trace(a, axis1=1, axis2=2)

    @staticmethod
    def logsumexp(a: np.ndarray) -> np.ndarray:
        axes = _sample_axes(a)
        top = a.real.max(axis=axes, keepdims=True)
        return (top + np.log(np.exp(a - top).sum(axis=axes, keepdims=True))).reshape(a.shape[0])

    @staticmethod
    def softmax(a: np.ndarray) -> np.ndarray:
        shifted = np.exp(a - a.real.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    @staticmethod
    def sigmoid(a: np.ndarray) -> np.ndarray:
        if np.iscomplexobj(a):
            return 1 / (1 + np.exp(-a))
        return np.exp(-np.logaddexp(0, -a))

    @staticmethod
    def softplus(a: np.ndarray) -> np.ndarray:
        if np.iscomplexobj(a):
            return np.log1p(np.exp(a))
        return np.logaddexp(0, a)

    @staticmethod
    def erf(a: np.ndarray) -> np.ndarray:
        return np.vectorize(math.erf, otypes=[a.dtype])(a)


class NumpyBackend:
    """Evaluates the tree with NumPy in one working dtype, on a batch of points."""

    form = "numpy"
    kit = BatchedNumpy()

    def __init__(self, dtype: type) -> None:
        self.dtype = dtype

    def number(self, node: Num | Const) -> np.ndarray:
        if isinstance(node, Num):
            value = float(node.value)
        else:
            value = math.pi if node.name == "pi" else math.e
        return np.array([value], dtype=self.dtype)

    def index(self, value: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
        return value[(slice(None), *indices)]

    def stack(self, items: list[np.ndarray]) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*items), axis=1)


def leaves(problem: Problem, dtype: type) -> dict[str, np.ndarray]:
    """Every variable's value as a batch of one point: shape (1, *shape)."""
    return {
        name: np.array(value.floats(), dtype=dtype).reshape((1, *value.shape))
        for name, value in problem.point.items()
    }


def value_at_point(problem: Problem, dtype: type = np.float64) -> np.ndarray:
    """f at the point, in the working dtype (shape: the output's)."""
    with np.errstate(all="ignore"):
        return evaluate_at(problem, leaves(problem, dtype), dtype)[0]


def evaluate_at(problem: Problem, values: dict[str, np.ndarray], dtype: type) -> np.ndarray:
    """f at a batch of points (axis 0 of every value): the tree, or the --python function."""
    if problem.function is not None:
        from diffcli.methods.autograd import call_rows

        return call_rows(problem, values)
    return np.asarray(evaluate(problem.expr, values, NumpyBackend(dtype)))


class _Base(NamedTuple):
    """What a sampler needs of the point, made once per problem and dtype."""

    leaves: dict[str, np.ndarray]
    x0: np.ndarray  # the wrt entries, flattened
    scale: np.ndarray  # max(1, |x0|): steps are relative to it
    # one derivative in float64: Richardson's ladder can run on Python floats, which are
    # float64 too (the same arithmetic, without NumPy's cost per call on arrays of one)
    scalar: bool
    row_elements: int  # numbers held alive per point evaluated: sizes the chunks
    size: np.ndarray  # |x0|
    ceiling: np.ndarray  # the power of two above |x0|: past it x0 + 2h may not be exact
    inner: np.ndarray  # |x0| where f rounds the entries inside, else 0 (see _rounds_inside)
    # f's noise is eps * max(floor, roundings |f|): a floor of 1 where f adds or
    # subtracts (see _sums); else each of the roundings of a product is relative to |f|
    floor: float
    roundings: float


_BASES: dict[tuple[int, type], tuple[Problem, _Base]] = {}


def _base(problem: Problem, dtype: type) -> _Base:
    key = (id(problem), dtype)
    cached = _BASES.get(key)
    if cached is None or cached[0] is not problem:
        base = leaves(problem, dtype)
        x0 = np.concatenate([base[name].ravel() for name in problem.wrt])
        size = np.abs(x0)
        scale = np.maximum(size, 1.0)
        ceiling = np.ldexp(1.0, np.frexp(size)[1])
        for shared in (x0, size, scale, ceiling):
            shared.flags.writeable = False
        scalar = x0.size == 1 and problem.output_shape == () and dtype is np.float64
        row_elements = _row_elements(problem, x0.size)
        rounds = _rounds_inside(problem)
        inner = size if rounds else np.zeros_like(x0)
        floor, roundings = (1.0, 1.0) if rounds or _sums(problem) else (0.0, _calls(problem))
        if len(_BASES) > 64:
            _BASES.clear()
        cached = _BASES[key] = (
            problem,
            _Base(base, x0, scale, scalar, row_elements, size, ceiling, inner, floor, roundings),
        )
    return cached[1]


def _row_elements(problem: Problem, entries: int) -> int:
    """Numbers one evaluated point keeps alive: its entries and every node's value (the
    evaluator holds them all until the end). A --python function cannot be read: eight
    times its inputs and output is assumed."""
    if problem.expr is None:
        return 8 * (entries + math.prod(problem.output_shape))
    sizes = sum(math.prod(node.shape or ()) for node in walk(problem.expr))
    return entries + sizes


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
        if node.op.name in ARITHMETIC:
            return all(exact(arg) for arg in node.args)
        power = node.op.name == "pow" and isinstance(node.args[1], Num)
        return (node.op.name in SINGLE_CALL or power) and entry(node.args[0])

    return not exact(problem.expr)


def _sums(problem: Problem) -> bool:
    """Whether f adds or subtracts: its value may then cancel below the terms it rounded
    (0.5 - sigmoid(x) is 0 at 0, 1 - cos(x) is x^2/2), so the noise in f is floored at
    eps, not eps |f|. A product of single libm calls (sin(x) at 1e-8) rounds relative to
    its value."""
    if problem.expr is None:
        return True
    return any(
        isinstance(node, Call) and node.op is not None and node.op.name in {"add", "sub", "sum"}
        for node in walk(problem.expr)
    )


def _calls(problem: Problem) -> float:
    """How many operations of the tree round (at least one): in a product of them the
    relative errors add up."""
    assert problem.expr is not None
    return float(max(1, sum(isinstance(node, Call) for node in walk(problem.expr))))


class _Sampler:
    """Evaluates f at x0 plus moves over the flattened wrt entries, a batch at a time.

    Stencils move one entry a point (`single`); the Hessian's corners move two, given
    sparsely (`__call__`), so no dense points x entries matrix of moves is ever built.
    Points are made and evaluated a chunk at a time, sized by the memory budget and the
    time a chunk may take (resources.py): memory is O(chunk x entries), never entries^2,
    and the deadline is checked between chunks.
    """

    def __init__(self, problem: Problem, dtype: type, memory_mib: float) -> None:
        self.problem = problem
        self.dtype = dtype
        self.eps = EPSILON[dtype]
        known = _base(problem, dtype)
        self.base, self.x0, self.scale = known.leaves, known.x0, known.scale
        self.scalar = known.scalar
        self.chunk = rows_per_chunk(known.row_elements, memory_mib)
        self.size, self.ceiling = known.size, known.ceiling
        self.inner, self.floor, self.roundings = known.inner, known.floor, known.roundings
        self.evaluations = 0

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
        out = evaluate_at(self.problem, values, self.dtype)
        if out.shape[0] != count:  # nothing depended on the moved entries
            out = np.broadcast_to(out, (count, *out.shape[1:]))
        return out


def differentiate(
    problem: Problem,
    scheme_name: str = "central",
    dtype_name: str = "float64",
    step: float | None = None,
    memory_mib: float = DEFAULT_MEMORY_MIB,
) -> Outcome:
    """Derivative of every output by every entry of the wrt variables, by finite differences."""
    dtype = DTYPES[dtype_name]
    sampler = _Sampler(problem, dtype, memory_mib)
    with np.errstate(all="ignore"):  # non-finite values are reported, not warned about
        if scheme_name == "richardson":
            table, estimate, steps = _richardson(sampler, problem.order, step)
        elif scheme_name == "complex-step":
            _check_analytic(problem)
            table, estimate, steps = _complex_step(sampler, step)
        else:
            table, estimate, steps = _stencil(sampler, _scheme(scheme_name), problem.order, step)
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


def _steps(sampler: _Sampler, base: Any) -> np.ndarray:
    """Steps made exact in the working dtype, (x + h) - x == h; any leading axes, last = entry."""
    x = sampler.x0
    h = np.asarray(base, dtype=np.float64)
    if sampler.dtype is np.float64:
        moved = (x + h) - x
    else:
        moved = (x + h.astype(sampler.dtype)).astype(np.float64) - x.astype(np.float64)
    return np.where(moved, moved, h)  # h itself where it is below x's rounding


class _Ladder(NamedTuple):
    """f on a ladder of steps, as rows a step: values[j][i] is f at offset i of step j.

    Each row is an array over the columns, a column being one output's derivative by one
    entry (entry-major); or, for one float64 derivative on Python floats, a number.
    """

    values: Any
    magnitudes: Any  # max(floor, roundings |f|) of each value, for its round-off
    steps: Any  # each column's step
    scale: Any  # step^K
    # each column's |x| where x + o h is rounded: inside f (see _rounds_inside), or where
    # the outer points reach the next power of two, past which x + 2h is not exact (x just
    # below 1); else 0. A row a step
    x: Any
    shape: tuple[int, ...]  # the derivative table's: (n, *output)


def _ladder(sampler: _Sampler, offsets: np.ndarray, steps: np.ndarray, k: int) -> _Ladder:
    """f at x0 + o * h_j * e_i for every step h_j (rows of steps, made exact here), offset o
    and entry i, in one batch."""
    if sampler.scalar and (floats := _float_ladder(sampler, offsets, steps.ravel().tolist(), k)):
        return floats
    steps = _steps(sampler, steps)
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
    return _Ladder(values, magnitudes, steps, scale, rounded, shape)


def _float_ladder(
    sampler: _Sampler, offsets: np.ndarray, steps: list[float], k: int
) -> _Ladder | None:
    """_ladder for one float64 derivative, on Python floats. None where a step^K underflows
    to 0 or overflows: a float division by 0 and a float power too large raise, where
    NumPy's give inf."""
    x = sampler.x0.item()
    steps = [((x + h) - x) or h for h in steps]  # made exact, as _steps does
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
    return _Ladder(values.tolist(), magnitudes, steps, scale, rounded, (1,))


def _magnitudes(sampler: _Sampler, values: np.ndarray) -> np.ndarray:
    """max(floor, roundings |f|) for each value: the size its round-off is relative to."""
    out = np.abs(values)
    if sampler.roundings != 1:
        out *= sampler.roundings
    return np.maximum(out, sampler.floor, out=out)


@lru_cache(maxsize=64)
def _weighted(scheme: Scheme, k: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """The stencil's offsets (to scale steps by) and weights, without the zero-weight points."""
    offsets = scheme.offsets(k)
    used = [(o, float(w)) for o, w in zip(offsets, stencil(offsets, k)) if w != 0]
    return np.array([o for o, _ in used], dtype=np.float64), tuple(w for _, w in used)


def _differences(
    ladder: _Ladder, weights: tuple[float, ...], k: int, eps: float
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


def _stencil(sampler: _Sampler, scheme: Scheme, k: int, step: float | None) -> tuple[Any, Any, Any]:
    """The stencil at its settled step h, with |D(h) - D(2h)| + round-off as the estimate.

    That estimate holds where the h^p term rules, which the automatic step sees to. A step
    the user gives may be far outside it (sin(x) with h = 1e3), so D(4h) is taken too:
    where D(2h) - D(4h) is not about 2^p times D(h) - D(2h), and the change is above
    round-off, the error is unknown, and the estimate says so with inf.
    """
    d, roundoff, h = _settled(sampler, scheme, k, step)
    # |D(h) - D(2h)| is (2^p - 1) times the truncation at h when the h^p term rules; taken
    # as 2^p times it, it also covers the next terms (for forward differences, p = 1, the
    # change alone is the truncation, with no room for them)
    p = scheme.accuracy
    estimate = np.abs(d[0] - d[1]) * (2**p / (2**p - 1)) + roundoff[0]
    if step is not None:
        far = d[1] - _stencil_at(sampler, scheme, k, 4 * h, d[1].shape)
        in_range = _shrinking(d[0] - d[1], far, p, roundoff[0])
        estimate = np.where(in_range, estimate, np.inf)
    return d[0], estimate, h


def _stencil_at(
    sampler: _Sampler, scheme: Scheme, k: int, h: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """The stencil's D at the given step of each entry, shaped as the derivative table."""
    offsets, weights = _weighted(scheme, k)
    d, _ = _differences(_ladder(sampler, offsets, h[None, :], k), weights, k, sampler.eps)
    return np.reshape(d[0], shape)


def _shrinking(near: np.ndarray, far: np.ndarray, p: int, roundoff: np.ndarray) -> np.ndarray:
    """Whether a user's step is where the h^p term rules, so that the change from h to 2h
    estimates the error: the change from 2h to 4h is of one sign with it and about 2^p
    times it, or the change is down at round-off."""
    power_law = (near * far > 0) & (1.5 * np.abs(far) >= 2**p * np.abs(near))
    return power_law | (np.abs(near) <= 4 * roundoff)


def _settled(
    sampler: _Sampler, scheme: Scheme, k: int, step: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """D and its round-off at h and 2h (axis 0), and h. Without --step, h starts at
    eps^(1/(p+K)) max(1, |x|) and then moves to the step that balances the measured
    truncation against the measured noise: D(h) - D(2h) gives the h^p coefficient c, and
    c h^p = noise / h^K sets h. At most STEP_MOVES moves, each only while the better step
    is more than 2x away (a badly scaled function, such as sin(1000 x), or sin(x) far from
    0); D is always at the final step."""
    offsets, weights = _weighted(scheme, k)
    eps = sampler.eps
    if step is None:
        h = _steps(sampler, eps ** (1.0 / (scheme.accuracy + k)) * sampler.scale)
    else:
        h = _steps(sampler, step)
    p = scheme.accuracy
    for moves in range(STEP_MOVES + 1):
        ladder = _ladder(sampler, offsets, np.stack([h, 2 * h]), k)
        d, roundoff = np.array(_differences(ladder, weights, k, eps))
        if step is not None or moves == STEP_MOVES:
            break
        better = _balanced_step(d, roundoff, h, p, k, sampler.x0)
        if better is None:
            break
        h = _steps(sampler, better)
    return d.reshape((2, *ladder.shape)), roundoff.reshape((2, *ladder.shape)), h


def _balanced_step(
    d: np.ndarray, roundoff: np.ndarray, h: np.ndarray, p: int, k: int, x0: np.ndarray
) -> np.ndarray | None:
    """The step where truncation c h^p equals round-off, per entry, if any is 2x off h.

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
    # a stencil that reaches outside the domain (log near 0) gets a smaller step, below
    # |x| itself when x is near a boundary at 0 (log(x) at 1e-300)
    outside = ~np.isfinite(change)
    if not (move.any() or outside.any()):
        return None
    inside = np.where(x0 != 0, np.minimum(h / 16, np.abs(x0) / 4), h / 16)
    return np.where(outside, inside, np.where(move, ideal, h))


def _richardson(sampler: _Sampler, k: int, step: float | None) -> tuple[Any, Any, Any]:
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
    sampler: _Sampler, k: int, top: Any
) -> tuple[tuple[int, ...], tuple[Any, Any, Any, Any]]:
    """The derivative table's shape, and the ladder's chosen window: value, estimate,
    step and whether it is trusted, as numbers for one derivative, else flat arrays."""
    offsets, weights = _weighted(SCHEMES["central"], k)
    ladder = _ladder(sampler, offsets, RICHARDSON_SHRINK * top, k)
    d, roundoff = _differences(ladder, weights, k, sampler.eps)
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


def _complex_step(sampler: _Sampler, step: float | None) -> tuple[Any, Any, Any]:
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
    sampler = _Sampler(problem, dtype, memory_mib)
    with np.errstate(all="ignore"):
        diagonal, _, h = _settled(sampler, SCHEMES["central"], 2, step)
        f0 = float(sampler(np.zeros((1, 1), dtype=int), np.zeros((1, 1)))[0])
        result, doubled = (
            _second_differences(sampler, diagonal[i], h * stride) for i, stride in enumerate((1, 2))
        )
        eps = sampler.eps
        truncation = np.abs(result - doubled) / 3
        roundoff = 4 * eps * abs(f0) / np.outer(h, h)
        estimate = truncation + roundoff
        if step is not None:
            diagonal_4h = _stencil_at(sampler, SCHEMES["central"], 2, 4 * h, h.shape)
            far = doubled - _second_differences(sampler, diagonal_4h, 4 * h)
            estimate = np.where(_shrinking(result - doubled, far, 2, roundoff), estimate, np.inf)
    details = {
        "scheme": "central",
        "step": float(np.median(h)),
        "error_estimate": _worst(estimate),
        "evaluations": sampler.evaluations,
        "dtype": dtype_name,
    }
    return Outcome({HESSIAN: result}, details)


def _second_differences(sampler: _Sampler, diagonal: np.ndarray, h: np.ndarray) -> np.ndarray:
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

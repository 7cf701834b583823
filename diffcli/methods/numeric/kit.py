"""The NumPy kit of the operator table, batched: axis 0 of every value is a point."""

from __future__ import annotations

from typing import Any

import numpy as np

from diffcli.core.problem import Problem, per_problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, Const, Expr, Num, stops_in, walk
from diffcli.lang.ops import CONSTANTS

SUMS = frozenset({"add", "sub", "sum"})  # operations whose terms may cancel
DTYPES = {"float64": np.float64, "float32": np.float32}


COMPLEX = {np.float64: np.complex128, np.float32: np.complex64}


EPSILON = {dtype: float(np.finfo(dtype).eps) for dtype in DTYPES.values()}


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


# exponents whose NumPy form rounds once, as pow does, so the value is pow's to the bit:
# x**2 as a square (NumPy's own fast path for an array), x**-1 as a reciprocal; pow itself
# is several times slower, ten times in long double. Finite differences and symbolic's
# array evaluation (the grid and its reference) both use it.
SAME_AS_POW: dict[float, Any] = {2.0: np.square, -1.0: np.reciprocal}


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
    def power(a: Any, b: Any) -> Any:
        """a**b, with NumPy's own fast forms where the exponent is a constant 2 or -1
        (as `x**2` on an array is): the same correctly rounded values, several times faster
        than pow."""
        if isinstance(b, np.ndarray) and b.size == 1:
            fast = SAME_AS_POW.get(float(b.reshape(-1)[0]))
            if fast is not None:
                return fast(a)
        return np.power(*_aligned(a, b))

    @staticmethod
    def sample_axes(a: np.ndarray) -> tuple[int, ...]:
        """Every axis but the batch's."""
        return tuple(range(1, a.ndim))


class NumpyBackend:
    """Evaluates the tree with NumPy in one working dtype, on a batch of points."""

    form = "numpy"
    kit = BatchedNumpy()

    def __init__(self, dtype: type, held: dict[int, np.ndarray] | None = None) -> None:
        self.dtype = dtype
        self.held = held or {}

    def number(self, node: Num | Const) -> np.ndarray:
        value = float(node.value) if isinstance(node, Num) else CONSTANTS[node.name].value
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


def evaluate_at(
    problem: Problem,
    values: dict[str, np.ndarray],
    dtype: type,
    held: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """f at a batch of points (axis 0 of every value): the tree, or the --python function;
    `held` gives some nodes' values instead (stop_gradient's, at the unperturbed point)."""
    if problem.rows is not None:
        return problem.rows(values)
    return np.asarray(evaluate(problem.expr, values, NumpyBackend(dtype, held)))


def stops_held(problem: Problem, base: dict[str, np.ndarray], dtype: type) -> dict[int, np.ndarray]:
    """Each stop_gradient of the tree, by id, with its value at the point `base` (a batch of
    one): finite differences then perturb everything but what the stops cut off."""
    stops = _stop_ids(problem)
    if not stops:
        return {}
    held: dict[int, np.ndarray] = {}

    def keep(node: Expr, value: np.ndarray) -> None:
        if id(node) in stops:
            held[id(node)] = value

    with np.errstate(all="ignore"):
        evaluate(problem.expr, base, NumpyBackend(dtype), keep)
    return held


@per_problem
def _stop_ids(problem: Problem) -> frozenset[int]:
    return frozenset(id(node) for node in stops_in(problem.expr))


def largest_terms(problem: Problem, values: dict[str, np.ndarray], dtype: type) -> np.ndarray:
    """Per point of a batch, the largest |term| that f adds or subtracts (an argument of +,
    - or sum, every entry of it), or |f| itself: the size f's round-off is relative to
    where terms cancel. The Goldstein-Price function at its minimum is 3, summed from terms
    up to 48, so its noise is 48 eps, not 3 eps. Empty for a --python function, whose
    operations cannot be read."""
    if problem.expr is None:
        return np.zeros(0)
    summed = {
        id(arg)
        for node in walk(problem.expr)
        if isinstance(node, Call) and node.op is not None and node.op.name in SUMS
        for arg in node.args
    }
    largest: list[np.ndarray] = []

    def keep(node: Expr, value: np.ndarray) -> None:
        if id(node) in summed or node is problem.expr:
            sizes = np.abs(np.asarray(value, dtype=np.float64))
            sizes = np.where(np.isfinite(sizes), sizes, 0.0)
            largest.append(sizes.reshape(sizes.shape[0], -1).max(axis=1))

    with np.errstate(all="ignore"):
        evaluate(problem.expr, values, NumpyBackend(dtype), keep)
    return np.max(np.broadcast_arrays(*largest), axis=0)


def largest_term(problem: Problem, dtype: type = np.float64) -> float:
    """largest_terms at the point: one number (0 for a --python function)."""
    terms = largest_terms(problem, leaves(problem, dtype), dtype)
    return float(terms.max(initial=0.0))

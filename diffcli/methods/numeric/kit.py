"""The NumPy kit of the operator table, batched: axis 0 of every value is a point."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from diffcli.core.problem import Problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Const, Num

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
    if problem.rows is not None:
        return problem.rows(values)
    return np.asarray(evaluate(problem.expr, values, NumpyBackend(dtype)))

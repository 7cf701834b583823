"""The operator table: one row per operation of the language.

Each row gives the operation's name, how many arguments it takes, its shape rule, and its
NumPy, torch and SymPy forms. A form is a function `(kit, *args)`: `kit` is the engine's
namespace (the batched NumPy kit of `methods/numeric/kit.py`, the torch module, or the SymPy
array kit of `methods/symbolic.py`), so this module imports no engine. The NumPy form is
batched: axis 0 of every value is a point, and the kit's `sample_axes(a)` names the others
(binary ufuncs line the two batches up themselves). `analytic` says whether the NumPy form
is complex-analytic, as the complex-step method needs; `rounding` how the NumPy form
rounds (finite differences' noise model); `kink` where it is not differentiable. `matrix`
is the optional MatrixSymbol form used to show closed-form matrix calculus. Adding an
operation is adding a row (and its tests); the constants are rows of CONSTANTS.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from diffcli.lang.types import Shape

Form = Callable[..., object]


@dataclass(frozen=True, repr=False)
class Op:
    """One operation. `kink` names where it is not differentiable (see KINKS)."""

    name: str
    arity: int
    shape: Callable[[Sequence[Shape]], Shape]
    numpy: Form
    torch: Form
    sympy: Form
    matrix: Form | None = None
    analytic: bool = True
    kink: str | None = None
    infix: str | None = None
    precedence: int = 100
    # how the NumPy form rounds: "result" for one libm call that rounds only its result
    # (sin, exp: its argument x + h stays exact); "arithmetic" for +, -, *, / and sum,
    # whose rounding is relative to a result; None for anything else (sigmoid and softplus
    # go through logaddexp, which rounds a value of size |x|)
    rounding: str | None = None
    written: str | None = None  # the name users write, where two rows share one (norm, log)

    @property
    def spelling(self) -> str:
        return self.written or self.name

    def __repr__(self) -> str:
        return f"Op({self.name})"


@dataclass(frozen=True)
class Constant:
    """A named constant of the language: its float64 value and its exact SymPy form."""

    name: str
    value: float
    sympy: Form


CONSTANTS: dict[str, Constant] = {
    "pi": Constant("pi", math.pi, lambda m: m.pi),
    "e": Constant("e", math.e, lambda m: m.E),
}

SOFTPLUS_LINEAR_FROM = 40.0  # softplus(a) = a in float64 from here: e^-40 is below eps

KINKS = {
    "zero": "its argument is 0",
    "equal": "its two arguments are equal",
    "all_zero": "its argument is the zero vector",
    "any_zero": "a component of its argument is 0",
    "both_zero": "both arguments are 0",
    "cut": "its first argument is 0 and its second 0 or negative: the origin, or the branch "
    "cut where it jumps by 2 pi",
}


def same_shape(shapes: Sequence[Shape]) -> Shape:
    return shapes[0]


def broadcast(shapes: Sequence[Shape]) -> Shape:
    """NumPy broadcasting of two shapes."""
    a, b = shapes
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and 1 not in (da, db):
            raise ValueError(f"shapes {a} and {b} do not match")
        out.append(max(da, db))
    return tuple(reversed(out))


def to_scalar(shapes: Sequence[Shape]) -> Shape:
    return ()


def entrywise_norm1(shapes: Sequence[Shape]) -> Shape:
    """norm(x, 1) of a vector (or a number). Of a matrix, NumPy's and torch's norm(A, 1) is
    the induced norm (the largest column sum of |A|), not the sum of |entries| this row
    computes: refused, with the spelling of either."""
    if len(shapes[0]) > 1:
        raise ValueError(
            f"norm(A, 1) of a matrix (shape {shapes[0]}) is ambiguous: NumPy's is the largest "
            "column sum of abs(A); write sum(abs(A)) for the sum of all entries' sizes"
        )
    return ()


def reduce_array(shapes: Sequence[Shape]) -> Shape:
    if 0 in shapes[0]:
        raise ValueError(f"needs a non-empty array, got shape {shapes[0]}")
    return ()


def matmul_shape(shapes: Sequence[Shape]) -> Shape:
    a, b = shapes
    if not a or not b:
        raise ValueError(f"needs vectors or matrices, got shapes {a} and {b}; use * for scalars")
    if len(a) > 2 or len(b) > 2:
        raise ValueError(f"works on vectors and matrices, got shapes {a} and {b}")
    inner_a = a[-1]
    inner_b = b[0]
    if inner_a != inner_b:
        raise ValueError(f"shapes {a} and {b} do not match")
    return a[:-1] + b[1:]


def vector_shape(shapes: Sequence[Shape]) -> Shape:
    if len(shapes[0]) != 1:
        raise ValueError(f"needs a vector, got shape {shapes[0]}")
    return shapes[0]


def square_to_scalar(shapes: Sequence[Shape]) -> Shape:
    s = shapes[0]
    if len(s) != 2 or s[0] != s[1]:
        raise ValueError(f"needs a square matrix, got shape {s}")
    return ()


def reversed_shape(shapes: Sequence[Shape]) -> Shape:
    return tuple(reversed(shapes[0]))


def _elementwise(name: str, *, kink: str | None = None, analytic: bool = True) -> Op:
    """A unary elementwise function that every engine names alike, one libm call in NumPy."""
    return Op(
        name,
        1,
        same_shape,
        numpy=lambda m, a: getattr(m, name)(a),
        torch=lambda m, a: getattr(m, name)(a),
        sympy=lambda m, a: getattr(m, name)(a),
        kink=kink,
        analytic=analytic,
        rounding="result",
    )


def _infix(
    name: str, symbol: str, precedence: int, ufunc: str, form: Form, matrix: Form | None
) -> Op:
    """An arithmetic operator: NumPy's ufunc (batch-aligned by the kit), Python's operator."""
    return Op(
        name,
        2,
        broadcast,
        numpy=lambda m, a, b: getattr(m, ufunc)(a, b),
        torch=form,
        sympy=form,
        matrix=matrix,
        infix=symbol,
        precedence=precedence,
        rounding="arithmetic" if name != "pow" else None,
    )


def _torch_transpose(m: object, a: object) -> object:
    return a.permute(*reversed(range(a.ndim)))  # type: ignore[attr-defined]


SHORT_DOT = 16  # entries up to which a dot product per point is added up term by term


def _numpy_matmul(m: Any, a: Any, b: Any) -> Any:
    """a @ b per point: a vector is a row on the left and a column on the right. A dot
    product of short vectors is its terms added in turn over all points at once: NumPy's
    batched matmul multiplies a 1 x n by an n x 1 per point, 4x slower at n = 3 (and one
    BLAS call would round a point differently by where it lies in the batch)."""
    vector_a, vector_b = a.ndim == 2, b.ndim == 2
    if vector_a and vector_b and a.shape[1] <= SHORT_DOT:
        total = a[:, 0] * b[:, 0]
        for j in range(1, a.shape[1]):
            total = total + a[:, j] * b[:, j]
        return total
    product = (a[:, None, :] if vector_a else a) @ (b[:, :, None] if vector_b else b)
    if vector_b:
        product = product[..., 0]
    if vector_a:
        product = product[:, 0]
    return product


def _numpy_norm(m: Any, a: Any) -> Any:
    """The 2-norm per point, scaled by the largest entry so that squares cannot overflow
    (1e200); unscaled for the complex step, where it must stay complex-analytic."""
    if m.iscomplexobj(a):
        return m.sqrt((a * a).sum(axis=m.sample_axes(a)))
    flat = m.abs(a).reshape(a.shape[0], -1)
    top = flat.max(axis=1, keepdims=True)
    scale = m.where(top > 0, top, 1.0)
    return (scale * m.sqrt(((flat / scale) ** 2).sum(axis=1, keepdims=True)))[:, 0]


def _numpy_logsumexp(m: Any, a: Any) -> Any:
    """log sum exp per point, shifted by the largest entry so that exp cannot overflow."""
    axes = m.sample_axes(a)
    top = a.real.max(axis=axes, keepdims=True)
    return (top + m.log(m.exp(a - top).sum(axis=axes, keepdims=True))).reshape(a.shape[0])


def _numpy_softmax(m: Any, a: Any) -> Any:
    shifted = m.exp(a - a.real.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _numpy_sigmoid(m: Any, a: Any) -> Any:
    """exp(-log(1 + e^-a)), stable for large |a|; complex-analytic for the complex step."""
    return 1 / (1 + m.exp(-a)) if m.iscomplexobj(a) else m.exp(-m.logaddexp(0, -a))


def _numpy_softplus(m: Any, a: Any) -> Any:
    return m.log1p(m.exp(a)) if m.iscomplexobj(a) else m.logaddexp(0, a)


def _numpy_erf(m: Any, a: Any) -> Any:
    return m.vectorize(math.erf, otypes=[a.dtype])(a)


OPS: tuple[Op, ...] = (
    _infix("add", "+", 10, "add", lambda m, a, b: a + b, lambda m, a, b: m.add(a, b)),
    _infix("sub", "-", 10, "subtract", lambda m, a, b: a - b, lambda m, a, b: m.sub(a, b)),
    _infix("mul", "*", 20, "multiply", lambda m, a, b: a * b, lambda m, a, b: m.mul(a, b)),
    _infix("div", "/", 20, "divide", lambda m, a, b: a / b, lambda m, a, b: m.div(a, b)),
    replace(  # through the kit: torch's takes a constant exponent as a number (autograd)
        _infix("pow", "**", 40, "power", lambda m, a, b: a**b, lambda m, a, b: m.pow(a, b)),
        torch=lambda m, a, b: m.pow(a, b),
    ),
    Op(
        "matmul",
        2,
        matmul_shape,
        numpy=_numpy_matmul,
        torch=lambda m, a, b: a @ b,
        sympy=lambda m, a, b: m.matmul(a, b),
        matrix=lambda m, a, b: m.matmul(a, b),
        infix="@",
        precedence=20,
    ),
    Op(
        "neg",
        1,
        same_shape,
        numpy=lambda m, a: -a,
        torch=lambda m, a: -a,
        sympy=lambda m, a: -a,
        matrix=lambda m, a: m.neg(a),
        infix="-",
        precedence=30,
        rounding="arithmetic",
    ),
    *(
        _elementwise(name)
        for name in (
            [
                "sin",
                "cos",
                "tan",
                "asin",
                "acos",
                "atan",
                "sinh",
                "cosh",
                "tanh",
                "asinh",
                "acosh",
                "atanh",
                "exp",
                "log",
            ]
        )
    ),
    _elementwise("sqrt", kink="zero"),
    _elementwise("abs", kink="zero", analytic=False),
    _elementwise("sign", kink="zero", analytic=False),
    Op(
        "expm1",
        1,
        same_shape,
        numpy=lambda m, a: m.expm1(a),
        rounding="result",
        torch=lambda m, a: m.expm1(a),
        sympy=lambda m, a: m.expm1(a),
    ),
    Op(
        "log1p",
        1,
        same_shape,
        numpy=lambda m, a: m.log1p(a),
        rounding="result",
        torch=lambda m, a: m.log1p(a),
        sympy=lambda m, a: m.log1p(a),
    ),
    Op(
        "log2",
        1,
        same_shape,
        numpy=lambda m, a: m.log2(a),
        rounding="result",
        torch=lambda m, a: m.log2(a),
        sympy=lambda m, a: m.log(a) / m.log(2),
    ),
    Op(
        "log10",
        1,
        same_shape,
        numpy=lambda m, a: m.log10(a),
        rounding="result",
        torch=lambda m, a: m.log10(a),
        sympy=lambda m, a: m.log(a) / m.log(10),
    ),
    Op(
        "erf",
        1,
        same_shape,
        numpy=_numpy_erf,
        torch=lambda m, a: m.erf(a),
        sympy=lambda m, a: m.erf(a),
        analytic=False,
        rounding="result",
    ),
    Op(
        "sigmoid",
        1,
        same_shape,
        numpy=_numpy_sigmoid,
        torch=lambda m, a: m.sigmoid(a),
        sympy=lambda m, a: m.sigmoid(a),
    ),
    Op(
        "relu",
        1,
        same_shape,
        numpy=lambda m, a: m.maximum(a, 0),
        torch=lambda m, a: m.relu(a),
        sympy=lambda m, a: m.Max(0, a),
        kink="zero",
        analytic=False,
        rounding="result",
    ),
    Op(
        "softplus",
        1,
        same_shape,
        numpy=_numpy_softplus,
        # torch's default takes softplus(a) = a past a = 20, where it is off by e^-20 of its
        # slope (1e-9 of it at 20.7, past autograd's tolerance); past 40 that is below eps
        torch=lambda m, a: m.nn.functional.softplus(a, threshold=SOFTPLUS_LINEAR_FROM),
        sympy=lambda m, a: m.softplus(a),
    ),
    Op(
        "atan2",
        2,
        broadcast,
        numpy=lambda m, y, x: m.atan2(y, x),
        torch=lambda m, y, x: m.atan2(y, x),
        sympy=lambda m, y, x: m.atan2(y, x),
        kink="cut",
        analytic=False,
    ),
    Op(
        "hypot",
        2,
        broadcast,
        numpy=lambda m, a, b: m.hypot(a, b),
        torch=lambda m, a, b: m.hypot(a, b),
        sympy=lambda m, a, b: m.hypot(a, b),
        kink="both_zero",
        analytic=False,
    ),
    Op(
        "max",
        2,
        broadcast,
        numpy=lambda m, a, b: m.maximum(a, b),
        torch=lambda m, a, b: m.maximum(a, b),
        sympy=lambda m, a, b: m.Max(a, b),
        kink="equal",
        analytic=False,
    ),
    Op(
        "min",
        2,
        broadcast,
        numpy=lambda m, a, b: m.minimum(a, b),
        torch=lambda m, a, b: m.minimum(a, b),
        sympy=lambda m, a, b: m.Min(a, b),
        kink="equal",
        analytic=False,
    ),
    Op(
        "logb",
        2,
        broadcast,
        numpy=lambda m, a, b: m.divide(m.log(a), m.log(b)),
        torch=lambda m, a, b: m.log(a) / m.log(b),
        sympy=lambda m, a, b: m.log(a) / m.log(b),
        written="log",
    ),
    Op(
        "sum",
        1,
        reduce_array,
        numpy=lambda m, a: a.sum(axis=m.sample_axes(a)),
        torch=lambda m, a: m.sum(a),
        sympy=lambda m, a: m.sum(a),
        matrix=lambda m, a: m.sum(a),
        rounding="arithmetic",
    ),
    Op(
        "mean",
        1,
        reduce_array,
        numpy=lambda m, a: a.mean(axis=m.sample_axes(a)),
        torch=lambda m, a: m.mean(a),
        sympy=lambda m, a: m.sum(a) / m.size(a),
    ),
    Op(
        "prod",
        1,
        reduce_array,
        numpy=lambda m, a: a.prod(axis=m.sample_axes(a)),
        torch=lambda m, a: m.prod(a),
        sympy=lambda m, a: m.prod(a),
    ),
    Op(
        "dot",
        2,
        matmul_shape,
        numpy=_numpy_matmul,
        torch=lambda m, a, b: a @ b,
        sympy=lambda m, a, b: m.matmul(a, b),
        matrix=lambda m, a, b: m.matmul(a, b),
    ),
    Op(
        "norm",
        1,
        to_scalar,
        numpy=_numpy_norm,
        torch=lambda m, a: m.linalg.vector_norm(a),
        sympy=lambda m, a: m.norm(a),
        matrix=lambda m, a: m.norm(a),
        kink="all_zero",
    ),
    Op(
        "norm1",
        1,
        entrywise_norm1,
        numpy=lambda m, a: m.abs(a).sum(axis=m.sample_axes(a)),
        torch=lambda m, a: m.linalg.vector_norm(a, 1),
        sympy=lambda m, a: m.sum(m.abs(a)),
        kink="any_zero",
        analytic=False,
        written="norm",
    ),
    Op(
        "logsumexp",
        1,
        reduce_array,
        numpy=_numpy_logsumexp,
        torch=lambda m, a: m.logsumexp(a.reshape(-1), 0),
        sympy=lambda m, a: m.logsumexp(a),
    ),
    Op(
        "softmax",
        1,
        vector_shape,
        numpy=_numpy_softmax,
        torch=lambda m, a: m.softmax(a, 0),
        sympy=lambda m, a: m.exp(a - m.logsumexp(a)),
    ),
    Op(
        "trace",
        1,
        square_to_scalar,
        numpy=lambda m, a: m.trace(a, axis1=1, axis2=2),
        torch=lambda m, a: m.trace(a),
        sympy=lambda m, a: m.trace(a),
        matrix=lambda m, a: m.trace(a),
    ),
    Op(
        "det",
        1,
        square_to_scalar,
        numpy=lambda m, a: m.linalg.det(a),
        torch=lambda m, a: m.linalg.det(a),
        sympy=lambda m, a: m.det(a),
        matrix=lambda m, a: m.det(a),
    ),
    Op(
        "transpose",
        1,
        reversed_shape,
        numpy=lambda m, a: a.transpose((0, *reversed(range(1, a.ndim)))),
        torch=_torch_transpose,
        sympy=lambda m, a: m.transpose(a),
        matrix=lambda m, a: m.transpose(a),
    ),
    Op(
        "stop_gradient",
        1,
        same_shape,
        numpy=lambda m, a: a,
        torch=lambda m, a: a.detach(),
        sympy=lambda m, a: m.stop_gradient(a),
    ),
)

BY_NAME: dict[str, Op] = {op.name: op for op in OPS}

# What users may call, by name and argument count. Operators (add, neg, ...) are reached
# through syntax only; log(x, base) and norm(x, 1) are rows of their own (the parser reads
# norm's second argument, which must be the number 1 or 2).
CALLABLE: dict[tuple[str, int], Op] = {
    **{
        (op.name, op.arity): op
        for op in OPS
        if op.infix is None and op.name not in ("norm1", "logb")
    },
    ("pow", 2): BY_NAME["pow"],
    ("log", 2): BY_NAME["logb"],
    ("detach", 1): BY_NAME["stop_gradient"],
}

NORM_BY_ORDER: dict[int, Op] = {1: BY_NAME["norm1"], 2: BY_NAME["norm"]}
FUNCTION_NAMES: frozenset[str] = frozenset(name for name, _ in CALLABLE)

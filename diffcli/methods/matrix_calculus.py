"""Closed-form gradients by SymPy's matrix calculus (MatrixSymbol), for display.

`2*dot(x, x)` becomes 2*x.T*x, whose derivative SymPy writes as 4*x. Only the operations
with a `matrix` form in the operator table take part; anything else means no closed form.
SymPy's matrix calculus is young (it returns 0 for some expressions it does not handle),
so a closed form is shown only after it matches the entry-by-entry derivative at the point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.tensor.array.array_derivatives import ArrayDerivative

from diffcli.core.problem import Problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Const, Num
from diffcli.lang.ops import CONSTANTS
from diffcli.lang.point import component_names
from diffcli.methods import HESSIAN


class NoClosedForm(Exception):
    """The expression uses something matrix calculus cannot express."""


@dataclass(frozen=True)
class MatVal:
    """A value of the matrix lowering: vectors are columns; scalars are 1x1 or plain SymPy.

    `norm_of` is set for norm(v), which only has a closed form squared (v.T*v).
    """

    expr: Any
    ndim: int
    norm_of: MatVal | None = None

    @property
    def is_matrix(self) -> bool:
        return isinstance(self.expr, sp.MatrixExpr)


def _need(value: MatVal) -> Any:
    if value.expr is None:
        raise NoClosedForm("norm without a square")
    return value.expr


class MatrixKit:
    """The `matrix` forms of the operator table call these."""

    @staticmethod
    def add(a: MatVal, b: MatVal) -> MatVal:
        return MatrixKit._combine(a, b, lambda x, y: x + y)

    @staticmethod
    def sub(a: MatVal, b: MatVal) -> MatVal:
        return MatrixKit._combine(a, b, lambda x, y: x - y)

    @staticmethod
    def _combine(a: MatVal, b: MatVal, how: Any) -> MatVal:
        if a.ndim != b.ndim or a.is_matrix != b.is_matrix:
            raise NoClosedForm("mixed shapes")
        return MatVal(how(_need(a), _need(b)), a.ndim)

    @staticmethod
    def mul(a: MatVal, b: MatVal) -> MatVal:
        if a.is_matrix and b.is_matrix:
            if a.ndim == 0 and b.ndim == 0:
                return MatVal(_need(a) * _need(b), 0)
            if a.ndim == b.ndim:
                return MatVal(sp.hadamard_product(_need(a), _need(b)), a.ndim)
            raise NoClosedForm("broadcasting")
        return MatVal(_need(a) * _need(b), max(a.ndim, b.ndim))

    @staticmethod
    def div(a: MatVal, b: MatVal) -> MatVal:
        if b.is_matrix:
            raise NoClosedForm("division by a matrix expression")
        return MatVal(_need(a) / _need(b), a.ndim)

    @staticmethod
    def pow(a: MatVal, b: MatVal) -> MatVal:
        if a.norm_of is not None and b.expr == 2:
            v = _need(a.norm_of)
            return MatVal(v.T * v, 0)
        if a.is_matrix or b.is_matrix:
            raise NoClosedForm("power of a matrix expression")
        return MatVal(_need(a) ** _need(b), 0)

    @staticmethod
    def neg(a: MatVal) -> MatVal:
        return MatVal(-_need(a), a.ndim)

    @staticmethod
    def matmul(a: MatVal, b: MatVal) -> MatVal:
        x, y = _need(a), _need(b)
        if a.ndim == 1 and b.ndim == 1:
            return MatVal(x.T * y, 0)
        if a.ndim == 1:
            return MatVal(y.T * x, 1)
        return MatVal(x * y, 1 if b.ndim == 1 else 2)

    @staticmethod
    def sum(a: MatVal) -> MatVal:
        x = _need(a)
        if a.ndim == 0:
            return a
        rows, cols = x.shape
        return MatVal(sp.OneMatrix(1, rows) * x * sp.OneMatrix(cols, 1), 0)

    @staticmethod
    def norm(a: MatVal) -> MatVal:
        if a.ndim != 1:
            raise NoClosedForm("norm of a non-vector")
        return MatVal(None, 0, norm_of=a)

    @staticmethod
    def trace(a: MatVal) -> MatVal:
        return MatVal(sp.Trace(_need(a)), 0)

    @staticmethod
    def det(a: MatVal) -> MatVal:
        return MatVal(sp.Determinant(_need(a)), 0)

    @staticmethod
    def transpose(a: MatVal) -> MatVal:
        return MatVal(_need(a).T, a.ndim) if a.ndim == 2 else a


class MatrixBackend:
    form = "matrix"
    held: ClassVar[dict[int, Any]] = {}
    kit = MatrixKit()

    def number(self, node: Num | Const) -> MatVal:
        if isinstance(node, Num):
            return MatVal(sp.Rational(node.value.numerator, node.value.denominator), 0)
        return MatVal(CONSTANTS[node.name].sympy(sp), 0)

    def index(self, value: Any, indices: tuple[int, ...]) -> Any:
        raise NoClosedForm("indexing")

    def stack(self, items: list[Any]) -> Any:
        raise NoClosedForm("list literals")


def _symbol(name: str, shape: tuple[int, ...]) -> MatVal:
    if not shape:
        return MatVal(sp.Symbol(name, real=True), 0)
    if len(shape) == 1:
        return MatVal(sp.MatrixSymbol(name, shape[0], 1), 1)
    if len(shape) == 2:
        return MatVal(sp.MatrixSymbol(name, *shape), 2)
    raise NoClosedForm("arrays of more than 2 dimensions")


def closed_forms(problem: Problem, entrywise: dict[str, np.ndarray], layout: str) -> dict[str, str]:
    """Closed-form derivatives by the array variables, each checked at the point.

    `entrywise` holds the entry-by-entry derivative values (numerator layout) to check
    against. SymPy writes vector-by-vector derivatives in denominator layout; they are
    transposed for numerator layout. Without a checked closed form, the entry is absent.
    """
    if problem.order != 1 or len(problem.output_shape) > 1 or problem.expr is None:
        return {}
    if not any(problem.shape_of(name) for name in problem.wrt):
        return {}
    forms = _forms(problem.expr, problem.shapes, problem.wrt, problem.command, layout)
    values: dict[Any, float] = {}
    for name, value in problem.point.items():
        symbols = [sp.Symbol(n, real=True) for n in component_names(name, value.shape)]
        values.update(zip(symbols, value.floats()))
    shown: dict[str, str] = {}
    for key, (form, entries) in forms.items():
        expected = entrywise[key]
        if problem.output_shape and layout == "denominator" and key != HESSIAN:
            expected = expected.T
        if _matches(entries, values, expected):
            shown[key] = display(form)
    return shown


@lru_cache(maxsize=128)
def _forms(
    expr: Any,
    shapes: tuple[tuple[str, tuple[int, ...]], ...],
    wrt: tuple[str, ...],
    command: str,
    layout: str,
) -> dict[str, Any]:
    """The closed forms themselves: they depend on the expression and the shapes, not on
    the point, so a batch of rows with one expression derives them once."""
    leaves = {name: _symbol(name, shape) for name, shape in shapes}
    try:
        function = evaluate(expr, leaves, MatrixBackend())
    except Exception:  # NoClosedForm, or SymPy refusing a combination: no closed form
        return {}
    if function.expr is None:
        return {}
    candidates: dict[str, Any] = {}
    if command == "hessian":
        candidates[HESSIAN] = _hessian(leaves, function, wrt)
    for name in wrt if command != "hessian" else ():
        ndim = leaves[name].ndim
        if not ndim or function.ndim + ndim > 2:
            continue  # scalars, and 3- or 4-axis arrays: no matrix to show
        form = _derivative(function.expr, leaves[name].expr)
        if form is not None and function.ndim and ndim == 1 and layout == "numerator":
            form = form.T
        candidates[name] = form
    components = {leaves[name].expr: _components(name, shape) for name, shape in shapes if shape}
    forms: dict[str, tuple[Any, np.ndarray]] = {}
    for key, form in candidates.items():
        entries = _explicit(form, components) if form is not None else None
        if entries is not None:
            forms[key] = (form, entries)
    return forms


def _components(name: str, shape: tuple[int, ...]) -> Any:
    """A MatrixSymbol's entries as the real symbols x[0], A[0,1] the engines use."""
    symbols = [sp.Symbol(n, real=True) for n in component_names(name, shape)]
    rows, cols = shape[0], shape[1] if len(shape) == 2 else 1
    return sp.ImmutableMatrix(rows, cols, symbols)


def _explicit(form: Any, components: dict[Any, Any]) -> np.ndarray | None:
    """The closed form written out entry by entry, so each point checks it in float64."""
    try:  # SymPy cannot write out every matrix expression
        explicit = form.subs(components).doit()
        if isinstance(explicit, sp.MatrixExpr):
            explicit = explicit.as_explicit()
        matrix = explicit if isinstance(explicit, sp.MatrixBase) else sp.Matrix([[explicit]])
        return np.array(matrix.tolist(), dtype=object)
    except Exception:
        return None


def _hessian(leaves: dict[str, MatVal], function: MatVal, wrt: tuple[str, ...]) -> Any:
    if len(wrt) != 1 or leaves[wrt[0]].ndim != 1:
        return None
    variable = leaves[wrt[0]].expr
    first = _derivative(function.expr, variable)
    return _derivative(first, variable) if first is not None else None


def _derivative(function: Any, variable: Any) -> Any:
    try:
        form = _jacobi(sp.diff(function, variable))
    except Exception:  # SymPy's matrix calculus fails in many ways (IndexError on x*x*x)
        return None
    if form.has(sp.Derivative) or (hasattr(form, "has") and form.has(ArrayDerivative)):
        return None
    return form


def _jacobi(form: Any) -> Any:
    """Jacobi's formula, which SymPy leaves unevaluated: d det(X)/dX = det(X) X^-T."""

    def is_det_derivative(node: Any) -> bool:
        return (
            isinstance(node, ArrayDerivative)
            and isinstance(node.expr, sp.Determinant)
            and tuple(node.variables) == (node.expr.arg,)
        )

    def jacobi(node: Any) -> Any:
        matrix = node.expr.arg
        return sp.Determinant(matrix) * sp.Inverse(matrix.T)

    return form.replace(is_det_derivative, jacobi) if hasattr(form, "replace") else form


@lru_cache(maxsize=128)
def display(form: Any) -> str:
    """The formula's text (det, trace: symbolic.formula_text) with inverses as people write
    them: det(X)*X^-T.

    Printing a matrix expression takes milliseconds; a batch shows the same forms often."""
    from diffcli.methods.symbolic import formula_text

    text = formula_text(form)
    text = re.sub(r"(\w+)\.T\*\*\(-1\)", r"\1^-T", text)
    return re.sub(r"(\w+)\*\*\(-1\)", r"\1^-1", text)


def _matches(entries: np.ndarray, values: dict[Any, float], expected: np.ndarray) -> bool:
    """The closed form's entries, in float64 at the point, equal the entrywise derivative."""
    from diffcli.methods.symbolic import float64_value

    if entries.shape != _as_2d(expected.shape):
        return False
    numbers = np.array([float64_value(e, values) for e in entries.ravel()]).reshape(expected.shape)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.all(np.abs(numbers - expected) <= 1e-9 * scale))


def _as_2d(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return (1, 1)
    if len(shape) == 1:
        return (shape[0], 1)
    return (shape[0], shape[1])

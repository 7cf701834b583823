"""SymPy: exact derivatives, their float64 values, and the high-precision reference.

Arrays become NumPy object arrays of SymPy scalars, one real symbol per entry (x[0], A[0,1]),
so every derivative is exact component by component. The reference is each derivative
evaluated by mpmath at REFERENCE_DIGITS digits at the point read as exact decimals.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, reduce
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from diffcli.core.problem import Problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Const, Expr, Num, Shape
from diffcli.lang.ops import CONSTANTS
from diffcli.lang.point import component_names
from diffcli.methods import HESSIAN, Outcome
from diffcli.methods import stable_functions as stable
from diffcli.methods.numeric.kit import SAME_AS_POW
from diffcli.methods.partials import Partials

REFERENCE_DIGITS = 40
NO_DIGITS = 4  # bits: an evalf result this imprecise has no significant digit


class StopGradient(sp.Function):
    """stop_gradient(e): e's value, with derivative zero."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        """Of a number it is that number, so comparisons (Min, Max, abs) and float
        conversion see a number where the point has been substituted."""
        return arg if arg.is_number else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_positive

    def _eval_is_negative(self) -> bool | None:
        return self.args[0].is_negative

    def _eval_is_zero(self) -> bool | None:
        return self.args[0].is_zero

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.args[0]._eval_evalf(prec)

    def _sympystr(self, printer: Any) -> str:
        return f"stop_gradient({printer._print(self.args[0])})"

    def _latex(self, printer: Any) -> str:
        return rf"\operatorname{{stop\_gradient}}\left({printer._print(self.args[0])}\right)"


_NAMES: dict[str, Callable[..., Any]] = {
    "abs": sp.Abs,
    "stop_gradient": StopGradient,
    **stable.NAMES,
}


def _vectorized(function: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if any(isinstance(a, np.ndarray) for a in args):
            return np.vectorize(function, otypes=[object])(*args)
        return function(*args)

    return apply


class SympyKit:
    """The SymPy namespace the operator table's `sympy` forms are written against.

    Scalars are SymPy expressions; arrays are object arrays of them. Functions apply
    entrywise; reductions and linear algebra work on the arrays.
    """

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = _NAMES.get(name) or getattr(sp, name)
        return _vectorized(function)

    @staticmethod
    def sum(a: Any) -> Any:
        return sp.Add(*np.ravel(a)) if isinstance(a, np.ndarray) else a

    @staticmethod
    def prod(a: Any) -> Any:
        return sp.Mul(*np.ravel(a)) if isinstance(a, np.ndarray) else a

    @staticmethod
    def logsumexp(a: Any) -> Any:
        return stable.logsumexp(*np.ravel(a)) if isinstance(a, np.ndarray) else a

    @staticmethod
    def norm(a: Any) -> Any:
        return stable.norm(*np.ravel(a)) if isinstance(a, np.ndarray) else sp.Abs(a)

    @staticmethod
    def size(a: Any) -> int:
        return a.size if isinstance(a, np.ndarray) else 1

    @staticmethod
    def matmul(a: np.ndarray, b: np.ndarray) -> Any:
        return a @ b

    @staticmethod
    def trace(a: np.ndarray) -> Any:
        return sp.Add(*np.diagonal(a))

    @staticmethod
    def det(a: np.ndarray) -> Any:
        return sp.Matrix(a.tolist()).det(method="berkowitz")

    @staticmethod
    def transpose(a: Any) -> Any:
        return a.T if isinstance(a, np.ndarray) else a


class SympyBackend:
    """Evaluates the tree exactly: numbers as rationals, pi and e as SymPy's constants."""

    form = "sympy"
    held: ClassVar[dict[int, Any]] = {}
    kit = SympyKit()

    def number(self, node: Num | Const) -> sp.Expr:
        if isinstance(node, Num):
            return sp.Rational(node.value.numerator, node.value.denominator)
        return CONSTANTS[node.name].sympy(sp)

    def index(self, value: Any, indices: tuple[int, ...]) -> Any:
        return value[indices]

    def stack(self, items: list[Any]) -> np.ndarray:
        shape = (len(items), *np.shape(items[0]))
        out = np.empty(shape, dtype=object)
        for i, item in enumerate(items):
            out[i] = item
        return out


def symbols_for(problem: Problem) -> dict[str, Any]:
    """One real symbol per entry: a SymPy symbol for a scalar, an object array otherwise."""
    return _symbols(problem.shapes)


def _symbols(shapes: tuple[tuple[str, Shape], ...]) -> dict[str, Any]:
    leaves: dict[str, Any] = {}
    for name, shape in shapes:
        symbols = [sp.Symbol(n, real=True) for n in component_names(name, shape)]
        if not shape:
            leaves[name] = symbols[0]
        else:
            arr = np.empty(len(symbols), dtype=object)
            arr[:] = symbols
            leaves[name] = arr.reshape(shape)
    return leaves


def exact_substitution(
    problem: Problem, leaves: dict[str, Any], stored: bool = False
) -> dict[sp.Symbol, sp.Rational]:
    """Each entry of the point as an exact rational: as written, or (stored) as float64
    stores it, which is where every float method works (0.1 is 3602879701896397/2^55)."""
    subs: dict[sp.Symbol, sp.Rational] = {}
    for name, value in problem.point.items():
        for symbol, v in zip(np.ravel(np.asarray(leaves[name], dtype=object)), value.flat):
            exact = Fraction(float(v)) if stored else v
            subs[symbol] = sp.Rational(exact.numerator, exact.denominator)
    return subs


@dataclass
class Symbolic:
    """The exact derivatives, as arrays of SymPy expressions shaped like each value."""

    problem: Problem
    leaves: dict[str, Any]
    function: Any
    derivatives: dict[str, np.ndarray]


def derive(problem: Problem) -> Symbolic:
    """Differentiate the lowered expression by every entry of every wrt variable."""
    leaves, function, derivatives = _derivatives(
        problem.expr, problem.shapes, problem.wrt, problem.order, problem.command
    )
    return Symbolic(problem, leaves, function, derivatives)


@lru_cache(maxsize=32)
def _derivatives(
    expr: Expr,
    shapes: tuple[tuple[str, Shape], ...],
    wrt: tuple[str, ...],
    order: int,
    command: str,
) -> tuple[dict[str, Any], Any, dict[str, np.ndarray]]:
    """The derivatives depend on the expression and the shapes, not on the point, so a
    batch that checks one function at many points derives it once. (The arrays are
    shared between callers: they are made read-only.)"""
    leaves = _symbols(shapes)
    function = evaluate(expr, leaves, SympyBackend())
    if command == "hessian":
        derivatives = {HESSIAN: _hessian(wrt, leaves, function)}
    else:
        derivatives = _jacobians(wrt, order, dict(shapes), leaves, function)
    for grid in derivatives.values():
        grid.flags.writeable = False
    return leaves, function, derivatives


def _jacobians(
    wrt: tuple[str, ...],
    order: int,
    shapes: dict[str, Shape],
    leaves: dict[str, Any],
    function: Any,
) -> dict[str, np.ndarray]:
    outputs = np.asarray(function, dtype=object)
    partials = Partials()
    derivatives: dict[str, np.ndarray] = {}
    for name in wrt:
        entries = np.ravel(np.asarray(leaves[name], dtype=object))
        grid = np.empty((*outputs.shape, entries.size), dtype=object)
        for out_index in np.ndindex(outputs.shape):
            for j, symbol in enumerate(entries):
                grid[(*out_index, j)] = partials.diff(outputs[out_index], symbol, order)
        var_shape = () if order > 1 else shapes[name]
        derivatives[name] = grid.reshape(outputs.shape + var_shape)
    return derivatives


def _hessian(wrt: tuple[str, ...], leaves: dict[str, Any], function: Any) -> np.ndarray:
    """Every second partial derivative over the flattened wrt variables (all N x N of them)."""
    flat = [s for name in wrt for s in np.ravel(np.asarray(leaves[name], dtype=object))]
    grid = np.empty((len(flat), len(flat)), dtype=object)
    partials = Partials()
    for i, si in enumerate(flat):
        first = partials.diff(function, si)
        for j, sj in enumerate(flat):
            grid[i, j] = partials.diff(first, sj)
    return grid


def without_stop_gradient(expr: sp.Expr) -> sp.Expr:
    """After differentiating, stop_gradient(e) is just e's value."""
    return expr.replace(StopGradient, lambda arg: arg)


def reference(result: Symbolic, stored: bool = False) -> tuple[dict[str, np.ndarray], list[str]]:
    """Each derivative at the exact point (or at the point float64 stores), to
    REFERENCE_DIGITS digits, rounded to float64: by the compiled evaluator where it can
    vouch for the value (exact_eval.py), else by SymPy's evalf."""
    subs = exact_substitution(result.problem, result.leaves, stored)
    problems: list[str] = []
    values: dict[str, np.ndarray] = {}
    for name, grid in result.derivatives.items():
        out = np.empty(grid.shape, dtype=np.float64)
        for index in np.ndindex(grid.shape):
            out[index], reason = reference_value(grid[index], subs)
            problem = reason and f"the exact derivative is {reason} at this point"
            if problem and problem not in problems:
                problems.append(problem)
        values[name] = out
    return values, problems


def reference_value(expr: sp.Expr, subs: dict[Any, sp.Rational]) -> tuple[float, str | None]:
    """expr at the exact point as exact_value gives it: by the compiled evaluator where it
    can vouch for the value (compiled once, checked at two precisions), else by evalf."""
    from diffcli.methods import exact_eval

    fast = exact_eval.value(expr, subs)
    return (fast, None) if fast is not None else exact_value(expr, subs)


def domain_problem(result: Symbolic) -> str | None:
    """Why the function itself has no real, finite value at the point, if it has none."""
    subs = exact_substitution(result.problem, result.leaves)
    for entry in np.ravel(np.asarray(result.function, dtype=object)):
        exact = entry if isinstance(entry, sp.Basic) else sp.Float(float(entry))
        _, reason = exact_value(exact, subs)
        if reason:
            kind = "overflow" if reason.startswith("too large") else "outside the domain"
            return f"{kind}: the function is {reason} at this point"
    return None


def exact_value(
    expr: sp.Expr, subs: dict[Any, Any], digits: int = REFERENCE_DIGITS
) -> tuple[float, str | None]:
    """expr at the point to `digits` digits, as to_float gives it.

    mpmath raises ZeroDivisionError where SymPy would say zoo (1/log(1)**2 at 40 digits)."""
    expr = without_stop_gradient(expr)
    try:
        value = _evaluated(expr, subs, digits)
    except ZeroDivisionError:
        value = sp.zoo
    except ValueError as failure:  # Heaviside, Max of a complex value: past the real domain
        if any(said in str(failure) for said in _NOT_REAL):
            return math.nan, "complex"
        if "inf or nan" in str(failure):  # mpmath's, for an infinity where SymPy wants an int
            return math.nan, "undefined (an infinity inside it)"
        raise
    # evalf at an extreme point (exp of 1e600 asks for 1e600 bits) overflows Python's own
    # numbers, or trips on a message of SymPy's own (AttributeError): no value to give
    except OverflowError:
        return math.nan, "too large to evaluate (Python's numbers overflow in SymPy's evalf)"
    except AttributeError:
        return math.nan, "not something SymPy can evaluate here (AttributeError in evalf)"
    if value is sp.zoo:
        value = _signed_infinity(expr, subs, digits)
    return to_float(value)


# SymPy's ValueErrors for a value that is not real (Heaviside, Max of one; evalf's own)
_NOT_REAL = ("defined only for Real Values", "is not comparable", "complex zero")


def _evaluated(expr: sp.Expr, subs: dict[Any, Any], digits: int) -> sp.Expr:
    """expr.evalf at the point, where it can tell every part of expr from 0. Where it
    cannot, it answers with a number of no digits: 1/sqrt(1 - x**2) at x = 1 gave 1.3e95,
    not an infinity (so asin's slope at 1 looked finite). Taken again at twice the digits,
    such a number grows with them (7.9e101 at 80), as a pole's does: that is zoo. A zero
    the terms cancel to shrinks instead, and to_float reads it as 0. Where evalf fails on
    an infinity or a nan inside a function (TypeError for sin(zoo), in x*sin(1/x)'s
    derivative at 0), the value is undefined. (Substituting the point exactly instead
    decides such cases too, but SymPy then factors huge integers: 1e300's, for sqrt.)"""
    from sympy.core.evalf import PrecisionExhausted

    try:
        try:
            return expr.evalf(digits, subs=subs, strict=True)
        except PrecisionExhausted:
            value = expr.evalf(digits, subs=subs)
            closer = expr.evalf(2 * digits, subs=subs)
    except TypeError:  # sin(zoo); "Invalid NaN comparison"
        return sp.nan
    try:
        growing = bool(abs(closer) > POLE_GROWTH * abs(value))
    except TypeError:  # a nan: no order
        growing = False
    return sp.zoo if growing else value


POLE_GROWTH = 1000  # how much more a value of no digits is at twice them, for a pole


NEARBY = 30  # decimal digits: how close to the point an infinite value's sign is read
SIGNED_VARIABLES = 8  # variables tried each way; more would make the reference slow


def _signed_infinity(expr: sp.Expr, subs: dict[Any, Any], digits: int) -> sp.Expr:
    """SymPy's zoo (a division by zero, sign unknown) as oo or -oo where every real value
    just off the point has that sign (-1/x**2 at 0 is -oo from both sides; sqrt's
    1/(2*sqrt(x)) is oo from the right, and has no real value to the left); zoo where
    the sides disagree (1/x at 0)."""
    signs = set()
    for symbol in [s for s in subs if s in expr.free_symbols][:SIGNED_VARIABLES]:
        offset = sp.Float(10, digits) ** -NEARBY * max(1, abs(subs[symbol]))
        for side in (-1, 1):
            try:
                near = expr.evalf(digits, subs={**subs, symbol: subs[symbol] + side * offset})
            except (ZeroDivisionError, ValueError):  # ValueError: no real value on that side
                continue
            if near.is_number and near.is_real and near.is_finite and near != 0:
                signs.add(1 if near > 0 else -1)
    if signs == {1}:
        return sp.oo
    if signs == {-1}:
        return sp.S.NegativeInfinity
    return sp.zoo


def to_float(value: sp.Expr) -> tuple[float, str | None]:
    """A float for an evaluated SymPy number, and why it is not finite and real, if it is not."""
    if value is sp.zoo:
        return math.nan, "infinite with no one sign (a division by zero: +inf and -inf nearby)"
    if value is sp.oo or value is sp.S.NegativeInfinity:
        return (math.inf if value is sp.oo else -math.inf), "infinite"
    if value is sp.nan:
        return math.nan, "undefined"
    if isinstance(value, sp.Float) and value._prec < NO_DIGITS:
        # evalf's "0.e-170": terms cancelled to below the working precision, not a value
        # (-200 x**2 + 200 y at x = y = 1); the number is 0 as far as any digit goes
        return 0.0, None
    if value.is_number:
        real, imag = value.as_real_imag()
        try:
            if imag != 0 and abs(float(imag)) > 0:
                return math.nan, "complex"
            number = float(real)
            if math.isnan(number):  # Heaviside(zoo) + zoo*Heaviside(zoo): no value at all
                return number, f"undefined ({_short(value)})"
            if math.isinf(number):  # finite, but past float64's largest
                return number, f"too large for float64 (about {sp.sstr(real.evalf(4))})"
            return number, None
        except TypeError:
            pass
    return math.nan, f"not something SymPy can evaluate ({_short(value)})"


def _short(value: sp.Expr) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def values_in_float64(result: Symbolic) -> tuple[dict[str, np.ndarray], float]:
    """The derivatives evaluated in float64 arithmetic, node by node, as a user's code would;
    and the largest |term| their sums added (1 at least, and |each value|): where terms of
    1e4 cancel to a derivative of 0, float64 leaves about eps 1e4, and that is the scale
    symbolic's and autograd's absolute tolerance is relative to."""
    values: dict[Any, float] = {}
    for name, value in result.problem.point.items():
        symbols = np.ravel(np.asarray(result.leaves[name], dtype=object))
        values.update(zip(symbols, value.floats()))
    out: dict[str, np.ndarray] = {}
    largest = 1.0
    for name, grid in result.derivatives.items():
        flat = []
        for entry in grid.ravel():
            value, terms = float64_terms(entry, values)
            flat.append(value)
            largest = max(largest, *(v for v in (terms, abs(value)) if math.isfinite(v)))
        out[name] = np.array(flat, dtype=np.float64).reshape(grid.shape)
    return out, largest


# SymPy's functions (those derivatives of the language are written in) in float
# arithmetic: Python's math for one point, NumPy for many
FLOAT_FORMS: dict[Any, tuple[Callable[..., Any], Callable[..., Any]]] = {
    sp.sin: (math.sin, np.sin),
    sp.cos: (math.cos, np.cos),
    sp.tan: (math.tan, np.tan),
    sp.asin: (math.asin, np.arcsin),
    sp.acos: (math.acos, np.arccos),
    sp.atan: (math.atan, np.arctan),
    sp.sinh: (math.sinh, np.sinh),
    sp.cosh: (math.cosh, np.cosh),
    sp.tanh: (math.tanh, np.tanh),
    sp.asinh: (math.asinh, np.arcsinh),
    sp.acosh: (math.acosh, np.arccosh),
    sp.atanh: (math.atanh, np.arctanh),
    sp.exp: (math.exp, np.exp),
    sp.erf: (math.erf, np.vectorize(math.erf, otypes=[np.float64])),
    sp.atan2: (math.atan2, np.arctan2),
    sp.Abs: (abs, np.abs),
    sp.sign: (lambda v: float((v > 0) - (v < 0)), np.sign),
    sp.Heaviside: (
        lambda v, half=0.5: 1.0 if v > 0 else (0.0 if v < 0 else float(half)),
        lambda v, half=0.5: np.heaviside(v, float(half)),
    ),
    # the real parts SymPy writes where it cannot tell a value is real (d|x^x|/dx): on
    # real floats, where a complex value would be nan already
    sp.re: (lambda v: v, lambda v: v),
    sp.im: (lambda v: v * 0.0, lambda v: v * 0.0),
    sp.conjugate: (lambda v: v, lambda v: v),
    sp.arg: (lambda v: math.atan2(0.0, v), lambda v: np.arctan2(0.0, v)),
    # the derivative of sign or Heaviside (and its own k-th, DiracDelta(v, k)): 0 off its
    # point, and no number at it
    sp.DiracDelta: (
        lambda v, k=0: 0.0 if v != 0 else math.nan,
        lambda v, k=0: np.where(v != 0, 0.0, np.nan),
    ),
    sp.Max: (max, lambda *a: _in_turn(np.maximum, a)),
    sp.Min: (min, lambda *a: _in_turn(np.minimum, a)),
    sp.sec: (lambda v: 1 / math.cos(v), lambda v: 1 / np.cos(v)),
    sp.csc: (lambda v: 1 / math.sin(v), lambda v: 1 / np.sin(v)),
    sp.cot: (lambda v: 1 / math.tan(v), lambda v: 1 / np.tan(v)),
    **stable.FLOAT_FORMS,
}


class _ScalarMath:
    """float64 arithmetic with Python's math, for one point."""

    functions: ClassVar[dict[Any, Callable[..., Any]]] = {
        function: forms[0] for function, forms in FLOAT_FORMS.items()
    }

    @staticmethod
    def constant(value: Any) -> Any:
        return float(value)

    def __init__(self) -> None:
        self.largest = 0.0  # the largest |term| any sum added: what round-off is relative to

    @staticmethod
    def call(expr: Any, function: Callable[..., Any], args: list[Any]) -> Any:
        return function(*args)

    def total(self, args: list[Any]) -> Any:
        self.largest = max(self.largest, *(abs(a) for a in args))
        return math.fsum(args) if len(args) > 2 else args[0] + args[1]

    @staticmethod
    def product(args: list[Any]) -> Any:
        return reduce(operator.mul, args)

    @staticmethod
    def power(base: Any, power: Any) -> Any:
        if base < 0 and not float(power).is_integer():
            return math.nan
        return base**power

    @staticmethod
    def log(*args: Any) -> Any:
        return math.log(*args)


class _ArrayMath:
    """The same arithmetic with NumPy on arrays of points, in one dtype (float64 for the
    symbolic method's values, long double for the grid's reference)."""

    functions: ClassVar[dict[Any, Callable[..., Any]]] = {
        function: forms[1] for function, forms in FLOAT_FORMS.items()
    }

    def __init__(self, dtype: type, calls: dict | None = None) -> None:
        self.dtype = dtype
        self.calls = calls

    def call(self, expr: Any, function: Callable[..., Any], args: list[Any]) -> Any:
        value = function(*args)
        if self.calls is not None:
            self.calls[expr] = value
        return value

    def constant(self, value: Any) -> Any:
        return self.dtype(float(value)) if not isinstance(value, np.ndarray) else value

    @staticmethod
    def total(args: list[Any]) -> Any:
        return _in_turn(np.add, args)

    @staticmethod
    def product(args: list[Any]) -> Any:
        return _in_turn(np.multiply, args)

    @staticmethod
    def power(base: Any, power: Any) -> Any:
        return array_power(base, power)

    @staticmethod
    def log(*args: Any) -> Any:
        return np.log(args[0]) if len(args) == 1 else np.log(args[0]) / np.log(args[1])


def array_power(base: Any, power: Any) -> Any:
    """base**power on arrays; a square or a reciprocal as its one rounding (SAME_AS_POW)."""
    if np.ndim(power) == 0:
        same = SAME_AS_POW.get(float(power))
        if same is not None:
            return same(base)
    return np.power(base, power)


class NoFloatForm(Exception):
    """A SymPy node with no float form here (rare in derivatives of the language)."""


def _in_turn(function: Any, args: Any) -> Any:
    """function(function(a0, a1), a2)...: left to right, each step after the first into
    the array the first made, where it fits (the same bits, without an array a step)."""
    if len(args) == 1:
        return args[0]
    result = function(args[0], args[1])
    for arg in args[2:]:
        fits = (
            isinstance(result, np.ndarray)
            and np.shape(arg) in ((), result.shape)
            and np.result_type(result, arg) == result.dtype
        )
        result = function(result, arg, out=result) if fits else function(result, arg)
    return result


def float64_value(expr: Any, values: dict[Any, float]) -> float:
    """expr in float64, node by node with Python's math: no code is generated or run.

    Domain errors give nan, overflow inf; a node this does not know falls back to
    SymPy's evalf at 17 digits.
    """
    return float64_terms(expr, values)[0]


def float64_terms(expr: Any, values: dict[Any, float]) -> tuple[float, float]:
    """float64_value, and the largest |term| a sum in expr added on the way (0 if none)."""
    kit = _ScalarMath()
    return _float64(expr, values, kit), kit.largest


def _float64(expr: Any, values: dict[Any, float], kit: _ScalarMath) -> float:
    try:
        return float(walk(expr, values, kit))
    except NoFloatForm:
        return _by_evalf(expr, values)
    except (ValueError, TypeError):
        return math.nan
    except ZeroDivisionError:  # IEEE's answer, as NumPy gives it: -1/0**2 is -inf, 0/0 nan
        try:
            return float(array_values(expr, {s: np.float64(v) for s, v in values.items()}))
        except NoFloatForm:  # relu(sign(hypot(1/x, x)))'s derivative at 0 holds a Subs
            return _by_evalf(expr, values)
    except OverflowError:
        return math.inf


def _by_evalf(expr: Any, values: dict[Any, float]) -> float:
    """expr at float64 values by SymPy's evalf at 17 digits, for a node with no float form."""
    return exact_value(expr, {s: sp.Float(v) for s, v in values.items()}, 17)[0]


def array_values(
    expr: Any, values: dict[Any, Any], dtype: type = np.float64, calls: dict | None = None
) -> np.ndarray:
    """expr at many points at once (values are arrays), node by node with NumPy; each
    function call's value goes into `calls` (by node) where given."""
    with np.errstate(all="ignore"):
        return np.asarray(walk(expr, values, _ArrayMath(dtype, calls)), dtype=dtype)


def walk(expr: Any, values: dict[Any, Any], kit: Any) -> Any:
    """expr's value node by node, in the arithmetic of kit (constant, total, product,
    power, log, functions and call): one walker for Python floats, arrays, bounded
    arrays."""
    if expr.is_Symbol:
        return values[expr]
    if expr.is_Number or expr is sp.pi or expr is sp.E:  # singletons: no SymPy equality
        return kit.constant(expr)
    args = [walk(arg, values, kit) for arg in expr.args]
    if expr.is_Add:
        return kit.total(args)
    if expr.is_Mul:
        return kit.product(args)
    if expr.is_Pow:
        return kit.power(*args)
    if isinstance(expr, sp.log):
        return kit.log(*args)
    if isinstance(expr, StopGradient):
        return args[0]
    function = kit.functions.get(expr.func)
    if function is None:
        raise NoFloatForm(getattr(expr.func, "__name__", str(expr.func)))
    return kit.call(expr, function, args)


def formulas(result: Symbolic) -> dict[str, Any]:
    """The printed derivative per variable: a string, or nested lists of strings per entry."""
    shown: dict[str, Any] = {}
    for name, grid in result.derivatives.items():
        texts = np.vectorize(_text, otypes=[object])(grid)
        shown[name] = texts.item() if texts.ndim == 0 else texts.tolist()
    return shown


@lru_cache(maxsize=4096)
def _text(expr: sp.Expr) -> str:
    """SymPy's printer is slow; a batch prints the same derivatives at many points."""
    return formula_text(expr)


def formula_text(expr: Any) -> str:
    """A SymPy formula as text, in the expression language's spelling where it has one
    (abs, min, max, e, det, trace, not SymPy's Abs, Min, Max, E, Determinant, Trace): what
    the tool shows can be given back to it (check --answer). Heaviside and DiracDelta,
    which the language lacks, keep SymPy's names."""
    return _LanguagePrinter().doprint(expr)


class _LanguagePrinter(StrPrinter):
    def _print_Abs(self, expr: Any) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Min(self, expr: Any) -> str:
        return self._pairwise("min", expr.args)

    def _print_Max(self, expr: Any) -> str:
        return self._pairwise("max", expr.args)

    def _print_Exp1(self, expr: Any) -> str:
        return "e"

    def _print_Determinant(self, expr: Any) -> str:
        return f"det({self._print(expr.arg)})"

    def _print_Trace(self, expr: Any) -> str:
        return f"trace({self._print(expr.arg)})"

    def _pairwise(self, name: str, args: tuple) -> str:
        """The language's min and max take two arguments: SymPy's of more are nested."""
        first, *rest = args
        if not rest:
            return self._print(first)
        return f"{name}({self._print(first)}, {self._pairwise(name, tuple(rest))})"


def formulas_latex(result: Symbolic, limit: int = 36) -> dict[str, Any]:
    """The derivatives in LaTeX (a matrix for arrays up to `limit` entries), for --format latex."""
    shown: dict[str, Any] = {}
    for name, grid in result.derivatives.items():
        if grid.size > limit:
            continue
        cleaned = np.vectorize(without_stop_gradient, otypes=[object])(grid)
        if grid.ndim == 0:
            shown[name] = _latex(cleaned.item())
        elif grid.ndim <= 2:
            shown[name] = _latex(sp.Matrix(cleaned.reshape(grid.shape[0], -1).tolist()))
    return shown


def _latex(expr: Any) -> str:
    """LaTeX with entries of arrays as subscripts: x[0] as x_{0}, A[0,1] as A_{0,1}."""
    names = {
        s: s.name.replace("[", "_{").replace("]", "}") for s in expr.free_symbols if "[" in s.name
    }
    return sp.latex(expr, symbol_names=names)


def differentiate(problem: Problem) -> tuple[Outcome, Symbolic]:
    """The symbolic method: exact derivatives, shown as formulas, evaluated in float64."""
    result = derive(problem)
    value, term_scale = values_in_float64(result)
    details = {"formula": formulas(result), "term_scale": term_scale}
    return Outcome(value, details), result

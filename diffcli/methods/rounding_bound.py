"""A formula's float64 values on arrays of points, each with a bound on its rounding error.

Why: the grid's reference must be exact where it matters without long double everywhere
(long double's sin costs 14 times float64's). Each node of the formula carries its float64
value and a first-order bound on its relative rounding error, a running error bound
(Higham, Accuracy and Stability of Numerical Algorithms, section 3.3):

- a product or a power adds its arguments' relative errors (times the exponent) to the
  half ulp of its own rounding; a sum adds its terms' absolute errors and each partial
  sum's rounding, then divides by the sum, which is where cancellation shows;
- a NumPy function of the language (sin, exp, log, pow, ...) is within LIBRARY half ulps
  of the exact value at the argument it is given, and passes on its arguments' relative
  errors times its condition number |a g'(a) / g(a)|;
- a function composed of several NumPy steps (sec, softplus, logsumexp, ...) is held to
  less: exact at an argument within COMPOSED half ulps of the one given, plus as much
  again on its value;
- abs, max, min, re and conjugate round nothing; sign, Heaviside, DiracDelta and im (of
  a real) are exact while the argument's error is below its size.

Relative errors are counted in units of u = 2^-53, and stay one number for every point
until a sum or a function of an inexact argument tells the points apart, so a formula of
exact grid points costs little more than its values. A product or function that leaves
the normal range (a subnormal or an underflowed 0) promises nothing there, nor does a sum
that cancels to exactly 0. The bound is first-order in u: where it is far below the value,
as the grid asks, the terms left out are far below it too. Function calls already made
by an evaluation of the same formula to the same bits (the symbolic method's) can be
given, and are not made again.
"""

from __future__ import annotations

import functools
import math
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from diffcli.methods import stable_functions as stable
from diffcli.methods import symbolic
from diffcli.methods.numeric.kit import SAME_AS_POW

U = 2.0**-53  # the unit roundoff of float64
SMALLEST_NORMAL = 2.0**-1022
LIBRARY = 8  # NumPy's float64 functions are within 4 ulp (8 u) of the exact value
COMPOSED = 32
_COMPOSED = {sp.sec, sp.csc, sp.cot, sp.erf, *stable.FLOAT_FORMS}


@dataclass(frozen=True)
class Bounded:
    """A float64 value (an array or a scalar) and a bound on |value - exact| / |value| in
    units of u: one number where it holds for every point, the plain 0.0 where exact."""

    value: Any
    relative: Any

    @functools.cached_property
    def span(self) -> tuple[float, float]:
        """The smallest and largest value (nan if any is): a sum of terms of one sign
        cannot cancel, and values of one sign away from 0 have not underflowed."""
        return float(np.min(self.value)), float(np.max(self.value))

    def __mul__(self, other: Bounded) -> Bounded:
        value = self.value * other.value
        # by an exact power of two (2*x), a product rounds nothing, unless it leaves the
        # normal range (which _normal sees)
        rounding = 0.0 if _power_of_two(self) or _power_of_two(other) else 1.0
        return _normal(value, _plus(self.relative, other.relative, rounding), self, other)


def bounded_values(
    expr: Any, values: dict[Any, Bounded], known: dict[Any, Any] | None = None
) -> Bounded:
    """expr's float64 value at arrays of points with its error bound (values: each
    symbol's Bounded; a common subexpression's too, once computed). `known`: function
    calls' float64 values at these points, by node, where an evaluation of the same
    formula has made them (symbolic.array_values' calls): not made again."""
    with np.errstate(all="ignore", under="call", call=_underflowed):
        _UNDERFLOW.seen = False
        return symbolic.walk(expr, values, _BoundedMath(known or {}))


def exact(value: Any) -> Bounded:
    """A value with no error: a grid point, a fixed variable's float."""
    return Bounded(value, 0.0)


def everywhere_within(result: Bounded, fraction: float) -> bool:
    """Whether within holds at every point, told without a mask where it can be: one
    bound for every point, and every value finite (their sum is)."""
    if np.ndim(result.relative) or not result.relative <= fraction / U:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(result.value)))


def within(result: Bounded, fraction: float) -> Any:
    """Where the value is finite and its relative error at most `fraction`."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(result.value) & (result.relative <= fraction / U)


class _BoundedMath:
    """The kit symbolic.walk evaluates a formula with, on Bounded values."""

    def __init__(self, known: dict[Any, Any]) -> None:
        self.functions = _Functions()
        self.known = known

    def call(self, expr: Any, function: Callable[..., Bounded], args: list[Bounded]) -> Bounded:
        return function(*args, known=self.known.get(expr))

    @staticmethod
    def constant(value: Any) -> Bounded:
        return _constant(value)

    @staticmethod
    def total(args: list[Bounded]) -> Bounded:
        if len(args) == 2 and all(_is_exact(a.relative) for a in args):
            # one rounding of an exact sum, within u of itself wherever it cancels (and
            # exact where it cancels to 0): 2*x + 3 on grid points, without their sizes
            return Bounded(np.add(args[0].value, args[1].value), 1.0)
        if all(a.span[0] >= 0 for a in args) or all(a.span[1] <= 0 for a in args):
            # no cancellation: each term's error is within its largest relative error of
            # |value|, and each of the n - 1 roundings within u |value|
            value = functools.reduce(np.add, [a.value for a in args])
            largest = functools.reduce(np.maximum, [a.relative for a in args])
            return Bounded(value, largest + (len(args) - 1))
        value = args[0].value
        absolute = _absolute(args[0])  # the bound on |error|, in units of u
        for arg in args[1:]:
            value = value + arg.value  # each partial sum rounds within u of itself
            size = np.abs(value)
            absolute = _plus(absolute, _absolute(arg), size)
        return Bounded(value, absolute / size)

    @staticmethod
    def product(args: list[Bounded]) -> Bounded:
        return functools.reduce(operator.mul, args)

    @staticmethod
    def power(base: Bounded, power: Bounded) -> Bounded:
        value = symbolic.array_power(base.value, power.value)
        one_rounding = np.ndim(power.value) == 0 and float(power.value) in SAME_AS_POW
        relative = [1.0 if one_rounding else float(LIBRARY)]
        if not _is_exact(base.relative):  # the condition number of a^b in a is |b|
            relative.append(base.relative * np.abs(power.value))
        if not _is_exact(power.relative):  # and in b, |b log(a)|
            relative.append(power.relative * np.abs(power.value * np.log(base.value)))
        return _normal(value, _plus(*relative), base)

    @staticmethod
    def log(*args: Bounded) -> Bounded:
        if len(args) == 2:  # log(a, b) = log(a) / log(b)
            divisor = _BoundedMath.log(args[1])
            return _BoundedMath.log(args[0]) * _BoundedMath.power(divisor, exact(-1.0))
        value = np.log(args[0].value)
        passed = 0.0 if _is_exact(args[0].relative) else args[0].relative / np.abs(value)
        return Bounded(value, _plus(passed, float(LIBRARY)))


@functools.lru_cache(maxsize=1024, typed=True)  # a Float and a Rational stay apart
def _constant(value: Any) -> Bounded:
    """A number of the formula in float64: exact where float64 holds it (found once per
    number: SymPy's rationals are slow to compare)."""
    number = float(value)
    stored = (value.is_Rational or value.is_Float) and sp.Rational(number) == sp.Rational(value)
    return Bounded(number, 0.0 if stored else 1.0)


class _Functions:
    """kit.functions: each function of the language as a map of Bounded arguments."""

    def get(self, function: Any) -> Callable[..., Bounded] | None:
        form = symbolic.FLOAT_FORMS.get(function)
        if form is None:
            return None
        return _EXACT.get(function) or functools.partial(_smooth, function, form[1])


def _smooth(function: Any, form: Callable[..., Any], *args: Bounded, known: Any = None) -> Bounded:
    """g(args) (known where already made): its own ulps on the value, and its arguments'
    relative errors times its condition numbers |a_i dg/da_i / g|."""
    value = form(*(a.value for a in args)) if known is None else known
    composed = function in _COMPOSED
    relative = [float(COMPOSED if composed else LIBRARY)]
    for index, arg in enumerate(args):
        error = _plus(arg.relative, float(COMPOSED)) if composed else arg.relative
        if _is_exact(error):
            continue
        slope = _slope(function, len(args), index, [a.value for a in args])
        relative.append(error * np.abs(arg.value * slope / value))
    return _normal(value, _plus(*relative), *args, flagged=known is None)


def _slope(function: Any, arity: int, index: int, at: list[Any]) -> Any:
    """dg/da_index at the arguments' values; inf where SymPy's derivative has no float form
    (nothing is then promised)."""
    symbols, partials = _partials(function, arity)
    try:
        return symbolic.array_values(partials[index], dict(zip(symbols, at)))
    except symbolic.NoFloatForm:
        return np.inf


@functools.cache
def _partials(function: Any, arity: int) -> tuple[tuple[Any, ...], list[Any]]:
    symbols = sp.symbols(f"a0:{arity}", real=True)
    formula = function(*symbols)
    return symbols, [sp.diff(formula, s) for s in symbols]


def _through_jump(function: Any) -> Callable[..., Bounded]:
    """sign, Heaviside, DiracDelta, im: exact while the argument's error is below its size
    (so its sign is right); nothing is promised where it could cross 0. Cheap: made again
    even where known."""

    def jump(arg: Bounded, *rest: Bounded, known: Any = None) -> Bounded:
        value = symbolic.FLOAT_FORMS[function][1](arg.value, *(r.value for r in rest))
        if _is_exact(arg.relative):
            return Bounded(value, 0.0)
        return Bounded(value, np.where(U * arg.relative < 1, 0.0, np.inf))

    return jump


def _largest_error(function: Any) -> Callable[..., Bounded]:
    """abs, max, min, re, conjugate: exact operations that move a value by at most their
    arguments' error. Cheap: made again even where known."""

    def picked(*args: Bounded, known: Any = None) -> Bounded:
        value = symbolic.FLOAT_FORMS[function][1](*(a.value for a in args))
        errors = [_absolute(a) for a in args if not _is_exact(a.relative)]
        if not errors:
            return Bounded(value, 0.0)
        return Bounded(value, functools.reduce(np.maximum, errors) / np.abs(value))

    return picked


_EXACT = {
    sp.Abs: _largest_error(sp.Abs),
    sp.Max: _largest_error(sp.Max),
    sp.Min: _largest_error(sp.Min),
    sp.sign: _through_jump(sp.sign),
    sp.Heaviside: _through_jump(sp.Heaviside),
    sp.DiracDelta: _through_jump(sp.DiracDelta),
    sp.re: _largest_error(sp.re),
    sp.conjugate: _largest_error(sp.conjugate),
    sp.im: _through_jump(sp.im),
}


def _normal(value: Any, relative: Any, *args: Bounded, flagged: bool = True) -> Bounded:
    """A rounded product, power or function's result: nothing promised where it left the
    normal range (its relative error there can be anything), unless it is a 0 that came
    exactly from an argument's exact 0 (x*y or sin(x) at x = 0). An operation made here
    is looked at point by point only if it raised the underflow flag (bounded_values
    watches it); a value made elsewhere (not flagged), unless its values are of one sign
    away from 0."""
    result = Bounded(value, relative)
    if flagged:
        if not _UNDERFLOW.seen:
            return result
        _UNDERFLOW.seen = False
    else:
        low, high = result.span
        if low >= SMALLEST_NORMAL or high <= -SMALLEST_NORMAL:
            return result
    small = np.abs(value) < SMALLEST_NORMAL
    if not np.any(small):  # of both signs, but never near 0
        return result
    from_zero = functools.reduce(np.logical_or, [a.value == 0 for a in args])
    lost = small & ~((value == 0) & from_zero)
    if np.any(lost):
        return Bounded(value, np.where(lost, np.inf, relative))
    return result


class _Underflow(threading.local):
    """Whether an operation of this thread has underflowed since it was last looked at:
    NumPy reads the FPU's flag after each operation and calls _underflowed."""

    seen = False


_UNDERFLOW = _Underflow()


def _underflowed(kind: str, flag: int) -> None:
    _UNDERFLOW.seen = True


def _absolute(arg: Bounded) -> Any:
    """The bound on |error|, in units of u (in one array where it is one)."""
    if _is_exact(arg.relative):
        return 0.0
    size = np.abs(arg.value)
    if isinstance(size, np.ndarray) and np.shape(arg.relative) in ((), size.shape):
        return np.multiply(size, arg.relative, out=size)
    return arg.relative * size


def _power_of_two(factor: Bounded) -> bool:
    """An exact constant +-2^k: multiplying by it moves the exponent alone."""
    if np.ndim(factor.value) or not _is_exact(factor.relative):
        return False
    return math.isfinite(factor.value) and abs(math.frexp(factor.value)[0]) == 0.5


def _is_exact(error: Any) -> bool:
    return isinstance(error, float) and error == 0.0


def _plus(*errors: Any) -> Any:
    """The sum of errors, skipping exact ones."""
    present = [e for e in errors if not _is_exact(e)]
    return functools.reduce(np.add, present) if present else 0.0

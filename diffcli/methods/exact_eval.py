"""The exact reference, compiled once per expression and reused at every point.

SymPy's evalf(subs=...) is adaptive and sure of its digits, but slow: in a warm session
it was most of a comparison's time (the regression loss: 33 of 43 ms). Here a
derivative's SymPy expression is turned, once, into nested closures over mpmath numbers
(a walk of the tree; no code is generated or run), cached, and evaluated at the point at
two working precisions. Where both agree to AGREE digits and give a finite real float64,
that is the reference; anywhere else (a cancellation deeper than the precision, a pole, a
complex value, a function it does not know) the caller falls back to evalf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import mpmath as mp
import sympy as sp

PRECISIONS = (60, 80)  # decimal digits of the two evaluations
AGREE = 45  # digits they must share to be trusted (the reference promises 40)

Evaluator = Callable[[dict[Any, Any]], Any]


class NotCompiled(Exception):
    """A node the compiler does not know: evalf answers instead."""


FUNCTIONS: dict[Any, Callable[..., Any]] = {
    sp.sin: mp.sin,
    sp.cos: mp.cos,
    sp.tan: mp.tan,
    sp.asin: mp.asin,
    sp.acos: mp.acos,
    sp.atan: mp.atan,
    sp.sinh: mp.sinh,
    sp.cosh: mp.cosh,
    sp.tanh: mp.tanh,
    sp.asinh: mp.asinh,
    sp.acosh: mp.acosh,
    sp.atanh: mp.atanh,
    sp.exp: mp.exp,
    sp.log: mp.log,
    sp.erf: mp.erf,
    sp.atan2: mp.atan2,
    sp.Abs: abs,
    sp.sign: mp.sign,
    sp.Max: max,
    sp.Min: min,
    sp.sec: mp.sec,
    sp.csc: mp.csc,
    sp.cot: mp.cot,
}


def value(expr: sp.Expr, subs: dict[Any, sp.Rational]) -> float | None:
    """expr at the exact point, as float64, where the compiled evaluation can vouch for it;
    None where evalf must answer."""
    try:
        evaluate = compiled(expr)
    except NotCompiled:
        return None
    results = []
    for digits in PRECISIONS:
        with mp.workdps(digits):
            try:
                result = evaluate(subs)
            # AttributeError: a real-only mpmath function (atan2) given a complex value
            except (ZeroDivisionError, ValueError, OverflowError, TypeError, AttributeError):
                return None
            if not isinstance(result, mp.mpf) or not mp.isfinite(result):
                return None
            results.append(result)
    low, high = results
    if low != high and abs(low - high) > abs(high) * mp.mpf(10) ** -AGREE:
        return None
    number = float(high)
    return number if math.isfinite(number) else None


@lru_cache(maxsize=8192)
def compiled(expr: sp.Expr) -> Evaluator:
    """expr as a function of the point (symbol -> exact rational), in mpmath's working
    precision at the time it is called."""
    from diffcli.methods.stable_functions import _Stable
    from diffcli.methods.symbolic import StopGradient

    if expr.is_Symbol:
        return lambda subs: _exact(subs[expr])
    if expr.is_Integer:
        integer = int(expr)
        return lambda subs: mp.mpf(integer)
    if expr.is_Rational:
        p, q = int(expr.p), int(expr.q)
        return lambda subs: mp.mpf(p) / q
    if expr.is_Float:
        exact = sp.Rational(expr)
        return lambda subs: _exact(exact)
    if expr is sp.pi:
        return lambda subs: +mp.pi
    if expr is sp.E:
        return lambda subs: +mp.e
    if isinstance(expr, StopGradient):
        return compiled(expr.args[0])
    if isinstance(expr, _Stable):
        return compiled(expr.elementary())
    parts = [compiled(arg) for arg in expr.args]
    if expr.is_Add:
        return lambda subs: mp.fsum(part(subs) for part in parts)
    if expr.is_Mul:
        return lambda subs: mp.fprod(part(subs) for part in parts)
    if expr.is_Pow:
        base, power = parts
        return lambda subs: mp.power(base(subs), power(subs))
    function = FUNCTIONS.get(expr.func)
    if function is None:
        raise NotCompiled(str(expr.func))
    return lambda subs: function(*(part(subs) for part in parts))


def _exact(number: sp.Rational) -> Any:
    return mp.mpf(int(number.p)) / int(number.q)

"""The language's numerically stable functions as SymPy functions of their own.

Expanded into exp, log and sqrt, logsumexp(x) at x = 1000 overflows in float64 although its
gradient, softmax(x), is an ordinary number. Kept as themselves, each has its own
derivative rule (d logsumexp = softmax, d softplus = sigmoid, d hypot(x, y)/dx =
x / hypot(x, y)), prints as the language writes it, and has a stable float form
(FLOAT_FORMS: Python's math for one point, NumPy for many). High-precision values come
from mpmath's own stable forms (log1p, expm1, a shifted sum), since the elementary form
cancels where these functions matter: log(1 + exp(-120)) at 50 digits is 1 + 7.7e-53
rounded to 1, and its logarithm 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy as sp

GUARD_BITS = 20  # beyond the precision asked for, for the stable forms' few roundings


class _Stable(sp.Function):
    """A function with an elementary form, a form that mpmath evaluates without
    cancelling at real arguments (accurate), and its own float form."""

    def elementary(self) -> sp.Expr:
        raise NotImplementedError

    @staticmethod
    def accurate(*values: Any) -> Any:
        """The value from mpmath numbers, at the working precision; None where the
        elementary form is to be used (it needs no care there, or the value is not real)."""
        return None

    def _eval_evalf(self, prec: int) -> sp.Expr:
        values = [a.evalf(prec_to_digits(prec)) for a in self.args]
        if all(v.is_Number and v.is_real and v.is_finite for v in values):
            bits = prec + GUARD_BITS
            with mpmath.workprec(bits):
                value = self.accurate(
                    *(mpmath.mpf(sp.Float(v, precision=bits)._mpf_) for v in values)
                )
            if value is not None:
                return sp.Float(value, precision=prec)
        return self.elementary().evalf(prec_to_digits(prec))

    def _eval_is_extended_real(self) -> bool | None:
        return True if all(a.is_extended_real for a in self.args) else None

    def _sympystr(self, printer: Any) -> str:
        return f"{type(self).__name__}({', '.join(printer._print(a) for a in self.args)})"


def prec_to_digits(prec: int) -> int:
    """SymPy's binary precision as decimal digits (a few more, for the elementary form's
    own cancellations)."""
    return int(prec * math.log10(2)) + 5


class logsumexp(_Stable):
    """log(exp(x0) + exp(x1) + ...); its partials are softmax's entries."""

    def elementary(self) -> sp.Expr:
        return sp.log(sp.Add(*[sp.exp(a) for a in self.args]))

    @staticmethod
    def accurate(*values: Any) -> Any:
        return _shifted_logsumexp(mpmath, values)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.exp(self.args[argindex - 1] - self)


class softplus(_Stable):
    """log(1 + exp(x)); its derivative is sigmoid(x)."""

    nargs = 1

    def elementary(self) -> sp.Expr:
        return sp.log(1 + sp.exp(self.args[0]))

    @staticmethod
    def accurate(*values: Any) -> Any:
        (v,) = values
        return v + mpmath.log1p(mpmath.exp(-v)) if v > 0 else mpmath.log1p(mpmath.exp(v))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])


class sigmoid(_Stable):
    """1 / (1 + exp(-x)); its derivative is sigmoid(x) (1 - sigmoid(x))."""

    nargs = 1

    def elementary(self) -> sp.Expr:
        return 1 / (1 + sp.exp(-self.args[0]))

    @staticmethod
    def accurate(*values: Any) -> Any:
        (v,) = values
        if v >= 0:
            return 1 / (1 + mpmath.exp(-v))
        e = mpmath.exp(v)
        return e / (1 + e)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0]) * (1 - sigmoid(self.args[0]))


class hypot(_Stable):
    """sqrt(x0² + x1² + ...) without overflow; its partials are xi / hypot."""

    def elementary(self) -> sp.Expr:
        return sp.sqrt(sp.Add(*[a**2 for a in self.args]))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self.args[argindex - 1] / self


class norm(hypot):
    """The 2-norm of a vector's entries: hypot of them all, printed as norm."""


class log1p(_Stable):
    """log(1 + x), exact for tiny x."""

    nargs = 1

    def elementary(self) -> sp.Expr:
        return sp.log(1 + self.args[0])

    @staticmethod
    def accurate(*values: Any) -> Any:
        (v,) = values
        return mpmath.log1p(v) if v > -1 else None  # at -1 and below: the elementary form's

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return 1 / (1 + self.args[0])


class expm1(_Stable):
    """exp(x) - 1, exact for tiny x."""

    nargs = 1

    def elementary(self) -> sp.Expr:
        return sp.exp(self.args[0]) - 1

    @staticmethod
    def accurate(*values: Any) -> Any:
        (v,) = values
        return mpmath.expm1(v)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.exp(self.args[0])


def _shifted_logsumexp(m: Any, values: Any) -> Any:
    """log sum exp of values with `m`'s arithmetic (math, mpmath): shifted by the largest,
    the others' share added with log1p, so nothing cancels or overflows."""
    top = max(values)
    if not m.isfinite(top):
        return top
    others = list(values)
    others.remove(top)
    return top + m.log1p(m.fsum(m.exp(v - top) for v in others))


def _logsumexp(*values: float) -> float:
    return _shifted_logsumexp(math, values)


def _softplus(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _sigmoid(v: float) -> float:
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    z = math.exp(v)
    return z / (1 + z)


def _reduced(function: Any) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        result = values[0]
        for value in values[1:]:
            result = function(result, value)
        return result

    return apply


def _array_logsumexp(*values: Any) -> Any:
    return values[0] if len(values) == 1 else _reduced(np.logaddexp)(*values)


def _array_norm(*values: Any) -> Any:
    return np.abs(values[0]) if len(values) == 1 else _reduced(np.hypot)(*values)


# each class's float forms: (one point with Python's math, many points with NumPy)
FLOAT_FORMS: dict[Any, tuple[Callable[..., Any], Callable[..., Any]]] = {
    logsumexp: (_logsumexp, _array_logsumexp),
    softplus: (_softplus, lambda v: np.logaddexp(0, v)),
    sigmoid: (_sigmoid, lambda v: np.exp(-np.logaddexp(0, -v))),
    hypot: (math.hypot, _array_norm),
    norm: (math.hypot, _array_norm),
    log1p: (math.log1p, np.log1p),
    expm1: (math.expm1, np.expm1),
}
NAMES: dict[str, Any] = {cls.__name__: cls for cls in FLOAT_FORMS}

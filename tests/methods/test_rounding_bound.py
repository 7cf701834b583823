"""The float64 rounding-error bound the grid's reference trusts: it must hold against
mpmath wherever it is finite, and say nothing where float64 is not to be trusted."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from diffcli.methods import rounding_bound as bound
from diffcli.methods import stable_functions as stable
from diffcli.methods import symbolic

x, y = sp.symbols("x y", real=True)
POINTS = np.array([-7.5, -2.0, -0.7, -1e-3, 0.0, 3e-9, 0.4, 1.0, 1.5, 2.25, 9.0, 31.0])


def evaluated(expr: sp.Expr, xs: np.ndarray, y_value: float = 0.75) -> bound.Bounded:
    return bound.bounded_values(expr, {x: bound.exact(xs), y: bound.exact(np.float64(y_value))})


def exact(expr: sp.Expr, at: float, y_value: float = 0.75) -> float | None:
    """The value at 50 digits; None where there is none (SymPy's Max and Min refuse to
    compare a nan, such as atan2(0, 0), and raise)."""
    try:
        subs = {x: sp.Float(at, 60), y: sp.Float(y_value, 60)}
        value, problem = symbolic.exact_value(expr, subs, 50)
    except ValueError:
        return None
    return None if problem or not math.isfinite(value) else value


def assert_bound_holds(expr: sp.Expr, xs: np.ndarray) -> int:
    """At every point where the bound is finite and small, |value - exact| is within it
    (and the half ulp of rounding the exact value to compare). The number of such points."""
    result = evaluated(expr, xs)
    values = np.broadcast_to(result.value, xs.shape)
    relative = np.broadcast_to(bound.U * np.asarray(result.relative, dtype=float), xs.shape)
    held = 0
    for at, value, fraction in zip(xs, values, relative):
        if not (np.isfinite(value) and fraction <= 1e-6):
            continue
        truth = exact(expr, float(at))
        if truth is None:
            continue
        assert abs(value - truth) <= fraction * abs(value) + bound.U * abs(truth), (
            expr,
            at,
            value,
            truth,
            fraction,
        )
        held += 1
    return held


UNARY = [
    sp.sin,
    sp.cos,
    sp.tan,
    sp.exp,
    sp.atan,
    sp.tanh,
    sp.sinh,
    sp.asinh,
    sp.erf,
    sp.sec,
    sp.Abs,
    stable.softplus,
    stable.sigmoid,
    stable.log1p,
    stable.expm1,
    lambda a: sp.log(1 + a**2),
    lambda a: sp.sqrt(a**2 + 2),
    lambda a: a ** sp.Rational(1, 3),
    lambda a: sp.Max(a, sp.Rational(1, 2)),
    lambda a: stable.logsumexp(a, -a),
    lambda a: stable.hypot(a, 2),
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1 + b**2),
    lambda a, b: a**2 - b,
    lambda a, b: sp.atan2(a, b),
]
LEAVES = st.sampled_from(
    [x, y, sp.Integer(3), sp.Rational(1, 3), sp.Float(0.1), sp.pi, 2 * x, x - 1, x * y]
)


def formulas(depth: int) -> st.SearchStrategy[sp.Expr]:
    if depth == 0:
        return LEAVES
    inner = formulas(depth - 1)
    return st.one_of(
        LEAVES,
        st.builds(lambda f, a: f(a), st.sampled_from(UNARY), inner),
        st.builds(lambda f, a, b: f(a, b), st.sampled_from(BINARY), inner, inner),
    )


@settings(
    max_examples=int(os.environ.get("DIFFCLI_FUZZ", 40)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(formulas(3))
def test_the_bound_holds_against_mpmath_on_random_formulas(expr):
    try:
        evaluated(expr, POINTS)
    except symbolic.NoFloatForm:  # SymPy folded constants into complex numbers
        assume(False)
    assert_bound_holds(expr, POINTS)


@pytest.mark.parametrize(
    "expr",
    [
        # the grid's example's derivative, as SymPy writes it
        -2 * x * sp.exp(x) * sp.sin(x) / (x**2 + 1) ** 2
        + sp.exp(x) * sp.sin(x) / (x**2 + 1)
        + sp.exp(x) * sp.cos(x) / (x**2 + 1),
        (1 - sp.cos(x)) / x**2,  # cancels near 0
        sp.exp(x) - 1 - x,
        sp.sqrt(x**2 + 1) - x,  # cancels for large x
        sp.log(x) * x ** sp.Rational(1, 3),
    ],
)
def test_the_bound_holds_where_formulas_cancel(expr):
    xs = np.concatenate([np.linspace(-3, 3, 41), [1e-6, -1e-5, 40.0, 1e4]])
    assert assert_bound_holds(expr, xs) >= 20


def test_exact_leaves_cost_nothing_and_one_signed_sums_stay_one_number():
    """x**2 + 1 on exact points: one rounding for the square, one for the sum, whatever
    the point, so the bound is a plain number and not an array."""
    result = evaluated(x**2 + 1, np.linspace(-3, 3, 101))
    assert result.relative == 2.0
    assert evaluated(x, POINTS).relative == 0.0


def test_cancellation_is_seen_where_it_happens():
    """sin(x) - x near 0 keeps few digits: the bound there is far above TRUSTED's 2^-40,
    and where it does not cancel it is a few ulps."""
    xs = np.array([1e-6, 1e-3, 2.0])
    result = evaluated(sp.sin(x) - x, xs)
    relative = bound.U * np.asarray(result.relative)
    assert relative[0] > 1e-5 and relative[1] > 1e-11 and relative[2] < 1e-14
    assert list(bound.within(result, 2.0**-40)) == [False, False, True]


def test_underflow_and_exact_cancellation_promise_nothing():
    """exp(-x) at x = 745 is a subnormal, so exp(-x)*1e300 has no relative bound there; a
    sum of rounded terms that is exactly 0 has no relative error to speak of (that of
    exact terms is exactly 0: x - 1 at 1); x*y at x = 0 is an exact 0."""
    result = evaluated(sp.exp(-x) * sp.Float(1e300), np.array([1.0, 745.0]))
    assert list(bound.within(result, 1e-10)) == [True, False]
    softplus = evaluated(stable.softplus(x) * sp.Float(1e300), np.array([-745.0, -700.0]))
    assert list(bound.within(softplus, 1e-10)) == [False, True]
    assert not bound.within(evaluated(sp.sin(x) - sp.sin(1), np.array([1.0])), 1e-10).any()
    assert bound.within(evaluated(x - 1, np.array([1.0, 1.5])), 1e-15).all()
    assert bound.within(evaluated(x * sp.sin(x), np.array([0.0])), 1e-15).all()


def test_a_jump_is_exact_until_the_error_could_cross_it():
    result = evaluated(sp.sign(sp.sin(x) - x), np.array([-1.0, 1e-8, 2.0]))
    assert list(np.broadcast_to(bound.within(result, 1e-15), (3,))) == [True, False, True]


def test_an_exact_sum_is_told_within_at_every_point_without_a_mask():
    """2x + 3 on grid points: one rounding of exact terms, within u of itself where it
    cancels, one bound for every point, so the reference asks long double at the sampled
    points only; an overflow or a bound per point goes point by point."""
    xs = np.array([-1.5, -1.0, 0.3, 2.0])
    assert bound.everywhere_within(evaluated(2 * x + 3, xs), 2.0**-40)
    assert evaluated(2 * x + 3, xs).value[0] == 0.0
    assert not bound.everywhere_within(evaluated(sp.sin(x) + 3, xs), 2.0**-40)
    assert not bound.everywhere_within(evaluated(x * sp.Float(1e300), xs * 1e10), 2.0**-40)

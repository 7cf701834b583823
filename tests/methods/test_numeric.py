"""Finite differences: exact stencils, and the convergence orders they promise."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from diffcli.core.errors import DiffcliError
from diffcli.core.problem import build_problem
from diffcli.methods import numeric


def test_stencils_are_the_textbook_ones():
    assert numeric.stencil((-1, 0, 1), 1) == (Fraction(-1, 2), 0, Fraction(1, 2))
    assert numeric.stencil((0, 1), 1) == (-1, 1)
    assert numeric.stencil((-2, -1, 0, 1, 2), 1) == (
        Fraction(1, 12),
        Fraction(-2, 3),
        0,
        Fraction(2, 3),
        Fraction(-1, 12),
    )
    assert numeric.stencil((-1, 0, 1), 2) == (1, -2, 1)


@pytest.mark.parametrize(
    ("scheme", "slope"), [("forward", 1), ("backward", 1), ("central", 2), ("five-point", 4)]
)
def test_convergence_order(scheme, slope):
    """log-log slope of the error vs step, in the truncation regime, is the scheme's order."""
    problem = build_problem("exp(x)", "x=0.5")
    steps = np.array([0.2, 0.1, 0.05, 0.025]) if slope < 4 else np.array([0.4, 0.2, 0.1, 0.05])
    errors = [
        abs(float(numeric.differentiate(problem, scheme, step=h).value["x"]) - np.exp(0.5))
        for h in steps
    ]
    fitted = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(fitted - slope) < 0.2, (steps, errors)


def test_error_estimate_bounds_the_error_on_smooth_functions():
    for text, at, exact in [
        ("exp(x)", "1", np.e),
        ("sin(x)", "2", np.cos(2)),
        ("x**5", "1.3", 5 * 1.3**4),
    ]:
        outcome = numeric.differentiate(build_problem(text, at))
        error = abs(float(outcome.value["x"]) - exact)
        assert error <= outcome.details["error_estimate"], (text, error, outcome.details)


def test_float32_works_in_float32():
    outcome = numeric.differentiate(build_problem("sin(x)", "1"), dtype_name="float32")
    error = abs(float(outcome.value["x"]) - np.cos(1))
    assert 1e-7 < error < 1e-2


SMOOTH = [
    ("exp(x)", "1", np.e),
    ("sin(x)", "1", np.cos(1)),
    ("log(1 + x**2)", "1.5", 3 / 3.25),
    ("exp(50*x)", "1", 50 * np.exp(50)),
    ("sin(1000*x)", "1", 1000 * np.cos(1000)),
    ("log(x)", "1e8", 1e-8),
    ("sin(x)", "1e8", np.cos(1e8)),
    ("x**2 + x", "1e-8", 1 + 2e-8),
]


@pytest.mark.parametrize(("text", "at", "exact"), SMOOTH)
def test_richardson_is_accurate_and_its_estimate_honest(text, at, exact):
    outcome = numeric.differentiate(build_problem(text, at), "richardson")
    error = abs(float(outcome.value["x"]) - exact)
    assert error <= 1e-9 * abs(exact), (text, error / abs(exact), outcome.details)
    assert error <= outcome.details["error_estimate"]
    assert outcome.details["evaluations"] <= 36


@pytest.mark.parametrize(("text", "at", "exact"), SMOOTH)
def test_complex_step_reaches_machine_precision(text, at, exact):
    outcome = numeric.differentiate(build_problem(text, at), "complex-step")
    assert abs(float(outcome.value["x"]) - exact) <= 1e-15 * abs(exact) + 1e-300
    assert outcome.details["evaluations"] == 2


@pytest.mark.parametrize("text", ["abs(x)", "relu(x) + x", "max(x, 1)", "sign(x)*x", "norm(v, 1)"])
def test_complex_step_refuses_non_analytic_operations(text):
    problem = build_problem(text, "x=0.5, v=[1, 2]" if "v" in text else "0.5")
    with pytest.raises(DiffcliError, match="complex-analytic") as info:
        numeric.differentiate(problem, "complex-step")
    assert info.value.start == problem.text.index(text.split("(")[0])


def test_schemes_work_for_jacobians_and_higher_orders():
    problem = build_problem("[sin(x), x*y]", "x=1, y=2", command="jacobian")
    for scheme in ("richardson", "complex-step", "five-point"):
        outcome = numeric.differentiate(problem, scheme)
        np.testing.assert_allclose(outcome.value["x"], [np.cos(1), 2], rtol=1e-9)
    third = numeric.differentiate(build_problem("exp(x)*sin(x)", "1", order=3), "richardson")
    np.testing.assert_allclose(
        float(third.value["x"]), 2 * np.e * (np.cos(1) - np.sin(1)), rtol=1e-8
    )
    with pytest.raises(DiffcliError, match="first derivatives"):
        numeric.differentiate(build_problem("sin(x)", "1", order=2), "complex-step")


def test_step_override_is_used():
    outcome = numeric.differentiate(build_problem("exp(x)", "1"), "central", step=0.5**10)
    assert outcome.details["step"] == 0.5**10
    error = abs(float(outcome.value["x"]) - np.e)
    assert error == pytest.approx(np.e * (0.5**10) ** 2 / 6, rel=1e-3)  # the h^2 truncation


@pytest.mark.parametrize("scheme", ["forward", "central", "five-point"])
def test_the_automatic_step_is_the_step_the_value_comes_from(scheme):
    """sin(x) at 1e8 starts with a step of about 1e4 and needs five moves to settle; the
    value used to be D at the step before the last move (five-point: 100% error)."""
    problem = build_problem("sin(x)", {"x": 1e8})
    auto = numeric.differentiate(problem, scheme)
    again = numeric.differentiate(problem, scheme, step=auto.details["step"])
    assert float(auto.value["x"]) == float(again.value["x"])
    exact = float(np.cos(1e8))
    assert abs(float(auto.value["x"]) - exact) <= auto.details["error_estimate"]
    assert abs(float(auto.value["x"]) - exact) < 1e-3 * abs(exact)


@pytest.mark.parametrize("x", [1e-300, 1e-12, 1e-5])
def test_a_step_shrinks_below_a_point_near_the_edge_of_the_domain(x):
    """log(x): the first step (6e-6) reaches below 0; the next is under |x| itself, and the
    balance after it is found with ratios, since h^2 underflows at 1e-300."""
    outcome = numeric.differentiate(build_problem("log(x)", {"x": x}), "central")
    assert abs(float(outcome.value["x"]) * x - 1) < 1e-8


def test_float32_central_loses_the_digits_float64_keeps():
    problem = build_problem("sin(x)", "1")
    single = numeric.differentiate(problem, "central", "float32")
    double = numeric.differentiate(problem, "central", "float64")
    assert abs(float(single.value["x"]) - np.cos(1)) > 1e3 * abs(
        float(double.value["x"]) - np.cos(1)
    )


@pytest.mark.parametrize("order", [1, 2])
def test_richardson_gives_one_derivative_and_many_the_same_numbers(order):
    """One derivative runs the extrapolation on plain floats, many on arrays: one code."""
    alone = numeric.differentiate(build_problem("exp(sin(x))", "x=0.7", order=order), "richardson")
    many = numeric.differentiate(
        build_problem("[exp(sin(x)), exp(sin(x))]", "x=0.7", order=order, command="jacobian"),
        "richardson",
    )
    assert np.all(np.ravel(many.value["x"]) == float(alone.value["x"]))
    assert many.details["error_estimate"] == alone.details["error_estimate"]
    assert many.details["step"] == alone.details["step"]


@pytest.mark.parametrize(("step", "order"), [(1e-170, 2), (1e-320, 1)])
def test_richardson_survives_steps_whose_powers_vanish(step, order):
    """h^2 underflows to 0 (a float 1/0 raises; NumPy's gives inf), or h is below x's
    rounding: an answer whose estimate owns up to it, not an exception."""
    outcome = numeric.differentiate(
        build_problem("sin(x)", "x=1", order=order), "richardson", step=step
    )
    exact = np.cos(1.0) if order == 1 else -np.sin(1.0)
    error = abs(float(outcome.value["x"]) - exact)
    assert outcome.details["error_estimate"] >= error or np.isnan(error)
    assert outcome.details["error_estimate"] > 1e-3


def test_richardson_survives_steps_whose_powers_overflow():
    """At 1e300 the ladder's first steps are 2.5e299 down, and their squares are past the
    float range (a float power raises OverflowError there; NumPy's gives inf, and D = 0
    whatever f is): those rows are unknown, and steps on the scale of 1 answer."""
    outcome = numeric.differentiate(build_problem("log(x)", "x=1e300", order=2), "richardson")
    assert float(outcome.value["x"]) == 0.0  # -1/x^2 = -1e-600 rounds to 0
    assert 0.0 < outcome.details["error_estimate"] < 1e-6
    assert outcome.details["step"] < 1


@pytest.mark.parametrize("scheme", ["central", "forward", "five-point", "richardson"])
@pytest.mark.parametrize(("step", "order"), [(1e3, 1), (1e200, 1), (1e200, 2)])
def test_a_step_far_too_large_gets_an_unknown_error_not_a_small_one(scheme, step, order):
    """sin(x) at 1 with h = 1e3: D(h), D(2h) and D(4h) are noise of size 1/h, and their
    differences say nothing of the error (0.54). With h^2 past the float range, D would be
    0 whatever f is. The estimate must not pretend: inf."""
    problem = build_problem("sin(x)", "x=1", order=order)
    outcome = numeric.differentiate(problem, scheme, step=step)
    assert outcome.details["error_estimate"] == math.inf


@pytest.mark.parametrize("scheme", ["central", "forward", "five-point"])
def test_a_user_step_in_the_asymptotic_range_keeps_a_finite_estimate_that_bounds(scheme):
    """x**3 at 0: D(h) is all truncation (f' = 0), shrinking exactly as h^p says.
    (Richardson says inf there: its trust test wants changes small against D, which is
    all change here; a ratio near r^2 alone lets garbage through.)"""
    outcome = numeric.differentiate(build_problem("x**3", "x=0"), scheme, step=1e-3)
    error = abs(float(outcome.value["x"]))
    assert error <= outcome.details["error_estimate"] < 1e-5


def test_richardson_owns_up_when_no_window_of_its_ladders_is_trusted():
    """1/x at 1e-200: the derivative, -1e400, is past the float range; every ladder sees
    garbage, and the estimate is inf rather than the spread of that garbage."""
    outcome = numeric.differentiate(build_problem("1/x", "x=1e-200"), "richardson")
    assert outcome.details["error_estimate"] == math.inf


@pytest.mark.parametrize(("step", "honest"), [(1e3, False), (1e-3, True)])
def test_the_hessian_checks_a_user_step_as_the_stencils_do(step, honest):
    problem = build_problem("sin(x)*y", "x=1, y=2", command="hessian")
    outcome = numeric.hessian(problem, step=step)
    exact = np.array([[-2 * np.sin(1.0), np.cos(1.0)], [np.cos(1.0), 0.0]])
    error = np.max(np.abs(outcome.value["hessian"] - exact))
    estimate = outcome.details["error_estimate"]
    assert (estimate == math.inf) != honest
    assert error <= estimate


@pytest.mark.parametrize("x", [1e-6, 1e-12, 1e-300])
def test_richardson_near_a_domain_that_ends_at_0_steps_on_the_scale_of_x(x):
    """log(x) near 0: ladders on the scale of 1 reach x - h < 0 (NaN); the last fallback
    starts at |x|/4 and stays inside."""
    outcome = numeric.differentiate(build_problem("log(x)", {"x": x}), "richardson")
    error = abs(float(outcome.value["x"]) * x - 1)
    assert error < 1e-10
    assert abs(float(outcome.value["x"]) - 1 / x) <= outcome.details["error_estimate"]


def test_a_badly_scaled_second_derivative_finds_its_step():
    """exp(400000 x) at 1.7e-6: the first step (1e-4) is far outside the h^2 law, and the
    move it suggests overshoots into the noise; the step comes back up. f'' from mpmath."""
    import mpmath as mp

    mp.mp.dps = 40
    truth = float(mp.mpf(400000) ** 2 * mp.exp(mp.mpf(400000) * mp.mpf("1.7e-6")))
    problem = build_problem("exp(400000*x) - 2", {"x": 1.7e-6}, order=2)
    outcome = numeric.differentiate(problem, "central")
    value = float(outcome.value["x"])
    assert abs(value / truth - 1) < 1e-7
    assert abs(value - truth) <= outcome.details["error_estimate"]

"""Finite differences: exact stencils, and the convergence orders they promise."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from diffcli.methods import numeric
from diffcli.problem import build_problem


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

"""Gradient checks at the minima of standard optimisation test functions: the gradient is 0
there (the published minima), and every method must agree with 0 within tolerances that
scale with what limits it (f's largest term for finite differences), not be called a
disagreement because a relative tolerance of 0 leaves nothing."""

from __future__ import annotations

import numpy as np
import pytest

import diffcli

MINIMA = [
    (
        "Goldstein-Price",
        "(1 + (x + y + 1)**2*(19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))"
        "*(30 + (2*x - 3*y)**2*(18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))",
        "x=0,y=-1",
    ),
    ("Rosenbrock", "100*(y - x**2)**2 + (1 - x)**2", "x=1,y=1"),
    ("Himmelblau", "(x**2 + y - 11)**2 + (x + y**2 - 7)**2", "x=3,y=2"),
    ("Beale", "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2", "x=3,y=0.5"),
    ("Booth", "(x + 2*y - 7)**2 + (2*x + y - 5)**2", "x=1,y=3"),
    ("Matyas", "0.26*(x**2 + y**2) - 0.48*x*y", "x=0,y=0"),
    ("three-hump camel", "2*x**2 - 1.05*x**4 + x**6/6 + x*y + y**2", "x=0,y=0"),
    ("sphere", "sum(x**2)", "x=[0,0,0,0]"),
    ("Rastrigin", "20 + sum(x**2 - 10*cos(2*pi*x))", "x=[0,0]"),
    (
        "Levi N.13",
        "sin(3*pi*x)**2 + (x - 1)**2*(1 + sin(3*pi*y)**2) + (y - 1)**2*(1 + sin(2*pi*y)**2)",
        "x=1,y=1",
    ),
    (
        "Rosenbrock, 3-d",
        "100*(x[1] - x[0]**2)**2 + (1 - x[0])**2 + 100*(x[2] - x[1]**2)**2 + (1 - x[1])**2",
        "x=[1,1,1]",
    ),
]


@pytest.mark.parametrize(("name", "expression", "at"), MINIMA, ids=[m[0] for m in MINIMA])
def test_every_method_agrees_the_gradient_is_zero_at_a_minimum(name, expression, at):
    comparison = diffcli.compare(expression, at, closed_forms=False)
    for value in comparison.reference.value.values():
        assert np.all(np.asarray(value) == 0), (name, value)
    assert comparison.status == "agree", (name, comparison.notes)

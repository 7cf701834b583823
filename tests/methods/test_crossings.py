"""Kinks among a grid's points: where f is not differentiable, and which finite-difference
stencils reach across a kink (and are settled instead of taken once)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from diffcli.core.problem import build_problem
from diffcli.methods import numeric
from diffcli.methods.numeric import crossings


def _kinks(expression: str, at: str = "x=0", name: str = "x"):
    problem = build_problem(expression, at, [name])
    return problem, crossings.kinks_of(problem, name)


def test_only_kinks_the_variable_reaches_count():
    _, kinks = _kinks("relu(x) + stop_gradient(abs(x)) + max(y, 1)", "x=0, y=0")
    assert [k.text for k in kinks] == ["relu(x)"]
    assert kinks[0].condition == "its argument is 0"
    assert _kinks("sin(x)")[1] == ()


@pytest.mark.parametrize(
    ("expression", "points", "on"),
    [
        ("relu(x)", [-1.0, 0.0, 1.0], [False, True, False]),
        ("max(x, 0.5)", [0.25, 0.5, 0.75], [False, True, False]),
        ("atan2(x, 0)", [-1.0, 0.0, 1.0], [False, True, False]),  # both arguments 0
        ("atan2(x, -1)", [-1.0, 0.0, 1.0], [False, True, False]),  # on its branch cut
        ("atan2(x, 1)", [-1.0, 0.0, 1.0], [False, False, False]),
        ("hypot(x, 1)", [-1.0, 0.0, 1.0], [False, False, False]),  # one is never 0
        ("norm([x, 0])", [-1.0, 0.0, 1.0], [False, True, False]),  # the zero vector
        ("norm([x, 1], 1)", [-1.0, 0.0, 1.0], [False, True, False]),  # a component is 0
        ("norm([x, 1])", [-1.0, 0.0, 1.0], [False, False, False]),
    ],
)
def test_points_exactly_on_a_kink(expression, points, on):
    problem, kinks = _kinks(expression)
    (found,) = crossings.on_kink(problem, "x", kinks, np.array(points))
    assert found.tolist() == on


def test_a_stencil_reaches_a_kink_between_its_ends_or_either_end_and_its_centre():
    problem, kinks = _kinks("relu(x)")
    xs = np.array([-1.0, -0.05, 0.05, 1.0, 0.1])
    reach = np.full(xs.size, 0.1)
    assert crossings.crossed(problem, "x", kinks, xs, reach).tolist() == [
        False,
        True,
        True,
        False,
        True,  # an end on the kink itself
    ]
    # two kinks inside one stencil, at +-0.01: its ends agree in sign, its centre does not
    problem, kinks = _kinks("abs(x**2 - 1e-4)")
    xs = np.array([0.0, 0.5])
    reach = np.full(2, 0.02)
    assert crossings.crossed(problem, "x", kinks, xs, reach).tolist() == [
        True,
        False,
    ]
    # atan2's kink needs both arguments at 0, or the first at 0 and the second negative (its
    # branch cut): its constant 0 second argument alone is not one, nor is a positive one
    xs = np.array([-0.5, 0.01, 0.5])
    reach = np.full(3, 0.1)
    for expression, reached in [
        ("atan2(x, 0)", True),
        ("atan2(x, -1)", True),
        ("atan2(x, 1)", False),
    ]:
        problem, kinks = _kinks(expression)
        assert crossings.crossed(problem, "x", kinks, xs, reach).tolist() == [False, reached, False]


@pytest.mark.parametrize(
    ("expression", "exact"),
    [
        ("relu(x)", lambda x: (x > 0).astype(float)),
        ("abs(x - 3e-6)", lambda x: np.sign(x - 3e-6)),
        ("max(x, 2*x)", lambda x: np.where(x > 0, 2.0, 1.0)),
    ],
)
def test_a_grids_finite_differences_next_to_a_kink_are_those_of_its_side(expression, exact):
    """Taken once at h = 6e-6, a stencil within h of a kink differenced across it (relu's
    gave 0.42 at x = 1e-6): such points are settled as at a single point, and get the
    derivative of their own side."""
    problem = build_problem(expression, "x=0.5")
    xs = np.linspace(-9.5e-6, 9.5e-6, 20)  # 1e-6 apart, none on a kink
    np.testing.assert_allclose(numeric.along(problem, "x", xs), exact(xs), rtol=1e-9)


def test_a_stencil_reaching_past_the_domains_edge_is_settled_too():
    """sqrt's kink is its domain's edge: a stencil reaching past it gave nan."""
    problem = build_problem("sqrt(x)", "x=0.5")
    xs = np.array([1e-6, 3e-6, 5e-6])  # within h = 6e-6 of 0
    np.testing.assert_allclose(numeric.along(problem, "x", xs), 0.5 / np.sqrt(xs), rtol=1e-7)


def test_a_tie_of_infinities_at_a_point_crosses_nothing_and_warns_of_nothing():
    """max(x / relu(x), ...) at x = -1.5: x / 0 is -inf and 0 / 0 nan, and the difference
    warned (the CLI turns a warning into an internal error; found by
    test_whole_invocations_never_traceback)."""
    problem = build_problem(
        "max((x) / (relu(x)), (sum(v)) / (relu(x)))", "x=-1.5, v=linspace(-1, 1, 2)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert crossings.kinks_crossed(problem, 1e-3) == []

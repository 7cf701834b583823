"""methods/stable_functions.py: the language's stable functions stay themselves in SymPy,
so symbolic answers where the expanded formula overflows in float64. Values from mpmath at
40 digits, not from diffcli's engines."""

from __future__ import annotations

import math
import os

import mpmath as mp
import numpy as np
import pytest

import diffcli

mp.mp.dps = 40


def _softmax(values):
    weights = [mp.exp(mp.mpf(v)) for v in values]
    return [float(w / mp.fsum(weights)) for w in weights]


def _d_log_softplus(x):
    x = mp.mpf(x)
    return float(mp.exp(x) / ((1 + mp.exp(x)) * mp.log(1 + mp.exp(x))))


CASES = [
    ("logsumexp(x)", "x=[1000, 1001, 1002]", {"x": _softmax([1000, 1001, 1002])}),
    ("logsumexp(x)", "x=[-1000, -1001, -1002]", {"x": _softmax([-1000, -1001, -1002])}),
    ("log(softplus(x))", "x=-40", {"x": _d_log_softplus(-40)}),
    ("softplus(x)", "x=800", {"x": 1.0}),
    ("hypot(x, y)", "x=1e200,y=1e200", {"x": float(1 / mp.sqrt(2)), "y": float(1 / mp.sqrt(2))}),
    ("norm(x)", "x=[1e200, 2e200]", {"x": [float(1 / mp.sqrt(5)), float(2 / mp.sqrt(5))]}),
    ("norm(x)", "x=[3e-200, 4e-200]", {"x": [0.6, 0.8]}),
    ("log1p(x)", "x=1e-12", {"x": float(1 / (1 + mp.mpf("1e-12")))}),
    ("expm1(x)", "x=700", {"x": float(mp.exp(700))}),
]


@pytest.mark.parametrize(
    ("expression", "at", "truth"), CASES, ids=[c[0] + " " + c[1] for c in CASES]
)
def test_symbolic_answers_where_the_expanded_formula_would_overflow(expression, at, truth):
    # finite differences step on the scale of max(1, |x|): at 1e-200 they see norm's kink
    methods = "symbolic" if "e-200" in at else "symbolic,numeric"
    comparison = diffcli.compare(expression, at, methods=methods, closed_forms=False)
    symbolic = comparison.methods["symbolic"]
    for name, value in truth.items():
        np.testing.assert_allclose(symbolic.value[name], value, rtol=1e-12)
        np.testing.assert_allclose(comparison.reference.value[name], value, rtol=1e-15)
    assert comparison.status == "agree", comparison.notes


def test_the_formula_names_the_functions_and_their_rules():
    comparison = diffcli.compare("log(softplus(x)) + hypot(x, y)", "x=1,y=2")
    formula = comparison.methods["symbolic"].details["formula"]
    assert formula == {"x": "x/hypot(x, y) + sigmoid(x)/softplus(x)", "y": "y/hypot(x, y)"}
    assert "d softplus(u)/du = sigmoid(u)" in diffcli.explain("softplus(x)").text()
    softmax = diffcli.compare("logsumexp(x)", "x=[1, 2]").methods["symbolic"].details["formula"]
    assert softmax == {
        "x": ["exp(x[0] - logsumexp(x[0], x[1]))", "exp(x[1] - logsumexp(x[0], x[1]))"]
    }


def test_a_formula_that_overflows_where_the_derivative_is_finite_says_so_per_entry():
    """d tanh-as-sinh/cosh at 800 is 1/cosh(800)^2, about 1e-694 (mpmath): 0 in float64, yet
    the formula 1 - sinh(x)**2/cosh(x)**2 overflows."""
    exact = float(1 / mp.cosh(800) ** 2)
    comparison = diffcli.compare("sinh(x)/cosh(x)", "x=800", methods="symbolic")
    assert np.isinf(comparison.methods["symbolic"].value["x"])
    assert comparison.reference.value["x"] == exact == 0.0
    (note,) = [n for n in comparison.notes if n.startswith("symbolic: the formula is exact")]
    assert "(x = 0)" in note


# Issue 17's property: over the stable functions, at magnitudes where a naive formula
# overflows or underflows (|x| up to 1e3 inside exp-like functions, 1e+-200 for hypot and
# norm), symbolic agrees with the exact value wherever autograd does.
EXP_LIKE = [
    "logsumexp([{a}, {b}])",
    "softplus({a})",
    "sigmoid({a})",
    "log(softplus({a}))",
    "tanh({a})",
    "expm1({a}) / (1 + exp({a}))",
    "log1p(exp({a}))",
    "logsumexp([{a}, {b}, 0])",
]
SCALE_FREE = ["hypot({a}, {b})", "norm([{a}, {b}])", "hypot({a}, {b}) / norm([{a}, {b}])"]
ARGUMENTS = ["x", "y", "-x", "2*x", "x - y", "x + y"]
EXTREME_EXAMPLES = int(os.environ.get("DIFFCLI_FUZZ", 60))


def _magnitude(low: int, high: int):
    from hypothesis import strategies as st

    return st.builds(
        lambda sign, power, mantissa: sign * mantissa * 10.0**power,
        st.sampled_from([-1.0, 1.0]),
        st.integers(low, high),
        st.sampled_from([1.0, 1.5, 3.0, 7.25]),
    )


def _expressions():
    from hypothesis import strategies as st

    def fill(template: str, a: str, b: str) -> str:
        return template.format(a=a, b=b)

    exp_like = st.builds(
        fill, st.sampled_from(EXP_LIKE), st.sampled_from(ARGUMENTS), st.sampled_from(ARGUMENTS)
    )
    scale_free = st.builds(
        fill, st.sampled_from(SCALE_FREE), st.sampled_from(ARGUMENTS), st.sampled_from(ARGUMENTS)
    )
    return st.one_of(
        st.tuples(exp_like, _magnitude(-1, 3), _magnitude(-1, 3)),
        st.tuples(scale_free, _magnitude(-200, 200), _magnitude(-200, 200)),
    )


def test_symbolic_agrees_wherever_autograd_does_at_extreme_magnitudes():
    from hypothesis import HealthCheck, assume, given, settings

    @settings(
        deadline=None, max_examples=EXTREME_EXAMPLES, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(_expressions())
    def check(case):
        expression, x, y = case
        from diffcli.lang.expr import variables_of

        names = variables_of(diffcli.parse(expression))
        point = {name: {"x": x, "y": y}[name] for name in names}
        comparison = diffcli.compare(expression, at=point, methods="symbolic,autograd")
        reference = comparison.reference
        assume(reference.source == "exact")
        assume(all(np.all(np.isfinite(v)) for v in reference.value.values()))
        assume(comparison.methods["autograd"].within)
        symbolic = comparison.methods["symbolic"]
        overflowed = not all(np.all(np.isfinite(v)) for v in symbolic.value.values())
        if overflowed:  # a term of the formula past float64's range: said per entry
            assert any("float64 value overflows" in note for note in comparison.notes)
            return
        assert symbolic.within, (expression, point, symbolic.value, reference.value)

    check()


def test_a_zero_derivative_from_cancelling_terms_is_held_to_the_terms_size():
    """hypot(x, x) / norm([x, x]) is 1, so its derivative is 0; SymPy's formula
    -2x hypot/norm^3 + 2x/(hypot norm) adds two terms of 2|x|/(2 x^2) = 1/|x| = 1e4 at
    x = -1e-4, and float64 leaves about eps 1e4 = 2e-12 of them."""
    comparison = diffcli.compare("hypot(x, x) / norm([x, x])", at="x=-0.0001")
    symbolic = comparison.methods["symbolic"]
    assert comparison.reference.value["x"] == 0.0
    assert symbolic.details["term_scale"] == pytest.approx(1e4, rel=1e-9)
    assert symbolic.atol == pytest.approx(1e-12 * 1e4)
    assert symbolic.within and comparison.status == "agree"


@pytest.mark.parametrize(
    ("function", "args", "truth"),
    [
        ("softplus", ["-120"], mp.log1p(mp.exp(-120))),
        ("softplus", ["-7.5"], mp.log1p(mp.exp(mp.mpf("-7.5")))),
        ("softplus", ["800"], 800 + mp.log1p(mp.exp(-800))),
        ("sigmoid", ["-200"], mp.exp(-200) / (1 + mp.exp(-200))),
        ("logsumexp", ["-200", "0"], mp.log1p(mp.exp(-200))),
        ("logsumexp", ["3", "3", "-1e3"], 3 + mp.log1p(1 + mp.exp(-1003))),
        ("log1p", ["1e-60"], mp.log1p(mp.mpf("1e-60"))),
        ("expm1", ["-1e-45"], mp.expm1(mp.mpf("-1e-45"))),
        ("hypot", ["3", "4"], mp.mpf(5)),
    ],
)
def test_exact_values_do_not_cancel_at_extreme_arguments(function, args, truth):
    """The exact reference (evalf at 40 digits, the point given by substitution as the
    comparisons give it) of a stable function where its elementary form cancels to
    nothing: log(1 + exp(-120)) at 50 digits rounds 1 + 7.7e-53 to 1. All digits."""
    import sympy as sp

    from diffcli.methods import stable_functions, symbolic

    symbols = sp.symbols(f"a0:{len(args)}", real=True)
    expr = getattr(stable_functions, function)(*symbols)
    subs = {s: sp.Rational(a) for s, a in zip(symbols, args)}
    value, problem = symbolic.exact_value(expr, subs, 40)
    assert problem is None
    assert abs(value - float(truth)) <= 1e-15 * abs(float(truth)), (value, truth)


def test_logsumexp_in_float64_keeps_what_is_past_its_largest_term():
    """One point's float form adds the terms below the largest with log1p: at (-200, 0)
    the value is 1.4e-87, not log(1.0) = 0, as NumPy's logaddexp gives it."""
    from diffcli.methods.stable_functions import FLOAT_FORMS, logsumexp

    one_point, many = FLOAT_FORMS[logsumexp]
    assert one_point(-200.0, 0.0) == pytest.approx(float(mp.log1p(mp.exp(-200))), rel=1e-15)
    assert one_point(-200.0, 0.0) == float(many(np.float64(-200.0), np.float64(0.0)))


@pytest.mark.parametrize("x", [20.7, 25.0, 39.5])
def test_autograds_softplus_is_not_linear_past_20(x):
    """torch's softplus is a past 20 by default, its slope 1 where sigmoid(20.7) is
    1 - 1e-9: past autograd's tolerance, and the three methods disagreed (a hypothesis
    example: softplus(hypot(2, 1 + x**2)**3) at 0.938)."""
    comparison = diffcli.compare("softplus(x)", at=f"x={x}")
    exact = 1 / (1 + math.exp(-x))
    assert float(comparison.methods["autograd"].value["x"]) == pytest.approx(exact, rel=1e-15)
    assert comparison.agree

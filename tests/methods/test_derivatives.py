"""Known derivatives, by all three methods, each checked against an independent value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close

import diffcli

TABLE = [
    # (expression, point, variable, known derivative)
    ("7", None, None, None),
    ("x**3", 2.0, "x", 12.0),
    ("x**0.5", 4.0, "x", 0.25),
    ("x**-2", 2.0, "x", -0.25),
    ("exp(x)", 1.5, "x", math.exp(1.5)),
    ("log(x)", 2.0, "x", 0.5),
    ("sin(x)", 1.0, "x", math.cos(1.0)),
    ("cos(x)", 1.0, "x", -math.sin(1.0)),
    ("tan(x)", 0.3, "x", 1 / math.cos(0.3) ** 2),
    ("sqrt(x)", 9.0, "x", 1 / 6),
    ("tanh(x)", 0.5, "x", 1 - math.tanh(0.5) ** 2),
    ("atan(x)", 2.0, "x", 1 / 5),
    ("asin(x)", 0.5, "x", 1 / math.sqrt(0.75)),
    ("sigmoid(x)", 0.3, "x", (s := 1 / (1 + math.exp(-0.3))) * (1 - s)),
    ("softplus(x)", 0.3, "x", 1 / (1 + math.exp(-0.3))),
    ("erf(x)", 0.4, "x", 2 / math.sqrt(math.pi) * math.exp(-0.16)),
    ("log1p(x)", 0.5, "x", 1 / 1.5),
    ("expm1(x)", 0.5, "x", math.exp(0.5)),
    ("log2(x)", 3.0, "x", 1 / (3 * math.log(2))),
    ("log10(x)", 3.0, "x", 1 / (3 * math.log(10))),
    ("log(x, 3)", 2.0, "x", 1 / (2 * math.log(3))),
    ("asinh(x)", 0.5, "x", 1 / math.sqrt(1.25)),
    ("abs(x)", -2.0, "x", -1.0),
    ("relu(x)", 2.0, "x", 1.0),
    ("3*x + 2", 5.0, "x", 3.0),  # sum rule, constants
    ("x*exp(x)", 1.0, "x", 2 * math.e),  # product rule
    ("sin(x)/x", 2.0, "x", (2 * math.cos(2) - math.sin(2)) / 4),  # quotient rule
    ("sin(x**2)", 1.2, "x", 2 * 1.2 * math.cos(1.44)),  # chain rule
    ("exp(sin(x))", 0.7, "x", math.cos(0.7) * math.exp(math.sin(0.7))),
    ("x^2 + pi", 3.0, "x", 6.0),
]


@pytest.mark.parametrize(("expression", "at", "name", "known"), [row for row in TABLE if row[1]])
def test_derivative_table(expression, at, name, known):
    comparison = diffcli.compare(expression, at={name: at})
    assert comparison.agree, comparison.notes
    assert_close(comparison.reference.value[name], known, rtol=1e-14, what="exact")
    for method in ("symbolic", "autograd"):
        assert_close(comparison.methods[method].value[name], known, rtol=1e-12, what=method)
    assert_close(comparison.methods["numeric"].value[name], known, rtol=1e-7, what="numeric")


def test_a_constant_has_no_variable():
    with pytest.raises(diffcli.DiffcliError, match="no variables"):
        diffcli.compare("7", at="x=1")


def test_dot_course_example_gives_4x():
    comparison = diffcli.compare("2*dot(x, x)", at="x=arange(4)")
    assert comparison.agree
    for name in ("symbolic", "numeric", "autograd"):
        assert_close(
            comparison.methods[name].value["x"], [0, 4, 8, 12], rtol=1e-9, atol=1e-9, what=name
        )
    assert comparison.closed_form == {"x": "4*x"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("sum(x)", lambda x: np.ones_like(x)),
        ("sum(x*x)", lambda x: 2 * x),
        ("mean(x)", lambda x: np.full_like(x, 1 / len(x))),
        ("prod(x)", lambda x: np.prod(x) / x),
        ("logsumexp(x)", lambda x: np.exp(x) / np.exp(x).sum()),
        ("norm(x)", lambda x: x / np.linalg.norm(x)),
        ("norm(x, 1)", np.sign),
        ("x[1]*x[-1]", lambda x: np.array([0, x[3], 0, x[1]])),
        (
            "softmax(x)[2]",
            lambda x: (s := np.exp(x) / np.exp(x).sum())[2] * ((np.arange(4) == 2) - s),
        ),
    ],
)
def test_vector_gradients(expression, expected):
    x = np.array([0.5, 1.0, 2.0, 3.0])
    comparison = diffcli.compare(expression, at={"x": x})
    assert comparison.agree, comparison.notes
    for name, result in comparison.methods.items():
        assert_close(
            result.value["x"], expected(x), rtol=1e-7, atol=1e-9, what=f"{expression} {name}"
        )


def test_regression_loss_gradient_matches_numpy_formula():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = np.array([0.1, 0.2])
    y = np.array([1.0, 0.0, 1.0])
    comparison = diffcli.compare("norm(X@w - y)**2", at={"X": X, "w": w, "y": y}, wrt="w")
    expected = 2 * X.T @ (X @ w - y)
    assert comparison.agree
    for name, result in comparison.methods.items():
        assert_close(result.value["w"], expected, rtol=1e-9, what=name)
    assert comparison.closed_form == {"w": "2*X.T*(X*w - y)"}


def test_matrix_variables_and_closed_forms():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    comparison = diffcli.compare("trace(A@X)", at={"A": A, "X": X}, wrt="X")
    assert_close(comparison.methods["autograd"].value["X"], A.T)
    assert comparison.closed_form == {"X": "A.T"}
    x = np.array([1.0, 2.0])
    B = np.array([[2.0, 1.0], [0.0, 3.0]])
    comparison = diffcli.compare("x@B@x", at={"x": x, "B": B}, wrt="x")
    assert_close(comparison.methods["symbolic"].value["x"], (B + B.T) @ x)
    assert comparison.closed_form == {"x": "B*x + B.T*x"}


def test_det_gradient_by_jacobis_formula():
    X = np.array([[2.0, 1.0], [1.0, 3.0]])
    comparison = diffcli.compare("det(X)", at={"X": X})
    expected = np.linalg.det(X) * np.linalg.inv(X).T
    for name, result in comparison.methods.items():
        assert_close(result.value["X"], expected, rtol=1e-8, what=name)
    assert comparison.closed_form == {"X": "det(X)*X^-T"}


def test_multiple_variables():
    comparison = diffcli.compare("x**2*y + exp(x*y)", at="x=0.5,y=-1")
    x, y = 0.5, -1.0
    assert comparison.agree
    assert_close(comparison.reference.value["x"], 2 * x * y + y * math.exp(x * y), rtol=1e-15)
    assert_close(comparison.reference.value["y"], x**2 + x * math.exp(x * y), rtol=1e-15)
    assert comparison.methods["symbolic"].details["formula"] == {
        "x": "2*x*y + y*exp(x*y)",
        "y": "x**2 + x*exp(x*y)",
    }


def test_wrt_selects_and_orders_variables():
    comparison = diffcli.compare("x*y*z", at="x=1,y=2,z=3", wrt="z,x")
    assert comparison.problem.wrt == ("z", "x")
    assert set(comparison.reference.value) == {"z", "x"}


@pytest.mark.parametrize(
    ("order", "known"),
    [(2, 2 * math.exp(1) * math.cos(1)), (3, 2 * math.exp(1) * (math.cos(1) - math.sin(1)))],
)
def test_higher_order(order, known):
    comparison = diffcli.compare("exp(x)*sin(x)", at="1", order=order)
    assert comparison.agree
    assert_close(comparison.reference.value["x"], known, rtol=1e-15)
    assert_close(comparison.methods["autograd"].value["x"], known, rtol=1e-13)
    assert_close(comparison.methods["numeric"].value["x"], known, rtol=1e-4)


def test_order_needs_one_scalar_variable():
    with pytest.raises(diffcli.DiffcliError, match="one scalar variable"):
        diffcli.compare("x*y", at="x=1,y=2", order=2)
    with pytest.raises(diffcli.DiffcliError, match="between 1 and 10"):
        diffcli.compare("x", at="1", order=11)


def test_float32_agrees_within_its_own_tolerance():
    comparison = diffcli.compare("sin(x)*exp(x)", at="0.7", dtype="float32")
    assert comparison.agree, {n: (r.rel_error, r.rtol) for n, r in comparison.methods.items()}
    assert comparison.methods["autograd"].details["dtype"] == "float32"
    rel = comparison.methods["autograd"].rel_error
    assert 0 < rel < 1e-5  # really computed in float32, not float64


def test_the_reference_uses_the_exact_decimal():
    # 0.1 is not a float64 number; exp'(x) at exactly 1/10:
    comparison = diffcli.compare("exp(x)", at="x=0.1")
    assert comparison.reference.value["x"] == float(np.float64(1.1051709180756477))


def test_a_wrong_derivative_is_caught(monkeypatch):
    """Break autograd's sin (cos instead): the verdict must notice."""
    from diffcli.lang import ops

    sin = ops.BY_NAME["sin"]
    broken = ops.Op(sin.name, sin.arity, sin.shape, sin.numpy, lambda m, a: m.cos(a), sin.sympy)
    monkeypatch.setitem(ops.CALLABLE, ("sin", 1), broken)
    comparison = diffcli.compare("sin(x)", at="1")
    assert comparison.status == "disagree" and comparison.exit_code == 1
    assert comparison.methods["autograd"].within is False
    assert comparison.methods["numeric"].within is True


def test_sympy_matrix_calculus_failures_only_drop_the_closed_form():
    # SymPy's matrix calculus raises IndexError inside on x*x*x: no closed form, right values
    comparison = diffcli.compare("sum(x*x*x)", at="x=arange(4)")
    assert comparison.agree and comparison.closed_form == {}
    assert_close(comparison.methods["autograd"].value["x"], 3 * np.arange(4.0) ** 2)

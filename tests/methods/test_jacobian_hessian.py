"""Jacobians and Hessians by all three methods, each against an independent NumPy formula."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import assert_close

from diffcli.core.api import compare_with
from diffcli.core.options import Options
from diffcli.methods import HESSIAN
from diffcli.render.json import dumps

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
S = np.array([[2.0, 1.0], [0.0, 3.0]])


def run(expression, at, command="jacobian", **options):
    return compare_with(expression, at, Options.from_raw(command=command, **options))


def check_all(comparison, key, expected, rtol=1e-7, atol=1e-8):
    assert comparison.status == "agree", comparison.notes
    assert_close(comparison.reference.value[key], expected, rtol=1e-12, atol=1e-12, what="exact")
    for name, result in comparison.methods.items():
        assert_close(result.value[key], expected, rtol=rtol, atol=atol, what=name)


def test_a_at_x_is_a():
    x = np.ones(3)
    comparison = run("A@x", {"A": A, "x": x}, wrt="x")
    check_all(comparison, "x", A)
    assert comparison.closed_form == {"x": "A"}


def test_x_at_a_is_a_transposed():
    x = np.array([1.0, -1.0])
    comparison = run("x@A", {"A": A, "x": x}, wrt="x")
    check_all(comparison, "x", A.T)
    assert comparison.closed_form == {"x": "A.T"}


def test_quadratic_form_gradient_and_hessian():
    x = np.array([1.0, 2.0])
    gradient = run("x@S@x", {"x": x, "S": S}, command="grad", wrt="x")
    check_all(gradient, "x", (S + S.T) @ x)
    assert gradient.closed_form == {"x": "S*x + S.T*x"}
    hessian = run("x@S@x", {"x": x, "S": S}, command="hessian", wrt="x")
    check_all(hessian, HESSIAN, S + S.T, rtol=1e-6, atol=1e-6)
    assert hessian.closed_form == {HESSIAN: "S + S.T"}


def test_trace_and_det():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    check_all(run("trace(S@X)", {"S": S, "X": X}, command="grad", wrt="X"), "X", S.T)
    D = np.array([[2.0, 1.0], [1.0, 3.0]])
    comparison = run("det(D)", {"D": D}, command="grad")
    check_all(comparison, "D", np.linalg.det(D) * np.linalg.inv(D).T)


def test_softmax_jacobian():
    z = np.array([1.0, 2.0, 3.0])
    s = np.exp(z) / np.exp(z).sum()
    check_all(run("softmax(z)", {"z": z}), "z", np.diag(s) - np.outer(s, s), atol=1e-9)


def test_rosenbrock_matches_scipy():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    point = np.array([-1.2, 1.0])
    at = {"x": point[0], "y": point[1]}
    expression = "100*(y - x**2)**2 + (1 - x)**2"
    gradient = run(expression, at, command="grad", wrt="x,y")
    expected = scipy_optimize.rosen_der(point)
    assert gradient.status == "agree"
    for result in gradient.methods.values():
        assert_close([result.value["x"], result.value["y"]], expected, rtol=1e-8, what=result.name)
    hessian = run(expression, at, command="hessian", wrt="x,y")
    check_all(hessian, HESSIAN, scipy_optimize.rosen_hess(point), rtol=1e-6, atol=1e-5)
    assert hessian.hessian.definiteness.startswith("positive definite")


def test_layouts_are_transposes():
    x = np.array([0.5, 1.0, 2.0])
    numerator = run("A@sin(x)", {"A": A, "x": x}, wrt="x")
    denominator = run("A@sin(x)", {"A": A, "x": x}, wrt="x", layout="denominator")
    for name in ("symbolic", "numeric", "autograd"):
        a = numerator.in_layout(numerator.methods[name].value["x"])
        b = denominator.in_layout(denominator.methods[name].value["x"])
        assert a.shape == (2, 3) and b.shape == (3, 2)
        assert_close(a, b.T, rtol=0, atol=0, what=name)
    record = json.loads(dumps(denominator))
    assert record["layout"] == "denominator" and record["shapes"] == {"x": [3, 2]}
    assert np.array(record["reference"]["value"]["x"]).shape == (3, 2)


@pytest.mark.parametrize(
    ("expression", "at"),
    [
        ("[x*y, sin(x), exp(y)]", {"x": 1.0, "y": 2.0}),
        ("softmax(z) * sum(z*z)", {"z": [0.3, -1.0, 2.0]}),
        ("A@X@A.T", {"A": [[1.0, 2.0], [0.5, -1.0]], "X": [[0.1, 0.2], [0.3, 0.4]]}),
        ("tanh(M)", {"M": [[0.1, 0.2], [0.3, 0.4]]}),
    ],
)
def test_forward_and_reverse_mode_agree_to_1e_12(expression, at):
    reverse = run(expression, at, mode="reverse")
    forward = run(expression, at, mode="forward")
    for name in reverse.problem.wrt:
        assert_close(
            forward.methods["autograd"].value[name],
            reverse.methods["autograd"].value[name],
            rtol=1e-12,
            atol=1e-12,
            what=name,
        )
    outputs = int(np.prod(reverse.problem.output_shape))
    inputs = sum(int(np.prod(reverse.problem.shape_of(n))) for n in reverse.problem.wrt)
    assert reverse.methods["autograd"].details["passes"] == outputs
    assert forward.methods["autograd"].details["passes"] == inputs


@pytest.mark.parametrize(
    ("expression", "at", "shape"),
    [
        ("x**2", {"x": 3.0}, ()),  # scalar by scalar
        ("[x, x**2]", {"x": 3.0}, (2,)),  # vector by scalar
        ("sum(v*v)", {"v": [1.0, 2.0]}, (2,)),  # scalar by vector
        ("v*2", {"v": [1.0, 2.0]}, (2, 2)),  # vector by vector
        ("M*3", {"M": [[1.0, 2.0], [3.0, 4.0]]}, (2, 2, 2, 2)),  # matrix by matrix
        ("sum(M)", {"M": [[1.0, 2.0], [3.0, 4.0]]}, (2, 2)),  # scalar by matrix
        ("x*M", {"x": 2.0, "M": [[1.0, 2.0], [3.0, 4.0]]}, (2, 2)),  # matrix by scalar
        ("M@v", {"M": [[1.0, 2.0], [3.0, 4.0]], "v": [1.0, 1.0]}, (2, 2, 2)),  # vector by matrix
    ],
)
def test_the_table_of_shapes(expression, at, shape):
    comparison = run(expression, at)
    assert comparison.agree, comparison.notes
    first = comparison.problem.wrt[0]
    assert comparison.reference.value[first].shape == shape
    for result in comparison.methods.values():
        assert result.value[first].shape == shape


def test_hessian_json_has_flat_variables_and_eigenvalues():
    record = json.loads(dumps(run("x**2*y + y**3", "x=1,y=2", command="hessian")))
    assert record["flat_variables"] == ["x", "y"]
    assert record["reference"]["value"] == [[4.0, 2.0], [2.0, 12.0]]
    assert len(record["eigenvalues"]) == 2
    for method in record["methods"].values():
        assert method["asymmetry"] == pytest.approx(0, abs=1e-9)


def test_hessian_flattens_arrays():
    comparison = run("x[0]*x[1]*y", {"x": [1.0, 2.0], "y": 3.0}, command="hessian")
    assert comparison.problem.flat_variables() == ["x[0]", "x[1]", "y"]
    expected = np.array([[0, 3, 2], [3, 0, 1], [2, 1, 0]], dtype=float)
    check_all(comparison, HESSIAN, expected, rtol=1e-6, atol=1e-6)
    assert comparison.hessian.definiteness.startswith("indefinite")


def test_hessian_forward_over_reverse():
    comparison = run("exp(x*y) + x**3", "x=0.5,y=-1", command="hessian", mode="forward")
    reverse = run("exp(x*y) + x**3", "x=0.5,y=-1", command="hessian")
    assert comparison.agree
    assert_close(
        comparison.methods["autograd"].value[HESSIAN],
        reverse.methods["autograd"].value[HESSIAN],
        rtol=1e-12,
    )


def test_commands_refuse_the_wrong_output_shape():
    from diffcli.core.errors import OptionError

    with pytest.raises(OptionError, match="hessian needs a scalar"):
        run("[x, y]", "x=1,y=2", command="hessian")
    with pytest.raises(OptionError, match="--order is for grad"):
        run("x", "x=1", command="hessian", order=2)


def test_numeric_hessian_steps_adapt_to_a_badly_scaled_point():
    """At x = 1e8 a step of eps^(1/4)|x| (1.2e4) is thousands of periods of sin: each
    entry's step is balanced as for --order 2, and second differences are held to a
    second derivative's tolerance, 100 eps^(1/2)."""
    comparison = compare_with("sin(x)*y", "x=1e8,y=2", Options(command="hessian"))
    numeric = comparison.methods["numeric"]
    assert numeric.rel_error < 1e-6
    assert numeric.rtol == pytest.approx(100 * 2.0**-26)
    assert comparison.agree

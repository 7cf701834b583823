"""lang/ops.py: every row of the operator table, through every engine. A new row is covered
here without a new test: its NumPy, torch and SymPy forms must agree on its derivative."""

from __future__ import annotations

import math

import pytest

import diffcli
from diffcli.lang.ops import CALLABLE, CONSTANTS, KINKS, OPS

VECTOR = "x=[0.3, 0.5, 0.7]"
MATRIX = "A=[[1.0, 2.0], [3.0, 4.5]]"
# a call of each function, at a point inside its domain and away from its kinks
CALLS = {
    ("acosh", 1): ("acosh(x)", "x=1.5"),
    ("atan2", 2): ("atan2(x, y)", "x=0.3,y=0.8"),
    ("hypot", 2): ("hypot(x, y)", "x=0.3,y=0.8"),
    ("max", 2): ("max(x, y)", "x=0.3,y=0.8"),
    ("min", 2): ("min(x, y)", "x=0.3,y=0.8"),
    ("pow", 2): ("pow(x, y)", "x=0.3,y=0.8"),
    ("dot", 2): ("dot(x, x)", VECTOR),
    ("norm", 1): ("norm(x)", VECTOR),
    ("trace", 1): ("trace(A @ A)", MATRIX),
    ("det", 1): ("det(A)", MATRIX),
    ("transpose", 1): ("transpose(A)", MATRIX),
    ("softmax", 1): ("softmax(x)", VECTOR),
    ("stop_gradient", 1): ("x * x", "x=0.3"),
    ("detach", 1): ("x * x", "x=0.3"),
}
REDUCTIONS = {"sum", "mean", "prod", "logsumexp", "norm"}


def _call(name: str, arity: int) -> tuple[str, str]:
    if (name, arity) in CALLS:
        return CALLS[name, arity]
    if name in REDUCTIONS:
        return f"{name}(x)", VECTOR
    return f"{name}(x)", "x=0.3"


@pytest.mark.parametrize(("name", "arity"), sorted(CALLABLE), ids=lambda v: str(v))
def test_every_function_agrees_across_the_three_engines(name, arity):
    expression, at = _call(name, arity)
    comparison = diffcli.compare(expression, at, command="jacobian", closed_forms=False)
    assert comparison.status == "agree", (expression, comparison.notes)


def test_every_row_states_its_facts():
    for op in OPS:
        assert callable(op.numpy) and callable(op.torch) and callable(op.sympy), op.name
        assert op.rounding in (None, "result", "arithmetic"), op.name
        assert op.kink is None or op.kink in KINKS, op.name
        if op.rounding == "result":  # one libm call on the argument itself
            assert op.arity == 1


def test_constants_are_rows_with_their_exact_forms():
    import sympy as sp

    assert CONSTANTS["pi"].value == math.pi and CONSTANTS["pi"].sympy(sp) == sp.pi
    assert CONSTANTS["e"].value == math.e and CONSTANTS["e"].sympy(sp) == sp.E
    comparison = diffcli.compare("pi*x + e*x**2", "x=0.5")
    assert comparison.agree
    assert comparison.reference.value["x"] == pytest.approx(math.pi + math.e)


A = [[0.3, 0.5], [0.7, 0.2]]
B = [[0.4, 0.1], [0.6, 0.9]]


def _numpy_reference(name: str):
    """What NumPy (or SciPy) itself computes for each function of the language."""
    import numpy as np
    from scipy import special

    renamed = {
        "asin": "arcsin",
        "acos": "arccos",
        "atan": "arctan",
        "asinh": "arcsinh",
        "acosh": "arccosh",
        "atanh": "arctanh",
        "atan2": "arctan2",
        "max": "maximum",
        "min": "minimum",
        "pow": "power",
    }
    own = {
        "erf": special.erf,
        "sigmoid": special.expit,
        "relu": lambda a: np.maximum(a, 0),
        "softplus": lambda a: np.logaddexp(0, a),
        "norm": np.linalg.norm,
        "det": np.linalg.det,
        "logsumexp": special.logsumexp,
        "stop_gradient": lambda a: a,
        "detach": lambda a: a,
        "log": lambda a, *base: np.log(a) / (np.log(base[0]) if base else 1),
    }
    return own.get(name) or getattr(np, renamed.get(name, name))


REFUSED_ON_MATRICES = {"softmax"}


def _matrix_calls():
    for name, arity in sorted(CALLABLE):
        matrix = "(A + 1)" if name == "acosh" else "A"
        yield name, arity, f"{name}({', '.join([matrix, 'B'][:arity])})"


@pytest.mark.parametrize(("name", "arity", "text"), list(_matrix_calls()), ids=lambda v: str(v))
def test_on_matrices_every_function_means_what_numpy_means(name, arity, text):
    """Each engine's value of f(A) (or f(A, B)) is NumPy's, or the shape check refuses it."""
    import numpy as np
    import sympy as sp
    import torch

    from diffcli.core.errors import ShapeError
    from diffcli.core.problem import build_problem
    from diffcli.lang.evaluate import evaluate
    from diffcli.methods.autograd import TorchBackend
    from diffcli.methods.numeric import value_at_point
    from diffcli.methods.symbolic import SympyBackend

    try:
        problem = build_problem(text, f"A={A}, B={B}", command="jacobian")
    except ShapeError as refused:  # NumPy's softmax has no axis-free meaning on a matrix
        assert name in REFUSED_ON_MATRICES, (text, str(refused))
        return
    a = np.array(A) + (1 if name == "acosh" else 0)
    expected = _numpy_reference(name)(*[a, np.array(B)][:arity])
    torch_leaves = {
        "A": torch.tensor(A, dtype=torch.float64),
        "B": torch.tensor(B, dtype=torch.float64),
    }
    exact = {k: sp.Matrix(v).applyfunc(sp.nsimplify) for k, v in (("A", A), ("B", B))}
    exact = {k: np.array(m.tolist(), dtype=object) for k, m in exact.items()}
    by_torch = evaluate(
        problem.expr, torch_leaves, TorchBackend(torch.device("cpu"), torch.float64)
    )
    by_sympy = evaluate(problem.expr, exact, SympyBackend())
    np.testing.assert_allclose(value_at_point(problem), expected, rtol=1e-12, err_msg="numpy")
    np.testing.assert_allclose(by_torch.detach().numpy(), expected, rtol=1e-12, err_msg="torch")
    entries = np.asarray(by_sympy, dtype=object)
    sympy_value = np.vectorize(lambda e: float(sp.N(e, 30)), otypes=[float])(entries)
    np.testing.assert_allclose(sympy_value, expected, rtol=1e-12, err_msg="sympy")


def test_norm_1_of_a_matrix_is_refused_with_numpy_s_meaning():
    from diffcli.core.errors import ShapeError

    with pytest.raises(ShapeError, match=r"norm: norm\(A, 1\) of a matrix .* largest column sum"):
        diffcli.compare("norm(A, 1)", "A=[[1,-2],[3,4]]")


@pytest.mark.parametrize("entries", [1, 3, 16, 17, 40])
def test_numpy_dot_per_point_rounds_each_point_alone(entries):
    """NumPy's dot of two vectors per point, short or long, is the dot product of each
    point's vectors, and a point's value does not depend on the batch it is in (the grid
    and the point engine must round it alike)."""
    import numpy as np

    from diffcli.lang.ops import _numpy_matmul

    rng = np.random.default_rng(entries)
    a, b = rng.standard_normal((1000, entries)), rng.standard_normal((1000, entries))
    batch = _numpy_matmul(np, a, b)
    np.testing.assert_allclose(batch, np.einsum("ij,ij->i", a, b), rtol=1e-12, atol=1e-12)
    alone = [_numpy_matmul(np, a[i : i + 1], b[i : i + 1])[0] for i in range(0, 1000, 37)]
    assert alone == batch[::37].tolist()
    shared = _numpy_matmul(np, a[:1], b)  # one vector against every point's
    one_by_one = [_numpy_matmul(np, a[:1], b[i : i + 1])[0] for i in range(0, 1000, 37)]
    assert shared[::37].tolist() == one_by_one

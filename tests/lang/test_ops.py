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

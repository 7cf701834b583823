"""explain: each step names its rule, and the result is SymPy's derivative."""

from __future__ import annotations

import pytest
import sympy as sp

from diffcli.core.errors import DiffcliError
from diffcli.teaching.explain import explain


@pytest.mark.parametrize(
    ("expression", "rules"),
    [
        ("sin(x**2)*exp(x)", ["product rule", "chain rule", "power rule", "table"]),
        ("x/(1 + x**2)", ["quotient rule", "sum rule", "power rule"]),
        ("3*x**4 - 7", ["sum rule", "constant multiple", "power rule", "constant"]),
        ("2**x", ["exponential rule"]),
        ("x**x", ["general power rule"]),
        ("log(sqrt(x))", ["chain rule", "table"]),
        ("atan2(x, 2)", ["chain rule (several arguments)"]),
        ("stop_gradient(x)*x", ["product rule", "stop_gradient"]),
    ],
)
def test_rules_are_named_and_the_result_is_right(expression, rules):
    result = explain(expression)
    used = [step.rule for step in result.steps]
    for rule in rules:
        assert rule in used, (rule, used)
    x = sp.Symbol("x", real=True)
    from diffcli.core.problem import build_problem
    from diffcli.methods.symbolic import derive

    truth = derive(build_problem(expression, "x=0.5")).derivatives["x"].item()
    assert sp.simplify(result.result - truth) == 0
    assert sp.simplify(result.simplified - truth) == 0
    assert x in result.result.free_symbols or result.result.is_number


def test_text_and_latex():
    result = explain("sin(x**2)*exp(x)")
    text = result.text()
    assert text.splitlines()[0] == "d/dx [sin(x**2)*exp(x)]"
    assert "1. product rule" in text and "simplified: (2*x*cos(x**2) + sin(x**2))*exp(x)" in text
    latex = result.latex()
    assert latex.startswith(r"\begin{align*}") and latex.endswith(r"\end{align*}")
    assert r"\text{chain rule:}" in latex


def test_several_variables_need_wrt():
    assert explain("x*y**2", wrt="y").simplified == sp.Symbol("x", real=True) * 2 * sp.Symbol(
        "y", real=True
    )
    with pytest.raises(DiffcliError, match="--wrt"):
        explain("x*y")
    with pytest.raises(DiffcliError, match="scalar"):
        explain("[x, 2*x]")


def test_cli(cli):
    result = cli("explain", "sin(x**2)*exp(x)")
    assert result.exit_code == 0 and "product rule" in result.output
    assert cli("explain", "sin(x)", "--format", "latex").output.startswith(r"\begin{align*}")

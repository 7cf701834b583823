"""check: is a hand-derived derivative right?"""

from __future__ import annotations

import json
import math

import pytest

import diffcli
from diffcli.core.errors import DiffcliError
from diffcli.teaching.check import check


@pytest.mark.parametrize(
    "answer", ["2*sin(x)*cos(x)", "sin(2*x)", "1 - cos(2*x) + sin(2*x) - 1 + cos(2*x)"]
)
def test_right_answers_are_accepted(answer):
    result = check("sin(x)**2", answer)
    assert result.correct and result.exit_code == 0 and result.spot_checks == 8


def test_wrong_answer_has_a_true_counterexample():
    result = check("sin(x)**2", "2*cos(x)")
    assert not result.correct and result.exit_code == 1
    x = result.counterexample["point"]["x"]
    assert result.counterexample["derivative"] == pytest.approx(math.sin(2 * x))
    assert result.counterexample["answer"] == pytest.approx(2 * math.cos(x))


def test_several_variables_and_arrays():
    assert check("x**2*y", "2*x*y", wrt="x").correct
    assert not check("x**2*y", "2*x", wrt="x").correct
    assert check("2*dot(x, x)", "4*x", at="x=arange(3)").correct
    assert not check("2*dot(x, x)", "2*x", at="x=arange(3)").correct


def test_domains_are_respected():
    assert check("log(x)", "1/x").correct  # points with x <= 0 are skipped, not failures
    assert check("sqrt(x)", "1/(2*sqrt(x))").correct


@pytest.mark.parametrize(
    ("expression", "answer", "wrt", "message"),
    [
        ("x*y", "y", None, "name one with --wrt"),
        ("x", "z", None, "which the expression does not"),
        ("x", "1", "q", "not a variable"),
        ("x", "sni(x)", None, "did you mean sin?"),
    ],
)
def test_bad_requests_are_clear(expression, answer, wrt, message):
    with pytest.raises(DiffcliError, match=message):
        check(expression, answer, wrt)


def test_cli_exit_codes_and_json(cli):
    assert cli("check", "sin(x)**2", "--answer", "sin(2*x)").exit_code == 0
    wrong = cli("check", "sin(x)**2", "--answer", "2*cos(x)")
    assert wrong.exit_code == 1 and "counterexample" in wrong.output
    record = json.loads(cli("check", "exp(x)", "--answer", "exp(x)", "--format", "json").stdout)
    assert record["correct"] is True and record["derivative"] == "exp(x)"
    assert cli("check", "x", "--answer", "((").exit_code == 2


@pytest.mark.parametrize(
    ("expression", "spelled"),
    [
        ("sin(abs(sin(3*x)))", "abs(sin(3*x))"),
        ("abs(x)*x + max(x, 0)", "abs(x)"),
        ("min(x, min(x**2, 3))*x", "min("),
    ],
)
def test_the_formula_shown_is_in_the_languages_spelling_and_checks_as_right(expression, spelled):
    """The formula was SymPy's text (Abs, Max, Min): given back to check --answer, it was
    'unknown function Abs'. It is spelled as the language spells it, and checks as right
    where the language has every function in it (Heaviside it lacks)."""
    formula = diffcli.compare(expression, at="x=0.3").methods["symbolic"].details["formula"]["x"]
    assert spelled in formula and not any(name in formula for name in ("Abs(", "Max(", "Min("))
    if "Heaviside" not in formula:
        assert check(expression, formula).correct

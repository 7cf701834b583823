"""--python FILE:FUNC: loops and branches, differentiated by finite differences and autograd."""

from __future__ import annotations

import math
import runpy

import pytest
import torch
from helpers import DATA, EXAMPLES

from diffcli.core.api import compare_python
from diffcli.core.errors import DiffcliError
from diffcli.core.options import Options

CONTROL_FLOW = str(EXAMPLES / "control_flow.py")
USER = str(DATA / "user_functions.py")


def test_control_flow_gradient_is_d_over_a():
    comparison = compare_python(f"{CONTROL_FLOW}:f", "a=0.7", Options())
    f = runpy.run_path(CONTROL_FLOW)["f"]
    d = f(torch.tensor(0.7, dtype=torch.float64))
    expected = float(d / 0.7)
    assert comparison.agree
    assert float(comparison.methods["autograd"].value["a"]) == expected
    assert float(comparison.methods["numeric"].value["a"]) == pytest.approx(expected, rel=1e-9)
    assert comparison.reference.source == "richardson"
    assert not comparison.methods["symbolic"].ok and comparison.methods["symbolic"].by_design


def test_jacobian_and_hessian_of_python_functions():
    jac = compare_python(f"{USER}:vector", "x=0.5", Options(command="jacobian"))
    assert jac.agree
    assert jac.methods["autograd"].value["x"].tolist() == pytest.approx([1.0, math.cos(0.5)])
    hess = compare_python(f"{USER}:square_sum", "x=[1, 2], y=3", Options(command="hessian"))
    assert hess.agree, hess.notes
    assert hess.methods["autograd"].value["hessian"].tolist() == [[6, 0, 2], [0, 6, 4], [2, 4, 0]]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.py:f", "no such file"),
        (f"{USER}:nothing", "defines no function 'nothing'"),
        (USER, "expected FILE.py:FUNCTION"),
    ],
)
def test_bad_specs_are_clear(spec, message):
    with pytest.raises(DiffcliError, match=message):
        compare_python(spec, "x=1", Options())


def test_errors_in_the_users_function_show_their_traceback(cli):
    result = cli("grad", "--python", f"{USER}:broken", "--at", "x=1")
    assert result.exit_code == 2
    assert "ValueError: this went wrong in the user's code" in result.stderr
    assert "Traceback (in your file)" in result.stderr and "in helper" in result.stderr
    assert "diffcli/" not in result.stderr.split("Traceback (in your file)")[1]


def test_cli_needs_exactly_one_of_expression_and_python(cli):
    assert cli("grad", "--at", "x=1").exit_code == 2
    both = cli("grad", "x", "--python", f"{USER}:vector", "--at", "x=1")
    assert both.exit_code == 2 and "one of the two" in both.stderr
    ok = cli("grad", "--python", f"{CONTROL_FLOW}:f", "--at", "a=0.7")
    assert ok.exit_code == 0 and "richardson estimate" in ok.output


def test_a_reference_whose_own_error_is_unknown_says_so():
    """At the jump of a Python branch no window of Richardson's ladders is trusted."""
    comparison = compare_python(f"{USER}:jump", "x=0", Options())
    assert comparison.reference.source == "richardson"
    assert any("whose own error is unknown" in note for note in comparison.notes)

"""Rendering on a fixed console against exact text (times pinned so the text is stable)."""

from __future__ import annotations

import io

from rich.console import Console

import diffcli
from diffcli.render.table import render_table, to_html


def _text(comparison) -> str:
    for result in comparison.methods.values():
        result.seconds = 0.0012
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(render_table(comparison))
    return console.file.getvalue()


def test_scalar_table_exact_text():
    comparison = diffcli.compare("x**3", at="2", methods="symbolic,autograd")
    lines = [line.rstrip() for line in _text(comparison).splitlines()]
    assert lines == [
        "grad x**3  at x = 2",
        "  ∂f/∂x = 3*x**2",
        "method    value  abs error  rel error  digits      time  how",
        "─" * 95,
        "exact     12                                             SymPy, exact, 40 digits",
        "symbolic  12             0          0    full    1.2 ms  float64 value of the formula",
        "autograd  12             0          0    full    1.2 ms  "
        "cpu, float64, reverse: 1 backward pass",
        "✓ agree: 2 methods match the exact derivative within tolerance  (exit 0)",
    ]


def test_vector_table_shows_closed_form_and_entries():
    text = _text(diffcli.compare("2*dot(x, x)", at="x=arange(4)"))
    assert "∂f/∂x = 4*x   (matrix calculus)" in text
    assert "[0, 4, 8, 12]" in text


def test_kink_verdict_shows_both_sides():
    text = _text(diffcli.compare("abs(x)", at="0"))
    assert (
        "⚠ not differentiable: abs(x) is at its kink (its argument is 0); ∂f/∂x left -1, right 1"
        in text
    )
    assert "(exit 3)" in text


def test_higher_order_label():
    assert "d³f/dx³ = " in _text(diffcli.compare("x**4", at="1", order=3))


def test_jupyter_html():
    html = to_html(diffcli.compare("sin(x)", at="1"))
    assert "<html" in html.lower() and "autograd" in html
    assert diffcli.compare("sin(x)", at="1")._repr_html_().count("symbolic") >= 1


def test_latex_output(cli):
    result = cli("grad", "2*dot(x, x)", "--at", "x=arange(4)", "--format", "latex")
    assert result.exit_code == 0
    assert r"\frac{\partial f}{\partial x}" in result.output
    assert (
        r"4 x_{0}" in result.output
        and r"\begin{bmatrix} 0 \\ 4 \\ 8 \\ 12 \end{bmatrix}" in result.output
    )
    assert r"\begin{tabular}{lrrrr}" in result.output
    hessian = cli("hessian", "x**2*y", "--at", "x=1,y=2", "--format", "latex").output
    assert r"\[ H = " in hessian and r"\begin{bmatrix} 4 & 2 \\ 2 & 0 \end{bmatrix}" in hessian

"""LaTeX for slides and notes: the derivative's formula and value, and the methods' table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from diffcli.methods import HESSIAN
from diffcli.render.numbers import number, short

if TYPE_CHECKING:
    from diffcli.core.results import Comparison


def to_latex(comparison: Comparison) -> str:
    """A LaTeX fragment (amsmath): display equations, then a tabular of the methods."""
    problem = comparison.problem
    formulas = comparison.formulas_latex()
    exact = comparison.reference.value or {}
    point = ", ".join(f"{n} = {_value(np.array(v.nested()))}" for n, v in problem.point.items())
    lines = [f"% diffcli {comparison.command}: {comparison.expression}", f"% at {point}"]
    keys = [HESSIAN] if problem.command == "hessian" else list(problem.wrt)
    for key in keys:
        label = r"H" if key == HESSIAN else _partial(key, problem.order)
        parts = [label]
        if key in formulas:
            parts.append(formulas[key])
        if key in exact:
            parts.append(_value(comparison.in_layout(exact[key])))
        lines.append(r"\[ " + " = ".join(parts) + r" \]")
    lines.append(r"\begin{tabular}{lrrrr}")
    lines.append(r"method & abs.\ error & rel.\ error & digits & time \\ \hline")
    for result in comparison.methods.values():
        digits = "--" if result.digits is None else f"{result.digits:.1f}"
        lines.append(
            f"{result.name} & {short(result.abs_error)} & {short(result.rel_error)} & {digits} & "
            f"{result.seconds * 1e3:.2f} ms \\\\"
        )
    lines.append(r"\end{tabular}")
    lines.append(f"% verdict: {comparison.status} (exit {comparison.exit_code})")
    return "\n".join(lines)


def _partial(name: str, order: int) -> str:
    if order == 1:
        return rf"\frac{{\partial f}}{{\partial {name}}}"
    return rf"\frac{{d^{{{order}}} f}}{{d {name}^{{{order}}}}}"


def _value(values: np.ndarray) -> str:
    if values.ndim == 0:
        return number(float(values), 12)
    matrix = values.reshape(values.shape[0], -1) if values.ndim > 1 else values[:, None]
    rows = [" & ".join(number(float(v), 12) for v in row) for row in matrix]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"

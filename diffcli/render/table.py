"""The terminal view: the formula, one row per method against the exact value, a verdict.

Small matrices print as aligned grids; large results are summarised (shape, worst entry)
unless `full` is asked for. JSON always carries everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Group
from rich.text import Text

from diffcli.methods import HESSIAN
from diffcli.render.layout import Column, Fitted, hanging
from diffcli.render.numbers import array, duration, number, short

if TYPE_CHECKING:
    from diffcli.core.results import Comparison, MethodResult

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_MARK = {"agree": ("✓", "green"), "disagree": ("✗", "red"), "not differentiable": ("⚠", "yellow")}
_SHOWN_FORMULAS = 6
_GRID_LIMIT = 36  # entries beyond which a value is summarised unless full=True
_GRID_DIGITS = 8  # the error columns carry the full precision


def render_table(comparison: Comparison, full: bool = False) -> Group:
    """A rich renderable: print it, or let Jupyter show it."""
    parts: list[Any] = [_heading(comparison), *_formulas(comparison), *_shapes(comparison)]
    parts.append(_methods_table(comparison, full))
    parts.extend(_hessian_lines(comparison))
    parts.append(_verdict(comparison))
    parts.extend(Text(f"  note: {note}", style="dim") for note in comparison.notes)
    return Group(*hanging(parts))


def to_html(comparison: Comparison) -> str:
    from diffcli.render.console import html_of

    return html_of(render_table(comparison))


def heading(command: str, text: str, point: dict[str, Any], note: str = "") -> Text:
    """The first line of every view: the command, the expression, and the point."""
    shown = ", ".join(
        f"{name} = {array(np.array(value.nested()), 10)}" for name, value in point.items()
    )
    line = Text()
    line.append(f"{command} ", style="bold")
    line.append(text, style="bold cyan")
    line.append(f"  at {shown}{note}" if shown else note)
    return line


def _heading(comparison: Comparison) -> Text:
    return heading(comparison.command, comparison.parsed, comparison.problem.point)


def _label(comparison: Comparison, key: str) -> str:
    if key == HESSIAN:
        return "H"
    order = comparison.problem.order
    if order == 1:
        return f"∂f/∂{key}"
    power = str(order).translate(_SUPERSCRIPT)
    return f"d{power}f/d{key}{power}"


def _keys(comparison: Comparison) -> list[str]:
    return [HESSIAN] if comparison.problem.command == "hessian" else list(comparison.problem.wrt)


def _formulas(comparison: Comparison) -> list[Text]:
    symbolic = comparison.methods.get("symbolic")
    if symbolic is None or not symbolic.ok:
        return []
    formulas = symbolic.details.get("formula", {})
    lines = []
    for key in _keys(comparison):
        label = _label(comparison, key)
        if key in comparison.closed_form:
            lines.append(Text(f"  {label} = {comparison.closed_form[key]}   (matrix calculus)"))
            continue
        formula = formulas.get(key)
        if isinstance(formula, str):
            lines.append(Text(f"  {label} = {formula}"))
            continue
        grid = comparison.in_layout(np.array(formula, dtype=object))
        entries = list(np.ravel(grid))
        if len(entries) <= _SHOWN_FORMULAS:
            lines.append(Text(f"  {label} = {_nested_text(grid)}"))
        else:
            lines.append(Text(f"  {label}: {len(entries)} entries, a formula each (--format json)"))
    return lines


def _nested_text(grid: Any) -> str:
    if not isinstance(grid, np.ndarray):
        return str(grid)
    if grid.ndim == 0:
        return str(grid.item())
    return "[" + ", ".join(_nested_text(row) for row in grid) + "]"


def _shapes(comparison: Comparison) -> list[Text]:
    """What the axes of a Jacobian or Hessian mean, and which layout is shown."""
    problem = comparison.problem
    if problem.command == "hessian":
        names = ", ".join(problem.flat_variables())
        n = len(problem.flat_variables())
        return [Text(f"  H: ({n}, {n}) over the flattened variables ({names})", style="dim")]
    if problem.command != "jacobian":
        return []
    out = problem.output_shape
    lines = []
    for name in problem.wrt:
        var = problem.shape_of(name)
        if comparison.options.layout == "numerator":
            shape, meaning = out + var, f"{_dims(out, 'output')} × {_dims(var, 'input')}"
            layout = "numerator layout: outputs first, as torch's jacrev"
        else:
            shape, meaning = var + out, f"{_dims(var, 'input')} × {_dims(out, 'output')}"
            layout = "denominator layout: inputs first, as SymPy's matrix calculus"
        lines.append(Text(f"  ∂f/∂{name}: {shape} = {meaning}   ({layout})", style="dim"))
    return lines


def _dims(shape: tuple[int, ...], what: str) -> str:
    count = "×".join(map(str, shape)) if shape else "1"
    return f"{count} {what}{'s' if count != '1' else ''}"


_COLUMNS = (
    Column("method"),
    Column("value", own_line=2),
    Column("abs error", "right"),
    Column("rel error", "right"),
    Column("digits", "right"),
    # as wide as the widest duration ("123.4 ms"), so the layout does not move with timings
    Column("time", "right", min_width=8),
    Column("how", wraps=True, own_line=1, min_width=32),
)


def _methods_table(comparison: Comparison, full: bool) -> Fitted:
    table = Fitted(_COLUMNS)
    reference = comparison.reference
    if reference.value is not None:
        source = {"exact": "SymPy, exact, 40 digits"}.get(
            reference.source or "", f"{reference.source} estimate (no exact value)"
        )
        cell = _value_cell(comparison, reference.value, None, full)
        label = "exact" if reference.source == "exact" else "reference"
        table.add_row(label, cell, "", "", "", "", source, style="bold")
    for result in comparison.methods.values():
        table.add_row(*_method_row(comparison, result, full))
    return table


def _value_cell(
    comparison: Comparison,
    value: dict[str, np.ndarray] | None,
    reference: dict[str, np.ndarray] | None,
    full: bool,
) -> str:
    if value is None:
        return "-"
    keys = _keys(comparison)
    cells = []
    for key in keys:
        shown = comparison.in_layout(value[key])
        if shown.size > _GRID_LIMIT and not full:
            text = _summary(comparison, shown, reference, key)
        elif shown.ndim >= 2:
            text = _grid(shown)
        else:
            text = array(shown)
        cells.append(text if len(keys) == 1 else f"{key}: {text}")
    return "\n".join(cells)


def _grid(values: np.ndarray) -> str:
    """A matrix as aligned rows; more than two axes are flattened to (first, rest)."""
    matrix = values.reshape(values.shape[0], -1) if values.ndim > 2 else values
    cells = [[number(float(v), _GRID_DIGITS) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells)


def _summary(
    comparison: Comparison, shown: np.ndarray, reference: dict[str, np.ndarray] | None, key: str
) -> str:
    text = f"{shown.shape}, --full prints it"
    if reference is None:
        return text
    exact = comparison.in_layout(reference[key])
    with np.errstate(invalid="ignore"):
        errors = np.abs(shown - exact)
    if not np.all(np.isfinite(errors)):
        return f"{shown.shape}, not all finite"
    worst = np.unravel_index(int(np.argmax(errors)), errors.shape)
    return f"{shown.shape}, worst at [{', '.join(map(str, worst))}]"


def _method_row(comparison: Comparison, result: MethodResult, full: bool) -> list[Any]:
    if not result.ok:
        style = "dim" if result.by_design else "red"
        timed_out = (result.error or "").startswith("timed out")
        label = "n/a" if result.by_design else ("timed out" if timed_out else "failed")
        reason = Text(result.error or "", style=style)
        return [result.name, Text(label, style=style), "", "", "", duration(result.seconds), reason]
    style = "" if result.within or result.within is None else "red"
    if result.by_design:
        style = "yellow"
    digits = result.digits
    reference = comparison.reference.value
    return [
        result.name,
        Text(_value_cell(comparison, result.value, reference, full), style=style),
        short(result.abs_error),
        short(result.rel_error),
        "-" if digits is None else ("full" if digits >= 16.95 else f"{digits:.1f}"),
        duration(result.seconds),
        Text(_how(result)),
    ]


def _how(result: MethodResult) -> str:
    details = result.details
    if result.by_design:
        return "differs by design: " + result.by_design.split(":")[0]
    parts: list[str] = []
    if result.name == "numeric":
        parts = [
            f"{details['scheme']}, h={short(details['step'])}",
            f"est. ±{short(details['error_estimate'])}",
            f"{details['evaluations']} evals",
        ]
    elif result.name == "autograd":
        passes = details["passes"]
        kind = "backward" if details["mode"] == "reverse" else "forward"
        plural = "es" if passes != 1 else ""
        parts = [
            f"{details['device']}, {details['dtype']}",
            f"{details['mode']}: {passes} {kind} pass{plural}",
        ]
    else:
        parts = ["float64 value of the formula"]
    if "asymmetry" in details:
        parts.append(f"max|H-Hᵀ| {short(details['asymmetry'])}")
    return ", ".join(parts)


def _hessian_lines(comparison: Comparison) -> list[Text]:
    summary = comparison.hessian
    if summary is None:
        return []
    values = ", ".join(number(v, 6) for v in summary.eigenvalues)
    source = comparison.reference.source
    which = "the exact H" if source == "exact" else f"H as the {source} estimate gives it"
    return [Text(f"  eigenvalues of {which}: [{values}] → {summary.definiteness}")]


def _verdict(comparison: Comparison) -> Text:
    mark, style = _MARK[comparison.status]
    text = Text(f"{mark} {comparison.status}", style=f"bold {style}")
    counted = [r for r in comparison.methods.values() if r.by_design is None]
    if comparison.status == "agree":
        methods = f"{len(counted)} method{'s' * (len(counted) != 1)}"
        exact = comparison.reference.source == "exact"
        against = (
            "the exact derivative" if exact else f"the {comparison.reference.source} reference"
        )
        verb = "matches" if len(counted) == 1 else "match"
        text.append(f": {methods} {verb} {against} within tolerance")
    elif comparison.status == "disagree":
        off = [f"{r.name} ({_shortfall(r)})" for r in counted if not (r.ok and r.within)]
        if off:
            text.append(": " + ", ".join(off))
    else:
        kink = next(k for k in comparison.kinks if not k.differentiable)
        if kink.infinite:
            slopes = "; ".join(  # the exact values: a Hessian's, for hessian
                f"{_label(comparison, name)} = {array(value, 6)}"
                for name, value in kink.right.items()
            )
            text.append(f": {kink.where} has an infinite slope here ({slopes})")
            text.append(f"  (exit {comparison.exit_code})", style="dim")
            return text
        if kink.sampled is not None and len(kink.sampled.names) > 1:
            sides = f"subgradients: {kink.sampled.text('∇f')}"
        else:
            sides = "; ".join(
                f"{_label(comparison, name)} left {array(kink.left[name], 6)}, "
                f"right {array(kink.right[name], 6)}"
                for name in comparison.problem.wrt
            )
        text.append(f": {kink.where} is at its kink ({kink.condition}); {sides}")
    text.append(f"  (exit {comparison.exit_code})", style="dim")
    return text


def _shortfall(result: MethodResult) -> str:
    if not result.ok:
        return "failed"
    return f"rel error {short(result.rel_error)} > rtol {short(result.rtol)}"

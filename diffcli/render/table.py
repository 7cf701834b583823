"""The terminal view: the formula, one row per method against the exact value, a verdict."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from diffcli.render.numbers import array, short

if TYPE_CHECKING:
    from diffcli.comparison import Comparison, MethodResult

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_MARK = {"agree": ("✓", "green"), "disagree": ("✗", "red"), "not differentiable": ("⚠", "yellow")}
_SHOWN_ENTRIES = 6


def render_table(comparison: Comparison) -> Group:
    """A rich renderable: print it, or let Jupyter show it."""
    parts: list[Any] = [_heading(comparison), *_formulas(comparison)]
    parts.append(_methods_table(comparison))
    parts.append(_verdict(comparison))
    parts.extend(Text(f"  note: {note}", style="dim") for note in comparison.notes)
    return Group(*parts)


def to_html(comparison: Comparison) -> str:
    console = Console(record=True, file=io.StringIO(), width=110, color_system="truecolor")
    console.print(render_table(comparison))
    return console.export_html(inline_styles=True)


def _heading(comparison: Comparison) -> Text:
    problem = comparison.problem
    point = ", ".join(
        f"{name} = {array(np.array(value.nested()), 10)}" for name, value in problem.point.items()
    )
    text = Text()
    text.append(f"{comparison.command} ", style="bold")
    text.append(comparison.parsed, style="bold cyan")
    text.append(f"  at {point}")
    return text


def _derivative_name(comparison: Comparison, name: str) -> str:
    order = comparison.problem.order
    if order == 1:
        return f"∂f/∂{name}"
    power = str(order).translate(_SUPERSCRIPT)
    return f"d{power}f/d{name}{power}"


def _formulas(comparison: Comparison) -> list[Text]:
    symbolic = comparison.methods.get("symbolic")
    if symbolic is None or not symbolic.ok:
        return []
    formulas = symbolic.details.get("formula", {})
    closed = comparison.closed_form
    lines = []
    for name in comparison.problem.wrt:
        label = _derivative_name(comparison, name)
        if name in closed:
            lines.append(Text(f"  {label} = {closed[name]}   (matrix calculus)"))
            continue
        formula = formulas.get(name)
        if isinstance(formula, str):
            lines.append(Text(f"  {label} = {formula}"))
            continue
        entries = list(np.ravel(np.array(formula, dtype=object)))
        if len(entries) <= _SHOWN_ENTRIES:
            lines.append(Text(f"  {label} = [{', '.join(entries)}]"))
        else:
            lines.append(
                Text(f"  {label}: {len(entries)} entries, one formula each (see --format json)")
            )
    return lines


def _methods_table(comparison: Comparison) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column, justify in (
        ("method", "left"),
        ("value", "left"),
        ("abs error", "right"),
        ("rel error", "right"),
        ("digits", "right"),
        ("time", "right"),
        ("how", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    reference = comparison.reference
    if reference.value is not None:
        source = {"exact": "SymPy, exact, 40 digits"}.get(
            reference.source or "", f"{reference.source} estimate (no exact value)"
        )
        table.add_row(
            "exact", _value_cell(comparison, reference.value), "", "", "", "", source, style="bold"
        )
    for result in comparison.methods.values():
        table.add_row(*_method_row(comparison, result))
    return table


def _value_cell(comparison: Comparison, value: dict[str, np.ndarray] | None) -> str:
    if value is None:
        return "-"
    names = comparison.problem.wrt
    if len(names) == 1:
        return array(value[names[0]])
    return "\n".join(f"{name}: {array(value[name])}" for name in names)


def _method_row(comparison: Comparison, result: MethodResult) -> list[Any]:
    if not result.ok:
        return [
            result.name,
            Text("failed", style="red"),
            "",
            "",
            "",
            _time(result.seconds),
            Text(result.error or "", style="red"),
        ]
    style = "" if result.within or result.within is None else "red"
    if result.by_design:
        style = "yellow"
    digits = result.digits
    return [
        result.name,
        Text(_value_cell(comparison, result.value), style=style),
        short(result.abs_error),
        short(result.rel_error),
        "-" if digits is None else ("full" if digits >= 16.95 else f"{digits:.1f}"),
        _time(result.seconds),
        _how(result),
    ]


def _how(result: MethodResult) -> str:
    details = result.details
    if result.by_design:
        return "differs by design: " + result.by_design.split(":")[0]
    if result.name == "numeric":
        return (
            f"{details['scheme']}, h={short(details['step'])}, "
            f"est. ±{short(details['error_estimate'])}, {details['evaluations']} evals"
        )
    if result.name == "autograd":
        return f"{details['device']}, {details['dtype']}"
    return "float64 value of the formula"


def _time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _verdict(comparison: Comparison) -> Text:
    mark, style = _MARK[comparison.status]
    text = Text(f"{mark} {comparison.status}", style=f"bold {style}")
    counted = [r for r in comparison.methods.values() if r.by_design is None]
    if comparison.status == "agree":
        methods = f"{len(counted)} method{'s' * (len(counted) != 1)}"
        text.append(f": {methods} match the exact derivative within tolerance")
    elif comparison.status == "disagree":
        off = [f"{r.name} ({_shortfall(r)})" for r in counted if not (r.ok and r.within)]
        if off:
            text.append(": " + ", ".join(off))
    else:
        kink = next(k for k in comparison.kinks if not k.differentiable)
        sides = "; ".join(
            f"{_derivative_name(comparison, name)} left {array(kink.left[name], 6)}, "
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

"""The step-size study as a table with its Unicode plot, or as a JSON record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

from diffcli.render.layout import Column, Fitted, hanging
from diffcli.render.numbers import jsonable, short
from diffcli.render.plot import MARKERS, TextPlot, legend
from diffcli.render.table import heading

if TYPE_CHECKING:
    from diffcli.features.stepsize import StepStudy


def study_table(study: StepStudy) -> Group:
    problem = study.problem
    note = f"  ({study.dtype}; relative error against the exact value)"
    title = heading("stepsize", problem.text, problem.point, note)
    table = Fitted(
        [
            Column("step h", "right"),
            *(Column(f"{MARKERS[s.scheme]} {s.scheme}", "right") for s in study.sweeps),
        ]
    )
    for i, h in enumerate(study.steps):
        cells = []
        for sweep in study.sweeps:
            text = short(sweep.errors[i])
            best = h == sweep.best_step
            cells.append(Text(text, style="bold green" if best else ""))
        table.add_row(f"{h:.0e}" if i % 2 == 0 else f"{h:.1e}", *cells)
    summary = Fitted(
        [
            Column("scheme"),
            *(
                Column(name, "right")
                for name in ("order p", "best step", "best error", "auto step", "auto error")
            ),
        ]
    )
    for sweep in study.sweeps:
        summary.add_row(
            sweep.scheme,
            str(sweep.accuracy),
            short(sweep.best_step),
            short(sweep.best_error),
            short(sweep.auto_step),
            short(sweep.auto_error),
        )
    parts: list[Any] = [title, table, TextPlot(study), Text(legend(study)), summary]
    parts.append(Text(f"  why: {study.why()}"))
    parts.extend(
        Text(f"  {scheme} skipped: {reason}", style="dim")
        for scheme, reason in study.skipped.items()
    )
    return Group(*hanging(parts))


def study_record(study: StepStudy) -> dict[str, Any]:
    problem = study.problem
    return jsonable(
        {
            "command": "stepsize",
            "expression": problem.text,
            "variables": list(problem.wrt),
            "point": {n: v.nested() for n, v in problem.point.items()},
            "dtype": study.dtype,
            "exact": {n: v.tolist() for n, v in study.exact.items()},
            "steps": study.steps,
            "schemes": {
                s.scheme: {
                    "order": s.accuracy,
                    "errors": s.errors,
                    "best_step": s.best_step,
                    "best_error": s.best_error,
                    "auto_step": s.auto_step,
                    "auto_error": s.auto_error,
                }
                for s in study.sweeps
            },
            "skipped": study.skipped,
            "why": study.why(),
        }
    )

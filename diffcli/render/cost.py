"""The views of `diffcli cost`: one table per study with fitted exponents, or a JSON record."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from diffcli.render.layout import Column, Fitted, hanging
from diffcli.render.numbers import duration, size
from diffcli.teaching.cost import MEMORY, METHODS, CostStudy, Measurement, lesson


def cost_record(studies: list[CostStudy]) -> dict[str, Any]:
    """The JSON record: per study, each method's seconds, memory, status and exponent."""
    records = [
        {
            "expression": item.expression,
            "kind": item.kind,
            "sizes": item.sizes,
            "methods": {
                name: {
                    "seconds": [m.seconds for m in item.results[name]],
                    "memory_bytes": [m.memory for m in item.results[name]],
                    "status": [m.status for m in item.results[name]],
                    "runs": [m.runs for m in item.results[name]],
                    "exponent": item.exponent(name),
                    "fitted_sizes": item.fitted_sizes(name),
                    "seconds_at_1": item.overhead.get(name),
                    "law": item.law(name),
                }
                for name in METHODS
            },
        }
        for item in studies
    ]
    return {"command": "cost", "studies": records, "lesson": lesson(studies)}


def cost_views(studies: list[CostStudy], budget: float) -> list[Any]:
    """What the table format prints, in order: a table per study, the legend, the lesson."""
    views: list[Any] = []
    for item in studies:
        columns = [Column("n", "right")]
        columns += [Column(name, "right", wraps=True, breaks=" / ") for name in METHODS]
        table = Fitted(columns, title=f"{item.kind} of {item.expression} (time / memory)")
        for i, n in enumerate(item.sizes):
            cells = [
                f"{_time(item.results[m][i])} / {size(item.results[m][i].memory)}" for m in METHODS
            ]
            table.add_row(f"{n:,}", *cells)
        exponents = [item.exponent(m) for m in METHODS]
        table.add_row(
            "time ~ n^", *("-" if k is None else f"{k:.2f}" for k in exponents), style="bold"
        )
        views.append(table)
    memory = "; ".join(f"{name}: {what}" for name, what in MEMORY.items())
    views.append(
        Text(
            f"time: the fastest of at least two warm runs, torch on one thread. memory: {memory} "
            "(-: its traced run passed the budget). "
            f"over budget: given up after {budget:g} s; not run: its law from the size before "
            "says it would pass the budget; too large: a Jacobian of over 4,000,000 entries"
        )
    )
    views.extend(Text(f"  • {line}") for line in lesson(studies))
    return hanging(views)


def _time(measurement: Measurement) -> str:
    return measurement.status if measurement.seconds is None else duration(measurement.seconds)

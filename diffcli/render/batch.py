"""The views of `diffcli batch`: a CSV line per record, and the summary tables."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.text import Text

from diffcli.features.batch import Summary, status_of
from diffcli.render.layout import Column, Fitted, hanging

CSV_COLUMNS = (
    "row",
    "command",
    "expression",
    "status",
    "exit_code",
    "symbolic_rel_error",
    "numeric_rel_error",
    "autograd_rel_error",
    "seconds",
    "error",
)
STATUSES = ("agree", "disagree", "not differentiable", "failed")


def csv_line(record: dict[str, Any], header: bool = False) -> str:
    """One record as a CSV line (after the header line, for the first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    methods = record.get("methods", {})

    def rel(name: str) -> str:
        value = methods.get(name, {}).get("rel_error")
        if value is None:
            return ""
        return value if isinstance(value, str) else f"{value:.3g}"

    seconds = sum(m.get("seconds") or 0.0 for m in methods.values())
    writer.writerow(
        (
            record["row"],
            record.get("command", ""),
            record.get("expression", ""),
            status_of(record),
            record.get("exit_code", ""),
            rel("symbolic"),
            rel("numeric"),
            rel("autograd"),
            f"{seconds:.6f}",
            record.get("error", ""),
        )
    )
    return buffer.getvalue()


def summary_views(summary: Summary) -> list[Any]:
    """The counts by verdict, the slowest rows, and why each failing row failed."""
    counts = Fitted([Column(c, "right") for c in (*STATUSES, "rows")], title="batch summary")
    total = sum(summary.counts.values())
    counts.add_row(*(str(summary.counts.get(c, 0)) for c in STATUSES), str(total))
    slow = Fitted(
        [Column("row", "right"), Column("seconds", "right"), Column("expression", wraps=True)],
        title="slowest rows",
    )
    for seconds, row, expression in summary.slowest:
        slow.add_row(str(row), f"{seconds:.3f}", expression)
    failures = [Text(f"  row {row}: {why}") for row, why in summary.failures]
    return hanging([counts, slow, *failures])

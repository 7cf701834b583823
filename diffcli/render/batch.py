"""The views of `diffcli batch`: a CSV line per record, and the summary tables."""

from __future__ import annotations

import csv
import io
from typing import Any

from diffcli.features.batch import Summary, status_of

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
    from rich.table import Table

    counts = Table(title="batch summary", title_justify="left")
    for column in (*STATUSES, "rows"):
        counts.add_column(column, justify="right")
    total = sum(summary.counts.values())
    counts.add_row(*(str(summary.counts.get(c, 0)) for c in STATUSES), str(total))
    slow = Table(title="slowest rows", title_justify="left")
    for column in ("row", "seconds", "expression"):
        slow.add_column(column)
    for seconds, row, expression in summary.slowest:
        slow.add_row(str(row), f"{seconds:.3f}", expression)
    return [counts, slow, *(f"  row {row}: {why}" for row, why in summary.failures)]

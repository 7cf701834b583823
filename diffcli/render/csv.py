"""CSV: one row per method and derivative entry (long format), for spreadsheets and pandas."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import numpy as np

from diffcli.lang.point import component_names
from diffcli.render.numbers import number

if TYPE_CHECKING:
    from diffcli.comparison import Comparison

COLUMNS = (
    "expression",
    "variable",
    "entry",
    "method",
    "value",
    "reference",
    "abs_error",
    "ok",
    "within_tolerance",
    "seconds",
    "status",
)


def to_csv(comparison: Comparison, header: bool = True) -> str:
    """The rows as CSV text (with a header row unless asked not to)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    reference = comparison.reference.value or {}
    for name in comparison.problem.wrt:
        for method in comparison.methods.values():
            values = method.value[name] if method.value is not None else None
            ref = reference.get(name)
            shape = ref.shape if ref is not None else (values.shape if values is not None else ())
            for index, entry in zip(np.ndindex(shape), _entries(name, shape)):
                value = float(values[index]) if values is not None else None
                exact = float(ref[index]) if ref is not None else None
                error = abs(value - exact) if value is not None and exact is not None else None
                writer.writerow(
                    (
                        comparison.expression,
                        name,
                        entry,
                        method.name,
                        _cell(value),
                        _cell(exact),
                        _cell(error),
                        method.ok,
                        method.within,
                        f"{method.seconds:.6f}",
                        comparison.status,
                    )
                )
    return buffer.getvalue()


def _entries(name: str, shape: tuple[int, ...]) -> list[str]:
    return component_names(name, shape) if shape else [name]


def _cell(value: float | None) -> str:
    return "" if value is None else number(value)

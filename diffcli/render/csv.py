"""CSV: one row per method and derivative entry (long format), for spreadsheets and pandas."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import numpy as np

from diffcli.methods import HESSIAN
from diffcli.render.numbers import number

if TYPE_CHECKING:
    from diffcli.core.results import Comparison

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
    keys = list(reference) or next(
        (list(m.value) for m in comparison.methods.values() if m.value is not None), []
    )
    for key in keys:
        exact = comparison.in_layout(reference[key]) if key in reference else None
        for method in comparison.methods.values():
            values = comparison.in_layout(method.value[key]) if method.value is not None else None
            shape = (
                exact.shape if exact is not None else (values.shape if values is not None else ())
            )
            for index in np.ndindex(shape):
                value = float(values[index]) if values is not None else None
                ref = float(exact[index]) if exact is not None else None
                error = abs(value - ref) if value is not None and ref is not None else None
                writer.writerow(
                    (
                        comparison.expression,
                        key,
                        entry_name(comparison, key, index),
                        method.name,
                        _cell(value),
                        _cell(ref),
                        _cell(error),
                        method.ok,
                        method.within,
                        f"{method.seconds:.6f}",
                        comparison.status,
                    )
                )
    return buffer.getvalue()


def entry_name(comparison: Comparison, key: str, index: tuple[int, ...]) -> str:
    """x, x[1], J[2,0] for a Jacobian entry, H[x,y] for a Hessian entry."""
    if key == HESSIAN:
        flat = comparison.problem.flat_variables()
        return f"H[{flat[index[0]]},{flat[index[1]]}]"
    return f"{key}[{','.join(map(str, index))}]" if index else key


def _cell(value: float | None) -> str:
    return "" if value is None else number(value)

"""How numbers and arrays are written, shared by every renderer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def number(value: float, digits: int = 17) -> str:
    """Shortest text that reads back as the same float64 (up to `digits` significant)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(float(value)) if digits >= 17 else f"{value:.{digits}g}"
    return text


def short(value: float | None) -> str:
    """An error or time in 2 significant digits: 3.1e-11."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if math.isnan(value) or math.isinf(value):
        return number(value)
    return f"{value:.2g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.1e}"


def duration(seconds: float) -> str:
    """A time as people read it: 850 µs, 12.3 ms, 1.25 s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def size(count: int | None) -> str:
    """A byte count in B, KiB, MiB or GiB ("-" when unknown)."""
    from diffcli.core.resources import byte_size

    return "-" if count is None else byte_size(count)


def array(values: np.ndarray, digits: int = 17, limit: int = 8) -> str:
    """A vector or matrix in brackets; long ones shortened with an ellipsis."""
    if values.ndim == 0:
        return number(float(values), digits)
    if values.shape[0] > limit:
        head = [array(v, digits, limit) for v in values[: limit // 2]]
        tail = [array(v, digits, limit) for v in values[-2:]]
        return "[" + ", ".join([*head, "…", *tail]) + "]"
    return "[" + ", ".join(array(v, digits, limit) for v in values) + "]"


def jsonable(value: Any) -> Any:
    """Nested lists of floats, with non-finite numbers as the strings nan, inf, -inf."""
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else number(v)
    if isinstance(value, np.integer):
        return int(value)
    return value

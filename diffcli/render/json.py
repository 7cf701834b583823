"""The JSON record of a comparison, exactly as CONTRACT.md describes it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from diffcli.render.numbers import jsonable

if TYPE_CHECKING:
    from diffcli.comparison import Comparison, MethodResult


def to_record(comparison: Comparison) -> dict[str, Any]:
    """A dict of plain JSON values (strict: non-finite numbers are strings)."""
    problem = comparison.problem
    reference = comparison.reference
    record: dict[str, Any] = {
        "command": comparison.command,
        "expression": comparison.expression,
        "parsed": comparison.parsed,
        "variables": list(problem.wrt),
        "point": {name: value.nested() for name, value in problem.point.items()},
        "reference": {
            "source": reference.source,
            "value": _value(reference.value),
        },
        "methods": {name: _method(result) for name, result in comparison.methods.items()},
        "agree": comparison.agree,
        "status": comparison.status,
        "exit_code": comparison.exit_code,
        "notes": list(comparison.notes),
    }
    if problem.order > 1:
        record["order"] = problem.order
    if comparison.kinks:
        record["kinks"] = [
            {
                "where": kink.where,
                "op": kink.op,
                "condition": kink.condition,
                "differentiable": kink.differentiable,
                "left": _value(kink.left),
                "right": _value(kink.right),
            }
            for kink in comparison.kinks
        ]
    return jsonable(record)


def _value(value: dict[str, Any] | None) -> Any:
    return None if value is None else {name: v.tolist() for name, v in value.items()}


def _method(result: MethodResult) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": result.ok, "value": _value(result.value)}
    out.update(result.details)
    out.update(
        {
            "abs_error": result.abs_error,
            "rel_error": result.rel_error,
            "within_tolerance": result.within,
            "rtol": result.rtol,
            "atol": result.atol,
            "seconds": round(result.seconds, 6),
            "error": result.error,
        }
    )
    if result.by_design:
        out["differs_by_design"] = result.by_design
    return out


def dumps(comparison: Comparison, indent: int | None = 2) -> str:
    """Strict JSON text: NaN and Infinity never appear as bare tokens."""
    return json.dumps(to_record(comparison), indent=indent, allow_nan=False)

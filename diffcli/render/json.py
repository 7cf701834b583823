"""The JSON record of a comparison, as docs/json.md describes it and the JSON Schema shipped
in the package (schema/comparison.schema.json, `schema()`) defines it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from diffcli.methods import HESSIAN
from diffcli.render.numbers import jsonable

if TYPE_CHECKING:
    from diffcli.core.results import Comparison, Kink, MethodResult


def to_record(comparison: Comparison) -> dict[str, Any]:
    """A dict of plain JSON values (strict: non-finite numbers are strings)."""
    problem = comparison.problem
    reference = comparison.reference
    shown = _shown(comparison)
    record: dict[str, Any] = {
        "command": comparison.command,
        "expression": comparison.expression,
        "parsed": comparison.parsed,
        "variables": list(problem.wrt),
        "point": {name: value.nested() for name, value in problem.point.items()},
        "reference": {"source": reference.source, "value": shown(reference.value)},
        "methods": {
            name: _method(result, shown(result.value), comparison)
            for name, result in comparison.methods.items()
        },
        "agree": comparison.agree,
        "status": comparison.status,
        "exit_code": comparison.exit_code,
        "notes": list(comparison.notes),
    }
    if problem.command == "jacobian":
        record["layout"] = comparison.options.layout
        record["shapes"] = {
            name: list(
                comparison.in_layout(np.empty(problem.output_shape + problem.shape_of(name))).shape
            )
            for name in problem.wrt
        }
    if problem.command == "hessian":
        record["flat_variables"] = problem.flat_variables()
        if comparison.hessian is not None:
            record["eigenvalues"] = comparison.hessian.eigenvalues
            record["definiteness"] = comparison.hessian.definiteness
    if problem.order > 1:
        record["order"] = problem.order
    if comparison.kinks:
        record["kinks"] = [
            {
                "where": kink.where,
                "op": kink.op,
                "condition": kink.condition,
                "differentiable": kink.differentiable,
                "left": shown(kink.left),
                "right": shown(kink.right),
                "jump": kink.jump,
                "infinite_slope": kink.infinite,
                "subgradient": _subgradient(kink),
            }
            for kink in comparison.kinks
        ]
    return jsonable(record)


def _subgradient(kink: Kink) -> dict[str, Any] | None:
    """The set with its shape (interval, box, ball, hull) where it was sampled; else, for
    a vector output, each entry's interval between its one-sided derivatives."""
    if kink.sampled is not None:
        return kink.sampled.record()
    bounds = kink.subgradient()
    if bounds is None:
        return None
    return {
        "shape": "entrywise",
        "low": {name: lo.tolist() for name, (lo, _) in bounds.items()},
        "high": {name: hi.tolist() for name, (_, hi) in bounds.items()},
    }


def _shown(comparison: Comparison) -> Callable[[dict[str, np.ndarray] | None], Any]:
    """Values as docs/json.md writes them: per variable in the chosen layout; the Hessian bare."""

    def shown(value: dict[str, np.ndarray] | None) -> Any:
        if value is None:
            return None
        if comparison.problem.command == "hessian" and HESSIAN in value:
            return value[HESSIAN].tolist()
        return {name: comparison.in_layout(v).tolist() for name, v in value.items()}

    return shown


def _method(result: MethodResult, value: Any, comparison: Comparison) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": result.ok, "value": value}
    out.update(result.details)
    formulas = result.details.get("formula")
    if isinstance(formulas, dict):  # entry by entry, in the layout the values are shown in
        out["formula"] = {
            name: formula
            if isinstance(formula, str)
            else comparison.in_layout(np.array(formula, dtype=object)).tolist()
            for name, formula in formulas.items()
        }
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


def schema() -> dict[str, Any]:
    """The JSON Schema of a comparison record and of a batch line."""
    from importlib.resources import files

    return json.loads(files("diffcli").joinpath("schema/comparison.schema.json").read_text())

"""Where an operation of the expression sits exactly on its kink at the point (abs at 0,
max at a tie), decided in exact arithmetic with SymPy, for the verdict's kink check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from diffcli.core.problem import Problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, Expr, Var, is_stop, walk
from diffcli.methods.symbolic import SympyBackend


@dataclass(frozen=True)
class KinkSite:
    """A place where an operation of the expression sits exactly on its kink at the point."""

    op: str
    text_span: tuple[int, int]
    condition: str


def kink_sites(problem: Problem) -> list[KinkSite]:
    """Operations whose arguments are exactly at their kink, and that depend on a wrt variable."""
    candidates = [
        node for node in walk(problem.expr) if isinstance(node, Call) and node.op and node.op.kink
    ]
    if not candidates:
        return []
    leaves = {name: _exact_array(value.flat, value.shape) for name, value in problem.point.items()}
    exact: dict[int, Any] = {}
    evaluate(
        problem.expr, leaves, SympyBackend(), lambda node, value: exact.__setitem__(id(node), value)
    )
    sites = []
    for node in candidates:
        assert isinstance(node, Call) and node.op is not None and node.op.kink is not None
        if not _depends_on(node, set(problem.wrt)):
            continue
        args = [exact[id(arg)] for arg in node.args]
        if _at_kink(node.op.kink, args):
            sites.append(KinkSite(node.op.name, node.span, node.op.kink))
    return sites


def _exact_array(flat: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    values = [sp.Rational(v.numerator, v.denominator) for v in flat]
    if not shape:
        return values[0]
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr.reshape(shape)


def _depends_on(node: Expr, names: set[str]) -> bool:
    """Whether a derivative flows from the named variables into node (not through a stop)."""
    stack = [node]
    while stack:
        sub = stack.pop()
        if is_stop(sub):
            continue
        if isinstance(sub, Var) and sub.name in names:
            return True
        stack.extend(sub.children)
    return False


def _is_zero(value: Any) -> bool:
    if not isinstance(value, sp.Basic):
        return bool(value == 0)
    if value.is_zero is not None:
        return bool(value.is_zero)
    return abs(complex(value.evalf(30))) < 1e-25


def _not_positive(value: Any) -> bool:
    if not isinstance(value, sp.Basic):
        return bool(value <= 0)
    if value.is_nonpositive is not None:
        return bool(value.is_nonpositive)
    return _is_zero(value) or float(sp.re(value.evalf(30))) < 0


def _pairs(args: list[Any]) -> list[tuple[Any, Any]]:
    a, b = np.broadcast_arrays(np.asarray(args[0], dtype=object), np.asarray(args[1], dtype=object))
    return list(zip(np.ravel(a), np.ravel(b)))


def _entries(value: Any) -> list[Any]:
    return list(np.ravel(np.asarray(value, dtype=object)))


_KINK_TESTS: dict[str, Callable[[list[Any]], bool]] = {
    "zero": lambda args: any(_is_zero(v) for v in _entries(args[0])),
    "any_zero": lambda args: any(_is_zero(v) for v in _entries(args[0])),
    "all_zero": lambda args: all(_is_zero(v) for v in _entries(args[0])),
    "equal": lambda args: any(_is_zero(a - b) for a, b in _pairs(args)),
    "both_zero": lambda args: any(_is_zero(a) and _is_zero(b) for a, b in _pairs(args)),
    "cut": lambda args: any(_is_zero(a) and _not_positive(b) for a, b in _pairs(args)),
}


def _at_kink(kind: str, args: list[Any]) -> bool:
    return _KINK_TESTS[kind](args)

"""One walk over the tree for every engine: the engine supplies leaves and its kit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from diffcli.lang.expr import Call, Const, Expr, Index, ListLit, Num, Var, normalized_indices, walk


class Backend(Protocol):
    """What an engine provides to evaluate a tree: its kit, numbers, and stacking."""

    kit: Any
    form: str  # which form of an Op row to use: "numpy", "torch", "sympy" or "matrix"

    def number(self, node: Num | Const) -> Any: ...

    def stack(self, items: list[Any]) -> Any: ...


def evaluate(
    expr: Expr,
    leaves: dict[str, Any],
    backend: Backend,
    visit: Callable[[Expr, Any], None] | None = None,
) -> Any:
    """Value of `expr` with variables bound to `leaves`; `visit` sees every node's value."""
    values: dict[int, Any] = {}
    for node in walk(expr):
        value = _value(node, values, leaves, backend)
        values[id(node)] = value
        if visit is not None:
            visit(node, value)
    return values[id(expr)]


def _value(node: Expr, values: dict[int, Any], leaves: dict[str, Any], backend: Backend) -> Any:
    if isinstance(node, Var):
        return leaves[node.name]
    if isinstance(node, (Num, Const)):
        return backend.number(node)
    if isinstance(node, Call):
        assert node.op is not None
        form = getattr(node.op, backend.form)
        if form is None:
            raise NotImplementedError(f"{node.op.name} has no {backend.form} form")
        return form(backend.kit, *(values[id(arg)] for arg in node.args))
    if isinstance(node, Index):
        assert node.base is not None
        return values[id(node.base)][normalized_indices(node)]
    if isinstance(node, ListLit):
        return backend.stack([values[id(item)] for item in node.items])
    raise TypeError(f"unknown node {node!r}")

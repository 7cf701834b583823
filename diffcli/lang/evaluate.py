"""One walk over the tree for every engine: the engine supplies leaves and its kit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from diffcli.lang.expr import Call, Const, Expr, Index, ListLit, Num, Var, normalized_indices, walk


class Backend(Protocol):
    """What an engine provides to evaluate a tree: its kit, numbers, indexing and stacking."""

    kit: Any
    form: str  # which form of an Op row to use: "numpy", "torch", "sympy" or "matrix"
    # nodes whose value is given rather than computed, by id: finite differences hold
    # each stop_gradient at its value at the unperturbed point (what detach means)
    held: dict[int, Any]

    def number(self, node: Num | Const) -> Any: ...

    def index(self, value: Any, indices: tuple[int, ...]) -> Any: ...

    def stack(self, items: list[Any]) -> Any: ...


# A plan is the tree in evaluation order, each node with the positions of its arguments
# and of the values it is the last to use; it is made once per tree, since finite
# differences evaluate the same tree many times.
Plan = list[tuple[Expr, tuple[int, ...], tuple[int, ...]]]
_PLANS: dict[int, tuple[Expr, Plan]] = {}


def plan_of(expr: Expr) -> Plan:
    cached = _PLANS.get(id(expr))
    if cached is not None and cached[0] is expr:
        return cached[1]
    order = walk(expr)
    position = {id(node): i for i, node in enumerate(order)}
    arguments = [tuple(position[id(c)] for c in node.children) for node in order]
    last_use = {i: user for user, args in enumerate(arguments) for i in args}
    plan = [
        (node, args, tuple(sorted({i for i in args if last_use[i] == user})))
        for user, (node, args) in enumerate(zip(order, arguments))
    ]
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(expr)] = (expr, plan)
    return plan


def evaluate(
    expr: Expr,
    leaves: dict[str, Any],
    backend: Backend,
    visit: Callable[[Expr, Any], None] | None = None,
) -> Any:
    """Value of `expr` with variables bound to `leaves`; `visit` sees every node's value.
    A value is let go once the last node that uses it is computed: over arrays of points
    the working memory is then the tree's widest level, not all of its nodes."""
    values: list[Any] = []
    kit = backend.kit
    held = backend.held
    for node, args, used_up in plan_of(expr):
        if held and id(node) in held:
            value = held[id(node)]
        elif isinstance(node, Call):
            form = getattr(node.op, backend.form)
            if form is None:
                raise NotImplementedError(f"{node.op.name} has no {backend.form} form")
            value = form(kit, *(values[i] for i in args))
        elif isinstance(node, Var):
            value = leaves[node.name]
        elif isinstance(node, (Num, Const)):
            value = backend.number(node)
        elif isinstance(node, Index):
            value = backend.index(values[args[0]], normalized_indices(node))
        elif isinstance(node, ListLit):
            value = backend.stack([values[i] for i in args])
        else:
            raise TypeError(f"unknown node {node!r}")
        values.append(value)
        for i in used_up:
            values[i] = None
        if visit is not None:
            visit(node, value)
    return values[-1]

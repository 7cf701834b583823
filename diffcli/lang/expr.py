"""The expression tree every method starts from: nodes, their spans in the text, and shapes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from diffcli.core.errors import ShapeError
from diffcli.lang.types import Shape, Span

if TYPE_CHECKING:
    from diffcli.lang.ops import Op


@dataclass(frozen=True)
class Expr:
    """Base of all nodes. `shape` is None until `infer_shapes` has run."""

    span: Span = field(compare=False)
    shape: Shape | None = field(default=None, compare=False)

    @property
    def children(self) -> tuple[Expr, ...]:
        return ()


@dataclass(frozen=True)
class Num(Expr):
    """A number literal, kept exact (0.1 is 1/10) for the high-precision reference."""

    value: Fraction = Fraction(0)
    text: str = "0"


@dataclass(frozen=True)
class Const(Expr):
    """A named mathematical constant: pi or e."""

    name: str = "pi"


@dataclass(frozen=True)
class Var(Expr):
    """A variable; its shape comes from its value in the point."""

    name: str = "x"


@dataclass(frozen=True)
class Call(Expr):
    """An operation of the operator table applied to arguments (operators included)."""

    op: Op | None = None
    args: tuple[Expr, ...] = ()

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(frozen=True)
class Index(Expr):
    """Integer indexing with NumPy meaning: x[0], x[-1], A[0, 1], A[0] (a row)."""

    base: Expr | None = None
    indices: tuple[int, ...] = ()

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.base,) if self.base is not None else ()


@dataclass(frozen=True)
class ListLit(Expr):
    """A list literal [a, b, ...]: its items stacked along a new first axis."""

    items: tuple[Expr, ...] = ()

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.items


def variables_of(expr: Expr) -> list[str]:
    """Variable names in order of first appearance (left to right)."""
    seen: dict[str, None] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Var):
            seen.setdefault(node.name, None)
        stack.extend(reversed(node.children))
    return list(seen)


def walk(expr: Expr) -> list[Expr]:
    """Every node once, children before parents (evaluation order)."""
    order: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.children))
    return order


def is_stop(node: Expr) -> bool:
    """Whether node is a stop_gradient (detach): a value without a derivative."""
    return isinstance(node, Call) and node.op is not None and node.op.name == "stop_gradient"


def stops_in(expr: Expr | None) -> list[Expr]:
    """The stop_gradient calls of a tree (none for a --python function's missing tree)."""
    return [] if expr is None else [node for node in walk(expr) if is_stop(node)]


def infer_shapes(expr: Expr, shapes: dict[str, Shape], text: str) -> Expr:
    """Return the tree with every node's shape filled in, or raise ShapeError at the culprit."""
    done: dict[int, Expr] = {}
    for node in walk(expr):
        kids = tuple(done[id(child)] for child in node.children)
        done[id(node)] = _typed(node, kids, shapes, text)
    return done[id(expr)]


def _typed(node: Expr, kids: tuple[Expr, ...], shapes: dict[str, Shape], text: str) -> Expr:
    if isinstance(node, (Num, Const)):
        return replace(node, shape=())
    if isinstance(node, Var):
        return replace(node, shape=shapes[node.name])
    if isinstance(node, Call):
        assert node.op is not None
        arg_shapes = [kid.shape for kid in kids]
        try:
            shape = node.op.shape(arg_shapes)
        except ValueError as problem:
            raise ShapeError(f"{node.op.spelling}: {problem}", text, *node.span) from None
        return replace(node, args=kids, shape=shape)
    if isinstance(node, Index):
        return replace(node, base=kids[0], shape=_index_shape(node, kids[0].shape, text))
    if isinstance(node, ListLit):
        first = kids[0].shape
        for kid in kids[1:]:
            if kid.shape != first:
                raise ShapeError(
                    f"list items must all have one shape: {first} and {kid.shape}",
                    text,
                    *kid.span,
                )
        return replace(node, items=kids, shape=(len(kids), *first))
    raise TypeError(f"unknown node {node!r}")


def _index_shape(node: Index, base: Shape, text: str) -> Shape:
    if len(node.indices) > len(base):
        raise ShapeError(
            f"too many indices: {len(node.indices)} for an array of shape {base}", text, *node.span
        )
    for axis, i in enumerate(node.indices):
        if not -base[axis] <= i < base[axis]:
            raise ShapeError(
                f"index {i} is out of range for axis {axis} of length {base[axis]}",
                text,
                *node.span,
            )
    return base[len(node.indices) :]


def normalized_indices(node: Index) -> tuple[int, ...]:
    """The indices with negative ones counted from the end, as NumPy does."""
    assert node.base is not None and node.base.shape is not None
    return tuple(i % n for i, n in zip(node.indices, node.base.shape))

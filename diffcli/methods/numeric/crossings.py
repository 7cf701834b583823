"""Where f's kinks (abs at 0, max at a tie, ...) lie among a grid's points, in float64.

A grid runs each method on arrays of points, where kinks.py's exact check, one point at
a time in SymPy, would cost more than the methods. Here f is evaluated with NumPy and
each kink operation's arguments are read off:

- at a point where an argument sits exactly on its kink, f is not differentiable and the
  methods' conventions differ (torch's relu'(0) = 0, SymPy's Heaviside(0) = 1/2): the
  grid leaves such points out of every method's errors, and says so;
- a finite-difference stencil whose ends (or either end and its centre) lie on opposite
  sides of a kink differences across it, and its value is neither side's derivative:
  along() settles the step at such points, as at a single point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffcli.core.problem import Problem, per_problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, Expr, Var, is_stop, walk
from diffcli.lang.ops import KINKS
from diffcli.methods.numeric.kit import NumpyBackend, leaves


@dataclass(frozen=True)
class Kink:
    """An operation of f that has a kink and that the variable reaches (not through a
    stop_gradient): its node, and how to name it in a note."""

    node: Call
    kind: str  # which kink (lang/ops.py's KINKS): zero, equal, ...
    text: str  # as the user wrote it, e.g. relu(x - 0.1)
    condition: str  # e.g. its argument is 0


@per_problem
def kinks_of(problem: Problem, name: str) -> tuple[Kink, ...]:
    """f's kink operations that the variable `name` reaches, not through a stop_gradient
    (one inside a stop has no derivative to spoil); one walk up the tree, one down."""
    if problem.expr is None:  # a --python function cannot be read
        return []
    reaches: dict[int, bool] = {}
    for node in walk(problem.expr):  # each node after its children
        reaches[id(node)] = not is_stop(node) and (
            (isinstance(node, Var) and node.name == name)
            or any(reaches[id(child)] for child in node.children)
        )
    found, stack = [], [problem.expr]
    while stack:
        node = stack.pop()
        if not reaches[id(node)]:
            continue
        if isinstance(node, Call) and node.op is not None and node.op.kink is not None:
            text = problem.text[node.span[0] : node.span[1]]
            found.append(Kink(node, node.op.kink, text, KINKS[node.op.kink]))
        stack.extend(node.children)
    return tuple(found[::-1])


def on_kink(
    problem: Problem, name: str, kinks: tuple[Kink, ...], xs: np.ndarray
) -> list[np.ndarray]:
    """For each kink, where it sits exactly on it at the points xs."""
    arguments = _arguments(problem, name, kinks, xs)
    return [_RULES[kink.kind].on(args, xs.size) for kink, args in zip(kinks, arguments)]


def crossed(
    problem: Problem, name: str, kinks: tuple[Kink, ...], xs: np.ndarray, reach: np.ndarray
) -> np.ndarray:
    """Points whose stencil, `reach` either side of xs, reaches a kink: one is on it, or
    on the other side of it, at an end or at the centre."""
    ends = (xs - reach, xs, xs + reach)
    low, centre, high = (_arguments(problem, name, kinks, at) for at in ends)
    reached = np.zeros(xs.size, dtype=bool)
    for kink, a, b, c in zip(kinks, low, centre, high):
        rule = _RULES[kink.kind]
        reached |= rule.crossed(a, b, xs.size) | rule.crossed(b, c, xs.size)
    return reached


def _arguments(
    problem: Problem, name: str, kinks: tuple[Kink, ...], xs: np.ndarray
) -> list[list[np.ndarray]]:
    """Each kink's arguments at the points xs (axis 0: the points, or one for all): their
    subtrees alone, a fraction of f (relu(x)'s is x itself)."""
    values = leaves(problem, np.float64)
    values[name] = xs
    backend = NumpyBackend(np.float64)
    with np.errstate(all="ignore"):
        return [
            [np.asarray(evaluate(argument, values, backend)) for argument in kink.node.children]
            for kink in kinks
        ]


@dataclass(frozen=True)
class _Rule:
    """How a kind of kink is found among the points: which quantities (entry by entry)
    are at the kink where 0, and whether any entry or every entry decides."""

    quantities: Callable[[list[np.ndarray]], list[np.ndarray]]
    every: bool  # all_zero, both_zero, cut: the kink needs every quantity at 0

    def on(self, args: list[np.ndarray], n: int) -> np.ndarray:
        with np.errstate(all="ignore"):  # inf - inf: nan, on no kink
            return self._decide([q == 0 for q in self.quantities(args)], n)

    def crossed(self, before: list[np.ndarray], after: list[np.ndarray], n: int) -> np.ndarray:
        """Where the quantities are 0 at either end, or of opposite signs: a kink between."""
        with np.errstate(all="ignore"):
            tests = [
                np.sign(a) * np.sign(b) <= 0
                for a, b in zip(self.quantities(before), self.quantities(after))
            ]
        return self._decide(tests, n)

    def _decide(self, tests: list[np.ndarray], n: int) -> np.ndarray:
        combine = np.logical_and if self.every else np.logical_or
        decided = None
        for test in tests:
            per_point = _per_point(test, n, np.all if self.every else np.any)
            decided = per_point if decided is None else combine(decided, per_point)
        assert decided is not None
        return decided


def _per_point(test: np.ndarray, n: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """A test per point: a vector argument's entries (past axis 0) reduced, and a test
    the same at every point (a batch of one) spread over the n points."""
    per_point = reduce(test.reshape(test.shape[0], -1), axis=1) if test.ndim > 1 else test
    return np.broadcast_to(per_point, (n,))


_RULES = {
    "zero": _Rule(lambda args: [args[0]], every=False),
    "any_zero": _Rule(lambda args: [args[0]], every=False),
    "all_zero": _Rule(lambda args: [args[0]], every=True),
    "equal": _Rule(lambda args: [np.subtract(args[0], args[1])], every=False),
    "both_zero": _Rule(lambda args: [args[0], args[1]], every=True),
    # atan2(y, x): y at 0 where x is 0 or negative; crossed where y changes sign there
    "cut": _Rule(lambda args: [args[0], np.maximum(args[1], 0.0)], every=True),
}


def kinks_crossed(problem: Problem, step: float) -> list[Expr]:
    """The kink operations (abs, max, ...) whose argument changes sign, or whose arguments
    swap order, between the point and points `step` away along one entry of a wrt variable,
    without being on the kink at the point (abs(sin(x)) at the float nearest pi, abs(x) at
    1e-300): a stencil that wide averages the two sides of a kink the point is not on."""
    if problem.expr is None:
        return []
    watched = [n for n in walk(problem.expr) if isinstance(n, Call) and n.op and n.op.kink]
    if not watched:
        return []
    batch, _ = _moved(problem, step)
    arguments: dict[int, list[Any]] = {}
    with np.errstate(all="ignore"):
        evaluate(
            problem.expr, batch, NumpyBackend(np.float64), _argument_keeper(watched, arguments)
        )
    return [node for node in watched if _crossed(node, arguments.get(id(node), []))]


def edges_reached(problem: Problem, step: float) -> list[str]:
    """The moves of one entry of a wrt variable by `step` either way (x - h, v[1] + h)
    where f is not finite, though it is at the point: a central difference there reaches
    past the edge of f's domain (x**1.5 at 0, whose f(-h) is nan), or of float64's range."""
    if problem.expr is None:
        return []
    batch, moves = _moved(problem, step)
    with np.errstate(all="ignore"):
        values = np.asarray(evaluate(problem.expr, batch, NumpyBackend(np.float64)))
    finite = np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    if not finite[0]:
        return []
    return [move for move, ok in zip(moves, finite[1:]) if not ok]


def _moved(problem: Problem, step: float) -> tuple[dict[str, np.ndarray], list[str]]:
    """A batch of the point (row 0) and the points `step` either side of it along each
    entry of each wrt variable, and each moved row's name (x - h, v[1] + h)."""
    from diffcli.lang.point import component_names

    base = leaves(problem, np.float64)
    rows: dict[str, list[np.ndarray]] = {name: [] for name in base}
    moves = []
    for name in problem.wrt:
        labels = component_names(name, problem.shape_of(name))
        for j in range(base[name][0].size):
            for side in (-step, step):
                moves.append(f"{labels[j]} {'-' if side < 0 else '+'} h")
                for other, value in base.items():
                    moved = np.array(value[0], dtype=np.float64)
                    if other == name:
                        with np.errstate(over="ignore"):  # past float64's range: inf
                            moved.flat[j] += side
                    rows[other].append(moved)
    return {name: np.stack([base[name][0], *rows[name]]) for name in base}, moves


def _argument_keeper(watched: list[Expr], arguments: dict[int, list[Any]]) -> Any:
    """A visitor that records, for each watched call, its arguments' values in order."""
    slots = {id(arg): (id(node), k) for node in watched for k, arg in enumerate(node.children)}

    def keep(node: Expr, value: Any) -> None:
        if id(node) in slots:
            owner, k = slots[id(node)]
            found = arguments.setdefault(owner, [None] * 2)
            found[k] = np.asarray(value)

    return keep


def _crossed(node: Expr, args: list[Any]) -> bool:
    """Whether the kink's quantity has one sign at the point (row 0, not zero) and the
    opposite one at some moved row."""
    assert isinstance(node, Call) and node.op is not None and node.op.kink is not None
    if not args or args[0] is None:
        return False
    rule = _RULES[node.op.kink]
    crossed = []
    with np.errstate(all="ignore"):  # inf - inf for max's tie: nan, crossing nothing
        for quantity in rule.quantities(args):
            at_point = np.sign(quantity[:1])
            crossed.append(bool(np.any((at_point != 0) & (np.sign(quantity[1:]) * at_point < 0))))
    return all(crossed) if rule.every else any(crossed)

"""What to differentiate, resolved once: the typed tree, the point and the variables.

Every method receives the same Problem, so their answers are answers to the same question.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from diffcli.core.errors import OptionError, PointError
from diffcli.lang.expr import Expr, Shape, infer_shapes, variables_of
from diffcli.lang.parse import DEFAULT_LIMITS, Limits, parse
from diffcli.lang.point import Point, component_names, parse_point, point_from_mapping

MAX_ORDER = 10
Answer = TypeVar("Answer")


@dataclass(frozen=True)
class Problem:
    """A parsed, shape-checked expression with its point and what to differentiate by.

    With --python, `function` is the user's Python function instead: `expr` is None, and
    only finite differences and autograd apply. It is wrapped once, where torch is
    (methods/autograd.py), into `rows`: f at each row of a batch of NumPy points, which
    finite differences call, so that no engine calls another.
    """

    text: str
    expr: Expr | None
    point: Point
    variables: tuple[str, ...]
    wrt: tuple[str, ...]
    order: int = 1
    command: str = "grad"
    function: Callable[..., Any] | None = None
    function_shape: Shape = ()
    rows: Callable[[dict[str, Any]], Any] | None = None

    @property
    def output_shape(self) -> Shape:
        if self.expr is None:
            return self.function_shape
        assert self.expr.shape is not None
        return self.expr.shape

    def shape_of(self, name: str) -> Shape:
        return self.point[name].shape

    @property
    def shapes(self) -> tuple[tuple[str, Shape], ...]:
        """Every variable's name and shape: what derivations depend on, besides the tree."""
        return tuple((name, value.shape) for name, value in self.point.items())

    def sent_back(self) -> Problem:
        """This --python problem as a child process sends it back (core/isolate.py): the
        user's function stays in the child, and a placeholder says where it ran."""
        from diffcli.core.pyfunc import RanElsewhere

        return replace(self, function=RanElsewhere(self.text), rows=None)

    def flat_variables(self) -> list[str]:
        """Names of the scalar entries of the wrt variables, in order: x[0], x[1], y."""
        return [c for name in self.wrt for c in component_names(name, self.shape_of(name))]


def build_problem(
    text: str,
    at: str | Mapping[str, Any],
    wrt: Sequence[str] | None = None,
    order: int = 1,
    command: str = "grad",
    limits: Limits = DEFAULT_LIMITS,
) -> Problem:
    """Parse and check everything the methods need, raising DiffcliError on bad input."""
    expr = parse(text, limits)
    variables = variables_of(expr)
    if isinstance(at, str):
        point = parse_point(at, variables, limits.max_entries)
    else:
        point = point_from_mapping(at)
    _check_point(point, variables, at)
    typed = infer_shapes(expr, {name: point[name].shape for name in variables}, text)
    chosen = _resolve_wrt(wrt, variables)
    if not 1 <= order <= MAX_ORDER:
        raise OptionError(f"--order must be between 1 and {MAX_ORDER}, got {order}")
    if order > 1 and (len(chosen) != 1 or point[chosen[0]].shape):
        raise OptionError(
            "--order above 1 needs one scalar variable to differentiate by "
            f"(got {', '.join(chosen)}); pick it with --wrt"
        )
    _check_command(command, typed.shape or ())
    return Problem(text, typed, point, tuple(variables), tuple(chosen), order, command)


def _check_command(command: str, shape: tuple[int, ...]) -> None:
    if command == "grad" and shape:
        raise OptionError(
            f"grad needs a scalar expression, but this one has shape {shape}: "
            "use diffcli jacobian for vector or matrix outputs"
        )
    if command == "hessian" and shape:
        raise OptionError(
            f"hessian needs a scalar expression, but this one has shape {shape}: "
            "pick one entry, such as (...)[0], or use diffcli jacobian"
        )


def build_python_problem(
    spec: str,
    at: str | Mapping[str, Any],
    wrt: Sequence[str] | None = None,
    order: int = 1,
    command: str = "grad",
) -> Problem:
    """The Problem for --python FILE:FUNC (this loads FILE), before its output shape is
    known: that takes a call of the function, which is torch's
    (methods/autograd's `with_torch_forms` makes the call and gives the shape to `shaped`)."""
    from diffcli.core.pyfunc import load

    function, variables = load(spec)
    point = parse_point(at, variables) if isinstance(at, str) else point_from_mapping(at)
    _check_point(point, variables, at)
    chosen = _resolve_wrt(wrt, variables)
    return Problem(spec, None, point, tuple(variables), tuple(chosen), order, command, function)


def shaped(problem: Problem, shape: Shape, rows: Callable[[dict[str, Any]], Any]) -> Problem:
    """The --python problem with its function's output shape (checked against the command)
    and its NumPy form `rows`."""
    _check_command(problem.command, shape)
    return replace(problem, function_shape=shape, rows=rows)


def _check_point(point: Point, variables: list[str], at: str | Mapping[str, Any]) -> None:
    text = at if isinstance(at, str) else ", ".join(f"{k}=..." for k in at)
    missing = [name for name in variables if name not in point]
    if missing:
        given = ", ".join(point) or "nothing"
        raise PointError(
            f"no value for {', '.join(missing)} in the point (it gives {given})",
            text,
            len(text),
        )
    if not variables:
        raise OptionError("the expression has no variables to differentiate by")


def _resolve_wrt(wrt: Sequence[str] | None, variables: list[str]) -> list[str]:
    if not wrt:
        return list(variables)
    chosen: list[str] = []
    for name in wrt:
        name = name.strip()
        if name not in variables:
            close = difflib.get_close_matches(name, variables, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise OptionError(
                f"--wrt {name}: not a variable of the expression{hint}; "
                f"its variables are {', '.join(variables)}"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def per_problem(function: Callable[..., Answer]) -> Callable[..., Answer]:
    """function(problem, *args) worked out once per problem and args: what the tree says
    whatever the point, which a grid asks again for every chunk. A Problem holds dicts and
    cannot be hashed: it is kept beside its answer (by id), so that a later problem given
    the same id is not taken for it. The answer is shared: callers must not change it."""
    answers: dict[tuple[Any, ...], tuple[Problem, Answer]] = {}

    @functools.wraps(function)
    def once(problem: Problem, *args: Any) -> Answer:
        key = (id(problem), *args)
        known = answers.get(key)
        if known is None or known[0] is not problem:
            if len(answers) >= 64:
                answers.clear()
            known = answers[key] = (problem, function(problem, *args))
        return known[1]

    return once

"""What each way of differentiating costs as the input grows: the course's lesson, measured.

The user's expression is evaluated with its variable a vector of length n. For a scalar
output (a gradient), reverse mode needs one backward pass whatever n is; forward mode and
finite differences need a pass per input, n of them; SymPy differentiates entry by entry
and its expressions swell. For a vector output (a Jacobian, here the argument of an outer
sum), reverse mode needs a pass per output too.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from diffcli.core.deadline import TimedOut, deadline
from diffcli.core.errors import OptionError
from diffcli.core.problem import Problem, build_problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, variables_of
from diffcli.lang.parse import parse
from diffcli.lang.printer import to_text

METHODS = ("symbolic", "finite differences", "forward mode", "reverse mode")


@dataclass
class Measurement:
    seconds: float | None  # None: see status
    memory: int | None  # bytes: NumPy/Python peak, or what reverse mode saved for backward
    status: str = ""  # "over budget" (given up on), "not run" (over at a smaller size), "too large"


@dataclass
class CostStudy:
    expression: str
    variable: str
    kind: str  # "gradient" or "jacobian"
    sizes: list[int]
    results: dict[str, list[Measurement]] = field(default_factory=dict)

    def exponent(self, method: str) -> float | None:
        """The fitted growth exponent: time ~ n^k, from a log-log fit over the sizes measured."""
        points = [
            (n, m.seconds)
            for n, m in zip(self.sizes, self.results[method])
            if m.seconds is not None and m.seconds > 0
        ]
        if len(points) < 2:
            return None
        logs = np.log([p[0] for p in points]), np.log([p[1] for p in points])
        return float(np.polyfit(logs[0], logs[1], 1)[0])


def study(expression: str, sizes: list[int], budget: float = 2.0) -> list[CostStudy]:
    """Measure every method at every size: the gradient, and the Jacobian of an outer sum's
    argument when the expression is sum(...)."""
    tree = parse(expression)
    variables = variables_of(tree)
    if len(variables) != 1:
        raise OptionError(
            f"cost needs an expression of one vector variable, got {', '.join(variables)}"
        )
    if not sizes or any(n < 1 for n in sizes):
        raise OptionError("--n takes positive sizes, e.g. --n 10,100,1000")
    if max(sizes) > MAX_SIZE:
        raise OptionError(f"--n {max(sizes)}: sizes up to {MAX_SIZE:,} are studied")
    if not (budget > 0 and budget < 3600):
        raise OptionError(f"--budget must be a positive number of seconds, got {budget:g}")
    studies = [_study(expression, variables[0], "gradient", sizes, budget)]
    if isinstance(tree, Call) and tree.op is not None and tree.op.name == "sum":
        inner = to_text(tree.args[0])
        studies.append(_study(inner, variables[0], "jacobian", sizes, budget))
    return studies


MAX_SIZE = 100_000  # the vector's length, as --max-entries bounds a point's
WARM_UP_SECONDS = 10.0
JACOBIAN_LIMIT = 4_000_000  # entries of an n x n Jacobian worth measuring here


def _study(expression: str, variable: str, kind: str, sizes: list[int], budget: float) -> CostStudy:
    """Each method at each size; a method that passed the budget is not run at larger sizes."""
    command = "grad" if kind == "gradient" else "jacobian"
    result = CostStudy(expression, variable, kind, sizes, {m: [] for m in METHODS})
    runs = _runs(budget)
    # first uses (torch's forward AD loads ~1 s of code) must finish, or the first real
    # size pays them again; they are bounded too, by a longer allowance
    _warm_up(expression, variable, command, _runs(max(budget, WARM_UP_SECONDS)))
    over: set[str] = set()
    for n in sizes:
        problem = build_problem(expression, f"{variable}=linspace(0.1, 1, {n})", command=command)
        if problem.output_shape and kind == "gradient":
            raise OptionError("cost needs a scalar expression (such as a sum) for the gradient")
        too_big = kind == "jacobian" and n * n > JACOBIAN_LIMIT
        for method, run in runs.items():
            if method in over or too_big:
                status = "too large" if too_big else "not run"
                result.results[method].append(Measurement(None, None, status))
                continue
            measured = run(problem)
            if measured.seconds is None or measured.seconds > budget:
                over.add(method)
            result.results[method].append(measured)
    return result


def _runs(budget: float) -> dict[str, Callable[[Problem], Measurement]]:
    """Each method as one measured run, stopped (not waited for) once past the budget."""
    from diffcli.methods import autograd, numeric, symbolic

    return {
        "symbolic": lambda p: _measure(lambda: _symbolic_in_budget(symbolic, p, budget), budget),
        "finite differences": lambda p: _measure(
            lambda: numeric.differentiate(p, "central"), budget
        ),
        "forward mode": lambda p: _measure(
            lambda: autograd.differentiate(p, "cpu", "float64", "forward"), budget
        ),
        "reverse mode": lambda p: _reverse(autograd, p, budget),
    }


def _warm_up(
    expression: str, variable: str, command: str, runs: dict[str, Callable[[Problem], Measurement]]
) -> None:
    """One small run of each method first: imports and first-use set-up are not the cost
    of differentiating."""
    problem = build_problem(expression, f"{variable}=linspace(0.1, 1, 3)", command=command)
    for run in runs.values():
        run(problem)


class _OverBudget(Exception):
    pass


def _symbolic_in_budget(symbolic: object, problem: Problem, budget: float) -> None:
    """SymPy entry by entry, giving up (not waiting) once past the budget."""
    import sympy as sp

    start = time.perf_counter()
    leaves = symbolic.symbols_for(problem)  # type: ignore[attr-defined]
    function = evaluate(problem.expr, leaves, symbolic.SympyBackend())  # type: ignore[attr-defined]
    outputs = np.ravel(np.asarray(function, dtype=object))
    for entry in np.ravel(leaves[problem.wrt[0]]):
        for output in outputs:
            sp.diff(output, entry)
            if time.perf_counter() - start > budget:
                raise _OverBudget


def _measure(run: Callable[[], object], budget: float) -> Measurement:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with deadline(budget):
            run()
    except (_OverBudget, TimedOut):
        tracemalloc.stop()
        return Measurement(None, None, "over budget")
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measurement(seconds, peak)


def _reverse(autograd: object, problem: Problem, budget: float) -> Measurement:
    """Reverse mode's time, and the bytes it saved for the backward pass (its memory cost)."""
    try:
        with autograd.saved_for_backward() as saved, deadline(budget):  # type: ignore[attr-defined]
            start = time.perf_counter()
            autograd.differentiate(problem, "cpu", "float64", "reverse")  # type: ignore[attr-defined]
            seconds = time.perf_counter() - start
    except TimedOut:
        return Measurement(None, None, "over budget")
    return Measurement(seconds, saved[0])


def lesson(studies: list[CostStudy]) -> list[str]:
    lines = [
        "reverse mode: one backward pass gives the whole gradient of a scalar, so its time "
        "grows like one evaluation of f (about n^1); it pays in memory, keeping "
        "intermediates for the backward pass",
        "forward mode and finite differences: one pass per input entry, n passes of O(n) "
        "each (about n^2)",
        "symbolic: one derivative per entry, and expressions that swell: the first to run "
        "out of time",
    ]
    if len(studies) > 1:
        lines.append(
            "for a vector output (the Jacobian), reverse mode needs a pass per output too: "
            "with as many outputs as inputs, forward and reverse cost alike"
        )
    return lines

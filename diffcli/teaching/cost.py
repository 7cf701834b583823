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
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import numpy as np

from diffcli.core.deadline import TimedOut, deadline
from diffcli.core.errors import OptionError
from diffcli.core.problem import Problem, build_problem
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, variables_of
from diffcli.lang.parse import parse
from diffcli.lang.printer import to_text
from diffcli.render.numbers import duration

METHODS = ("symbolic", "finite differences", "forward mode", "reverse mode")


LAWS = {"symbolic": 2.0, "finite differences": 2.0, "forward mode": 2.0, "reverse mode": 1.0}
OVERHEAD_SHARE = 0.1  # a size is fitted where the fixed per-call time is under this share
REPEAT_SECONDS = 0.3  # warm runs are repeated (up to REPEATS) while they take less than this
REPEATS = 5


@dataclass
class Measurement:
    seconds: float | None  # the fastest warm run; None: see status
    memory: int | None  # bytes, as MEMORY says for the method
    status: str = ""  # "over budget", "not run" (would pass the budget), "too large"
    runs: int = 0


MEMORY = {
    "symbolic": "peak Python allocations",
    "finite differences": "peak NumPy allocations",
    "forward mode": "peak torch tensors alive",
    "reverse mode": "bytes saved for the backward pass",
}


@dataclass
class CostStudy:
    expression: str
    variable: str
    kind: str  # "gradient" or "jacobian"
    sizes: list[int]
    results: dict[str, list[Measurement]] = field(default_factory=dict)
    overhead: dict[str, float | None] = field(default_factory=dict)  # seconds at n = 1

    def fitted_sizes(self, method: str) -> list[int]:
        """The sizes whose time is at least ten times the fixed per-call time (at n = 1):
        below them the overhead, not the method's growth, is what a clock measures."""
        floor = (self.overhead.get(method) or 0.0) / OVERHEAD_SHARE
        return [
            n
            for n, m in zip(self.sizes, self.results[method])
            if m.seconds is not None and m.seconds > 0 and m.seconds >= floor
        ]

    def exponent(self, method: str) -> float | None:
        """The fitted growth exponent, time ~ n^k, by least squares in log-log over the
        fitted sizes; None where they are fewer than two or span less than a factor of 3."""
        sizes = self.fitted_sizes(method)
        if len(sizes) < 2 or max(sizes) < 3 * min(sizes):
            return None
        seconds = [m.seconds for n, m in zip(self.sizes, self.results[method]) if n in sizes]
        return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])

    def law(self, method: str) -> float:
        """The growth the lesson predicts: reverse mode's n passes for a Jacobian are n^2."""
        return 2.0 if self.kind == "jacobian" else LAWS[method]


def study(expression: str, sizes: list[int], budget: float = 2.0) -> list[CostStudy]:
    """Measure every method at every size: the gradient, and the Jacobian of an outer sum's
    argument when the expression is sum(...). torch runs on one thread meanwhile, so that
    the growth measured is the method's, not a thread pool's starting at some size."""
    import torch

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
    _check_scalar(expression, variables[0])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        studies = [_study(expression, variables[0], "gradient", sizes, budget)]
        if isinstance(tree, Call) and tree.op is not None and tree.op.name == "sum":
            inner = to_text(tree.args[0])
            studies.append(_study(inner, variables[0], "jacobian", sizes, budget))
    finally:
        torch.set_num_threads(threads)
    return studies


MAX_SIZE = 100_000  # the vector's length, as --max-entries bounds a point's
WARM_UP_SECONDS = 10.0
JACOBIAN_LIMIT = 4_000_000  # entries of an n x n Jacobian worth measuring here


def _check_scalar(expression: str, variable: str) -> None:
    problem = build_problem(expression, f"{variable}=linspace(0.1, 1, 3)", command="jacobian")
    if problem.output_shape:
        raise OptionError(
            f"cost measures the gradient of a scalar: {expression} gives a vector of n entries "
            f'for x of length n; sum it (cost "sum({expression})") to study its gradient '
            "and its Jacobian"
        )


def _study(expression: str, variable: str, kind: str, sizes: list[int], budget: float) -> CostStudy:
    """Each method at each size, warm; a method is not run at a size where the lesson's law
    from its last time predicts it would pass the budget (or once it has passed it)."""
    command = "grad" if kind == "gradient" else "jacobian"
    result = CostStudy(expression, variable, kind, sizes, {m: [] for m in METHODS})
    runs = _runs(budget)
    # first uses (imports, torch's forward AD, vmap) are not the cost of differentiating:
    # torch's warm-ups and a small run of each method first, bounded by a longer allowance
    from diffcli.methods import autograd

    for mode in ("forward", "reverse"):
        autograd.warm_up("cpu", "float64", mode)
    _at_size(expression, variable, command, 3, _runs(max(budget, WARM_UP_SECONDS)))
    overhead = _at_size(expression, variable, command, 1, runs)
    result.overhead = {m: overhead[m].seconds for m in METHODS}
    last: dict[str, tuple[int, float] | None] = {
        m: (1, overhead[m].seconds or 0.0) for m in METHODS
    }
    for n in sizes:
        problem = build_problem(expression, f"{variable}=linspace(0.1, 1, {n})", command=command)
        too_big = kind == "jacobian" and n * n > JACOBIAN_LIMIT
        for method, run in runs.items():
            previous = last[method]
            predicted = previous[1] * (n / previous[0]) ** result.law(method) if previous else None
            if too_big or previous is None or (predicted is not None and predicted > budget):
                status = "too large" if too_big else "not run"
                result.results[method].append(Measurement(None, None, status))
                continue
            measured = run(problem)
            result.results[method].append(measured)
            over = measured.seconds is None or measured.seconds > budget
            last[method] = None if over else (n, measured.seconds)
    return result


def _at_size(
    expression: str,
    variable: str,
    command: str,
    n: int,
    runs: dict[str, Callable[[Problem], Measurement]],
) -> dict[str, Measurement]:
    problem = build_problem(expression, f"{variable}=linspace(0.1, 1, {n})", command=command)
    return {method: run(problem) for method, run in runs.items()}


def _runs(budget: float) -> dict[str, Callable[[Problem], Measurement]]:
    """Each method as a measured call, stopped (not waited for) once past the budget."""
    from diffcli.methods import autograd, numeric, symbolic

    return {
        "symbolic": lambda p: _measure(
            lambda: _symbolic_in_budget(symbolic, p, budget), _python_memory, budget
        ),
        "finite differences": lambda p: _measure(
            lambda: numeric.differentiate(p, "central"), _python_memory, budget
        ),
        "forward mode": lambda p: _measure(
            lambda: autograd.differentiate(p, "cpu", "float64", "forward"),
            autograd.peak_tensor_bytes,
            budget,
        ),
        "reverse mode": lambda p: _measure(
            lambda: autograd.differentiate(p, "cpu", "float64", "reverse"),
            autograd.saved_for_backward,
            budget,
        ),
    }


class _OverBudget(Exception):
    pass


def _symbolic_in_budget(symbolic: object, problem: Problem, budget: float) -> None:
    """SymPy entry by entry, giving up (not waiting) once past the budget."""
    import sympy as sp

    start = time.perf_counter()
    leaves = symbolic.symbols_for(problem)  # type: ignore[attr-defined]
    function = evaluate(problem.expr, leaves, symbolic.SympyBackend())  # type: ignore[attr-defined]
    outputs = np.ravel(np.asarray(function, dtype=object))
    try:
        for entry in np.ravel(leaves[problem.wrt[0]]):
            for output in outputs:
                sp.diff(output, entry)
                if time.perf_counter() - start > budget:
                    raise _OverBudget
    finally:
        sp.core.cache.clear_cache()  # its expressions would stay alive, hundreds of MiB


@contextmanager
def _python_memory() -> Iterator[list[int]]:
    """Peak bytes of Python and NumPy allocations while the block runs (tracemalloc)."""
    tracemalloc.start()
    peak = [0]
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def _measure(
    run: Callable[[], object],
    memory: Callable[[], AbstractContextManager[list[int]]],
    budget: float,
) -> Measurement:
    """Timed runs, at least two and more while they are quick, the fastest kept: the first
    at a new size warms it up (at n = 10^4 forward mode's first run took twice as long as
    the next). Then one more run
    for the memory, whose tracing would slow the timed ones; where that one passes the
    budget, the memory is not known."""
    times: list[float] = []
    try:
        while len(times) < REPEATS and (len(times) < 2 or sum(times) < REPEAT_SECONDS):
            with deadline(budget):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
    except (_OverBudget, TimedOut):
        return Measurement(None, None, "over budget")
    try:
        with memory() as peak, deadline(budget):
            run()
    except (_OverBudget, TimedOut):
        return Measurement(min(times), None, runs=len(times))
    return Measurement(min(times), peak[0], runs=len(times))


def lesson(studies: list[CostStudy]) -> list[str]:
    """The theory, then what each study measured against it."""
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
            "with as many outputs as inputs, forward and reverse cost alike (about n^2)"
        )
    return lines + [line for item in studies for line in measured(item)]


def measured(item: CostStudy) -> list[str]:
    """Per method, the fitted exponent beside the law and the sizes it was fitted over, or
    why these sizes cannot show the law."""
    lines = []
    for method in METHODS:
        k = item.exponent(method)
        sizes = item.fitted_sizes(method)
        overhead = item.overhead.get(method)
        if k is not None:
            span = f"n = {min(sizes):,} to {max(sizes):,}"
            lines.append(
                f"{item.kind}, {method}: time ~ n^{k:.2f} over {span} (the law: n^"
                f"{item.law(method):g})"
            )
        elif overhead is not None:
            lines.append(
                f"{item.kind}, {method}: no exponent, these sizes cannot show its growth: "
                f"fewer than two of them, a factor of 3 apart, took over {1 / OVERHEAD_SHARE:g}x "
                f"its fixed cost per call ({duration(overhead)} at n = 1)"
            )
    return lines

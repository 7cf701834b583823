"""The library entry points: what the CLI calls, and what notebooks and scripts call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from diffcli.core.comparison import Comparison, run
from diffcli.core.deadline import Budget, TimedOut, deadline
from diffcli.core.isolate import GRACE, run_isolated
from diffcli.core.options import Options
from diffcli.core.problem import build_problem, build_python_problem
from diffcli.core.pyfunc import RanElsewhere, UserCodeError
from diffcli.methods import load_engines


def compare(
    expression: str,
    at: str | Mapping[str, Any],
    *,
    wrt: str | Sequence[str] | None = None,
    order: int = 1,
    methods: str | Sequence[str] | None = None,
    device: str = "auto",
    dtype: str = "float64",
    scheme: str = "central",
    step: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Differentiate `expression` at `at` symbolically, numerically and with autograd.

    `at` is a POINT string ("x=1,y=[1,2]") or a mapping of names to numbers, nested lists
    or NumPy arrays. Raises DiffcliError (with a message for the user) on bad input.

    >>> compare("sin(x)", at={"x": 1.0}).agree
    True
    """
    options = Options.from_raw(
        command="grad",
        wrt=wrt,
        order=order,
        methods=methods,
        device=device,
        dtype=dtype,
        scheme=scheme,
        step=step,
        rtol=rtol,
        atol=atol,
    )
    return compare_with(expression, at, options)


def compare_with(expression: str, at: str | Mapping[str, Any], options: Options) -> Comparison:
    """compare() for an Options object already built (the CLI and batch use this)."""
    problem = build_problem(
        expression, at, options.wrt, options.order, options.command, options.limits()
    )
    return run(problem, options)


def compare_python(spec: str, at: str | Mapping[str, Any], options: Options) -> Comparison:
    """Compare finite differences and autograd on a Python function: --python FILE:FUNC.

    This runs the file, in a child process (isolate.py): loading it and every stage share
    --timeout there, and the child is killed if it has not answered GRACE seconds after it, as
    when the code is stuck inside a C call. SymPy does not apply; the reference is the
    Richardson estimate.
    """
    load_engines(symbolic=False, autograd=True)  # torch before the fork, not in each child

    limit = None if options.timeout is None else options.timeout + GRACE
    work = partial(_compare_python_here, spec, at, options)
    return run_isolated(work, limit, f"--python {spec}")


def _compare_python_here(spec: str, at: str | Mapping[str, Any], options: Options) -> Comparison:
    budget = Budget(options.timeout)
    try:
        # loading and one call, then f at the point, the two methods and the reference
        with deadline(budget.share(5)):
            problem = build_python_problem(spec, at, options.wrt, options.order, options.command)
    except TimedOut:
        raise UserCodeError(
            f"--python {spec}: running the file and calling the function once did not finish "
            f"within its share of --timeout {options.timeout:g} s"
        ) from None
    comparison = run(problem, options, budget)
    # the user's function stays in the child; what comes back says where it came from
    comparison.problem = replace(problem, function=RanElsewhere(spec))
    return comparison

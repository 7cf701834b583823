"""The library entry points: what the CLI calls, and what notebooks and scripts call."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import fields
from functools import partial
from typing import TYPE_CHECKING, Any

from diffcli.core.comparison import run
from diffcli.core.deadline import Budget, TimedOut, deadline
from diffcli.core.isolate import GRACE, run_isolated
from diffcli.core.options import Options
from diffcli.core.problem import build_problem
from diffcli.core.pyfunc import UserCodeError
from diffcli.core.results import Comparison
from diffcli.methods import load_engines

if TYPE_CHECKING:
    from diffcli.methods.autograd.graph import Graph


def compare(expression: str, at: str | Mapping[str, Any], **options: Any) -> Comparison:
    """Differentiate `expression` at `at` symbolically, numerically and with autograd.

    `at` is a POINT string ("x=1,y=[1,2]") or a mapping of names to numbers, nested lists
    or NumPy arrays. `options` are those of the command line, by their Python names
    (core/options.py declares them all): command ("grad", "jacobian" or "hessian"), wrt,
    order, methods, device, dtype, scheme, step, rtol, atol, layout, mode, timeout, ...
    Raises DiffcliError (with a message for the user) on bad input or an unknown option.

    >>> compare("sin(x)", at={"x": 1.0}).agree
    True
    """
    return compare_with(expression, at, Options.from_raw(**options))


compare.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("expression", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
        inspect.Parameter("at", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(
            inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
            for f in fields(Options)
        ),
    ],
    return_annotation=Comparison,
)


def graph(
    expression: str,
    at: str | Mapping[str, Any],
    *,
    wrt: str | Sequence[str] | None = None,
    mode: str = "reverse",
    device: str = "auto",
) -> Graph:
    """The computational graph of a scalar `expression` at `at`: each node's forward value
    and, by mode, torch's adjoint ∂f/∂node (reverse) or tangent ∂node/∂x (forward)."""
    from diffcli.methods.autograd.graph import trace

    options = Options.from_raw(wrt=wrt, mode=mode, device=device)
    return trace(build_problem(expression, at, options.wrt), options.mode, options.device)


def compare_with(expression: str, at: str | Mapping[str, Any], options: Options) -> Comparison:
    """compare() for an Options object already built (the CLI and batch use this)."""
    problem = build_problem(
        expression, at, options.wrt, options.order, options.command, options.limits()
    )
    if "autograd" in options.methods:
        _import_torch_meanwhile()
    return run(problem, options)


def _import_torch_meanwhile() -> None:
    """Start importing torch in a thread while SymPy differentiates: the two imports overlap
    (torch's native libraries load outside the GIL), which halves a cold CLI's start-up."""
    import sys
    import threading

    if "torch" not in sys.modules:
        threading.Thread(target=__import__, args=("torch",), daemon=True).start()


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
    from diffcli.core.problem import build_python_problem
    from diffcli.methods.autograd import with_torch_forms

    budget = Budget(options.timeout)
    try:
        # loading and one call, then f at the point, the two methods and the reference
        with deadline(budget.share(5)):
            problem = with_torch_forms(
                build_python_problem(spec, at, options.wrt, options.order, options.command)
            )
    except TimedOut:
        raise UserCodeError(
            f"--python {spec}: running the file and calling the function once did not finish "
            f"within its share of --timeout {options.timeout:g} s"
        ) from None
    comparison = run(problem, options, budget)
    # the user's function stays in the child; what comes back says where it came from
    comparison.problem = problem.sent_back()
    return comparison

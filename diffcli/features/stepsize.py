"""Why finite differences lose digits: each scheme's error against the exact derivative over
a sweep of steps, from 1e-1 down to 1e-16.

The error of a scheme of order p falls like h^p (truncation) until round-off, which grows
like eps / h^K, takes over: on a log-log plot, a V whose bottom is the best step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from diffcli.core.deadline import TimedOut, deadline
from diffcli.core.errors import DiffcliError
from diffcli.core.problem import Problem

STEPS = [10.0 ** (-k / 2) for k in range(2, 33)]  # 1e-1, 10^-1.5, ..., 1e-16
STUDIED = ("forward", "backward", "central", "five-point", "richardson", "complex-step")


@dataclass
class Sweep:
    """One scheme's relative error at each step, its best step, and its automatic step."""

    scheme: str
    accuracy: int
    errors: list[float]
    best_step: float
    best_error: float
    auto_step: float
    auto_error: float


@dataclass
class StepStudy:
    problem: Problem
    dtype: str
    exact: dict[str, np.ndarray]
    steps: list[float]
    sweeps: list[Sweep]
    skipped: dict[str, str]

    def why(self) -> str:
        eps = float(np.finfo(self.dtype).eps)
        k = self.problem.order
        return (
            f"truncation error ~ h^p falls as the step shrinks; round-off ~ eps/h^{k} "
            f"(eps = {eps:.1e}) grows: the best step balances them near eps^(1/(p+{k})), "
            f"e.g. {eps ** (1 / (2 + k)):.0e} for central (p = 2)"
        )


def study(problem: Problem, dtype_name: str = "float64", timeout: float | None = 10.0) -> StepStudy:
    """Sweep every scheme that applies over STEPS, measured against SymPy's exact value,
    all of it within `timeout` seconds: schemes not reached by then are skipped, saying so."""
    from diffcli.methods import numeric, symbolic

    if problem.command == "hessian":
        raise DiffcliError("stepsize studies first derivatives (and --order K), not Hessians")
    sweeps: list[Sweep] = []
    skipped: dict[str, str] = {}
    with deadline(timeout):
        try:
            exact, problems = symbolic.reference(symbolic.derive(problem))
        except TimedOut:
            raise DiffcliError(
                f"no exact derivative to measure against within --timeout {timeout:g} s"
            ) from None
        if problems:
            raise DiffcliError(f"no exact derivative to measure against: {problems[0]}")
        for scheme in STUDIED:
            try:
                outcomes = numeric.sweep(problem, scheme, STEPS, dtype_name)
                auto = numeric.differentiate(problem, scheme, dtype_name)
            except DiffcliError as refusal:
                skipped[scheme] = str(refusal)
                continue
            except TimedOut:
                for late in STUDIED[STUDIED.index(scheme) :]:
                    skipped[late] = f"not finished within --timeout {timeout:g} s"
                break
            errors = [_relative(o.value, exact) for o in outcomes]
            best = int(np.nanargmin(errors)) if not all(math.isnan(e) for e in errors) else 0
            sweeps.append(
                Sweep(
                    scheme=scheme,
                    accuracy=numeric.SCHEMES[scheme].accuracy,
                    errors=errors,
                    best_step=STEPS[best],
                    best_error=errors[best],
                    auto_step=float(auto.details["step"]),
                    auto_error=_relative(auto.value, exact),
                )
            )
    return StepStudy(problem, dtype_name, exact, STEPS, sweeps, skipped)


def _relative(value: dict[str, np.ndarray], exact: dict[str, np.ndarray]) -> float:
    """Largest entry error over the largest exact entry (nan where it is not finite)."""
    worst = max(float(np.max(np.abs(value[n] - exact[n]), initial=0.0)) for n in exact)
    size = max(float(np.max(np.abs(exact[n]), initial=0.0)) for n in exact)
    if not math.isfinite(worst):
        return math.nan
    return worst / size if size > 0 else worst

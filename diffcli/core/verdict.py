"""How far each method is from the reference, within which tolerance, where the kinks are,
and the verdict.

The verdict: every method that ran is within its tolerance of the reference (agree, exit
0), or one is not or failed (disagree, exit 1), or the point sits on a kink where the
one-sided derivatives differ (not differentiable, exit 3: the methods' conventions differ).
"""

from __future__ import annotations

import math

import numpy as np

from diffcli.core.options import Options
from diffcli.core.problem import Problem
from diffcli.core.results import (
    AGREE,
    DISAGREE,
    KINK,
    HessianSummary,
    Kink,
    MethodResult,
    Reference,
)
from diffcli.lang.ops import KINKS

NUMERIC_WIDEST = 1e-4  # the widest tolerance numeric's own estimate can give it (relative)


def default_tolerance(name: str, options: Options, order: int, near_kink: bool = False) -> float:
    """The relative tolerance each method can be held to on a well-conditioned function.

    Next to a kink the function is not smooth, and finite differences of any scheme are
    only first-order accurate there, so they are held to that.
    """
    if name == "numeric":
        from diffcli.methods.numeric import SCHEMES

        eps = float(np.finfo(options.dtype).eps)
        # held to at most fourth-order accuracy: Richardson and complex-step usually do far
        # better, but a tolerance must hold on ill-conditioned functions too
        accuracy = min(SCHEMES[options.scheme].accuracy, 4)
        if near_kink:
            return min(1e-2, 1e3 * eps ** (1 / (1 + order)))
        return min(1e-2, 100 * eps ** (accuracy / (accuracy + order)))
    if name == "autograd" and options.dtype == "float32":
        return 1e-4
    return 1e-9


def measure(
    result: MethodResult,
    reference: Reference,
    problem: Problem,
    options: Options,
    scales: tuple[float, float],
    near_kink: bool,
    stored_shift: float = 0.0,
) -> str | None:
    """Set the method's errors and tolerances; a note when numeric is held to its estimate.
    stored_shift is allowed on top: see _stored_point_shift.

    scales: the function's scale (its largest term: finite differences' round-off is
    relative to it) and the derivative formula's (the largest term it adds, at least 1:
    symbolic's and autograd's round-off is relative to that, and where the derivative is
    0 their absolute tolerance is all that is left).

    Finite differences at a badly conditioned point (sin(x) at 1e8, where |x f'| dwarfs
    |f|) cannot reach the default tolerance, and their error estimate says so. There,
    unless --rtol or --atol is given, numeric is held to its own estimate (trusted: it
    bounds the error in every case of benchmarks/numeric_accuracy.py) up to 1e-4 of the
    derivative, rather than called a disagreement.
    """
    scale, terms = scales
    rtol = (
        options.rtol
        if options.rtol is not None
        else default_tolerance(result.name, options, _order(problem), near_kink)
    )
    if options.atol is not None:
        atol = options.atol
    elif result.name == "numeric":
        atol = rtol * scale
    else:
        atol = rtol * 1e-3 * terms
    atol += stored_shift
    result.rtol, result.atol = rtol, atol
    if not result.ok or result.value is None or reference.value is None:
        return None
    if reference.source == result.name:
        result.abs_error, result.rel_error, result.within = 0.0, 0.0, True
        return None
    worst = 0.0
    size = 0.0
    for name, ref in reference.value.items():
        diff = difference(result.value[name], ref)
        worst = max(worst, float(np.max(diff, initial=0.0)))
        finite_ref = np.abs(ref[np.isfinite(ref)])
        size = max(size, float(np.max(finite_ref, initial=0.0)))
    result.abs_error = worst
    result.rel_error = worst / size if size > 0 else (0.0 if worst == 0 else math.inf)
    note = None
    estimate = result.details.get("error_estimate")
    allowed = atol + rtol * size
    if (
        result.name == "numeric"
        and options.rtol is None
        and options.atol is None
        and estimate is not None
        and worst > allowed
        and estimate > allowed
    ):
        result.atol = atol = min(estimate, NUMERIC_WIDEST * max(size, scale))
        if math.isinf(estimate):
            note = (
                "numeric's error is unknown (est. ±inf): its differences at h, 2h, 4h, ... do "
                "not shrink as the step's power says (a step too large for this function "
                "here, or values out of range); leave --step out, or see diffcli stepsize"
            )
        else:
            relative = f", {estimate / size:.1e} of the largest entry" if size > 0 else ""
            note = (
                f"numeric is held to its own error estimate (±{estimate:.1e}{relative}), "
                f"wider than rtol {rtol:.1e}: finite differences lose digits at this point "
                "(diffcli stepsize shows how)"
            )
    result.within = bool(worst <= atol + rtol * size)
    return note


def _order(problem: Problem) -> int:
    """The derivative's order, which sets how many digits finite differences can keep."""
    return 2 if problem.command == "hessian" else problem.order


def difference(value: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|value - ref| entrywise, 0 where both are the same infinity, inf on a mismatch and
    where the exact value is nan: a method's nan there matches no number (max(x + 2, log(x))
    at 0 showed three nans with full digits, and agreed)."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(value - ref)
    same_special = np.isinf(ref) & (value == ref)
    diff = np.where(same_special, 0.0, diff)
    return np.where(np.isnan(diff), math.inf, diff)


def hessian_summary(
    results: dict[str, MethodResult], reference: Reference
) -> HessianSummary | None:
    """Each method's asymmetry max|H - Hᵀ|, and the exact Hessian's eigenvalues."""
    from diffcli.methods import HESSIAN

    for result in results.values():
        if result.ok and result.value is not None:
            table = result.value[HESSIAN]
            result.details["asymmetry"] = float(np.max(np.abs(table - table.T), initial=0.0))
    if reference.value is None or not np.all(np.isfinite(reference.value[HESSIAN])):
        return None
    exact = reference.value[HESSIAN]
    eigenvalues = np.linalg.eigvalsh((exact + exact.T) / 2)
    scale = max(1.0, float(np.max(np.abs(eigenvalues), initial=0.0)))
    tiny = 1e-12 * scale
    if np.all(eigenvalues > tiny):
        kind = "positive definite: curving up in every direction (a minimum, if the gradient is 0)"
    elif np.all(eigenvalues < -tiny):
        kind = (
            "negative definite: curving down in every direction (a maximum, if the gradient is 0)"
        )
    elif np.any(eigenvalues > tiny) and np.any(eigenvalues < -tiny):
        kind = "indefinite: up in some directions, down in others (a saddle, if the gradient is 0)"
    else:
        kind = "semidefinite: flat in some direction, so second derivatives cannot decide"
    return HessianSummary([float(v) for v in eigenvalues], kind)


def overflow_notes(result: MethodResult, reference: Reference, problem: Problem) -> list[str]:
    """Where the formula's float64 value is not finite but the exact value is, say which
    entries: float64 overflowed inside the formula (sinh(x)**2 at 800), not the derivative."""
    from diffcli.lang.point import component_names

    if not result.ok or result.value is None or reference.value is None:
        return []
    if reference.source != "exact":  # an estimate's value says nothing of the exact one
        return []
    entries: list[str] = []
    for name, value in result.value.items():
        exact = reference.value.get(name)
        if exact is None or np.shape(exact) != np.shape(value):
            continue
        lost = ~np.isfinite(np.asarray(value)) & np.isfinite(np.asarray(exact))
        if lost.any():
            labels = component_names(name, np.shape(value))
            shown = [
                f"{label} = {e:.6g}"
                for label, e, bad in zip(labels, np.ravel(exact), np.ravel(lost))
                if bad
            ]
            entries.extend(shown)
    if not entries:
        return []
    listed = ", ".join(entries[:4]) + (f" and {len(entries) - 4} more" if len(entries) > 4 else "")
    return [
        "symbolic: the formula is exact, but its float64 value overflows where the exact "
        f"derivative is finite ({listed}): a term of the formula is past float64's range"
    ]


def find_kinks(problem: Problem, scale: float, memory_mib: float) -> list[Kink]:
    from diffcli.core.subgradients import sampled_set
    from diffcli.methods import numeric
    from diffcli.methods.kinks import kink_sites

    sites = kink_sites(problem)
    if not sites:
        return []
    backward = numeric.differentiate(problem, "backward", "float64", memory_mib=memory_mib)
    forward = numeric.differentiate(problem, "forward", "float64", memory_mib=memory_mib)
    left, right = backward.value, forward.value
    tolerance = 1e-5 * scale
    # differentiable: both one-sided limits exist (their estimates settle) and are equal
    settled = all(o.details["error_estimate"] <= tolerance for o in (backward, forward))
    differentiable = settled and all(
        float(np.max(difference(left[name], right[name]), initial=0.0)) <= tolerance
        for name in problem.wrt
    )
    jump = not settled
    sampled = None if differentiable or jump else sampled_set(problem)
    kinks = []
    for site in sites:
        where = problem.text[site.text_span[0] : site.text_span[1]]
        condition = KINKS[site.condition]
        kinks.append(Kink(site.op, where, condition, left, right, differentiable, jump, sampled))
    return kinks


def infinite_slope(problem: Problem, reference: Reference, kinks: list[Kink]) -> Kink | None:
    """An infinite exact derivative where f itself is finite: sqrt(x) and x**0.5 at 0 alike.
    Not a jump (f is continuous there) and not a kink with two finite sides: the difference
    quotients grow without bound, so no method can agree with it and there is no
    subgradient. It takes the place of any kink found (sqrt's own, at its argument 0)."""
    value = reference.value
    if value is None or not any(np.any(np.isinf(v)) for v in value.values()):
        return None
    if any(p.startswith(("outside the domain", "overflow")) for p in reference.problems):
        return None  # f itself is not finite: a pole (1/x at 0), not a slope
    if any("too large for float64" in p for p in reference.problems):
        return None  # finite, past float64's range (a Hessian entry of 1e600): not a slope
    site = next((k for k in kinks if not k.differentiable), None)
    if site is not None and not site.jump:
        return None  # a kink with finite sides: its subgradients say more
    where = site.where if site else problem.text
    return Kink("", where, "an infinite slope", value, value, False, infinite=True)


def _subgradient_text(kink: Kink) -> str:
    from diffcli.render.numbers import array

    if kink.sampled is not None:
        names = kink.sampled.names
        return kink.sampled.text(f"∂f/∂{names[0]}" if len(names) == 1 else "∇f")
    bounds = kink.subgradient() or {}
    return "each entry between its one-sided derivatives: " + "; ".join(
        f"∂f/∂{name} in [{array(lo, 6)}, {array(hi, 6)}]" for name, (lo, hi) in bounds.items()
    )


def _conventions(results: dict[str, MethodResult]) -> str:
    """What each method answered at the kink, and the rule that made it answer so."""
    from diffcli.render.numbers import array

    rules = {
        "symbolic": "SymPy: sign(0) = 0, Heaviside(0) = 1/2",
        "numeric": "the central difference averages the two sides",
        "autograd": "torch picks one subgradient, e.g. relu'(0) = 0, abs'(0) = 0",
    }
    said = []
    for name, result in results.items():
        if result.ok and result.value is not None:
            values = ", ".join(array(v, 6) for v in result.value.values())
            said.append(f"{name} {values} ({rules[name]})")
    return "each method's convention: " + "; ".join(said)


def verdict(
    results: dict[str, MethodResult], reference: Reference, kinks: list[Kink], notes: list[str]
) -> str:
    for kink in kinks:
        if kink.differentiable:
            notes.append(
                f"{kink.where} is at its kink ({kink.condition}), but the one-sided "
                "derivatives agree: differentiable here (finite differences are held to "
                "first-order accuracy next to a kink)"
            )
    if any(not kink.differentiable for kink in kinks):
        kink = next(k for k in kinks if not k.differentiable)
        if kink.infinite:
            notes.append(
                f"not differentiable here: {kink.where} has an infinite slope at this point: f "
                "is finite, but its difference quotients grow without bound (not a jump); "
                "there is no finite derivative and no subgradient"
            )
        elif kink.jump:
            notes.append(
                f"not differentiable here: {kink.where} jumps at this point ({kink.condition}); "
                "there is no derivative and no subgradient"
            )
        else:
            notes.append(
                f"not differentiable here: {kink.where} is at its kink ({kink.condition}): the "
                f"one-sided derivatives differ; the subgradients are the convex hull of the "
                f"gradients nearby: {_subgradient_text(kink)}"
            )
        if not kink.infinite:
            notes.append(_conventions(results))
        return KINK
    counted = [r for r in results.values() if r.by_design is None]
    for result in counted:
        if not result.ok:
            notes.append(f"{result.name} failed: {result.error}")
    if reference.value is None or any(
        p.startswith(("outside the domain", "overflow")) for p in reference.problems
    ):
        return DISAGREE
    if all(r.ok and r.within for r in counted):
        return AGREE
    return DISAGREE

"""Run the methods on one Problem within --timeout, measure each against the exact
reference, and decide (core/verdict.py); the result is a Comparison (core/results.py)."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from diffcli.core.deadline import Budget, TimedOut, deadline
from diffcli.core.errors import DiffcliError, OptionError
from diffcli.core.options import Options
from diffcli.core.problem import Problem
from diffcli.core.results import Comparison, MethodResult, Reference
from diffcli.core.verdict import (
    difference,
    find_kinks,
    hessian_summary,
    infinite_slope,
    measure,
    overflow_notes,
    verdict,
)
from diffcli.lang.expr import stops_in
from diffcli.lang.printer import to_text
from diffcli.methods import Outcome, load_engines


def run(problem: Problem, options: Options, budget: Budget | None = None) -> Comparison:
    """Compute the reference and every requested method, then the verdict, all within
    --timeout (the budget, when a caller has started it already): each stage gets its share
    of what is left, so the others still answer when one runs out."""
    load_engines(
        symbolic=problem.expr is not None,
        autograd="autograd" in options.methods or problem.function is not None,
    )
    budget = budget or Budget(options.timeout)
    notes: list[str] = []
    _check_result_size(problem, options)
    computed = [name for name in options.methods if name != "symbolic"]
    stages = 1 + len(computed)  # the exact derivation (symbolic's too), then each method
    scale, finite = _bounded(
        partial(_function_scale, problem), budget, stages + 1, (1.0, True), notes, "f at the point"
    )
    reference, symbolic_outcome, symbolic_seconds, symbolic_error, symbolic = _exact(
        problem, not finite, budget, stages
    )
    results: dict[str, MethodResult] = {}
    for name in options.methods:
        if name == "symbolic":
            results[name] = _result(name, symbolic_outcome, symbolic_seconds, symbolic_error)
        else:
            share = budget.share(len(computed) - computed.index(name))  # of the methods left
            results[name] = _timed(name, _method(name, problem, options), notes, share, budget)
    if reference.value is None:
        reference = _fallback_reference(problem, options, results, reference, budget)
    if problem.function is not None and "symbolic" in results:
        results["symbolic"].by_design = NOT_SYMBOLIC
    closed = (
        _bounded(
            partial(_closed_form, problem, symbolic, reference, options.layout),
            budget,
            1,
            {},
            notes,
            "the matrix-calculus closed form",
        )
        if options.closed_forms
        else {}
    )
    if symbolic_outcome is not None and closed and "symbolic" in results:
        results["symbolic"].details["closed_form"] = closed
    unchecked: list[str] = []  # why the kink check failed, if it did
    kinks = (
        _bounded(
            partial(find_kinks, problem, scale, options.max_memory),
            budget,
            1,
            [],
            unchecked,
            "the check for kinks at the point",
        )
        if symbolic is not None
        else []
    )
    if not any(p.startswith("outside the domain") for p in reference.problems):
        notes.extend(unchecked)  # where f has no value, SymPy's failing to compare is no news
    slope = infinite_slope(problem, reference, kinks)
    if slope is not None:
        kinks = [slope]
    symbolic_details = results["symbolic"].details if "symbolic" in results else {}
    terms = float(symbolic_details.get("term_scale", 1.0))
    measured = [
        measure(r, reference, problem, options, (scale, terms), bool(kinks))
        for r in results.values()
    ]
    explicit = options.rtol is not None or options.atol is not None  # kept as given
    moved = (
        None
        if explicit
        else _stored_point_shift(problem, symbolic, reference, results, budget.left())
    )
    if moved:
        measured = [
            measure(r, reference, problem, options, (scale, terms), bool(kinks), moved.shift)
            for r in results.values()
        ]
        notes.append(moved.note)
    notes.extend(note for note in measured if note)
    numeric_result = results.get("numeric")
    if numeric_result is not None and numeric_result.ok and numeric_result.within is False:
        notes.extend(_kinks_in_stencil(problem, numeric_result, kinks))
        notes.extend(_past_an_edge(problem, numeric_result))
    if "symbolic" in results:
        notes.extend(overflow_notes(results["symbolic"], reference, problem))
    if "numeric" in results and results["numeric"].ok and stops_in(problem.expr):
        without = _bounded(
            partial(_without_stops, problem, options),
            budget,
            1,
            None,
            notes,
            "finite differences without the stops",
        )
        notes.append(_stops_note(without))
    summary = (
        _bounded(
            partial(hessian_summary, results, reference),
            budget,
            1,
            None,
            notes,
            "the Hessian's eigenvalues",
        )
        if problem.command == "hessian"
        else None
    )
    status = verdict(results, reference, kinks, notes)
    for problem_text in reference.problems:
        if problem_text not in notes:
            notes.append(problem_text)
    return Comparison(
        command=options.command,
        expression=problem.text,
        parsed=to_text(problem.expr) if problem.expr is not None else problem.text,
        problem=problem,
        options=options,
        reference=reference,
        methods=results,
        status=status,
        notes=notes,
        kinks=kinks,
        closed_form=closed,
        hessian=summary,
        derived=symbolic,
    )


# copies of the result that finite differences hold at once: Richardson's ladder (the
# fallback reference) has 6 steps x 2 offsets; the Hessian its tables at h, 2h and 4h,
# the estimate and its parts
LADDER_TABLES = 12


HESSIAN_TABLES = 6


def _check_result_size(problem: Problem, options: Options) -> None:
    """Refuse up front what no chunking can make fit: the result itself (a Hessian of 10^5
    entries is 10^10 numbers)."""
    from diffcli.core.resources import check_fits

    entries = sum(math.prod(problem.shape_of(name)) for name in problem.wrt)
    if problem.command == "hessian":
        check_fits(
            "the Hessian",
            entries * entries,
            options.max_memory,
            "use grad, or --wrt",
            HESSIAN_TABLES,
        )
    else:
        outputs = math.prod(problem.output_shape)
        check_fits(
            "the derivative",
            outputs * entries,
            options.max_memory,
            "pick entries or --wrt",
            LADDER_TABLES,
        )


def _bounded(
    compute: Callable[[], Any],
    budget: Budget,
    stages: int,
    instead: Any,
    notes: list[str],
    what: str,
) -> Any:
    """A step of the comparison around the methods, given its share of the budget (of
    `stages` left): past it, or where it fails (SymPy cannot compare a nan), `instead`
    stands in and a note says so; the methods' answers stand either way."""
    try:
        with warnings.catch_warnings(), deadline(budget.share(stages)):
            warnings.simplefilter("ignore")
            return compute()
    except TimedOut:
        notes.append(f"{what} was left out: --timeout {budget.seconds:g} s ran out")
    except DiffcliError:
        raise
    except Exception as failure:
        notes.append(f"{what} could not be computed ({_one_line(failure)}) and was left out")
    return instead


NOT_SYMBOLIC = "does not apply: --python runs Python code, which SymPy cannot differentiate"


def _exact(
    problem: Problem, check_domain: bool, budget: Budget, stages: int
) -> tuple[Reference, Outcome | None, float, str | None, Any]:
    """The symbolic method and the reference share one SymPy derivation.

    The function's own domain is checked exactly only when its float64 value is not finite
    (log(-1), 1/0): a finite value there means the point is inside the domain.
    """
    from diffcli.methods import symbolic

    if problem.function is not None:
        return Reference(None, None), None, 0.0, NOT_SYMBOLIC, None
    start = time.perf_counter()
    seconds = 0.0  # symbolic's own time: the derivation and its float64 values, not the
    share = budget.share(stages)  # reference's 40-digit evaluation, which is not its work
    try:
        with warnings.catch_warnings(), deadline(share):
            warnings.simplefilter("ignore")
            outcome, derived = symbolic.differentiate(problem)
            seconds = time.perf_counter() - start
            values, problems = symbolic.reference(derived)
            outside = symbolic.domain_problem(derived) if check_domain else None
    except DiffcliError:
        raise
    except TimedOut:
        seconds = seconds or time.perf_counter() - start
        return Reference(None, None), None, seconds, _timed_out(share, budget), None
    except Exception as failure:  # SymPy cannot do it: the other methods still answer
        seconds = seconds or time.perf_counter() - start
        return Reference(None, None), None, seconds, _one_line(failure), None
    if outside:
        problems.insert(0, outside)
    elif any(p.startswith(UNEVALUATED) for p in problems):
        # SymPy has the formula but no number for it here (a Heaviside of atan2 written as a
        # complex log): that says nothing of the derivative, and a numeric estimate stands
        # in, as where SymPy fails outright
        return Reference(None, None, problems), outcome, seconds, None, derived
    return Reference("exact", values, problems), outcome, seconds, None, derived


UNEVALUATED = "the exact derivative is not something SymPy can evaluate"


class _StoredPoint(NamedTuple):
    shift: float
    note: str


def _stored_point_shift(
    problem: Problem,
    symbolic: Any,
    reference: Reference,
    results: dict[str, MethodResult],
    timeout: float | None,
) -> _StoredPoint | None:
    """Where a method misses the exact value and the point is not exact in float64
    (x = 100000000.1 is stored as 100000000.09999999), how far the derivative moves between
    the two points: every float method works at the stored one, so none is to blame for
    that much. Asked of SymPy only then (it is a second exact evaluation)."""
    if symbolic is None or reference.source != "exact" or reference.value is None:
        return None
    if all(r.within is not False for r in results.values()):
        return None
    inexact = [
        (name, v)
        for name, value in problem.point.items()
        for v in value.flat
        if Fraction(float(v)) != v
    ]
    if not inexact:
        return None
    from diffcli.methods import symbolic as exact

    try:
        with warnings.catch_warnings(), deadline(timeout):
            warnings.simplefilter("ignore")
            at_stored, _ = exact.reference(symbolic, stored=True)
    except TimedOut:
        return None
    shift = max(
        float(np.max(difference(at_stored[name], ref), initial=0.0))
        for name, ref in reference.value.items()
    )
    if not 0 < shift < math.inf:
        return None
    name, v = inexact[0]
    others = len(inexact) - 1
    more = f" (and {others} more {'entry' if others == 1 else 'entries'})" if others else ""
    return _StoredPoint(
        shift,
        f"{name} = {float(v)!r} is stored in float64 as {float(v):.17g}{more}, where every "
        f"method but the exact one works; the exact derivative there differs by "
        f"{shift:.1e}, and that much is allowed",
    )


def _kinks_in_stencil(problem: Problem, numeric: MethodResult, kinks: list[Any]) -> list[str]:
    """Why finite differences are off where the point is next to a kink, not on one."""
    from diffcli.methods.numeric.crossings import kinks_crossed
    from diffcli.render.numbers import short

    step = numeric.details.get("step")
    if kinks or not step:
        return []
    return [
        f"a kink lies within the finite-difference stencil: {to_text(node)} changes sides "
        f"within ±{short(2 * step)} of the point (it is not on its kink at the point), so "
        "finite differences average the slopes of both sides; symbolic and autograd give "
        "the one-sided slope at the point"
        for node in kinks_crossed(problem, 2 * step)
    ]


def _past_an_edge(problem: Problem, numeric: MethodResult) -> list[str]:
    """Why finite differences have no value where f has one: their stencil reaches past
    the edge of f's domain (x**1.5 at 0), where a one-sided stencil would not."""
    from diffcli.methods.numeric.crossings import edges_reached
    from diffcli.render.numbers import short

    step = numeric.details.get("step")
    values = numeric.value or {}
    if not step or all(np.all(np.isfinite(v)) for v in values.values()):
        return []
    reached = edges_reached(problem, step)
    if not reached:
        return []
    shown = ", ".join(reached[:3]) + (f" and {len(reached) - 3} more" if len(reached) > 3 else "")
    one_sided = (
        ""
        if problem.command == "hessian"
        else "; --scheme forward or backward takes the side where f is"
    )
    return [
        f"finite differences take f on both sides of the point, and f is not finite at "
        f"{shown} (h = {short(step)}), though it is at the point: the stencil leaves f's "
        f"domain, or float64's range, and no central difference can be taken here{one_sided}"
    ]


def _without_stops(problem: Problem, options: Options) -> str | None:
    """What finite differences of the function with every stop removed give: the lesson's
    contrast (a gradient command only; the text of its value)."""
    if problem.command == "hessian":
        return None
    from diffcli.methods import numeric
    from diffcli.render.numbers import array

    outcome = numeric.differentiate(
        problem, options.scheme, options.dtype, options.step, options.max_memory, False
    )
    return ", ".join(f"{name}: {array(value, 8)}" for name, value in outcome.value.items())


def _stops_note(without: str | None) -> str:
    note = (
        "finite differences hold each stop_gradient at its value at the point while they "
        "perturb the rest, as detach does"
    )
    return note + (f"; without the stops they give {without}" if without else "")


def _method(name: str, problem: Problem, options: Options) -> Callable[[], Outcome]:
    """The method as a call with nothing left to import, so that timing measures the work."""
    if name == "numeric":
        from diffcli.methods import numeric

        if problem.command == "hessian":
            if options.scheme != "central":
                raise OptionError(
                    f"--scheme {options.scheme}: the Hessian is computed by central second "
                    "differences; use --scheme central (the default)"
                )
            return lambda: numeric.hessian(problem, options.dtype, options.step, options.max_memory)
        return lambda: numeric.differentiate(
            problem, options.scheme, options.dtype, options.step, options.max_memory
        )
    from diffcli.methods import autograd

    if options.mode == "forward" or problem.output_shape:  # the vectorised passes' first use
        autograd.warm_up(options.device, options.dtype, options.mode)
    return lambda: autograd.differentiate(problem, options.device, options.dtype, options.mode)


def _timed(
    name: str,
    compute: Callable[[], Outcome],
    notes: list[str],
    share: float | None,
    budget: Budget,
) -> MethodResult:
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught, deadline(share):
            warnings.simplefilter("always")
            outcome = compute()
    except DiffcliError:
        raise
    except TimedOut:
        return _result(name, None, time.perf_counter() - start, _timed_out(share, budget))
    except Exception as failure:
        return _result(name, None, time.perf_counter() - start, _one_line(failure))
    seconds = time.perf_counter() - start
    for warning in caught:
        if issubclass(warning.category, (DeprecationWarning, FutureWarning)):
            continue  # a library's notice to its own callers, not about the user's input
        message = f"{name}: {str(warning.message).splitlines()[0]}"
        if message not in notes:
            notes.append(message)
    if name in REPEATED and seconds < REPEAT_UNDER:
        seconds = _fastest(compute, seconds)
    return _result(name, outcome, seconds, None)


REPEATED = ("numeric", "autograd")  # pure arithmetic; symbolic's second run would hit caches
REPEAT_UNDER = 2e-3  # a run this quick is timed again: a first run pays one-off costs
REPEATS = 3


def _fastest(compute: Callable[[], Outcome], first: float) -> float:
    """The fastest of REPEATS runs (the first included), while they stay quick: at a
    millisecond, a first run's allocations and caches are a large share of its time."""
    times = [first]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while len(times) < REPEATS and sum(times) < REPEATS * REPEAT_UNDER:
            start = time.perf_counter()
            try:
                compute()
            except Exception:  # it succeeded once; a repeat that fails is not timed
                break
            times.append(time.perf_counter() - start)
    return min(times)


def _result(name: str, outcome: Outcome | None, seconds: float, error: str | None) -> MethodResult:
    if outcome is None:
        return MethodResult(name, False, None, seconds, error=error or "failed")
    return MethodResult(name, True, outcome.value, seconds, details=dict(outcome.details))


def _timed_out(share: float | None, budget: Budget) -> str:
    return (
        f"timed out after {share or 0:.2g} s, its share of --timeout {budget.seconds:g} s; "
        "the other methods still answer"
    )


def _one_line(failure: BaseException) -> str:
    text = str(failure).strip().splitlines()
    return f"{type(failure).__name__}: {text[0] if text else ''}".rstrip(": ")


def _fallback_reference(
    problem: Problem,
    options: Options,
    results: dict[str, MethodResult],
    failed: Reference,
    budget: Budget,
) -> Reference:
    """Without SymPy's exact value, the best numeric estimate, labelled as such.

    It has what is left of --timeout (finite differences cost one evaluation of f per
    entry and step, so a large vector can take long); when that runs out, the numeric
    method's own estimate stands in.
    """
    from diffcli.methods import numeric

    if problem.command == "hessian":
        source = "numeric (central second differences)"
        estimate = partial(numeric.hessian, problem, "float64", memory_mib=options.max_memory)
    else:
        source = "richardson"
        estimate = partial(
            numeric.differentiate, problem, "richardson", "float64", memory_mib=options.max_memory
        )
    try:
        with warnings.catch_warnings(), deadline(budget.left()):
            warnings.simplefilter("ignore")
            outcome = estimate()
    except (Exception, TimedOut):  # a best effort: the numeric result stands in
        numeric_result = results.get("numeric")
        if numeric_result is None or not numeric_result.ok:
            return Reference(None, None, [*failed.problems, "no reference could be computed"])
        outcome, source = Outcome(numeric_result.value or {}), "numeric"
    note = f"no exact value: the reference is the {source} estimate"
    if math.isinf(outcome.details.get("error_estimate", 0.0)):
        note += ", whose own error is unknown (est. ±inf): agreeing with it proves little"
    return Reference(source, outcome.value, [*failed.problems, note])


def _closed_form(
    problem: Problem, symbolic: Any, reference: Reference, layout: str
) -> dict[str, str]:
    if symbolic is None or reference.source != "exact" or reference.value is None:
        return {}
    from diffcli.methods.matrix_calculus import closed_forms

    return closed_forms(problem, reference.value, layout)


def _function_scale(problem: Problem) -> tuple[float, bool]:
    """max(1, |f(x0)|, its largest term) over finite entries (what round-off in f is
    measured against: at a minimum the terms may be far larger than f), and whether every
    entry of f(x0) is finite."""
    from diffcli.methods.numeric.kit import largest_term, value_at_point

    value = value_at_point(problem)
    finite = np.isfinite(value)
    size = float(np.max(np.abs(value[finite]), initial=0.0))
    return max(1.0, size, largest_term(problem)), bool(finite.all())

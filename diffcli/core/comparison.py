"""Run the methods on one Problem, measure each against the exact reference, and decide.

The verdict: every method that ran is within its tolerance of the reference (agree, exit
0), or one is not or failed (disagree, exit 1), or the point sits on a kink where the
one-sided derivatives differ (not differentiable, exit 3: the methods' conventions differ).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from diffcli.core.deadline import Budget, TimedOut, deadline
from diffcli.core.errors import DiffcliError, ExitStatus, OptionError
from diffcli.core.options import Options
from diffcli.core.problem import Problem
from diffcli.lang.expr import Call, walk
from diffcli.lang.ops import KINKS
from diffcli.lang.printer import to_text
from diffcli.methods import Outcome, load_engines

AGREE, DISAGREE, KINK = "agree", "disagree", "not differentiable"
NUMERIC_WIDEST = 1e-4  # the widest tolerance numeric's own estimate can give it (relative)
EXIT_CODES = {
    AGREE: ExitStatus.AGREE,
    DISAGREE: ExitStatus.FAILED,
    KINK: ExitStatus.NOT_DIFFERENTIABLE,
}


@dataclass
class MethodResult:
    """One method's answer and how far it is from the reference."""

    name: str
    ok: bool
    value: dict[str, np.ndarray] | None
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    abs_error: float | None = None
    rel_error: float | None = None
    rtol: float = 0.0
    atol: float = 0.0
    within: bool | None = None
    by_design: str | None = None

    @property
    def digits(self) -> float | None:
        """Correct significant digits: -log10 of the relative error, capped at 17."""
        if self.rel_error is None or math.isnan(self.rel_error):
            return None
        if self.rel_error == 0:
            return 17.0
        return max(0.0, min(17.0, -math.log10(self.rel_error)))


@dataclass
class Reference:
    """What the methods are measured against, and where it came from."""

    source: str | None
    value: dict[str, np.ndarray] | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Kink:
    """An operation on its kink at the point, with the one-sided derivatives there.

    `jump` means the one-sided limits do not settle (the function itself jumps, as sign
    does at 0). Otherwise the subgradient set is, entry by entry, the interval between
    the left and right derivatives (Clarke's generalized gradient: [-1, 1] for abs at 0).
    """

    op: str
    where: str
    condition: str
    left: dict[str, np.ndarray]
    right: dict[str, np.ndarray]
    differentiable: bool
    jump: bool = False

    def subgradient(self) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
        if self.jump:
            return None
        return {
            name: (
                np.minimum(self.left[name], self.right[name]),
                np.maximum(self.left[name], self.right[name]),
            )
            for name in self.left
        }


@dataclass
class HessianSummary:
    """What the exact Hessian says about the point: symmetric, and which curvature."""

    eigenvalues: list[float]
    definiteness: str


@dataclass
class Comparison:
    """The full result of comparing the methods on one expression at one point."""

    command: str
    expression: str
    parsed: str
    problem: Problem
    options: Options
    reference: Reference
    methods: dict[str, MethodResult]
    status: str
    notes: list[str]
    kinks: list[Kink] = field(default_factory=list)
    closed_form: dict[str, str] = field(default_factory=dict)
    hessian: HessianSummary | None = None
    derived: Any = field(default=None, repr=False)  # SymPy's derivation, for formulas on demand

    def formulas_latex(self) -> dict[str, str]:
        """The derivatives in LaTeX (made only when asked: SymPy's printer is not free)."""
        if self.derived is None:
            return {}
        from diffcli.methods.symbolic import formulas_latex

        return formulas_latex(self.derived)

    @property
    def agree(self) -> bool:
        return self.status == AGREE

    @property
    def exit_code(self) -> int:
        return int(EXIT_CODES[self.status])

    def in_layout(self, value: np.ndarray) -> np.ndarray:
        """A derivative array (numerator layout inside) in the layout the user asked for."""
        if self.options.layout == "numerator" or self.problem.command != "jacobian":
            return value
        outputs = len(self.problem.output_shape)
        axes = list(range(value.ndim))
        return np.transpose(value, axes[outputs:] + axes[:outputs])

    def __rich__(self) -> Any:
        from diffcli.render.table import render_table

        return render_table(self)

    def _repr_html_(self) -> str:
        from diffcli.render.table import to_html

        return to_html(self)

    def to_json(self) -> dict[str, Any]:
        from diffcli.render.json import to_record

        return to_record(self)


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
    kinks = (
        _bounded(
            partial(_kinks, problem, scale, options.max_memory),
            budget,
            1,
            [],
            notes,
            "the check for kinks at the point",
        )
        if symbolic is not None
        else []
    )
    measured = [
        _measure(r, reference, problem, options, scale, bool(kinks)) for r in results.values()
    ]
    explicit = options.rtol is not None or options.atol is not None  # kept as given
    moved = (
        None
        if explicit
        else _stored_point_shift(problem, symbolic, reference, results, budget.left())
    )
    if moved:
        measured = [
            _measure(r, reference, problem, options, scale, bool(kinks), moved.shift)
            for r in results.values()
        ]
        notes.append(moved.note)
    notes.extend(note for note in measured if note)
    _mark_stop_gradient(problem, results, notes)
    summary = (
        _bounded(
            partial(_hessian_summary, results, reference),
            budget,
            1,
            None,
            notes,
            "the Hessian's eigenvalues",
        )
        if problem.command == "hessian"
        else None
    )
    status = _verdict(results, reference, kinks, notes)
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
    share = budget.share(stages)
    try:
        with warnings.catch_warnings(), deadline(share):
            warnings.simplefilter("ignore")
            outcome, derived = symbolic.differentiate(problem)
            values, problems = symbolic.reference(derived)
            outside = symbolic.domain_problem(derived) if check_domain else None
    except DiffcliError:
        raise
    except TimedOut:
        seconds = time.perf_counter() - start
        return Reference(None, None), None, seconds, _timed_out(share, budget), None
    except Exception as failure:  # SymPy cannot do it: the other methods still answer
        seconds = time.perf_counter() - start
        return Reference(None, None), None, seconds, _one_line(failure), None
    seconds = time.perf_counter() - start
    if outside:
        problems.insert(0, outside)
    return Reference("exact", values, problems), outcome, seconds, None, derived


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
        float(np.max(_difference(at_stored[name], ref), initial=0.0))
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
    for warning in caught:
        if issubclass(warning.category, (DeprecationWarning, FutureWarning)):
            continue  # a library's notice to its own callers, not about the user's input
        message = f"{name}: {str(warning.message).splitlines()[0]}"
        if message not in notes:
            notes.append(message)
    return _result(name, outcome, time.perf_counter() - start, None)


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
    """max(1, |f(x0)|) over its finite entries (what round-off in f is measured against),
    and whether every entry of f(x0) is finite."""
    from diffcli.methods.numeric import value_at_point

    value = value_at_point(problem)
    finite = np.isfinite(value)
    return max(1.0, float(np.max(np.abs(value[finite]), initial=0.0))), bool(finite.all())


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


def _measure(
    result: MethodResult,
    reference: Reference,
    problem: Problem,
    options: Options,
    scale: float,
    near_kink: bool,
    stored_shift: float = 0.0,
) -> str | None:
    """Set the method's errors and tolerances; a note when numeric is held to its estimate.
    stored_shift is allowed on top: see _stored_point_shift.

    Finite differences at a badly conditioned point (sin(x) at 1e8, where |x f'| dwarfs
    |f|) cannot reach the default tolerance, and their error estimate says so. There,
    unless --rtol or --atol is given, numeric is held to its own estimate (trusted: it
    bounds the error in every case of benchmarks/numeric_accuracy.py) up to 1e-4 of the
    derivative, rather than called a disagreement.
    """
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
        atol = rtol * 1e-3
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
        diff = _difference(result.value[name], ref)
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


def _difference(value: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|value - ref| entrywise, 0 where both are the same non-finite number, inf on a mismatch."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(value - ref)
    same_special = (~np.isfinite(ref)) & ((value == ref) | (np.isnan(value) & np.isnan(ref)))
    diff = np.where(same_special, 0.0, diff)
    return np.where(np.isnan(diff), math.inf, diff)


def _hessian_summary(
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


def _mark_stop_gradient(
    problem: Problem, results: dict[str, MethodResult], notes: list[str]
) -> None:
    """Finite differences see through stop_gradient; their difference is by design."""
    uses = problem.expr is not None and any(
        isinstance(node, Call) and node.op is not None and node.op.name == "stop_gradient"
        for node in walk(problem.expr)
    )
    numeric = results.get("numeric")
    if not uses or numeric is None or not numeric.ok or numeric.within:
        return
    numeric.by_design = (
        "stop_gradient: finite differences perturb the input and see the stopped path too"
    )
    notes.append(
        "numeric differs by design: stop_gradient makes symbolic and autograd treat its "
        "argument as a constant, which finite differences cannot see"
    )


def _kinks(problem: Problem, scale: float, memory_mib: float) -> list[Kink]:
    from diffcli.methods import numeric, symbolic

    sites = symbolic.kink_sites(problem)
    if not sites:
        return []
    backward = numeric.differentiate(problem, "backward", "float64", memory_mib=memory_mib)
    forward = numeric.differentiate(problem, "forward", "float64", memory_mib=memory_mib)
    left, right = backward.value, forward.value
    tolerance = 1e-5 * scale
    # differentiable: both one-sided limits exist (their estimates settle) and are equal
    settled = all(o.details["error_estimate"] <= tolerance for o in (backward, forward))
    differentiable = settled and all(
        float(np.max(_difference(left[name], right[name]), initial=0.0)) <= tolerance
        for name in problem.wrt
    )
    jump = not settled
    kinks = []
    for site in sites:
        where = problem.text[site.text_span[0] : site.text_span[1]]
        condition = KINKS[site.condition]
        kinks.append(Kink(site.op, where, condition, left, right, differentiable, jump))
    return kinks


def _subgradient_text(kink: Kink) -> str:
    from diffcli.render.numbers import array

    bounds = kink.subgradient() or {}
    return "; ".join(
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


def _verdict(
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
        if kink.jump:
            notes.append(
                f"not differentiable here: {kink.where} jumps at this point ({kink.condition}); "
                "there is no derivative and no subgradient"
            )
        else:
            notes.append(
                f"not differentiable here: {kink.where} is at its kink ({kink.condition}): the "
                f"left and right derivatives differ, and every value in between is a "
                f"subgradient ({_subgradient_text(kink)})"
            )
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

"""f' over a whole interval: --over x=A:B:N, by all three methods, vectorised and in chunks.

- symbolic: SymPy's derivative evaluated on arrays of points by walking its tree with
  NumPy (derived once, no code generated);
- numeric: the stencil on arrays, f evaluated at every shifted point at once;
- autograd: one backward pass of the sum where each point's f depends on that point alone,
  else torch.func.vmap of torch.func.grad over the points, on the chosen device;
- the reference: the same derivative exact where it matters (Reference): float64 with a
  bound on its rounding error where the bound is tiny, long double (about 19 digits on
  x86) elsewhere and at the sample the medians come from; checked at a few points against
  mpmath.
The NumPy work of a chunk is split between the cores' threads (in_halves), and freed
memory is kept for the next chunk's arrays (resources.freed_memory_kept).
Points are taken a chunk at a time and nothing grows with N: the summary keeps running
maxima and a strided sample (for medians), --values streams each chunk to its file, and
--plot keeps a few thousand points. The whole run is under --timeout: past it, the
summary covers the points done, and says so.
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from diffcli.core.deadline import TimedOut, deadline, shielded
from diffcli.core.errors import ExitStatus, OptionError
from diffcli.core.options import Options
from diffcli.core.problem import Problem, build_problem
from diffcli.core.resources import freed_memory_kept, release_freed_memory
from diffcli.features import truncation
from diffcli.features.kink_points import KinkPoints, infinite_slopes
from diffcli.features.truncation import Holding
from diffcli.methods import load_engines

CHUNK = 1 << 18  # points a pass: about 10-50 ms of work, and a few MiB a column
MAX_POINTS = 10**8
SAMPLED = 1 << 13  # points whose errors the medians are taken from, with a long double reference
TRUSTED = 2.0**-40  # float64 is the reference where its rounding bound is at most this of it
PLOTTED = 5000  # points kept for --plot, about
TRIM_EVERY = 8  # chunks between hand-backs of freed memory (resources.release_freed_memory)
NOTHING_COMPARED = (  # a method's error where every point is left out (exp(x) past 710)
    "no point to compare at: f or its exact derivative is not finite at every one (notes)"
)
_OVER = re.compile(r"^\s*([A-Za-z]\w*)\s*=\s*([^:]+):([^:]+):\s*(\d+)\s*$")


@dataclass(frozen=True)
class Over:
    name: str
    lo: float
    hi: float
    n: int

    @property
    def spacing(self) -> float:
        return (self.hi - self.lo) / (self.n - 1) if self.n > 1 else 0.0

    def chunks(self, halo: int = 0) -> Iterator[tuple[int, Chunk]]:
        """(index of the first point, the points) a chunk at a time, each with the `halo`
        points of the grid either side of it (past its ends too) that numeric's differences
        reach."""
        for start in range(0, self.n, CHUNK):
            points = np.arange(start - halo, min(self.n, start + CHUNK) + halo, dtype=np.float64)
            with np.errstate(over="ignore"):  # past float64's range the halo's points are inf
                points *= self.spacing
                points += self.lo
            yield start, Chunk(points, halo)


class Chunk(NamedTuple):
    """A chunk's points, and `halo` more of the grid's either side of them."""

    points: np.ndarray
    halo: int

    @property
    def xs(self) -> np.ndarray:
        return self.points[self.halo : self.points.size - self.halo]


def parse_over(text: str) -> Over:
    match = _OVER.match(text)
    if not match:
        raise OptionError(f"--over {text}: expected NAME=A:B:N, e.g. x=-3:3:1001")
    name, lo, hi, n = match.groups()
    try:
        a, b = float(lo), float(hi)
    except ValueError:
        raise OptionError(f"--over {text}: A and B must be numbers") from None
    count = int(n)
    if not (math.isfinite(a) and math.isfinite(b)) or count < 2 or count > MAX_POINTS:
        raise OptionError(f"--over {text}: A and B finite, and 2 <= N <= {MAX_POINTS:,}")
    if not math.isfinite(b - a):  # the spacing would be inf, and the points inf and nan
        raise OptionError(f"--over {text}: B - A must be within float64's range (1.8e308)")
    return Over(name, a, b, count)


class Strided:
    """Every stride-th point's value, in order, in one array made before the first chunk:
    each chunk writes its share into it. (Kept as a small array a chunk, they were
    long-lived blocks among the chunks' large temporaries, and fragmented the heap: 120 MB
    more resident at 10^8 points than at 10^6.)"""

    def __init__(self, n: int, stride: int, dtype: type = np.float64) -> None:
        self.buffer = np.empty(len(range(0, n, stride)), dtype=dtype)
        self.filled = 0

    def add(self, values: np.ndarray) -> None:
        end = self.filled + values.size
        self.buffer[self.filled : end] = values
        self.filled = end

    @property
    def values(self) -> np.ndarray:
        return self.buffer[: self.filled]


@dataclass
class MethodSummary:
    """One method's errors over the grid, kept in a size that does not grow with N."""

    name: str
    seconds: float = 0.0
    abs_errors: Strided | None = None  # a strided sample (made when the grid starts)
    rel_errors: Strided | None = None
    max_abs: float = 0.0
    max_rel: float = 0.0
    points: int = 0  # points compared (inside the domain)
    worst: tuple[float, float] = (0.0, math.nan)  # (abs error, at x)
    error: str | None = None
    outside: int = 0  # points where the exact derivative is not finite (outside the domain)
    not_finite: int = 0  # points where this method's value is not finite, and the exact one is
    at_kinks: int = 0  # points where f is not differentiable (left out, as outside ones)
    slopes: int = 0  # points where f is finite and its slope infinite (left out too)
    # numeric, its stencil taken once: the largest error past its step's truncation error
    # (truncation.py), where the tolerance is held to that; at how many points it was, and
    # the widest allowance there (of |f'|)
    judged: float | None = None
    held: int = 0
    widest_held: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    rtol: float = 0.0
    within: bool | None = None

    def figures(self, n: int) -> dict[str, Any]:
        """The summary's figures, its rate over the `n` points done."""
        if self.error or not self.points:
            return {"ok": False, "error": self.error or NOTHING_COMPARED}
        return {
            "ok": True,
            "max_abs_error": self.max_abs,
            "median_abs_error": _median(self.abs_errors),
            "max_rel_error": self.max_rel,
            "median_rel_error": _median(self.rel_errors),
            "worst_at": self.worst[1],
            "seconds": self.seconds,
            "points_per_second": n / self.seconds if self.seconds > 0 else math.inf,
            "within_tolerance": self.within,
            "rtol": self.rtol,
            "points_outside_domain": self.outside,
            "points_at_kinks": self.at_kinks,
            "points_with_infinite_slope": self.slopes,
            **({"points_held_to_step": self.held} if self.judged is not None else {}),
            **self.details,
        }


def _median(sample: Strided | None) -> float:
    return float(np.median(sample.values)) if sample is not None and sample.filled else math.nan


@dataclass
class GridResult:
    problem: Problem
    over: Over
    methods: dict[str, MethodSummary]
    f_seconds: float
    reference_check: float
    notes: list[str]
    # chunks of every point's values (when asked to keep them), by column; and about
    # PLOTTED points' values for --plot
    kept: dict[str, list[np.ndarray]] | None = None
    plotted: dict[str, Strided] = field(default_factory=dict)
    covered: int = 0  # points done before --timeout, if it ran out
    reference_seconds: float = 0.0
    largest: float = 0.0  # max |f'| over the points done: what tolerances scale with
    long_double_points: int = 0  # where the reference is long double's, not float64's
    # where f is not differentiable: how many points, by the kink (as the note says it)
    kinks: dict[str, int] = field(default_factory=dict)
    slopes: int = 0  # and points where f is finite and its slope infinite
    # points on a kink where f is differentiable (relu(x) - relu(-x) at 0), compared as any
    smooth: dict[str, int] = field(default_factory=dict)
    # numeric's differences reach this many of the grid's points either side (0: it takes
    # stencils at x +- h instead; methods/numeric/gridded.py)
    halo: int = 0
    # --timeout came first: a run cut short never agrees, even where time ran out after
    # the last chunk's figures (while its --values rows were being written)
    timed_out: bool = False

    @property
    def values(self) -> dict[str, np.ndarray] | None:
        """Every point's values by column, when kept."""
        if self.kept is None:
            return None
        return {name: np.concatenate(parts) for name, parts in self.kept.items()}

    @property
    def sample(self) -> dict[str, np.ndarray]:
        """About PLOTTED points' x, f, reference and methods' values, for --plot."""
        return {name: kept.values for name, kept in self.plotted.items()}

    @property
    def agree(self) -> bool:
        complete = self.covered == self.over.n and not self.timed_out
        return complete and all(m.error is None and m.within for m in self.methods.values())

    def save_values(self, path: str) -> None:
        """Every point's values (kept with keep=True): .npy (a structured array) or .csv."""
        values = self.values
        assert values is not None
        with ValuesFile(path, list(values), self.over.n) as sink:
            sink.write(values)

    @property
    def exit_code(self) -> int:
        """0: the methods agree at every point; 3: they do where f is differentiable, and
        some points are at a kink; 1: a disagreement, a failure, time out."""
        if not self.agree:
            return int(ExitStatus.FAILED)
        differentiable = not (self.kinks or self.slopes)
        return int(ExitStatus.AGREE if differentiable else ExitStatus.NOT_DIFFERENTIABLE)

    def to_json(self) -> dict[str, Any]:
        from diffcli.render.numbers import jsonable

        return jsonable(
            {
                "command": "grad",
                "expression": self.problem.text,
                "over": {
                    "name": self.over.name,
                    "from": self.over.lo,
                    "to": self.over.hi,
                    "points": self.over.n,
                },
                "point": {
                    n: v.nested() for n, v in self.problem.point.items() if n != self.over.name
                },
                "reference": {
                    "source": "exact derivative in float64 where its rounding-error bound is "
                    f"at most {TRUSTED:.2g} of it, else in long double",
                    "long_double_points": self.long_double_points,
                    "seconds": self.reference_seconds,
                    "max_rel_error_vs_mpmath": self.reference_check,
                },
                "f_seconds": self.f_seconds,
                "methods": {name: m.figures(self.covered) for name, m in self.methods.items()},
                "agree": self.agree,
                "exit_code": self.exit_code,
                "notes": self.notes,
            }
        )


class ValuesFile:
    """--values FILE written a chunk at a time: .csv, or .npy (a structured array whose
    header is written first), so memory does not grow with N. Opened before any work, so
    a bad name or an unwritable place is refused at once."""

    def __init__(self, path: str, names: list[str], n: int) -> None:
        from diffcli.core.errors import DiffcliError

        self.names, self.n, self.rows = names, n, 0
        self.npy = path.endswith(".npy")
        if not (self.npy or path.endswith(".csv")):
            raise DiffcliError(f"--values {path}: write a .csv or a .npy file")
        try:
            self.file = open(path, "wb")  # noqa: SIM115 (closed by __exit__)
        except OSError as problem:
            raise DiffcliError(f"--values {path}: {problem.strerror or problem}") from None
        self.dtype = np.dtype([(name, np.float64) for name in names])
        if self.npy:
            header = {"descr": self.dtype.descr, "fortran_order": False, "shape": (n,)}
            np.lib.format.write_array_header_2_0(self.file, header)
        else:
            self.file.write((",".join(names) + "\n").encode())
        self.whole = self.file.tell()  # where the rows of whole chunks end

    def write(self, columns: dict[str, np.ndarray]) -> None:
        """A chunk's rows. A --timeout may cut them short (a CSV chunk takes about a second
        to write): what counts, and what closing keeps, are whole chunks' rows."""
        if self.npy:
            table = np.empty(len(columns[self.names[0]]), dtype=self.dtype)
            for name in self.names:
                table[name] = columns[name]
            self.file.write(table.data)
        else:
            stacked = np.column_stack([columns[name] for name in self.names])
            np.savetxt(self.file, stacked, delimiter=",", fmt="%.17g")
        with shielded():  # the count and where the whole chunks end, together
            self.rows += len(columns[self.names[0]])
            self.whole = self.file.tell()

    def __enter__(self) -> ValuesFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.rows < self.n:  # stopped early: whole chunks only, as many as the header says
            self.file.truncate(self.whole)
            if self.npy:
                self.file.seek(0)
                shape = (self.rows,)
                header = {"descr": self.dtype.descr, "fortran_order": False, "shape": shape}
                np.lib.format.write_array_header_2_0(self.file, header)
        self.file.close()


def grid_problem(expression: str, over: Over, at: str | None, options: Options) -> Problem:
    """The problem at the grid's first point, checked before any work."""
    point = f"{at}, {over.name}={over.lo!r}" if at else f"{over.name}={over.lo!r}"
    problem = build_problem(expression, point, [over.name], command="grad", limits=options.limits())
    if problem.shape_of(over.name):
        raise OptionError(f"--over {over.name}: the variable must be a scalar")
    if options.scheme == "richardson":
        raise OptionError("--over works with stencils and complex-step; richardson is per point")
    return problem


def value_columns(options: Options) -> list[str]:
    """The columns --values writes, in order."""
    return ["x", "reference", *options.methods]


def run_grid(
    expression: str,
    over_text: str,
    at: str | None,
    options: Options,
    keep: bool = False,
    sink: ValuesFile | None = None,
) -> GridResult:
    """f' at every point of the grid by each requested method, summarised against the
    reference; every point's values are kept (keep) or streamed to a sink."""
    over = parse_over(over_text)
    return run_grid_problem(grid_problem(expression, over, at, options), over, options, keep, sink)


def run_grid_problem(
    problem: Problem,
    over: Over,
    options: Options,
    keep: bool = False,
    sink: ValuesFile | None = None,
) -> GridResult:
    """run_grid for a problem already checked (grid_problem), under --timeout."""
    result = GridResult(problem, over, {n: MethodSummary(n) for n in options.methods}, 0.0, 0.0, [])
    load_engines(symbolic=True, autograd="autograd" in options.methods)
    try:
        with deadline(options.timeout), freed_memory_kept():
            _fill(result, options, keep, sink)
    except TimedOut:
        result.timed_out = True
        result.notes.append(
            f"timed out after {options.timeout:g} s (--timeout) with {result.covered:,} of "
            f"{over.n:,} points done: the figures cover those"
        )
        if sink is not None and sink.rows < result.covered:
            held = f"the first {sink.rows:,}" if sink.rows else "none"
            result.notes.append(
                f"--values holds {held} of them: time ran out while a chunk of rows was being "
                "written"
            )
        for summary in result.methods.values():
            if summary.points == 0 and summary.error is None:
                summary.error = f"timed out after {options.timeout:g} s (--timeout)"
    _verdicts(result, options)
    return result


def _fill(result: GridResult, options: Options, keep: bool, sink: ValuesFile | None) -> None:
    """The work of run_grid, a chunk at a time, into result (so that a timeout keeps what
    is done)."""
    from diffcli.methods import numeric, symbolic
    from diffcli.methods.numeric import crossings, gridded

    problem, over, summaries = result.problem, result.over, result.methods
    try:
        derived = symbolic.derive(problem)
    except Exception as failure:  # the grid's reference is SymPy's derivative: none, no grid
        reason = f"{type(failure).__name__}: {failure}".splitlines()[0]
        raise OptionError(
            f"--over: SymPy cannot differentiate this expression ({reason}), and a grid's "
            "reference is its derivative; take grad at single points (--at)"
        ) from None
    derivative = symbolic.without_stop_gradient(derived.derivatives[over.name].item())
    x_symbol = derived.leaves[over.name]
    fixed = {
        symbol: float(value)
        for name, v in problem.point.items()
        if name != over.name
        for symbol, value in zip(
            np.ravel(np.asarray(derived.leaves[name], dtype=object)), v.floats()
        )
    }
    plan = _plan(derivative)
    calls: dict[tuple[int, int], dict] = {}  # the symbolic method's function calls, a part
    made_f: dict[str, tuple[np.ndarray, float]] = {}  # a chunk's f, where numeric evaluates it
    runners = _runners(problem, over, options, plan, x_symbol, fixed, calls, made_f)
    reference_at = Reference(plan, x_symbol, fixed, calls)
    try:
        reference_at(np.array([over.lo, over.hi]), np.ones(2, dtype=bool))
    except symbolic.NoFloatForm as node:
        raise OptionError(
            f"--over: SymPy's derivative uses {node}, which has no float form here; "
            "take grad at single points (--at), where SymPy evaluates it"
        ) from None
    columns = value_columns(options)
    result.kept = {k: [] for k in columns} if keep else None
    plot_stride, sample_stride = max(1, over.n // PLOTTED), max(1, over.n // SAMPLED)
    result.plotted = {k: Strided(over.n, plot_stride) for k in ("f", *columns)}
    for summary in summaries.values():
        # float64, as the errors are: float32 held sinh(x)**2's 2e292 as inf, its median too
        summary.abs_errors = Strided(over.n, sample_stride)
        summary.rel_errors = Strided(over.n, sample_stride)
    for name in summaries:  # first use (imports, torch.func's set-up) is not the method's cost
        try:
            runners[name](Chunk(np.array([over.lo, over.hi]), 0))
        except Exception as failure:
            summaries[name].error = f"{type(failure).__name__}: {failure}".splitlines()[0]
    f_along = functools.partial(numeric.f_along, problem, over.name)
    f_along(np.array([over.lo, over.hi]))
    kinks = crossings.kinks_of(problem, over.name)
    on_kinks = KinkPoints(result, kinks, reference_at, f_along) if kinks else None
    halo = result.halo = _halo(problem, over, options) if "numeric" in summaries else 0
    held_to = truncation.for_grid(
        problem,
        options,
        derivative,
        x_symbol,
        kinks,
        lambda expr, dtype: _evaluator(_plan(expr), x_symbol, fixed, dtype),
        functools.partial(gridded.steps, spacing=over.spacing, most=halo) if halo else None,
    )
    if held_to is not None:
        summaries["numeric"].judged = 0.0
    calls.clear()  # the first uses' calls are no chunk's
    result.reference_check = _check_reference(reference_at, derivative, x_symbol, fixed, over)
    for first, points in over.chunks(halo):
        calls.clear()
        xs = points.xs
        chunk = {"x": xs}
        done = []
        sampled = np.zeros(xs.size, dtype=bool)
        sampled[-first % sample_stride :: sample_stride] = True
        made = None
        for name, summary in summaries.items():
            if summary.error is None:
                _run_method(runners[name], summary, points, chunk, done)
            if name == "symbolic":
                # the reference reuses the symbolic method's function calls: made at once,
                # they are let go before the next method's arrays are made
                made = _reference(result, reference_at, xs, sampled)
        reference, long_double = made or _reference(result, reference_at, xs, sampled)
        result.long_double_points += long_double
        f, f_seconds = made_f.pop("f", None) or _timed(in_halves, f_along, xs)
        result.f_seconds += f_seconds
        # where f itself is not finite (log(x) for x < 0, whose derivative 1/x is), there
        # is nothing to differentiate
        if not _all_finite(f):
            reference[~np.isfinite(f)] = np.nan
        chunk["reference"] = reference
        finite = _all_finite(reference)
        slopes = None if finite else infinite_slopes(xs, reference, reference_at.long_double)
        at_kinks = on_kinks(xs, slopes) if on_kinks else None
        against = _Against(xs, reference, sampled, at_kinks, slopes, finite)
        result.slopes += against.slopes
        result.largest = max(result.largest, against.largest)
        _accumulate_all(done, against, chunk, held_to)
        if held_to is not None:
            held_to.judge(summaries["numeric"])
        result.covered += xs.size  # the figures cover this chunk now, should time run out
        for name in columns:  # a method that failed has nothing to show
            if name not in chunk:
                chunk[name] = np.full(xs.shape, np.nan)
        if sink is not None:
            sink.write(chunk)
        on_plot = slice(-first % plot_stride, None, plot_stride)
        result.plotted["f"].add(f[on_plot])
        for name in columns:
            result.plotted[name].add(chunk[name][on_plot])
            if result.kept is not None:
                result.kept[name].append(np.array(chunk[name]))
        # this chunk's arrays go before the next chunk's are made, which then reuse them
        # (else both chunks' would be held at once, and the heap grow by page faults)
        del f, chunk, reference, against
        if (first // CHUNK) % TRIM_EVERY == TRIM_EVERY - 1:
            release_freed_memory()


def _run_method(
    runner: Any, summary: MethodSummary, points: Chunk, chunk: dict, done: list
) -> None:
    """One method over a chunk, into chunk[its name]; a failure is its error, and hides
    no other method."""
    start = time.perf_counter()
    try:
        values = np.asarray(runner(points), dtype=np.float64)
        chunk[summary.name] = np.broadcast_to(values, points.xs.shape)
    except Exception as failure:
        summary.error = f"{type(failure).__name__}: {failure}".splitlines()[0]
        return
    summary.seconds += time.perf_counter() - start
    done.append(summary)


def _reference(
    result: GridResult, reference_at: Reference, xs: np.ndarray, sampled: np.ndarray
) -> tuple[np.ndarray, int]:
    """The chunk's reference, and at how many points it is long double's; timed."""
    start = time.perf_counter()
    made = in_halves(reference_at, xs, sampled)
    result.reference_seconds += time.perf_counter() - start
    return made


def _verdicts(result: GridResult, options: Options) -> None:
    """Each method's tolerance and whether it held over the points done; notes."""
    from diffcli.core.verdict import default_tolerance
    from diffcli.methods.numeric import crossings

    for summary in result.methods.values():
        if summary.error is None and summary.points:
            rtol = (
                options.rtol
                if options.rtol is not None
                else default_tolerance(summary.name, options, 1)
            )
            atol = options.atol if options.atol is not None else rtol
            summary.rtol = rtol
            judged = summary.worst[0] if summary.judged is None else summary.judged
            summary.within = judged <= atol + rtol * result.largest
            if summary.held:
                kinked = bool(crossings.kinks_of(result.problem, result.over.name))
                result.notes.append(truncation.note(summary, kinked, result.halo > 0))
    result.notes.insert(
        0,
        f"reference: SymPy's derivative in long double at {result.long_double_points:,} of "
        f"the {result.covered:,} points (a sample, which the medians come from, and where "
        f"float64's rounding-error bound is above {TRUSTED:.1e} of the value), in float64 "
        "at the rest; at 5 points its largest "
        f"relative error against mpmath at 40 digits is {result.reference_check:.1e}",
    )
    for where, count in result.kinks.items():
        result.notes.append(
            f"not differentiable at {count:,} {'point' if count == 1 else 'points'}: {where}, "
            "and the one-sided derivatives differ (or f jumps), so what each method gives "
            "there is its convention (SymPy: sign(0) = 0, Heaviside(0) = 1/2; the central "
            "difference averages the two sides; torch picks one subgradient, e.g. relu'(0) = "
            f"0): {'it is' if count == 1 else 'they are'} left out of the errors"
        )
    for where, count in result.smooth.items():
        result.notes.append(
            f"{where} at {count:,} {'point' if count == 1 else 'points'}, but the one-sided "
            "derivatives agree there: f is differentiable, and compared as at any other point "
            "(a method that takes a convention at the kink, as torch's relu'(0) = 0, can miss "
            "its derivative there)"
        )
    if result.slopes:
        count = result.slopes
        result.notes.append(
            f"not differentiable at {count:,} {'point' if count == 1 else 'points'}: f is "
            "finite there, but its exact derivative is infinite (an infinite slope, as "
            "sqrt(x)'s at 0; not a jump), so no method can agree with it and there is no "
            f"subgradient: {'it is' if count == 1 else 'they are'} left out of the errors"
        )
    for summary in result.methods.values():
        if summary.not_finite:
            result.notes.append(_not_finite_note(summary))
    outside = max((m.outside for m in result.methods.values()), default=0)
    if outside:
        result.notes.append(
            f"{outside:,} {'point' if outside == 1 else 'points'} where f or its exact "
            "derivative is not finite (outside the domain, at a singularity, or past float64's "
            "range) "
            f"{'is' if outside == 1 else 'are'} left out of the errors"
        )


def _not_finite_note(summary: MethodSummary) -> str:
    """Where a method gave inf or nan and the exact derivative is finite: why, by method."""
    count = summary.not_finite
    why = (
        "its stencil reaches where f is not finite (past the domain's edge, or float64's range)"
        if summary.name == "numeric"
        else "a step of its float64 evaluation overflowed, or was undefined (inf - inf, 0 * inf)"
    )
    return (
        f"{summary.name} is not finite at {count:,} {'point' if count == 1 else 'points'} "
        f"where the exact derivative is (x = {summary.worst[1]:.6g}"
        f"{' among them' if count > 1 else ''}): {why}"
    )


def _runners(
    problem: Problem,
    over: Over,
    options: Options,
    plan: tuple[tuple, Any],
    x_symbol: Any,
    fixed: dict[Any, float],
    calls: dict[tuple[int, int], dict],
    made_f: dict[str, tuple[np.ndarray, float]],
) -> dict[str, Any]:
    """Each method's work on a chunk; numeric's leaves the chunk's f in made_f where it
    evaluates it (at the grid's own points, for its differences)."""
    from diffcli.methods import numeric

    symbolic_values = _evaluator(plan, x_symbol, fixed, np.float64, calls)
    autograd = _autograd(problem, over.name, options)

    def stencils(xs: np.ndarray) -> np.ndarray:
        return in_halves(functools.partial(_numeric, problem, over.name, options=options), xs)

    def numeric_on(chunk: Chunk) -> np.ndarray:
        if not chunk.halo:
            return stencils(chunk.xs)
        f, seconds = _timed(
            in_halves, functools.partial(numeric.f_along, problem, over.name), chunk.points
        )
        made_f["f"] = (f[chunk.halo : f.size - chunk.halo], seconds)
        return numeric.along_grid(
            problem, over.name, chunk.points, f, chunk.halo, over.spacing, stencils
        )

    return {
        "symbolic": lambda chunk: in_halves(symbolic_values, chunk.xs),
        "numeric": numeric_on,
        "autograd": lambda chunk: autograd(chunk.xs),
    }


def _halo(problem: Problem, over: Over, options: Options) -> int:
    """The points either side of a chunk that numeric's differences from the grid's own
    points reach (methods/numeric/gridded.py); 0 where it takes its stencils: a scheme,
    step or dtype other than the default central difference's, a second derivative, or a
    stop_gradient (its value is held at x_i, not taken at the grid's x_{i+k})."""
    from diffcli.lang.expr import stops_in
    from diffcli.methods.numeric import gridded

    default = options.scheme == "central" and options.step is None and options.dtype == "float64"
    if not default or problem.order != 1 or stops_in(problem.expr):
        return 0
    return gridded.halo(over.lo, over.hi, over.spacing)


def _timed(work: Any, *args: Any) -> tuple[Any, float]:
    """work(*args), and the seconds it took."""
    start = time.perf_counter()
    done = work(*args)
    return done, time.perf_counter() - start


class Reference:
    """f' exact where it matters, without long double everywhere: SymPy's derivative in
    float64 with a bound on its rounding error (methods/rounding_bound.py) where that bound
    is at most TRUSTED of the value, and in long double (about 19 digits on x86) at the
    other points and at the sampled ones, whose errors the medians are taken from. The
    symbolic method evaluates the same plan in float64 just before, to the same bits: its
    function calls (`calls`, by the points' memory) are not made again."""

    def __init__(
        self,
        plan: tuple[tuple, Any],
        x_symbol: Any,
        fixed: dict[Any, float],
        calls: dict[tuple[int, int], dict] | None = None,
    ) -> None:
        self.shared, self.reduced = plan
        self.x_symbol, self.fixed, self.calls = x_symbol, fixed, calls
        self.long_double = _evaluator(plan, x_symbol, fixed, np.longdouble)

    def __call__(self, xs: np.ndarray, sampled: np.ndarray) -> tuple[np.ndarray, int]:
        """The reference at xs, and at how many of them it is long double's."""
        from diffcli.methods import rounding_bound as bound

        known = self.calls.pop(_memory(xs), None) if self.calls is not None else None
        values = {s: bound.exact(np.float64(v)) for s, v in self.fixed.items()}
        values[self.x_symbol] = bound.exact(xs)
        for symbol, piece in self.shared:
            values[symbol] = bound.bounded_values(piece, values, known)
        result = bound.bounded_values(self.reduced, values, known)
        reference = result.value
        fresh = isinstance(reference, np.ndarray) and reference.flags.owndata
        if not (fresh and reference.shape == xs.shape):  # a constant, or the points' own
            reference = np.array(np.broadcast_to(reference, xs.shape), dtype=np.float64)
        trusted = bound.everywhere_within(result, TRUSTED)
        again = np.flatnonzero(sampled if trusted else sampled | ~bound.within(result, TRUSTED))
        if again.size:
            with np.errstate(over="ignore"):  # past float64's range: inf, as it should be
                reference[again] = self.long_double(xs[again])
        return reference, again.size


@functools.lru_cache(maxsize=64)  # a warm session asks for the same grid again
def _plan(derivative: Any) -> tuple[tuple, Any]:
    """f' with its common subexpressions found once (f' repeats f's pieces): the
    (symbol, piece) pairs in order, and what is left."""
    import sympy as sp

    shared, (reduced,) = sp.cse(derivative)
    return tuple(shared), reduced


def _memory(xs: np.ndarray) -> tuple[int, int]:
    """Where xs's points lie: the same part of a chunk, whichever slice of it names them."""
    return xs.__array_interface__["data"][0], xs.size


def _evaluator(
    plan: tuple[tuple, Any],
    x_symbol: Any,
    fixed: dict[Any, float],
    dtype: type,
    calls: dict[tuple[int, int], dict] | None = None,
) -> Any:
    """f' on an array of points in `dtype` (float64 for the symbolic method, long double
    for the reference), by its plan; each part's function calls kept in `calls` where
    given, for the reference."""
    from diffcli.methods import symbolic

    shared, reduced = plan
    constants = {symbol: dtype(value) for symbol, value in fixed.items()}

    def values_at(xs: np.ndarray) -> np.ndarray:
        made: dict | None = None if calls is None else {}
        values: dict[Any, Any] = {**constants, x_symbol: xs.astype(dtype, copy=False)}
        for symbol, piece in shared:
            values[symbol] = symbolic.array_values(piece, values, dtype, made)
        out = np.broadcast_to(symbolic.array_values(reduced, values, dtype, made), xs.shape)
        if calls is not None:
            calls[_memory(xs)] = made
        return out

    return values_at


def in_halves(work: Any, xs: np.ndarray, *more: np.ndarray) -> Any:
    """work(xs, *more), the points split between the machine's cores: NumPy lets go of
    Python's lock inside each operation, so the parts run at once, each writing its part
    of the float64 result. work returns an array of xs's shape, or (such an array, a
    count), whose counts are added."""
    if xs.size < PARALLEL_FROM or WORKERS == 1:
        return work(xs, *more)
    out = np.empty(xs.shape, dtype=np.float64)
    arrays = (xs, *more)

    def part(low: int, high: int) -> int | None:
        done = work(*(a[low:high] for a in arrays))
        values, count = done if isinstance(done, tuple) else (done, None)
        out[low:high] = values
        return count

    bounds = itertools.pairwise(np.linspace(0, xs.size, WORKERS + 1).astype(int))
    counts = _at_once([functools.partial(part, low, high) for low, high in bounds])
    return out if counts[0] is None else (out, sum(counts))


def _at_once(tasks: list[Any]) -> list[Any]:
    """Each task's result, in order: the first in this thread while the pool's threads run
    the others. (With this thread only waiting, every call paid a hand-over more: 0.14 ms
    against 0.06, as much as a cheap function's whole half-chunk.)

    Handing tasks over and waiting for them is shielded from --timeout: TimedOut raised
    inside the pool's locks (a future's condition, held by the wait) would leave one held,
    and the worker that finishes that future, and the exit that joins the worker, waiting
    for it for ever. The deadline is raised once they are let go; the work itself, in
    this thread, stays interruptible."""
    if len(tasks) < 2 or WORKERS == 1:
        return [task() for task in tasks]
    with shielded():
        later = [_pool(os.getpid()).submit(task) for task in tasks[1:]]
    try:
        first = tasks[0]()
    finally:  # the others' writes end before their arrays go, even on a failure here
        with shielded():
            concurrent.futures.wait(later)
    with shielded():
        return [first, *(future.result() for future in later)]


PARALLEL_FROM = 1 << 14  # points below which one thread is quicker
WORKERS = max(1, min(4, os.cpu_count() or 1))


@functools.cache
def _pool(process: int) -> Any:
    """The threads, per process: a forked batch worker must not use its parent's. They
    share the main thread's heap, where the methods run in turn."""
    from diffcli.core.resources import one_heap_for_new_threads

    one_heap_for_new_threads()
    return concurrent.futures.ThreadPoolExecutor(WORKERS - 1, thread_name_prefix="diffcli-grid")


def _numeric(problem: Problem, name: str, xs: np.ndarray, options: Options) -> np.ndarray:
    from diffcli.methods.numeric import along

    return along(problem, name, xs, options.scheme, options.dtype, options.step, options.max_memory)


def _autograd(problem: Problem, name: str, options: Options) -> Any:
    """The autograd runner, made at its first use (torch is imported only if it is asked
    for, and a device that is absent is that method's error)."""

    @functools.cache
    def gradient() -> Any:
        from diffcli.methods.autograd import grid_gradient

        return grid_gradient(problem, name, options.device, options.dtype)

    return lambda xs: gradient()(xs)


class _Against:
    """A chunk's reference, prepared once for every method's errors: the points where it
    is finite and f differentiable (the rest are counted out), |exact| for relative
    errors, the sampled points."""

    def __init__(
        self,
        xs: np.ndarray,
        reference: np.ndarray,
        sampled: np.ndarray,
        at_kinks: np.ndarray | None = None,
        slopes: np.ndarray | None = None,
        finite: bool | None = None,  # whether every value of the reference is (if known)
    ) -> None:
        # a point on a kink where f is not differentiable is counted as that, also where
        # SymPy's derivative there is not finite (x*sign(x) at 0: 2*x*DiracDelta(x) is nan);
        # so is one where f is finite and its slope infinite (sqrt(x) at 0)
        self.at_kinks = 0 if at_kinks is None else int(np.count_nonzero(at_kinks))
        self.slopes = 0 if slopes is None else int(np.count_nonzero(slopes))
        left_out = [mask for mask in (at_kinks, slopes) if mask is not None]
        kinked = np.logical_or.reduce(left_out) if self.at_kinks or self.slopes else None
        finite = _all_finite(reference) if finite is None else finite
        inside = None if finite else np.isfinite(reference)
        self.outside = 0
        if inside is not None:
            self.outside = int(np.count_nonzero(~inside if kinked is None else ~(inside | kinked)))
        if kinked is not None:
            inside = ~kinked if inside is None else inside & ~kinked
        self.inside = inside if self.outside or kinked is not None else None
        if self.inside is not None:
            xs, reference, sampled = xs[inside], reference[inside], sampled[inside]
        self.xs, self.exact, self.sampled = xs, reference, np.flatnonzero(sampled)
        self.size = np.abs(reference)
        self.largest = float(self.size.max(initial=0.0))  # max |f'|, what tolerances scale with
        # what relative errors divide by: 1e-300 more, where 0 is (a quarter of np.maximum's
        # time, which minds nan; no |f'| above 1e-284 moves)
        np.add(self.size, 1e-300, out=self.size)


def _all_finite(values: np.ndarray) -> bool:
    """Whether every value is finite, in one pass without a mask: a sum is finite only
    then, or where finite values add up past the float range (then the mask decides)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(values))) or bool(np.isfinite(values).all())


def _accumulate_all(
    summaries: list[MethodSummary],
    against: _Against,
    chunk: dict[str, np.ndarray],
    held_to: Holding | None = None,
) -> None:
    """Each method's errors in the chunk, the methods shared between the threads."""
    _at_once(
        [
            functools.partial(
                _accumulate, s, against, chunk[s.name], held_to if s.name == "numeric" else None
            )
            for s in summaries
        ]
    )


def _accumulate(
    summary: MethodSummary,
    against: _Against,
    values: np.ndarray,
    held_to: Holding | None = None,
) -> None:
    """One method's errors in a chunk: running maxima, and the sampled points' errors for
    the medians; numeric's past its tolerance held to its step's (held_to)."""
    summary.outside += against.outside
    summary.at_kinks += against.at_kinks
    summary.slopes += against.slopes
    if against.inside is not None:
        values = values[against.inside]
    if not against.exact.size:
        return
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        errors = np.subtract(values, against.exact)  # absolute, then relative, in place
        np.abs(errors, out=errors)
        worst = int(np.argmax(errors))
        if not np.isfinite(errors[worst]):  # nan or inf: the largest error there is
            lost = ~np.isfinite(errors)
            summary.not_finite += int(np.count_nonzero(lost))
            np.copyto(errors, np.inf, where=lost)
        largest = float(errors[worst])
        sampled = errors[against.sampled]
        if held_to is not None and largest > held_to.rtol:
            held_to.collect(against, errors)
        # relative errors where the exact value is 0 are held at 1e30, not 1e289 (of 1e-300)
        np.divide(errors, against.size, out=errors)
        summary.max_rel = max(summary.max_rel, min(float(errors.max()), 1e30))
        assert summary.abs_errors is not None and summary.rel_errors is not None
        summary.abs_errors.add(sampled)
        summary.rel_errors.add(np.minimum(errors[against.sampled], 1e30))
    summary.points += against.exact.size
    summary.max_abs = max(summary.max_abs, largest)
    if largest >= summary.worst[0]:
        summary.worst = (largest, float(against.xs[worst]))


def _check_reference(
    reference_at: Reference, derivative: Any, x_symbol: Any, fixed: dict[Any, float], over: Over
) -> float:
    """The reference against mpmath, at 5 points of the grid: by the compiled evaluator
    where it vouches for the value, else by SymPy's evalf at 40 digits."""
    import sympy as sp

    from diffcli.methods import symbolic

    xs = np.linspace(over.lo, over.hi, 5)
    approx, _ = reference_at(xs, np.zeros(xs.size, dtype=bool))
    worst = 0.0
    for x, value in zip(xs, approx):
        subs = {x_symbol: sp.Rational(float(x)), **{s: sp.Rational(v) for s, v in fixed.items()}}
        try:
            exact, problem = symbolic.reference_value(derivative, subs)
        # outside the domain at this point; or SymPy's evalf failing on it (TypeError for
        # sin(zoo), sin(x**-1) at 0), as the per-point comparison reports it
        except (ArithmeticError, ValueError, TypeError):
            continue
        if not problem and exact != 0:
            worst = max(worst, abs(float(value) - exact) / abs(exact))
    return worst

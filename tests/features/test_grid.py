"""grad --over: f' over an interval, agreeing with the per-point comparison."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import diffcli
from diffcli.core.options import Options
from diffcli.core.problem import build_problem
from diffcli.features.grid import parse_over, run_grid
from diffcli.lang.ops import KINKS

EXPRESSION = "sin(x)*exp(x)/(1 + x**2)"


def test_grid_agrees_with_the_per_point_loop():
    result = run_grid(EXPRESSION, "x=-3:3:7", None, Options(), keep=True)
    assert result.agree
    for i, x in enumerate(result.values["x"]):
        single = diffcli.compare(EXPRESSION, at={"x": float(x)})
        exact = float(single.reference.value["x"])
        assert result.values["reference"][i] == pytest.approx(exact, rel=1e-15, abs=1e-15)
        for name in ("symbolic", "autograd"):
            assert result.values[name][i] == pytest.approx(
                float(single.methods[name].value["x"]), rel=1e-13
            )
        assert result.values["numeric"][i] == pytest.approx(exact, rel=1e-8, abs=1e-9)


def test_other_variables_come_from_at_and_summary_json():
    result = run_grid("x*y + y**2", "x=0:1:101", "y=2", Options())
    record = result.to_json()
    assert record["over"] == {"name": "x", "from": 0.0, "to": 1.0, "points": 101}
    assert record["point"] == {"y": 2.0}
    for method in record["methods"].values():
        assert method["ok"] and method["max_abs_error"] <= 1e-8 and method["points_per_second"] > 0


def test_points_outside_the_domain_are_counted_out():
    result = run_grid("log(x)", "x=-1:1:201", None, Options())
    assert any("left out" in note for note in result.notes)
    assert result.methods["symbolic"].outside >= 100


# the last: B - A overflows float64, and the points were inf and nan (with NumPy's warnings)
@pytest.mark.parametrize(
    "text", ["x", "x=1:2", "x=a:2:10", "x=0:1:1", "1x=0:1:10", "x=-1e308:1e308:11"]
)
def test_bad_over_is_refused(text):
    with pytest.raises(diffcli.DiffcliError, match="--over"):
        parse_over(text)


def test_cli_values_plot_json(cli, tmp_path):
    values = tmp_path / "v.csv"
    plot = tmp_path / "p.png"
    result = cli(
        "grad", "tanh(x)", "--over", "x=-5:5:201", "--values", str(values), "--plot", str(plot)
    )
    assert result.exit_code == 0, result.output
    table = np.loadtxt(values, delimiter=",", skiprows=1)
    assert table.shape == (201, 5)
    np.testing.assert_allclose(table[:, 1], 1 / np.cosh(table[:, 0]) ** 2, rtol=1e-14)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    npy = tmp_path / "v.npy"
    assert cli("grad", "x**2", "--over", "x=0:1:11", "--values", str(npy)).exit_code == 0
    assert list(np.load(npy)["reference"]) == pytest.approx(list(2 * np.linspace(0, 1, 11)))
    record = json.loads(cli("grad", "x**2", "--over", "x=0:1:11", "--format", "json").stdout)
    assert record["agree"] is True and set(record["methods"]) == {"symbolic", "numeric", "autograd"}
    assert cli("grad", "x**2", "--at", "1", "--plot", str(plot)).exit_code == 2


@pytest.mark.parametrize("scheme", ["central", "five-point", "richardson", "complex-step"])
def test_a_grid_uses_the_point_engine(scheme):
    """along() is the engine grad uses: settled, each grid point's value is the one
    differentiate() gives at that point, to the bit; unsettled, a stencil at its first step."""
    from diffcli.methods import numeric

    xs = np.array([-2.5, -0.3, 0.0, 1.0, 2.75])
    grid = build_problem(EXPRESSION, "x=0")
    settled = numeric.along(grid, "x", xs, scheme, settle=True)
    quick = numeric.along(grid, "x", xs, scheme)
    for x, value, fast in zip(xs, settled, quick):
        at_point = numeric.differentiate(build_problem(EXPRESSION, f"x={float(x)!r}"), scheme)
        assert value == at_point.value["x"], (x, scheme)
        assert fast == pytest.approx(value, rel=1e-8, abs=1e-9)


def test_a_grid_split_across_threads_gives_the_values_of_one_thread(monkeypatch):
    """Past PARALLEL_FROM points each chunk is split between threads; the values must be
    those one thread computes, point for point (kept, so every column is compared)."""
    import diffcli.features.grid as grid

    expression, over = "sin(x)*exp(x)/(1 + x**2) + y*x", "x=-3:3:40001"
    split = run_grid(expression, over, "y=0.5", Options(), keep=True)
    monkeypatch.setattr(grid, "WORKERS", 1)
    alone = run_grid(expression, over, "y=0.5", Options(), keep=True)
    assert split.covered == alone.covered == 40001 and grid.PARALLEL_FROM < 40001
    for column in ("reference", "symbolic", "numeric", "autograd"):
        np.testing.assert_array_equal(
            np.concatenate(split.kept[column]), np.concatenate(alone.kept[column])
        )
    assert split.agree


@pytest.mark.parametrize(
    ("expression", "at", "elementwise"),
    [
        ("sin(x)*exp(x)/(1 + x**2)", None, True),
        ("max(x, 0.5) + hypot(x, 2) + x*sum(w)", "w=[1,2]", True),
        ("dot(w, [sin(x), cos(x), x])", "w=[0.5,-1,2]", False),  # stacks x: one point's
        ("softmax([x, 1])[0]", None, False),  # entries are mixed; vmap keeps them apart
    ],
)
def test_one_backward_pass_serves_an_elementwise_grid_and_gives_vmaps_values(
    monkeypatch, expression, at, elementwise
):
    """Where f at each point depends on that point alone, the grid's autograd is one
    backward pass of the sum; it must give what vmap(grad) gives, point for point."""
    import diffcli.methods.autograd as autograd
    from diffcli.features.grid import grid_problem

    over = parse_over("x=-3:3:2001")
    problem = grid_problem(expression, over, at, Options())
    assert autograd.elementwise_in(problem.expr, "x") is elementwise
    fast = run_grid(expression, "x=-3:3:2001", at, Options(), keep=True)
    monkeypatch.setattr(autograd, "elementwise_in", lambda expr, name: False)
    batched = run_grid(expression, "x=-3:3:2001", at, Options(), keep=True)
    np.testing.assert_allclose(
        np.concatenate(fast.kept["autograd"]),
        np.concatenate(batched.kept["autograd"]),
        rtol=1e-15,
        atol=0,
    )
    assert fast.agree and batched.agree


def test_the_reference_is_long_double_where_float64_cannot_vouch_for_it():
    """f = exp(x) - x: f' = exp(x) - 1 cancels near 0. There the reference is long double's
    value; elsewhere float64's, within TRUSTED of long double's; and the sampled points are
    long double's whatever the bound."""
    from diffcli.features.grid import TRUSTED, Reference, _evaluator, _plan, grid_problem
    from diffcli.methods import symbolic

    over = parse_over("x=-1:1:20001")
    problem = grid_problem("exp(x) - x", over, None, Options())
    derived = symbolic.derive(problem)
    derivative, x = derived.derivatives["x"].item(), derived.leaves["x"]
    xs = np.linspace(-1, 1, 20001)
    sampled = np.zeros(xs.size, dtype=bool)
    sampled[::1000] = True
    plan = _plan(derivative)
    reference, long_double_points = Reference(plan, x, {})(xs, sampled)
    long_double = _evaluator(plan, x, {}, np.longdouble)(xs).astype(np.float64)
    near_zero = np.abs(xs) < 1e-3
    np.testing.assert_array_equal(reference[near_zero | sampled], long_double[near_zero | sampled])
    inside = long_double != 0
    relative = np.abs(reference - long_double)[inside] / np.abs(long_double[inside])
    assert relative.max() <= TRUSTED
    assert long_double_points > near_zero.sum() + sampled.sum() - 2


def test_a_formula_that_cancels_is_measured_against_long_double():
    """exp(x) - 1 in float64 keeps about 10 digits at x = 1e-6, fewer nearer 0: a
    reference that trusted float64 there would call the symbolic method exact; the grid
    measures its error."""
    result = run_grid("exp(x) - x", "x=-1e-6:1e-6:2001", None, Options())
    assert result.long_double_points > 1500
    assert 1e-12 < result.methods["symbolic"].max_rel < 1e-5


def test_a_derivative_with_a_dirac_delta_runs_with_its_point_left_out():
    """d/dx sign(x) x^2 = 2x sign(x) + x^2 DiracDelta(x): 0 off x = 0, no number at it."""
    result = run_grid("sign(x)*x**2", "x=-2:2:401", None, Options())
    assert result.agree and result.methods["symbolic"].outside == 1


def test_near_overflow_the_tolerance_scales_with_the_largest_finite_derivative(recwarn):
    """exp(x) up to 800: f' passes float64's range at 709.78, where the long double
    reference is past float64's too; the tolerance scales with the largest finite |f'|
    (not inf, which would pass anything), so finite differences, off by 3e-6 there, are
    out of a tolerance of 1e-8; and nothing is warned about. (By default they are held to
    that error: the truncation of their one step, 4e-3 at x = 700.)"""
    result = run_grid("exp(x)", "x=-800:800:100001", None, Options(rtol=1e-8))
    assert 1e308 < result.largest < np.inf
    assert not result.methods["numeric"].within and result.methods["autograd"].within
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    held = run_grid("exp(x)", "x=-800:800:100001", None, Options()).methods["numeric"]
    assert held.within and held.held > 0 and held.max_rel > 1e-6


def test_real_and_imaginary_parts_sympy_writes_have_float_forms(monkeypatch):
    """d|x^x|/dx comes back from SymPy with re, im, arg and sign (it cannot tell x^x is
    real); the grid evaluates them on real floats. A node with no float form at all is
    refused in one line, not an internal error."""
    import sympy as sp

    from diffcli.methods import symbolic

    assert run_grid("abs(pow(x, x))", "x=0.1:3:101", None, Options()).agree
    monkeypatch.delitem(symbolic.FLOAT_FORMS, sp.re)
    with pytest.raises(diffcli.DiffcliError, match="uses re, which has no float form"):
        run_grid("abs(pow(x, x))", "x=0.1:3:101", None, Options())


def test_an_expression_sympy_cannot_differentiate_is_refused_in_one_line():
    """max(x, sin(log(0))) is max(x, nan), which SymPy will not build; a grid's reference is
    SymPy's derivative, so there is no grid: exit 2 with the reason."""
    with pytest.raises(diffcli.DiffcliError, match="SymPy cannot differentiate"):
        run_grid("max(x, sin(log(0)))", "x=-1:1:11", None, Options())


def test_the_reference_reusing_symbolics_function_calls_is_the_reference_made_alone(
    monkeypatch,
):
    """The reference takes the symbolic method's float64 function calls (same plan, same
    bits) instead of making them again: its values must be those it makes without them."""
    from diffcli.methods import rounding_bound

    reused = []
    smooth = rounding_bound._smooth

    def counted(*args, known=None):
        reused.append(known is not None)
        return smooth(*args, known=known)

    monkeypatch.setattr(rounding_bound, "_smooth", counted)
    over, at = "x=-3:3:40001", "y=0.5"
    expression = "sin(x)*exp(x)/(1 + x**2) + softplus(y*x) + erf(x)"
    shared = run_grid(expression, over, at, Options(), keep=True)
    alone = run_grid(expression, over, at, Options(methods=("numeric",)), keep=True)
    np.testing.assert_array_equal(shared.values["reference"], alone.values["reference"])
    assert shared.long_double_points == alone.long_double_points
    assert any(reused) and not all(reused)


def test_a_grid_cut_short_by_the_timeout_gives_rates_over_the_points_done():
    result = run_grid("sin(x)", "x=0:1:100000000", None, Options(timeout=0.5))
    assert 0 < result.covered < result.over.n and not result.agree
    for name, figures in result.to_json()["methods"].items():
        summary = result.methods[name]
        assert figures["points_per_second"] == pytest.approx(result.covered / summary.seconds)


@pytest.mark.parametrize(
    ("args", "verdict"),
    [
        (["log(x)", "--over", "x=1e-5:1:1001"], r"✗ disagree: numeric past tolerance"),
        # f past float64's range at every point: nothing disagreed, nothing was compared
        (["sinh(x)**2", "--over", "x=700:720:11"], r"✗ no point to compare at \(notes\)"),
        (
            ["sin(x)", "--over", "x=0:1:100000000", "--timeout", "0.3"],
            r"✗ timed out with [\d,]+ of 100,000,000 points done \(notes\)",
        ),
    ],
)
def test_a_grid_that_does_not_agree_says_why(cli, args, verdict):
    """The grid's verdict line named every failure "disagree": a run cut short by
    --timeout, or one where no point could be compared, disagreed with nothing."""
    result = cli("grad", *args)
    lines = [line for line in result.stdout.splitlines() if "(exit " in line]
    assert result.exit_code == 1 and len(lines) == 1
    assert re.fullmatch(verdict + r"  \(exit 1\)", lines[0]), lines[0]


def test_a_failed_method_is_named_in_the_verdict(cli):
    result = cli("grad", "sin(x)", "--over", "x=0:1:11", "--device", "cuda")
    if result.exit_code == 0:
        pytest.skip("CUDA is available: autograd runs")
    assert "✗ autograd failed  (exit 1)" in result.stdout.splitlines()


def test_a_grids_stencil_holds_each_points_stop_gradient_when_split(monkeypatch):
    """Taken once along a grid, the stencil moves each point alone, with each
    stop_gradient held at its own point's value, also where f is evaluated in pieces
    (a memory budget smaller than the points)."""
    from diffcli.methods import numeric
    from diffcli.methods.numeric import sampler

    problem = build_problem("x*stop_gradient(x) + sin(x)", "x=0")
    xs = np.linspace(-2.0, 2.0, 5001)
    whole = numeric.along(problem, "x", xs)
    np.testing.assert_allclose(whole, xs + np.cos(xs), rtol=1e-8, atol=1e-9)
    for scheme in ("central", "five-point"):
        alone = numeric.along(problem, "x", xs, scheme)
        monkeypatch.setattr(sampler, "rows_per_chunk", lambda *_: 777)
        assert numeric.along(problem, "x", xs, scheme).tolist() == alone.tolist()
        monkeypatch.undo()


def test_the_plotted_points_are_every_strided_point_across_chunks(monkeypatch):
    """The points kept for --plot and the medians' sample are every stride-th point of the
    whole grid, whatever the chunks, written into buffers made before the first chunk
    (no array a chunk kept alive, which fragmented the heap)."""
    import diffcli.features.grid as grid

    monkeypatch.setattr(grid, "CHUNK", 999)
    n = 100_003
    result = run_grid("sin(x)", f"x=-1:2:{n}", None, Options(), keep=True)
    stride = n // grid.PLOTTED
    xs = np.concatenate(result.kept["x"])
    assert result.sample["x"].tolist() == xs[::stride].tolist()
    assert result.plotted["x"].filled == result.plotted["x"].buffer.size
    sampled = result.methods["symbolic"].abs_errors
    assert sampled is not None and sampled.filled == len(range(0, n, n // grid.SAMPLED))


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_a_timeout_while_rows_are_written_leaves_whole_chunks_and_says_so(
    monkeypatch, tmp_path, suffix
):
    """--timeout may land while a chunk's rows are being written (a CSV chunk takes about
    a second): the file then holds the chunks before it, whole (a .npy whose header
    claimed the chunk could not be loaded), the note says how many rows it holds, and the
    run does not agree even when that was the last chunk."""
    import diffcli.features.grid as grid
    from diffcli.core.deadline import TimedOut

    class CutShort:
        """The file, with time running out halfway through the third chunk's rows."""

        def __init__(self, sink: grid.ValuesFile) -> None:
            self.sink, self.file, self.writes = sink, sink.file, 0

        def write(self, data: object) -> int:
            if isinstance(data, str) or self.sink.rows < 2 * grid.CHUNK:
                return self.file.write(data)  # (a str: how savetxt tells a binary file)
            raw = np.frombuffer(data, dtype=np.uint8)
            self.writes += 1
            if self.writes > 10 or raw.size > 10_000:  # ten CSV rows, or half the .npy rows
                self.file.write(raw[: raw.size // 2].tobytes())
                raise TimedOut
            return self.file.write(data)

        def __getattr__(self, name: str) -> object:
            return getattr(self.file, name)

    monkeypatch.setattr(grid, "CHUNK", 1000)
    path = tmp_path / f"v{suffix}"
    options = Options(timeout=60)
    over = parse_over("x=0:1:2500")
    problem = grid.grid_problem("sin(x)", over, None, options)
    with grid.ValuesFile(str(path), grid.value_columns(options), over.n) as sink:
        sink.file = CutShort(sink)
        result = grid.run_grid_problem(problem, over, options, sink=sink)
    assert result.covered == over.n and not result.agree and result.exit_code == 1
    assert f"--values holds the first {2 * grid.CHUNK:,} of them" in " ".join(result.notes)
    rows = np.load(path) if suffix == ".npy" else np.loadtxt(path, delimiter=",", skiprows=1)
    x = rows["x"] if suffix == ".npy" else rows[:, 0]
    assert x.tolist() == np.linspace(0, 1, over.n)[: 2 * grid.CHUNK].tolist()


def test_points_on_a_kink_are_left_out_and_the_grid_says_not_differentiable():
    """relu over [-1, 1] has x = 0 among its points, where torch's relu'(0) = 0 and SymPy's
    Heaviside(0) = 1/2: that point is left out of every method's errors (not a
    disagreement), counted, and named; the exit is 3, as for grad --at 0."""
    result = run_grid("relu(x)", "x=-1:1:11", None, Options(), keep=True)
    assert result.agree and result.exit_code == 3
    assert result.kinks == {"relu(x) is at its kink (its argument is 0)": 1}
    record = result.to_json()
    assert all(
        m["points_at_kinks"] == 1 and m["max_abs_error"] == 0 for m in record["methods"].values()
    )
    assert any("not differentiable at 1 point: relu(x)" in note for note in record["notes"])
    at_zero = np.concatenate(result.kept["x"]) == 0
    assert np.concatenate(result.kept["autograd"])[at_zero].tolist() == [0.0]  # still shown
    assert run_grid("relu(x)", "x=-1:1:10", None, Options()).exit_code == 0  # 0 is not a point
    # on a kink, yet smooth: at 0, and max(x, x) at every point
    for differentiable, on in (("relu(x)*x", 1), ("abs(x)**2", 1), ("max(x, x)", 11)):
        smooth = run_grid(differentiable, "x=-1:1:11", None, Options())
        assert smooth.exit_code == 0 and not smooth.kinks, differentiable
        assert list(smooth.smooth.values()) == [on], differentiable
        assert any("but the one-sided derivatives agree there" in n for n in smooth.notes)
    # f = x, differentiable at 0, where torch's relu'(0) = 0 makes autograd 0: it disagrees,
    # as at the point, and the note says the kink is there
    both = run_grid("relu(x) - relu(-x)", "x=-1:1:11", None, Options())
    assert both.exit_code == 1 == diffcli.compare("relu(x) - relu(-x)", at="0").exit_code
    assert not both.methods["autograd"].within and both.methods["numeric"].within
    assert sum(both.smooth.values()) == 2
    # jumps, with equal slopes either side: f is not continuous there (atan2 at the origin,
    # and on its branch cut)
    for jump in ("atan2(x, 0)", "atan2(x, -1)"):
        assert run_grid(jump, "x=-1:1:11", None, Options()).kinks == {
            f"{jump} is at its kink ({KINKS['cut']})": 1
        }
    assert run_grid("atan2(x, 1)", "x=-1:1:11", None, Options()).exit_code == 0


@pytest.mark.parametrize(
    "expression",
    # the last two: f is 0 at 0 and 1 on either side, a jump its two sides do not show
    ["x*sign(x)", "norm([x, 0])", "hypot(x, 0)", "x/abs(x)", "sign(x**2)", "sign(x*sin(3*x))"],
)
def test_a_kink_where_sympys_derivative_is_not_finite_is_still_a_kink(expression):
    """These are |x| or sign(x), and SymPy's derivative at 0 is nan (x*sign(x) gives
    2*x*DiracDelta(x) + sign(x); norm([x, 0]) gives x/|x|): the point was counted as outside
    the domain and the grid agreed (exit 0), where grad --at 0 says not differentiable
    (exit 3). As there, the sides decide."""
    result = run_grid(expression, "x=-1:1:11", None, Options())
    assert result.agree and result.exit_code == 3 == diffcli.compare(expression, at="0").exit_code
    for summary in result.to_json()["methods"].values():
        assert (summary["points_at_kinks"], summary["points_outside_domain"]) == (1, 0)
    smooth = run_grid("norm([x, 0])**2", "x=-1:1:11", None, Options())  # x^2: smooth at 0
    assert smooth.exit_code == 0 and not smooth.kinks


def test_a_dense_grid_across_a_kink_agrees():
    """1e-6 apart, points next to relu's kink lie within finite differences' first step
    (6e-6) of it: taken once, those stencils differenced across it (0.42 at x = 1e-6, and
    the grid disagreed); they are settled, and every method agrees."""
    result = run_grid("relu(x) + abs(x - 3e-4)", "x=-1e-3:1e-3:2000", None, Options())
    assert result.agree and result.exit_code == 0 and not result.kinks
    assert result.methods["numeric"].max_abs < 1e-8


@pytest.mark.parametrize(
    ("expression", "over"),
    [
        ("log(x)", "x=0.01:2:1001"),  # f''' = 2/x^3: 1.2e-5 off at 0.01
        ("sin(10*x)", "x=0:6:1001"),  # changes on a scale of 0.1, the step assumes 6
        ("tan(x)", "x=-1.5:1.5:1001"),
        # its f‴ holds DiracDelta(x, 1), 0 away from 0: it has a float form there
        ("sqrt(abs(x))", "x=-1:1:101"),
        # 2.4e-6 from the kink at pi/3, the stencil met it and was settled: first-order
        # accurate there (6e-8 off), as at a point next to a kink
        ("abs(sin(3*x))", "x=0:2:40001"),
    ],
)
def test_finite_differences_are_held_to_the_truncation_of_their_one_step(expression, over):
    """Along a grid a stencil is taken once, at h = eps^(1/3) max(1, |x|), and is as good as
    that step: where f changes faster, its error is h^2 |f'''| / 6, past rtol (these grids
    disagreed). Held to that, they agree, the note says where and how much; the errors
    shown are the real ones; and a tolerance the user sets is theirs."""
    result = run_grid(expression, over, None, Options())
    numeric = result.methods["numeric"]
    assert result.agree and numeric.held > 0 and numeric.max_rel > numeric.rtol
    assert any(f"at {numeric.held:,} point" in n and "held to" in n for n in result.notes)
    assert result.to_json()["methods"]["numeric"]["points_held_to_step"] == numeric.held
    assert not run_grid(expression, over, None, Options(rtol=numeric.rtol)).agree


def test_the_allowance_is_the_truncation_error_of_the_step_taken():
    """What numeric is held to is its real error, doubled (the leading term's neglected
    neighbours): at log's points near 0.01 the error is 0.9-1.1 of h^2 |f'''| / 6, and a
    method off by more (a wrong value) is not excused."""
    import sympy as sp

    from diffcli.features.truncation import Truncation
    from diffcli.methods import numeric

    x = sp.Symbol("x")
    truncation = Truncation(1 / x, x, 2.0**-52, lambda expr, dtype: sp.lambdify(x, expr, "numpy"))
    xs = np.linspace(0.01, 0.02, 11)
    exact = 1 / xs
    errors = np.abs(numeric.along(build_problem("log(x)", "x=1"), "x", xs) - exact)
    ratio = errors / (truncation.allowed(xs, exact) / 2)
    assert np.all((ratio > 0.9) & (ratio < 1.1))
    result = run_grid("log(x)", "x=1e-5:1:1001", None, Options())  # 0.16 off: past 1e-4
    assert not result.agree and result.methods["numeric"].max_rel > 0.1


def test_a_third_derivative_without_a_float_form_allows_nothing():
    """SymPy's float forms fail in many ways (a function's extra argument, a missing
    form): the allowance is then none, and numeric keeps its tolerance, rather than the
    grid stopping on an internal error."""
    import sympy as sp

    from diffcli.features.truncation import Truncation

    def unusable(expr: object) -> object:
        raise TypeError("no float form")

    x = sp.Symbol("x")
    xs = np.array([0.01, 0.5])
    assert Truncation(1 / x, x, 2.0**-52, unusable).allowed(xs, 1 / xs).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "expression", ["sin(pow(x, sum(v)))", "max(pow(x, sum(v)), pow(x, sum(v)))"]
)
def test_a_pole_at_a_grids_end_is_no_internal_error(cli, expression):
    """Found by test_grids_never_traceback run longer: x**-1 at 0 is zoo, on which SymPy's
    evalf raised TypeError in the 5-point check of the reference, and inf - inf warned in
    the check for max's ties."""
    result = cli("grad", "--over", "x=0.0:1e-08:2", "--at", "v=[0.5, -1.5]", "--", expression)
    assert result.exit_code in (0, 1, 3), result.output
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("expression", ["sqrt(x)", "x**0.5", "x**x", "sin(sqrt(x))"])
def test_an_infinite_slope_on_a_grid_is_not_differentiable_as_at_a_point(expression):
    """f finite and its exact derivative infinite at 0: grad --at 0 says not differentiable
    (exit 3); the grid counted the point as outside the domain and agreed (exit 0)."""
    result = run_grid(expression, "x=0:1:11", None, Options())
    assert result.agree and result.exit_code == 3 == diffcli.compare(expression, at="0").exit_code
    record = result.to_json()
    for figures in record["methods"].values():
        assert figures["points_with_infinite_slope"] == 1
        assert figures["points_outside_domain"] == figures["points_at_kinks"] == 0
    assert any("its exact derivative is infinite" in note for note in record["notes"])
    # past float64's range is not infinite: sinh(x)**2's derivative passes it at 355.1
    far = run_grid("sinh(x)**2", "x=350:360:11", None, Options())
    assert far.slopes == 0 and far.methods["symbolic"].outside == 5


def test_errors_past_float32s_range_keep_their_size():
    """sinh(x)**2 at 350-355: errors of 1e290 (of a derivative of 1e306) were sampled in
    float32, and the median showed inf. Its third derivative passes float64's range where
    its first has not; the step's allowance comes from long double there, so numeric's
    truncation error (3e-6 of f') is held to it, as elsewhere."""
    result = run_grid("sinh(x)**2", "x=350:360:11", None, Options())
    assert result.agree
    for name, figures in result.to_json()["methods"].items():
        assert 0 < figures["median_abs_error"] <= figures["max_abs_error"] < 1e304, name


def test_a_stencil_past_the_domains_edge_is_settled():
    """log(x) at 1e-7: the stencil taken once (h = 6e-6) reaches below 0 and gave nan, and
    the grid disagreed; f is finite there, so the point is settled as grad --at settles it."""
    result = run_grid("log(x)", "x=1e-7:1:11", None, Options())
    assert result.agree and result.methods["numeric"].max_rel < 1e-8


def test_a_method_not_finite_where_the_exact_derivative_is_says_where(monkeypatch):
    """torch's vectorised cosh overflows at 710.4 where libm's does not, and autograd's
    log(cosh(x)) there was nan: the grid said autograd disagreed, with no word of why."""
    from diffcli.features import grid

    made = grid._autograd

    def with_a_nan(problem, name, options):
        runner = made(problem, name, options)

        def at(xs):
            values = np.array(runner(xs))
            values[xs == 0.5] = np.nan
            return values

        return at

    monkeypatch.setattr(grid, "_autograd", with_a_nan)
    result = run_grid("x**2", "x=0:1:11", None, Options())
    assert not result.agree and result.methods["autograd"].not_finite == 1
    assert any(
        note.startswith("autograd is not finite at 1 point where the exact derivative is (x = 0.5)")
        for note in result.notes
    )


def test_a_grid_with_an_infinite_slope_says_where_it_agrees(cli):
    """sqrt(x) over [0, 1] exits 3 for its slope at 0; the verdict said '✓ agree'."""
    result = cli("grad", "sqrt(x)", "--over", "x=0:1:11")
    verdict = "⚠ agree where f is differentiable; not where its slope is infinite (notes)"
    assert result.exit_code == 3 and f"{verdict}  (exit 3)" in result.stdout.splitlines()


def test_handing_work_to_the_pool_and_waiting_for_it_is_shielded_from_the_deadline(monkeypatch):
    """A TimedOut raised inside concurrent.futures' locks (the wait holds each future's
    condition) would leave one held: the worker finishing that future, and the exit that
    joins the worker, then wait for ever (a test run hung so after a --timeout test). The
    hand-over and the wait run shielded; the deadline is raised after them."""
    import concurrent.futures

    from diffcli.core import deadline
    from diffcli.features import grid

    seen = []
    wait = concurrent.futures.wait

    def watched(futures, *args, **kwargs):
        seen.append(deadline._State.shield)
        return wait(futures, *args, **kwargs)

    monkeypatch.setattr(grid, "WORKERS", 2)
    monkeypatch.setattr(concurrent.futures, "wait", watched)
    assert grid._at_once([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]
    assert seen and all(shield > 0 for shield in seen)
    with pytest.raises(deadline.TimedOut), deadline.deadline(0.01):
        while True:  # work in this thread stays interruptible
            grid._at_once([lambda: sum(range(1000)), lambda: 2])


@pytest.mark.parametrize("points", [11, 1000001])
def test_a_grid_at_the_end_of_float64s_range_warns_of_nothing(cli, points):
    """Near 1.8e308 the stencil's x + h, and the grid's own points past its end, overflow
    to inf: f is not finite there, which the notes say; NumPy's overflow warnings went to
    stderr."""
    result = cli("grad", "x", "--over", f"x=1.7e308:1.7976931348623157e308:{points}")
    assert result.exit_code == 1 and result.stderr == ""
    assert "numeric is not finite at" in result.stdout


def test_a_point_at_the_end_of_float64s_range_warns_of_nothing(cli):
    """sin at -1.8e308: the note's check of where the stencil went moved x past the range."""
    result = cli("grad", "sin(x)", "--at", "-1.7976931348623157e308")
    assert result.exit_code in (0, 1, 3) and result.stderr == ""

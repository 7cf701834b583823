"""A grid's own points as the central difference's: which spacing each point takes, and
what the differences from them are worth against the theory of the step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffcli.core.options import Options
from diffcli.core.problem import build_problem
from diffcli.features import grid
from diffcli.features.grid import parse_over, run_grid
from diffcli.methods import numeric
from diffcli.methods.numeric import gridded

EPS = 2.0**-52


def _chunk(over_text: str, chunk: int = 0) -> tuple[np.ndarray, int, float]:
    """A chunk of the grid's points with its halo, as the grid makes them."""
    over = parse_over(over_text)
    halo = gridded.halo(over.lo, over.hi, over.spacing)
    points = next(c for i, (_, c) in enumerate(over.chunks(halo)) if i == chunk)
    return points.points, halo, over.spacing


@settings(deadline=None, max_examples=60)
@given(
    lo=st.floats(-50, 50),
    width=st.floats(1e-4, 100),
    n=st.integers(2, 10**8),
    start=st.integers(0, 10**8),
    descending=st.booleans(),
)
def test_runs_split_a_chunk_where_its_spacing_changes(lo, width, n, start, descending):
    """The runs cover the chunk in order, neighbours differ, and every point of a run has
    the run's k: the one spacings gives that point alone, so a chunk cut anywhere (or a
    point asked about later, by the held allowance) takes the same."""
    hi = lo + width
    if descending:
        lo, hi = hi, lo
    spacing = (hi - lo) / (n - 1)
    halo = gridded.halo(lo, hi, spacing)
    first = min(start, n - 1)
    xs = np.arange(first, min(n, first + 5000), dtype=np.float64) * spacing + lo
    runs = list(gridded.runs(xs, spacing, halo))
    assert runs[0][0] == 0 and runs[-1][1] == xs.size
    assert all(a[1] == b[0] and a[2] != b[2] for a, b in itertools.pairwise(runs))
    k = gridded.spacings(xs, spacing, halo)
    assert all((k[start:stop] == each).all() for start, stop, each in runs)
    assert k.max() <= halo


def test_a_grid_too_coarse_for_the_step_takes_its_stencils():
    """10^5 points over [-3, 3] are 6e-5 apart, ten times the step: no point is served."""
    over = parse_over("x=-3:3:100000")
    assert gridded.halo(over.lo, over.hi, over.spacing) == 0
    assert gridded.halo(1e6, 1e6 + 1, 1e-6) == 0  # the step (6) is 6e6 spacings: past MOST


def test_differences_from_the_grids_points_are_within_the_theory_of_their_step():
    """sin over a million points of [-3, 3]: each served point's value is the secant through
    x_{i-k} and x_{i+k}, bit for bit, k d is within a third of eps^(1/3) max(1, |x|), and
    its error against cos is within truncation h^2 |f'''| / 6 plus round-off, a few eps |f|
    / h (the lesson of why finite differences lose digits)."""
    points, halo, spacing = _chunk("x=-3:3:1000001", chunk=1)
    problem = build_problem("sin(x)", "x=0")
    f = numeric.f_along(problem, "x", points)
    table = numeric.along_grid(problem, "x", points, f, halo, spacing, _refused)
    xs = points[halo:-halo]
    k = gridded.spacings(xs, spacing, halo)
    assert (k > 0).all() and set(np.unique(k)) <= {1, 2, 3}
    i = np.arange(xs.size) + halo
    secant = (f[i + k] - f[i - k]) / (points[i + k] - points[i - k])
    assert np.array_equal(table, secant)
    h = gridded.steps(xs, spacing, halo)
    nominal = gridded.STEP_BASE * np.maximum(1.0, np.abs(xs))
    assert np.all(np.abs(h / nominal - 1) <= 1 / 3)
    bound = h**2 * np.abs(np.cos(xs)) / 6 + 4 * EPS * np.abs(np.sin(xs)) / h + 1e-15
    assert np.all(np.abs(table - np.cos(xs)) <= bound)


def _refused(xs: np.ndarray) -> np.ndarray:
    raise AssertionError(f"a stencil was asked for at {xs.size} served points")


def test_points_the_grid_cannot_serve_take_the_stencil_bit_for_bit():
    """Over [0, 1000] a million points are 1e-3 apart: near 0 the step (6e-6) is far below
    it, and those points are the stencil's, as without the grid's points."""
    points, halo, spacing = _chunk("x=0:1000:1000001")
    problem = build_problem("sin(x)", "x=0")
    f = numeric.f_along(problem, "x", points)
    table = numeric.along_grid(
        problem, "x", points, f, halo, spacing, lambda xs: numeric.along(problem, "x", xs)
    )
    xs = points[halo:-halo]
    k = gridded.spacings(xs, spacing, halo)
    assert (k == 0).any() and (k > 0).any()
    unserved = k == 0
    assert np.array_equal(table[unserved], numeric.along(problem, "x", xs[unserved]))


def test_a_difference_reaching_past_where_f_is_finite_is_alongs():
    """log(x) on points from 1e-7, 5e-7 apart: the first points' differences reach below 0
    (nan); there f is finite, and they are taken as along takes them (settled where its own
    step reaches below 0 too)."""
    over = parse_over("x=1e-7:1e-4:200")
    halo = gridded.halo(over.lo, over.hi, over.spacing)
    points = next(over.chunks(halo))[1].points
    problem = build_problem("log(x)", "x=1")
    f = numeric.f_along(problem, "x", points)
    along = lambda xs: numeric.along(problem, "x", xs)  # noqa: E731
    table = numeric.along_grid(problem, "x", points, f, halo, over.spacing, along)
    xs = points[halo:-halo]
    reached = xs - gridded.steps(xs, over.spacing, halo) < 0
    assert reached.any() and np.isfinite(table).all()
    assert np.array_equal(table[reached], along(xs[reached]))


def test_a_difference_meeting_a_kink_takes_alongs_own_step():
    """atan2(cos(x), x) jumps by 2 pi at -pi/2. The point 9.6e-6 from it takes k = 4
    spacings (9.9e-6), which reach across; along's own step (9.5e-6) does not, and its
    value is 1e-12 off. Settled instead, as a point whose step meets the kink is, the step
    shrank to 1e-10 and lost five digits to round-off (4.6e-6 off)."""
    points, halo, spacing = _chunk("x=-2.11:0.373:1000001")
    problem = build_problem("atan2(cos(x), x) - (x - 0.3)", "x=0")
    f = numeric.f_along(problem, "x", points)
    along = lambda xs: numeric.along(problem, "x", xs)  # noqa: E731
    table = numeric.along_grid(problem, "x", points, f, halo, spacing, along)
    i = 217162
    x = points[halo + i]
    assert (
        9.5e-6 < x + np.pi / 2 < 9.6e-6 and gridded.spacings(np.array([x]), spacing, halo)[0] == 4
    )
    exact = -x * np.sin(x) / (x**2 + np.cos(x) ** 2) - 1 - np.cos(x) / (x**2 + np.cos(x) ** 2)
    assert abs(table[i] - exact) < 1e-10


@pytest.mark.parametrize("chunk", [1 << 12, 1 << 15])
def test_a_grid_cut_into_other_chunks_gives_the_same_values(monkeypatch, chunk):
    """Each point's k is its own, whatever chunk it falls in: the values do not depend on
    where the chunks end."""
    over = "x=0.9:1.5:120001"  # 5e-6 apart: k = 1, and 2 past x = 1.24
    assert gridded.halo(0.9, 1.5, 5e-6) == 2
    whole = run_grid("sin(x)*exp(x)", over, None, Options(), keep=True).values
    monkeypatch.setattr(grid, "CHUNK", chunk)
    cut = run_grid("sin(x)*exp(x)", over, None, Options(), keep=True).values
    assert np.array_equal(cut["numeric"], whole["numeric"])


def test_the_grids_f_is_the_one_numeric_evaluated():
    """f comes once per point, from numeric's differences: what --plot draws is sin's."""
    result = run_grid("sin(x)", "x=-3:3:1000001", None, Options())
    sample = result.sample
    assert np.array_equal(sample["f"], np.sin(sample["x"]))
    assert result.f_seconds > 0


def test_a_stop_gradient_keeps_the_stencil_that_holds_it():
    """x * stop_gradient(x): the stop is held at x_i while x moves, so f' = x; at the grid's
    neighbours it would not be held (f' = 2x). Such a grid takes its stencils."""
    over = parse_over("x=-1:1:400001")
    problem = build_problem("x*stop_gradient(x)", "x=0")
    assert grid._halo(problem, over, Options()) == 0
    result = run_grid("x*stop_gradient(x)", "x=-1:1:400001", None, Options())
    assert result.agree and result.methods["numeric"].max_abs < 1e-9


def test_the_held_allowance_is_taken_at_the_step_each_point_took():
    """Where the grid's points serve, the truncation allowance is that of k d, not of the
    nominal step: log(x) near 0.01, a million points over [0.01, 2]."""
    import sympy as sp

    from diffcli.features.truncation import Truncation

    x = sp.Symbol("x")
    over = parse_over("x=0.01:2:1000001")
    halo = gridded.halo(over.lo, over.hi, over.spacing)
    steps = lambda xs: gridded.steps(xs, over.spacing, halo)  # noqa: E731
    evaluator = lambda expr, dtype: sp.lambdify(x, expr, "numpy")  # noqa: E731
    truncation = Truncation(1 / x, x, EPS, evaluator, None, steps)
    xs = np.array([0.01, 0.0100199])
    exact = 1 / xs
    h = steps(xs)
    assert np.allclose(truncation.allowed(xs, exact), 2 * h**2 * (2 / xs**3) / 6)


def test_the_table_says_whose_time_f_is(cli):
    """Where numeric evaluates f for its differences, f's time is part of numeric's: the
    table says so, and not where numeric takes its stencils (a coarse grid)."""
    dense = cli("grad", "sin(x)", "--over", "x=-1:1:300001").stdout
    coarse = cli("grad", "sin(x)", "--over", "x=-1:1:1001").stdout
    assert "part of numeric's time" in " ".join(dense.split())
    assert "part of numeric's time" not in " ".join(coarse.split())

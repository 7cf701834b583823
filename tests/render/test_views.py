"""Every view in render/, as exact text against golden files in tests/render/views/: the
printed views at 60, 80, 100 and 120 columns (no colour), one after another in one file,
and every demo as the CLI prints it at those widths. Timings are set to fixed numbers (or
masked, in the demos), so the text is the same on every run. After a deliberate change of
output, rewrite the golden files with DIFFCLI_UPDATE_VIEWS=1 pytest
tests/render/test_views.py and read the diff before committing it."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import diffcli
from diffcli.cli import main
from diffcli.core.problem import build_problem
from diffcli.features.batch import Summary
from diffcli.teaching.cost import METHODS, CostStudy, Measurement
from diffcli.teaching.demos import DEMOS

GOLDEN = Path(__file__).parent / "views"
WIDTHS = (60, 80, 100, 120)
TIME = re.compile(r" *\b\d+(\.\d+)? (µs|ms|s)\b")


def _fits(text: str, width: int) -> str:
    """The text, after checking no line is wider than the screen and nothing is cut."""
    for line in text.splitlines():
        assert len(line) <= width, f"wider than {width}: {line!r}"
        assert "…" not in line, f"cut at {width}: {line!r}"
    return f"=== {width} columns\n{text}"


def _at_width(width: int, views: tuple) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, markup=False)
    for view in views:
        console.print(view)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()) + "\n"


def _printed(*views) -> str:
    return "".join(_fits(_at_width(width, views), width) for width in WIDTHS)


def _in_repository(run):
    """Run from the repository's root, as a reader of its README would: the course file's
    path then prints the same in every clone."""
    before = os.getcwd()
    os.chdir(Path(__file__).resolve().parents[2])
    try:
        return run()
    finally:
        os.chdir(before)


def _demo(name: str) -> str:
    """A demo as the CLI prints it in a pipe with COLUMNS set, its timings masked (each
    keeps its width, so the layout around it shows)."""
    texts = []
    for width in WIDTHS:
        result = _in_repository(
            lambda width=width: CliRunner().invoke(
                main, ["demo", name], env={"COLUMNS": str(width)}
            )
        )
        assert result.exit_code == 0, result.output
        masked = TIME.sub(lambda m: "~t".rjust(len(m.group())), result.output)
        texts.append(_fits("\n".join(line.rstrip() for line in masked.splitlines()) + "\n", width))
    return "".join(texts)


def _fixed_times(comparison):
    for result in comparison.methods.values():
        result.seconds = 0.0012
    return comparison


def _comparison():
    return _fixed_times(diffcli.compare("x**2*y + exp(x*y)", "x=0.5,y=-1"))


def _hessian():
    return _fixed_times(diffcli.compare("x**2*y + exp(x*y)", "x=0.5,y=-1", command="hessian"))


def _jacobian():
    return _fixed_times(
        diffcli.compare("A@x", "A=[[1,2,3],[4,5,6]], x=[1,1,1]", command="jacobian", wrt="x")
    )


def _grid():
    from diffcli.core.options import Options
    from diffcli.features.grid import run_grid

    result = run_grid("sin(x)*exp(x)", "x=0:2:21", None, Options())
    result.f_seconds, result.reference_seconds = 0.001, 0.0002
    for summary in result.methods.values():
        summary.seconds = 0.002
    return result


def _graph(mode: str):
    from diffcli.methods.autograd.graph import trace

    wrt = ["x"] if mode == "forward" else None
    return trace(build_problem("sin(x*y) + x", "x=1,y=2", wrt), mode)


def _cost() -> list[CostStudy]:
    study = CostStudy("sum(sin(x)*x)", "x", "gradient", [10, 100])
    for k, name in enumerate(METHODS, 1):
        study.results[name] = [
            Measurement(0.001 * k, 1024 * k),
            Measurement(None, None, "over budget") if k == 1 else Measurement(0.01 * k, 4096),
        ]
    return [study]


def _batch_summary() -> Summary:
    return Summary(
        counts={"agree": 8, "disagree": 1, "failed": 1},
        slowest=[(0.25, 3, "norm(X@w - y)**2"), (0.01, 1, "sin(x)")],
        failures=[(5, "unknown function 'sinn' (did you mean sin?)")],
    )


def _views() -> dict[str, str]:
    from diffcli.features.stepsize import study
    from diffcli.render.batch import csv_line, summary_views
    from diffcli.render.check import check_text
    from diffcli.render.cost import cost_record, cost_views
    from diffcli.render.csv import to_csv
    from diffcli.render.graph import graph_views
    from diffcli.render.grid_table import grid_table
    from diffcli.render.json import dumps
    from diffcli.render.latex import to_latex
    from diffcli.render.study import study_record, study_table
    from diffcli.render.table import render_table
    from diffcli.teaching.check import check

    comparison = _comparison()
    record = {"row": 1, **json.loads(dumps(comparison))}
    steps = study(build_problem("exp(x)", "x=1"))
    return {
        "table": _printed(render_table(comparison)),
        "table-jacobian": _printed(render_table(_jacobian())),
        "table-hessian": _printed(render_table(_hessian())),
        "table-vector": _printed(
            render_table(_fixed_times(diffcli.compare("2*dot(x,x)", "x=arange(4)")))
        ),
        "json": dumps(comparison) + "\n",
        "csv": to_csv(comparison),
        "latex": to_latex(comparison) + "\n",
        "grid": _printed(grid_table(_grid())),
        "graph-table": _printed(graph_views(_graph("reverse"), "table")),
        "graph-forward": _printed(graph_views(_graph("forward"), "table")),
        "graph-dot": graph_views(_graph("reverse"), "dot") + "\n",
        "graph-mermaid": graph_views(_graph("reverse"), "mermaid") + "\n",
        "graph-json": graph_views(_graph("reverse"), "json") + "\n",
        "stepsize": _printed(study_table(steps)),
        "stepsize-json": json.dumps(study_record(steps), indent=2) + "\n",
        "cost": _printed(*cost_views(_cost(), 2.0)),
        "cost-json": json.dumps(cost_record(_cost()), indent=2) + "\n",
        "batch-summary": _printed(*summary_views(_batch_summary())),
        "batch-csv": csv_line(record, header=True),
        "check-right": check_text(check("sin(x)**2", "sin(2*x)")) + "\n",
        "check-wrong": check_text(check("sin(x)**2", "2*cos(x)")) + "\n",
        **{f"demo-{demo.name}": _demo(demo.name) for demo in DEMOS},
    }


VIEWS = _views()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_view_prints_exactly_its_golden_text(name):
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("DIFFCLI_UPDATE_VIEWS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(VIEWS[name], encoding="utf-8")
    assert VIEWS[name] == path.read_text(encoding="utf-8")


def test_every_view_module_is_covered():
    views = {p.stem for p in (Path(diffcli.__file__).parent / "render").glob("*.py")}
    covered = {
        "batch",
        "check",
        "cost",
        "csv",
        "graph",
        "grid_table",
        "json",
        "latex",
        "study",
        "table",
    }
    helpers = {"__init__", "console", "layout", "numbers", "picture", "plot"}  # no text of theirs
    assert views == covered | helpers

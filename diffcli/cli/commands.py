"""The commands: each reads its arguments, calls the library, picks a view and exits with an
ExitStatus. Options come from core/options.py (cli/declared.py makes them click options);
views come from render/. Heavy libraries load inside the commands, so `--help`,
`--version` and input errors answer at once."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from diffcli import __version__
from diffcli.cli.declared import DiffcliCommand, DiffcliGroup, declared_options, given, reported
from diffcli.cli.outlet import error, is_kept, keep, show, show_text
from diffcli.core.errors import ExitStatus, OptionError
from diffcli.core.isolate import Stuck
from diffcli.core.options import DECLARED, FIELDS, Options, check_timeout

GRID_IGNORES = ("python", "full", "mode", "order", "closed_forms", "max_memory")


@click.group(cls=DiffcliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="diffcli")
def main() -> None:
    """Differentiate an expression three ways (SymPy, finite differences, torch.autograd)
    and show how far each is from the exact value.

    \b
    Examples:
      diffcli grad "sin(x)" --at 1.0
      diffcli grad "2*dot(x, x)" --at x=arange(4)
      diffcli grad "exp(x)*sin(x)" --at 1 --order 3 --format json

    Exit status: 0 agree, 1 disagree or a method failed, 2 bad input,
    3 not differentiable at the point.
    """


def command(name: str, expression: str | None = "optional") -> Callable[[Callable[..., Any]], Any]:
    """A diffcli command `name`: EXPR (optional, required or none), its declared options,
    and errors reported as one line."""

    def decorate(function: Callable[..., Any]) -> Any:
        wrapped = declared_options(name)(reported(function))
        if expression is not None:
            argument = click.argument(
                "expression", metavar="EXPR", required=expression == "required"
            )
            wrapped = argument(wrapped)
        return main.command(name, cls=DiffcliCommand)(wrapped)

    return decorate


@command("grad")
def grad(expression: str | None, **raw: Any) -> None:
    """Gradient of a scalar EXPR at the point, by every method, against the exact value."""
    if raw["over"] is not None:
        _grid(expression, raw)
    if raw["values_file"] or raw["plot_file"]:
        raise OptionError("--values and --plot go with --over")
    _compare_and_print("grad", expression, raw)


@command("jacobian")
def jacobian(expression: str | None, **raw: Any) -> None:
    """Jacobian of a scalar, vector or matrix EXPR by each variable, by every method."""
    _compare_and_print("jacobian", expression, raw)


@command("hessian")
def hessian(expression: str | None, **raw: Any) -> None:
    """Hessian of a scalar EXPR over the flattened variables, with its eigenvalues."""
    _compare_and_print("hessian", expression, raw)


def _compare_and_print(command: str, expression: str | None, raw: dict[str, Any]) -> None:
    from diffcli.core.api import compare_python, compare_with

    if raw["at"] is None:
        raise OptionError("Missing option '--at': the point, such as --at x=1.0")
    python = raw["python"]
    if (expression is None) == (python is None):
        raise OptionError("give an expression, or --python FILE:FUNC (one of the two)")
    options = _options(command, raw)
    if python is not None:
        comparison = compare_python(python, raw["at"], options)
    else:
        comparison = compare_with(expression, raw["at"], options)
    keep(comparison)
    _print_comparison(comparison, raw["output_format"], raw["full"])
    sys.exit(comparison.exit_code)


def _options(command: str, raw: dict[str, Any]) -> Options:
    return Options.from_raw(command=command, **{k: v for k, v in raw.items() if k in FIELDS})


def _grid(expression: str | None, raw: dict[str, Any]) -> None:
    from diffcli.features.grid import (
        ValuesFile,
        grid_problem,
        parse_over,
        run_grid_problem,
        value_columns,
    )

    ignored = [DECLARED[name].spelling for name in GRID_IGNORES if given(name)]
    if ignored:
        raise OptionError(f"--over does not use {ignored[0].split('/')[0]}")
    if expression is None:
        raise OptionError("--over needs an expression")
    if raw["output_format"] not in ("table", "json"):
        raise OptionError(f"--over prints a table or json, not {raw['output_format']}")
    options = _options("grad", raw)
    grid = parse_over(raw["over"])
    problem = grid_problem(expression, grid, raw["at"] or None, options)  # bad input: no work
    plot_file, values_file = raw["plot_file"], raw["values_file"]
    if plot_file:
        from diffcli.render.plot import check_picture_path

        check_picture_path(plot_file)
    sink = ValuesFile(values_file, value_columns(options), grid.n) if values_file else None
    with sink or contextlib.nullcontext():
        result = run_grid_problem(problem, grid, options, sink=sink)
    keep(result)
    if plot_file:
        from diffcli.render.grid_table import save_plot

        save_plot(result, plot_file)
    if raw["output_format"] == "json":
        _print_json(result.to_json())
    else:
        from diffcli.render.grid_table import grid_table

        show([grid_table(result)])
    sys.exit(result.exit_code)


def _print_comparison(comparison: Any, output_format: str, full: bool) -> None:
    if output_format == "json":
        from diffcli.render.json import dumps

        show_text(dumps(comparison))
    elif output_format == "csv":
        from diffcli.render.csv import to_csv

        show_text(to_csv(comparison), newline=False)
    elif output_format == "latex":
        from diffcli.render.latex import to_latex

        show_text(to_latex(comparison))
    else:
        from diffcli.render.table import render_table

        show([render_table(comparison, full)])


def _print_lines(text: str) -> None:
    """Plain text wrapped to the screen, each line's continuation indented under it."""
    from rich.text import Text

    from diffcli.render.layout import hanging

    show(hanging([Text(line) for line in text.splitlines()]))


def _print_json(record: Any) -> None:
    show_text(json.dumps(record, indent=2, allow_nan=False))


def _within(timeout: float | None, command: str, work: Callable[[], Any]) -> Any:
    """A whole command's work under --timeout: past it, a failure (exit 1), not a hang."""
    from diffcli.core.deadline import TimedOut, deadline

    check_timeout(timeout)
    try:
        with deadline(timeout):
            return work()
    except TimedOut:
        raise Stuck(f"{command} did not finish within --timeout {timeout:g} s") from None


@command("stepsize", expression="required")
def stepsize(expression: str, **raw: Any) -> None:
    """Each scheme's error for steps from 1e-1 to 1e-16: why finite differences lose digits."""
    from diffcli.core.problem import build_problem
    from diffcli.features.stepsize import study

    options = Options.from_raw(wrt=raw["wrt"], order=raw["order"], dtype=raw["dtype"])
    check_timeout(raw["timeout"])
    problem = build_problem(expression, raw["at"], options.wrt, options.order)
    plot_file = raw["plot_file"]
    if plot_file:
        from diffcli.render.plot import check_picture_path

        check_picture_path(plot_file)
    result = study(problem, options.dtype, raw["timeout"])
    keep(result)
    if plot_file:
        from diffcli.render.plot import save_png

        save_png(result, plot_file)
    if raw["output_format"] == "json":
        from diffcli.render.study import study_record

        _print_json(study_record(result))
    else:
        from diffcli.render.study import study_table

        show([study_table(result)])
        if plot_file:
            show_text(f"plot written to {plot_file}")


@command("graph")
def graph(expression: str | None, **raw: Any) -> None:
    """The computational graph with forward values and torch's adjoints (or tangents)."""
    from diffcli.core.api import graph as trace_expression
    from diffcli.methods.autograd.graph import trace_python_isolated
    from diffcli.render.graph import graph_views
    from diffcli.render.picture import PICTURES

    wrt = Options.from_raw(wrt=raw["wrt"]).wrt
    check_timeout(raw["timeout"])
    python, mode = raw["python"], raw["mode"]
    if (expression is None) == (python is None):
        raise OptionError("give an expression, or --python FILE:FUNC (one of the two)")
    if python is not None:
        result = trace_python_isolated(python, raw["at"], wrt, mode, raw["timeout"])
    else:
        result = _within(
            raw["timeout"],
            "graph",
            lambda: trace_expression(
                expression, raw["at"], wrt=wrt, mode=mode, device=raw["device"]
            ),
        )
    keep(result)
    if raw["output_format"] in PICTURES:
        _print_picture(result, raw["output_format"])
        return
    view = graph_views(result, raw["output_format"])
    if isinstance(view, str):
        show_text(view)
    else:
        show([view])


def _print_picture(graph: Any, kind: str) -> None:
    """SVG as text; PNG as bytes, to a file or a pipe (a terminal would show garbage)."""
    from diffcli.render.picture import graph_picture

    if kind == "png" and sys.stdout.isatty():
        raise OptionError("--format png writes an image: redirect it, e.g. > graph.png")
    picture = graph_picture(graph, kind)
    if kind == "svg":
        show_text(picture.decode("utf-8"))
    elif not is_kept():
        sys.stdout.buffer.write(picture)
        sys.stdout.flush()


@command("check", expression="required")
def check(expression: str, **raw: Any) -> None:
    """Is ANSWER the derivative of EXPR? Exit 0 right, 1 wrong (with a counterexample)."""
    from diffcli.render.check import check_text
    from diffcli.teaching.check import check as run_check

    result = _within(
        raw["timeout"],
        "check",
        lambda: run_check(expression, raw["answer"], raw["wrt"], raw["at"]),
    )
    keep(result)
    if raw["output_format"] == "json":
        _print_json(result.to_json())
    else:
        _print_lines(check_text(result))
    sys.exit(result.exit_code)


@command("explain", expression="required")
def explain(expression: str, **raw: Any) -> None:
    """The derivative of EXPR step by step, each step naming its rule."""
    from diffcli.teaching.explain import explain as run_explain

    result = _within(raw["timeout"], "explain", lambda: run_explain(expression, raw["wrt"]))
    keep(result)
    if raw["output_format"] == "latex":
        show_text(result.latex())
    else:
        _print_lines(result.text())


@main.command(cls=DiffcliCommand)
@click.argument("name", required=False)
@declared_options("demo")
def demo(name: str | None, show_list: bool) -> None:
    """A guided demo of one idea of the course (diffcli demo --list names them all)."""
    from rich.text import Text

    from diffcli.render.layout import Hanging
    from diffcli.teaching.demos import BY_NAME, DEMOS, arguments_here

    if show_list or name is None:
        show([Hanging(Text(f"{item.name:24} {item.title}"), 25) for item in DEMOS])
        return
    if name not in BY_NAME:
        import difflib

        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        error(f"diffcli: error: no demo {name!r}{hint}; diffcli demo --list names them")
        sys.exit(ExitStatus.BAD_INPUT)
    chosen = BY_NAME[name]
    show([Hanging(Text(chosen.title, style="bold"), 0), Hanging(Text(chosen.text), 0)])
    surprises = 0
    for given_arguments, expected in chosen.runs:
        arguments = arguments_here(given_arguments)
        shown = " ".join(f'"{a}"' if " " in a or "(" in a else a for a in arguments)
        show([Text(""), Hanging(Text(f"$ diffcli {shown}"), 4)])
        code = _run_inside(list(arguments))
        if code != expected:
            surprises += 1
            error(f"(exit {code}, but this demo expects {expected})")
    sys.exit(ExitStatus.FAILED if surprises else ExitStatus.AGREE)


def _run_inside(arguments: list[str]) -> int:
    try:
        main.main(args=arguments, prog_name="diffcli", standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


@main.command(cls=DiffcliCommand)
@declared_options("shell")
@reported
def shell(history: str | None) -> None:
    """An interactive prompt: a diffcli command a line, warm (no start-up per question)."""
    import importlib.util

    if importlib.util.find_spec("prompt_toolkit") is None and sys.stdin.isatty():
        raise OptionError("the shell needs prompt_toolkit: pip install 'diffcli[shell]'")
    from diffcli.warm.shell import main as run_shell

    sys.exit(run_shell(history))


@command("cost", expression="required")
def cost(expression: str, **raw: Any) -> None:
    """Time and memory of each method as the vector grows, with fitted growth exponents."""
    from diffcli.render.cost import cost_record, cost_views
    from diffcli.teaching.cost import study

    sizes = raw["sizes"]
    try:
        numbers = [int(part) for part in sizes.split(",") if part.strip()]
    except ValueError:
        raise OptionError(f"--n {sizes}: expected whole numbers, e.g. 10,100,1000") from None
    studies = study(expression, numbers, raw["budget"])
    keep(studies)
    if raw["output_format"] == "json":
        show_text(json.dumps(cost_record(studies), indent=2))
    else:
        show(cost_views(studies, raw["budget"]))


@command("batch", expression=None)
@click.argument("source", metavar="FILE|-")
def batch(source: str, **raw: Any) -> None:
    """Compare every row of a CSV or JSON Lines file (columns expr, at, command, expected,
    answer, and any option of grad, jacobian or hessian, such as wrt, order, layout or
    scheme); one record per row, in order."""
    from diffcli.cli.batch_run import run_and_print

    defaults = {k: v for k, v in raw.items() if k in FIELDS}
    Options.from_raw(**defaults)  # the defaults are checked once, before any row
    sys.exit(run_and_print(source, raw["output_format"], raw["jobs"], defaults))

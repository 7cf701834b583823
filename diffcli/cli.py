"""The command line: options → Options → api → renderer. Only this module prints or exits.

Heavy libraries (torch, SymPy, NumPy, rich) load inside the commands, so `--help`,
`--version` and input errors answer at once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from diffcli import __version__
from diffcli.core.errors import DiffcliError
from diffcli.core.isolate import Stuck
from diffcli.core.options import DEVICES, DTYPES, FORMATS, LAYOUTS, MODES, SCHEMES, Options
from diffcli.core.resources import DEFAULT_MEMORY_MIB

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class _ExpressionCommand(click.Command):
    """A command whose EXPR may start with a minus: click reads "-x" as an option, so its
    'No such option' says how to pass such an expression."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as unknown:
            name = unknown.option_name
            if not name.startswith("--"):
                unknown.message += (
                    f" (an expression that starts with '-', such as {name}, goes after --: "
                    f'diffcli {self.name} ... -- "{name}", or in parentheses: "({name})")'
                )
            raise


def _timeout_option(help_text: str) -> Callable[..., Any]:
    """--timeout, declared once for every command that bounds its work (deadline.py)."""
    return click.option(
        "--timeout",
        type=float,
        default=Options.timeout,
        show_default=True,
        metavar="SECONDS",
        help=help_text,
    )


def _shared_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every computing command takes (CONTRACT.md)."""
    options = [
        click.option(
            "--at",
            "at",
            default=None,
            metavar="POINT",
            help="Values of the variables: x=1,y=[1,2] or a bare number for one variable.",
        ),
        click.option(
            "--wrt",
            metavar="VARS",
            help="Comma-separated variables to differentiate by (default: all).",
        ),
        click.option(
            "--methods",
            default="symbolic,numeric,autograd",
            show_default=True,
            help="Which methods to run, comma-separated.",
        ),
        click.option(
            "--device",
            type=click.Choice(DEVICES),
            default="auto",
            show_default=True,
            help="Autograd device (auto: cuda if available).",
        ),
        click.option(
            "--dtype",
            type=click.Choice(DTYPES),
            default="float64",
            show_default=True,
            help="Working precision of autograd and finite differences.",
        ),
        click.option(
            "--scheme",
            type=click.Choice(SCHEMES),
            default="central",
            show_default=True,
            help="Finite-difference scheme.",
        ),
        click.option(
            "--step",
            type=float,
            metavar="H",
            help="Finite-difference step (default: chosen per scheme).",
        ),
        click.option(
            "--rtol",
            type=float,
            metavar="R",
            help="Relative agreement tolerance (default: per method).",
        ),
        click.option(
            "--atol",
            type=float,
            metavar="A",
            help="Absolute agreement tolerance (default: per method).",
        ),
        click.option(
            "--mode",
            type=click.Choice(MODES),
            default="reverse",
            show_default=True,
            help="Autograd: reverse (a backward pass per output) or forward (a pass per input).",
        ),
        click.option("--full", is_flag=True, help="Print large results in full (JSON always is)."),
        _timeout_option(
            "Time the comparison may take, shared by its stages (the reference, each "
            "method): the others still answer when one runs out."
        ),
        click.option(
            "--max-length",
            type=int,
            default=10_000,
            show_default=True,
            metavar="N",
            help="Longest expression accepted, in characters.",
        ),
        click.option(
            "--max-nodes",
            type=int,
            default=5_000,
            show_default=True,
            metavar="N",
            help="Most parts an expression may have.",
        ),
        click.option(
            "--max-depth",
            type=int,
            default=100,
            show_default=True,
            metavar="N",
            help="Deepest nesting accepted.",
        ),
        click.option(
            "--max-entries",
            type=int,
            default=100_000,
            show_default=True,
            metavar="N",
            help="Most entries of one value in POINT.",
        ),
        click.option(
            "--max-memory",
            type=float,
            default=DEFAULT_MEMORY_MIB,
            show_default=True,
            metavar="MIB",
            help="Memory budget of the working arrays, in MiB; larger work runs in chunks.",
        ),
        click.option(
            "--python",
            metavar="FILE:FUNC",
            help="Differentiate a Python function of torch tensors instead (this runs FILE).",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
            help="Output format.",
        ),
        click.option(
            "--traceback", is_flag=True, hidden=True, help="Re-raise errors (for debugging)."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _reported(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn DiffcliError into exit status 2 and one message on stderr (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DiffcliError as problem:
            if kwargs.get("traceback"):
                raise
            click.echo(f"diffcli: error: {problem.render()}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except Stuck as stuck:  # user code that never returned: a failure, not bad input
            click.echo(f"diffcli: error: {stuck}", err=True)
            sys.exit(EXIT_FAILED)
        except Exception as failure:  # a bug of diffcli's: one line, never a traceback
            if kwargs.get("traceback"):
                raise
            text = str(failure).strip().splitlines()
            click.echo(
                f"diffcli: internal error: {type(failure).__name__}: {text[0] if text else ''} "
                "(a bug: --traceback shows where)",
                err=True,
            )
            sys.exit(EXIT_FAILED)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR", required=False)
@click.option(
    "--order",
    type=int,
    default=1,
    show_default=True,
    metavar="K",
    help="K-th derivative (one scalar variable).",
)
@click.option("--over", metavar="X=A:B:N", help="f' at N points from A to B (one scalar variable).")
@click.option(
    "--values",
    "values_file",
    metavar="FILE",
    help="With --over: every point's values (.csv, .npy).",
)
@click.option("--plot", "plot_file", metavar="FILE.png", help="With --over: f, f' and the errors.")
@_shared_options
@_reported
def grad(
    expression: str | None,
    order: int,
    over: str | None,
    values_file: str | None,
    plot_file: str | None,
    **raw: Any,
) -> None:
    """Gradient of a scalar EXPR at the point, by every method, against the exact value."""
    if over is not None:
        _grid(expression, over, values_file, plot_file, raw)
    if values_file or plot_file:
        from diffcli.core.errors import OptionError

        raise OptionError("--values and --plot go with --over")
    _compare_and_print("grad", expression, raw, order=order)


def _grid(
    expression: str | None,
    over: str,
    values_file: str | None,
    plot_file: str | None,
    raw: dict[str, Any],
) -> None:
    from diffcli.core.errors import OptionError
    from diffcli.core.options import Options
    from diffcli.features.grid import (
        ValuesFile,
        grid_problem,
        parse_over,
        run_grid_problem,
        value_columns,
    )

    if expression is None or raw.get("python"):
        raise OptionError("--over needs an expression")
    at = raw.pop("at")
    output_format = raw.pop("output_format")
    if output_format not in ("table", "json"):
        raise OptionError(f"--over prints a table or json, not {output_format}")
    for unused in ("full", "python", "traceback"):
        raw.pop(unused)
    options = Options.from_raw(command="grad", **raw)
    grid = parse_over(over)
    problem = grid_problem(expression, grid, at or None, options)  # bad input: before any work
    if plot_file:
        from diffcli.render.plot import check_picture_path

        check_picture_path(plot_file)
    sink = ValuesFile(values_file, value_columns(options), grid.n) if values_file else None
    with sink or contextlib.nullcontext():
        result = run_grid_problem(problem, grid, options, sink=sink)
    if plot_file:
        from diffcli.render.grid_table import save_plot

        save_plot(result, plot_file)
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2, allow_nan=False))
    else:
        from diffcli.render.grid_table import grid_table

        _console().print(grid_table(result))
    sys.exit(result.exit_code)


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR", required=False)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="numerator",
    show_default=True,
    help="numerator: outputs first (torch, the course); denominator: inputs first (SymPy).",
)
@_shared_options
@_reported
def jacobian(expression: str | None, layout: str, **raw: Any) -> None:
    """Jacobian of a scalar, vector or matrix EXPR by each variable, by every method."""
    _compare_and_print("jacobian", expression, raw, layout=layout)


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR", required=False)
@_shared_options
@_reported
def hessian(expression: str | None, **raw: Any) -> None:
    """Hessian of a scalar EXPR over the flattened variables, with its eigenvalues."""
    _compare_and_print("hessian", expression, raw)


def _compare_and_print(
    command: str, expression: str | None, raw: dict[str, Any], **extra: Any
) -> None:
    from diffcli.core.api import compare_python
    from diffcli.core.comparison import run
    from diffcli.core.errors import OptionError
    from diffcli.core.options import Options
    from diffcli.core.problem import build_problem

    at = raw.pop("at")
    if at is None:
        raise OptionError("Missing option '--at': the point, such as --at x=1.0")
    output_format = raw.pop("output_format")
    full = raw.pop("full")
    python = raw.pop("python")
    raw.pop("traceback")
    if (expression is None) == (python is None):
        raise OptionError("give an expression, or --python FILE:FUNC (one of the two)")
    options = Options.from_raw(command=command, **raw, **extra)
    if python is not None:
        comparison = compare_python(python, at, options)
    else:
        limits = options.limits()
        problem = build_problem(expression, at, options.wrt, options.order, command, limits)
        if "autograd" in options.methods:  # input is good: torch will be needed
            _import_torch_meanwhile()
        comparison = run(problem, options)
    _emit(comparison, output_format, full)
    sys.exit(comparison.exit_code)


def _within(timeout: float | None, command: str, work: Callable[[], Any]) -> Any:
    """A whole command's work under --timeout: past it, a failure (exit 1), not a hang."""
    from diffcli.core.deadline import TimedOut, deadline

    try:
        with deadline(timeout):
            return work()
    except TimedOut:
        raise Stuck(f"{command} did not finish within --timeout {timeout:g} s") from None


def _positive_timeout(timeout: float) -> None:
    Options(timeout=timeout)  # checked where every --timeout is


def _import_torch_meanwhile() -> None:
    """Start importing torch in a thread while SymPy parses and differentiates: the two
    imports overlap (torch's native libraries load outside the GIL)."""
    import threading

    threading.Thread(target=__import__, args=("torch",), daemon=True).start()


def _emit(comparison: Any, output_format: str, full: bool) -> None:
    if output_format == "json":
        from diffcli.render.json import dumps

        click.echo(dumps(comparison))
    elif output_format == "csv":
        from diffcli.render.csv import to_csv

        click.echo(to_csv(comparison), nl=False)
    elif output_format == "latex":
        from diffcli.render.latex import to_latex

        click.echo(to_latex(comparison))
    else:
        from diffcli.render.table import render_table

        _console().print(render_table(comparison, full))


def _console() -> Any:
    """A rich console: colours only on a terminal and without NO_COLOR, 120 wide in pipes.

    Markup is off: user text ([x, y], [/x]) must print as written, never as a style tag."""
    from rich.console import Console

    terminal = sys.stdout.isatty()
    no_color = "NO_COLOR" in os.environ or None
    return Console(width=None if terminal else 120, no_color=no_color, markup=False)


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR")
@click.option("--at", "at", required=True, metavar="POINT", help="Values of the variables.")
@click.option("--wrt", metavar="VARS", help="Variables to differentiate by (default: all).")
@click.option(
    "--order", type=int, default=1, show_default=True, metavar="K", help="K-th derivative."
)
@click.option("--dtype", type=click.Choice(DTYPES), default="float64", show_default=True)
@click.option("--plot", "plot_file", metavar="FILE.png", help="Also draw the plot with matplotlib.")
@click.option("--format", "output_format", type=click.Choice(("table", "json")), default="table")
@_timeout_option("Time the whole study may take; schemes not reached by then are skipped.")
@click.option("--traceback", is_flag=True, hidden=True)
@_reported
def stepsize(
    expression: str,
    at: str,
    wrt: str | None,
    order: int,
    dtype: str,
    plot_file: str | None,
    output_format: str,
    timeout: float,
    traceback: bool,
) -> None:
    """Each scheme's error for steps from 1e-1 to 1e-16: why finite differences lose digits."""
    from diffcli.core.options import Options
    from diffcli.core.problem import build_problem
    from diffcli.features.stepsize import study

    options = Options.from_raw(wrt=wrt, order=order, dtype=dtype, timeout=timeout)
    problem = build_problem(expression, at, options.wrt, options.order)
    if plot_file:
        from diffcli.render.plot import check_picture_path

        check_picture_path(plot_file)
    result = study(problem, dtype, options.timeout)
    if plot_file:
        from diffcli.render.plot import save_png

        save_png(result, plot_file)
    if output_format == "json":
        import json

        from diffcli.render.study import study_record

        click.echo(json.dumps(study_record(result), indent=2, allow_nan=False))
    else:
        from diffcli.render.study import study_table

        _console().print(study_table(result))
        if plot_file:
            click.echo(f"plot written to {plot_file}")


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR", required=False)
@click.option("--at", "at", required=True, metavar="POINT", help="Values of the variables.")
@click.option("--wrt", metavar="VARS", help="Variables to differentiate by (default: all).")
@click.option("--python", metavar="FILE:FUNC", help="Trace a Python function instead (runs FILE).")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="reverse",
    show_default=True,
    help="reverse: adjoints from the output back; forward: tangents from one input.",
)
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True)
@click.option(
    "--format",
    "output_format",
    default="table",
    show_default=True,
    type=click.Choice(("table", "dot", "mermaid", "json")),
)
@_timeout_option("Time the command may take; past it, it stops with exit 1.")
@click.option("--traceback", is_flag=True, hidden=True)
@_reported
def graph(
    expression: str | None,
    at: str,
    wrt: str | None,
    python: str | None,
    mode: str,
    device: str,
    output_format: str,
    timeout: float,
    traceback: bool,
) -> None:
    """The computational graph with forward values and torch's adjoints (or tangents)."""
    from diffcli.core.errors import OptionError
    from diffcli.core.options import Options
    from diffcli.core.problem import build_problem
    from diffcli.teaching.graph import to_dot, to_mermaid, trace, trace_python_isolated

    options = Options.from_raw(wrt=wrt, timeout=timeout)
    if (expression is None) == (python is None):
        raise OptionError("give an expression, or --python FILE:FUNC (one of the two)")
    if python is not None:
        result = trace_python_isolated(python, at, options.wrt, mode, options.timeout)
    else:
        problem = build_problem(expression, at, options.wrt)
        result = _within(options.timeout, "graph", lambda: trace(problem, mode, device))
    if output_format == "dot":
        click.echo(to_dot(result))
    elif output_format == "mermaid":
        click.echo(to_mermaid(result))
    elif output_format == "json":
        import json

        from diffcli.render.graph_table import graph_record

        click.echo(json.dumps(graph_record(result), indent=2, allow_nan=False))
    else:
        from diffcli.render.graph_table import graph_table

        _console().print(graph_table(result))


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR")
@click.option("--answer", required=True, metavar="ANSWER", help="Your derivative, to be checked.")
@click.option("--wrt", metavar="VAR", help="The variable (needed when EXPR has several).")
@click.option("--at", "at", metavar="POINT", help="Shapes of array variables (default: scalars).")
@click.option("--format", "output_format", type=click.Choice(("table", "json")), default="table")
@_timeout_option("Time the command may take; past it, it stops with exit 1.")
@click.option("--traceback", is_flag=True, hidden=True)
@_reported
def check(
    expression: str,
    answer: str,
    wrt: str | None,
    at: str | None,
    output_format: str,
    timeout: float,
    traceback: bool,
) -> None:
    """Is ANSWER the derivative of EXPR? Exit 0 right, 1 wrong (with a counterexample)."""
    import json

    from diffcli.teaching.check import check as run_check

    _positive_timeout(timeout)
    result = _within(timeout, "check", lambda: run_check(expression, answer, wrt, at))
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2, allow_nan=False))
    else:
        click.echo(_check_text(result))
    sys.exit(result.exit_code)


def _check_text(result: Any) -> str:
    label = f"d/d{result.wrt} {result.expression}"
    if result.correct:
        how = (
            "SymPy simplifies the difference to 0"
            if result.symbolic_equal
            else "SymPy could not simplify the difference to 0"
        )
        lines = [
            f"✓ right: {result.answer} is {label}",
            f"  {how}; {result.spot_checks} random points agree",
        ]
    else:
        lines = [
            f"✗ wrong: {result.answer} is not {label}",
            f"  the derivative is {result.derivative}",
        ]
        if result.counterexample:
            point = ", ".join(f"{k} = {v:g}" for k, v in result.counterexample["point"].items())
            lines.append(
                f"  counterexample: at {point} the derivative is "
                f"{result.counterexample['derivative']:.10g}, the answer gives "
                f"{result.counterexample['answer']:.10g}"
            )
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR")
@click.option("--wrt", metavar="VAR", help="The variable (needed when EXPR has several).")
@click.option("--format", "output_format", type=click.Choice(("text", "latex")), default="text")
@_timeout_option("Time the command may take; past it, it stops with exit 1.")
@click.option("--traceback", is_flag=True, hidden=True)
@_reported
def explain(
    expression: str, wrt: str | None, output_format: str, timeout: float, traceback: bool
) -> None:
    """The derivative of EXPR step by step, each step naming its rule."""
    from diffcli.teaching.explain import explain as run_explain

    _positive_timeout(timeout)

    def text() -> str:
        result = run_explain(expression, wrt)
        return result.latex() if output_format == "latex" else result.text()

    click.echo(_within(timeout, "explain", text))


@main.command()
@click.argument("name", required=False)
@click.option("--list", "show_list", is_flag=True, help="List the demos.")
def demo(name: str | None, show_list: bool) -> None:
    """A guided demo of one idea of the course (diffcli demo --list names them all)."""
    from diffcli.teaching.demos import BY_NAME, DEMOS

    if show_list or name is None:
        for item in DEMOS:
            click.echo(f"{item.name:24} {item.title}")
        return
    if name not in BY_NAME:
        import difflib

        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        click.echo(
            f"diffcli: error: no demo {name!r}{hint}; diffcli demo --list names them", err=True
        )
        sys.exit(EXIT_BAD_INPUT)
    chosen = BY_NAME[name]
    click.echo(click.style(chosen.title, bold=True))
    click.echo(chosen.text)
    surprises = 0
    for arguments, expected in chosen.runs:
        shown = " ".join(f'"{a}"' if " " in a or "(" in a else a for a in arguments)
        click.echo(f"\n$ diffcli {shown}")
        code = _run_inside(list(arguments))
        if code != expected:
            surprises += 1
            click.echo(f"(exit {code}, but this demo expects {expected})", err=True)
    sys.exit(1 if surprises else 0)


def _run_inside(arguments: list[str]) -> int:
    try:
        main.main(args=arguments, prog_name="diffcli", standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


@main.command(cls=_ExpressionCommand)
@click.argument("expression", metavar="EXPR")
@click.option(
    "--n",
    "sizes",
    default="10,100,1000",
    show_default=True,
    metavar="N1,N2,...",
    help="Lengths of the vector variable.",
)
@click.option(
    "--budget",
    type=float,
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Time each method may take at each size; past it, it is over budget (and not "
    "run at larger sizes).",
)
@click.option("--format", "output_format", type=click.Choice(("table", "json")), default="table")
@click.option("--traceback", is_flag=True, hidden=True)
@_reported
def cost(expression: str, sizes: str, budget: float, output_format: str, traceback: bool) -> None:
    """Time and memory of each method as the vector grows, with fitted growth exponents."""
    from diffcli.core.errors import OptionError
    from diffcli.render.numbers import size
    from diffcli.teaching.cost import METHODS, lesson, study

    try:
        numbers = [int(part) for part in sizes.split(",") if part.strip()]
    except ValueError:
        raise OptionError(f"--n {sizes}: expected whole numbers, e.g. 10,100,1000") from None
    studies = study(expression, numbers, budget)
    if output_format == "json":
        import json

        records = [
            {
                "expression": item.expression,
                "kind": item.kind,
                "sizes": item.sizes,
                "methods": {
                    name: {
                        "seconds": [m.seconds for m in item.results[name]],
                        "memory_bytes": [m.memory for m in item.results[name]],
                        "status": [m.status for m in item.results[name]],
                        "exponent": item.exponent(name),
                    }
                    for name in METHODS
                },
            }
            for item in studies
        ]
        click.echo(
            json.dumps({"command": "cost", "studies": records, "lesson": lesson(studies)}, indent=2)
        )
        return
    from rich.table import Table

    console = _console()
    for item in studies:
        table = Table(
            title=f"{item.kind} of {item.expression} (time / memory)", title_justify="left"
        )
        table.add_column("n", justify="right")
        for name in METHODS:
            table.add_column(name, justify="right")
        for i, n in enumerate(item.sizes):
            cells = [
                f"{_cost_time(item.results[m][i])} / {size(item.results[m][i].memory)}"
                for m in METHODS
            ]
            table.add_row(str(n), *cells)
        exponents = [item.exponent(m) for m in METHODS]
        table.add_row(
            "time ~ n^", *("-" if k is None else f"{k:.2f}" for k in exponents), style="bold"
        )
        console.print(table)
    console.print(
        "memory: peak NumPy/Python allocations; reverse mode: bytes saved for backward. "
        f"over budget: given up after {budget:g} s; not run: over budget at a smaller size"
    )
    for line in lesson(studies):
        console.print(f"  • {line}")


@main.command()
@click.argument("source", metavar="FILE|-")
@click.option(
    "--format",
    "output_format",
    default="auto",
    show_default=True,
    type=click.Choice(("auto", "table", "json", "csv")),
    help="auto: a summary table on a terminal, JSON Lines otherwise.",
)
@click.option(
    "--jobs",
    type=int,
    default=None,
    metavar="N",
    help="Worker processes (default: the machine's cores).",
)
@click.option("--methods", default="symbolic,numeric,autograd", show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--dtype", type=click.Choice(DTYPES), default="float64", show_default=True)
@click.option("--rtol", type=float, metavar="R")
@click.option("--atol", type=float, metavar="A")
@_timeout_option("Time each row may take, shared by its stages (the reference, each method).")
@click.option(
    "--closed-forms",
    is_flag=True,
    help="Add matrix-calculus closed forms (2*X.T*(X*w - y)) to the records: "
    "0.1-0.2 s more for each new matrix expression.",
)
@click.option("--traceback", is_flag=True, hidden=True)
@_reported
def batch(
    source: str, output_format: str, jobs: int | None, traceback: bool, **defaults: Any
) -> None:
    """Compare every row of a CSV or JSON Lines file (columns expr, at, command, wrt, order,
    layout, scheme, expected, answer); one record per row, in order."""
    from diffcli.core.errors import OptionError
    from diffcli.features.batch import (
        Defaults,
        Summary,
        csv_line,
        read_rows,
        run_batch,
        tally,
        worker_count,
    )

    if jobs is not None and jobs < 1:
        raise OptionError("--jobs must be at least 1")
    fmt = output_format if output_format != "auto" else ("table" if sys.stdout.isatty() else "json")
    summary = Summary()
    with _open_text(source) as stream, _ctrl_c() as interrupt:
        workers, rows, capped = worker_count(jobs, read_rows(stream, source))
        if capped:
            click.echo(f"diffcli: note: {capped}", err=True)
        rows = run_batch(rows, Defaults(**defaults), workers)
        records = interrupt.records(rows)
        if fmt == "table":
            _batch_table(records, summary)
        else:
            for i, record in enumerate(records):
                tally(summary, record)
                if fmt == "csv":
                    click.echo(csv_line(record, header=i == 0), nl=False)
                else:
                    click.echo(json.dumps(record, allow_nan=False))
    if interrupt.happened:
        done = sum(summary.counts.values())
        counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items()))
        click.echo(
            f"diffcli: interrupted after {done} rows ({counts or 'none finished'})", err=True
        )
        sys.exit(130)
    sys.exit(summary.exit_code)


class _Interrupt:
    """Ctrl-C in batch. While a record is being computed it stops the work at once (that
    record is dropped); while one is being written it lets the line end. Either way the
    loop ends, the summary so far is printed, and the exit status is 130."""

    def __init__(self) -> None:
        self.happened = False
        self._computing = False
        self._raised = False

    def __call__(self, signum: int, frame: object) -> None:
        self.happened = True
        if self._computing and not self._raised:
            self._raised = True  # once: a second Ctrl-C must not escape the handler below
            raise KeyboardInterrupt

    def records(self, records: Any) -> Any:
        """The records, until Ctrl-C."""
        iterator = iter(records)
        while not self.happened:
            try:
                self._computing = True
                record = next(iterator)
                self._computing = False
            except (StopIteration, KeyboardInterrupt):
                self._computing = False
                return
            yield record


@contextlib.contextmanager
def _ctrl_c() -> Any:
    import signal
    import threading

    interrupt = _Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield interrupt
        return
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def _open_text(path: str) -> Any:
    """The batch file (or standard input for -), read lazily, row by row."""
    from diffcli.features.batch import BatchFileError

    if path == "-":
        return contextlib.nullcontext(sys.stdin)
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as problem:
        raise BatchFileError(f"{path}: {problem.strerror}") from None


def _batch_table(records: Any, summary: Any) -> None:
    from rich.progress import Progress
    from rich.table import Table

    from diffcli.features.batch import tally

    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("comparing", total=None)
        for record in records:
            tally(summary, record)
            progress.advance(task)
    console = _console()
    counts = Table(title="batch summary", title_justify="left")
    for column in ("agree", "disagree", "not differentiable", "failed", "rows"):
        counts.add_column(column, justify="right")
    total = sum(summary.counts.values())
    counts.add_row(
        *(
            str(summary.counts.get(c, 0))
            for c in ("agree", "disagree", "not differentiable", "failed")
        ),
        str(total),
    )
    console.print(counts)
    slow = Table(title="slowest rows", title_justify="left")
    for column in ("row", "seconds", "expression"):
        slow.add_column(column)
    for seconds, row, expression in summary.slowest:
        slow.add_row(str(row), f"{seconds:.3f}", expression)
    console.print(slow)
    for row, why in summary.failures:
        console.print(f"  row {row}: {why}")


def _cost_time(measurement: Any) -> str:
    from diffcli.render.numbers import duration

    return measurement.status if measurement.seconds is None else duration(measurement.seconds)

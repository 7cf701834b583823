"""`%load_ext diffcli`, then `%diff grad "sin(x)" --at 1` (a line) or `%%diff` (a cell, a
command a line): the CLI's grammar and options, shown as rich HTML: the comparison table,
the graph as an SVG picture, step-size and grid plots, LaTeX for `explain`. A magic
returns the result object (`c = %diff ...`), and bad input shows the CLI's one-line message
with its caret: it never stops the kernel."""

from __future__ import annotations

from typing import Any

from diffcli.render.console import html_of
from diffcli.warm.session import Answer, Session

SESSION = Session()  # one point (`%diff at x=1`) per kernel


def load(ipython: Any) -> None:
    ipython.register_magic_function(line_magic, "line", "diff")
    ipython.register_magic_function(cell_magic, "cell", "diff")


def line_magic(line: str) -> Any:
    """%diff COMMAND ...: one command, shown; returns its result (c = %diff ...). As a
    cell's last line it returns nothing: what it showed would be shown again."""
    answer = SESSION.ask(line)
    display_answer(answer)
    return None if _ends_the_cell() else answer.result


def cell_magic(line: str, cell: str) -> list[Any] | None:
    """%%diff: each line of the cell a command, shown in turn. The results are kept in
    the kernel's `_diff` (a list, in order): a cell magic's value is not assigned."""
    results = []
    for text in [line, *cell.splitlines()]:
        if text.strip() and not text.lstrip().startswith("#"):
            answer = SESSION.ask(text)
            display_answer(answer)
            results.append(answer.result)
    _kernel().user_ns["_diff"] = results
    return None


def _kernel() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _ends_the_cell() -> bool:
    """Whether the cell being run ends with a bare `%diff ...` (not `c = %diff ...`)."""
    kernel = _kernel()
    cells = getattr(getattr(kernel, "history_manager", None), "input_hist_raw", None)
    if not cells:
        return False
    lines = [line for line in cells[-1].splitlines() if line.strip()]
    return bool(lines) and lines[-1].lstrip().startswith("%diff")


def display_answer(answer: Answer) -> None:
    """Each view as HTML (text as <pre>, LaTeX as math), a picture where the result has
    one, then the errors, one line each, as the CLI prints them."""
    from IPython.display import HTML, SVG, Latex, display

    for view in answer.kept.views:
        if isinstance(view, str):
            display(Latex(view) if view.lstrip().startswith("\\begin") else HTML(_pre(view)))
        else:
            display(HTML(html_of(view)))
    picture = picture_of(answer.result)
    if picture is not None:
        display(SVG(picture))
    latex = getattr(answer.result, "latex", None)  # explain: its steps typeset too
    if callable(latex) and not any(isinstance(v, str) for v in answer.kept.views):
        display(Latex(latex()))
    for line in answer.kept.errors:
        display(HTML(_pre(line, "color: #b00")))


def picture_of(result: Any) -> str | None:
    """SVG for a result that has a picture: a graph, a step-size study, a grid."""
    from diffcli.features.grid import GridResult
    from diffcli.features.stepsize import StepStudy
    from diffcli.methods.autograd.graph import Graph

    if isinstance(result, Graph):
        from diffcli.render.picture import graph_svg

        return graph_svg(result)
    if isinstance(result, (StepStudy, GridResult)):
        from diffcli.render.picture import plot_svg

        return plot_svg(result)
    return None


def _pre(text: str, style: str = "") -> str:
    import html

    return f'<pre style="{style}">{html.escape(text)}</pre>'

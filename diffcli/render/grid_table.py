"""The grid's summary: each method's errors over the interval, and its speed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

from diffcli.render.layout import Column, Fitted, hanging
from diffcli.render.numbers import number, short
from diffcli.render.table import heading

if TYPE_CHECKING:
    from diffcli.features.grid import GridResult


_COLUMNS = (
    Column("method"),
    *(
        Column(name, "right")
        for name in (
            "max abs",
            "median abs",
            "max rel",
            "median rel",
            "worst at",
            "points/s",
            "time",
        )
    ),
    Column("why it failed", own_line=1),
)


def grid_table(result: GridResult) -> Group:
    over = result.over
    others = {k: v for k, v in result.problem.point.items() if k != over.name}
    title = heading(
        "grad",
        result.problem.text,
        others,
        f"  over {over.name} in [{over.lo:g}, {over.hi:g}], {over.n:,} points",
    )
    table = Fitted(_COLUMNS)
    for name, summary in result.methods.items():
        figures = summary.figures(result.covered)  # the points done, should --timeout stop it
        if not figures["ok"]:
            table.add_row(name, "", "", "", "", "", "", "", Text(figures["error"], style="red"))
            continue
        style = "" if figures["within_tolerance"] else "red"
        table.add_row(
            name,
            Text(short(figures["max_abs_error"]), style=style),
            short(figures["median_abs_error"]),
            short(figures["max_rel_error"]),
            short(figures["median_rel_error"]),
            number(figures["worst_at"], 6),
            f"{figures['points_per_second']:.3g}",
            f"{figures['seconds'] * 1e3:.1f} ms",
            "",
        )
    f_rate = result.covered / result.f_seconds if result.f_seconds else float("inf")
    within = ", part of numeric's time: its differences take it" if result.halo else ""
    parts: list[Any] = [title, table]
    parts.append(
        Text(
            f"  f itself with NumPy: {result.f_seconds * 1e3:.1f} ms ({f_rate:.3g} points/s"
            f"{within}); the reference: {result.reference_seconds * 1e3:.1f} ms",
            style="dim",
        )
    )
    parts.append(Text(f"{_verdict(result)}  (exit {result.exit_code})", style=_style(result)))
    parts.extend(Text(f"  note: {note}", style="dim") for note in result.notes)
    return Group(*hanging(parts))


def _verdict(result: GridResult) -> str:
    """The verdict, and where it does not agree, why: a run cut short, methods that could
    not run or had no point to compare at, or those past their tolerance."""
    if result.agree:
        where = [
            w
            for w, n in (
                ("at its kinks", result.kinks),
                ("where its slope is infinite", result.slopes),
            )
            if n
        ]
        if where:
            return f"⚠ agree where f is differentiable; not {' or '.join(where)} (notes)"
        return "✓ agree"
    if result.timed_out or result.covered < result.over.n:
        return f"✗ timed out with {result.covered:,} of {result.over.n:,} points done (notes)"
    reasons = []
    failed = [name for name, m in result.methods.items() if m.error is not None]
    if failed:
        reasons.append(f"{', '.join(failed)} failed")
    if any(m.error is None and not m.points for m in result.methods.values()):
        reasons.append("no point to compare at (notes)")
    past = [name for name, m in result.methods.items() if m.within is False]
    if past:
        reasons.append(f"disagree: {', '.join(past)} past tolerance")
    return "✗ " + "; ".join(reasons)


def _style(result: GridResult) -> str:
    if not result.agree:
        return "bold red"
    return "bold yellow" if result.kinks or result.slopes else "bold green"


def save_plot(result: GridResult, path: str) -> None:
    """f, the three f' curves, and their errors (log scale), with matplotlib, drawn from
    the few thousand points the grid keeps for it (result.sample)."""
    import numpy as np

    from diffcli.render.plot import pyplot, save_figure

    plt = pyplot()
    sample = result.sample
    x = sample["x"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(x, sample["f"], color="black", label="f", linewidth=1)
    for name in result.methods:
        top.plot(x, sample[name], label=f"f' {name}", linewidth=1)
        with np.errstate(all="ignore"):
            error = np.abs(sample[name] - sample["reference"])
        bottom.semilogy(x, np.maximum(error, 1e-18), label=name, linewidth=0.8)
    top.legend(fontsize="small")
    top.set_title(f"{result.problem.text} over {result.over.name}")
    bottom.set_ylabel("abs error")
    bottom.set_xlabel(result.over.name)
    bottom.legend(fontsize="small")
    save_figure(plt, figure, path)

"""Pictures of the step-size study: a log-log plot in Unicode text, or a PNG via matplotlib."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions
from rich.text import Text

from diffcli.core.errors import DiffcliError

if TYPE_CHECKING:
    from diffcli.features.stepsize import StepStudy

MARKERS = {
    "forward": "f",
    "backward": "b",
    "central": "c",
    "five-point": "5",
    "richardson": "R",
    "complex-step": "i",
}
_LOWEST = -17.0  # log10 of the smallest error drawn (exact results sit on this floor)


def text_plot(study: StepStudy, width: int = 64, height: int = 18) -> str:
    """log10(relative error) against log10(step), one letter per scheme (legend below)."""
    x_lo, x_hi = math.log10(min(study.steps)), math.log10(max(study.steps))
    y_lo, y_hi = _LOWEST, 0.0
    canvas = [[" "] * width for _ in range(height)]
    for sweep in study.sweeps:
        for h, error in zip(study.steps, sweep.errors):
            if math.isnan(error):
                continue
            y = max(_LOWEST, min(y_hi, math.log10(error) if error > 0 else _LOWEST))
            col = round((math.log10(h) - x_lo) / (x_hi - x_lo) * (width - 1))
            row = round((y_hi - y) / (y_hi - y_lo) * (height - 1))
            canvas[row][col] = MARKERS[sweep.scheme]
    lines = []
    for i, row in enumerate(canvas):
        y = y_hi - i * (y_hi - y_lo) / (height - 1)
        label = f"1e{round(y):+d}" if i % 3 == 0 or i == height - 1 else ""
        lines.append(f"{label:>6} │{''.join(row)}")
    lines.append(f"{'':>6} └{'─' * width}")
    ticks = [f"1e{k}" for k in range(round(x_lo), round(x_hi) + 1, 3)]
    axis = [" "] * (width + 14)
    for tick in ticks:
        col = round((float(tick[2:]) - x_lo) / (x_hi - x_lo) * (width - 1)) + 8
        for j, ch in enumerate(tick):
            if col + j < len(axis):
                axis[col + j] = ch
    lines.append("".join(axis).rstrip() + "   step h")
    return "\n".join(lines)


def legend(study: StepStudy) -> str:
    """What each letter of the text plot stands for."""
    names = "  ".join(f"{MARKERS[s.scheme]} {s.scheme}" for s in study.sweeps)
    return f"{'':>8}relative error vs step: {names}"


@dataclass(frozen=True)
class TextPlot:
    """The text plot as a rich renderable, as wide as the console allows (up to 64)."""

    study: StepStudy

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = max(24, min(64, options.max_width - 21))
        yield from (Text(line) for line in text_plot(self.study, width).split("\n"))


PICTURE_FORMATS = ("png", "svg", "pdf")


def check_picture_path(path: str) -> None:
    """Refuse, before any work, a --plot FILE that cannot be written: a format matplotlib
    is not asked for, a folder that does not exist or cannot be written, or no matplotlib."""
    import importlib.util
    import os

    suffix = path.rpartition(".")[2].lower() if "." in os.path.basename(path) else ""
    if suffix not in PICTURE_FORMATS:
        raise DiffcliError(
            f"--plot {path}: write a {', '.join('.' + f for f in PICTURE_FORMATS)} file"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise DiffcliError(f"--plot {path}: cannot write there (no such folder, or read-only)")
    if importlib.util.find_spec("matplotlib") is None:
        raise DiffcliError(
            "--plot needs matplotlib, an optional extra: pip install 'diffcli[plot]'"
        )


def pyplot() -> Any:
    """matplotlib.pyplot without a display, or a clear error when the extra is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DiffcliError(
            "--plot needs matplotlib, an optional extra: pip install 'diffcli[plot]'"
        ) from None
    return plt


def save_png(study: StepStudy, path: str) -> None:
    """The same picture with matplotlib (the optional extra `diffcli[plot]`)."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    floor = 10.0**_LOWEST
    for sweep in study.sweeps:
        errors = [max(e, floor) if not math.isnan(e) else math.nan for e in sweep.errors]
        axes.loglog(study.steps, errors, marker="o", markersize=3, label=sweep.scheme)
    axes.set_xlabel("step h")
    axes.set_ylabel("relative error")
    axes.set_title(f"d/d{', '.join(study.problem.wrt)} of {study.problem.text}  ({study.dtype})")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize="small")
    save_figure(plt, figure, path)


def save_figure(plt: Any, figure: Any, path: str) -> None:
    """Write the figure (a clear error for a bad path) and free it."""
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as problem:
        raise DiffcliError(f"--plot {path}: {problem.strerror or problem}") from None
    finally:
        plt.close(figure)

"""`diffcli batch` at the terminal: rows streamed to the chosen view, Ctrl-C honoured between
records (the summary so far is printed, exit 130)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from diffcli.core.errors import ExitStatus
from diffcli.features.batch import (
    BatchFileError,
    Defaults,
    Summary,
    read_rows,
    run_batch,
    tally,
    worker_count,
)


def run_and_print(source: str, output_format: str, jobs: int | None, defaults: Defaults) -> int:
    """Run every row of `source` and print the records (or the summary); the exit status."""
    from diffcli.render.batch import csv_line

    fmt = output_format if output_format != "auto" else ("table" if sys.stdout.isatty() else "json")
    summary = Summary()
    with _open_text(source) as stream, _ctrl_c() as interrupt:
        workers, rows, capped = worker_count(jobs, read_rows(stream, source))
        if capped:
            click.echo(f"diffcli: note: {capped}", err=True)
        records = interrupt.records(run_batch(rows, defaults, workers))
        if fmt == "table":
            _summary_table(records, summary)
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
        return ExitStatus.INTERRUPTED
    return summary.exit_code


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

    def records(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
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
def _ctrl_c() -> Iterator[_Interrupt]:
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
    if path == "-":
        return contextlib.nullcontext(sys.stdin)
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as problem:
        raise BatchFileError(f"{path}: {problem.strerror}") from None


def _summary_table(records: Iterator[dict[str, Any]], summary: Summary) -> None:
    from rich.progress import Progress

    from diffcli.render.batch import summary_views
    from diffcli.render.console import console

    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("comparing", total=None)
        for record in records:
            tally(summary, record)
            progress.advance(task)
    screen = console()
    for view in summary_views(summary):
        screen.print(view)

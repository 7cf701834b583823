"""Many comparisons from one file: CSV (with a header) or JSON Lines, one comparison a row.

Every input row gives exactly one output record, in input order: a row that cannot be
run (bad syntax, a missing column, a bad point) becomes an error record with its row
number and message, and the rest go on. Rows run in worker processes with --jobs N,
streamed in order with a bounded number of rows in flight, so the output starts before
the file ends and memory does not grow with it.
"""

from __future__ import annotations

import csv
import json
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, TextIO

from diffcli.core.errors import DiffcliError, ExitStatus
from diffcli.core.options import COMPARING, DECLARED, FIELDS

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

COMMANDS = (*COMPARING, "check")
# A row's own columns, then every option of a comparison (core/options.py), which a row may
# set for itself: the batch command's options are the defaults of the rows that do not.
ROW_OPTIONS = tuple(
    o.name for o in DECLARED.values() if o.name in FIELDS and set(o.commands) & set(COMPARING)
)
COLUMNS = ("expr", "at", "command", "expected", "answer", *ROW_OPTIONS)
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


class BatchFileError(DiffcliError):
    """The file itself cannot be read (exit 2): not text, not UTF-8, empty, no header."""


@dataclass(frozen=True)
class Row:
    number: int  # 1-based, counting data rows (the header is not a row)
    fields: dict[str, Any]
    problem: str | None = None  # why the row could not even be read


def read_rows(stream: TextIO, name: str = "-") -> Iterator[Row]:
    """Rows of a CSV or JSON Lines file, chosen by extension, else by the first character."""
    first = _first_line(stream, name)
    text_stream = _chain(first, stream)
    is_jsonl = name.endswith((".jsonl", ".ndjson", ".json")) or (
        not name.endswith(".csv") and first.lstrip().startswith("{")
    )
    return _json_rows(text_stream) if is_jsonl else _csv_rows(text_stream, name)


def _first_line(stream: TextIO, name: str) -> str:
    try:
        for line in stream:
            if "\x00" in line:
                raise BatchFileError(f"{name}: line 1 has a NUL byte: this is not a text file")
            if line.strip():
                return line
    except UnicodeDecodeError as problem:
        raise BatchFileError(
            f"{name}: not UTF-8 text ({problem.reason} at byte {problem.start})"
        ) from None
    raise BatchFileError(f"{name}: the file is empty")


def _chain(first: str, rest: TextIO) -> Iterator[str]:
    yield first
    line_number = 1
    try:
        for line in rest:
            line_number += 1
            yield line
    except UnicodeDecodeError:
        raise BatchFileError(f"line {line_number + 1} is not UTF-8 text") from None


def _json_rows(lines: Iterable[str]) -> Iterator[Row]:
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as problem:
            yield Row(number, {}, f"not valid JSON: {problem.msg} at column {problem.colno}")
            continue
        if not isinstance(fields, dict):
            yield Row(
                number, {}, 'a JSON Lines row must be an object such as {"expr": ..., "at": ...}'
            )
            continue
        yield Row(number, fields)


def _csv_rows(lines: Iterable[str], name: str) -> Iterator[Row]:
    reader = csv.reader(lines)
    header = [column.strip() for column in next(reader)]
    unknown = [c for c in header if c not in COLUMNS]
    if "expr" not in header or "at" not in header:
        raise BatchFileError(
            f"{name}: the header must name the columns expr and at (it has {', '.join(header)})"
        )
    if unknown:
        raise BatchFileError(
            f"{name}: unknown columns {', '.join(unknown)}; known: {', '.join(COLUMNS)}"
        )
    for number, values in enumerate(reader, 1):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield Row(number, {}, f"{len(values)} fields, but the header has {len(header)}")
            continue
        yield Row(number, {k: v for k, v in zip(header, values) if v.strip() != ""})


Defaults = dict[str, Any]  # Options keyword values: the batch command's options


def run_row(job: tuple[Row, Defaults]) -> dict[str, Any]:
    """One row to one record (never raises: a problem becomes an error record)."""
    row, defaults = job
    if row.problem:
        return _error(row, row.problem)
    try:
        return _run(row, defaults)
    except DiffcliError as problem:
        return _error(row, str(problem))
    except Exception as failure:  # a bug must not sink the other rows
        return _error(row, f"internal error: {type(failure).__name__}: {failure}")


def _run(row: Row, defaults: Defaults) -> dict[str, Any]:
    fields = row.fields
    missing = [c for c in ("expr",) if not fields.get(c)]
    command = str(fields.get("command") or "grad")
    if command not in COMMANDS:
        raise DiffcliError(f"command {command!r}: choose one of {', '.join(COMMANDS)}")
    if missing:
        raise DiffcliError(f"missing column {missing[0]}")
    expression = str(fields["expr"])
    if command == "check":
        from diffcli.teaching.check import check

        if not fields.get("answer"):
            raise DiffcliError("a check row needs an answer")
        result = check(expression, str(fields["answer"]), fields.get("wrt"), fields.get("at"))
        return {"row": row.number, **result.to_json(), "exit_code": result.exit_code}
    if fields.get("at") in (None, ""):
        raise DiffcliError("missing column at")
    from diffcli.core.api import compare_with
    from diffcli.core.options import Options

    values = dict(defaults)
    for name in ROW_OPTIONS:
        if fields.get(name) not in (None, ""):
            values[name] = _column(name, fields[name])
    options = Options.from_raw(command=command, **values)
    at = fields["at"] if isinstance(fields["at"], (str, dict)) else str(fields["at"])
    comparison = compare_with(expression, at, options)
    record = {"row": row.number, **comparison.to_json()}
    if fields.get("expected") not in (None, ""):
        _check_expected(record, fields["expected"])
    return record


def _column(name: str, value: Any) -> Any:
    """A row's value for option `name`, read as the option's type (CSV gives text)."""
    kind = DECLARED[name].kind
    if kind is str:
        return value
    try:
        if isinstance(value, str):
            text = value.strip().lower()
            if kind is not bool:
                return kind(text)
            if text in TRUE + FALSE:
                return text in TRUE
        elif (
            isinstance(value, bool) == (kind is bool)
            and isinstance(value, (int, float))
            and (kind is not int or value == int(value))
        ):
            return kind(value)
    except ValueError:
        pass
    wanted = {int: "a whole number", float: "a number", bool: "true or false"}[kind]
    raise DiffcliError(f"column {name}: expected {wanted}, got {value!r}")


def _check_expected(record: dict[str, Any], expected: Any) -> None:
    """Compare the exact derivative with the row's expected value; a mismatch disagrees."""
    import numpy as np

    if isinstance(expected, str):
        try:
            expected = json.loads(expected)
        except json.JSONDecodeError:
            raise DiffcliError(
                f"expected {expected!r}: write a number, a list or a JSON object"
            ) from None
    reference = record["reference"]["value"]
    if reference is None:
        return
    if not isinstance(expected, dict):
        if isinstance(reference, dict) and len(reference) == 1:
            expected = {next(iter(reference)): expected}
        else:
            expected = {"hessian": expected} if not isinstance(reference, dict) else expected
    actual = reference if isinstance(reference, dict) else {"hessian": reference}
    matches = True
    reasons: list[str] = []
    for name, value in expected.items():
        if name not in actual:
            raise DiffcliError(f"expected names {name}, which is not a variable of this row")
        try:
            want = np.asarray(value, dtype=float)
            got = np.asarray(actual[name], dtype=float)
        except (TypeError, ValueError):
            raise DiffcliError(f"expected {value!r} for {name} is not numbers") from None
        if want.shape != got.shape and want.size == got.size == 1:
            want = want.reshape(got.shape)  # a scalar's 1x1 Hessian may be written as 2
        if want.shape != got.shape:
            matches = False
            reasons.append(
                f"the expected value for {name} has shape {want.shape}, the derivative "
                f"has shape {got.shape}"
            )
        elif not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            matches = False
            reasons.append(f"the expected value for {name} differs from the exact derivative")
    record["expected"] = {"value": expected, "matches": matches}
    if not matches:
        record["agree"] = False
        record["status"] = "disagree"
        record["exit_code"] = int(ExitStatus.FAILED)
        record["notes"].extend(reasons)


def _error(row: Row, message: str) -> dict[str, Any]:
    return {
        "row": row.number,
        "status": "failed",
        "exit_code": int(ExitStatus.BAD_INPUT),
        "agree": False,
        "error": message.splitlines()[0],
        "input": {k: v for k, v in row.fields.items() if isinstance(v, (str, int, float))},
    }


def run_batch(rows: Iterable[Row], defaults: Defaults, jobs: int) -> Iterator[dict[str, Any]]:
    """Records in input order; with jobs > 1, from that many worker processes.

    Pool.imap would read the whole file ahead into its task queue; here at most
    IN_FLIGHT chunks per worker are out at a time, so memory stays flat for any file.
    """
    jobs_input = ((row, defaults) for row in rows)
    if jobs <= 1:
        yield from map(run_row, jobs_input)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with context.Pool(jobs, initializer=_leave_interrupts_to_the_parent) as pool:
        pending: deque[AsyncResult[list[dict[str, Any]]]] = deque()
        for chunk in _chunks(jobs_input, CHUNK_ROWS):
            pending.append(pool.apply_async(_run_chunk, (chunk,)))
            if len(pending) >= IN_FLIGHT * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


CHUNK_ROWS = 8  # rows sent to a worker at once: fewer round trips, still a smooth stream
IN_FLIGHT = 4  # chunks per worker queued ahead, so no worker waits for the next one


def worker_count(
    requested: int | None, rows: Iterator[Row]
) -> tuple[int, Iterator[Row], str | None]:
    """How many workers to start, the rows (none lost to the look-ahead) and why fewer
    than asked, if so: never more than the cores, nor than the file has chunks of rows
    (each worker costs a start-up and its own memory budget)."""
    cores = os.cpu_count() or 1
    wanted = cores if requested is None else requested
    if wanted < 1:
        raise DiffcliError("--jobs must be at least 1")
    workers, why = min(wanted, cores), "the machine's cores"
    head = list(islice(rows, workers * CHUNK_ROWS))
    chunks = -(-len(head) // CHUNK_ROWS)
    if len(head) < workers * CHUNK_ROWS and chunks < workers:
        workers, why = max(1, chunks), f"enough for {len(head)} rows"
    note = None
    if requested is not None and workers < requested:
        note = f"--jobs {requested} capped at {workers} ({why})"
    return workers, chain(head, rows), note


def _run_chunk(chunk: list[tuple[Row, Defaults]]) -> list[dict[str, Any]]:
    return [run_row(job) for job in chunk]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _leave_interrupts_to_the_parent() -> None:
    """Ctrl-C reaches every process of the terminal's group; only the parent should act
    on it (flush, summarise, exit 130), so workers ignore it and are terminated."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    slowest: list[tuple[float, int, str]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        bad = self.counts.get("disagree", 0) + self.counts.get("failed", 0)
        return int(ExitStatus.FAILED if bad else ExitStatus.AGREE)


def tally(summary: Summary, record: dict[str, Any], keep: int = 5) -> None:
    """Count one record into the summary (records stream past; none are kept)."""
    status = status_of(record)
    summary.counts[status] = summary.counts.get(status, 0) + 1
    seconds = sum(m.get("seconds") or 0.0 for m in record.get("methods", {}).values())
    entry = (seconds, record["row"], record.get("expression", ""))
    summary.slowest = sorted([*summary.slowest, entry], reverse=True)[:keep]
    if status in ("failed", "disagree") and len(summary.failures) < 20:
        why = record.get("error") or "; ".join(record.get("notes", []))
        summary.failures.append((record["row"], why[:120]))


def status_of(record: dict[str, Any]) -> str:
    """A record's verdict; a check row's right or wrong counts as agree or disagree."""
    if record.get("command") == "check":
        return "agree" if record.get("correct") else "disagree"
    return str(record.get("status", "failed"))

"""The `$ diffcli ...` samples of README.md and docs/: found, run, and written back.

A sample is a line `$ diffcli ARGS` inside a ```console block; the lines after it, up to
the next `$` line or the end of the block, are what it prints. tests/test_docs.py runs
every sample and compares (timings masked, as tools/snapshot_outputs.py does); this script
writes the current output into the files:

    python tools/doc_samples.py            # update README.md and docs/*.md in place
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from diffcli.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "$ diffcli "


@dataclass(frozen=True)
class Sample:
    """One command of a console block and the lines the file shows for it."""

    path: Path
    line: int  # 1-based line of the `$ diffcli` line
    arguments: tuple[str, ...]
    shown: tuple[str, ...]


def documents() -> list[Path]:
    """README.md and every page of docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def samples(path: Path) -> list[Sample]:
    """Every sample of one file, in order."""
    found: list[Sample] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    inside = False
    current: list[str] | None = None
    start = 0

    def close() -> None:
        if current is not None:
            found.append(Sample(path, start, tuple(shlex.split(current[0])), tuple(current[1:])))

    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            if inside:
                close()
                current = None
            inside = line.strip() == "```console"
            continue
        if not inside:
            continue
        if line.startswith(PROMPT):
            close()
            current, start = [line[len(PROMPT) :]], number
        elif current is not None:
            current.append(line)
    return found


WIDTH = 100  # the columns the samples are printed at: a terminal, and a code block on the web


def run(sample: Sample) -> list[str]:
    """What the sample's command prints at WIDTH (standard output, then any error line)."""
    result = CliRunner().invoke(
        main, list(sample.arguments), prog_name="diffcli", env={"COLUMNS": str(WIDTH)}
    )
    return [line.rstrip() for line in result.output.rstrip("\n").splitlines()]


def update(path: Path) -> int:
    """Write each sample's current output into `path` where it differs in more than its
    timings; how many samples changed."""
    from snapshot_outputs import masked

    lines = path.read_text(encoding="utf-8").splitlines()
    changed = 0
    for sample in reversed(samples(path)):  # from the end, so line numbers stay right
        output = run(sample)
        if masked("\n".join(output)) != masked("\n".join(sample.shown)):
            changed += 1
            lines[sample.line : sample.line + len(sample.shown)] = output
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


if __name__ == "__main__":
    for document in documents():
        print(f"{document.relative_to(ROOT)}: {update(document)} samples updated", file=sys.stderr)

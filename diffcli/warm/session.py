"""One diffcli command line at a time, in this process: what the shell and the notebook
magics share. A line is the CLI's grammar without the `diffcli` prefix; `at POINT` sets a
point that later lines use when they give no --at of their own."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

import click

from diffcli.cli.outlet import Kept, error, keeping

SESSION_WORDS = ("at", "help", "exit", "quit")


@dataclass
class Answer:
    """How a line ended, and what it produced when it was kept."""

    exit_code: int
    kept: Kept = field(default_factory=Kept)

    @property
    def result(self) -> Any:
        return self.kept.result


@dataclass
class Session:
    point: str | None = None  # set by `at x=1, y=2`, used where a line gives no --at

    def arguments(self, line: str) -> list[str]:
        """The line as the CLI's arguments, with the session's point where it has none.
        Quotes work as in a shell; a bad one is a one-line error, as a bad option is."""
        try:
            words = shlex.split(line, comments=True)
        except ValueError as wrong:
            raise click.UsageError(f"cannot read the line: {wrong}") from None
        if words and words[0] == "diffcli":
            words = words[1:]
        if (
            self.point is not None
            and words
            and _takes_at(words[0])
            and not any(w == "--at" or w.startswith("--at=") for w in words)
        ):
            words += ["--at", self.point]
        return words

    def run(self, line: str) -> int:
        """Run the line, printing as the CLI prints; its exit status (130 for Ctrl-C)."""
        return self._run(line)

    def ask(self, line: str) -> Answer:
        """Run the line keeping what it shows and the result it computed (for a notebook)."""
        with keeping() as kept:
            code = self._run(line)
        return Answer(code, kept)

    def _run(self, line: str) -> int:
        from diffcli.cli import main
        from diffcli.core.errors import ExitStatus
        from diffcli.core.resources import release_freed_memory

        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return 0
        head, _, rest = stripped.partition(" ")
        if head == "at":
            return self._set_point(rest.strip())
        if head == "help":
            return self._help(rest.strip())
        if head == "shell":
            error("diffcli: error: the shell is interactive, and this is already a session")
            return int(ExitStatus.BAD_INPUT)
        try:
            main.main(args=self.arguments(stripped), prog_name="diffcli", standalone_mode=False)
        except SystemExit as stop:
            return int(stop.code or 0)
        except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            error("diffcli: cancelled (Ctrl-C): the question, not the session")
            return int(ExitStatus.INTERRUPTED)
        except click.ClickException as wrong:
            error(f"diffcli: error: {wrong.format_message()}")
            return int(wrong.exit_code)
        finally:  # the line is answered: what its work freed goes back while the user reads
            release_freed_memory()
        return 0

    def _set_point(self, point: str) -> int:
        from diffcli.core.errors import DiffcliError, ExitStatus
        from diffcli.lang.point import parse_point

        if not point:
            error(f"at: the point is {self.point}" if self.point else "at: no point is set")
            return 0
        try:
            parse_point(point, ["x"])
        except DiffcliError as wrong:
            error(f"diffcli: error: {wrong.render()}")
            return int(ExitStatus.BAD_INPUT)
        self.point = point
        return 0

    def _help(self, topic: str) -> int:
        return self._run(f"{topic} --help" if topic else "--help")


def _takes_at(command: str) -> bool:
    from diffcli.core.options import DECLARED

    return command in DECLARED["at"].commands

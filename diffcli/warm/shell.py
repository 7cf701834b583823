"""`diffcli shell`: a prompt where each line is a diffcli command without the prefix.

On a terminal it is prompt_toolkit's: history across sessions, completion of commands,
options, function names and the point's variables, Ctrl-C cancelling the question being
answered (not the shell). Lines piped to it run one after another, so a lesson can be a
file: `diffcli shell < lesson.txt`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from diffcli.warm.session import SESSION_WORDS, Session

PROMPT = "diffcli> "
WELCOME = (
    'diffcli shell: a diffcli command a line, without `diffcli` (grad "sin(x)" --at 1). '
    "`at x=1, y=2` sets a point for the lines after it; `help [COMMAND]`; Ctrl-D or "
    "`exit` leaves."
)


def history_path(given: str | None) -> Path:
    """--history, else $DIFFCLI_HISTORY, else ~/.local/state/diffcli/history."""
    chosen = given or os.environ.get("DIFFCLI_HISTORY")
    path = Path(chosen) if chosen else Path.home() / ".local" / "state" / "diffcli" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_lines(session: Session, lines: Iterable[str], echo: bool = True) -> int:
    """Each line in turn (a lesson from a file or a pipe); the largest exit status."""
    worst = 0
    for line in lines:
        text = line.rstrip("\n")
        if text.strip() in ("exit", "quit"):
            break
        if echo and text.strip() and not text.lstrip().startswith("#"):
            print(f"{PROMPT}{text}", flush=True)
        worst = max(worst, session.run(text))
    return worst


def interactive(session: Session, history: Path, **prompt_options: Any) -> int:
    """The prompt on a terminal (or on prompt_toolkit's test input and output)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    prompt = PromptSession(
        history=FileHistory(str(history)), completer=completer(session), **prompt_options
    )
    print(WELCOME, flush=True)
    while True:
        try:
            line = prompt.prompt(PROMPT)
        except KeyboardInterrupt:  # Ctrl-C at the prompt: a new line, as a shell does
            continue
        except EOFError:
            return 0
        if line.strip() in ("exit", "quit"):
            return 0
        session.run(line)


def main(history: str | None) -> int:
    session = Session()
    if not sys.stdin.isatty():
        return run_lines(session, sys.stdin)
    return interactive(session, history_path(history))


def completer(session: Session) -> Any:
    """prompt_toolkit's completer for the session: commands first; then the command's
    options after a dash, and otherwise function names, constants and the variables of
    the session's point. (prompt_toolkit is imported here: piped lines do without it.)"""
    from prompt_toolkit.completion import Completer, Completion

    class Offers(Completer):  # type: ignore[misc]
        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Any]:
            for choice, start in offers(session, document.text_before_cursor):
                yield Completion(choice, start_position=start)

    return Offers()


def offers(session: Session, before: str) -> list[tuple[str, int]]:
    """What completes the text before the cursor: (choice, where it starts, negative)."""
    words = before.split()
    word = "" if before.endswith(" ") or not words else words[-1]
    if len(words) == 0 or (len(words) == 1 and not before.endswith(" ")):
        choices = [*commands(), *SESSION_WORDS]
    elif word.startswith("-"):
        choices = options_of(words[0])
    else:
        word = _identifier_tail(word)
        choices = [*functions(), *point_variables(session.point)]
    return [
        (choice, -len(word))
        for choice in sorted(set(choices))
        if choice.startswith(word) and choice != word
    ]


def commands() -> list[str]:
    from diffcli.cli import main

    return list(main.commands)


def options_of(command: str) -> list[str]:
    from diffcli.core.options import declared_for

    return [o.spelling.split("/")[0] for o in declared_for(command) if not o.hidden]


def functions() -> list[str]:
    from diffcli.lang.ops import CONSTANTS, OPS

    return [op.name for op in OPS if op.infix is None] + list(CONSTANTS)


def point_variables(point: str | None) -> list[str]:
    if not point:
        return []
    from diffcli.lang.point import parse_point

    try:
        return list(parse_point(point, ["x"]))
    except Exception:  # a point that no longer parses offers nothing
        return []


def _identifier_tail(word: str) -> str:
    """The name being typed at the end of a word: `sin(x` completes `x`."""
    tail = ""
    for ch in reversed(word):
        if not (ch.isalnum() or ch == "_"):
            break
        tail = ch + tail
    return tail

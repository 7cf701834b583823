"""`diffcli shell`: piped lessons, and the interactive prompt driven through
prompt_toolkit's pipe input (typed keys) and a dummy output."""

from __future__ import annotations

import pytest
from prompt_toolkit.document import Document

from diffcli.warm.session import Session
from diffcli.warm.shell import completer, interactive

LESSON = """# a lesson: the point once, then questions about it
at x=1, y=2
grad "x*y"
grad "sinn(x)"
hessian "x**2*y"
"""


def test_piped_lines_run_one_after_another(cli):
    result = cli("shell", input=LESSON)
    out = result.stdout
    assert 'diffcli> grad "x*y"' in out and "grad x * y  at x = 1, y = 2" in out
    assert "hessian x**2 * y  at x = 1, y = 2" in out  # the point carried on
    assert "did you mean sin?" in result.stderr  # the bad line said so, and the lesson went on
    assert "# a lesson" not in out  # comments are not echoed
    assert result.exit_code == 2  # the worst line's status


def _typed(keys: str, session: Session, history) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        code = interactive(session, history, input=pipe, output=DummyOutput())
    assert code == 0


def test_the_prompt_answers_keeps_history_and_exits_on_ctrl_d(tmp_path, capsys):
    history = tmp_path / "history"
    session = Session()
    _typed('at x=0.5\ngrad "sin(x)"\nexit\n', session, history)
    out = capsys.readouterr().out
    assert "grad sin(x)  at x = 0.5" in out and "✓ agree" in out
    assert session.point == "x=0.5"
    assert 'grad "sin(x)"' in history.read_text()  # kept across sessions
    again = Session()
    _typed("\x04", again, history)  # Ctrl-D leaves
    assert "history" not in capsys.readouterr().err


def test_ctrl_c_during_a_question_cancels_it_and_the_prompt_goes_on(tmp_path, capsys, monkeypatch):
    import diffcli.core.api

    calls = []

    def slow(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the user pressed Ctrl-C while it ran
        return original(*args, **kwargs)

    original = diffcli.core.api.compare_with
    monkeypatch.setattr(diffcli.core.api, "compare_with", slow)
    _typed('grad "sin(x)" --at 1\ngrad "cos(x)" --at 1\nexit\n', Session(), tmp_path / "h")
    captured = capsys.readouterr()
    assert "cancelled (Ctrl-C)" in captured.err
    assert "grad cos(x)  at x = 1" in captured.out


def _offers(text: str, session: Session | None = None) -> list[str]:
    offered = completer(session or Session()).get_completions(Document(text), None)
    return [c.text for c in offered]


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("gr", ["grad", "graph"]),
        ("he", ["help", "hessian"]),
        ("grad sin(x) --la", []),  # grad takes no --layout: not offered
        ("jacobian A@x --la", ["--layout"]),
        ("grad --ord", ["--order"]),
        ('grad "logs', ["logsumexp"]),
        ('grad "exp', ["expm1"]),
    ],
)
def test_completion_offers_commands_options_and_functions(typed, offered):
    assert _offers(typed) == offered


def test_completion_offers_the_points_variables():
    session = Session()
    session.ask("at alpha=1, beta=[1,2]")
    assert _offers('grad "sin(al', session) == ["alpha"]
    assert "beta" in _offers('grad "b', session)


def test_tab_completes_what_is_typed(tmp_path, capsys):
    """Keys typed one burst at a time (completion runs between them, as for a person):
    `hessi<Tab>` becomes `hessian`, and the completed line runs."""
    import threading
    import time

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as pipe:

        def typist() -> None:
            for burst in ("hessi", "\t", ' "x**2" --at 3\n', "exit\n"):
                time.sleep(0.2)
                pipe.send_text(burst)

        threading.Thread(target=typist, daemon=True).start()
        interactive(Session(), tmp_path / "h", input=pipe, output=DummyOutput())
    assert "hessian x**2  at x = 3" in capsys.readouterr().out


def test_a_piped_lesson_needs_no_prompt_toolkit():
    """prompt_toolkit is the [shell] extra: piped lines run without it."""
    import subprocess
    import sys

    code = (
        "import sys\nsys.modules['prompt_toolkit'] = None\n"
        "from diffcli.cli import main\nmain(['shell'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input='grad "sin(x)" --at 1\n', capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "grad sin(x)  at x = 1" in done.stdout

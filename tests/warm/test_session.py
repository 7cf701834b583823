"""The warm session the shell and the magics share: a line in, the CLI's behaviour out."""

from __future__ import annotations

import os

import pytest

import diffcli
from diffcli.core import resources
from diffcli.warm.session import Session


def test_a_kept_line_returns_its_result_and_views():
    answer = Session().ask('grad "sin(x)" --at 1')
    assert answer.exit_code == 0 and isinstance(answer.result, diffcli.Comparison)
    assert answer.result.methods["autograd"].value["x"] == pytest.approx(0.5403023058681398)
    assert answer.kept.views and not answer.kept.errors


def test_the_point_set_once_is_used_by_later_lines_without_one():
    session = Session()
    assert session.ask("at x=1, y=2").exit_code == 0
    answer = session.ask('grad "x*y"')
    assert answer.result.reference.value == {"x": 2.0, "y": 1.0}
    own = session.ask('grad "x*y" --at x=3,y=4')  # a line's own --at wins
    assert own.result.reference.value == {"x": 4.0, "y": 3.0}


def test_bad_input_is_the_clis_one_line_and_the_session_goes_on():
    session = Session()
    bad = session.ask('grad "sinn(x)" --at 1')
    assert bad.exit_code == 2 and bad.result is None
    assert len(bad.kept.errors) == 1 and "did you mean sin?" in bad.kept.errors[0]
    assert "^^^^" in bad.kept.errors[0]  # the caret under the bad name
    assert session.ask("at x=[1,2").exit_code == 2  # a bad point is refused, not kept
    assert session.point is None
    unknown = session.ask("gradd x")
    assert unknown.exit_code == 2 and "No such command 'gradd'" in unknown.kept.errors[0]
    quotes = session.ask('grad "sin(x) --at 1')
    assert quotes.exit_code == 2 and "cannot read the line" in quotes.kept.errors[0]
    assert session.ask('grad "sin(x)" --at 1').exit_code == 0


def test_ctrl_c_cancels_the_question_not_the_session(monkeypatch):
    import diffcli.core.api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    session = Session()
    monkeypatch.setattr(diffcli.core.api, "compare_with", interrupted)
    answer = session.ask('grad "sin(x)" --at 1')
    assert answer.exit_code == 130 and "cancelled" in answer.kept.errors[0]
    monkeypatch.undo()
    assert session.ask('grad "sin(x)" --at 1').exit_code == 0


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('graph "sin(x*y) + x" --at x=1,y=2', "Graph"),
        ('stepsize "exp(x)" --at 1', "StepStudy"),
        ('explain "sin(x**2)"', "Explanation"),
        ('check "sin(x)**2" --answer "sin(2*x)"', "CheckResult"),
        ('grad "sin(x)" --over x=0:1:11', "GridResult"),
    ],
)
def test_every_command_returns_what_it_computed(line, kind):
    answer = Session().ask(line)
    assert answer.exit_code == 0, answer.kept.errors
    assert type(answer.result).__name__ == kind


@pytest.mark.skipif(
    not os.path.exists("/proc/self/statm") or resources._libc() is None,
    reason="reads Linux's resident size; glibc's trim",
)
def test_a_grid_line_hands_its_freed_memory_back_once_answered():
    """A grid keeps what it frees for its next chunk and leaves it to its owner: the
    session hands it back after the line, so a trim then finds nothing (without the
    session's own, about 30 MB here)."""
    session = Session()
    assert session.ask('grad "sin(x)*exp(x)/(1 + x**2)" --over x=-3:3:300000').exit_code == 0
    left = _resident_bytes()
    resources.release_freed_memory()
    assert left - _resident_bytes() < 8 << 20


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

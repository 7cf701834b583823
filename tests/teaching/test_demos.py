"""Every demo runs, and each of its commands exits as the demo expects."""

from __future__ import annotations

import pytest

from diffcli.teaching.demos import DEMOS

REQUIRED = {
    "dot",
    "sum",
    "hadamard",
    "detach",
    "control-flow",
    "abs-at-zero",
    "relu-at-zero",
    "layouts",
    "chain-rule",
    "forward-vs-reverse",
    "step-size",
    "second-derivative-cost",
}


def test_the_course_is_covered(cli):
    assert {demo.name for demo in DEMOS} == REQUIRED
    listing = cli("demo", "--list").output
    assert all(name in listing for name in REQUIRED)


@pytest.mark.parametrize("demo", DEMOS, ids=[d.name for d in DEMOS])
def test_demo_runs(cli, demo):
    result = cli("demo", demo.name)
    assert result.exit_code == 0, result.output
    assert demo.title in result.output and "Traceback" not in result.output
    assert result.output.count("$ diffcli ") == len(demo.runs)


def test_unknown_demo_suggests(cli):
    result = cli("demo", "detatch")
    assert result.exit_code == 2 and "did you mean detach?" in result.stderr

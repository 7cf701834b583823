"""Hostile input: every one gets exit 2 (or a correct answer), one clear message, no
traceback, no side effect, in a few seconds."""

from __future__ import annotations

import json
import time

import pytest

MARKER = "{marker}"
INJECTIONS = [
    f"__import__('os').system('touch {MARKER}')",
    f"__import__('os').system('touch {MARKER}') + x",
    f"exec(\"open('{MARKER}', 'w')\")",
    f"eval(\"open('{MARKER}', 'w')\")",
    f"open('{MARKER}', 'w')",
    f"compile(\"open('{MARKER}', 'w')\", 'f', 'exec')",
    f"(lambda: open('{MARKER}', 'w'))()",
    f"[open('{MARKER}', 'w') for _ in x]",
    f"sin(x) if open('{MARKER}', 'w') else x",
    f"getattr(__builtins__, 'open')('{MARKER}', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__[1].__subclasses__()",
    "x.__dict__",
    "x.real",
    "getattr(x, 'real')",
    "globals()",
    "locals()",
    "vars()",
    "__builtins__",
    "breakpoint()",
    "input()",
    "help()",
]
SYNTAX = [
    "lambda: 1",
    "[c for c in x]",
    "{c for c in x}",
    "{1: 2}",
    "(c for c in x)",
    "f'{x}'",
    "(y := 1) + x",
    "sin(*x)",
    "sin(**x)",
    "sin(x=1)",
    "'a'",
    "b'a'",
    "x if x else 1",
    "x and 1",
    "not x",
    "x < 1",
    "x[1:2]",
    "x[...]",
    "...",
    "None",
    "True",
    "import os",
    "x; y",
    "x = 1",
    "del x",
    "yield x",
    "await x",
    "x +",
    ")",
    "x\n+ 1",
]
SIZE = [
    "x+" * 500_000 + "x",
    "(" * 10_000 + "x" + ")" * 10_000,
    "sin(" * 2_000 + "x" + ")" * 2_000,
    "9**9**9**9",
    "x**(10**100)",
    "x**9**9",
    "2**2**2**2**2**2",
    "1e999*x",
    "-" * 5000 + "x",
]
UNICODE = [
    "x\x00",
    "x + \u0445",  # Cyrillic ha, a homoglyph of x
    "x\u200f + 1",  # right-to-left mark
    "\uff11 + x",  # full-width digit one
    "\uff53\uff49\uff4e(x)",  # full-width sin
    "x\u200b",  # zero-width space
    "x + \U0001f600",
    "x\u00a0+ 1",  # no-break space
]
ALL = INJECTIONS + SYNTAX + SIZE + UNICODE


def test_there_are_at_least_fifty():
    assert len(ALL) >= 50


@pytest.mark.parametrize("text", ALL, ids=[f"{i}:{t[:30]!r}" for i, t in enumerate(ALL)])
def test_hostile_expression(cli, tmp_path, text):
    marker = tmp_path / "pwned"
    start = time.perf_counter()
    # after --, as a script passes untrusted text (else "-x..." reads as an option)
    result = cli("grad", "--at", "x=1", "--timeout", "2", "--", text.replace(MARKER, str(marker)))
    elapsed = time.perf_counter() - start
    assert result.exit_code == 2, (text[:60], result.output[:300])
    assert "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.startswith("diffcli: error: ")
    assert not marker.exists()
    assert elapsed < 5, elapsed


@pytest.mark.parametrize(
    "point",
    [
        "x=__import__('os').system('touch {marker}')",
        "x=open('{marker}', 'w')",
        "x=[1, 2",
        "x=" + "[" * 5000 + "1" + "]" * 5000,
        "x=arange(10**12)",
        "x=1e999",
        "x=1\x00",
        "x=\uff11",
        "x=lambda: 1",
    ],
)
def test_hostile_point(cli, tmp_path, point):
    marker = tmp_path / "pwned"
    result = cli("grad", "sin(x)", "--at", point.replace("{marker}", str(marker)))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not marker.exists()


def test_a_tower_answers_within_the_timeout(cli):
    start = time.perf_counter()
    result = cli("grad", "x**x**x**x**x**x", "--at", "x=1.1", "--timeout", "1")
    assert time.perf_counter() - start < 10
    assert result.exit_code in (0, 1) and "Traceback" not in result.output


def test_a_long_finite_difference_stops_at_the_timeout_and_autograd_still_answers(cli):
    result = cli(
        "grad",
        "sum(x*x)",
        "--at",
        "x=arange(30000)",
        "--timeout",
        "1",
        "--methods",
        "numeric,autograd",
        "--format",
        "json",
    )
    record = json.loads(result.output)
    assert result.exit_code == 1
    assert record["methods"]["numeric"]["error"].startswith("timed out after")
    assert "its share of --timeout 1 s" in record["methods"]["numeric"]["error"]
    assert record["methods"]["autograd"]["ok"], record["methods"]["autograd"]["error"]

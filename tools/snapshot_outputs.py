"""Run a few hundred diffcli commands in one process and write what each prints.

A refactor that must not change behaviour is checked by running this before and after and
diffing the two folders. Timings and memory figures are masked, since they change from run
to run; everything else (values, verdicts, exit codes, messages) must match byte for byte.

    python tools/snapshot_outputs.py /tmp/before
    ... refactor ...
    python tools/snapshot_outputs.py /tmp/after && diff -r /tmp/before /tmp/after
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from click.testing import CliRunner

from diffcli.cli import main
from diffcli.teaching.demos import DEMOS

GRAD = [
    ("sin(x)", "1.0"),
    ("x**2*y + exp(x*y)", "x=0.5,y=-1"),
    ("2*dot(x, x)", "x=arange(4)"),
    ("norm(X@w - y)**2", "X=[[1,2],[3,4],[5,6]], w=[0.1,0.2], y=[1,0,1]"),
    ("exp(x)*sin(x)", "1"),
    ("abs(x)", "0"),
    ("relu(x)", "0"),
    ("sqrt(x)", "0"),
    ("x**0.5", "0"),
    ("1/x", "0"),
    ("log(x)", "-1"),
    ("sum(sin(x)*x)", "x=[1,2,3]"),
    ("logsumexp(x)", "x=[1,2,3]"),
    ("softplus(x)", "-3"),
    ("hypot(x, y)", "x=3,y=4"),
    ("stop_gradient(x)*x", "2"),
    ("x**3", "2"),
    ("norm(x)", "x=[0,0]"),
    ("max(x, y)", "x=1,y=1"),
    ("tanh(x)", "0.3"),
    ("sigmoid(x)", "0.3"),
    ("trace(A@A)", "A=[[1,2],[3,4]]"),
    ("det(A)", "A=[[1,2],[3,4]]"),
    ("x*y*z", "x=1,y=2,z=3"),
    ("pi*x + e", "1"),
]
JACOBIAN = [
    ("[x*y, sin(x), exp(y)]", "x=1,y=2"),
    ("A@x", "A=[[1,2,3],[4,5,6]], x=[1,1,1]"),
    ("sin(x)", "x=[1,2,3]"),
    ("x*y", "x=2,y=3"),
]
HESSIAN = [
    ("100*(y - x**2)**2 + (1 - x)**2", "x=-1.2,y=1"),
    ("dot(x, x)", "x=[1,2,3]"),
    ("sin(x)*cos(y)", "x=1,y=2"),
    ("abs(x)", "0"),
]
TIMED_DEMOS = {"forward-vs-reverse", "second-derivative-cost"}  # their output is timings
BAD = [
    ["grad", "sin(", "--at", "1"],
    ["grad", "sinn(x)", "--at", "1"],
    ["grad", "sin(x)", "--at", "x=nan"],
    ["grad", "sin(x)", "--at", "y=1"],
    ["grad", "x**1000001", "--at", "1"],
    ["grad", "sin(x)"],
    ["grad", "-x", "--at", "1"],
    ["grad", "sin(x)", "--at", "1", "--order", "0"],
    ["grad", "sin(x)", "--at", "1", "--step", "-1"],
    ["grad", "sin(x)", "--at", "1", "--methods", "magic"],
    ["grad", "sin(x)", "--over", "x=0:1:11", "--format", "csv"],
    ["jacobian", "x", "--at", "1", "--order", "2"],
    ["hessian", "[x, y]", "--at", "x=1,y=2"],
    ["cost", "sin(x)", "--n", "a,b"],
    ["demo", "dott"],
    ["check", "sin(x)", "--answer", "cos("],
    ["explain", "sin(", "--wrt", "x"],
    ["graph", "sin(x)", "--at", "x=q"],
]


def commands() -> list[list[str]]:
    """Every command line in the snapshot."""
    runs: list[list[str]] = []
    for expression, at in GRAD:
        for fmt in ("table", "json", "csv", "latex"):
            runs.append(["grad", expression, "--at", at, "--format", fmt])
        runs.append(["grad", expression, "--at", at, "--scheme", "richardson", "--format", "json"])
        runs.append(["grad", expression, "--at", at, "--mode", "forward"])
        runs.append(["grad", expression, "--at", at, "--dtype", "float32"])
        runs.append(["hessian", expression, "--at", at, "--format", "json"])
        runs.append(["graph", expression, "--at", at])
    for scheme in ("forward", "backward", "five-point", "complex-step"):
        runs.append(["grad", "exp(x)*sin(x)", "--at", "1", "--scheme", scheme])
    for order in ("2", "3", "4"):
        runs.append(["grad", "exp(x)*sin(x)", "--at", "1", "--order", order, "--format", "json"])
    for expression, at in JACOBIAN:
        for layout in ("numerator", "denominator"):
            for fmt in ("table", "json"):
                runs.append(
                    ["jacobian", expression, "--at", at, "--layout", layout, "--format", fmt]
                )
        runs.append(["jacobian", expression, "--at", at, "--mode", "forward"])
    for expression, at in HESSIAN:
        for fmt in ("table", "json", "csv", "latex"):
            runs.append(["hessian", expression, "--at", at, "--format", fmt])
    for fmt in ("table", "dot", "mermaid", "json"):
        runs.append(["graph", "x**2*y + exp(x*y)", "--at", "x=0.5,y=-1", "--format", fmt])
    runs.append(["graph", "2*dot(x, x)", "--at", "x=arange(4)", "--mode", "forward"])
    for fmt in ("table", "json"):
        runs.append(["stepsize", "exp(x)", "--at", "1", "--format", fmt])
        runs.append(["grad", "sin(x)", "--over", "x=0:3:101", "--format", fmt])
        runs.append(["grad", "abs(x)", "--over", "x=-1:1:11", "--format", fmt])
        runs.append(["check", "sin(x)**2", "--answer", "sin(2*x)", "--format", fmt])
        runs.append(["check", "sin(x)**2", "--answer", "2*cos(x)", "--format", fmt])
    for fmt in ("text", "latex"):
        runs.append(["explain", "sin(x**2)*exp(x)", "--format", fmt])
        runs.append(["explain", "x**2*y", "--wrt", "y", "--format", fmt])
    for fmt in ("json", "csv"):
        runs.append(["batch", "examples/cases.csv", "--jobs", "1", "--format", fmt])
    runs.append(["grad", "sin(x)", "--python", "examples/control_flow.py:f", "--at", "x=[1,2]"])
    runs.append(["demo", "--list"])
    for demo in DEMOS:
        if demo.name not in TIMED_DEMOS:
            runs.append(["demo", demo.name])
    runs.extend(BAD)
    return runs


MASKS = [
    (re.compile(r'("\w*(seconds|second)": )[-0-9.e]+'), r"\1T"),
    (re.compile(r'("memory_bytes": \[)[^\]]*'), r"\1M"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|µs|ns|s|KiB|MiB|GiB|B)\b"), "T"),
    (re.compile(r"[0-9.]+e\+\d\d(?=\s+T$)", re.M), "R"),
    (re.compile(r"\(\S+ points/s\)"), "(R points/s)"),
    (re.compile(r"(?<=,)\d+\.\d{6}(?=,)"), "T"),
    (re.compile(r"[ ─]{2,}"), " "),  # column widths follow the masked timings
]


def masked(text: str) -> str:
    """The text with timings and memory figures replaced by a letter, runs of spaces by one."""
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def main_(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    for arguments in commands():
        result = runner.invoke(main, arguments, prog_name="diffcli")
        name = hashlib.sha1("\0".join(arguments).encode()).hexdigest()[:12]
        text = (
            f"$ diffcli {' '.join(arguments)}\nexit {result.exit_code}\n"
            f"--- stdout\n{masked(result.stdout)}--- stderr\n{masked(result.stderr)}"
        )
        (out / f"{name}.txt").write_text(text, encoding="utf-8")
    print(f"{len(commands())} outputs in {out}", file=sys.stderr)


if __name__ == "__main__":
    main_(sys.argv[1])

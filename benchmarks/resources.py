"""Wall time and peak memory of the resources issue's rows, measured from outside.

Each row runs as a `python -m diffcli` subprocess, one at a time; its wall time is taken
here and its peak resident size from the kernel (os.wait4), not from diffcli. With
--baseline DIR, every row runs a second time against the diffcli source in DIR (a
checkout of an earlier commit: `git worktree add /tmp/before 11f2068`), interleaved, so
that both columns are measured in the same run. A row is stopped after --limit seconds
and may not use more than --memory-cap GiB of address space (an earlier version asked
for 74.5 GiB at once), and says so.

    python benchmarks/resources.py
    python benchmarks/resources.py --baseline /tmp/before --limit 120
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOP = "def f(a):\n    while True:\n        pass\n"
CASES = "expr,at\n" + "".join(f"x**{k},1\n" for k in range(1, 13))

ROWS = [
    (
        "numeric, arange(10000), --timeout 2",
        "grad",
        "sum(x*x)",
        "--at",
        "x=arange(10000)",
        "--methods",
        "numeric",
        "--timeout",
        "2",
    ),
    (
        "every method, arange(100000), --timeout 2",
        "grad",
        "sum(x*x)",
        "--at",
        "x=arange(100000)",
        "--timeout",
        "2",
    ),
    (
        "numeric, arange(100000)",
        "grad",
        "sum(x*x)",
        "--at",
        "x=arange(100000)",
        "--methods",
        "numeric",
    ),
    (
        "hessian, arange(3000), --timeout 2",
        "hessian",
        "sum(x*x*x)",
        "--at",
        "x=arange(3000)",
        "--timeout",
        "2",
    ),
    ("cost, README example", "cost", "sum(sin(x)*x)", "--n", "10,100,1000,10000"),
    (
        "--python while True, --timeout 3",
        "grad",
        "--python",
        "{loop}:f",
        "--at",
        "a=0.7",
        "--timeout",
        "3",
    ),
    ("batch, 12 rows, --jobs 1000", "batch", "{cases}", "--jobs", "1000", "--format", "json"),
    ("grid, 10^8 points, default --timeout", "grad", "tanh(x)", "--over", "x=0:1:100000000"),
    (
        "grid, 10^8 points, --timeout 600",
        "grad",
        "tanh(x)",
        "--over",
        "x=0:1:100000000",
        "--timeout",
        "600",
    ),
    (
        "--plot out.txt after the work",
        "grad",
        "tanh(x)",
        "--over",
        "x=-5:5:21",
        "--plot",
        "out.txt",
    ),
]


def measure(
    arguments: list[str], source: str | None, limit: float, cap_gib: float, folder: str
) -> tuple[float, float, int | str]:
    """(seconds, peak MiB, exit status or why it was stopped) of one run."""
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = source
    cap = int(cap_gib * (1 << 30))

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.setsid()

    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "diffcli", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=folder,
        preexec_fn=limits,
    )
    stopped = ""
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > limit:
            os.killpg(process.pid, signal.SIGKILL)
            stopped = f"killed at {limit:g} s"
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    return seconds, usage.ru_maxrss / 1024, stopped or process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a folder holding an earlier diffcli's source")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds a row may run")
    parser.add_argument("--memory-cap", type=float, default=16.0, help="GiB of address space")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = {"loop": str(Path(folder) / "loop.py"), "cases": str(Path(folder) / "c.csv")}
        Path(files["loop"]).write_text(LOOP)
        Path(files["cases"]).write_text(CASES)
        header = f"{'row':44} {'after':>22}"
        if options.baseline:
            header += f" {'before':>32}"
        print(header)
        for name, *arguments in ROWS:
            filled = [a.format(**files) for a in arguments]
            line = f"{name:44} " + _cell(
                measure(filled, None, options.limit, options.memory_cap, folder)
            )
            if options.baseline:
                before = measure(
                    filled, options.baseline, options.limit, options.memory_cap, folder
                )
                line += " " + _cell(before, 32)
            print(line, flush=True)


def _cell(run: tuple[float, float, int | str], width: int = 22) -> str:
    seconds, mib, status = run
    text = f"{seconds:6.1f} s {mib:7.0f} MiB"
    text += f" exit {status}" if isinstance(status, int) else f" {status}"
    return f"{text:>{width}}"


if __name__ == "__main__":
    main()

"""Start-up: how long the one-off commands take, against the imports they cannot avoid.

Run: python benchmarks/startup.py [--runs 7]

Each command runs as a fresh process, interleaved with its baseline so that both see the
same machine load; the median of the runs is reported.
Targets (issue 6): `diffcli --help` <= 0.25 s and <= 3x `python -c "import click, rich"`;
`diffcli grad "sin(x)" --at 1.0` <= 1.25x `python -c "import torch, sympy, numpy, click,
rich"` (the import floor). `--version` and a bad expression should cost what --help costs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def diffcli_command() -> list[str]:
    """The installed console script, as a user runs it (else python -m diffcli)."""
    script = shutil.which("diffcli")
    return [script] if script else [sys.executable, "-m", "diffcli"]


def wall(arguments: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(arguments, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    diffcli = diffcli_command()
    commands = {
        "import click, rich": [sys.executable, "-c", "import click, rich"],
        "diffcli --help": [*diffcli, "--help"],
        "diffcli --version": [*diffcli, "--version"],
        "diffcli grad 'sni(x)' (bad input)": [*diffcli, "grad", "sni(x)", "--at", "1"],
        "import floor": [sys.executable, "-c", "import torch, sympy, numpy, click, rich"],
        "diffcli grad 'sin(x)' --at 1.0": [*diffcli, "grad", "sin(x)", "--at", "1.0"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(wall(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in median.items():
        spread = f"{min(times[name]):.2f}-{max(times[name]):.2f}"
        print(f"{name:36} {seconds:6.2f} s   (runs: {spread} s)")
    light, helped = median["import click, rich"], median["diffcli --help"]
    floor, grad = median["import floor"], median["diffcli grad 'sin(x)' --at 1.0"]
    print()
    print(f"--help / (click + rich)   = {helped / light:.2f}x")
    print(f"grad / import floor       = {grad / floor:.2f}x")
    targets = [
        ("diffcli --help <= 0.25 s", helped <= 0.25),
        ("diffcli --help <= 3x import click, rich", helped <= 3 * light),
        ("diffcli grad <= 1.25x the import floor", grad <= 1.25 * floor),
    ]
    for label, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

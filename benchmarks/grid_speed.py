"""Grid speed: f' over 10^6 points by each method, against evaluating f itself.

Run: python benchmarks/grid_speed.py [--device cuda] [--points 1000000]

The cheap-gradient principle: a gradient need not cost more than a few evaluations of f.
Each method's time at 10^6 points (best of 3 runs) is compared with NumPy evaluating f on
the same points (best of 3, same run); then 10^7 points run in a child process whose peak
memory (ru_maxrss) is read.
Targets (issue 6): each method <= 4x f's time; 10^7 points with peak memory <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys

EXPRESSION = "sin(x)*exp(x)/(1 + x**2)"


def plain_numpy_seconds(points: int) -> float:
    """The baseline: f written by hand in NumPy, on the same points."""
    import timeit

    import numpy as np

    x = np.linspace(-3, 3, points)
    return min(timeit.repeat(lambda: np.sin(x) * np.exp(x) / (1 + x**2), number=1, repeat=3))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    from diffcli.core.options import Options
    from diffcli.features.grid import run_grid

    options = Options(device=args.device)
    if args.child:
        run_grid(EXPRESSION, f"x=-3:3:{args.child}", None, options)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(peak)
        return 0
    runs = [run_grid(EXPRESSION, f"x=-3:3:{args.points}", None, options) for _ in range(3)]
    result = runs[0]
    for name, summary in result.methods.items():  # best of 3 runs: this machine is noisy
        summary.seconds = min(run.methods[name].seconds for run in runs)
    f_time = plain_numpy_seconds(args.points)
    print(f"f = {EXPRESSION} at {args.points:,} points, device {args.device}")
    print(f"NumPy evaluating f itself (hand-written, best of 3): {f_time * 1e3:8.1f} ms")
    ok = True
    for name, summary in result.methods.items():
        ratio = summary.seconds / f_time
        ok &= ratio <= 4
        print(
            f"{name:9} {summary.seconds * 1e3:8.1f} ms  = {ratio:4.2f}x f   max abs err "
            f"{summary.figures(args.points)['max_abs_error']:.1e}"
        )
    print(f"  {'PASS' if ok else 'FAIL'}  every method <= 4x the time of f")
    big = 10_000_000
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(big), "--device", args.device],
        capture_output=True,
        text=True,
        check=True,
    )
    peak = int(child.stdout.strip().splitlines()[-1])
    print(
        f"{big:,} points: peak memory {peak / 2**30:.2f} GiB (the process, torch and SymPy loaded)"
    )
    print(f"  {'PASS' if peak <= 1.5e9 else 'FAIL'}  peak memory <= 1.5 GB at 10^7 points")
    return 0


if __name__ == "__main__":
    sys.exit(main())

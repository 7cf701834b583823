"""Grid speed: f' over 10^6 points by each method, against evaluating f itself.

Run: python benchmarks/grid_speed.py [--device cuda] [--points 1000000] [--flat]

For three functions (elementwise-cheap, transcendental-heavy, one with a vector parameter)
each method's time over the grid (best of 3 runs) is divided by the time of f written by
hand in NumPy on the same points (best of 3, same run), and the whole `--over` run
(reference and summaries included, start-up excluded) by the three methods' time.
Where JAX is installed (a benchmark-only dependency), jax.jit(vmap(grad)) runs beside it.
--flat also prints points per second from 10^5 to 10^8 points and each run's peak memory
(a child process per size).
Targets (issue 18): each method <= 2x f; the whole run <= 2x the three methods.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import subprocess
import sys
import time
import timeit

import numpy as np

FUNCTIONS = {
    "cheap": ("x**2 + 3*x", None, lambda x: x**2 + 3 * x),
    "transcendental": (
        "sin(x)*exp(x)/(1 + x**2)",
        None,
        lambda x: np.sin(x) * np.exp(x) / (1 + x**2),
    ),
    "vector parameter": (
        "dot(w, [sin(x), cos(x), x])",
        "w=[0.5, -1, 2]",
        lambda x: 0.5 * np.sin(x) - np.cos(x) + 2 * x,
    ),
}


def f_seconds(function, points: int) -> float:
    """f by hand in NumPy, with memory kept for reuse as the grid keeps it (page faults on
    fresh blocks would slow f, and flatter every ratio)."""
    from diffcli.core.resources import freed_memory_kept

    x = np.linspace(-3, 3, points)
    with freed_memory_kept():
        return min(timeit.repeat(lambda: function(x), number=1, repeat=5))


def jax_seconds(name: str, points: int) -> float | None:
    if importlib.util.find_spec("jax") is None:
        return None
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    forms = {
        "cheap": lambda x: x**2 + 3 * x,
        "transcendental": lambda x: jnp.sin(x) * jnp.exp(x) / (1 + x**2),
        "vector parameter": lambda x: jnp.dot(
            jnp.array([0.5, -1.0, 2.0]), jnp.stack([jnp.sin(x), jnp.cos(x), x])
        ),
    }
    derivative = jax.jit(jax.vmap(jax.grad(forms[name])))
    x = jnp.linspace(-3, 3, points)
    derivative(x).block_until_ready()
    return min(timeit.repeat(lambda: derivative(x).block_until_ready(), number=1, repeat=3))


def measured(expression: str, at: str | None, points: int, device: str) -> tuple[dict, float, dict]:
    """Each method's best time of 3 runs, the best whole run, and where that run's time
    went besides the methods (f, the reference)."""
    from diffcli.core.options import Options
    from diffcli.core.resources import release_freed_memory
    from diffcli.features.grid import run_grid

    options = Options(device=device)
    run_grid(expression, "x=-3:3:1000", at, options)  # first uses
    best: dict[str, float] = {}
    whole, parts = float("inf"), {}
    for _ in range(3):
        # as a warm session does after each line: no run finds the last one's memory
        release_freed_memory()
        start = time.perf_counter()
        result = run_grid(expression, f"x=-3:3:{points}", at, options)
        seconds = time.perf_counter() - start
        if seconds < whole:
            whole = seconds
            parts = {"f": result.f_seconds, "reference": result.reference_seconds}
        for name, summary in result.methods.items():
            best[name] = min(best.get(name, float("inf")), summary.seconds)
        assert result.agree, (expression, result.notes)
    return best, whole, parts


def flat(device: str) -> None:
    print(
        "\nwhole-run throughput against N (transcendental), start-up excluded, a child per "
        "size;\nthe fixed cost is a 1,000-point run's (derivation, plan, mpmath check, first "
        "chunk), and\nthe rate past it is (N - 1000) / (whole - fixed):"
    )
    for points in (10**5, 10**6, 10**7, 10**8):
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(points), "--device", device],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, fixed, peak = map(float, child.stdout.split())
        print(
            f"  {points:>11,} points: {points / seconds:9.3g} points/s, fixed cost "
            f"{fixed * 1e3:4.1f} ms, past it {(points - 1000) / (seconds - fixed):9.3g} "
            f"points/s, peak {peak / 2**30:.2f} GiB"
        )


def child(points: int, device: str) -> None:
    from diffcli.core.options import Options
    from diffcli.core.resources import release_freed_memory
    from diffcli.features.grid import run_grid

    expression = FUNCTIONS["transcendental"][0]
    options = Options(device=device, timeout=None)  # the default 10 s would cut 10^8 short
    run_grid(expression, "x=-3:3:1000", None, options)  # start-up: imports, first uses
    fixed = min(
        timeit.repeat(
            lambda: run_grid(expression, "x=-3:3:1000", None, options),
            setup=release_freed_memory,
            number=1,
            repeat=5,
        )
    )
    release_freed_memory()
    start = time.perf_counter()
    result = run_grid(expression, f"x=-3:3:{points}", None, options)
    seconds = time.perf_counter() - start
    assert result.covered == points
    print(seconds, fixed, _peak_bytes())


def _peak_bytes() -> int:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (getrusage's
    maxrss carries the parent's peak over a fork and exec, 0.5 GiB here with JAX loaded)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--flat", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.device)
        return 0
    failures = 0
    print(f"{args.points:,} points, device {args.device}; times are the best of 3 runs")
    for name, (expression, at, numpy_form) in FUNCTIONS.items():
        f_time = f_seconds(numpy_form, args.points)
        best, whole, parts = measured(expression, at, args.points, args.device)
        methods = sum(best.values())
        print(f"\n{name}: f = {expression}{'  (' + at + ')' if at else ''}")
        print(f"  f in NumPy {f_time * 1e3:8.1f} ms  ({args.points / f_time:.3g} points/s)")
        for method, seconds in best.items():
            ratio = seconds / f_time
            failures += ratio > 2
            print(
                f"  {method:9}  {seconds * 1e3:8.1f} ms  {ratio:5.2f}x f  "
                f"({args.points / seconds:.3g} points/s)  {'ok' if ratio <= 2 else 'over 2x'}"
            )
        ratio = whole / methods
        failures += ratio > 2
        print(
            f"  whole run  {whole * 1e3:8.1f} ms  {ratio:5.2f}x the three methods  "
            f"{'ok' if ratio <= 2 else 'over 2x'}  (of it f {parts['f'] * 1e3:.1f} ms, "
            f"the reference {parts['reference'] * 1e3:.1f} ms)"
        )
        jax_time = jax_seconds(name, args.points)
        if jax_time is None:
            print("  JAX: not installed (pip install jax to compare)")
        else:
            print(
                f"  JAX jit(vmap(grad)) {jax_time * 1e3:8.1f} ms "
                f"({args.points / jax_time:.3g} points/s)"
            )
    if args.flat:
        flat(args.device)
    print(f"\n{failures} figures over their 2x target" if failures else "\nall within 2x")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

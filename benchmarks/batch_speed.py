"""Batch speed: 1000 mixed rows through `diffcli batch`, against the ways people do it without.

Run: python benchmarks/batch_speed.py   (numdifftools and sympy for the baseline)

Measured in this one run, side by side:
- `diffcli batch rows.csv --jobs 2` and `--jobs 1`, end to end (process start included);
- the median per-row cost after start-up (rows run in-process, as a worker runs them),
  for these rows (six expressions at many points: the derivation is shared) and for
  rows whose expressions are all different (each row scaled by its own constant);
- a shell loop calling `diffcli grad` once per row (timed on 10 rows, scaled to 1000);
- numdifftools + SymPy in one Python process: SymPy's derivative evaluated at the point
  and numdifftools' numeric gradient, row by row (what a script would do by hand).
Targets (issue 6): 1000 rows <= 10 s with --jobs 2; median per-row cost <= 5 ms.
"""

from __future__ import annotations

import csv
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1000
TEMPLATES = [
    ("grad", "sin(x)*exp(x)", "x={a}", ""),
    ("grad", "x**2*y + exp(x*y)", "x={a},y={b}", ""),
    ("grad", "2*dot(x, x)", "x=[{a},{b},1,2]", ""),
    ("grad", "exp(x)*sin(x)", "x={a}", "2"),
    ("jacobian", "[x*y, sin(x), exp(y)]", "x={a},y={b}", ""),
    ("grad", "norm(X@w - y)**2", "X=[[1,2],[3,4]], w=[{a},{b}], y=[0,1]", ""),
]


def write_rows(path: Path, distinct: bool = False) -> list[dict[str, str]]:
    rng = random.Random(1)
    rows = []
    for i in range(ROWS):
        command, expr, at, order = TEMPLATES[i % len(TEMPLATES)]
        point = at.format(a=round(rng.uniform(0.1, 2), 3), b=round(rng.uniform(-1, 1), 3))
        if distinct:
            expr = f"{1 + i / ROWS}*({expr})"
        rows.append({"command": command, "expr": expr, "at": point, "order": order})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["command", "expr", "at", "order"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def wall(arguments: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(arguments, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def per_row_in_process(path: Path) -> float:
    from diffcli.features.batch import read_rows, run_row

    with path.open(newline="") as handle:
        rows = list(read_rows(handle, str(path)))
    for row in rows[: len(TEMPLATES)]:  # warm-up: imports and first use of each engine
        run_row((row, {"closed_forms": False}))
    times = []
    for row in rows:
        start = time.perf_counter()
        run_row((row, {"closed_forms": False}))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numdifftools_and_sympy(rows: list[dict[str, str]]) -> float:
    """Scalar-variable rows done by hand: SymPy derivative at the point + numdifftools."""
    import numdifftools as nd
    import numpy as np
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    forms = {
        "sin(x)*exp(x)": sp.sin(x) * sp.exp(x),
        "x**2*y + exp(x*y)": x**2 * y + sp.exp(x * y),
        "exp(x)*sin(x)": sp.exp(x) * sp.sin(x),
    }
    chosen = [r for r in rows if r["expr"] in forms]
    start = time.perf_counter()
    for row in chosen:
        values = dict(part.split("=") for part in row["at"].split(","))
        point = {sp.Symbol(k, real=True): float(v) for k, v in values.items()}
        expr = forms[row["expr"]]
        variables = sorted(point, key=str)
        exact = [float(sp.diff(expr, v).evalf(30, subs=point)) for v in variables]
        function = sp.lambdify(variables, expr, "numpy")
        nd.Gradient(lambda p, f=function: f(*p))(np.array([point[v] for v in variables]))
        assert exact
    return (time.perf_counter() - start) / len(chosen)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        rows = write_rows(path)
        diffcli = [sys.executable, "-m", "diffcli", "batch", str(path), "--format", "json"]
        jobs2 = wall([*diffcli, "--jobs", "2"])
        jobs1 = wall([*diffcli, "--jobs", "1"])
        median = per_row_in_process(path)
        distinct_path = Path(folder) / "distinct.csv"
        write_rows(distinct_path, distinct=True)
        distinct = per_row_in_process(distinct_path)
        run_distinct = [*diffcli[:4], str(distinct_path), "--format", "json", "--jobs", "2"]
        distinct_jobs2 = wall(run_distinct)
        loop_start = time.perf_counter()
        for row in rows[:10]:
            command = [
                sys.executable,
                "-m",
                "diffcli",
                row["command"],
                row["expr"],
                "--at",
                row["at"],
            ]
            if row["order"]:
                command += ["--order", row["order"]]
            subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
        loop = (time.perf_counter() - loop_start) / 10 * ROWS
        by_hand = numdifftools_and_sympy(rows)
    print(f"rows: {ROWS} (grad scalar / multi-variable / vector / order 2, jacobian, regression)")
    print(f"diffcli batch --jobs 2 : {jobs2:7.2f} s end to end")
    print(f"diffcli batch --jobs 1 : {jobs1:7.2f} s end to end")
    print(f"  ... distinct exprs   : {distinct_jobs2:7.2f} s end to end with --jobs 2")
    print(f"median per-row cost    : {median * 1e3:7.2f} ms (in-process, after start-up)")
    print(f"  ... distinct exprs   : {distinct * 1e3:7.2f} ms (every row a different expression)")
    print(
        f"loop of diffcli grad   : {loop:7.1f} s (10 rows timed, x{ROWS // 10}); "
        f"batch --jobs 2 is {loop / jobs2:.0f}x faster"
    )
    print(
        f"numdifftools + sympy   : {by_hand * 1e3:7.2f} ms per scalar row by hand "
        f"(exact + numeric only, no autograd, no verdict); diffcli {median * 1e3:.2f} ms"
    )
    print(f"  {'PASS' if jobs2 <= 10 else 'FAIL'}  1000 rows <= 10 s with --jobs 2")
    print(f"  {'PASS' if median <= 0.005 else 'FAIL'}  median per-row cost <= 5 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

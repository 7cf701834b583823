"""Batch under load: 100,000 rows, 5% of them bad, with --jobs 2.

Run: python benchmarks/batch_stress.py [--rows 100000]

Checks that every row is accounted for (one record per row, in order, bad rows as error
records with their row number) and reports the wall time and the peak memory of the
parent process and of the largest worker (ru_maxrss of children).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOOD = ["sin(x)*exp(x),x={a}", 'x**2*y + exp(x*y),"x={a},y={b}"', '"2*dot(x, x)","x=[{a},1,2]"']
BAD = ["sni(x),x=1", "x*y,x=1", 'x,"x=[1,"', "lambda: 1,x=1"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        bad_rows = set()
        with path.open("w") as handle:
            handle.write("expr,at\n")
            for i in range(1, args.rows + 1):
                if rng.random() < 0.05:
                    bad_rows.add(i)
                    handle.write(rng.choice(BAD) + "\n")
                else:
                    line = rng.choice(GOOD)
                    handle.write(
                        line.format(a=round(rng.uniform(0.1, 2), 3), b=round(rng.uniform(-1, 1), 3))
                        + "\n"
                    )
        start = time.perf_counter()
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "diffcli",
                "batch",
                str(path),
                "--format",
                "json",
                "--jobs",
                "2",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    records = [json.loads(line) for line in process.stdout.splitlines()]
    in_order = [r["row"] for r in records] == list(range(1, args.rows + 1))
    failed = {r["row"] for r in records if r.get("status") == "failed"}
    print(
        f"rows {args.rows:,}, bad {len(bad_rows):,} ({len(bad_rows) / args.rows:.1%}); "
        f"exit {process.returncode}"
    )
    print(
        f"records {len(records):,}, in order: {in_order}; error records {len(failed):,}, "
        f"exactly the bad rows: {failed == bad_rows}"
    )
    print(
        f"wall {seconds:.1f} s ({seconds / args.rows * 1e3:.2f} ms a row); "
        "peak memory of the largest "
        f"process (parent or worker): {children / 2**20:.0f} MiB"
    )
    return 0 if in_order and failed == bad_rows else 1


if __name__ == "__main__":
    sys.exit(main())

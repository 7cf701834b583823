"""The cost lesson, measured: does `diffcli cost` show the laws it teaches?

Run: python benchmarks/cost_laws.py [RUNS]   (default 3 runs)

Runs the README's example, `diffcli cost "sum(sin(x)*x)"` (its default sizes, 10 to
100,000), in a fresh process each time, and prints each method's fitted exponent for the
gradient beside the law it illustrates: finite differences and forward mode n^2 (n passes
of O(n)), reverse mode n^1 (one backward pass). Also the sizes each fit used (those past
ten times the method's own cost at n = 1), the wall time and the peak memory of the run.
Target (issue 15): every exponent within 0.3 of its law, in every run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

COMMAND = ["diffcli", "cost", "sum(sin(x)*x)", "--format", "json"]
CHECKED = ("finite differences", "forward mode", "reverse mode")
TOLERANCE = 0.3


def one_run() -> tuple[dict, float, float]:
    start = time.perf_counter()
    done = subprocess.run(COMMAND, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(done.stdout), seconds, peak_mib


def main(runs: int) -> int:
    failures = 0
    print(f"{' '.join(COMMAND)}   ({runs} runs, each a fresh process)")
    for k in range(1, runs + 1):
        record, seconds, peak_mib = one_run()
        gradient = record["studies"][0]
        print(f"run {k}: {seconds:.1f} s wall, peak RSS so far {peak_mib:.0f} MiB")
        for name in CHECKED:
            method = gradient["methods"][name]
            k_fit, law = method["exponent"], method["law"]
            sizes = method["fitted_sizes"]
            ok = k_fit is not None and abs(k_fit - law) <= TOLERANCE
            failures += not ok
            shown = "-" if k_fit is None else f"{k_fit:.2f}"
            span = f"n = {min(sizes):,}..{max(sizes):,}" if sizes else "no sizes"
            print(
                f"  {name:20} n^{shown:5} law n^{law:g}  off {abs((k_fit or 0) - law):.2f}  "
                f"{'ok' if ok else 'FAIL'}  ({span}, {method['seconds_at_1'] * 1e6:.0f} µs at n=1)"
            )
    print("all within ±0.3 of the law" if not failures else f"{failures} fits off the law")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))

"""Warm sessions against the cold CLI: what a question costs once torch and SymPy are loaded.

Run: python benchmarks/warm.py   (needs the jupyter and shell extras: pip install -e ".[test]")

Measured in this one run, on the README's grad, jacobian and hessian examples (and the
quick start's grad "sin(x)" --at 1), each asked at its own point and then at five other
points (a lesson varies the point more than the expression):

- cold: `diffcli ...` as a new process, wall clock from outside (median of 2 runs);
- warm shell: the shell's Session.run in this process, the table rendered to a terminal
  (a null file, 120 columns): what a line typed at `diffcli shell` costs;
- warm kernel: `%diff ...` run in a real IPython kernel (jupyter_client), timed inside
  the kernel around the magic: the HTML rendering and the display messages included.
  The round trip of an empty cell seen from this process (ZMQ and IPython's own
  machinery, the same for any cell) is printed beside it.

Targets (issue 16): warm median per question <= 10 ms for grad "sin(x)" --at 1, and at
least 100x faster than the cold CLI on every example.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import subprocess
import sys
import time

EXAMPLES = {
    'grad "sin(x)"': ["--at", "{a}"],
    'grad "2*dot(x, x)"': ["--at", "x=[{a}, 1, 2, 3]"],
    'grad "x**2*y + exp(x*y)"': ["--at", "x={a},y=-1"],
    'jacobian "A@x" --wrt x': ["--at", "A=[[1,2,3],[4,5,6]], x=[{a},1,1]"],
    'hessian "100*(y - x**2)**2 + (1 - x)**2"': ["--at", "x={a},y=1"],
}
POINTS = [1.0, 0.5, -1.2, 2.0, 0.25, 3.0]  # the example's own, then five others
TARGET_MS = 10.0
TARGET_RATIO = 100.0


def lines(example: str) -> list[str]:
    at = EXAMPLES[example]
    return [f'{example} {at[0]} "{at[1].format(a=a)}"' for a in POINTS]


def cold(line: str) -> float:
    import shlex

    times = []
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run(["diffcli", *shlex.split(line)], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def warm_shell(questions: list[str]) -> list[float]:
    from diffcli.warm.session import Session

    session = Session()
    null = io.StringIO()
    with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        session.run(questions[0])  # the first question of a session pays the imports
    times = []
    for line in questions:
        with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
            start = time.perf_counter()
            session.run(line)
            times.append(time.perf_counter() - start)
    return times


class Kernel:
    """A real IPython kernel with the magics loaded; run() times one cell to idle."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3")
        self.run("%load_ext diffcli")
        self.run('%diff grad "sin(x)" --at 1')  # imports, as a notebook's first cell

    def run(self, code: str) -> float:
        """A cell's round trip, seen from this process."""
        start = time.perf_counter()
        self.client.execute_interactive(code, timeout=120, output_hook=lambda message: None)
        return time.perf_counter() - start

    def magic(self, line: str) -> float:
        """%diff LINE timed inside the kernel: the work, the rendering and the display."""
        timed = (
            "import time as _t\n_s = _t.perf_counter()\n"
            f"get_ipython().run_line_magic('diff', {line!r})\n"
            "_elapsed = _t.perf_counter() - _s"
        )
        self.run(timed)
        found: list[float] = []

        def hook(message: dict) -> None:
            if message["msg_type"] == "execute_result":
                found.append(float(message["content"]["data"]["text/plain"]))

        self.client.execute_interactive("_elapsed", timeout=60, output_hook=hook)
        return found[0]

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def main() -> int:
    print(f"python {sys.version.split()[0]}; each example at {len(POINTS)} points\n")
    kernel = Kernel()
    floor_ms = statistics.median(kernel.run("pass") for _ in range(20)) * 1e3
    failures = 0
    rows = []
    try:
        for example in EXAMPLES:
            questions = lines(example)
            cold_s = cold(questions[0])
            shell_ms = statistics.median(warm_shell(questions)) * 1e3
            kernel_ms = statistics.median(kernel.magic(q) for q in questions) * 1e3
            ratio = cold_s * 1e3 / max(shell_ms, kernel_ms)
            ok = ratio >= TARGET_RATIO and (
                example != 'grad "sin(x)"' or max(shell_ms, kernel_ms) <= TARGET_MS
            )
            failures += not ok
            rows.append((example, cold_s, shell_ms, kernel_ms, ratio, ok))
    finally:
        kernel.close()
    print(f"{'example':44} {'cold CLI':>9} {'shell':>9} {'kernel':>9} {'x faster':>9}")
    for example, cold_s, shell_ms, kernel_ms, ratio, ok in rows:
        print(
            f"{example:44} {cold_s:8.2f}s {shell_ms:7.1f}ms {kernel_ms:7.1f}ms {ratio:8.0f}x"
            f"  {'ok' if ok else 'FAIL'}"
        )
    print(f"\nan empty cell's round trip to the kernel, seen from here: {floor_ms:.1f} ms")
    print(
        f"targets: <= {TARGET_MS:g} ms per warm question for grad sin(x); >= "
        f"{TARGET_RATIO:g}x the cold CLI on every example (the slower warm path counts)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

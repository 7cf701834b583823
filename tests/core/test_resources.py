"""Time and memory are bounded by construction, measured from outside the process.

Each row of the resources issue runs as a real `diffcli` subprocess: its wall time is taken
by this test, and its peak memory from the operating system (the child's own rusage, via
os.wait4, in a small launcher: see LAUNCHER), never from what diffcli reports. The rows
run side by side to keep the suite fast, together with a baseline (the same start-up, no
work), so that start-up slowed by the others is part of the baseline too. Bounds are
generous (2x) on purpose: they fail on an unbounded path (minutes, gigabytes), not on a
busy machine.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from diffcli.core.resources import DEFAULT_MEMORY_MIB

TIMEOUT = 1.0  # --timeout of the rows below, seconds
INTERPRETER_MIB = 400  # Python with torch, SymPy and NumPy loaded, before any work


@dataclass
class Run:
    exit_code: int
    seconds: float
    peak_mib: float
    stdout: str
    stderr: str


LOOP = (
    "def f(a):\n"
    "    while True:\n"
    "        try:\n"
    "            pass\n"
    "        except Exception:\n"
    "            pass\n"
)
LOOP_IN_NUMERIC = (
    "import torch\n"
    "def f(a):\n"
    "    if torch.is_grad_enabled():\n"
    "        return a * a\n"
    "    while True:\n"
    "        pass\n"
)

LARGEST_POINT = ["--at", "x=arange(100000)"]  # as many entries as --max-entries allows
# name: (arguments, seconds it may take beyond start-up: its --timeout, shared by all its
# stages, plus one second)
ROWS: dict[str, tuple[list[str], float]] = {
    "baseline": (["grad", "x", "--at", "1", "--timeout", "10"], 0.0),
    "every method at arange(100000), a 256 MiB budget": (
        ["grad", "sum(x*x)", *LARGEST_POINT, "--max-memory", "256"],
        TIMEOUT + 1,
    ),
    "a grid of 10^8 points": (
        ["grad", "tanh(x)", "--over", "x=0:1:100000000", "--timeout", "4"],
        4 + 1,  # long enough to stream millions of points
    ),
    "a --python loop in finite differences": (
        ["grad", "--python", "{loop_in_numeric}:f", "--at", "a=0.7"],
        TIMEOUT + 1,
    ),
    "cost up to the README's largest size": (
        ["cost", "sum(sin(x)*x)", "--n", "10,1000,10000", "--budget", "0.5"],
        12 * (0.5 + 1),  # --budget is per method and size: 4 methods x 3 sizes
    ),
}


# A child's peak resident size as wait4 reports it includes the peak of the process that
# forked it, up to its exec: pytest's own, 250-400 MiB with torch loaded, which would hide
# the row's. Each row is started by this fresh interpreter instead (about 10 MiB), which
# writes its child's peak, in KiB, to the file named first, and exits with its status.
LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _command(arguments: list[str], files: dict[str, str]) -> list[str]:
    filled = [a.format(**files) for a in arguments]
    if filled[0] != "cost" and "--timeout" not in filled:
        filled += ["--timeout", str(TIMEOUT)]
    return [sys.executable, "-m", "diffcli", *filled]


class Rows:
    """The rows as child processes, started at once, each reaped the moment it ends by a
    thread of its own (so that its wall time is its own, whatever the tests do meanwhile)."""

    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="diffcli-resources-"))
        files = {"timeout": str(TIMEOUT), "loop_in_numeric": str(folder / "loop.py")}
        Path(files["loop_in_numeric"]).write_text(LOOP_IN_NUMERIC)
        self.results: dict[str, Run] = {}
        self.threads = []
        for i, (name, (arguments, _)) in enumerate(ROWS.items()):
            stem = folder / str(i)
            with open(f"{stem}.out", "w") as stdout, open(f"{stem}.err", "w") as stderr:
                launched = [sys.executable, "-c", LAUNCHER, f"{stem}.peak"]
                process = subprocess.Popen(
                    launched + _command(arguments, files), stdout=stdout, stderr=stderr, cwd=folder
                )
            thread = threading.Thread(
                target=self._reap, args=(name, process, time.monotonic(), stem), daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def _reap(self, name: str, process: subprocess.Popen[bytes], start: float, stem: Path) -> None:
        _, status, _ = os.wait4(process.pid, 0)  # this child only, never another test's
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        self.results[name] = Run(
            process.returncode,
            seconds,
            int(Path(f"{stem}.peak").read_text()) / 1024,  # Linux reports KiB
            Path(f"{stem}.out").read_text(),
            Path(f"{stem}.err").read_text(),
        )

    def wait(self) -> dict[str, Run]:
        for thread in self.threads:
            thread.join(timeout=300)
        return self.results


# conftest.py starts the rows as soon as the tests are collected, so that they run on the
# core the in-process tests leave idle; run alone, this module starts them itself
STARTED: list[Rows] = []


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    if not STARTED:
        STARTED.append(Rows())
    return STARTED[0].wait()


def _allowed_seconds(runs: dict[str, Run], name: str) -> float:
    """Start-up (the baseline's) plus the row's --timeout and one second, twice over."""
    return 2 * (runs["baseline"].seconds + ROWS[name][1])


@pytest.mark.parametrize("name", [n for n in ROWS if n != "baseline"])
def test_every_row_ends_in_time_with_bounded_memory(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    assert "Traceback" not in run.stderr, run.stderr
    assert run.exit_code in (0, 1, 2), (run.exit_code, run.stderr)
    assert run.seconds <= _allowed_seconds(runs, name), (run.seconds, runs["baseline"].seconds)
    assert run.peak_mib <= DEFAULT_MEMORY_MIB + INTERPRETER_MIB, run.peak_mib


def test_the_256_mib_budget_holds(runs: dict[str, Run]) -> None:
    run = runs["every method at arange(100000), a 256 MiB budget"]
    assert run.peak_mib <= 256 + INTERPRETER_MIB, run.peak_mib


def test_timed_out_methods_say_so_and_the_grid_says_how_far_it_got(runs: dict[str, Run]) -> None:
    numeric = runs["every method at arange(100000), a 256 MiB budget"]
    assert numeric.exit_code == 1 and "its share of --timeout 1 s" in numeric.stdout
    grid = runs["a grid of 10^8 points"]
    assert grid.exit_code == 1 and "of 100,000,000 points done" in " ".join(grid.stdout.split())


def test_python_loops_end_with_a_message(runs: dict[str, Run], cli, tmp_path: Path) -> None:
    loop = tmp_path / "loop.py"
    loop.write_text(LOOP)  # caught exceptions inside do not keep it going
    start = time.perf_counter()
    at_load = cli("grad", "--python", f"{loop}:f", "--at", "a=0.7", "--timeout", "1")
    assert time.perf_counter() - start < 2 * (TIMEOUT + 1)
    assert at_load.exit_code == 2 and "did not finish within its share of --timeout 1 s" in (
        at_load.stderr
    )
    in_numeric = runs["a --python loop in finite differences"]
    # its deadline ends the loop; on a machine this busy the kill 2 s later may come first
    ended = "numeric failed: timed out" in in_numeric.stdout or (
        "did not answer within 3 s and was stopped" in in_numeric.stderr
    )
    assert in_numeric.exit_code == 1 and ended, in_numeric


def test_cost_gives_up_past_the_budget(runs: dict[str, Run]) -> None:
    run = runs["cost up to the README's largest size"]
    assert run.exit_code == 0 and "over budget" in run.stdout


def test_a_result_too_large_for_the_budget_is_refused_up_front(cli) -> None:
    result = cli("hessian", "sum(x*x)", "--at", "x=arange(100000)")
    assert result.exit_code == 2
    assert "more than the memory budget" in result.stderr and "--max-memory" in result.stderr
    result = cli("jacobian", "x*x", "--at", "x=arange(100000)")
    assert result.exit_code == 2 and "10,000,000,000 entries" in result.stderr


def test_jobs_are_capped_with_a_note(cli, tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text("expr,at\n" + "".join(f"x**{k},1\n" for k in range(1, 4)))
    result = cli("batch", str(cases), "--jobs", "1000", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "--jobs 1000 capped at 1 (enough for 3 rows)" in result.stderr
    assert len(result.stdout.splitlines()) == 3


@pytest.mark.parametrize(
    "arguments",
    [
        ["--plot", "out.txt"],
        ["--plot", "/no/such/folder/p.png"],
        ["--values", "v.txt"],
        ["--values", "/no/such/folder/v.csv"],
    ],
)
def test_bad_output_paths_are_refused_before_any_work(cli, arguments: list[str]) -> None:
    start = time.perf_counter()
    result = cli("grad", "tanh(x)", "--over", "x=-5:5:100000000", *arguments)
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2
    assert result.stderr.startswith("diffcli: error: --") and len(result.stderr.splitlines()) == 1


def test_a_values_file_stopped_early_is_still_a_readable_npy(tmp_path: Path) -> None:
    import numpy as np

    from diffcli.features.grid import ValuesFile

    path = tmp_path / "v.npy"
    with ValuesFile(str(path), ["x", "reference"], 1000) as sink:
        sink.write({"x": np.arange(3.0), "reference": np.arange(3.0) * 2})
    table = np.load(path)  # the header says 3 rows, not the 1000 planned
    assert table.shape == (3,) and list(table["reference"]) == [0.0, 2.0, 4.0]


@pytest.mark.parametrize("point", ["x=0x10", "x=0b11", "x=0o7", "x=1_000", "x=1e1", "x=.5"])
def test_number_literals_in_any_python_spelling(cli, point: str) -> None:
    result = cli("grad", "x**2", "--at", point, "--format", "json")
    assert result.exit_code == 0, result.stderr
    value = json.loads(result.stdout)["point"]["x"]
    assert value == float(ast.literal_eval(point[2:]))


def test_the_api_raises_diffcli_error_for_bad_input() -> None:
    import diffcli

    with pytest.raises(diffcli.DiffcliError):
        diffcli.compare("x", "x=0xZZ")


def test_a_flat_sum_of_119_terms_is_one_level() -> None:
    import diffcli

    text = " + ".join(f"x**{i}/{i + 1}" for i in range(1, 120))
    comparison = diffcli.compare(text, at={"x": 0.5})
    assert comparison.agree
    exact = sum(i * 0.5 ** (i - 1) / (i + 1) for i in range(1, 120))
    assert float(comparison.reference.value["x"]) == pytest.approx(exact, rel=1e-14)


@pytest.mark.parametrize(
    "arguments",
    [
        ["hessian", "min(exp(pi), y*stop_gradient(y))", "--at", "y=-0.499"],
        ["grad", "sqrt(sum(u) + detach(3))", "--at", "u=[-0.498,0.43]"],
        ["grad", "abs(detach(x) - 1)*x", "--at", "x=1"],
        ["grad", "max(x, detach(x))", "--at", "x=1"],
        ["jacobian", "[relu(detach(x)*x), x]", "--at", "x=0"],
    ],
)
def test_stop_gradient_meets_comparisons_and_kinks(cli, arguments: list[str]) -> None:
    result = cli(*arguments, "--format", "json")
    assert result.exit_code in (0, 1, 3), (result.stderr, result.exception)
    json.loads(result.stdout, parse_constant=_no_constant)


def _no_constant(name: str) -> None:
    raise AssertionError(f"not strict JSON: {name}")


def test_python_floats_stay_float64_and_sys_exit_is_a_message(cli, tmp_path: Path) -> None:
    import math

    floats = tmp_path / "floats.py"
    floats.write_text("import math\ndef f(a):\n    return math.sin(float(a))\n")
    result = cli(
        "grad",
        "--python",
        f"{floats}:f",
        "--at",
        "a=0.7",
        "--methods",
        "numeric",
        "--format",
        "json",
    )
    record = json.loads(result.stdout)
    assert record["methods"]["numeric"]["value"]["a"] == pytest.approx(math.cos(0.7), rel=1e-8)
    leaving = tmp_path / "leaving.py"
    leaving.write_text("import sys\ndef f(a):\n    sys.exit(5)\n")
    result = cli("grad", "--python", f"{leaving}:f", "--at", "a=0.7")
    assert result.exit_code == 2 and "SystemExit 5" in result.stderr


def test_code_stuck_inside_one_c_call_is_killed() -> None:
    """A deadline cannot interrupt a single C call; the child process it runs in is
    killed at the limit instead."""
    from diffcli.core.isolate import Stuck, run_isolated, usable

    if not usable():
        pytest.skip("no fork on this platform: the work runs in-process under deadlines")
    start = time.monotonic()
    with pytest.raises(Stuck, match=r"did not answer within 0\.5 s"):
        run_isolated(lambda: sum(range(10**15)), 0.5, "the sum")
    assert time.monotonic() - start < 3
    assert run_isolated(lambda: {"x": 2.0}, 5, "a dict") == {"x": 2.0}


def test_an_error_in_the_child_reads_as_it_would_in_process() -> None:
    import diffcli
    from diffcli.core.isolate import run_isolated

    with pytest.raises(diffcli.DiffcliError) as in_process:
        diffcli.parse("sin(x")
    with pytest.raises(diffcli.DiffcliError) as in_child:
        run_isolated(lambda: diffcli.parse("sin(x"), 5, "parsing")
    assert in_child.value.render() == in_process.value.render()
    assert "^" in in_child.value.render()


def test_forward_mode_works_after_a_deadline_cut_it_short() -> None:
    """Cut while entering or leaving torch's forward-AD level, the level leaked and every
    later forward pass failed ('the current level is not valid')."""
    import math

    from diffcli.core.deadline import TimedOut, deadline
    from diffcli.core.problem import build_problem
    from diffcli.methods import autograd

    long = build_problem("sum(sin(x)*x)", "x=linspace(0.1, 1, 3000)")
    for seconds in (0.01, 0.02, 0.05, 0.1):
        try:
            with deadline(seconds):
                autograd.differentiate(long, "cpu", "float64", "forward")
        except TimedOut:
            pass
    small = build_problem("sin(x)", "x=1")
    outcome = autograd.differentiate(small, "cpu", "float64", "forward")
    assert float(outcome.value["x"]) == pytest.approx(math.cos(1), rel=1e-15)


def test_a_swallowed_timeout_is_raised_again() -> None:
    """Raised inside a weakref callback or a __del__, TimedOut is lost (Python only prints
    it); the deadline reminds until the work stops, and prints nothing."""
    from diffcli.core.deadline import TimedOut, deadline

    start = time.monotonic()
    with pytest.raises(TimedOut), deadline(0.05):
        with contextlib.suppress(TimedOut):  # lost, as in a finaliser
            time.sleep(2)
        time.sleep(2)
    assert time.monotonic() - start < 1


def test_a_timeout_in_a_finaliser_is_not_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from diffcli.core.deadline import TimedOut, deadline

    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)  # prints, as a CLI would

    class Slow:
        def __del__(self) -> None:
            time.sleep(0.2)  # the deadline passes in here

    with pytest.raises(TimedOut), deadline(0.05):
        Slow()
        gc.collect()
        time.sleep(2)
    assert "Exception ignored" not in capsys.readouterr().err

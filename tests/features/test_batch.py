"""batch: one record per input row, in order, whatever the rows hold."""

from __future__ import annotations

import json

import pytest
from helpers import EXAMPLES

CASES = """command,expr,at,wrt,order,expected,answer
grad,sin(x),1.0,,,,
grad,sni(x),1.0,,,,
grad,x*y,"x=[1,",,,,
grad,x**3,2,,,13,
grad,x**3,2,,,12,
grad,abs(x),0,,,,
jacobian,"[x*y, sin(x)]","x=1,y=2",,,,
hessian,x*y,"x=1,y=2",,,,
grad,exp(x)*sin(x),1,,2,,
check,sin(x)**2,,,,,sin(2*x)
check,sin(x)**2,,,,,2*cos(x)
"""


def records(cli, *args, input=None):
    result = cli("batch", *args, "--format", "json", input=input)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def test_one_record_per_row_in_order(cli, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(CASES)
    result, out = records(cli, str(path), "--jobs", "1")
    assert [r["row"] for r in out] == list(range(1, 12))
    statuses = [r.get("status") if r.get("command") != "check" else r["correct"] for r in out]
    assert statuses == [
        "agree",
        "failed",
        "failed",
        "disagree",
        "agree",
        "not differentiable",
        "agree",
        "agree",
        "agree",
        True,
        False,
    ]
    assert "did you mean sin?" in out[1]["error"] and out[2]["error"].startswith("a value is")
    assert out[3]["expected"]["matches"] is False and out[4]["expected"]["matches"] is True
    assert result.exit_code == 1  # rows disagree and fail


def test_exit_0_when_every_row_agrees_and_stdin(cli):
    result, out = records(cli, "-", "--jobs", "1", input="expr,at\nsin(x),1\nx**2,3\n")
    assert result.exit_code == 0 and [r["status"] for r in out] == ["agree", "agree"]


def test_json_lines_input(cli, tmp_path):
    path = tmp_path / "cases.jsonl"
    rows = [
        '{"expr": "x**2", "at": "x=3"}',
        "not json",
        '{"expr": "2*dot(x, x)", "at": {"x": [0, 1, 2, 3]}}',
    ]
    path.write_text("\n".join(rows) + "\n")
    _, out = records(cli, str(path), "--jobs", "1")
    assert out[0]["reference"]["value"] == {"x": 6.0}
    assert out[1]["status"] == "failed" and "not valid JSON" in out[1]["error"]
    assert out[2]["reference"]["value"] == {"x": [0.0, 4.0, 8.0, 12.0]}


def _stable(record):
    record = dict(record)
    for method in record.get("methods", {}).values():
        method.pop("seconds", None)
    return record


def test_jobs_2_gives_the_same_records(cli, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(CASES)
    _, one = records(cli, str(path), "--jobs", "1")
    _, two = records(cli, str(path), "--jobs", "2")
    assert [_stable(r) for r in one] == [_stable(r) for r in two]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"expr,at\n\xff\xfe\n", "UTF-8"),
        (b"\x00\x01binary", "NUL"),
        (b"formula,point\nx,1\n", "expr and at"),
    ],
)
def test_unreadable_files_exit_2(cli, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = cli("batch", str(path))
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_missing_file_and_table_and_csv(cli):
    assert cli("batch", "no-such-file.csv").exit_code == 2
    example = str(EXAMPLES / "cases.csv")
    table = cli("batch", example, "--format", "table", "--jobs", "1")
    assert "batch summary" in table.output and "slowest rows" in table.output
    csv_out = cli("batch", example, "--format", "csv", "--jobs", "1").stdout.splitlines()
    assert csv_out[0].startswith("row,command,expression,status")
    assert len(csv_out) == 1 + 12


def test_the_example_batch_covers_every_command(cli):
    example = EXAMPLES / "cases.csv"
    commands = {line.split(",")[0] for line in example.read_text().splitlines()[1:]}
    assert commands == {"grad", "jacobian", "hessian", "check"}
    _, out = records(cli, str(example), "--jobs", "1")
    assert len(out) == 12 and all(r.get("status") != "failed" for r in out)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_flushes_finished_records_and_exits_130(tmp_path, jobs):
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "long.csv"
    path.write_text("expr,at\n" + "sin(x)*exp(x),1\n" * 20000)
    with subprocess.Popen(
        [sys.executable, "-m", "diffcli", "batch", str(path), "--format", "json", "--jobs", jobs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's Ctrl-C reaches
    ) as process:
        first = process.stdout.readline()  # records are flowing
        assert first.startswith("{"), process.stderr.read()
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGINT)
        # read through the same file object: communicate() would skip what readline buffered
        out = first + process.stdout.read()
        err = process.stderr.read()
        process.wait(timeout=60)
    assert process.returncode == 130, err
    lines = out.splitlines()
    assert all(json.loads(line)["status"] == "agree" for line in lines if line.strip())
    assert "interrupted after" in err and "Traceback" not in err


def test_ctrl_c_stops_a_slow_row_at_once(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "slow.csv"
    path.write_text('expr,at\nsin(x),1\nsum(x*x),"x=arange(30000)"\nsin(x),2\n')
    command = [sys.executable, "-m", "diffcli", "batch", str(path), "--format", "json"]
    with subprocess.Popen(
        [*command, "--jobs", "1", "--timeout", "60", "--methods", "numeric"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        first = process.stdout.readline()
        time.sleep(0.5)  # well inside the slow row, which takes far longer than this test
        start = time.perf_counter()
        os.killpg(process.pid, signal.SIGINT)
        out, err = first + process.stdout.read(), process.stderr.read()
        process.wait(timeout=60)
        waited = time.perf_counter() - start
    assert process.returncode == 130 and waited < 5, (waited, err)
    assert [json.loads(line)["row"] for line in out.splitlines()] == [1]
    assert "interrupted after 1 rows" in err and "Traceback" not in err


def test_workers_read_a_bounded_window_of_rows_ahead():
    from diffcli.features.batch import CHUNK_ROWS, IN_FLIGHT, Row, run_batch

    consumed = 0

    def rows():
        nonlocal consumed
        for number in range(1, 2001):
            consumed = number
            yield Row(number, {}, "not a row")

    records = run_batch(rows(), {}, jobs=2)
    first = next(records)
    assert first["row"] == 1
    assert consumed <= (IN_FLIGHT * 2 + 1) * CHUNK_ROWS
    assert [r["row"] for r in records] == list(range(2, 2001))
    assert consumed == 2000


def test_closed_forms_only_on_request_for_the_file_or_one_row(cli, tmp_path):
    """batch's own default, declared with the option (core/options.py): off, since a file of
    matrix expressions takes three times as long with them; --closed-forms turns them on
    for every row, a closed_forms column for one."""
    path = tmp_path / "vector.csv"
    path.write_text(
        'expr,at,closed_forms\n"2*dot(x, x)","x=[0,1,2,3]",\n"2*dot(x, x)","x=[0,1,2,3]",yes\n'
    )
    plain = [
        json.loads(line) for line in cli("batch", str(path), "--format", "json").output.splitlines()
    ]
    asked = json.loads(
        cli("batch", str(path), "--format", "json", "--closed-forms").output.splitlines()[0]
    )
    assert "closed_form" not in plain[0]["methods"]["symbolic"]
    assert plain[1]["methods"]["symbolic"]["closed_form"] == {"x": "4*x"}
    assert asked["methods"]["symbolic"]["closed_form"] == {"x": "4*x"}
    assert asked["methods"]["symbolic"]["value"] == plain[0]["methods"]["symbolic"]["value"]


def test_a_row_sets_any_option_of_a_comparison_and_a_bad_value_fails_only_that_row(cli, tmp_path):
    path = tmp_path / "options.jsonl"
    rows = [
        {"expr": "exp(x)", "at": "1", "scheme": "richardson", "mode": "forward", "rtol": "1e-6"},
        {"expr": "exp(x)", "at": "1", "order": "two"},
        {"expr": "exp(x)", "at": "1", "step": 1e-3, "scheme": "forward"},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    records = [json.loads(line) for line in cli("batch", str(path)).output.splitlines()]
    assert records[0]["methods"]["numeric"]["scheme"] == "richardson"
    assert records[0]["methods"]["autograd"]["mode"] == "forward"
    assert records[0]["methods"]["numeric"]["rtol"] == 1e-6
    assert records[1]["error"] == "column order: expected a whole number, got 'two'"
    assert records[2]["methods"]["numeric"]["step"] == pytest.approx(1e-3, rel=1e-12)
    assert [r["status"] for r in records] == ["agree", "failed", "disagree"]  # h/2 f" off


def test_a_scalar_hessian_may_be_expected_as_a_number_and_a_wrong_shape_says_so(cli, tmp_path):
    import json

    cases = tmp_path / "cases.csv"
    cases.write_text(
        'command,expr,at,expected\nhessian,x**2,1,2\nhessian,x**2,1,[[2]]\ngrad,x*y,"x=1,y=2",'
        '"{""x"": [2, 1]}"\n'
    )
    records = [
        json.loads(line)
        for line in cli("batch", str(cases), "--format", "json").stdout.splitlines()
    ]
    assert [r["expected"]["matches"] for r in records] == [True, True, False]
    assert "has shape (2,), the derivative has shape ()" in records[2]["notes"][-1]

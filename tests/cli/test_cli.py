"""The command line through click's CliRunner: output, formats, and every exit status."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT


def test_table_shows_formula_methods_and_verdict(cli):
    result = cli("grad", "sin(x)", "--at", "1.0")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "grad sin(x)" in out and "∂f/∂x = cos(x)" in out
    for word in (
        "exact",
        "symbolic",
        "numeric",
        "autograd",
        "abs error",
        "rel error",
        "digits",
        "time",
    ):
        assert word in out
    assert "0.5403023058681398" in out
    assert "✓ agree" in out and "Traceback" not in out


def test_issue_examples_exit_0(cli):
    runs = [
        ("x**2*y + exp(x*y)", "x=0.5,y=-1"),
        ("2*dot(x, x)", "x=arange(4)"),
        ("norm(X@w - y)**2", "X=[[1,2],[3,4],[5,6]], w=[0.1,0.2], y=[1,0,1]", "--wrt", "w"),
        ("exp(x)*sin(x)", "1", "--order", "3"),
    ]
    for expression, at, *rest in runs:
        result = cli("grad", expression, "--at", at, *rest)
        assert result.exit_code == 0, (expression, result.output)


def test_json_is_strict_and_complete(cli):
    result = cli("grad", "2*dot(x, x)", "--at", "x=arange(4)", "--format", "json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["methods"]["autograd"]["value"] == {"x": [0.0, 4.0, 8.0, 12.0]}
    assert record["agree"] is True


def test_json_writes_non_finite_numbers_as_strings(cli):
    result = cli("grad", "1/x", "--at", "0", "--format", "json")
    assert result.exit_code == 1
    text = result.stdout
    assert "NaN" not in text and "Infinity" not in text
    record = json.loads(text)
    assert record["reference"]["value"]["x"] in ("inf", "-inf", "nan")


def test_a_step_far_too_large_says_its_error_is_unknown(cli):
    """sin(x) with h = 1e3 is noise; the estimate says so, in the table and in JSON."""
    args = ("grad", "sin(x)", "--at", "1", "--scheme", "central", "--step", "1e3")
    result = cli(*args)
    assert result.exit_code == 1
    assert "est. ±inf" in result.output and "numeric's error is unknown" in result.output
    record = json.loads(cli(*args, "--format", "json").stdout)
    assert record["methods"]["numeric"]["error_estimate"] == "inf"


def test_csv_has_one_row_per_method_and_entry(cli):
    result = cli("grad", "sum(x*x)", "--at", "x=[1,2]", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3 * 2
    assert {(r["method"], r["entry"]) for r in rows} >= {("autograd", "x[0]"), ("numeric", "x[1]")}
    assert {float(r["reference"]) for r in rows} == {2.0, 4.0}


def test_exit_1_when_a_method_disagrees(cli):
    result = cli("grad", "sin(x)", "--at", "1", "--rtol", "0", "--atol", "0")
    assert result.exit_code == 1
    assert "✗ disagree" in result.output and "numeric" in result.output


def test_exit_3_at_a_kink(cli):
    result = cli("grad", "abs(x)", "--at", "0")
    assert result.exit_code == 3
    assert "not differentiable" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grad", "sni(x)", "--at", "1"), "did you mean sin?"),
        (("grad", "x*y", "--at", "x=1"), "no value for y"),
        (("grad", "x", "--at", "x=[1,"), "a value is"),
        (("grad", "x", "--at", "1", "--wrt", "y"), "not a variable"),
        (("grad", "[x, x]", "--at", "1"), "use diffcli jacobian"),
        (("grad", "x", "--at", "1", "--methods", "magic"), "--methods"),
        (("grad", "x", "--at", "1", "--order", "0"), "--order"),
        (("grad", "x", "--at", "1", "--step", "-1"), "--step"),
        (
            ("grad", "dot(x, y)", "--at", "x=[1,2,3],y=[1,2,3,4]"),
            "dot: shapes (3,) and (4,) do not match",
        ),
        (("grad", "x", "--at", "1", "--device", "tpu"), "Invalid value for '--device'"),
        (("grad", "x"), "Missing option '--at'"),
    ],
)
def test_exit_2_on_bad_input_with_a_message_and_no_stdout(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_caret_points_under_the_bad_part(cli):
    result = cli("grad", "x + sni(x)", "--at", "1")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("diffcli: error: unknown function 'sni'")
    assert lines[1] == "  x + sni(x)" and lines[2] == "      ^^^"


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('touch {marker}')",
        "exec(\"open('{marker}', 'w')\")",
        "eval(\"open('{marker}', 'w')\")",
        "open('{marker}', 'w')",
        "getattr(x, '__class__')",
        "().__class__.__bases__[0].__subclasses__()",
        "(lambda: open('{marker}', 'w'))()",
    ],
)
def test_injection_is_refused_without_side_effect(cli, tmp_path, attack):
    marker = tmp_path / "pwned"
    result = cli("grad", attack.format(marker=marker), "--at", "x=1")
    assert result.exit_code == 2
    assert not marker.exists()
    assert "Traceback" not in result.output


def test_traceback_flag_reraises(cli):
    result = cli("grad", "sni(x)", "--at", "1", "--traceback")
    assert result.exit_code != 0 and result.exception is not None
    assert type(result.exception).__name__ == "ParseError"


def test_version_and_help(cli):
    assert cli("--version").output.startswith("diffcli, version")
    result = cli("--help")
    assert result.exit_code == 0 and "grad" in result.output and "Exit status" in result.output
    assert "--order" in cli("grad", "--help").output


def test_python_dash_m_runs_the_same_cli(cli):
    """`python -m diffcli` is the same command (a bad input: answered before torch loads)."""
    arguments = ["grad", "sin(", "--at", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "diffcli", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=ROOT,
    )
    same = cli(*arguments)
    assert (result.returncode, result.stderr) == (same.exit_code, same.stderr) == (2, same.stderr)
    assert result.stderr.startswith("diffcli: error:") and result.stdout == ""


def test_jacobian_table_names_shape_and_layout(cli):
    result = cli("jacobian", "A@x", "--at", "A=[[1,2,3],[4,5,6]], x=[1,1,1]", "--wrt", "x")
    assert result.exit_code == 0, result.output
    assert "∂f/∂x: (2, 3) = 2 outputs × 3 inputs" in result.output
    assert "numerator layout" in result.output and "∂f/∂x = A" in result.output
    assert "[1  2  3]" in result.output and "reverse: 2 backward passes" in result.output
    result = cli("jacobian", "sin(x)", "--at", "x=arange(4)", "--layout", "denominator")
    assert "denominator layout" in result.output and "4 inputs × 4 outputs" in result.output


def test_forward_mode_counts_passes(cli):
    args = ("jacobian", "[x*y, sin(x), exp(y)]", "--at", "x=1,y=2", "--mode", "forward")
    result = cli(*args)
    assert result.exit_code == 0 and "forward: 2 forward" in result.output
    autograd = json.loads(cli(*args, "--format", "json").stdout)["methods"]["autograd"]
    assert autograd["mode"] == "forward" and autograd["passes"] == 2


def test_large_results_are_summarised_unless_full(cli):
    short = cli("jacobian", "sin(x)", "--at", "x=arange(7)")
    assert "(7, 7), worst at" in short.output
    full = cli("jacobian", "sin(x)", "--at", "x=arange(7)", "--full")
    assert "worst at" not in full.output and full.output.count("[") >= 4 * 7


def test_hessian_command(cli):
    result = cli("hessian", "100*(y - x**2)**2 + (1 - x)**2", "--at", "x=-1.2,y=1", "--wrt", "x,y")
    assert result.exit_code == 0, result.output
    assert "eigenvalues of the exact H" in result.output and "positive definite" in result.output
    record = json.loads(
        cli(
            "hessian", "x@A@x", "--at", "x=[1,2], A=[[2,1],[0,3]]", "--wrt", "x", "--format", "json"
        ).stdout
    )
    assert record["flat_variables"] == ["x[0]", "x[1]"]
    assert record["methods"]["symbolic"]["closed_form"] == {"hessian": "A + A.T"}


def test_csv_names_hessian_entries(cli):
    result = cli("hessian", "x*y", "--at", "x=1,y=2", "--format", "csv")
    entries = {row["entry"] for row in csv.DictReader(io.StringIO(result.stdout))}
    assert entries == {"H[x,x]", "H[x,y]", "H[y,x]", "H[y,y]"}


def test_bracketed_values_print_as_written_not_as_rich_markup(cli):
    result = cli("grad", "log(x, v[0])", "--at", "x=2,v=[1,2]")
    assert result.output.count("v: [-inf, 0]") == 3  # the exact, symbolic and autograd rows


def test_an_expression_starting_with_minus_gets_a_hint(cli):
    result = cli("grad", "-x", "--at", "1")
    assert result.exit_code == 2
    assert "goes after --" in result.stderr and '"(-x)"' in result.stderr
    assert cli("grad", "--at", "1", "--", "-x").exit_code == 0
    assert "goes after --" not in cli("grad", "x", "--att", "1").stderr  # a misspelt option


@pytest.mark.parametrize(
    ("point", "says"),
    [
        ("x=nan", "nan is not a point: derivatives are taken at finite numbers"),
        ("x=inf", "inf is not a point"),
        ("x=ones(10**8)", "POINT does no arithmetic (1e8, not 10**8)"),
    ],
)
def test_point_messages_say_what_is_wrong(cli, point, says):
    result = cli("grad", "sum(x)", "--at", point)
    assert result.exit_code == 2 and says in result.stderr


def test_exponent_limit_is_written_out_and_one_method_matches(cli):
    result = cli("grad", "x**1000001", "--at", "1")
    assert "the exponent 1,000,001 is too large (the limit is 1,000,000)" in result.stderr
    result = cli("grad", "x", "--at", "1", "--methods", "numeric")
    assert "1 method matches the exact derivative" in result.stdout


def test_denominator_layout_applies_to_the_formulas_as_to_the_values(cli, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(
        'command,expr,at,layout\njacobian,A@x,"A=[[1,2,3],[4,5,6]], x=[1,1,1]",denominator\n'
    )
    record = json.loads(cli("batch", str(rows)).stdout.splitlines()[0])
    symbolic = record["methods"]["symbolic"]
    # d(Ax)_i/dx_j = A[i,j]; denominator layout puts inputs first: entry [j][i] = A[i,j]
    assert symbolic["formula"]["x"] == [
        ["A[0,0]", "A[1,0]"],
        ["A[0,1]", "A[1,1]"],
        ["A[0,2]", "A[1,2]"],
    ]
    assert symbolic["value"]["x"] == [[1, 4], [2, 5], [3, 6]]


def test_a_python_hessian_does_not_claim_an_exact_one(cli, tmp_path):
    code = tmp_path / "f.py"
    code.write_text("def f(a, b):\n    return (a*b)**2 + a\n")
    result = cli("hessian", "--python", f"{code}:f", "--at", "a=1,b=2")
    assert "exact H" not in result.stdout
    assert "eigenvalues of H as the numeric (central second differences) estimate gives it" in (
        " ".join(result.stdout.split())
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["grad", "-x", "--at", "1"], "grad: No such option '-x'. (an expression that starts with"),
        (["grad", "sin(x)", "--at", "1", "--ord", "2"], "Did you mean one of"),
        (["grad", "sin(x)", "--at", "1", "--order", "abc"], "'abc' is not a valid integer"),
        (["gradd", "x"], "No such command 'gradd'. (Did you mean one of: 'grad', 'graph'?)"),
    ],
)
def test_a_command_line_click_cannot_read_is_one_line(cli, args, said):
    result = cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diffcli: error: ") and said in lines[0]

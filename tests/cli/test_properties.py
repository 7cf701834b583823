"""Properties: the three methods agree on random smooth expressions; no text makes a traceback.

The normal suite runs each property at a modest count. `pytest -m fuzz` runs only these,
at 1,000 examples each (DIFFCLI_FUZZ=N for another count; conftest.py sets it).
"""

from __future__ import annotations

import json
import math
import os
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import diffcli
from diffcli.cli import main
from diffcli.lang.expr import variables_of

pytestmark = pytest.mark.fuzz


def _examples(default: int) -> int:
    """The suite's modest count, or DIFFCLI_FUZZ examples per property in a fuzz run."""
    return int(os.environ.get("DIFFCLI_FUZZ", default))


# Functions smooth everywhere on the reals, or made so by their argument (log(1 + u**2)).
UNARY = [
    "sin({})",
    "cos({})",
    "tanh({})",
    "atan({})",
    "sigmoid({})",
    "softplus({})",
    "exp(sin({}))",
    "log(1 + ({})**2)",
    "sqrt(1 + ({})**2)",
    "erf({})",
    "({})**2",
    "({})**3",
    "-({})",
]
BINARY = [
    "({}) + ({})",
    "({}) - ({})",
    "({}) * ({})",
    "({}) / (2 + sin({}))",
    "hypot({}, 1 + ({})**2)",
]


def smooth(depth: int) -> st.SearchStrategy[str]:
    leaves = st.sampled_from(["x", "y", "x", "y", "2", "0.5", "pi"])
    if depth == 0:
        return leaves
    sub = smooth(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda f, a: f.format(a), st.sampled_from(UNARY), sub),
        st.builds(lambda f, a, b: f.format(a, b), st.sampled_from(BINARY), sub, sub),
    )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=_examples(40))
@given(
    expression=smooth(3),
    x=st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)),
    y=st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)),
)
def test_three_methods_agree_on_smooth_expressions(expression, x, y):
    names = variables_of(diffcli.parse(expression))
    assume(names)
    comparison = diffcli.compare(expression, at={name: {"x": x, "y": y}[name] for name in names})
    assume(
        all(math.isfinite(v) for ref in comparison.reference.value.values() for v in ref.ravel())
    )
    assume(max(abs(v) for ref in comparison.reference.value.values() for v in ref.ravel()) < 1e6)
    detail = {
        name: (r.value, r.abs_error, r.rtol, r.atol) for name, r in comparison.methods.items()
    }
    assert comparison.status == "agree", (expression, x, y, detail, comparison.notes)


ALPHABET = st.sampled_from(
    [*"xyz0123456789+-*/^()[],.@ eETsinqrtdotlgmaxbp=_'\"\\:;", "**", "sin(", "norm(", "\x00", "é"]
)


@settings(deadline=None, max_examples=_examples(150))
@given(text=st.lists(ALPHABET, max_size=25).map("".join))
def test_no_expression_text_makes_a_traceback(cli_runner, text):
    result = cli_runner.invoke(
        main, ["grad", text, "--at", "x=0.5,y=[1,2],z=2", "--methods", "numeric"]
    )
    assert result.exit_code in (0, 1, 2, 3), (text, result.output, result.exception)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (text, repr(result.exception))


@settings(deadline=None, max_examples=_examples(100))
@given(at=st.text(max_size=30))
def test_no_point_text_makes_a_traceback(cli_runner, at):
    result = cli_runner.invoke(main, ["grad", "x*y", "--at", at, "--methods", "numeric"])
    assert result.exit_code in (0, 1, 2, 3), (at, result.output)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (at, repr(result.exception))


FUNCTIONS = [
    "sin",
    "cos",
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "relu",
    "sigmoid",
    "softplus",
    "sum",
    "mean",
    "norm",
    "softmax",
    "logsumexp",
    "stop_gradient",
    "detach",
    "sni",
    "dot",
    "max",
]
OPERATORS = ["+", "-", "*", "/", "**", "@", "^", "//", "%", "<"]


def grammar(depth: int) -> st.SearchStrategy[str]:
    """Deep and wide expressions of (and near) the language: real functions, misspelt ones,
    wrong arities, vectors, indexing, operators outside the language."""
    leaf = st.sampled_from(
        ["x", "y", "v", "A", "2", "0.5", "pi", "1e308", "-3", "[x, y]", "v[0]", "A.T"]
    )
    if depth == 0:
        return leaf
    sub = grammar(depth - 1)
    return st.one_of(
        leaf,
        st.builds(
            lambda f, args: f"{f}({', '.join(args)})",
            st.sampled_from(FUNCTIONS),
            st.lists(sub, min_size=1, max_size=3),
        ),
        st.builds(lambda a, o, b: f"({a}) {o} ({b})", sub, st.sampled_from(OPERATORS), sub),
        st.builds(
            lambda items: "[" + ", ".join(items) + "]", st.lists(sub, min_size=1, max_size=4)
        ),
        st.builds(lambda a, i: f"({a})[{i}]", sub, st.integers(-3, 3)),
    )


@settings(deadline=None, max_examples=_examples(60))
@given(text=grammar(4))
def test_grammar_generated_expressions_never_traceback(cli_runner, text):
    result = cli_runner.invoke(
        main,
        [
            "grad",
            "--at",
            "x=0.5,y=-1.5,v=[1,2],A=[[1,2],[3,4]]",
            "--methods",
            "numeric,autograd",
            "--timeout",
            "2",
            "--",
            text,
        ],
    )
    assert result.exit_code in (0, 1, 2, 3), (text, result.output)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (text, repr(result.exception))
    if result.exit_code == 2:
        assert result.stderr.startswith(("diffcli: error:", "Usage:")), (text, result.stderr)


LIBM = ["sin", "cos", "exp", "log", "sqrt", "atan", "tanh", "sinh", "asinh"]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=_examples(25))
@given(
    calls=st.lists(st.sampled_from(LIBM), min_size=1, max_size=3),
    power=st.sampled_from(["", "x**2*", "x**3*", "x**-1*", "x**0.5*"]),
    quotient=st.booleans(),
    x=st.one_of(
        st.floats(1e-9, 200), st.floats(0.01, 10)
    ),  # exp(x)**3 < 1e308.map(lambda v: float(f"{v:.6g}")),
)
def test_numeric_estimates_bound_the_error_of_libm_products(calls, power, quotient, x):
    """Products and quotients of single libm calls round relative to their value (no floor
    of 1 in the noise, no eps |x f'| term): the estimates must still bound the error. The
    point is given exactly as float64 stores it, so that the error is the method's alone."""
    factors = [f"{name}(x)" for name in calls]
    body = (
        "*".join(factors)
        if not quotient or len(factors) == 1
        else (f"{factors[0]}/({'*'.join(factors[1:])})")
    )
    expression = power + body
    for scheme in ("central", "five-point"):  # richardson: see its benchmark (>= 95 %)
        comparison = diffcli.compare(
            expression, f"x={Decimal(x)}", scheme=scheme, methods=("numeric",)
        )
        exact = comparison.reference.value["x"]
        # away from the ends of the float range, where f itself overflows or underflows
        assume(1e-250 < abs(float(exact)) < 1e250 and not comparison.reference.problems)
        numeric = comparison.methods["numeric"]
        assert numeric.abs_error <= numeric.details["error_estimate"], (expression, x, scheme)


SCALARS = ["0.5", "-1.5", "0x10", "1_000", "1e-300", "1e300", "0", "2e-8", "-0.0"]
ODD = ["nan", "inf", "", "[1,", "x", "1e999", "ones(10**8)", "pi"]
VALUES = {
    "x": SCALARS,
    "y": SCALARS,
    "v": ["[1, 2]", "arange(2)", "linspace(-1, 1, 2)", "ones(2)", "[0, 0]", "[1e-300, 3]"],
    "A": ["[[1, 2], [3, 4]]", "[[0, 0], [0, 0]]", "[[1e300, 1], [1, 1]]"],
}


def point_text() -> st.SearchStrategy[str]:
    """Mostly a point with values of each variable's shape; now and then one value that
    must be refused."""
    good = st.fixed_dictionaries({name: st.sampled_from(VALUES[name]) for name in VALUES})
    odd = st.builds(
        lambda values, name, text: {**values, name: text},
        good,
        st.sampled_from(list(VALUES)),
        st.sampled_from(ODD),
    )
    return st.one_of(good, good, good, odd).map(
        lambda values: ",".join(f"{name}={value}" for name, value in values.items())
    )


ELEMENTWISE = [
    *("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh"),
    *("atanh", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "abs", "sign", "erf"),
    *("sigmoid", "relu", "softplus", "stop_gradient", "detach"),
]
TWO = ["pow", "atan2", "hypot", "max", "min", "log"]
SCALAR_LEAVES = [
    "x",
    "y",
    "sum(v)",
    "norm(v)",
    "norm(v, 1)",
    "dot(v, v)",
    "trace(A)",
    "det(A)",
    "logsumexp(v)",
    "softmax(v)[0]",
    "(A @ v)[1]",
    "mean(A)",
    "prod(v)",
    "0",
    "2",
    "0.5",
    "pi",
    "e",
]


def language(depth: int) -> st.SearchStrategy[str]:
    """Well-formed scalar expressions over the whole language: every function, kinks,
    domain edges and stop_gradient, so that most invocations get past the parser."""
    leaf = st.sampled_from(SCALAR_LEAVES)
    if depth == 0:
        return leaf
    sub = language(depth - 1)
    return st.one_of(
        leaf,
        st.builds("{}({})".format, st.sampled_from(ELEMENTWISE), sub),
        st.builds("{}({}, {})".format, st.sampled_from(TWO), sub, sub),
        st.builds("({}) {} ({})".format, sub, st.sampled_from(["+", "-", "*", "/", "**"]), sub),
    )


OPTIONS = [
    ["--scheme", "five-point"],
    ["--scheme", "richardson"],
    ["--scheme", "complex-step"],
    ["--scheme", "forward"],
    ["--dtype", "float32"],
    ["--mode", "forward"],
    ["--order", "2"],
    ["--step", "1e-3"],
    ["--rtol", "1e-3"],
    ["--layout", "denominator"],
    ["--methods", "numeric"],
    ["--methods", "symbolic,autograd"],
    ["--max-memory", "64"],
    ["--wrt", "x"],
]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=_examples(40))
@given(
    command=st.sampled_from(["grad", "jacobian", "hessian"]),
    text=st.one_of(language(3), language(3), grammar(3)),
    point=point_text(),
    options=st.lists(st.sampled_from(OPTIONS), max_size=2),
    output=st.sampled_from(["json", "table", "csv"]),
)
def test_whole_invocations_never_traceback(cli_runner, command, text, point, options, output):
    """Any expression of (and near) the grammar, stop_gradient included, at any point text,
    with any options: a known exit status, no traceback, and strict JSON where asked."""
    arguments = [command, "--at", point, "--timeout", "2", "--format", output]
    arguments += [item for option in options for item in option]
    result = cli_runner.invoke(main, [*arguments, "--", text])
    event(f"exit {result.exit_code}")  # pytest --hypothesis-show-statistics: the mix
    assert result.exit_code in (0, 1, 2, 3), (arguments, text, result.output, result.exception)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (arguments, text, repr(result.exception))
    assert "Traceback" not in result.output
    assert "internal error" not in result.stderr, (arguments, text, result.stderr)
    if result.exit_code == 2:
        assert result.stdout == "", result.stdout
        assert result.stderr.startswith(("diffcli: error:", "Usage:")), result.stderr
    elif output == "json":
        json.loads(result.stdout, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"not strict JSON: {name}")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=_examples(30))
@given(
    text=st.one_of(language(3), smooth(3)).filter(lambda text: re.search(r"\bx\b", text)),
    ends=st.tuples(
        st.sampled_from([-1e3, -30.0, -2.0, -1e-3, 0.0]), st.sampled_from([1e-8, 0.5, 3.0, 800.0])
    ),
    points=st.sampled_from([2, 17, 1001, 20001]),
    output=st.sampled_from(["json", "table"]),
)
def test_grids_never_traceback(cli_runner, text, ends, points, output):
    """Any expression over any interval, across kinks, poles, overflow and domain edges: a
    known exit status, no internal error, strict JSON where asked."""
    over = f"x={ends[0]!r}:{ends[1]!r}:{points}"
    point = "y=0.5, v=[0.5, -1.5], A=[[1, 2], [3, 4]]"
    arguments = ["grad", "--over", over, "--at", point, "--timeout", "5", "--format", output]
    result = cli_runner.invoke(main, [*arguments, "--", text])
    assert result.exit_code in (0, 1, 2, 3), (over, text, result.output, result.exception)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (over, text, repr(result.exception))
    assert "internal error" not in result.stderr, (over, text, result.stderr)
    if output == "json" and result.exit_code != 2:
        json.loads(result.stdout, parse_constant=_refuse_constant)

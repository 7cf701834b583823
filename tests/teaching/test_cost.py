"""cost: each method's time and memory as the vector grows, and exponents fitted only
where the sizes can show them."""

from __future__ import annotations

import json

import pytest

from diffcli.core.errors import DiffcliError
from diffcli.teaching.cost import METHODS, CostStudy, Measurement, lesson, study


def _synthetic(seconds_at_1: float, law: float, sizes: list[int]) -> CostStudy:
    """A study whose every method takes seconds_at_1 + 1e-6 n^law: a fixed cost per call
    plus the method's growth, as a clock sees them."""
    item = CostStudy("sum(x)", "x", "gradient", sizes)
    for method in METHODS:
        item.results[method] = [Measurement(seconds_at_1 + 1e-6 * n**law, 8 * n) for n in sizes]
        item.overhead[method] = seconds_at_1
    return item


def test_the_exponent_is_fitted_only_where_the_fixed_cost_is_under_a_tenth():
    item = _synthetic(1e-3, 2.0, [3, 10, 100, 1000, 10_000])
    # 1e-6 n^2 passes 1e-2 (ten times the fixed cost) from n = 100 on
    assert item.fitted_sizes("forward mode") == [100, 1000, 10_000]
    # over those sizes the fixed cost is at most 10% of the time, so the fit is near 2
    assert item.exponent("forward mode") == pytest.approx(2.0, abs=0.05)
    # fitted over every size, the overhead would have dragged it far below the law
    everything = CostStudy("sum(x)", "x", "gradient", item.sizes, item.results)
    assert everything.exponent("forward mode") < 1.6


def test_sizes_that_cannot_show_the_law_say_so_instead_of_an_exponent():
    item = _synthetic(1e-3, 1.0, [10, 100, 1000])  # 1e-6 n never passes 1e-2
    assert item.exponent("reverse mode") is None
    said = [line for line in lesson([item]) if line.startswith("gradient, reverse mode")]
    assert said and "no exponent, these sizes cannot show its growth" in said[0]
    assert "1.0 ms at n = 1" in said[0]


def test_a_real_study_measures_warm_runs_and_memory():
    studies = study("sum(sin(x)*x)", [4, 8, 16], budget=5.0)
    assert [s.kind for s in studies] == ["gradient", "jacobian"]
    gradient = studies[0]
    for method in METHODS:
        assert len(gradient.results[method]) == 3
        assert gradient.overhead[method] is not None and gradient.overhead[method] > 0
    reverse = gradient.results["reverse mode"]
    assert all(m.seconds is not None and m.seconds > 0 and m.runs >= 2 for m in reverse)
    assert reverse[-1].memory > reverse[0].memory > 0  # saved intermediates grow with n
    forward = gradient.results["forward mode"]
    assert all(m.memory and m.memory > 0 for m in forward)  # torch's tensors, counted


def test_a_size_its_law_says_would_pass_the_budget_is_not_run():
    (gradient,) = study("exp(sum(x*x))", [10, 1000], budget=0.05)
    # finite differences at 1000: 100^2 times their time at 10 (over 100 µs), past 0.05 s;
    # reverse mode's law says 100 times, within it
    assert gradient.results["finite differences"][1].status == "not run"
    assert gradient.results["reverse mode"][1].seconds is not None


def test_symbolic_is_given_up_on_past_the_budget():
    (gradient,) = study("exp(sum(x*x))", [300], budget=1e-3)
    assert gradient.results["symbolic"][0].status in ("over budget", "not run")


def test_bad_requests():
    with pytest.raises(DiffcliError, match="one vector variable"):
        study("x*y", [2], 1.0)
    with pytest.raises(DiffcliError, match="positive"):
        study("sum(x)", [0], 1.0)
    with pytest.raises(
        DiffcliError, match=r"sin\(x\) gives a vector of n entries.*sum\(sin\(x\)\)"
    ):
        study("sin(x)", [10], 1.0)
    with pytest.raises(DiffcliError, match="--n 100000000: sizes up to 100,000"):
        study("sum(x)", [100_000_000], 1.0)


def test_cli(cli):
    result = cli("cost", "sum(sin(x)*x)", "--n", "4,8", "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    study_record = record["studies"][0]
    assert study_record["kind"] == "gradient" and len(record["lesson"]) >= 4
    reverse = study_record["methods"]["reverse mode"]
    assert reverse["law"] == 1.0 and reverse["seconds_at_1"] > 0 and min(reverse["runs"]) >= 2
    table = cli("cost", "sum(x*x)", "--n", "4,8")
    assert table.exit_code == 0 and "reverse mode" in table.output and "time ~ n^" in table.output
    bad = cli("cost", "sin(x)", "--n", "10")
    assert bad.exit_code == 2 and "shape" not in bad.stderr and "sum(sin(x))" in bad.stderr

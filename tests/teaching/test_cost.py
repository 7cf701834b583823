"""cost: each method's time and memory as the vector grows."""

from __future__ import annotations

import json

import pytest

from diffcli.core.errors import DiffcliError
from diffcli.teaching.cost import METHODS, study


def test_gradient_and_jacobian_studies():
    studies = study("sum(sin(x)*x)", [4, 8, 16], budget=5.0)
    assert [s.kind for s in studies] == ["gradient", "jacobian"]
    gradient = studies[0]
    for method in METHODS:
        assert len(gradient.results[method]) == 3
    reverse = gradient.results["reverse mode"]
    assert all(m.seconds is not None and m.seconds > 0 for m in reverse)
    assert reverse[-1].memory > reverse[0].memory > 0  # saved intermediates grow with n
    assert gradient.exponent("reverse mode") is not None


def test_symbolic_is_given_up_on_past_the_budget():
    (gradient,) = study("exp(sum(x*x))", [50, 100], budget=1e-4)
    assert gradient.results["symbolic"][0].status == "over budget"
    assert gradient.results["symbolic"][1].status == "not run"


def test_bad_requests():
    with pytest.raises(DiffcliError, match="one vector variable"):
        study("x*y", [2], 1.0)
    with pytest.raises(DiffcliError, match="positive"):
        study("sum(x)", [0], 1.0)
    with pytest.raises(DiffcliError, match="scalar expression"):
        study("x*2", [2], 1.0)


def test_cli(cli):
    result = cli("cost", "sum(sin(x)*x)", "--n", "4,8", "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["studies"][0]["kind"] == "gradient" and len(record["lesson"]) == 4
    table = cli("cost", "sum(x*x)", "--n", "4,8")
    assert table.exit_code == 0 and "reverse mode" in table.output and "time ~ n^" in table.output

"""The sparse differentiator gives exactly sp.diff's derivatives, only faster on wide sums."""

import pytest
import sympy as sp

from diffcli.methods.partials import Partials
from diffcli.methods.symbolic import StopGradient

x, y, z = sp.symbols("x y z", real=True)

EXPRESSIONS = [
    x**2 + y**2 + z**2,
    sp.sin(x * y) * sp.exp(z),
    sp.log(1 + sp.exp(x + y)) / (x**2 + 1),
    sp.sqrt(x**2 + y**2),
    x**y,
    sp.Abs(x - y) + sp.Max(x, z) + sp.Min(y, 0),
    StopGradient(x * y) * x,
    sp.atan2(y, x) * sp.erf(z),
    sp.tanh(x) * sp.cosh(y) ** 3 - 1 / z,
    (x * y * z) ** sp.Rational(1, 3),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
@pytest.mark.parametrize("order", [1, 2])
def test_every_partial_matches_sympy(expr, order):
    partials = Partials()
    for symbol in (x, y, z):
        ours = partials.diff(expr, symbol, order)
        assert sp.simplify(ours - sp.diff(expr, symbol, order)) == 0


def test_a_wide_sum_differentiates_each_entry_once():
    entries = sp.symbols("v0:400", real=True)
    f = sp.sin(sp.Add(*(v * v for v in entries)))
    partials = Partials()
    gradient = [partials.diff(f, v) for v in entries]
    inner = sp.Add(*(v * v for v in entries))
    assert gradient[7] == 2 * entries[7] * sp.cos(inner)
    assert partials.diff(f, sp.Symbol("w", real=True)) == 0

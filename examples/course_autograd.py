"""The first examples of the "Dive into Deep Learning" autograd section, checked three ways.

y = 2 xᵀx at x = arange(4) has gradient 4x; sum(x) has gradient ones; sum(x*x) has 2x;
and u = stop_gradient(x*x) makes z = u*x have gradient u, not 3x².
"""

import numpy as np

import diffcli

x = np.arange(4.0)
cases = {
    "2*dot(x, x)": 4 * x,
    "sum(x)": np.ones(4),
    "sum(x*x)": 2 * x,
    "sum(stop_gradient(x*x)*x)": x * x,
}
for expression, expected in cases.items():
    comparison = diffcli.compare(expression, at={"x": x})
    autograd = comparison.methods["autograd"].value["x"]
    print(f"{expression:28} autograd {autograd.tolist()}  verdict: {comparison.status}")
    np.testing.assert_allclose(autograd, expected)
    np.testing.assert_allclose(comparison.methods["symbolic"].value["x"], expected)
    assert comparison.exit_code == 0

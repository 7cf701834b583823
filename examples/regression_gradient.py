"""The least-squares loss ||Xw - y||² and its gradient 2 Xᵀ(Xw - y), derived three ways."""

import numpy as np

import diffcli

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
w = np.array([0.1, 0.2])
y = np.array([1.0, 0.0, 1.0])

comparison = diffcli.compare("norm(X@w - y)**2", at={"X": X, "w": w, "y": y}, wrt="w")
print("closed form:", comparison.closed_form["w"])
print("gradient:   ", comparison.reference.value["w"].tolist())
np.testing.assert_allclose(comparison.reference.value["w"], 2 * X.T @ (X @ w - y))
assert comparison.agree

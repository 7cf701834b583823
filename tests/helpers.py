"""Assertions shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent  # the repository
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"


def assert_close(actual, expected, rtol=1e-12, atol=1e-12, what=""):
    """Like np.testing.assert_allclose, with both values printed (the oracle's too)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    ok = np.allclose(actual, expected, rtol=rtol, atol=atol)
    assert ok, f"{what}: got {actual.tolist()}, expected {expected.tolist()}"

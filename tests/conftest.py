"""Shared helpers: run the CLI in-process, and compare arrays with both values shown."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from diffcli.cli import main


@pytest.fixture
def cli():
    """Call the CLI in-process: cli("grad", "sin(x)", "--at", "1") -> click Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=True)

    return invoke


def assert_close(actual, expected, rtol=1e-12, atol=1e-12, what=""):
    """Like np.testing.assert_allclose, with both values printed (the oracle's too)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    ok = np.allclose(actual, expected, rtol=rtol, atol=atol)
    assert ok, f"{what}: got {actual.tolist()}, expected {expected.tolist()}"


@pytest.fixture(scope="session")
def cli_runner():
    """A CliRunner shared across hypothesis examples (function fixtures are not reset there)."""
    return CliRunner()

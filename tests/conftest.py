"""Shared fixtures: the CLI, run in-process."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from diffcli.cli import main

FUZZ_EXAMPLES = "1000"


def pytest_configure(config: pytest.Config) -> None:
    """`pytest -m fuzz` is the long run: many examples per property (before modules load)."""
    if config.option.markexpr == "fuzz":
        os.environ.setdefault("DIFFCLI_FUZZ", FUZZ_EXAMPLES)


@pytest.fixture
def cli():
    """Call the CLI in-process: cli("grad", "sin(x)", "--at", "1") -> click Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=True)

    return invoke


@pytest.fixture(scope="session")
def cli_runner():
    """A CliRunner shared across hypothesis examples (function fixtures are not reset there)."""
    return CliRunner()

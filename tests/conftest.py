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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start test_resources' subprocess rows now, if any of its tests will run: they then
    share the machine with the in-process tests instead of adding their wall time."""
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.endswith("test_resources"):
            if not module.STARTED:
                module.STARTED.append(module.Rows())
            return


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

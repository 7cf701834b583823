"""Shared fixtures: the CLI, run in-process."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from click.testing import CliRunner

from diffcli.cli import main
from diffcli.render.json import schema

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


@pytest.fixture(autouse=True)
def _pipe_width(monkeypatch):
    """Output as in a pipe with no COLUMNS (120 wide), whatever the terminal running the
    tests; a test that wants a width sets COLUMNS itself."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture
def cli():
    """Call the CLI in-process: cli("grad", "sin(x)", "--at", "1") -> click Result. Every
    comparison record and batch line it prints is checked against the shipped JSON Schema."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        result = runner.invoke(main, list(args), input=input, catch_exceptions=True)
        for record in json_records(list(args), result.stdout):
            RECORD_SCHEMA.validate(thinned(record))
        return result

    return invoke


def json_records(args: list[str], stdout: str) -> list[dict]:
    """The records of a comparison or batch run that printed JSON (none for other output)."""
    command = args[0] if args else ""
    if command in ("grad", "jacobian", "hessian") and "--over" not in args:
        return [json.loads(stdout)] if stdout.lstrip().startswith("{") else []
    if command == "batch" and "csv" not in args and "table" not in args:
        return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return []


def thinned(value: object, keep: int = 16) -> object:
    """The record with long lists cut to `keep` items, for the schema (jsonschema takes about
    0.1 ms an entry: 5 s for a vector of 30,000). What is cut must be of the kind of what is
    kept: all numbers ("nan", "inf", "-inf" included), or all lists."""
    if isinstance(value, dict):
        return {k: thinned(v, keep) for k, v in value.items()}
    if not isinstance(value, list):
        return value
    if len(value) > keep:
        numbers = all(
            isinstance(v, (int, float)) or v in ("nan", "inf", "-inf") for v in value[keep:]
        )
        assert numbers or all(isinstance(v, list) for v in value), "mixed list in a record"
    return [thinned(v, keep) for v in value[:keep]]


RECORD_SCHEMA = jsonschema.Draft202012Validator(schema())


@pytest.fixture(scope="session")
def cli_runner():
    """A CliRunner shared across hypothesis examples (function fixtures are not reset there)."""
    return CliRunner()

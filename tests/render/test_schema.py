"""The JSON Schema shipped in the package (diffcli/schema/): it accepts what diffcli prints
and refuses what it must not print. The cli fixture validates every record the tests see."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from diffcli.render.json import schema

VALIDATOR = jsonschema.Draft202012Validator(schema())


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.fixture(scope="module")
def record(cli_module):
    return json.loads(cli_module("grad", "2*dot(x, x)", "--at", "x=arange(4)", "--format", "json"))


@pytest.fixture(scope="module")
def cli_module():
    from click.testing import CliRunner

    from diffcli.cli import main

    return lambda *args: CliRunner().invoke(main, list(args)).stdout


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda r: r.pop("methods"), "'methods' is a required property"),
        (lambda r: r.update(status="maybe"), "'maybe' is not one of"),
        (lambda r: r.update(exit_code=2), "2 is not one of"),
        (lambda r: r["methods"].update(magic=r["methods"]["numeric"]), "'magic' is not one of"),
        (lambda r: r["methods"]["numeric"].update(value={"x": [1, "NaN"]}), "is not valid"),
        (lambda r: r.update(extra=1), "Additional properties are not allowed"),
    ],
)
def test_a_record_that_breaks_the_contract_is_refused(record, change, why):
    assert VALIDATOR.is_valid(record)
    broken = copy.deepcopy(record)
    change(broken)
    errors = [e.message for e in VALIDATOR.iter_errors(broken)] + [
        c.message for e in VALIDATOR.iter_errors(broken) for c in e.context
    ]
    assert errors and any(why in message for message in errors), errors


def test_batch_lines_of_every_kind_are_described(cli_module, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("command,expr,at,answer\ngrad,sin(x),1,\ngrad,sin(,1,\ncheck,x**2,,2*x\n")
    lines = [json.loads(line) for line in cli_module("batch", str(path)).splitlines()]
    assert [line.get("status", line.get("correct")) for line in lines] == ["agree", "failed", True]
    for line in lines:
        VALIDATOR.validate(line)

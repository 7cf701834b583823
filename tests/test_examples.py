"""Every example script runs and checks itself, so the examples never rot."""

from __future__ import annotations

import runpy

import pytest
from helpers import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, capsys):
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip()


# every notebook of examples/ is executed in a real kernel by tests/warm/test_notebooks.py

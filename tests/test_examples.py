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


NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(notebook):
    """Each code cell, in order, in one namespace, as a kernel would run them (no Jupyter
    needed); a cell's last expression is shown through its HTML form when it has one."""
    import ast
    import json

    namespace: dict = {"__name__": "__main__"}
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(notebook), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(notebook), "eval"), namespace)
            if hasattr(value, "_repr_html_"):
                assert "<" in value._repr_html_()

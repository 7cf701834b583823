"""The magics in a real IPython kernel: nbclient executes the example notebooks and a
notebook with every command, a bad input and the SVG graph, and their outputs are
checked. The `browser` test renders the executed notebook's HTML in headless Chromium."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EVERY_COMMAND = [
    '%diff grad "sin(x)" --at 1',
    '%diff jacobian "[x*y, sin(x)]" --at x=1,y=2 --layout denominator',
    '%diff hessian "x**2*y" --at x=1,y=2',
    '%diff graph "sin(x*y) + x" --at x=1,y=2',
    '%diff graph "sin(x*y) + x" --at x=1,y=2 --mode forward --wrt x',
    '%diff stepsize "exp(x)" --at 1',
    '%diff check "sin(x)**2" --answer "sin(2*x)"',
    '%diff explain "sin(x**2)"',
    '%diff explain "sin(x**2)" --format latex',
    '%diff cost "sum(x*x)" --n 4,8',
    "%diff demo dot",
    '%diff grad "sin(x)" --over x=0:1:101',
    f"%diff batch {ROOT / 'examples' / 'cases.csv'} --format table",
    '%diff grad "x**2" --at 3 --format json',
    '%diff grad "sinn(x)" --at 1',
    "%diff shell",
]


def _run(notebook) -> object:
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    return notebook


def _outputs(cell) -> str:
    """Everything a cell showed, as one text: HTML, SVG, LaTeX and plain text."""
    parts = []
    for output in cell.get("outputs", []):
        assert output["output_type"] != "error", output
        for kind in ("text/html", "image/svg+xml", "text/latex", "text/plain"):
            parts.append(str(output.get("data", {}).get(kind, "")))
        parts.append(str(output.get("text", "")))
    return html.unescape("\n".join(parts))


@pytest.fixture(scope="module")
def every_command():
    cells = [nbformat.v4.new_code_cell("%load_ext diffcli")]
    cells += [nbformat.v4.new_code_cell(line) for line in EVERY_COMMAND]
    notebook = nbformat.v4.new_notebook(cells=cells)
    return _run(notebook)


def test_every_command_shows_in_a_kernel_and_a_bad_line_does_not_stop_it(every_command):
    shown = {line: _outputs(cell) for line, cell in zip(EVERY_COMMAND, every_command.cells[1:])}
    # shown once: a bare %diff as the cell's last line returns nothing to show again
    assert shown['%diff grad "sin(x)" --at 1'].count("3 methods match the exact derivative") == 1
    assert "denominator layout" in shown[EVERY_COMMAND[1]]
    assert "eigenvalues of the exact H" in shown[EVERY_COMMAND[2]]
    for graph in EVERY_COMMAND[3:5]:
        assert "<svg" in shown[graph]
        assert "adjoint" in shown[graph] or "tangent" in shown[graph]
    assert "<svg" in shown['%diff stepsize "exp(x)" --at 1']  # the plot, inline
    assert "✓ right" in shown[EVERY_COMMAND[6]]
    assert "chain rule" in shown[EVERY_COMMAND[7]] and "\\frac" in shown[EVERY_COMMAND[8]]
    assert "\\begin{align*}" in shown[EVERY_COMMAND[7]]  # the text, and the steps typeset
    assert "time ~ n^" in shown[EVERY_COMMAND[9]]
    assert "4x = [0, 4, 8, 12]" in shown["%diff demo dot"]
    assert (
        "<svg" in shown['%diff grad "sin(x)" --over x=0:1:101']
        and "points/s" in shown['%diff grad "sin(x)" --over x=0:1:101']
    )
    assert "batch summary" in shown[EVERY_COMMAND[12]]
    assert '"status": "agree"' in shown[EVERY_COMMAND[13]]
    bad = shown['%diff grad "sinn(x)" --at 1']
    assert "did you mean sin?" in bad and "^^^^" in bad
    assert "this is already a session" in shown["%diff shell"]


@pytest.fixture(scope="module")
def examples():
    """Every notebook of examples/, executed once in a kernel of its own."""
    return {
        path.name: _run(nbformat.read(path, as_version=4))
        for path in sorted((ROOT / "examples").glob("*.ipynb"))
    }


def test_the_example_notebooks_run_in_a_kernel(examples):
    assert {"magics.ipynb", "tour.ipynb"} <= set(examples)
    for name, notebook in examples.items():
        shown = [_outputs(cell) for cell in notebook.cells if cell.cell_type == "code"]
        assert any(shown), name
        if name == "magics.ipynb":
            text = "\n".join(shown)
            assert "[0, 4, 8, 12]" in text and "<svg" in text and "did you mean sin?" in text


def _page(notebook) -> str:
    """The executed notebook as one HTML page: each output as the notebook draws it."""
    body = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        body.append(f"<pre class='in'>{html.escape(cell.source)}</pre>")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                body.append(data["text/html"])
            elif "image/svg+xml" in data:
                body.append(f"<div class='svg'>{data['image/svg+xml']}</div>")
            elif "text/plain" in data:
                body.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return "<html><body style='background:white'>" + "\n".join(body) + "</body></html>"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = os.environ.get("DIFFCLI_SCREENSHOTS")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
def test_the_notebook_draws_its_table_and_graph_in_a_browser(examples, tmp_path: Path):
    page = tmp_path / "magics.html"
    page.write_text(_page(examples["magics.ipynb"]), encoding="utf-8")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60
    ).stdout
    assert "3 methods match the exact derivative" in dom and "<svg" in dom
    shot = tmp_path / "magics.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri()],
        capture_output=True,
        timeout=60,
    )
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (2400, 1200)
    assert np.mean(pixels < 128) > 0.01  # drawn: text, the table's rules, the graph's boxes
    if SCREENSHOTS:  # DIFFCLI_SCREENSHOTS=folder keeps it, to look at
        shutil.copy(shot, Path(SCREENSHOTS) / "magics.png")

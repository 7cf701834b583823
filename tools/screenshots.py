"""Write the README's two screenshots with headless Chromium: the magics notebook
(executed in a real kernel) and a `diffcli shell` session.

    python tools/screenshots.py        # writes docs/images/notebook.png and shell.png
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
LESSON = [
    "at x=0.5, y=-1",
    'grad "x**2*y + exp(x*y)"',
    'graph "sin(x*y) + x" --mode forward --wrt x',
]


def notebook_page() -> str:
    import nbformat
    from nbclient import NotebookClient

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "warm")]  # its page builder
    from test_notebooks import _page

    notebook = nbformat.read(ROOT / "examples" / "magics.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    return _page(notebook)


def shell_page() -> str:
    from diffcli.render.console import html_of
    from diffcli.warm.session import Session

    session, parts = Session(), []
    for line in LESSON:
        parts.append(f"<pre class='prompt'>diffcli&gt; {html.escape(line)}</pre>")
        answer = session.ask(line)
        parts.extend(html_of(view, width=100) for view in answer.kept.views)
    style = "body{background:#fff;font-size:13px} .prompt{color:#1a5fb4;font-weight:bold;margin:0}"
    return f"<html><head><style>{style}</style></head><body>{''.join(parts)}</body></html>"


def shoot(page: str, out: Path, size: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.html"
        path.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={out}",
                f"--window-size={size}",
                path.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    shoot(notebook_page(), IMAGES / "notebook.png", "1200,1000")
    shoot(shell_page(), IMAGES / "shell.png", "1000,700")
    print(f"wrote {IMAGES / 'notebook.png'} and {IMAGES / 'shell.png'}")

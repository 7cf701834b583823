"""Start-up stays light: the CLI module, --help and bad input load neither torch nor SymPy."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
{body}
heavy = sorted(m for m in {watched!r} if m in sys.modules)
print(",".join(heavy) or "none")
"""


def _loaded(body: str, watched: tuple[str, ...] = ("torch", "sympy")) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, watched=watched)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_import_cli_loads_neither_torch_nor_sympy():
    assert _loaded("import diffcli.cli") == "none"


def test_import_diffcli_is_lazy():
    assert _loaded("import diffcli") == "none"


def _run_cli(args: list[str]) -> str:
    body = (
        "from diffcli.cli import main\n"
        "try:\n"
        f"    main({args!r}, standalone_mode=True)\n"
        "except SystemExit:\n"
        "    pass"
    )
    return _loaded(body)


def test_help_is_answered_without_torch_or_sympy():
    assert _run_cli(["--help"]) == "none"
    assert _run_cli(["grad", "--help"]) == "none"
    assert _run_cli(["--version"]) == "none"


def test_bad_expression_is_answered_without_torch_or_sympy():
    assert _run_cli(["grad", "sni(x)", "--at", "1"]) == "none"
    assert _run_cli(["grad", "x", "--at", "x=[1,"]) == "none"


WARM_EXTRAS = ("IPython", "prompt_toolkit", "nbclient", "graphviz", "networkx", "matplotlib")


def test_a_comparison_loads_none_of_the_warm_session_extras():
    """Jupyter's and the shell's packages are optional: the CLI's work never imports them."""
    body = (
        "from diffcli.cli import main\n"
        "try:\n"
        "    main(['grad', 'sin(x)', '--at', '1'], standalone_mode=True)\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _loaded(body, WARM_EXTRAS) == "none"
    assert _loaded("import diffcli.cli", WARM_EXTRAS) == "none"

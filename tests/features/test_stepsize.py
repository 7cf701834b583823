"""The step-size study: the V of truncation against round-off, by every scheme."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from diffcli.core.problem import build_problem
from diffcli.features.stepsize import STEPS, study


def test_sweep_covers_1e_1_to_1e_16_and_every_scheme():
    result = study(build_problem("exp(x)", "1"))
    assert STEPS[0] == pytest.approx(0.1) and STEPS[-1] == pytest.approx(1e-16)
    names = [s.scheme for s in result.sweeps]
    assert names == ["forward", "backward", "central", "five-point", "richardson", "complex-step"]
    central = next(s for s in result.sweeps if s.scheme == "central")
    # the V: large error at both ends, its bottom near eps^(1/3)
    assert central.errors[0] > 1e-4 and central.errors[-1] > 1e-3
    assert 1e-7 < central.best_step < 1e-4 and central.best_error < 1e-10
    # the automatic step sits near the bottom of the V
    assert central.auto_error <= 10 * sorted(central.errors)[1]


def test_complex_step_is_skipped_with_the_reason_for_non_analytic():
    result = study(build_problem("abs(x) + x", "1"))
    assert "complex-step" in result.skipped and "abs" in result.skipped["complex-step"]


def test_cli_table_plot_and_json(cli, tmp_path):
    result = cli("stepsize", "exp(x)", "--at", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "step h" in out and "why: truncation error ~ h^p" in out
    assert "c central" in out and "└" in out  # the Unicode plot
    record = json.loads(cli("stepsize", "sin(x)", "--at", "1", "--format", "json").stdout)
    assert len(record["steps"]) == 31
    for scheme in record["schemes"].values():
        assert len(scheme["errors"]) == 31
        assert math.isfinite(scheme["best_error"])
    np.testing.assert_allclose(record["exact"]["x"], np.cos(1))


def test_plot_writes_a_png(cli, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "steps.png"
    result = cli("stepsize", "sin(x)", "--at", "1", "--dtype", "float32", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_a_clear_error(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = cli("stepsize", "sin(x)", "--at", "1", "--plot", str(tmp_path / "p.png"))
    assert result.exit_code == 2 and "pip install 'diffcli[plot]'" in result.stderr

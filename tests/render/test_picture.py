"""Pictures of the graph: Graphviz where `dot` is installed, else networkx and matplotlib;
both draw every node the output is computed from, with its value and adjoint."""

from __future__ import annotations

import html
import shutil

import pytest

import diffcli
from diffcli.render import picture


def _graph():
    return diffcli.graph("norm(X@w - y)**2", "X=[[1,2],[3,4]], w=[1,1], y=[0,1]")


def test_without_graphviz_the_layered_drawing_is_svg_with_every_node(monkeypatch):
    monkeypatch.setattr(picture.shutil, "which", lambda name: None)
    svg = picture.graph_svg(_graph())
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    png = picture.graph_picture(_graph(), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_with_graphviz_the_nodes_carry_values_and_adjoints():
    svg = html.unescape(picture.graph_svg(_graph()))
    for text in ("v1: input", "norm(X @ w - y)", "adjoint 13.4164", "value 45"):
        assert text in svg

"""Pictures as SVG or PNG: the computational graph (Graphviz's dot through the graphviz
package where both are installed; else a layered drawing with networkx and matplotlib),
and the step-size and grid plots. For `graph --format svg|png` and the notebook magics."""

from __future__ import annotations

import importlib.util
import io
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diffcli.core.errors import DiffcliError
from diffcli.render.graph import to_dot
from diffcli.render.numbers import array

if TYPE_CHECKING:
    from diffcli.methods.autograd.graph import Graph

PICTURES = ("svg", "png")


def graph_svg(graph: Graph) -> str:
    return graph_picture(graph, "svg").decode("utf-8")


def graph_picture(graph: Graph, kind: str) -> bytes:
    """The graph drawn as `kind` (svg or png), by dot where it can, else by matplotlib."""
    if shutil.which("dot") and importlib.util.find_spec("graphviz"):
        import graphviz

        return graphviz.Source(to_dot(graph)).pipe(format=kind)
    if importlib.util.find_spec("networkx") and importlib.util.find_spec("matplotlib"):
        return _layered(graph, kind)
    raise DiffcliError(
        "a picture of the graph needs Graphviz (the dot program and the graphviz package) or "
        "networkx and matplotlib: pip install 'diffcli[jupyter]'"
    )


def _layered(graph: Graph, kind: str) -> bytes:
    """Inputs on the left, each node one layer right of its last input, as dot lays it out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    nodes = graph.computing()
    drawn = nx.DiGraph()
    for node in nodes:
        drawn.add_node(node.name)
        for source in node.inputs:
            drawn.add_edge(source, node.name)
    for layer, names in enumerate(nx.topological_generations(drawn)):
        for name in names:
            drawn.nodes[name]["layer"] = layer
    positions = nx.multipartite_layout(drawn, subset_key="layer")
    labels = {node.name: _label(graph, node) for node in nodes}
    counts: dict[int, int] = {}
    for name in drawn.nodes:
        counts[drawn.nodes[name]["layer"]] = counts.get(drawn.nodes[name]["layer"], 0) + 1
    figure, axes = plt.subplots(figsize=(2.6 * len(counts), 1.0 + 1.2 * max(counts.values())))
    nx.draw_networkx_edges(drawn, positions, ax=axes, arrows=True, node_size=3000)
    for name, (x, y) in positions.items():
        axes.text(
            x,
            y,
            labels[name],
            ha="center",
            va="center",
            fontsize=8,
            family="monospace",
            bbox={"boxstyle": "round", "facecolor": "#eef3fb", "edgecolor": "#4a6fa5"},
        )
    axes.set_axis_off()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _label(graph: Graph, node: Any) -> str:
    lines = [f"{node.name}: {node.op}", node.text]
    if node.value is not None:
        lines.append(f"value {array(node.value, 6)}")
    derivative = node.tangent if graph.mode == "forward" else node.adjoint
    if derivative is not None:
        lines.append(
            f"{'tangent' if graph.mode == 'forward' else 'adjoint'} {array(derivative, 6)}"
        )
    return "\n".join(lines)


def plot_svg(result: Any) -> str:
    """A step-size study's or a grid's plot, as SVG text."""
    from diffcli.features.grid import GridResult

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "plot.svg")
        if isinstance(result, GridResult):
            from diffcli.render.grid_table import save_plot

            save_plot(result, path)
        else:
            from diffcli.render.plot import save_png

            save_png(result, path)
        return Path(path).read_text(encoding="utf-8")

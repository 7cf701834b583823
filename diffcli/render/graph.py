"""The computational graph: a table of each node's operation, value and adjoint or tangent,
Graphviz DOT, Mermaid, or a JSON record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

from diffcli.render.layout import Column, Fitted, hanging
from diffcli.render.numbers import array, jsonable
from diffcli.render.table import heading

if TYPE_CHECKING:
    from diffcli.methods.autograd.graph import Graph, Node


def graph_table(graph: Graph) -> Group:
    problem = graph.problem
    title = heading("graph", problem.text, problem.point)
    if graph.mode == "forward":
        column = f"tangent ∂v/∂{graph.direction}"
        intro = (
            f"forward mode: each node's tangent ∂v/∂{graph.direction}, computed with its value, "
            "in evaluation order (one pass per input direction)"
        )
    else:
        column = "adjoint ∂f/∂v"
        intro = (
            "reverse mode: the forward pass computes the values (read it bottom up); the "
            "backward pass, in this order from the output, gives every adjoint ∂f/∂v in one pass"
        )
    table = Fitted(
        [
            Column("node"),
            Column("operation"),
            Column("inputs", wraps=True, min_width=6),
            Column("expression", wraps=True, min_width=12),
            Column("value", own_line=2, labelled=True),
            Column(column, own_line=1, labelled=True),
        ]
    )
    for node in graph.order():
        derivative = node.tangent if graph.mode == "forward" else node.adjoint
        table.add_row(
            node.name,
            node.op,
            ", ".join(node.inputs) or "-",
            node.text,
            array(node.value, 8) if node.value is not None else "-",
            array(derivative, 8) if derivative is not None else "-",
        )
    parts: list[Any] = [title, Text(f"  {intro}", style="dim"), table]
    parts.append(Text(_summary(graph)))
    steering = graph.steering()
    if steering:
        ops = sorted({node.op for node in steering})
        parts.append(
            Text(
                f"  control flow also computed {len(steering)} value"
                f"{'s' * (len(steering) != 1)} ({', '.join(ops)}) that steer the path but that "
                "the output does not depend on: they have no adjoint and are left out",
                style="dim",
            )
        )
    return Group(*hanging(parts))


def _summary(graph: Graph) -> str:
    output = graph.output_node()
    inputs = {node.text: node for node in graph.nodes if node.op == "input"}
    if graph.mode == "forward":
        tangent = array(output.tangent, 10)
        return f"  ∂f/∂{graph.direction} = tangent of the output {output.name} = {tangent}"
    parts = [
        f"∂f/∂{name} = adjoint of {inputs[name].name} = {array(inputs[name].adjoint, 10)}"
        for name in graph.problem.wrt
        if name in inputs and inputs[name].adjoint is not None
    ]
    return "  " + "; ".join(parts)


def graph_record(graph: Graph) -> dict[str, Any]:
    problem = graph.problem
    return jsonable(
        {
            "command": "graph",
            "expression": problem.text,
            "mode": graph.mode,
            "direction": graph.direction,
            "point": {n: v.nested() for n, v in problem.point.items()},
            "nodes": [
                {
                    "name": node.name,
                    "op": node.op,
                    "inputs": node.inputs,
                    "expression": node.text,
                    "value": None if node.value is None else node.value.tolist(),
                    "adjoint": None if node.adjoint is None else node.adjoint.tolist(),
                    "tangent": None if node.tangent is None else node.tangent.tolist(),
                }
                for node in graph.order()
            ],
            "steering": [node.name for node in graph.steering()],
        }
    )


def graph_views(graph: Graph, output_format: str) -> Any:
    """The view `diffcli graph --format` names: text for dot, mermaid and json, else a table."""
    import json

    if output_format == "dot":
        return to_dot(graph)
    if output_format == "mermaid":
        return to_mermaid(graph)
    if output_format == "json":
        return json.dumps(graph_record(graph), indent=2, allow_nan=False)
    return graph_table(graph)


def to_dot(graph: Graph) -> str:
    """Graphviz text: one box per node with its value and adjoint (or tangent)."""
    lines = ["digraph G {", "  rankdir=LR;", '  node [shape=record, fontname="monospace"];']
    for node in graph.computing():
        numbers = f"value {array(node.value, 6)}" if node.value is not None else ""
        extra = _derivative_text(graph, node, array)
        label = f"{node.name}: {node.op} | {_escape(node.text)} | {numbers}{extra}"
        lines.append(f'  {node.name} [label="{{{label}}}"];')
    for node in graph.computing():
        for source in node.inputs:
            lines.append(f"  {source} -> {node.name};")
    lines.append("}")
    return "\n".join(lines)


def to_mermaid(graph: Graph) -> str:
    """Mermaid flowchart text for Markdown and slides."""
    lines = ["flowchart LR"]
    for node in graph.computing():
        numbers = f"<br/>value {array(node.value, 6)}" if node.value is not None else ""
        extra = _derivative_text(graph, node, array, "<br/>")
        text = node.text.replace('"', "'")
        lines.append(f'  {node.name}["{node.name}: {text}{numbers}{extra}"]')
    for node in graph.computing():
        for source in node.inputs:
            lines.append(f"  {source} --> {node.name}")
    return "\n".join(lines)


def _derivative_text(graph: Graph, node: Node, array: Any, sep: str = " | ") -> str:
    if graph.mode == "forward" and node.tangent is not None:
        return f"{sep}tangent {array(node.tangent, 6)}"
    if node.adjoint is not None:
        return f"{sep}adjoint {array(node.adjoint, 6)}"
    return ""


def _escape(text: str) -> str:
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text

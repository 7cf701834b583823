"""The computational graph: values, and derivatives taken from torch itself."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from helpers import EXAMPLES

from diffcli.core.problem import build_problem
from diffcli.methods.autograd.graph import structure, trace
from diffcli.render.graph import to_dot, to_mermaid


def test_shared_subexpressions_are_one_node():
    graph = structure(build_problem("sin(x*y) + x", "x=1,y=2"))
    assert [n.text for n in graph.nodes] == ["x", "y", "x * y", "sin(x * y)", "sin(x * y) + x"]
    assert graph.nodes[-1].inputs == ["v4", "v1"]


def test_reverse_adjoints_equal_torch_grads():
    graph = trace(build_problem("sin(x*y) + x", "x=1,y=2"))
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (torch.sin(x * y) + x).backward()
    by_text = {n.text: n for n in graph.nodes}
    assert float(by_text["x"].adjoint) == float(x.grad)
    assert float(by_text["y"].adjoint) == float(y.grad)
    assert float(by_text["sin(x * y) + x"].adjoint) == 1.0
    assert float(by_text["x * y"].adjoint) == pytest.approx(math.cos(2.0))
    assert [n.name for n in graph.order()] == ["v5", "v4", "v3", "v2", "v1"]  # backward order


def test_forward_tangents_equal_exact_partials():
    graph = trace(build_problem("sin(x*y) + x", "x=1,y=2", wrt=["x"]), mode="forward")
    by_text = {n.text: n for n in graph.nodes}
    assert float(by_text["x"].tangent) == 1.0 and float(by_text["y"].tangent) == 0.0
    assert float(by_text["x * y"].tangent) == 2.0  # ∂(xy)/∂x = y
    assert float(by_text["sin(x * y) + x"].tangent) == pytest.approx(
        2 * math.cos(2.0) + 1, rel=1e-15
    )
    assert [n.name for n in graph.order()] == ["v1", "v2", "v3", "v4", "v5"]  # evaluation order


def test_merged_node_adjoint_sums_its_uses():
    graph = trace(build_problem("sin(x)*sin(x)", "1"))
    sin_node = next(n for n in graph.nodes if n.text == "sin(x)")
    assert float(sin_node.adjoint) == pytest.approx(2 * math.sin(1.0))


def test_arrays_and_exports(cli):
    problem = build_problem("norm(X@w - y)**2", "X=[[1,2],[3,4]], w=[1,1], y=[0,1]")
    graph = trace(problem)
    w = next(n for n in graph.nodes if n.text == "w")
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(w.adjoint, 2 * X.T @ (X @ np.ones(2) - np.array([0.0, 1.0])))
    dot = to_dot(graph)
    assert dot.startswith("digraph G {") and "v3 -> v5;" in dot and "adjoint [42, 60]" in dot
    assert to_mermaid(graph).startswith("flowchart LR")
    result = cli("graph", "sin(x*y) + x", "--at", "x=1,y=2", "--format", "json")
    record = json.loads(result.stdout)
    assert record["mode"] == "reverse" and record["nodes"][0]["adjoint"] == 1.0
    table = cli("graph", "sin(x*y) + x", "--at", "x=1,y=2", "--mode", "forward", "--wrt", "x")
    assert table.exit_code == 0 and "tangent ∂v/∂x" in table.output


def test_graph_refuses_vector_outputs(cli):
    result = cli("graph", "[x, y]", "--at", "x=1,y=2")
    assert result.exit_code == 2 and "scalar" in result.stderr


def test_python_function_graph_is_the_path_that_ran(cli):

    from diffcli.core.problem import build_python_problem
    from diffcli.methods.autograd import with_torch_forms
    from diffcli.methods.autograd.graph import trace_python

    spec = f"{EXAMPLES / 'control_flow.py'}:f"
    graph = trace_python(with_torch_forms(build_python_problem(spec, "a=0.7")))
    doublings = [n for n in graph.nodes if n.op == "mul"]
    assert len(doublings) == 11  # 0.7 * 2**11 = 1433.6 is the first past 1000
    a = next(n for n in graph.nodes if n.op == "input")
    assert float(a.adjoint) == 2048.0 == float(graph.output_node().value) / 0.7
    forward = trace_python(with_torch_forms(build_python_problem(spec, "a=0.7")), mode="forward")
    assert float(forward.output_node().tangent) == 2048.0
    result = cli("graph", "--python", spec, "--at", "a=0.7", "--format", "mermaid")
    assert result.exit_code == 0 and result.output.startswith("flowchart LR")


def test_values_that_only_steer_control_flow_are_not_graph_nodes(cli):
    """course.f doubles a while norm(a) < 1000 and branches on sum(b): the norms and the
    sum decide the path, but f's output is 2^k a, computed from the doublings alone."""
    import json

    from diffcli.teaching.demos import COURSE

    record = json.loads(
        cli("graph", "--python", f"{COURSE}:f", "--at", "a=0.7", "--format", "json").stdout
    )
    ops = [node["op"] for node in record["nodes"]]
    assert "norm" not in ops and "sum" not in ops
    assert ops.count("mul") == 11 and record["nodes"][0]["adjoint"] == 1  # the output first
    assert len(record["steering"]) == 12
    table = cli("graph", "--python", f"{COURSE}:f", "--at", "a=0.7").stdout
    assert "control flow also computed 12 values (norm, sum)" in table
    assert "adjoint of v1 = 2048" in table  # 2^11: df/da = f(a)/a

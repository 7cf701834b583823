"""The computational graph of an expression, with numbers from torch itself.

One node per operation; equal subexpressions are one node (x in sin(x*y) + x is used
twice). Forward values come from evaluating the expression; reverse-mode adjoints
∂f/∂node are torch's own gradients of the intermediates (retain_grad), and forward-mode
tangents ∂node/∂x are torch's forward-mode AD (dual numbers): no second autodiff here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from diffcli.core.deadline import Budget, TimedOut, deadline
from diffcli.core.errors import OptionError
from diffcli.core.isolate import GRACE, Stuck, run_isolated
from diffcli.core.problem import Problem
from diffcli.lang.expr import Call, Const, Expr, Index, ListLit, Num, Var, walk
from diffcli.lang.printer import to_text


@dataclass
class Node:
    """One operation of the graph: v3 = mul(v1, v2)."""

    name: str
    op: str
    inputs: list[str]
    text: str
    value: np.ndarray | None = None
    adjoint: np.ndarray | None = None
    tangent: np.ndarray | None = None
    instances: list[Expr] = field(default_factory=list)


@dataclass
class Graph:
    problem: Problem
    mode: str
    nodes: list[Node]  # evaluation order
    direction: str | None = None  # forward mode: the variable entry the tangent follows
    output: str | None = None  # the node the function returns (default: the last one)

    def output_node(self) -> Node:
        return next((n for n in self.nodes if n.name == self.output), self.nodes[-1])

    def computing(self) -> list[Node]:
        """The nodes the output is computed from (and the output), in evaluation order."""
        by_name = {node.name: node for node in self.nodes}
        needed, stack = set(), [self.output_node().name]
        while stack:
            name = stack.pop()
            if name not in needed:
                needed.add(name)
                stack.extend(by_name[name].inputs)
        return [node for node in self.nodes if node.name in needed]

    def steering(self) -> list[Node]:
        """Nodes a --python function computed only to decide its path (the loop's norm, the
        branch's sum): the output does not depend on them, so they have no adjoint."""
        needed = {node.name for node in self.computing()}
        return [node for node in self.nodes if node.name not in needed]

    def order(self) -> list[Node]:
        """The order the course draws: forward mode as evaluated, reverse mode backwards."""
        nodes = self.computing()
        return nodes if self.mode == "forward" else list(reversed(nodes))


def _key(node: Expr) -> str:
    return f"{type(node).__name__}:{to_text(node)}:{node.shape}"


def _label(node: Expr) -> str:
    if isinstance(node, Var):
        return "input"
    if isinstance(node, (Num, Const)):
        return "constant"
    if isinstance(node, Call) and node.op is not None:
        return node.op.infix or node.op.name
    if isinstance(node, Index):
        return "index " + ",".join(map(str, node.indices))
    if isinstance(node, ListLit):
        return "stack"
    return type(node).__name__


def structure(problem: Problem) -> Graph:
    """The graph without numbers: nodes, their inputs, shared subexpressions merged."""
    nodes: dict[str, Node] = {}
    for expr in walk(problem.expr):
        key = _key(expr)
        if key in nodes:
            nodes[key].instances.append(expr)
            continue
        inputs = [nodes[_key(child)].name for child in expr.children]
        nodes[key] = Node(
            f"v{len(nodes) + 1}", _label(expr), inputs, to_text(expr), instances=[expr]
        )
    return Graph(problem, "reverse", list(nodes.values()))


def trace(problem: Problem, mode: str = "reverse", device: str = "cpu") -> Graph:
    """The graph with forward values and, by mode, adjoints or tangents from torch."""
    import torch

    from diffcli.lang.evaluate import evaluate
    from diffcli.methods.autograd import TorchBackend, resolve_device

    if problem.output_shape:
        raise OptionError("graph needs a scalar expression (pick an entry, or sum it)")
    graph = structure(problem)
    graph.mode = mode
    backend = TorchBackend(resolve_device(device), torch.float64)
    leaves = {
        name: torch.tensor(value.floats(), dtype=torch.float64, device=backend.device).reshape(
            value.shape
        )
        for name, value in problem.point.items()
    }
    owner = {id(expr): node for node in graph.nodes for expr in node.instances}
    if mode == "forward":
        _forward(graph, problem, leaves, backend, owner, evaluate)
    else:
        _reverse(graph, problem, leaves, backend, owner, evaluate)
    return graph


def _reverse(
    graph: Graph,
    problem: Problem,
    leaves: dict[str, Any],
    backend: Any,
    owner: dict[int, Node],
    evaluate: Any,
) -> None:
    import torch

    for name in problem.wrt:
        leaves[name].requires_grad_(True)
    seen: dict[int, tuple[Node, Any]] = {}

    def keep(expr: Expr, value: Any) -> None:
        if isinstance(value, torch.Tensor) and value.requires_grad and not value.is_leaf:
            value.retain_grad()
        seen.setdefault(id(value), (owner[id(expr)], value))
        owner[id(expr)].value = _numpy(value)

    output = evaluate(problem.expr, leaves, backend, keep)
    if output.requires_grad:
        output.backward()
    for node, tensor in seen.values():  # a merged node's adjoint sums its instances'
        if isinstance(tensor, torch.Tensor) and tensor.grad is not None:
            grad = _numpy(tensor.grad)
            node.adjoint = grad if node.adjoint is None else node.adjoint + grad


def _forward(
    graph: Graph,
    problem: Problem,
    leaves: dict[str, Any],
    backend: Any,
    owner: dict[int, Node],
    evaluate: Any,
) -> None:
    import torch
    import torch.autograd.forward_ad as fwAD

    from diffcli.methods.autograd import forward_ad_level

    if len(problem.wrt) != 1:
        raise OptionError("--mode forward follows one variable: name it with --wrt")
    name = problem.wrt[0]
    leaf = leaves[name]
    direction = torch.zeros(leaf.numel(), dtype=leaf.dtype, device=leaf.device)
    direction[0] = 1
    graph.direction = name if leaf.numel() == 1 else f"{name}[0] (the first entry of {name})"

    def keep(expr: Expr, value: Any) -> None:
        node = owner[id(expr)]
        node.value = _numpy(
            fwAD.unpack_dual(value).primal if isinstance(value, torch.Tensor) else value
        )
        tangent = fwAD.unpack_dual(value).tangent if isinstance(value, torch.Tensor) else None
        node.tangent = _numpy(tangent) if tangent is not None else np.zeros_like(node.value)

    with forward_ad_level():
        duals = {**leaves, name: fwAD.make_dual(leaf, direction.reshape(leaf.shape))}
        evaluate(problem.expr, duals, backend, keep)


def trace_python_isolated(
    spec: str, at: str, wrt: tuple[str, ...], mode: str, timeout: float | None
) -> Graph:
    """trace_python of --python FILE:FUNC in a child process (isolate.py): loading and
    tracing share --timeout there, and the child is killed GRACE seconds after it."""
    limit = None if timeout is None else timeout + GRACE
    return run_isolated(
        partial(_trace_python_here, spec, at, wrt, mode, timeout), limit, f"--python {spec}"
    )


def _trace_python_here(
    spec: str, at: str, wrt: tuple[str, ...], mode: str, timeout: float | None
) -> Graph:
    from diffcli.core.problem import build_python_problem
    from diffcli.methods.autograd import with_torch_forms

    budget = Budget(timeout)
    try:
        with deadline(budget.share(2)):
            problem = with_torch_forms(build_python_problem(spec, at, wrt))
        with deadline(budget.left()):
            graph = trace_python(problem, mode)
    except TimedOut:
        raise Stuck(f"--python {spec} did not finish within --timeout {timeout:g} s") from None
    graph.problem = problem.sent_back()
    return graph


def trace_python(problem: Problem, mode: str = "reverse") -> Graph:
    """The graph of a --python function as it ran: every torch operation it called, loops
    unrolled and only the branches taken (the graph autograd builds, made visible)."""
    import torch
    from torch.overrides import TorchFunctionMode

    from diffcli.methods.autograd import forward_ad_level

    if problem.output_shape:
        raise OptionError("graph needs a scalar function (return one number)")
    leaves = {
        name: torch.tensor(value.floats(), dtype=torch.float64).reshape(value.shape)
        for name, value in problem.point.items()
    }
    nodes: list[Node] = []
    names: dict[int, str] = {}
    tensors: list[Any] = []
    for name in problem.variables:
        names[id(leaves[name])] = f"v{len(nodes) + 1}"
        nodes.append(Node(names[id(leaves[name])], "input", [], name))

    class Recorder(TorchFunctionMode):
        def __torch_function__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and out.is_floating_point() and id(out) not in names:
                inputs = [names[id(a)] for a in _tensors(args) if id(a) in names]
                shown = [
                    names.get(id(a), repr(a))
                    if not isinstance(a, torch.Tensor) or id(a) in names
                    else "tensor"
                    for a in args
                    if isinstance(a, (torch.Tensor, int, float))
                ]
                names[id(out)] = f"v{len(nodes) + 1}"
                label = getattr(func, "__name__", str(func)).strip("_")
                nodes.append(Node(names[id(out)], label, inputs, f"{label}({', '.join(shown)})"))
                tensors.append((nodes[-1], out))
            return out

    graph = Graph(problem, mode, nodes)
    if mode == "forward":
        name = problem.wrt[0] if len(problem.wrt) == 1 else None
        if name is None:
            raise OptionError("--mode forward follows one variable: name it with --wrt")
        graph.direction = name
        with forward_ad_level():
            import torch.autograd.forward_ad as fwAD

            direction = torch.zeros_like(leaves[name]).reshape(-1)
            direction[0] = 1
            dual = fwAD.make_dual(leaves[name], direction.reshape(leaves[name].shape))
            names[id(dual)] = names[id(leaves[name])]
            bound = {**leaves, name: dual}
            with Recorder():
                returned = problem.function(**bound)
            graph.output = names.get(id(returned))
            for node, tensor in tensors:
                unpacked = fwAD.unpack_dual(tensor)
                node.value = _numpy(unpacked.primal)
                tangent = unpacked.tangent
                node.tangent = _numpy(tangent) if tangent is not None else np.zeros_like(node.value)
        for node in nodes[: len(problem.variables)]:
            node.value = _numpy(leaves[node.text])
            node.tangent = np.ones(()) if node.text == name else np.zeros(())
        return graph
    for name in problem.wrt:
        leaves[name].requires_grad_(True)
    with Recorder():
        output = problem.function(**leaves)
    graph.output = names.get(id(output))
    for node, tensor in tensors:
        if tensor.requires_grad:
            tensor.retain_grad()
        node.value = _numpy(tensor)
    if output.requires_grad:
        output.backward()
    for node, tensor in tensors:
        node.adjoint = _numpy(tensor.grad) if tensor.grad is not None else None
    for node in nodes[: len(problem.variables)]:
        leaf = leaves[node.text]
        node.value = _numpy(leaf)
        node.adjoint = _numpy(leaf.grad) if leaf.grad is not None else None
    return graph


def _tensors(args: Any) -> list[Any]:
    import torch

    found: list[Any] = []
    for arg in args if isinstance(args, (list, tuple)) else [args]:
        if isinstance(arg, torch.Tensor):
            found.append(arg)
        elif isinstance(arg, (list, tuple)):
            found.extend(_tensors(arg))
    return found


def _numpy(value: Any) -> np.ndarray:
    return value.detach().to("cpu", copy=True).double().numpy()

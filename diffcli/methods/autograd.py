"""torch.autograd on the original expression: arrays are tensors, as the course uses them.

This is the only module that imports torch.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from diffcli.errors import DeviceError
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Const, Num
from diffcli.methods import Outcome
from diffcli.problem import Problem

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(name: str) -> torch.device:
    """auto means cuda when present, then mps, else cpu; an absent device is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: no CUDA device is available here (try --device cpu)")
    if name == "mps" and not _mps_available():
        raise DeviceError("--device mps: Apple's MPS is not available here (try --device cpu)")
    if name not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"--device {name}: choose auto, cpu, cuda or mps")
    return torch.device(name)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


class TorchBackend:
    """Evaluates the tree with torch tensors on one device and dtype."""

    form = "torch"
    kit = torch

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        self.device = device
        self.dtype = dtype

    def number(self, node: Num | Const) -> torch.Tensor:
        if isinstance(node, Num):
            value = float(node.value)
        else:
            value = math.pi if node.name == "pi" else math.e
        return torch.tensor(value, dtype=self.dtype, device=self.device)

    def stack(self, items: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(items)


def differentiate(
    problem: Problem, device_name: str = "auto", dtype_name: str = "float64"
) -> Outcome:
    """Derivatives by reverse mode (one backward pass per output entry, per order)."""
    device = resolve_device(device_name)
    dtype = DTYPES[dtype_name]
    if device.type == "mps" and dtype == torch.float64:
        raise DeviceError("--device mps does not support float64: add --dtype float32")
    backend = TorchBackend(device, dtype)
    leaves = {
        name: torch.tensor(value.floats(), dtype=dtype, device=device).reshape(value.shape)
        for name, value in problem.point.items()
    }
    wrt = [leaves[name].requires_grad_(True) for name in problem.wrt]
    output = evaluate(problem.expr, leaves, backend)
    if problem.order > 1:
        value = {problem.wrt[0]: _higher_order(output, wrt[0], problem.order)}
    else:
        value = dict(zip(problem.wrt, _jacobian(output, wrt)))
    details = {"device": str(device), "dtype": dtype_name}
    return Outcome(value, details)


def _jacobian(output: torch.Tensor, wrt: list[torch.Tensor]) -> list[np.ndarray]:
    """One backward pass per entry of the output; a scalar output needs exactly one."""
    flat = output.reshape(-1)
    rows: list[list[np.ndarray]] = [[] for _ in wrt]
    for i in range(flat.numel()):
        if flat[i].requires_grad:
            grads = torch.autograd.grad(
                flat[i], wrt, retain_graph=i + 1 < flat.numel(), allow_unused=True
            )
        else:  # nothing in the output depends on the variables (stop_gradient, a constant)
            grads = (None,) * len(wrt)
        for row, grad, leaf in zip(rows, grads, wrt):
            row.append(_to_numpy(grad if grad is not None else torch.zeros_like(leaf)))
    return [
        np.stack(row).reshape(tuple(output.shape) + tuple(leaf.shape))
        for row, leaf in zip(rows, wrt)
    ]


def _higher_order(output: torch.Tensor, x: torch.Tensor, order: int) -> np.ndarray:
    """The order-th derivative of each output entry by the scalar x, by repeated grad."""
    flat = output.reshape(-1)
    results = []
    for i in range(flat.numel()):
        current = flat[i]
        for _ in range(order):
            if not current.requires_grad:
                current = torch.zeros_like(x)
                break
            (current,) = torch.autograd.grad(current, x, create_graph=True, allow_unused=True)
            if current is None:
                current = torch.zeros_like(x)
                break
        results.append(_to_numpy(current))
    return np.stack(results).reshape(tuple(output.shape))


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu", torch.float64).numpy()

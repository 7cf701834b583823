"""torch.autograd on the original expression: arrays are tensors, as the course uses them.

This is the only module that imports torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD

from diffcli.core.deadline import shielded
from diffcli.core.errors import DeviceError
from diffcli.core.problem import Problem, shaped
from diffcli.lang.evaluate import evaluate
from diffcli.lang.expr import Call, Const, Expr, Num, Var, walk
from diffcli.lang.ops import CONSTANTS
from diffcli.methods import HESSIAN, Outcome

DTYPES = {"float64": torch.float64, "float32": torch.float32}
# numbers per intermediate in one batch of forward-mode tangents: a few MiB, kept in cache
# (at 2^21, as finite differences use, forward mode ran up to 2x slower per entry at n = 10^4)
TANGENT_ELEMENTS = 1 << 18


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


class TorchKit:
    """torch, for the tree's forms; but an exponent that is one of the tree's numbers
    reaches pow as a Python number, so that torch squares, takes roots and reciprocals
    with its own kernels, forward and backward (a 0-d tensor exponent takes the general
    pow both ways, several times slower)."""

    def __init__(self, numbers: dict[int, float]) -> None:
        self.numbers = numbers  # the tree's number tensors (by id) and their values

    def __getattr__(self, name: str) -> Any:
        function = getattr(torch, name)
        setattr(self, name, function)  # found once, then a plain attribute
        return function

    def pow(self, base: torch.Tensor, exponent: torch.Tensor) -> torch.Tensor:
        number = self.numbers.get(id(exponent))
        return torch.pow(base, exponent if number is None else number)


class TorchBackend:
    """Evaluates the tree with torch tensors on one device and dtype."""

    form = "torch"
    held: ClassVar[dict[int, Any]] = {}

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        self.device = device
        self.dtype = dtype
        # one tensor a number (its sign too: -0.0 is not 0.0 here), made once
        self.tensors: dict[tuple[float, float], torch.Tensor] = {}
        self.kit = TorchKit({})

    def number(self, node: Num | Const) -> torch.Tensor:
        value = float(node.value) if isinstance(node, Num) else CONSTANTS[node.name].value
        key = (value, math.copysign(1.0, value))
        tensor = self.tensors.get(key)
        if tensor is None:
            tensor = torch.tensor(value, dtype=self.dtype, device=self.device)
            self.tensors[key] = tensor
            self.kit.numbers[id(tensor)] = value
        return tensor

    def index(self, value: torch.Tensor, indices: tuple[int, ...]) -> torch.Tensor:
        return value[indices]

    def stack(self, items: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(items)


def differentiate(
    problem: Problem, device_name: str = "auto", dtype_name: str = "float64", mode: str = "reverse"
) -> Outcome:
    """Derivatives by torch: reverse mode (one backward pass per output entry) or forward
    mode (one forward pass per input entry); the Hessian by a second pass over the gradient."""
    device = resolve_device(device_name)
    dtype = DTYPES[dtype_name]
    if device.type == "mps" and dtype == torch.float64:
        raise DeviceError("--device mps does not support float64: add --dtype float32")
    backend = TorchBackend(device, dtype)
    leaves = {
        name: torch.tensor(value.floats(), dtype=dtype, device=device).reshape(value.shape)
        for name, value in problem.point.items()
    }
    if problem.command == "hessian":
        hessian = _hessian_forward if mode == "forward" else _hessian_reverse
        table, passes = hessian(problem, leaves, backend)
        value = {HESSIAN: table}
    elif mode == "forward":
        value, passes = _jacobian_forward(problem, leaves, backend)
    else:
        wrt = [leaves[name].requires_grad_(True) for name in problem.wrt]
        output = _output(problem, leaves, backend)
        if problem.order > 1:
            value = {problem.wrt[0]: _higher_order(output, wrt[0], problem.order)}
            passes = output.numel() * problem.order
        else:
            jacobian = _jacobian if problem.function is not None else _jacobian_vectorised
            value = dict(zip(problem.wrt, jacobian(output, wrt)))
            passes = output.numel()
    details = {"device": str(device), "dtype": dtype_name, "mode": mode, "passes": passes}
    return Outcome(value, details)


@cache
def warm_up(device_name: str, dtype_name: str, mode: str) -> None:
    """First uses that import code: torch's forward-mode AD and its vmap (about a second),
    the batched backward passes (tens of ms). Done here once per process, before any
    timing, so that a method is timed for its work. Where it fails (a device that cannot
    run), the timed run reports why."""
    from diffcli.core.problem import build_problem

    vector = "v=linspace(0.1, 1, 8)"
    if mode == "forward":
        samples = [
            build_problem("x*y + sin(x)*exp(y) - x/y + x**2", "x=1,y=2"),
            build_problem("sum(sin(v)*exp(v)/v)", vector),
        ]
    else:
        samples = [build_problem("sin(v)*exp(v)/v", vector, command="jacobian")]
    try:
        for sample in samples:
            differentiate(sample, device_name, dtype_name, mode)
    except Exception:  # the run that is timed reports it
        return


def _output(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend
) -> torch.Tensor:
    """The function's value: the expression's tree, or the user's --python function."""
    if problem.function is None:
        return evaluate(problem.expr, leaves, backend)
    return _as_tensor(problem.function(**leaves), backend.dtype, backend.device)


def _as_tensor(value: Any, dtype: torch.dtype, device: torch.device | None = None) -> torch.Tensor:
    """What a --python function returned, as a tensor in the working dtype if it is not one."""
    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(value, dtype=dtype, device=device)


def output_shape(problem: Problem) -> tuple[int, ...]:
    """Call the --python function once at the point, in float64, to learn its output's shape."""
    from diffcli.core.pyfunc import UserCodeError, user_frames

    backend = TorchBackend(torch.device("cpu"), torch.float64)
    leaves = {
        name: torch.tensor(value.floats(), dtype=torch.float64).reshape(value.shape)
        for name, value in problem.point.items()
    }
    try:
        return tuple(_output(problem, leaves, backend).shape)
    except Exception as failure:
        path = Path(problem.text.rpartition(":")[0])
        raise UserCodeError(
            f"--python: {problem.text} raised {type(failure).__name__}: {failure}",
            user_frames(failure.__traceback__, path),
        ) from None


def grid_gradient(
    problem: Problem, name: str, device_name: str, dtype_name: str
) -> Callable[[np.ndarray], np.ndarray]:
    """df/dx at every point of an array of points at once, on the device: one backward
    pass of the sum where each point's f depends on that point alone, else
    torch.func.vmap of torch.func.grad. What does not change from chunk to chunk (the
    device, the other variables' tensors, whether f is elementwise) is made here, once."""
    import torch.func

    device = resolve_device(device_name)
    dtype = DTYPES[dtype_name]
    backend = TorchBackend(device, dtype)
    leaves = {
        key: torch.tensor(value.floats(), dtype=dtype, device=device).reshape(value.shape)
        for key, value in problem.point.items()
    }
    elementwise = problem.function is None and elementwise_in(problem.expr, name)

    def scalar(x: torch.Tensor) -> torch.Tensor:
        return _output(problem, {**leaves, name: x}, backend)

    def at(xs: np.ndarray) -> np.ndarray:
        points = torch.as_tensor(xs, dtype=dtype, device=device)
        if not elementwise:
            return _to_numpy(torch.func.vmap(torch.func.grad(scalar))(points))
        # each point's f depends on that point alone: one backward pass of the sum gives
        # every f'(x_i), without vmap's batching of the graph
        points.requires_grad_(True)
        total = scalar(points).sum()
        if not total.requires_grad:  # f does not depend on the variable
            return np.zeros(np.shape(xs))
        (gradient,) = torch.autograd.grad(total, points)
        return _to_numpy(gradient)

    return at


def elementwise_in(expr: Expr, name: str) -> bool:
    """Whether f, given a vector for the scalar variable `name`, is f at each entry alone:
    every node that depends on it is a scalar of an elementwise operation (sin, +, pow,
    max, ...), so nothing reduces, stacks or indexes across points."""
    from diffcli.lang.ops import broadcast, same_shape

    depends: dict[int, bool] = {}
    for node in walk(expr):
        below = [depends.get(id(child), False) for child in node.children]
        mine = (isinstance(node, Var) and node.name == name) or any(below)
        depends[id(node)] = mine
        if not mine or isinstance(node, Var):
            continue
        elementwise = (
            isinstance(node, Call)
            and node.op is not None
            and (node.op.shape is same_shape or node.op.shape is broadcast)
        )
        if node.shape != () or not elementwise:
            return False
    return True


def gradients_at(problem: Problem, points: np.ndarray) -> np.ndarray:
    """The gradient of a scalar expression at each row of `points` (the wrt variables'
    entries flattened, in order), in float64 on the CPU: torch.func.vmap of grad."""
    import torch.func

    backend = TorchBackend(torch.device("cpu"), torch.float64)
    leaves = {
        name: torch.tensor(value.floats(), dtype=torch.float64).reshape(value.shape)
        for name, value in problem.point.items()
    }
    _, scalar = _of_flat_entries(problem, leaves, backend)
    rows = torch.as_tensor(points, dtype=torch.float64)
    return _to_numpy(torch.func.vmap(torch.func.grad(scalar))(rows))


def call_rows(function: Callable[..., Any], values: dict[str, np.ndarray]) -> np.ndarray:
    """The --python function at each row of a batch of NumPy points (a Python loop: control
    flow may differ from row to row): its NumPy form, for finite differences."""
    rows = max(v.shape[0] for v in values.values())
    outputs = []
    for r in range(rows):
        bound = {
            name: torch.from_numpy(np.array(v[min(r, v.shape[0] - 1)]))
            for name, v in values.items()
        }
        dtype = next(iter(bound.values())).dtype
        with torch.no_grad():
            value = function(**bound)
            # a Python float the function returns stays in the working precision, not
            # torch's default float32
            outputs.append(_as_tensor(value, dtype).detach().numpy())
    return np.stack(outputs)


@contextmanager
def forward_ad_level() -> Iterator[None]:
    """torch's forward-mode AD level, shielded from the deadline (cut while entering or
    leaving it, the level leaks and every later forward pass fails); its first use warns
    torch's own callers about torch.jit.script, which is torch's business, not the user's."""
    with warnings.catch_warnings(), shielded():
        warnings.simplefilter("ignore", DeprecationWarning)
        with fwAD.dual_level():
            yield


def _jacobian_forward(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend
) -> tuple[dict[str, np.ndarray], int]:
    """Forward mode: one pass (a jvp) per input entry, pushing the tangent e_j through. An
    expression's passes run vectorised, a chunk of tangents at once (torch.func.vmap, as
    jacfwd does): the same n passes and O(n) work each, without n times Python's overhead.
    A --python function's run one by one: its control flow may depend on the values."""
    value: dict[str, np.ndarray] = {}
    out_shape = tuple(problem.output_shape)
    push = _push_each if problem.function is not None else _push_vectorised
    for name in problem.wrt:
        leaf = leaves[name]
        columns = push(problem, leaves, backend, name)
        value[name] = columns.T.reshape(out_shape + tuple(leaf.shape))
    return value, sum(leaves[name].numel() for name in problem.wrt)


def _push_vectorised(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend, name: str
) -> np.ndarray:
    """The jvp of every basis tangent of `name`, a chunk of them per vmap: rows are tangents."""
    import torch.func

    from diffcli.core.resources import row_elements, rows_per_chunk

    leaf = leaves[name]
    n = leaf.numel()

    def function(x: torch.Tensor) -> torch.Tensor:
        return _output(problem, {**leaves, name: x}, backend)

    def jvp(tangent: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(function, (leaf,), (tangent.reshape(leaf.shape),))[1]

    row = row_elements(problem, n)
    chunk = max(1, min(rows_per_chunk(row), TANGENT_ELEMENTS // row))
    rows = []
    with warnings.catch_warnings(), shielded():
        warnings.simplefilter("ignore", DeprecationWarning)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            pushed = torch.func.vmap(jvp)(_basis(start, stop, n, leaf))
            # a copy: the pushed tangents can be a view that keeps the chunk's buffers alive
            rows.append(_to_numpy(pushed).reshape(stop - start, -1).copy())
    return np.concatenate(rows) if rows else np.zeros((0, math.prod(problem.output_shape)))


def _basis(start: int, stop: int, n: int, like: torch.Tensor) -> torch.Tensor:
    """Rows start..stop-1 of the n x n identity, in `like`'s dtype and device: a chunk of
    the basis vectors that forward mode pushes and reverse mode pulls back."""
    basis = torch.zeros(stop - start, n, dtype=like.dtype, device=like.device)
    basis[torch.arange(stop - start), torch.arange(start, stop)] = 1
    return basis


def _push_each(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend, name: str
) -> np.ndarray:
    """The jvp of each basis tangent of `name` in turn, through torch's dual numbers."""
    leaf = leaves[name]
    size = math.prod(problem.output_shape)
    rows = []
    for j in range(leaf.numel()):
        tangent = torch.zeros(leaf.numel(), dtype=leaf.dtype, device=leaf.device)
        tangent[j] = 1
        with forward_ad_level():
            duals = {**leaves, name: fwAD.make_dual(leaf, tangent.reshape(leaf.shape))}
            pushed = fwAD.unpack_dual(_output(problem, duals, backend)).tangent
        rows.append(_to_numpy(pushed).reshape(size) if pushed is not None else np.zeros(size))
    return np.stack(rows) if rows else np.zeros((0, size))


def _hessian_reverse(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend
) -> tuple[np.ndarray, int]:
    """Reverse over reverse: the gradient with its graph kept, then one backward per entry."""
    wrt = [leaves[name].requires_grad_(True) for name in problem.wrt]
    output = _output(problem, leaves, backend)
    n = sum(leaf.numel() for leaf in wrt)
    if not output.requires_grad:
        return np.zeros((n, n)), 1
    grads = torch.autograd.grad(output, wrt, create_graph=True, allow_unused=True)
    gradient = torch.cat(
        [(g if g is not None else torch.zeros_like(x)).reshape(-1) for g, x in zip(grads, wrt)]
    )
    rows = []
    for i in range(n):
        if gradient[i].requires_grad:
            second = torch.autograd.grad(gradient[i], wrt, retain_graph=True, allow_unused=True)
            rows.append(_flat(second, wrt))
        else:
            rows.append(np.zeros(n))
    return np.stack(rows), 1 + n


def _hessian_forward(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend
) -> tuple[np.ndarray, int]:
    """Forward over reverse: torch.func.jacfwd of torch.func.grad, n tangents in one vmap."""
    import torch.func

    x0, scalar = _of_flat_entries(problem, leaves, backend)
    table = torch.func.jacfwd(torch.func.grad(scalar))(x0)
    return _to_numpy(table), x0.numel()


def _of_flat_entries(
    problem: Problem, leaves: dict[str, torch.Tensor], backend: TorchBackend
) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """The wrt variables' entries flattened into one vector (in order), and f as a function
    of such a vector, the other variables held at the point."""
    shapes = [leaves[name].shape for name in problem.wrt]
    sizes = [leaves[name].numel() for name in problem.wrt]
    x0 = torch.cat([leaves[name].reshape(-1) for name in problem.wrt])

    def scalar(flat: torch.Tensor) -> torch.Tensor:
        parts = torch.split(flat, sizes)
        bound = {**leaves, **{n: p.reshape(s) for n, p, s in zip(problem.wrt, parts, shapes)}}
        return _output(problem, bound, backend)

    return x0, scalar


def _flat(grads: tuple[torch.Tensor | None, ...], wrt: list[torch.Tensor]) -> np.ndarray:
    return np.concatenate(
        [_to_numpy(g).ravel() if g is not None else np.zeros(x.numel()) for g, x in zip(grads, wrt)]
    )


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


def _jacobian_vectorised(output: torch.Tensor, wrt: list[torch.Tensor]) -> list[np.ndarray]:
    """An expression's backward passes, one per output entry, run a chunk of them at once
    (torch's is_grads_batched, a vmap over the cotangents): the same passes as _jacobian,
    without a Python round trip for each."""
    from diffcli.core.resources import CHUNK_ELEMENTS

    flat = output.reshape(-1)
    m = flat.numel()
    if m == 1 or not flat.requires_grad:
        return _jacobian(output, wrt)
    chunk = max(1, CHUNK_ELEMENTS // (m + sum(leaf.numel() for leaf in wrt)))
    rows: list[list[np.ndarray]] = [[] for _ in wrt]
    for start in range(0, m, chunk):
        stop = min(m, start + chunk)
        grads = torch.autograd.grad(
            flat,
            wrt,
            _basis(start, stop, m, flat),
            retain_graph=stop < m,
            allow_unused=True,
            is_grads_batched=True,
        )
        for row, grad, leaf in zip(rows, grads, wrt):
            shape = (stop - start, *leaf.shape)
            row.append(_to_numpy(grad) if grad is not None else np.zeros(shape))
    return [
        np.concatenate(row).reshape(tuple(output.shape) + tuple(leaf.shape))
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
    """As float64 NumPy, sharing memory where it can; force: torch.func hands back a
    ZeroTensor for a derivative that is 0 by structure (the Hessian of sum(abs(v))), which
    plain .numpy() refuses."""
    return tensor.detach().to("cpu", torch.float64).numpy(force=True)


def with_torch_forms(problem: Problem) -> Problem:
    """A --python problem (core/problem.py's build_python_problem) with what needs torch:
    its output shape, from one call at the point, and its NumPy form for finite
    differences."""
    return shaped(problem, output_shape(problem), partial(call_rows, problem.function))


@contextmanager
def peak_tensor_bytes() -> Iterator[list[int]]:
    """The most bytes of torch tensors alive at once while the block runs (forward mode's
    memory: tracemalloc does not see torch's allocator). Every operation's outputs are
    counted from when they are made until they are freed; a view is its base's bytes."""
    import weakref

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    peak, alive = [0], [0]

    def freed(nbytes: int) -> None:
        alive[0] -= nbytes

    class Counting(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            out = func(*args, **(kwargs or {}))
            for tensor in tree_flatten(out)[0]:
                if isinstance(tensor, torch.Tensor) and not tensor._is_view():
                    nbytes = tensor.untyped_storage().nbytes()
                    alive[0] += nbytes
                    peak[0] = max(peak[0], alive[0])
                    weakref.finalize(tensor, freed, nbytes)
            return out

    with Counting():
        yield peak


@contextmanager
def saved_for_backward() -> Iterator[list[int]]:
    """Count the bytes autograd saves for the backward pass while the block runs (reverse
    mode's memory cost): the list's one number grows as tensors are saved."""
    saved = [0]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved[0] += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield saved

"""Guided demos: each idea of the course's autograd chapter, explained in a few lines and
shown by running the real commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COURSE = Path(__file__).with_name("course.py")


def arguments_here(arguments: tuple[str, ...]) -> tuple[str, ...]:
    """A demo's command line with the course file's path as short as it can be from the
    working folder (relative when it lies below it), so the command shown is one to copy."""
    try:
        here = str(COURSE.relative_to(Path.cwd()))
    except ValueError:
        return arguments
    return tuple(a.replace(str(COURSE), here) for a in arguments)


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    text: str
    runs: tuple[tuple[tuple[str, ...], int], ...]  # (arguments, the exit status expected)


DEMOS = (
    Demo(
        "dot",
        "The gradient of y = 2 xᵀx is 4x",
        "x = arange(4) = [0, 1, 2, 3]. Every method finds 4x = [0, 4, 8, 12], and SymPy's matrix "
        "calculus writes the closed form 4*x.",
        ((("grad", "2*dot(x, x)", "--at", "x=arange(4)"), 0),),
    ),
    Demo(
        "sum",
        "The gradient of a sum is all ones",
        "y = x₀ + x₁ + x₂ + x₃ changes by exactly 1 when any entry does.",
        ((("grad", "sum(x)", "--at", "x=arange(4)"), 0),),
    ),
    Demo(
        "hadamard",
        "The elementwise (Hadamard) product, summed: the gradient of Σ xᵢ² is 2x",
        "torch's backward() wants a scalar, so the course sums y = x*x first; the gradient of "
        "the sum is 2x.",
        ((("grad", "sum(x*x)", "--at", "x=arange(4)"), 0),),
    ),
    Demo(
        "detach",
        "Detaching: u = x*x as a constant, so the gradient of Σ u·x is u, not 3x²",
        "stop_gradient (alias detach) keeps u's value and drops its dependence on x. SymPy and "
        "autograd treat u as a constant; finite differences hold u at its value at the point "
        "while they perturb x, so all three answer u = x² = [0, 1, 4, 9]. The note shows what "
        "they give without the stop: 3x², the gradient of Σ x³, run next.",
        (
            (("grad", "sum(detach(x*x)*x)", "--at", "x=arange(4)"), 0),
            (("grad", "sum(x*x*x)", "--at", "x=arange(4)"), 0),
        ),
    ),
    Demo(
        "control-flow",
        "Gradients through Python control flow",
        "f(a) doubles a until its norm passes 1000 and branches on the sign: piecewise linear, "
        "so df/da = f(a)/a. autograd follows the path the loop took; finite differences see "
        "the same piece; SymPy has no expression to work on.",
        ((("grad", "--python", f"{COURSE}:f", "--at", "a=0.7"), 0),),
    ),
    Demo(
        "abs-at-zero",
        "abs at 0: not differentiable, every slope in [-1, 1] is a subgradient",
        "The left derivative is -1 and the right one 1. Each method answers with its own "
        "convention (SymPy's sign(0) = 0, torch's 0, the central difference's average 0): "
        "diffcli says so and exits 3 instead of pretending they agree.",
        ((("grad", "abs(x)", "--at", "0"), 3),),
    ),
    Demo(
        "relu-at-zero",
        "relu at 0: three methods, three conventions",
        "SymPy's Heaviside(0) = 1/2, the central difference's average 1/2, torch's relu'(0) = 0. "
        "The subgradients are [0, 1].",
        ((("grad", "relu(x)", "--at", "0"), 3),),
    ),
    Demo(
        "layouts",
        "Numerator and denominator layout",
        "∂(Ax)/∂x is A (2×3: outputs × inputs) in numerator layout, the course's and torch's; "
        "in denominator layout (SymPy's matrix calculus) it is Aᵀ (3×2).",
        (
            (("jacobian", "A@x", "--at", "A=[[1,2,3],[4,5,6]], x=[1,1,1]", "--wrt", "x"), 0),
            (
                (
                    "jacobian",
                    "A@x",
                    "--at",
                    "A=[[1,2,3],[4,5,6]], x=[1,1,1]",
                    "--wrt",
                    "x",
                    "--layout",
                    "denominator",
                ),
                0,
            ),
        ),
    ),
    Demo(
        "chain-rule",
        "The chain rule, on the linear-regression loss ‖Xw − y‖²",
        "The gradient 2Xᵀ(Xw − y) is the chain rule through r = Xw − y and ‖r‖²; the graph "
        "shows each intermediate's value and its adjoint ∂L/∂v, as torch computes them.",
        (
            (
                (
                    "grad",
                    "norm(X@w - y)**2",
                    "--at",
                    "X=[[1,2],[3,4]], w=[1,1], y=[0,1]",
                    "--wrt",
                    "w",
                ),
                0,
            ),
            (
                (
                    "graph",
                    "norm(X@w - y)**2",
                    "--at",
                    "X=[[1,2],[3,4]], w=[1,1], y=[0,1]",
                    "--wrt",
                    "w",
                ),
                0,
            ),
        ),
    ),
    Demo(
        "forward-vs-reverse",
        "Forward mode and reverse mode: same numbers, different costs",
        "Reverse mode takes one backward pass per output, forward mode one pass per input: for "
        "3 outputs of 2 inputs, 3 against 2 (the how column counts them). At this size both "
        "take about a millisecond, the fixed cost of a call; how each grows with n is "
        'measured by diffcli cost "sum(sin(x)*x)": about n^2 for forward mode and n for '
        "reverse mode, for a gradient. The graphs show forward tangents in evaluation order "
        "and reverse adjoints in backward order.",
        (
            (("jacobian", "[x*y, sin(x), exp(y)]", "--at", "x=1,y=2", "--mode", "reverse"), 0),
            (("jacobian", "[x*y, sin(x), exp(y)]", "--at", "x=1,y=2", "--mode", "forward"), 0),
            (("graph", "sin(x*y) + x", "--at", "x=1,y=2", "--mode", "forward", "--wrt", "x"), 0),
            (("graph", "sin(x*y) + x", "--at", "x=1,y=2"), 0),
        ),
    ),
    Demo(
        "step-size",
        "Why finite differences lose digits",
        "Truncation error falls like h^p as the step shrinks; round-off grows like eps/h. "
        "The best step sits at the bottom of the V; complex-step has no subtraction and no V.",
        ((("stepsize", "exp(x)", "--at", "1"), 0),),
    ),
    Demo(
        "second-derivative-cost",
        "Why second derivatives cost more",
        "A gradient is one backward pass. The Hessian of n variables needs the gradient's "
        "graph kept, then one more backward pass per entry: n + 1 passes (here 4 + 1), and "
        "finite differences need about 2n² evaluations.",
        (
            (("grad", "sum(x*x*x)", "--at", "x=arange(4)"), 0),
            (("hessian", "sum(x*x*x)", "--at", "x=arange(4)"), 0),
        ),
    ),
)

BY_NAME = {demo.name: demo for demo in DEMOS}

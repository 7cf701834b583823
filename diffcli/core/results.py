"""What one comparison found: each method's result, the reference, kinks, the Hessian's
summary, and the verdict with its exit status."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from diffcli.core.errors import ExitStatus
from diffcli.core.options import Options
from diffcli.core.problem import Problem
from diffcli.core.subgradients import SubgradientSet

AGREE, DISAGREE, KINK = "agree", "disagree", "not differentiable"


EXIT_CODES = {
    AGREE: ExitStatus.AGREE,
    DISAGREE: ExitStatus.FAILED,
    KINK: ExitStatus.NOT_DIFFERENTIABLE,
}


@dataclass
class MethodResult:
    """One method's answer and how far it is from the reference."""

    name: str
    ok: bool
    value: dict[str, np.ndarray] | None
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    abs_error: float | None = None
    rel_error: float | None = None
    rtol: float = 0.0
    atol: float = 0.0
    within: bool | None = None
    by_design: str | None = None

    @property
    def digits(self) -> float | None:
        """Correct significant digits: -log10 of the relative error, capped at 17."""
        if self.rel_error is None or math.isnan(self.rel_error):
            return None
        if self.rel_error == 0:
            return 17.0
        return max(0.0, min(17.0, -math.log10(self.rel_error)))


@dataclass
class Reference:
    """What the methods are measured against, and where it came from."""

    source: str | None
    value: dict[str, np.ndarray] | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Kink:
    """An operation on its kink at the point, with the one-sided derivatives there.

    `jump` means the one-sided limits do not settle (the function itself jumps, as sign
    does at 0). Otherwise, for a scalar function, `sampled` is the subgradient set with its
    shape (subgradients.py); `subgradient()` bounds it entry by entry, between the left
    and right derivatives (for a vector output, the only description given).
    """

    op: str
    where: str
    condition: str
    left: dict[str, np.ndarray]
    right: dict[str, np.ndarray]
    differentiable: bool
    jump: bool = False
    sampled: SubgradientSet | None = None  # the set's true shape, for a scalar function
    infinite: bool = False  # not a kink: f is finite, its slope infinite (sqrt at 0)

    def subgradient(self) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
        if self.jump:
            return None
        return {
            name: (
                np.minimum(self.left[name], self.right[name]),
                np.maximum(self.left[name], self.right[name]),
            )
            for name in self.left
        }


@dataclass
class HessianSummary:
    """What the exact Hessian says about the point: symmetric, and which curvature."""

    eigenvalues: list[float]
    definiteness: str


@dataclass
class Comparison:
    """The full result of comparing the methods on one expression at one point."""

    command: str
    expression: str
    parsed: str
    problem: Problem
    options: Options
    reference: Reference
    methods: dict[str, MethodResult]
    status: str
    notes: list[str]
    kinks: list[Kink] = field(default_factory=list)
    closed_form: dict[str, str] = field(default_factory=dict)
    hessian: HessianSummary | None = None
    derived: Any = field(default=None, repr=False)  # SymPy's derivation, for formulas on demand

    def formulas_latex(self) -> dict[str, str]:
        """The derivatives in LaTeX (made only when asked: SymPy's printer is not free)."""
        if self.derived is None:
            return {}
        from diffcli.methods.symbolic import formulas_latex

        return formulas_latex(self.derived)

    @property
    def agree(self) -> bool:
        return self.status == AGREE

    @property
    def exit_code(self) -> int:
        return int(EXIT_CODES[self.status])

    def in_layout(self, value: np.ndarray) -> np.ndarray:
        """A derivative array (numerator layout inside) in the layout the user asked for."""
        if self.options.layout == "numerator" or self.problem.command != "jacobian":
            return value
        outputs = len(self.problem.output_shape)
        axes = list(range(value.ndim))
        return np.transpose(value, axes[outputs:] + axes[:outputs])

    def __rich__(self) -> Any:
        from diffcli.render.table import render_table

        return render_table(self)

    def _repr_html_(self) -> str:
        from diffcli.render.table import to_html

        return to_html(self)

    def to_json(self) -> dict[str, Any]:
        from diffcli.render.json import to_record

        return to_record(self)

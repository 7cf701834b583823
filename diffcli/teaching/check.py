"""Is a hand-derived derivative right? SymPy's verdict, with spot checks as a second opinion.

The answer is parsed by the same safe parser as expressions. SymPy simplifies the
difference between the true derivative and the answer; independently, both are evaluated
at random points at 30 digits. A point where they differ is a counterexample, and a
counterexample decides, whatever simplify said.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from diffcli.core.errors import ExitStatus, OptionError
from diffcli.core.problem import Problem, build_problem
from diffcli.lang.expr import infer_shapes, variables_of
from diffcli.lang.parse import parse

SPOT_CHECKS = 8
_TOLERANCE = 1e-9


@dataclass
class CheckResult:
    expression: str
    answer: str
    wrt: str
    derivative: str
    symbolic_equal: bool | None  # None: simplify could not decide
    spot_checks: int
    counterexample: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.counterexample is None and (self.symbolic_equal is not False)

    @property
    def exit_code(self) -> int:
        return int(ExitStatus.AGREE if self.correct else ExitStatus.FAILED)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "check",
            "expression": self.expression,
            "answer": self.answer,
            "wrt": self.wrt,
            "correct": self.correct,
            "derivative": self.derivative,
            "symbolic_equal": self.symbolic_equal,
            "spot_checks": self.spot_checks,
            "counterexample": self.counterexample,
            "notes": self.notes,
        }


def check(
    expression: str, answer: str, wrt: str | None = None, at: str | None = None
) -> CheckResult:
    """Compare `answer` with d(expression)/d(wrt), symbolically and at random points."""
    import sympy as sp

    from diffcli.lang.evaluate import evaluate
    from diffcli.methods.symbolic import SympyBackend, derive

    variables = variables_of(parse(expression))
    name = _variable(wrt, variables)
    problem = _problem(expression, variables, name, at)
    derived = derive(problem)
    truth = derived.derivatives[name]
    answer_tree = parse(answer)
    unknown = [v for v in variables_of(answer_tree) if v not in variables]
    if unknown:
        raise OptionError(f"--answer uses {', '.join(unknown)}, which the expression does not")
    typed = infer_shapes(answer_tree, {v: problem.shape_of(v) for v in variables}, answer)
    given = evaluate(typed, derived.leaves, SympyBackend())
    pairs = _pairs(truth, given)
    if pairs is None:
        raise OptionError(
            f"--answer has shape {typed.shape}, but d/d{name} has shape {truth.shape}"
        )
    difference = [sp.simplify(t - g) for t, g in pairs]
    symbolic_equal: bool | None = True
    if any(d != 0 for d in difference):
        constant = all(d.is_number for d in difference)
        symbolic_equal = False if constant else None
    result = CheckResult(expression, answer, name, _text(truth), symbolic_equal, 0)
    _spot_check(result, derived, pairs)
    return result


def _variable(wrt: str | None, variables: list[str]) -> str:
    if wrt:
        if wrt not in variables:
            raise OptionError(
                f"--wrt {wrt}: not a variable of the expression ({', '.join(variables)})"
            )
        return wrt
    if len(variables) != 1:
        raise OptionError(
            f"the expression has variables {', '.join(variables) or 'none'}: name one with --wrt"
        )
    return variables[0]


def _problem(expression: str, variables: list[str], name: str, at: str | None) -> Problem:
    """Shapes come from --at when given; otherwise every variable is a scalar."""
    point = at if at else ", ".join(f"{v}=0.5" for v in variables)
    return build_problem(expression, point, [name])


def _pairs(truth: Any, given: Any) -> list[tuple[Any, Any]] | None:
    import numpy as np

    truth_array = np.asarray(truth, dtype=object)
    given_array = np.asarray(given, dtype=object)
    try:
        given_array = np.broadcast_to(given_array, truth_array.shape)
    except ValueError:
        return None
    return list(zip(truth_array.ravel(), given_array.ravel()))


def _text(truth: Any) -> str:
    import numpy as np

    from diffcli.methods.symbolic import formula_text

    array = np.asarray(truth, dtype=object)
    if array.ndim == 0:
        return formula_text(array.item())
    return str(np.vectorize(formula_text, otypes=[object])(array).tolist()).replace("'", "")


def _spot_check(result: CheckResult, derived: Any, pairs: list[tuple[Any, Any]]) -> None:
    """Evaluate both at seeded random points (30 digits); keep the first disagreement."""
    import numpy as np
    import sympy as sp

    leaves = derived.leaves
    symbols = [s for name in leaves for s in np.ravel(np.asarray(leaves[name], dtype=object))]
    rng = random.Random(20261122)
    tried = 0
    while result.spot_checks < SPOT_CHECKS and tried < 10 * SPOT_CHECKS:
        tried += 1
        values = {s: sp.Rational(rng.randint(-2000, 2000), 1000) for s in symbols}
        evaluated = [(_at(t, values), _at(g, values)) for t, g in pairs]
        if not all(_finite_real(a) and _finite_real(b) for a, b in evaluated):
            continue  # outside the domain of one of them: try another point
        result.spot_checks += 1
        for a, b in evaluated:
            if abs(a - b) > _TOLERANCE * (1 + abs(a)):
                result.counterexample = {
                    "point": {str(s): float(v) for s, v in values.items()},
                    "derivative": a.real,
                    "answer": b.real,
                }
                return
    if result.spot_checks == 0:
        result.notes.append("no random point was inside both domains: spot checks were skipped")


def _at(expression: Any, values: dict[Any, Any]) -> complex:
    try:
        return complex(expression.evalf(30, subs=values))
    except (TypeError, ValueError, ZeroDivisionError):  # zoo, or not a number
        return complex("nan")


def _finite_real(value: complex) -> bool:
    import math

    return math.isfinite(value.real) and math.isfinite(value.imag) and abs(value.imag) < 1e-20

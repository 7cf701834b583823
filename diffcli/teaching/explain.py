"""The derivative step by step, each step naming its rule, as a student would write it.

Structural rules (sum, constant multiple, product, quotient, power, chain) are named for
the operators; a function's table entry (d sin u = cos u du) comes from the function's own
SymPy form in the operator table, so every function of the language is explained the
same way. The last line is SymPy's simplification, checked against SymPy's own derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diffcli.core.errors import OptionError
from diffcli.core.problem import Problem, build_problem
from diffcli.lang.expr import Call, Const, Expr, Num, Var, variables_of, walk
from diffcli.lang.parse import parse
from diffcli.lang.printer import to_text


@dataclass
class Step:
    depth: int
    rule: str
    formula: str  # the rule as applied (plain text)
    latex: str
    result: Any = None  # the SymPy derivative, filled in when the step is done


@dataclass
class Explanation:
    expression: str
    wrt: str
    steps: list[Step]
    result: Any
    simplified: Any

    def text(self) -> str:
        from diffcli.methods.symbolic import formula_text

        lines = [f"d/d{self.wrt} [{self.expression}]"]
        for i, step in enumerate(self.steps, 1):
            indent = "  " * step.depth
            lines.append(f"{i:>3}. {indent}{step.rule}: {step.formula}")
            if step.result is not None and step.depth > 0 and step.rule not in _LEAF_RULES:
                lines.append(f"     {indent}  = {formula_text(step.result)}")
        lines.append(f"  → d/d{self.wrt} = {formula_text(self.result)}")
        lines.append(f"  simplified: {formula_text(self.simplified)}")
        return "\n".join(lines)

    def latex(self) -> str:
        import sympy as sp

        x = sp.Symbol(self.wrt)
        lines = [r"\begin{align*}"]
        for step in self.steps:
            indent = r"\quad " * step.depth
            lines.append(f"  & {indent}\\text{{{step.rule}:}}\\ {step.latex} \\\\")
        lines.append(f"  \\frac{{d}}{{d{sp.latex(x)}}} &= {sp.latex(self.result)} \\\\")
        lines.append(f"  &= {sp.latex(self.simplified)}")
        lines.append(r"\end{align*}")
        return "\n".join(lines)


_LEAF_RULES = ("constant", "variable", "other variable", "stop_gradient")


def explain(expression: str, wrt: str | None = None) -> Explanation:
    """Differentiate a scalar expression of scalar variables, recording each rule used."""
    import sympy as sp

    from diffcli.lang.evaluate import evaluate
    from diffcli.methods.symbolic import SympyBackend, derive, symbols_for

    problem = _problem(expression, wrt)
    name = problem.wrt[0]
    leaves = symbols_for(problem)
    lowered: dict[int, Any] = {}
    evaluate(
        problem.expr,
        leaves,
        SympyBackend(),
        lambda node, value: lowered.__setitem__(id(node), value),
    )
    walker = _Walker(lowered, leaves[name], name)
    result = walker.derivative(problem.expr, 0)
    truth = derive(problem).derivatives[name].item()
    simplified = sp.simplify(result)
    if sp.simplify(simplified - truth) != 0:  # never expected: the rules are textbook ones
        simplified = truth
    return Explanation(problem.text, name, walker.steps, result, simplified)


def _problem(expression: str, wrt: str | None) -> Problem:
    variables = variables_of(parse(expression))
    if not variables:
        raise OptionError("the expression has no variable to differentiate by")
    if wrt is None and len(variables) > 1:
        raise OptionError(
            f"the expression has variables {', '.join(variables)}: name one with --wrt"
        )
    point = ", ".join(f"{v}=0.5" for v in variables)
    problem = build_problem(expression, point, [wrt] if wrt else None)
    if len(problem.wrt) != 1:
        raise OptionError("explain follows one variable: name it with --wrt")
    if any(node.shape for node in walk(problem.expr)):
        raise OptionError("explain works on scalar expressions of scalar variables")
    return problem


class _Walker:
    def __init__(self, lowered: dict[int, Any], variable: Any, name: str) -> None:
        self.lowered = lowered
        self.x = variable
        self.name = name
        self.steps: list[Step] = []

    def depends(self, node: Expr) -> bool:
        return any(isinstance(sub, Var) and sub.name == self.name for sub in walk(node))

    def derivative(self, node: Expr, depth: int) -> Any:
        import sympy as sp

        if not self.depends(node) or isinstance(node, (Num, Const)):
            rule = "constant" if isinstance(node, (Num, Const)) else "other variable"
            return self._record(depth, rule, node, f"d/d{self.name} {to_text(node)} = 0", sp.S.Zero)
        if isinstance(node, Var):
            return self._record(
                depth, "variable", node, f"d/d{self.name} {self.name} = 1", sp.S.One
            )
        assert isinstance(node, Call) and node.op is not None
        rule = _RULES.get(node.op.name, _function_rule)
        return rule(self, node, depth)

    def _record(self, depth: int, rule: str, node: Expr, formula: str, result: Any) -> Any:
        """A step with nothing below it (constants, the variable itself)."""
        return self._close(self._open(depth, rule, node, formula), result)

    def _open(self, depth: int, rule: str, node: Expr, formula: str) -> Step:
        import sympy as sp

        step = Step(depth, rule, formula, "")
        step.latex = f"\\frac{{d}}{{d{self.name}}}\\left({sp.latex(self.lowered[id(node)])}\\right)"
        self.steps.append(step)
        return step

    def _close(self, step: Step, result: Any) -> Any:
        import sympy as sp

        step.result = result
        step.latex += f" = {sp.latex(result)}"
        return result

    def value(self, node: Expr) -> Any:
        return self.lowered[id(node)]


def _sum_rule(walker: _Walker, node: Call, depth: int) -> Any:
    u, v = node.args
    sign = "+" if node.op.name == "add" else "-"
    step = walker._open(
        depth, "sum rule", node, f"d(u {sign} v) = du {sign} dv, u = {to_text(u)}, v = {to_text(v)}"
    )
    du, dv = walker.derivative(u, depth + 1), walker.derivative(v, depth + 1)
    return walker._close(step, du + dv if sign == "+" else du - dv)


def _negation(walker: _Walker, node: Call, depth: int) -> Any:
    step = walker._open(depth, "constant multiple", node, "d(-u) = -du")
    return walker._close(step, -walker.derivative(node.args[0], depth + 1))


def _product_rule(walker: _Walker, node: Call, depth: int) -> Any:
    u, v = node.args
    if not walker.depends(u) or not walker.depends(v):
        constant, varying = (u, v) if not walker.depends(u) else (v, u)
        step = walker._open(
            depth, "constant multiple", node, f"d(c·u) = c·du, c = {to_text(constant)}"
        )
        return walker._close(step, walker.value(constant) * walker.derivative(varying, depth + 1))
    step = walker._open(
        depth, "product rule", node, f"d(u·v) = du·v + u·dv, u = {to_text(u)}, v = {to_text(v)}"
    )
    du, dv = walker.derivative(u, depth + 1), walker.derivative(v, depth + 1)
    return walker._close(step, du * walker.value(v) + walker.value(u) * dv)


def _quotient_rule(walker: _Walker, node: Call, depth: int) -> Any:
    u, v = node.args
    if not walker.depends(v):
        step = walker._open(depth, "constant multiple", node, f"d(u/c) = du/c, c = {to_text(v)}")
        return walker._close(step, walker.derivative(u, depth + 1) / walker.value(v))
    step = walker._open(
        depth,
        "quotient rule",
        node,
        f"d(u/v) = (du·v - u·dv)/v², u = {to_text(u)}, v = {to_text(v)}",
    )
    du, dv = walker.derivative(u, depth + 1), walker.derivative(v, depth + 1)
    return walker._close(step, (du * walker.value(v) - walker.value(u) * dv) / walker.value(v) ** 2)


def _power_rule(walker: _Walker, node: Call, depth: int) -> Any:
    import sympy as sp

    base, exponent = node.args
    b, n = walker.value(base), walker.value(exponent)
    if not walker.depends(exponent):
        chained = not isinstance(base, Var)
        rule = "power rule" + (" with the chain rule" if chained else "")
        formula = f"d(u^n) = n·u^(n-1)·du, u = {to_text(base)}, n = {to_text(exponent)}"
        step = walker._open(depth, rule, node, formula)
        return walker._close(step, n * b ** (n - 1) * walker.derivative(base, depth + 1))
    if not walker.depends(base):
        step = walker._open(
            depth, "exponential rule", node, f"d(a^v) = a^v·ln(a)·dv, a = {to_text(base)}"
        )
        return walker._close(step, b**n * sp.log(b) * walker.derivative(exponent, depth + 1))
    step = walker._open(depth, "general power rule", node, "d(u^v) = u^v·(dv·ln(u) + v·du/u)")
    du, dv = walker.derivative(base, depth + 1), walker.derivative(exponent, depth + 1)
    return walker._close(step, b**n * (dv * sp.log(b) + n * du / b))


def _stop_gradient(walker: _Walker, node: Call, depth: int) -> Any:
    import sympy as sp

    return walker._record(
        depth, "stop_gradient", node, "treated as a constant: derivative 0", sp.S.Zero
    )


def _function_rule(walker: _Walker, node: Call, depth: int) -> Any:
    """A function of one or more arguments: its table entry, times the chain rule."""
    import sympy as sp

    from diffcli.methods.symbolic import SympyKit, formula_text

    assert node.op is not None
    dummies = [sp.Symbol(f"u{i}", real=True) for i in range(len(node.args))]
    form = node.op.sympy(SympyKit(), *dummies)
    partials = [sp.diff(form, d) for d in dummies]
    values = {d: walker.value(a) for d, a in zip(dummies, node.args)}
    name = to_text(node).split("(")[0]
    if len(node.args) == 1:
        (u,) = node.args
        table = f"d {name}(u)/du = {formula_text(partials[0].subs(dummies[0], sp.Symbol('u')))}"
        if isinstance(u, Var):
            step = walker._open(depth, "table", node, table)
            return walker._close(step, partials[0].subs(values))
        step = walker._open(depth, "chain rule", node, f"{table}, times du, u = {to_text(u)}")
        return walker._close(step, partials[0].subs(values) * walker.derivative(u, depth + 1))
    names = ", ".join(f"u{i} = {to_text(a)}" for i, a in enumerate(node.args))
    step = walker._open(
        depth, "chain rule (several arguments)", node, f"d {name} = Σ ∂{name}/∂ui · dui, {names}"
    )
    total = sum(
        (
            p.subs(values) * walker.derivative(a, depth + 1)
            for p, a in zip(partials, node.args)
            if walker.depends(a)
        ),
        sp.S.Zero,
    )
    return walker._close(step, total)


_RULES: dict[str, Callable[[_Walker, Call, int], Any]] = {
    "add": _sum_rule,
    "sub": _sum_rule,
    "neg": _negation,
    "mul": _product_rule,
    "div": _quotient_rule,
    "pow": _power_rule,
    "stop_gradient": _stop_gradient,
}

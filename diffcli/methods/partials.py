"""Partial derivatives of SymPy expressions that visit only the parts holding the symbol.

sp.diff(f, x_i) walks every term of f, so a gradient over n entries costs n walks of f:
sum(x*x) at arange(300) took 7 s, almost all of it differentiating terms that do not hold
x_i. Here each sum and product remembers which of its arguments hold which symbol, and a
partial visits only those. The rules are SymPy's own (sum, product, constant power, chain
rule through fdiff), so the results are the expressions sp.diff returns; any other node
(a variable exponent, abs, max, ...) is handed to sp.diff, with its small arguments.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import ArgumentIndexError


class Partials:
    """One differentiator per expression family: its caches are shared by every partial."""

    def __init__(self) -> None:
        self._free: dict[sp.Basic, frozenset[sp.Symbol]] = {}
        self._holders: dict[sp.Basic, dict[sp.Symbol, list[int]]] = {}
        self._done: dict[tuple[sp.Basic, sp.Symbol], sp.Expr] = {}

    def diff(self, expr: sp.Expr, symbol: sp.Symbol, order: int = 1) -> sp.Expr:
        """The order-th partial derivative of expr by symbol."""
        for _ in range(order):
            expr = self._partial(expr, symbol)
        return expr

    def _partial(self, expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
        if symbol not in self._symbols(expr):
            return sp.S.Zero
        key = (expr, symbol)
        if key not in self._done:
            self._done[key] = self._rule(expr, symbol)
        return self._done[key]

    def _rule(self, expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
        args = expr.args
        if isinstance(expr, (sp.Add, sp.Mul)):
            holders = self._holders_of(expr)[symbol]
            if isinstance(expr, sp.Add):
                return sp.Add(*(self._partial(args[i], symbol) for i in holders))
            terms = [
                sp.Mul(*args[:i], self._partial(args[i], symbol), *args[i + 1 :]) for i in holders
            ]
            return sp.Add(*terms)
        if isinstance(expr, sp.Pow) and symbol not in self._symbols(expr.exp):
            base, exponent = args
            return expr * (self._partial(base, symbol) * exponent / base)
        if isinstance(expr, sp.Function) and _plain_chain_rule(expr):
            terms = []
            for position, arg in enumerate(args, 1):
                inner = self._partial(arg, symbol)
                if inner.is_zero:
                    continue
                try:
                    outer = expr.fdiff(position)
                except ArgumentIndexError:
                    outer = sp.Function.fdiff(expr, position)
                terms.append(outer * inner)
            return sp.Add(*terms)
        return sp.diff(expr, symbol)

    def _symbols(self, expr: sp.Basic) -> frozenset[sp.Symbol]:
        found = self._free.get(expr)
        if found is None:
            if isinstance(expr, (sp.Add, sp.Mul, sp.Pow)) or _plain_chain_rule(expr):
                found = frozenset().union(*(self._symbols(a) for a in expr.args))
            else:
                found = frozenset(expr.free_symbols)
            self._free[expr] = found
        return found

    def _holders_of(self, expr: sp.Basic) -> dict[sp.Symbol, list[int]]:
        holders = self._holders.get(expr)
        if holders is None:
            holders = {}
            for position, arg in enumerate(expr.args):
                for symbol in self._symbols(arg):
                    holders.setdefault(symbol, []).append(position)
            self._holders[expr] = holders
        return holders


def _plain_chain_rule(expr: sp.Basic) -> bool:
    """A function whose derivative SymPy finds by the chain rule alone (sin, exp, log, ...)."""
    return (
        isinstance(expr, sp.Function)
        and type(expr)._eval_derivative is sp.Function._eval_derivative
    )

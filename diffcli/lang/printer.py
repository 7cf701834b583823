"""Expr back to text, in the language's own syntax, with only the parentheses it needs."""

from __future__ import annotations

from diffcli.lang.expr import Call, Const, Expr, Index, ListLit, Num, Var

_ATOM = 100


def to_text(expr: Expr) -> str:
    """The canonical spelling of a tree: what the table shows as the parsed expression."""
    return _text(expr)[0]


def _text(expr: Expr) -> tuple[str, int]:
    if isinstance(expr, Num):
        return expr.text, (30 if expr.text.startswith("-") else _ATOM)
    if isinstance(expr, Const):
        return expr.name, _ATOM
    if isinstance(expr, Var):
        return expr.name, _ATOM
    if isinstance(expr, Index):
        assert expr.base is not None
        inner = ", ".join(str(i) for i in expr.indices)
        return f"{_wrap(expr.base, _ATOM)}[{inner}]", _ATOM
    if isinstance(expr, ListLit):
        return "[" + ", ".join(to_text(item) for item in expr.items) + "]", _ATOM
    assert isinstance(expr, Call) and expr.op is not None
    op = expr.op
    if op.name == "neg":
        return f"-{_wrap(expr.args[0], op.precedence)}", op.precedence
    if op.name == "transpose":
        return f"{_wrap(expr.args[0], _ATOM)}.T", _ATOM
    if op.infix:
        left, right = expr.args
        if op.name == "pow":
            # right-associative, and binds tighter than unary minus on its left
            return f"{_wrap(left, op.precedence + 1)}**{_wrap(right, op.precedence)}", op.precedence
        tighter = op.precedence + (1 if op.name in ("sub", "div", "matmul") else 0)
        return f"{_wrap(left, op.precedence)} {op.infix} {_wrap(right, tighter)}", op.precedence
    name = op.spelling
    args = [to_text(arg) for arg in expr.args]
    if op.name == "norm1":
        args.append("1")
    return f"{name}({', '.join(args)})", _ATOM


def _wrap(expr: Expr, precedence: int) -> str:
    text, own = _text(expr)
    return f"({text})" if own < precedence else text

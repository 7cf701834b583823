"""Text to Expr without eval: Python's `ast` parser, then a whitelist of node types.

Only the parse tree is used; nothing is compiled or run. Anything outside the language
is refused with a message and the span of the offending part, for a caret.
"""

from __future__ import annotations

import ast
import difflib
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from diffcli.core.errors import ParseError
from diffcli.lang.expr import Call, Const, Expr, Index, ListLit, Num, Var, walk
from diffcli.lang.ops import BY_NAME, CALLABLE, CONSTANTS, FUNCTION_NAMES, NORM_BY_ORDER


@dataclass(frozen=True)
class Limits:
    """Bounds that keep parsing and the engines fast on any input."""

    max_length: int = 10_000
    max_depth: int = 100
    max_nodes: int = 5_000
    max_exponent: float = 1e6
    max_entries: int = 100_000  # of one POINT value
    max_constant: float = 1.7976931348623157e308  # float64's largest
    # operations in a row, chains included: the engines' walks recurse this deep (see
    # diffcli.RECURSION_LIMIT); a 1000-term sum fits
    max_height: int = 1_000


DEFAULT_LIMITS = Limits()

_BINOPS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "pow",
    ast.MatMult: "matmul",
}

_FAMILIES = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))


def _written(number: float) -> str:
    """A number as a person writes it: 1,000,001 (not 1e+06, which hides the last digit)."""
    return f"{number:,.0f}" if float(number).is_integer() and abs(number) < 1e15 else f"{number:g}"


def _family(op: ast.operator) -> int | None:
    """Which chain an operator continues: sums and differences, or products and quotients."""
    return next((i for i, family in enumerate(_FAMILIES) if isinstance(op, family)), None)


_SPELLED = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}

_FOREIGN = {
    ast.Lambda: "a lambda",
    ast.IfExp: "a conditional expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.NamedExpr: "the walrus operator :=",
    ast.JoinedStr: "an f-string",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Tuple: "a tuple (use a list [a, b] for a vector)",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.Slice: "a slice (use integer indices)",
}


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Expr:
    """Parse an expression of the language (docs/language.md) into a tree."""
    _check_characters(text, limits)
    source, origin = _caret_to_power(text)
    try:
        tree = ast.parse(source.strip() and source, mode="eval")
    except SyntaxError as problem:
        raise _syntax_error(problem, text, source, origin) from None
    except (RecursionError, MemoryError):
        raise ParseError("the expression is nested too deeply", text, 0, len(text)) from None
    builder = _Builder(text, source, origin, limits)
    expr = builder.build(tree.body, depth=0)
    _check_height(expr, text, limits)
    return expr


def _check_height(expr: Expr, text: str, limits: Limits) -> None:
    """Refuse a tree taller than the engines' recursive walks can follow (a chain of
    thousands of terms): sum([...]) of a list holds as many terms at one level."""
    height: dict[int, int] = {}
    for node in walk(expr):
        height[id(node)] = 1 + max((height[id(c)] for c in node.children), default=0)
        if height[id(node)] > limits.max_height:
            raise ParseError(
                f"more than {limits.max_height:,} operations in a row; "
                "sum([a, b, ...]) adds many terms in one",
                text,
                *node.span,
            )


def _check_characters(text: str, limits: Limits) -> None:
    if not text.strip():
        raise ParseError("the expression is empty", text, 0)
    if len(text) > limits.max_length:
        raise ParseError(
            f"the expression is {len(text):,} characters long; the limit is "
            f"{limits.max_length:,} (--max-length)",
            text,
            limits.max_length,
        )
    for i, ch in enumerate(text):
        if ord(ch) > 126 or (ord(ch) < 32 and ch not in "\t\n"):
            name = unicodedata.name(ch, "a control character")
            raise ParseError(
                f"unexpected character U+{ord(ch):04X} ({name}): expressions use plain ASCII",
                text,
                i,
            )


def _caret_to_power(text: str) -> tuple[str, list[int]]:
    """Rewrite `^` as `**` and keep, for each character of the result, its original index."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch == "^":
            out.append("**")
            origin.extend((i, i))
        else:
            out.append(ch)
            origin.append(i)
    origin.append(len(text))
    return "".join(out), origin


def _syntax_error(problem: SyntaxError, text: str, source: str, origin: list[int]) -> ParseError:
    offset = max(0, (problem.offset or 1) - 1)
    if problem.lineno and problem.lineno > 1:
        offset += sum(len(line) + 1 for line in source.split("\n")[: problem.lineno - 1])
    offset = min(offset, len(source))
    message = problem.msg or "invalid syntax"
    if "never closed" in message or "unexpected EOF" in message or offset >= len(source.rstrip()):
        message = f"incomplete expression: {message}"
    elif message == "invalid syntax":
        message = f"invalid syntax near {source[offset : offset + 10]!r}"
    return ParseError(message, text, origin[offset])


class _Builder:
    """Turns a Python ast of the expression into our tree, one whitelisted node at a time."""

    def __init__(self, text: str, source: str, origin: list[int], limits: Limits) -> None:
        self.text = text
        self.source = source
        self.origin = origin
        self.limits = limits
        self.nodes = 0

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None) or start + 1
        lines = self.source.split("\n")
        lineno = getattr(node, "lineno", 1)
        end_lineno = getattr(node, "end_lineno", lineno) or lineno
        start += sum(len(line) + 1 for line in lines[: lineno - 1])
        end += sum(len(line) + 1 for line in lines[: end_lineno - 1])
        start, end = min(start, len(self.source)), min(end, len(self.source))
        return self.origin[start], self.origin[end - 1] + 1 if end > start else self.origin[
            start
        ] + 1

    def fail(self, message: str, node: ast.AST) -> ParseError:
        return ParseError(message, self.text, *self.span(node))

    def build(self, node: ast.AST, depth: int) -> Expr:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self.fail(f"the expression has more than {self.limits.max_nodes:,} parts", node)
        if depth > self.limits.max_depth:
            levels = self.limits.max_depth
            raise self.fail(
                f"the expression is nested more than {levels} levels (--max-depth)", node
            )
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            what = _FOREIGN.get(type(node), f"{type(node).__name__}")
            raise self.fail(f"{what} is not part of the expression language", node)
        return method(node, depth + 1)

    def _Constant(self, node: ast.Constant, depth: int) -> Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = {str: "a string", bytes: "bytes", complex: "a complex number"}.get(
                type(value), repr(value)
            )
            raise self.fail(f"{kind} is not part of the expression language", node)
        start, end = self.span(node)
        literal = self.text[start:end].replace("_", "")
        exact = Fraction(literal) if not isinstance(value, int) else Fraction(value)
        if abs(exact) > self.limits.max_constant:
            raise self.fail(f"the number {literal} is too large for float64", node)
        return Num(span=(start, end), value=exact, text=literal)

    def _Name(self, node: ast.Name, depth: int) -> Expr:
        name = node.id
        if name in CONSTANTS:
            return Const(span=self.span(node), name=name)
        if name in FUNCTION_NAMES:
            raise self.fail(f"{name} is a function: call it as {name}(...)", node)
        if not name[0].isalpha():
            raise self.fail(f"variable names start with a letter: {name!r}", node)
        return Var(span=self.span(node), name=name)

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> Expr:
        operand = self.build(node.operand, depth)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            if isinstance(operand, Num) and isinstance(node.operand, ast.Constant):
                return Num(span=self.span(node), value=-operand.value, text=f"-{operand.text}")
            return Call(span=self.span(node), op=BY_NAME["neg"], args=(operand,))
        symbol = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), "this operator")
        raise self.fail(f"{symbol} is not part of the expression language", node)

    def _BinOp(self, node: ast.BinOp, depth: int) -> Expr:
        # a chain of one associative family (a + b - c + ...) is one level, as a reader sees
        # it; its left spine is walked in a loop, so a long sum needs no deep recursion
        spine = [node]
        while isinstance(spine[-1].left, ast.BinOp) and _family(spine[-1].left.op) is not None:
            if _family(spine[-1].left.op) != _family(node.op):
                break
            spine.append(spine[-1].left)
        for link in spine:
            if _BINOPS.get(type(link.op)) is None:
                symbol = _SPELLED.get(type(link.op), type(link.op).__name__)
                raise self.fail(
                    f"the operator {symbol} is not part of the expression language", link
                )
        self.nodes += len(spine) - 1
        result = self.build(spine[-1].left, depth)
        for link in reversed(spine):
            name = _BINOPS[type(link.op)]
            right = self.build(link.right, depth)
            if name == "pow":
                self._check_power(result, right, link)
            result = Call(span=self.span(link), op=BY_NAME[name], args=(result, right))
        return result

    def _check_power(self, base: Expr, exponent: Expr, node: ast.AST) -> None:
        """Refuse exponents that would make exact arithmetic explode (9**9**9, x**10**100)."""
        power = _constant_magnitude(exponent)
        if power is not None and power > self.limits.max_exponent:
            limit = self.limits.max_exponent
            raise self.fail(
                f"the exponent {_written(power)} is too large (the limit is {_written(limit)})",
                node,
            )
        value = _constant_magnitude(base)
        if value and power is not None:
            try:
                folded = max(value, 1 / value) ** power
            except OverflowError:
                folded = float("inf")
            if folded > self.limits.max_constant:
                raise self.fail("this power of numbers is too large to compute", node)

    def _Call(self, node: ast.Call, depth: int) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only named functions can be called, such as sin(x)", node.func)
        name = node.func.id
        if node.keywords:
            raise self.fail(f"{name}: keyword arguments are not supported", node.keywords[0].value)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("starred arguments are not part of the expression language", arg)
        nargs = len(node.args)
        if name == "norm" and nargs == 2:
            return self._norm(node, depth)
        op = CALLABLE.get((name, nargs))
        if op is None:
            raise self._bad_call(name, nargs, node)
        args = tuple(self.build(arg, depth) for arg in node.args)
        if op.name == "pow":
            self._check_power(args[0], args[1], node)
        return Call(span=self.span(node), op=op, args=args)

    def _norm(self, node: ast.Call, depth: int) -> Expr:
        order = node.args[1]
        value = order.value if isinstance(order, ast.Constant) else None
        if isinstance(value, bool) or value not in NORM_BY_ORDER:
            raise self.fail("norm's second argument must be 1 or 2", order)
        arg = self.build(node.args[0], depth)
        return Call(span=self.span(node), op=NORM_BY_ORDER[int(value)], args=(arg,))

    def _bad_call(self, name: str, nargs: int, node: ast.Call) -> ParseError:
        arities = sorted(n for known, n in CALLABLE if known == name)
        if arities:
            counts = " or ".join(str(n) for n in arities)
            plural = "s" if arities[-1] != 1 else ""
            return self.fail(f"{name} takes {counts} argument{plural}, got {nargs}", node)
        message = f"unknown function {name!r}"
        close = difflib.get_close_matches(name, sorted(FUNCTION_NAMES), n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]}?)"
        return self.fail(message, node.func)

    def _Attribute(self, node: ast.Attribute, depth: int) -> Expr:
        if node.attr != "T":
            raise self.fail(f"only .T (transpose) may follow an expression, not .{node.attr}", node)
        base = self.build(node.value, depth)
        return Call(span=self.span(node), op=BY_NAME["transpose"], args=(base,))

    def _Subscript(self, node: ast.Subscript, depth: int) -> Expr:
        base = self.build(node.value, depth)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        indices = tuple(self._integer(part) for part in parts)
        return Index(span=self.span(node), base=base, indices=indices)

    def _integer(self, node: ast.AST) -> int:
        sign = 1
        inner = node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, inner = -1, node.operand
        if isinstance(inner, ast.Constant) and type(inner.value) is int:
            return sign * inner.value
        what = _FOREIGN.get(type(inner), "an index")
        raise self.fail(f"indices must be integers such as 0 or -1; {what} is not allowed", node)

    def _List(self, node: ast.List, depth: int) -> Expr:
        if not node.elts:
            raise self.fail("an empty list has no value to differentiate", node)
        items = tuple(self.build(item, depth) for item in node.elts)
        return ListLit(span=self.span(node), items=items)


def _constant_magnitude(expr: Expr) -> float | None:
    """|value| of a subtree made of numbers only (inf when it overflows); None otherwise."""
    if isinstance(expr, Num):
        return abs(float(expr.value))
    if not (isinstance(expr, Call) and expr.op is not None):
        return None
    if expr.op.name not in ("neg", "pow", "mul"):
        return None
    values = [_constant_magnitude(arg) for arg in expr.args]
    if None in values:
        return None
    try:
        if expr.op.name == "neg":
            return values[0]
        if expr.op.name == "mul":
            return values[0] * values[1]  # type: ignore[operator]
        return values[0] ** values[1]  # type: ignore[operator]
    except (OverflowError, ZeroDivisionError):
        return float("inf")

"""POINT: the values of the variables, kept as exact fractions for the reference.

`x=0.1` means exactly 1/10: the high-precision reference sees the decimal the user typed,
and each engine rounds it once to its own working precision.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from diffcli.core.errors import PointError
from diffcli.lang.ops import CONSTANTS
from diffcli.lang.types import Shape

MAX_ELEMENTS = 100_000
_GENERATORS = ("arange", "ones", "zeros", "linspace")


@dataclass(frozen=True)
class Value:
    """One variable's value: its shape and its entries in row-major order, exactly."""

    shape: Shape
    flat: tuple[Fraction, ...]

    @property
    def size(self) -> int:
        return len(self.flat)

    def floats(self) -> list[float]:
        return [float(v) for v in self.flat]

    def nested(self) -> Any:
        """Plain floats in nested lists (a float for a scalar), as JSON shows it."""
        values: list[Any] = self.floats()
        for n in reversed(self.shape[1:]):
            values = [values[i : i + n] for i in range(0, len(values), n)]
        return values[0] if not self.shape else values


Point = dict[str, Value]


def component_names(name: str, shape: Shape) -> list[str]:
    """Row-major names of a variable's entries: x, x[0], A[0,1] (as JSON's flat_variables)."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in _indices(shape)]


def _indices(shape: Shape) -> Iterable[tuple[int, ...]]:
    if not shape:
        yield ()
        return
    for i in range(shape[0]):
        for rest in _indices(shape[1:]):
            yield (i, *rest)


def parse_point(text: str, variables: list[str], max_entries: int = MAX_ELEMENTS) -> Point:
    """Parse `x=1,y=[1,2]` (or a bare value when there is one variable) for these variables."""
    if not text.strip():
        raise PointError("the point is empty: give a value for each variable, e.g. x=1.0", text, 0)
    parts = list(_split_top_level(text))
    point: Point = {}
    for start, part in parts:
        name, eq, value_text = part.partition("=")
        if not eq:
            if len(parts) == 1 and len(variables) == 1:
                point[variables[0]] = _parse_value(part, text, start, max_entries)
                continue
            hint = "name=value" if len(variables) != 1 else f"{variables[0]}={part.strip()}"
            raise PointError(f"expected name=value, e.g. {hint}", text, start, start + len(part))
        name = name.strip()
        name_start = start + part.index(name[:1]) if name else start
        if not name.isidentifier():
            raise PointError(f"{name!r} is not a variable name", text, name_start)
        if name in point:
            raise PointError(f"{name} is given twice", text, name_start, name_start + len(name))
        point[name] = _parse_value(
            value_text, text, start + len(name) + 1 + _lead(part), max_entries
        )
    return point


def _lead(part: str) -> int:
    return len(part) - len(part.lstrip())


def _split_top_level(text: str) -> Iterable[tuple[int, str]]:
    """Split on commas outside brackets and parentheses, keeping each part's offset."""
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            yield start, text[start:i]
            start = i + 1
    yield start, text[start:]


def _parse_value(value_text: str, text: str, offset: int, max_entries: int) -> Value:
    stripped = value_text.strip()
    offset += len(value_text) - len(value_text.lstrip())
    if not stripped:
        raise PointError("missing value after '='", text, offset)
    if len(stripped) > 2_000_000:
        raise PointError("the value is too long", text, offset)
    try:
        tree = ast.parse(stripped, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise PointError(
            "a value is a number, a list such as [1, 2], or arange(n), ones(n), zeros(n), "
            "linspace(a, b, n)",
            text,
            offset,
            offset + len(stripped),
        ) from None
    reader = _ValueReader(stripped, text, offset, max_entries)
    return reader.value(tree)


class _ValueReader:
    def __init__(self, source: str, text: str, offset: int, max_entries: int) -> None:
        self.source = source
        self.text = text
        self.offset = offset
        self.max_entries = max_entries

    def fail(self, message: str, node: ast.AST) -> PointError:
        start = self.offset + getattr(node, "col_offset", 0)
        end = self.offset + (getattr(node, "end_col_offset", None) or 0)
        return PointError(message, self.text, start, end)

    def value(self, node: ast.AST) -> Value:
        if isinstance(node, ast.Call):
            return self.generator(node)
        nested = self.nested(node, depth=0)
        shape, flat = _flatten(nested)
        if shape is None:
            raise self.fail("the rows of this array have different lengths", node)
        return _checked(Value(shape, tuple(flat)), self, node)

    def nested(self, node: ast.AST, depth: int) -> Any:
        if isinstance(node, ast.List):
            if depth > 8:
                raise self.fail("arrays may have at most 8 dimensions", node)
            if not node.elts:
                raise self.fail("an empty list is not a value", node)
            return [self.nested(item, depth + 1) for item in node.elts]
        return self.number(node)

    def number(self, node: ast.AST) -> Fraction:
        sign = 1
        inner = node
        while isinstance(inner, ast.UnaryOp) and isinstance(inner.op, (ast.USub, ast.UAdd)):
            sign *= -1 if isinstance(inner.op, ast.USub) else 1
            inner = inner.operand
        if isinstance(inner, ast.Constant) and type(inner.value) in (int, float):
            literal = ast.get_source_segment(self.source, inner) or repr(inner.value)
            # an int in any Python spelling (0x10, 0b11, 1_000) is exact as Python reads it;
            # a float literal is read as the exact decimal it spells
            value = (
                Fraction(inner.value)
                if isinstance(inner.value, int)
                else Fraction(literal.replace("_", ""))
            )
            if not math.isfinite(float(inner.value)):
                raise self.fail(f"{literal} is too large for float64", node)
            return sign * value
        if isinstance(inner, ast.Name) and inner.id in CONSTANTS:
            raise self.fail(f"{inner.id} cannot be a point value: write its digits", node)
        if isinstance(inner, ast.Name) and inner.id.lower() in ("nan", "inf", "infinity"):
            raise self.fail(
                f"{inner.id} is not a point: derivatives are taken at finite numbers", node
            )
        if isinstance(inner, (ast.BinOp, ast.Call)):
            raise self.fail(
                "expected a number written out: POINT does no arithmetic (1e8, not 10**8)",
                node,
            )
        raise self.fail("expected a number", node)

    def generator(self, node: ast.Call) -> Value:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name not in _GENERATORS or node.keywords:
            raise self.fail(
                f"unknown value {name or 'call'}(...): use arange, ones, zeros or linspace", node
            )
        args = [self.number(arg) for arg in node.args]
        want = 3 if name == "linspace" else 1
        if len(args) != want:
            usage = "linspace(a, b, n)" if name == "linspace" else f"{name}(n)"
            raise self.fail(f"{name} takes {want} argument{'s' * (want > 1)}: {usage}", node)
        n = args[-1]
        if n.denominator != 1 or n < 1:
            raise self.fail(f"{name}: n must be a positive whole number", node.args[-1])
        if n > self.max_entries:
            limit = f"{self.max_entries:,}"
            raise self.fail(
                f"{name}: {n} entries is more than the limit {limit} (--max-entries)", node
            )
        count = int(n)
        if name == "arange":
            flat = [Fraction(i) for i in range(count)]
        elif name in ("ones", "zeros"):
            flat = [Fraction(1 if name == "ones" else 0)] * count
        else:
            a, b = args[0], args[1]
            flat = [a + (b - a) * i / (count - 1) for i in range(count)] if count > 1 else [a]
        return Value((count,), tuple(flat))


def _checked(value: Value, reader: _ValueReader, node: ast.AST) -> Value:
    if value.size > reader.max_entries:
        limit = f"{reader.max_entries:,}"
        raise reader.fail(
            f"{value.size:,} entries is more than the limit {limit} (--max-entries)", node
        )
    return value


def _flatten(nested: Any) -> tuple[Shape | None, list[Fraction]]:
    if not isinstance(nested, list):
        return (), [nested]
    parts = [_flatten(item) for item in nested]
    shapes = {shape for shape, _ in parts}
    if len(shapes) != 1 or None in shapes:
        return None, []
    inner = shapes.pop()
    assert inner is not None
    return (len(nested), *inner), [v for _, flat in parts for v in flat]


def point_from_mapping(values: Mapping[str, Any]) -> Point:
    """A point from Python values (numbers, nested lists, NumPy arrays, POINT strings).

    A float is read through its shortest repr, so 0.1 means the decimal 0.1.
    """
    point: Point = {}
    for name, raw in values.items():
        if isinstance(raw, str):
            point[name] = parse_point(raw, [name])[name]
            continue
        nested = raw.tolist() if hasattr(raw, "tolist") else raw
        shape, flat = _flatten(_exact(nested, name))
        if shape is None:
            raise PointError(f"the rows of {name} have different lengths", name, 0)
        point[name] = Value(shape, tuple(flat))
    return point


def _exact(raw: Any, name: str) -> Any:
    if isinstance(raw, (list, tuple)):
        return [_exact(item, name) for item in raw]
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Fraction)):
        raise PointError(f"{name}: expected numbers, got {raw!r}", name, 0)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise PointError(f"{name}: {raw} is not a finite number", name, 0)
        return Fraction(repr(raw))
    return Fraction(raw)

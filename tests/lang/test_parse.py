from fractions import Fraction

import pytest

from diffcli.core.errors import ParseError
from diffcli.lang.expr import Call, Index, ListLit, Num, Var, infer_shapes, variables_of
from diffcli.lang.ops import CALLABLE
from diffcli.lang.parse import Limits, parse
from diffcli.lang.printer import to_text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("sin(x)", "sin(x)"),
        ("x^2*y", "x**2 * y"),
        ("-x**2", "-x**2"),
        ("(-x)**2", "(-x)**2"),
        ("2**3**2", "2**3**2"),
        ("a - (b - c)", "a - (b - c)"),
        ("a/(b*c)", "a / (b * c)"),
        ("X@w - y", "X @ w - y"),
        ("x.T", "x.T"),
        ("A[0, 1] + x[-1]", "A[0, 1] + x[-1]"),
        ("softmax(z)[2]", "softmax(z)[2]"),
        ("[x*y, sin(x)]", "[x * y, sin(x)]"),
        ("norm(x, 1) + norm(x, 2)", "norm(x, 1) + norm(x)"),
        ("log(x, 2)", "log(x, 2)"),
        ("detach(x)", "stop_gradient(x)"),
        ("pow(x, 3)", "x**3"),
        ("2*pi*e", "2 * pi * e"),
    ],
)
def test_canonical_text(text, canonical):
    assert to_text(parse(text)) == canonical
    assert to_text(parse(canonical)) == canonical


def test_every_function_of_the_table_parses():
    for (name, arity), _op in CALLABLE.items():
        args = ", ".join(["x"] * arity)
        tree = parse(f"{name}({args})")
        assert isinstance(tree, Call) and tree.op is not None
        if name not in ("pow", "log", "detach"):
            assert tree.op.name == name


def test_numbers_are_exact():
    tree = parse("0.1 + 1e-3 + 3")
    numbers = [n for n in _all(tree) if isinstance(n, Num)]
    assert [n.value for n in numbers] == [Fraction(1, 10), Fraction(1, 1000), Fraction(3)]


def _all(tree):
    yield tree
    for child in tree.children:
        yield from _all(child)


def test_variables_in_order_of_first_appearance():
    assert variables_of(parse("y*sin(x) + z*y + x")) == ["y", "x", "z"]


def test_constants_are_not_variables():
    assert variables_of(parse("pi*x + e")) == ["x"]


def test_index_and_list_nodes():
    assert isinstance(parse("x[0]"), Index)
    assert isinstance(parse("[x, y]"), ListLit)
    assert isinstance(parse("x"), Var)


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        ("sni(x)", "did you mean sin?", 0),
        ("x + sqr(x)", "did you mean sqrt?", 4),
        ("sin(x", "never closed", 3),
        ("x +* 2", "invalid syntax", 3),
        ("x.foo", "only .T", 0),
        ("x[1:2]", "integers", 2),
        ("lambda: 1", "lambda", 0),
        ("x // 2", "//", 0),
        ("sin", "call it as sin(...)", 0),
        ("sin(x, y)", "sin takes 1 argument, got 2", 0),
        ("atan2(x)", "atan2 takes 2 arguments, got 1", 0),
        ("norm(x, 3)", "1 or 2", 8),
        ("'a'", "a string", 0),
        ("1j*x", "complex", 0),
        ("x if y else z", "conditional", 0),
        ("[i for i in x]", "comprehension", 0),
        ("f'{x}'", "f-string", 0),
        ("(y := 2)", "walrus", 1),
        ("sin(*x)", "starred", 4),
        ("sin(x=1)", "keyword", 6),
        ("x, y", "tuple", 0),
        ("x == 1", "comparison", 0),
        ("not x", "not", 0),
        ("[]", "empty list", 0),
        ("x ** 9**9", "too large", 0),
        ("9**9**9**9", "too large", 3),
        ("x**(10**100)", "too large", 0),
        ("", "empty", 0),
        ("x + \u0445", "U+0445", 4),
        ("\uff11 + x", "U+FF11", 0),
        ("x\x00", "U+0000", 1),
        ("_x + 1", "start with a letter", 0),
    ],
)
def test_errors_point_at_the_problem(text, message, caret):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in str(info.value)
    assert info.value.start == caret
    rendered = info.value.render()
    assert rendered.count("\n") == 2 and rendered.splitlines()[-1].strip().startswith("^")


def test_limits_are_enforced_and_named():
    with pytest.raises(ParseError, match="limit is 20"):
        parse("x + " * 10 + "x", Limits(max_length=20))
    with pytest.raises(ParseError, match="nested"):
        parse("sin(" * 150 + "x" + ")" * 150)
    with pytest.raises(ParseError):
        parse("(" * 10_000 + "x" + ")" * 10_000)
    with pytest.raises(ParseError, match="parts"):
        parse("+".join(["x"] * 100), Limits(max_nodes=50))


def test_shape_errors_name_the_operation_and_shapes():
    text = "dot(x, y)"
    with pytest.raises(Exception, match=r"dot: shapes \(3,\) and \(4,\) do not match"):
        infer_shapes(parse(text), {"x": (3,), "y": (4,)}, text)
    text = "x[5]"
    with pytest.raises(Exception, match="out of range"):
        infer_shapes(parse(text), {"x": (3,)}, text)
    text = "det(A)"
    with pytest.raises(Exception, match="square matrix"):
        infer_shapes(parse(text), {"A": (2, 3)}, text)


def test_shapes_follow_numpy():
    def shape(text, **shapes):
        return infer_shapes(parse(text), shapes, text).shape

    assert shape("A@x", A=(2, 3), x=(3,)) == (2,)
    assert shape("x@A", A=(3, 2), x=(3,)) == (2,)
    assert shape("x@A@x", A=(2, 2), x=(2,)) == ()
    assert shape("A.T", A=(2, 3)) == (3, 2)
    assert shape("A[0]", A=(2, 3)) == (3,)
    assert shape("A[-1, 2]", A=(2, 3)) == ()
    assert shape("x + 1", x=(4,)) == (4,)
    assert shape("A * x", A=(2, 3), x=(3,)) == (2, 3)
    assert shape("[x, 2*x]", x=(3,)) == (2, 3)
    assert shape("softmax(z)[2]", z=(3,)) == ()
    assert shape("sum(A)", A=(2, 3)) == ()

from fractions import Fraction

import numpy as np
import pytest

from diffcli.core.errors import PointError
from diffcli.lang.point import component_names, parse_point, point_from_mapping


def test_numbers_lists_and_generators():
    point = parse_point("x=0.1, A=[[1,2],[3,4]], r=arange(4), o=ones(2), z=zeros(1)", [])
    assert point["x"].shape == () and point["x"].flat == (Fraction(1, 10),)
    assert point["A"].shape == (2, 2) and point["A"].floats() == [1, 2, 3, 4]
    assert point["r"].floats() == [0, 1, 2, 3]
    assert point["o"].floats() == [1, 1] and point["z"].floats() == [0]


def test_linspace_is_exact():
    value = parse_point("t=linspace(0, 1, 4)", ["t"])["t"]
    assert value.flat == (Fraction(0), Fraction(1, 3), Fraction(2, 3), Fraction(1))


def test_bare_value_for_one_variable():
    assert parse_point("1.0", ["x"])["x"].floats() == [1.0]
    assert parse_point("-2.5e-3", ["x"])["x"].flat == (Fraction(-1, 400),)


def test_commas_inside_brackets_do_not_split():
    point = parse_point("X=[[1,2],[3,4],[5,6]], w=[0.1,0.2], y=[1,0,1]", [])
    assert point["X"].shape == (3, 2) and point["w"].shape == (2,) and point["y"].shape == (3,)


def test_nested_shows_json_shapes():
    point = parse_point("A=[[1,2],[3,4]], x=2", [])
    assert point["A"].nested() == [[1.0, 2.0], [3.0, 4.0]]
    assert point["x"].nested() == 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("1.0", "name=value"),
        ("x=", "missing value"),
        ("x=[1,2", "a value is a number"),
        ("x=[[1,2],[3]]", "different lengths"),
        ("x=foo", "expected a number"),
        ("x=pi", "write its digits"),
        ("x=1, x=2", "given twice"),
        ("x=arange(2.5)", "whole number"),
        ("x=arange(10000000)", "limit"),
        ("x=range(3)", "unknown value"),
        ("x=1e999", "too large"),
        ("1x=2", "not a variable name"),
        ("x=[]", "empty list"),
        ("x=__import__('os')", "unknown value"),
    ],
)
def test_bad_points_are_refused(text, message):
    with pytest.raises(PointError, match=message):
        parse_point(text, ["x", "y"])


def test_mapping_reads_floats_as_their_decimal():
    point = point_from_mapping({"x": 0.1, "v": np.array([1.5, 2.0]), "s": "arange(3)"})
    assert point["x"].flat == (Fraction(1, 10),)
    assert point["v"].floats() == [1.5, 2.0]
    assert point["s"].floats() == [0, 1, 2]
    with pytest.raises(PointError):
        point_from_mapping({"x": float("nan")})
    with pytest.raises(PointError):
        point_from_mapping({"x": "oops"})


def test_component_names():
    assert component_names("x", ()) == ["x"]
    assert component_names("x", (2,)) == ["x[0]", "x[1]"]
    assert component_names("A", (2, 2)) == ["A[0,0]", "A[0,1]", "A[1,0]", "A[1,1]"]

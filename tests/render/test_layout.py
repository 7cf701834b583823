"""Fitted tables: at any width, nothing is cut and nothing is wider than the screen
(unless one word is), whichever way the table had to give up space."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from diffcli.render.layout import Column, Fitted, wrap

WORD = st.text(alphabet="abcxyz0123456789.-e[]", min_size=1, max_size=12)
CELL = st.lists(WORD, min_size=0, max_size=6).map(" ".join)


def _printed(table: Fitted, width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None, markup=False)
    console.print(table)
    return console.file.getvalue().splitlines()


@st.composite
def tables(draw):
    count = draw(st.integers(2, 7))
    columns = [Column("name")]
    for _ in range(1, count):
        columns.append(
            Column(
                draw(st.sampled_from(["value", "abs error", "how it was done", "time"])),
                draw(st.sampled_from(["left", "right"])),
                wraps=draw(st.booleans()),
                own_line=draw(st.integers(0, 2)),
            )
        )
    table = Fitted(columns)
    for _ in range(draw(st.integers(1, 4))):
        table.add_row(draw(WORD), *(draw(CELL) for _ in range(count - 1)))
    return table


@settings(max_examples=150, deadline=None)
@given(tables(), st.integers(30, 160))
def test_nothing_is_cut_and_nothing_is_too_wide(table, width):
    lines = _printed(table, width)
    text = " ".join(" ".join(lines).split())
    for cells, _ in table.rows:
        for cell in cells:
            for word in cell.text.split():
                assert word in text  # every word of every cell is printed whole
    longest = max(len(w) for cells, _ in table.rows for c in cells for w in c.text.split())
    for line in lines:
        assert len(line) <= max(width, longest + 2) and "…" not in line


def test_a_wrapping_column_breaks_where_it_is_told():
    assert wrap("12.3 ms / 4.5 KiB", 10, " / ") == ["12.3 ms /", "4.5 KiB"]
    assert wrap("central, h=1e-05, est. ±2e-09", 12) == ["central,", "h=1e-05,", "est. ±2e-09"]


def test_columns_move_under_their_row_before_headers_wrap():
    table = Fitted([Column("method"), Column("value", own_line=1), Column("abs error", "right")])
    table.add_row("numeric", "[0, 3.9999999998533258, 8, 12]", "1.5e-10")
    assert _printed(table, 30) == [
        "method   abs error",
        "──────────────────",
        "numeric    1.5e-10",
        "  [0, 3.9999999998533258, 8,",
        "  12]",
    ]

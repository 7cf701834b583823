"""Tables that fit the width they are printed at, without cutting a value or a header.

rich's Table squeezes every column to fit and cuts what is left with "…"; for a table of
numbers that hides the very digits a user came for. A `Fitted` table gives up space in
this order instead, trying each until the table fits:

1. text columns that may wrap (the "how" of a method) wrap at words, down to a minimum;
2. columns that may leave the row (a long value, the "how") move, one by one, to lines of
   their own under their row, wrapped at spaces (after a comma, between matrix entries);
3. headers wrap at their spaces ("median" over "abs");
4. the columns are split into several tables, each repeating the first (the row's name).

It is a rich renderable, so the width is the console's: a terminal's, COLUMNS in a pipe,
or a test's fixed Console.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.text import Text

GAP = 2
RULE = "─"


@dataclass(frozen=True)
class Column:
    header: str
    justify: Literal["left", "right"] = "left"
    wraps: bool = False  # may wrap inside its cell, at `breaks`
    breaks: str = " "  # where a wrapping cell may break: between words, or "12 ms / 3 KiB"
    own_line: int = 0  # > 0: may move under its row; lower numbers move first
    min_width: int = 0  # the narrowest it gets, wrapping or not
    labelled: bool = False  # under its row, it is introduced by its header


@dataclass
class Cell:
    text: str
    style: str = ""

    @classmethod
    def of(cls, value: str | Text) -> Cell:
        if isinstance(value, Text):
            return cls(value.plain, str(value.style or ""))
        return cls(value)


@dataclass
class Fitted:
    """A table of rows of cells (text or rich Text, possibly several lines each)."""

    columns: Sequence[Column]
    title: str = ""
    rows: list[tuple[list[Cell], str]] = field(default_factory=list)

    def add_row(self, *cells: str | Text, style: str = "") -> None:
        self.rows.append(([Cell.of(c) for c in cells], style))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield from self.lines(options.max_width)

    def lines(self, width: int) -> list[Text]:
        """The table as lines no wider than `width` (unless one word is wider)."""
        used = [0, *(i for i in range(1, len(self.columns)) if self._filled(i))]
        if self.rows and len(used) < len(self.columns):
            shown = [self.columns[i] for i in used]
            return Fitted(shown, self.title, self._project(used)).lines(width)
        out = [Text(self.title, style="bold")] if self.title else []
        inline, below, widths, headers = self._layout(width)
        if widths is None and len(self.columns) > 2:
            for group in self._groups(width):
                out.extend(Fitted(group[0], rows=group[1]).lines(width))
            return out
        if widths is None:  # two columns wider than the screen: print them whole
            inline, below, widths, headers = self._layout(10**6)
        out.extend(self._header(inline, widths, headers))
        for cells, style in self.rows:
            out.extend(self._row(inline, widths, cells, style))
            for index in sorted(below):
                cell, column = cells[index], self.columns[index]
                text = f"{column.header}: {cell.text}" if column.labelled else cell.text
                if cell.text:
                    out.extend(
                        Text("  " + line, style=cell.style or style)
                        for line in wrap(text, width - 2)
                    )
        return out

    def _filled(self, index: int) -> bool:
        return any(cells[index].text for cells, _ in self.rows)

    def _layout(self, width: int) -> tuple[list[int], list[int], list[int] | None, list[list[str]]]:
        movable = sorted(
            (i for i, c in enumerate(self.columns) if c.own_line),
            key=lambda i: self.columns[i].own_line,
        )
        for short_headers in (False, True):
            for moved in range(len(movable) + 1):
                below = movable[:moved]
                inline = [i for i in range(len(self.columns)) if i not in below]
                headers = [self._header_lines(i, short_headers) for i in inline]
                widths = self._widths(inline, headers, width)
                if widths is not None:
                    return inline, below, widths, headers
        return [], [], None, []

    def _header_lines(self, index: int, wrapped: bool) -> list[str]:
        header = self.columns[index].header
        return header.split() if wrapped and header else [header]

    def _widths(self, inline: list[int], headers: list[list[str]], width: int) -> list[int] | None:
        widths = []
        for index, header in zip(inline, headers):
            column_width = self.columns[index].min_width
            lines = [line for cells, _ in self.rows for line in cells[index].text.split("\n")]
            widths.append(max(column_width, *(cell_len(t) for t in [*header, *lines])))
        spare = width - sum(widths) - GAP * (len(widths) - 1)
        for k, index in enumerate(inline):
            column = self.columns[index]
            if spare >= 0:
                break
            if column.wraps:
                narrowest = max(
                    [column.min_width, *(cell_len(h) for h in headers[k])]
                    + [_longest_word(cells[index].text, column.breaks) for cells, _ in self.rows]
                )
                give = min(widths[k] - narrowest, -spare)
                if give > 0:
                    widths[k] -= give
                    spare += give
        return widths if spare >= 0 else None

    def _header(self, inline: list[int], widths: list[int], headers: list[list[str]]) -> list[Text]:
        height = max(len(h) for h in headers)
        lines = []
        for level in range(height):
            cells = [
                Cell(h[level - (height - len(h))] if level >= height - len(h) else "")
                for h in headers
            ]
            lines.append(self._line(inline, widths, cells, "bold"))
        lines.append(Text(RULE * (sum(widths) + GAP * (len(widths) - 1))))
        return lines

    def _row(
        self, inline: list[int], widths: list[int], cells: list[Cell], style: str
    ) -> list[Text]:
        wrapped = [
            wrap(cells[i].text, w, self.columns[i].breaks)
            if self.columns[i].wraps
            else cells[i].text.split("\n")
            for i, w in zip(inline, widths)
        ]
        height = max(len(lines) for lines in wrapped)
        return [
            self._line(
                inline,
                widths,
                [
                    Cell(lines[level] if level < len(lines) else "", cells[i].style)
                    for i, lines in zip(inline, wrapped)
                ],
                style,
            )
            for level in range(height)
        ]

    def _line(self, inline: list[int], widths: list[int], cells: list[Cell], style: str) -> Text:
        line = Text(style=style)
        for k, (index, width, cell) in enumerate(zip(inline, widths, cells)):
            pad = " " * (width - cell_len(cell.text))
            right = self.columns[index].justify == "right"
            line.append(pad if right else "")
            line.append(cell.text, style=cell.style)
            if k < len(inline) - 1:
                line.append("" if right else pad)
                line.append(" " * GAP)
        line.rstrip()
        return line

    def _groups(self, width: int) -> list[tuple[list[Column], list[tuple[list[Cell], str]]]]:
        """Consecutive columns that fit together, each group led by the first column."""
        groups: list[list[int]] = []
        current = [0]
        for index in range(1, len(self.columns)):
            trial = [*current, index]
            if len(current) == 1 or self._fits(trial, width):
                current = trial
            else:
                groups.append(current)
                current = [0, index]
        groups.append(current)
        return [([self.columns[i] for i in g], self._project(g)) for g in groups]

    def _fits(self, indices: list[int], width: int) -> bool:
        part = Fitted([self.columns[i] for i in indices], rows=self._project(indices))
        return part._layout(width)[2] is not None

    def _project(self, indices: list[int]) -> list[tuple[list[Cell], str]]:
        return [([cells[i] for i in indices], style) for cells, style in self.rows]


def wrap(text: str, width: int, breaks: str = " ") -> list[str]:
    """Each line of `text` wrapped at `breaks` to `width`; a word wider than that stays
    whole. A break that is not a space stays at the end of its line ("12 ms /")."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(breaks):
            candidate = f"{line}{breaks}{word}" if line else word
            if line and cell_len(candidate) > width:
                out.append((line + breaks).rstrip())
                line = word
            else:
                line = candidate
        out.append(line)
    return out


def _longest_word(text: str, breaks: str = " ") -> int:
    words = [w for line in text.split("\n") for w in line.split(breaks)]
    return max((cell_len((word + breaks).rstrip()) for word in words), default=0)


@dataclass
class Hanging:
    """A paragraph wrapped at words to the console's width, its later lines indented."""

    text: Text
    indent: int = 4

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = options.max_width
        text = self.text
        while text.plain:
            first = text.wrap(console, width)[0] if width > 0 else text
            first.rstrip()
            yield first if text is self.text else Text(" " * self.indent) + first
            rest = len(first.plain)
            while rest < len(text.plain) and text.plain[rest] in " \n":
                rest += 1
            text = text[rest:]
            width = max(options.max_width - self.indent, 20)


def hanging(parts: Sequence[Any]) -> list[Any]:
    """Each line of text among `parts` as a Hanging paragraph: its later lines indented
    two more than its first, so a wrapped note still reads as one."""
    return [
        Hanging(part, len(part.plain) - len(part.plain.lstrip(" ")) + 2)
        if isinstance(part, Text)
        else part
        for part in parts
    ]

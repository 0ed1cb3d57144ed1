"""CSV for people who open it in a spreadsheet: no cell is ever read as a formula.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Sheets (OWASP "CSV injection"); such a text cell gets a leading `'`,
which spreadsheets show as plain text. Numbers stay numbers: a negative amount (a Decimal or
int) is written as is.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def csv_cell(value: Any) -> Any:
    """`value` as a cell that a spreadsheet shows and never evaluates."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_write(out: _Writable, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> None:
    """Write `header` and `rows` to `out` (a file or an HttpResponse), every cell made safe."""
    writer = csv.writer(out)
    writer.writerow([csv_cell(cell) for cell in header])
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)


class _Line:
    """A file whose `write` hands the text back (csv.writer then returns each line)."""

    def write(self, text: str, /) -> str:
        return text


def csv_stream(
    header: Iterable[Any], rows: Iterable[Sequence[Any]], *, plain: Collection[int] = ()
) -> Iterator[str]:
    """`header` and `rows` as CSV lines one at a time, every cell made safe: for a
    StreamingHttpResponse, so a large export is never held in memory.

    `plain`: positions whose cells the caller formatted itself (numbers, dates, flags: never
    text that people type), written as given: a negative amount formatted as text stays a
    number, and a wide export skips the check per cell."""
    writer = csv.writer(_Line())
    yield writer.writerow([csv_cell(cell) for cell in header])
    checked: list[int] | None = None  # the positions made safe, from the first row's width
    for row in rows:
        if checked is None:
            checked = [i for i in range(len(row)) if i not in plain]
        cells = list(row)
        for i in checked:
            cells[i] = csv_cell(cells[i])
        yield writer.writerow(cells)

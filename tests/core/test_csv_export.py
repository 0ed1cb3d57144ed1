"""CSV exports never carry a live spreadsheet formula (issue 10, point 7)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from lendcore.core.csv_export import csv_cell, csv_stream, csv_write


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("REF-123", "REF-123"),
        ("", ""),
        (None, ""),
        (Decimal("-20.00"), Decimal("-20.00")),  # a negative amount stays a number
        (7, 7),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_neutralised(value, cell):
    assert csv_cell(value) == cell


def test_the_writer_neutralises_header_and_rows():
    out = io.StringIO()
    csv_write(
        out, ["date", "=reference"], [["2026-01-01", "=1+1"], ["2026-01-02", Decimal("-1.50")]]
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["date", "'=reference"], ["2026-01-01", "'=1+1"], ["2026-01-02", "-1.50"]]


def test_a_streamed_csv_is_made_safe_but_for_the_plain_columns():
    rows = [["=cmd()", "-12.50", 3], ["ok", "7.00", None]]

    lines = list(csv_stream(["name", "amount", "n"], rows, plain={1}))

    assert len(lines) == 3  # a line at a time
    parsed = list(csv.reader(io.StringIO("".join(lines))))
    assert parsed == [["name", "amount", "n"], ["'=cmd()", "-12.50", "3"], ["ok", "7.00", ""]]

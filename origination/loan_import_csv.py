"""Portfolio import files: parse and check the loans CSV and the payments CSV (docs/import.md).

Pure parsing: bytes in, typed rows and an error report out; no database. Each error is
`{"file", "row", "column", "code", "message"}` where `row` is the line of the file as a
spreadsheet numbers it (the header is row 1, the first loan row 2) and `column` the header
name (None for an error of the whole row or file).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lendcore.core.external_ids import PATTERN as EXTERNAL_ID_PATTERN

LOANS, PAYMENTS = "loans", "payments"
# column -> required
LOAN_COLUMNS: dict[str, bool] = {
    "external_id": True,
    "borrower_ref": False,
    "borrower_first_name": True,
    "borrower_last_name": True,
    "borrower_email": True,
    "borrower_phone": False,
    "product_code": True,
    "principal": True,
    "annual_rate_pct": True,
    "n_periods": True,
    "frequency": True,
    "day_count": False,
    "disbursement_date": True,
    "first_due_date": False,
    "as_of_date": True,
    "principal_outstanding": True,
    "interest_accrued": True,
    "fees_outstanding": False,
    "installments_paid": True,
}
PAYMENT_COLUMNS: dict[str, bool] = {
    "loan_external_id": True,
    "paid_on": True,
    "amount": True,
    "principal": True,
    "interest": True,
    "fees": False,
}
MONEY_MAX = Decimal("1000000000.00")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN)
_TEXT_MAX = {"borrower_first_name": 100, "borrower_last_name": 100, "borrower_phone": 32}


def error(file: str, row: int, column: str | None, code: str, message: str) -> dict[str, Any]:
    return {"file": file, "row": row, "column": column, "code": code, "message": message}


class _Bad(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _money(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad("invalid_number", f"{text!r} is not a number (e.g. 1234.56).") from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _Bad("invalid_number", f"{text!r} is not an amount in whole cents.")
    if value < 0:
        raise _Bad("negative", "Must be zero or more.")
    if value > MONEY_MAX:
        raise _Bad("too_large", f"At most {MONEY_MAX}.")
    return value


def _rate(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad("invalid_number", f"{text!r} is not a number (e.g. 6.75).") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise _Bad("out_of_range", "An annual rate in percent, between 0 and 100.")
    return value


def _int(text: str) -> int:
    if not text.isdigit() or len(text) > 4:
        raise _Bad("invalid_integer", f"{text!r} is not a whole number between 0 and 9999.")
    return int(text)


def _date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad("invalid_date", f"{text!r} is not a date as YYYY-MM-DD.") from None


def _email(text: str) -> str:
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise _Bad("invalid_email", f"{text!r} is not an e-mail address.")
    return text


def _external_id(text: str) -> str:
    if not _EXTERNAL_ID.fullmatch(text):
        raise _Bad(
            "invalid_external_id",
            "Letters, digits and . _ : - (a letter or digit first), at most 100.",
        )
    return text


_PARSERS: dict[str, Callable[[str], Any]] = {
    "external_id": _external_id,
    "loan_external_id": _external_id,
    "borrower_email": _email,
    "principal": _money,
    "annual_rate_pct": _rate,
    "n_periods": _int,
    "disbursement_date": _date,
    "first_due_date": _date,
    "as_of_date": _date,
    "principal_outstanding": _money,
    "interest_accrued": _money,
    "fees_outstanding": _money,
    "installments_paid": _int,
    "paid_on": _date,
    "amount": _money,
    "interest": _money,
    "fees": _money,
}


@dataclass
class Parsed:
    """A file's rows as {column: value} with their row numbers, and its errors."""

    rows: list[tuple[int, dict[str, Any]]]
    errors: list[dict[str, Any]]


def _decode(data: bytes, file: str) -> tuple[str | None, list[dict[str, Any]]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as bad:
        row = data[: bad.start].count(b"\n") + 1
        return None, [
            error(
                file,
                row,
                None,
                "encoding",
                f"Byte {data[bad.start]:#04x} at offset {bad.start} is not UTF-8; save the "
                "file as UTF-8 (a byte-order mark is fine).",
            )
        ]


def _header(
    header: list[str], columns: dict[str, bool], file: str
) -> tuple[list[str], list[dict[str, Any]]]:
    names = [name.strip() for name in header]
    errors = [
        error(file, 1, name, "unknown_column", f"Unknown column {name!r}.")
        for name in names
        if name not in columns
    ]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            errors.append(error(file, 1, name, "duplicate_column", f"{name!r} appears twice."))
        seen.add(name)
    for name, required in columns.items():
        if required and name not in seen:
            errors.append(error(file, 1, name, "missing_column", f"Column {name!r} is missing."))
    return names, errors


def _cells(
    names: list[str], values: list[str], row: int, file: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    parsed: dict[str, Any] = {}
    errors = []
    for name, raw in zip(names, values, strict=True):
        text = raw.strip()
        if not text:
            parsed[name] = None
            continue
        parser = _PARSERS.get(name)
        if parser is None:
            limit = _TEXT_MAX.get(name, 100)
            if len(text) > limit:
                errors.append(error(file, row, name, "too_long", f"At most {limit} characters."))
                continue
            parsed[name] = text
            continue
        try:
            parsed[name] = parser(text)
        except _Bad as bad:
            errors.append(error(file, row, name, bad.code, str(bad)))
    return parsed, errors


def parse(data: bytes, file: str, columns: dict[str, bool], *, max_rows: int) -> Parsed:
    """The file's rows, or the errors that stop it (encoding, CSV syntax, header)."""
    text, errors = _decode(data, file)
    if text is None:
        return Parsed([], errors)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        header = next(reader, None)
        if not header:
            return Parsed([], [error(file, 1, None, "empty", "The file has no header row.")])
        names, errors = _header(header, columns, file)
        if errors:
            return Parsed([], errors)
        required = [name for name in names if columns[name]]
        for values in reader:
            row = reader.line_num
            if not values or values == [""]:
                continue
            if len(values) != len(names):
                errors.append(
                    error(
                        file,
                        row,
                        None,
                        "wrong_field_count",
                        f"{len(values)} fields where the header has {len(names)}.",
                    )
                )
                continue
            if len(rows) >= max_rows:
                errors.append(error(file, row, None, "too_many_rows", f"At most {max_rows} rows."))
                break
            cells, cell_errors = _cells(names, values, row, file)
            for name in required:
                if name in cells and cells[name] is None:
                    cell_errors.append(error(file, row, name, "required", "Required."))
            errors += cell_errors
            rows.append((row, cells))
    except csv.Error as bad:
        errors.append(error(file, reader.line_num, None, "malformed_csv", f"Malformed CSV: {bad}."))
    return Parsed(rows, errors)

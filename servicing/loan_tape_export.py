"""The loan tape as CSV or Parquet, both from `loan_tape.COLUMNS` (one definition).

CSV: a header of the column names, money and rates as decimal strings at their scale
(`12000.00`, `0.1200000000`), dates `YYYY-MM-DD`, booleans `true`/`false`, empty for none;
cells made safe for spreadsheets (lendcore.core.csv_export). Parquet: one row group per
`batch_size` rows; money `decimal128(18, 2)`, the annual rate `decimal128(14, 10)`, the APR
`decimal128(9, 4)`, integers `int64`, dates `date32`, text `string` (never float). Both are
produced a piece at a time, so an export of the whole book streams.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lendcore.core.csv_export import csv_stream

from .loan_tape import BOOL, COLUMN_NAMES, COLUMNS, DATE, INT, MONEY, PCT, RATE, STR

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
CSV_MEDIA_TYPE = "text/csv"
BATCH_SIZE = 5000


class TapeFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


MEDIA_TYPES = {TapeFormat.CSV: CSV_MEDIA_TYPE, TapeFormat.PARQUET: PARQUET_MEDIA_TYPE}

_ARROW_TYPES: dict[str, pa.DataType] = {
    STR: pa.string(),
    INT: pa.int64(),
    DATE: pa.date32(),
    BOOL: pa.bool_(),
    MONEY: pa.decimal128(18, 2),
    RATE: pa.decimal128(14, 10),
    PCT: pa.decimal128(9, 4),
}


def parquet_schema() -> pa.Schema:
    """The tape's Parquet schema; each field carries its meaning as metadata."""
    return pa.schema(
        [
            pa.field(
                column.name,
                _ARROW_TYPES[column.kind],
                nullable=column.nullable,
                metadata={"meaning": column.meaning, "type": column.kind},
            )
            for column in COLUMNS
        ]
    )


def _text(value: Any) -> Any:
    return "" if value is None else value


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _int(value: int | None) -> Any:
    return "" if value is None else value


_CSV_FORMATS = {STR: _text, INT: _int, DATE: _date, BOOL: _bool, MONEY: _decimal}
_CSV_FORMATS[RATE] = _CSV_FORMATS[PCT] = _decimal


def loan_tape_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The tape as CSV lines, header first. Text columns are made safe for spreadsheets;
    numbers, dates and flags are formatted here and written as they are."""
    formats = [(column.name, _CSV_FORMATS[column.kind]) for column in COLUMNS]
    plain = {i for i, column in enumerate(COLUMNS) if column.kind != STR}
    return csv_stream(
        COLUMN_NAMES,
        ([fmt(row[name]) for name, fmt in formats] for row in rows),
        plain=plain,
    )


class _Sink(io.RawIOBase):
    """Where the Parquet writer writes: bytes kept until `drain` hands them on."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


def _batch(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return pa.record_batch(
        [
            pa.array([row[name] for row in rows], type=schema.field(name).type)
            for name in COLUMN_NAMES
        ],
        schema=schema,
    )


def loan_tape_parquet(
    rows: Iterable[dict[str, Any]], *, batch_size: int = BATCH_SIZE
) -> Iterator[bytes]:
    """The tape as a Parquet file, in pieces (a row group per batch, the footer last)."""
    schema = parquet_schema()
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            writer.write_batch(_batch(schema, batch))
            batch = []
            yield sink.drain()
    if batch:
        writer.write_batch(_batch(schema, batch))
    writer.close()
    yield sink.drain()


def loan_tape_pieces(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[bytes]:
    """The tape in `fmt` as bytes, a piece at a time (for a response or a file)."""
    if fmt == TapeFormat.PARQUET:
        yield from loan_tape_parquet(rows)
        return
    for line in loan_tape_csv(rows):
        yield line.encode("utf-8")


def loan_tape_write(out: IO[bytes], rows: Iterable[dict[str, Any]], fmt: str) -> None:
    for piece in loan_tape_pieces(rows, fmt):
        out.write(piece)

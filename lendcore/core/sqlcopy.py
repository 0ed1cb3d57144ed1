"""Bulk writes without model instances: COPY on PostgreSQL (a migration's loans, schedules and
journal lines), and primary keys drawn before the rows are written.

Split from `sqlrows` (one-row writes): these are for loads of thousands of rows, where
COPY's text format beats any INSERT.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import DecimalField, Field, JSONField, Model
from django.utils import timezone

from lendcore.core.sqlrows import WAITING_WRITES, _column_field, _columns, _name


def _copy_escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


# COPY's text format of each Python type a plain row holds (by exact type: a dict lookup)
_COPY_TEXT: dict[type, Any] = {
    str: _copy_escape,
    int: str,
    Decimal: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
    bool: lambda value: "t" if value else "f",
    type(None): lambda value: "\\N",
}


def _copy_other(value: Any) -> str:
    """A subclass (a TextChoices member is a str) or another type."""
    for kind in type(value).__mro__[1:]:
        if kind in _COPY_TEXT:
            return _COPY_TEXT[kind](value)
    return _copy_escape(str(value))


def copy_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    line: Callable[[Sequence[Any]], str] | None = None,
) -> None:
    """Write many plain rows of `model` (values in `columns` order, already as the database
    stores them: ids, dates, Decimals, text; JSON as a str) without model instances: COPY on
    PostgreSQL, one executemany INSERT elsewhere. For bulk loads whose primary keys nothing
    reads back (installments, journal lines of a migration). `line`: the caller's own
    formatter of a row as a COPY text line (no newline), for rows whose types it knows."""
    db = connections[DEFAULT_DB_ALIAS]
    table = _name(model._meta.db_table)
    names = _columns(_column_field(model, c) for c in columns)
    if db.vendor == "postgresql":
        waiting = db.__dict__.get(WAITING_WRITES)
        if waiting is not None:  # COPY bypasses the connection's wrappers: send them first
            waiting.flush()
        buffer = io.StringIO()
        text = _COPY_TEXT
        for row in rows:
            if line is not None:
                buffer.write(line(row))
            else:
                buffer.write("\t".join([text.get(type(v), _copy_other)(v) for v in row]))
            buffer.write("\n")
        buffer.seek(0)
        with db.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
        return
    marks = ", ".join(["%s"] * len(columns))
    with db.cursor() as cursor:
        # identifiers from the model's _meta (quoted), values bound
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(sql, list(rows))


def copy_objects(objs: Sequence[Model]) -> None:
    """Insert model instances whose primary keys are set (`reserve_ids`) with COPY
    (PostgreSQL only): every concrete column as `bulk_create` writes it, without Django's
    per-value preparation (auto_now fields get the time, JSON is dumped with the field's
    encoder, a Decimal with more places than its column is quantized by the field)."""
    db = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    convert = [_copy_value(f, now) for f in fields]
    copy_rows(
        model,
        [f.name for f in fields],
        (
            [c(getattr(obj, f.attname)) for f, c in zip(fields, convert, strict=True)]
            for obj in objs
        ),
    )
    for obj in objs:
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                setattr(obj, f.attname, now)
        obj._state.adding, obj._state.db = False, db.alias


def _copy_value(field: Field, now: datetime) -> Callable[[Any], Any]:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda value: now
    if isinstance(field, JSONField):
        return lambda value: None if value is None else json.dumps(value, cls=field.encoder)
    if isinstance(field, DecimalField):
        places = -(field.decimal_places or 0)

        def decimal(value: Any) -> Any:
            if isinstance(value, Decimal) and value.as_tuple().exponent >= places:  # type: ignore[operator]
                return value
            return field.get_db_prep_save(value, connection)

        return decimal
    return lambda value: value


def reserve_ids(model: type[Model], count: int) -> list[int] | None:
    """`count` primary keys of `model` drawn from its sequence (PostgreSQL), so rows can be
    referred to before they are inserted; None elsewhere (insert, then read the keys)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or count == 0:
        return None
    table = model._meta.db_table
    column = model._meta.pk.column
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]

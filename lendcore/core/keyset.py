"""Keyset (cursor) pages of a list ordered by a number, highest first, then by id: one
indexed range scan a page however deep, where OFFSET reads and throws away every row before
the page (issue 11: 100,000 open collection cases).

A cursor is opaque to clients: url-safe base64 of `n|p` (the page after or before a row),
the row's value and its id. The page after row (v, i) holds the rows with value < v, or value
= v and id > i; the redundant `value <= v` bound lets the database start its index scan at the
row, not at the top. Rows with equal values are ordered by id, so pages neither repeat nor
skip a row while the values are equal. A row moved between two requests (its value changed)
may show on two pages or on none; a page is never wrong otherwise.

Used by the API (`lendcore.api.pagination.KeysetPagination`) and by staff pages (the
collections queue), which read the same `cursor` parameter.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet

from lendcore.core.converters import MAX_ID

AFTER = "n"
BEFORE = "p"
# A cursor's value: a decimal of at most this many characters (priority: 24 digits, 2 places).
MAX_VALUE_CHARS = 32
MAX_CURSOR_CHARS = 96


class CursorError(ValueError):
    """The cursor is not one this list handed out."""


@dataclass(frozen=True)
class Cursor:
    direction: str  # AFTER or BEFORE
    value: Decimal
    pk: int


def cursor_encode(direction: str, value: Any, pk: int) -> str:
    raw = f"{direction}|{Decimal(value)}|{int(pk)}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def cursor_decode(token: str) -> Cursor:
    """The cursor in `token`; CursorError for anything this module did not make."""
    if not token or len(token) > MAX_CURSOR_CHARS or not token.isascii():
        raise CursorError("Not a cursor from this list.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError) as error:
        raise CursorError("Not a cursor from this list.") from error
    parts = raw.split("|")
    if len(parts) != 3 or parts[0] not in (AFTER, BEFORE):
        raise CursorError("Not a cursor from this list.")
    direction, value_text, pk_text = parts
    if not (pk_text.isascii() and pk_text.isdigit()) or not 1 <= int(pk_text) <= MAX_ID:
        raise CursorError("Not a cursor from this list.")
    try:
        value = Decimal(value_text)
    except InvalidOperation as error:
        raise CursorError("Not a cursor from this list.") from error
    if len(value_text) > MAX_VALUE_CHARS or not value.is_finite():
        raise CursorError("Not a cursor from this list.")
    return Cursor(direction, value, int(pk_text))


@dataclass(frozen=True)
class KeysetPage:
    items: list
    next_cursor: str | None
    previous_cursor: str | None
    count: int | None  # the list's length: counted on the first page only
    first: bool  # the first page (no cursor)


def keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    size: int,
    cursor: Cursor | None,
    count: bool = True,
) -> KeysetPage:
    """One page of `queryset` ordered by `field` descending then id ascending (size + 1 rows
    fetched to know whether another page follows). `count`: on the first page, also count
    the list (one COUNT query; the later pages do not count again)."""
    ordered = queryset.order_by(f"-{field}", "pk")
    if cursor is None:
        return _first(ordered, field=field, size=size, count=count)
    v, pk = cursor.value, cursor.pk
    if cursor.direction == AFTER:
        rows = list(
            ordered.filter(Q(**{f"{field}__lt": v}) | Q(**{field: v, "pk__gt": pk})).filter(
                **{f"{field}__lte": v}
            )[: size + 1]
        )
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(
            items=rows,
            next_cursor=_cursor(AFTER, rows[-1], field) if more else None,
            previous_cursor=_cursor(BEFORE, rows[0], field) if rows else None,
            count=None,
            first=False,
        )
    # BEFORE: the rows above (v, pk) read upwards, then put back in the list's order
    rows = list(
        queryset.order_by(field, "-pk")
        .filter(Q(**{f"{field}__gt": v}) | Q(**{field: v, "pk__lt": pk}))
        .filter(**{f"{field}__gte": v})[: size + 1]
    )
    if len(rows) <= size:  # back at the top: the first page, full
        return _first(ordered, field=field, size=size, count=count)
    rows = rows[:size][::-1]
    return KeysetPage(
        items=rows,
        next_cursor=_cursor(AFTER, rows[-1], field),
        previous_cursor=_cursor(BEFORE, rows[0], field),
        count=None,
        first=False,
    )


def _first(ordered: QuerySet, *, field: str, size: int, count: bool) -> KeysetPage:
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not count:
        total = None
    elif not more:
        total = len(rows)  # the whole list is on this page: nothing to count
    else:
        total = ordered.order_by().count()
    return KeysetPage(
        items=rows,
        next_cursor=_cursor(AFTER, rows[-1], field) if more else None,
        previous_cursor=None,
        count=total,
        first=True,
    )


def _cursor(direction: str, row: Any, field: str) -> str:
    return cursor_encode(direction, getattr(row, field), row.pk)
